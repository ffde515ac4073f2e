"""Memos as plain files: write, read back, list, refuse what is not a memo, attach to tables."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from toolkit._io import OutputExistsError
from toolkit.memos import MemoError, attach_memos, load_memos, memo_path, read_memo, write_memo


def test_memos_round_trip_and_are_never_overwritten(tmp_path: Path) -> None:
    folder = tmp_path / "memos"
    stamp = "2026-03-02T10:00:00+00:00"
    code = write_memo(folder, "code", "benefits.skills", "Badges as *evidence*.\n\nSecond.",
                      title="Why", author="student", created_at=stamp)
    segment = write_memo(folder, "segment", "report:p3.s1", "Odd: --- inside\n---\n",
                         created_at=stamp)
    write_memo(folder, "review", "method", "Two coders, then adjudication.",
               created_at=stamp)
    write_memo(folder, "document", "../../etc/passwd", "stays inside", created_at=stamp)
    assert code == folder / "code" / "benefits.skills.md"
    assert segment.name == "report%3Ap3.s1.md"
    assert {p.parent for p in folder.rglob("*.md")} <= {folder / k for k in
                                                         ("code", "segment", "review",
                                                          "document")}
    memo = read_memo(code)
    assert (memo.kind, memo.target, memo.title, memo.author, memo.text) == (
        "code", "benefits.skills", "Why", "student", "Badges as *evidence*.\n\nSecond.")
    assert read_memo(segment).text == "Odd: --- inside\n---"
    table = load_memos(folder)
    assert table[["kind", "target"]].values.tolist() == [
        ["code", "benefits.skills"], ["document", "../../etc/passwd"],
        ["review", "method"], ["segment", "report:p3.s1"]]
    assert load_memos(folder, kind="review")["text"].tolist() == [
        "Two coders, then adjudication."]
    with pytest.raises(OutputExistsError):
        write_memo(folder, "code", "benefits.skills", "replaced?")
    assert read_memo(code).title == "Why"
    assert load_memos(tmp_path / "absent").empty


@pytest.mark.parametrize(("name", "content", "message"), [
    pytest.param("code/a.md", "no front matter", "no front matter", id="no-front"),
    pytest.param("code/a.md", "---\nkind: code\ntarget: b\n---\nx", "move it to code/b.md",
                 id="wrong-place"),
    pytest.param("code/a.md", "---\nkind: note\ntarget: a\n---\nx", "kind 'note'",
                 id="bad-kind"),
    pytest.param("code/a.md", "---\nkind: code\ntarget: a\nmood: x\n---\n", "unknown front",
                 id="unknown-key"),
    pytest.param("code/a.md", "---\n!!python/object:os.system x\n---\n", "front matter",
                 id="unsafe-yaml"),
    pytest.param("notes.txt", "hello", "not a memo", id="stray-file"),
])
def test_bad_memo_files_are_reported(tmp_path: Path, name: str, content: str,
                                     message: str) -> None:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    with pytest.raises(MemoError, match=message):
        load_memos(tmp_path)


def test_memo_names_and_kinds() -> None:
    assert memo_path("m", "code", ".hidden").name == "%2Ehidden.md"
    with pytest.raises(MemoError, match="use one of"):
        memo_path("m", "theme", "x")  # type: ignore[arg-type]
    with pytest.raises(MemoError, match="empty"):
        memo_path("m", "code", " ")


def test_memos_appear_next_to_what_they_annotate(tmp_path: Path) -> None:
    write_memo(tmp_path, "code", "cost", "Fees and travel.")
    write_memo(tmp_path, "segment", "s2", "Ironic?")
    memos = load_memos(tmp_path)
    frequencies = pd.DataFrame({"code_id": ["cost", "time"], "segments": [3, 1]})
    assert attach_memos(frequencies, memos, kind="code", on="code_id")["memo"].tolist() == [
        "Fees and travel.", pd.NA]
    quotes = pd.DataFrame({"segment_id": ["s1", "s2"], "memo": ["coder note", "also"]})
    assert attach_memos(quotes, memos, kind="segment", on="segment_id")["memo"].tolist() == [
        "coder note", "also | Ironic?"]
