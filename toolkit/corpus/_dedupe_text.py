"""Title and text normalisers for de-duplication.

What two exports of one title still share once markup, HTML entities, language tags
("[Japanese]", "[Article in German]"), database tags ("[Review]"), accents, case and
punctuation are gone; which numbers and acronyms a title names (so "Part 1" and "Part 2"
stay apart); whether it is a notice about another work (erratum, correction, reply,
supplementary material); and how specific it is.
"""

from __future__ import annotations

import html
import re
import unicodedata
from typing import Any

import pandas as pd

__all__ = [
    "normalise_title",
    "strip_title_tags",
    "fold_text",
    "title_numbers",
    "title_acronyms",
    "title_kind",
    "title_strength",
]


_NULL_WORDS = {"", "nan", "na", "n/a", "none", "null", "<na>"}


def _missing(value: Any) -> bool:
    """Return True for None, NA, NaN, blank text and the "NA"/"nan" that R and pandas write."""
    if value is None or value is pd.NA:
        return True
    if isinstance(value, float) and value != value:
        return True
    return isinstance(value, str) and value.strip().casefold() in _NULL_WORDS


# --- titles ---------------------------------------------------------------------------

_LANGUAGES = (
    "afrikaans|albanian|arabic|bosnian|bulgarian|catalan|chinese|croatian|czech|danish|dutch|"
    "english|esperanto|estonian|finnish|french|georgian|german|greek|hebrew|hindi|hungarian|"
    "icelandic|indonesian|irish|italian|japanese|korean|latin|latvian|lithuanian|macedonian|"
    "malay|norwegian|persian|polish|portuguese|romanian|russian|serbian|slovak|slovene|"
    "slovenian|spanish|swedish|thai|turkish|ukrainian|urdu|vietnamese|welsh|multiple languages"
)
_LANG = rf"(?:{_LANGUAGES})"
#: "[Japanese]", "[Article in German]", "(Spanish)", "[Text in French with English abstract]",
#: "[In Russian]", "[German, English]" at the end of a title (MEDLINE, Embase, WoS forms).
_LANGUAGE_TAG = re.compile(
    rf"\s*[\[(]\s*(?:(?:article|text|abstract|full text|published)\s+)?(?:(?:written\s+)?in\s+)?"
    rf"{_LANG}(?:\s*(?:,|/|;|&|and)\s*{_LANG})*"
    rf"(?:\s*[,;]?\s*(?:with\s+)?(?:an?\s+)?(?:{_LANG}\s+)?(?:abstract|summary)s?)?\s*[\])]\s*\.?\s*$",
    re.IGNORECASE,
)
#: ". German" / ". Japanese." left at the very end when the tag lost its brackets.
_BARE_LANGUAGE_END = re.compile(rf"\.\s*{_LANG}\s*\.?\s*$", re.IGNORECASE)
#: Editorial tags databases add to the end of a title.
_TRAILING_TAGS = re.compile(
    r"\s*(?:\[(?:review|[0-9]+\s+refs?|see comments?|editorial|abstract|comment|"
    r"published erratum appears in[^\]]*|erratum in[^\]]*|corrected[^\]]*)\]|"
    r"\((?:author'?s?'? transl|review)\))\s*\.?\s*$",
    re.IGNORECASE,
)
#: ``RETRACTED ARTICLE:`` and ``Retracted:`` mark the article itself, so they are dropped.
_RETRACTED_MARK = re.compile(r"^\s*(?:retracted(?:\s+article)?\s*[:.-]\s*)", re.IGNORECASE)
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9:._-]*(?:\s[^<>]{0,200})?/?>")
_BRACKETED = re.compile(r"^\s*\[(.+)\]\s*\.?\s*$", re.DOTALL)

#: Letters NFKD does not take apart, and symbols databases spell out.
_SPECIAL = {
    "ø": "o", "Ø": "o", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "đ": "d", "Đ": "d",
    "ł": "l", "Ł": "l", "ı": "i", "ð": "d", "Ð": "d", "þ": "th", "Þ": "th", "ß": "ss",
    "&": " and ", "µ": " mu ", "×": " x ",
}


def _fold_char(char: str) -> str:
    """Fold one character: Greek spelt out, accents off, lower case, non-word to a space."""
    if char in _SPECIAL:
        return _SPECIAL[char]
    name = unicodedata.name(char, "")
    if name.startswith("GREEK") and "LETTER" in name and "WITH" not in name:
        return " " + name.rsplit(" ", 1)[-1].lower() + " "
    if name == "GREEK PHI SYMBOL":
        return " phi "
    decomposed = unicodedata.normalize("NFKD", char)
    folded = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return "".join(c if c.isalnum() else " " for c in folded)


class _FoldTable(dict):
    """``str.translate`` table that folds each character once, then remembers it."""

    def __missing__(self, code: int) -> str:
        value = _fold_char(chr(code))
        self[code] = value
        return value


_FOLD_TABLE = _FoldTable()


def strip_title_tags(title: str) -> str:
    """Remove markup, HTML entities, language tags and database tags from a raw title.

    Examples
    --------
    >>> strip_title_tags("Effect of <i>E. coli</i> on mice [Article in Japanese]")
    'Effect of E. coli on mice'
    >>> strip_title_tags("[Treatment of gout]. [German]")
    'Treatment of gout'
    """
    text = title
    if "&" in text:
        text = html.unescape(html.unescape(text))
    if "<" in text:
        text = _TAG.sub(" ", text)
    if text[:1] in "Rr":
        text = _RETRACTED_MARK.sub("", text)
    previous = None
    while previous != text:
        previous = text
        if text[-1:] in ")].":
            text = _LANGUAGE_TAG.sub("", text)
            text = _TRAILING_TAGS.sub("", text)
        if "." in text:
            text = _BARE_LANGUAGE_END.sub("", text)
        text = text.strip().rstrip(".").strip()
        match = _BRACKETED.match(text) if text[:1] == "[" else None
        if match:
            text = match.group(1)
    return " ".join(text.split())


def fold_text(text: str) -> str:
    """Casefold, spell Greek letters out, strip accents, punctuation to spaces.

    Examples
    --------
    >>> fold_text("Müller's α-Synuclein & TNF‐β")
    'muller s alpha synuclein and tnf beta'
    """
    return " ".join(text.translate(_FOLD_TABLE).split())


def normalise_title(title: Any) -> str:
    """Return the form of a title that two exports of one work share.

    Markup (``<i>``, JATS tags) and HTML entities go, language tags such as
    ``[Japanese]`` or ``[Article in German]`` and database tags such as ``[Review]`` go,
    a title wholly in square brackets (MEDLINE's translated titles) loses them; then
    accents, case and punctuation are folded and Greek letters spelt out.

    Examples
    --------
    >>> normalise_title("Micro-Credentials: a Review!"), normalise_title(None)
    ('micro credentials a review', '')
    >>> normalise_title("Sleep in shift workers [Japanese]")
    'sleep in shift workers'
    """
    if _missing(title):
        return ""
    return fold_text(strip_title_tags(str(title)))


_ROMAN = {"ii": 2, "iii": 3, "iv": 4, "vi": 6, "vii": 7, "viii": 8, "ix": 9, "xi": 11,
          "xii": 12, "xiii": 13, "xiv": 14, "xv": 15}
_SERIES_WORDS = {"part", "phase", "volume", "vol", "chapter", "study", "trial", "type",
                 "stage", "section", "book", "series", "no", "number", "report"}
_SERIES_ROMAN = {"i": 1, "v": 5, "x": 10}
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
             "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10}
_ORDINAL = re.compile(r"^(\d+)(?:st|nd|rd|th)$")


_ACRONYM = re.compile(r"(?<![\w-])[A-Z][A-Z0-9]{1,5}s?(?![\w-])")


def title_numbers(tokens: list[str]) -> tuple[str, ...]:
    """Return the numbers a normalised title names, sorted (roman numerals as digits).

    Two titles whose numbers conflict are different works: "Part 1" and "Part 2", "Study II"
    and "Study III", the 2019 and 2020 update of a guideline.

    Examples
    --------
    >>> title_numbers("gout part ii 2019 update".split())
    ('2', '2019')
    >>> title_numbers("trial phase i".split())
    ('1',)
    >>> title_numbers("2nd workshop".split()), title_numbers("second workshop".split())
    (('2',), ('2',))
    """
    found = []
    for pos, token in enumerate(tokens):
        if token.isdigit():
            found.append(str(int(token)))
        elif token in _ORDINALS:
            found.append(str(_ORDINALS[token]))
        elif _ORDINAL.match(token):
            found.append(str(int(_ORDINAL.match(token).group(1))))
        elif token in _ROMAN:
            found.append(str(_ROMAN[token]))
        elif token in _SERIES_ROMAN and pos and tokens[pos - 1] in _SERIES_WORDS:
            found.append(str(_SERIES_ROMAN[token]))
    return tuple(sorted(found))


def title_acronyms(raw: str) -> tuple[str, ...]:
    """Return the acronyms of a raw title (``ATSP``, ``COVID``), sorted.

    A title written all in capitals or all in lower case gives ``()``: its acronyms cannot
    be told apart. Heuristics "for the ATSP" and "for the STSP" are two works.

    Examples
    --------
    >>> title_acronyms("Experimental analysis of heuristics for the ATSP")
    ('atsp',)
    >>> title_acronyms("EXPERIMENTAL ANALYSIS FOR THE ATSP"), title_acronyms("Type II diabetes")
    ((), ())
    """
    if not raw or not any(c.islower() for c in raw) or not any(c.isupper() for c in raw):
        return ()
    found = set()
    for word in _ACRONYM.findall(raw):
        word = word.lower()
        word = word[:-1] if len(word) > 3 and word.endswith("s") else word
        if word not in _ROMAN and word not in _SERIES_ROMAN:
            found.add(word)
    return tuple(sorted(found))


_NOTICE = re.compile(
    r"^(?:erratum|errata|corrigendum|corrigenda|correction|author correction|"
    r"publisher correction|retraction(?: note)?|notice of retraction|expression of concern|"
    r"editorial expression of concern|comment on|comments on|commentary on|reply to|"
    r"response to|in reply|author reply|authors reply|reply|supplementary material|"
    r"supplementary data|supplemental material|supplemental data|supporting information|"
    r"online supplement)\b"
)
_NOTICE_END = re.compile(r"\b(?:erratum|corrigendum|retraction notice)$")


def title_kind(normalised: str) -> str:
    """Return ``"notice"`` for errata, corrections, retractions, comments, replies, supplements.

    A notice about a work (or its supplementary material) carries the work's title after its
    own words, so without this an erratum and its article look like one work.

    Examples
    --------
    >>> title_kind("erratum effect of sleep on memory"), title_kind("effect of sleep on memory")
    ('notice', 'work')
    """
    if _NOTICE.match(normalised) or _NOTICE_END.search(normalised):
        return "notice"
    return "work"


_GENERIC_TITLES = {
    "editorial", "introduction", "preface", "foreword", "letter", "letters", "reply",
    "response", "correction", "erratum", "abstracts", "abstract", "index", "contents",
    "commentary", "comment", "news", "book review", "book reviews", "conclusion",
    "discussion", "summary", "untitled", "in this issue", "editors note", "editor s note",
    "guest editorial", "obituary", "announcement", "announcements", "acknowledgements",
    "acknowledgments", "reviewers", "corrigendum", "conference report", "meeting abstracts",
}
_STOP = {"a", "an", "the", "of", "and", "in", "on", "for", "to", "with", "by", "at", "from",
         "or", "is", "are", "as"}


def title_strength(tokens: list[str], normalised: str) -> int:
    """How much an equal title says: 0 generic ("Editorial"), 1 short, 2 specific.

    Specific titles have at least three content words and 20 characters.

    Examples
    --------
    >>> [title_strength(t.split(), t) for t in ("editorial", "simulated annealing",
    ...                                          "sleep and memory in older adults")]
    [0, 1, 2]
    """
    if normalised in _GENERIC_TITLES or not tokens:
        return 0
    content = [t for t in tokens if t not in _STOP]
    return 2 if len(content) >= 3 and len(normalised) >= 20 else 1
