"""Export tables (CSV, XLSX, LaTeX booktabs, Markdown), quotes (XLSX, Markdown, Word), figures."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from toolkit._io import atomic_write_bytes, atomic_write_text
from toolkit._spreadsheet import frame_to_csv, frames_to_xlsx
from toolkit.errors import ToolkitError

__all__ = ["export_table", "export_quotes", "to_markdown", "to_latex", "plot_heatmap",
           "plot_cooccurrence", "plot_status", "save_figure", "FORMATS"]

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


def plot_cooccurrence(matrix: pd.DataFrame, *, ax: Axes | None = None, title: str = "",
                      labels: dict[str, str] | None = None, cmap: str = "Purples") -> Axes:
    """Heatmap of a co-occurrence matrix (:func:`toolkit.coding.compute_cooccurrence`).

    Only the lower triangle is drawn (the matrix is symmetric); counts are written as whole
    numbers, Jaccard indices with two decimals. The diagonal (a code with itself) is shown
    for counts (segments with the code) and left blank for Jaccard (always 1).

    Parameters
    ----------
    matrix : DataFrame
        Square, codes as index and columns.
    ax : Axes, optional
    title : str
    labels : dict, optional
        Code id -> label for the axes (default: the ids).
    cmap : str
    """
    import matplotlib.pyplot as plt

    values = matrix.to_numpy(dtype=float)
    n = len(values)
    jaccard = bool(n) and np.allclose(np.diag(values), 1.0) and values.max() <= 1.0
    mask = np.triu(np.ones((n, n), dtype=bool), k=1 if not jaccard else 0)
    shown = np.where(mask, np.nan, values)
    if ax is None:
        _, ax = plt.subplots(figsize=(0.45 * n + 3, 0.45 * n + 2))
    image = ax.imshow(shown, cmap=cmap, aspect="auto", vmin=0)
    names = [str((labels or {}).get(c, c)) for c in matrix.columns]
    ax.set_xticks(range(n), names, rotation=50, ha="right", fontsize=8)
    ax.set_yticks(range(n), [str((labels or {}).get(i, i)) for i in matrix.index], fontsize=8)
    top = np.nanmax(shown) if np.isfinite(shown).any() else 0
    for (i, j), value in np.ndenumerate(shown):
        if np.isfinite(value) and value > 0:
            ax.text(j, i, f"{value:.2f}" if jaccard else f"{value:g}", ha="center",
                    va="center", fontsize=7, color="white" if value > 0.6 * top else "black")
    ax.figure.colorbar(image, ax=ax, fraction=0.035,
                       label="Jaccard index" if jaccard else "segments")
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
