"""The student's path through the API: round 3, a second coder, agreement, adjudication.

A student joins the bundled review: adds a code and saves round 3, codes ten segments on a
sheet (the teaching fixture in notebooks/data, constructed for teaching), reads it back,
measures agreement with the curator, adjudicates the disagreements into a consensus, and
sees how the rule coder and the triangulation tables change. Everything is written into a
temporary copy; the bundled review's files are never touched.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pandas as pd
import pytest

from toolkit import load_review
from toolkit.agreement import compute_agreement
from toolkit.codebook import add_code, diff_codebooks, load_codebook, save_codebook, start_round
from toolkit.coding import (
    RoundWarning,
    RuleCoder,
    combine_with_consensus,
    compute_disagreements,
    compute_rule_metrics,
    load_codings,
    read_adjudication_sheet,
    read_coding_sheet,
    save_codings,
    segments_from_review,
    write_adjudication_sheet,
    write_coding_sheet,
)
from toolkit.paths import bundled_codebook_path, bundled_codings_dir, project_root
from toolkit.triangulation import (
    compute_investigator_triangulation,
    compute_method_triangulation,
    compute_source_triangulation,
)

DATA = Path(__file__).parents[1] / "notebooks" / "data"
STAMP = "2026-03-02T10:00:00+00:00"


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_student_extends_the_coding(tmp_path: Path) -> None:
    bundled = _digest(project_root() / "codebooks")
    review = load_review()
    segments = segments_from_review(review)
    round2 = load_codebook(bundled_codebook_path())
    shutil.copytree(bundled_codings_dir(), tmp_path / "codings")

    # 1. a new code, saved as round 3; the diff shows that change and nothing older
    round3 = add_code(start_round(round2), "benefits.skills_signalling",
                      "Signalling and verifying skills", parent="benefits",
                      definition="Credentials as shareable, verifiable evidence of skills.",
                      patterns={"phrases": ["evidence of skills", "verify skills"]})
    save_codebook(round3, tmp_path / "microcredentials_round3.yaml")
    diff = diff_codebooks(round2, round3)
    assert diff[["change", "code_id"]].values.tolist() == [
        ["added", "benefits.skills_signalling"]]

    # 2. a sheet for the second coder, and the filled one read back
    batch = segments[segments["segment_id"].between("ev018", "ev027")]
    sheet = write_coding_sheet(batch, round3, tmp_path / "student.xlsx")
    assert pd.read_excel(sheet, sheet_name="coding")["segment_id"].tolist() == \
        batch["segment_id"].tolist()
    student = read_coding_sheet(DATA / "student_round3_sheet.csv", round3, segments,
                                coder="student", round=3, created_at=STAMP)
    save_codings(student, tmp_path / "codings")
    codings = load_codings(tmp_path / "codings")
    assert sorted(codings["coder"].unique()) == ["curator", "student"]  # rules stay out

    # 3. agreement: two people give Cohen's kappa; the new code is left out, with a warning
    with pytest.warns(RoundWarning, match="benefits.skills_signalling"):
        agree = compute_agreement(codings, codebook=[round2, round3], n_boot=500)
    pooled = agree.set_index(["code_id", "metric"]).loc["(pooled)", "value"]
    assert agree.attrs["raters"] == ["curator", "student"]
    assert agree.attrs["left_out"] == ["benefits.skills_signalling"]
    assert 0.5 < pooled["cohen_kappa"] < 1 and pooled["percent_agreement"] > 0.9
    themes = compute_agreement(codings, codebook=[round2, round3], level="theme", n_boot=500)
    per_theme = themes[~themes["code_id"].isin(["(pooled)", "(mean)"])]
    assert set(per_theme["n_units"]) == {10} and (themes["n_raters"] == 2).all()

    # 4. disagreements, decided, read back as a consensus that replaces no one
    with pytest.warns(RoundWarning):
        disputes = compute_disagreements(codings, segments, codebook=[round2, round3])
    decisions = pd.read_csv(DATA / "adjudication_decisions.csv", dtype=str)
    assert sorted(zip(disputes["segment_id"], disputes["code_id"], strict=True)) == sorted(
        zip(decisions["segment_id"], decisions["code_id"], strict=True))
    filled = disputes.drop(columns=["decision", "decision_memo"]).merge(
        decisions, on=["segment_id", "code_id"])
    path = write_adjudication_sheet(filled, tmp_path / "adjudication.xlsx")
    with pytest.warns(RoundWarning):
        consensus = read_adjudication_sheet(path, codings, codebook=[round2, round3],
                                            created_at=STAMP)
    save_codings(consensus, tmp_path / "codings")
    everything = load_codings(tmp_path / "codings")
    assert sorted(everything["coder"].unique()) == ["consensus", "curator", "student"]
    agreed = consensus.groupby("segment_id")["code_id"].apply(lambda s: sorted(s.dropna()))
    assert agreed["ev027"] == ["benefits.lifelong_learning", "evolution.degree_limits",
                               "workforce.skills_gap"]
    assert agreed["ev022"] == ["definition"]

    # 5. investigator triangulation: between the two people, before and after adjudication
    investigator = compute_investigator_triangulation(everything, [round2, round3],
                                                      consensus="consensus", n_boot=200)
    wide = investigator.wide
    assert "before: cohen_kappa" in wide.columns
    assert wide.loc["(pooled)", "after: student vs consensus (percent_agreement)"] > \
        wide.loc["(pooled)", "before: percent_agreement"]

    # 6. the rule coder against the human coding, now with the consensus where it exists
    human = combine_with_consensus(codings[codings["coder"] == "curator"], consensus)
    rules = RuleCoder(round3).fit().transform(segments)
    metrics = compute_rule_metrics(rules, human, codebook=round3).set_index("code_id")
    # in-sample: the patterns were written with these two segments in view
    assert metrics.loc["benefits.skills_signalling", ["support", "tp", "fp"]].tolist() == [2, 2, 0]
    method = compute_method_triangulation(human, rules, None, round3).wide
    assert method.loc["benefits", "human_segments"] == 30  # 28 before, plus ev018 and ev023

    # 7. source triangulation with the combined human coding
    before = compute_source_triangulation(codings[codings["coder"] == "curator"], segments,
                                          review.records, round2).wide
    after = compute_source_triangulation(human, segments, review.records, round3).wide
    assert after.loc["benefits", "academic"] >= before.loc["benefits", "academic"]
    assert _digest(project_root() / "codebooks") == bundled  # nothing bundled was written
