from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from toolkit.review import ReviewDataError, compute_evidence_counts, load_review
from toolkit.types import SOURCE_GROUPS

CORPUS = Path(__file__).resolve().parents[2] / "corpus"


@pytest.fixture(scope="module")
def review():
    return load_review()


def test_reference_list_loads_completely(review) -> None:
    records = review.records
    assert len(records) == review.protocol["corpus"]["reference_list_entries"] == 85
    assert records["record_id"].is_unique
    assert records["source_type"].notna().all()
    assert set(records["source_group"]) == set(SOURCE_GROUPS)
    assert records["source_note"].notna().all()
    assert records["doi"].isna().all()  # the list gives no DOIs and none are invented
    assert records["abstract"].isna().all()


def test_every_key_cited_and_every_question_covered(review) -> None:
    keys = {k for ks in review.evidence["cited_keys"] for k in ks}
    assert keys == set(review.records["record_id"])
    assert set(review.evidence["rq"].dropna()) == set(range(1, 9))
    missing = {m for ms in review.evidence["missing_citations"] for m in ms}
    assert missing == {"Welsh, et al. 2017", "Welsh & Dragusin, 2013", "Thomsen (2023)"}


def test_statements_are_not_copied_from_citations(review) -> None:
    assert review.evidence["statement"].str.len().between(30, 200).all()
    assert not review.evidence["statement"].str.contains(r"\(\w+, \d{4}\)").any()


def test_evidence_counts(review) -> None:
    by_rq = compute_evidence_counts(review, "rq")
    assert by_rq["segments"].sum() == len(review.evidence)
    groups = compute_evidence_counts(review, "source_group").set_index("source_group")
    assert groups["works"].sum() == len(review.records)


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    for name in ("references.bib", "evidence.csv", "review.yaml", "citation_audit.csv"):
        shutil.copy(CORPUS / name, folder / name)
    return folder


def test_validation_lists_every_problem(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    evidence = pd.read_csv(folder / "evidence.csv", dtype=str, keep_default_na=False)
    evidence.loc[0, "cited_keys"] = "nosuchkey"
    evidence.loc[1, "rq"] = "5"
    evidence = evidence[evidence["rq"] != "6"]
    evidence.to_csv(folder / "evidence.csv", index=False)
    with pytest.raises(ReviewDataError) as info:
        load_review(folder)
    text = str(info.value)
    assert "ev001: cites ['nosuchkey']" in text
    assert "ev002: rq 5 but section 1 answers question None" in text
    assert "no evidence for guiding question(s) [6]" in text
    assert "hossain2023evaluation: cited by no evidence row" not in text  # still cited later
    assert "murrin2018credentialism: cited by no evidence row" in text


def test_missing_file_is_one_clear_message(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    (folder / "evidence.csv").unlink()
    with pytest.raises(ReviewDataError, match="evidence.csv is missing"):
        load_review(folder)


def test_group_must_match_taxonomy(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    bib = (folder / "references.bib").read_text()
    bib = bib.replace("sourcegroup = {industry},\n  sourcenote  = {Report from a non-profit",
                      "sourcegroup = {policy},\n  sourcenote  = {Report from a non-profit")
    (folder / "references.bib").write_text(bib)
    with pytest.raises(ReviewDataError, match="staker2020developing: group 'policy' but source "
                                              "type 'think-tank report' belongs to 'industry'"):
        load_review(folder)


def test_unquoted_comma_in_yaml_flow_mapping_is_caught(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    text = (folder / "review.yaml").read_text()
    text = text.replace('title: "Development and Technology, Accessibility and Digital '
                        'Inclusivity"', "title: Development and Technology, Accessibility")
    (folder / "review.yaml").write_text(text)
    with pytest.raises(ReviewDataError, match=r"section '3.6.c': keys .*quote titles"):
        load_review(folder)
