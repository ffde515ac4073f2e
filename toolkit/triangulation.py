"""Triangulation tables: how far each theme is supported across sources and methods.

Every cell can be traced to its evidence with :func:`evidence_for`.

All ``compute_*`` functions return a :class:`TriangulationTable`: a tidy DataFrame (one row
per cell), a wide view for reading, and for each cell the segments behind it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from toolkit.errors import ToolkitError

__all__ = [
    "TriangulationTable",
    "TriangulationError",
    "compute_source_triangulation",
    "compute_cross_case",
    "compute_coverage",
    "compute_investigator_triangulation",
    "compute_method_agreement",
    "compute_method_triangulation",
    "evidence_for",
    "theme_segments",
]


class TriangulationError(ToolkitError, ValueError):
    """Inputs to a triangulation table do not fit together."""


@dataclass(frozen=True)
class TriangulationTable:
    """One triangulation table.

    Attributes
    ----------
    name : str
        Short name (used for file names when exported).
    tidy : DataFrame
        One row per cell: ``row``, ``column`` and the measures.
    wide : DataFrame
        Rows by columns, one measure (``value``) per cell, plus extra columns such as
        ``status`` where the table has them.
    cells : dict
        ``(row, column) -> tuple of segment ids`` behind each cell.
    value : str
        The measure shown in ``wide``.
    """

    name: str
    tidy: pd.DataFrame
    wide: pd.DataFrame
    cells: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    value: str = "works"

    def __repr__(self) -> str:
        return (f"TriangulationTable({self.name!r}, rows={self.wide.shape[0]}, "
                f"columns={self.wide.shape[1]})")


def _check(codings: pd.DataFrame, segments: pd.DataFrame) -> None:
    if codings is None or len(codings.dropna(subset=["code_id"])) == 0:
        raise TriangulationError("no codings with a code: code some segments first (human "
                                 "coding or RuleCoder), then triangulate")
    missing = {"segment_id", "code_id"} - set(codings.columns)
    if missing:
        raise TriangulationError(f"codings lack columns {sorted(missing)}")
    unknown = set(codings["segment_id"]) - set(segments["segment_id"])
    if unknown:
        raise TriangulationError(f"codings name {len(unknown)} segment(s) not in the segments "
                                 f"table, e.g. {sorted(unknown)[:5]}; do they belong to "
                                 "another corpus?")


def theme_segments(codings: pd.DataFrame, codebook: Any, *,
                   level: Literal["theme", "code"] = "theme",
                   exclude: Sequence[str] = ()) -> dict[str, set[str]]:
    """Segments per theme (or per code) from the codings; unknown codes raise.

    Raises
    ------
    TriangulationError
        When a coding names a code the codebook does not have.
    """
    coded = codings.dropna(subset=["code_id"])
    unknown = sorted(set(coded["code_id"]) - set(codebook.ids))
    if unknown:
        raise TriangulationError(f"codings use codes not in codebook {codebook.name!r} "
                                 f"version {codebook.version}: {unknown[:10]}; load the "
                                 "codebook these codings were made with")
    keys = [t.id for t in codebook.themes()] if level == "theme" else list(codebook.ids)
    groups: dict[str, set[str]] = {k: set() for k in keys if k not in exclude}
    for segment, code in zip(coded["segment_id"], coded["code_id"], strict=True):
        key = codebook.theme_of(code) if level == "theme" else code
        if key in groups:
            groups[key].add(segment)
    return groups


def _segment_works(segments: pd.DataFrame) -> dict[str, tuple[str, ...]]:
    if "cited_keys" in segments.columns:
        return {s: tuple(k) for s, k in zip(segments["segment_id"], segments["cited_keys"],
                                            strict=True)}
    if "record_id" in segments.columns:
        return {s: (r,) for s, r in zip(segments["segment_id"], segments["record_id"],
                                        strict=True)}
    raise TriangulationError("segments need cited_keys or record_id to link them to works")


def _case_codes(codebook: Any) -> list[str]:
    return [c.id for c in codebook.codes if c.id.startswith("case_") and c.parent]


def compute_source_triangulation(codings: pd.DataFrame, segments: pd.DataFrame,
                                 records: pd.DataFrame, codebook: Any, *,
                                 by: Literal["source_group", "source_type"] = "source_group",
                                 level: Literal["theme", "code"] = "theme",
                                 min_groups: int = 2, min_works: int = 1,
                                 exclude_cases: bool = True) -> TriangulationTable:
    """Data-source triangulation: theme x source group (or type).

    A segment supports a theme in a group when it is coded with the theme and cites a work
    of that group. A theme is **corroborated** when at least ``min_groups`` groups support it
    with at least ``min_works`` distinct works each, **single-group** when one group does,
    and **unsupported** when none does.

    Returns
    -------
    TriangulationTable
        ``tidy``: ``row`` (theme), ``column`` (group), ``segments``, ``works``; ``wide``:
        works per group plus ``groups_supporting`` and ``status``.

    Raises
    ------
    TriangulationError
        For an empty coding set, segments unknown to the table, or codes not in the codebook.
    """
    _check(codings, segments)
    if min_groups < 1:
        raise TriangulationError("min_groups must be 1 or more")
    exclude = [c.id for c in codebook.themes() if c.id.startswith("case_")] if exclude_cases \
        else []
    groups = theme_segments(codings, codebook, level=level, exclude=exclude)
    works_of = _segment_works(segments)
    value_of = dict(zip(records["record_id"], records[by], strict=True))
    columns = sorted({str(v) for v in records[by].dropna()})
    rows, cells = [], {}
    for theme, segs in groups.items():
        for column in columns:
            support = sorted(s for s in segs if any(value_of.get(w) == column
                                                    for w in works_of.get(s, ())))
            works = {w for s in support for w in works_of[s] if value_of.get(w) == column}
            cells[(theme, column)] = tuple(support)
            rows.append((theme, column, len(support), len(works)))
    tidy = pd.DataFrame(rows, columns=["row", "column", "segments", "works"])
    wide = tidy.pivot(index="row", columns="column", values="works").reindex(
        index=list(groups), columns=columns).fillna(0).astype(int)
    supporting = (wide >= min_works).sum(axis=1)
    wide["groups_supporting"] = supporting
    wide["status"] = [("corroborated" if n >= min_groups else "single-group" if n >= 1
                       else "unsupported") for n in supporting]
    wide.index.name, wide.columns.name = "theme", by
    return TriangulationTable(f"source_triangulation_{by}", tidy, wide, cells)


def compute_cross_case(codings: pd.DataFrame, segments: pd.DataFrame, codebook: Any, *,
                       level: Literal["theme", "code"] = "theme") -> TriangulationTable:
    """Cross-case analysis: theme x case (industry, region, framework).

    A cell counts the segments coded with both the theme and the case (and the works they
    cite). Cases are the codes under the codebook's ``case_*`` grouping nodes.
    """
    _check(codings, segments)
    cases = _case_codes(codebook)
    if not cases:
        raise TriangulationError("the codebook has no case codes (children of case_* nodes)")
    exclude = [c.id for c in codebook.themes() if c.id.startswith("case_")]
    groups = theme_segments(codings, codebook, level=level, exclude=exclude)
    coded = codings.dropna(subset=["code_id"])
    case_segs = {c: set(coded.loc[coded["code_id"] == c, "segment_id"]) for c in cases}
    works_of = _segment_works(segments)
    rows, cells = [], {}
    for theme, segs in groups.items():
        for case in cases:
            both = sorted(segs & case_segs[case])
            cells[(theme, case)] = tuple(both)
            rows.append((theme, case, len(both), len({w for s in both
                                                      for w in works_of.get(s, ())})))
    tidy = pd.DataFrame(rows, columns=["row", "column", "segments", "works"])
    wide = tidy.pivot(index="row", columns="column", values="segments").reindex(
        index=list(groups), columns=cases).fillna(0).astype(int)
    wide.index.name, wide.columns.name = "theme", "case"
    return TriangulationTable("cross_case", tidy, wide, cells, value="segments")


def compute_coverage(codings: pd.DataFrame, segments: pd.DataFrame, codebook: Any, *,
                     by: Literal["rq", "year"] = "rq",
                     records: pd.DataFrame | None = None) -> TriangulationTable:
    """Coverage: theme x guiding question (segments) or theme x publication year (works)."""
    _check(codings, segments)
    exclude = [c.id for c in codebook.themes() if c.id.startswith("case_")]
    groups = theme_segments(codings, codebook, exclude=exclude)
    rows, cells = [], {}
    if by == "rq":
        rq = dict(zip(segments["segment_id"], segments["rq"], strict=True))
        columns = sorted({int(v) for v in segments["rq"].dropna()})
        for theme, segs in groups.items():
            for q in columns:
                hits = sorted(s for s in segs if pd.notna(rq.get(s)) and int(rq[s]) == q)
                cells[(theme, str(q))] = tuple(hits)
                rows.append((theme, str(q), len(hits), len(hits)))
        value = "segments"
    else:
        if records is None:
            raise TriangulationError("coverage by year needs the records table")
        year = dict(zip(records["record_id"], records["year"], strict=True))
        works_of = _segment_works(segments)
        columns = sorted({int(y) for y in records["year"].dropna()})
        for theme, segs in groups.items():
            for y in columns:
                hits = sorted(s for s in segs if any(year.get(w) == y
                                                     for w in works_of.get(s, ())))
                works = {w for s in hits for w in works_of[s] if year.get(w) == y}
                cells[(theme, str(y))] = tuple(hits)
                rows.append((theme, str(y), len(hits), len(works)))
        value = "works"
    tidy = pd.DataFrame(rows, columns=["row", "column", "segments", "works"])
    wide = tidy.pivot(index="row", columns="column", values=value).reindex(
        index=list(groups), columns=[str(c) for c in columns]).fillna(0).astype(int)
    wide.index.name, wide.columns.name = "theme", by
    return TriangulationTable(f"coverage_{by}", tidy, wide, cells, value=value)


def compute_investigator_triangulation(codings: pd.DataFrame, codebook: Any, *,
                                       coders: Sequence[str] | None = None,
                                       rounds: Sequence[int] | None = None,
                                       consensus: str | None = None,
                                       n_boot: int = 1000, random_state: int = 0,
                                       agreement: pd.DataFrame | None = None
                                       ) -> TriangulationTable:
    """Investigator triangulation: how far the people who coded agree, per theme.

    Investigator triangulation is between people; a rule coder or a topic model is a
    *method* (see :func:`compute_method_triangulation` and
    :func:`compute_method_agreement`). **Before** adjudication: agreement between the
    human coders (:func:`toolkit.agreement.compute_agreement` at theme level; Cohen's
    kappa for two coders, Fleiss' kappa and Krippendorff's alpha for more). **After**,
    when a consensus coding is named: each coder's agreement with the consensus
    (percent agreement and Cohen's kappa), i.e. how far adjudication moved each coder's
    decisions.

    Parameters
    ----------
    codings : DataFrame
        Codings of two or more people (and the consensus, if any).
    codebook : Codebook or sequence of Codebook
        The codebook of each round involved.
    coders, rounds : optional
        Which people and rounds to compare (default: every ``method="human"`` coder).
    consensus : str, optional
        Coder name of a consensus coding (:func:`toolkit.coding.read_adjudication_sheet`).
    n_boot : int, default 1000
    random_state : int, default 0
    agreement : DataFrame, optional
        The "before" agreement table when it has been computed already.

    Returns
    -------
    TriangulationTable
        ``tidy``: ``row`` (theme, ``(pooled)``, ``(mean)``), ``column`` (e.g.
        ``before: cohen_kappa``, ``after: ann vs consensus (cohen_kappa)``), ``value``,
        ``ci_low``, ``ci_high``, ``n_units``; ``wide``: the values.

    Raises
    ------
    TriangulationError
        With fewer than two human coders, or a consensus name with no codings.
    """
    from toolkit.agreement import compute_agreement
    from toolkit.coding.raters import select_raters

    people = select_raters(codings, coders=coders, rounds=rounds,
                           where="investigator triangulation")
    if len(people) < 2:
        raise TriangulationError(
            f"investigator triangulation is between people and needs two or more human "
            f"coders; found {[r.name for r in people]} (compare the human coding with rules "
            "or topics in method triangulation)")
    before = agreement if agreement is not None else compute_agreement(
        codings, coders=coders, rounds=rounds, codebook=codebook, level="theme",
        n_boot=n_boot, random_state=random_state)
    parts = [before.assign(column="before: " + before["metric"])]
    if consensus is not None:
        agreed = codings[codings["coder"] == consensus]
        if agreed.empty:
            raise TriangulationError(f"investigator triangulation: no codings of consensus "
                                     f"{consensus!r}")
        consensus_rounds = sorted(int(r) for r in agreed["round"].dropna().unique())
        for person in people:
            after = compute_agreement(
                codings, coders=[person.name, consensus],
                rounds=None if rounds is None else [*rounds, *consensus_rounds],
                codebook=codebook, level="theme", metrics=["percent_agreement", "cohen_kappa"],
                n_boot=n_boot, random_state=random_state)
            parts.append(after.assign(
                column=f"after: {person.name} vs {consensus} (" + after["metric"] + ")"))
    tidy = pd.concat(parts, ignore_index=True).rename(columns={"code_id": "row"})
    tidy = tidy[["row", "column", "value", "ci_low", "ci_high", "n_units"]]
    order = list(dict.fromkeys(tidy["column"]))
    wide = tidy.pivot(index="row", columns="column", values="value")[order].round(3)
    wide.index.name = "theme"
    return TriangulationTable("investigator_triangulation", tidy, wide, {}, value="value")


def _as_method(codings: pd.DataFrame, method: str, codebook: Any) -> pd.DataFrame:
    """One method's codings as one rater: coder and method named after it, one round."""
    return codings.assign(coder=method, method=method, round=codebook.round)


def compute_method_agreement(human: pd.DataFrame, rules: pd.DataFrame, codebook: Any, *,
                             n_boot: int = 1000, random_state: int = 0,
                             agreement: pd.DataFrame | None = None) -> TriangulationTable:
    """Agreement per theme between the human coding and the rule coder (two methods).

    Every coefficient of :func:`toolkit.agreement.compute_agreement`, with bootstrap
    intervals, at theme level. This is method triangulation: the rule coder is a method,
    not a second investigator.

    Parameters
    ----------
    human : DataFrame
        The human coding (one coder's, or :func:`toolkit.coding.combine_with_consensus`).
    rules : DataFrame
        Rule codings (:class:`toolkit.coding.RuleCoder`).
    codebook : Codebook
    n_boot : int, default 1000
    random_state : int, default 0
    agreement : DataFrame, optional
        The agreement table when it has been computed already.

    Returns
    -------
    TriangulationTable
        Named ``method_agreement``: ``tidy`` is the agreement table (``row`` theme,
        ``column`` metric), ``wide`` theme x metric values.
    """
    from toolkit.agreement import compute_agreement

    table = agreement if agreement is not None else compute_agreement(
        pd.concat([_as_method(human, "human", codebook), _as_method(rules, "rules", codebook)],
                  ignore_index=True),
        methods=["human", "rules"], codebook=codebook, level="theme", n_boot=n_boot,
        random_state=random_state)
    tidy = table.rename(columns={"code_id": "row", "metric": "column"})
    wide = tidy.pivot(index="row", columns="column", values="value").round(3)
    wide.index.name = "theme"
    return TriangulationTable("method_agreement", tidy, wide, {}, value="value")


def compute_method_triangulation(human: pd.DataFrame, rules: pd.DataFrame,
                                 document_topics: pd.DataFrame | None, codebook: Any, *,
                                 n_boot: int = 0) -> TriangulationTable:
    """Triangulate methods: per theme, what human coding, rules and the topic model find.

    Columns: ``human_segments``, ``rules_segments``, ``both``, ``rules_precision``,
    ``rules_recall``, ``kappa`` (human vs rules, segment-level theme presence),
    ``best_topic``, ``topic_jaccard`` (best topic's overlap with the theme's human segments).
    ``human`` is the human coding: one coder's, or the consensus where there is one
    (:func:`toolkit.coding.combine_with_consensus`).
    """
    from toolkit.agreement import compute_agreement

    h = theme_segments(human, codebook)
    r = theme_segments(rules, codebook)
    both_codings = pd.concat([_as_method(human, "human", codebook),
                              _as_method(rules, "rules", codebook)], ignore_index=True)
    kappa = compute_agreement(both_codings, methods=["human", "rules"], codebook=codebook,
                              level="theme", metrics=["cohen_kappa"], n_boot=n_boot)
    kappa = dict(zip(kappa["code_id"], kappa["value"], strict=True))
    best: dict[str, tuple[Any, float]] = {}
    if document_topics is not None:  # imported only then: the topic stack loads slowly
        from toolkit.topics.bridges import compute_topic_theme_alignment

        alignment = compute_topic_theme_alignment(document_topics, human, codebook)
        for row in alignment["best_per_theme"].itertuples(index=False):
            best[row.theme] = (row.topic, row.jaccard)
    rows, cells = [], {}
    for theme in h:
        inter = h[theme] & r[theme]
        precision = len(inter) / len(r[theme]) if r[theme] else float("nan")
        recall = len(inter) / len(h[theme]) if h[theme] else float("nan")
        topic, jaccard = best.get(theme, (pd.NA, float("nan")))
        rows.append((theme, len(h[theme]), len(r[theme]), len(inter), precision, recall,
                     kappa.get(theme, float("nan")), topic, jaccard))
        cells[(theme, "human_segments")] = tuple(sorted(h[theme]))
        cells[(theme, "rules_segments")] = tuple(sorted(r[theme]))
        cells[(theme, "both")] = tuple(sorted(inter))
    wide = pd.DataFrame(rows, columns=["theme", "human_segments", "rules_segments", "both",
                                       "rules_precision", "rules_recall", "kappa",
                                       "best_topic", "topic_jaccard"]).set_index("theme")
    for column in ("rules_precision", "rules_recall", "kappa", "topic_jaccard"):
        wide[column] = wide[column].astype(float).round(3)
    tidy = wide.reset_index().melt(id_vars="theme", var_name="column", value_name="value")
    tidy = tidy.rename(columns={"theme": "row"})
    return TriangulationTable("method_triangulation", tidy, wide, cells, value="value")


def evidence_for(table: TriangulationTable, row: str, column: str, *,
                 segments: pd.DataFrame, records: pd.DataFrame | None = None
                 ) -> pd.DataFrame:
    """Return the segments (and the works they cite) behind one cell of a table.

    Returns
    -------
    DataFrame
        One row per (segment, cited work): ``segment_id``, the segment's text or statement,
        ``section``/``rq`` when present, ``record_id`` and, with ``records``, the work's
        ``source_type``, ``source_group``, ``year`` and ``title``.

    Raises
    ------
    TriangulationError
        For a cell the table does not have (the message lists the rows and columns).
    """
    key = (str(row), str(column))
    if key not in table.cells:
        rows = sorted({r for r, _ in table.cells})
        columns = sorted({c for _, c in table.cells})
        raise TriangulationError(f"{table.name}: no cell ({row!r}, {column!r}); rows are "
                                 f"{rows[:12]}, columns {columns[:12]}")
    ids = list(table.cells[key])
    chosen = segments[segments["segment_id"].isin(ids)].copy()
    keep = [c for c in ("segment_id", "section", "rq", "text", "cited_keys")
            if c in chosen.columns]
    chosen = chosen[keep]
    if "cited_keys" in chosen.columns:
        chosen = chosen.explode("cited_keys").rename(columns={"cited_keys": "record_id"})
    if records is not None and "record_id" in chosen.columns:
        info = records[["record_id", "source_type", "source_group", "year", "title"]]
        chosen = chosen.merge(info, on="record_id", how="left")
        if key[1] in set(records["source_group"].dropna()):
            chosen = chosen[chosen["source_group"] == key[1]]
        elif key[1] in set(records["source_type"].dropna()):
            chosen = chosen[chosen["source_type"] == key[1]]
    return chosen.sort_values([c for c in ("segment_id", "record_id") if c in chosen.columns]
                              ).reset_index(drop=True)
