"""Shared column contracts and literal modes.

Every table that passes between modules is a :class:`pandas.DataFrame` whose columns are
listed here, so that readers, writers and analyses agree on one shape.
"""

from __future__ import annotations

from typing import Final, Literal

__all__ = [
    "RECORD_COLUMNS",
    "RECORD_DTYPES",
    "FAILURE_COLUMNS",
    "DEDUP_LOG_COLUMNS",
    "DEDUP_EVIDENCE_COLUMNS",
    "DEDUP_PAIR_COLUMNS",
    "DEDUP_SOURCE_COLUMNS",
    "SOURCE_GROUPS",
    "SourceGroup",
]

#: Columns of the records table returned by every reader and by ``load_corpus``, in order.
#: ``database`` names where a record came from: the database or tool recognised from the
#: file's content (``"scopus"``, ``"wos"``, ``"pubmed"``, ``"embase/ovid"``, ``"zotero"``,
#: ...), else the format (``"bibtex"``, ``"ris"``, ``"csv"``, ``"endnote-xml"``, ...).
RECORD_COLUMNS: Final[tuple[str, ...]] = (
    "record_id",
    "entry_type",
    "source_type",
    "source_group",
    "title",
    "authors",
    "year",
    "month",
    "venue",
    "publisher",
    "volume",
    "issue",
    "pages",
    "doi",
    "url",
    "abstract",
    "keywords",
    "note",
    "extra",
    "database",
    "source_file",
    "source_line",
)

#: pandas dtype of each record column. ``object`` columns hold ``str``/``tuple`` or ``None``;
#: string columns use the nullable ``string`` dtype so that missing is ``<NA>``.
RECORD_DTYPES: Final[dict[str, str]] = {
    "record_id": "string",
    "entry_type": "string",
    "source_type": "string",
    "source_group": "string",
    "title": "string",
    "authors": "object",
    "year": "Int64",
    "month": "Int64",
    "venue": "string",
    "publisher": "string",
    "volume": "string",
    "issue": "string",
    "pages": "string",
    "doi": "string",
    "url": "string",
    "abstract": "string",
    "keywords": "object",
    "note": "string",
    "extra": "object",
    "database": "string",
    "source_file": "string",
    "source_line": "Int64",
}

#: Columns of :meth:`toolkit.corpus.LoadResult.failures_frame`.
FAILURE_COLUMNS: Final[tuple[str, ...]] = ("source_file", "line", "kind", "reason", "raw")

#: Columns that describe how two records compare, shared by the de-duplication log, its
#: pairs table and the review sheet (see :class:`toolkit.corpus.DedupResult`).
DEDUP_EVIDENCE_COLUMNS: Final[tuple[str, ...]] = (
    "evidence",
    "title_match",
    "doi_match",
    "first_author_match",
    "author_overlap",
    "year_diff",
    "venue_match",
    "volume_match",
    "issue_match",
    "pages_match",
    "abstract_score",
)

#: Columns of the de-duplication decision log: one row per absorbed record.
DEDUP_LOG_COLUMNS: Final[tuple[str, ...]] = (
    "kept_id",
    "removed_id",
    "rule",
    "score",
    "matched_id",
    "filled_fields",
    "kept_title",
    "removed_title",
    "kept_source",
    "removed_source",
    "decided_by",
    "removed_database",
    *DEDUP_EVIDENCE_COLUMNS,
)

#: Columns of the de-duplication pairs table: one row per pair of records compared.
DEDUP_PAIR_COLUMNS: Final[tuple[str, ...]] = (
    "record_id_1",
    "record_id_2",
    "decision",
    "rule",
    "reason",
    "decided_by",
    "merged",
    "score",
    *DEDUP_EVIDENCE_COLUMNS,
)

#: Columns of the de-duplication sources table: one row per input record.
DEDUP_SOURCE_COLUMNS: Final[tuple[str, ...]] = (
    "kept_id",
    "source_record_id",
    "source_file",
    "source_line",
    "database",
    "rule",
)

SourceGroup = Literal["academic", "industry", "policy"]

#: The coarse source groups the seed review triangulates across.
SOURCE_GROUPS: Final[tuple[str, ...]] = ("academic", "industry", "policy")
