"""Text cleaning the readers share: markup, publisher boilerplate, field names.

What is removed is either formatting (HTML/JATS/MathML tags) or kept by the caller in
``extra`` (boilerplate), so cleaning never loses text a reviewer could need.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

__all__ = ["clean_markup", "strip_boilerplate", "field_key"]

_TAG = re.compile(
    r"</?(?:[A-Za-z][\w.-]*:)?[A-Za-z][\w.-]*"
    r"(?:\s+[\w:.-]+\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>]+))*\s*/?>")
_MARKUP_HINT = re.compile(r"</[A-Za-z]|<(?:br|p|hr)\s*/?>|<[A-Za-z][\w.-]*:[A-Za-z]", re.I)
_ENTITY = re.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_BOILERPLATE = (
    ("abstract from", re.compile(
        r"\s*\[(?:ABSTRACT|Abstract) (?:FROM|from) [A-Za-z ]{3,40}\]\s*")),
    ("copyright of", re.compile(r"\s*\bCopyright of\s.{1,400}?\sis the property of\s.*$",
                                re.S)),
)
_COPYRIGHT_MARK = re.compile(
    r"(?:Crown\s+)?(?:Copyright\b\s*(?:\([cC]\)|\u00a9)?|\u00a9|\([cC]\))")
_COPYRIGHT_TAIL = 400


_BLOCK_TAGS = frozenset({
    "p", "br", "div", "title", "sec", "list", "list-item", "li", "ul", "ol", "table", "tr",
    "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "abstract", "section", "label",
    "caption", "blockquote", "para", "etx",
})


def _tag_space(match: re.Match[str]) -> str:
    name = re.match(r"</?(?:[\w.-]+:)?([\w.-]+)", match.group())
    return " " if name and name.group(1).lower() in _BLOCK_TAGS else ""


def clean_markup(text: str | None) -> str | None:
    """Remove HTML/JATS/MathML tags and decode character entities, collapsing whitespace.

    Only text that shows markup (a closing tag, ``<p>``, ``<br>`` or a ``jats:`` prefix) loses
    its tags, so ``p<0.05 and a>b`` stays as written.

    Examples
    --------
    >>> clean_markup("<jats:p>Effects of X<sup>2</sup> &amp; Y</jats:p>")
    'Effects of X2 & Y'
    >>> clean_markup("p<0.05 and q>1")
    'p<0.05 and q>1'
    """
    if text is None:
        return None
    if "<" in text and _MARKUP_HINT.search(text):
        text = _TAG.sub(_tag_space, text)
    if "&" in text and _ENTITY.search(text):
        text = html.unescape(text)
    return " ".join(text.split())


def strip_boilerplate(abstract: str | None) -> tuple[str | None, str]:
    """Split publisher boilerplate off an abstract.

    Removes ``[ABSTRACT FROM AUTHOR]``-style tags, EBSCO's "Copyright of ... is the property
    of ..." paragraph and a final copyright sentence (``© 2020 Elsevier Ltd. All rights
    reserved.``) when it names a year, "rights reserved" or "published by".

    Returns
    -------
    abstract : str or None
        The abstract without boilerplate (``None`` if nothing else was left).
    removed : str
        The removed text (empty when nothing was removed), for ``extra``.

    Examples
    --------
    >>> strip_boilerplate("We found X. (C) 2019 Elsevier Ltd. All rights reserved.")
    ('We found X.', '(C) 2019 Elsevier Ltd. All rights reserved.')
    >>> strip_boilerplate("Copyright law shapes reuse.")
    ('Copyright law shapes reuse.', '')
    """
    if not abstract:
        return abstract, ""
    removed: list[str] = []
    text = abstract
    low = text.lower()
    for needle, pattern in _BOILERPLATE:
        if needle in low:
            removed.extend(m.group().strip() for m in pattern.finditer(text))
            text = pattern.sub(" ", text).strip()
    if "\u00a9" in text[-_COPYRIGHT_TAIL - 20:] or "(c)" in low[-_COPYRIGHT_TAIL - 20:] or \
            "copyright" in low[-_COPYRIGHT_TAIL - 20:]:
        tail_start = max(0, len(text) - _COPYRIGHT_TAIL)
        for mark in _COPYRIGHT_MARK.finditer(text, tail_start):
            before = text[:mark.start()].rstrip()
            if not before:  # the whole abstract: leave it
                break
            if before[-1] not in ".!?]":
                continue
            tail = text[mark.start():]
            if re.search(r"\b(?:19|20)\d\d\b|rights reserved|published by", tail, re.I):
                removed.append(tail.strip())
                text = before
            break
    text = " ".join(text.split())
    return (text or None), " ".join(removed)


_FIELD_KEY = re.compile(r"[^0-9a-z_.:+/-]+")


@lru_cache(maxsize=4096)
def field_key(name: str) -> str:
    """Normalise a field or column name for ``extra``: lower case, other characters ``_``.

    A leading special character stays visible (``%month``, a field someone commented out,
    becomes ``_month``, not ``month``).

    Examples
    --------
    >>> field_key("funding_text 1"), field_key("Author(s) ID")
    ('funding_text_1', 'author_s_id')
    >>> field_key("Web-of-Science-Categories")
    'web-of-science-categories'
    """
    key = _FIELD_KEY.sub("_", str(name).strip().lower()).rstrip("_")
    return key or "field"
