"""`slr reproduce`: every artefact, byte-identical CSVs on a rerun, clean failures."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from toolkit._io import STAGE_MARKER
from toolkit.cli import main
from toolkit.errors import ToolkitError
from toolkit.paths import bundled_codings_dir, bundled_corpus_dir
from toolkit.review.pipeline import check_reproduce_output, reproduce


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two runs; the second replaces a copy of the first (the replace path is exercised).

    Beside the second target lie a staging folder of a killed run (marker present, no
    live owner) and a look-alike folder that is not ours.
    """
    base = tmp_path_factory.mktemp("reproduce")
    first = reproduce(base / "one", n_boot=50, progress=False).out
    shutil.copytree(first, base / "two")
    (base / "two" / "tables" / "topics.md").unlink()  # a file missing from it is fine
    stale = base / ".two.partial-killed"
    (stale / "build" / "tables").mkdir(parents=True)
    (stale / STAGE_MARKER).write_text('{"pid": 999999999}')
    lookalike = base / ".two.partial-notours"
    lookalike.mkdir()
    (lookalike / "keep.txt").write_text("someone else's")
    second = reproduce(base / "two", n_boot=50, progress=False).out
    return first, second


def test_every_artefact_is_written(runs: tuple[Path, Path]) -> None:
    out, _ = runs
    tables = out / "tables"
    for name in ("source_triangulation_source_group", "cross_case", "coverage_rq",
                 "coverage_year", "method_agreement", "method_triangulation",
                 "prisma_flow", "agreement_by_theme", "topics"):
        for suffix in (".csv", ".xlsx", ".tex", ".md"):
            assert (tables / f"{name}{suffix}").is_file(), name + suffix
    assert "\\toprule" in (tables / "cross_case.tex").read_text()
    for figure in ("source_triangulation", "cross_case", "coverage_rq", "prisma_flow"):
        assert (out / "figures" / f"{figure}.png").stat().st_size > 1000
    assert b"urn:QDA-XML:codebook:1.0" in (out / "codebook.qdc").read_bytes()
    from toolkit.coding import check_qdpx_structure, read_qdpx

    assert check_qdpx_structure((out / "project.qdpx").read_bytes()) == []
    project = read_qdpx(out / "project.qdpx")  # the curator's and the rule coder's codings
    assert set(project.codings["coder"]) == {"curator", "rules"} and project.problems == ()
    assert not (out / "tables" / "investigator_triangulation.csv").exists()  # one person
    report = (out / "report.html").read_text()
    assert "investigator triangulation needs a second human coder" in report
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


def test_the_replace_run_cleaned_only_its_own_leftovers(runs: tuple[Path, Path]) -> None:
    base = runs[1].parent
    assert sorted(p.name for p in base.iterdir()) == [".two.partial-notours", "one", "two"]
    assert (base / ".two.partial-notours" / "keep.txt").is_file()


def test_a_folder_with_any_manifest_json_is_not_wiped(tmp_path: Path) -> None:
    webapp = tmp_path / "webapp"
    webapp.mkdir()
    (webapp / "manifest.json").write_text("{}")
    (webapp / "precious.js").write_text("x")
    with pytest.raises(ToolkitError, match="not written by slr reproduce"):
        reproduce(webapp, progress=False)
    assert (webapp / "precious.js").read_text() == "x"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["webapp"]


def test_a_symlink_out_is_refused_not_followed(runs: tuple[Path, Path], tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    real = Path(shutil.copytree(runs[0], tmp_path / "real"))
    before = sorted(p.relative_to(real) for p in real.rglob("*"))
    (tmp_path / "link").symlink_to(real)
    assert main(["reproduce", "--out", str(tmp_path / "link"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "symbolic link" in err
    assert sorted(p.relative_to(real) for p in real.rglob("*")) == before
    assert (tmp_path / "link").is_symlink()


@pytest.mark.parametrize("change", ["added", "edited", "added-folder", "symlink"])
def test_an_earlier_output_someone_added_to_or_edited_is_refused(
        runs: tuple[Path, Path], tmp_path: Path, change: str) -> None:
    out = Path(shutil.copytree(runs[0], tmp_path / "out"))
    if change == "added":
        (out / "tables" / "my_notes.txt").write_text("mine")
        expected = r"files it did not write: tables/my_notes.txt"
    elif change == "edited":
        (out / "report.html").write_text("<p>my edits</p>")
        expected = r"files changed since it wrote them: report.html"
    elif change == "added-folder":
        (out / "drafts").mkdir()
        expected = r"files it did not write: drafts/"
    else:
        (out / "figures" / "link.png").symlink_to(out / "report.html")
        expected = r"files it did not write: figures/link.png"
    check = check_reproduce_output
    with pytest.raises(ToolkitError, match=expected):
        check(out)
    with pytest.raises(ToolkitError, match=expected):
        reproduce(out, progress=False)
    check(Path(runs[0]))  # the untouched output passes


def test_review_yaml_values_cannot_inject_script(tmp_path: Path) -> None:
    corpus = Path(shutil.copytree(bundled_corpus_dir(), tmp_path / "corpus"))
    # review.yaml names the codebook and codings as ../codebooks/...: copy them beside it
    shutil.copytree(bundled_corpus_dir().parent / "codebooks", tmp_path / "codebooks")
    review = corpus / "review.yaml"
    text = review.read_text()
    attack = "\"<script>alert('x')</script>\""
    for key in ("year", "volume", "issue"):
        text = re.sub(rf"(?m)^  {key}: .*$", f"  {key}: {attack}", text, count=1)
    review.write_text(text)
    out = reproduce(tmp_path / "out", corpus=corpus, n_boot=20, progress=False).out
    report = (out / "report.html").read_text()
    assert "<script" not in report.lower()
    assert report.count("&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;") == 3
