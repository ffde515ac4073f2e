"""No CSV or XLSX the toolkit writes carries a live formula; round trips stay lossless."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from toolkit._spreadsheet import FORMULA_START, protect_cell, unprotect_cell
from toolkit.codebook import load_codebook
from toolkit.coding import load_codings, make_codings, read_coding_sheet, save_codings
from toolkit.coding.sheets import write_coding_sheet
from toolkit.report.tables import export_table

BOOK = Path(__file__).parents[1] / "data" / "codebooks" / "small.yaml"
ATTACKS = ["=cmd|' /C calc'!A0", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)",
           "\t=1+1", "\r=1+1", "'=already quoted", "''=twice", "=HYPERLINK(\"http://x\")",
           "\uff1d1+1"]


def _dangerous(value: object) -> bool:
    """Text a spreadsheet would evaluate (a plain number such as -0.5 is not a formula)."""
    if not isinstance(value, str) or not value or value[0] not in FORMULA_START:
        return False
    try:
        float(value)
    except ValueError:
        return True
    return False


def _csv_cells(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8") as handle:
        return [cell for row in csv.reader(handle) for cell in row]


def _xlsx_formulas(path: Path) -> list[object]:
    book = openpyxl.load_workbook(path)
    return [cell.value for sheet in book.worksheets for row in sheet.iter_rows()
            for cell in row if cell.data_type == "f"]


@pytest.mark.parametrize("value", [*ATTACKS, "plain", "", "'tis", "-", "=", 5, -1.5, None])
def test_protect_then_unprotect_is_the_identity(value: object) -> None:
    assert unprotect_cell(protect_cell(value)) == value
    assert not _dangerous(protect_cell(value))


def _book_with_hostile_label() -> object:
    book = load_codebook(BOOK)
    codes = tuple(dataclasses.replace(c, label="=cmd|' /C calc'!A0",
                                      definition="@SUM(1)") if c.id == "barriers.cost" else c
                  for c in book.codes)
    return dataclasses.replace(book, codes=codes)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_coding_sheet_cells_are_never_formulas_and_read_back_unchanged(
        tmp_path: Path, suffix: str) -> None:
    book = _book_with_hostile_label()
    segments = pd.DataFrame({"segment_id": [f"s{i}" for i in range(len(ATTACKS))],
                             "text": ATTACKS})
    path = write_coding_sheet(segments, book, tmp_path / f"sheet{suffix}")
    if suffix == ".csv":
        cells = _csv_cells(path) + _csv_cells(path.with_suffix(".codebook.csv"))
        assert [c for c in cells if _dangerous(c)] == []
        assert "'=cmd|' /C calc'!A0" in cells  # neutralised, not dropped
    else:
        assert _xlsx_formulas(path) == []
        texts = pd.read_excel(path, sheet_name="coding", dtype=str)["text"].tolist()
        # openpyxl's own XML writer leaves a bare CR, which XML reads back as a newline;
        # with lxml installed (python-docx brings it) openpyxl keeps it as _x000D_
        assert texts in ([a.replace("\r", "\n") for a in ATTACKS], ATTACKS)
    codings = read_coding_sheet(path, book, segments, coder="ann", created_at="t")
    assert codings["segment_id"].tolist() == segments["segment_id"].tolist()


def test_a_filled_csv_sheet_keeps_memos_and_ids_exactly(tmp_path: Path) -> None:
    book = load_codebook(BOOK)
    segments = pd.DataFrame({"segment_id": ["-s1", "=s2"], "text": ["a", "b"]})
    path = write_coding_sheet(segments, book, tmp_path / "sheet.csv")
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[1][0] == "'-s1" and rows[2][0] == "'=s2"
    rows[1][2:] = ["barriers.cost", "'=memo written by the sheet"]
    rows[2][2:] = ["", "plain memo"]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    codings = read_coding_sheet(path, book, segments, coder="ann", created_at="t")
    assert codings["segment_id"].tolist() == ["-s1", "=s2"]
    assert codings["memo"].tolist() == ["=memo written by the sheet", "plain memo"]


def test_saved_codings_neutralise_memos_and_load_back_exactly(tmp_path: Path) -> None:
    codings = make_codings([
        {"segment_id": "=s1", "code_id": "a", "coder": "ann", "round": 1, "method": "human",
         "start": 0, "end": 4, "memo": "=cmd|' /C calc'!A0"},
        {"segment_id": "s2", "code_id": "a", "coder": "ann", "round": 1, "method": "human",
         "memo": "'=quoted"}])
    path = save_codings(codings, tmp_path)
    assert [c for c in _csv_cells(path) if _dangerous(c)] == []
    pd.testing.assert_frame_equal(load_codings(tmp_path).sort_values("segment_id")
                                  .reset_index(drop=True),
                                  codings.sort_values("segment_id").reset_index(drop=True))


def test_export_table_neutralises_text_and_keeps_numbers(tmp_path: Path) -> None:
    frame = pd.DataFrame({"label": ["=cmd|' /C calc'!A0", "+x", "ok"],
                          "=header": ["@a", "b", "c"], "delta": [-0.5, 1.25, -3.0],
                          "count": [-1, 0, 2]},
                         index=pd.Index(["-i", "j", "k"], name="theme"))
    paths = export_table(frame, tmp_path, "t")
    csv_path, xlsx_path = paths[0], paths[1]
    assert [c for c in _csv_cells(csv_path) if _dangerous(c)] == []
    rows = list(csv.reader(open(csv_path, newline="", encoding="utf-8")))
    assert rows[1] == ["'-i", "'=cmd|' /C calc'!A0", "'@a", "-0.5", "-1"]
    assert _xlsx_formulas(xlsx_path) == []
    sheet = openpyxl.load_workbook(xlsx_path)["table"]
    assert sheet["B2"].value == "=cmd|' /C calc'!A0" and sheet["B2"].data_type == "s"
    assert sheet["D2"].value == -0.5 and sheet["D2"].data_type == "n"
    back = pd.read_excel(xlsx_path, sheet_name="table", index_col=0)
    pd.testing.assert_frame_equal(back, frame, check_names=False, check_dtype=False,
                                  check_index_type=False, check_column_type=False)


def test_xlsx_sheets_keep_quote_led_ids_exactly(tmp_path: Path) -> None:
    # Found by the fuzz campaign: XLSX cells are stored as text, never quoted, so reading
    # must not strip a quote either ("'=" stays "'=").
    book = load_codebook(BOOK)
    segments = pd.DataFrame({"segment_id": ["'=", "''+x", "=y"], "text": ["a", "b", "c"]})
    path = write_coding_sheet(segments, book, tmp_path / "sheet.xlsx")
    codings = read_coding_sheet(path, book, segments, coder="ann", created_at="t")
    assert codings["segment_id"].tolist() == ["'=", "''+x", "=y"]
