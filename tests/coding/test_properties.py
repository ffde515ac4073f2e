"""Properties of coding sheets and saved codings over generated and hostile input (hypothesis).

A sheet written by ``write_coding_sheet`` and filled in reads back exactly (ids, codes and
memos, formula-like text included); any bytes given as a sheet or a codings file give a
table or a :class:`CodingError`, nothing else. The ``ci`` profile (tests/conftest.py)
keeps this to seconds; ``bench/fuzz_codebook.py`` runs the long campaign.
"""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

import openpyxl
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit._spreadsheet import frame_to_csv, protect_cell, read_csv_table, unprotect_cell
from toolkit.codebook import load_codebook
from toolkit.coding import load_codings, make_codings, read_coding_sheet, save_codings
from toolkit.coding.sheets import write_coding_sheet
from toolkit.errors import CodingError

BOOK = load_codebook(Path(__file__).parents[1] / "data" / "codebooks" / "small.yaml")
CODABLE = sorted(c.id for c in BOOK if c.codable)
# Ids are identifiers (the reader strips blanks around them); formula characters included.
IDS = st.text(alphabet="=+-@'\"abcXYZ019_.,; é", min_size=1, max_size=12).map(str.strip) \
    .filter(bool)
# Free text: anything a reference export can hold, surrogates aside.
ANY_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)
# What XLSX (XML) can carry: no control characters but tab and newline.
XML_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc"),
                                          blacklist_characters="\ufffe\uffff")
                   | st.sampled_from("\t\n"), max_size=60)


def _folder() -> Path:
    return Path(tempfile.mkdtemp(prefix="slr-prop-"))


def _share(fraction: float) -> settings:
    return settings(max_examples=max(5, int(settings().max_examples * fraction)))


@given(ANY_TEXT)
def test_unprotect_undoes_protect(text: str) -> None:
    assert unprotect_cell(protect_cell(text)) == text
    assert protect_cell(text)[:1] not in tuple("=+-@\t\r") or protect_cell(text) == text == ""


@given(st.lists(st.tuples(ANY_TEXT, ANY_TEXT, st.floats(allow_nan=False, width=32)),
                min_size=1, max_size=8))
def test_csv_round_trip_of_any_text_is_lossless(rows: list) -> None:
    frame = pd.DataFrame(rows, columns=["a", "b", "x"]).astype({"a": "string", "b": "string"})
    path = _folder() / "t.csv"
    path.write_text(frame_to_csv(frame), encoding="utf-8")
    back = read_csv_table(path, dtype={"a": "string", "b": "string"}, keep_default_na=False)
    assert back["a"].tolist() == frame["a"].tolist()
    assert back["b"].tolist() == frame["b"].tolist()
    assert back["x"].astype("float32").tolist() == frame["x"].astype("float32").tolist()
    with open(path, newline="", encoding="utf-8") as handle:
        for row in list(csv.reader(handle))[1:]:
            for cell in row[:2]:
                assert not cell or cell[0] not in "=+-@\t\r"


@st.composite
def filled_sheets(draw: st.DrawFn, text: st.SearchStrategy[str]) -> tuple:
    ids = draw(st.lists(IDS, min_size=1, max_size=6, unique=True))
    texts = [draw(text) for _ in ids]
    codes = [draw(st.lists(st.sampled_from(CODABLE), max_size=3, unique=True)) for _ in ids]
    memos = [draw(text.map(str.strip)) for _ in ids]
    return pd.DataFrame({"segment_id": ids, "text": texts}), codes, memos


def _fill_and_read(segments: pd.DataFrame, codes: list, memos: list, suffix: str) -> pd.DataFrame:
    path = write_coding_sheet(segments, BOOK, _folder() / f"sheet{suffix}")
    if suffix == ".csv":
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        for row, chosen, memo in zip(rows[1:], codes, memos, strict=True):
            row[2:] = ["; ".join(chosen), protect_cell(memo)]  # as the sheet shows it
        with open(path, "w", newline="", encoding="utf-8") as handle:  # as Excel saves CSV
            csv.writer(handle, lineterminator="\r\n").writerows(rows)
    else:
        book = openpyxl.load_workbook(path)
        sheet = book["coding"]
        for index, (chosen, memo) in enumerate(zip(codes, memos, strict=True), start=2):
            sheet.cell(index, 3, "; ".join(chosen))
            sheet.cell(index, 4, memo).data_type = "s"
        book.save(path)
    return read_coding_sheet(path, BOOK, segments, coder="ann", created_at="t")


def _expected(segments: pd.DataFrame, codes: list, memos: list) -> list:
    return [(sid, code, memo or None) for sid, chosen, memo in
            zip(segments["segment_id"], codes, memos, strict=True) for code in chosen or [None]]


@_share(0.5)
@given(filled_sheets(ANY_TEXT))
def test_a_filled_csv_sheet_reads_back_exactly(sheet: tuple) -> None:
    segments, codes, memos = sheet
    codings = _fill_and_read(segments, codes, memos, ".csv")
    got = [(s, c if c is not pd.NA else None, m if m is not pd.NA else None)
           for s, c, m in codings[["segment_id", "code_id", "memo"]].itertuples(index=False)]
    assert got == _expected(segments, codes, memos)


@_share(0.5)
@given(filled_sheets(XML_TEXT))
def test_a_filled_xlsx_sheet_reads_back_exactly(sheet: tuple) -> None:
    segments, codes, memos = sheet
    codings = _fill_and_read(segments, codes, memos, ".xlsx")
    got = [(s, c if c is not pd.NA else None, m if m is not pd.NA else None)
           for s, c, m in codings[["segment_id", "code_id", "memo"]].itertuples(index=False)]
    assert got == _expected(segments, codes, memos)


@given(st.lists(st.tuples(IDS, st.sampled_from(CODABLE) | st.none(), ANY_TEXT),
                min_size=1, max_size=8))
def test_saved_codings_load_back_exactly(rows: list) -> None:
    codings = make_codings([{"segment_id": s, "code_id": c, "coder": "ann", "round": 1,
                             "method": "human", "memo": m or None} for s, c, m in rows])
    folder = _folder()
    save_codings(codings, folder)
    order = ["segment_id", "code_id", "memo"]
    key = lambda f: f.sort_values(order, na_position="first").reset_index(drop=True)  # noqa: E731
    pd.testing.assert_frame_equal(key(load_codings(folder)), key(codings))


@given(st.binary(max_size=1500), st.sampled_from([".csv", ".xlsx"]))
def test_any_bytes_as_a_coding_sheet(data: bytes, suffix: str) -> None:
    path = _folder() / f"sheet{suffix}"
    path.write_bytes(data)
    segments = pd.DataFrame({"segment_id": ["s1"], "text": ["t"]})
    try:
        read_coding_sheet(path, BOOK, segments, coder="ann")
    except CodingError:
        pass


@given(st.binary(max_size=1500) | ANY_TEXT.map(lambda t: t.encode("utf-8")),
       st.sampled_from(["round1", "round2", "roundX", "round", "round007"]),
       st.sampled_from(["ann", "bob.smith", "-x", "a b"]))
def test_any_file_in_a_codings_folder(data: bytes, round_dir: str, coder: str) -> None:
    folder = _folder()
    (folder / round_dir).mkdir()
    (folder / round_dir / f"{coder}.csv").write_bytes(data)
    try:
        load_codings(folder)
    except CodingError:
        pass
