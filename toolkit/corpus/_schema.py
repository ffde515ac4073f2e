"""The records table contract, load results and field normalisers shared by all readers."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import pandas as pd

from toolkit.types import FAILURE_COLUMNS, RECORD_COLUMNS, RECORD_DTYPES

__all__ = [
    "LoadFailure",
    "LoadWarning",
    "LoadResult",
    "SkippedFile",
    "IdMaker",
    "records_frame",
    "normalise_doi",
    "split_doi",
    "doi_from_url",
    "normalise_year",
    "normalise_month",
    "normalise_pages",
    "source_type_for",
    "source_group_for",
    "split_keywords",
    "ENTRY_SOURCE_TYPES",
]


@dataclass(frozen=True, slots=True)
class LoadFailure:
    """A block or record that could not become a record.

    Attributes
    ----------
    source_file : str
        File the block came from.
    line : int or None
        1-based line where the block starts, when known.
    kind : str
        Short machine-readable category (``"parse"``, ``"duplicate_field"``, ``"stray_text"``,
        ``"bad_row"``, ...).
    reason : str
        What is wrong, in words.
    raw : str
        The raw text of the block, so nothing is lost.
    """

    source_file: str
    line: int | None
    kind: str
    reason: str
    raw: str = ""

    def __str__(self) -> str:
        where = f"{self.source_file}:{self.line}" if self.line is not None else self.source_file
        return f"{where}: {self.reason}"


@dataclass(frozen=True, slots=True)
class LoadWarning:
    """Something a reader did to a record that the user should know about (record kept).

    Examples: a duplicate citation key renamed, an encoding fallback, an unresolved crossref.
    """

    source_file: str
    line: int | None
    kind: str
    message: str
    record_id: str | None = None

    def __str__(self) -> str:
        where = f"{self.source_file}:{self.line}" if self.line is not None else self.source_file
        return f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class SkippedFile:
    """A file in a folder that ``load_corpus`` did not read, and why.

    Attributes
    ----------
    path : str
        The file (or hidden folder) skipped.
    reason : str
        Why, in words, with what to do if it should have been read.
    """

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass(frozen=True)
class LoadResult:
    """What a reader returns: the records table plus everything that went wrong.

    Attributes
    ----------
    records : DataFrame
        One row per record, columns :data:`toolkit.types.RECORD_COLUMNS`.
    failures : tuple of LoadFailure
        Blocks that did not become records, in file and line order.
    warnings : tuple of LoadWarning
        Records that were kept but changed or doubtful (renamed keys, fallbacks).
    blocks : DataFrame
        Accounting per file: ``source_file, blocks, records, failures, other`` where
        ``other`` counts blocks that are not records by nature (``@string``, ``@comment``,
        ``@preamble``). For every file ``records + failures + other == blocks``.
    generated_ids : frozenset of str
        Record ids the reader derived (no key in the file); when ids collide across files,
        these are the ones renamed, so citation keys from the files stay as written.
    skipped : tuple of SkippedFile
        Files found in a folder that were not read (not a reference export, empty, hidden,
        unreadable), each with the reason.
    """

    records: pd.DataFrame
    failures: tuple[LoadFailure, ...] = ()
    warnings: tuple[LoadWarning, ...] = ()
    blocks: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            columns=["source_file", "blocks", "records", "failures", "other"]
        )
    )
    generated_ids: frozenset[str] = frozenset()
    skipped: tuple[SkippedFile, ...] = ()

    def skipped_frame(self) -> pd.DataFrame:
        """Return the skipped files as a DataFrame (``path, reason``)."""
        return pd.DataFrame([[s.path, s.reason] for s in self.skipped],
                            columns=["path", "reason"])

    def failures_frame(self) -> pd.DataFrame:
        """Return the failures as a DataFrame with :data:`toolkit.types.FAILURE_COLUMNS`."""
        rows = [[f.source_file, f.line, f.kind, f.reason, f.raw] for f in self.failures]
        frame = pd.DataFrame(rows, columns=list(FAILURE_COLUMNS))
        return frame.astype({"line": "Int64"})

    def warnings_frame(self) -> pd.DataFrame:
        """Return the warnings as a DataFrame (``source_file, line, kind, message, record_id``)."""
        rows = [[w.source_file, w.line, w.kind, w.message, w.record_id] for w in self.warnings]
        frame = pd.DataFrame(rows, columns=["source_file", "line", "kind", "message", "record_id"])
        return frame.astype({"line": "Int64"})

    def __repr__(self) -> str:
        skipped = f", skipped={len(self.skipped)}" if self.skipped else ""
        return (
            f"LoadResult(records={len(self.records)}, failures={len(self.failures)}, "
            f"warnings={len(self.warnings)}{skipped})"
        )


def _empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and value != value:  # NaN
        return True
    if value is pd.NA:
        return True
    return isinstance(value, str) and not value.strip()


def records_frame(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Build a records DataFrame with the fixed columns and dtypes.

    Parameters
    ----------
    rows : iterable of mapping
        Each mapping may hold any subset of :data:`toolkit.types.RECORD_COLUMNS`; missing
        keys become missing values. Tuple columns (``authors``, ``keywords``, ``extra``)
        default to an empty tuple.

    Returns
    -------
    DataFrame
        Columns exactly :data:`toolkit.types.RECORD_COLUMNS`, dtypes
        :data:`toolkit.types.RECORD_DTYPES`, a fresh ``RangeIndex``.

    Examples
    --------
    >>> frame = records_frame([{"record_id": "a", "title": "T", "year": "2020"}])
    >>> int(frame.loc[0, "year"]), frame.loc[0, "authors"], str(frame.loc[0, "doi"])
    (2020, (), '<NA>')
    """
    rows = list(rows)
    data: dict[str, list[Any]] = {}
    for col in RECORD_COLUMNS:
        values = [row.get(col) for row in rows]
        if col in _TUPLE_COLUMNS:
            data[col] = [tuple(v) if v else () for v in values]
        elif col == "year":
            data[col] = [normalise_year(v) for v in values]
        elif col in ("month", "source_line"):
            data[col] = [v if type(v) is int else _to_int(v) for v in values]
        else:
            data[col] = [v.strip() or None if type(v) is str else
                         (None if _empty(v) else str(v).strip()) for v in values]
    frame = pd.DataFrame(data, columns=list(RECORD_COLUMNS))
    for col, dtype in RECORD_DTYPES.items():
        if dtype == "object":
            frame[col] = frame[col].astype(object)
        else:
            frame[col] = frame[col].astype(dtype)
    return frame


_TUPLE_COLUMNS = frozenset({"authors", "keywords", "extra"})


def _to_int(value: Any) -> int | None:
    if _empty(value):
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return None


_YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d|21\d\d)(?!\d)")


def normalise_year(value: Any) -> int | None:
    """Return the four-digit year in ``value``, or ``None``.

    Examples
    --------
    >>> normalise_year("2021/05/03"), normalise_year("n.d."), normalise_year(1999)
    (2021, None, 1999)
    """
    if _empty(value):
        return None
    if isinstance(value, int):
        return value
    match = _YEAR.search(str(value))
    return int(match.group(1)) if match else None


_DOI_FIND = re.compile(r"10\.\d{4,9}/\S+")
_PLAIN_DOI = re.compile(r"\s*10\.\d{4,9}/[^\s%]+\s*$")
_DOI_TRAIL = ".,;:"


def _doi_text(value: Any) -> str:
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if "%" in text:
        text = unquote(text)
    return text


def _trim_doi(doi: str) -> str:
    doi = doi.rstrip(_DOI_TRAIL)
    for opening, closing in (("(", ")"), ("[", "]"), ("<", ">")):
        while doi.endswith(closing) and doi.count(closing) > doi.count(opening):
            doi = doi[:-1].rstrip(_DOI_TRAIL)
    return doi


def split_doi(value: Any) -> tuple[list[str], str]:
    """Find every DOI in a DOI field and return them with the text that is not a DOI.

    Handles ``doi:`` and ``DOI`` prefixes, ``https://doi.org/`` URLs, percent-encoding
    (``%28`` for ``(``) and text around the DOI (Web of Science's ``ARTN 106`` line).

    Returns
    -------
    dois : list of str
        Normalised DOIs (lower case), in order.
    leftover : str
        What is left once the DOIs and their prefixes are removed, whitespace collapsed
        (empty when the field held only DOIs and punctuation), so that a reader can keep it.

    Examples
    --------
    >>> split_doi("ARTN 106\\n10.1016/J.X.2020.106")
    (['10.1016/j.x.2020.106'], 'ARTN 106')
    >>> split_doi("https://doi.org/10.1016/S0140-6736%2817%2930624-3")
    (['10.1016/s0140-6736(17)30624-3'], '')
    """
    if _empty(value):
        return [], ""
    if type(value) is str and _PLAIN_DOI.match(value):  # the usual case: just a DOI
        return [_trim_doi(value.strip()).lower()], ""
    text = _doi_text(value)
    dois: list[str] = []
    rest: list[str] = []
    pos = 0
    for match in _DOI_FIND.finditer(text):
        doi = _trim_doi(match.group())
        before = text[pos:match.start()]
        rest.append(_strip_doi_prefix(before))
        rest.append(match.group()[len(doi):])
        pos = match.end()
        if doi.count("/") and len(doi) > doi.index("/") + 1:
            dois.append(doi.lower())
    rest.append(text[pos:])
    leftover = " ".join(" ".join(rest).split()).strip(" ;,")
    if not any(char.isalnum() for char in leftover):  # punctuation around the DOI only
        leftover = ""
    return dois, leftover


def _strip_doi_prefix(text: str) -> str:
    text = text.rstrip()
    for prefix in ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/",
                   "http://dx.doi.org/", "doi.org/", "dx.doi.org/", "info:doi/", "urn:doi:",
                   "https://www.doi.org/", "http://www.doi.org/"):
        if text.lower().endswith(prefix):
            text = text[:-len(prefix)]
    text = re.sub(r"(?:\bdoi\s*:?\s*|\bDOI\s*)$", "", text, flags=re.I)
    return text


def normalise_doi(value: Any) -> str | None:
    """Return a DOI without URL or ``doi:`` prefix, in lower case, or ``None``.

    The first DOI in the value is returned: prefixes (``doi:``, ``DOI``, ``https://doi.org/``),
    percent-encoding and surrounding text are removed. Values holding no
    ``10.<registrant>/<suffix>`` give ``None``, so a URL in the DOI field does not pose as
    one. :func:`split_doi` also returns the text that is not a DOI.

    Examples
    --------
    >>> normalise_doi("https://doi.org/10.61408/JAET2024v26i02.01")
    '10.61408/jaet2024v26i02.01'
    >>> normalise_doi("doi: 10.1000/XYZ123 ") , normalise_doi("n/a")
    ('10.1000/xyz123', None)
    >>> normalise_doi("DOI 10.1016/S0140-6736%2817%2930624-3")
    '10.1016/s0140-6736(17)30624-3'
    """
    dois, _ = split_doi(value)
    return dois[0] if dois else None


def doi_from_url(url: Any) -> str | None:
    """Return the DOI of a ``doi.org`` URL, else ``None``.

    Examples
    --------
    >>> doi_from_url("http://dx.doi.org/10.4103/2303-9027.138783"), doi_from_url("https://x.org")
    ('10.4103/2303-9027.138783', None)
    """
    if _empty(url):
        return None
    text = _doi_text(url)
    if not re.match(r"^(?:https?://)?(?:dx\.|www\.)?doi\.org/10\.", text, re.I):
        return None
    return normalise_doi(text)


_DASHES = re.compile(r"\s*(?:-{1,3}|\u2013|\u2014)\s*")


def normalise_pages(value: Any) -> str | None:
    """Return a page range with an ASCII hyphen (``"13505-13540"``), or ``None``.

    A range whose ends are equal (``405-405``) is one page.

    Examples
    --------
    >>> normalise_pages("13505--13540"), normalise_pages("e138"), normalise_pages("405-405")
    ('13505-13540', 'e138', '405')
    """
    if _empty(value):
        return None
    text = str(value).strip()
    if "-" not in text and "\u2013" not in text and "\u2014" not in text:
        return text
    text = _DASHES.sub("-", text)
    first, dash, last = text.partition("-")
    if dash and first and first == last:
        return first
    return text


#: Fine-grained source type for each (BibTeX-vocabulary) entry type, used when a record
#: carries no explicit ``sourcetype`` field.
ENTRY_SOURCE_TYPES: dict[str, str] = {
    "article": "journal article",
    "book": "book",
    "booklet": "book",
    "inbook": "book chapter",
    "incollection": "book chapter",
    "inproceedings": "conference paper",
    "conference": "conference paper",
    "proceedings": "conference proceedings",
    "phdthesis": "thesis",
    "mastersthesis": "thesis",
    "thesis": "thesis",
    "techreport": "report",
    "report": "report",
    "manual": "report",
    "unpublished": "unpublished",
    "online": "web page",
    "misc": "other",
}

_ACADEMIC = {"journal article", "book chapter", "conference paper", "conference proceedings",
             "thesis"}


def source_type_for(entry_type: str | None, explicit: str | None = None) -> str | None:
    """Return the source type: the explicit value when given, else one derived from the type.

    Examples
    --------
    >>> source_type_for("incollection"), source_type_for("misc", "policy document")
    ('book chapter', 'policy document')
    """
    if not _empty(explicit):
        return str(explicit).strip().lower()
    if _empty(entry_type):
        return None
    return ENTRY_SOURCE_TYPES.get(str(entry_type).lower(), "other")


def source_group_for(source_type: str | None, explicit: str | None = None) -> str | None:
    """Return the coarse group (academic / industry / policy), or ``None`` when unclear.

    Only peer-reviewed academic forms are derived; reports, books and web pages could be any
    group, so they stay missing until a curator sets ``sourcegroup``.

    Examples
    --------
    >>> source_group_for("journal article"), source_group_for("report")
    ('academic', None)
    """
    if not _empty(explicit):
        return str(explicit).strip().lower()
    if source_type in _ACADEMIC:
        return "academic"
    return None


def split_keywords(value: Any, separators: str = ";,") -> tuple[str, ...]:
    """Split a keyword field on ``;`` (or ``,`` when no ``;`` is present) into a tuple.

    Examples
    --------
    >>> split_keywords("micro-credentials; lifelong learning;")
    ('micro-credentials', 'lifelong learning')
    """
    if _empty(value):
        return ()
    if isinstance(value, (list, tuple)):
        items: Sequence[str] = [str(v) for v in value]
    else:
        text = str(value)
        sep = next((s for s in separators if s in text), None)
        items = text.split(sep) if sep else [text]
    seen: dict[str, None] = {}
    for item in items:
        item = " ".join(item.split())
        if item:
            seen.setdefault(item, None)
    return tuple(seen)


class IdMaker:
    """Derive stable citation-key-like ids (``familyYEARword``) without collisions.

    Used when a file has no key of its own (RIS without ``ID``, CSV without a key column).
    Collisions get a suffix ``b``, ``c``, ... ``z``, then ``-27``, ``-28``, ... in file order;
    a counter per base id keeps this linear however many records share a base.

    Parameters
    ----------
    taken : iterable of str, optional
        Ids already in use.

    Examples
    --------
    >>> ids = IdMaker()
    >>> ids.make(("Müller, Jörg",), 2020, "The skills gap")
    'muller2020skills'
    >>> ids.make(("Müller, J.",), 2020, "Skills again")
    'muller2020skillsb'
    >>> ids.make(("van der Hijden, Peter",), None, "")
    'vanderhijdennd'
    """

    def __init__(self, taken: Iterable[str] = ()) -> None:
        self.taken: set[str] = set(taken)
        self._next: dict[str, int] = {}

    def reserve(self, record_id: str) -> None:
        """Mark an id written in the file as used."""
        self.taken.add(record_id)

    def make(self, authors: Sequence[str], year: int | None, title: str | None) -> str:
        """Return a new id for a record and reserve it."""
        family = authors[0].split(",")[0] if authors else "anon"
        words = [w for w in _WORDS.findall((title or "")[:300]) if w.lower() not in _STOP]
        parts = [family or "anon", str(year) if year else "nd", words[0] if words else ""]
        base = "".join(_ascii(p) for p in parts) or "record"
        return self.unique(base)

    def unique(self, base: str) -> str:
        """Return ``base`` or the first free suffixed form of it, and reserve it."""
        candidate = base
        suffix = self._next.get(base, ord("b"))
        while candidate in self.taken:
            candidate = f"{base}{chr(suffix)}" if suffix <= ord("z") else f"{base}-{suffix - 96}"
            suffix += 1
        self._next[base] = suffix
        self.taken.add(candidate)
        return candidate


def make_record_id(authors: Sequence[str], year: int | None, title: str | None,
                   taken: set[str]) -> str:
    """Derive one id and reserve it in ``taken``; see :class:`IdMaker` (linear for many).

    Examples
    --------
    >>> taken = set()
    >>> make_record_id(("Müller, Jörg",), 2020, "The skills gap", taken)
    'muller2020skills'
    """
    maker = IdMaker()
    maker.taken = taken
    return maker.make(authors, year, title)


_STOP = {"a", "an", "the", "of", "on", "in", "and", "for", "to", "with", "from", "by", "at"}


_WORDS = re.compile(r"[^\W\d_]+")
_NOT_ASCII_WORD = re.compile(r"[^a-z0-9]")


def _ascii(text: str) -> str:
    if text.isascii():
        return _NOT_ASCII_WORD.sub("", text.lower())
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _NOT_ASCII_WORD.sub("", folded.lower())


_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def normalise_month(value: Any) -> int | None:
    """Return a month number 1-12 from a number, a name or an abbreviation, else ``None``.

    Examples
    --------
    >>> tuple(normalise_month(m) for m in ("3", "January", "Sept.", "x"))
    (3, 1, 9, None)
    """
    if _empty(value):
        return None
    text = str(value).strip().strip(".").lower()
    if text.isdecimal():
        number = int(text)
        return number if 1 <= number <= 12 else None
    if len(text) >= 3 and text[:3] in _MONTHS:
        return _MONTHS.index(text[:3]) + 1
    return None
