"""Read EndNote XML exports (written by EndNote, Zotero, Mendeley): every field kept.

The XML is parsed with defusedxml (no DTDs, no entity expansion, no external resources).
Each ``<record>`` becomes a record; each element that holds text (directly or in EndNote's
``<style>`` wrappers) is a field named by its path (``titles/title``,
``contributors/authors/author``, ``urls/related-urls/url``). Fields map to columns by
:data:`ENDNOTE_COLUMNS`; the others are kept in ``extra`` as ``endnote_<name>``. A file
that stops being well-formed XML keeps the records before the break, and the rest is one
failure with the line of the break.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from toolkit.corpus._build import (
    Extras,
    add_abstract,
    add_doi,
    clean_title,
    date_parts,
    sort_extras,
    text_or_none,
)
from toolkit.corpus._database import combine, database_from_urls, database_name
from toolkit.corpus._schema import (
    IdMaker,
    LoadFailure,
    LoadResult,
    LoadWarning,
    normalise_pages,
    normalise_year,
    records_frame,
    source_group_for,
    source_type_for,
    split_keywords,
)
from toolkit.corpus._tagread import accounting, rename_duplicates
from toolkit.corpus._text import read_text
from toolkit.corpus.ris import with_encoding_warning

__all__ = ["read_endnote_xml", "parse_endnote_xml_string", "ENDNOTE_TYPES",
           "ENDNOTE_COLUMNS"]

#: EndNote reference types -> BibTeX-vocabulary entry types.
ENDNOTE_TYPES: dict[str, str] = {
    "journal article": "article", "electronic article": "article",
    "magazine article": "article", "newspaper article": "article", "book": "book",
    "edited book": "book", "electronic book": "book", "book section": "incollection",
    "electronic book section": "incollection", "conference proceedings": "inproceedings",
    "conference paper": "inproceedings", "thesis": "phdthesis", "report": "techreport",
    "government document": "techreport", "web page": "online", "manuscript": "unpublished",
    "unpublished work": "unpublished", "generic": "misc",
}
#: Field path -> record column; the first present path of a column wins.
ENDNOTE_COLUMNS: dict[str, tuple[str, ...]] = {
    "title": ("titles/title",),
    "venue": ("periodical/full-title", "titles/secondary-title", "alt-periodical/full-title"),
    "publisher": ("publisher",),
    "volume": ("volume",),
    "issue": ("number", "issue"),
    "pages": ("pages",),
    "note": ("notes",),
}
_NAMES = {
    "contributors/secondary-authors/author": "editor", "titles/short-title": "shorttitle",
    "titles/tertiary-title": "series", "pub-location": "address", "language": "language",
    "research-notes": "annote", "access-date": "urldate", "edition": "edition",
    "auth-address": "affiliation",
}
_URLS = ("urls/related-urls/url", "urls/web-urls/url")
_RECORD_START = re.compile(r"<record[\s>/]")
_ENCODING_DECL = re.compile(r"^(\s*<\?xml[^>]*?)\sencoding\s*=\s*[\"'][^\"']*[\"']")
_ISSN = re.compile(r"^\s*\d{4}-?\d{3}[\dXx]\b")


def _text(element: Element) -> str:
    return "".join(element.itertext())


def _leaves(element: Element, path: str = "") -> Iterator[tuple[str, str]]:
    """(path, text) of every element holding text; ``style`` wrappers are part of the text."""
    children = [c for c in element if c.tag != "style"]
    if not children:
        yield path, _text(element)
        return
    if element.text and element.text.strip():
        yield path, element.text
    for child in children:
        yield from _leaves(child, f"{path}/{child.tag}" if path else str(child.tag))


def _row(record: Element, source: str, line: int, ids: IdMaker, generated: set[str],
         notes: list[str]) -> dict[str, Any]:
    extras = Extras()
    row: dict[str, Any] = {"source_file": source, "source_line": line}
    values: dict[str, list[str]] = {}
    for path, text in _leaves(record):
        if text_or_none(text):
            values.setdefault(path, []).append(text)
    ref_type = record.find("ref-type")
    type_name = (ref_type.get("name") if ref_type is not None else None) or "Generic"
    entry_type = ENDNOTE_TYPES.get(type_name.strip().lower(), "misc")
    extras.add("endnote_ref-type", type_name)
    app = record.find("source-app")
    app_name = (app.get("name") if app is not None else None) or ""

    def take(path: str) -> list[str]:
        return values.pop(path, [])

    for column, paths in ENDNOTE_COLUMNS.items():
        for path in paths:
            found = values.get(path)
            if found:
                row[column] = text_or_none(found.pop(0))
                break
    row["title"] = clean_title(row.get("title"))
    row["pages"] = normalise_pages(row.get("pages"))
    row["authors"] = tuple(dict.fromkeys(
        t for v in take("contributors/authors/author") if (t := text_or_none(v))))
    years = take("dates/year")
    row["year"] = normalise_year(years[0]) if years else None
    for value in years[1:]:
        extras.add("endnote_year", value)
    if years and text_or_none(years[0]) != str(row["year"]):
        extras.add("endnote_year", years[0])
    month = None
    for value in take("dates/pub-dates/date"):
        y, m, more = date_parts(value)
        if month is None and m is not None:
            month = m
        if more or m is None or m != month or (y is not None and y != row["year"]):
            extras.add("date", value)
    row["month"] = month
    add_doi(row, extras, take("electronic-resource-num"), notes,
            name="electronic-resource-num")
    for value in take("abstract"):
        add_abstract(row, extras, value)
    keywords: list[str] = []
    for value in take("keywords/keyword"):
        keywords.extend(split_keywords(value, ";") if "\n" not in value else
                        [k.strip() for k in value.split("\n") if k.strip()])
    row["keywords"] = tuple(dict.fromkeys(keywords))
    urls = [u for path in _URLS for u in take(path)]
    row["url"] = text_or_none(urls[0]) if urls else None
    for url in urls[1:]:
        extras.add("url", url)
    for value in take("isbn"):
        extras.add("issn" if _ISSN.match(value) else "isbn", value)
    database, platform = database_from_urls(urls)
    for path in ("remote-database-name", "remote-database-provider"):
        for value in values.get(path, []):
            found, host = database_name(value)
            database, platform = database or found, platform or host
    low_app = app_name.lower()
    tool = next((n for n in ("zotero", "mendeley", "endnote") if n in low_app), "")
    for path, texts in values.items():
        name = _NAMES.get(path)
        if name is None:
            name = "title" if path == "titles/title" else (
                "endnote_" + "_".join(path.split("/")[-2:]))
        for text in texts:
            extras.add(name, text)
    record_id = ids.make(row["authors"], row["year"], row["title"])
    generated.add(record_id)
    row["record_id"] = record_id
    row["entry_type"] = entry_type
    row["source_type"] = source_type_for(entry_type)
    row["source_group"] = source_group_for(row["source_type"])
    row["extra"] = sort_extras(extras)
    row["database"] = combine(database, platform, tool or "endnote-xml")
    return row


def _line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def parse_endnote_xml_string(text: str, source_file: str = "<string>") -> LoadResult:
    """Parse EndNote XML text; see :func:`read_endnote_xml`.

    Examples
    --------
    >>> xml = ('<xml><records><record><ref-type name="Journal Article">17</ref-type>'
    ...        '<contributors><authors><author><style>Doe, Jane</style></author></authors>'
    ...        '</contributors><titles><title>A study</title></titles>'
    ...        '<dates><year>2021</year></dates></record></records></xml>')
    >>> rec = parse_endnote_xml_string(xml).records.iloc[0]
    >>> rec["record_id"], rec["title"], rec["authors"], int(rec["year"]), rec["entry_type"]
    ('doe2021study', 'A study', ('Doe, Jane',), 2021, 'article')
    """
    starts = [m.start() for m in _RECORD_START.finditer(text)]
    lines = [_line_of(text, s) for s in starts]
    data = _ENCODING_DECL.sub(r"\1", text, count=1).encode("utf-8")
    rows: list[dict[str, Any]] = []
    warns: list[LoadWarning] = []
    failures: list[LoadFailure] = []
    ids = IdMaker()
    generated: set[str] = set()
    seen = 0
    try:
        for _, element in SafeET.iterparse(io.BytesIO(data), events=("end",),
                                           forbid_dtd=True):
            if element.tag != "record":
                continue
            line = lines[seen] if seen < len(lines) else None
            seen += 1
            notes: list[str] = []
            row = _row(element, source_file, line or 1, ids, generated, notes)
            warns.extend(LoadWarning(source_file, line, "field", n, row["record_id"])
                         for n in notes)
            rows.append(row)
            element.clear()
    except (ParseError, DefusedXmlException) as err:
        position = getattr(err, "position", None)
        line = position[0] if position else 1
        start = starts[seen] if seen < len(starts) else 0
        first = min(_line_of(text, start), line) if seen < len(starts) else line
        reason = (f"not well-formed EndNote XML ({err}); the records before line {first} were "
                  "read, the rest is kept here") if isinstance(err, ParseError) else (
                  f"refused unsafe XML ({type(err).__name__}: {err})")
        raw_from = start if seen < len(starts) else 0
        failures.append(LoadFailure(source_file, first, "parse", reason, text[raw_from:]))
    rename_duplicates(rows, warns, generated)
    return LoadResult(records_frame(rows), tuple(failures), tuple(warns),
                      accounting(source_file, len(rows), len(failures), 0),
                      frozenset(generated))


def read_endnote_xml(path: str | Path, *, encoding: str | None = None) -> LoadResult:
    """Read an EndNote XML export into records and failures.

    Parameters
    ----------
    path : str or Path
        The ``.xml`` export.
    encoding : str, optional
        Force a codec; see :func:`toolkit.corpus.read_bibtex`.

    Returns
    -------
    LoadResult
        ``record_id`` is derived (``familyYEARword``: EndNote has no citation keys);
        ``database`` is the remote database named in the record when there is one, else
        the tool that wrote the file (``zotero``, ``mendeley``, ``endnote``), else
        ``endnote-xml``.

    Raises
    ------
    CorpusInputError
        When the file cannot be read or decoded.
    """
    path = Path(path)
    decoded = read_text(path, encoding)
    result = parse_endnote_xml_string(decoded.text, str(path))
    return with_encoding_warning(result, path, decoded)
