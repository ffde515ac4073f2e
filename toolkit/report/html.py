"""The pieces of a self-contained HTML report: tables, figures, folding sections, the page.

Every value that goes into the page is escaped (:func:`escape`), so a title or a segment
from a reference export can never become markup. Tables sit in a box that scrolls
sideways when they are wider than the page, missing values show as an en dash (never
``<NA>`` or ``nan``), and code ids can be shown by their labels.
"""

from __future__ import annotations

import base64
import html
import math
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["escape", "render_table", "render_figure", "render_details", "render_page",
           "MISSING", "CSS", "VERTICAL_AFTER"]

#: How a missing value is shown.
MISSING = "\u2013"

#: The page's style: readable at 1280 px, tables scroll sideways instead of being cut.
CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.7em}h2{border-bottom:2px solid #4C72B0;padding-bottom:.2em;margin-top:2em}
.scroll{overflow-x:auto;max-width:100%;margin:.8em 0}
table.tbl{border-collapse:collapse;font-size:.85em}
table.tbl th,table.tbl td{border-bottom:1px solid #ddd;padding:.25em .6em;vertical-align:top}
table.tbl th{background:#f3f6fb;text-align:left;vertical-align:bottom;max-width:11em}
table.tbl th.v{padding:.4em .25em;text-align:center}
table.tbl th.v span{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap}
table.tbl td.num{text-align:right;white-space:nowrap}table.tbl td.txt{text-align:left;
min-width:8em;max-width:38em}table.tbl th.row{background:#fafbfd;font-weight:600}
figure{margin:1em 0}figcaption{color:#555;font-size:.9em}img{max-width:100%}
.note{color:#555;font-size:.9em}.ok{color:#2e7d32;font-weight:bold}
.warn{color:#b71c1c;font-weight:bold}li{margin:.2em 0}p.says{margin:.4em 0 .2em}
details{border:1px solid #e6e9ef;border-radius:4px;margin:.4em 0;padding:.2em .6em}
details>summary{cursor:pointer;padding:.2em 0}details[open]>summary{margin-bottom:.3em}
"""


def escape(value: object) -> str:
    """Escape any value for HTML text or a quoted attribute (quotes included)."""
    return html.escape(str(value), quote=True)


_NUMBER_LIKE = re.compile(r"^[-+]?\d[\d.,]*( \[[-+]?\d[\d.]*, [-+]?\d[\d.]*\])?$")
#: Tables with more columns than this get vertical column names (numbers stay narrow).
VERTICAL_AFTER = 10


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _cell(value: Any, digits: int, labels: Mapping[str, str]) -> tuple[str, str]:
    """Return (css class, escaped text) of one cell."""
    if _missing(value):
        return "num", MISSING
    if isinstance(value, bool):
        return "txt", "yes" if value else "no"
    if isinstance(value, float):
        return "num", f"{value:.{digits}f}"
    if isinstance(value, int) or hasattr(value, "dtype"):
        return "num", escape(value)
    if isinstance(value, (tuple, list)):
        return "txt", escape(", ".join(str(v) for v in value))
    text = str(value)
    if text == "?" or _NUMBER_LIKE.match(text):  # "0.812 [0.671, 0.923]", unknown "?"
        return "num", escape(text)
    return "txt", escape(labels.get(text, text))


def render_table(frame: pd.DataFrame, *, digits: int = 3,
                 labels: Mapping[str, str] | None = None,
                 label_columns: Iterable[str] = ("theme", "code_id", "row", "case"),
                 index: bool | None = None) -> str:
    """Render a table as HTML in a box that scrolls sideways when it is too wide.

    Parameters
    ----------
    frame : DataFrame
    digits : int, default 3
        Decimals for floats.
    labels : mapping, optional
        Id -> label (e.g. code ids to code labels), applied to the index, the column names
        and the values of ``label_columns``. Other column names show with spaces for
        underscores; a table of more than :data:`VERTICAL_AFTER` columns writes the names
        of its number columns vertically, so it stays narrow.
    label_columns : iterable of str
        Columns whose values are ids to show by their labels.
    index : bool, optional
        Show the index; default: when it is named.

    Examples
    --------
    >>> frame = pd.DataFrame({"theme": ["t1"], "share": [0.5], "note": [None]})
    >>> html = render_table(frame, labels={"t1": "Costs & fees"}, index=False)
    >>> html.startswith('<div class="scroll">')
    True
    >>> print(html[html.index("<tbody>"):].replace("</td>", "</td>\\n"))
    <tbody><tr><td class="txt">Costs &amp; fees</td>
    <td class="num">0.500</td>
    <td class="num">–</td>
    </tr></tbody></table></div>
    """
    labels = dict(labels or {})
    show_index = bool(frame.index.name) if index is None else index
    columns = [str(c) for c in frame.columns]
    label_at = {i for i, c in enumerate(columns) if c in set(label_columns)}
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) for c in frame.columns]
    vertical = len(columns) > VERTICAL_AFTER

    def name(i: int, column: str) -> str:
        text = escape(labels.get(column, column.replace("_", " ")))
        return (f"<th class='v'><span>{text}</span></th>" if vertical and numeric[i]
                else f"<th>{text}</th>")

    head = "".join(name(i, c) for i, c in enumerate(columns))
    if show_index:
        head = f"<th>{escape(frame.index.name or '')}</th>" + head
    rows = []
    for key, values in zip(frame.index, frame.itertuples(index=False), strict=True):
        cells = []
        if show_index:
            text = MISSING if _missing(key) else escape(labels.get(str(key), str(key)))
            cells.append(f"<th class='row'>{text}</th>")
        for i, value in enumerate(values):
            css, text = _cell(value, digits, labels if i in label_at else {})
            cells.append(f'<td class="{css}">{text}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<div class="scroll"><table class="tbl"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>")


def render_figure(path: Path, caption: str = "") -> str:
    """Embed a PNG (base64, so the page needs no other file), with an optional caption."""
    data = base64.b64encode(Path(path).read_bytes()).decode()
    caption_html = f"<figcaption>{escape(caption)}</figcaption>" if caption else ""
    return (f'<figure><img alt="{escape(Path(path).stem)}" '
            f'src="data:image/png;base64,{data}">{caption_html}</figure>')


def render_details(summary: str, body: str, *, open_: bool = False) -> str:
    """Fold a section away: ``summary`` (HTML, already escaped) shows, ``body`` unfolds."""
    return (f"<details{' open' if open_ else ''}><summary>{summary}</summary>{body}"
            "</details>")


def render_page(title: str, parts: Iterable[str]) -> str:
    """Assemble the whole page: escaped title, the style, the parts in order."""
    body = "\n".join(parts)
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{escape(title)}</title><style>{CSS}</style></head><body>{body}"
            "</body></html>\n")
