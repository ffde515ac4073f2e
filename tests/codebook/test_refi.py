from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from toolkit.codebook import (
    check_qdc_structure,
    code_guid,
    export_qdc,
    format_qdc,
    load_codebook,
    read_qdc,
    read_qdpx_codes,
)
from toolkit.errors import CodebookError

DATA = Path(__file__).parents[1] / "data" / "codebooks"
ROOT = Path(__file__).parents[2]
SHARED = ROOT.parent / "shared" / "data" / "refi-qda"


@pytest.fixture(scope="module")
def bundled():
    return load_codebook(ROOT / "codebooks" / "microcredentials.yaml")


def test_structure_check_of_our_export(bundled, tmp_path: Path) -> None:
    path = export_qdc(bundled, tmp_path / "cb.qdc")
    data = path.read_bytes()
    assert check_qdc_structure(data) == []
    assert not data.startswith(b"\xef\xbb\xbf")
    assert b'xmlns="urn:QDA-XML:codebook:1.0"' in data
    assert data.count(b"<Code ") == len(bundled)


def test_structure_check_finds_problems() -> None:
    bad = (b'<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes/><Sets/></CodeBook>')
    problems = check_qdc_structure(bad)
    assert "Codes is empty; the schema needs at least one Code" in problems
    assert "Sets is empty; leave it out or add a Set" in problems
    order = (b'<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes><Code guid="x" name="a" '
             b'isCodable="maybe" color="#12345678"><Code guid="B0B0B0B0-0000-0000-0000-'
             b'000000000000" name="b" isCodable="true"/><Description>d</Description></Code>'
             b'</Codes></CodeBook>')
    problems = check_qdc_structure(order)
    assert any("guid 'x' is not a GUID" in p for p in problems)
    assert any("isCodable must be true or false" in p for p in problems)
    assert any("#12345678" in p for p in problems)
    assert any("Description must come before child codes" in p for p in problems)


def test_guids_are_stable_across_exports(bundled) -> None:
    assert format_qdc(bundled) == format_qdc(bundled)
    assert code_guid("benefits").encode() in format_qdc(bundled)


def test_lossless_round_trip(bundled, tmp_path: Path) -> None:
    small = load_codebook(DATA / "small.yaml")
    for book in (bundled, small):
        path = export_qdc(book, tmp_path / f"{book.version}.qdc", overwrite=True)
        assert read_qdc(path) == book


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data/refi-qda is absent")
def test_export_validates_against_official_schema(bundled, tmp_path: Path) -> None:
    xmlschema = pytest.importorskip("xmlschema")
    schema = xmlschema.XMLSchema(str(SHARED / "Codebook.xsd"))
    for book in (bundled, load_codebook(DATA / "small.yaml")):
        path = export_qdc(book, tmp_path / "x.qdc", overwrite=True)
        schema.validate(str(path))


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data/refi-qda is absent")
def test_import_atlas_ti_codebook_and_qdpx() -> None:
    book = read_qdc(SHARED / "samples" / "atlasti_23.4_requal_valid.qdc")
    code = book["code1"]
    assert (code.label, code.definition, code.color) == ("code1", "description", "#46AA00")
    project = read_qdpx_codes(SHARED / "samples" / "skyloom_TestProject.qdpx")
    assert len(project) == 14 and "happiness" in project


def test_old_namespace_and_nesting_without_our_block(tmp_path: Path) -> None:
    path = tmp_path / "other.qdc"
    path.write_text(
        '<?xml version="1.0"?><CodeBook xmlns="urn:QDA-XML:codebook:0:4" origin="X">'
        '<Codes><Code guid="11111111-1111-1111-1111-111111111111" name="Barriers" '
        'isCodable="false"><Description>top</Description><Code guid="22222222-2222-2222-2222-'
        '222222222222" name="Cost &amp; fees" isCodable="true" color="#abc"/></Code></Codes>'
        '</CodeBook>')
    book = read_qdc(path)
    assert book.ids == ("barriers", "barriers.cost_fees")
    assert book["barriers"].codable is False and book["barriers"].definition == "top"
    assert book["barriers.cost_fees"].parent == "barriers"
    assert book["barriers.cost_fees"].color == "#aabbcc"


def test_unsafe_qdpx_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.qdpx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("project.qde", "<Project/>")
        archive.writestr("../../escape.txt", "x")
    with pytest.raises(CodebookError, match=r"refused: member '../../escape.txt'"):
        read_qdpx_codes(path)


def test_xml_bombs_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb.qdc"
    path.write_text('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]>'
                    '<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes/></CodeBook>')
    with pytest.raises(CodebookError, match="cannot parse XML"):
        read_qdc(path)
