"""Which database found each record: the search log beside the loader's files.

A record's ``database`` is the database its file came from: the database the review's
search log names for the file, else the ``database`` column when the reader knows it, else
the file's name. De-duplication (:func:`toolkit.corpus.deduplicate`) then keeps, for every
work, each database that found it (``databases``, a sorted tuple, and the ``sources``
table), so triangulating by database gives one work to each;
:func:`toolkit.corpus.compute_database_overlap` counts the works databases share.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit.corpus import LoadResult

__all__ = ["assign_databases", "compute_search_table", "SEARCH_COLUMNS"]

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
