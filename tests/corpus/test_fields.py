"""Field handling shared by the readers: DOIs, LaTeX, markup, boilerplate, and the BibTeX
writer's escaping (a hypothesis property: load -> write -> load is the identity on text)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.corpus import normalise_doi, parse_bibtex_string, parse_ris_string, records_frame
from toolkit.corpus._build import clean_title
from toolkit.corpus._clean import clean_markup, strip_boilerplate
from toolkit.corpus._latex import latex_to_unicode
from toolkit.corpus._schema import split_doi
from toolkit.corpus.write import escape_bibtex, format_bibtex


@pytest.mark.parametrize(("raw", "doi"), [
    ("DOI 10.1016/j.compedu.2020.104", "10.1016/j.compedu.2020.104"),
    ("ARTN 106\n10.1016/J.X.2020.106", "10.1016/j.x.2020.106"),
    ("https://doi.org/10.1016/S0140-6736%2817%2930624-3", "10.1016/s0140-6736(17)30624-3"),
    ("10.1016/S0140-6736%2817%2930624-3", "10.1016/s0140-6736(17)30624-3"),
    ("http://dx.doi.org/10.4103/2303-9027.138783", "10.4103/2303-9027.138783"),
    ("doi:10.1002/(SICI)1097-4571(199806)49:8<693::AID-ASI4>3.0.CO;2-0",
     "10.1002/(sici)1097-4571(199806)49:8<693::aid-asi4>3.0.co;2-0"),
    ("(doi: 10.1000/xyz).", "10.1000/xyz"),
    ("n/a", None), ("", None), (None, None),
])
def test_normalise_doi(raw: str | None, doi: str | None) -> None:
    assert normalise_doi(raw) == doi


def test_a_doi_field_that_is_not_a_doi_is_kept_with_a_warning() -> None:
    result = parse_ris_string("TY  - JOUR\nTI  - T\nDO  - see the publisher's site\nER  - \n")
    record = result.records.iloc[0]
    assert record["doi"] is None or str(record["doi"]) == "<NA>"
    assert ("doi_raw", "see the publisher's site") in record["extra"]
    assert [w.kind for w in result.warnings] == ["field"]
    assert split_doi("see the publisher's site") == ([], "see the publisher's site")


@pytest.mark.parametrize(("latex", "text"), [
    (r"p {\textless} 0.001", "p < 0.001"),
    (r"c.126C {\textgreater} A", "c.126C > A"),
    (r"input\slash output", "input/output"),
    (r"R\&D at 50\% \#1 a\_b \$5", "R&D at 50% #1 a_b $5"),
    (r"~65 hours", "65 hours"),
    (r"M{\"u}ller {\'i} {\c{c}} {\O}ster \v{s}ko {\ss} {\aa} \l{}\'{\i}", "Müller í ç Øster "
     "ško ß å łí"),
    (r"$\alpha$-helix and $x^2$", r"$\alpha$-helix and $x^2$"),
    (r"pages 1--2, a---b, ``quoted''", "pages 1–2, a—b, “quoted”"),
    (r"\emph{em} \textbf{bold} {\itshape it}", "em bold it"),
    (r"\ch{Mg^{2+}} ions", "Mg^2+ ions"),
    (r"see \cite{Doe2020}", r"see \cite{Doe2020}"),
    (r"50% of cases", "50% of cases"),
    (r"\unknownsymbol here", r"\unknownsymbol here"),
])
def test_latex_keeps_every_character(latex: str, text: str) -> None:
    assert latex_to_unicode(latex) == text


def test_markup_and_boilerplate() -> None:
    assert clean_markup("<jats:title>Abstract</jats:title><jats:p>Text <i>in</i> it</jats:p>") \
        == "Abstract Text in it"
    assert clean_markup("a <b and c> d") == "a <b and c> d"
    text, removed = strip_boilerplate(
        "Findings hold. [ABSTRACT FROM AUTHOR] Copyright of J is the property of P and its "
        "content may not be copied.")
    assert (text, removed) == ("Findings hold.", "[ABSTRACT FROM AUTHOR] Copyright of J is "
                               "the property of P and its content may not be copied.")
    assert strip_boilerplate("Results. © 2019 Elsevier Ltd. All rights reserved.") == (
        "Results.", "© 2019 Elsevier Ltd. All rights reserved.")
    assert strip_boilerplate("© 2019 only a copyright line") == (
        "© 2019 only a copyright line", "")


# --- load -> write -> load is the identity on text --------------------------------------

_ANY_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=80)
_TRICKY = st.lists(st.one_of(_ANY_TEXT, st.sampled_from([
    "{", "}", "\\", "$", "&", "%", "#", "_", "~", "^", "--", "---", "``", "''", "@", '"',
    "\\textless", "{\\\"u}", "\\url{x}", "$x$", "}}\n@misc{x,", "\\\\", "`", "'", "-",
    "<i>", "</p>", "&amp;", ". (C) 2020 P. All rights reserved."])),
    max_size=12).map("".join)


@settings(max_examples=200)
@given(title=_TRICKY, abstract=_TRICKY, venue=_TRICKY)
def test_bibtex_round_trip_is_the_identity_on_text(title: str, abstract: str,
                                                    venue: str) -> None:
    # text as the readers give it: whitespace collapsed, markup and boilerplate removed
    title, venue = clean_title(title) or "", " ".join(venue.split())
    abstract = strip_boilerplate(clean_title(abstract) or "")[0] or ""
    frame = records_frame([{"record_id": "k", "entry_type": "article", "title": title,
                            "abstract": abstract, "venue": venue, "note": title + abstract}])
    again = parse_bibtex_string(format_bibtex(frame)).records
    assert len(again) == 1
    for column in ("title", "abstract", "venue", "note"):
        expected = frame.loc[0, column]
        got = again.loc[0, column]
        assert (None if expected is None or str(expected) == "<NA>" else expected) == (
            None if got is None or str(got) == "<NA>" else got), column


@settings(max_examples=200)
@given(text=_TRICKY)
def test_escaped_text_has_balanced_braces(text: str) -> None:
    escaped = escape_bibtex(text)
    depth = 0
    for char in escaped.replace("\\{", "").replace("\\}", ""):
        depth += {"{": 1, "}": -1}.get(char, 0)
        assert depth >= 0
    assert depth == 0
