"""Tables and figures of a fitted topic model: sizes, keywords, topics per source and year."""

from __future__ import annotations

from typing import Any

import pandas as pd
from matplotlib.axes import Axes

from toolkit.errors import TopicModelError

__all__ = ["compute_topics_by", "plot_topic_sizes", "plot_topics_by", "compute_topic_table"]


def compute_topic_table(model: Any, stability: Any = None) -> pd.DataFrame:
    """Topic sizes and keywords as plain text: ``topic, size, share, keywords``.

    With ``stability`` (from :func:`~toolkit.topics.compute_topic_stability`), two more
    columns: ``stability`` (mean best Jaccard over the refits, rounded to 3 decimals) and
    ``verdict``; empty for the outliers (topic -1).
    """
    info = model.topic_info_.copy()
    info["share"] = (info["size"] / info["size"].sum()).round(3)
    info["keywords"] = info["keywords"].map(", ".join)
    columns = ["topic", "size", "share", "keywords"]
    if stability is not None:
        found = stability.topics.set_index("topic")
        info["stability"] = info["topic"].map(found["mean_jaccard"].round(3))
        info["verdict"] = info["topic"].map(found["verdict"]).astype("string")
        columns += ["stability", "verdict"]
    return info[columns]


def compute_topics_by(document_topics: pd.DataFrame, segments: pd.DataFrame, by: str, *,
                      records: pd.DataFrame | None = None, normalize: bool = False
                      ) -> pd.DataFrame:
    """Count documents per topic and per value of ``by`` (source group, type, year, ...).

    ``by`` is looked up in ``segments`` first; otherwise, with ``records``, through the
    segments' ``cited_keys`` (a segment citing works of two groups counts once for each),
    or their ``record_id``.

    Returns
    -------
    DataFrame
        Topics as rows (sorted), values of ``by`` as columns (sorted), counts (or shares of
        each column with ``normalize=True``).
    """
    frame = document_topics.merge(segments, on="segment_id", how="left")
    if by not in frame.columns:
        if records is None:
            raise TopicModelError(f"compute_topics_by: no column {by!r} in the segments; pass "
                                  "records to look it up through cited_keys or record_id")
        lookup = dict(zip(records["record_id"], records[by], strict=True))
        if "cited_keys" in frame.columns:
            frame = frame.explode("cited_keys")
            frame[by] = frame["cited_keys"].map(lookup)
        elif "record_id" in frame.columns:
            frame[by] = frame["record_id"].map(lookup)
        else:
            raise TopicModelError("compute_topics_by: segments need cited_keys or record_id")
        frame = frame.drop_duplicates(["segment_id", by])
    table = pd.crosstab(frame["topic"], frame[by].astype("string").fillna("(missing)"))
    table = table.sort_index().reindex(sorted(table.columns), axis=1)
    if normalize:
        table = (table / table.sum(axis=0)).round(3)
    return table


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
