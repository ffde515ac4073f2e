"""De-duplication with evidence: which records describe one work, why, and what is unsure.

:func:`deduplicate` compares records on title, DOI, authors, year, journal, volume, issue,
pages and the start of the abstract, decides each pair with explicit rules
(:func:`toolkit.corpus._dedupe_compare.decide`), merges, and returns every decision with
its evidence: the merge log (one row per absorbed record), the pairs table (every pair
compared), the uncertain pairs for a person to decide (see
:mod:`toolkit.corpus.dedupe_review`) and the sources table (every input record and the work
it ended in, so "which databases found this work" is one groupby).

What the rules take from published tools: ASySD (Hair et al., 2023) compares many fields
with string similarities, blocks on several field combinations, moves pairs with
conflicting DOIs or years more than one apart to manual review, and keeps every source of
a merged record; Deduklick (Borissov et al., 2022) normalises each field the way
databases vary it (language tags, page forms, journal abbreviations) and explains each
merge; bib-dedupe (Wagner, 2024) never lets an identifier alone merge records whose titles
disagree and treats errata and journal/conference versions as different works; dedupe.io
sends the pairs its model is least sure of to a person.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from toolkit.corpus._dedupe_clusters import Clusters, blocks_chains
from toolkit.corpus._dedupe_compare import (
    RULE_RANK,
    candidate_pairs,
    compare,
    decide,
    prefilter,
    title_scores,
)
from toolkit.corpus._dedupe_fields import Prepared, normalise_title, prepare
from toolkit.corpus._dedupe_tables import build_tables
from toolkit.errors import DedupReviewError, ToolkitError
from toolkit.types import DEDUP_PAIR_COLUMNS, DEDUP_SOURCE_COLUMNS

__all__ = ["DedupResult", "deduplicate", "normalise_title", "compute_database_overlap",
           "compare_pairs", "add_review_rows", "assemble", "join_works"]

@dataclass(frozen=True)
class DedupResult:
    """Kept records, the log of every merge, and everything needed to check it.

    Attributes
    ----------
    records : DataFrame
        The kept records (one per work), in input order, empty fields filled from their
        duplicates, plus ``databases``: a sorted tuple of every database (or source file,
        when the records have no ``database`` column) in which the work was found.
    log : DataFrame
        One row per absorbed record, columns :data:`toolkit.types.DEDUP_LOG_COLUMNS`:
        ``kept_id, removed_id, rule, score, matched_id, filled_fields, kept_title,
        removed_title, kept_source, removed_source`` as before, then ``decided_by``
        (``"rules"`` or ``"review"``), ``removed_database`` and the evidence of the direct
        link between ``removed_id`` and ``matched_id``: ``evidence`` (one line),
        ``title_match``, ``doi_match``, ``first_author_match``, ``author_overlap``,
        ``year_diff``, ``venue_match``, ``volume_match``, ``issue_match``,
        ``pages_match``, ``abstract_score``. ``rule`` is ``"doi"``, ``"title_year"``,
        ``"title_fuzzy"``, ``"bibliographic"`` or ``"review"``; ``score`` is the title
        similarity (0-100).
    pairs : DataFrame
        Every pair compared field by field (:data:`toolkit.types.DEDUP_PAIR_COLUMNS`):
        ``decision`` (``merge`` / ``uncertain`` / ``distinct``), the ``rule`` and
        ``reason``, and ``merged`` (whether the two ended in one work).
    uncertain : DataFrame
        The uncertain links between works that were not merged and not yet decided by a
        person: one row per pair of works (its strongest pair of records), side by side
        (``record_id_1, record_id_2, rule, reason, score, evidence, title_1, title_2, ...``);
        write them for a person with :func:`toolkit.corpus.write_review_sheet`.
    sources : DataFrame
        One row per input record (:data:`toolkit.types.DEDUP_SOURCE_COLUMNS`):
        ``kept_id, source_record_id, source_file, source_line, database, rule``.
    stats : dict
        ``records``, ``works``, ``candidate_pairs`` (pairs scored on title),
        ``compared_pairs`` (pairs compared field by field), ``merged_pairs``,
        ``uncertain_pairs``.
    """

    records: pd.DataFrame
    log: pd.DataFrame
    pairs: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=list(DEDUP_PAIR_COLUMNS)))
    uncertain: pd.DataFrame = field(default_factory=pd.DataFrame)
    sources: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=list(DEDUP_SOURCE_COLUMNS)))
    stats: dict[str, int] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (f"DedupResult(records={len(self.records)}, removed={len(self.log)}, "
                f"uncertain={len(self.uncertain)})")


def _check(records: pd.DataFrame) -> None:
    missing = [c for c in ("record_id", "title", "year", "doi") if c not in records.columns]
    if missing:
        raise ToolkitError(f"deduplicate: records lack columns {missing}; pass the records "
                           "table from load_corpus")
    if records["record_id"].isna().any():
        raise ToolkitError("deduplicate: some record_id values are missing; every record "
                           "needs an id (load_corpus derives one)")
    if records["record_id"].duplicated().any():
        dupes = records.loc[records["record_id"].duplicated(), "record_id"].unique()[:5].tolist()
        raise ToolkitError(f"deduplicate: record_id values repeat, e.g. {dupes}; record ids "
                           "must be unique (load_corpus renames repeated keys)")


def _review_decisions(decisions: Any, ids: dict[str, int]
                      ) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Turn a person's decisions into (merge pairs, keep-apart pairs) of positions."""
    if decisions is None:
        return [], []
    if isinstance(decisions, (str, Path)):
        from toolkit.corpus.dedupe_review import read_review_sheet

        decisions = read_review_sheet(decisions)
    if not isinstance(decisions, pd.DataFrame):
        raise ToolkitError("deduplicate: decisions must be a DataFrame from "
                           "read_review_sheet or the path of a filled review sheet")
    need = [c for c in ("record_id_1", "record_id_2", "decision") if c not in decisions.columns]
    if need:
        raise ToolkitError(f"deduplicate: decisions lack columns {need}; read the filled "
                           "sheet with read_review_sheet")
    where = decisions.attrs.get("source", "decisions")
    problems, merges, apart = [], [], []
    for pos, row in enumerate(decisions.itertuples(index=False)):
        label = f"row {row.sheet_row}" if hasattr(row, "sheet_row") else f"row {pos + 1}"
        unknown = [r for r in (row.record_id_1, row.record_id_2) if str(r) not in ids]
        if unknown:
            problems.append(f"{label}: record(s) {unknown} are not in the records table; "
                            "use the sheet written for these records")
            continue
        pair = (ids[str(row.record_id_1)], ids[str(row.record_id_2)])
        if row.decision == "merge":
            merges.append(pair)
        elif row.decision == "keep apart":
            apart.append(pair)
        elif row.decision not in ("", None) and row.decision == row.decision:
            problems.append(f"{label}: decision {row.decision!r} is not 'merge' or "
                            "'keep apart'")
    if problems:
        raise DedupReviewError(where, problems)
    return merges, apart


def deduplicate(
    records: pd.DataFrame,
    *,
    title_threshold: float = 90.0,
    year_tolerance: int = 1,
    fill: bool = True,
    decisions: pd.DataFrame | str | Path | None = None,
    window: int = 10,
) -> DedupResult:
    """Merge records that describe the same work, and say why for every merge.

    Candidate pairs come from six sorted passes (title, title backwards, first author and
    year, DOI, volume and first page, abstract start), each pairing a record with its
    ``window`` neighbours, so the work grows linearly with the records. Each candidate
    pair is compared on title (normalised: markup, language tags such as ``[Japanese]``,
    case, accents and punctuation removed), DOI (percent-decoded), first author and
    author overlap, year, journal (abbreviations understood), volume, issue, first page
    and abstract start, and decided by explicit rules
    (:func:`toolkit.corpus._dedupe_compare.decide`): in short, a shared DOI merges only
    when the titles agree too (chapters and supplement abstracts share DOIs); different
    DOIs never merge; otherwise titles must agree and authors, year (within
    ``year_tolerance``) and journal, volume and pages must not contradict.

    Merges are applied surest first. Two records with different DOIs never end in one work,
    not even through a third record (unless a person merged them). Pairs the rules are
    unsure of are returned in ``uncertain`` and are not merged; a person's
    ``decisions`` (``merge`` / ``keep apart``, from a filled review sheet) are applied
    before the rules and win over them.

    In each work the record with the most filled fields is kept (the first in input order on
    a tie); with ``fill=True`` its empty fields take the first value found among the others.

    Parameters
    ----------
    records : DataFrame
        Records table (:data:`toolkit.types.RECORD_COLUMNS`), ``record_id`` unique. An
        optional ``database`` column names the database each record came from; without it
        the source file's name stands for it.
    title_threshold : float, default 90
        Title similarity (0-100, rapidfuzz ``ratio`` of normalised titles) from which titles
        count as similar. Titles from 80 up to it agree only in part and need authors,
        year, volume and pages (or the abstract) as well; 101 treats every unequal title so.
    year_tolerance : int, default 1
        Largest year difference accepted without a shared DOI (online-first and print years
        often differ by one).
    fill : bool, default True
        Fill empty fields of kept records from their duplicates.
    decisions : DataFrame or path, optional
        A person's decisions: the output of :func:`toolkit.corpus.read_review_sheet`, or the
        path of a filled review sheet.
    window : int, default 10
        Neighbours each record is paired with in each sorted pass.

    Returns
    -------
    DedupResult

    Raises
    ------
    ToolkitError
        When ``record_id`` is missing or not unique, columns are missing, or the
        decisions both merge and keep apart one pair of works.
    DedupReviewError
        When a decision names records that are not in ``records`` or is not ``merge`` /
        ``keep apart`` (every such sheet row is listed).

    Examples
    --------
    >>> from toolkit.corpus import records_frame
    >>> frame = records_frame([
    ...     {"record_id": "a", "title": "Micro-credentials: a review", "year": 2021,
    ...      "authors": ("Oliver, Beverley",)},
    ...     {"record_id": "b", "title": "Micro credentials - A review [Japanese]",
    ...      "year": 2021, "doi": "10.1000/x", "authors": ("Oliver B",)},
    ... ])
    >>> result = deduplicate(frame)
    >>> (result.records["record_id"].tolist(),
    ...  result.log[["kept_id", "removed_id", "rule"]].values.tolist())
    (['b'], [['b', 'a', 'title_year']])
    >>> result.log.loc[0, "evidence"]
    'title 100.0 (exact); doi missing; first author agree; authors overlap 1.0; year +0; \
venue missing; volume missing; issue missing; pages missing'
    """
    _check(records)
    frame = records.reset_index(drop=True)
    n = len(frame)
    ids = {str(r): i for i, r in enumerate(frame["record_id"])}
    review_merges, review_apart = _review_decisions(decisions, ids)
    prep = prepare(frame)
    candidates = candidate_pairs(prep, window=window)
    rows = compare_pairs(prep, candidates, title_threshold=title_threshold,
                         year_tolerance=year_tolerance)
    stats = {"records": n, "candidate_pairs": len(candidates), "compared_pairs": len(rows)}
    add_review_rows(rows, review_merges, review_apart, lambda i, j: compare(
        prep, i, j, None, title_threshold=title_threshold))
    return assemble(frame, prep.doi, rows, review_apart, stats, fill=fill)


def compare_pairs(prep: Prepared, candidates: np.ndarray, *, title_threshold: float = 90.0,
                  year_tolerance: int = 1) -> dict[tuple[int, int], list[Any]]:
    """Score, filter and decide candidate pairs of ``prep`` (positions ``i < j``).

    Returns ``{(i, j): [decision, rule, reason, "rules", evidence]}`` for every pair that
    passed the title prefilter, in candidate order. Each pair's row depends on the two
    records only, which is what lets :mod:`toolkit.scale.dedupe` decide pairs on workers.
    """
    scores = title_scores(prep, candidates)
    keep = prefilter(prep, candidates, scores)
    compared = candidates[keep]
    compared_scores = scores[keep]
    rows: dict[tuple[int, int], list[Any]] = {}
    for (i, j), score in zip(compared.tolist(), compared_scores.tolist(), strict=True):
        ev = compare(prep, i, j, score, title_threshold=title_threshold)
        decision, rule, reason = decide(ev, strength=min(prep.strength[i], prep.strength[j]),
                                        year_tolerance=year_tolerance)
        rows[(i, j)] = [decision, rule, reason, "rules", ev]
    return rows


def add_review_rows(rows: dict[tuple[int, int], list[Any]],
                    review_merges: list[tuple[int, int]], review_apart: list[tuple[int, int]],
                    evidence_of: Callable[[int, int], Any]) -> None:
    """Put a person's decisions into ``rows`` (they win over the rules' decisions)."""
    for pairs, decision in ((review_merges, "merge"), (review_apart, "distinct")):
        for a, b in pairs:
            i, j = min(a, b), max(a, b)
            ev = rows[(i, j)][4] if (i, j) in rows else evidence_of(i, j)
            reason = "a person merged them" if decision == "merge" else \
                "a person kept them apart"
            rows[(i, j)] = [decision, "review", reason, "review", ev]


def assemble(frame: pd.DataFrame, dois: list[str], rows: dict[tuple[int, int], list[Any]],
             review_apart: list[tuple[int, int]], stats: dict[str, int], *,
             fill: bool = True) -> DedupResult:
    """Join the decided pairs into works, surest merges first, and build the tables.

    ``frame`` is the records table with a fresh index, ``dois`` the compared DOI of each
    record (``Prepared.doi``), ``rows`` every decided pair (see :func:`compare_pairs`).
    """
    clusters = join_works(frame["record_id"], dois, rows, review_apart)
    roots = [clusters.find(i) for i in range(len(frame))]
    tables = build_tables(frame, clusters, roots, rows, fill=fill, stats=stats)
    return DedupResult(*tables, stats)


def join_works(record_ids: Any, dois: list[str], rows: dict[tuple[int, int], list[Any]],
               review_apart: list[tuple[int, int]]) -> Clusters:
    """Join the decided pairs into works, surest merges first.

    ``record_ids`` gives each position's id (for messages), ``dois`` each record's compared
    DOI. A merge the guards refuse becomes ``"uncertain"`` in ``rows`` (changed in place),
    with the reason added. The outcome for a pair depends only on the records linked to
    it by merges, which is what lets :mod:`toolkit.scale.dedupe` join each group of linked
    records on its own.

    Raises
    ------
    ToolkitError
        When a person's decisions both merge and keep apart the same works.
    """
    def ids_of(i: int) -> str:
        return str(record_ids[i])

    not_merged = [pair for pair, row in rows.items() if blocks_chains(row)]
    clusters = Clusters(dois, [(min(a, b), max(a, b)) for a, b in review_apart], not_merged)
    merges = [(pair, row) for pair, row in rows.items() if row[0] == "merge"]
    merges.sort(key=lambda item: (RULE_RANK.get(item[1][1], 9),
                                  -(item[1][4].title_score or 0.0), item[0]))
    contradictions = []
    for (i, j), row in merges:
        outcome = clusters.union(i, j, row[1], row[4], row[3])
        if outcome == "doi":
            row[0] = "uncertain"
            row[2] += "; not merged: it would put records with different DOIs in one work"
        elif outcome == "apart" and row[3] == "review":
            contradictions.append(f"{ids_of(i)} + {ids_of(j)}")
        elif outcome == "apart":
            row[0] = "uncertain"
            row[2] += "; not merged: it would join records a person kept apart"
        elif outcome == "rules":
            row[0] = "uncertain"
            row[2] += ("; not merged: it would join records that do not match each other "
                       "directly")
    if contradictions:
        raise ToolkitError("deduplicate: the review decisions both merge and keep apart the "
                           f"same works (through other merges): {contradictions[:5]}; change "
                           "one of the decisions on the sheet")
    return clusters


def compute_database_overlap(result: DedupResult | pd.DataFrame) -> pd.DataFrame:
    """Count works found by each pair of databases (or source files).

    Parameters
    ----------
    result : DedupResult or DataFrame
        A de-duplication result, or its ``sources`` table.

    Returns
    -------
    DataFrame
        Square, index and columns the databases (sorted): cell ``(a, b)`` is the number of
        works found by both ``a`` and ``b``; the diagonal is the number of works each found.
        The last column, ``only``, counts works no other database found.

    Examples
    --------
    >>> sources = pd.DataFrame({"kept_id": ["w1", "w1", "w2", "w3"],
    ...                         "database": ["PubMed", "Scopus", "Scopus", "PubMed"]})
    >>> compute_database_overlap(sources)
              PubMed  Scopus  only
    database
    PubMed         2       1     1
    Scopus         1       2     1
    """
    sources = result.sources if isinstance(result, DedupResult) else result
    if not {"kept_id", "database"} <= set(sources.columns):
        raise ToolkitError("compute_database_overlap: pass a DedupResult or its sources "
                           "table (columns kept_id, database)")
    found = pd.crosstab(sources["kept_id"], sources["database"]).clip(upper=1)
    overlap = found.T @ found
    only = found[found.sum(axis=1) == 1].sum(axis=0)
    overlap["only"] = only.reindex(overlap.index).fillna(0).astype(int)
    overlap.index.name = "database"
    overlap.columns.name = None
    return overlap
