"""Disagreement sheets and adjudication: what is listed, what comes back, who is protected."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from toolkit.codebook import Code, Codebook, add_code, start_round
from toolkit.coding import (
    RoundWarning,
    combine_with_consensus,
    compute_disagreements,
    load_codings,
    make_codings,
    read_adjudication_sheet,
    save_codings,
    write_adjudication_sheet,
)
from toolkit.errors import CodingError
from toolkit.triangulation import TriangulationError, compute_investigator_triangulation

ONE = Codebook("t", "1", 1, (Code("cost", "Cost"), Code("cost.fees", "Fees", parent="cost"),
                             Code("access", "Access")))
TWO = add_code(start_round(ONE), "access.online", "Online access", parent="access")
SEGMENTS = pd.DataFrame({"segment_id": ["s1", "s2", "s3", "s4", "s5"],
                         "text": ["=fees are high", "online only", "cheap", "no", "later"]})


def _rows(coder: str, round_: int, data: dict[str, list[str]],
          memos: dict[str, str] | None = None) -> list[dict[str, object]]:
    return [{"segment_id": s, "code_id": c, "coder": coder, "round": round_, "method": "human",
             "memo": (memos or {}).get(s)} for s, codes in data.items() for c in codes or [None]]


# ann coded round 1 (no access.online yet); bob coded round 2; s5 seen by ann only.
CODINGS = make_codings(
    _rows("ann", 1, {"s1": ["cost.fees"], "s2": ["access"], "s3": ["cost"], "s4": [],
                     "s5": ["cost"]}, {"s3": "=cheap is a cost idea"})
    + _rows("bob", 2, {"s1": ["cost.fees"], "s2": ["access", "access.online"], "s3": [],
                       "s4": ["access"]}, {"s4": "no access mentioned?"})
    + [{"segment_id": "s1", "code_id": "cost", "coder": "rules", "round": 2,
        "method": "rules"}])


def _disagreements() -> pd.DataFrame:
    with pytest.warns(RoundWarning, match="access.online"):
        return compute_disagreements(CODINGS, SEGMENTS, codebook=[ONE, TWO])


def test_disagreements_list_each_segment_and_code_in_dispute() -> None:
    table = _disagreements()
    got = table[["segment_id", "code_id", "ann applied", "bob applied"]].values.tolist()
    assert got == [["s2", "access.online", "n/a", "yes"],  # only bob could use it
                   ["s3", "cost", "yes", "no"], ["s4", "access", "no", "yes"]]
    assert table.loc[0, "note"] == "only bob could use this code"
    assert table.loc[1, "ann memo"] == "=cheap is a cost idea"
    assert table.loc[2, "bob memo"] == "no access mentioned?"
    assert table["label"].tolist() == ["Online access", "Cost", "Access"]
    assert (table["decision"] == "").all()
    assert "rules applied" not in table.columns  # a method is never a coder


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_decided_sheet_becomes_a_consensus_coding(tmp_path: Path, suffix: str) -> None:
    sheet = _disagreements()
    sheet["decision"] = ["yes", "no", "Yes"]
    sheet["decision_memo"] = ["online is named", "", "implied"]
    path = write_adjudication_sheet(sheet, tmp_path / f"adjudication{suffix}")
    if suffix == ".csv":  # the hostile memo is neutralised in the file
        cells = [c for row in csv.reader(path.open(encoding="utf-8")) for c in row]
        assert "'=cheap is a cost idea" in cells and "'=fees are high" not in cells
    with pytest.warns(RoundWarning):
        consensus = read_adjudication_sheet(path, CODINGS, codebook=[ONE, TWO],
                                            created_at="2026-01-01T00:00:00+00:00")
    got = consensus[["segment_id", "code_id", "memo"]].fillna("-").values.tolist()
    assert got == [["s1", "cost.fees", "-"], ["s2", "access", "-"],
                   ["s2", "access.online", "online is named"], ["s3", "-", "-"],
                   ["s4", "access", "implied"]]
    assert set(consensus["coder"]) == {"consensus"} and set(consensus["method"]) == {
        "consensus"}
    assert set(consensus["round"]) == {2}  # the latest round of the coders compared
    # saved beside the coders' files, never over them, and left out of plain loads of people
    for coder in ("ann", "bob"):
        save_codings(CODINGS[CODINGS["coder"] == coder], tmp_path / "codings")
    save_codings(consensus, tmp_path / "codings")
    loaded = load_codings(tmp_path / "codings")
    assert sorted(loaded["coder"].unique()) == ["ann", "bob", "consensus"]
    combined = combine_with_consensus(CODINGS[CODINGS["coder"] == "ann"], consensus)
    assert set(combined.loc[combined["segment_id"] == "s5", "coder"]) == {"ann"}
    assert set(combined.loc[combined["segment_id"] == "s1", "coder"]) == {"consensus"}


def test_sheet_problems_are_all_listed(tmp_path: Path) -> None:
    sheet = _disagreements()
    sheet["decision"] = ["", "maybe", "no"]
    extra = sheet.iloc[[2]].assign(segment_id="s1", code_id="cost.fees", decision="yes")
    path = write_adjudication_sheet(pd.concat([sheet, extra]), tmp_path / "a.csv")
    with pytest.warns(RoundWarning), pytest.raises(CodingError) as info:
        read_adjudication_sheet(path, CODINGS, codebook=[ONE, TWO])
    message = str(info.value)
    assert "row 2: no decision for s2 / access.online" in message
    assert "row 3: decision 'maybe' is not yes or no" in message
    assert "row 5: segment 's1' and code 'cost.fees' are not a disagreement" in message
    with pytest.raises(CodingError, match="already a coder"):
        read_adjudication_sheet(path, CODINGS, codebook=[ONE, TWO], consensus="ann")
    with pytest.raises(CodingError, match="missing from the sheet"), \
            pytest.warns(RoundWarning):
        read_adjudication_sheet(write_adjudication_sheet(
            sheet.iloc[[2]], tmp_path / "short.csv"), CODINGS, codebook=[ONE, TWO])


def test_investigator_triangulation_before_and_after(tmp_path: Path) -> None:
    sheet = _disagreements()
    sheet["decision"] = ["yes", "no", "yes"]
    path = write_adjudication_sheet(sheet, tmp_path / "a.csv")
    with pytest.warns(RoundWarning):
        consensus = read_adjudication_sheet(path, CODINGS, codebook=[ONE, TWO])
    everything = make_codings(pd.concat([CODINGS, consensus]))
    # at theme level nothing is left out: access.online belongs to access, which ann had
    table = compute_investigator_triangulation(everything, [ONE, TWO], consensus="consensus",
                                               n_boot=0)
    wide = table.wide
    # themes over s1..s4: ann cost 1,0,1,0 access 0,1,0,0; bob cost 1,0,0,0 access 0,1,0,1
    assert wide.loc["cost", "before: percent_agreement"] == 0.75
    assert wide.loc["(pooled)", "before: percent_agreement"] == 0.75
    # consensus: cost 1,0,0,0 access 0,1,0,1 (= bob), so bob agrees fully, ann in 6 of 8
    assert wide.loc["(pooled)", "after: bob vs consensus (percent_agreement)"] == 1.0
    assert wide.loc["(pooled)", "after: ann vs consensus (percent_agreement)"] == 0.75
    assert "before: cohen_kappa" in wide.columns
    with pytest.raises(TriangulationError, match="between people"):
        compute_investigator_triangulation(CODINGS[CODINGS["coder"] != "bob"], ONE)
