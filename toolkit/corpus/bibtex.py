"""Read BibTeX files through the bibtexparser v2 API.

bibtexparser splits the file into blocks and keeps the ones it cannot parse as
``failed_blocks`` with their line numbers; this module turns its blocks into records and
failures, and adds what a review corpus needs on top: ``@string`` macros with ``#``
concatenation, month macros, ``crossref`` inheritance, LaTeX to Unicode, and names as
``"Family, Given"``.

Duplicate citation keys: **both records are kept**; the second (third, ...) is renamed
``<key>-2`` (``-3``, ...) and a :class:`~toolkit.corpus.LoadWarning` of kind
``duplicate_key`` names the original key and both lines.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import bibtexparser
import pandas as pd
from bibtexparser import model
from bibtexparser.middlewares.names import (
    InvalidNameError,
    parse_single_name_into_parts,
    split_multiple_persons_names,
)

from toolkit._log import quiet_logger
from toolkit.corpus._latex import UnknownMacroError, latex_to_unicode, resolve_value, strip_braces
from toolkit.corpus._schema import (
    LoadFailure,
    LoadResult,
    LoadWarning,
    make_record_id,
    normalise_doi,
    normalise_month,
    normalise_pages,
    records_frame,
    source_group_for,
    source_type_for,
    split_keywords,
)
from toolkit.corpus._text import read_text

__all__ = ["read_bibtex", "parse_bibtex_string", "format_name", "FIELD_COLUMNS"]

#: Which BibTeX fields feed which record column, first present wins; the others go to
#: ``extra``.
FIELD_COLUMNS: dict[str, tuple[str, ...]] = {
    "title": ("title",),
    "venue": ("journal", "journaltitle", "booktitle", "series", "howpublished"),
    "publisher": ("publisher", "institution", "school", "organization"),
    "volume": ("volume",),
    "issue": ("number", "issue"),
    "pages": ("pages",),
    "doi": ("doi",),
    "url": ("url",),
    "abstract": ("abstract",),
    "keywords": ("keywords", "keyword"),
    "note": ("note",),
    "year": ("year", "date"),
    "month": ("month",),
    "source_type": ("sourcetype",),
    "source_group": ("sourcegroup",),
}
#: Venue fields by entry type, where the type fixes which field names the venue.
VENUE_FIELDS: dict[str, tuple[str, ...]] = {
    "article": ("journal", "journaltitle"),
    "incollection": ("booktitle",),
    "inproceedings": ("booktitle",),
    "inbook": ("booktitle",),
    "conference": ("booktitle",),
    "book": ("series",),
    "misc": ("howpublished",),
}
_NAME_FIELDS = ("author", "editor")
_VERBATIM = {"url", "doi", "file", "eprint"}
_URL_IN_TEXT = re.compile(r"\\url\{([^}]*)\}")
_ENTRYISH = re.compile(r"^\s*@\s*\w+\s*[{(]", re.M)


def format_name(raw: str) -> str:
    """Format one BibTeX name as ``"von Last, Jr, First"`` in Unicode.

    Institutional names in braces stay whole.

    Examples
    --------
    >>> format_name(r"J{\\"o}rg M{\\"u}ller"), format_name("{World Bank}")
    ('Müller, Jörg', 'World Bank')
    >>> format_name("van der Berg, Jan")
    'van der Berg, Jan'
    """
    try:
        parts = parse_single_name_into_parts(raw, strict=False)
    except InvalidNameError:
        return latex_to_unicode(raw)
    family = " ".join(parts.von + parts.last)
    pieces = [family]
    if parts.jr:
        pieces.append(" ".join(parts.jr))
    if parts.first:
        pieces.append(" ".join(parts.first))
    return ", ".join(latex_to_unicode(p) for p in pieces if p)


def _clean(name: str, value: str) -> str:
    if name in _VERBATIM:
        text = strip_braces(value)
        return re.sub(r"\\([_%&#~$])", r"\1", text).strip()
    return latex_to_unicode(value)


def _resolve_macros(strings: Iterable[model.String]) -> tuple[dict[str, str], list[str]]:
    macros: dict[str, str] = {}
    unknown: list[str] = []
    for string in strings:
        try:
            macros[string.key.lower()] = resolve_value(str(string.value), macros)
        except UnknownMacroError as err:
            unknown.append(f"@string {string.key} uses undefined macro {err.args[0]!r}")
            macros[string.key.lower()] = str(string.value)
    return macros, unknown


def _inherit(fields: dict[str, str], parent: Mapping[str, str]) -> None:
    """Apply BibTeX ``crossref``: missing fields come from the parent entry."""
    for key, value in parent.items():
        if key in ("crossref", "ids"):
            continue
        if key == "title" and "booktitle" not in fields:
            fields["booktitle"] = value
            continue
        fields.setdefault(key, value)


def _record(
    key: str, entry_type: str, fields: Mapping[str, str], source: str, line: int
) -> tuple[dict[str, Any], list[str]]:
    """Map resolved LaTeX fields of one entry to a record row; return notes for warnings."""
    notes: list[str] = []
    cleaned = {name: _clean(name, value) for name, value in fields.items()}
    row: dict[str, Any] = {
        "record_id": key,
        "entry_type": entry_type.lower(),
        "source_file": source,
        "source_line": line,
    }
    used: set[str] = set()
    for column, names in FIELD_COLUMNS.items():
        if column == "venue":
            names = VENUE_FIELDS.get(entry_type.lower(), names)
        for name in names:
            if cleaned.get(name):
                row[column] = cleaned[name]
                used.add(name)
                break
    for name in _NAME_FIELDS:
        if name in fields:
            people = tuple(format_name(n) for n in split_multiple_persons_names(fields[name]))
            if name == "author":
                row["authors"] = people
                used.add(name)
            else:
                cleaned[name] = " and ".join(people)
    if "url" not in row and "howpublished" in fields:
        match = _URL_IN_TEXT.search(fields["howpublished"])
        if match:
            row["url"] = match.group(1)
            if row.get("venue") == cleaned.get("howpublished"):
                row.pop("venue")
                used.add("howpublished")
    if "doi" in row:
        doi = normalise_doi(row["doi"])
        if doi is None:
            notes.append(f"doi {row['doi']!r} is not a DOI; kept in extra as doi_raw")
            cleaned["doi_raw"] = row.pop("doi")
        else:
            row["doi"] = doi
    row["pages"] = normalise_pages(row.get("pages"))
    row["keywords"] = split_keywords(row.get("keywords"))
    month = row.get("month")
    if month is not None:
        row["month"] = normalise_month(month)
        if row["month"] is None:
            notes.append(f"month {month!r} is not a month number or name; kept in extra")
            cleaned["month_raw"] = month
    row["source_type"] = source_type_for(entry_type, row.get("source_type"))
    row["source_group"] = source_group_for(row["source_type"], row.get("source_group"))
    row["extra"] = tuple(
        sorted((name, value) for name, value in cleaned.items() if name not in used and value)
    )
    return row, notes


def _reason(error: Exception) -> str:
    reason = getattr(error, "abort_reason", None) or str(error) or type(error).__name__
    return " ".join(str(reason).split())


def parse_bibtex_string(
    text: str,
    source_file: str = "<string>",
    *,
    locate: Callable[[int], tuple[str, int]] | None = None,
) -> LoadResult:
    r"""Parse BibTeX text; see :func:`read_bibtex`.

    ``locate`` maps a line of ``text`` to ``(file, line)`` when ``text`` joins several files
    (so macros and crossrefs work across them); accounting is then per file.

    Examples
    --------
    >>> result = parse_bibtex_string('@article{k, title={A {\\"U}ber}, year=2020}')
    >>> result.records.loc[0, ["record_id", "title"]].tolist()
    ['k', 'A Über']
    """
    with quiet_logger("bibtexparser", logging.CRITICAL):  # its failures come back as data
        library = bibtexparser.parse_string(text, parse_stack=[])
    failures: list[LoadFailure] = []
    warns: list[LoadWarning] = []
    strings = [
        b.ignore_error_block if isinstance(b, model.DuplicateBlockKeyBlock) else b
        for b in library.blocks
        if isinstance(b, model.String)
        or (isinstance(b, model.DuplicateBlockKeyBlock)
            and isinstance(b.ignore_error_block, model.String))
    ]
    macros, macro_problems = _resolve_macros(strings)
    for problem in macro_problems:
        warns.append(LoadWarning(source_file, None, "unknown_macro", problem))

    raw_entries: list[tuple[str, str, dict[str, str], str, int]] = []
    generated: set[str] = set()
    seen_keys: dict[str, str] = {}
    where = locate or (lambda n: (source_file, n))
    counts: dict[str, list[int]] = {}  # file -> [blocks, other]
    for block in library.blocks:
        src, line = where((block.start_line or 0) + 1)
        tally = counts.setdefault(src, [0, 0])
        tally[0] += 1
        entry: model.Entry | None = None
        if isinstance(block, model.Entry):
            entry = block
        elif isinstance(block, model.DuplicateBlockKeyBlock) and isinstance(
            block.ignore_error_block, model.String
        ):
            tally[1] += 1
            warns.append(
                LoadWarning(src, line, "duplicate_macro",
                            f"@string {block.key!r} defined again; the last definition is used")
            )
            continue
        elif isinstance(block, model.DuplicateBlockKeyBlock):
            entry = block.ignore_error_block
        elif isinstance(block, model.DuplicateFieldKeyBlock):
            entry = block.ignore_error_block
            warns.append(
                LoadWarning(
                    src, line, "duplicate_field",
                    f"entry repeats field(s) {sorted(block.duplicate_keys)}; "
                    "the first value of each is kept, the others are in the raw text",
                    entry.key if entry is not None else None,
                )
            )
        elif isinstance(block, model.ParsingFailedBlock):
            failures.append(
                LoadFailure(src, line, "parse", _reason(block.error), block.raw)
            )
            continue
        elif isinstance(block, model.ImplicitComment) and _ENTRYISH.search(block.raw):
            failures.append(
                LoadFailure(
                    src, line, "stray_entry",
                    "text that starts like an entry could not be parsed as one",
                    block.raw,
                )
            )
            continue
        else:
            tally[1] += 1
            continue
        if entry is None:  # pragma: no cover - bibtexparser always attaches the entry
            failures.append(LoadFailure(src, line, "parse", "unreadable", block.raw))
            continue
        key = entry.key.strip()
        if not key:
            title = latex_to_unicode(entry.fields_dict["title"].value) if "title" in \
                entry.fields_dict else None
            key = make_record_id((), None, title, set(seen_keys))
            generated.add(key)
            warns.append(LoadWarning(src, line, "missing_key",
                                     f"entry has no citation key; kept as {key!r}", key))
        if key in seen_keys:
            count = 2
            while f"{key}-{count}" in seen_keys:
                count += 1
            new_key = f"{key}-{count}"
            warns.append(
                LoadWarning(
                    src, line, "duplicate_key",
                    f"citation key {key!r} already used at {seen_keys[key]}; "
                    f"this entry kept as {new_key!r}",
                    new_key,
                )
            )
            key = new_key
        seen_keys[key] = f"{src}:{line}"
        fields: dict[str, str] = {}
        for fld in entry.fields:
            name = fld.key.lower()
            if name in fields:
                continue
            try:
                fields[name] = resolve_value(str(fld.value), macros)
            except UnknownMacroError as err:
                warns.append(
                    LoadWarning(
                        src, line, "unknown_macro",
                        f"field {name!r} uses undefined macro {err.args[0]!r}; kept as written",
                        key,
                    )
                )
                fields[name] = str(fld.value)
        raw_entries.append((key, entry.entry_type, fields, src, line))

    by_key = {k.lower(): f for k, _, f, _, _ in raw_entries}
    rows = []
    for key, entry_type, fields, src, line in raw_entries:
        parent_key = fields.get("crossref")
        seen = {key.lower()}
        while parent_key:
            parent = by_key.get(strip_braces(parent_key).strip().lower())
            if parent is None:
                warns.append(
                    LoadWarning(
                        src, line, "crossref",
                        f"crossref {parent_key!r} names no entry in the files read together; "
                        "fields not inherited", key,
                    )
                )
                break
            if parent_key.lower() in seen:
                warns.append(
                    LoadWarning(src, line, "crossref", "crossref cycle; stopped", key)
                )
                break
            seen.add(parent_key.lower())
            _inherit(fields, parent)
            parent_key = parent.get("crossref") if parent.get("crossref") != parent_key else None
        row, notes = _record(key, entry_type, fields, src, line)
        warns.extend(LoadWarning(src, line, "field", n, key) for n in notes)
        rows.append(row)

    accounting = []
    for src, (n_blocks, n_other) in (counts or {source_file: [0, 0]}).items():
        n_records = sum(r["source_file"] == src for r in rows)
        n_failures = sum(f.source_file == src for f in failures)
        accounting.append([src, n_blocks, n_records, n_failures, n_other])
    blocks = pd.DataFrame(
        accounting, columns=["source_file", "blocks", "records", "failures", "other"]
    )
    return LoadResult(records_frame(rows), tuple(failures), tuple(warns), blocks,
                      frozenset(generated))


def read_bibtex(path: str | Path, *, encoding: str | None = None) -> LoadResult:
    """Read one BibTeX file into records and failures.

    Parameters
    ----------
    path : str or Path
        A ``.bib`` file.
    encoding : str, optional
        Force a codec; by default BOMs, UTF-16 and UTF-8 are detected, and a file that is not
        valid UTF-8 is read as cp1252 with a warning naming the file.

    Returns
    -------
    LoadResult
        ``records`` with :data:`toolkit.types.RECORD_COLUMNS`; ``failures`` for blocks that
        did not parse (with line and raw text); ``warnings`` for renamed duplicate keys,
        unresolved crossrefs, undefined macros and encoding fallbacks.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = pathlib.Path(tempfile.mkdtemp()) / "a.bib"
    >>> _ = tmp.write_text('@string{j = "J. Tests"}\\n@article{a, journal = j, year = 2021}\\n')
    >>> read_bibtex(tmp).records.loc[0, "venue"]
    'J. Tests'
    """
    path = Path(path)
    decoded = read_text(path, encoding)
    result = parse_bibtex_string(decoded.text, str(path))
    if decoded.fallback:
        warning = LoadWarning(
            str(path), None, "encoding", "not valid UTF-8; decoded as cp1252"
        )
        return replace(result, warnings=(warning, *result.warnings))
    return result
