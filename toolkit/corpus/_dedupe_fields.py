"""Field normalisers for de-duplication: what two exports of one work still have in common.

Each function takes one raw value from the records table and returns the form the
comparison rules look at. They undo the differences databases introduce on their own:
percent-encoded DOIs, author names written ``Family, Given``, ``Family GI`` or
``Given Family``, abbreviated journal names and page ranges written ``405-8`` (titles are
in :mod:`toolkit.corpus._dedupe_text`). :class:`Prepared` holds them for a whole table,
one list per field.
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

from toolkit.corpus._dedupe_text import (
    _TAG,
    _missing,
    fold_text,
    normalise_title,
    strip_title_tags,
    title_acronyms,
    title_kind,
    title_numbers,
    title_strength,
)
from toolkit.corpus._schema import normalise_doi

__all__ = [
    "normalise_title",
    "comparison_doi",
    "dois_related",
    "family_key",
    "other_name_end",
    "first_initial",
    "author_names",
    "venue_tokens",
    "venues_compatible",
    "is_preprint_venue",
    "preprint_status",
    "start_page",
    "number_key",
    "Prepared",
    "prepare",
    "database_labels",
]

_ABSTRACT_NOISE = re.compile(
    r"^(?:abstract|background|summary|objectives?|purpose|introduction)\s*[:.]?\s*",
    re.IGNORECASE)


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


def first_initial(name: Any) -> str:
    """Return the first letter of the given names of one author string, or ``""``.

    Examples
    --------
    >>> [first_initial(n) for n in ("Siegel, Sidney", "Sigel H", "J. A. Smith", "Smith")]
    ['s', 'h', 'j', '']
    """
    if _missing(name):
        return ""
    text = " ".join(str(name).split())
    if "," in text:
        given = text.split(",", 1)[1]
    else:
        parts = text.split(" ")
        if len(parts) < 2:
            return ""
        given = parts[-1] if _INITIALS.match(parts[-1]) else parts[0]
    folded = fold_text(given)
    return folded[:1]


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
    first_initial: list[str]
    authors: list[frozenset[str]]
    year: list[int | None]
    venue: list[tuple[str, ...]]
    preprint: list[int]
    volume: list[str]
    issue: list[str]
    page: list[str]
    abstract: list[str]


#: Authors compared per record: enough for the overlap, without reading 3,000-author lists.
_MAX_AUTHORS = 30


_BY = re.compile(r"^\s*by\s+", re.IGNORECASE)
_NAME_LIST = re.compile(r"\s*(?:,|;|\band\b|&)\s*")


def author_names(value: Any) -> list[str]:
    """Return the individual author names of a record's ``authors`` value.

    A tuple is taken as it is, except that a single string holding a whole list (as some
    CSV exports write it: ``"Jorge Biolchini, Paula Mian"``, ``"T. Mantere and J. Alander"``,
    ``"By Mark Ginsburg , Suzanne Weisband"``) is split; ``"Smith, John"`` stays one name.

    Examples
    --------
    >>> author_names(("Huaglory Tianfield, Ruwen Wang",))
    ['Huaglory Tianfield', 'Ruwen Wang']
    >>> author_names(("Tianfield, H.", "Wang, R.")), author_names("Lee, A; Kim, B")
    (['Tianfield, H.', 'Wang, R.'], ['Lee, A', 'Kim, B'])
    """
    if isinstance(value, str):
        return [n.strip() for n in value.split(";") if n.strip()]
    if not isinstance(value, (tuple, list)):
        return []
    names = [str(n) for n in value if not _missing(n)]
    if len(names) == 1:
        text = _BY.sub("", names[0])
        parts = [p for p in _NAME_LIST.split(text) if p.strip()]
        if len(parts) > 1 and (" and " in text or "&" in text or text.count(",") >= 2
                               or all(len(p.split()) >= 2 for p in parts)):
            return [p.strip(" .") for p in parts]
        return [text]
    return names


def _authors(names: list[str]) -> tuple[str, ...]:
    keys = []
    for name in names[:_MAX_AUTHORS]:
        key = _family_key_cached(name)
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
    names = _each(column("authors"), author_names)
    authors = [_authors(n) for n in names]
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
        first_author_alt=[other_name_end(n[0]) if n else "" for n in names],
        first_initial=[first_initial(n[0]) if n else "" for n in names],
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
