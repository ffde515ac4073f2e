"""The records table contract, load results and field normalisers shared by all readers."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from toolkit.types import FAILURE_COLUMNS, RECORD_COLUMNS, RECORD_DTYPES

__all__ = [
    "LoadFailure",
    "LoadWarning",
    "LoadResult",
    "records_frame",
    "normalise_doi",
    "normalise_year",
    "normalise_pages",
    "source_type_for",
    "source_group_for",
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
        return (
            f"LoadResult(records={len(self.records)}, failures={len(self.failures)}, "
            f"warnings={len(self.warnings)})"
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
    tuple_cols = ("authors", "keywords", "extra")
    data: dict[str, list[Any]] = {col: [] for col in RECORD_COLUMNS}
    for row in rows:
        for col in RECORD_COLUMNS:
            value = row.get(col)
            if col in tuple_cols:
                value = tuple(value) if value else ()
            elif col in ("year", "month", "source_line"):
                value = normalise_year(value) if col == "year" else _to_int(value)
            elif _empty(value):
                value = None
            else:
                value = str(value).strip()
            data[col].append(value)
    frame = pd.DataFrame(data, columns=list(RECORD_COLUMNS))
    for col, dtype in RECORD_DTYPES.items():
        if dtype == "object":
            frame[col] = frame[col].astype(object)
        else:
            frame[col] = frame[col].astype(dtype)
    return frame


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


_DOI_PREFIX = re.compile(r"^(?:doi:\s*|https?://(?:dx\.)?doi\.org/|(?:dx\.)?doi\.org/)", re.I)
_DOI_SHAPE = re.compile(r"^10\.\d{4,9}/\S+$")


def normalise_doi(value: Any) -> str | None:
    """Return a DOI without URL or ``doi:`` prefix, in lower case, or ``None``.

    Values that do not look like a DOI (``10.<registrant>/<suffix>``) after cleaning give
    ``None``, so a URL in the DOI field does not pose as one.

    Examples
    --------
    >>> normalise_doi("https://doi.org/10.61408/JAET2024v26i02.01")
    '10.61408/jaet2024v26i02.01'
    >>> normalise_doi("doi: 10.1000/XYZ123 ") , normalise_doi("n/a")
    ('10.1000/xyz123', None)
    """
    if _empty(value):
        return None
    text = unicodedata.normalize("NFKC", str(value)).strip()
    previous = None
    while previous != text:
        previous = text
        text = _DOI_PREFIX.sub("", text).strip()
    text = text.rstrip(".,;").lower()
    return text if _DOI_SHAPE.match(text) else None


def normalise_pages(value: Any) -> str | None:
    """Return a page range with an ASCII hyphen (``"13505-13540"``), or ``None``.

    Examples
    --------
    >>> normalise_pages("13505--13540"), normalise_pages("e138")
    ('13505-13540', 'e138')
    """
    if _empty(value):
        return None
    text = str(value).strip()
    return re.sub(r"\s*(?:-{1,3}|\u2013|\u2014)\s*", "-", text)


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
    seen: list[str] = []
    for item in items:
        item = item.strip()
        if item and item not in seen:
            seen.append(item)
    return tuple(seen)


def make_record_id(authors: Sequence[str], year: int | None, title: str | None,
                   taken: set[str]) -> str:
    """Derive a stable citation-key-like id (``familyYEARword``) and reserve it in ``taken``.

    Used when a file has no key of its own (RIS without ``ID``, CSV without a key column).
    Collisions get a suffix ``b``, ``c``, ... in file order.

    Examples
    --------
    >>> taken = set()
    >>> make_record_id(("Müller, Jörg",), 2020, "The skills gap", taken)
    'muller2020skills'
    >>> make_record_id(("Müller, J.",), 2020, "Skills again", taken)
    'muller2020skillsb'
    >>> make_record_id(("van der Hijden, Peter",), None, "", taken)
    'vanderhijdennd'
    """
    family = authors[0].split(",")[0] if authors else "anon"
    words = [w for w in re.findall(r"[^\W\d_]+", title or "") if w.lower() not in _STOP]
    parts = [family or "anon",
             str(year) if year else "nd", words[0] if words else ""]
    base = "".join(_ascii(p) for p in parts) or "record"
    candidate, suffix = base, ord("b")
    while candidate in taken:
        candidate = f"{base}{chr(suffix)}" if suffix <= ord("z") else f"{base}-{suffix}"
        suffix += 1
    taken.add(candidate)
    return candidate


_STOP = {"a", "an", "the", "of", "on", "in", "and", "for", "to", "with", "from", "by", "at"}


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", folded.lower())


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
    if text.isdigit():
        number = int(text)
        return number if 1 <= number <= 12 else None
    if len(text) >= 3 and text[:3] in _MONTHS:
        return _MONTHS.index(text[:3]) + 1
    return None
