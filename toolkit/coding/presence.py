"""Segment-level code presence: the table agreement and evaluation are computed on."""

from __future__ import annotations

from typing import Literal

import pandas as pd

from toolkit.errors import CodingError

__all__ = ["code_presence", "lift_to_themes"]


def lift_to_themes(codings: pd.DataFrame, codebook: object) -> pd.DataFrame:
    """Replace each ``code_id`` by its theme (top-level ancestor); drops nothing.

    Rows with an empty ``code_id`` ("seen, no code") stay empty.
    """
    lifted = codings.copy()
    lifted["code_id"] = lifted["code_id"].map(
        lambda c: c if c is pd.NA or c is None else codebook.theme_of(c),  # type: ignore[attr-defined]
        na_action="ignore").astype("string")
    return lifted


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
