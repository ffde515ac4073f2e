"""Blocking, pair comparison and the decision rules of :func:`toolkit.corpus.deduplicate`.

Blocking is a multi-pass sorted neighbourhood (Hernández and Stolfo, 1995): the records are
sorted by one key at a time (title; title read backwards; first author and year; DOI;
volume and first page; start of the abstract) and each record is paired with the next
``window`` records in that order. Every pass costs ``n * window`` pairs, so 6,000 records
with one title or 20,000 records of one year cost a few hundred thousand title
comparisons, never ``n**2``. Ties inside a key are broken by the other fields, so copies of
one work sit side by side even inside a run of identical titles.

The candidate pairs get a title similarity in one vectorised call (rapidfuzz ``cpdist``);
pairs that cannot be duplicates (titles below 70, no shared DOI, abstract or first author
with a title prefix) stop there. The rest are compared field by field into an
:class:`Evidence` and decided by :func:`decide`, a short list of explicit rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from rapidfuzz import fuzz
from rapidfuzz.process import cpdist

from toolkit.corpus._dedupe_fields import Prepared, dois_related, venues_compatible

__all__ = ["Evidence", "candidate_pairs", "sort_passes", "prefilter", "compare", "decide",
           "evidence_text", "RULE_RANK", "Decision"]

Decision = Literal["merge", "uncertain", "distinct"]
Agreement = Literal["agree", "differ", "missing", "related"]

#: Titles below this similarity are "different"; between it and ``title_threshold`` they
#: only partly agree.
PARTIAL_TITLE = 80.0
#: Abstracts (their first 200 folded characters) less alike than this are different texts.
ABSTRACT_DIFFERS = 60.0
#: Candidate pairs below this title similarity are dropped before the field comparison
#: unless they share a DOI, an abstract start, or a first author with a title prefix.
PREFILTER_TITLE = 70.0

#: Order in which rule merges are applied (lower first): the surest links decide first, so
#: when two records with different DOIs compete for a third, the stronger link wins.
RULE_RANK = {"review": 0, "doi": 1, "title_year": 2, "title_fuzzy": 3, "bibliographic": 4}


@dataclass(frozen=True, slots=True)
class Evidence:
    """How two records compare, field by field.

    ``title`` is ``"exact"`` (equal after normalisation, or equal without spaces),
    ``"similar"`` (similarity at least the threshold), ``"prefix"`` (one title is the other
    plus a subtitle or a translated title), ``"partial"`` (80 to the threshold), ``"numbers"``
    (the titles differ in a number: part 1 and part 2), ``"acronyms"`` (in an acronym: ATSP
    and STSP), ``"different"`` or ``"missing"``.
    The other fields are ``"agree"``, ``"differ"`` or ``"missing"`` (missing on either side);
    ``doi`` can also be ``"related"``: one is a book's DOI, the other a chapter's.
    """

    title_score: float | None
    title: str
    doi: Agreement
    first_author: Agreement
    author_overlap: float | None
    authors: Agreement
    year_diff: int | None
    venue: Agreement
    volume: Agreement
    issue: Agreement
    pages: Agreement
    abstract_score: float | None
    kind: Literal["agree", "differ"]
    preprint: Literal["agree", "differ"]


def _sort_pass(columns: list[list], present: np.ndarray, window: int
               ) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of records within ``window`` places of each other, sorted by ``columns``.

    Records where ``present`` is False take no part.
    """
    index = np.flatnonzero(present)
    if len(index) < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    codes = []
    for values in columns:
        picked = [values[i] for i in index]
        codes.append(pd.factorize(pd.Series(picked, dtype=object), sort=True)[0])
    order = index[np.lexsort([index, *reversed(codes)])]
    left, right = [], []
    for step in range(1, min(window, len(order) - 1) + 1):
        left.append(order[:-step])
        right.append(order[step:])
    return np.concatenate(left), np.concatenate(right)


def sort_passes(prep: Prepared) -> list[tuple[list[list], np.ndarray]]:
    """Return the six sorted passes: per pass, the sort-key columns and who takes part.

    Within a pass, records are ordered by their key values, compared as Python values
    (strings by code point), then by position; :func:`candidate_pairs` and the distributed
    de-duplication (:mod:`toolkit.scale.dedupe`) both read the passes from here.
    """
    fa, doi = prep.first_author, prep.doi
    yr = [y if y is not None else -1 for y in prep.year]
    titled = np.array([bool(t) for t in prep.title], dtype=bool)
    reverse = [" ".join(reversed(t.split())) for t in prep.title]
    abstract = [a[:60] for a in prep.abstract]
    return [
        # title, then the fields that tell apart works sharing it
        ([prep.compact, fa, yr, doi, prep.page], titled),
        # title read backwards: catches differences at its start
        ([reverse, fa, yr], titled),
        ([fa, yr, prep.compact], np.array([bool(a) for a in fa], dtype=bool)),
        ([doi, prep.compact, fa], np.array([bool(d) for d in doi], dtype=bool)),
        ([prep.volume, prep.page, yr, fa],
         np.array([bool(v) and bool(p) for v, p in zip(prep.volume, prep.page, strict=True)],
                  dtype=bool)),
        ([abstract, yr], np.array([len(a) >= 40 for a in prep.abstract], dtype=bool)),
    ]


def candidate_pairs(prep: Prepared, *, window: int = 10) -> np.ndarray:
    """Return the candidate pairs as an ``(m, 2)`` array of record positions, ``i < j``.

    Six sorted passes (:func:`sort_passes`), each pairing a record with the ``window``
    records after it, so ``m`` is at most ``6 * window * n`` whatever the data (the test
    suite checks this bound).
    """
    n = len(prep.title)
    passes = sort_passes(prep)
    lefts, rights = [], []
    for columns, present in passes:
        left, right = _sort_pass(columns, present, window)
        lefts.append(left)
        rights.append(right)
    left, right = np.concatenate(lefts), np.concatenate(rights)
    if not len(left):
        return np.empty((0, 2), np.int64)
    low, high = np.minimum(left, right), np.maximum(left, right)
    codes = np.sort(low * n + high)
    codes = codes[np.concatenate(([True], codes[1:] != codes[:-1]))]
    return np.stack([codes // n, codes % n], axis=1)


def title_scores(prep: Prepared, pairs: np.ndarray) -> np.ndarray:
    """Similarity (0-100, rapidfuzz ``ratio``) of the normalised titles of each pair."""
    if not len(pairs):
        return np.empty(0, np.float32)
    titles = np.array(prep.title, dtype=object)
    left, right = titles[pairs[:, 0]], titles[pairs[:, 1]]
    workers = -1 if len(pairs) > 200_000 else 1
    return cpdist(left, right, scorer=fuzz.ratio, dtype=np.float32, workers=workers)


def _prefix(a: str, b: str, *, fuzzy: bool = False) -> bool:
    """One title is the other followed by more words (a subtitle, a translated title).

    With ``fuzzy``, the shorter may differ from the start of the longer by a typo (ratio at
    least 92 over its length).
    """
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    if len(short) < 15 or len(long_) <= len(short) or short[:3] != long_[:3]:
        return False
    if long_.startswith(short) and long_[len(short)] == " ":
        return True
    return fuzzy and len(short) >= 20 and fuzz.ratio(short, long_[:len(short)]) >= 92


def _conflict(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Both name numbers (or acronyms) and each names one the other lacks."""
    return bool(a) and bool(b) and not set(a) <= set(b) and not set(b) <= set(a)


def _codes(values: list) -> np.ndarray:
    """Integer code per value (0 for empty), equal values sharing a code."""
    codes, _ = pd.factorize(pd.Series(values, dtype=object).replace("", None),
                            use_na_sentinel=True)
    return codes.astype(np.int64) + 1


def prefilter(prep: Prepared, pairs: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Boolean mask of the candidate pairs worth a field-by-field comparison."""
    if not len(pairs):
        return np.zeros(0, bool)
    i, j = pairs[:, 0], pairs[:, 1]
    keep = scores >= PREFILTER_TITLE
    doi = _codes(prep.doi)
    keep |= (doi[i] > 0) & (doi[i] == doi[j])
    abstract = _codes([a[:60] if len(a) >= 40 else "" for a in prep.abstract])
    keep |= (abstract[i] > 0) & (abstract[i] == abstract[j])
    author = _codes(prep.first_author)
    for k in np.flatnonzero(~keep & (author[i] > 0) & (author[i] == author[j])):
        keep[k] = _prefix(prep.title[i[k]], prep.title[j[k]], fuzzy=True)
    return keep


def _doi_agree(a: str, b: str) -> Agreement:
    if not a or not b:
        return "missing"
    if a == b:
        return "agree"
    return "related" if dois_related(a, b) else "differ"


def _agree(a: str, b: str) -> Agreement:
    if not a or not b:
        return "missing"
    return "agree" if a == b else "differ"


def _same_family(a: str, b: str) -> bool:
    if a == b:
        return True
    if len(a) >= 4 and len(b) >= 4 and (a.startswith(b) or b.startswith(a)):
        return True  # "garcia" and "garcialopez"
    return fuzz.ratio(a, b) >= 85


def compare(prep: Prepared, i: int, j: int, score: float | None, *,
            title_threshold: float) -> Evidence:
    """Compare records ``i`` and ``j`` field by field (``score``: their title similarity)."""
    ti, tj = prep.title[i], prep.title[j]
    if not ti or not tj:
        title, score = "missing", None
    else:
        if score is None:
            score = float(fuzz.ratio(ti, tj))
        if ti == tj or prep.compact[i] == prep.compact[j]:
            title = "exact"
        elif _conflict(prep.numbers[i], prep.numbers[j]):
            title = "numbers"
        elif _conflict(prep.acronyms[i], prep.acronyms[j]):
            title = "acronyms"
        elif score >= title_threshold:
            title = "similar"
        elif _prefix(ti, tj, fuzzy=True):
            title = "prefix"
        elif score >= PARTIAL_TITLE:
            title = "partial"
        else:
            title = "different"
    fa_i, fa_j = prep.first_author[i], prep.first_author[j]
    ai, aj = prep.authors[i], prep.authors[j]
    shared = len(ai & aj) if ai and aj else 0
    overlap = shared / min(len(ai), len(aj)) if ai and aj else None
    if not fa_i or not fa_j:
        first: Agreement = "missing"
    else:
        alt_i, alt_j = prep.first_author_alt[i], prep.first_author_alt[j]
        if fa_i == fa_j or alt_i and alt_i == fa_j or alt_j and fa_i == alt_j:
            first = "agree"
        elif (_same_family(fa_i, fa_j) or bool(alt_i) and _same_family(alt_i, fa_j)
              or bool(alt_j) and _same_family(fa_i, alt_j)):
            # a near spelling ("Springr") counts when the co-authors and the initials do
            # not contradict it ("Siegel S" is not "Sigel H")
            alone = min(len(ai), len(aj)) <= 1
            gi, gj = prep.first_initial[i], prep.first_initial[j]
            initials_ok = not gi or not gj or gi == gj
            first = "agree" if initials_ok and (alone or (overlap or 0) >= 0.34) else "differ"
        else:
            first = "differ"
    if first == "missing":
        authors: Agreement = "missing"
    elif first == "agree" or (shared >= 2 and overlap is not None and overlap >= 0.5):
        authors = "agree"
    else:
        authors = "differ"
    yi, yj = prep.year[i], prep.year[j]
    vi, vj = prep.venue[i], prep.venue[j]
    venue: Agreement = "missing" if not vi or not vj else (
        "agree" if venues_compatible(vi, vj) else "differ")
    abs_i, abs_j = prep.abstract[i], prep.abstract[j]
    abstract = None
    if len(abs_i) >= 40 and len(abs_j) >= 40:
        size = min(len(abs_i), len(abs_j))
        abstract = float(fuzz.ratio(abs_i[:size], abs_j[:size]))
    return Evidence(
        title_score=None if score is None else round(float(score), 1),
        title=title,
        doi=_doi_agree(prep.doi[i], prep.doi[j]),
        first_author=first,
        author_overlap=None if overlap is None else round(overlap, 2),
        authors=authors,
        year_diff=None if yi is None or yj is None else abs(yi - yj),
        venue=venue,
        volume=_agree(prep.volume[i], prep.volume[j]),
        issue=_agree(prep.issue[i], prep.issue[j]),
        pages=_agree(prep.page[i], prep.page[j]),
        abstract_score=None if abstract is None else round(abstract, 1),
        kind="agree" if prep.kind[i] == prep.kind[j] else "differ",
        preprint="differ" if (prep.preprint[i] == 1) != (prep.preprint[j] == 1) else "agree",
    )


def decide(ev: Evidence, *, strength: int, year_tolerance: int = 1
           ) -> tuple[Decision, str, str]:
    """Apply the decision rules to one pair: ``(decision, rule, reason)``.

    ``strength`` is how much an equal title says (the weaker of the two records'
    :func:`toolkit.corpus._dedupe_fields.title_strength`): 0 generic, 1 short, 2 specific.
    The rules, in order (the first that applies decides):

    1. An erratum, correction, comment, reply or supplement is never the work it is about.
    2. Different DOIs never merge (a book's and its chapter's DOI count as neither equal
       nor different); with agreeing titles and authors the pair is uncertain.
    3. Titles that clearly differ (similarity below 80, or in a number or acronym: "Part 1"
       and "Part 2") never merge, not even with one DOI: chapters of a book and abstracts of
       a supplement share the book's or the supplement's DOI. Uncertain only when authors
       and pages or abstract agree too (a title in another language? a typo in an acronym?).
    4. A preprint and a published record are never merged automatically.
    5. The same DOI with agreeing titles merges (``doi``), unless the first authors differ
       and so do the abstracts or pages, or the title is short or generic (uncertain: two
       chapters called "Introduction" share their book's DOI).
    6. Without a shared DOI, different first authors, a year gap above
       ``year_tolerance`` (unless title, authors, journal, volume and pages all agree:
       ``bibliographic``), a different volume or first page, abstracts that start
       differently, or a journal that is not the other's name or abbreviation (unless
       volume and pages agree) keep records apart; uncertain when title and authors agree.
    7. Equal titles (``title_year``): a specific title merges when authors agree, or,
       without authors, when the year and one of journal, volume, pages or abstract agree
       (or volume and pages); a short title needs authors and journal, volume, pages or
       abstract; a generic title ("Editorial") needs volume and pages or the abstract.
    8. Similar titles (at least the threshold; ``title_fuzzy``) merge when authors agree
       (for a short title, with journal, volume, pages or abstract too), or, without
       authors, when volume and pages or the abstract agree.
    9. Titles that agree in part (a subtitle missing, 80 to the threshold;
       ``bibliographic``) merge when authors, year, and volume and pages or the abstract
       agree.

    Everything else that did not meet a "distinct" condition is uncertain.
    """
    if ev.kind == "differ":
        return "distinct", "notice", ("one record is an erratum, correction, comment, reply or "
                                      "supplement")
    t = ev.title
    biblio = (ev.volume == "agree") + (ev.pages == "agree")
    abstract_agrees = ev.abstract_score is not None and ev.abstract_score >= 95
    authors_ok = ev.authors == "agree"
    years_ok = ev.year_diff is None or ev.year_diff <= year_tolerance
    if t == "missing":
        if ev.doi == "agree" and authors_ok and years_ok:
            return "merge", "doi", "same DOI, authors and year agree; a title is missing"
        if ev.doi == "agree":
            return "uncertain", "no_title", "same DOI but a title is missing"
        return "distinct", "no_title", "a title is missing"
    titles_agree = t in ("exact", "similar")
    if ev.doi == "differ":
        if titles_agree and ev.authors != "differ":
            return "uncertain", "different_doi", ("titles agree but the DOIs differ; "
                                                  "different DOIs are never merged by rule")
        return "distinct", "different_doi", "different DOIs"
    more = ev.venue == "agree" or biblio >= 1 or abstract_agrees
    if t in ("different", "numbers", "acronyms"):
        why = {"numbers": "titles differ in a number", "acronyms": "titles differ in an "
               "acronym"}.get(t, "titles differ")
        if ev.doi == "agree" and authors_ok and (ev.pages == "agree" or abstract_agrees):
            return "uncertain", "doi_title_differs", (f"same DOI, authors and pages, but {why}"
                                                      " (a title in another language?)")
        if ev.doi == "agree":
            return "distinct", "shared_doi", (f"same DOI but {why}: chapters of a book or "
                                              "abstracts of a supplement share one DOI")
        if authors_ok and (abstract_agrees or t == "acronyms" and more):
            return "uncertain", "title_differs", f"{why} but authors and more agree (a typo?)"
        return "distinct", "title_differs", why
    abstract_differs = ev.abstract_score is not None and ev.abstract_score < ABSTRACT_DIFFERS
    if ev.doi == "agree":
        if ev.authors == "differ" and (abstract_differs or ev.pages == "differ"
                                       or strength < 2):
            return "uncertain", "doi_authors_differ", ("same DOI and title, but the authors "
                                                       "differ (and abstract, pages or a "
                                                       "generic title)")
        if t == "exact" or (ev.authors != "differ" and (
                t == "similar" or biblio == 2 or abstract_agrees)):
            return "merge", "doi", "same DOI and titles agree"
        if authors_ok and t == "prefix" and strength >= 1:
            return "merge", "doi", "same DOI and authors; one title adds a subtitle"
        return "uncertain", "doi_weak_title", "same DOI but the titles agree only in part"
    if ev.preprint == "differ":
        if ev.authors != "differ" and titles_agree:
            return "uncertain", "preprint", "a preprint and a published record of one work?"
        return "distinct", "preprint", "a preprint and a published record"
    if ev.authors == "differ":
        if t == "exact" and strength == 2 and ev.venue == "agree" and biblio == 2:
            return "uncertain", "authors_differ", ("title, journal, volume and pages agree "
                                                   "but the first authors differ")
        return "distinct", "authors_differ", "first authors differ"
    if not years_ok:
        if titles_agree and authors_ok and ev.venue == "agree" and biblio == 2:
            return "merge", "bibliographic", (f"years differ by {ev.year_diff}, but title, "
                                              "authors, journal, volume and pages agree")
        if titles_agree and authors_ok:
            return "uncertain", "years_differ", f"years differ by {ev.year_diff}"
        return "distinct", "years_differ", f"years differ by {ev.year_diff}"
    if ev.volume == "differ" or ev.pages == "differ":
        if titles_agree and authors_ok and ev.venue != "differ":
            return "uncertain", "pages_differ", ("title and authors agree but volume or "
                                                 "pages differ")
        return "distinct", "pages_differ", "volume or pages differ"
    if abstract_differs:
        if titles_agree and authors_ok:
            return "uncertain", "abstract_differs", ("title and authors agree but the "
                                                     "abstracts differ")
        return "distinct", "abstract_differs", "abstracts differ"
    if ev.venue == "differ" and biblio < 2:
        if titles_agree and authors_ok:
            return "uncertain", "venue_differs", ("title and authors agree but the journals "
                                                  "or proceedings differ")
        return "distinct", "venue_differs", "journals or proceedings differ"
    if t == "exact":
        if strength == 2:
            if authors_ok:
                return "merge", "title_year", "equal titles, authors agree"
            if ev.year_diff == 0 and more or biblio == 2 or abstract_agrees:
                return "merge", "title_year", ("equal specific titles; year and journal, "
                                               "volume, pages or abstract agree; no authors "
                                               "to compare")
            return "uncertain", "title_only", "equal titles; no authors, too little else"
        if strength == 1:
            if authors_ok and more:
                return "merge", "title_year", ("equal short titles; authors and journal, "
                                               "volume, pages or abstract agree")
            return "uncertain", "short_title", "equal but short titles; too little agrees"
        if ev.issue != "differ" and (biblio == 2 or abstract_agrees):
            return "merge", "title_year", "equal generic titles; volume and pages agree"
        return "uncertain", "generic_title", "equal but generic titles"
    if t == "similar":
        if strength == 2 and authors_ok or strength == 1 and authors_ok and more:
            return "merge", "title_fuzzy", "similar titles, authors agree"
        if strength >= 1 and (biblio == 2 or abstract_agrees):
            return "merge", "title_fuzzy", ("similar titles; volume and pages, or abstract, "
                                            "agree; no authors to compare")
        return "uncertain", "title_only", "similar titles; too little else agrees"
    if authors_ok and ev.year_diff in (0, None) and (biblio == 2 or abstract_agrees):
        return "merge", "bibliographic", ("titles agree in part; authors, year and volume "
                                          "and pages or abstract agree")
    if authors_ok or abstract_agrees:
        return "uncertain", "title_partial", "titles agree only in part"
    return "distinct", "title_partial", "titles agree only in part, nothing else agrees"


def evidence_text(ev: Evidence) -> str:
    """One line naming what agreed and the scores, for the merge log and review sheet.

    Examples
    --------
    >>> ev = Evidence(98.5, "similar", "missing", "agree", 1.0, "agree", 0, "agree", "agree",
    ...               "missing", "agree", None, "agree", "agree")
    >>> evidence_text(ev)
    'title 98.5 (similar); doi missing; first author agree; authors overlap 1.0; year +0; \
venue agree; volume agree; issue missing; pages agree'
    """
    parts = [f"title {ev.title_score} ({ev.title})" if ev.title_score is not None
             else "title missing", f"doi {ev.doi}", f"first author {ev.first_author}"]
    if ev.author_overlap is not None:
        parts.append(f"authors overlap {ev.author_overlap}")
    parts.append("year missing" if ev.year_diff is None else f"year +{ev.year_diff}")
    parts += [f"venue {ev.venue}", f"volume {ev.volume}", f"issue {ev.issue}",
              f"pages {ev.pages}"]
    if ev.abstract_score is not None:
        parts.append(f"abstract {ev.abstract_score}")
    if ev.kind == "differ":
        parts.append("one is a notice")
    if ev.preprint == "differ":
        parts.append("one is a preprint")
    return "; ".join(parts)
