from __future__ import annotations

import pytest

from toolkit.corpus import deduplicate, records_frame
from toolkit.errors import ToolkitError


def _frame():
    return records_frame([
        {"record_id": "a", "title": "Micro-credentials: a review", "year": 2021,
         "doi": "10.1000/abc", "source_file": "x.bib", "source_line": 1},
        {"record_id": "b", "title": "A different title", "year": 2021, "doi": "10.1000/ABC",
         "abstract": "Filled from b", "source_file": "y.ris", "source_line": 4},
        {"record_id": "c", "title": "Micro credentials - A Review", "year": 2021},
        {"record_id": "d", "title": "Micro-credentials: a review", "year": 2021,
         "doi": "10.9999/other"},
        {"record_id": "e", "title": "Microcredentials: a review", "year": 2021},
        {"record_id": "f", "title": "Microcredentials: a review", "year": 2019},
        {"record_id": "g", "title": "Something else entirely", "year": None},
    ])


def test_rules_and_log() -> None:
    result = deduplicate(_frame())
    # b has the most filled fields of its group, so b keeps its place
    assert result.records["record_id"].tolist() == ["b", "d", "f", "g"]
    log = result.log.set_index("removed_id")
    assert log.loc["a", ["kept_id", "rule", "matched_id"]].tolist() == ["b", "doi", "b"]
    assert log.loc["c", ["kept_id", "rule", "matched_id"]].tolist() == ["b", "title_year", "a"]
    assert log.loc["e", ["kept_id", "rule", "matched_id"]].tolist() == ["b", "title_fuzzy", "a"]
    assert 95 <= log.loc["e", "score"] < 100
    assert log.loc["a", "removed_source"] == "x.bib:1"
    assert log.loc["a", "kept_source"] == "y.ris:4"
    kept = result.records.set_index("record_id")
    assert kept.loc["b", "title"] == "A different title"
    # every input record is either kept or logged once
    assert len(result.records) + len(result.log) == len(_frame())


def test_different_dois_never_merge_by_title() -> None:
    result = deduplicate(_frame())
    assert "d" in result.records["record_id"].tolist()


def test_fuzzy_rule_respects_threshold_and_years() -> None:
    strict = deduplicate(_frame(), title_threshold=101)
    assert "e" in strict.records["record_id"].tolist()
    loose = deduplicate(_frame(), year_tolerance=2)
    assert "f" not in loose.records["record_id"].tolist()


def test_fill_takes_missing_fields_from_duplicates() -> None:
    frame = records_frame([
        {"record_id": "x", "title": "Same work", "year": 2020, "venue": "J", "volume": "3"},
        {"record_id": "y", "title": "Same work", "year": 2020, "pages": "1-2"},
    ])
    result = deduplicate(frame)
    assert result.records.loc[0, ["record_id", "pages"]].tolist() == ["x", "1-2"]
    assert result.log.loc[0, "filled_fields"] == "pages"
    unfilled = deduplicate(frame, fill=False)
    assert unfilled.records["pages"].isna().all()
    assert (unfilled.log["filled_fields"] == "").all()


def test_repeated_ids_are_refused() -> None:
    frame = records_frame([{"record_id": "a", "title": "x"}, {"record_id": "a", "title": "y"}])
    with pytest.raises(ToolkitError, match="record_id values repeat"):
        deduplicate(frame)
