"""review.yaml: every problem listed at once; defaults; saving; documents as segments."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from toolkit.report.html import render_table
from toolkit.report.prisma import compute_prisma
from toolkit.review import (
    ReviewConfigError,
    ReviewDataError,
    load_review,
    load_review_config,
    save_review_config,
)

DATA = Path(__file__).resolve().parents[1] / "data"


def _folder(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "r"
    (folder / "exports").mkdir(parents=True)
    shutil.copy(DATA / "review" / "eric.ris", folder / "exports" / "eric.ris")
    (folder / "review.yaml").write_text(text)
    return folder


def test_every_problem_is_listed(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "titel: x\nsegments: {from: pdfs}\ncoding: {rule_scores: yes}\n"
                               "search: [{files: [a.ris]}]\ncases: {sectors: 3}\n")
    with pytest.raises(ReviewConfigError) as info:
        load_review_config(folder)
    text = str(info.value)
    for expected in ("title is missing", "unknown key 'titel'", "segments.from is 'pdfs'",
                     "coding.rule_scores", "search[1]: each entry needs a database",
                     "cases.sectors"):
        assert expected in text, expected
    with pytest.raises(ReviewConfigError, match="no review.yaml here"):
        load_review_config(tmp_path)
    (folder / "review.yaml").write_text("title: [unclosed\n")
    with pytest.raises(ReviewConfigError, match="not valid YAML"):
        load_review_config(folder)


def test_defaults_search_log_and_saving(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "title: Small\nsearch:\n  - database: ERIC\n    files: "
                               "[exports/eric.ris]\n    hits: 6\n")
    review = load_review(folder)
    assert review.segment_source == "abstracts" and review.segment_unit == "whole"
    assert set(review.records["database"]) == {"ERIC"}
    assert review.codings_dir == folder / "codings" and review.cases == {}
    from toolkit.review import compute_search_table

    search = compute_search_table(review.search, review.loaded, folder,
                                  review.loaded_records())
    assert search[["database", "hits", "records"]].values.tolist() == [["ERIC", 6, 5]]
    blocks = review.loaded.blocks[["source_file", "records"]]
    flow = compute_prisma(blocks, review.dedup.log, search=search)
    detail = flow.set_index("box").loc["records_identified", "detail"]
    assert detail == "ERIC: 5 (the database reported 6 hits)"
    config = load_review_config(folder)
    config["questions"] = {1: "Why?"}
    save_review_config(folder, config)
    assert load_review(folder).questions()["question"].tolist() == ["Why?"]
    config["coverage"] = "year"  # a list is expected
    with pytest.raises(ReviewConfigError, match="coverage is str"):
        save_review_config(folder, config)


def test_full_texts_link_to_records_and_keep_pages(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "title: Texts\nsegments: {from: documents, unit: paragraph}\n")
    (folder / "documents").mkdir()
    shutil.copy(DATA / "documents" / "homework_study.pdf",
                folder / "documents" / "nakamura2022remote.pdf")
    (folder / "documents" / "notes.md").write_text("A note that matches no record.\n")
    segments = load_review(folder).segments()
    pdf = segments[segments["document_id"] == "nakamura2022remote"]
    assert set(pdf["record_id"]) == {"nakamura2022remote"} and pdf["page"].tolist()[-1] == 2
    assert segments.loc[segments["document_id"] == "notes", "record_id"].isna().all()


def test_report_tables_escape_and_label() -> None:
    frame = pd.DataFrame({"a<b": [pd.NA], "n": [float("nan")]},
                         index=pd.Index(["t1"], name="theme"))
    html = render_table(frame, labels={"t1": "<script>x</script>"})
    assert "<script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
    assert "a&lt;b" in html and "<NA>" not in html and "nan" not in html


def test_screening_table_is_checked_and_gives_the_prisma_boxes(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "title: Screened\nscreening: screening.csv\n")
    ids = load_review(folder).records["record_id"].tolist()
    rows = [f"{ids[0]},title_abstract,Include,", f"{ids[1]},Title_Abstract,exclude,off topic",
            f"{ids[0]},full_text,include,", f"{ids[2]},title_abstract,include,",
            f"{ids[2]},full_text,not_retrieved,"]
    (folder / "screening.csv").write_text("record_id,stage,decision,reason\n"
                                          + "\n".join(rows) + "\n")
    review = load_review(folder)
    screening = review.screening()
    assert set(screening["stage"]) == {"title_abstract", "full_text"}  # case folded
    flow = compute_prisma(None, None, screening).set_index("box")["count"]
    assert [int(flow[b]) for b in ("records_screened", "records_excluded", "reports_sought",
                                   "reports_not_retrieved", "studies_included")] == [3, 1, 2,
                                                                                     1, 1]
    (folder / "screening.csv").write_text("record_id,stage,decision\n"
                                          f"{ids[0]},title_abstract,maybe\n"
                                          f"{ids[1]},abstract,include\n")
    with pytest.raises(ReviewDataError) as info:
        review.screening()
    assert "line 2: stage 'title_abstract', decision 'maybe'" in str(info.value)
    assert "line 3: stage 'abstract'" in str(info.value)


def test_an_unreadable_export_beside_good_ones_is_a_note(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from toolkit.cli import main

    folder = _folder(tmp_path, "title: Mixed\n")
    shutil.copy(DATA / "corpus" / "unclosed_brace.bib", folder / "exports" / "broken.bib")
    assert main(["segment", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "block(s) of the exports could not be read" in out and "broken.bib line 6" in out
    for path in (folder / "exports").iterdir():
        path.write_bytes(bytes(range(256)) * 4)
    assert main(["segment", str(folder)]) == 2
    err = capsys.readouterr().err  # binary files are not exports: skipped, and none is left
    assert "directory holds no readable reference files" in err and "is not text" in err
