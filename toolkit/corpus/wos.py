"""Read Web of Science plain-text exports (``savedrecs.txt``, ``.ciw``): every tag kept.

Records run from ``PT`` to ``ER`` between the ``FN``/``VR`` header and ``EF``. Values wrap
onto lines indented by three spaces; for the list tags (``AU``, ``AF``, ``CR``, ``C1``, ...)
each indented line is a further value, for the others it continues the text. Tags map to
columns by the table below; tags with a Web of Science BibTeX counterpart keep that name in
``extra`` (``ID`` -> ``keywords-plus``, ``CR`` -> ``cited-references``, ``WC`` ->
``web-of-science-categories``), every other tag is ``wos_<tag>`` with all its values, so a
tag this reader has never seen (``ZB``, ``ZS``, ``Z8``...) is kept like any other.

A record without ``ER`` is closed at the next ``PT`` and kept with a warning; it never
swallows the next record.
"""

from __future__ import annotations

import re
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
from toolkit.corpus._schema import (
    LoadResult,
    normalise_pages,
    normalise_year,
    source_group_for,
    source_type_for,
    split_keywords,
)
from toolkit.corpus._tagged import TagFields, TagFormat
from toolkit.corpus._tagread import TagReader, parse_tagged
from toolkit.corpus._text import read_text
from toolkit.corpus.ris import with_encoding_warning

__all__ = ["read_wos", "parse_wos_string", "WOS_FORMAT", "WOS_EXTRA_TAGS", "DOCUMENT_TYPES"]

WOS_FORMAT = TagFormat(
    name="Web of Science",
    tag_line=re.compile(r"^([A-Z][A-Z0-9])(?: (.*))?$"),
    start="PT",
    end="ER",
    continuation=re.compile(r"^\s+(.*)$"),
    per_line=frozenset({"AU", "AF", "BA", "BF", "BE", "CA", "GP", "CR", "C1"}),
    header=frozenset({"FN", "VR", "EF"}),
)
#: Web of Science tags kept in ``extra`` under the name its BibTeX export uses.
WOS_EXTRA_TAGS: dict[str, str] = {
    "LA": "language", "SN": "issn", "EI": "eissn", "BN": "isbn", "BE": "editor",
    "SE": "series", "C1": "affiliation", "ID": "keywords-plus", "CR": "cited-references",
    "NR": "number-of-cited-references", "TC": "times-cited", "WC": "web-of-science-categories",
    "SC": "research-areas", "EM": "author-email", "OI": "orcid-numbers",
    "RI": "researcherid-numbers", "FU": "funding-acknowledgement", "FX": "funding-text",
    "JI": "journal-iso", "GA": "doc-delivery-number", "PM": "pmid", "PI": "address",
    "DT": "document_type",
}
#: Bibliographic document types of database exports -> BibTeX-vocabulary entry types.
DOCUMENT_TYPES: dict[str, str] = {
    "article": "article", "review": "article", "letter": "article", "editorial": "article",
    "note": "article", "erratum": "article", "short survey": "article", "data paper": "article",
    "article in press": "article", "early access": "article", "j": "article",
    "journal article": "article", "editorial material": "article", "correction": "article",
    "conference paper": "inproceedings", "proceedings paper": "inproceedings",
    "conference review": "inproceedings", "meeting abstract": "inproceedings",
    "c": "inproceedings", "book chapter": "incollection", "chapter": "incollection",
    "book": "book", "b": "book", "book review": "article", "s": "incollection",
    "report": "techreport", "thesis": "phdthesis", "dissertation": "phdthesis",
    "p": "misc", "patent": "misc",
}
_LIST_TAGS = {"ID", "WC", "SC", "EM", "OI", "RI", "FU"}


def _row(fields: TagFields, source: str, line: int, notes: list[str]) -> dict[str, Any]:
    extras = Extras()
    row: dict[str, Any] = {"source_file": source, "source_line": line, "database": "wos"}
    pt = text_or_none(fields.first("PT")[0]) or ""
    doc_type = text_or_none(fields.peek("DT")[0] if fields.peek("DT") else None) or ""
    types = [DOCUMENT_TYPES.get(t.strip().lower()) for t in doc_type.split(";")]
    specific = [t for t in types if t and t != "article"]
    entry_type = (specific or [t for t in types if t] or [None])[0] or DOCUMENT_TYPES.get(
        pt.lower(), "misc")
    if pt:
        extras.add("wos_pt", pt)
    row["title"] = clean_title(fields.first("TI")[0])
    full, short = fields.take("AF"), fields.take("AU")
    row["authors"] = tuple(dict.fromkeys(t for v in (full or short) if (t := text_or_none(v))))
    if full:
        for value in short:
            extras.add("wos_au", value)
    row["venue"] = text_or_none(fields.first("SO")[0])
    row["publisher"] = text_or_none(fields.first("PU")[0])
    row["volume"] = text_or_none(fields.first("VL")[0])
    row["issue"] = text_or_none(fields.first("IS")[0])
    start, end = text_or_none(fields.first("BP")[0]), text_or_none(fields.first("EP")[0])
    row["pages"] = normalise_pages(f"{start}-{end}" if start and end else (start or end))
    year_text = fields.first("PY")[0]
    row["year"] = normalise_year(year_text)
    if year_text and text_or_none(year_text) != str(row["year"]):
        extras.add("wos_py", year_text)
    month = None
    for value in fields.take("PD"):
        y, m, more = date_parts(value)
        if month is None and m is not None:
            month = m
            if more or (y is not None and y != row["year"]):
                extras.add("wos_pd", value)
        else:
            extras.add("wos_pd", value)
    row["month"] = month
    add_doi(row, extras, fields.take("DI", "D2"), notes)
    for value in fields.take("AB"):
        add_abstract(row, extras, value)
    keywords: list[str] = []
    for value in fields.take("DE"):
        keywords.extend(split_keywords(value, ";"))
    row["keywords"] = tuple(dict.fromkeys(keywords))
    record_id = text_or_none(fields.first("UT")[0])
    for tag, value in fields.rest():
        name = WOS_EXTRA_TAGS.get(tag, f"wos_{tag.lower()}" if tag else "wos_text")
        if tag in _LIST_TAGS:
            for item in split_keywords(value, ";"):
                extras.add(name, item)
        else:
            extras.add(name, value)
    row["record_id"] = record_id
    row["entry_type"] = entry_type
    row["source_type"] = source_type_for(entry_type)
    row["source_group"] = source_group_for(row["source_type"])
    row["extra"] = sort_extras(extras)
    return row


def parse_wos_string(text: str, source_file: str = "<string>", *,
                     workers: int | None = 1) -> LoadResult:
    """Parse a Web of Science plain-text export; see :func:`read_wos`.

    Examples
    --------
    >>> text = "FN Clarivate\\nVR 1.0\\nPT J\\nAU Doe, J\\nTI A long\\n   title\\nZB 3\\nER\\nEF"
    >>> rec = parse_wos_string(text).records.iloc[0]
    >>> rec["title"], rec["authors"], rec["extra"]
    ('A long title', ('Doe, J',), (('wos_pt', 'J'), ('wos_zb', '3')))
    """
    return parse_tagged(text, source_file, READER, workers=workers)


READER = TagReader(
    module=__name__, fmt=WOS_FORMAT, row=_row,
    missing_start="tag lines closed by ER but not opened by a PT line",
    outside="text outside any PT ... ER record")


def read_wos(path: str | Path, *, encoding: str | None = None,
             workers: int | None = None) -> LoadResult:
    """Read a Web of Science plain-text export (``.txt``, ``.ciw``) into records and failures.

    Parameters
    ----------
    path : str or Path
        The export.
    encoding : str, optional
        Force a codec; see :func:`toolkit.corpus.read_bibtex`.
    workers : int, optional
        Processes to read with (default one: faster here than several, see
        :mod:`toolkit.corpus._tagread`).

    Returns
    -------
    LoadResult
        ``record_id`` is the accession number (``UT``, ``WOS:...``); authors are the full
        names (``AF``) when given; ``database`` is ``"wos"``.

    Raises
    ------
    CorpusInputError
        When the file cannot be read or decoded.
    """
    path = Path(path)
    decoded = read_text(path, encoding)
    result = parse_wos_string(decoded.text, str(path), workers=workers)
    return with_encoding_warning(result, path, decoded)
