"""A review of one's own, end to end through the `slr` commands, with no Python written.

tests/data/review holds three exports of one invented search (Scopus CSV, Web of Science
plain text, ERIC-style RIS: 19 records of 12 works, one without an abstract).
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from toolkit.cli import main

DATA = Path(__file__).resolve().parents[1] / "data" / "review"
EXPORTS = [str(DATA / name) for name in ("scopus.csv", "wos.txt", "eric.ris")]


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Run init, segment, code, triangulate and reproduce once; keep what they printed."""
    folder = tmp_path_factory.mktemp("own") / "r"
    printed: dict[str, object] = {"folder": folder}
    import contextlib
    import io

    for name, argv in [
        ("init", ["init", str(folder), "--from", *EXPORTS, "--title", "Remote work and "
                                                                       "well-being"]),
        ("segment", ["segment", str(folder)]),
        ("code", ["code", str(folder)]),
        ("triangulate", ["triangulate", str(folder)]),
        ("reproduce", ["reproduce", str(folder), "--no-progress", "--n-boot", "20"]),
    ]:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
        printed[name] = (code, out.getvalue(), err.getvalue())
    return printed


def test_init_scaffolds_a_review_folder(made: dict[str, object]) -> None:
    code, out, err = made["init"]
    folder: Path = made["folder"]
    assert code == 0, err
    assert "19 records, 7 duplicates merged: 12 works" in out
    assert f"slr segment {folder}" in out
    assert sorted(p.name for p in (folder / "exports").iterdir()) == ["eric.ris", "scopus.csv",
                                                                       "wos.txt"]
    review = (folder / "review.yaml").read_text()
    assert 'title: "Remote work and well-being"' in review and "# The search log" in review
    assert 'database: "scopus"' in review and "codings" in review
    book = (folder / "codebook.yaml").read_text()
    assert "id: remote_work" in book and "Starter code" in book  # from the records' keywords
    assert main(["init", str(folder), "--from", *EXPORTS]) == 2  # never over a folder in use


def test_segment_code_and_triangulate(made: dict[str, object]) -> None:
    folder: Path = made["folder"]
    code, out, err = made["segment"]
    assert code == 0, err
    assert "33 segments from abstracts (sentence), 11 documents" in out
    assert "quist2024guidance" in out  # the record without an abstract is reported
    with open(folder / "segments.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 33 and rows[0]["segment_id"].endswith(":s1")
    code, out, err = made["code"]
    assert code == 0, err
    rules = folder / "codings" / "round1" / "rules.csv"
    assert rules.is_file() and "saved the rule codings" in out
    code, out, err = made["triangulate"]
    assert code == 0, err
    assert "the rule coder's (no human coding yet)" in out
    assert "Themes by database" in out and re.search(r"isolation\s+1\s+2\s+2\s+3 corroborated",
                                                     out)
    assert "have no source_group" in out and "unknown" in out  # a report has no group


def test_reproduce_reports_this_review_not_the_bundled_one(made: dict[str, object]) -> None:
    folder: Path = made["folder"]
    code, out, err = made["reproduce"]
    assert code == 0, err
    report = (folder / "out" / "report.html").read_text()
    assert "<h1>Remote work and well-being</h1>" in report
    for bundled in ("Siafu", "icro-credential", "the paper"):
        assert bundled not in report
    assert "No human coding yet" in report
    assert "19 records were identified, 7 duplicates removed" in report
    assert "&lt;NA&gt;" not in report and "<NA>" not in report and ">nan<" not in report
    assert "Data-source triangulation by database" in report and "<details>" in report
    tables = folder / "out" / "tables"
    for name in ("source_triangulation_database", "source_triangulation_source_group",
                 "database_overlap", "search_log", "records_without_text", "prisma_flow",
                 "coverage_year", "topics"):
        assert (tables / f"{name}.csv").is_file(), name
    overlap = (tables / "database_overlap.csv").read_text().splitlines()
    assert overlap[0] == "database,eric,scopus,wos,only" and overlap[2] == "scopus,2,9,4,3"
    manifest = json.loads((folder / "out" / "manifest.json").read_text())
    assert manifest["settings"]["codings_used"] == "rules"
    assert manifest["review"]["title"] == "Remote work and well-being"
    assert any(k.endswith("exports/wos.txt") for k in manifest["inputs"])


def test_a_coder_sheet_round_trip_then_agreement(made: dict[str, object], tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    folder = tmp_path / "r"
    shutil.copytree(made["folder"], folder)
    assert main(["sheet", str(folder), "--coder", "ann", "--out",
                 str(tmp_path / "ann.csv")]) == 0
    with open(tmp_path / "ann.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:  # the coder marks isolation wherever the text names it
        row["codes"] = "isolation" if "isolat" in row["text"].lower() else ""
    with open(tmp_path / "ann.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    assert main(["sheet", str(folder), "--coder", "ann", "--read",
                 str(tmp_path / "ann.csv")]) == 0
    assert (folder / "codings" / "round1" / "ann.csv").is_file()
    assert main(["agree", str(folder), "--n-boot", "20"]) == 0
    out = capsys.readouterr().out
    assert "Agreement per theme between ann, rules (methods: human, rules)" in out
    assert "note: one human coder (ann)" in out  # the rule coder is a method
    assert main(["triangulate", str(folder), "--by", "year"]) == 0
    assert "codings: human (ann)" in capsys.readouterr().out


@pytest.mark.parametrize(("argv", "message"), [
    (["segment", "/no/such/review"], "no such folder"),
    (["code", str(DATA)], "no review.yaml here"),
    (["triangulate", str(DATA)], "no review.yaml here"),
    (["init", "/tmp/x", "--from", "/no/such/export.ris"], "no such file or folder"),
])
def test_bad_review_folders_are_one_message(argv: list[str], message: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err
