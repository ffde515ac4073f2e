"""De-duplication: the rules on realistic record pairs, the log's evidence, the sources."""

from __future__ import annotations

import pandas as pd
import pytest

from toolkit.corpus import compute_database_overlap, deduplicate, records_frame
from toolkit.errors import ToolkitError
from toolkit.types import DEDUP_LOG_COLUMNS, DEDUP_PAIR_COLUMNS, DEDUP_SOURCE_COLUMNS

AUTHORS = ("Hendriks, Anna-Marie", "Bartels, Meike", "Colins, Olivier F.")
TITLE = "Childhood aggression: A synthesis of reviews and meta-analyses to reveal patterns"


def _work(record_id: str, **fields: object) -> dict:
    base = {"record_id": record_id, "title": TITLE, "authors": AUTHORS, "year": 2018,
            "venue": "Neuroscience and Biobehavioral Reviews", "volume": "91",
            "pages": "278-291", "doi": "10.1016/j.neubiorev.2018.03.021",
            "source_file": f"{record_id}.ris", "source_line": 1}
    base.update(fields)
    return base


def _kept(*rows: dict, **options: object) -> list[str]:
    return deduplicate(records_frame(rows), **options).records["record_id"].tolist()


def _pair(result, a: str, b: str) -> pd.Series:
    pairs = result.pairs
    hit = pairs[((pairs["record_id_1"] == a) & (pairs["record_id_2"] == b))
                | ((pairs["record_id_1"] == b) & (pairs["record_id_2"] == a))]
    assert len(hit) == 1, f"{a} / {b} were not compared"
    return hit.iloc[0]


# --- what merges -----------------------------------------------------------------------

def test_exports_of_one_work_in_database_styles_merge() -> None:
    frame = records_frame([
        _work("scopus", authors=("Hendriks, A.-M.", "Bartels, M.", "Colins, O.F.")),
        _work("pubmed", title=TITLE.upper() + ".", authors=("Hendriks AM", "Bartels M"),
              venue="Neurosci Biobehav Rev", pages="278-91",
              doi="https://doi.org/10.1016/J.NEUBIOREV.2018.03.021"),
        _work("embase", doi=None, authors=("Hendriks A.-M.", "Bartels M.", "Colins O.F."),
              pages="278–291"),
        _work("scholar", doi=None, authors=("AM Hendriks", "M Bartels"), venue=None,
              volume=None, pages=None, year=2019),
    ])
    result = deduplicate(frame)
    assert len(result.records) == 1
    assert set(result.log["rule"]) <= {"doi", "title_year", "title_fuzzy"}
    assert len(result.log) == 3 and result.uncertain.empty


def test_language_tag_suffix_merges() -> None:
    for tag in (" [Japanese]", " [Article in German]", " (Spanish)",
                ". [Text in French with English abstract]"):
        assert _kept(_work("a", doi=None), _work("b", doi=None, title=TITLE + tag)) == ["a"]


def test_medline_translated_title_in_brackets_merges() -> None:
    assert _kept(_work("a"), _work("b", title=f"[{TITLE}]. [German]")) == ["a"]


def test_markup_and_entities_in_titles_merge() -> None:
    marked = TITLE.replace("meta-analyses", "<i>meta-analyses</i>").replace("and", "&amp;")
    assert _kept(_work("a", doi=None), _work("b", doi=None, title=marked)) == ["a"]


def test_percent_encoded_doi_merges() -> None:
    rows = [_work("a", title="Global burden of 369 diseases", doi="10.1016/S0140-6736(17)30624-3",
                  authors=("Vos, Theo",)),
            _work("b", title="Global burden of 369 diseases and injuries",
                  doi="https://doi.org/10.1016/s0140-6736%2817%2930624-3", authors=("Vos T",))]
    result = deduplicate(records_frame(rows))
    assert result.records["record_id"].tolist() == ["a"]
    assert result.log.loc[0, ["rule", "doi_match"]].tolist() == ["doi", "agree"]


def test_typo_in_title_merges_when_authors_agree() -> None:
    typo = TITLE.replace("synthesis", "synthsis").replace("patterns", "paterns")
    result = deduplicate(records_frame([_work("a", doi=None), _work("b", doi=None,
                                                                     title=typo)]))
    assert result.log.loc[0, ["rule", "title_match"]].tolist() == ["title_fuzzy", "similar"]
    assert 90 <= result.log.loc[0, "score"] < 100


def test_book_doi_and_chapter_doi_do_not_block_a_merge() -> None:
    rows = [_work("a", title="Goal and reference point methods", doi="10.1007/978-1-4615-1495-4_7",
                  venue="Multiple Criteria Decision Analysis", volume=None, pages="209-232"),
            _work("b", title="Goal and reference point methods", doi="10.1007/978-1-4615-1495-4",
                  venue="Multiple Criteria Decision Analysis", volume=None, pages="209-32")]
    result = deduplicate(records_frame(rows))
    assert len(result.records) == 1
    assert result.log.loc[0, "doi_match"] == "related"


# --- what does not -------------------------------------------------------------------

def test_chapters_sharing_a_book_doi_are_not_merged() -> None:
    book = "10.1007/978-3-540-72964-8"
    chapters = [("Introduction: problem solving, EC and EMO", ("Knowles, J.",), "1-28"),
                ("Multiobjective optimization and multiple constraint handling",
                 ("Deb, K.",), "29-57"),
                ("Bayesian approaches to multiobjective problems", ("Jin, Y.",), "58-80")]
    rows = [_work(f"c{k}", title=t, authors=a, pages=p, doi=book, volume=None,
                  venue="Multiobjective Problem Solving from Nature")
            for k, (t, a, p) in enumerate(chapters)]
    result = deduplicate(records_frame(rows))
    assert len(result.records) == 3 and result.log.empty and result.uncertain.empty
    assert set(result.pairs["rule"]) == {"shared_doi"}
    assert (result.pairs["decision"] == "distinct").all()


def test_two_introductions_sharing_a_book_doi_are_not_merged() -> None:
    book = "10.1007/978-3-030-05318-5"
    result = deduplicate(records_frame([
        _work("i1", title="Introduction", doi=book, authors=("Hutter, Frank",), pages="1-5"),
        _work("i2", title="Introduction", doi=book, authors=("Vanschoren, Joaquin",),
              pages=None)]))
    assert len(result.records) == 2
    assert _pair(result, "i1", "i2")["rule"] == "doi_authors_differ"


def test_near_spellings_of_a_first_author_need_the_same_initial() -> None:
    rows = [_work("a", doi=None, authors=("Siegel, Sidney",), venue=None, volume=None,
                  pages=None),
            _work("b", doi=None, authors=("Sigel H",), venue=None, volume=None, pages=None),
            _work("c", doi=None, authors=("Siegl, S.",), venue=None, volume=None, pages=None)]
    result = deduplicate(records_frame(rows))
    assert _pair(result, "a", "b")["first_author_match"] == "differ"
    assert _pair(result, "a", "c")["first_author_match"] == "agree"


def test_supplement_abstracts_sharing_a_doi_are_not_merged_even_by_one_team() -> None:
    doi = "10.1093/annonc/mdz239"
    rows = [_work("s1", title="Nivolumab in relapsed small-cell lung cancer: a phase II study",
                  doi=doi, issue="Suppl 5", pages="v851"),
            _work("s2", title="Biomarkers of response to nivolumab in small-cell lung cancer",
                  doi=doi, issue="Suppl 5", pages="v852"),
            _work("s3", title="Quality of life on nivolumab for small-cell lung cancer",
                  doi=doi, issue="Suppl 5", pages="v853", authors=("Other, Ann",))]
    result = deduplicate(records_frame(rows))
    assert len(result.records) == 3 and result.uncertain.empty
    assert set(result.pairs["decision"]) == {"distinct"}


def test_numbered_parts_are_different_works() -> None:
    result = deduplicate(records_frame([
        _work("p1", title=TITLE + ", part 1", doi=None, pages=None),
        _work("p2", title=TITLE + ", part 2", doi=None, pages=None)]))
    assert len(result.records) == 2
    assert _pair(result, "p1", "p2")["title_match"] == "numbers"


def test_titles_differing_in_an_acronym_are_not_merged() -> None:
    result = deduplicate(records_frame([
        _work("a", title="Experimental analysis of heuristics for the ATSP", doi=None,
              pages=None, volume=None),
        _work("b", title="Experimental analysis of heuristics for the STSP", doi=None,
              pages=None, volume=None)]))
    assert len(result.records) == 2
    assert _pair(result, "a", "b")["title_match"] == "acronyms"


@pytest.mark.parametrize("notice", ["Erratum: {}", "Correction to: {}",
                                    "Supplementary material: {}", "Reply to: {}"])
def test_errata_and_supplements_are_not_the_work(notice: str) -> None:
    result = deduplicate(records_frame([
        _work("a", doi=None), _work("n", doi=None, title=notice.format(TITLE), pages=None)]))
    assert len(result.records) == 2
    assert _pair(result, "a", "n")["rule"] == "notice"


def test_preprint_and_published_record_are_left_to_a_person() -> None:
    result = deduplicate(records_frame([
        _work("journal"), _work("preprint", venue="bioRxiv", volume=None, pages=None,
                                year=2017, doi=None)]))
    assert len(result.records) == 2
    assert result.uncertain[["record_id_1", "record_id_2", "rule"]].values.tolist() == [
        ["journal", "preprint", "preprint"]]


def test_conference_and_journal_versions_are_uncertain() -> None:
    result = deduplicate(records_frame([
        _work("conf", doi=None, venue="Genetic and Evolutionary Computation Conference",
              volume=None, pages="1-8"),
        _work("journal", doi=None, volume=None, pages=None)]))
    assert len(result.records) == 2
    assert result.uncertain["rule"].tolist() == ["venue_differs"]


def test_different_dois_never_merge_not_even_through_a_third_record() -> None:
    rows = [_work("a", doi="10.1000/one"), _work("b", doi="10.1000/two"),
            _work("c", doi=None)]
    result = deduplicate(records_frame(rows))
    kept = result.records["record_id"].tolist()
    assert len(kept) == 2 and {"a", "b"} <= set(kept) | set(result.log["kept_id"])
    works = result.sources.set_index("source_record_id")["kept_id"]
    assert works["a"] != works["b"]
    row = _pair(result, "a", "b")
    assert (row["decision"], row["rule"], row["doi_match"]) == ("uncertain", "different_doi",
                                                                "differ")


def test_generic_titles_need_volume_and_pages() -> None:
    bare = deduplicate(records_frame([
        _work("e1", title="Editorial", authors=(), doi=None, volume=None, pages=None),
        _work("e2", title="Editorial", authors=(), doi=None, volume=None, pages=None)]))
    assert len(bare.records) == 2 and bare.uncertain["rule"].tolist() == ["generic_title"]
    placed = deduplicate(records_frame([
        _work("e1", title="Editorial", authors=(), doi=None),
        _work("e2", title="Editorial", authors=(), doi=None)]))
    assert len(placed.records) == 1


def test_same_title_by_other_authors_is_another_work() -> None:
    result = deduplicate(records_frame([
        _work("a", doi=None), _work("b", doi=None, authors=("Smith, John",), pages="1-12")]))
    assert len(result.records) == 2
    assert _pair(result, "a", "b")["rule"] == "authors_differ"


def test_year_tolerance() -> None:
    rows = [_work("a", doi=None, volume=None), _work("b", doi=None, year=2020, volume=None)]
    assert len(deduplicate(records_frame(rows)).records) == 2
    assert deduplicate(records_frame(rows)).uncertain["rule"].tolist() == ["years_differ"]
    assert len(deduplicate(records_frame(rows), year_tolerance=2).records) == 1
    one_off = [_work("a", doi=None, volume=None), _work("b", doi=None, year=2019, volume=None)]
    assert len(deduplicate(records_frame(one_off)).records) == 1
    assert len(deduplicate(records_frame(one_off), year_tolerance=0).records) == 2


def test_a_wrong_year_does_not_split_one_article() -> None:
    result = deduplicate(records_frame([_work("a", doi=None), _work("b", doi=None,
                                                                     year=2021)]))
    assert result.log[["rule", "year_diff"]].values.tolist() == [["bibliographic", 3]]


def test_title_threshold() -> None:
    typo = TITLE.replace("synthesis", "synthsis")
    rows = [_work("a", doi=None), _work("b", doi=None, title=typo)]
    assert deduplicate(records_frame(rows)).log["rule"].tolist() == ["title_fuzzy"]
    # above the threshold, titles that agree in part need volume and pages as well
    strict = deduplicate(records_frame(rows), title_threshold=101)
    assert strict.log["rule"].tolist() == ["bibliographic"]
    bare = [_work("a", doi=None, pages=None), _work("b", doi=None, title=typo, pages=None)]
    assert len(deduplicate(records_frame(bare), title_threshold=101).records) == 2


# --- the log and the kept record -----------------------------------------------------

def test_log_keeps_its_columns_and_adds_the_evidence() -> None:
    result = deduplicate(records_frame([_work("a"), _work("b", doi=None, pages="278-91")]))
    assert tuple(result.log.columns) == DEDUP_LOG_COLUMNS
    assert tuple(result.log.columns[:10]) == (
        "kept_id", "removed_id", "rule", "score", "matched_id", "filled_fields",
        "kept_title", "removed_title", "kept_source", "removed_source")
    row = result.log.iloc[0]
    assert row["removed_source"] == "b.ris:1" and row["decided_by"] == "rules"
    assert row[["title_match", "doi_match", "first_author_match", "volume_match",
                "pages_match"]].tolist() == ["exact", "missing", "agree", "agree", "agree"]
    assert row["evidence"].startswith("title 100.0 (exact); doi missing; first author agree")
    assert tuple(result.pairs.columns) == DEDUP_PAIR_COLUMNS
    assert result.pairs.loc[0, "evidence"] == row["evidence"]  # same words in both tables


def test_fill_takes_missing_fields_from_duplicates() -> None:
    rows = [_work("x", pages=None, abstract=None, issue="3"),
            _work("y", volume=None, issue=None, abstract="Aggression in children.")]
    result = deduplicate(records_frame(rows))
    kept = result.records.iloc[0]
    assert kept["record_id"] == "x" and kept["abstract"] == "Aggression in children."
    assert kept["pages"] == "278-291"
    assert result.log.loc[0, "filled_fields"] == "pages, abstract"
    unfilled = deduplicate(records_frame(rows), fill=False)
    assert unfilled.records["abstract"].isna().all()
    assert (unfilled.log["filled_fields"] == "").all()


def test_every_record_is_kept_or_logged_once() -> None:
    rows = [_work(f"r{k}", doi=None if k % 2 else "10.1016/j.neubiorev.2018.03.021")
            for k in range(7)] + [_work("other", title="Something else entirely", doi=None)]
    result = deduplicate(records_frame(rows))
    assert len(result.records) + len(result.log) == len(rows)
    assert sorted(result.sources["source_record_id"]) == sorted(r["record_id"] for r in rows)


# --- sources and databases -----------------------------------------------------------

def test_sources_table_and_databases_column_from_a_database_column() -> None:
    frame = records_frame([_work("s1"), _work("p1", doi=None), _work("w1"),
                           _work("x", title="A different work on sleep in adolescents",
                                 doi=None)])
    frame["database"] = ["Scopus", "PubMed", "Web of Science", "PubMed"]
    result = deduplicate(frame)
    assert tuple(result.sources.columns) == DEDUP_SOURCE_COLUMNS
    sources = result.sources.set_index("source_record_id")
    assert sources.loc["p1", ["kept_id", "database"]].tolist() == ["s1", "PubMed"]
    assert sources.loc["s1", "rule"] == "kept" and sources.loc["w1", "rule"] == "doi"
    kept = result.records.set_index("record_id")
    assert kept.loc["s1", "databases"] == ("PubMed", "Scopus", "Web of Science")
    assert kept.loc["x", "databases"] == ("PubMed",)
    found_by = result.sources.groupby("kept_id")["database"].unique().map(sorted)
    assert found_by["s1"] == ["PubMed", "Scopus", "Web of Science"]
    overlap = compute_database_overlap(result)
    assert overlap.loc["PubMed", "PubMed"] == 2 and overlap.loc["PubMed", "Scopus"] == 1
    assert overlap.loc["PubMed", "only"] == 1 and overlap.loc["Scopus", "only"] == 0


def test_without_a_database_the_source_file_names_the_database() -> None:
    frame = records_frame([_work("a", source_file="exports/scopus.ris"),
                           _work("b", source_file="exports/pubmed.nbib", doi=None)])
    result = deduplicate(frame)
    assert result.records.loc[0, "databases"] == ("pubmed.nbib", "scopus.ris")
    assert result.sources["database"].tolist() == ["scopus.ris", "pubmed.nbib"]


# --- bad calls -----------------------------------------------------------------------

def test_repeated_ids_are_refused() -> None:
    frame = records_frame([{"record_id": "a", "title": "x"}, {"record_id": "a", "title": "y"}])
    with pytest.raises(ToolkitError, match="record_id values repeat"):
        deduplicate(frame)


def test_missing_columns_are_refused() -> None:
    with pytest.raises(ToolkitError, match=r"lack columns \['doi'\]"):
        deduplicate(pd.DataFrame({"record_id": ["a"], "title": ["t"], "year": [2020]}))


def test_empty_table() -> None:
    result = deduplicate(records_frame([]))
    assert result.records.empty and result.log.empty and result.pairs.empty
    assert result.sources.empty and result.uncertain.empty


def test_a_record_without_a_year_does_not_bridge_two_versions_years_apart() -> None:
    # a 2001 technical report and its 2005 book chapter; a third record has no year
    rows = [_work("report", doi=None, year=2001, venue=None, volume=None, pages=None),
            _work("chapter", doi=None, year=2005, venue=None, volume=None, pages=None),
            _work("noyear", doi=None, year=None, venue=None, volume=None, pages=None)]
    result = deduplicate(records_frame(rows))
    works = result.sources.set_index("source_record_id")["kept_id"]
    assert works["report"] != works["chapter"]
    assert _pair(result, "report", "chapter")["rule"] == "years_differ"
    assert result.stats["works"] == 2
