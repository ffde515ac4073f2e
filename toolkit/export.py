"""Export tables (CSV, XLSX, LaTeX booktabs, Markdown) and draw triangulation figures."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from toolkit._io import atomic_write_bytes, atomic_write_text
from toolkit._spreadsheet import frame_to_csv, frames_to_xlsx
from toolkit.errors import ToolkitError

__all__ = ["export_table", "to_markdown", "to_latex", "plot_heatmap", "plot_status",
           "save_figure", "FORMATS"]

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


def deterministic_xlsx(data: bytes) -> bytes:
    """Rewrite an XLSX so that it carries no time: fixed zip dates, fixed document dates.

    Excel files otherwise embed the moment they were written, and two identical tables
    would differ byte for byte.
    """
    import re
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in sorted(source.infolist(), key=lambda i: i.filename):
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*",
                                 rb"\g<1>2000-01-01T00:00:00Z", content)
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(fixed, content)
    return buffer.getvalue()


def plot_heatmap(frame: pd.DataFrame, *, ax: Axes | None = None, title: str = "",
                 cmap: str = "Blues") -> Axes:
    """Heatmap of the numeric columns of a wide table, counts written in the cells."""
    import matplotlib.pyplot as plt

    numeric = frame.select_dtypes("number")
    if ax is None:
        _, ax = plt.subplots(figsize=(0.9 * len(numeric.columns) + 3, 0.45 * len(numeric) + 1.5))
    values = numeric.to_numpy(dtype=float)
    image = ax.imshow(values, cmap=cmap, aspect="auto")
    ax.set_xticks(range(len(numeric.columns)), [str(c) for c in numeric.columns], rotation=40,
                  ha="right")
    ax.set_yticks(range(len(numeric.index)), [str(i) for i in numeric.index])
    top = np.nanmax(values) if values.size else 0
    for (i, j), value in np.ndenumerate(values):
        ax.text(j, i, f"{value:g}", ha="center", va="center", fontsize=8,
                color="white" if top and value > 0.6 * top else "black")
    ax.figure.colorbar(image, ax=ax, fraction=0.035)
    ax.set_title(title)
    return ax


def plot_status(wide: pd.DataFrame, *, ax: Axes | None = None, title: str = "") -> Axes:
    """Stacked bars of works per source group for each theme, labelled with the status."""
    import matplotlib.pyplot as plt

    groups = [c for c in wide.columns if c not in ("groups_supporting", "status")]
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 0.45 * len(wide) + 1.5))
    left = np.zeros(len(wide))
    colours = ["#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860"]
    order = wide.index[::-1]
    for i, group in enumerate(groups):
        values = wide.loc[order, group].to_numpy(dtype=float)
        ax.barh([str(t) for t in order], values, left=left, color=colours[i % len(colours)],
                label=str(group))
        left += values
    for y, theme in enumerate(order):
        ax.text(left[y] + 0.3, y, str(wide.loc[theme, "status"]), va="center", fontsize=8)
    ax.set_xlim(0, max(left.max() * 1.35, 1))
    ax.set_xlabel("works")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title(title)
    return ax


def save_figure(ax: Axes, path: str | Path) -> Path:
    """Save a figure as PNG without metadata, so reruns give identical bytes; close it."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure = ax.figure
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=110, metadata={"Software": None})
    plt.close(figure)
    return atomic_write_bytes(path, buffer.getvalue())
