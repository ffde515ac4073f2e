"""Tables of a fitted topic model: sizes, keywords, topics per source and year.

Their figures are drawn by :mod:`toolkit.report.figures`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from toolkit.errors import TopicModelError

__all__ = ["compute_topics_by", "compute_topic_table"]


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
