"""Which database found each work: the search log, the loader's files and de-duplication.

A record's ``database`` is the database its file came from: the ``database`` column when
the reader knows it, else the database the review's search log names for the file, else
the file's name. After de-duplication a work keeps every database that found it
(``databases``, a sorted tuple), so triangulating by database gives one work to each.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit.corpus import DedupResult, LoadResult

__all__ = ["assign_databases", "compute_sources", "compute_database_overlap", "found_by",
           "compute_search_table", "SOURCES_COLUMNS", "SEARCH_COLUMNS"]

#: Columns of :func:`compute_sources`: one row per input record.
SOURCES_COLUMNS = ("kept_id", "source_record_id", "source_file", "source_line", "database",
                   "rule")
#: Columns of :func:`compute_search_table`.
SEARCH_COLUMNS = ("database", "string", "date", "hits", "files", "records", "failures",
                  "note")


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value) \
        or (isinstance(value, str) and not value.strip())


def _resolved(path: Any) -> str:
    return str(Path(str(path)).resolve())


def _files_of(entry: dict[str, Any], folder: Path) -> list[str]:
    files = entry.get("files") or []
    return [_resolved(folder / f) for f in ([files] if isinstance(files, str) else files)]


def assign_databases(records: pd.DataFrame, search: Sequence[dict[str, Any]] | None,
                     folder: Path) -> pd.DataFrame:
    """Return ``records`` with a ``database`` column filled for every record.

    The search log's entry whose ``files`` hold the record's file names the database;
    otherwise a ``database`` the reader filled is kept; otherwise the file's name.
    """
    by_file = {f: str(entry["database"]) for entry in search or ()
               for f in _files_of(entry, folder)}
    given = records["database"].tolist() if "database" in records.columns \
        else [None] * len(records)
    out = []
    for source, database in zip(records["source_file"], given, strict=True):
        if not _missing(source) and _resolved(source) in by_file:
            out.append(by_file[_resolved(source)])
        elif not _missing(database):
            out.append(str(database))
        else:
            out.append(Path(str(source)).name if not _missing(source) else "unknown")
    records = records.copy()
    records["database"] = pd.array(out, dtype="string")
    return records


def compute_sources(records: pd.DataFrame, dedup: DedupResult) -> pd.DataFrame:
    """Every input record and the work it ended in (:data:`SOURCES_COLUMNS`).

    Uses the de-duplication's own ``sources`` table when it has one; otherwise rebuilds it
    from the merge log (each removed record joins the work that kept its place).

    Parameters
    ----------
    records : DataFrame
        The records given to :func:`~toolkit.corpus.deduplicate`, with ``database``.
    dedup : DedupResult
    """
    own = getattr(dedup, "sources", None)
    if isinstance(own, pd.DataFrame) and len(own):
        return own.reset_index(drop=True)
    kept_of = dict(zip(dedup.log["removed_id"], dedup.log["kept_id"], strict=True))
    rule_of = dict(zip(dedup.log["removed_id"], dedup.log["rule"], strict=True))
    ids = records["record_id"].astype(str)
    return pd.DataFrame({
        "kept_id": [kept_of.get(r, r) for r in ids],
        "source_record_id": ids.to_numpy(),
        "source_file": records["source_file"].to_numpy(),
        "source_line": records["source_line"].astype("Int64").to_numpy(),
        "database": records["database"].to_numpy(),
        "rule": [rule_of.get(r, "kept") for r in ids],
    }, columns=list(SOURCES_COLUMNS))


def found_by(sources: pd.DataFrame) -> dict[str, tuple[str, ...]]:
    """Map each kept work to the sorted databases that found it."""
    found: dict[str, set[str]] = {}
    for kept, database in zip(sources["kept_id"], sources["database"], strict=True):
        found.setdefault(str(kept), set()).add(str(database))
    return {k: tuple(sorted(v)) for k, v in found.items()}


def compute_database_overlap(sources: pd.DataFrame) -> pd.DataFrame:
    """Count works found by each pair of databases.

    Returns
    -------
    DataFrame
        Square, index and columns the databases (sorted): cell ``(a, b)`` is the number of
        works found by both; the diagonal, the works each found. The last column, ``only``,
        counts works no other database found.

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
    found = pd.crosstab(sources["kept_id"], sources["database"]).clip(upper=1)
    overlap = found.T @ found
    only = found[found.sum(axis=1) == 1].sum(axis=0)
    overlap["only"] = only.reindex(overlap.index).fillna(0).astype(int)
    overlap.index.name = "database"
    overlap.columns.name = None
    return overlap


def compute_search_table(search: Sequence[dict[str, Any]] | None, loaded: LoadResult,
                         folder: Path, records: pd.DataFrame) -> pd.DataFrame:
    """Put the search log beside what was loaded: one row per database (:data:`SEARCH_COLUMNS`).

    ``hits`` is what the database reported (from ``review.yaml``); ``records`` and
    ``failures`` are counted from the loader's per-file accounting of the database's
    files, so a difference between hits and records shows an export that was cut or
    damaged. Databases the log does not name (files loaded without an entry) get a row of
    their own with the search fields empty.
    """
    blocks = loaded.blocks.copy()
    blocks["file"] = [_resolved(f) for f in blocks["source_file"]]
    database_of = dict(zip(records["source_file"].map(_resolved), records["database"],
                           strict=True))
    rows, covered = [], set()
    for entry in search or ():
        files = _files_of(entry, folder)
        mine = blocks[blocks["file"].isin(files) | blocks["file"].map(
            lambda f, db=entry["database"]: database_of.get(f) == db)]
        covered.update(mine["file"])
        hits = entry.get("hits")
        rows.append((str(entry["database"]), entry.get("string"), _text(entry.get("date")),
                     hits, "; ".join(Path(f).name for f in mine["file"]),
                     int(mine["records"].sum()) if len(mine) else pd.NA,
                     int(mine["failures"].sum()) if len(mine) else pd.NA, entry.get("note")))
    rest = blocks[~blocks["file"].isin(covered)]
    for database, group in rest.groupby(rest["file"].map(
            lambda f: database_of.get(f, Path(f).name)), sort=True):
        rows.append((str(database), None, None, None, "; ".join(Path(f).name for f in
                                                                 group["file"]),
                     int(group["records"].sum()), int(group["failures"].sum()),
                     "not in the search log"))
    table = pd.DataFrame(rows, columns=list(SEARCH_COLUMNS))
    return table.astype({"hits": "Int64", "records": "Int64", "failures": "Int64",
                         "string": "string", "date": "string", "note": "string"})


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
