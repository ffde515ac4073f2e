"""Read CSV / TSV exports (Scopus, Web of Science, Zotero, Lens, Dimensions, PubMed, generic).

Columns are matched to record fields through synonyms, case-insensitively, so a Scopus CSV
(``Title``, ``Source title``, ``Author full names``), a Web of Science tab-delimited file
(``TI``, ``SO``, ``AF``), a Zotero CSV (``Abstract Note``, ``Manual Tags``, ``Item Type``) and
a hand-made sheet (``title``, ``journal``, ``authors``) all load into the same records
table. Every other column is kept in ``extra`` under its name in lower case
(``Correspondence Address`` -> ``correspondence_address``). A literal ``NA`` cell (R's
missing value) is missing.

Rows are found by a quote-aware scanner before the cells are split, so a quote that never
closes costs one failure at its line and the rows after it are still read, and a cell may
be of any size (Python's ``csv`` stops at 128 KiB by default).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from toolkit.corpus._build import (
    Extras,
    add_abstract,
    add_doi,
    clean_title,
    date_parts,
    sort_extras,
    text_or_none,
)
from toolkit.corpus._clean import field_key
from toolkit.corpus._database import DATABASE_NAMES, csv_database, database_name
from toolkit.corpus._schema import (
    IdMaker,
    LoadFailure,
    LoadResult,
    LoadWarning,
    normalise_month,
    normalise_pages,
    records_frame,
    source_group_for,
    source_type_for,
    split_keywords,
)
from toolkit.corpus._tagread import accounting, rename_duplicates
from toolkit.corpus._text import read_text
from toolkit.corpus.ris import RIS_ENTRY_TYPES, with_encoding_warning
from toolkit.corpus.wos import DOCUMENT_TYPES, parse_wos_string

__all__ = ["read_csv", "parse_csv_string", "parse_wos_string", "COLUMN_SYNONYMS",
           "DOCUMENT_TYPES", "ZOTERO_TYPES"]

#: Record field -> accepted column names (compared lower-case), first present wins.
COLUMN_SYNONYMS: dict[str, tuple[str, ...]] = {
    "record_id": ("record_id", "key", "citation key", "citekey", "id", "eid", "ut",
                  "accession number", "unique-id", "lens id"),
    "entry_type": ("entry_type", "entry type", "bibtex type"),
    "source_type": ("source_type", "sourcetype", "source type"),
    "source_group": ("source_group", "sourcegroup", "source group"),
    "document_type": ("document type", "dt", "type", "publication type", "type of work",
                      "type_of_reference", "ty", "item type"),
    "title": ("title", "ti", "article title", "document title", "primary title", "t1",
              "primary_title"),
    "authors": ("author full names", "af", "authors", "author", "au", "a1", "first_authors",
                "author/s"),
    "year": ("year", "py", "publication year", "pubyear", "date", "publication date", "y1",
             "publication_year"),
    "month": ("month",),
    "venue": ("source title", "so", "journal", "venue", "publication title", "journal title",
              "secondary title", "t2", "jo", "jf", "container-title", "booktitle",
              "conference name", "book title", "source", "secondary_title",
              "alternate_title3", "journal_name", "journal/book"),
    "publisher": ("publisher", "pu", "pb", "institution"),
    "volume": ("volume", "vl"),
    "issue": ("issue", "is", "number"),
    "pages": ("pages", "page range", "pp"),
    "page_start": ("page start", "bp", "start page", "sp", "start_page"),
    "page_end": ("page end", "ep", "end page", "end_page"),
    "doi": ("doi", "di", "do"),
    "url": ("link", "url", "ur"),
    "abstract": ("abstract", "ab", "n2", "abstract note"),
    "keywords": ("author keywords", "de", "keywords", "kw", "manual tags"),
    "note": ("note", "notes", "n1"),
}
#: Columns that add to ``keywords`` after the one chosen above.
MORE_KEYWORDS = ("automatic tags",)
#: Zotero item types -> BibTeX-vocabulary entry types.
ZOTERO_TYPES: dict[str, str] = {
    "journalarticle": "article", "magazinearticle": "article", "newspaperarticle": "article",
    "book": "book", "booksection": "incollection", "conferencepaper": "inproceedings",
    "thesis": "phdthesis", "report": "techreport", "webpage": "online", "blogpost": "online",
    "document": "misc", "preprint": "unpublished", "manuscript": "unpublished",
    "presentation": "misc", "dataset": "misc", "computerprogram": "misc",
}
#: Column names (lower case) kept in ``extra`` under a BibTeX name.
EXTRA_NAMES: dict[str, str] = {
    "language": "language", "language of original document": "language", "issn": "issn",
    "isbn": "isbn", "editors": "editor", "editor": "editor", "affiliations": "affiliation",
    "document type": "document_type", "item type": "document_type",
    "publication type": "document_type",
}
_AUTHOR_ID = re.compile(r"\s*\(\d+\)\s*$")
_SCOPUS_SHORT = re.compile(r"(?<=\.),\s+")
_MISSING = {"NA", "N/A", "#N/A"}


def _split_authors(value: str) -> tuple[str, ...]:
    """Split an author cell: ``;``, lines, Scopus ``Doe J., Roe A.``, or ``A B, C D and E F``.

    Examples
    --------
    >>> _split_authors("Alan Davis  , Ann Hickey and Ana Moreno")
    ('Alan Davis', 'Ann Hickey', 'Ana Moreno')
    >>> _split_authors("Doe, Jane")
    ('Doe, Jane',)
    """
    if not value.strip():
        return ()
    if ";" in value:
        names = value.split(";")
    elif "\n" in value:
        names = value.split("\n")
    elif _SCOPUS_SHORT.search(value):
        names = _SCOPUS_SHORT.split(value)
    else:
        pieces = [p for p in re.split(r",|\band\b", value) if p.strip()]
        several = len(pieces) > 1 and all(len(p.split()) >= 2 for p in pieces)
        names = pieces if several or " and " in value else [value]
    return tuple(_AUTHOR_ID.sub("", n).strip() for n in names if n.strip())


def _lookup(columns: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    """Map record fields to the columns present that can feed them, in synonym order."""
    found: dict[str, tuple[str, ...]] = {}
    for field, names in COLUMN_SYNONYMS.items():
        present = tuple(columns[name] for name in names if name in columns)
        if present:
            found[field] = present
    return found


@lru_cache(maxsize=4096)
def _extra_name(column: str) -> str:
    return EXTRA_NAMES.get(column.lower(), field_key(column))


_SPECIAL = {"keywords": MORE_KEYWORDS, "date": ("date",), "source": ("source",)}


def _special(cells: Mapping[str, str], kind: str) -> tuple[str, ...]:
    """Columns of ``cells`` (the same header for every row) that play a special part."""
    return _special_columns(tuple(cells), kind)


@lru_cache(maxsize=64)
def _special_columns(columns: tuple[str, ...], kind: str) -> tuple[str, ...]:
    return tuple(c for c in columns if c.lower() in _SPECIAL[kind])


def row_from_cells(
    cells: Mapping[str, str], lookup: Mapping[str, tuple[str, ...]], *, database: str,
    source: str, line: int, ids: IdMaker, generated: set[str], notes: list[str],
) -> dict[str, Any]:
    """Build one record row from a mapping of column name to cell text.

    Each field takes the first non-empty cell among its synonym columns; the other cells are
    kept in ``extra``.
    """
    used: set[str] = set()
    chosen: dict[str, str] = {}
    for field, columns in lookup.items():
        for column in columns:
            value = (cells.get(column) or "").strip()
            if value:
                chosen[field] = value
                if field != "document_type":
                    used.add(column)
                break

    def get(field: str) -> str:
        return chosen.get(field, "")

    extras = Extras()
    row: dict[str, Any] = {"source_file": source, "source_line": line}
    doc_type = get("document_type")
    entry_type = get("entry_type").lower() or ZOTERO_TYPES.get(doc_type.lower()) or \
        DOCUMENT_TYPES.get(doc_type.lower(), RIS_ENTRY_TYPES.get(doc_type.upper(), "misc"))
    if not doc_type and not get("entry_type"):
        entry_type = "article" if get("venue") else "misc"
    pages = get("pages")
    if not pages and (get("page_start") or get("page_end")):
        start, end = get("page_start"), get("page_end")
        pages = f"{start}-{end}" if start and end else (start or end)
    row["authors"] = _split_authors(get("authors"))
    if _AUTHOR_ID.search(get("authors").split(";")[0]):  # Scopus ids stripped: keep the cell
        author_column = next(c for c in lookup["authors"] if (cells.get(c) or "").strip())
        extras.add(field_key(author_column), get("authors"))
    year_text = get("year")
    row["year"], month, more = date_parts(year_text)
    row["month"] = normalise_month(get("month")) if get("month") else month
    row["title"] = clean_title(get("title"))
    row["venue"] = text_or_none(get("venue"))
    row["publisher"] = text_or_none(get("publisher"))
    row["volume"] = text_or_none(get("volume"))
    row["issue"] = text_or_none(get("issue"))
    row["pages"] = normalise_pages(pages)
    row["url"] = text_or_none(get("url"))
    row["note"] = text_or_none(get("note"))
    add_doi(row, extras, [get("doi")] if get("doi") else [], notes)
    add_abstract(row, extras, get("abstract"))
    keywords = list(split_keywords(get("keywords")))
    for column in _special(cells, "keywords"):
        keywords.extend(split_keywords(cells[column]))
        used.add(column)
    row["keywords"] = tuple(dict.fromkeys(keywords))
    if more or (month is not None and row["month"] != month):
        extras.add("date", year_text)
    for column in _special(cells, "date"):
        if column not in used and cells[column].strip():
            y, m, more = date_parts(cells[column])
            if row["month"] is None and m is not None and (y is None or y == row["year"]):
                row["month"] = m
            if not (more or (y is not None and y != row["year"]) or
                    (m is not None and m != row["month"])):
                used.add(column)
    if get("month") and row["month"] is None:
        extras.add("month", get("month"))
    for column, value in cells.items():
        if column in used or not column or not value or value.isspace():
            continue
        extras.add(_extra_name(column), value)
    if database == "csv":  # newer Scopus and Lens CSVs name the database in "Source"
        column = next(iter(_special(cells, "source")), None)
        if column and column not in used:
            found, _ = database_name(cells[column])
            database = found if found in DATABASE_NAMES.values() else database
    record_id = get("record_id")
    if not record_id:
        record_id = ids.make(row["authors"], row["year"], row["title"])
        generated.add(record_id)
    row["record_id"] = record_id
    row["entry_type"] = entry_type
    row["source_type"] = source_type_for(entry_type, get("source_type") or None)
    row["source_group"] = source_group_for(row["source_type"], get("source_group") or None)
    row["extra"] = sort_extras(extras)
    row["database"] = database
    return row


def _sniff_delimiter(header: str, suffix: str) -> str:
    if suffix in (".tsv", ".tab") or (suffix in (".txt", ".ciw") and "\t" in header):
        return "\t"
    counts = {d: header.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def scan_rows(text: str, delimiter: str, start: int = 0
              ) -> Iterator[tuple[int, int, int, bool]]:
    """Find the rows of delimited text, honouring quotes (RFC 4180, as Python's csv reads).

    Yields ``(start_index, end_index, newlines_in_row, closed)`` per row; ``closed`` is
    False for a row whose quoted cell never closes (then the row is just its first line,
    and scanning resumes on the next line).
    """
    size = len(text)
    field_quote = re.compile(re.escape(delimiter + '"') + "|\n")
    pos = start
    while pos < size:
        row_start = pos
        index = pos
        in_quotes = text.startswith('"', pos)
        if in_quotes:
            index += 1
        closed = True
        while True:
            if in_quotes:
                quote = text.find('"', index)
                if quote < 0:
                    closed = False
                    break
                if text.startswith('"', quote + 1):
                    index = quote + 2
                    continue
                in_quotes = False
                index = quote + 1
                continue
            mark = field_quote.search(text, index)
            if mark is None:
                index = size
                break
            if mark.group() == "\n":
                index = mark.start()
                break
            in_quotes = True
            index = mark.end()
        if not closed:
            newline = text.find("\n", row_start)
            end = size if newline < 0 else newline
            yield row_start, end, 0, False
            pos = end + 1
            continue
        yield row_start, index, text.count("\n", row_start, index), True
        pos = index + 1


@contextmanager
def _big_fields() -> Iterator[None]:
    previous = csv.field_size_limit()
    csv.field_size_limit(2**31 - 1)
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def _cells(row_text: str, delimiter: str) -> list[str]:
    return next(csv.reader([row_text], delimiter=delimiter), [])


def parse_csv_string(text: str, source_file: str = "<string>", *,
                     delimiter: str | None = None) -> LoadResult:
    """Parse delimited text with a header row; see :func:`read_csv`.

    Examples
    --------
    >>> text = "Title,Authors,Year,DOI\\nA study,Doe J.; Roe A.,2021,https://doi.org/10.1000/X\\n"
    >>> rec = parse_csv_string(text).records.iloc[0]
    >>> rec["title"], rec["authors"], rec["doi"], rec["record_id"]
    ('A study', ('Doe J.', 'Roe A.'), '10.1000/x', 'doej2021study')
    """
    with _big_fields():
        return _parse(text.lstrip("\ufeff"), source_file, delimiter)


def _parse(text: str, source_file: str, delimiter: str | None) -> LoadResult:
    failures: list[LoadFailure] = []
    warns: list[LoadWarning] = []
    rows: list[dict[str, Any]] = []
    ids = IdMaker()
    generated: set[str] = set()
    other = 0
    first_line, _, _ = text.partition("\n")
    line, offset = 1, 0
    if re.fullmatch(r"\s*sep=(.)\s*", first_line):  # Excel's delimiter hint
        delimiter = delimiter or first_line.strip()[4]
        other, line, offset = 1, 2, len(first_line) + 1
    delimiter = delimiter or _sniff_delimiter(text[offset:].partition("\n")[0],
                                              Path(source_file).suffix.lower())
    rows_iter = scan_rows(text, delimiter, offset)
    header: list[str] = []
    for start, end, newlines, closed in rows_iter:
        header_line = line
        line += newlines + 1
        if not text[start:end].strip():
            other += 1
            continue
        header = [h.strip().lstrip("\ufeff") for h in _cells(text[start:end], delimiter)]
        if not closed:
            header = []
        break
    columns = {h.lower(): h for h in header if h}
    lookup = _lookup(columns)
    if not {"title", "doi", "authors"} & lookup.keys():
        raw = text[offset:].partition("\n")[0]
        failures.append(LoadFailure(
            source_file, header_line if header else 1, "header",
            "no title, DOI or author column in the header; columns are "
            f"{header[:12]}; rename one to 'title', 'doi' or 'authors'", raw))
        return LoadResult(records_frame([]), tuple(failures), (),
                          accounting(source_file, 0, 1, other), frozenset())
    database = csv_database(columns) or "csv"
    for start, end, newlines, closed in rows_iter:
        row_line = line
        raw = text[start:end]
        if not closed:
            line += 1
            failures.append(LoadFailure(
                source_file, row_line, "bad_row",
                "a quoted cell opens on this line and never closes; the row is skipped and "
                "reading goes on at the next line", raw))
            continue
        if not raw.strip():
            line += newlines + 1
            other += 1
            continue
        values = _cells(raw, delimiter)
        if not any(v.strip() for v in values):
            line += newlines + 1
            other += 1
            continue
        if len(values) != len(header):
            if newlines:
                first = raw.partition("\n")[0]
                failures.append(LoadFailure(
                    source_file, row_line, "bad_row",
                    f"{len(values)} cells over {newlines + 1} lines where the header has "
                    f"{len(header)}; a quote is probably misplaced. This line is skipped and "
                    "reading goes on at the next line", first))
                line += 1
                rows_iter = scan_rows(text, delimiter, start + len(first) + 1)
                continue
            line += 1
            failures.append(LoadFailure(
                source_file, row_line, "bad_row",
                f"{len(values)} cells where the header has {len(header)}; check for an "
                "unquoted delimiter or a broken quote", raw))
            continue
        line += newlines + 1
        cells = {h: ("" if v.strip() in _MISSING else v) for h, v in zip(header, values,
                                                                         strict=True)}
        notes: list[str] = []
        row = row_from_cells(cells, lookup, database=database, source=source_file,
                             line=row_line, ids=ids, generated=generated, notes=notes)
        if not (row["title"] or row.get("doi") or row["authors"]):
            failures.append(LoadFailure(source_file, row_line, "empty_record",
                                        "row has no title, DOI or authors", raw))
            continue
        warns.extend(LoadWarning(source_file, row_line, "field", n, row["record_id"])
                     for n in notes)
        rows.append(row)
    rename_duplicates(rows, warns, generated)
    return LoadResult(records_frame(rows), tuple(failures), tuple(warns),
                      accounting(source_file, len(rows), len(failures), other),
                      frozenset(generated))


def read_csv(path: str | Path, *, encoding: str | None = None,
             delimiter: str | None = None) -> LoadResult:
    """Read a CSV/TSV export (or a Web of Science plain-text file) into records and failures.

    Parameters
    ----------
    path : str or Path
        ``.csv``, ``.tsv``/``.tab`` or ``.txt`` (Web of Science tab-delimited or plain text).
    encoding : str, optional
        Force a codec; see :func:`toolkit.corpus.read_bibtex`.
    delimiter : str, optional
        Force a delimiter; by default ``.tsv`` is tab and ``.csv`` is sniffed (``,``, ``;``
        or tab); an Excel ``sep=`` first line is honoured.

    Returns
    -------
    LoadResult
        ``source_line`` is the line where the row starts (quoted cells may span lines); a row
        with the wrong number of cells, an unclosed quote, or no title, DOI and authors, is
        a failure. ``database`` names the export recognised from its columns (``scopus``,
        ``wos``, ``zotero``, ``lens``, ``dimensions``, ``pubmed``, ``embase``, ``ieee``), else
        ``csv``.

    Raises
    ------
    CorpusInputError
        When the file cannot be read or decoded, or is a spreadsheet saved under a text
        suffix.
    """
    path = Path(path)
    decoded = read_text(path, encoding)
    text = decoded.text
    head = text.lstrip()[:3]
    if head.startswith(("FN ", "PT ")):
        result = parse_wos_string(text, str(path))
    else:
        result = parse_csv_string(text, str(path), delimiter=delimiter)
    return with_encoding_warning(result, path, decoded)
