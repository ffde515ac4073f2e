"""BibTeX value handling: ``@string`` macros, ``#`` concatenation, braces and LaTeX accents."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

from pylatexenc.latex2text import LatexNodes2Text

__all__ = ["MONTH_MACROS", "resolve_value", "latex_to_unicode", "strip_braces"]

#: BibTeX's predefined month macros, as month numbers.
MONTH_MACROS: dict[str, str] = {
    name: str(i)
    for i, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}


class UnknownMacroError(KeyError):
    """A bare word in a value names no ``@string`` macro."""


def _split_concatenation(raw: str) -> list[str]:
    """Split ``a # {b} # "c"`` on ``#`` outside braces and quotes."""
    parts: list[str] = []
    depth = 0
    in_quotes = False
    start = 0
    for i, char in enumerate(raw):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == '"' and depth == 0 and (i == 0 or raw[i - 1] != "\\"):
            in_quotes = not in_quotes
        elif char == "#" and depth == 0 and not in_quotes:
            parts.append(raw[start:i].strip())
            start = i + 1
    parts.append(raw[start:].strip())
    return parts


def resolve_value(raw: str, macros: Mapping[str, str]) -> str:
    """Resolve one raw BibTeX field value to its LaTeX text (enclosing delimiters removed).

    Parameters
    ----------
    raw : str
        The value as written, e.g. ``jnl # { 2020}`` or ``"A {B}"`` or ``{x}``.
    macros : mapping
        ``@string`` macros (lower-case names) already resolved to LaTeX text; month macros
        are always known.

    Returns
    -------
    str
        The concatenated value, inner braces kept (they matter for names and case).

    Raises
    ------
    UnknownMacroError
        When a bare word is neither a number nor a known macro.

    Examples
    --------
    >>> resolve_value('jnl # { 2020}', {"jnl": "J. Tests"})
    'J. Tests 2020'
    """
    pieces = []
    for part in _split_concatenation(raw.strip()):
        if not part:
            continue
        if (part[0] == "{" and part[-1] == "}") or (part[0] == '"' and part[-1] == '"'):
            pieces.append(part[1:-1])
        elif part.isdigit():
            pieces.append(part)
        else:
            name = part.lower()
            if name in macros:
                pieces.append(macros[name])
            elif name in MONTH_MACROS:
                pieces.append(MONTH_MACROS[name])
            else:
                raise UnknownMacroError(part)
    return "".join(pieces)


@lru_cache(maxsize=1)
def _converter() -> LatexNodes2Text:
    return LatexNodes2Text(math_mode="verbatim", keep_comments=False, strict_latex_spaces=True)


_NEEDS_LATEX = re.compile(r"[\\$]")
_PLAIN_REPLACEMENTS = (("---", "\u2014"), ("--", "\u2013"), ("``", "\u201c"), ("''", "\u201d"),
                       ("~", " "))


def latex_to_unicode(text: str) -> str:
    """Turn LaTeX markup into plain Unicode and collapse whitespace.

    ``{\\"o}`` and ``\\"o`` give ``ö``, ``{\\ss}`` gives ``ß``, ``--`` an en dash, and protective
    braces disappear. Math (``$x^2$``) is kept verbatim.

    Examples
    --------
    >>> latex_to_unicode(r'M{\\"u}ller -- {\\ss} \\'etude {DNA}')
    'Müller – ß étude DNA'
    """
    if not _NEEDS_LATEX.search(text):  # fast path: no macros, no math
        for old, new in _PLAIN_REPLACEMENTS:
            text = text.replace(old, new)
        return " ".join(strip_braces(text).split())
    try:
        converted = _converter().latex_to_text(text)
    except Exception:  # pylatexenc raises assorted errors on malformed input  # noqa: BLE001
        converted = strip_braces(text)
    return " ".join(converted.split())


def strip_braces(text: str) -> str:
    """Remove unescaped ``{`` and ``}`` from ``text``.

    Examples
    --------
    >>> strip_braces("{Micro}-credentials")
    'Micro-credentials'
    """
    return re.sub(r"(?<!\\)[{}]", "", text)
