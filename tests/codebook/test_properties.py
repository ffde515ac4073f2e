"""Properties of the codebook readers over generated and hostile inputs (hypothesis).

Whatever the input, ``load_codebook``, ``codebook_from_dict``, ``read_qdc`` and
``read_qdpx_codes`` either return a :class:`Codebook` or raise :class:`CodebookError`;
valid codebooks survive YAML and REFI-QDA round trips unchanged. Pathological inputs
(alias chains, deep nesting, catastrophic regexes, long globs) are generated on purpose:
a hang would stop the run. The ``ci`` profile (tests/conftest.py) keeps each property to
a few seconds; ``bench/fuzz_codebook.py`` runs the long campaign.
"""

from __future__ import annotations

import dataclasses
import io
import tempfile
import zipfile
from pathlib import Path

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.codebook import (
    Codebook,
    codebook_from_dict,
    codebook_to_dict,
    format_qdc,
    load_codebook,
    read_qdc,
    read_qdpx_codes,
    save_codebook,
)
from toolkit.coding import RuleCoder
from toolkit.errors import CodebookError

NASTY_REGEX = ["(a+)+$", "(a|a)*b", "(a|aa)+$", "(\\w+\\s?)*!", "(.*a){12}", "a{1000}{1000}",
               "(?=x)", "(a)\\1", "x\\Z", "[z-a]", "(", "\\", "a**", "(?i)cost", "fee[s]?"]
WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzé'-", min_size=1, max_size=10)
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
# What XML 1.0 can carry (export_qdc refuses the rest with a CodebookError).
XML_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc"),
                                          blacklist_characters="\ufffe\uffff"), max_size=40)
# Scalars as YAML gives them, plus nested junk.
JUNK = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
                    | TEXT, lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(TEXT, inner, max_size=3), max_leaves=8)


def _share(fraction: float) -> settings:
    """A fraction of the profile's examples, for the slower properties."""
    return settings(max_examples=max(5, int(settings().max_examples * fraction)))


def _tmp(data: bytes, suffix: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="slr-prop-"))
    path = folder / f"input{suffix}"
    path.write_bytes(data)
    return path


def _returns_or_codebook_error(reader: object, path: Path) -> Codebook | None:
    try:
        result = reader(path)  # type: ignore[operator]
    except CodebookError as err:
        assert str(err) and len(str(err)) < 200_000
        return None
    assert isinstance(result, Codebook)
    return result


@st.composite
def codebooks(draw: st.DrawFn, text: st.SearchStrategy[str] = TEXT) -> dict:
    """Valid codebook mappings: a forest of codes with every optional field."""
    TEXT = text  # noqa: N806 - the same name as the module's strategy, on purpose
    n = draw(st.integers(1, 12))
    ids: list[str] = []
    codes = []
    round_ = draw(st.integers(1, 4))
    for i in range(n):
        parent = draw(st.none() | st.sampled_from(ids)) if ids else None
        code_id = f"{parent}.c{i}" if parent else f"t{i}"
        ids.append(code_id)
        code: dict = {"id": code_id, "label": draw(TEXT.filter(lambda t: t.strip())).strip()}
        if parent:
            code["parent"] = parent
        for key in ("definition", "include", "exclude"):
            value = draw(st.none() | TEXT)
            if value and value.strip():
                code[key] = value.strip()
        examples = draw(st.lists(TEXT.filter(lambda t: t.strip()), max_size=2))
        if examples:
            code["examples"] = [e.strip() for e in examples]
        if draw(st.booleans()):
            code["color"] = "#" + draw(st.text("0123456789ABCDEF", min_size=6, max_size=6))
        code["introduced_in"] = draw(st.integers(1, round_))
        patterns = {}
        if draw(st.booleans()):
            patterns["phrases"] = draw(st.lists(WORDS, min_size=1, max_size=2))
        if draw(st.booleans()):
            patterns["globs"] = [draw(WORDS) + "*"]
        if draw(st.booleans()):
            patterns["regex"] = [draw(st.sampled_from(["(a+)+$", "(a|a)*b", "fee[s]?",
                                                        "(?i)cost", "\\bstack\\w+"]))]
        if patterns:
            code["patterns"] = patterns
        if draw(st.booleans()):
            code["codable"] = False
        codes.append(code)
    data = {"name": draw(TEXT.filter(lambda t: t.strip())).strip(),
            "version": draw(st.sampled_from(["1", "2.0", "draft"])), "round": round_,
            "codes": codes}
    if draw(st.booleans()):
        data["authors"] = [draw(TEXT.filter(lambda t: t.strip())).strip()]
    return data


@given(st.binary(max_size=2000))
def test_any_bytes_as_a_codebook_file(data: bytes) -> None:
    _returns_or_codebook_error(load_codebook, _tmp(data, ".yaml"))


@given(st.text(max_size=2000))
def test_any_text_as_a_codebook_file(text: str) -> None:
    _returns_or_codebook_error(load_codebook, _tmp(text.encode("utf-8", "surrogatepass"),
                                                   ".yaml"))


@given(codebooks(), st.dictionaries(st.sampled_from(
    ["name", "version", "round", "codes", "authors", "description", "extra"]), JUNK,
    max_size=3), st.lists(st.tuples(st.integers(0, 11), st.sampled_from(
        ["id", "label", "parent", "definition", "examples", "color", "introduced_in",
         "lineage", "patterns", "codable", "bogus"]), JUNK), max_size=4))
def test_junk_in_any_field_is_a_codebook_error(data: dict, top: dict, fields: list) -> None:
    data = {**data, **top}
    codes = data.get("codes")
    if isinstance(codes, list):
        for index, key, value in fields:
            if codes and isinstance(codes[index % len(codes)], dict):
                codes[index % len(codes)][key] = value
    try:
        codebook_from_dict(data)
    except CodebookError as err:
        assert all(len(p) < 2000 for p in err.problems)


@given(codebooks())
def test_yaml_round_trip_is_lossless(data: dict) -> None:
    book = codebook_from_dict(data)
    folder = Path(tempfile.mkdtemp(prefix="slr-prop-"))
    assert load_codebook(save_codebook(book, folder / "book.yaml")) == book
    assert codebook_from_dict(codebook_to_dict(book)) == book


def _tree_order(book: Codebook) -> Codebook:
    """The codebook with its codes in tree order, the only order XML nesting can keep."""
    return dataclasses.replace(book, codes=tuple(book.walk()))


@given(codebooks(XML_TEXT))
def test_qdc_round_trip_is_lossless(data: dict) -> None:
    book = codebook_from_dict(data)
    assert read_qdc(_tmp(format_qdc(book), ".qdc")) == _tree_order(book)


@given(codebooks())
def test_qdc_export_never_writes_what_it_cannot_read(data: dict) -> None:
    book = codebook_from_dict(data)
    try:
        exported = format_qdc(book)
    except CodebookError as err:
        assert "control character" in str(err)
        return
    assert read_qdc(_tmp(exported, ".qdc")) == _tree_order(book)


@given(codebooks(XML_TEXT), st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255),
                                       st.sampled_from(["flip", "insert", "delete"])),
                             min_size=1, max_size=8))
def test_mutated_qdc_files(data: dict, edits: list) -> None:
    raw = bytearray(format_qdc(codebook_from_dict(data)))
    for position, byte, kind in edits:
        at = position % max(len(raw), 1)
        if kind == "flip" and raw:
            raw[at] = byte
        elif kind == "insert":
            raw.insert(at, byte)
        elif raw:
            del raw[at]
    _returns_or_codebook_error(read_qdc, _tmp(bytes(raw), ".qdc"))


@st.composite
def alias_chains(draw: st.DrawFn) -> str:
    depth = draw(st.integers(1, 30))
    width = draw(st.integers(1, 12))
    lines = [f"x0: &a0 [{', '.join(['x'] * width)}]"]
    lines += [f"x{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, depth)]
    target = draw(st.sampled_from(["round", "name", "authors", "description"]))
    return ("version: '1'\ncodes: [{id: a, label: A}]\n" + "\n".join(lines)
            + f"\n{target}: *a{depth - 1}\n")


@given(alias_chains())
def test_alias_chains_never_expand(text: str) -> None:
    _returns_or_codebook_error(load_codebook, _tmp(text.encode(), ".yaml"))


@_share(0.3)
@given(st.integers(1, 1000), st.sampled_from(["[", "{a: ", "- "]))
def test_deep_nesting_is_refused_not_recursed(depth: int, opener: str) -> None:
    if opener == "- ":
        body = "".join("  " * i + "- \n" for i in range(depth))
    else:
        body = "x: " + opener * depth + ("]" if opener == "[" else "}") * depth
    _returns_or_codebook_error(load_codebook, _tmp(
        ("name: x\nversion: '1'\nround: 1\ncodes: [{id: a, label: A}]\n" + body).encode(),
        ".yaml"))


@_share(0.15)
@given(st.lists(st.sampled_from(NASTY_REGEX) | st.text(alphabet="a()|*+?{}[]\\.^$1", max_size=12),
                min_size=1, max_size=4),
       st.text(alphabet="aaab!x ", max_size=300))
def test_any_regex_is_refused_or_runs_in_linear_time(patterns: list, text: str) -> None:
    data = {"name": "x", "version": "1", "round": 1,
            "codes": [{"id": "a", "label": "A", "patterns": {"regex": patterns}}]}
    try:
        book = codebook_from_dict(data)
    except CodebookError:
        return
    coded = RuleCoder(book).fit().transform(pd.DataFrame({"segment_id": ["s"],
                                                          "text": [text + "a" * 2000 + "!"]}))
    assert set(coded["segment_id"]) == {"s"}


@given(st.integers(0, 5000), st.sampled_from(["a", "-", "é"]), st.sampled_from(["!*", "*", "**"]))
def test_long_globs_are_checked_quickly(length: int, letter: str, tail: str) -> None:
    data = {"name": "x", "version": "1", "round": 1,
            "codes": [{"id": "a", "label": "A", "patterns": {"globs": [letter * length + tail]}}]}
    try:
        codebook_from_dict(data)
    except CodebookError:
        pass


@st.composite
def qdc_trees(draw: st.DrawFn) -> bytes:
    """REFI-QDA XML of nested codes with arbitrary names, attributes and descriptions."""
    def code(level: int) -> str:
        name = draw(TEXT).replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
        attrs = f' guid="{draw(st.uuids())}" name="{name}"'
        attrs += draw(st.sampled_from(['', ' isCodable="true"', ' isCodable="false"',
                                       ' isCodable="maybe"', ' color="#ABC"', ' color="red"']))
        desc = draw(st.sampled_from(["", "A definition.", "--- slr-toolkit ---\nid: x\n",
                                     "--- slr-toolkit ---\nintroduced_in: 0\n",
                                     "--- slr-toolkit ---\n[unclosed\n",
                                     "--- slr-toolkit ---\nround: *nope\n",
                                     "--- slr-toolkit ---\nexamples: &e [a, *e]\n"]))
        children = "" if level > 4 else "".join(code(level + 1) for _ in range(
            draw(st.integers(0, 3 if level < 2 else 1))))
        return (f"<Code{attrs}><Description>{desc.replace('&', '&amp;')}</Description>"
                f"{children}</Code>")

    ns = draw(st.sampled_from(["urn:QDA-XML:codebook:1.0", "urn:QDA-XML:codebook:0:4",
                               "urn:other"]))
    body = "".join(code(0) for _ in range(draw(st.integers(0, 4))))
    return f'<?xml version="1.0"?><CodeBook xmlns="{ns}"><Codes>{body}</Codes></CodeBook>'.encode()


@given(qdc_trees())
def test_generated_qdc_trees(data: bytes) -> None:
    _returns_or_codebook_error(read_qdc, _tmp(data, ".qdc"))


@given(qdc_trees(), st.lists(st.sampled_from(["project.qde", "other.qde", "../x.qde",
                                              "/abs.qde", "C:/x.qde", "media/a.txt"]),
                             min_size=0, max_size=3), st.booleans())
def test_generated_qdpx_archives(tree: bytes, names: list, truncate: bool) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names or ["project.qde"]:
            archive.writestr(name, tree.replace(b"CodeBook", b"Project"))
    data = buffer.getvalue()
    if truncate:
        data = data[: len(data) // 2]
    _returns_or_codebook_error(read_qdpx_codes, _tmp(data, ".qdpx"))


@given(st.binary(max_size=1500))
def test_any_bytes_as_qdc_or_qdpx(data: bytes) -> None:
    _returns_or_codebook_error(read_qdc, _tmp(data, ".qdc"))
    _returns_or_codebook_error(read_qdpx_codes, _tmp(b"PK\x03\x04" + data, ".qdpx"))
