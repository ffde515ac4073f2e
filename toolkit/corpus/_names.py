"""BibTeX names as ``"Family, Given"`` in Unicode.

The common shapes (``Family, Given``, ``Given Family``, accents in special-character braces)
are split here directly; anything else (institutional names in braces, ``von`` parts with
braces, three or more commas) goes to bibtexparser's full name parser.
"""

from __future__ import annotations

import re

from bibtexparser.middlewares.names import (
    InvalidNameError,
    parse_single_name_into_parts,
    split_multiple_persons_names,
)

from toolkit.corpus._latex import latex_to_unicode

__all__ = ["format_name", "people"]

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
    if text.count(",") == 1:  # the usual "Family, Given"
        family, _, given = text.partition(",")
        family, given = family.strip(), given.strip()
        if not family:
            return None
        return f"{family}, {given}" if given else family
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


def people(raw: str) -> tuple[str, ...]:
    out = []
    for name in _split_names(raw):
        formatted = _fast_name(name)
        if formatted is None:
            formatted = format_name(name)
        if formatted:
            out.append(formatted)
    return tuple(out)
