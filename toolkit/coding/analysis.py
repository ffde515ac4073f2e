"""The tables qualitative researchers write up from: code frequencies, co-occurrence, quotes.

Each works on **one coding** (one coder's, or :func:`toolkit.coding.combine_with_consensus`),
at the level of codes or of themes (a theme counts a segment coded with it or any code
below it). Segments link to documents through ``document_id`` and to works through
``cited_keys`` (a tuple per segment) or ``record_id``; works carry ``source_group``,
``year`` and any other column of the records table.

- :func:`compute_code_frequencies`: per code or theme, how many segments, documents, works
  and codings; or a code x group table (``by="source_group"``, ``"year"``,
  ``"document_id"``, ...);
- :func:`compute_cooccurrence`: code x code, segments coded with both (``measure="count"``)
  or the Jaccard index (``"jaccard"``); draw it with :func:`toolkit.report.plot_cooccurrence`;
- :func:`compute_quotes`: the segments behind each code or theme, with where they come
  from; write them with :func:`toolkit.report.export_quotes` (XLSX, Markdown, Word).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from toolkit.codebook.model import Codebook
from toolkit.errors import CodingError

__all__ = ["compute_code_frequencies", "compute_cooccurrence", "compute_quotes",
           "FREQUENCY_COLUMNS", "QUOTE_COLUMNS"]

#: Columns of :func:`compute_code_frequencies` without ``by``.
FREQUENCY_COLUMNS = ("code_id", "label", "theme", "depth", "segments", "documents", "works",
                     "codings")
#: Columns of :func:`compute_quotes`.
QUOTE_COLUMNS = ("theme", "theme_label", "code_id", "label", "segment_id", "document_id",
                 "location", "quote", "works", "source", "coder", "memo")

Level = Literal["code", "theme"]


def _one_coding(codings: pd.DataFrame, where: str) -> pd.DataFrame:
    missing = {"segment_id", "code_id"} - set(codings.columns)
    if missing:
        raise CodingError(f"{where}: codings lack columns {sorted(missing)}")
    if "coder" in codings.columns:
        coders = codings.dropna(subset=["coder"]).groupby("segment_id")["coder"].nunique()
        shared = sorted(coders[coders > 1].index)
        if shared:
            raise CodingError(f"{where}: segments {shared[:5]} are coded by more than one "
                              "coder; pick one coding (e.g. coders=[...] when loading, or "
                              "combine_with_consensus) so nothing is counted twice")
    return codings.dropna(subset=["code_id"])


def _keys(codebook: Codebook, coded: pd.DataFrame, level: Level, where: str) -> pd.Series:
    unknown = sorted(set(coded["code_id"]) - set(codebook.ids))
    if unknown:
        raise CodingError(f"{where}: codes not in codebook {codebook.name!r} round "
                          f"{codebook.round}: {unknown[:10]}; give the codebook these codings "
                          "were made with")
    if level == "theme":
        return coded["code_id"].map(codebook.theme_of)
    return coded["code_id"]


def _rows_order(codebook: Codebook, level: Level) -> list[str]:
    if level == "theme":
        return [t.id for t in codebook.themes()]
    return [c.id for c in codebook.walk()]


def _works(segments: pd.DataFrame) -> dict[str, tuple[str, ...]]:
    if "cited_keys" in segments.columns:
        return {s: tuple(k) if isinstance(k, (tuple, list)) else (() if pd.isna(k) else (k,))
                for s, k in zip(segments["segment_id"], segments["cited_keys"], strict=True)}
    if "record_id" in segments.columns:
        return {s: (() if pd.isna(r) else (r,))
                for s, r in zip(segments["segment_id"], segments["record_id"], strict=True)}
    return {}


def _groups(segments: pd.DataFrame, records: pd.DataFrame | None, by: str
            ) -> dict[str, set[str]]:
    """Segment id -> the values of ``by`` it belongs to (via its works for record columns)."""
    if by in segments.columns:
        return {s: {str(v)} if pd.notna(v) else {"unknown"}
                for s, v in zip(segments["segment_id"], segments[by], strict=True)}
    if records is None or by not in records.columns:
        raise CodingError(f"compute_code_frequencies: by={by!r} is neither a segments column "
                          f"({list(segments.columns)[:10]}) nor a records column (give "
                          "records=)")
    works = _works(segments)
    if not works:
        raise CodingError("compute_code_frequencies: segments need cited_keys or record_id to "
                          f"count by the works' {by}")
    value = {r: (str(v) if pd.notna(v) else "unknown")
             for r, v in zip(records["record_id"], records[by], strict=True)}
    return {s: {value.get(w, "unknown") for w in ws} or {"unknown"}
            for s, ws in works.items()}


def compute_code_frequencies(codings: pd.DataFrame, codebook: Codebook, *,
                             segments: pd.DataFrame | None = None,
                             records: pd.DataFrame | None = None, level: Level = "code",
                             by: str | None = None) -> pd.DataFrame:
    """Count how often each code (or theme) was applied.

    Parameters
    ----------
    codings : DataFrame
        One coding (each segment coded by one coder).
    codebook : Codebook
        Every code is listed, including those never applied (count 0).
    segments : DataFrame, optional
        Needed for ``documents``, ``works`` and ``by``.
    records : DataFrame, optional
        Needed for ``by`` a records column (``source_group``, ``year``, ...).
    level : {"code", "theme"}
        ``theme`` counts a segment once for its theme, whichever of its codes it has.
    by : str, optional
        A segments column (``document_id``, ``section``...) or a records column: the
        result is then a code x group table of segment counts (a segment citing works of
        two groups counts in both; missing values form the group ``unknown``).

    Returns
    -------
    DataFrame
        Without ``by``: :data:`FREQUENCY_COLUMNS` in codebook order (``documents`` and
        ``works`` are <NA> without segments; ``codings`` counts rows, so a rule coder's
        repeated matches show). With ``by``: index ``code_id`` (or ``theme``), one column
        per group (sorted), and ``total`` (distinct segments).

    Raises
    ------
    CodingError
        For codes not in the codebook, segments coded by several coders, or a ``by``
        column that is not there.

    Examples
    --------
    >>> from toolkit.codebook import Code, Codebook
    >>> book = Codebook("d", "1", 1, (Code("a", "A"), Code("a.x", "AX", parent="a"),
    ...                               Code("b", "B")))
    >>> codings = pd.DataFrame({"segment_id": ["s1", "s1", "s2"],
    ...                         "code_id": ["a.x", "b", "a"]})
    >>> compute_code_frequencies(codings, book, level="theme")[["code_id", "segments"]
    ...                                                       ].values.tolist()
    [['a', 2], ['b', 1]]
    """
    coded = _one_coding(codings, "compute_code_frequencies")
    keys = _keys(codebook, coded, level, "compute_code_frequencies")
    frame = pd.DataFrame({"key": keys.to_numpy(), "segment_id": coded["segment_id"].to_numpy()})
    order = _rows_order(codebook, level)
    if by is not None:
        if segments is None:
            raise CodingError("compute_code_frequencies: by= needs the segments table")
        groups = _groups(segments, records, by)
        pairs = {(k, s) for k, s in zip(frame["key"], frame["segment_id"], strict=True)}
        columns = sorted({g for s in {s for _, s in pairs} for g in groups.get(s, {"unknown"})},
                         key=_natural)
        table = pd.DataFrame(0, index=pd.Index(order, name="theme" if level == "theme"
                                               else "code_id"), columns=columns)
        for key, segment in pairs:
            for group in groups.get(segment, {"unknown"}):
                table.loc[key, group] += 1
        totals = frame.drop_duplicates().groupby("key")["segment_id"].nunique()
        table["total"] = totals.reindex(order).fillna(0).astype(int).to_numpy()
        table.columns.name = by
        return table
    documents = works = None
    if segments is not None and "document_id" in segments.columns:
        document_of = dict(zip(segments["segment_id"], segments["document_id"], strict=True))
        frame["document"] = frame["segment_id"].map(document_of)
        documents = frame.dropna(subset=["document"]).groupby("key")["document"].nunique()
    works_of = _works(segments) if segments is not None else {}
    if works_of:
        works = frame.groupby("key")["segment_id"].agg(
            lambda s: len({w for seg in set(s) for w in works_of.get(seg, ())}))
    segment_counts = frame.groupby("key")["segment_id"].nunique()
    coding_counts = frame.groupby("key").size()
    rows = []
    for code in codebook.walk() if level == "code" else codebook.themes():
        rows.append((code.id, code.label, codebook.theme_of(code.id),
                     len(codebook.ancestors(code.id)), int(segment_counts.get(code.id, 0)),
                     pd.NA if documents is None else int(documents.get(code.id, 0)),
                     pd.NA if works is None else int(works.get(code.id, 0)),
                     int(coding_counts.get(code.id, 0))))
    out = pd.DataFrame(rows, columns=list(FREQUENCY_COLUMNS))
    return out.astype({"documents": "Int64", "works": "Int64"})


def _natural(value: str) -> tuple[int, float, str]:
    try:
        return (0, float(value), value)
    except ValueError:
        return (1, 0.0, value)


def compute_cooccurrence(codings: pd.DataFrame, codebook: Codebook, *, level: Level = "code",
                         measure: Literal["count", "jaccard"] = "count",
                         codes: Sequence[str] | None = None,
                         drop_unused: bool = True) -> pd.DataFrame:
    """Code co-occurrence: segments coded with both codes (count) or their Jaccard index.

    Parameters
    ----------
    codings : DataFrame
        One coding (each segment coded by one coder).
    codebook : Codebook
    level : {"code", "theme"}
    measure : {"count", "jaccard"}
        ``count``: segments with both (the diagonal: segments with the code);
        ``jaccard``: both / either, from 0 (never together) to 1 (always together).
    codes : sequence of str, optional
        Only these codes (or themes), in this order; default every one in codebook order.
    drop_unused : bool, default True
        Leave out codes applied to no segment.

    Returns
    -------
    DataFrame
        Square, index and columns the codes (or themes); int counts or float Jaccard.

    Raises
    ------
    CodingError
        For codes not in the codebook, or segments coded by several coders.

    Examples
    --------
    >>> from toolkit.codebook import Code, Codebook
    >>> book = Codebook("d", "1", 1, (Code("a", "A"), Code("b", "B"), Code("c", "C")))
    >>> codings = pd.DataFrame({"segment_id": ["s1", "s1", "s2", "s3"],
    ...                         "code_id": ["a", "b", "a", "c"]})
    >>> compute_cooccurrence(codings, book).values.tolist()
    [[2, 1, 0], [1, 1, 0], [0, 0, 1]]
    >>> compute_cooccurrence(codings, book, measure="jaccard").loc["a", "b"]
    np.float64(0.5)
    """
    coded = _one_coding(codings, "compute_cooccurrence")
    keys = _keys(codebook, coded, level, "compute_cooccurrence")
    order = list(codes) if codes is not None else _rows_order(codebook, level)
    incidence = pd.crosstab(coded["segment_id"].to_numpy(), keys.to_numpy()).clip(upper=1)
    incidence = incidence.reindex(columns=order, fill_value=0)
    if drop_unused:
        incidence = incidence.loc[:, incidence.sum(axis=0) > 0]
    x = incidence.to_numpy(dtype=np.int64)
    both = x.T @ x
    names = pd.Index(incidence.columns, name=level if level == "theme" else "code_id")
    if measure == "count":
        return pd.DataFrame(both, index=names, columns=names.rename(None))
    if measure != "jaccard":
        raise CodingError(f"compute_cooccurrence: measure {measure!r}; use 'count' or "
                          "'jaccard'")
    alone = np.diag(both)
    with np.errstate(divide="ignore", invalid="ignore"):
        jaccard = both / (alone[:, None] + alone[None, :] - both)
    return pd.DataFrame(np.nan_to_num(jaccard), index=names, columns=names.rename(None))


def _location(row: pd.Series) -> str:
    parts = []
    if "page" in row.index and pd.notna(row["page"]):
        parts.append(f"p. {row['page']}")
    if "section" in row.index and pd.notna(row["section"]):
        parts.append(f"section {row['section']}")
    if not parts and "start" in row.index and pd.notna(row.get("start")) \
            and row.get("document_id") != row.get("segment_id"):
        parts.append(f"characters {row['start']}-{row['end']}")
    return ", ".join(parts)


def _cite(works: Sequence[str], records: pd.DataFrame | None) -> str:
    if records is None:
        return "; ".join(works)
    info = records.set_index("record_id")
    out = []
    for work in works:
        if work not in info.index:
            out.append(work)
            continue
        authors = info.at[work, "authors"] if "authors" in info.columns else ()
        year = info.at[work, "year"] if "year" in info.columns else pd.NA
        family = authors[0].split(",")[0] if isinstance(authors, tuple) and authors else work
        more = " et al." if isinstance(authors, tuple) and len(authors) > 2 else \
            f" & {authors[1].split(',')[0]}" if isinstance(authors, tuple) and \
            len(authors) == 2 else ""
        out.append(f"{family}{more} ({year if pd.notna(year) else 'n.d.'})")
    return "; ".join(out)


def compute_quotes(codings: pd.DataFrame, segments: pd.DataFrame, codebook: Codebook, *,
                   level: Level = "code", codes: Sequence[str] | None = None,
                   records: pd.DataFrame | None = None) -> pd.DataFrame:
    """List the passages behind each code or theme, with where they come from, to write up.

    Parameters
    ----------
    codings : DataFrame
        One coding. A coding with ``start``/``end`` quotes that span of the segment; one
        without quotes the whole segment.
    segments : DataFrame
        ``segment_id``, ``text``; ``document_id``, ``section``, ``page``, ``cited_keys`` or
        ``record_id`` are used when present.
    codebook : Codebook
    level : {"code", "theme"}
        ``theme`` gathers each theme's segments once, listing the codes applied.
    codes : sequence of str, optional
        Only these codes (or themes).
    records : DataFrame, optional
        Turns cited works into "Family (year)" references.

    Returns
    -------
    DataFrame
        :data:`QUOTE_COLUMNS`, in codebook order then segment order; ``works`` is the cited
        record ids, ``source`` the readable references, ``memo`` the coder's memo.

    Raises
    ------
    CodingError
        For codes not in the codebook, segments not in the table, or segments coded by
        several coders.
    """
    coded = _one_coding(codings, "compute_quotes")
    keys = _keys(codebook, coded, level, "compute_quotes")
    unknown = sorted(set(coded["segment_id"]) - set(segments["segment_id"]))
    if unknown:
        raise CodingError(f"compute_quotes: segments not in the segments table: {unknown[:5]}")
    info = segments.set_index("segment_id", drop=False)
    works_of = _works(segments)
    position = {s: i for i, s in enumerate(segments["segment_id"])}
    order = {k: i for i, k in enumerate(_rows_order(codebook, level))}
    wanted = set(codes) if codes is not None else None
    rows = []
    frame = coded.assign(_key=keys.to_numpy())
    for (key, segment), group in frame.groupby(["_key", "segment_id"], sort=False):
        if wanted is not None and key not in wanted:
            continue
        seg = info.loc[segment]
        text = str(seg["text"])
        spans = []
        if {"start", "end"} <= set(group.columns):
            spans = sorted({(int(a), int(b)) for a, b in zip(group["start"], group["end"],
                                                              strict=True)
                            if pd.notna(a) and pd.notna(b)})
        whole = not spans or (("start" in group.columns) and group["start"].isna().any())
        quote = text if whole else " [...] ".join(text[a:b] for a, b in spans)
        theme = codebook.theme_of(key)
        works = works_of.get(segment, ())
        memos = group["memo"].dropna().astype(str).unique().tolist() \
            if "memo" in group.columns else []
        rows.append((theme, codebook[theme].label,
                     key if level == "code" else "; ".join(sorted(set(group["code_id"]))),
                     codebook[key].label if level == "code" else codebook[theme].label,
                     segment, seg.get("document_id", pd.NA), _location(seg), quote,
                     "; ".join(works), _cite(works, records),
                     "; ".join(sorted(set(group["coder"].dropna()))) if "coder" in group
                     else pd.NA,
                     " | ".join(memos) if memos else pd.NA,
                     order.get(key, len(order)), position[segment]))
    out = pd.DataFrame(rows, columns=[*QUOTE_COLUMNS, "_order", "_position"])
    out = out.sort_values(["_order", "_position"], kind="stable").drop(
        columns=["_order", "_position"])
    return out.reset_index(drop=True)
