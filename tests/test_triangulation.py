"""Triangulation tables on a small hand-made coding set whose answers were worked out by hand.

Works:  w1 academic (2020)  w2 academic (2021)  w3 industry (2021)  w4 policy (2022)
Segments (rq, cited works):  s1 (1, w1)  s2 (1, w3)  s3 (2, w2 w4)  s4 (2, w4)  s5 (3, w1)
Human codes:  s1 cost, tech   s2 cost   s3 access.devices, tech   s4 access   s5 (none)
Codebook themes: cost; access (child access.devices); support (never used);
cases: case_x.tech (declared as CASES, as review.yaml declares them).
"""

from __future__ import annotations

import pandas as pd
import pytest

from toolkit.codebook import Code, Codebook
from toolkit.coding import make_codings
from toolkit.corpus import records_frame
from toolkit.triangulation import (
    TriangulationError,
    compute_coverage,
    compute_cross_case,
    compute_method_triangulation,
    compute_source_triangulation,
    evidence_for,
)

BOOK = Codebook("t", "1", 1, (
    Code("cost", "Cost"), Code("access", "Access"),
    Code("access.devices", "Devices", parent="access"), Code("support", "Support"),
    Code("case_x", "Cases", codable=False), Code("case_x.tech", "Tech", parent="case_x")))
CASES = {"sectors": ["case_x"]}
RECORDS = records_frame([
    {"record_id": "w1", "year": 2020, "source_type": "journal article", "source_group": "academic"},
    {"record_id": "w2", "year": 2021, "source_type": "journal article", "source_group": "academic"},
    {"record_id": "w3", "year": 2021, "source_type": "think-tank report",
     "source_group": "industry"},
    {"record_id": "w4", "year": 2022, "source_type": "government report", "source_group": "policy"},
])
SEGMENTS = pd.DataFrame({
    "segment_id": ["s1", "s2", "s3", "s4", "s5"],
    "text": ["a", "b", "c", "d", "e"],
    "rq": pd.array([1, 1, 2, 2, 3], dtype="Int64"),
    "cited_keys": [("w1",), ("w3",), ("w2", "w4"), ("w4",), ("w1",)],
})


def _codings(pairs: list[tuple[str, str | None]], coder: str = "ann") -> pd.DataFrame:
    return make_codings([{"segment_id": s, "code_id": c, "coder": coder, "round": 1,
                          "method": "human"} for s, c in pairs])


HUMAN = _codings([("s1", "cost"), ("s1", "case_x.tech"), ("s2", "cost"),
                  ("s3", "access.devices"), ("s3", "case_x.tech"), ("s4", "access"),
                  ("s5", None)])


def test_source_triangulation_by_hand() -> None:
    table = compute_source_triangulation(HUMAN, SEGMENTS, RECORDS, BOOK, cases=CASES)
    wide = table.wide
    # cost: s1 (w1 academic), s2 (w3 industry) -> academic 1, industry 1, policy 0
    assert wide.loc["cost", ["academic", "industry", "policy"]].tolist() == [1, 1, 0]
    # access: s3 (w2 academic, w4 policy), s4 (w4 policy) -> academic 1, policy 1 work
    assert wide.loc["access", ["academic", "industry", "policy"]].tolist() == [1, 0, 1]
    tidy = table.tidy.set_index(["row", "column"])
    assert tidy.loc[("access", "policy"), "segments"] == 2  # two segments, one work
    assert wide["status"].to_dict() == {"cost": "corroborated", "access": "corroborated",
                                        "support": "unsupported"}
    assert "case_x" not in wide.index


def test_corroboration_threshold() -> None:
    # two groups back cost and access: below a threshold of three, but not "single-group"
    strict = compute_source_triangulation(HUMAN, SEGMENTS, RECORDS, BOOK, min_groups=3,
                                          cases=CASES)
    assert strict.wide["status"].to_dict() == {"cost": "partly corroborated",
                                               "access": "partly corroborated",
                                               "support": "unsupported"}
    only_s1 = compute_source_triangulation(HUMAN[HUMAN["segment_id"] == "s1"], SEGMENTS,
                                           RECORDS, BOOK, cases=CASES)
    assert only_s1.wide.loc["cost", "status"] == "single-group"
    loose = compute_source_triangulation(HUMAN[HUMAN["segment_id"] == "s1"], SEGMENTS,
                                         RECORDS, BOOK, min_groups=1, cases=CASES)
    assert loose.wide.loc["cost", "status"] == "corroborated"
    for min_groups in (1, 2, 3, 4):  # the label always says how many groups, truthfully
        wide = compute_source_triangulation(HUMAN, SEGMENTS, RECORDS, BOOK,
                                            min_groups=min_groups, cases=CASES).wide
        for n, status in zip(wide["groups_supporting"], wide["status"], strict=True):
            assert status == ("unsupported" if n == 0 else "corroborated" if n >= min_groups
                              else "single-group" if n == 1 else "partly corroborated")
    by_type = compute_source_triangulation(HUMAN, SEGMENTS, RECORDS, BOOK, by="source_type")
    assert by_type.wide.loc["access", "government report"] == 1


def test_evidence_for_a_cell() -> None:
    table = compute_source_triangulation(HUMAN, SEGMENTS, RECORDS, BOOK)
    evidence = evidence_for(table, "access", "policy", segments=SEGMENTS, records=RECORDS)
    assert evidence[["segment_id", "record_id"]].values.tolist() == [["s3", "w4"], ["s4", "w4"]]
    assert set(evidence["source_group"]) == {"policy"}
    academic = evidence_for(table, "access", "academic", segments=SEGMENTS, records=RECORDS)
    assert academic[["segment_id", "record_id"]].values.tolist() == [["s3", "w2"]]
    with pytest.raises(TriangulationError, match="no cell \\('nope', 'policy'\\)"):
        evidence_for(table, "nope", "policy", segments=SEGMENTS)


def test_cross_case_and_coverage() -> None:
    cases = compute_cross_case(HUMAN, SEGMENTS, BOOK, cases=CASES).wide
    assert list(cases.columns) == ["case_x.tech"] and "case_x" not in cases.index
    assert cases.loc["cost", "case_x.tech"] == 1 and cases.loc["access", "case_x.tech"] == 1
    rq = compute_coverage(HUMAN, SEGMENTS, BOOK, cases=CASES).wide
    assert rq.loc["cost"].tolist() == [2, 0, 0] and rq.loc["access"].tolist() == [0, 2, 0]
    years = compute_coverage(HUMAN, SEGMENTS, BOOK, by="year", records=RECORDS,
                             cases=CASES).wide
    assert years.loc["access"].tolist() == [0, 1, 1]  # w2 2021, w4 2022
    assert years.loc["cost"].tolist() == [1, 1, 0]  # w1 2020, w3 2021


def test_method_triangulation_by_hand() -> None:
    rules = _codings([("s1", "cost"), ("s3", "cost"), ("s4", "access"), ("s2", None),
                      ("s5", None)], coder="rules")
    topics = pd.DataFrame({"segment_id": ["s1", "s2", "s3", "s4", "s5"],
                           "topic": [0, 0, 1, 1, -1]})
    wide = compute_method_triangulation(HUMAN, rules, topics, BOOK).wide
    assert wide.loc["cost", ["human_segments", "rules_segments", "both"]].tolist() == [2, 2, 1]
    assert wide.loc["cost", "rules_precision"] == 0.5
    assert wide.loc["access", ["rules_precision", "rules_recall"]].tolist() == [1.0, 0.5]
    assert wide.loc["cost", "best_topic"] == 0 and wide.loc["cost", "topic_jaccard"] == 1.0


def test_bad_inputs_are_one_clear_message() -> None:
    with pytest.raises(TriangulationError, match="no codings with a code"):
        compute_source_triangulation(_codings([("s1", None)]), SEGMENTS, RECORDS, BOOK)
    with pytest.raises(TriangulationError, match="codes not in codebook 't'"):
        compute_source_triangulation(_codings([("s1", "price")]), SEGMENTS, RECORDS, BOOK)
    with pytest.raises(TriangulationError, match="not in the segments table"):
        compute_source_triangulation(_codings([("s9", "cost")]), SEGMENTS, RECORDS, BOOK)


def test_prisma_from_a_screening_table() -> None:
    from toolkit.report.prisma import compute_prisma

    blocks = pd.DataFrame({"source_file": ["a.ris", "b.csv"], "records": [6, 4]})
    log = pd.DataFrame({"kept_id": ["x"], "removed_id": ["y"]})
    screening = pd.DataFrame({
        "record_id": list("abcdefghi") + list("abcd"),
        "stage": ["title_abstract"] * 9 + ["full_text"] * 4,
        "decision": ["include"] * 4 + ["exclude"] * 5 + ["include", "exclude", "exclude",
                                                           "not_retrieved"],
        "reason": [None] * 9 + [None, "wrong population", "wrong population", None]})
    table = compute_prisma(blocks, log, screening).set_index("box")
    counts = {box: (None if pd.isna(v) else int(v)) for box, v in table["count"].items()}
    assert counts == {"records_identified": 10, "duplicates_removed": 1, "removed_other": None,
                      "records_screened": 9, "records_excluded": 5, "reports_sought": 4,
                      "reports_not_retrieved": 1, "reports_assessed": 3, "reports_excluded": 2,
                      "studies_included": 1}
    assert table.loc["reports_excluded", "detail"] == "wrong population: 2"
    assert table.loc["records_identified", "detail"] == "a.ris: 6; b.csv: 4"
    unknown = compute_prisma(blocks, log, derive_screened=False).set_index("box")
    assert pd.isna(unknown.loc["records_screened", "count"])


def test_cases_are_declared_not_guessed() -> None:
    with pytest.raises(TriangulationError, match="no cases declared"):
        compute_cross_case(HUMAN, SEGMENTS, BOOK, cases=None)
    with pytest.raises(TriangulationError, match=r"cases 'sectors': codes \['case_y'\]"):
        compute_cross_case(HUMAN, SEGMENTS, BOOK, cases={"sectors": ["case_y"]})
    # any code can be a case, whatever its id: here the theme "cost" is one
    table = compute_cross_case(HUMAN, SEGMENTS, BOOK, cases={"kinds": ["cost"]}).wide
    assert list(table.columns) == ["cost"] and "cost" not in table.index
    assert table.loc["access", "cost"] == 0 and "case_x" in table.index  # not declared


def test_any_record_column_with_an_unknown_group() -> None:
    records = RECORDS.copy()
    records["source_type"] = records["source_type"].astype("string")
    records.loc[records["record_id"] == "w3", "source_type"] = pd.NA
    with pytest.warns(UserWarning, match="1 work\\(s\\) behind coded segments have no "
                                         "source_type"):
        table = compute_source_triangulation(HUMAN, SEGMENTS, records, BOOK,
                                             by="source_type", cases=CASES)
    wide = table.wide
    assert list(wide.columns)[-3:] == ["unknown", "groups_supporting", "status"]
    assert wide.loc["cost", "unknown"] == 1  # s2 cites w3
    # the unknown group never corroborates: cost has journal article + unknown
    assert wide.loc["cost", "groups_supporting"] == 1
    evidence = evidence_for(table, "cost", "unknown", segments=SEGMENTS, records=records)
    assert evidence["record_id"].tolist() == ["w3"]
    with pytest.raises(TriangulationError, match="records have no column 'region'"):
        compute_source_triangulation(HUMAN, SEGMENTS, RECORDS, BOOK, by="region")


def test_a_work_found_by_several_databases_counts_for_each() -> None:
    records = RECORDS.copy()
    records["databases"] = [("Scopus", "Web of Science"), ("Scopus",), (), ("ERIC",)]
    records["year"] = records["year"].astype(float)  # years read as floats still read 2020
    segments = SEGMENTS.drop(columns="cited_keys").assign(
        record_id=["w1", "w3", "w2", "w4", None])
    with pytest.warns(UserWarning, match="no databases"):
        table = compute_source_triangulation(HUMAN, segments, records, BOOK, by="databases",
                                             cases=CASES)
    wide = table.wide
    assert list(wide.columns[:-2]) == ["ERIC", "Scopus", "Web of Science", "unknown"]
    assert wide.loc["cost", ["Scopus", "Web of Science", "unknown"]].tolist() == [1, 1, 1]
    assert wide.loc["cost", "status"] == "corroborated"
    years = compute_source_triangulation(HUMAN, segments, records, BOOK, by="year",
                                         cases=CASES).wide
    assert list(years.columns[:-2]) == ["2020", "2021", "2022"]
