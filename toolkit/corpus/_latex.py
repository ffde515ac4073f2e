r"""BibTeX value handling: ``@string`` macros, ``#`` concatenation, braces and LaTeX to Unicode.

:func:`latex_to_unicode` decodes in one regular-expression pass everything real exports
write: accents in every brace form (``{\"u}``, ``\"{u}``, ``{\'\i}``, ``{\c{c}}``,
``\v s``), named letters and symbols (``{\O}``, ``\ss``, ``{\textless}``, ``\slash``),
escaped specials (``\&``, ``\%``), dashes and quotes (``--``, ````), ``~``, font and
emphasis commands, and inline math (kept verbatim). Only a macro that this table does not
know but pylatexenc does goes to pylatexenc, through one walker context and one converter
built once per process. A command neither knows keeps its argument's text
(``\ch{Mg^{2+}}`` gives ``Mg^2+``) or, without an argument, stays as written, so no
character of the text is dropped silently; an unescaped ``%`` is a percent sign, not a
comment.

:class:`MacroTable` expands ``@string`` macros lazily, only when a field uses them, and
refuses an expansion longer than :data:`MAX_EXPANSION` characters (a few doubling macros
would otherwise need gigabytes).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

__all__ = [
    "MONTH_MACROS",
    "MAX_EXPANSION",
    "MacroTable",
    "MacroError",
    "ValueParts",
    "parse_value",
    "latex_to_unicode",
    "decode_verbatim",
    "strip_braces",
]

#: BibTeX's predefined month macros, as month numbers.
MONTH_MACROS: dict[str, str] = {
    name: str(i)
    for i, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}
#: Longest value (in characters) a chain of ``@string`` macros may expand to.
MAX_EXPANSION = 1_000_000


class MacroError(KeyError):
    """A macro names nothing, refers to itself, or expands beyond :data:`MAX_EXPANSION`."""


# --------------------------------------------------------------------------- values

@dataclass(frozen=True, slots=True)
class ValueParts:
    """A raw field value split into its ``#``-joined parts.

    Attributes
    ----------
    parts : tuple of (kind, text)
        ``("text", ...)`` for a ``{...}`` or ``"..."`` part (delimiters removed), ``("number",
        ...)`` or ``("macro", name)``.
    trailing : str
        Text after the last part that is not a part (empty for a well-formed value): with a
        missing comma, this is the next ``name = value``.
    """

    parts: tuple[tuple[str, str], ...]
    trailing: str = ""


_BRACE = re.compile(r"(?<!\\)[{}]")
_QUOTE_OR_BRACE = re.compile(r'(?<!\\)[{}"]')
_BARE = re.compile(r"[^\s#{}\",=]+")
_SPACE = re.compile(r"\s*")


def _match_brace(raw: str, start: int) -> int:
    """Index of the ``}`` closing the ``{`` at ``start``, or -1."""
    depth = 0
    for mark in _BRACE.finditer(raw, start):
        depth += 1 if mark.group() == "{" else -1
        if depth == 0:
            return mark.start()
    return -1


_PAIR = re.compile(r"\{[^{}]*\}")


def _closes_at_end(raw: str) -> bool:
    """Whether the ``{`` opening ``raw`` is closed by its last ``}`` (regex passes, in C)."""
    inner = raw[1:-1]
    if "\\" in inner:
        inner = inner.replace("\\{", "").replace("\\}", "")
    if "{" not in inner and "}" not in inner:
        return True
    previous = None
    while previous != inner:  # remove innermost pairs until none is left
        previous, inner = inner, _PAIR.sub("", inner)
    return "{" not in inner and "}" not in inner


def _match_quote(raw: str, start: int) -> int:
    """Index of the ``"`` closing the one at ``start`` (quotes inside braces do not count)."""
    depth = 0
    for mark in _QUOTE_OR_BRACE.finditer(raw, start + 1):
        char = mark.group()
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif depth <= 0:
            return mark.start()
    return -1


def parse_value(raw: str) -> ValueParts:
    """Split a raw BibTeX value (as bibtexparser's splitter returns it) into parts.

    Examples
    --------
    >>> parse_value('jnl # { 2020}').parts
    (('macro', 'jnl'), ('text', ' 2020'))
    >>> parse_value('{x}\\n  year = {2020}').trailing
    'year = {2020}'
    """
    raw = raw.strip()
    if raw.startswith("{") and raw.endswith("}") and "#" not in raw and _closes_at_end(raw):
        return ValueParts((("text", raw[1:-1]),))  # the common case: one braced value
    if raw.isdigit():
        return ValueParts((("number", raw),))
    parts: list[tuple[str, str]] = []
    pos, size = 0, len(raw)
    expect_part = True
    while pos < size:
        pos = _SPACE.match(raw, pos).end()  # type: ignore[union-attr]
        if pos >= size:
            break
        char = raw[pos]
        if not expect_part:
            if char != "#":
                return ValueParts(tuple(parts), raw[pos:])
            expect_part = True
            pos += 1
            continue
        if char == "{":
            end = _match_brace(raw, pos)
            if end < 0:
                return ValueParts(tuple(parts), raw[pos:])
            parts.append(("text", raw[pos + 1:end]))
            pos = end + 1
        elif char == '"':
            end = _match_quote(raw, pos)
            if end < 0:
                return ValueParts(tuple(parts), raw[pos:])
            parts.append(("text", raw[pos + 1:end]))
            pos = end + 1
        else:
            bare = _BARE.match(raw, pos)
            if bare is None:
                return ValueParts(tuple(parts), raw[pos:])
            word = bare.group()
            parts.append(("number" if word.isdigit() else "macro", word))
            pos = bare.end()
        expect_part = False
    return ValueParts(tuple(parts))


class MacroTable:
    """``@string`` macros, expanded lazily with a size cap.

    Parameters
    ----------
    definitions : iterable of (name, raw value)
        In file order; a later definition of a name replaces an earlier one (as BibTeX
        does). Names are compared case-insensitively.
    limit : int
        Longest expansion allowed, in characters.

    Examples
    --------
    >>> table = MacroTable([("a", '"ab"'), ("b", "a # a")])
    >>> table.expand(parse_value("b # { c}"))
    'abab c'
    """

    def __init__(self, definitions: Iterable[tuple[str, str]] = (), *,
                 limit: int = MAX_EXPANSION) -> None:
        self.limit = limit
        self._raw: dict[str, ValueParts] = {}
        for name, value in definitions:
            self._raw[name.strip().lower()] = parse_value(value)
        self._length: dict[str, int] = {}
        self._text: dict[str, str] = {}

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (name.lower() in self._raw
                                          or name.lower() in MONTH_MACROS)

    def names(self) -> list[str]:
        """Names of the defined macros (lower case)."""
        return list(self._raw)

    def _part_length(self, kind: str, text: str) -> int | str:
        """Length of one part, or the name of a macro whose length is still unknown."""
        if kind != "macro":
            return len(text)
        name = text.lower()
        if name in self._length:
            return self._length[name]
        if name in self._raw:
            return name
        if name in MONTH_MACROS:
            return len(MONTH_MACROS[name])
        raise MacroError(text)

    def length(self, name: str) -> int:
        """Length of a macro's expansion, computed without expanding it (iteratively)."""
        name = name.lower()
        if name in self._length:
            return self._length[name]
        stack, visiting = [name], {name}
        while stack:
            current = stack[-1]
            if current not in self._raw:
                raise MacroError(current)
            total, pending = 0, None
            for kind, text in self._raw[current].parts:
                size = self._part_length(kind, text)
                if isinstance(size, str):
                    pending = size
                    break
                total += size
            if pending is not None:
                if pending in visiting:
                    raise MacroError(f"{pending} (defined in terms of itself)")
                visiting.add(pending)
                stack.append(pending)
                continue
            self._length[current] = total
            visiting.discard(current)
            stack.pop()
        return self._length[name]

    def expand(self, value: ValueParts) -> str:
        """Join the parts of ``value``, expanding macros.

        Raises
        ------
        MacroError
            For an undefined or self-referring macro, or an expansion longer than
            ``limit``.
        """
        if len(value.parts) == 1 and value.parts[0][0] != "macro":
            return value.parts[0][1]
        total = 0
        for kind, text in value.parts:
            if kind == "macro" and text.lower() in self._raw:
                total += self.length(text)
            elif kind == "macro" and text.lower() not in MONTH_MACROS:
                raise MacroError(text)
            else:
                total += len(text)
            if total > self.limit:
                raise MacroError(f"{text} (expands to more than {self.limit:,} characters)")
        return "".join(self._text_of(kind, text) for kind, text in value.parts)

    def _text_of(self, kind: str, text: str) -> str:
        if kind != "macro":
            return text
        name = text.lower()
        if name not in self._raw:
            return MONTH_MACROS[name]
        if name not in self._text:
            self.length(name)  # raises on cycles and undefined names first
            order = [name]
            index = 0
            while index < len(order):  # every macro this one needs, iteratively
                for part_kind, part in self._raw[order[index]].parts:
                    sub = part.lower()
                    if part_kind == "macro" and sub in self._raw and sub not in self._text \
                            and sub not in order:
                        order.append(sub)
                index += 1
            for current in reversed(order):  # dependencies are expanded before users
                self._text[current] = "".join(
                    (self._text.get(p.lower()) or MONTH_MACROS.get(p.lower(), "")
                     if k == "macro" else p)
                    for k, p in self._raw[current].parts)
        return self._text[name]


def resolve_value(raw: str, macros: Mapping[str, str]) -> str:
    """Resolve one raw BibTeX value with a plain mapping of already expanded macros.

    Kept for callers outside the readers; :class:`MacroTable` is what the reader uses.

    Examples
    --------
    >>> resolve_value('jnl # { 2020}', {"jnl": "J. Tests"})
    'J. Tests 2020'
    """
    pieces = []
    for kind, text in parse_value(raw).parts:
        if kind != "macro":
            pieces.append(text)
        elif text.lower() in macros:
            pieces.append(macros[text.lower()])
        elif text.lower() in MONTH_MACROS:
            pieces.append(MONTH_MACROS[text.lower()])
        else:
            raise MacroError(text)
    return "".join(pieces)


# --------------------------------------------------------------------------- LaTeX

_COMBINING = {
    '"': "\u0308", "'": "\u0301", "`": "\u0300", "^": "\u0302", "~": "\u0303",
    "=": "\u0304", ".": "\u0307", "u": "\u0306", "v": "\u030c", "H": "\u030b",
    "c": "\u0327", "k": "\u0328", "r": "\u030a", "d": "\u0323", "b": "\u0331",
    "t": "\u0361", "G": "\u030f", "U": "\u030e", "h": "\u0309",
}
#: Named macros and the text they stand for.
NAMED: dict[str, str] = {
    "ss": "ß", "SS": "SS", "o": "ø", "O": "Ø", "ae": "æ", "AE": "Æ", "oe": "œ", "OE": "Œ",
    "aa": "å", "AA": "Å", "l": "ł", "L": "Ł", "i": "ı", "j": "ȷ", "dh": "ð", "DH": "Ð",
    "th": "þ", "TH": "Þ", "ng": "ŋ", "NG": "Ŋ", "dj": "đ", "DJ": "Đ",
    "textless": "<", "textgreater": ">", "slash": "/", "textbackslash": "\\",
    "textbraceleft": "{", "textbraceright": "}", "textasciitilde": "~",
    "textasciicircum": "^", "textunderscore": "_", "textbar": "|", "textdollar": "$",
    "textpercent": "%", "textampersand": "&", "textendash": "\u2013", "textemdash": "\u2014",
    "textquoteleft": "\u2018", "textquoteright": "\u2019", "textquotedblleft": "\u201c",
    "textquotedblright": "\u201d", "textquotesingle": "'", "textquotedbl": '"',
    "textquotestraightdblbase": "\u201e", "quotedblbase": "\u201e", "quotesinglbase": "\u201a",
    "guillemotleft": "\u00ab", "guillemotright": "\u00bb", "guillemetleft": "\u00ab",
    "guillemetright": "\u00bb", "guilsinglleft": "\u2039", "guilsinglright": "\u203a",
    "ldots": "\u2026", "dots": "\u2026", "textellipsis": "\u2026", "textdegree": "\u00b0",
    "textregistered": "\u00ae", "texttrademark": "\u2122", "textcopyright": "\u00a9",
    "copyright": "\u00a9", "S": "\u00a7", "P": "\u00b6", "textsection": "\u00a7",
    "textparagraph": "\u00b6", "pounds": "\u00a3", "textsterling": "\u00a3", "euro": "\u20ac",
    "texteuro": "\u20ac", "textyen": "\u00a5", "textcent": "\u00a2",
    "textperiodcentered": "\u00b7", "textbullet": "\u2022", "textdagger": "\u2020",
    "dag": "\u2020", "textdaggerdbl": "\u2021", "ddag": "\u2021", "textmu": "\u00b5",
    "textpm": "\u00b1", "texttimes": "\u00d7", "textdiv": "\u00f7", "textonehalf": "\u00bd",
    "textonequarter": "\u00bc", "textthreequarters": "\u00be", "textexclamdown": "\u00a1",
    "textquestiondown": "\u00bf", "textordfeminine": "\u00aa", "textordmasculine": "\u00ba",
    "textnumero": "\u2116", "textasteriskcentered": "*", "textvisiblespace": "\u2423",
    "LaTeX": "LaTeX", "TeX": "TeX", "LaTeXe": "LaTeX2e", "BibTeX": "BibTeX",
    "xspace": "", "relax": "", "protect": "", "noopsort": "", "hbox": "", "mbox": "",
    "null": "", "nobreak": "", "allowbreak": "", "break": " ", "newline": " ",
    "par": " ", "quad": " ", "qquad": " ", "enspace": " ", "thinspace": " ",
    "space": " ", "nobreakspace": " ", "backslash": "\\",
}
#: Commands whose argument is kept as text (emphasis, fonts, boxes) or switches dropped.
FORMAT = frozenset({
    "emph", "textit", "textbf", "textsc", "texttt", "textrm", "textsf", "textup", "textsl",
    "textmd", "textnormal", "text", "textsuperscript", "textsubscript", "uppercase",
    "lowercase", "MakeUppercase", "MakeLowercase", "ensuremath", "url", "path", "nolinkurl",
    "em", "it", "bf", "sc", "tt", "rm", "sf", "sl", "up", "md", "normalfont", "itshape",
    "bfseries", "scshape", "ttfamily", "rmfamily", "sffamily", "upshape", "slshape",
    "mdseries", "small", "footnotesize", "scriptsize", "tiny", "large", "Large", "LARGE",
    "huge", "Huge", "normalsize", "textenglish",
})
_SYMBOLS = {
    "&": "&", "%": "%", "$": "$", "#": "#", "_": "_", "{": "{", "}": "}", " ": " ",
    "\n": " ", "\t": " ", ",": " ", ";": " ", ":": " ", ">": " ", "!": "", "-": "",
    "/": "", "\\": " ", "@": "",
}
_ACCENT_CHARS = "\"'`^~=."
_LETTER_ACCENTS = "cvuHkrdbtGUh"
_TOKEN = re.compile(
    r"""\\(?P<keep>(?:cite|Cite|parencite|textcite|autocite|footcite|nocite)[a-zA-Z]*\*?
                  (?:\[[^\]]*\])*\{(?:[^{}]|\{[^{}]*\})*\}
                  |(?:ref|eqref|pageref|autoref|label)\{(?:[^{}]|\{[^{}]*\})*\})
      |\\(?P<acc>["'`^~=.])[ \t]*(?:\{[ \t]*(?P<a1>\\[ij](?![A-Za-z])|[A-Za-z]?)[ \t]*\}
                                     |(?P<a2>\\[ij](?![A-Za-z])|[A-Za-z]))
      |\\(?P<lacc>[cvuHkrdbtGUh])(?:[ \t]*\{[ \t]*(?P<l1>\\[ij](?![A-Za-z])|[A-Za-z]?)[ \t]*\}
                                  |[ \t]+(?P<l2>[A-Za-z]))
      |\\(?P<name>[A-Za-z]+)(?P<sp>[ \t\n]*)
      |\\(?P<sym>[^A-Za-z])
      |\$(?P<math>[^$]+)\$
      |(?P<lig>---|--|``|'')
      |(?P<brace>[{}])
      |(?P<tilde>~)""",
    re.X,
)
_NEEDS_WORK = re.compile(r"[\\{}$~]|--|``|''")


def _combine(base: str, accent: str) -> str:
    if base in ("\\i", "\\j"):
        base = base[1]
    if not base:  # \~{} and \^{} are the characters themselves
        return {"~": "~", "^": "^", '"': '"', "'": "'", "`": "`", "=": "=", ".": "."}.get(
            accent, "")
    return unicodedata.normalize("NFC", base + _COMBINING[accent])


class _NeedsFallback(Exception):
    pass


def _replace(match: re.Match[str]) -> str:
    group = match.lastgroup
    if group == "keep":  # a citation or reference: the key is data, kept as written
        return match.group(0)
    if group in ("acc", "a1", "a2"):
        base = match.group("a1") if match.group("a1") is not None else match.group("a2")
        return _combine(base or "", match.group("acc"))
    if group in ("lacc", "l1", "l2"):
        base = match.group("l1") if match.group("l1") is not None else match.group("l2")
        return _combine(base or "", match.group("lacc"))
    if group in ("name", "sp"):
        name = match.group("name")
        if name in NAMED:
            return NAMED[name]
        if name in FORMAT:
            return ""
        if name in _pylatexenc()[2]:
            raise _NeedsFallback(name)
        if match.string.startswith("{", match.end()):
            return ""  # unknown command with an argument: the argument's text stays
        return match.group(0)  # unknown symbol-like command: kept as written
    if group == "sym":
        char = match.group("sym")
        return _SYMBOLS.get(char, char)
    if group == "math":
        return match.group(0)
    if group == "lig":
        return {"---": "\u2014", "--": "\u2013", "``": "\u201c", "''": "\u201d"}[
            match.group("lig")]
    if group == "tilde":
        return " "
    return ""  # protective braces


def latex_to_unicode(text: str) -> str:
    """Turn LaTeX markup into plain Unicode and collapse whitespace.

    ``{\\"o}`` and ``\\"o`` give ``ö``, ``{\\ss}`` gives ``ß``, ``--`` an en dash,
    ``{\\textless}`` ``<``, and protective braces disappear. Math (``$x^2$``) is kept
    verbatim; an unescaped ``%`` is kept (BibTeX values are not LaTeX comments).

    Examples
    --------
    >>> latex_to_unicode(r'M{\\"u}ller -- {\\ss} \\'etude {DNA}')
    'Müller – ß étude DNA'
    >>> latex_to_unicode(r'p {\\textless} 0.001, 50\\% \\& $x^2$~levels')
    'p < 0.001, 50% & $x^2$ levels'
    """
    if not _NEEDS_WORK.search(text):  # fast path: plain text
        return " ".join(text.split())
    try:
        converted = _TOKEN.sub(_replace, text)
    except _NeedsFallback:
        converted = _fallback(text)
    return " ".join(converted.split())


_VERBATIM_ESCAPE = re.compile(r"\\([_%&#~$\\{} ])")


def decode_verbatim(text: str) -> str:
    r"""Decode a URL-like field: unescaped braces removed, ``\%`` ``\_`` ``\{`` ... unescaped.

    Examples
    --------
    >>> decode_verbatim(r"{https://x.org/a\_b\%20c}")
    'https://x.org/a_b%20c'
    """
    text = _BRACE.sub("", text)
    if "\\" in text:
        text = _VERBATIM_ESCAPE.sub(r"\1", text)
    return " ".join(text.split())


def strip_braces(text: str) -> str:
    """Remove unescaped ``{`` and ``}`` from ``text``.

    Examples
    --------
    >>> strip_braces("{Micro}-credentials")
    'Micro-credentials'
    """
    return _BRACE.sub("", text)


# --------------------------------------------------------------------------- pylatexenc

_EXTRA_SPECS = {"textless": "<", "textgreater": ">", "slash": "/", "textbraceleft": "{",
                "textbraceright": "}", "textbar": "|", "textunderscore": "_"}


@lru_cache(maxsize=1)
def _pylatexenc() -> tuple[Any, Any, frozenset[str]]:
    """Build pylatexenc's walker context and converter once per process.

    Returns the walker context, the converter and the names of the macros pylatexenc
    knows (before the catch-all for unknown macros is added).
    """
    from pylatexenc import latex2text, latexwalker

    walker_context = latexwalker.get_default_latex_context_db()
    text_context = latex2text.get_default_latex_context_db()
    known = frozenset(spec.macroname for category in text_context.categories()
                      for spec in text_context.iter_macro_specs([category]))
    text_context.add_context_category(
        "slr-toolkit", prepend=True,
        macros=[latex2text.MacroTextSpec(name, simplify_repl=value)
                for name, value in _EXTRA_SPECS.items()],
    )
    text_context.set_unknown_macro_spec(
        latex2text.MacroTextSpec("", simplify_repl=lambda node: "\\" + node.macroname + " "))
    converter = latex2text.LatexNodes2Text(latex_context=text_context, math_mode="verbatim",
                                           keep_comments=True, strict_latex_spaces=True)
    return walker_context, converter, known


_PERCENT = re.compile(r"(?<!\\)%")


def _fallback(text: str) -> str:
    """Convert with pylatexenc (reused context); never raises, never drops text silently."""
    from pylatexenc import latexwalker

    walker_context, converter, _ = _pylatexenc()
    source = _PERCENT.sub(r"\\%", text)
    try:
        walker = latexwalker.LatexWalker(source, latex_context=walker_context,
                                         tolerant_parsing=True)
        return str(converter.nodelist_to_text(walker.get_latex_nodes()[0]))
    except Exception:  # noqa: BLE001 - pylatexenc raises assorted errors on broken input
        return strip_braces(text)
