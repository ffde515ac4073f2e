"""`slr reproduce`: every artefact, byte-identical CSVs on a rerun, clean failures."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from toolkit.cli import main
from toolkit.errors import ToolkitError
from toolkit.paths import bundled_codings_dir, bundled_corpus_dir
from toolkit.review.pipeline import reproduce


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("reproduce")
    first = reproduce(base / "one", n_boot=50, progress=False).out
    second = reproduce(base / "two", n_boot=50, progress=False).out
    return first, second


def test_every_artefact_is_written(runs: tuple[Path, Path]) -> None:
    out, _ = runs
    tables = out / "tables"
    for name in ("source_triangulation_source_group", "cross_case", "coverage_rq",
                 "coverage_year", "investigator_triangulation", "method_triangulation",
                 "prisma_flow", "agreement_by_theme", "topics"):
        for suffix in (".csv", ".xlsx", ".tex", ".md"):
            assert (tables / f"{name}{suffix}").is_file(), name + suffix
    assert "\\toprule" in (tables / "cross_case.tex").read_text()
    for figure in ("source_triangulation", "cross_case", "coverage_rq", "prisma_flow"):
        assert (out / "figures" / f"{figure}.png").stat().st_size > 1000
    assert b"urn:QDA-XML:codebook:1.0" in (out / "codebook.qdc").read_bytes()
    report = (out / "report.html").read_text()
    assert report.count("data:image/png;base64,") >= 6 and "corroborated" in report
    assert "http" not in report.replace("doi:", "")  # self-contained: nothing fetched
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seeds"] == {"random_state": 0, "n_boot": 50}
    assert "report.html" in manifest["outputs"] and manifest["versions"]["bertopic"]
    assert any(k.endswith("references.bib") for k in manifest["inputs"])


def test_second_run_is_byte_identical(runs: tuple[Path, Path]) -> None:
    one, two = runs
    files = sorted(p.relative_to(one) for p in one.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(two) for p in two.rglob("*") if p.is_file())
    different = [f for f in files if (one / f).read_bytes() != (two / f).read_bytes()]
    assert different == []


def test_prisma_keeps_unknown_counts_unknown(runs: tuple[Path, Path]) -> None:
    text = (runs[0] / "tables" / "prisma_flow.csv").read_text().splitlines()
    rows = {line.split(",")[1]: line.split(",")[3] for line in text[1:]}
    assert rows["records_identified"] == "85" and rows["duplicates_removed"] == "0"
    for box in ("records_screened", "records_excluded", "reports_assessed", "studies_included"):
        assert rows[box] == "", box


def test_bad_path_codings_mismatch_and_empty_codings(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reproduce", "--out", str(tmp_path / "a"), "--corpus",
                 str(tmp_path / "nowhere"), "--no-progress"]) == 2
    assert "no such folder" in capsys.readouterr().err
    # a codebook that does not match the codings
    book = tmp_path / "book.yaml"
    book.write_text("name: other\nversion: '1'\nround: 2\ncodes:\n- id: x\n  label: X\n")
    assert main(["reproduce", "--out", str(tmp_path / "b"), "--codebook", str(book),
                 "--no-progress"]) == 2
    assert "codes not in codebook 'other'" in capsys.readouterr().err
    # an empty coding set
    empty = tmp_path / "codings" / "round2"
    empty.mkdir(parents=True)
    (empty / "curator.csv").write_text(
        "segment_id,code_id,coder,round,method,start,end,memo,created_at\n"
        "ev001,,curator,2,human,,,,\n")
    assert main(["reproduce", "--out", str(tmp_path / "c"), "--codings",
                 str(tmp_path / "codings"), "--no-progress"]) == 2
    assert "no human codings with a code" in capsys.readouterr().err
    for name in ("a", "b", "c"):  # nothing partial left behind
        assert not (tmp_path / name).exists()
    assert not [p for p in tmp_path.iterdir() if ".partial-" in p.name]


def test_refuses_to_replace_a_folder_it_did_not_write(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(ToolkitError, match="not an earlier reproduce output"):
        reproduce(tmp_path / "mine", progress=False)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_other_subcommands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(bundled_corpus_dir() / "evidence.csv", tmp_path / "evidence.csv")
    book = str(bundled_corpus_dir().parent / "codebooks" / "microcredentials.yaml")
    assert main(["code", str(tmp_path / "evidence.csv"), "--codebook", book,
                 "--text-column", "statement", "--id-column", "segment_id",
                 "--human", str(bundled_codings_dir()), "--out",
                 str(tmp_path / "rules.csv")]) == 0
    out = capsys.readouterr().out
    assert "Rule coder against the human coding" in out and (tmp_path / "rules.csv").is_file()
    assert main(["triangulate", "--codebook", book, "--codings", str(bundled_codings_dir()),
                 "--coders", "curator", "--out", str(tmp_path / "tri")]) == 0
    assert "corroborated" in capsys.readouterr().out
    assert (tmp_path / "tri" / "source_triangulation_source_group.md").is_file()
    assert main(["topics", str(tmp_path / "evidence.csv"), "--text-column", "statement",
                 "--id-column", "segment_id", "--out", str(tmp_path / "model")]) == 0
    assert (tmp_path / "model" / "document_topics.csv").is_file()
