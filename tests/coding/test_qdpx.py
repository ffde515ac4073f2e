"""REFI-QDA projects: our export validates and reads back losslessly; other tools' read right."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from defusedxml import ElementTree as SafeET
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit import load_review
from toolkit.codebook import code_guid, load_codebook
from toolkit.coding import (
    check_qdpx_structure,
    export_qdpx,
    format_qdpx,
    load_codings,
    make_codings,
    read_qdpx,
    segments_from_review,
)
from toolkit.coding.qdpx import read as qdpx_read
from toolkit.errors import CodingError
from toolkit.memos import load_memos, write_memo
from toolkit.paths import bundled_codebook_path, bundled_codings_dir

NS = "{urn:QDA-XML:project:1.0}"
KEY = ["segment_id", "coder", "code_id", "start", "end", "pattern"]


@pytest.fixture(scope="module")
def review() -> tuple:
    book = load_codebook(bundled_codebook_path())
    segments = segments_from_review(load_review())
    codings = load_codings(bundled_codings_dir(), methods=None)  # curator and rule coder
    return book, segments, codings


@pytest.fixture(scope="module")
def exported(review: tuple, tmp_path_factory: pytest.TempPathFactory) -> Path:
    book, segments, codings = review
    return export_qdpx(tmp_path_factory.mktemp("qdpx") / "review.qdpx", book, segments,
                       codings)


def _qde(path: Path) -> bytes:
    return zipfile.ZipFile(path).read("project.qde")


def test_bundled_review_export_is_well_formed_and_stable(review: tuple, exported: Path) -> None:
    book, segments, codings = review
    assert check_qdpx_structure(exported.read_bytes()) == []
    names = zipfile.ZipFile(exported).namelist()
    assert names[0] == "project.qde" and all(n.startswith("sources/") for n in names[1:])
    root = SafeET.fromstring(_qde(exported))
    assert {u.get("name") for u in root.iter(f"{NS}User")} == {"curator", "rules"}
    assert len(list(root.iter(f"{NS}Coding"))) == codings["code_id"].notna().sum()
    assert format_qdpx(book, segments, codings) == exported.read_bytes()  # same bytes again


def test_bundled_review_export_validates_against_project_xsd(exported: Path,
                                                             shared_data: Path) -> None:
    xmlschema = pytest.importorskip("xmlschema")
    schema = xmlschema.XMLSchema(str(shared_data / "refi-qda" / "Project.xsd"))
    errors = list(schema.iter_errors(_qde(exported).decode("utf-8")))
    assert errors == []


def test_every_coding_sits_at_the_same_text_position(review: tuple, exported: Path) -> None:
    book, segments, codings = review
    archive = zipfile.ZipFile(exported)
    root = SafeET.fromstring(archive.read("project.qde"))
    texts = dict(zip(segments["segment_id"], segments["text"], strict=True))
    rules = codings.dropna(subset=["start"])
    spans = {(r.segment_id, r.start, r.end): r.matched_text for r in rules.itertuples()}
    checked = 0
    for source in root.iter(f"{NS}TextSource"):
        text = archive.read("sources/" + source.get("plainTextPath")[11:]).decode("utf-8")
        for selection in source.iter(f"{NS}PlainTextSelection"):
            chosen = text[int(selection.get("startPosition")):int(selection.get("endPosition"))]
            segment = selection.get("name")
            if segment in texts:  # a whole segment
                assert chosen == texts[segment]
            else:  # a rule match: the selection holds the matched words
                assert chosen == selection.get("name")
                assert chosen in set(spans.values())
            checked += 1
    assert checked == len(segments) + len({k[:3] for k in spans})
    # and back: every imported coding points at the same text as the one exported
    project = read_qdpx(exported)
    assert project.problems == () and project.codebook == book
    pd.testing.assert_frame_equal(project.segments, segments)
    got = project.codings.sort_values(KEY).reset_index(drop=True)
    want = codings.sort_values(KEY).reset_index(drop=True)
    pd.testing.assert_frame_equal(got[want.columns.tolist()], want)
    imported_texts = dict(zip(project.segments["segment_id"], project.segments["text"],
                              strict=True))
    for row in project.codings.dropna(subset=["start"]).itertuples():
        assert imported_texts[row.segment_id][row.start:row.end] == row.matched_text


def test_memos_travel_as_notes(review: tuple, tmp_path: Path) -> None:
    book, segments, codings = review
    stamp = "2026-03-02T10:00:00+00:00"
    write_memo(tmp_path / "memos", "code", "challenges.cost", "Fees & travel.", author="ann",
               created_at=stamp)
    write_memo(tmp_path / "memos", "segment", "ev002", "Flexible for whom?", title="Question",
               created_at=stamp)
    write_memo(tmp_path / "memos", "document", str(segments["document_id"].iloc[0]),
               "All statements are paraphrases.", created_at=stamp)
    write_memo(tmp_path / "memos", "review", "method", "Curator, then rules.",
               author="lead", created_at=stamp)
    memos = load_memos(tmp_path / "memos")
    human = codings[codings["method"] == "human"].copy()
    human.loc[human["segment_id"] == "ev001", "memo"] = "=drivers of change\x01"
    path = export_qdpx(tmp_path / "memos.qdpx", book, segments, human, memos=memos)
    assert check_qdpx_structure(path.read_bytes()) == []
    root = SafeET.fromstring(_qde(path))
    assert len(list(root.iter(f"{NS}Note"))) == 5  # four memos and one coder's memo
    code = next(c for c in root.iter(f"{NS}Code") if c.get("guid") == code_guid(
        "challenges.cost"))
    assert code.find(f"{NS}NoteRef") is not None
    project = read_qdpx(path)
    columns = ["kind", "target", "title", "author", "created_at", "text"]
    pd.testing.assert_frame_equal(project.memos[columns], memos[columns])
    assert set(project.codings.loc[project.codings["segment_id"] == "ev001", "memo"]) == {
        "=drivers of change\x01"}


def test_unicode_beyond_the_basic_plane(tmp_path: Path) -> None:
    book = load_codebook(bundled_codebook_path())
    texts = ["Badges 🎓 matter.\r\nA lot.", "Costs 💸 deter 👩‍🎓 learners."]
    segments = pd.DataFrame({"segment_id": ["a", "b"], "document_id": ["d", "d"],
                             "text": texts})
    codings = make_codings([
        {"segment_id": "b", "code_id": "challenges.cost", "coder": "ann", "round": 2,
         "method": "human", "start": 8, "end": 13},
        {"segment_id": "a", "code_id": "qa_recognition.digital_credentials", "coder": "ann",
         "round": 2, "method": "human"}])
    path = export_qdpx(tmp_path / "u.qdpx", book, segments, codings)
    project = read_qdpx(path)
    assert project.segments["text"].tolist() == segments["text"].tolist()
    row = project.codings.dropna(subset=["start"]).iloc[0]
    assert project.segments.set_index("segment_id").at["b", "text"][row.start:row.end] == \
        "deter"


def test_nvivo_positions_count_utf16_units(shared_data: Path) -> None:
    path = shared_data / "refi-qda" / "samples" / "nvivo12_pyqdpx" / "oltas_teszt.qdpx"
    project = read_qdpx(path)
    assert "NVivo" in project.origin and project.problems == ()
    assert len(project.codings) == 330 and len(project.segments) == 2
    assert len(project.codebook) == 152 and set(project.users["coder"]) == {
        "Gergo", "floriansipos", "test_user"}

    def whole_comments(codings: pd.DataFrame, segments: pd.DataFrame) -> int:
        texts = dict(zip(segments["segment_id"], segments["text"], strict=True))
        return sum(texts[r.segment_id][r.start - 1] == "\n"
                   and texts[r.segment_id][r.end:r.end + 2] == "\r\n"
                   for r in codings.itertuples())

    # Each coded passage is one comment of the exported table: a whole line of the text.
    assert whole_comments(project.codings, project.segments) >= 300
    codepoints = read_qdpx(path, positions="codepoint")
    assert whole_comments(codepoints.codings, codepoints.segments) < 30


@pytest.mark.parametrize("name", ["skyloom_TestProject.qdpx", "atlasti_8.4_standard_project.qde"])
def test_atlas_ti_projects(shared_data: Path, name: str) -> None:
    path = shared_data / "refi-qda" / "samples" / name
    project = read_qdpx(path)
    qde = path.read_bytes() if name.endswith(".qde") else zipfile.ZipFile(path).read(
        "Project.qde")
    root = SafeET.fromstring(qde)
    coded = [(int(s.get("startPosition")), int(s.get("endPosition")), s.get("name"))
             for s in root.iter(f"{NS}PlainTextSelection") for _ in s.findall(f"{NS}Coding")]
    got = sorted(zip(project.codings["start"], project.codings["end"], strict=True))
    assert got == sorted((a, b) for a, b, _ in coded) and len(got) == 9
    # ATLAS.ti names a quotation by its text unless the user renamed it: where the name is
    # the text, not cut short, the positions span exactly that many characters
    whole = {n: b - a for a, b, n in coded if not n.endswith("…")}
    assert [n for n, width in whole.items() if width != len(n)] == [
        "damage done by fatty foods"]  # a name the user gave (219 characters quoted)
    assert sum(width == len(n) for n, width in whole.items()) == 3
    assert set(project.codings["coder"]) == {"Friedrich_Markgraf"}
    problems = "\n".join(project.problems)
    assert "PictureSource 'cornflakes-n-milk.jpg': 1 selection(s) skipped" in problems
    assert "is not in the project file" in problems  # the archive carries no texts
    memo = project.codings.loc[project.codings["start"] == 688, "memo"].tolist()
    assert memo == ["why does Simon feel the need to do this?"]
    assert {"Research Plan", "My favorite Coke ad"} <= set(project.memos["title"])


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


PROJECT = (b'<Project xmlns="urn:QDA-XML:project:1.0" name="x"><CodeBook><Codes>'
           b'<Code guid="11111111-1111-1111-1111-111111111111" name="a" isCodable="true"/>'
           b'</Codes></CodeBook><Sources><TextSource guid="22222222-2222-2222-2222-222222222222"'
           b' name="s" plainTextPath="internal://../../etc/passwd"><PlainTextSelection '
           b'guid="33333333-3333-3333-3333-333333333333" startPosition="0" endPosition="4">'
           b'<Coding guid="44444444-4444-4444-4444-444444444444"><CodeRef '
           b'targetGUID="11111111-1111-1111-1111-111111111111"/></Coding></PlainTextSelection>'
           b'</TextSource></Sources></Project>')


def test_hostile_archives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "evil.qdpx"
    path.write_bytes(_zip({"project.qde": PROJECT, "../evil.txt": b"x"}))
    with pytest.raises(CodingError, match="outside the target folder"):
        read_qdpx(path)
    path.write_bytes(_zip({"project.qde": PROJECT}))
    project = read_qdpx(path)  # a path out of sources/ is never followed
    assert "is outside the project" in "\n".join(project.problems)
    assert project.codings[["start", "end"]].values.tolist() == [[0, 4]]
    big = PROJECT.replace(b"../../etc/passwd", b"big.txt")
    path.write_bytes(_zip({"project.qde": big, "sources/big.txt": b"y" * 5000}))
    monkeypatch.setattr(qdpx_read, "MAX_SOURCE_BYTES", 1000)
    with pytest.raises(CodingError, match="refusing to read more than"):
        read_qdpx(path)
    path.write_bytes(b"<not xml")
    with pytest.raises(CodingError, match="cannot parse"):
        read_qdpx(path)
    path.write_bytes(_zip({"notes.txt": b"no project"}))
    with pytest.raises(CodingError, match="no .qde"):
        read_qdpx(path)


def test_export_refuses_what_it_cannot_write(review: tuple, tmp_path: Path) -> None:
    book, segments, codings = review
    with pytest.raises(CodingError, match="codes not in codebook"):
        export_qdpx(tmp_path / "a.qdpx", book, segments, codings.assign(code_id="nope"))
    with pytest.raises(CodingError, match="segments not in the segments table"):
        export_qdpx(tmp_path / "a.qdpx", book, segments.iloc[1:], codings)
    bad = codings.dropna(subset=["start"]).head(1).assign(end=10_000)
    with pytest.raises(CodingError, match="outside its text"):
        export_qdpx(tmp_path / "a.qdpx", book, segments, bad)


TEXT = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=30)
CODES = ["challenges.cost", "benefits.employability", "qa_recognition"]
BOOK = load_codebook(bundled_codebook_path())


@settings(max_examples=40)
@given(st.lists(st.tuples(TEXT, st.lists(st.sampled_from(CODES), max_size=2, unique=True),
                          st.none() | TEXT, st.booleans()), min_size=1, max_size=5))
def test_any_coding_reads_back_exactly(rows: list) -> None:
    book = BOOK
    segments = pd.DataFrame({"segment_id": [f"s{i}" for i in range(len(rows))],
                             "document_id": [f"d{i % 2}" for i in range(len(rows))],
                             "text": [text for text, *_ in rows]})
    codings = []
    for i, (text, codes, memo, span) in enumerate(rows):
        for code in codes or [None]:
            codings.append({"segment_id": f"s{i}", "code_id": code, "coder": "ann",
                            "round": 2, "method": "human", "memo": memo,
                            "created_at": "2026-01-01T00:00:00+00:00"})
        if span and codes:
            codings.append({"segment_id": f"s{i}", "code_id": codes[0], "coder": "rules",
                            "round": 2, "method": "rules", "start": len(text) // 3,
                            "end": len(text), "matched_text": text[len(text) // 3:],
                            "pattern": "phrases: x"})
    codings = make_codings(codings)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "p.qdpx"
        path.write_bytes(format_qdpx(book, segments, codings))
        assert check_qdpx_structure(path.read_bytes()) == []
        project = read_qdpx(path)
    # A source is a document, so segments come back grouped by document: compare by id.
    got_segments = project.segments.set_index("segment_id").sort_index()
    want_segments = segments.set_index("segment_id").sort_index()
    assert got_segments["text"].tolist() == want_segments["text"].tolist()
    assert got_segments["document_id"].tolist() == want_segments["document_id"].tolist()
    order = ["segment_id", "coder", "code_id", "start"]
    got = project.codings.sort_values(order, na_position="first").reset_index(drop=True)
    want = codings.sort_values(order, na_position="first").reset_index(drop=True)
    pd.testing.assert_frame_equal(got[want.columns.tolist()], want)
