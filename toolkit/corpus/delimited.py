"""Read CSV / TSV exports (Scopus, Web of Science, generic) and Web of Science plain text.

Columns are matched to record fields through synonyms, case-insensitively, so a Scopus CSV
(``Title``, ``Source title``, ``Author full names``), a Web of Science tab-delimited file
(``TI``, ``SO``, ``AF``) and a hand-made sheet (``title``, ``journal``, ``authors``) all load
into the same records table. The dialect is reported in each record's ``extra`` as
``export``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
import rispy

from toolkit.corpus._schema import (
    LoadFailure,
    LoadResult,
    LoadWarning,
    make_record_id,
    normalise_doi,
    normalise_pages,
    normalise_year,
    records_frame,
    source_group_for,
    source_type_for,
    split_keywords,
)
from toolkit.corpus._text import read_text
from toolkit.corpus.ris import RIS_ENTRY_TYPES

__all__ = ["read_csv", "parse_csv_string", "parse_wos_string", "COLUMN_SYNONYMS",
           "DOCUMENT_TYPES"]

#: Record field -> accepted column names (compared lower-case), first present wins.
COLUMN_SYNONYMS: dict[str, tuple[str, ...]] = {
    "record_id": ("record_id", "key", "citation key", "citekey", "id", "eid", "ut",
                  "accession number", "unique-id"),
    "entry_type": ("entry_type", "entry type", "bibtex type"),
    "source_type": ("source_type", "sourcetype", "source type"),
    "source_group": ("source_group", "sourcegroup", "source group"),
    "document_type": ("document type", "dt", "type", "publication type", "type of work",
                      "type_of_reference", "ty"),
    "title": ("title", "ti", "article title", "document title", "primary title", "t1",
              "primary_title"),
    "authors": ("author full names", "af", "authors", "author", "au", "a1", "first_authors"),
    "year": ("year", "py", "publication year", "pubyear", "date", "publication date", "y1",
             "publication_year"),
    "venue": ("source title", "so", "journal", "venue", "publication title", "journal title",
              "secondary title", "t2", "jo", "jf", "container-title", "booktitle",
              "conference name", "book title",
              "secondary_title", "alternate_title3", "journal_name"),
    "publisher": ("publisher", "pu", "pb", "institution"),
    "volume": ("volume", "vl"),
    "issue": ("issue", "is", "number"),
    "pages": ("pages", "page range", "pp"),
    "page_start": ("page start", "bp", "start page", "sp", "start_page"),
    "page_end": ("page end", "ep", "end page", "end_page"),
    "doi": ("doi", "di", "do"),
    "url": ("link", "url", "ur"),
    "abstract": ("abstract", "ab", "n2"),
    "keywords": ("author keywords", "de", "keywords", "kw"),
    "note": ("note", "notes", "n1"),
}

#: Bibliographic document types of database exports -> BibTeX-vocabulary entry types.
DOCUMENT_TYPES: dict[str, str] = {
    "article": "article", "review": "article", "letter": "article", "editorial": "article",
    "note": "article", "erratum": "article", "short survey": "article", "data paper": "article",
    "article in press": "article", "early access": "article", "j": "article",
    "journal article": "article",
    "conference paper": "inproceedings", "proceedings paper": "inproceedings",
    "conference review": "inproceedings", "meeting abstract": "inproceedings",
    "book chapter": "incollection", "chapter": "incollection",
    "book": "book", "b": "book", "book review": "article",
    "report": "techreport", "thesis": "phdthesis", "dissertation": "phdthesis",
}

_AUTHOR_ID = re.compile(r"\s*\(\d+\)\s*$")
_SCOPUS_SHORT = re.compile(r"(?<=\.),\s+")


def _split_authors(value: str) -> tuple[str, ...]:
    """Split an author cell: ``;`` separated, else Scopus ``Doe J., Roe A.`` style."""
    if not value.strip():
        return ()
    if ";" in value:
        names = value.split(";")
    elif "\n" in value:
        names = value.split("\n")
    elif _SCOPUS_SHORT.search(value):
        names = _SCOPUS_SHORT.split(value)
    else:
        names = [value]
    return tuple(_AUTHOR_ID.sub("", n).strip() for n in names if n.strip())


def _lookup(columns: Mapping[str, str]) -> dict[str, str]:
    """Map record fields to the actual column names present (lower-cased keys)."""
    found: dict[str, str] = {}
    for field, names in COLUMN_SYNONYMS.items():
        for name in names:
            if name in columns:
                found[field] = columns[name]
                break
    return found


def _dialect(columns: Mapping[str, str]) -> str:
    if "eid" in columns and "source title" in columns:
        return "scopus"
    if "ut" in columns and "pt" in columns:
        return "wos"
    return "generic"


def row_from_cells(
    cells: Mapping[str, str], lookup: Mapping[str, str], *, dialect: str, source: str,
    line: int, taken: set[str], generated: set[str],
) -> dict[str, Any]:
    """Build one record row from a mapping of column name to cell text."""
    def get(field: str) -> str:
        column = lookup.get(field)
        return (cells.get(column) or "").strip() if column else ""

    doc_type = get("document_type")
    entry_type = get("entry_type").lower() or DOCUMENT_TYPES.get(
        doc_type.lower(), RIS_ENTRY_TYPES.get(doc_type.upper(), "misc"))
    if not doc_type and not get("entry_type"):
        entry_type = "article" if get("venue") else "misc"
    pages = get("pages")
    if not pages and (get("page_start") or get("page_end")):
        start, end = get("page_start"), get("page_end")
        pages = f"{start}-{end}" if start and end and start != end else (start or end)
    authors = _split_authors(get("authors"))
    year = normalise_year(get("year"))
    title = " ".join(get("title").split()) or None
    used = set(lookup.values())
    extra = [("export", dialect)]
    if doc_type:
        extra.append(("document_type", doc_type))
    extra.extend(
        (column, value.strip()) for column, value in cells.items()
        if column not in used and value and value.strip() and column
    )
    source_type = source_type_for(entry_type, get("source_type") or None)
    record_id = get("record_id")
    if not record_id:
        record_id = make_record_id(authors, year, title, taken)
        generated.add(record_id)
    return {
        "record_id": record_id,
        "entry_type": entry_type,
        "source_type": source_type,
        "source_group": source_group_for(source_type, get("source_group") or None),
        "title": title,
        "authors": authors,
        "year": year,
        "venue": get("venue"),
        "publisher": get("publisher"),
        "volume": get("volume"),
        "issue": get("issue"),
        "pages": normalise_pages(pages),
        "doi": normalise_doi(get("doi")),
        "url": get("url"),
        "abstract": get("abstract"),
        "keywords": split_keywords(get("keywords")),
        "note": get("note"),
        "extra": tuple(sorted(extra)),
        "source_file": source,
        "source_line": line,
    }


def _sniff_delimiter(text: str, suffix: str) -> str:
    if suffix in (".tsv", ".tab") or (suffix == ".txt" and "\t" in text.split("\n", 1)[0]):
        return "\t"
    header = text.split("\n", 1)[0]
    counts = {d: header.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


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
    delimiter = delimiter or _sniff_delimiter(text, Path(source_file).suffix.lower())
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    raw_lines = text.split("\n")
    failures: list[LoadFailure] = []
    rows: list[dict[str, Any]] = []
    taken: set[str] = set()
    generated: set[str] = set()
    try:
        header = next(reader)
    except StopIteration:
        header = []
    header = [h.strip().lstrip("\ufeff") for h in header]
    columns = {h.lower(): h for h in header if h}
    lookup = _lookup(columns)
    dialect = _dialect(columns)
    blocks = other = 0
    if not {"title", "doi", "authors"} & lookup.keys():
        failures.append(
            LoadFailure(source_file, 1, "header",
                        "no title, DOI or author column in the header; columns are "
                        f"{header[:12]}; rename one to 'title', 'doi' or 'authors'",
                        raw_lines[0] if raw_lines else "")
        )
        blocks = 1
        return _result(source_file, rows, failures, [], blocks, other, generated)
    previous_end = reader.line_num
    while True:
        start = previous_end + 1
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as err:
            blocks += 1
            failures.append(LoadFailure(source_file, start, "bad_row", str(err),
                                        "\n".join(raw_lines[start - 1:reader.line_num])))
            previous_end = reader.line_num
            continue
        end = previous_end = reader.line_num
        blocks += 1
        raw = "\n".join(raw_lines[start - 1:end])
        if not any(v.strip() for v in values):
            other += 1
            continue
        if len(values) != len(header):
            failures.append(
                LoadFailure(source_file, start, "bad_row",
                            f"{len(values)} cells where the header has {len(header)}; "
                            "check for an unquoted delimiter or a broken quote", raw)
            )
            continue
        cells = dict(zip(header, values, strict=True))
        row = row_from_cells(cells, lookup, dialect=dialect, source=source_file, line=start,
                             taken=taken, generated=generated)
        if not (row["title"] or row["doi"] or row["authors"]):
            failures.append(LoadFailure(source_file, start, "empty_record",
                                        "row has no title, DOI or authors", raw))
            continue
        rows.append(row)
    return _result(source_file, rows, failures, [], blocks, other, generated)


def _result(source: str, rows: list[dict[str, Any]], failures: list[LoadFailure],
            warns: list[LoadWarning], blocks: int, other: int,
            generated: set[str]) -> LoadResult:
    accounting = pd.DataFrame([[source, blocks, len(rows), len(failures), other]],
                              columns=["source_file", "blocks", "records", "failures", "other"])
    return LoadResult(records_frame(rows), tuple(failures), tuple(warns), accounting,
                      frozenset(generated))


_WOS_KEYS = {key: tag for tag, key in rispy.WokParser.DEFAULT_MAPPING.items()}


def parse_wos_string(text: str, source_file: str = "<string>") -> LoadResult:
    """Parse a Web of Science plain-text export (``FN``/``PT`` ... ``ER``/``EF``).

    Each ``PT ... ER`` record is parsed with :class:`rispy.WokParser` and its tags are mapped
    with the same synonyms as the tab-delimited export.
    """
    failures: list[LoadFailure] = []
    rows: list[dict[str, Any]] = []
    taken: set[str] = set()
    generated: set[str] = set()
    blocks = other = 0
    current: list[str] = []
    start = 0
    lines = text.split("\n")
    for number, raw_line in enumerate([*lines, "ER"], start=1):
        line = raw_line.lstrip("\ufeff")
        tag = line[:2]
        if tag in ("FN", "VR", "EF") and not current:
            other += 1
            continue
        if tag == "PT" and not current:
            current, start = [line], number
            continue
        if current:
            if tag == "ER" and not line[2:].strip():
                blocks += 1
                body = "\n".join(current) + "\nER\n"
                try:
                    ref = rispy.loads(body, implementation=rispy.WokParser)[0]
                except Exception as err:  # noqa: BLE001 - rispy raises assorted errors
                    failures.append(LoadFailure(source_file, start, "parse", str(err), body))
                else:
                    cells = {_WOS_KEYS.get(k, k).lower(): "; ".join(v) if isinstance(v, list)
                             else str(v) for k, v in ref.items()}
                    lookup = _lookup({c: c for c in cells})
                    rows.append(row_from_cells(cells, lookup, dialect="wos", source=source_file,
                                               line=start, taken=taken, generated=generated))
                current = []
            else:
                current.append(line)
        elif line.strip() and number <= len(lines):
            blocks += 1
            failures.append(LoadFailure(source_file, number, "stray_text",
                                        "text outside any PT ... ER record", line))
    blocks += other
    return _result(source_file, rows, failures, [], blocks, other, generated)


def read_csv(path: str | Path, *, encoding: str | None = None,
             delimiter: str | None = None) -> LoadResult:
    """Read a CSV/TSV export or a Web of Science plain-text file into records and failures.

    Parameters
    ----------
    path : str or Path
        ``.csv``, ``.tsv`` or ``.txt`` (Web of Science tab-delimited or plain text).
    encoding : str, optional
        Force a codec; see :func:`toolkit.corpus.read_bibtex`.
    delimiter : str, optional
        Force a delimiter; by default ``.tsv`` is tab and ``.csv`` is sniffed (``,``, ``;``
        or tab).

    Returns
    -------
    LoadResult
        ``source_line`` is the line where the row starts (quoted cells may span lines); a row
        with the wrong number of cells, or with no title, DOI and authors, is a failure.
    """
    path = Path(path)
    decoded = read_text(path, encoding)
    text = decoded.text.lstrip("\ufeff")
    if text.startswith("FN ") or text.startswith("PT "):
        result = parse_wos_string(text, str(path))
    else:
        result = parse_csv_string(text, str(path), delimiter=delimiter)
    if decoded.fallback:
        warning = LoadWarning(str(path), None, "encoding", "not valid UTF-8; decoded as cp1252")
        return replace(result, warnings=(warning, *result.warnings))
    return result
