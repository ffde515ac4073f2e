"""Real third-party exports from ../shared/data (skipped when ../shared is absent).

Every file of ../shared/data/messy is loaded and checked (values, accounting, unique ids)
by tests/corpus/test_nothing_lost.py; the tests here look at particular files.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from toolkit import load_corpus
from toolkit.corpus import deduplicate


def _accounted(result) -> None:
    for row in result.blocks.itertuples():
        assert row.blocks == row.records + row.failures + row.other, row


def test_iridia_database_needs_its_files_read_together(shared_data: Path) -> None:
    folder = shared_data / "messy" / "bibtex" / "iridia_ulb_references"
    together = load_corpus(folder)
    assert together.failures == ()
    assert not [w for w in together.warnings if w.kind == "unknown_macro"]
    apart = load_corpus(folder, bibtex_together=False)
    assert [w for w in apart.warnings if w.kind == "unknown_macro"]
    assert len(together.records) == len(apart.records) > 3000
    _accounted(together)


def test_jabref_utf16_without_bom_and_windows_1252(shared_data: Path) -> None:
    folder = shared_data / "messy" / "bibtex" / "jabref_test_resources"
    be = load_corpus(folder / "encoding-utf-16BE-without-header.bib").records
    assert be["title"].notna().all()
    with pytest.warns(UserWarning, match="cp1252"):
        cp = load_corpus(folder / "encoding-windows-1252-with-header.bib")
    assert [w.kind for w in cp.warnings] == ["encoding", "missing_key"]  # the entry has no key
    assert cp.records.loc[0, "abstract"] == "25° C"


def test_kitchenham_csv_in_cp1252_deduplicates(shared_data: Path) -> None:
    path = shared_data / "abstracts" / "fastread_kitchenham" / "Kitchenham.csv"
    with pytest.warns(UserWarning, match="Kitchenham.csv: not valid UTF-8"):
        result = load_corpus(path)
    assert len(result.records) == 1704 and result.failures == ()
    dedup = deduplicate(result.records)
    assert len(dedup.records) + len(dedup.log) == 1704
    assert set(dedup.log["rule"]) <= {"doi", "title_year", "title_fuzzy", "bibliographic"}


def test_wos_plain_text_export_with_ris_suffix(shared_data: Path) -> None:
    from toolkit.corpus import read_csv

    path = shared_data / "messy" / "ris" / "rispy_tests_data" / "example_wos.ris"
    result = read_csv(path)
    assert len(result.records) == 2 and result.failures == ()
