from __future__ import annotations

from pathlib import Path

from toolkit.corpus import parse_ris_string, read_ris


def test_basic_fields(corpus_data: Path) -> None:
    records = read_ris(corpus_data / "basic.ris").records.set_index("record_id")
    hou = records.loc["hou2023"]
    assert hou["authors"] == ("Hou, Angela Yung-Chi", "Lin, Arianna Fang-Yu")
    assert (hou["year"], hou["month"], hou["issue"], hou["pages"]) == (2023, 6, "353", "118-135")
    assert hou["doi"] == "10.9999/jer.353"
    assert hou["keywords"] == ("quality assurance", "recognition")
    assert ("ris_xy", "an unknown tag") in hou["extra"]
    oliver = records.loc["oliver2019making"]  # no ID tag: derived id
    assert (oliver["entry_type"], oliver["source_type"]) == ("techreport", "report")
    assert oliver["publisher"] == "Deakin University"
    assert oliver["url"] == "https://example.org/oliver.pdf"


def test_last_record_without_er_is_kept_and_reported(corpus_data: Path) -> None:
    result = read_ris(corpus_data / "missing_last_er.ris")
    assert result.records["title"].tolist()[-1] == "Record with no ER at the end of the file"
    assert [(w.kind, w.line) for w in result.warnings] == [("missing_er", 6)]


def test_stray_text_is_a_failure_with_line_and_raw(corpus_data: Path) -> None:
    result = read_ris(corpus_data / "stray_text.ris")
    assert len(result.records) == 2
    assert [(f.line, f.kind) for f in result.failures] == [(6, "stray_text")]
    assert result.failures[0].raw == "this line belongs to no record"
    # text before the first record is the export's header: kept in a warning, not a failure
    assert [(w.line, w.kind) for w in result.warnings] == [(1, "header_text")]
    assert "Exported from a database" in result.warnings[0].message
    counts = result.blocks.iloc[0]
    assert counts["blocks"] == counts["records"] + counts["failures"] + counts["other"] == 4


def test_numbering_lines_and_tags_after_er(corpus_data: Path) -> None:
    result = read_ris(corpus_data / "late_tags.ris")
    assert result.failures == ()
    assert ("ris_nl", "J Abbrev") in result.records.loc[0, "extra"]
    assert [w.kind for w in result.warnings] == ["late_tags"]
    counts = result.blocks.iloc[0]
    assert counts["blocks"] == counts["records"] + counts["failures"] + counts["other"]
    assert counts["other"] == 2


def test_ris_type_that_does_not_map_back_is_kept() -> None:
    result = parse_ris_string("TY  - GOVDOC\nTI  - A policy\nER  - \n")
    rec = result.records.iloc[0]
    assert rec["entry_type"] == "techreport"
    assert ("ris_ty", "GOVDOC") in rec["extra"]


def test_tag_variants_bom_and_trailing_spaces() -> None:
    text = "\ufeffTY  - JOUR \nT1  - Primary title\nA1  - Roe, Ann\nY1  - 2001///\nER  -\n"
    rec = parse_ris_string(text).records.iloc[0]
    assert (rec["title"], rec["authors"], rec["year"]) == ("Primary title", ("Roe, Ann",), 2001)
