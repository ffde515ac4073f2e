"""The fast splitter gives exactly bibtexparser's blocks."""

from __future__ import annotations

import logging
from pathlib import Path

from hypothesis import given, settings

from toolkit._log import quiet_logger
from toolkit.corpus._fastsplit import split_blocks
from toolkit.corpus._text import read_text

from .test_properties import bibtex_texts


def _describe(block) -> tuple:
    inner = getattr(block, "ignore_error_block", None)
    entry = inner if inner is not None else block
    error = getattr(block, "error", None)
    return (type(block).__name__, block.start_line, getattr(entry, "entry_type", None),
            getattr(entry, "key", None),
            [(f.key, f.value, f.start_line) for f in getattr(entry, "fields", [])],
            block.raw, getattr(error, "abort_reason", None),
            sorted(getattr(block, "duplicate_keys", None) or []),
            getattr(block, "comment", None), getattr(block, "value", None))


def _reference(text: str) -> list[tuple]:
    from bibtexparser.splitter import Splitter

    with quiet_logger("bibtexparser", logging.CRITICAL):
        blocks = Splitter(text).split().blocks
    out = []
    for block in blocks:  # the library wraps repeated keys; unwrap as the reader does
        if type(block).__name__ == "DuplicateBlockKeyBlock":
            block = block.ignore_error_block
        out.append(_describe(block))
    return out


def _same(text: str) -> None:
    assert [_describe(b) for b in split_blocks(text)] == _reference(text)


def test_every_real_bibtex_file(shared_data: Path) -> None:
    files = sorted((shared_data / "messy" / "bibtex").rglob("*.bib"))
    assert len(files) > 100
    for path in files:
        _same(read_text(path).text)


def test_own_fixtures(corpus_data: Path) -> None:
    for path in sorted(corpus_data.glob("*.bib")):
        _same(read_text(path).text)


@settings(max_examples=300)
@given(text=bibtex_texts())
def test_generated_text(text: str) -> None:
    _same(text)


def test_tricky_pieces() -> None:
    for text in [
        '@article{a, title = "x {"} y", year=1}\n',
        "@article{a, title={x}\n  year={2020}}\n",
        "@article{a,\n  title = {unclosed\n@book{b, title={B}}\n",
        "@article{a, url = {x\\}y}, note={\\\\}}\n",
        "@article{a, title={T}} trailing @misc{b, title={B}}\n",
        "  @article{a, title={T}},\n\n  % comment\n@book(b, title={B})\n",
        "@article{a, title={T}, title={U}}\n",
        "@article{\n  spaced key ,\n title = {T}}\n",
        "@article{a, title = {T} # x # \"y\", }\n",
        "@article{a, title = a@b{c}}\n",
        "text before\n\u00a0@article{a, title={T}}\n",
    ]:
        _same(text)


def test_a_backslash_before_a_newline_is_split_in_one_pass() -> None:
    # bibtexparser does not count such a newline as a line; cut into pieces, the entry
    # after it was read twice (found by test_generated_text)
    for text in ["\\\n@article{a,,\n  }", "x \\\ny\n@book{b, title={B}}\n",
                 "@article{a, title={x \\\n y}}\n@book{b, title={B}}\n"]:
        _same(text)
    from toolkit.corpus import parse_bibtex_string

    records = parse_bibtex_string("x \\\ny\n@book{b, title={B}}\n").records
    assert records["record_id"].tolist() == ["b"]
