"""Every reader returns the same columns with the same dtypes (sklearn-style contract)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from toolkit.corpus import read_bibtex, read_csv, read_ris
from toolkit.types import RECORD_COLUMNS, RECORD_DTYPES

CASES = [
    (read_bibtex, "accents.bib"), (read_bibtex, "comments_and_stray.bib"),
    (read_ris, "basic.ris"), (read_ris, "stray_text.ris"),
    (read_csv, "scopus.csv"), (read_csv, "wos_tab.txt"), (read_csv, "wos_plain.txt"),
    (read_csv, "generic_synonyms.csv"), (read_csv, "bad_rows.csv"),
]


@pytest.mark.parametrize(("reader", "name"), CASES, ids=[c[1] for c in CASES])
def test_columns_and_dtypes(corpus_data: Path, reader, name: str) -> None:
    records = reader(corpus_data / name).records
    assert tuple(records.columns) == RECORD_COLUMNS
    assert {c: str(t) for c, t in records.dtypes.items()} == RECORD_DTYPES
    assert isinstance(records.index, pd.RangeIndex)
    for column in ("authors", "keywords", "extra"):
        assert all(isinstance(v, tuple) for v in records[column])
    assert records["record_id"].notna().all() and records["record_id"].is_unique
    assert records["source_line"].notna().all()
    for doi in records["doi"].dropna():
        assert doi == doi.lower() and doi.startswith("10.")


@pytest.mark.parametrize("reader", [read_bibtex, read_ris, read_csv])
def test_empty_result_has_the_same_shape(tmp_path: Path, reader) -> None:
    path = tmp_path / "only_comment.txt"
    path.write_text("% nothing\n")
    records = reader(path).records
    assert tuple(records.columns) == RECORD_COLUMNS
    assert {c: str(t) for c, t in records.dtypes.items()} == RECORD_DTYPES
