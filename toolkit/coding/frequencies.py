"""How often each code (or theme) was applied, and which codes occur together.

Both tables count segments, not coding rows alone: a code matched three times in one segment
is one coded segment (and three codings). They read the long codings table, so they serve
human codings, rule codings and the distributed codings of :mod:`toolkit.scale` alike.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from toolkit.codebook import Codebook
from toolkit.coding.presence import lift_to_themes
from toolkit.errors import CodingError

__all__ = ["compute_code_frequencies", "compute_cooccurrence", "FREQUENCY_COLUMNS"]

#: Columns of :func:`compute_code_frequencies`.
FREQUENCY_COLUMNS = ("code_id", "codings", "segments", "share")


def _coded(codings: pd.DataFrame, codebook: Codebook | None,
           level: Literal["code", "theme"], where: str) -> pd.DataFrame:
    missing = {"segment_id", "code_id"} - set(codings.columns)
    if missing:
        raise CodingError(f"{where}: codings lack {sorted(missing)}; pass a codings table "
                          "(segment_id, code_id, ...)")
    if level not in ("code", "theme"):
        raise CodingError(f"{where}: level={level!r}; use 'code' or 'theme'")
    if level == "theme":
        if codebook is None:
            raise CodingError(f"{where}: level='theme' needs the codebook, to know each "
                              "code's theme; pass codebook=")
        codings = lift_to_themes(codings, codebook)
    return codings[["segment_id", "code_id"]]


def compute_code_frequencies(codings: pd.DataFrame, *, codebook: Codebook | None = None,
                             level: Literal["code", "theme"] = "code") -> pd.DataFrame:
    """Count, per code (or theme), its coding rows and the segments it was applied to.

    Parameters
    ----------
    codings : DataFrame
        Long codings table; rows with an empty ``code_id`` (seen, nothing applies) count
        towards the segments seen.
    codebook : Codebook, optional
        Needed for ``level="theme"``.
    level : {"code", "theme"}
        Count codes, or themes (every code lifted to its top-level ancestor).

    Returns
    -------
    DataFrame
        :data:`FREQUENCY_COLUMNS`: ``codings`` (rows), ``segments`` (distinct segments) and
        ``share`` (``segments`` over every segment seen), one row per code, sorted by
        code id.

    Examples
    --------
    >>> codings = pd.DataFrame({"segment_id": ["s1", "s1", "s1", "s2", "s3"],
    ...                         "code_id": ["a", "a", "b", "b", None]})
    >>> compute_code_frequencies(codings).values.tolist()
    [['a', 2, 1, 0.3333333333333333], ['b', 2, 2, 0.6666666666666666]]
    """
    coded = _coded(codings, codebook, level, "compute_code_frequencies")
    seen = coded["segment_id"].nunique()
    rows = coded.dropna(subset=["code_id"])
    table = rows.groupby("code_id", sort=True).agg(
        codings=("segment_id", "size"), segments=("segment_id", "nunique")).reset_index()
    return frequencies_from_counts(table, seen)


def frequencies_from_counts(table: pd.DataFrame, seen: int) -> pd.DataFrame:
    """Finish a frequency table from ``code_id, codings, segments`` and the segments seen."""
    table = table.sort_values("code_id", kind="stable").reset_index(drop=True)
    table = table.astype({"code_id": "string", "codings": "int64", "segments": "int64"})
    table["share"] = table["segments"] / seen if seen else np.nan
    return table[list(FREQUENCY_COLUMNS)]


def compute_cooccurrence(codings: pd.DataFrame, *, codebook: Codebook | None = None,
                         level: Literal["code", "theme"] = "code") -> pd.DataFrame:
    """Count the segments each pair of codes (or themes) was applied to together.

    Parameters
    ----------
    codings : DataFrame
        Long codings table.
    codebook : Codebook, optional
        Needed for ``level="theme"``.
    level : {"code", "theme"}
        Codes, or themes.

    Returns
    -------
    DataFrame
        Square and symmetric, index and columns the code ids (sorted): cell ``(a, b)`` is
        the number of segments coded with both; the diagonal, the segments coded with each.

    Examples
    --------
    >>> codings = pd.DataFrame({"segment_id": ["s1", "s1", "s2", "s2", "s3"],
    ...                         "code_id": ["a", "b", "a", "b", "b"]})
    >>> compute_cooccurrence(codings).values.tolist()
    [[2, 2], [2, 3]]
    """
    coded = _coded(codings, codebook, level, "compute_cooccurrence")
    return cooccurrence_counts(coded.dropna(subset=["code_id"]))


def cooccurrence_counts(coded: pd.DataFrame, codes: list[str] | None = None) -> pd.DataFrame:
    """Co-occurrence counts of ``segment_id, code_id`` rows (no empty codes), codes sorted."""
    codes = sorted(set(coded["code_id"])) if codes is None else codes
    pairs = coded.drop_duplicates()
    segment = pd.factorize(pairs["segment_id"])[0]
    code = pd.Categorical(pairs["code_id"], categories=codes).codes
    presence = sp.csr_matrix((np.ones(len(segment), np.int64), (segment, code)),
                             shape=(int(segment.max()) + 1 if len(segment) else 0, len(codes)))
    counts = np.asarray((presence.T @ presence).toarray(), dtype=np.int64)
    index = pd.Index(codes, name="code_id", dtype="string")
    return pd.DataFrame(counts, index=index, columns=index.rename(None))
