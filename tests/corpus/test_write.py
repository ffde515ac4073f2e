from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

import pandas as pd
import pytest

from toolkit._io import OutputExistsError
from toolkit.corpus import (
    format_bibtex,
    format_ris,
    load_corpus,
    parse_bibtex_string,
    parse_ris_string,
    records_frame,
    write_bibtex,
    write_ris,
)
from toolkit.types import RECORD_COLUMNS

# database, source_file and source_line describe the file read, so they follow the new file.
KEEP = [c for c in RECORD_COLUMNS if c not in ("database", "source_file", "source_line")]
SOURCES = ["accents.bib", "strings_concat.bib", "crossref.bib", "duplicate_keys.bib",
           "comments_and_stray.bib", "scopus_bibtex.bib", "basic.ris", "late_tags.ris",
           "ris_many_values.ris", "scopus.csv", "generic_synonyms.csv", "zotero.csv",
           "wos_records.txt", "medline_records.nbib", "endnote_records.xml"]


def _same(left: pd.DataFrame, right: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(left[KEEP].reset_index(drop=True),
                                  right[KEEP].reset_index(drop=True))


def _write_read(records: pd.DataFrame, path: Path) -> pd.DataFrame:
    writer = write_bibtex if path.suffix == ".bib" else write_ris
    writer(records, path)
    return load_corpus(path, strict=True).records


@pytest.mark.parametrize("name", SOURCES)
@pytest.mark.parametrize("suffix", [".bib", ".ris"])
def test_load_write_load_keeps_every_column_and_extra(corpus_data: Path, tmp_path: Path,
                                                      name: str, suffix: str) -> None:
    original = load_corpus(corpus_data / name).records
    _same(original, _write_read(original, tmp_path / f"out{suffix}"))


@pytest.mark.parametrize("name", SOURCES)
def test_bib_ris_bib_and_ris_bib_ris(corpus_data: Path, tmp_path: Path, name: str) -> None:
    original = load_corpus(corpus_data / name).records
    via_ris = _write_read(_write_read(original, tmp_path / "a.ris"), tmp_path / "b.bib")
    via_bib = _write_read(_write_read(original, tmp_path / "c.bib"), tmp_path / "d.ris")
    _same(original, via_ris)
    _same(original, via_bib)


def test_the_sources_carry_extra_fields(corpus_data: Path) -> None:
    with_extra = [name for name in SOURCES
                  if any(load_corpus(corpus_data / name).records["extra"])]
    assert len(with_extra) >= 10


def test_ris_extras_reach_bibtex_under_bibtex_names(corpus_data: Path) -> None:
    records = load_corpus(corpus_data / "ris_many_values.ris").records
    text = format_bibtex(records)
    for field in ("language = {English}", "issn = {1234-5678}", "issn = {2345-6789}",
                  "editor = {Editor, Ed and Second, Ed}", "annote = {A research note}"):
        assert field in text


def test_list_valued_extra_is_one_value_per_line() -> None:
    frame = records_frame([{"record_id": "k", "title": "T",
                            "extra": (("ris_a3", "Doe, Jane"), ("ris_a3", "Roe, Ann"))}])
    lines = format_ris(frame).splitlines()
    assert [line for line in lines if line.startswith("A3")] == [
        "A3  - Doe, Jane", "A3  - Roe, Ann"]


def test_fields_with_spaces_and_unreadable_months_are_written() -> None:
    result = parse_bibtex_string("@article{k, title={T}, funding_text 1={Grant 7}, "
                                 "month={Spring}}")
    record = result.records.iloc[0]
    assert ("funding_text_1", "Grant 7") in record["extra"]
    assert ("month", "Spring") in record["extra"]
    again = parse_bibtex_string(format_bibtex(result.records)).records.iloc[0]
    assert again["extra"] == record["extra"]


def test_tilde_and_specials_survive(tmp_path: Path) -> None:
    frame = records_frame([{"record_id": "x", "entry_type": "article",
                            "title": "R&D at 50% {braces} #1 a_b $5 ~65 hours -- x^2 \\ ok",
                            "authors": ("Procter & Gamble", "Doe, Jane and John")}])
    again = _write_read(frame, tmp_path / "x.bib")
    assert again.loc[0, "title"] == frame.loc[0, "title"]
    assert again.loc[0, "authors"] == ("Procter & Gamble", "Doe, Jane and John")


def test_url_cannot_smuggle_an_entry_into_bibtex() -> None:
    # issue #11 item 5: the URL closed the entry and opened @misc{injected}
    frame = records_frame([{"record_id": "a", "title": "T",
                            "url": "http://x.org/}}\n@misc{injected, title={evil}}"}])
    again = parse_bibtex_string(format_bibtex(frame))
    assert again.records["record_id"].tolist() == ["a"]
    assert again.failures == ()
    # unbalanced braces are percent-encoded (the same URL), so BibTeX itself cannot be fooled
    assert unquote(again.records.loc[0, "url"]) == (
        "http://x.org/}} @misc{injected, title={evil}}")


def test_record_id_cannot_smuggle_a_record_into_ris() -> None:
    # issue #11 item 5: a record id with "\nER  - \nTY  - " re-read as two records
    frame = records_frame([{"record_id": "a\nER  - \nTY  - JOUR\nTI  - injected",
                            "title": "T", "abstract": "line one\nER  - \nTY  - BOOK"}])
    again = parse_ris_string(format_ris(frame))
    assert len(again.records) == 1 and again.failures == ()
    assert again.records.loc[0, "title"] == "T"


def test_writers_do_not_replace_files_unless_asked(corpus_data: Path, tmp_path: Path) -> None:
    records = load_corpus(corpus_data / "accents.bib").records
    target = tmp_path / "out.bib"
    target.write_text("a coder's file")
    with pytest.raises(OutputExistsError, match="pass overwrite=True"):
        write_bibtex(records, target)
    assert target.read_text() == "a coder's file"
    write_bibtex(records, target, overwrite=True)
    assert "mueller2020" in target.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["out.bib"]  # no temp file left
