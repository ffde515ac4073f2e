"""Helpers every reader uses to turn field values into record columns without losing any.

The rule they implement: a value either lands in a column unchanged in meaning, or it is
kept in ``extra``. When a column takes only part of a value (the year of ``2012/07/03``, the
DOI of ``ARTN 106 10.1016/...``) or the reader cleans text (publisher boilerplate), the
rest is kept in ``extra`` too.
"""

from __future__ import annotations

import re
from typing import Any

from toolkit.corpus._clean import clean_markup, strip_boilerplate
from toolkit.corpus._schema import (
    normalise_month,
    normalise_year,
    split_doi,
)

__all__ = ["text_or_none", "add_doi", "clean_title", "add_abstract", "date_parts",
           "Extras", "sort_extras"]

_MONTH_WORD = re.compile(
    r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?(?![a-z])", re.I)
_ISO_MONTH = re.compile(r"^\s*(?:\d{4})?\s*[/-]\s*(\d{1,2})(?!\d)")
_TOKENS = re.compile(r"[^\W_]+")


_UNTIDY = re.compile(r"\s\s|[^\S ]|^\s|\s$")


def _collapse(text: str) -> str:
    return " ".join(text.split()) if _UNTIDY.search(text) else text


class Extras(list[tuple[str, str]]):
    """The ``extra`` pairs of one record; :meth:`add` skips empty values."""

    def add(self, name: str, value: Any) -> None:
        """Append ``(name, value)`` with whitespace collapsed, unless the value is empty."""
        if value is None:
            return
        text = _collapse(value if type(value) is str else str(value))
        if text:
            self.append((name, text))


def sort_extras(extras: list[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """``extra`` in a canonical order: by field name, values of one name in file order.

    Examples
    --------
    >>> sort_extras([("url", "b"), ("language", "en"), ("url", "a")])
    (('language', 'en'), ('url', 'b'), ('url', 'a'))
    """
    return tuple(sorted(extras, key=lambda pair: pair[0]))


def text_or_none(value: Any) -> str | None:
    """Collapse whitespace; ``None`` for empty values.

    Examples
    --------
    >>> text_or_none("  a \\n b "), text_or_none("  ")
    ('a b', None)
    """
    if value is None:
        return None
    text = _collapse(value if type(value) is str else str(value))
    return text or None


def add_doi(row: dict[str, Any], extras: Extras, raws: list[str], notes: list[str],
            name: str = "doi") -> None:
    """Put the first DOI of ``raws`` in ``row["doi"]``, keeping the rest in ``extra``.

    Every other DOI goes to ``extra`` as ``doi``, a value with text that is not a DOI as
    ``doi_raw`` (with a note for the warning).
    """
    for raw in raws:
        dois, leftover = split_doi(raw)
        for doi in dois:
            if row.get("doi") is None:
                row["doi"] = doi
            elif doi != row["doi"]:
                extras.add("doi", doi)
        if leftover:
            extras.add("doi_raw", raw)
            if dois:
                notes.append(f"{name} {text_or_none(raw)!r} holds more than a DOI; the DOI "
                             "was read and the whole value kept in extra as doi_raw")
            else:
                notes.append(f"{name} {text_or_none(raw)!r} is not a DOI; kept in extra as "
                             "doi_raw")


def clean_title(value: Any) -> str | None:
    """Whitespace collapsed, HTML/JATS markup removed.

    Examples
    --------
    >>> clean_title("c.126C &gt; A <i>in vitro</i>")
    'c.126C > A in vitro'
    """
    text = text_or_none(value)
    return clean_markup(text) if text else None


def add_abstract(row: dict[str, Any], extras: Extras, value: Any) -> None:
    """Set ``row["abstract"]``, without markup and publisher boilerplate.

    When the row has an abstract already, ``value`` is kept in ``extra`` as ``abstract``.
    Removed boilerplate goes to ``extra`` as ``abstract_removed``.
    """
    text = clean_title(value)
    if not text:
        return
    text, removed = strip_boilerplate(text)
    extras.add("abstract_removed", removed)
    if not text:
        return
    if row.get("abstract"):
        extras.add("abstract", text)
    else:
        row["abstract"] = text


def date_parts(value: Any) -> tuple[int | None, int | None, bool]:
    """Read a date field: year, month and whether it holds more than that (a day, a season).

    Examples
    --------
    >>> date_parts("2012/07/03"), date_parts("SEP"), date_parts("2002 Sep"), date_parts("2020///")
    ((2012, 7, True), (None, 9, False), (2002, 9, False), (2020, None, False))
    """
    text = text_or_none(value)
    if not text:
        return None, None, False
    year = normalise_year(text)
    month = None
    iso = _ISO_MONTH.match(text)
    if iso and 1 <= int(iso.group(1)) <= 12:
        month = int(iso.group(1))
    else:
        word = _MONTH_WORD.search(text)
        if word:
            month = normalise_month(word.group(1))
        elif text.strip().isdecimal() and len(text.strip()) <= 2:
            month = normalise_month(text)
    tokens = _TOKENS.findall(text)
    if year is not None and str(year) in tokens:
        tokens.remove(str(year))
    if month is not None:
        for token in tokens:
            if (token.isdecimal() and int(token) == month) or (
                    not token.isdecimal() and normalise_month(token) == month):
                tokens.remove(token)
                break
    return year, month, bool(tokens)
