"""Read PubMed/MEDLINE exports (``.nbib``, MEDLINE ``.txt``): every tag kept.

PubMed writes one record per block, ``PMID-`` first, a blank line between records, tags
padded to four characters (``AU  - ``, ``PMID- ``), and long values wrapped onto lines
indented by six spaces. Repeated tags (``AU``, ``FAU``, ``AD``, ``IS``, ``MH``, ``AID``)
keep every value. The DOI comes from ``LID``/``AID`` values marked ``[doi]``; ``[pii]`` and
other identifiers stay in ``extra``. Tags with a BibTeX counterpart get its name
(``LA`` -> ``language``, ``IS`` -> ``issn``, ``AD`` -> ``affiliation``, ``MH`` -> ``mesh``),
every other tag is ``medline_<tag>``.
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
    source_group_for,
    source_type_for,
)
from toolkit.corpus._tagged import TagFields, TagFormat
from toolkit.corpus._tagread import TagReader, parse_tagged
from toolkit.corpus._text import read_text
from toolkit.corpus.ris import with_encoding_warning

__all__ = ["read_medline", "parse_medline_string", "MEDLINE_FORMAT", "MEDLINE_EXTRA_TAGS"]

MEDLINE_FORMAT = TagFormat(
    name="MEDLINE",
    tag_line=re.compile(r"^(?=.{4}-)([A-Z][A-Z0-9]{1,3}) *-(?: (.*))?$"),
    start="PMID",
    end=None,
    continuation=re.compile(r"^\s+(\S.*)$"),
)
#: MEDLINE tags kept in ``extra`` under a BibTeX-like name.
MEDLINE_EXTRA_TAGS: dict[str, str] = {
    "LA": "language", "IS": "issn", "AD": "affiliation", "MH": "mesh", "PT": "document_type",
    "TA": "journal-iso", "FED": "editor", "ED": "editor", "PMC": "pmcid", "ISBN": "isbn",
    "PB": "publisher", "PL": "address",
}
_ID = re.compile(r"^(.*\S)\s*\[([a-z-]+)\]$", re.S)
_ABBREVIATED = re.compile(r"^(\d+)-(\d+)$")


def expand_pages(pages: str | None) -> str | None:
    """Expand PubMed's abbreviated end page (``1021-7`` -> ``1021-1027``).

    Examples
    --------
    >>> expand_pages("1021-7"), expand_pages("296-302"), expand_pages("e12")
    ('1021-1027', '296-302', 'e12')
    """
    if not pages:
        return pages
    match = _ABBREVIATED.match(pages)
    if match:
        first, last = match.groups()
        if len(last) < len(first):
            full = first[:len(first) - len(last)] + last
            if int(full) >= int(first):
                return f"{first}-{full}"
    return pages


def _row(fields: TagFields, source: str, line: int, notes: list[str]) -> dict[str, Any]:
    extras = Extras()
    row: dict[str, Any] = {"source_file": source, "source_line": line, "database": "pubmed"}
    pmid = text_or_none(fields.first("PMID")[0])
    if pmid:
        extras.add("pmid", pmid)
    types = [t.strip().lower() for t in fields.peek("PT")]
    book = bool(fields.peek("BTI")) and not fields.peek("JT")
    entry_type = "incollection" if book and fields.peek("TI") else "book" if book else "article"
    if not book and types and "journal article" not in types and any(
            "book" in t for t in types):
        entry_type = "book"
    title, _ = fields.first("TI", "BTI")
    row["title"] = clean_title(title)
    full, short = fields.take("FAU"), fields.take("AU")
    row["authors"] = tuple(dict.fromkeys(t for v in (full or short) if (t := text_or_none(v))))
    if full:
        for value in short:
            extras.add("medline_au", value)
    row["venue"] = text_or_none(fields.first("JT")[0] or (fields.first("BTI")[0] if
                                                          entry_type == "incollection"
                                                          else None))
    row["volume"] = text_or_none(fields.first("VI")[0])
    row["issue"] = text_or_none(fields.first("IP")[0])
    pages = text_or_none(fields.first("PG")[0])
    row["pages"] = normalise_pages(expand_pages(pages))
    if pages and expand_pages(pages) != pages:
        extras.add("medline_pg", pages)
    date = fields.first("DP")[0]
    year, month, more = date_parts(date)
    row["year"], row["month"] = year, month
    if more:
        extras.add("medline_dp", date)
    dois: list[str] = []
    for tag in ("LID", "AID"):
        for value in fields.take(tag):
            marked = _ID.match(value.strip())
            if marked and marked.group(2) == "doi":
                dois.append(marked.group(1))
            else:
                extras.add(f"medline_{tag.lower()}", value)
    dois = list(dict.fromkeys(d.strip().lower() for d in dois))
    add_doi(row, extras, dois, notes)
    for value in fields.take("AB"):
        add_abstract(row, extras, value)
    keywords = [t for v in fields.take("OT") if (t := text_or_none(v))]
    row["keywords"] = tuple(dict.fromkeys(keywords))
    if fields.peek("PB") and not row.get("publisher"):
        row["publisher"] = text_or_none(fields.first("PB")[0])
    for tag, value in fields.rest():
        extras.add(MEDLINE_EXTRA_TAGS.get(tag, f"medline_{tag.lower()}"), value)
    record_id = f"PMID:{pmid}" if pmid else None
    row["record_id"] = record_id
    row["entry_type"] = entry_type
    row["source_type"] = source_type_for(entry_type)
    row["source_group"] = source_group_for(row["source_type"])
    row["extra"] = sort_extras(extras)
    return row


def parse_medline_string(text: str, source_file: str = "<string>", *,
                         workers: int | None = 1) -> LoadResult:
    """Parse PubMed/MEDLINE text; see :func:`read_medline`.

    Examples
    --------
    >>> text = ("PMID- 1\\nTI  - A title that\\n      wraps\\nFAU - Doe, Jane\\nDP  - 2002 Sep\\n"
    ...         "LID - 10.1000/X1 [doi]\\n")
    >>> rec = parse_medline_string(text).records.iloc[0]
    >>> rec["record_id"], rec["title"], rec["authors"], int(rec["month"]), rec["doi"]
    ('PMID:1', 'A title that wraps', ('Doe, Jane',), 9, '10.1000/x1')
    """
    return parse_tagged(text, source_file, READER, workers=workers)


READER = TagReader(
    module=__name__, fmt=MEDLINE_FORMAT, row=_row,
    missing_start="tag lines without a PMID line first", outside="text outside any PMID record",
    end_name="blank line")


def read_medline(path: str | Path, *, encoding: str | None = None,
                 workers: int | None = None) -> LoadResult:
    """Read a PubMed/MEDLINE export (``.nbib`` or MEDLINE ``.txt``) into records and failures.

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
        ``record_id`` is ``PMID:<number>``; authors are the full names (``FAU``) when
        given; ``database`` is ``"pubmed"``.

    Raises
    ------
    CorpusInputError
        When the file cannot be read or decoded.
    """
    path = Path(path)
    decoded = read_text(path, encoding)
    result = parse_medline_string(decoded.text, str(path), workers=workers)
    return with_encoding_warning(result, path, decoded)
