"""De-duplication internals: field normalisers, each decision rule, and blocking size."""

from __future__ import annotations

from dataclasses import replace

import pytest

from toolkit.corpus import deduplicate, normalise_title, records_frame
from toolkit.corpus._dedupe_compare import Evidence, candidate_pairs, decide
from toolkit.corpus._dedupe_fields import (
    comparison_doi,
    dois_related,
    family_key,
    number_key,
    prepare,
    preprint_status,
    start_page,
    venue_tokens,
    venues_compatible,
)
from toolkit.corpus._dedupe_text import title_acronyms, title_kind

# --- normalisers ---------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [
    ("Sleep in shift workers [Japanese]", "sleep in shift workers"),
    ("Sleep in shift workers [Article in German]", "sleep in shift workers"),
    ("Sleep in shift workers (Spanish).", "sleep in shift workers"),
    ("Sleep in shift workers. [Text in French with English abstract]", "sleep in shift workers"),
    ("[Sleep in shift workers]. [German]", "sleep in shift workers"),
    ("Sleep in shift workers [Review] [42 refs]", "sleep in shift workers"),
    ("Sleep in <i>shift</i> workers", "sleep in shift workers"),
    ("<jats:title>Sleep &amp; shift work</jats:title>", "sleep and shift work"),
    ("Sléep in shift wórkers!", "sleep in shift workers"),
    ("RETRACTED ARTICLE: Sleep in shift workers", "sleep in shift workers"),
    ("TNF-α and IL-1β in µ-opioid signalling", "tnf alpha and il 1 beta in mu opioid signalling"),
    ("Søren Kierkegaard and Ærø", "soren kierkegaard and aero"),
    ("睡眠と交代勤務", "睡眠と交代勤務"),
    (None, ""),
])
def test_normalise_title(raw: str | None, expected: str) -> None:
    assert normalise_title(raw) == expected


def test_language_words_inside_a_title_stay() -> None:
    assert normalise_title("Teaching German to Japanese students") == \
        "teaching german to japanese students"


@pytest.mark.parametrize(("raw", "expected"), [
    ("10.1016/S0140-6736(17)30624-3", "10.1016/s0140-6736(17)30624-3"),
    ("10.1016/S0140-6736%2817%2930624-3", "10.1016/s0140-6736(17)30624-3"),
    ("https://doi.org/10.1016%2Fj.psyneuen.2019.104501", "10.1016/j.psyneuen.2019.104501"),
    ("DOI 10.1037/law0000080", "10.1037/law0000080"),
    ("ARTN 106 DOI 10.3390/ani10061047.", "10.3390/ani10061047"),
    ("doi:10.1002/JTS.22387", "10.1002/jts.22387"),
    ("n/a", ""), (None, ""),
])
def test_comparison_doi(raw: str | None, expected: str) -> None:
    assert comparison_doi(raw) == expected


def test_book_and_chapter_dois_are_related() -> None:
    assert dois_related("10.1007/978-3-540-72964-8", "10.1007/978-3-540-72964-8_1")
    assert dois_related("10.1002/9781118445112.ch3", "10.1002/9781118445112")
    assert not dois_related("10.1007/978-3-540-72964-8_1", "10.1007/978-3-540-72964-8_2")
    assert not dois_related("10.1000/abc", "10.1000/abcd")


@pytest.mark.parametrize(("name", "key"), [
    ("Hendriks, Anna-Marie", "hendriks"), ("Hendriks AM", "hendriks"),
    ("Hendriks A.-M.", "hendriks"), ("A.-M. Hendriks", "hendriks"),
    ("Anna-Marie Hendriks", "hendriks"), ("Stützle, Thomas", "stutzle"),
    ("Stuetzle T", "stutzle"), ("López-Ibáñez, M.", "lopezibanez"),
    ("MA Montes de Oca", "montesoca"), ("van de Schoot, Rens", "schoot"),
    ("Cochrane Heart Group", "cochrane heart group"), ("", ""),
])
def test_family_key(name: str, key: str) -> None:
    assert family_key(name) == key


@pytest.mark.parametrize(("a", "b", "same"), [
    ("J Clin Epidemiol", "Journal of Clinical Epidemiology", True),
    ("Phys. Rev. B", "Physical Review B", True),
    ("IEEE T MAGN", "IEEE Transactions on Magnetics", True),
    ("Proc. Natl. Acad. Sci. U.S.A.",
     "Proceedings of the National Academy of Sciences of the United States of America", True),
    ("BMJ", "British Medical Journal", True),
    ("The Lancet", "Lancet", True),
    ("PSYCHONEUROENDOCRINO", "Psychoneuroendocrinology", True),
    ("Nature", "Nature Medicine", False),
    ("Phys. Rev. B", "Phys. Rev. Lett.", False),
    ("Science", "Scientific Reports", False),
    ("J. Appl. Phys.", "Applied Physics Letters", False),
])
def test_venues_compatible(a: str, b: str, same: bool) -> None:
    assert venues_compatible(venue_tokens(a), venue_tokens(b)) is same
    assert venues_compatible(venue_tokens(b), venue_tokens(a)) is same


def test_pages_volumes_and_kinds() -> None:
    assert [start_page(p) for p in ("405-8", "pp. 405-408", "405–408", "e0123", "S12-S14",
                                    "100364-nan", "NA")] == \
        ["405", "405", "405", "e123", "s12", "100364", ""]
    assert [number_key(v) for v in ("12", "Vol. 12", "12 (Suppl 1)", "Suppl 2", "nan")] == \
        ["12", "12", "12", "s2", ""]
    assert title_kind(normalise_title("Correction to: Sleep in shift workers")) == "notice"
    assert title_kind(normalise_title("Corrections officers and sleep")) == "work"
    assert title_acronyms("Heuristics for the ATSP and TSP") == ("atsp", "tsp")
    assert preprint_status(venue_tokens("medRxiv"), "") == 1
    assert preprint_status((), "10.1101/2020.03.01.123") == 1


# --- each rule -----------------------------------------------------------------------

#: Two records of one journal article, everything agreeing; each case changes a little.
SAME = Evidence(title_score=100.0, title="exact", doi="agree", first_author="agree",
                author_overlap=1.0, authors="agree", year_diff=0, venue="agree",
                volume="agree", issue="agree", pages="agree", abstract_score=None,
                kind="agree", preprint="agree")
NO_DOI = replace(SAME, doi="missing")


@pytest.mark.parametrize(("evidence", "strength", "decision", "rule"), [
    pytest.param(SAME, 2, "merge", "doi", id="doi-and-title"),
    pytest.param(replace(SAME, kind="differ", title="similar", title_score=93.0), 2,
                 "distinct", "notice", id="erratum"),
    pytest.param(replace(SAME, doi="differ"), 2, "uncertain", "different_doi",
                 id="different-dois-never-merge"),
    pytest.param(replace(SAME, doi="differ", authors="differ", first_author="differ"), 2,
                 "distinct", "different_doi", id="different-dois-other-authors"),
    pytest.param(replace(SAME, title="different", title_score=41.0, authors="differ",
                         first_author="differ", pages="differ"), 2, "distinct", "shared_doi",
                 id="chapters-share-a-book-doi"),
    pytest.param(replace(SAME, title="different", title_score=52.0, pages="differ"), 2,
                 "distinct", "shared_doi", id="one-team-two-supplement-abstracts"),
    pytest.param(replace(SAME, title="different", title_score=35.0), 2, "uncertain",
                 "doi_title_differs", id="doi-authors-pages-agree-title-translated"),
    pytest.param(replace(SAME, title="numbers", title_score=98.0, pages="differ"), 2,
                 "distinct", "shared_doi", id="part-1-and-part-2"),
    pytest.param(replace(NO_DOI, preprint="differ", venue="differ", volume="missing",
                         pages="missing", year_diff=1), 2, "uncertain", "preprint",
                 id="preprint"),
    pytest.param(replace(SAME, preprint="differ"), 2, "merge", "doi",
                 id="one-doi-decides-over-preprint-venue"),
    pytest.param(replace(NO_DOI, authors="differ", first_author="differ", pages="missing"),
                 2, "distinct", "authors_differ", id="same-title-other-authors"),
    pytest.param(replace(NO_DOI, year_diff=3, pages="missing"), 2, "uncertain",
                 "years_differ", id="years-apart"),
    pytest.param(replace(NO_DOI, year_diff=3), 2, "merge", "bibliographic",
                 id="wrong-year-journal-volume-pages-agree"),
    pytest.param(replace(NO_DOI, pages="differ"), 2, "uncertain", "pages_differ",
                 id="pages-differ"),
    pytest.param(replace(NO_DOI, venue="differ", volume="missing", pages="missing"), 2,
                 "uncertain", "venue_differs", id="conference-and-journal"),
    pytest.param(NO_DOI, 2, "merge", "title_year", id="equal-titles-authors"),
    pytest.param(replace(NO_DOI, authors="missing", first_author="missing",
                         author_overlap=None, volume="missing", pages="missing"), 2, "merge",
                 "title_year", id="equal-specific-titles-year-journal-no-authors"),
    pytest.param(replace(NO_DOI, authors="missing", first_author="missing",
                         author_overlap=None, volume="missing", pages="missing",
                         venue="missing"), 2, "uncertain", "title_only",
                 id="equal-specific-titles-only-year-no-authors"),
    pytest.param(replace(NO_DOI, authors="missing", first_author="missing",
                         author_overlap=None, volume="missing", pages="missing",
                         venue="missing", year_diff=1), 2, "uncertain", "title_only",
                 id="equal-titles-no-authors-year-off"),
    pytest.param(replace(NO_DOI, venue="missing", volume="missing", pages="missing",
                         issue="missing"), 1, "uncertain", "short_title",
                 id="short-title-needs-more"),
    pytest.param(replace(NO_DOI, volume="missing", pages="missing"), 1, "merge",
                 "title_year", id="short-title-with-journal"),
    pytest.param(replace(NO_DOI, authors="missing", first_author="missing",
                         volume="missing", pages="missing"), 0, "uncertain",
                 "generic_title", id="editorial"),
    pytest.param(replace(NO_DOI, authors="missing", first_author="missing"), 0, "merge",
                 "title_year", id="editorial-same-volume-pages"),
    pytest.param(replace(NO_DOI, title="similar", title_score=94.0), 2, "merge",
                 "title_fuzzy", id="typo"),
    pytest.param(replace(NO_DOI, title="similar", title_score=94.0, authors="missing",
                         first_author="missing", volume="missing"), 2, "uncertain",
                 "title_only", id="typo-nothing-else"),
    pytest.param(replace(NO_DOI, title="prefix", title_score=62.0), 2, "merge",
                 "bibliographic", id="subtitle-dropped"),
    pytest.param(replace(NO_DOI, title="prefix", title_score=62.0, volume="missing",
                         pages="missing"), 2, "uncertain", "title_partial",
                 id="subtitle-dropped-nothing-else"),
    pytest.param(replace(SAME, title="missing", title_score=None), 2, "merge", "doi",
                 id="no-title-doi-authors-year"),
])
def test_decision_rules(evidence: Evidence, strength: int, decision: str, rule: str) -> None:
    assert decide(evidence, strength=strength)[:2] == (decision, rule)


# --- blocking stays linear -----------------------------------------------------------

def _records(n: int, *, title: str | None = None, year: int = 2020) -> list[dict]:
    words = ["sleep", "memory", "stress", "cortisol", "ageing", "training", "outcome",
             "cohort", "trial", "model", "network", "signal", "learning", "patients"]
    rows = []
    for k in range(n):
        picked = " ".join(words[(k * 7 + i * 3) % len(words)] for i in range(6))
        rows.append({"record_id": f"r{k}", "title": title or f"{picked} study {k}",
                     "authors": (f"Author{k}, A.",), "year": year,
                     "venue": f"Journal {k % 50}", "volume": str(k % 40), "pages": str(k)})
    return rows


@pytest.mark.parametrize("n", [300, 1200])
def test_identical_titles_are_not_compared_all_against_all(n: int) -> None:
    frame = records_frame(_records(n, title="Effects of exercise on depression in adults"))
    pairs = candidate_pairs(prepare(frame), window=10)
    assert len(pairs) <= 6 * 10 * n  # all pairs would be n * (n - 1) / 2
    result = deduplicate(frame)
    assert result.stats["candidate_pairs"] == len(pairs)
    assert len(result.records) == n  # one title, n authors: n works


def test_records_of_one_year_grow_linearly() -> None:
    small = candidate_pairs(prepare(records_frame(_records(600))))
    large = candidate_pairs(prepare(records_frame(_records(1200))))
    assert len(large) <= 2.1 * len(small)
    assert len(large) <= 6 * 10 * 1200


def test_many_copies_of_one_record_become_one_work() -> None:
    row = _records(1)[0]
    frame = records_frame([{**row, "record_id": f"copy{k}"} for k in range(400)])
    result = deduplicate(frame)
    assert len(result.records) == 1 and len(result.log) == 399
    assert result.stats["candidate_pairs"] <= 6 * 10 * 400


def test_a_whole_author_list_in_one_cell_is_split() -> None:
    from toolkit.corpus._dedupe_fields import author_names

    assert author_names(("By Mark Ginsburg , Suzanne Weisband",)) == ["Mark Ginsburg",
                                                                      "Suzanne Weisband"]
    assert author_names(("T. Mantere and J. T. Alander.",)) == ["T. Mantere", "J. T. Alander"]
    assert author_names(("Ginsburg, M.",)) == ["Ginsburg, M."]
    result = deduplicate(records_frame([
        {"record_id": "a", "title": "A framework for virtual community business success",
         "authors": ("Ginsburg, M.", "Weisband, S."), "year": 2004},
        {"record_id": "b", "title": "A framework for virtual community business success",
         "authors": ("By Mark Ginsburg , Suzanne Weisband",), "year": 2004}]))
    assert len(result.records) == 1
