"""Web of Science, MEDLINE, EndNote XML and Zotero CSV readers; detection by content."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from toolkit.corpus import (
    detect_format,
    load_corpus,
    parse_endnote_xml_string,
    read_endnote_xml,
    read_medline,
    read_wos,
)


@pytest.mark.parametrize("name", ["wos_records.txt", "medline_records.nbib"])
def test_own_wos_and_medline_fixtures_give_every_record_in_full(corpus_data: Path,
                                                                name: str) -> None:
    result = load_corpus(corpus_data / name)
    records = result.records
    assert len(records) == 3 and result.failures == ()
    for column in ("authors", "year", "doi", "abstract", "title", "venue"):
        assert records[column].map(bool).all(), column
    counts = result.blocks.iloc[0]
    assert counts["blocks"] == counts["records"] + counts["failures"] + counts["other"]


def test_wos_tags_continuations_and_unknown_tags(corpus_data: Path) -> None:
    records = read_wos(corpus_data / "wos_records.txt").records.set_index("record_id")
    first = records.loc["WOS:000000000000001"]
    assert first["title"] == "A first test record whose title wraps onto a second line"
    assert first["authors"] == ("Doe, Jane", "Roe, Ann")  # AF, full names
    assert first["keywords"] == ("micro-credentials", "recognition of prior learning",
                                 "quality assurance")
    assert (first["month"], first["pages"], first["publisher"]) == (9, "101-118",
                                                                    "TEST PUBLISHER")
    extra = first["extra"]
    for pair in [("wos_zb", "0"), ("wos_zs", "0"), ("wos_z8", "0"), ("wos_zr", "0"),
                 ("keywords-plus", "SKILLS"), ("issn", "1234-5678"), ("eissn", "2345-6789"),
                 ("wos_au", "Roe, A")]:
        assert pair in extra
    assert sum(name == "cited-references" for name, _ in extra) == 2
    assert sum(name == "affiliation" for name, _ in extra) == 2
    second = records.loc["WOS:000000000000002"]
    assert second["doi"] == "10.5555/wos.test.2"  # from "ARTN 106 / 10.5555/..."
    assert ("doi", "10.5555/wos.test.book") in second["extra"]  # D2, the book's DOI
    assert ("doi_raw", "ARTN 106 10.5555/WOS.TEST.2") in second["extra"]
    third = records.loc["WOS:000000000000003"]
    assert (third["entry_type"], third["pages"], third["abstract"]) == (
        "incollection", "5", "Third abstract.")
    assert ("abstract_removed", "(C) 2020 Test Publisher Ltd. All rights reserved.") in \
        third["extra"]
    assert set(records["database"]) == {"wos"}


def test_medline_tags(corpus_data: Path) -> None:
    result = read_medline(corpus_data / "medline_records.nbib")
    first = result.records.set_index("record_id").loc["PMID:90000001"]
    assert first["title"] == ("A first MEDLINE test record whose title wraps onto a second "
                              "line of the export.")
    assert first["authors"] == ("Doe, Jane", "Roe, Ann")
    assert (first["year"], first["month"], first["pages"]) == (2021, 9, "1021-1027")
    assert first["doi"] == "10.5555/medline.test.1"
    assert first["abstract"].endswith("CONCLUSIONS: Every line is kept.")
    extra = first["extra"]
    assert [v for n, v in extra if n == "issn"] == ["1234-5678 (Electronic)",
                                                    "1234-5679 (Linking)"]
    assert len([v for n, v in extra if n == "affiliation"]) == 2
    assert ("medline_pg", "1021-7") in extra and ("pmid", "90000001") in extra
    assert ("medline_lid", "S0000-0000(21)00001-1 [pii]") in extra
    assert set(result.records["database"]) == {"pubmed"}


def test_endnote_xml(corpus_data: Path) -> None:
    records = read_endnote_xml(corpus_data / "endnote_records.xml").records
    first, second = records.iloc[0], records.iloc[1]
    assert first["title"] == "An EndNote XML record with styled text"
    assert (first["doi"], first["month"], first["url"]) == (
        "10.5555/endnote.1", 9, "https://example.org/endnote-1")
    assert ("url", "https://example.org/endnote-1b") in first["extra"]
    assert first["database"] == "scopus"  # remote-database-name
    assert (second["entry_type"], second["venue"], second["doi"]) == (
        "incollection", "A Test Book", "10.5555/endnote.2")
    assert ("editor", "Editor, Ed") in second["extra"]
    assert second["database"] == "zotero"  # the tool, when no database is named


def test_endnote_xml_broken_halfway_keeps_the_records_before() -> None:
    xml = ("<xml><records><record><titles><title>Kept</title></titles></record>\n"
           "<record><titles><title>Broken</titel></titles></record></records></xml>")
    result = parse_endnote_xml_string(xml)
    assert result.records["title"].tolist() == ["Kept"]
    assert [(f.line, f.kind) for f in result.failures] == [(2, "parse")]
    assert result.failures[0].raw.startswith("<record><titles><title>Broken")


def test_endnote_xml_refuses_entities() -> None:
    xml = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>'
           "<xml><records><record><title>&a;</title></record></records></xml>")
    result = parse_endnote_xml_string(xml)
    assert len(result.records) == 0 and result.failures[0].kind == "parse"


def test_zotero_csv(corpus_data: Path) -> None:
    records = load_corpus(corpus_data / "zotero.csv").records
    first, second = records.iloc[0], records.iloc[1]
    assert first["abstract"] == "An abstract note that Zotero writes in its own column."
    assert first["keywords"] == ("micro-credentials", "recognition", "higher education")
    assert (first["entry_type"], second["entry_type"]) == ("article", "incollection")
    assert (first["month"], first["database"]) == (9, "zotero")


def test_r_written_csv_na_cells_are_missing(corpus_data: Path) -> None:
    records = load_corpus(corpus_data / "r_written.csv").records
    assert records["abstract"].isna().tolist() == [True, False]
    assert records.loc[1, "authors"] == () and records["venue"].isna().tolist()[1]
    assert records.loc[0, "pages"] == "405"


def test_scopus_bibtex(corpus_data: Path) -> None:
    records = load_corpus(corpus_data / "scopus_bibtex.bib").records
    first = records.iloc[0]
    assert first["keywords"] == ("micro-credentials", "recognition")  # author_keywords
    assert ("keywords", "higher education; skills") in first["extra"]
    assert ("funding_text_1", "Funded by the Test Foundation (grant 7).") in first["extra"]
    assert set(records["database"]) == {"scopus"}
    assert records.loc[1, "venue"] == "Proceedings of the Test Conference"


def test_wos_ris_publisher_and_many_values(corpus_data: Path) -> None:
    records = load_corpus(corpus_data / "ris_many_values.ris").records
    first = records.iloc[0]
    assert first["publisher"] == "TEST PUBLISHER"  # PU, as Web of Science writes RIS
    assert first["month"] == 9  # DA - SEP
    assert first["url"] == "https://example.org/records;jsessionid=ABC123?id=1"
    assert first["abstract"] == "The first abstract, with markup from Lens."
    assert ("abstract", "A second abstract of the same record.") in first["extra"]
    assert records.loc[1, "doi"] == "10.5555/ris.ebsco.2"  # EBSCO's L3
    assert records.loc[1, "database"] == "cinahl/ebsco"
    assert records.loc[2, "doi"] == "10.5555/ris.chap(3)"  # "DOI ..." and %28 %29
    assert records.loc[2, "url"] == "http://example.org/a"
    assert ("url", "http://example.org/b") in records.loc[2, "extra"]


def test_missing_ty_is_a_failure_not_a_merge(corpus_data: Path) -> None:
    result = load_corpus(corpus_data / "ris_missing_ty.ris")
    assert result.records["record_id"].tolist() == ["first", "third"]
    assert result.records.loc[0, "authors"] == ("Doe, Jane",)
    assert [(f.line, f.kind) for f in result.failures] == [(9, "missing_start")]
    assert "A record whose TY line is missing" in result.failures[0].raw


@pytest.mark.parametrize(("name", "kind"), [
    ("wos_records.txt", "wos"), ("wos_plain.txt", "wos"), ("wos_tab.txt", "csv"),
    ("medline_records.nbib", "medline"), ("ris_after_header.txt", "ris"),
    ("endnote_records.xml", "endnote-xml"), ("basic.ris", "ris"), ("zotero.csv", "csv"),
    ("accents.bib", "bibtex"), ("unknown.xyz", None),
])
def test_detection_by_content(corpus_data: Path, name: str, kind: str | None) -> None:
    assert detect_format(corpus_data / name)[0] == kind


@pytest.mark.parametrize(("source", "saved_as", "kind"), [
    ("medline_records.nbib", "pubmed.txt", "medline"),
    ("wos_records.txt", "savedrecs.ris", "wos"),
    ("wos_records.txt", "savedrecs.ciw", "wos"),
    ("basic.ris", "export.nbib", "ris"),
    ("endnote_records.xml", "library.txt", "endnote-xml"),
])
def test_content_wins_over_suffix(corpus_data: Path, tmp_path: Path, source: str,
                                  saved_as: str, kind: str) -> None:
    target = tmp_path / saved_as
    shutil.copy(corpus_data / source, target)
    assert detect_format(target)[0] == kind
    assert len(load_corpus(target).records) > 0


def test_a_folder_reports_every_skipped_file(corpus_data: Path, tmp_path: Path) -> None:
    shutil.copy(corpus_data / "wos_records.txt", tmp_path / "savedrecs.txt")
    (tmp_path / "notes.md").write_text("# notes")
    (tmp_path / "empty.ris").write_text("")
    (tmp_path / ".DS_Store").write_bytes(b"\x00\x01")
    (tmp_path / ".git").mkdir()
    (tmp_path / "export.csv").write_bytes(b"PK\x03\x04" + b"\x00" * 20)
    result = load_corpus(tmp_path)
    assert len(result.records) == 3
    reasons = {Path(s.path).name: s.reason for s in result.skipped}
    assert set(reasons) == {"notes.md", "empty.ris", ".DS_Store", ".git", "export.csv"}
    assert "empty" in reasons["empty.ris"] and "zip" in reasons["export.csv"]
    assert "hidden" in reasons[".git"]
    assert list(result.skipped_frame().columns) == ["path", "reason"]
