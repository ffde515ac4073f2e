"""The student's path through the ``slr`` commands, on a copy of the bundled review.

New code (round 3 starts, because round 2 has codings), the round diff, a sheet for a second
coder read back, agreement between the two people (Cohen's kappa), the disagreement sheet
decided and read back as a consensus, and ``slr reproduce`` using that consensus. The
decisions and the student's sheet are the teaching fixtures in notebooks/data.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from toolkit.cli import main
from toolkit.memos import write_memo
from toolkit.paths import project_root

DATA = project_root() / "notebooks" / "data"


def _slr(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def test_student_path_through_the_commands(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    root = project_root()
    shutil.copytree(root / "corpus", tmp_path / "corpus")
    shutil.copytree(root / "codebooks", tmp_path / "codebooks")
    review = tmp_path / "corpus"
    comment = "# the codebook's patterns were written while coding these statements"
    assert comment in (review / "review.yaml").read_text()

    # 1. a new code: round 2 has codings, so round 3 starts and review.yaml names it
    out = _slr(capsys, "codebook", "add", review, "benefits.skills_signalling",
               "--label", "Signalling and verifying skills", "--parent", "benefits",
               "--phrases", "evidence of skills", "verify skills")
    assert "starts round 3" in out and "codebook_round3.yaml" in out
    text = (review / "review.yaml").read_text()
    assert "codebook: codebook_round3.yaml" in text and "3: codebook_round3.yaml" in text
    assert comment in text  # the file was edited line by line, its comments stay
    out = _slr(capsys, "codebook", "diff", review)
    assert "Changes from round 2 to round 3" in out
    changes = [line.split() for line in out.splitlines()[4:] if line.strip()]
    assert [c[:2] for c in changes] == [["added", "benefits.skills_signalling"]]
    # a second edit before anyone codes round 3 changes the same file, no round 4
    out = _slr(capsys, "codebook", "rename", review, "benefits.skills_signalling",
               "benefits.skill_signals")
    assert "not coded yet" in out and not (review / "codebook_round4.yaml").exists()
    out = _slr(capsys, "codebook", "diff", review, "--old", "2", "--new", "3")
    assert "benefits.skill_signals" in out and "renamed" not in out
    assert "flexibility_access" not in out  # round 1 -> 2 changes are not repeated

    # 2. a sheet for the second coder, and the filled one read back as round 3
    out = _slr(capsys, "sheet", review, "--coder", "student")
    assert (review / "sheets" / "student.xlsx").is_file()
    sheet = pd.read_csv(DATA / "student_round3_sheet.csv", dtype=str, keep_default_na=False)
    sheet["codes"] = sheet["codes"].str.replace("benefits.skills_signalling",
                                                "benefits.skill_signals")
    filled = tmp_path / "student_filled.csv"
    sheet.to_csv(filled, index=False)
    out = _slr(capsys, "sheet", review, "--coder", "student", "--round", "3", "--read", filled)
    codings = tmp_path / "codebooks" / "codings" / "microcredentials"
    assert (codings / "round3" / "student.csv").is_file()

    # plain reproduce still runs with the student's file there (review.yaml: coders [curator])
    # -- checked below with the consensus; first agreement between the two people
    out = _slr(capsys, "agree", review, "--coders", "curator", "student", "--n-boot", "50")
    assert "Agreement per theme between curator, student" in out and "cohen_kappa" in out
    out = _slr(capsys, "agree", review, "--coders", "curator", "student", "--level", "code",
               "--n-boot", "20")  # the new code did not exist for the curator's round 2
    assert "note: left out (not in every rater's round): ['benefits.skill_signals']" in out

    # 3. the disagreement sheet, decided, read back as a consensus under its own name
    out = _slr(capsys, "adjudicate", review, "--coders", "curator", "student",
               "--out", tmp_path / "adjudication.csv")
    disputes = pd.read_csv(tmp_path / "adjudication.csv", dtype=str, keep_default_na=False)
    decisions = pd.read_csv(DATA / "adjudication_decisions.csv", dtype=str,
                            keep_default_na=False).replace("benefits.skills_signalling",
                                                           "benefits.skill_signals")
    assert f"{len(decisions)} disagreement(s)" in out
    decided = disputes.drop(columns=["decision", "decision_memo"]).merge(
        decisions, on=["segment_id", "code_id"], validate="one_to_one")
    assert len(decided) == len(disputes)
    decided.to_csv(tmp_path / "decided.csv", index=False)
    curator_before = (codings / "round2" / "curator.csv").read_bytes()
    out = _slr(capsys, "adjudicate", review, "--coders", "curator", "student",
               "--read", tmp_path / "decided.csv")
    assert (codings / "round3" / "consensus.csv").is_file()
    assert (codings / "round2" / "curator.csv").read_bytes() == curator_before

    # memos, shown in the report next to what they annotate
    write_memo(review / "memos", "code", "benefits.skill_signals", "Badges as <evidence>.",
               title="Why a new code", author="student", created_at="2026-03-02")
    write_memo(review / "memos", "segment", "ev018", "Read with ev023.", author="student",
               created_at="2026-03-02")

    # 4. plain reproduce: review.yaml names the curator only; the student's file is left
    # alone and never breaks the run, and the consensus is used where it decided
    _slr(capsys, "reproduce", review, "--out", tmp_path / "plain", "--n-boot", "20",
         "--no-progress")
    plain = json.loads((tmp_path / "plain" / "manifest.json").read_text())["settings"]
    assert plain["coders"] == ["curator"] and plain["consensus"] == "consensus"
    assert not (tmp_path / "plain" / "tables" / "investigator_triangulation.csv").exists()

    # 5. reproduce with both people named: kappa between them, consensus in the analysis
    out_dir = tmp_path / "out"
    _slr(capsys, "reproduce", review, "--coders", "curator", "student", "--out", out_dir,
         "--n-boot", "20", "--no-progress")
    manifest = json.loads((out_dir / "manifest.json").read_text())["settings"]
    assert manifest["coders"] == ["curator", "student"]
    assert manifest["consensus"] == "consensus" and manifest["rounds"] == [2, 3]
    people = pd.read_csv(out_dir / "tables" / "agreement_between_coders.csv")
    assert "cohen_kappa" in people.columns
    investigator = pd.read_csv(out_dir / "tables" / "investigator_triangulation.csv",
                               index_col=0)
    assert "before: cohen_kappa" in investigator.columns
    assert "after: student vs consensus (percent_agreement)" in investigator.columns
    method = pd.read_csv(out_dir / "tables" / "method_triangulation.csv", index_col=0)
    assert method.loc["benefits", "human_segments"] == 30  # 28 by the curator, + 2 agreed
    report = (out_dir / "report.html").read_text()
    assert "Investigator triangulation: agreement between coders" in report
    assert "Badges as &lt;evidence&gt;." in report and "Read with ev023." in report
    assert (out_dir / "project.qdpx").is_file()
