"""Every figure the toolkit draws, in one place: ``plot_*(..., ax=None) -> Axes``.

The library rooms compute tables (``compute_*``); this module turns them into matplotlib
figures, and :func:`save_figure` writes a figure so that reruns give identical bytes.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from toolkit._io import atomic_write_bytes
from toolkit.corpus.summary import CountBy, compute_counts

__all__ = ["plot_heatmap", "plot_cooccurrence", "plot_status", "plot_prisma", "plot_corpus_counts",
           "plot_topic_sizes", "plot_topics_by", "save_figure"]


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


def plot_prisma(table: pd.DataFrame, *, ax: Axes | None = None, title: str = "") -> Axes:
    """Draw the flow: main boxes down the left, exclusions on the right; unknown as '?'."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    counts = table.set_index("box")["count"]

    def text(box: str) -> str:
        label = table.set_index("box").loc[box, "label"]
        value = counts[box]
        return f"{label}\n(n = {'?' if value is pd.NA else int(value)})"

    if ax is None:
        _, ax = plt.subplots(figsize=(9, 7))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 10)
    ax.axis("off")
    left = [("records_identified", 9), ("records_screened", 6.8), ("reports_sought", 5.2),
            ("reports_assessed", 3.6), ("studies_included", 1.2)]
    right = [("duplicates_removed", 9), ("records_excluded", 6.8),
             ("reports_not_retrieved", 5.2), ("reports_excluded", 3.6)]
    for box, y in left:
        ax.add_patch(FancyBboxPatch((0.3, y - 0.55), 4.2, 1.1, boxstyle="round,pad=0.05",
                                    fc="#EAF1FB", ec="#4C72B0"))
        ax.text(2.4, y, text(box), ha="center", va="center", fontsize=9)
    for box, y in right:
        ax.add_patch(FancyBboxPatch((5.6, y - 0.55), 4.1, 1.1, boxstyle="round,pad=0.05",
                                    fc="#FBEDEA", ec="#C44E52"))
        ax.text(7.65, y, text(box), ha="center", va="center", fontsize=9)
        ax.annotate("", xy=(5.55, y), xytext=(4.55, y), arrowprops={"arrowstyle": "->"})
    for (_, y1), (_, y2) in zip(left, left[1:], strict=False):
        ax.annotate("", xy=(2.4, y2 + 0.6), xytext=(2.4, y1 - 0.6),
                    arrowprops={"arrowstyle": "->"})
    for stage, y in (("Identification", 9), ("Screening", 5.2), ("Included", 1.2)):
        ax.text(-0.2, y, stage, rotation=90, ha="center", va="center", fontsize=10,
                fontweight="bold")
    ax.set_title(title or "PRISMA 2020 flow ('?': not reported)")
    return ax


def plot_corpus_counts(records: pd.DataFrame, by: CountBy = "year", *,
                       ax: Axes | None = None) -> Axes:
    """Bar chart of :func:`compute_counts`; years as vertical bars, categories horizontal.

    Returns
    -------
    Axes
    """
    import matplotlib.pyplot as plt

    counts = compute_counts(records, by)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    if by == "year":
        known = counts[counts[by] != "(missing)"]
        missing = int(counts.loc[counts[by] == "(missing)", "records"].sum())
        ax.bar(known[by].astype(int), known["records"], color="#4C72B0", width=0.8)
        ax.set_xlabel("year" + (f" ({missing} without a year)" if missing else ""))
        ax.set_ylabel("records")
        ax.xaxis.get_major_locator().set_params(integer=True)
    else:
        ordered = counts.iloc[::-1]
        ax.barh(ordered[by], ordered["records"], color="#55A868")
        ax.set_xlabel("records")
        ax.set_ylabel(by.replace("_", " "))
    ax.set_title(f"Records by {by.replace('_', ' ')}")
    return ax


def plot_topic_sizes(model: Any, *, ax: Axes | None = None) -> Axes:
    """Horizontal bars of topic sizes, labelled with the top three keywords."""
    import matplotlib.pyplot as plt

    info = model.topic_info_.iloc[::-1]
    labels = [f"{t}: " + ", ".join(k[:3]) for t, k in zip(info["topic"], info["keywords"],
                                                           strict=True)]
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.45 * len(info) + 1))
    ax.barh(labels, info["size"], color="#4C72B0")
    ax.set_xlabel("documents")
    ax.set_title("Topic sizes (-1: outliers)")
    return ax


def plot_topics_by(table: pd.DataFrame, *, ax: Axes | None = None, title: str = "") -> Axes:
    """Heatmap of :func:`compute_topics_by`."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(1.2 * len(table.columns) + 2, 0.5 * len(table) + 1.5))
    image = ax.imshow(table.to_numpy(dtype=float), cmap="Blues", aspect="auto")
    ax.set_xticks(range(len(table.columns)), [str(c) for c in table.columns], rotation=45,
                  ha="right")
    ax.set_yticks(range(len(table.index)), [f"topic {t}" for t in table.index])
    for (i, j), value in pd.DataFrame(table.to_numpy()).stack().items():
        ax.text(j, i, f"{value:g}", ha="center", va="center", fontsize=8)
    ax.figure.colorbar(image, ax=ax, fraction=0.04)
    ax.set_title(title or f"Topics by {table.columns.name}")
    return ax
