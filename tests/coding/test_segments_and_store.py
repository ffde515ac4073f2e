from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from toolkit._io import OutputExistsError
from toolkit.codebook import load_codebook
from toolkit.coding import (
    load_codings,
    make_codings,
    read_coding_sheet,
    save_codings,
    segments_from_documents,
    segments_from_frame,
    write_coding_sheet,
)
from toolkit.errors import CodingError

BOOK = Path(__file__).parents[1] / "data" / "codebooks" / "small.yaml"


def test_segments_from_frame_keeps_columns_and_checks() -> None:
    frame = pd.DataFrame({"rid": ["r1", "r2"], "abstract": ["Fees are high.", "Stacked."],
                          "group": ["academic", "policy"]})
    seg = segments_from_frame(frame, "abstract", keep=["rid", "group"])
    assert seg["segment_id"].tolist() == ["seg0001", "seg0002"]
    assert seg["group"].tolist() == ["academic", "policy"]
    with pytest.raises(CodingError, match="1 row\\(s\\) have no text"):
        segments_from_frame(frame.assign(abstract=["x", ""]), "abstract")
    with pytest.raises(CodingError, match="no column 'summary'"):
        segments_from_frame(frame, "summary")


def test_segments_from_documents_paragraphs_and_sentences(tmp_path: Path) -> None:
    doc = tmp_path / "interview.md"
    text = "# Title\n\nFirst sentence here. Second one follows.\n\n\nLast paragraph."
    doc.write_text(text)
    paragraphs = segments_from_documents([doc])
    assert paragraphs["segment_id"].tolist() == ["interview:p1", "interview:p2", "interview:p3"]
    sentences = segments_from_documents([doc], unit="sentence")
    assert sentences["segment_id"].tolist() == ["interview:p1.s1", "interview:p2.s1",
                                                "interview:p2.s2", "interview:p3.s1"]
    for row in sentences.itertuples():
        assert text[row.start:row.end] == row.text
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "interview.txt").write_text("x")
    with pytest.raises(CodingError, match="already read"):
        segments_from_documents([doc, tmp_path / "b" / "interview.txt"])


def _codings(coder: str) -> pd.DataFrame:
    return make_codings([
        {"segment_id": "s1", "code_id": "barriers.cost", "coder": coder, "round": 1,
         "method": "human", "created_at": "2026-01-01T00:00:00+00:00"},
        {"segment_id": "s2", "code_id": None, "coder": coder, "round": 1, "method": "human"},
    ])


def test_save_per_coder_and_round_never_touches_others(tmp_path: Path) -> None:
    ann = save_codings(_codings("ann"), tmp_path)
    bob = save_codings(_codings("bob"), tmp_path)
    assert ann == tmp_path / "round1" / "ann.csv" and bob == tmp_path / "round1" / "bob.csv"
    before = ann.read_bytes()
    with pytest.raises(OutputExistsError):
        save_codings(_codings("ann"), tmp_path)
    assert ann.read_bytes() == before
    with pytest.raises(CodingError, match="one coder and one round at a time"):
        save_codings(pd.concat([_codings("ann"), _codings("bob")]), tmp_path)
    both = load_codings(tmp_path)
    assert sorted(both["coder"].unique()) == ["ann", "bob"]
    assert both["code_id"].isna().sum() == 2  # "seen, no code" rows survive the round trip
    assert load_codings(tmp_path, coders=["bob"])["coder"].unique().tolist() == ["bob"]
    with pytest.raises(CodingError, match="no codings found"):
        load_codings(tmp_path, rounds=[7])


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_coding_sheet_round_trip_and_rejections(tmp_path: Path, suffix: str) -> None:
    book = load_codebook(BOOK)
    segments = pd.DataFrame({"segment_id": ["s1", "s2", "s3"], "text": ["a", "b", "c"]})
    path = write_coding_sheet(segments, book, tmp_path / f"sheet{suffix}")
    if suffix == ".csv":
        sheet = pd.read_csv(path, dtype=str, keep_default_na=False)
    else:
        sheet = pd.read_excel(path, sheet_name="coding", dtype=str, keep_default_na=False)
        assert "barriers.cost" in pd.read_excel(path, sheet_name="codebook")["code_id"].tolist()
    sheet["codes"] = ["barriers.cost; barriers.access", "", "enablers.stacking"]
    _write(sheet, path)
    codings = read_coding_sheet(path, book, segments, coder="ann", created_at="t")
    assert codings[["segment_id", "code_id"]].fillna("-").values.tolist() == [
        ["s1", "barriers.cost"], ["s1", "barriers.access"], ["s2", "-"],
        ["s3", "enablers.stacking"]]
    sheet.loc[1, "codes"] = "barriers.price"
    sheet.loc[2, "segment_id"] = "s9"
    _write(sheet, path)
    with pytest.raises(CodingError) as info:
        read_coding_sheet(path, book, segments, coder="ann")
    message = str(info.value)
    assert "row 3: unknown or non-codable code(s) ['barriers.price']" in message
    assert "row 4: segment 's9' is not in the segments table" in message


def _write(sheet: pd.DataFrame, path: Path) -> None:
    if path.suffix == ".csv":
        sheet.to_csv(path, index=False)
    else:
        sheet.to_excel(path, sheet_name="coding", index=False)


def test_rule_codings_are_loaded_only_when_asked(tmp_path: Path) -> None:
    save_codings(_codings("ann"), tmp_path)
    rules = _codings("rules").assign(method="rules")
    save_codings(rules, tmp_path)
    assert load_codings(tmp_path)["coder"].unique().tolist() == ["ann"]
    everything = load_codings(tmp_path, methods=None)
    assert sorted(everything["method"].unique()) == ["human", "rules"]
    assert load_codings(tmp_path, methods=["rules"])["coder"].unique().tolist() == ["rules"]
    with pytest.raises(CodingError, match="pass methods=None"):
        load_codings(tmp_path, coders=["rules"])
    with pytest.raises(CodingError, match="unknown method"):
        load_codings(tmp_path, methods=["robot"])


def test_segments_from_records_whole_and_sentences() -> None:
    from toolkit.coding import SegmentWarning, find_records_without_text, segments_from_records

    records = pd.DataFrame({"record_id": ["r1", "r2", "r3"], "title": ["A", "B", "C"],
                            "abstract": ["Fees rose. Access fell.", None, "  "],
                            "year": [2020, 2021, 2022]})
    with pytest.warns(SegmentWarning, match=r"2 record\(s\) have no abstract.*\['r2', 'r3'\]"):
        whole = segments_from_records(records, keep=["year"])
    assert whole[["segment_id", "record_id", "year"]].values.tolist() == [["r1", "r1", 2020]]
    with pytest.warns(SegmentWarning):
        sentences = segments_from_records(records, unit="sentence")
    assert sentences["segment_id"].tolist() == ["r1:s1", "r1:s2"]
    text = records.loc[0, "abstract"]
    for row in sentences.itertuples():
        assert text[row.start:row.end] == row.text
    assert find_records_without_text(records)["record_id"].tolist() == ["r2", "r3"]
    with pytest.raises(CodingError, match="no column\\(s\\) \\['summary'\\]"):
        segments_from_records(records, column="summary")


def test_segments_from_a_pdf_keep_pages(data_dir: Path, tmp_path: Path) -> None:
    from toolkit.coding import SegmentWarning

    pdf = data_dir / "documents" / "homework_study.pdf"
    paragraphs = segments_from_documents([pdf], record_ids={"homework_study": "smith2021"})
    assert paragraphs["segment_id"].tolist() == [
        "homework_study:pg1.p1", "homework_study:pg1.p2", "homework_study:pg1.p3",
        "homework_study:pg2.p1", "homework_study:pg2.p2"]
    assert paragraphs["page"].tolist() == [1, 1, 1, 2, 2]
    assert set(paragraphs["record_id"]) == {"smith2021"}
    # a word hyphenated across lines is joined, line breaks inside a paragraph are spaces
    assert paragraphs.loc[1, "text"] == ("Home workers described more flexible hours and less "
                                         "commuting. Several felt isolated from colleagues.")
    sentences = segments_from_documents([pdf], unit="sentence")
    assert sentences["segment_id"].tolist()[1:3] == ["homework_study:pg1.p2.s1",
                                                     "homework_study:pg1.p2.s2"]
    pages = segments_from_documents([pdf], unit="page")
    assert pages["segment_id"].tolist() == ["homework_study:pg1", "homework_study:pg2"]
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4\nthis is not a pdf body")
    with pytest.raises(CodingError, match="broken.pdf: not a readable PDF"):
        segments_from_documents([broken])
    blank = tmp_path / "scan.txt"
    blank.write_text("   \n\n  ")
    with pytest.warns(SegmentWarning, match="1 document\\(s\\) have no text"):
        assert segments_from_documents([blank, pdf]).shape[0] == 5
