"""Nothing lost: every value of every record is in a column or in ``extra``.

The records the readers return are checked against an independent count of the files: a
few small parsers written here, apart from the readers (regular expressions for the tag
formats, brace matching for BibTeX, the csv module, ElementTree for EndNote XML). For
every record they find, the reader must have a record (or a failure) at the same line, and
every value of every tag or field must be findable in that record: its letters and digits
appear in the record's text (LaTeX commands and markup dropped on both sides, accents
folded), possibly split over a few fields (a DOI and the text around it, removed
boilerplate), or for dates, pages, DOIs and names each of its tokens does.
"""

from __future__ import annotations

import csv
import html
import re
import unicodedata
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pandas as pd
import pytest

from toolkit.corpus import detect_format, load_corpus
from toolkit.corpus.ris import RIS_ENTRY_TYPES

DATA = Path(__file__).resolve().parents[1] / "data" / "corpus"
OWN_FILES = ["wos_records.txt", "wos_missing_er.txt", "medline_records.nbib",
             "endnote_records.xml", "ris_many_values.ris", "ris_missing_ty.ris",
             "ris_after_header.txt", "scopus_bibtex.bib", "zotero.csv", "r_written.csv",
             "basic.ris", "late_tags.ris", "accents.bib", "scopus.csv", "wos_plain.txt",
             "wos_tab.txt", "generic_synonyms.csv", "crossref.bib", "strings_concat.bib"]
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_TOKEN = re.compile(r"[^\W_]+")
_DATE_TAGS = {"py", "y1", "da", "pd", "dp", "ea", "year", "date", "month",
              "publication year", "dates/year", "dates/pub-dates/date", "dep", "lr", "dcom"}
_DOI_TAGS = {"do", "di", "d2", "lid", "aid", "l3", "doi", "electronic-resource-num"}
_PAGE_TAGS = {"sp", "ep", "bp", "pg", "pages", "page start", "page end"}
_NAME_TAGS = {"author", "editor", "au", "a1", "af"}
_NOISE = {"doi", "http", "https", "dx", "org", "www", "and"}


# --------------------------------------------------------------------------- the counter

def _tagged(text: str, tag_line: str, start: str, end: str | None,
            indent: str) -> Iterator[tuple[int, list[tuple[str, str]]]]:
    """Records of a TAG-value format: (line of the start tag, [(tag, value), ...])."""
    line_re = re.compile(tag_line)
    record: list[tuple[str, str]] | None = None
    first = 0
    for number, line in enumerate(text.lstrip("\ufeff").split("\n"), start=1):
        match = line_re.match(line)
        if match and match.group(1).strip() == start:
            if record is not None:
                yield first, record
            record, first = [(start, match.group(2) or "")], number
        elif record is None:
            continue
        elif match and end is not None and match.group(1).strip() == end:
            yield first, record
            record = None
        elif end is None and not line.strip():
            yield first, record
            record = None
        elif match:
            record.append((match.group(1).strip(), match.group(2) or ""))
        elif line.startswith(indent) or end == "ER" and start == "TY":
            if record:
                tag, value = record[-1]
                record[-1] = (tag, f"{value} {line.strip()}")
    if record is not None:
        yield first, record


def _bibtex(text: str) -> Iterator[tuple[int, list[tuple[str, str]]]]:
    """Entries of a BibTeX file by brace matching: (line, [(field, braced value), ...])."""
    for match in re.finditer(r"^[ \t]*@[ \t]*(\w+)[ \t]*\{", text, re.M):
        if match.group(1).lower() in ("string", "comment", "preamble"):
            continue
        line = text.count("\n", 0, match.start()) + 1
        pos = text.find(",", match.end())
        if pos < 0:
            continue
        fields: list[tuple[str, str]] = []
        while True:
            field = re.compile(r"\s*([^\s=,{}\"#]+)\s*=\s*").match(text, pos + 1)
            if not field:
                break
            start = field.end()
            if start >= len(text) or text[start] not in "{\"":
                value = re.compile(r"[^,}]*").match(text, start)
                pos = value.end() if value else start
                if pos >= len(text) or text[pos] != ",":
                    break
                continue
            depth, index, quote = 0, start, text[start] == '"'
            while index < len(text):
                char = text[index]
                if char == "\\":
                    index += 2
                    continue
                if char == "{":
                    depth += 1
                elif char == "}":
                    depth -= 1
                    if depth == 0 and not quote:
                        break
                elif char == '"' and quote and depth == 0 and index > start:
                    break
                elif char == "@" and text[index - 1] == "\n":
                    index = len(text)
                    break
                index += 1
            if index >= len(text):
                break
            value = text[start + 1:index]
            after = re.compile(r"\s*(#)?").match(text, index + 1)
            if after and after.group(1):  # a concatenation: not checked here
                break
            fields.append((field.group(1), value))
            nxt = re.compile(r"\s*([,}])").match(text, index + 1)
            if not nxt or nxt.group(1) == "}":
                break
            pos = nxt.end() - 1
        yield line, fields


def _csv(text: str) -> Iterator[tuple[int, list[tuple[str, str]]]]:
    csv.field_size_limit(2**31 - 1)
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    delimiter = "\t" if "\t" in first else (";" if first.count(";") > first.count(",")
                                            else ",")
    reader = csv.reader(text.lstrip("\ufeff").split("\n"), delimiter=delimiter)
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        return
    previous = reader.line_num
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error:
            return
        start, previous = previous + 1, reader.line_num
        if len(row) == len(header) and any(c.strip() for c in row):
            yield start, [(h, c) for h, c in zip(header, row, strict=True)
                          if c.strip() and c.strip() not in ("NA", "N/A", "#N/A")]


def _endnote(text: str) -> Iterator[tuple[int, list[tuple[str, str]]]]:
    lines = [text.count("\n", 0, m.start()) + 1 for m in re.finditer(r"<record[\s>]", text)]
    root = ET.fromstring(re.sub(r"^\s*<\?xml[^>]*\?>", "", text).encode())
    for line, record in zip(lines, root.iter("record"), strict=False):
        fields = []
        for element in record.iter():
            if element.tag == "style" or any(c.tag != "style" for c in element):
                continue
            fields.append((element.tag, "".join(element.itertext())))
        yield line, fields


def count(path: Path, kind: str, text: str) -> list[tuple[int, list[tuple[str, str]]]]:
    if kind == "ris":
        return list(_tagged(text, r"^([A-Z][A-Z0-9])  -(?: (.*))?$", "TY", "ER", ""))
    if kind == "wos":
        return list(_tagged(text, r"^([A-Z][A-Z0-9])(?: (.*))?$", "PT", "ER", "   "))
    if kind == "medline":
        return list(_tagged(text, r"^([A-Z][A-Z0-9 ]{1,3})-(?: (.*))?$", "PMID", None, " "))
    if kind == "bibtex":
        return list(_bibtex(text))
    if kind == "endnote-xml":
        return list(_endnote(text))
    return list(_csv(text))


# --------------------------------------------------------------------------- the check

_LETTERS = {"ss": "ss", "o": "o", "O": "o", "ae": "ae", "AE": "ae", "oe": "oe", "OE": "oe",
            "aa": "a", "AA": "a", "l": "l", "L": "l", "i": "i", "j": "j"}
_FOLD = str.maketrans({"ß": "ss", "ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "ı": "i",
                       "ȷ": "j", "đ": "d", "ð": "d", "þ": "th"})
_GREEK = re.compile(r"[\u0370-\u03ff]")


def _plain(text: str, latex: bool) -> str:
    """Text reduced to what both sides must share: LaTeX letters spelled out, command names
    and Greek letters (math is kept verbatim by the reader) dropped, accents folded."""
    if latex:
        text = re.sub(r"\\(ss|ae|AE|oe|OE|aa|AA|[oOlLij])(?![A-Za-z])",
                      lambda m: _LETTERS[m.group(1)], text)
        text = re.sub(r"\\[hv]space\*?\{[^{}]*\}", " ", text)  # a length, not text
        text = re.sub(r"\\((?:La)?TeX|BibTeX)(?![A-Za-z])", r"\1", text)  # logos are words
        text = re.sub(r"\{?\\backslash\}?", "\\\\", text)
        text = re.sub(r"\\([&#%$_{}])", r"\1", text)
    text = re.sub(r"\\[A-Za-z]+", " ", text)
    text = html.unescape(re.sub(r"</?[A-Za-z][^<>]*>", "", text))
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return _GREEK.sub("", text.translate(_FOLD))


def _norm(text: str, latex: bool = False) -> str:
    return "".join(_TOKEN.findall(_plain(text, latex)))


def _decoded(text: str, latex: bool) -> str:
    return _plain(text, latex)


def _in_pieces(wanted: str, text: str, most: int = 4, shortest: int = 8) -> bool:
    """Whether ``wanted`` is the concatenation of at most ``most`` pieces of ``text``.

    A reader may split one value over several fields (keywords, removed boilerplate,
    a DOI and the text around it); each piece must still be in the record, and be at
    least ``shortest`` characters long (except the last), so that scraps do not count.
    """
    pos = 0
    for _ in range(most):
        low, high = 0, len(wanted) - pos
        while low < high:  # longest prefix of the rest found in the text
            middle = (low + high + 1) // 2
            if wanted[pos:pos + middle] in text:
                low = middle
            else:
                high = middle - 1
        if low == 0 or (low < shortest and pos + low < len(wanted)):
            return False
        pos += low
        if pos >= len(wanted):
            return True
    return False


def _record_text(record: dict) -> str:
    parts = []
    for column, value in record.items():
        if column in ("source_file", "source_line"):
            continue
        if isinstance(value, tuple):  # authors, keywords: strings; extra: (name, value)
            parts.extend(v if isinstance(v, str) else v[1] for v in value)
        elif value is not None and value is not pd.NA:
            parts.append(str(value))
    return _norm(" ".join(parts))


def _found(tag: str, value: str, record: dict, text: str, latex: bool) -> bool:
    low = tag.lower()
    if tag in ("TY",):
        return (RIS_ENTRY_TYPES.get(value.strip().upper(), "misc") == record["entry_type"]
                or ("ris_ty", value.strip().upper()) in record["extra"])
    if low in _DOI_TAGS:
        value = unquote(value)
    wanted = _norm(value, latex)
    if not wanted or wanted in text or (len(wanted) >= 24 and _in_pieces(wanted, text)):
        return True
    if re.search(r"[;,]", value) and all(  # a list: identical items may be kept once
            not _norm(p, latex) or _norm(p, latex) in text for p in re.split(r"[;,]", value)):
        return True
    tokens = [_norm(t) for t in _TOKEN.findall(_decoded(value, latex))]
    month = record.get("month")
    for token in tokens:
        token = token.casefold()
        if not token or token in text or token in _NOISE:
            continue
        if low in _DATE_TAGS:
            if month is not None and month is not pd.NA and (
                    token[:3] in MONTHS and MONTHS.index(token[:3]) + 1 == month
                    or token.isdigit() and int(token) == month):
                continue
        if low in _PAGE_TAGS and token.isdigit():
            pages = str(record.get("pages") or "")
            if token in _norm(pages):
                continue
        return False
    return low in _DATE_TAGS | _DOI_TAGS | _PAGE_TAGS | _NAME_TAGS


def check(path: Path, result, kind: str, text: str) -> list[str]:
    """Problems found in one file (an empty list when nothing is lost)."""
    problems = []
    records = {(Path(r["source_file"]).resolve(), r["source_line"]): r
               for r in result.records.to_dict("records")}
    failed = {(Path(f.source_file).resolve(), f.line) for f in result.failures}
    latex = kind == "bibtex"
    for line, fields in count(path, kind, text):
        key = (path.resolve(), line)
        if key in failed:
            continue
        record = records.get(key)
        if record is None:
            problems.append(f"{path.name}:{line}: no record and no failure")
            continue
        record_text = _record_text(record)
        for tag, value in fields:
            if value.strip() and not _found(tag, value, record, record_text, latex):
                problems.append(f"{path.name}:{line}: {tag} = {value[:80]!r} not in the record")
    return problems


def _load(path: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # cp1252 fallbacks are tested elsewhere
        return load_corpus(path)


def _text(path: Path, result) -> str:
    from toolkit.corpus._text import read_text

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return read_text(path).text


@pytest.mark.parametrize("name", OWN_FILES)
def test_own_fixtures_lose_nothing(name: str) -> None:
    path = DATA / name
    kind, _ = detect_format(path)
    result = _load(path)
    assert count(path, kind, _text(path, result)), "the counter found no record"
    assert check(path, result, kind, _text(path, result)) == []


def _shared_files(shared: Path) -> Iterator[tuple[Path, str]]:
    for path in sorted((shared / "messy").rglob("*")):
        if not path.is_file():
            continue
        kind, _ = detect_format(path)
        if kind is not None:
            yield path, kind


def test_every_shared_messy_file_loses_nothing(shared_data: Path) -> None:
    checked = problems = 0
    found: list[str] = []
    together = shared_data / "messy" / "bibtex" / "iridia_ulb_references"
    results = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        both = load_corpus(together)
    for path, kind in _shared_files(shared_data):
        result = both if path.parent == together else results.setdefault(path, _load(path))
        found.extend(check(path, result, kind, _text(path, result)))
        checked += 1
        for row in result.blocks.itertuples():  # and every block is accounted for
            assert row.blocks == row.records + row.failures + row.other, row
        assert result.records["record_id"].is_unique
    problems = len(found)
    assert checked > 150
    assert found == [], f"{problems} value(s) lost, e.g. {found[:10]}"


@pytest.mark.parametrize(("name", "drop"), [
    pytest.param("ris_many_values.ris", ("issn", "2345-6789"), id="second-issn"),
    pytest.param("wos_records.txt", ("wos_pa", "1 TEST STREET, TESTVILLE, TESTLAND"),
                 id="wos-tag"),
    pytest.param("medline_records.nbib", ("affiliation",
                 "Centre for Skills, Test Institute, Testburg, Testland."), id="second-ad"),
])
def test_the_check_sees_a_dropped_value(name: str, drop: tuple[str, str]) -> None:
    path = DATA / name
    kind, _ = detect_format(path)
    result = _load(path)
    records = result.records.copy()
    records.at[0, "extra"] = tuple(e for e in records.at[0, "extra"] if e != drop)
    assert records.at[0, "extra"] != result.records.at[0, "extra"]
    damaged = type(result)(records, result.failures, result.warnings, result.blocks)
    assert len(check(path, damaged, kind, _text(path, result))) == 1
