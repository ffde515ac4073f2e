"""Field normalisers for de-duplication: what two exports of one work still have in common.

Each function takes one raw value from the records table and returns the form the
comparison rules look at. They undo the differences databases introduce on their own:
markup and language tags in titles, percent-encoded DOIs, author names written
``Family, Given``, ``Family GI`` or ``Given Family``, abbreviated journal names and page
ranges written ``405-8``. :class:`Prepared` holds them for a whole table, one list per field.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pandas as pd

from toolkit.corpus._schema import normalise_doi

__all__ = [
    "normalise_title",
    "title_numbers",
    "title_kind",
    "comparison_doi",
    "dois_related",
    "family_key",
    "venue_tokens",
    "venues_compatible",
    "is_preprint_venue",
    "preprint_status",
    "title_acronyms",
    "start_page",
    "number_key",
    "title_strength",
    "other_name_end",
    "Prepared",
    "prepare",
    "database_labels",
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


# --- DOIs -----------------------------------------------------------------------------

_DOI_IN_TEXT = re.compile(r"10\.\d{4,9}/[^\s\"<>]+")


def comparison_doi(value: Any) -> str:
    """Return the DOI used to compare records (lower case, percent-decoded), or ``""``.

    Builds on :func:`toolkit.corpus._schema.normalise_doi` and also reads DOIs that are
    percent-encoded (``10.1016/s0140-6736%2817%2930624-3``) or sit inside other text
    (``DOI 10.1000/x``, ``ARTN 106 10.1000/x``).

    Examples
    --------
    >>> comparison_doi("https://doi.org/10.1016/S0140-6736%2817%2930624-3")
    '10.1016/s0140-6736(17)30624-3'
    >>> comparison_doi("ARTN 106 DOI 10.3390/X1."), comparison_doi(None)
    ('10.3390/x1', '')
    """
    if _missing(value):
        return ""
    raw = str(value)
    decoded = unquote(raw) if "%" in raw else raw
    doi = normalise_doi(decoded)
    if doi and "%" not in doi:
        return doi.rstrip(".,;")
    match = _DOI_IN_TEXT.search(unicodedata.normalize("NFKC", decoded))
    if match is None:
        return ""
    return match.group(0).rstrip(".,;)]").lower()


_CHAPTER_SUFFIX = re.compile(r"^(?:_\d+|\.ch\d+)$")


def dois_related(a: str, b: str) -> bool:
    """Return True when one DOI is a book's and the other its chapter's (Springer, Wiley).

    Examples
    --------
    >>> dois_related("10.1007/978-1-4615-1495-4", "10.1007/978-1-4615-1495-4_7")
    True
    >>> dois_related("10.1007/978-1-4615-1495-4_6", "10.1007/978-1-4615-1495-4_7")
    False
    """
    if not a or not b or a == b:
        return False
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return long_.startswith(short) and bool(_CHAPTER_SUFFIX.match(long_[len(short):]))


# --- authors --------------------------------------------------------------------------

#: Initials: "J", "JA", "JHM" (up to three capitals), or dotted "J.", "J.A.", "J.-P.".
_INITIALS = re.compile(r"^(?:[A-Z]{1,3}|(?:[A-Z]\.-?){1,4}[A-Z]?\.?)$")
_GROUP = re.compile(r"\b(?:group|consortium|committee|collaborat\w*|investigators|network|"
                    r"society|association|working party|task force)\b", re.IGNORECASE)
_PARTICLES = {"van", "von", "der", "den", "de", "del", "della", "di", "da", "du", "le", "la",
              "dos", "das", "ter", "ten", "bin", "al", "el"}


@lru_cache(maxsize=262_144)
def _family_key_cached(name: str) -> str:
    return family_key(name)


def family_key(name: Any) -> str:
    """Return a comparable family name from one author string, or ``""``.

    Handles ``"Family, Given"``, ``"Family GI"`` / ``"Family G.I."`` (Embase, PubMed),
    ``"Given Family"`` (CSV exports) and group authors (kept whole). Particles
    (``van``, ``de``) are dropped so ``"van der Berg"`` and ``"Berg"`` compare equal.

    Examples
    --------
    >>> [family_key(n) for n in ("Müller, Jürgen", "Mueller J", "Jürgen A. Müller",
    ...                          "van der Berg, A.", "Liu R.", "WHO Study Group")]
    ['muller', 'muller', 'muller', 'berg', 'liu', 'who study group']
    >>> family_key("Montes de Oca, M. A."), family_key("MA Montes de Oca")
    ('montesoca', 'montesoca')
    """
    if _missing(name):
        return ""
    text = " ".join(str(name).split())
    if "," not in text and text.count(" ") >= 1 and _GROUP.search(text):
        return fold_text(text)
    if "," in text:
        family = text.split(",", 1)[0]
    else:
        parts = text.split(" ")
        lead = 0
        while lead < len(parts) - 1 and _INITIALS.match(parts[lead]):
            lead += 1
        if len(parts) > 1 and _INITIALS.match(parts[-1]):
            family = " ".join(parts[:-1])  # "Liu R.", "Smith JA"
        elif lead:
            family = " ".join(parts[lead:])  # "J. A. Smith", "MA Montes de Oca"
        else:
            family = parts[-1]  # "Jane Smith", or a single word
    words = [w for w in fold_text(family).split() if w not in _PARTICLES]
    key = "".join(words) if words else fold_text(family).replace(" ", "")
    return _TRANSLIT.sub(r"\1", key)


def other_name_end(name: Any) -> str:
    """Return the key of the first word of a name without a comma, else ``""``.

    Exports disagree on which end of ``"Chen Wah"`` the family name is; the rules try both.

    Examples
    --------
    >>> other_name_end("Chen Wah"), other_name_end("Chen, W."), other_name_end("J. Chen")
    ('chen', '', '')
    """
    if _missing(name) or "," in str(name):
        return ""
    parts = str(name).split()
    if len(parts) < 2 or _INITIALS.match(parts[0]):
        return ""
    return _TRANSLIT.sub(r"\1", fold_text(parts[0]).replace(" ", ""))


#: German transliteration: "Mueller" and "Müller" (folded to "muller") compare equal.
_TRANSLIT = re.compile(r"([aou])e")


# --- venues ---------------------------------------------------------------------------

_VENUE_STOP = {"the", "of", "and", "for", "in", "on", "an", "de", "der", "des", "la", "le",
               "und", "fur", "et", "y", "at", "to"}
_PREPRINT = re.compile(r"\b(?:arxiv|biorxiv|medrxiv|chemrxiv|psyarxiv|socarxiv|ssrn|"
                       r"research square|preprints?|osf preprints|techrxiv|zenodo)\b")
#: DOI prefixes of preprint servers: arXiv, bioRxiv/medRxiv, SSRN, Research Square,
#: Preprints.org, OSF, ChemRxiv.
_PREPRINT_DOI = re.compile(r"^10\.(?:48550/arxiv|1101/|2139/ssrn|21203/rs|20944/preprints|"
                           r"31219/osf|26434/chemrxiv|31234/osf|36227/techrxiv)")


def venue_tokens(venue: Any) -> tuple[str, ...]:
    """Return a venue's words without stop words, folded.

    Examples
    --------
    >>> venue_tokens("The Journal of Clinical Epidemiology")
    ('journal', 'clinical', 'epidemiology')
    """
    if _missing(venue):
        return ()
    return tuple(w for w in fold_text(str(venue)).split() if w not in _VENUE_STOP)


def _abbreviates(short: str, full: str) -> bool:
    """``short`` abbreviates ``full``: same first letter, its letters in order in ``full``."""
    if not short or not full or short[0] != full[0] or len(short) > len(full):
        return False
    pos = 0
    for char in short:
        pos = full.find(char, pos)
        if pos < 0:
            return False
        pos += 1
    return True


@lru_cache(maxsize=262_144)
def venues_compatible(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Return True when two venue names can name the same journal or proceedings.

    Equal word lists, an ISO 4 / NLM abbreviation of the other (``J Clin Epidemiol``),
    Web of Science's cut-off forms (``PSYCHONEUROENDOCRINO``) and acronyms (``BMJ``, ``JAMA``)
    are compatible.

    Examples
    --------
    >>> venues_compatible(venue_tokens("J. Clin. Epidemiol."),
    ...                   venue_tokens("Journal of Clinical Epidemiology"))
    True
    >>> venues_compatible(venue_tokens("JAMA"),
    ...                   venue_tokens("Journal of the American Medical Association"))
    True
    >>> venues_compatible(venue_tokens("Lancet"), venue_tokens("BMJ"))
    False
    >>> venues_compatible(venue_tokens("Nature"), venue_tokens("Nature Medicine"))
    False
    """
    if not a or not b:
        return False
    if a == b or "".join(a) == "".join(b):
        return True
    short, full = (a, b) if len("".join(a)) <= len("".join(b)) else (b, a)
    if len(short) == 1 and len(full) > 1 and short[0] == "".join(w[0] for w in full):
        return True  # acronym
    pos = 0
    for word in short:
        while pos < len(full) and not _abbreviates(word, full[pos]):
            if len(word) > 1 and word == "".join(w[0] for w in full[pos:pos + len(word)]):
                break  # an acronym inside the name ("usa")
            pos += 1
        if pos >= len(full):
            return False
        if _abbreviates(word, full[pos]):
            pos += 1
        else:
            pos += len(word)
    # every word of the short form found in order; words left over at the end of the full
    # form only pass for a long abbreviation, cut off as Web of Science's 29-character
    # forms are ("J ADV MECH DES SYST"), never for "Nature" against "Nature Medicine"
    return pos >= len(full) or all(len(w) <= 2 for w in full[pos:]) or len(short) >= 4


def preprint_status(venue: tuple[str, ...], doi: str) -> int:
    """Return 1 for a preprint, 0 for a published record, -1 when nothing tells.

    A preprint has a preprint server as venue or a preprint server's DOI.

    Examples
    --------
    >>> preprint_status(venue_tokens("bioRxiv"), ""), preprint_status((), "10.1016/x")
    (1, 0)
    >>> preprint_status((), "10.48550/arxiv.2210.11321"), preprint_status((), "")
    (1, -1)
    """
    if is_preprint_venue(venue) or (doi and _PREPRINT_DOI.match(doi)):
        return 1
    return 0 if venue or doi else -1


def is_preprint_venue(tokens: tuple[str, ...]) -> bool:
    """Return True for preprint servers (arXiv, bioRxiv, medRxiv, SSRN, Research Square).

    Examples
    --------
    >>> is_preprint_venue(venue_tokens("bioRxiv")), is_preprint_venue(venue_tokens("Cell"))
    (True, False)
    """
    return bool(tokens) and bool(_PREPRINT.search(" ".join(tokens)))


# --- volume, issue, pages -------------------------------------------------------------

_PAGE_START = re.compile(r"[A-Za-z]*\d+[A-Za-z]*|[A-Za-z]+")


def start_page(pages: Any) -> str:
    """Return the first page of a page field, folded (``"pp. 405-8"`` -> ``"405"``).

    Examples
    --------
    >>> start_page("pp. 405-8"), start_page("e0123"), start_page("S12–S13"), start_page(None)
    ('405', 'e123', 's12', '')
    """
    if _missing(pages):
        return ""
    text = re.sub(r"^\s*(?:pp?\.?|pages?)\s*", "", str(pages), flags=re.IGNORECASE)
    match = _PAGE_START.search(text)
    if match is None:
        return ""
    token = match.group(0).lower()
    digits = re.search(r"\d+", token)
    if digits:
        token = token.replace(digits.group(0), str(int(digits.group(0))), 1)
    return token


def number_key(value: Any) -> str:
    """Return a volume or issue as digits when it has any (``"Vol. 12"`` -> ``"12"``).

    Examples
    --------
    >>> number_key("Vol. 012"), number_key("Suppl 2"), number_key("A"), number_key(None)
    ('12', 's2', 'a', '')
    """
    if _missing(value):
        return ""
    text = fold_text(str(value))
    supplement = text.startswith("s") and ("suppl" in text or "supplement" in text)
    digits = re.findall(r"\d+", text)
    if digits:
        return ("s" if supplement else "") + str(int(digits[0]))
    return text.replace(" ", "")


# --- a whole table --------------------------------------------------------------------


@dataclass(frozen=True)
class Prepared:
    """The compared form of every record, one list per field, in record order."""

    title: list[str]
    compact: list[str]
    numbers: list[tuple[str, ...]]
    acronyms: list[tuple[str, ...]]
    kind: list[str]
    strength: list[int]
    doi: list[str]
    first_author: list[str]
    first_author_alt: list[str]
    authors: list[frozenset[str]]
    year: list[int | None]
    venue: list[tuple[str, ...]]
    preprint: list[int]
    volume: list[str]
    issue: list[str]
    page: list[str]
    abstract: list[str]


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
_ABSTRACT_NOISE = re.compile(
    r"^(?:abstract|background|summary|objectives?|purpose|introduction)\s*[:.]?\s*",
    re.IGNORECASE)


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


#: Authors compared per record: enough for the overlap, without reading 3,000-author lists.
_MAX_AUTHORS = 30


def _authors(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = value.split(";")
    elif not isinstance(value, (tuple, list)):
        return ()
    keys = []
    for name in value[:_MAX_AUTHORS]:
        key = _family_key_cached(str(name))
        if key and key not in ("anonymous", "anon", "unknown", "na"):
            keys.append(key)
    return tuple(keys)


def _each(values: list[Any], func: Any) -> list[Any]:
    """``[func(v) for v in values]``, computing each distinct value once (NA as None)."""
    cache: dict[Any, Any] = {}
    out = []
    for value in values:
        if value is None or value is pd.NA or (isinstance(value, float) and value != value):
            value = None
        try:
            out.append(cache[value])
        except KeyError:
            cache[value] = result = func(value)
            out.append(result)
        except TypeError:  # unhashable (a list of authors)
            out.append(func(value))
    return out


def _title_forms(raw: Any) -> tuple[str, tuple[str, ...]]:
    """Return the normalised title and the acronyms of a raw title."""
    if _missing(raw):
        return "", ()
    stripped = strip_title_tags(str(raw))
    return fold_text(stripped), title_acronyms(stripped)


def _abstract_start(text: Any) -> str:
    if _missing(text):
        return ""
    text = str(text)[:320]
    if "&" in text:
        text = html.unescape(text)
    if "<" in text:
        text = _TAG.sub(" ", text)
    return fold_text(_ABSTRACT_NOISE.sub("", text.strip())[:240])[:200]


def prepare(frame: pd.DataFrame) -> Prepared:
    """Normalise every field the rules compare, for a records table with a fresh index."""
    n = len(frame)

    def column(name: str) -> list[Any]:
        return frame[name].tolist() if name in frame.columns else [None] * n

    raw_titles = column("title")
    forms = _each(raw_titles, _title_forms)
    titles = [form[0] for form in forms]
    tokens = [t.split() for t in titles]
    raw_authors = column("authors")
    authors = _each(raw_authors, _authors)
    venues = _each(column("venue"), lambda v: () if _missing(v) else venue_tokens(v))
    years = _each(column("year"), lambda y: None if _missing(y) else int(y))
    dois = _each(column("doi"), comparison_doi)
    return Prepared(
        title=titles,
        compact=[t.replace(" ", "") for t in titles],
        numbers=[title_numbers(tok) for tok in tokens],
        acronyms=[form[1] for form in forms],
        kind=[title_kind(t) for t in titles],
        strength=[title_strength(tok, t) for tok, t in zip(tokens, titles, strict=True)],
        doi=dois,
        first_author=[a[0] if a else "" for a in authors],
        first_author_alt=[other_name_end(a[0]) if isinstance(a, (tuple, list)) and a else ""
                          for a in raw_authors],
        authors=[frozenset(a) for a in authors],
        year=years,
        venue=venues,
        preprint=[preprint_status(v, d) for v, d in zip(venues, dois, strict=True)],
        volume=_each(column("volume"), number_key),
        issue=_each(column("issue"), number_key),
        page=_each(column("pages"), start_page),
        abstract=_each(column("abstract"), _abstract_start),
    )


def database_labels(frame: pd.DataFrame) -> list[str]:
    """Return, per record, the database it came from, else its source file's name.

    Uses the ``database`` column when the table has one and the value is filled; otherwise
    the file name of ``source_file`` (without folders); ``"unknown"`` when neither is known.
    """
    n = len(frame)
    databases = frame["database"].tolist() if "database" in frame.columns else [None] * n
    files = frame["source_file"].tolist() if "source_file" in frame.columns else [None] * n
    labels = []
    for database, source in zip(databases, files, strict=True):
        if not _missing(database):
            labels.append(str(database).strip())
        elif not _missing(source):
            labels.append(Path(str(source)).name)
        else:
            labels.append("unknown")
    return labels
