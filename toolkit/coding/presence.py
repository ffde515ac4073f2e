"""Segment-level code presence: the table agreement and evaluation are computed on."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import pandas as pd

from toolkit.codebook import Codebook
from toolkit.errors import CodingError

__all__ = ["code_presence", "lift_to_themes", "segments_per_theme"]


def lift_to_themes(codings: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """Replace each ``code_id`` by its theme (top-level ancestor); drops nothing.

    Rows with an empty ``code_id`` ("seen, no code") stay empty.
    """
    lifted = codings.copy()
    lifted["code_id"] = lifted["code_id"].map(
        lambda c: c if c is pd.NA or c is None else codebook.theme_of(c),
        na_action="ignore").astype("string")
    return lifted


def segments_per_theme(codings: pd.DataFrame, codebook: Codebook, *,
                       level: Literal["theme", "code"] = "theme",
                       exclude: Iterable[str] = (), within: Iterable[str] | None = None,
                       unknown: Literal["raise", "ignore"] = "raise") -> dict[str, list[str]]:
    """Segments coded with each theme (or code): the one place this is worked out.

    A segment belongs to a theme when any of its codings is the theme or a code below it.
    Triangulation, the topic-model bridges and the reports all read it from here.

    Parameters
    ----------
    codings : DataFrame
        Long codings table (``segment_id, code_id``; empty ``code_id`` rows are ignored).
    codebook : Codebook
    level : {"theme", "code"}
        Group by theme (top-level code) or by the code itself.
    exclude : iterable of str
        Themes (or codes) to leave out, e.g. the grouping nodes of cases.
    within : iterable of str, optional
        Only segments in this set count (e.g. the segments a topic model saw).
    unknown : {"raise", "ignore"}
        What to do with a coding whose code the codebook does not have.

    Returns
    -------
    dict of str to list of str
        Every theme (or code) of the codebook in its order, minus ``exclude``, mapped to
        its segment ids: unique, in the order they first appear in ``codings``; themes no
        one used map to an empty list.

    Raises
    ------
    CodingError
        With ``unknown="raise"``, naming the codes the codebook does not have.

    Examples
    --------
    >>> from toolkit.codebook import Code
    >>> book = Codebook("x", "1", 1, (Code("a", "A"), Code("a.b", "B", parent="a"),
    ...                               Code("c", "C")))
    >>> codings = pd.DataFrame({"segment_id": ["s2", "s1", "s2"],
    ...                         "code_id": ["a.b", "a", None]})
    >>> segments_per_theme(codings, book)
    {'a': ['s2', 's1'], 'c': []}
    """
    coded = codings.dropna(subset=["code_id"])
    if within is not None:
        keep = set(within)
        coded = coded[coded["segment_id"].isin(keep)]
    known = set(codebook.ids)
    if unknown == "raise":
        missing = sorted(set(coded["code_id"]) - known)
        if missing:
            raise CodingError(f"codings use codes not in codebook {codebook.name!r} "
                              f"version {codebook.version}: {missing[:10]}; load the "
                              "codebook these codings were made with")
    skip = set(exclude)
    keys = [t.id for t in codebook.themes()] if level == "theme" else list(codebook.ids)
    groups: dict[str, dict[str, None]] = {k: {} for k in keys if k not in skip}
    for segment, code in zip(coded["segment_id"], coded["code_id"], strict=True):
        if code not in known:
            continue
        key = codebook.theme_of(code) if level == "theme" else code
        if key in groups:
            groups[key][segment] = None
    return {key: list(found) for key, found in groups.items()}


def code_presence(codings: pd.DataFrame, *, codes: list[str] | None = None,
                  by: Literal["coder", "method"] = "coder") -> pd.DataFrame:
    """Which code each rater applied to each segment: 1 present, 0 absent, <NA> not seen.

    A rater has *seen* a segment when any of its coding rows names the segment (an empty
    ``code_id`` row marks a segment seen with no code). Segments a rater never saw are
    missing for that rater, not absences.

    Parameters
    ----------
    codings : DataFrame
        Long codings table.
    codes : list of str, optional
        Codes to include (default: every code that appears).
    by : {"coder", "method"}
        Which column names the raters.

    Returns
    -------
    DataFrame
        Index ``(segment_id, code_id)``, one nullable-int column per rater, sorted.

    Examples
    --------
    >>> codings = pd.DataFrame({"segment_id": ["s1", "s1", "s2", "s2"],
    ...     "code_id": ["a", "a", "a", None], "coder": ["x", "y", "x", "y"]})
    >>> code_presence(codings).reset_index().values.tolist()
    [['s1', 'a', 1, 1], ['s2', 'a', 1, 0]]
    """
    if by not in codings.columns or "segment_id" not in codings.columns:
        raise CodingError(f"code_presence: codings need segment_id and {by} columns")
    raters = sorted(codings[by].dropna().unique())
    seen = {r: set(codings.loc[codings[by] == r, "segment_id"]) for r in raters}
    segments = sorted(set(codings["segment_id"]))
    codes = sorted(set(codings["code_id"].dropna())) if codes is None else sorted(codes)
    applied = set(zip(codings[by], codings["segment_id"], codings["code_id"], strict=True))
    index = pd.MultiIndex.from_product([segments, codes], names=["segment_id", "code_id"])
    data = {}
    for rater in raters:
        values = [(1 if (rater, s, c) in applied else 0) if s in seen[rater] else pd.NA
                  for s, c in index]
        data[rater] = pd.array(values, dtype="Int64")
    return pd.DataFrame(data, index=index)
