"""Curated evidence tables: one row per place where a review's text cites works.

A review rebuilt from a published paper codes the paper's statements, each linked to the
works it cites (the bundled review is one). This module reads such a table, checks it
against the records and the review's sections and questions, and counts it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from toolkit._spreadsheet import read_table
from toolkit.errors import ToolkitError

if TYPE_CHECKING:  # pragma: no cover - the Review type only
    from toolkit.review.project import Review

__all__ = ["EVIDENCE_COLUMNS", "ReviewDataError", "read_evidence", "read_review_table",
           "validate_review", "compute_evidence_counts"]

#: Columns of :attr:`Review.evidence`.
EVIDENCE_COLUMNS = ("segment_id", "section", "section_title", "rq", "cited_keys",
                    "missing_citations", "citation", "statement")


class ReviewDataError(ToolkitError, ValueError):
    """A review's files disagree with each other; ``problems`` lists them all."""

    def __init__(self, folder: Path, problems: list[str]) -> None:
        self.folder, self.problems = folder, tuple(problems)
        super().__init__(f"{folder}: {len(problems)} problem(s) in the review data:\n- "
                         + "\n- ".join(problems))


def _split(value: Any) -> tuple[str, ...]:
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return ()
    return tuple(part.strip() for part in str(value).split(";") if part.strip())


def _sections(protocol: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the review's sections that are mappings (others are reported as problems)."""
    return [s for s in protocol.get("sections") or [] if isinstance(s, dict)]


def read_review_table(path: Path, **kwargs: Any) -> pd.DataFrame:
    """Read a CSV/TSV/XLSX table of a review folder; any unreadable file is a ReviewDataError.

    ``kwargs`` go to :func:`toolkit._spreadsheet.read_table` (formula quotes removed).
    """
    def error(message: str) -> ReviewDataError:
        return ReviewDataError(path.parent, [message])

    return read_table(path, error=error, **kwargs)  # type: ignore[arg-type]


def read_evidence(path: Path, protocol: dict[str, Any]) -> pd.DataFrame:
    """Read an evidence table (CSV) into :data:`EVIDENCE_COLUMNS`.

    ``cited_keys`` and ``missing_citations`` become tuples (``;``-separated in the file),
    ``rq`` a nullable integer, and ``section_title`` comes from the review's ``sections``.

    Raises
    ------
    ReviewDataError
        When the file cannot be read as a table, lacks a column the table needs, or its
        ``rq`` column holds something other than question numbers.
    """
    evidence = read_review_table(path, dtype=str, keep_default_na=False)
    needed = [c for c in EVIDENCE_COLUMNS if c != "section_title"]
    missing = [c for c in needed if c not in evidence.columns]
    if missing:
        raise ReviewDataError(path.parent, [f"{path.name}: missing column(s) {missing}; an "
                                            f"evidence table has {', '.join(needed)}"])
    titles = {s.get("id"): s.get("title") for s in _sections(protocol)}
    evidence.insert(2, "section_title", evidence["section"].map(titles))
    try:
        evidence["rq"] = pd.to_numeric(evidence["rq"].replace("", None)).astype("Int64")
    except (TypeError, ValueError):
        raise ReviewDataError(path.parent, [f"{path.name}: column rq must hold question "
                                            "numbers (or stay empty)"]) from None
    evidence["cited_keys"] = evidence["cited_keys"].map(_split)
    evidence["missing_citations"] = evidence["missing_citations"].map(_split)
    return evidence[list(EVIDENCE_COLUMNS)]


def validate_review(review: Review) -> None:
    """Check that the review's files agree; raise :class:`ReviewDataError` listing all problems.

    For a review with an evidence table: evidence ids unique; every cited key is a record;
    every evidence row cites at least one record or records a missing citation; every
    record is cited by some row or is listed in ``review.yaml`` under
    ``corpus.listed_but_never_cited``; every missing citation is listed under
    ``corpus.cited_but_missing``; every section exists in the protocol and its question
    matches the row's; all questions have evidence. For every review with a
    ``source_taxonomy``: each record's group matches its type's; and with
    ``records.strict``, every record has a source type of the taxonomy and a group.
    """
    problems: list[str] = []
    records, protocol = review.records, review.protocol
    files = (protocol.get("records") or {}).get("files") or "records"
    where = files[0] if isinstance(files, list) and len(files) == 1 else "records"
    for section in protocol.get("sections") or []:
        if not isinstance(section, dict):
            problems.append(f"review.yaml section {section!r}: expected a mapping of id, "
                            "title, rq")
        elif set(section) != {"id", "title", "rq"}:
            problems.append(f"review.yaml section {section.get('id')!r}: keys "
                            f"{sorted(map(str, section))}; expected id, title, rq (quote "
                            "titles that contain commas)")
    for name, entry in (protocol.get("source_taxonomy") or {}).items():
        if not isinstance(entry, dict) or set(entry) != {"group", "definition"}:
            problems.append(f"review.yaml source_taxonomy {name!r}: expected group and "
                            "definition (quote definitions that contain commas)")
    if review.evidence is not None:
        problems += _evidence_problems(review, where)
    taxonomy = protocol.get("source_taxonomy") or {}
    strict = (protocol.get("records") or {}).get("strict", False)
    if taxonomy:
        for rec in records.itertuples(index=False):
            if rec.source_type is pd.NA or rec.source_group is pd.NA:
                if strict:
                    problems.append(f"{where} {rec.record_id}: needs sourcetype and "
                                    "sourcegroup")
            elif rec.source_type not in taxonomy:
                if strict:
                    problems.append(f"{where} {rec.record_id}: source type "
                                    f"{rec.source_type!r} is not in review.yaml's "
                                    f"source_taxonomy; known: {sorted(taxonomy)}")
            elif isinstance(taxonomy[rec.source_type], dict) and \
                    taxonomy[rec.source_type].get("group") != rec.source_group:
                problems.append(f"{where} {rec.record_id}: group {rec.source_group!r} but "
                                f"source type {rec.source_type!r} belongs to "
                                f"{taxonomy[rec.source_type].get('group')!r}")
    if problems:
        raise ReviewDataError(review.folder, problems)


def _evidence_problems(review: Review, where: str) -> list[str]:
    problems: list[str] = []
    evidence, protocol = review.evidence, review.protocol
    if evidence is None:
        return problems
    keys = set(review.records["record_id"])
    if evidence["segment_id"].duplicated().any():
        repeated = evidence.loc[evidence["segment_id"].duplicated(), "segment_id"]
        problems.append(f"evidence.csv: segment_id repeats: {sorted(repeated)}")
    cited: set[str] = set()
    sections = {s.get("id"): s.get("rq") for s in _sections(protocol)}
    declared_missing = {m.get("citation") if isinstance(m, dict) else m for m in (
        protocol.get("corpus") or {}).get("cited_but_missing") or []}
    for row in evidence.itertuples(index=False):
        unknown = [k for k in row.cited_keys if k not in keys]
        if unknown:
            problems.append(f"evidence.csv {row.segment_id}: cites {unknown}, which are not in "
                            f"{where}")
        cited.update(row.cited_keys)
        if not row.cited_keys and not row.missing_citations:
            problems.append(f"evidence.csv {row.segment_id}: cites nothing")
        for missing in row.missing_citations:
            if missing not in declared_missing:
                problems.append(f"evidence.csv {row.segment_id}: missing citation {missing!r} is "
                                "not listed under corpus.cited_but_missing in review.yaml")
        if sections and row.section not in sections:
            problems.append(f"evidence.csv {row.segment_id}: section {row.section!r} is not in "
                            "review.yaml")
        elif sections:
            expected = sections[row.section]
            actual = None if row.rq is pd.NA else int(row.rq)
            if expected != actual:
                problems.append(f"evidence.csv {row.segment_id}: rq {actual} but section "
                                f"{row.section} answers question {expected}")
    never = set((protocol.get("corpus") or {}).get("listed_but_never_cited") or [])
    for key in sorted(keys - cited - never):
        problems.append(f"{where} {key}: cited by no evidence row and not listed under "
                        "corpus.listed_but_never_cited")
    numbers = {int(q) for q in review.questions()["rq"]}
    covered = {int(q) for q in evidence["rq"].dropna()}
    if numbers - covered:
        problems.append(f"evidence.csv: no evidence for guiding question(s) "
                        f"{sorted(numbers - covered)}")
    return problems


def compute_evidence_counts(review: Review,
                            by: Literal["rq", "section", "source_group", "source_type"] = "rq",
                            ) -> pd.DataFrame:
    """Evidence per guiding question, section, source group or source type.

    Returns
    -------
    DataFrame
        Columns ``by, segments, citations, works``: evidence rows, (segment, work) pairs, and
        distinct works. For ``rq`` and ``section`` every evidence row counts; for the source
        columns a row counts once for each group or type it cites. Rows without a question
        (introduction) show as ``<NA>`` last.

    Raises
    ------
    ToolkitError
        For a review without an evidence table, or another ``by``.

    Examples
    --------
    >>> from toolkit.review import load_review
    >>> counts = compute_evidence_counts(load_review(), "source_group")
    >>> counts.columns.tolist()
    ['source_group', 'segments', 'citations', 'works']
    """
    if by not in ("rq", "section", "source_group", "source_type"):
        raise ToolkitError(f"compute_evidence_counts: by={by!r}; choose rq, section, "
                           "source_group or source_type")
    if review.evidence is None:
        raise ToolkitError(f"{review.folder}: this review has no evidence table (its "
                           "segments come from its records or documents)")
    long = review.evidence_long()
    cites = long.groupby(by, dropna=False, sort=True).agg(
        citations=("record_id", "size"), works=("record_id", "nunique"))
    if by in ("rq", "section"):
        # every evidence row counts, including rows whose only citation is missing
        segments = review.evidence.groupby(by, dropna=False, sort=True).size().rename(
            "segments")
    else:
        segments = long.groupby(by, dropna=False, sort=True)["segment_id"].nunique().rename(
            "segments")
    table = pd.concat([segments, cites], axis=1).fillna(0).astype(int)
    table.index.name = by
    return table.reset_index()
