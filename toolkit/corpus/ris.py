"""Read RIS files: every tag, every value, every record, with its line.

The text is split by the shared TAG-value splitter (:mod:`toolkit.corpus._tagged`), which
keeps every value of every tag. Tags map to columns by :data:`RIS_COLUMNS`; a second value
of a column's tag stays in ``extra`` under the column's BibTeX name (a second abstract as
``abstract``, a second DOI as ``doi``); tags with a BibTeX counterpart get its name
(``LA`` -> ``language``, ``SN`` -> ``issn``/``isbn``, ``A2`` -> ``editor``); any other tag is
kept as ``ris_<tag>`` (``ris_c3``, ``ris_l2``) with all its values.

A record whose ``TY`` line is missing is a failure (kind ``missing_start``) with its raw
text, not glued onto the record before it. A last record without ``ER`` is kept, with a
warning.
"""

from __future__ import annotations

import re
from dataclasses import replace
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
from toolkit.corpus._database import combine, database_from_urls, database_name
from toolkit.corpus._schema import (
    LoadResult,
    LoadWarning,
    doi_from_url,
    normalise_pages,
    source_group_for,
    source_type_for,
    split_doi,
    split_keywords,
)
from toolkit.corpus._tagged import TagFields, TagFormat
from toolkit.corpus._tagread import (
    TagReader,
    accounting,
    parse_tagged,
    rename_duplicates,
    stray_failures,
)
from toolkit.corpus._text import DecodedText, read_text

__all__ = ["read_ris", "parse_ris_string", "RIS_ENTRY_TYPES", "ENTRY_RIS_TYPES",
           "RIS_FORMAT", "EXTRA_TAGS", "ris_tag_for", "stray_failures", "rename_duplicates",
           "accounting"]

#: RIS reference types and the BibTeX-vocabulary entry type they become.
RIS_ENTRY_TYPES: dict[str, str] = {
    "JOUR": "article", "JFULL": "article", "EJOUR": "article", "MGZN": "article",
    "NEWS": "article", "ABST": "article", "INPR": "article", "SER": "article",
    "BOOK": "book", "EBOOK": "book", "EDBOOK": "book", "WHOLE": "book",
    "CHAP": "incollection", "ECHAP": "incollection",
    "CONF": "inproceedings", "CPAPER": "inproceedings",
    "THES": "phdthesis",
    "RPRT": "techreport", "GOVDOC": "techreport", "STAND": "techreport",
    "GEN": "misc", "ELEC": "misc", "WEB": "misc", "BLOG": "misc", "UNPB": "unpublished",
}
#: The RIS type written for each entry type (first one listed above wins).
ENTRY_RIS_TYPES: dict[str, str] = {}
for _ris, _entry in RIS_ENTRY_TYPES.items():
    ENTRY_RIS_TYPES.setdefault(_entry, _ris)
ENTRY_RIS_TYPES.update({"mastersthesis": "THES", "thesis": "THES", "report": "RPRT",
                        "conference": "CONF", "inbook": "CHAP", "online": "ELEC",
                        "booklet": "BOOK", "manual": "RPRT", "proceedings": "CONF"})

#: RIS tags with a BibTeX counterpart: kept in ``extra`` under that name, written back to
#: this tag. ``SN`` becomes ``issn`` or ``isbn`` by the shape of the value.
EXTRA_TAGS: dict[str, str] = {
    "LA": "language", "A2": "editor", "ED": "editor", "CY": "address", "ET": "edition",
    "T3": "series", "ST": "shorttitle", "Y2": "urldate", "RN": "annote",
    "AD": "affiliation", "DA": "date",
}
_NAME_TAGS = {"language": "LA", "editor": "A2", "address": "CY", "edition": "ET",
              "series": "T3", "shorttitle": "ST", "urldate": "Y2", "annote": "RN",
              "affiliation": "AD", "date": "DA", "issn": "SN", "isbn": "SN",
              "abstract": "AB", "doi": "DO", "url": "UR", "note": "N1", "title": "TI"}

RIS_FORMAT = TagFormat(
    name="RIS",
    tag_line=re.compile(r"^([A-Z][A-Z0-9])  -(?: (.*))?$"),
    start="TY",
    end="ER",
    per_line=frozenset({"KW", "AU", "A1", "A2", "A3", "A4", "ED", "UR", "L1", "L2", "L3",
                        "L4", "LK"}),
    numbering=re.compile(r"^\s*\d+\.\s*$"),
)
_VENUE_TAGS = ("T2", "JF", "JO", "J2", "JA", "J1")
_URL_SPLIT = re.compile(r";\s*(?=https?://)")
_SLR_FIELD = re.compile(r"^slr:([^\s=]+) = (.*)$", re.S)
_SLR_COLUMNS = ("entry_type", "source_type", "source_group")
_ISSN = re.compile(r"^\s*\d{4}-?\d{3}[\dXx]\b")


def ris_tag_for(name: str) -> str | None:
    """Return the RIS tag that carries ``extra`` field ``name``, or ``None`` (``N1 slr:``).

    Examples
    --------
    >>> ris_tag_for("language"), ris_tag_for("ris_c3"), ris_tag_for("owner")
    ('LA', 'C3', None)
    """
    if name in _NAME_TAGS:
        return _NAME_TAGS[name]
    match = re.fullmatch(r"ris_([a-z][a-z0-9])", name)
    return match.group(1).upper() if match else None


def _isbn(value: str) -> bool:
    digits = re.sub(r"[^0-9Xx]", "", value.split("(")[0])
    return not _ISSN.match(value) and len(digits) in (10, 13)


def _row(fields: TagFields, source: str, line: int, notes: list[str]) -> dict[str, Any]:
    extras = Extras()
    row: dict[str, Any] = {"source_file": source, "source_line": line}
    ris_type = (fields.first("TY")[0] or "GEN").strip().upper()
    entry_type = RIS_ENTRY_TYPES.get(ris_type, "misc")
    if ENTRY_RIS_TYPES.get(entry_type) != ris_type:
        extras.add("ris_ty", ris_type)

    title, _ = fields.first("TI", "T1", "CT", *(("BT",) if entry_type == "book" else ()))
    row["title"] = clean_title(title)
    row["authors"] = tuple(dict.fromkeys(
        text for value in fields.take("AU", "A1") if (text := text_or_none(value))))

    year = month = None
    for tag in ("PY", "Y1"):
        for value in fields.take(tag):
            y, m, more = date_parts(value)
            if year is None and (y is not None or (m is not None and month is None)):
                year, month = y, month or m
                if more:
                    extras.add(f"ris_{tag.lower()}", value)
            else:
                extras.add(f"ris_{tag.lower()}", value)
    for value in fields.take("DA"):
        y, m, more = date_parts(value)
        if month is None and m is not None and (y is None or year is None or y == year):
            month = m
        if year is None and y is not None:
            year = y
        if more or (y is not None and y != year) or (m is not None and m != month):
            extras.add("date", value)
    row["year"], row["month"] = year, month

    venue, _ = fields.first(*_VENUE_TAGS, *(("BT",) if entry_type not in ("book",)
                                                    else ()))
    row["venue"] = text_or_none(venue)
    row["publisher"] = text_or_none(fields.first("PB", "PU")[0])
    row["volume"] = text_or_none(fields.first("VL")[0])
    row["issue"] = text_or_none(fields.first("IS")[0])
    start, end = text_or_none(fields.first("SP")[0]), text_or_none(fields.first("EP")[0])
    row["pages"] = normalise_pages(f"{start}-{end}" if start and end else (start or end))

    add_doi(row, extras, fields.take("DO"), notes)
    urls: list[str] = []
    for value in fields.take("UR"):
        urls.extend(u.strip() for u in _URL_SPLIT.split(value) if u.strip())
    row["url"] = urls[0] if urls else None
    for url in urls[1:]:
        extras.add("url", url)
    links = {tag: fields.peek(tag) for tag in ("L1", "L2", "L3", "L4", "LK")}
    if row.get("doi") is None:
        for value in links["L3"]:
            dois, leftover = split_doi(value)
            if dois and not leftover:
                row["doi"] = dois[0]
                fields.remove("L3", value)
                break
    if row.get("doi") is None:
        row["doi"] = next((d for u in [*urls, *sum(links.values(), [])]
                           if (d := doi_from_url(u))), None)

    for value in fields.take("AB", "N2"):
        add_abstract(row, extras, value)
    keywords: list[str] = []
    for value in fields.take("KW"):
        keywords.extend(split_keywords(value, ";"))
    row["keywords"] = tuple(dict.fromkeys(keywords))
    columns: dict[str, str] = {}
    for value in fields.take("N1"):
        slr = _SLR_FIELD.match(value.strip())
        if slr and slr.group(1) in _SLR_COLUMNS:
            columns[slr.group(1)] = slr.group(2).strip()
        elif slr:
            extras.add(slr.group(1), slr.group(2))
        elif row.get("note") is None and text_or_none(value):
            row["note"] = text_or_none(value)
        else:
            extras.add("note", value)
    for value in fields.take("SN"):
        extras.add("isbn" if _isbn(value) else "issn", value)

    record_id = text_or_none(fields.first("ID")[0])
    database, platform = database_from_urls([*urls, *sum(links.values(), [])])
    for tag in ("DB", "DP"):
        for value in fields.peek(tag):
            found, host = database_name(value)
            database, platform = database or found, platform or host
    accession = " ".join(fields.peek("AN")).lower()
    if accession.startswith("wos:"):
        database = database or "wos"
    elif accession.startswith("rayyan-"):
        database = database or "rayyan"

    for tag, value in fields.rest():
        name = EXTRA_TAGS.get(tag, f"ris_{tag.lower()}" if tag else "ris_text")
        if tag in _VENUE_TAGS or tag == "BT":
            name = f"ris_{tag.lower()}"
        elif tag in ("TI", "T1", "CT"):
            name = "title"
        elif tag in ("PB", "VL", "IS", "SP", "EP", "ID"):
            name = f"ris_{tag.lower()}"
        extras.add(name, value)
    row["record_id"] = record_id
    entry_type = columns.get("entry_type", entry_type)
    row["entry_type"] = entry_type
    row["source_type"] = source_type_for(entry_type, columns.get("source_type"))
    row["source_group"] = source_group_for(row["source_type"], columns.get("source_group"))
    row["extra"] = sort_extras(extras)
    row["database"] = combine(database, platform, "ris")
    return row


def parse_ris_string(text: str, source_file: str = "<string>", *,
                     workers: int | None = 1) -> LoadResult:
    """Parse RIS text; see :func:`read_ris`.

    Examples
    --------
    >>> result = parse_ris_string("TY  - JOUR\\nTI  - A title\\nAU  - Doe, Jane\\nPY  - 2021")
    >>> result.records.loc[0, "title"], int(result.records.loc[0, "year"]), len(result.warnings)
    ('A title', 2021, 1)
    """
    return parse_tagged(text, source_file, READER, workers=workers)


READER = TagReader(
    module=__name__, fmt=RIS_FORMAT, row=_row,
    missing_start="tag lines closed by ER but not opened by a TY line; add 'TY  - JOUR' (or "
    "the right type) before them",
    outside="text outside any TY ... ER record")


def with_encoding_warning(result: LoadResult, path: Path, decoded: DecodedText) -> LoadResult:
    """Prepend an ``encoding`` warning to ``result`` when ``decoded`` fell back to cp1252."""
    if not decoded.fallback:
        return result
    warning = LoadWarning(str(path), None, "encoding", decoded.problem)
    return replace(result, warnings=(warning, *result.warnings))


def read_ris(path: str | Path, *, encoding: str | None = None,
             workers: int | None = None) -> LoadResult:
    """Read one RIS file into records and failures.

    Parameters
    ----------
    path : str or Path
        A ``.ris`` file (or a ``.txt`` export in RIS tags).
    encoding : str, optional
        Force a codec; see :func:`toolkit.corpus.read_bibtex`.
    workers : int, optional
        Processes to read with (default one: faster here than several, see
        :mod:`toolkit.corpus._tagread`).

    Returns
    -------
    LoadResult
        ``record_id`` is the ``ID`` tag where present, else ``familyYEARword``; the line is
        the one of the ``TY`` tag. RIS types map to BibTeX vocabulary (``JOUR`` ->
        ``article``); a type that does not map back exactly is kept in ``extra`` as
        ``ris_ty``.

    Raises
    ------
    CorpusInputError
        When the file cannot be read or decoded.
    """
    path = Path(path)
    decoded = read_text(path, encoding)
    result = parse_ris_string(decoded.text, str(path), workers=workers)
    return with_encoding_warning(result, path, decoded)
