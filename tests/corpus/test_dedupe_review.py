"""The review sheet: uncertain pairs out, a person's decisions back in, applied the same way."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from toolkit._io import OutputExistsError
from toolkit.corpus import deduplicate, read_review_sheet, records_frame, write_review_sheet
from toolkit.errors import DedupReviewError, ToolkitError


def _records() -> pd.DataFrame:
    """Three uncertain questions: two DOIs for one title, a preprint, a conference version."""
    base = {"title": "Sleep and memory consolidation in older adults", "year": 2020,
            "authors": ("Lee, Ann", "Park, Min"), "venue": "Sleep", "volume": "43",
            "pages": "1-10"}
    return records_frame([
        {**base, "record_id": "pubmed1", "doi": "10.1093/sleep/zsaa001"},
        {**base, "record_id": "scopus1", "doi": "10.1093/sleep/zsaa002"},
        {**base, "record_id": "biorxiv", "venue": "bioRxiv", "volume": None, "pages": None,
         "year": 2019},
        {**base, "record_id": "conf", "venue": "Annual Meeting of the Sleep Research Society",
         "volume": None, "pages": None, "doi": None,
         "abstract": "=cmd|' /C calc'!A0 sleep was recorded for two weeks",
         "authors": ("@Lee, Ann", "Park, Min")},
        {**base, "record_id": "other", "title": "Diet and cognition in children",
         "authors": ("Kim, J.",)},
    ])


def _fill(path: Path, decisions: dict[tuple[str, str], str]) -> None:
    if path.suffix == ".csv":
        sheet = pd.read_csv(path, dtype=str, keep_default_na=False)
    else:
        sheet = pd.read_excel(path, sheet_name="pairs", dtype=str, keep_default_na=False)
    for index, row in sheet.iterrows():
        key = (row["record_id_1"], row["record_id_2"])
        sheet.loc[index, "decision"] = decisions.get(key, decisions.get(key[::-1], ""))
    if path.suffix == ".csv":
        sheet.to_csv(path, index=False)
    else:
        sheet.to_excel(path, sheet_name="pairs", index=False)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_round_trip_applies_the_decisions(tmp_path: Path, suffix: str) -> None:
    records = _records()
    first = deduplicate(records)
    assert len(first.records) == 5
    assert set(first.uncertain["rule"]) == {"different_doi", "preprint", "venue_differs"}
    path = write_review_sheet(first, tmp_path / f"review{suffix}")
    pairs = set(map(tuple, first.uncertain[["record_id_1", "record_id_2"]].values))
    doi_pair = next(p for p in pairs if set(p) == {"pubmed1", "scopus1"})
    preprint_pair = next(p for p in pairs if "biorxiv" in p and {"pubmed1", "scopus1"} & set(p))
    _fill(path, {doi_pair: "merge", preprint_pair: "Keep apart"})
    decisions = read_review_sheet(path)
    assert decisions["decision"].value_counts().to_dict() == {"merge": 1, "keep apart": 1,
                                                              "": len(pairs) - 2}
    second = deduplicate(records, decisions=decisions)
    works = second.sources.set_index("source_record_id")["kept_id"]
    assert works["pubmed1"] == works["scopus1"]  # a person may join two DOIs
    assert works["biorxiv"] != works["pubmed1"]
    log = second.log.set_index("removed_id")
    merged = "scopus1" if "scopus1" in log.index else "pubmed1"
    assert log.loc[merged, ["rule", "decided_by"]].tolist() == ["review", "review"]
    assert log.loc[merged, "doi_match"] == "differ"  # the evidence is still shown
    # decided questions do not come back (the preprint against the journal work, the two
    # DOIs); undecided ones do
    left = [set(p) for p in second.uncertain[["record_id_1", "record_id_2"]].values]
    journal = {"pubmed1", "scopus1"}
    assert not [p for p in left if "biorxiv" in p and p & journal]
    assert journal not in left
    assert any("conf" in p for p in left)
    # the same records and the same sheet give the same result, and a path works too
    again = deduplicate(records, decisions=path)
    pd.testing.assert_frame_equal(again.records, second.records)
    pd.testing.assert_frame_equal(again.log, second.log)


def test_keep_apart_holds_against_the_rules(tmp_path: Path) -> None:
    records = records_frame([
        {"record_id": "a", "title": "Sleep and memory consolidation in older adults",
         "authors": ("Lee, Ann",), "year": 2020},
        {"record_id": "b", "title": "Sleep and memory consolidation in older adults",
         "authors": ("Lee, Ann",), "year": 2020}])
    assert len(deduplicate(records).records) == 1
    decisions = pd.DataFrame({"record_id_1": ["a"], "record_id_2": ["b"],
                              "decision": ["keep apart"]})
    result = deduplicate(records, decisions=decisions)
    assert len(result.records) == 2 and result.uncertain.empty
    row = result.pairs.iloc[0]
    assert (row["decision"], row["rule"], row["decided_by"]) == ("distinct", "review", "review")


def test_cells_that_would_run_as_formulas_are_written_as_text(tmp_path: Path) -> None:
    result = deduplicate(_records())
    csv_path = write_review_sheet(result, tmp_path / "review.csv")
    text = csv_path.read_text()
    assert "'=cmd|" in text and "'@Lee" in text
    assert ",=cmd" not in text and ",@Lee" not in text and '"=cmd' not in text
    xlsx_path = write_review_sheet(result, tmp_path / "review.xlsx")
    sheet = load_workbook(xlsx_path)["pairs"]
    values = [cell.value for row in sheet.iter_rows() for cell in row]
    assert not [v for v in values if isinstance(v, str) and v.startswith("=")]
    assert sheet.data_validations.dataValidation  # the decision drop-down


def test_ids_that_start_like_formulas_survive_the_round_trip(tmp_path: Path) -> None:
    records = records_frame([
        {"record_id": "-r1", "title": "Sleep and memory consolidation in older adults",
         "authors": ("Lee, Ann",), "year": 2020, "doi": "10.1093/sleep/zsaa001"},
        {"record_id": "+r2", "title": "Sleep and memory consolidation in older adults",
         "authors": ("Lee, Ann",), "year": 2020, "doi": "10.1093/sleep/zsaa002"}])
    path = write_review_sheet(deduplicate(records), tmp_path / "review.csv")
    _fill(path, {("'-r1", "'+r2"): "merge"})
    decisions = read_review_sheet(path)
    assert decisions[["record_id_1", "record_id_2", "decision"]].values.tolist() == [
        ["-r1", "+r2", "merge"]]
    assert len(deduplicate(records, decisions=decisions).records) == 1


def test_an_existing_sheet_is_not_replaced(tmp_path: Path) -> None:
    result = deduplicate(_records())
    path = write_review_sheet(result, tmp_path / "review.csv")
    with pytest.raises(OutputExistsError, match="overwrite=True"):
        write_review_sheet(result, path)
    write_review_sheet(result, path, overwrite=True)


def _sheet(tmp_path: Path, rows: list[dict], name: str = "sheet.csv") -> Path:
    path = tmp_path / name
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


@pytest.mark.parametrize(("rows", "message"), [
    ([{"record_id_1": "a", "record_id_2": "b", "decision": "mrege"}],
     r"row 2: decision 'mrege' is not understood; write 'merge' or 'keep apart'"),
    ([{"record_id_1": "a", "record_id_2": "", "decision": "merge"}],
     r"row 2: a record id is empty"),
    ([{"record_id_1": "a", "record_id_2": "a", "decision": "merge"}],
     r"row 2: record 'a' is paired with itself"),
    ([{"record_id_1": "a", "record_id_2": "b", "decision": "merge"},
      {"record_id_1": "b", "record_id_2": "a", "decision": "keep apart"}],
     r"row 3: the pair 'b' / 'a' is decided 'keep apart' here but 'merge' on row 2"),
    ([{"record_id_1": "a", "record_id_2": "b"}], r"missing column\(s\) \['decision'\]"),
])
def test_bad_sheets_say_where_and_what(tmp_path: Path, rows: list[dict], message: str) -> None:
    with pytest.raises(DedupReviewError, match=message) as info:
        read_review_sheet(_sheet(tmp_path, rows))
    assert str(info.value).startswith(str(tmp_path / "sheet.csv"))


def test_unreadable_or_missing_sheets(tmp_path: Path) -> None:
    with pytest.raises(DedupReviewError, match="no such file"):
        read_review_sheet(tmp_path / "nothing.csv")
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip file at all")
    with pytest.raises(DedupReviewError, match="cannot be read as a review sheet"):
        read_review_sheet(broken)
    wrong = tmp_path / "sheet.txt"
    wrong.write_text("x")
    with pytest.raises(DedupReviewError, match=r"\.csv or \.xlsx"):
        read_review_sheet(wrong)
    with pytest.raises(DedupReviewError, match=r"\.csv or \.xlsx"):
        write_review_sheet(deduplicate(_records()), tmp_path / "review.txt")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DedupReviewError, match="cannot be read"):
        read_review_sheet(empty)


def test_decisions_for_unknown_records_are_refused(tmp_path: Path) -> None:
    path = _sheet(tmp_path, [{"record_id_1": "pubmed1", "record_id_2": "nobody",
                              "decision": "merge"}])
    with pytest.raises(DedupReviewError, match=r"row 2: record\(s\) \['nobody'\] are not in "
                                               "the records table"):
        deduplicate(_records(), decisions=read_review_sheet(path))


def test_contradicting_decisions_are_refused() -> None:
    records = _records()
    decisions = pd.DataFrame({"record_id_1": ["pubmed1", "scopus1", "pubmed1"],
                              "record_id_2": ["scopus1", "conf", "conf"],
                              "decision": ["merge", "merge", "keep apart"]})
    with pytest.raises(ToolkitError, match="both merge and keep apart"):
        deduplicate(records, decisions=decisions)


def test_command_line_writes_and_applies_a_sheet(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    from toolkit.cli import main

    export = tmp_path / "export.ris"
    record = ("TY  - JOUR\nTI  - Sleep and memory consolidation in older adults\n"
              "AU  - Lee, Ann\nPY  - 2020\nDO  - {doi}\nER  - \n\n")
    export.write_text(record.format(doi="10.1093/sleep/zsaa001")
                      + record.format(doi="10.1093/sleep/zsaa002"))
    sheet = tmp_path / "review.csv"
    assert main(["load", str(export), "--review-sheet", str(sheet)]) == 0
    out = capsys.readouterr().out
    assert "1 uncertain pair(s) left for a person" in out and f"--decisions {sheet}" in out
    filled = pd.read_csv(sheet, dtype=str, keep_default_na=False).assign(decision="merge")
    filled.to_csv(sheet, index=False)
    assert main(["load", str(export), "--decisions", str(sheet)]) == 0
    out = capsys.readouterr().out
    assert "0 uncertain pair(s)" in out and "review" in out
    filled.assign(decision="perhaps").to_csv(sheet, index=False)
    assert main(["load", str(export), "--decisions", str(sheet)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {sheet}: 1 problem(s)") and "Traceback" not in err
