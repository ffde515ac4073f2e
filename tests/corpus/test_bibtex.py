from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from toolkit.corpus import parse_bibtex_string, read_bibtex
from toolkit.corpus.bibtex import format_name


def test_latex_accents_braces_and_dashes(corpus_data: Path) -> None:
    rec = read_bibtex(corpus_data / "accents.bib").records.iloc[0]
    assert rec["title"] == "Micro-credentials in École – a first look"
    assert rec["authors"] == ("Müller, Jörg", "Straße, Anna", "Dupré, François")
    assert rec["venue"] == "Revue d'éducation"
    assert rec["pages"] == "13505-13540"
    assert rec["doi"] == "10.1234/abc.def_5"
    assert rec["source_type"] == "journal article"
    assert rec["source_group"] == "academic"


def test_string_macros_concatenation_and_months(corpus_data: Path) -> None:
    result = read_bibtex(corpus_data / "strings_concat.bib")
    first, second = result.records.iloc[0], result.records.iloc[1]
    assert first["venue"] == "Journal of Adult Education in Tanzania"
    assert (first["year"], first["month"], first["volume"], first["issue"]) == (2024, 12, "26", "2")
    assert second["month"] == 9  # {September}
    assert [w.kind for w in result.warnings] == ["unknown_macro"]
    assert result.warnings[0].line == 15
    assert "nosuchmacro" in result.warnings[0].message


def test_crossref_inherits_missing_fields_and_reports_missing_parent(corpus_data: Path) -> None:
    result = read_bibtex(corpus_data / "crossref.bib")
    records = result.records.set_index("record_id")
    chapter = records.loc["chapter2023"]
    assert chapter["venue"] == "Technology-Enhanced Learning and the Virtual University"
    assert chapter["publisher"] == "Springer"
    assert chapter["year"] == 2023
    assert chapter["pages"] == "451-464"  # own field wins
    assert pd.isna(records.loc["orphan2022", "year"])
    assert [(w.kind, w.line) for w in result.warnings] == [("crossref", 8)]


@pytest.mark.parametrize(
    ("name", "records", "failure_lines"),
    [
        pytest.param("unclosed_brace.bib", ["good1", "good2"], [6], id="unclosed-brace"),
        pytest.param("duplicate_keys.bib", ["same", "same-2", "twice"], [], id="duplicate-keys"),
        pytest.param("comments_and_stray.bib", ["web2021", "anon2000entry"], [], id="comments"),
    ],
)
def test_reader_keeps_going(corpus_data: Path, name: str, records: list[str],
                            failure_lines: list[int]) -> None:
    result = read_bibtex(corpus_data / name)
    assert result.records["record_id"].tolist() == records
    assert [f.line for f in result.failures] == failure_lines
    for failure in result.failures:
        assert failure.raw.startswith("@article{broken")
        assert "closing" in failure.reason


def test_duplicate_key_second_renamed_and_reported(corpus_data: Path) -> None:
    result = read_bibtex(corpus_data / "duplicate_keys.bib")
    kinds = {w.kind: w for w in result.warnings}
    assert kinds["duplicate_key"].record_id == "same-2"
    assert kinds["duplicate_key"].line == 6
    assert "duplicate_keys.bib:1" in kinds["duplicate_key"].message
    twice = result.records.set_index("record_id").loc["twice"]
    assert twice["title"] == "First title"
    assert kinds["duplicate_field"].line == 11


def test_explicit_source_type_and_url_from_howpublished(corpus_data: Path) -> None:
    result = read_bibtex(corpus_data / "comments_and_stray.bib")
    web = result.records.set_index("record_id").loc["web2021"]
    assert web["authors"] == ("World Bank",)
    assert web["url"] == "https://example.org/skills_report"
    assert (web["source_type"], web["source_group"]) == ("institutional report", "policy")
    assert result.blocks.iloc[0][["blocks", "records", "failures", "other"]].tolist() == [
        5, 2, 0, 3]


@pytest.mark.parametrize(
    ("name", "title", "fallback"),
    [
        pytest.param("utf8_bom.bib", "A file that starts with a BOM", False, id="utf8-bom"),
        pytest.param("utf16_bom.bib", "Grüße in UTF-16", False, id="utf16-bom"),
        pytest.param("cp1252.bib", "Café crème – Windows text", True, id="cp1252"),
    ],
)
def test_encodings(corpus_data: Path, name: str, title: str, fallback: bool) -> None:
    if fallback:
        with pytest.warns(UserWarning, match=r"cp1252\.bib: not valid UTF-8"):
            result = read_bibtex(corpus_data / name)
        assert [w.kind for w in result.warnings] == ["encoding"]
    else:
        result = read_bibtex(corpus_data / name)
        assert result.warnings == ()
    assert result.records.loc[0, "title"] == title


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Olcott Jr, Don", "Olcott Jr, Don"),
        ("Olcott, Jr, Don", "Olcott, Jr, Don"),
        ("Rory McGreal", "McGreal, Rory"),
        ("van Vuuren, Marieta Jansen", "van Vuuren, Marieta Jansen"),
        ("{Georgetown University Center on Education and the Workforce}",
         "Georgetown University Center on Education and the Workforce"),
        (r"Mair{\'e}ad, Nic Giolla Mhich{\'i}l", "Mairéad, Nic Giolla Mhichíl"),
    ],
)
def test_format_name(raw: str, expected: str) -> None:
    assert format_name(raw) == expected


def test_entry_line_numbers_are_one_based() -> None:
    text = "\n\n@book{a, title={A}}\n\n@book{b, title={B}}\n"
    assert parse_bibtex_string(text).records["source_line"].tolist() == [3, 5]
