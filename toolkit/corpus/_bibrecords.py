"""BibTeX blocks to records: macros and missing commas, fields to columns, crossrefs.

:mod:`toolkit.corpus.bibtex` splits the files (in pieces, in parallel when they are
large) and joins what this module builds from each piece.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd
from bibtexparser import model

from toolkit.corpus._build import (
    Extras,
    add_abstract,
    add_doi,
    clean_title,
    date_parts,
    sort_extras,
)
from toolkit.corpus._clean import field_key
from toolkit.corpus._fastsplit import split_blocks
from toolkit.corpus._latex import (
    MacroError,
    MacroTable,
    decode_verbatim,
    latex_to_unicode,
    parse_value,
    strip_braces,
)
from toolkit.corpus._names import people
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

__all__ = ["FIELD_COLUMNS", "VENUE_FIELDS", "Chunk", "parse_chunk", "build_chunk",
           "strings_of", "split_blocks", "combine_chunks", "target_fields", "resolve_parents"]

#: Which BibTeX fields feed which record column, first present wins; the others go to
#: ``extra``.
FIELD_COLUMNS: dict[str, tuple[str, ...]] = {
    "title": ("title",),
    "venue": ("journal", "journaltitle", "booktitle", "series", "howpublished"),
    "publisher": ("publisher", "institution", "school", "organization"),
    "volume": ("volume",),
    "issue": ("number", "issue"),
    "pages": ("pages",),
    "url": ("url",),
    "abstract": ("abstract",),
    "keywords": ("author_keywords", "keywords", "keyword"),
    "note": ("note",),
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
_VERBATIM = {"url", "doi", "file", "eprint", "crossref", "ids", "pdf", "urldate"}
_URL_IN_TEXT = re.compile(r"\\url\{([^}]*)\}")
_STRAY_ENTRY = re.compile(r"^[^\S\n]*@", re.M)
_STRAY_FIELDS = re.compile(r"^[^\S\n]*[A-Za-z][\w-]*[^\S\n]*=[^\S\n]*[{\"]", re.M)
_BLOCK_START = re.compile(r"^[ \t]*@\w*[ \t]*(?=[{(])", re.M)
_STRING_START = re.compile(r"@[ \t]*string[ \t]*(?=[{(])", re.I)
_FIELD_START = re.compile(r"^\s*([^\s=,{}\"#]+)\s*=\s*", re.S)
_CROSSREF = re.compile(r"crossref\s*=\s*[{\"]?\s*([^,}\"\s]+)", re.I)

logger = logging.getLogger(__name__)


def _clean(name: str, value: str) -> str:
    if name in _VERBATIM:
        return decode_verbatim(value)
    return latex_to_unicode(value)


# --------------------------------------------------------------------------- blocks

@dataclass
class _Entry:
    """One entry after splitting and macro expansion (values still LaTeX)."""

    key: str
    entry_type: str
    fields: dict[str, str]
    duplicates: list[tuple[str, str]]
    source: str
    line: int
    raw: str


@dataclass
class Chunk:
    """What parsing one piece of text gives back (picklable, for worker processes)."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    parents: dict[str, dict[str, str]] = field(default_factory=dict)  # crossref targets seen
    failures: list[LoadFailure] = field(default_factory=list)
    warnings: list[tuple[int, LoadWarning]] = field(default_factory=list)  # row index or -1
    counts: dict[str, list[int]] = field(default_factory=dict)  # file -> [blocks, other]
    strings: list[tuple[str, str, str, int]] = field(default_factory=list)


def _reason(error: Exception) -> str:
    reason = getattr(error, "abort_reason", None) or str(error) or type(error).__name__
    return " ".join(str(reason).split())


class _Resolver:
    """Expands one entry's raw fields (macros, ``#``), recovering from missing commas."""

    def __init__(self, macros: MacroTable) -> None:
        self.macros = macros

    def fields(self, entry: model.Entry, source: str, line: int, chunk: Chunk,
               row_index: int) -> tuple[dict[str, str], list[tuple[str, str]]]:
        fields: dict[str, str] = {}
        duplicates: list[tuple[str, str]] = []
        pending = [(fld.key, str(fld.value), getattr(fld, "slr_text", None))
                   for fld in entry.fields]
        position = 0
        while position < len(pending):
            raw_name, raw_value, text = pending[position]
            position += 1
            name = field_key(raw_name)
            value = text if text is not None else self._value(
                name, raw_value, entry.key, source, line, chunk, row_index, pending, position)
            if name in fields:
                duplicates.append((name, value))
            else:
                fields[name] = value
        return fields, duplicates

    def _value(self, name: str, raw: str, key: str, source: str, line: int, chunk: Chunk,
               row_index: int, pending: list[tuple[str, str, str | None]],
               position: int) -> str:
        parts = parse_value(raw)
        if parts.trailing:
            recovered = _FIELD_START.match(parts.trailing)
            if recovered and parts.parts:
                pending.insert(position, (recovered.group(1),
                                          parts.trailing[recovered.end():], None))
                chunk.warnings.append((row_index, LoadWarning(
                    source, line, "missing_comma",
                    f"field {name!r} is followed by {recovered.group(1)!r} without a comma; "
                    "read as two fields", key)))
            else:
                chunk.warnings.append((row_index, LoadWarning(
                    source, line, "field_syntax",
                    f"field {name!r} has text after its value ({parts.trailing[:40]!r}); "
                    "kept as written", key)))
                return strip_braces(raw)
        try:
            return self.macros.expand(parts)
        except MacroError as err:
            chunk.warnings.append((row_index, LoadWarning(
                source, line, "unknown_macro",
                f"field {name!r}: macro {err.args[0]}; kept as written", key)))
            return raw.strip()


def parse_chunk(text: str, lookahead: str, source: str, offset: int,
                macro_defs: Sequence[tuple[str, str]], targets: frozenset[str],
                file_database: str, parents: Mapping[str, Mapping[str, str]]) -> Chunk:
    """Split ``text`` (lines ``offset + 1 ...`` of ``source``) and build its records.

    ``lookahead`` is the line that follows the piece (the next block's first line): with it,
    an entry left open at the end of the piece ends exactly as in one pass over the file;
    the block it starts belongs to the next piece and is dropped here.
    """
    lines = text.count("\n")
    blocks = [b for b in split_blocks(text + lookahead) if (b.start_line or 0) < lines or
              not lookahead]
    return build_chunk(blocks, source, offset, macro_defs, targets, file_database, parents)


def strings_of(blocks: Iterable[model.Block]) -> list[tuple[str, str]]:
    out = []
    for block in blocks:
        inner = block.ignore_error_block if isinstance(block, model.DuplicateBlockKeyBlock) \
            else block
        if isinstance(inner, model.String):
            out.append((inner.key, str(inner.value)))
    return out


def build_chunk(blocks: list[model.Block], source: str, offset: int,
                 macro_defs: Sequence[tuple[str, str]], targets: frozenset[str],
                 file_database: str, parents: Mapping[str, Mapping[str, str]]) -> Chunk:
    """Turn split blocks into rows, failures and warnings.

    ``parents`` are the crossref targets, their own crossrefs already applied (see
    :func:`resolve_parents`): an entry with ``crossref`` inherits from its parent here, once.
    The fields of the targets found in these blocks are returned in ``Chunk.parents`` so
    the caller can check they are the ones it resolved.
    """
    chunk = Chunk()
    macros = MacroTable(macro_defs)
    resolver = _Resolver(macros)
    tally = chunk.counts.setdefault(source, [0, 0])
    for block in blocks:
        line = offset + (block.start_line or 0) + 1
        tally[0] += 1
        if isinstance(block, model.DuplicateBlockKeyBlock):
            inner = block.ignore_error_block
            if isinstance(inner, model.String):
                block = inner
            else:
                block = inner if inner is not None else block
        if isinstance(block, model.String):
            tally[1] += 1
            chunk.strings.append((block.key, str(block.value), source, line))
            continue
        entry: model.Entry | None = None
        if isinstance(block, model.Entry):
            entry = block
        elif isinstance(block, model.DuplicateFieldKeyBlock):
            entry = block.ignore_error_block
        elif isinstance(block, model.ParsingFailedBlock):
            chunk.failures.append(LoadFailure(source, line, "parse", _reason(block.error),
                                              block.raw))
            continue
        elif isinstance(block, model.ImplicitComment) and _STRAY_ENTRY.search(block.raw):
            chunk.failures.append(LoadFailure(
                source, line, "stray_entry",
                "a line starts with '@' but is not a well-formed entry (expected "
                "'@type{key, field = {value}, ...}'); fix it or remove the '@'", block.raw))
            continue
        elif isinstance(block, model.ImplicitComment) and _STRAY_FIELDS.search(block.raw):
            chunk.failures.append(LoadFailure(
                source, line, "stray_fields",
                "field assignments outside any entry: the entry's '@type{key,' line is "
                "missing or broken", block.raw))
            continue
        else:
            tally[1] += 1
            continue
        if entry is None:  # pragma: no cover - bibtexparser always attaches the entry
            chunk.failures.append(LoadFailure(source, line, "parse", "unreadable", block.raw))
            continue
        row_index = len(chunk.rows)
        fields, duplicates = resolver.fields(entry, source, line, chunk, row_index)
        key = entry.key.strip()
        if key.lower() in targets:
            chunk.parents.setdefault(key.lower(), fields)
        own = fields
        if "crossref" in fields:
            fields = _inherited(key, fields, parents, source, line, chunk, row_index)
        item = _Entry(key, entry.entry_type.lower(), fields, duplicates, source, line, "")
        notes: list[str] = []
        row = _record(item, notes, file_database, own)
        chunk.warnings.extend((row_index, LoadWarning(source, line, "field", n, item.key))
                              for n in notes)
        if duplicates:
            chunk.warnings.append((row_index, LoadWarning(
                source, line, "duplicate_field",
                f"entry repeats field(s) {sorted({n for n, _ in duplicates})}; the first value "
                "of each is in its column, the others are in extra", item.key)))
        chunk.rows.append(row)
    return chunk


# --------------------------------------------------------------------------- records

def _target(value: str) -> str:
    return strip_braces(value).strip().lower()


def _inherited(key: str, fields: dict[str, str], parents: Mapping[str, Mapping[str, str]],
               source: str, line: int, chunk: Chunk, row_index: int) -> dict[str, str]:
    target = _target(fields["crossref"])
    if target == key.lower():
        chunk.warnings.append((row_index, LoadWarning(
            source, line, "crossref", "crossref cycle; stopped", key)))
        return fields
    parent = parents.get(target)
    if parent is None:
        chunk.warnings.append((row_index, LoadWarning(
            source, line, "crossref",
            f"crossref {fields['crossref']!r} names no entry in the files read together; "
            "fields not inherited", key)))
        return fields
    if parent.get("\0cycle") and target in parent["\0cycle"].split():
        chunk.warnings.append((row_index, LoadWarning(
            source, line, "crossref", "crossref cycle; stopped", key)))
    return _inherit(fields, parent)


def target_fields(blocks: Iterable[model.Block], targets: frozenset[str],
                  macro_defs: Sequence[tuple[str, str]]) -> dict[str, dict[str, str]]:
    """Own fields (macros expanded) of the first entry with each crossref target key."""
    resolver = _Resolver(MacroTable(macro_defs))
    scratch = Chunk()
    found: dict[str, dict[str, str]] = {}
    for block in blocks:
        entry = _entry_of(block)
        if entry is None or entry.key.strip().lower() not in targets:
            continue
        key = entry.key.strip().lower()
        if key not in found:
            found[key] = resolver.fields(entry, "", 0, scratch, -1)[0]
    return found


def _entry_of(block: model.Block) -> model.Entry | None:
    if isinstance(block, model.DuplicateBlockKeyBlock):
        block = block.ignore_error_block
    if isinstance(block, model.DuplicateFieldKeyBlock):
        block = block.ignore_error_block
    return block if isinstance(block, model.Entry) else None


def resolve_parents(raw: Mapping[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """Apply the crossrefs of the crossref targets themselves, each chain once (memoised).

    ``raw`` maps each target key (lower case) to its own fields. A chain that loops stops
    where it would repeat; the keys on a loop are recorded under the private field
    ``"\\0cycle"`` so the entries pointing into it are warned.
    """
    resolved: dict[str, dict[str, str]] = {}
    for start in raw:
        chain: list[str] = []
        current: str | None = start
        on_chain: set[str] = set()
        cycle = False
        while current is not None and current not in resolved:
            if current in on_chain:
                cycle = True
                break
            on_chain.add(current)
            chain.append(current)
            parent = raw[current].get("crossref")
            current = _target(parent) if parent and _target(parent) in raw else None
        inherited = resolved.get(current, {}) if current is not None and not cycle else {}
        for key in reversed(chain):
            own = raw[key]
            inherited = _inherit(own, inherited) if inherited else dict(own)
            if cycle:
                inherited["\0cycle"] = " ".join(chain)
            resolved[key] = inherited
    return resolved


def _inherit(fields: dict[str, str], parent: Mapping[str, str]) -> dict[str, str]:
    """Apply BibTeX ``crossref``: missing fields come from the parent entry."""
    merged = dict(fields)
    for key, value in parent.items():
        if key in ("crossref", "ids", "\0cycle"):
            continue
        if key == "title":
            merged.setdefault("booktitle", value)
            continue
        merged.setdefault(key, value)
    return merged


def _database(fields: Mapping[str, str], file_database: str) -> str:
    source = strip_braces(fields.get("source", "")).strip().lower()
    if source in ("scopus", "web of science", "pubmed", "embase"):
        return {"web of science": "wos"}.get(source, source)
    unique = strip_braces(fields.get("unique-id", "")).strip().upper()
    if unique.startswith("WOS:") or "web-of-science-categories" in fields:
        return "wos"
    if "scopus.com" in fields.get("url", ""):
        return "scopus"
    return file_database or "bibtex"


def _record(entry: _Entry, notes: list[str], file_database: str,
            own: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Map the fields of one entry (macros resolved, still LaTeX) to a record row.

    ``own`` are the entry's fields before crossref inheritance (they name its database).
    """
    entry_type, fields = entry.entry_type, entry.fields
    extras = Extras()
    row: dict[str, Any] = {
        "record_id": entry.key,
        "entry_type": entry_type,
        "source_file": entry.source,
        "source_line": entry.line,
        "database": _database(own if own is not None else fields, file_database),
    }
    cleaned: dict[str, str] = {}
    for name, value in fields.items():
        if name in _NAME_FIELDS:
            continue
        cleaned[name] = _clean(name, value)
    used: set[str] = set()
    for column, names in FIELD_COLUMNS.items():
        if column == "venue":  # the type's own venue field first, then any venue field
            names = (*VENUE_FIELDS.get(entry_type, ()), *names)
        for name in names:
            if cleaned.get(name):
                row[column] = cleaned[name]
                used.add(name)
                break
    if "author" in fields:
        row["authors"] = people(fields["author"])
    if "editor" in fields:
        for person in people(fields["editor"]):
            extras.add("editor", person)
    if "url" not in row and "howpublished" in fields:
        match = _URL_IN_TEXT.search(fields["howpublished"])
        if match:
            row["url"] = match.group(1)
            if row.get("venue") == cleaned.get("howpublished"):
                row.pop("venue")
                used.add("howpublished")
    row["title"] = clean_title(row.get("title"))
    if row.get("abstract"):
        abstract = row.pop("abstract")
        add_abstract(row, extras, abstract)
    if "doi" in cleaned:
        used.add("doi")
        add_doi(row, extras, [cleaned["doi"]], notes)
    row["pages"] = normalise_pages(row.get("pages"))
    row["keywords"] = split_keywords(row.get("keywords"))
    year = normalise_year(cleaned.get("year"))
    used.add("year")
    if cleaned.get("year") and str(year) != cleaned["year"].strip():
        extras.add("year", cleaned["year"])
    month = None
    if cleaned.get("month"):
        _, month, more = date_parts(cleaned["month"])
        used.add("month")
        if month is None or more:
            notes.append(f"month {cleaned['month']!r} is not one month number or name; kept "
                         "in extra")
            extras.add("month", cleaned["month"])
    if cleaned.get("date"):
        y, m, more = date_parts(cleaned["date"])
        year = year if year is not None else y
        month = month if month is not None else m
        used.add("date")
        if more or (y is not None and y != year) or (m is not None and m != month):
            extras.add("date", cleaned["date"])
    row["year"], row["month"] = year, month
    row["source_type"] = source_type_for(entry_type, row.get("source_type"))
    row["source_group"] = source_group_for(row["source_type"], row.get("source_group"))
    for name, value in cleaned.items():
        if name not in used:
            extras.add(name, value)
    for name, value in entry.duplicates:
        if name in _NAME_FIELDS:
            for person in people(value):
                extras.add(name, person)
        else:
            extras.add(name, _clean(name, value))
    row["extra"] = sort_extras(extras)
    return row


def combine_chunks(chunks: list[Chunk], sources: list[str]) -> LoadResult:
    rows: list[dict[str, Any]] = []
    failures: list[LoadFailure] = []
    warns: list[LoadWarning] = []
    counts: dict[str, list[int]] = {src: [0, 0] for src in sources}
    strings: list[tuple[str, str, str, int]] = []
    row_warnings: dict[int, list[LoadWarning]] = {}
    for chunk in chunks:
        base = len(rows)
        rows.extend(chunk.rows)
        failures.extend(chunk.failures)
        for index, warning in chunk.warnings:
            row_warnings.setdefault(base + index, []).append(warning)
        for src, (n_blocks, n_other) in chunk.counts.items():
            counts[src][0] += n_blocks
            counts[src][1] += n_other
        strings.extend(chunk.strings)
    seen_macros: dict[str, str] = {}
    for key, _, src, line in strings:
        if key.lower() in seen_macros:
            warns.append(LoadWarning(src, line, "duplicate_macro",
                                     f"@string {key!r} defined again (first at "
                                     f"{seen_macros[key.lower()]}); the last definition is used"))
        seen_macros[key.lower()] = f"{src}:{line}"
    ids = IdMaker(r["record_id"] for r in rows if r["record_id"])
    generated: set[str] = set()
    seen: dict[str, str] = {}
    counters: dict[str, int] = {}
    for index, row in enumerate(rows):
        key = row["record_id"]
        where = f"{row['source_file']}:{row['source_line']}"
        if not key:
            key = ids.make(row.get("authors") or (), normalise_year(row.get("year")),
                           row.get("title"))
            generated.add(key)
            row_warnings.setdefault(index, []).append(LoadWarning(
                row["source_file"], row["source_line"], "missing_key",
                f"entry has no citation key; kept as {key!r}", key))
        if key in seen:
            count = counters.get(key, 2)
            while f"{key}-{count}" in seen:
                count += 1
            counters[key] = count + 1
            new_key = f"{key}-{count}"
            row_warnings.setdefault(index, []).append(LoadWarning(
                row["source_file"], row["source_line"], "duplicate_key",
                f"citation key {key!r} already used at {seen[key]}; this entry kept as "
                f"{new_key!r}", new_key))
            key = new_key
        seen[key] = where
        row["record_id"] = key
    for index in range(len(rows)):
        for warning in row_warnings.get(index, ()):
            warns.append(replace(warning, record_id=rows[index]["record_id"]))
    failures.sort(key=lambda f: (sources.index(f.source_file), f.line or 0))
    accounting = []
    records_per_file: dict[str, int] = {}
    for row in rows:
        records_per_file[row["source_file"]] = records_per_file.get(row["source_file"], 0) + 1
    failures_per_file: dict[str, int] = {}
    for failure in failures:
        failures_per_file[failure.source_file] = failures_per_file.get(
            failure.source_file, 0) + 1
    for src in sources:
        n_blocks, n_other = counts[src]
        accounting.append([src, n_blocks, records_per_file.get(src, 0),
                           failures_per_file.get(src, 0), n_other])
    blocks = pd.DataFrame(accounting,
                          columns=["source_file", "blocks", "records", "failures", "other"])
    return LoadResult(records_frame(rows), tuple(failures), tuple(warns), blocks,
                      frozenset(generated))


