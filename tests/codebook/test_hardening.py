"""Hostile or broken codebooks: a clear CodebookError, quickly, never a crash or a hang.

No test here times anything (timings live in bench/bench_codebook_validation.py); the
regressions are caught by what the old code did instead: printed the expanded bomb,
reported a cycle once per member, recursed, or raised TypeError/ValueError/RecursionError.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd
import pytest

from toolkit.codebook import (
    Code,
    Codebook,
    codebook_from_dict,
    export_qdc,
    load_codebook,
    read_qdc,
    read_qdpx_codes,
)
from toolkit.codebook.io import MAX_CODE_DEPTH
from toolkit.coding import RuleCoder
from toolkit.errors import CodebookError, CodingError

HEAD = "name: x\nversion: '1'\nround: 1\ncodes:\n"
NS = "urn:QDA-XML:codebook:1.0"


def _bomb(levels: int, indent: str = "") -> str:
    lines = [f"{indent}x0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"{indent}x{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]"
              for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def _qdc(codes_xml: str, sets_xml: str = "") -> str:
    return (f'<?xml version="1.0" encoding="utf-8"?><CodeBook xmlns="{NS}"><Codes>{codes_xml}'
            f"</Codes>{sets_xml}</CodeBook>")


def _description(block: str) -> str:
    text = "--- slr-toolkit ---\n" + block
    return text.replace("&", "&amp;").replace("<", "&lt;")


def _write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


# --- 8. alias bombs ------------------------------------------------------------------------

def test_yaml_alias_bomb_in_a_codebook_is_refused_with_a_short_message(tmp_path: Path) -> None:
    path = _write(tmp_path, "bomb.yaml",
                  "name: x\nversion: '1'\n" + _bomb(9) + "round: *a8\ncodes: [{id: a, label: A}]\n")
    with pytest.raises(CodebookError, match="alias bomb") as info:
        load_codebook(path)
    assert len(str(info.value)) < 400


def test_yaml_alias_bomb_in_a_qdc_description_is_refused(tmp_path: Path) -> None:
    desc = _description(_bomb(9) + "definition: *a8\n")
    path = _write(tmp_path, "bomb.qdc", _qdc(
        f'<Code guid="1" name="a" isCodable="true"><Description>{desc}</Description></Code>'))
    with pytest.raises(CodebookError, match="alias bomb"):
        read_qdc(path)


def test_recursive_aliases_and_deep_nesting_are_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "loop.yaml", HEAD + "- &c {id: a, label: A, examples: [*c]}\n")
    with pytest.raises(CodebookError, match="refer to themselves"):
        load_codebook(path)
    path = _write(tmp_path, "deep.yaml", HEAD + "- {id: a, label: A, examples: "
                  + "[" * 5000 + "]" * 5000 + "}\n")
    with pytest.raises(CodebookError, match="nested more than 100 levels"):
        load_codebook(path)


def test_a_moderate_alias_value_never_reaches_a_message_in_full(tmp_path: Path) -> None:
    path = _write(tmp_path, "mid.yaml", "name: x\nversion: '1'\n" + _bomb(5)
                  + "round: *a4\ncodes:\n- {id: a, label: A, color: *a4, introduced_in: *a4}\n")
    with pytest.raises(CodebookError) as info:
        load_codebook(path)
    assert all(len(problem) < 300 for problem in info.value.problems)
    assert "round is [[" in str(info.value)


# --- 7. ReDoS --------------------------------------------------------------------------------

def test_a_catastrophic_regex_runs_in_linear_time(tmp_path: Path) -> None:
    book = codebook_from_dict({"name": "x", "version": "1", "round": 1, "codes": [
        {"id": "a", "label": "A", "patterns": {"regex": ["(a+)+$", "(x|x)*y", "(\\w+\\s?)*!!"]}}]})
    segments = pd.DataFrame({"segment_id": ["s1", "s2"],
                             "text": ["a" * 5000 + "!", "x" * 5000 + " " + "word " * 2000 + "!"]})
    # Python's re would need ~2**5000 steps on either text; RE2 answers at once.
    coded = RuleCoder(book).fit().transform(segments)
    assert coded["code_id"].isna().all()


def test_regex_constructs_re2_lacks_are_explained(tmp_path: Path) -> None:
    path = _write(tmp_path, "look.yaml", HEAD + "- id: a\n  label: A\n  patterns:\n"
                  "    regex: ['fee(?=s)', '(a)\\1', 'x\\Z', 'fee(s']\n")
    with pytest.raises(CodebookError) as info:
        load_codebook(path)
    message = str(info.value)
    assert "look-around" in message and "back-references" in message
    assert "write \\z" in message and "missing ): fee(s" in message


def test_a_codebook_built_in_memory_with_a_bad_regex_fails_at_fit() -> None:
    code = Code(id="a", label="A")
    code = Code(id="a", label="A", patterns=type(code.patterns)(regex=("fee(?<=s)",)))
    with pytest.raises(CodingError, match="look-around"):
        RuleCoder(Codebook("x", "1", 1, (code,))).fit()


def test_a_long_glob_is_checked_in_linear_time(tmp_path: Path) -> None:
    # The old check was a regex with three adjacent [\w'-]* (cubic: 2,000 letters took 25 s).
    glob = "a" * 20000 + "!*"
    path = _write(tmp_path, "glob.yaml", HEAD + f"- id: a\n  label: A\n  patterns:\n"
                  f"    globs: ['{glob}', 'credential*', '*skill*ing', 'a***']\n")
    with pytest.raises(CodebookError) as info:
        load_codebook(path)
    assert len(info.value.problems) == 2  # the long one and 'a***'


# --- 10. hierarchy checks are linear ---------------------------------------------------------

def test_a_long_cycle_is_reported_once_with_a_bounded_message(tmp_path: Path) -> None:
    n = 3000
    codes = "".join(f"- id: c{i}\n  label: C{i}\n  parent: c{(i - 1) % n}\n" for i in range(n))
    with pytest.raises(CodebookError) as info:
        load_codebook(_write(tmp_path, "cycle.yaml", HEAD + codes))
    assert len(info.value.problems) == 1  # the old check reported it once per member (n**2)
    assert "parent cycle c0 -> c2999 -> c2998" in info.value.problems[0]
    assert f"({n - 8} more)" in info.value.problems[0] and len(str(info.value)) < 400


def test_a_too_deep_chain_is_one_problem_and_a_deep_allowed_one_works(tmp_path: Path) -> None:
    def chain(n: int) -> str:
        return HEAD + "".join(f"- id: c{i}\n  label: C{i}\n"
                              + (f"  parent: c{i - 1}\n" if i else "") for i in range(n))

    with pytest.raises(CodebookError) as info:
        load_codebook(_write(tmp_path, "deep.yaml", chain(3000)))
    assert info.value.problems == (f"codes[2999] (id 'c2999'): 2999 levels below its theme; "
                                   f"at most {MAX_CODE_DEPTH} are allowed (flatten the "
                                   "hierarchy)",)
    book = load_codebook(_write(tmp_path, "ok.yaml", chain(MAX_CODE_DEPTH + 1)))
    assert book.to_frame()["depth"].max() == MAX_CODE_DEPTH
    assert len(book.descendants("c0")) == MAX_CODE_DEPTH
    assert book.theme_of(f"c{MAX_CODE_DEPTH}") == "c0"
    exported = export_qdc(book, tmp_path / "deep.qdc")  # ElementTree serialises it too
    assert read_qdc(exported) == book


def test_a_cycle_in_a_codebook_built_in_memory_does_not_loop() -> None:
    book = Codebook("x", "1", 1, (Code("a", "A", parent="b"), Code("b", "B", parent="a")))
    assert book.ancestors("a") == ("b", "a")
    assert book.descendants("a") == ("b",)


# --- 17. crashes that are now messages -------------------------------------------------------

@pytest.mark.parametrize(("data", "message"), [
    pytest.param((HEAD + "- id: a\n  label: Caf\xe9\n").encode("cp1252"),
                 r"line 6, column 13: byte 0xe9 is not UTF-8", id="cp1252"),
    pytest.param((HEAD + "- id: a\n  label: A\n").encode("utf-16-le"), "NUL bytes",
                 id="utf16-without-bom"),
    pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00", "NUL bytes", id="binary"),
    pytest.param(HEAD + "- id: a\n  label: A\n  parent: [x]\n", r"parent is \['x'\]",
                 id="parent-list"),
    pytest.param(HEAD + "- id: a\n  label: A\n  parent: {x: 1}\n", r"parent is \{'x': 1\}",
                 id="parent-mapping"),
    pytest.param("name: [x]\nversion: {a: 1}\nround: 1\ncodes: [{id: a, label: A}]\n",
                 r"name is \['x'\]; it must be a short text", id="name-list"),
    pytest.param("\x07bell", "character U\\+0007 at position 0 is not allowed",
                 id="control-character"),
])
def test_broken_codebook_files_are_one_codebook_error(tmp_path: Path, data: str | bytes,
                                                      message: str) -> None:
    with pytest.raises(CodebookError, match=message):
        load_codebook(_write(tmp_path, "book.yaml", data))


def test_utf16_and_utf8_bom_codebooks_load(tmp_path: Path) -> None:
    text = HEAD + "- id: a\n  label: Café\n"
    for encoding in ("utf-16", "utf-8-sig", "utf-32"):
        book = load_codebook(_write(tmp_path, f"{encoding}.yaml", text.encode(encoding)))
        assert book["a"].label == "Café"


def test_a_folder_given_as_codebook(tmp_path: Path) -> None:
    for reader in (load_codebook, read_qdc, read_qdpx_codes):
        with pytest.raises(CodebookError, match="is a folder"):
            reader(tmp_path)


@pytest.mark.parametrize(("xml", "message"), [
    pytest.param(_qdc(""), "no codes", id="empty-codes"),
    pytest.param(_qdc('<Code guid="1" name="a" isCodable="true"/>',
                      '<Sets><Set guid="2" name="slr-toolkit codebook"><Description>'
                      + _description("round: abc") + "</Description></Set></Sets>"),
                 "round is 'abc'", id="round-abc"),
    pytest.param(_qdc('<Code guid="1" name="a" isCodable="true"><Description>'
                      + _description("id: [x]") + "</Description></Code>"),
                 r"id is \['x'\]; it must be text", id="id-list"),
    pytest.param(_qdc('<Code guid="1" name="a" isCodable="true"><Description>'
                      + _description("introduced_in: abc") + "</Description></Code>"),
                 "introduced_in 'abc' must be a round number", id="introduced-abc"),
    pytest.param(_qdc('<Code guid="1" name="a" isCodable="true"><Description>'
                      + _description(": [x\n") + "</Description></Code>"),
                 "not valid YAML at line 2", id="bad-yaml-block"),
    pytest.param(_qdc("".join(f'<Code guid="{i}" name="c{i}" isCodable="true">'
                              for i in range(5000)) + "</Code>" * 5000),
                 "nested more than 100 levels", id="5000-nested"),
])
def test_broken_qdc_files_are_one_codebook_error(tmp_path: Path, xml: str, message: str) -> None:
    with pytest.raises(CodebookError, match=message):
        read_qdc(_write(tmp_path, "book.qdc", xml))
    with zipfile.ZipFile(tmp_path / "p.qdpx", "w") as archive:
        archive.writestr("project.qde", xml.replace("CodeBook", "Project"))
    with pytest.raises(CodebookError):
        read_qdpx_codes(tmp_path / "p.qdpx")


def test_damaged_and_encrypted_qdpx_archives(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "crc.qdpx", "w") as archive:
        archive.writestr("project.qde", "<Project/>" * 100)
    data = bytearray((tmp_path / "crc.qdpx").read_bytes())
    data[data.find(b"<Project/>") + 1] = ord("Q")  # stored, so the byte is in the member
    (tmp_path / "crc.qdpx").write_bytes(bytes(data))
    with pytest.raises(CodebookError, match="Bad CRC-32.*export it again"):
        read_qdpx_codes(tmp_path / "crc.qdpx")
    with zipfile.ZipFile(tmp_path / "enc.qdpx", "w") as archive:
        archive.writestr("project.qde", "<Project/>")
    data = bytearray((tmp_path / "enc.qdpx").read_bytes())
    for header in (b"PK\x03\x04", b"PK\x01\x02"):  # set the 'encrypted' flag bit
        at = data.find(header)
        flag_at = at + (6 if header == b"PK\x03\x04" else 8)
        data[flag_at] |= 0x01
    (tmp_path / "enc.qdpx").write_bytes(bytes(data))
    with pytest.raises(CodebookError, match="encrypted"):
        read_qdpx_codes(tmp_path / "enc.qdpx")


def test_yaml_line_break_characters_survive_save_and_qdc(tmp_path: Path) -> None:
    # Found by the fuzz campaign: PyYAML wrote U+0085/U+2028/U+2029 raw and read them back
    # as spaces.
    from toolkit.codebook import save_codebook

    text = "one\x85two\u2028three\u2029four"
    book = codebook_from_dict({"name": "x", "version": "1", "round": 1, "codes": [
        {"id": "a", "label": "A", "exclude": text, "examples": [text]}]})
    assert load_codebook(save_codebook(book, tmp_path / "b.yaml"))["a"].exclude == text
    assert read_qdc(export_qdc(book, tmp_path / "b.qdc"))["a"].examples == (text,)
