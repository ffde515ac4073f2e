"""Export tables: CSV, XLSX, LaTeX booktabs and Markdown, byte-identical on a rerun."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from toolkit._io import atomic_write_bytes, atomic_write_text
from toolkit._spreadsheet import deterministic_xlsx, frame_to_csv, frames_to_xlsx
from toolkit.errors import ToolkitError

__all__ = ["export_table", "to_markdown", "to_latex", "deterministic_xlsx", "FORMATS"]

#: File formats :func:`export_table` writes.
FORMATS = ("csv", "xlsx", "tex", "md")


def _frame(table: Any) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    if isinstance(table, pd.DataFrame):
        return table, None
    return table.wide, table.tidy


def _stable(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_float_dtype(out[column]):
            out[column] = out[column].round(6)
    return out


def to_markdown(frame: pd.DataFrame, *, digits: int = 3) -> str:
    """Render a GitHub-flavoured Markdown table (index included when it is named).

    Examples
    --------
    >>> print(to_markdown(pd.DataFrame({"a": [1.23456], "b": ["x|y"]})))
    | a | b |
    |---|---|
    | 1.235 | x\\|y |
    """
    data = frame.reset_index() if frame.index.name or isinstance(frame.index, pd.MultiIndex) \
        else frame

    def cell(value: Any) -> str:
        if isinstance(value, float):
            return "" if np.isnan(value) else f"{value:.{digits}f}"
        if value is None or value is pd.NA:
            return ""
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(str(c) for c in data.columns) + " |",
             "|" + "|".join("---" for _ in data.columns) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |"
              for row in data.itertuples(index=False)]
    return "\n".join(lines)


def to_latex(frame: pd.DataFrame, *, caption: str = "", label: str = "",
             digits: int = 3) -> str:
    r"""Render a booktabs LaTeX table (``\toprule``/``\midrule``/``\bottomrule``), escaped."""
    styler = frame.style.format(precision=digits, escape="latex", na_rep="")
    styler = styler.format_index(escape="latex", axis=0).format_index(escape="latex", axis=1)
    return styler.to_latex(hrules=True, caption=caption or None, label=label or None,
                           position_float="centering" if caption else None)


def export_table(table: Any, folder: str | Path, name: str | None = None, *,
                 formats: Sequence[str] = FORMATS, caption: str = "") -> list[Path]:
    """Write a table (a DataFrame or a triangulation table's wide view) in each format.

    For a triangulation table the tidy form is written too, as ``<name>_tidy.csv``.
    Floats are rounded to six decimals in CSV so that reruns are byte-identical. Text that
    a spreadsheet would run as a formula is neutralised (see :mod:`toolkit._spreadsheet`).

    Returns
    -------
    list of Path
        The files written, in the order of ``formats``.
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ToolkitError(f"export_table: unknown format(s) {unknown}; choose from {FORMATS}")
    wide, tidy = _frame(table)
    name = name or getattr(table, "name", None)
    if not name:
        raise ToolkitError("export_table: give the table a name")
    folder = Path(folder)
    keep_index = bool(wide.index.name) or isinstance(wide.index, pd.MultiIndex)
    paths = []
    for fmt in formats:
        path = folder / f"{name}.{fmt}"
        if fmt == "csv":
            atomic_write_text(path, frame_to_csv(_stable(wide), index=keep_index))
        elif fmt == "xlsx":
            sheets = [("table", wide, keep_index)]
            if tidy is not None:
                sheets.append(("tidy", tidy, False))
            atomic_write_bytes(path, deterministic_xlsx(frames_to_xlsx(sheets)))
        elif fmt == "tex":
            atomic_write_text(path, to_latex(wide, caption=caption,
                                             label=f"tab:{name}" if caption else ""))
        else:
            atomic_write_text(path, to_markdown(wide) + "\n")
        paths.append(path)
    if tidy is not None:
        path = folder / f"{name}_tidy.csv"
        atomic_write_text(path, frame_to_csv(_stable(tidy)))
        paths.append(path)
    return paths
