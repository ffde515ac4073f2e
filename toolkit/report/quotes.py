"""Quotes per code or theme for writing up: XLSX, Markdown and a Word document."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from toolkit._io import atomic_write_bytes, atomic_write_text
from toolkit._spreadsheet import deterministic_xlsx, frames_to_xlsx
from toolkit.errors import ToolkitError

__all__ = ["export_quotes"]


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _xml_text(value: Any) -> str:
    return "" if value is None or value is pd.NA or (isinstance(value, float) and
                                                     np.isnan(value)) \
        else _NOT_XML.sub("\ufffd", str(value))


def _quote_groups(quotes: pd.DataFrame) -> list[tuple[str, str, pd.DataFrame]]:
    """(heading level-1 title, level-2 title, rows) in the table's order."""
    out = []
    for (theme, code), rows in quotes.groupby(["theme", "code_id"], sort=False):
        theme_label = rows["theme_label"].iloc[0]
        label = rows["label"].iloc[0]
        out.append((f"{theme_label} ({theme})", f"{label} ({code})", rows))
    return out


def _quotes_markdown(quotes: pd.DataFrame, title: str) -> str:
    def safe(value: Any) -> str:  # text from records: shown, never run as HTML
        return _xml_text(value).replace("<", "&lt;").replace(">", "&gt;").replace("\n", " ")

    lines = [f"# {safe(title)}", ""]
    current = None
    for theme, code, rows in _quote_groups(quotes):
        if theme != current:
            lines += [f"## {safe(theme)}", ""]
            current = theme
        if code != theme:
            lines += [f"### {safe(code)}", ""]
        for row in rows.itertuples(index=False):
            where = ", ".join(p for p in (safe(row.source), safe(row.location),
                                          safe(row.segment_id)) if p)
            lines += [f"> {safe(row.quote)}", ">", f"> — {where}", ""]
            if _xml_text(row.memo):
                lines += [f"*Memo:* {safe(row.memo)}", ""]
    return "\n".join(lines).rstrip() + "\n"


def _quotes_docx(quotes: pd.DataFrame, title: str) -> bytes:
    from docx import Document
    from docx.shared import Pt

    document = Document()
    document.core_properties.title = _xml_text(title)
    document.core_properties.author = "slr-toolkit"
    document.add_heading(_xml_text(title), level=0)
    current = None
    for theme, code, rows in _quote_groups(quotes):
        if theme != current:
            document.add_heading(_xml_text(theme), level=1)
            current = theme
        if code != theme:
            document.add_heading(_xml_text(code), level=2)
        for row in rows.itertuples(index=False):
            document.add_paragraph(_xml_text(row.quote), style="Quote")
            where = ", ".join(p for p in (_xml_text(row.source), _xml_text(row.location),
                                          _xml_text(row.segment_id)) if p)
            source = document.add_paragraph()
            run = source.add_run("— " + where)
            run.font.size = Pt(9)
            if _xml_text(row.memo):
                memo = document.add_paragraph()
                memo.add_run("Memo: ").italic = True
                memo.add_run(_xml_text(row.memo))
    buffer = io.BytesIO()
    document.save(buffer)
    return deterministic_xlsx(buffer.getvalue())  # same zip clean-up: no time inside


def export_quotes(quotes: pd.DataFrame, path: str | Path, *, title: str = "Quotes",
                  overwrite: bool = True) -> Path:
    """Write quotes (:func:`toolkit.coding.compute_quotes`) for writing up.

    ``.xlsx``: the table (one row per quote); ``.md``: headings per theme and code, each
    quote as a block quote followed by its source and location; ``.docx``: the same as a
    Word document (python-docx), quotes in Word's *Quote* style. Text from records is
    escaped in Markdown (no HTML runs), neutralised as spreadsheet formulas in XLSX, and
    characters XML cannot hold become U+FFFD in XLSX and Word. Files carry no timestamp,
    so a rerun writes the same bytes.

    Raises
    ------
    ToolkitError
        For another suffix, or a table without the quote columns.
    """
    path = Path(path)
    needed = {"theme", "theme_label", "code_id", "label", "segment_id", "location", "quote",
              "source", "memo"}
    missing = sorted(needed - set(quotes.columns))
    if missing:
        raise ToolkitError(f"export_quotes: the table lacks {missing}; build it with "
                           "toolkit.coding.compute_quotes")
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        data = deterministic_xlsx(frames_to_xlsx([("quotes", quotes, False)],
                                                 widths={"quotes": {"H": 90}}))
        return atomic_write_bytes(path, data, overwrite=overwrite)
    if suffix == ".md":
        return atomic_write_text(path, _quotes_markdown(quotes, title), overwrite=overwrite)
    if suffix == ".docx":
        return atomic_write_bytes(path, _quotes_docx(quotes, title), overwrite=overwrite)
    raise ToolkitError(f"{path}: quotes are written as .xlsx, .md or .docx")
