"""Triangulation tables: how far each theme is supported across sources and methods.

Every cell can be traced to its evidence with :func:`evidence_for`.

All ``compute_*`` functions return a :class:`TriangulationTable`: a tidy DataFrame (one row
per cell), a wide view for reading, and for each cell the segments behind it.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from toolkit.codebook import Codebook
from toolkit.coding.presence import segments_per_theme
from toolkit.errors import CodingError, ToolkitError

__all__ = [
    "TriangulationTable",
    "TriangulationError",
    "TriangulationWarning",
    "UNKNOWN",
    "STATUSES",
    "compute_source_triangulation",
    "compute_cross_case",
    "compute_coverage",
    "compute_investigator_triangulation",
    "compute_method_agreement",
    "compute_method_triangulation",
    "evidence_for",
    "expand_cases",
    "theme_segments",
    "work_values",
]

#: The group of works whose value of the triangulation column is missing.
UNKNOWN = "unknown"
#: Corroboration labels of :func:`compute_source_triangulation`, strongest first.
STATUSES = ("corroborated", "partly corroborated", "single-group", "unknown group only",
            "unsupported")


class TriangulationError(ToolkitError, ValueError):
    """Inputs to a triangulation table do not fit together."""


class TriangulationWarning(UserWarning):
    """Some works have no value in the column triangulated on; they form the unknown group."""


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
    by : str
        The column the table splits on (a record column such as ``source_group``, or a
        segment column such as ``rq``); empty when it splits on something else.
    """

    name: str
    tidy: pd.DataFrame
    wide: pd.DataFrame
    cells: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    value: str = "works"
    by: str = ""

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


def theme_segments(codings: pd.DataFrame, codebook: Codebook, *,
                   level: Literal["theme", "code"] = "theme",
                   exclude: Sequence[str] = ()) -> dict[str, set[str]]:
    """Segments per theme (or per code) from the codings; unknown codes raise.

    The sets of :func:`toolkit.coding.segments_per_theme`.

    Raises
    ------
    TriangulationError
        When a coding names a code the codebook does not have.
    """
    try:
        found = segments_per_theme(codings, codebook, level=level, exclude=exclude)
    except CodingError as err:
        raise TriangulationError(str(err)) from None
    return {key: set(segments) for key, segments in found.items()}


def expand_cases(codebook: Codebook, cases: Mapping[str, Sequence[str]] | None
                 ) -> dict[str, list[str]]:
    """Turn declared cases into case codes: ``{family: [code ids]}``.

    A declared code with codes below it stands for the codable codes below it (a grouping
    node such as "industries"); a code without children is a case itself.

    Raises
    ------
    TriangulationError
        For a declared code the codebook does not have.

    Examples
    --------
    >>> from toolkit.codebook import Code
    >>> book = Codebook("x", "1", 1, (Code("sector", "Sector", codable=False),
    ...     Code("sector.health", "Health", parent="sector"), Code("eu", "Europe")))
    >>> expand_cases(book, {"sectors": ["sector"], "regions": ["eu"]})
    {'sectors': ['sector.health'], 'regions': ['eu']}
    """
    expanded: dict[str, list[str]] = {}
    for family, codes in (cases or {}).items():
        if isinstance(codes, str):
            codes = [codes]
        unknown = [c for c in codes if c not in codebook]
        if unknown:
            raise TriangulationError(f"cases {family!r}: codes {unknown} are not in codebook "
                                     f"{codebook.name!r}; list code ids of the codebook")
        found: list[str] = []
        for code in codes:
            below = [c for c in codebook.descendants(code) if codebook[c].codable]
            for case in below or [code]:
                if case not in found:
                    found.append(case)
        expanded[str(family)] = found
    return expanded


def _case_themes(codebook: Codebook, cases: Mapping[str, Sequence[str]] | None) -> list[str]:
    """Themes that only hold cases (their grouping nodes): not themes of the analysis."""
    case_codes = {c for codes in expand_cases(codebook, cases).values() for c in codes}
    if not case_codes:
        return []
    themes = []
    for theme in codebook.themes():
        codable = [c for c in (theme.id, *codebook.descendants(theme.id))
                   if codebook[c].codable]
        if codable and all(c in case_codes for c in codable):
            themes.append(theme.id)
    return themes


def _segment_works(segments: pd.DataFrame) -> dict[str, tuple[str, ...]]:
    if "cited_keys" in segments.columns:
        return {s: tuple(k) for s, k in zip(segments["segment_id"], segments["cited_keys"],
                                            strict=True)}
    if "record_id" in segments.columns:
        return {s: (() if r is None or r is pd.NA else (str(r),))
                for s, r in zip(segments["segment_id"], segments["record_id"], strict=True)}
    raise TriangulationError("segments need cited_keys or record_id to link them to works")


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    if isinstance(value, float) and value != value:
        return True
    return isinstance(value, str) and not value.strip()


def work_values(records: pd.DataFrame, by: str) -> dict[str, tuple[str, ...]]:
    """Return the values of one record column per work, as text.

    A column holding tuples (``databases``, ``keywords``) gives each work all of its
    values; a missing or empty value gives :data:`UNKNOWN`. Whole numbers (years) are
    written without decimals.

    Raises
    ------
    TriangulationError
        When ``by`` is not a column of ``records``.

    Examples
    --------
    >>> from toolkit.corpus import records_frame
    >>> frame = records_frame([{"record_id": "a", "year": 2020}, {"record_id": "b"}])
    >>> work_values(frame, "year")
    {'a': ('2020',), 'b': ('unknown',)}
    """
    if by not in records.columns:
        raise TriangulationError(f"records have no column {by!r}; triangulate on one of "
                                 f"{sorted(str(c) for c in records.columns)}, or add the "
                                 "column (a record-columns file in review.yaml)")

    def text(value: Any) -> str:
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value).strip()

    found: dict[str, tuple[str, ...]] = {}
    for record, value in zip(records["record_id"], records[by], strict=True):
        if isinstance(value, (tuple, list, set, frozenset)):
            values = tuple(dict.fromkeys(text(v) for v in value if not _missing(v)))
        else:
            values = () if _missing(value) else (text(value),)
        found[str(record)] = values or (UNKNOWN,)
    return found


def _sort_values(values: set[str]) -> list[str]:
    """Known values sorted (numerically when all are numbers), the unknown group last."""
    known = [v for v in values if v != UNKNOWN]
    try:
        known.sort(key=float)
    except ValueError:
        known.sort()
    return known + ([UNKNOWN] if UNKNOWN in values else [])


def _warn_unknown(records: pd.DataFrame, values: dict[str, tuple[str, ...]], by: str,
                  linked: set[str]) -> None:
    missing = sorted(r for r in linked if values.get(r, (UNKNOWN,)) == (UNKNOWN,))
    if missing:
        warnings.warn(f"{len(missing)} work(s) behind coded segments have no {by} (e.g. "
                      f"{missing[:5]}); they form the {UNKNOWN!r} group, which never counts "
                      "towards corroboration; fill the column to place them",
                      TriangulationWarning, stacklevel=3)


def _status(n: int, min_groups: int, unknown: int = 0) -> str:
    if n == 0:
        return "unknown group only" if unknown else "unsupported"
    if n >= min_groups:
        return "corroborated"
    return "single-group" if n == 1 else "partly corroborated"


def compute_source_triangulation(codings: pd.DataFrame, segments: pd.DataFrame,
                                 records: pd.DataFrame, codebook: Codebook, *,
                                 by: str = "source_group",
                                 level: Literal["theme", "code"] = "theme",
                                 min_groups: int = 2, min_works: int = 1,
                                 cases: Mapping[str, Sequence[str]] | None = None
                                 ) -> TriangulationTable:
    """Data-source triangulation: theme x the values of any record column.

    A segment supports a theme in a group when it is coded with the theme and cites (or
    comes from) a work of that group; a segment linked to no work supports no group.
    ``by`` is any column of ``records``: source group, source type, ``database``
    (``databases`` after de-duplication: a work found by several databases counts for
    each), year, or a column the review adds. Works without a value
    form the group :data:`UNKNOWN`, shown last, with a :class:`TriangulationWarning`; it
    never counts towards corroboration.

    A theme is **corroborated** when at least ``min_groups`` known groups support it with
    at least ``min_works`` distinct works each; **partly corroborated** when two or more
    do, but fewer than ``min_groups``; **single-group** when one does (and ``min_groups``
    is more than one); **unknown group only** when only works without a value do;
    **unsupported** when none does.

    Parameters
    ----------
    cases : mapping, optional
        The review's cases (see :func:`expand_cases`); themes that only hold cases are left
        out of the rows.

    Returns
    -------
    TriangulationTable
        ``tidy``: ``row`` (theme), ``column`` (group), ``segments``, ``works``; ``wide``:
        works per group plus ``groups_supporting`` and ``status``.

    Raises
    ------
    TriangulationError
        For an empty coding set, segments unknown to the table, codes not in the codebook,
        or a column the records do not have.
    """
    _check(codings, segments)
    if min_groups < 1:
        raise TriangulationError("min_groups must be 1 or more")
    values = work_values(records, by)
    groups = theme_segments(codings, codebook, level=level,
                            exclude=_case_themes(codebook, cases))
    works_of = _segment_works(segments)
    coded = {s for segs in groups.values() for s in segs}
    _warn_unknown(records, values, by, {w for s in coded for w in works_of.get(s, ())})

    def of(segment: str) -> list[tuple[str, str]]:
        """(work, group) pairs of a segment (none for a segment linked to no work)."""
        return [(w, v) for w in works_of.get(segment, ()) for v in values.get(w, (UNKNOWN,))]

    present = {v for vs in values.values() for v in vs if v != UNKNOWN}
    if any(v == UNKNOWN for s in coded for _, v in of(s)):
        present.add(UNKNOWN)
    columns = _sort_values(present)
    rows, cells = [], {}
    for theme, segs in groups.items():
        pairs = {s: of(s) for s in segs}
        for column in columns:
            support = sorted(s for s in segs if any(v == column for _, v in pairs[s]))
            works = {w for s in support for w, v in pairs[s] if v == column}
            cells[(theme, column)] = tuple(support)
            rows.append((theme, column, len(support), len(works)))
    tidy = pd.DataFrame(rows, columns=["row", "column", "segments", "works"])
    wide = tidy.pivot(index="row", columns="column", values="works").reindex(
        index=list(groups), columns=columns).fillna(0).astype(int)
    known = [c for c in columns if c != UNKNOWN]
    supporting = (wide[known] >= min_works).sum(axis=1)
    wide["groups_supporting"] = supporting
    unknown = wide[UNKNOWN] if UNKNOWN in wide.columns else pd.Series(0, index=wide.index)
    wide["status"] = [_status(int(n), min_groups, int(u))
                      for n, u in zip(supporting, unknown, strict=True)]
    wide.index.name, wide.columns.name = "theme", by
    return TriangulationTable(f"source_triangulation_{by}", tidy, wide, cells, by=by)


def compute_cross_case(codings: pd.DataFrame, segments: pd.DataFrame, codebook: Codebook, *,
                       cases: Mapping[str, Sequence[str]] | None,
                       level: Literal["theme", "code"] = "theme") -> TriangulationTable:
    """Cross-case analysis: theme x case (industry, region, framework, ...).

    A cell counts the segments coded with both the theme and the case (and the works they
    cite). The cases are declared, not guessed: ``cases`` maps each kind of case to code
    ids (a review's ``cases:`` in review.yaml); see :func:`expand_cases`.

    Raises
    ------
    TriangulationError
        When no cases are declared, or they name codes the codebook does not have.
    """
    _check(codings, segments)
    families = expand_cases(codebook, cases)
    case_ids = [c for codes in families.values() for c in codes]
    if not case_ids:
        raise TriangulationError("no cases declared: list the codes that are cases under "
                                 "cases: in review.yaml (e.g. industries: [case_industry]) "
                                 "or pass cases={'industries': [...]}")
    groups = theme_segments(codings, codebook, level=level,
                            exclude=_case_themes(codebook, cases))
    coded = codings.dropna(subset=["code_id"])
    case_segs = {c: set(coded.loc[coded["code_id"] == c, "segment_id"]) for c in case_ids}
    works_of = _segment_works(segments)
    rows, cells = [], {}
    for theme, segs in groups.items():
        for case in case_ids:
            both = sorted(segs & case_segs[case])
            cells[(theme, case)] = tuple(both)
            rows.append((theme, case, len(both), len({w for s in both
                                                      for w in works_of.get(s, ())})))
    tidy = pd.DataFrame(rows, columns=["row", "column", "segments", "works"])
    wide = tidy.pivot(index="row", columns="column", values="segments").reindex(
        index=list(groups), columns=case_ids).fillna(0).astype(int)
    wide.index.name, wide.columns.name = "theme", "case"
    return TriangulationTable("cross_case", tidy, wide, cells, value="segments")


def compute_coverage(codings: pd.DataFrame, segments: pd.DataFrame, codebook: Codebook, *,
                     by: str = "rq", records: pd.DataFrame | None = None,
                     cases: Mapping[str, Sequence[str]] | None = None) -> TriangulationTable:
    """Coverage: theme x a segment column (segments) or x a record column (works).

    ``by`` is looked up in the segments first (``rq``, the guiding question: segments
    without a value are left out) and otherwise in ``records`` (``year``, or any record
    column: works, with the :data:`UNKNOWN` group as in
    :func:`compute_source_triangulation`).

    Raises
    ------
    TriangulationError
        When ``by`` is in neither table.
    """
    _check(codings, segments)
    groups = theme_segments(codings, codebook, exclude=_case_themes(codebook, cases))
    rows, cells = [], {}
    if by in segments.columns:
        column_of = dict(zip(segments["segment_id"], segments[by], strict=True))
        numeric = pd.api.types.is_integer_dtype(segments[by].dtype)
        label = (lambda v: str(int(v))) if numeric else str  # noqa: E731
        columns = _sort_values({label(v) for v in segments[by] if not _missing(v)})
        for theme, segs in groups.items():
            for column in columns:
                hits = sorted(s for s in segs if not _missing(column_of.get(s))
                              and label(column_of[s]) == column)
                cells[(theme, column)] = tuple(hits)
                rows.append((theme, column, len(hits), len(hits)))
        value = "segments"
    else:
        if records is None or by not in records.columns:
            raise TriangulationError(f"coverage by {by!r}: no such column in the segments"
                                     + ("" if records is None else " or the records")
                                     + "; pass the records table for a record column")
        values = work_values(records, by)
        works_of = _segment_works(segments)
        coded = {s for segs in groups.values() for s in segs}
        _warn_unknown(records, values, by, {w for s in coded for w in works_of.get(s, ())})
        present = {v for vs in values.values() for v in vs}
        columns = _sort_values(present)
        for theme, segs in groups.items():
            for column in columns:
                hits = sorted(s for s in segs if any(column in values.get(w, (UNKNOWN,))
                                                     for w in works_of.get(s, ())))
                works = {w for s in hits for w in works_of[s]
                         if column in values.get(w, (UNKNOWN,))}
                cells[(theme, column)] = tuple(hits)
                rows.append((theme, column, len(hits), len(works)))
        value = "works"
    tidy = pd.DataFrame(rows, columns=["row", "column", "segments", "works"])
    wide = tidy.pivot(index="row", columns="column", values=value).reindex(
        index=list(groups), columns=columns).fillna(0).astype(int)
    wide.index.name, wide.columns.name = "theme", by
    return TriangulationTable(f"coverage_{by}", tidy, wide, cells, value=value, by=by)


def compute_investigator_triangulation(codings: pd.DataFrame,
                                       codebook: Codebook | Sequence[Codebook], *,
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
                                 document_topics: pd.DataFrame | None, codebook: Codebook, *,
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
        ``section``/``rq``/``page`` when present, ``record_id`` and, with ``records``, the
        work's ``source_type``, ``source_group``, ``year`` and ``title`` (and the table's
        ``by`` column). For a table split on a record column, only the works of the cell's
        group are listed.

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
    keep = [c for c in ("segment_id", "section", "rq", "page", "text", "cited_keys",
                        "record_id") if c in chosen.columns]
    chosen = chosen[keep]
    if "cited_keys" in chosen.columns:
        chosen = chosen.drop(columns=[c for c in ("record_id",) if c in chosen.columns])
        chosen = chosen.explode("cited_keys").rename(columns={"cited_keys": "record_id"})
    if records is not None and "record_id" in chosen.columns:
        info = ["record_id", "source_type", "source_group", "year", "title"]
        if table.by and table.by in records.columns and table.by not in info:
            info.append(table.by)
        info = [c for c in info if c in records.columns]
        chosen = chosen.merge(records[info], on="record_id", how="left")
        if table.by in records.columns and table.by not in segments.columns:
            values = work_values(records, table.by)
            chosen = chosen[[key[1] in values.get(str(r), (UNKNOWN,)) if not _missing(r)
                             else key[1] == UNKNOWN for r in chosen["record_id"]]]
    return chosen.sort_values([c for c in ("segment_id", "record_id") if c in chosen.columns]
                              ).reset_index(drop=True)
