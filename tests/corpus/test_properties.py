"""Property-based tests over every corpus reader (hypothesis).

Whatever bytes a reader is given, it returns a result or raises one of the toolkit's own
errors (never a ``UnicodeDecodeError``, ``KeyError``, ``RecursionError``...), every block
of every file is accounted for (``records + failures + other == blocks``), failure and
warning lines are 1-based and inside the file, and no input hangs.

The inputs are drawn from grammars that look like each format (so that they get past the
first line), mixed with random text and bytes. CI runs the ``ci`` profile (about a minute
in all); ``bench/fuzz_corpus.py`` runs the same properties for longer.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit.corpus import load_corpus
from toolkit.errors import ToolkitError

settings.register_profile(
    "ci", max_examples=200, deadline=None, database=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.function_scoped_fixture])
settings.register_profile(
    "fuzz", max_examples=300, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.function_scoped_fixture])
settings.load_profile(os.environ.get("SLR_HYPOTHESIS_PROFILE", "ci"))

HANG_SECONDS = 20

# --------------------------------------------------------------------------- grammars

_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
_word = st.text(st.characters(min_codepoint=33, max_codepoint=0x24F,
                              blacklist_characters="{}\"#,=@"), min_size=1, max_size=12)
_latexish = st.lists(st.one_of(
    _word, st.sampled_from([r"{\"u}", r"\'{e}", r"{\c{c}}", r"{\O}", "$\\alpha$", "--", "~",
                            r"\textless", r"\cite{k}", "{", "}", r"\&", "%", "#", "\\",
                            r"\foo{bar}", "``", "''", " and ", "\n", "@", '"', "{\\"]),
    _text), max_size=12).map("".join)


@st.composite
def bibtex_texts(draw: st.DrawFn) -> str:
    pieces = []
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["entry", "entry", "entry", "string", "comment", "junk",
                                     "crossref"]))
        key = draw(st.sampled_from(["a", "b", "k", "", "a b", "é"]))
        if kind == "string":
            pieces.append(f"@string{{{key or 'm'} = {{{draw(_latexish)}}} # "
                          f"{draw(st.sampled_from(['m', 'a', 'jan', '{x}', '']))}}}")
        elif kind == "comment":
            pieces.append(f"@comment{{{draw(_latexish)}}}")
        elif kind == "junk":
            pieces.append(draw(_latexish))
        else:
            fields = []
            for _ in range(draw(st.integers(0, 5))):
                name = draw(st.sampled_from(["title", "author", "year", "month", "doi", "url",
                                             "journal", "abstract", "pages", "note x", "%a"]))
                value = draw(st.one_of(_latexish.map(lambda v: "{" + v + "}"),
                                       _latexish.map(lambda v: '"' + v + '"'),
                                       st.sampled_from(["2020", "jan", "m", "m # {x}",
                                                        "{unclosed", "}"])))
                fields.append(f"{name} = {value}")
            if kind == "crossref":
                fields.append(f"crossref = {{{draw(st.sampled_from(['a', 'b', 'k', 'zz']))}}}")
            sep = draw(st.sampled_from([",\n  ", ", ", "\n  ", ","]))
            close = draw(st.sampled_from(["}", "}", "", ")"]))
            pieces.append(f"@{draw(st.sampled_from(['article', 'book', 'misc', 'ARTICLE']))}"
                          f"{{{key},{sep}{sep.join(fields)}{close}")
    return "\n".join(pieces)


@st.composite
def tagged_texts(draw: st.DrawFn, tags: list[str], start: str, end: str | None,
                 line: str, indent: str) -> str:
    lines = []
    for _ in range(draw(st.integers(0, 25))):
        choice = draw(st.integers(0, 9))
        tag = draw(st.sampled_from(tags))
        if choice < 6:
            lines.append(line.format(tag=tag, value=draw(_text).replace("\n", " ")))
        elif choice == 6:
            lines.append(indent + draw(_text).replace("\n", " "))
        elif choice == 7:
            lines.append("")
        elif choice == 8:
            lines.append(line.format(tag=draw(st.sampled_from([start, end or start])),
                                     value=draw(st.sampled_from(["", "JOUR", "J", "1"]))))
        else:
            lines.append(draw(_text))
    return "\n".join(lines)


RIS = tagged_texts(["TY", "ER", "AU", "TI", "PY", "DA", "DO", "UR", "AB", "KW", "ID", "SN",
                    "N1", "L3", "XY", "A2", "SP", "EP"], "TY", "ER", "{tag}  - {value}", "")
WOS = tagged_texts(["PT", "ER", "AU", "AF", "TI", "PY", "PD", "DI", "AB", "DE", "CR", "C1",
                    "UT", "ZB", "FN", "EF", "BP", "EP"], "PT", "ER", "{tag} {value}", "   ")
MEDLINE = tagged_texts(["PMID", "TI  ", "AU  ", "FAU ", "DP  ", "LID ", "AID ", "AB  ",
                        "IS  ", "AD  ", "PG  ", "OT  "], "PMID", None, "{tag}- {value}",
                       "      ")


@st.composite
def csv_texts(draw: st.DrawFn) -> str:
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    header = draw(st.lists(st.sampled_from(["title", "Title", "authors", "Author", "year",
                                            "doi", "DOI", "abstract", "Abstract Note",
                                            "key", "Item Type", "Manual Tags", "x"]),
                           min_size=1, max_size=6))
    rows = [delimiter.join(header)]
    cell = st.one_of(_text, st.sampled_from(['"', '""', '"a,b"', "NA", '"open', "10.1/x"]))
    for _ in range(draw(st.integers(0, 8))):
        cells = draw(st.lists(cell, min_size=0, max_size=len(header) + 2))
        rows.append(delimiter.join(cells))
    return "\n".join(rows)


@st.composite
def endnote_texts(draw: st.DrawFn) -> str:
    records = []
    for _ in range(draw(st.integers(0, 4))):
        inner = "".join(
            f"<{tag}>{draw(st.sampled_from(['<style>', '', '&amp;', '<', ']]>']))}"
            f"{draw(_text)}</{tag}>"
            for tag in draw(st.lists(st.sampled_from([
                "titles><title", "title", "year", "authors", "author", "abstract",
                "electronic-resource-num", "custom1", "ref-type"]), max_size=5)))
        records.append(f"<record>{inner}</record>")
    tail = draw(st.sampled_from(["</records></xml>", "", "</records>", "<!DOCTYPE x>"]))
    return f"<?xml version=\"1.0\"?><xml><records>{''.join(records)}{tail}"


FORMATS = {
    ".bib": bibtex_texts(), ".ris": RIS, ".txt": WOS, ".nbib": MEDLINE, ".csv": csv_texts(),
    ".xml": endnote_texts(),
}
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-be", "utf-32", "cp1252", "latin-1"]


# --------------------------------------------------------------------------- the property

def check_load(path: Path) -> None:
    """Load ``path`` and check every property; raise AssertionError when one fails."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            result = load_corpus(path)
    except ToolkitError:
        return
    bound: dict[str, int] = {}  # lines in each file, counted from its bytes (an upper bound)
    for name in result.blocks["source_file"]:
        data = Path(name).read_bytes()
        bound[name] = data.count(b"\n") + data.count(b"\r") + 1
    for row in result.blocks.itertuples():
        assert row.blocks == row.records + row.failures + row.other, row
        assert row.records == (result.records["source_file"] == row.source_file).sum()
        assert row.failures == sum(f.source_file == row.source_file for f in result.failures)
    for failure in result.failures:
        assert failure.line is not None and 1 <= failure.line <= bound[failure.source_file], \
            failure
    for warning in result.warnings:
        assert warning.line is None or 1 <= warning.line <= bound[warning.source_file], warning
    for record in result.records[["source_file", "source_line"]].itertuples():
        assert 1 <= record.source_line <= bound[record.source_file], record
    assert result.records["record_id"].is_unique


def _write(tmp: Path, suffix: str, text: str, encoding: str) -> Path:
    path = tmp / f"input{suffix}"
    path.write_bytes(text.encode(encoding, errors="replace"))
    return path


@given(suffix=st.sampled_from(sorted(FORMATS)), data=st.data(),
       encoding=st.sampled_from(ENCODINGS))
def test_every_reader_on_format_like_text(tmp_path_factory, deadline, suffix: str, data,
                                          encoding: str) -> None:
    text = data.draw(FORMATS[suffix])
    path = _write(tmp_path_factory.mktemp("p"), suffix, text, encoding)
    with deadline(HANG_SECONDS):
        check_load(path)


@given(suffix=st.sampled_from([".bib", ".ris", ".txt", ".csv", ".xml", ".nbib", ".tsv"]),
       blob=st.binary(max_size=400))
def test_every_reader_on_random_bytes(tmp_path_factory, deadline, suffix: str,
                                      blob: bytes) -> None:
    path = tmp_path_factory.mktemp("b") / f"input{suffix}"
    path.write_bytes(blob)
    with deadline(HANG_SECONDS):
        check_load(path)


@settings(max_examples=int(settings.default.max_examples * 0.4))
@given(data=st.data())
def test_a_folder_of_several_formats(tmp_path_factory, deadline, data) -> None:
    folder = tmp_path_factory.mktemp("f")
    for index, suffix in enumerate(data.draw(st.lists(st.sampled_from(sorted(FORMATS)),
                                                      min_size=1, max_size=4))):
        (folder / f"f{index}{suffix}").write_text(data.draw(FORMATS[suffix]),
                                                  encoding="utf-8")
    with deadline(HANG_SECONDS):
        check_load(folder)
