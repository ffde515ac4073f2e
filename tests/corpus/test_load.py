from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from toolkit import CorpusFormatError, CorpusInputError, load_corpus

READABLE = [
    "accents.bib", "bad_rows.csv", "basic.ris", "comments_and_stray.bib", "crossref.bib",
    "duplicate_keys.bib", "generic_synonyms.csv", "late_tags.ris", "missing_last_er.ris",
    "scopus.csv", "stray_text.ris", "strings_concat.bib", "unclosed_brace.bib",
    "utf16_bom.bib", "utf8_bom.bib", "wos_plain.txt", "wos_tab.txt",
]


@pytest.mark.parametrize("name", READABLE)
def test_records_plus_failures_account_for_every_block(corpus_data: Path, name: str) -> None:
    result = load_corpus(corpus_data / name)
    for row in result.blocks.itertuples():
        assert row.blocks == row.records + row.failures + row.other
        assert row.records == (result.records["source_file"] == row.source_file).sum()
        assert row.failures == sum(f.source_file == row.source_file for f in result.failures)


def test_strict_raises_with_every_failure(corpus_data: Path) -> None:
    with pytest.raises(CorpusFormatError) as info:
        load_corpus([corpus_data / "unclosed_brace.bib", corpus_data / "stray_text.ris"],
                    strict=True)
    assert len(info.value.failures) == 2
    message = str(info.value)
    assert "unclosed_brace.bib:6" in message and "stray_text.ris:6" in message
    assert "strict=False" in message


@pytest.mark.parametrize(
    ("make", "match"),
    [
        pytest.param(lambda d: d / "missing.bib", "no such file", id="missing"),
        pytest.param(lambda d: d / "empty.bib", "file is empty", id="empty"),
        pytest.param(lambda d: d / "unknown.xyz", "unknown file kind '.xyz'", id="unknown"),
    ],
)
def test_clear_messages_for_unusable_paths(corpus_data: Path, make, match: str) -> None:
    with pytest.raises(CorpusInputError, match=match):
        load_corpus(make(corpus_data))


def test_directory_without_readable_files(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("nothing here")
    with pytest.raises(CorpusInputError, match="no readable reference files"):
        load_corpus(tmp_path)


def test_directory_is_searched_recursively_and_sorted(tmp_path: Path, corpus_data: Path) -> None:
    (tmp_path / "sub").mkdir()
    shutil.copy(corpus_data / "basic.ris", tmp_path / "sub" / "b.ris")
    shutil.copy(corpus_data / "accents.bib", tmp_path / "a.bib")
    (tmp_path / ".hidden.bib").write_text("@book{hidden, title={H}}")
    result = load_corpus(tmp_path)
    assert result.records["record_id"].tolist() == ["mueller2020", "hou2023", "oliver2019making"]


def test_bibtex_files_share_macros_and_crossrefs(tmp_path: Path) -> None:
    (tmp_path / "1_strings.bib").write_text('@string{jnl = "Shared Journal"}\n'
                                            "@book{parent, title={Parent Book}, year=1999}\n")
    (tmp_path / "2_entries.bib").write_text(
        "\n@article{a, journal = jnl, year = 2001}\n"
        "@incollection{c, title={Chap}, crossref={parent}}\n")
    result = load_corpus(tmp_path)
    records = result.records.set_index("record_id")
    assert records.loc["a", "venue"] == "Shared Journal"
    assert records.loc["c", "venue"] == "Parent Book"
    assert records.loc["c", "year"] == 1999
    assert records.loc["a", "source_line"] == 2
    assert records.loc["a", "source_file"].endswith("2_entries.bib")
    assert result.blocks["blocks"].tolist() == [2, 2]
    separate = load_corpus(tmp_path, bibtex_together=False)
    assert separate.records.set_index("record_id").loc["a", "venue"] == "jnl"


def test_same_id_in_two_files_is_renamed_and_reported(tmp_path: Path) -> None:
    (tmp_path / "a.bib").write_text("@book{k, title={One}}\n")
    (tmp_path / "b.ris").write_text("TY  - BOOK\nID  - k\nTI  - Two\nER  - \n")
    result = load_corpus(tmp_path)
    assert result.records["record_id"].tolist() == ["k", "k-2"]
    assert [w.kind for w in result.warnings] == ["duplicate_key"]


def test_txt_dispatch_by_content(tmp_path: Path) -> None:
    (tmp_path / "ris.txt").write_text("TY  - JOUR\nTI  - From RIS\nER  - \n")
    assert load_corpus(tmp_path / "ris.txt").records.loc[0, "title"] == "From RIS"


def test_keys_from_files_win_over_derived_ids(tmp_path: Path) -> None:
    # the RIS record has no ID, so its derived id collides with the BibTeX key
    (tmp_path / "a.ris").write_text("TY  - JOUR\nAU  - Lang, Josephine\nPY  - 2023\n"
                                    "TI  - Workforce upskilling\nER  - \n")
    (tmp_path / "b.bib").write_text("@article{lang2023workforce, title={Workforce upskilling}}\n")
    result = load_corpus(tmp_path)
    by_file = dict(zip(result.records["source_file"].map(lambda p: Path(p).name),
                       result.records["record_id"], strict=True))
    assert by_file == {"a.ris": "lang2023workforce-2", "b.bib": "lang2023workforce"}
    assert result.generated_ids == frozenset({"lang2023workforce-2"})
