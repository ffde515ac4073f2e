from __future__ import annotations

from pathlib import Path

from toolkit.corpus import parse_csv_string, read_csv


def test_scopus_export(corpus_data: Path) -> None:
    records = read_csv(corpus_data / "scopus.csv").records
    first = records.iloc[0]
    assert first["record_id"] == "2-s2.0-1"
    assert first["authors"] == ("Ahsan, Kamrul", "Akbar, Suraiyah")  # ids stripped
    assert (first["venue"], first["pages"], first["doi"]) == (
        "Education and Information Technologies", "13505-13540", "10.5555/eit.1")
    assert first["abstract"] == 'A review of implementations, with "quotes" and a comma.'
    assert first["entry_type"] == "article"
    assert ("document_type", "Review") in first["extra"]
    assert first["database"] == "scopus"


def test_wos_tab_delimited_and_plain_text(corpus_data: Path) -> None:
    tab = read_csv(corpus_data / "wos_tab.txt").records.iloc[0]
    assert tab["authors"] == ("Brown, Mark", "Duart, Josep M")
    assert (tab["record_id"], tab["year"], tab["pages"]) == ("WOS:0001", 2024, "1-16")
    plain = read_csv(corpus_data / "wos_plain.txt")
    rec = plain.records.iloc[0]
    assert rec["title"] == ("'The degree is not enough': students' perceptions of higher "
                            "education credentials")
    assert (rec["authors"], rec["year"], rec["volume"], rec["pages"]) == (
        ("Tomlinson, Michael",), 2008, "29", "49-61")
    counts = plain.blocks.iloc[0]
    assert (counts["records"], counts["other"], counts["failures"]) == (1, 3, 0)


def test_generic_synonyms_semicolon_and_explicit_source_type(corpus_data: Path) -> None:
    records = read_csv(corpus_data / "generic_synonyms.csv").records
    assert records["doi"].tolist()[0] == "10.1177/0019793914564961"
    assert records["keywords"].tolist()[0] == ("skills gap", "mismatch")
    second = records.iloc[1]
    assert second["authors"] == ("Van der Hijden, Peter", "Martin, Michaela")
    assert (second["source_type"], second["source_group"]) == ("institutional report", "policy")
    assert second["record_id"] == "vanderhijden2023short"


def test_bad_rows_are_failures_with_their_lines(corpus_data: Path) -> None:
    result = read_csv(corpus_data / "bad_rows.csv")
    assert result.records["title"].tolist() == [
        "A row with a line break in the title", "A fine row"]
    assert result.records["source_line"].tolist() == [2, 6]
    assert [(f.line, f.kind) for f in result.failures] == [(4, "bad_row"), (7, "empty_record")]
    assert result.failures[0].raw == "A row with too many cells,Doe J.,2021,extra"
    counts = result.blocks.iloc[0]
    assert counts["blocks"] == counts["records"] + counts["failures"] + counts["other"] == 5


def test_header_without_known_columns_is_one_failure() -> None:
    result = parse_csv_string("foo,bar\n1,2\n")
    assert len(result.records) == 0
    assert [f.kind for f in result.failures] == ["header"]
    assert "rename one to 'title'" in result.failures[0].reason
