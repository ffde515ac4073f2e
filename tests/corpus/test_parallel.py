"""Reading in several processes gives exactly what one pass gives."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from toolkit.corpus import parse_bibtex_string, parse_ris_string, parse_wos_string


def _same(one, two) -> None:
    pd.testing.assert_frame_equal(one.records, two.records)
    assert one.failures == two.failures
    assert one.warnings == two.warnings
    pd.testing.assert_frame_equal(one.blocks, two.blocks)
    assert one.generated_ids == two.generated_ids


def test_ris_in_pieces(corpus_data: Path) -> None:
    records = "".join((corpus_data / name).read_text(encoding="utf-8") + "\n"
                      for name in ("basic.ris", "ris_many_values.ris", "ris_missing_ty.ris",
                                   "late_tags.ris", "missing_last_er.ris"))
    text = "A header line\n\n" + records * 40
    _same(parse_ris_string(text, "x.ris"), parse_ris_string(text, "x.ris", workers=2))


def test_wos_in_pieces(corpus_data: Path) -> None:
    text = (corpus_data / "wos_records.txt").read_text(encoding="utf-8") * 30
    _same(parse_wos_string(text, "x.txt"), parse_wos_string(text, "x.txt", workers=2))


def test_bibtex_in_pieces(corpus_data: Path) -> None:
    parts = [(corpus_data / name).read_text(encoding="utf-8") for name in (
        "strings_concat.bib", "crossref.bib", "duplicate_keys.bib", "accents.bib",
        "unclosed_brace.bib", "scopus_bibtex.bib", "comments_and_stray.bib")]
    text = "\n".join(parts) * 25  # macros, crossrefs and repeated keys across the pieces
    _same(parse_bibtex_string(text, "x.bib"), parse_bibtex_string(text, "x.bib", workers=2))


def test_bibtex_piece_ending_in_an_open_entry() -> None:
    # every other entry never closes: some cut falls right after one of them
    text = "".join(f"@article{{k{i}, title={{T{i}}}, year={{20{i % 90:02d}}}}}\n"
                   f"@article{{open{i}, title={{never closed\n\n" for i in range(300))
    one, two = parse_bibtex_string(text, "x.bib"), parse_bibtex_string(text, "x.bib", workers=2)
    assert len(one.failures) == 300
    _same(one, two)
