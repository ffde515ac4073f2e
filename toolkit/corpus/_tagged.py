"""One splitter for the TAG-value line formats: RIS, Web of Science plain text and MEDLINE.

All three write a record as lines ``TAG value``, with a tag that opens a record (``TY``,
``PT``, ``PMID``), usually one that closes it (``ER``), and continuation lines for long
values. :func:`split_tagged` turns the text into :class:`TaggedRecord` objects (every tag
and every value, in order, with its line) plus everything that is not a record: header
lines, numbering, stray text, records whose opening tag is missing. Each format's module
maps the tags to columns; nothing here knows what a tag means.

Why not rispy: it keeps the first value of tags it maps to single fields (a second ISSN, a
second abstract, further affiliations were lost), its Web of Science parser raises
``KeyError`` on tags outside its fixed list (``ZB``, ``ZS``, ``Z8`` ... in every real export)
and it drops a last record without ``ER``. A line splitter that keeps every value is shorter
than the mapping needed to work around those, and is shared by the three formats.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

__all__ = ["TagFormat", "TaggedRecord", "Stray", "split_tagged", "TagFields"]


@dataclass(frozen=True)
class TagFormat:
    """How one format writes its lines.

    Attributes
    ----------
    name : str
        Format name for messages.
    tag_line : re.Pattern
        Matches a tag line; group 1 is the tag, group 2 (optional) the value.
    start : str
        Tag that opens a record.
    end : str or None
        Tag that closes a record; ``None`` when a blank line does (MEDLINE).
    continuation : re.Pattern or None
        Matches a continuation line inside a record (group 1 the text); ``None`` means any
        non-tag line inside a record continues the last value (RIS).
    per_line : frozenset of str
        Tags whose continuation lines are further values, not wrapped text.
    header : frozenset of str
        Tags outside records that are file headers or trailers, counted as "other".
    numbering : re.Pattern or None
        Lines between records that number them (``1.``), counted as "other".
    """

    name: str
    tag_line: re.Pattern[str]
    start: str
    end: str | None
    continuation: re.Pattern[str] | None = None
    per_line: frozenset[str] = frozenset()
    header: frozenset[str] = frozenset()
    numbering: re.Pattern[str] | None = None


@dataclass
class TaggedRecord:
    """One record: its tags and values in file order.

    Attributes
    ----------
    line : int
        1-based line of the opening tag.
    fields : list of (tag, value, line)
        Every value; continuation lines are joined with ``\\n`` (or are values of their own
        for ``per_line`` tags).
    closed : bool
        Whether the closing tag was seen.
    late_tags : list of str
        Tags found after the closing tag and attached to this record (Ovid writes some).
    """

    line: int
    fields: list[tuple[str, str, int]] = field(default_factory=list)
    closed: bool = False
    late_tags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Stray:
    """Lines outside any record.

    ``kind`` is ``"stray_text"`` (text that belongs to no record) or ``"missing_start"``
    (tag lines closed by the end tag but never opened: a record whose opening tag is
    missing).
    """

    line: int
    kind: str
    raw: str


def _flush(run: list[tuple[int, str]], out: list[Stray], kind: str = "stray_text") -> None:
    if run:
        out.append(Stray(run[0][0], kind, "\n".join(t for _, t in run)))
        run.clear()


def split_tagged(text: str, fmt: TagFormat) -> tuple[list[TaggedRecord], list[Stray], int]:
    """Split ``text`` into records, stray runs and a count of other (header, numbering) lines.

    Rules, the same for every format:

    * the start tag opens a record; one still open is closed first (it lacked its end tag);
    * the end tag closes it;
    * a continuation line extends the last value; for MEDLINE a blank line ends a record;
    * tag lines outside records that end with an end tag are a record whose start tag is
      missing (a ``missing_start`` stray, reported as a failure); tag lines after an end
      tag that are not closed again belong to that record (``late_tags``);
    * header and numbering lines are "other"; any other non-blank text outside records is
      ``stray_text``, one stray per run of lines.

    Returns
    -------
    records : list of TaggedRecord
    strays : list of Stray
    other : int
        Number of header/numbering lines.
    """
    records: list[TaggedRecord] = []
    strays: list[Stray] = []
    other = 0
    current: TaggedRecord | None = None
    last: TaggedRecord | None = None  # the record closed most recently
    orphans: list[tuple[int, str]] = []  # tag lines after an end tag
    stray: list[tuple[int, str]] = []
    match_tag = fmt.tag_line.match
    continuation = fmt.continuation.match if fmt.continuation is not None else None
    numbering = fmt.numbering.match if fmt.numbering is not None else None

    def close_orphans(closing: bool) -> None:
        nonlocal last
        if not orphans:
            return
        if closing or fmt.end is None:  # a record without its start tag
            _flush(orphans, strays, "missing_start")
        elif last is not None and fmt.end is not None:
            for number, line in orphans:
                tag, value = _tag_value(match_tag(line))  # type: ignore[arg-type]
                last.fields.append((tag, value, number))
                last.late_tags.append(tag)
            orphans.clear()
        else:
            _flush(orphans, strays)

    has_value = fmt.tag_line.groups >= 2
    for number, line in enumerate(_lines(text), start=1):
        match = match_tag(line)
        if match:
            tag = match.group(1)
            if tag[-1] == " ":
                tag = tag.rstrip()
        else:
            tag = None
        if current is not None:
            if tag is None:
                if fmt.end is None and not line.strip():  # MEDLINE: a blank line ends it
                    current.closed = True
                    records.append(current)
                    last, current = current, None
                else:
                    _continue(current, line, number, continuation, fmt)
                continue
            if tag == fmt.start:  # the open record lacked its end tag
                records.append(current)
                current = None
            elif tag == fmt.end:
                current.closed = True
                records.append(current)
                last, current = current, None
                continue
            else:
                value = match.group(2) if has_value else None  # type: ignore[union-attr]
                current.fields.append((tag, value.strip() if value else "", number))
                continue
        # outside any record
        if tag == fmt.start:
            _flush(stray, strays)
            close_orphans(False)
            current = TaggedRecord(number)
            value = _tag_value(match)[1]  # type: ignore[arg-type]
            current.fields.append((tag, value, number))
        elif tag is not None and tag in fmt.header:
            _flush(stray, strays)
            close_orphans(False)
            other += 1
        elif tag is not None and tag == fmt.end:
            _flush(stray, strays)
            if orphans:
                orphans.append((number, line))
                close_orphans(True)
            else:
                other += 1  # a lone end tag: nothing to read
        elif tag is not None:
            _flush(stray, strays)
            orphans.append((number, line))
        elif numbering is not None and numbering(line):
            _flush(stray, strays)
            close_orphans(False)
            other += 1
        elif line.strip():
            if orphans:
                close_orphans(False)
            stray.append((number, line))
        else:
            _flush(stray, strays)
            if fmt.end is None:
                close_orphans(False)
    if current is not None:
        records.append(current)
    _flush(stray, strays)
    close_orphans(False)
    strays.sort(key=lambda s: s.line)
    return records, strays, other


def _lines(text: str) -> Iterator[str]:
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return iter(lines)


def _tag_value(match: re.Match[str]) -> tuple[str, str]:
    value = match.group(2) if match.re.groups >= 2 else None
    return match.group(1).strip(), (value or "").strip()


def _continue(record: TaggedRecord, line: str, number: int,
              continuation: Callable[[str], re.Match[str] | None] | None,
              fmt: TagFormat) -> None:
    if continuation is not None:
        match = continuation(line)
        text = match.group(1) if match else line
    else:
        text = line
    text = text.strip()
    if not record.fields:
        record.fields.append(("", text, number))
        return
    tag, value, start = record.fields[-1]
    if tag in fmt.per_line and text:
        record.fields.append((tag, text, number))
    else:
        record.fields[-1] = (tag, f"{value}\n{text}" if value else text, start)


class TagFields:
    """The values of one record, consumed tag by tag; what is left goes to ``extra``.

    Examples
    --------
    >>> fields = TagFields([("AU", "Doe, J", 2), ("TI", "T", 3), ("AU", "Roe, A", 4)])
    >>> fields.take("AU"), fields.first("TI"), fields.rest()
    (['Doe, J', 'Roe, A'], ('T', 'TI'), [])
    """

    def __init__(self, pairs: list[tuple[str, str, int]]) -> None:
        self._values: dict[str, list[str]] = {}
        for tag, value, _ in pairs:
            self._values.setdefault(tag, []).append(value)

    def __contains__(self, tag: str) -> bool:
        return bool(self._values.get(tag))

    def peek(self, tag: str) -> list[str]:
        """Values of ``tag`` without consuming them."""
        return list(self._values.get(tag, ()))

    def take(self, *tags: str) -> list[str]:
        """Consume and return every non-empty value of ``tags``, in tag order."""
        out: list[str] = []
        for tag in tags:
            out.extend(v for v in self._values.pop(tag, ()) if v.strip())
        return out

    def first(self, *tags: str) -> tuple[str | None, str | None]:
        """Consume the first non-empty value among ``tags``; return it and its tag.

        The other values of that tag stay, for :meth:`rest`; other tags are not touched.
        """
        for tag in tags:
            values = self._values.get(tag, [])
            for index, value in enumerate(values):
                if value.strip():
                    del values[index]
                    return value, tag
        return None, None

    def remove(self, tag: str, value: str) -> None:
        """Consume one value of ``tag``."""
        self._values[tag].remove(value)

    def rest(self) -> list[tuple[str, str]]:
        """Every value not consumed (tags in first-seen order), empty values dropped."""
        out = []
        for tag, values in self._values.items():
            out.extend((tag, v) for v in values if v.strip())
        return out
