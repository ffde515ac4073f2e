"""Read RIS files with rispy, one record at a time so that nothing is lost.

rispy parses a whole file and silently drops a last record that has no ``ER`` line; this
reader first splits the text into ``TY ... ER`` blocks itself, keeps records whose ``ER`` is
missing (with a warning), returns text outside any record as a failure, and hands each block
to :func:`rispy.loads`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
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
    normalise_month,
    normalise_pages,
    normalise_year,
    records_frame,
    source_group_for,
    source_type_for,
)
from toolkit.corpus._text import read_text

__all__ = ["read_ris", "parse_ris_string", "RIS_ENTRY_TYPES", "ENTRY_RIS_TYPES"]

#: RIS reference types and the BibTeX-vocabulary entry type they become.
RIS_ENTRY_TYPES: dict[str, str] = {
    "JOUR": "article", "JFULL": "article", "EJOUR": "article", "MGZN": "article",
    "NEWS": "article", "ABST": "article", "INPR": "article",
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

_TAG_LINE = re.compile(r"^([A-Z][A-Z0-9])  -(?: (.*))?$")
_KEY_TAG = {key: tag for tag, key in rispy.TAG_KEY_MAPPING.items()}
_USED = {
    "type_of_reference", "title", "primary_title", "authors", "first_authors", "year",
    "publication_year", "date", "secondary_title", "alternate_title3", "journal_name",
    "alternate_title2", "alternate_title1", "publisher", "volume", "number", "start_page",
    "end_page", "doi", "urls", "abstract", "notes_abstract", "keywords", "notes", "note",
    "id", "end_of_reference", "unknown_tag",
}


_NUMBERING = re.compile(r"^\s*\d+\.\s*$")


@dataclass
class _Block:
    line: int
    lines: list[str]
    closed: bool = False
    late_tags: list[str] = field(default_factory=list)


def _first(ref: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        value = ref.get(key)
        if value:
            return value
    return None


def _to_text(value: Any) -> str:
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return str(value)


def _row(ref: Mapping[str, Any], source: str, line: int, taken: set[str],
         generated: set[str]) -> dict[str, Any]:
    ris_type = str(ref.get("type_of_reference", "GEN")).upper()
    entry_type = RIS_ENTRY_TYPES.get(ris_type, "misc")
    authors = tuple(ref.get("authors", [])) + tuple(
        a for a in ref.get("first_authors", []) if a not in ref.get("authors", [])
    )
    title = _first(ref, "title", "primary_title")
    year = normalise_year(_first(ref, "year", "publication_year", "date"))
    month = None
    for key in ("date", "year", "publication_year"):
        parts = str(ref.get(key) or "").split("/")
        if len(parts) > 1 and normalise_month(parts[1]) is not None:
            month = normalise_month(parts[1])
            break
    start, end = ref.get("start_page"), ref.get("end_page")
    pages = f"{start}-{end}" if start and end and start != end else (start or end)
    urls = list(ref.get("urls", []))
    extra: list[tuple[str, str]] = []
    if ENTRY_RIS_TYPES.get(entry_type) != ris_type:
        extra.append(("TY", ris_type))
    extra.extend(("UR", u) for u in urls[1:])
    for key, value in ref.items():
        if key not in _USED and value:
            extra.append((_KEY_TAG.get(key, key), _to_text(value)))
    for tag, values in dict(ref.get("unknown_tag", {})).items():
        extra.extend((str(tag), str(v)) for v in values if v is not None)
    record_id = ref.get("id") or make_record_id(authors, year, title, taken)
    if not ref.get("id"):
        generated.add(record_id)
    taken.add(record_id)
    doi = ref.get("doi")
    source_type = source_type_for(entry_type)
    return {
        "record_id": record_id,
        "entry_type": entry_type,
        "source_type": source_type,
        "source_group": source_group_for(source_type),
        "title": title,
        "authors": authors,
        "year": year,
        "month": month,
        "venue": _first(ref, "secondary_title", "alternate_title3", "journal_name",
                        "alternate_title2", "alternate_title1"),
        "publisher": ref.get("publisher"),
        "volume": ref.get("volume"),
        "issue": ref.get("number"),
        "pages": normalise_pages(pages),
        "doi": normalise_doi(doi),
        "url": urls[0] if urls else None,
        "abstract": _first(ref, "abstract", "notes_abstract"),
        "keywords": tuple(ref.get("keywords", [])),
        "note": _to_text(_first(ref, "notes", "note")) if _first(ref, "notes", "note") else None,
        "extra": tuple(sorted(extra)),
        "source_file": source,
        "source_line": line,
    }


def parse_ris_string(text: str, source_file: str = "<string>") -> LoadResult:
    """Parse RIS text; see :func:`read_ris`.

    Examples
    --------
    >>> result = parse_ris_string("TY  - JOUR\\nTI  - A title\\nAU  - Doe, Jane\\nPY  - 2021")
    >>> result.records.loc[0, "title"], int(result.records.loc[0, "year"]), len(result.warnings)
    ('A title', 2021, 1)
    """
    lines = text.split("\n")
    failures: list[LoadFailure] = []
    warns: list[LoadWarning] = []
    blocks: list[_Block] = []
    stray: list[tuple[int, str]] = []
    current: _Block | None = None
    other = 0

    def flush_stray() -> None:
        if stray:
            failures.append(
                LoadFailure(
                    source_file, stray[0][0], "stray_text",
                    "text outside any TY ... ER record", "\n".join(t for _, t in stray),
                )
            )
            stray.clear()

    for number, raw_line in enumerate(lines, start=1):
        line = raw_line.lstrip("\ufeff")
        match = _TAG_LINE.match(line.rstrip())
        tag = match.group(1) if match else None
        if tag == "TY":
            flush_stray()
            current = _Block(number, [line])
            blocks.append(current)
        elif current is not None and not current.closed:
            if tag == "ER":
                current.closed = True
            else:
                current.lines.append(line)
        elif tag is not None and current is not None and not stray:
            # Some exports (Ovid) write tags after ER: they belong to that record.
            current.lines.append(line)
            current.late_tags.append(tag)
        elif _NUMBERING.match(line):
            flush_stray()
            other += 1
        elif line.strip():
            stray.append((number, line))
        else:
            flush_stray()
    flush_stray()

    rows: list[dict[str, Any]] = []
    taken: set[str] = set()
    generated: set[str] = set()
    for block in blocks:
        line_no = block.line
        body = "\n".join(block.lines) + "\nER  - "
        try:
            refs = rispy.loads(body)
        except Exception as err:  # rispy raises IOError/KeyError/ValueError  # noqa: BLE001
            failures.append(LoadFailure(source_file, line_no, "parse", str(err), body))
            continue
        if len(refs) != 1:
            failures.append(
                LoadFailure(source_file, line_no, "parse",
                            f"expected one record, rispy read {len(refs)}", body)
            )
            continue
        row = _row(refs[0], source_file, line_no, taken, generated)
        if block.late_tags:
            warns.append(
                LoadWarning(source_file, line_no, "late_tags",
                            f"tag(s) {sorted(set(block.late_tags))} after ER attached to "
                            "this record", row["record_id"])
            )
        if not block.closed:
            warns.append(
                LoadWarning(source_file, line_no, "missing_er",
                            "record not closed by an ER line; kept up to the next TY or the "
                            "end of the file", row["record_id"])
            )
        rows.append(row)
    failures.sort(key=lambda f: f.line or 0)
    accounting = pd.DataFrame(
        [[source_file, len(blocks) + sum(f.kind == "stray_text" for f in failures) + other,
          len(rows), len(failures), other]],
        columns=["source_file", "blocks", "records", "failures", "other"],
    )
    return LoadResult(records_frame(rows), tuple(failures), tuple(warns), accounting,
                      frozenset(generated))


def read_ris(path: str | Path, *, encoding: str | None = None) -> LoadResult:
    """Read one RIS file into records and failures.

    Parameters
    ----------
    path : str or Path
        A ``.ris`` file (also ``.txt`` / ``.nbib`` exports in RIS tags).
    encoding : str, optional
        Force a codec; see :func:`toolkit.corpus.read_bibtex`.

    Returns
    -------
    LoadResult
        ``record_id`` is the ``ID`` tag where present, else ``familyYEARword``; the line is
        the one of the ``TY`` tag. RIS types map to BibTeX vocabulary (``JOUR`` ->
        ``article``); a type that does not map back exactly is kept in ``extra`` as ``TY``.
    """
    path = Path(path)
    decoded = read_text(path, encoding)
    result = parse_ris_string(decoded.text, str(path))
    if decoded.fallback:
        warning = LoadWarning(str(path), None, "encoding", "not valid UTF-8; decoded as cp1252")
        return replace(result, warnings=(warning, *result.warnings))
    return result
