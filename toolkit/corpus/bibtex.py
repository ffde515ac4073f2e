"""Read BibTeX files: bibtexparser v2 splits, this module turns blocks into records.

bibtexparser's splitter cuts the text into blocks and keeps the ones it cannot parse (with
their line numbers); on top, this reader adds what a review corpus needs: ``@string``
macros (expanded lazily, size-capped) with ``#`` concatenation, month macros, ``crossref``
inheritance across every file read together, LaTeX to Unicode, names as
``"Family, Given"``, recovery of a field after a missing comma, and failures for text that
starts like an entry but is not one (``@article k, ...`` or ``@\\x00article{...}``).

Duplicate citation keys: **both records are kept**; the second (third, ...) is renamed
``<key>-2`` (``-3``, ...) and a :class:`~toolkit.corpus.LoadWarning` of kind
``duplicate_key`` names the original key and both lines. A repeated field keeps its first
value in the column and the others in ``extra``.

Large inputs are parsed in parallel: the text is cut at lines that start a block (where
bibtexparser itself always starts one), each piece is split and decoded in its own process,
and the pieces are joined in order, so the result is the same as one pass.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd
from bibtexparser import model
from bibtexparser.middlewares.names import (
    InvalidNameError,
    parse_single_name_into_parts,
    split_multiple_persons_names,
)
from bibtexparser.splitter import Splitter

from toolkit._log import quiet_logger
from toolkit.corpus._build import (
    Extras,
    add_abstract,
    add_doi,
    clean_title,
    date_parts,
    sort_extras,
)
from toolkit.corpus._database import bibtex_file_database
from toolkit.corpus._latex import (
    MacroError,
    MacroTable,
    decode_verbatim,
    latex_to_unicode,
    parse_value,
    strip_braces,
)
from toolkit.corpus._schema import (
    IdMaker,
    LoadFailure,
    LoadResult,
    LoadWarning,
    field_key,
    normalise_pages,
    normalise_year,
    records_frame,
    source_group_for,
    source_type_for,
    split_keywords,
)
from toolkit.corpus._text import read_text

__all__ = ["read_bibtex", "read_bibtex_files", "parse_bibtex_string", "format_name",
           "FIELD_COLUMNS", "PARALLEL_MIN_CHARS"]

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
#: Texts longer than this (in characters) are parsed by several processes.
PARALLEL_MIN_CHARS = 4_000_000
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


_AND = re.compile(r"[ \r\n\t]+[aA][nN][dD][ \r\n\t]+")
_SPECIAL_GROUP = re.compile(r"\{\\[^{}]*(?:\{[^{}]*\}[^{}]*)*\}")


def _fast_name(raw: str) -> str | None:
    """Format a name the way :func:`format_name` does, for the common shapes; else ``None``.

    BibTeX braces that only wrap a special character (``{\\"u}``) do not change how a name
    splits, so such names are decoded first and split on commas and word case; a name with
    other braces (``{World Bank}``), more than two commas or words that do not start with a
    letter takes the full parser.
    """
    if "{" in _SPECIAL_GROUP.sub("", raw) if "{" in raw else False:
        return None
    text = latex_to_unicode(raw) if ("\\" in raw or "{" in raw or "~" in raw) else \
        " ".join(raw.split())
    if not text or "{" in text or "}" in text:
        return None
    parts = [p.strip() for p in text.split(",")]
    if len(parts) > 3 or any(not p for p in parts[:1]):
        return None
    if len(parts) == 1:
        words = parts[0].split()
        if any(not w[0].isalpha() for w in words):
            return None
        if len(words) == 1:
            return words[0]
        lower = [i for i, w in enumerate(words[:-1]) if w[0].islower()]
        if lower:
            first, family = words[:lower[0]], words[lower[0]:]
        else:
            first, family = words[:-1], words[-1:]
        return ", ".join(p for p in (" ".join(family), " ".join(first)) if p)
    family = " ".join(parts[0].split())
    rest = [" ".join(p.split()) for p in parts[1:]]
    return ", ".join(p for p in (family, *rest) if p)


def _split_names(raw: str) -> list[str]:
    if "{" in raw or "\\" in raw:
        return split_multiple_persons_names(raw)
    names = raw.strip(" \r\n\t")
    return [n for n in _AND.split(names) if n] if names else []


def _people(raw: str) -> tuple[str, ...]:
    out = []
    for name in _split_names(raw):
        formatted = _fast_name(name)
        if formatted is None:
            formatted = format_name(name)
        if formatted:
            out.append(formatted)
    return tuple(out)


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
class _Chunk:
    """What parsing one piece of text gives back (picklable, for worker processes)."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    entries: dict[int, _Entry] = field(default_factory=dict)  # row index -> entry (crossref)
    failures: list[LoadFailure] = field(default_factory=list)
    warnings: list[tuple[int, LoadWarning]] = field(default_factory=list)  # row index or -1
    counts: dict[str, list[int]] = field(default_factory=dict)  # file -> [blocks, other]
    strings: list[tuple[str, str, str, int]] = field(default_factory=list)


def _reason(error: Exception) -> str:
    reason = getattr(error, "abort_reason", None) or str(error) or type(error).__name__
    return " ".join(str(reason).split())


def _split(text: str) -> list[model.Block]:
    with quiet_logger("bibtexparser", logging.CRITICAL):  # its failures come back as data
        return list(Splitter(text).split().blocks)


class _Resolver:
    """Expands one entry's raw fields (macros, ``#``), recovering from missing commas."""

    def __init__(self, macros: MacroTable) -> None:
        self.macros = macros

    def fields(self, entry: model.Entry, source: str, line: int, chunk: _Chunk,
               row_index: int) -> tuple[dict[str, str], list[tuple[str, str]]]:
        fields: dict[str, str] = {}
        duplicates: list[tuple[str, str]] = []
        pending = [(fld.key, str(fld.value)) for fld in entry.fields]
        position = 0
        while position < len(pending):
            raw_name, raw_value = pending[position]
            position += 1
            name = field_key(raw_name)
            value = self._value(name, raw_value, entry.key, source, line, chunk, row_index,
                                pending, position)
            if name in fields:
                duplicates.append((name, value))
            else:
                fields[name] = value
        return fields, duplicates

    def _value(self, name: str, raw: str, key: str, source: str, line: int, chunk: _Chunk,
               row_index: int, pending: list[tuple[str, str]], position: int) -> str:
        parts = parse_value(raw)
        if parts.trailing:
            recovered = _FIELD_START.match(parts.trailing)
            if recovered and parts.parts:
                pending.insert(position, (recovered.group(1),
                                          parts.trailing[recovered.end():]))
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


def _parse_chunk(text: str, lookahead: str, source: str, offset: int,
                 macro_defs: Sequence[tuple[str, str]], targets: frozenset[str],
                 file_database: str) -> _Chunk:
    """Split ``text`` (lines ``offset + 1 ...`` of ``source``) and build its records.

    ``lookahead`` is the line that follows the piece (the next block's first line): with it,
    an entry left open at the end of the piece ends exactly as in one pass over the file;
    the block it starts belongs to the next piece and is dropped here.
    """
    lines = text.count("\n")
    blocks = [b for b in _split(text + lookahead) if (b.start_line or 0) < lines or
              not lookahead]
    return _build_chunk(blocks, source, offset, macro_defs, targets, file_database)


def _strings(blocks: Iterable[model.Block]) -> list[tuple[str, str]]:
    out = []
    for block in blocks:
        inner = block.ignore_error_block if isinstance(block, model.DuplicateBlockKeyBlock) \
            else block
        if isinstance(inner, model.String):
            out.append((inner.key, str(inner.value)))
    return out


def _build_chunk(blocks: list[model.Block], source: str, offset: int,
                 macro_defs: Sequence[tuple[str, str]], targets: frozenset[str],
                 file_database: str) -> _Chunk:
    """Turn split blocks into rows, failures and warnings."""
    chunk = _Chunk()
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
        item = _Entry(entry.key.strip(), entry.entry_type.lower(), fields, duplicates,
                      source, line, "")
        notes: list[str] = []
        row = _record(item, notes, file_database)
        chunk.warnings.extend((row_index, LoadWarning(source, line, "field", n, item.key))
                              for n in notes)
        if duplicates:
            chunk.warnings.append((row_index, LoadWarning(
                source, line, "duplicate_field",
                f"entry repeats field(s) {sorted({n for n, _ in duplicates})}; the first value "
                "of each is in its column, the others are in extra", item.key)))
        if "crossref" in fields or item.key.lower() in targets:
            chunk.entries[row_index] = item
        chunk.rows.append(row)
    return chunk


# --------------------------------------------------------------------------- records

def _inherit(fields: dict[str, str], parent: Mapping[str, str]) -> dict[str, str]:
    """Apply BibTeX ``crossref``: missing fields come from the parent entry."""
    merged = dict(fields)
    for key, value in parent.items():
        if key in ("crossref", "ids"):
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


def _record(entry: _Entry, notes: list[str], file_database: str) -> dict[str, Any]:
    """Map the fields of one entry (macros resolved, still LaTeX) to a record row."""
    entry_type, fields = entry.entry_type, entry.fields
    extras = Extras()
    row: dict[str, Any] = {
        "record_id": entry.key,
        "entry_type": entry_type,
        "source_file": entry.source,
        "source_line": entry.line,
        "database": _database(fields, file_database),
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
        row["authors"] = _people(fields["author"])
    if "editor" in fields:
        for person in _people(fields["editor"]):
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
            for person in _people(value):
                extras.add(name, person)
        else:
            extras.add(name, _clean(name, value))
    row["extra"] = sort_extras(extras)
    return row


# --------------------------------------------------------------------------- driver

def _pieces(text: str, parts: int) -> list[tuple[str, str, int]]:
    """Cut ``text`` into about ``parts`` pieces at lines that start a block.

    Returns ``(piece, lookahead, line_offset)``: ``lookahead`` is the first line of the next
    piece (empty for the last).
    """
    if parts <= 1 or len(text) < 2:
        return [(text, "", 0)]
    size = len(text) // parts
    cuts = [0]
    for target in range(size, len(text), size):
        mark = _BLOCK_START.search(text, target)
        if mark is None:
            break
        if mark.start() > cuts[-1]:
            cuts.append(mark.start())
    cuts.append(len(text))
    out, line = [], 0
    for start, end in zip(cuts, cuts[1:], strict=False):
        newline = text.find("\n", end)
        lookahead = text[end:len(text) if newline < 0 else newline + 1]
        out.append((text[start:end], lookahead, line))
        line += text.count("\n", start, end)
    return out


def _prescan_strings(texts: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """Find the ``@string`` definitions of every text without a full parse."""
    found: list[tuple[str, str]] = []
    for _, text in texts:
        for mark in _STRING_START.finditer(text):
            nxt = _BLOCK_START.search(text, mark.end())
            snippet = text[mark.start(): nxt.start() if nxt else len(text)]
            for block in _split(snippet):
                if isinstance(block, model.String):
                    found.append((block.key, str(block.value)))
    return found


def _workers(workers: int | None, size: int) -> int:
    if workers is not None:
        return max(1, int(workers))
    if size < PARALLEL_MIN_CHARS:
        return 1
    return max(1, min(os.cpu_count() or 1, 4))


def _run(args: tuple[str, str, str, int, list[tuple[str, str]], frozenset[str], str]
         ) -> _Chunk:
    return _parse_chunk(*args)


def parse_bibtex_texts(texts: Sequence[tuple[str, str]], *,
                       workers: int | None = None) -> LoadResult:
    """Parse several BibTeX texts as one database: macros and crossrefs serve them all.

    Parameters
    ----------
    texts : sequence of (source_file, text)
        In order; lines and per-file accounting stay per text.
    workers : int, optional
        Processes to use; by default one for texts under :data:`PARALLEL_MIN_CHARS`
        characters, else up to four (the machine's cores).

    Returns
    -------
    LoadResult
    """
    targets = frozenset(m.group(1).lower() for _, text in texts
                        for m in _CROSSREF.finditer(text))
    n_workers = _workers(workers, sum(len(t) for _, t in texts))
    databases = {src: bibtex_file_database(text) for src, text in texts}
    chunks: list[_Chunk] = []
    if n_workers > 1:
        prescan = _prescan_strings(texts)
        jobs = [(piece, lookahead, src, offset, prescan, targets, databases[src])
                for src, text in texts
                for piece, lookahead, offset in _pieces(text, 2 * n_workers)]
        with ProcessPoolExecutor(n_workers) as pool:
            chunks = list(pool.map(_run, jobs))
        found = [(k, v) for c in chunks for k, v, _, _ in c.strings]
        if [(k.lower(), v) for k, v in found] != [(k.lower(), v) for k, v in prescan]:
            logger.info("@string definitions seen differently in pieces; parsing in one pass")
            chunks = []
    if not chunks:  # one split per file; every file's macros known before any record
        split = [(src, _split(text)) for src, text in texts]
        macro_defs = [d for _, blocks in split for d in _strings(blocks)]
        chunks = [_build_chunk(blocks, src, 0, macro_defs, targets, databases[src])
                  for src, blocks in split]
    return _combine(chunks, [src for src, _ in texts])


def _combine(chunks: list[_Chunk], sources: list[str]) -> LoadResult:
    rows: list[dict[str, Any]] = []
    entries: dict[int, _Entry] = {}
    failures: list[LoadFailure] = []
    warns: list[LoadWarning] = []
    counts: dict[str, list[int]] = {src: [0, 0] for src in sources}
    strings: list[tuple[str, str, str, int]] = []
    row_warnings: dict[int, list[LoadWarning]] = {}
    for chunk in chunks:
        base = len(rows)
        rows.extend(chunk.rows)
        entries.update({base + i: e for i, e in chunk.entries.items()})
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
    _crossrefs(rows, entries, row_warnings)
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


def _crossrefs(rows: list[dict[str, Any]], entries: dict[int, _Entry],
               row_warnings: dict[int, list[LoadWarning]]) -> None:
    """Resolve ``crossref`` chains once each (memoised), rebuilding the children's rows."""
    by_key: dict[str, _Entry] = {}
    for index in sorted(entries):
        by_key.setdefault(entries[index].key.lower(), entries[index])
    resolved: dict[str, dict[str, str]] = {}

    def resolve(start: _Entry, index: int) -> dict[str, str]:
        chain: list[_Entry] = []
        seen: set[str] = set()
        current: _Entry | None = start
        while current is not None:
            key = current.key.lower()
            if key in resolved:
                break
            if key in seen:
                row_warnings.setdefault(index, []).append(LoadWarning(
                    start.source, start.line, "crossref", "crossref cycle; stopped",
                    start.key))
                break
            seen.add(key)
            chain.append(current)
            parent_key = current.fields.get("crossref")
            if not parent_key:
                break
            target = strip_braces(parent_key).strip().lower()
            parent = by_key.get(target)
            if parent is None:
                row_warnings.setdefault(index, []).append(LoadWarning(
                    start.source, start.line, "crossref",
                    f"crossref {parent_key!r} names no entry in the files read together; "
                    "fields not inherited", start.key))
                break
            current = parent
        inherited = resolved.get(current.key.lower(), {}) if current is not None else {}
        for item in reversed(chain):
            inherited = _inherit(item.fields, inherited) if inherited else dict(item.fields)
            resolved.setdefault(item.key.lower(), inherited)
        return inherited

    for index in sorted(entries):
        entry = entries[index]
        if "crossref" not in entry.fields:
            continue
        fields = resolve(entry, index)
        if fields is entry.fields or fields == entry.fields:
            continue
        notes: list[str] = []
        database = rows[index]["database"]
        row = _record(replace(entry, fields=fields), notes, "")
        row["database"] = database
        row["record_id"] = rows[index]["record_id"]
        rows[index] = row


def parse_bibtex_string(text: str, source_file: str = "<string>", *,
                        workers: int | None = 1) -> LoadResult:
    r"""Parse BibTeX text; see :func:`read_bibtex`.

    Examples
    --------
    >>> result = parse_bibtex_string('@article{k, title={A {\\"U}ber}, year=2020}')
    >>> result.records.loc[0, ["record_id", "title"]].tolist()
    ['k', 'A Über']
    """
    return parse_bibtex_texts([(source_file, text)], workers=workers)


def read_bibtex_files(paths: Iterable[str | Path], *, encoding: str | None = None,
                      workers: int | None = None) -> LoadResult:
    """Read several BibTeX files as one database (shared macros and crossrefs).

    Parameters
    ----------
    paths : iterable of str or Path
        The files, in order (BibTeX reads ``\\bibliography{a,b}`` in order).
    encoding : str, optional
        Force a codec for every file.
    workers : int, optional
        See :func:`parse_bibtex_texts`.

    Returns
    -------
    LoadResult
        Lines, failures and accounting stay per file.

    Raises
    ------
    CorpusInputError
        When a file cannot be read or decoded.
    """
    texts: list[tuple[str, str]] = []
    warns: list[LoadWarning] = []
    for path in paths:
        decoded = read_text(path, encoding)
        texts.append((str(path), decoded.text))
        if decoded.fallback:
            warns.append(LoadWarning(str(path), None, "encoding", decoded.problem))
    result = parse_bibtex_texts(texts, workers=workers)
    return replace(result, warnings=(*warns, *result.warnings)) if warns else result


def read_bibtex(path: str | Path, *, encoding: str | None = None,
                workers: int | None = None) -> LoadResult:
    """Read one BibTeX file into records and failures.

    Parameters
    ----------
    path : str or Path
        A ``.bib`` file.
    encoding : str, optional
        Force a codec; by default BOMs, UTF-32, UTF-16 and UTF-8 are detected, and a file
        that is not valid UTF-8 is read as cp1252 with a warning naming the file.
    workers : int, optional
        Processes for a large file; see :func:`parse_bibtex_texts`.

    Returns
    -------
    LoadResult
        ``records`` with :data:`toolkit.types.RECORD_COLUMNS`; ``failures`` for blocks that
        did not parse (with line and raw text); ``warnings`` for renamed duplicate keys,
        unresolved crossrefs, undefined macros, missing commas and encoding fallbacks.

    Raises
    ------
    CorpusInputError
        When the file cannot be read or decoded.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = pathlib.Path(tempfile.mkdtemp()) / "a.bib"
    >>> _ = tmp.write_text('@string{j = "J. Tests"}\\n@article{a, journal = j, year = 2021}\\n')
    >>> read_bibtex(tmp).records.loc[0, "venue"]
    'J. Tests'
    """
    return read_bibtex_files([path], encoding=encoding, workers=workers)
