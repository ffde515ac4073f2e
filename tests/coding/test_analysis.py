"""Code frequencies, co-occurrence and quotes on a small coding worked out by hand.

Segments:  s1 (doc d1, cites w1)  s2 (d1, w2)  s3 (d2, w1 w3)  s4 (d2, w3)
Codes:     s1 cost.fees, access   s2 cost   s3 cost.fees, access.online   s4 (none)
Works:     w1 academic 2020, w2 industry 2021, w3 policy 2021
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd
import pytest

from toolkit import report
from toolkit.codebook import Code, Codebook
from toolkit.coding import (
    compute_code_frequencies,
    compute_cooccurrence,
    compute_quotes,
    make_codings,
)
from toolkit.corpus import records_frame
from toolkit.errors import CodingError, ToolkitError

BOOK = Codebook("t", "1", 1, (
    Code("cost", "Cost"), Code("cost.fees", "Fees", parent="cost"), Code("access", "Access"),
    Code("access.online", "Online", parent="access"), Code("time", "Time")))
SEGMENTS = pd.DataFrame({"segment_id": ["s1", "s2", "s3", "s4"],
                         "document_id": ["d1", "d1", "d2", "d2"],
                         "text": ["Fees are =high for online courses.", "It costs.",
                                  "<b>Fees</b> and online access.", "Nothing."],
                         "section": ["1", "1", "2", "2"],
                         "cited_keys": [("w1",), ("w2",), ("w1", "w3"), ("w3",)]})
RECORDS = records_frame([
    {"record_id": "w1", "year": 2020, "source_group": "academic",
     "authors": ("Ahsan, K.", "Lee, J.", "Kim, S.")},
    {"record_id": "w2", "year": 2021, "source_group": "industry", "authors": ("Oliver, B.",)},
    {"record_id": "w3", "year": 2021, "source_group": "policy",
     "authors": ("Ng, A.", "Roy, P.")}])
CODINGS = make_codings([
    {"segment_id": s, "code_id": c, "coder": "ann", "round": 1, "method": "human",
     "memo": "=fees?" if s == "s1" else None}
    for s, c in [("s1", "cost.fees"), ("s1", "access"), ("s2", "cost"), ("s3", "cost.fees"),
                 ("s3", "access.online"), ("s4", None)]])


def test_frequencies_per_code_and_theme() -> None:
    codes = compute_code_frequencies(CODINGS, BOOK, segments=SEGMENTS).set_index("code_id")
    assert codes["segments"].to_dict() == {"cost": 1, "cost.fees": 2, "access": 1,
                                           "access.online": 1, "time": 0}
    assert codes.loc["cost.fees", ["documents", "works"]].tolist() == [2, 2]
    themes = compute_code_frequencies(CODINGS, BOOK, segments=SEGMENTS, level="theme")
    assert themes.set_index("code_id")["segments"].to_dict() == {"cost": 3, "access": 2,
                                                                 "time": 0}
    assert themes.set_index("code_id").loc["cost", "works"] == 3


@pytest.mark.parametrize(("by", "expected"), [
    ("document_id", {"cost": [2, 1, 3], "access": [1, 1, 2], "time": [0, 0, 0]}),
    ("source_group", {"cost": [2, 1, 1, 3], "access": [2, 0, 1, 2], "time": [0, 0, 0, 0]}),
    ("year", {"cost": [2, 2, 3], "access": [2, 1, 2], "time": [0, 0, 0]}),
])
def test_frequencies_by_group(by: str, expected: dict[str, list[int]]) -> None:
    table = compute_code_frequencies(CODINGS, BOOK, segments=SEGMENTS, records=RECORDS,
                                     level="theme", by=by)
    assert {k: v.tolist() for k, v in table.iterrows()} == expected
    assert table.columns[-1] == "total" and table.columns.name == by


def test_cooccurrence_counts_and_jaccard() -> None:
    counts = compute_cooccurrence(CODINGS, BOOK)
    assert list(counts.index) == ["cost", "cost.fees", "access", "access.online"]  # time unused
    assert counts.loc["cost.fees", "access"] == 1 and counts.loc["cost.fees", "cost.fees"] == 2
    themes = compute_cooccurrence(CODINGS, BOOK, level="theme", measure="jaccard")
    # cost: s1 s2 s3; access: s1 s3 -> both 2, either 3
    assert themes.loc["cost", "access"] == pytest.approx(2 / 3)
    assert (themes.to_numpy() == themes.to_numpy().T).all()
    ax = report.plot_cooccurrence(themes, title="Themes")
    assert ax.get_title() == "Themes"


def test_one_coding_at_a_time() -> None:
    two = make_codings(pd.concat([CODINGS, CODINGS.assign(coder="bob")]))
    for call in (compute_cooccurrence, compute_code_frequencies):
        with pytest.raises(CodingError, match="more than one coder"):
            call(two, BOOK)
    with pytest.raises(CodingError, match="not in codebook"):
        compute_cooccurrence(CODINGS.assign(code_id="nope"), BOOK)


def test_quotes_and_their_files(tmp_path: Path) -> None:
    quotes = compute_quotes(CODINGS, SEGMENTS, BOOK, records=RECORDS)
    assert quotes[["code_id", "segment_id"]].values.tolist() == [
        ["cost", "s2"], ["cost.fees", "s1"], ["cost.fees", "s3"], ["access", "s1"],
        ["access.online", "s3"]]
    first = quotes.iloc[1]
    assert first["source"] == "Ahsan et al. (2020)" and first["location"] == "section 1"
    assert quotes.iloc[2]["source"] == "Ahsan et al. (2020); Ng & Roy (2021)"
    assert first["memo"] == "=fees?"
    themes = compute_quotes(CODINGS, SEGMENTS, BOOK, level="theme")
    assert themes[themes["theme"] == "cost"]["segment_id"].tolist() == ["s1", "s2", "s3"]
    spans = make_codings([{"segment_id": "s1", "code_id": "cost.fees", "coder": "rules",
                           "round": 1, "method": "rules", "start": 0, "end": 4}])
    assert compute_quotes(spans, SEGMENTS, BOOK)["quote"].tolist() == ["Fees"]

    markdown = report.export_quotes(quotes, tmp_path / "q.md", title="Costs & access")
    text = markdown.read_text()
    assert "## Cost (cost)" in text and "### Fees (cost.fees)" in text
    assert "> &lt;b&gt;Fees&lt;/b&gt; and online access." in text  # shown, not run as HTML
    workbook = report.export_quotes(quotes, tmp_path / "q.xlsx")
    read = pd.read_excel(workbook, sheet_name="quotes", dtype=str)
    assert read["quote"].tolist() == quotes["quote"].tolist()
    word = report.export_quotes(quotes, tmp_path / "q.docx")
    from docx import Document

    paragraphs = [(p.style.name, p.text) for p in Document(str(word)).paragraphs]
    assert ("Heading 1", "Cost (cost)") in paragraphs
    assert ("Quote", "Fees are =high for online courses.") in paragraphs
    again = report.export_quotes(quotes, tmp_path / "again.docx")
    assert again.read_bytes() == word.read_bytes()  # no timestamp inside
    assert {i.date_time for i in zipfile.ZipFile(word).infolist()} == {(1980, 1, 1, 0, 0, 0)}
    with pytest.raises(ToolkitError, match=".xlsx, .md or .docx"):
        report.export_quotes(quotes, tmp_path / "q.pdf")
