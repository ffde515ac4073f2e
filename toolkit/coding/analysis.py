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


def rows_order(codebook: Codebook, level: Level) -> list[str]:
    """Code ids in codebook order, or theme ids: the rows of the tables."""
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
    frame = keyed_codings(codings, codebook, level, "compute_code_frequencies")
    if by is not None and segments is None:
        raise CodingError("compute_code_frequencies: by= needs the segments table")
    if segments is not None:
        frame = attach_segment_attributes(frame, segment_attributes(segments, records, by))
    return frequency_table(frequency_counts(frame), codebook, level, by=by,
                           documents=segments is not None and "document_id" in segments.columns,
                           works=segments is not None and _has_works(segments.columns))


# The frequency table in two steps, so that a distributed run (toolkit.scale) counts each
# partition with the same code and adds the counts up: keyed_codings -> (attach the
# segments' documents, works and groups) -> frequency_counts per piece -> frequency_table.

#: Columns of :func:`segment_attributes` (those it makes, after ``segment_id``).
ATTRIBUTE_COLUMNS = ("document", "works", "groups")
#: Columns of :func:`frequency_counts`.
COUNT_COLUMNS = ("kind", "key", "value", "count")


def keyed_codings(codings: pd.DataFrame, codebook: Codebook, level: Level, where: str
                  ) -> pd.DataFrame:
    """``key`` (the code, or its theme) and ``segment_id`` of each applied code.

    Checks what the tables need: one coding (no segment coded by two coders) and codes of
    ``codebook``. In a distributed run every segment's codings must be in one piece.
    """
    coded = _one_coding(codings, where)
    keys = _keys(codebook, coded, level, where)
    return pd.DataFrame({"key": keys.to_numpy(), "segment_id": coded["segment_id"].to_numpy()},
                        dtype="str")


def _has_works(columns: Sequence[str]) -> bool:
    return "cited_keys" in columns or "record_id" in columns


def segment_attributes(segments: pd.DataFrame, records: pd.DataFrame | None,
                       by: str | None) -> pd.DataFrame:
    """Per segment: its ``document``, its ``works`` (a tuple) and, with ``by``, its ``groups``.

    Only the columns the segments table can give are made (``document`` needs
    ``document_id``; ``works`` needs ``cited_keys`` or ``record_id``). A segment id listed
    twice keeps its last row.
    """
    out = pd.DataFrame({"segment_id": segments["segment_id"].to_numpy()}, dtype="str")
    if "document_id" in segments.columns:
        out["document"] = segments["document_id"].to_numpy()
    if _has_works(segments.columns):
        works = _works(segments)
        out["works"] = [works[s] for s in out["segment_id"]]
    if by is not None:
        groups = _groups(segments, records, by)
        out["groups"] = [tuple(sorted(groups[s])) for s in out["segment_id"]]
    return out.drop_duplicates("segment_id", keep="last")


def attach_segment_attributes(frame: pd.DataFrame, attributes: pd.DataFrame) -> pd.DataFrame:
    """Join :func:`segment_attributes` to :func:`keyed_codings`.

    Segments not listed get no document, no works and the group ``unknown``.
    """
    return fill_segment_attributes(frame.merge(attributes, on="segment_id", how="left",
                                               sort=False))


def fill_segment_attributes(joined: pd.DataFrame) -> pd.DataFrame:
    """No works and the group ``unknown`` for segments a left join found no attributes for.

    Tuples that came back as lists or arrays (a trip through Arrow) are tuples again.
    """
    joined = joined.copy()
    if "works" in joined.columns:
        joined["works"] = [tuple(w) if isinstance(w, (tuple, list, np.ndarray)) else ()
                           for w in joined["works"]]
    if "groups" in joined.columns:
        joined["groups"] = [tuple(g) if isinstance(g, (tuple, list, np.ndarray))
                            else ("unknown",) for g in joined["groups"]]
    return joined


def frequency_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """Count what a frequency table is made of, in one piece of keyed codings.

    Rows of :data:`COUNT_COLUMNS`: ``codings`` and ``segments`` per key; one row per
    distinct (key, ``document``) and (key, ``work``); per (key, ``group``) the segments.
    Pieces that share no segment add up: sum ``count`` by ``kind``, ``key``, ``value``.
    """
    pieces = []

    def add(kind: str, table: pd.Series) -> None:
        index = table.index
        keys = index.get_level_values(0) if isinstance(index, pd.MultiIndex) else index
        values = (index.get_level_values(1).astype(str) if isinstance(index, pd.MultiIndex)
                  else [""] * len(table))
        pieces.append(pd.DataFrame({"kind": kind, "key": keys.astype(str), "value": values,
                                    "count": table.to_numpy(dtype=np.int64)}))

    add("codings", frame.groupby("key").size())
    add("segments", frame.groupby("key")["segment_id"].nunique())
    if "document" in frame.columns:
        documents = frame.dropna(subset=["document"])
        documents = documents.assign(document=documents["document"].astype(str))
        add("document", documents.groupby(["key", "document"]).size().clip(upper=1))
    pairs = frame.drop_duplicates(["key", "segment_id"])
    if "works" in frame.columns:
        works = pairs[["key", "works"]].explode("works").dropna(subset=["works"])
        works = works.assign(works=works["works"].astype(str))
        add("work", works.groupby(["key", "works"]).size().clip(upper=1))
    if "groups" in frame.columns:
        groups = pairs[["key", "groups"]].explode("groups")
        add("group", groups.groupby(["key", "groups"]).size())
    out = pd.concat(pieces, ignore_index=True)
    return out.astype({"kind": "string", "key": "string", "value": "string",
                       "count": "int64"})[list(COUNT_COLUMNS)]


def frequency_table(counts: pd.DataFrame, codebook: Codebook, level: Level, *,
                    by: str | None, documents: bool, works: bool) -> pd.DataFrame:
    """Finish the frequency table from :func:`frequency_counts` (of one piece, or several)."""
    summed = counts.groupby(["kind", "key", "value"], sort=False)["count"].sum()

    def kind(name: str) -> pd.Series:
        if name not in summed.index.get_level_values(0):
            return pd.Series([], dtype="int64", index=pd.MultiIndex.from_arrays(
                [[], []], names=["key", "value"]))
        return summed.xs(name, level="kind")

    order = rows_order(codebook, level)
    segment_counts = kind("segments").droplevel("value")
    if by is not None:
        cells = kind("group")
        columns = sorted(set(cells.index.get_level_values("value")), key=_natural)
        table = pd.DataFrame(0, index=pd.Index(order, name="theme" if level == "theme"
                                               else "code_id"), columns=columns)
        for (key, group), n in cells.items():
            table.loc[key, group] += int(n)
        table["total"] = segment_counts.reindex(order).fillna(0).astype(int).to_numpy()
        table.columns.name = by
        return table
    coding_counts = kind("codings").droplevel("value")
    document_counts = kind("document").groupby(level="key").size() if documents else None
    work_counts = kind("work").groupby(level="key").size() if works else None
    rows = []
    for code in codebook.walk() if level == "code" else codebook.themes():
        rows.append((code.id, code.label, codebook.theme_of(code.id),
                     len(codebook.ancestors(code.id)), int(segment_counts.get(code.id, 0)),
                     pd.NA if document_counts is None else int(document_counts.get(code.id, 0)),
                     pd.NA if work_counts is None else int(work_counts.get(code.id, 0)),
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
    frame = keyed_codings(codings, codebook, level, "compute_cooccurrence")
    order = list(codes) if codes is not None else rows_order(codebook, level)
    return cooccurrence_table(cooccurrence_counts(frame, order), order, level=level,
                              measure=measure, drop_unused=drop_unused)


def cooccurrence_counts(frame: pd.DataFrame, order: Sequence[str]) -> np.ndarray:
    """Count the segments coded with both, for every pair of ``order``.

    For one piece of keyed codings; pieces that share no segment add up.
    """
    incidence = pd.crosstab(frame["segment_id"].to_numpy(), frame["key"].to_numpy()).clip(
        upper=1).reindex(columns=list(order), fill_value=0)
    x = incidence.to_numpy(dtype=np.int64)
    return x.T @ x


def cooccurrence_table(both: np.ndarray, order: Sequence[str], *, level: Level,
                       measure: Literal["count", "jaccard"], drop_unused: bool
                       ) -> pd.DataFrame:
    """Finish the co-occurrence table from :func:`cooccurrence_counts` (one piece, or summed)."""
    if measure not in ("count", "jaccard"):
        raise CodingError(f"compute_cooccurrence: measure {measure!r}; use 'count' or "
                          "'jaccard'")
    keep = np.diag(both) > 0 if drop_unused else np.ones(len(order), dtype=bool)
    both = both[np.ix_(keep, keep)]
    names = pd.Index([c for c, k in zip(order, keep, strict=True) if k],
                     name=level if level == "theme" else "code_id")
    if measure == "count":
        return pd.DataFrame(both, index=names, columns=names.rename(None))
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
    order = {k: i for i, k in enumerate(rows_order(codebook, level))}
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
