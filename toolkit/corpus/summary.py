"""Counts that describe a records table (figures: :mod:`toolkit.report.figures`)."""

from __future__ import annotations

from typing import Literal

import pandas as pd

from toolkit.errors import ToolkitError

__all__ = ["compute_corpus_summary", "compute_counts"]

CountBy = Literal["year", "entry_type", "source_type", "source_group", "source_file",
                  "database"]


def compute_counts(records: pd.DataFrame, by: CountBy) -> pd.DataFrame:
    """Count records per value of one column, missing values shown as ``"(missing)"``.

    Parameters
    ----------
    records : DataFrame
        Records table.
    by : {"year", "entry_type", "source_type", "source_group", "source_file", "database"}
        Column to count.

    Returns
    -------
    DataFrame
        Columns ``by, records``; years sorted ascending, other values by count (descending)
        then name.

    Raises
    ------
    ToolkitError
        When ``by`` is not a column of ``records``.

    Examples
    --------
    >>> from toolkit.corpus import records_frame
    >>> frame = records_frame([{"record_id": "a", "year": 2020}, {"record_id": "b"}])
    >>> compute_counts(frame, "year").values.tolist()
    [['2020', 1], ['(missing)', 1]]
    """
    if by not in records.columns:
        raise ToolkitError(f"compute_counts: no column {by!r}; choose one of "
                           "year, entry_type, source_type, source_group, source_file, "
                           "database")
    values = records[by].astype("string").fillna("(missing)")
    counts = values.value_counts().rename_axis(by).reset_index(name="records")
    counts[by] = counts[by].astype(str)
    if by == "year":
        key = counts[by].map(lambda v: (v == "(missing)", v))
        counts = counts.iloc[sorted(range(len(counts)), key=lambda i: key.iloc[i])]
    else:
        counts = counts.sort_values(["records", by], ascending=[False, True], kind="stable")
    return counts.reset_index(drop=True)


def compute_corpus_summary(records: pd.DataFrame) -> pd.DataFrame:
    """One-row-per-fact overview: records, years covered, and completeness of key fields.

    Returns
    -------
    DataFrame
        Columns ``measure, value`` (``value`` as text so mixed facts share a column).

    Examples
    --------
    >>> from toolkit.corpus import records_frame
    >>> frame = records_frame([{"record_id": "a", "year": 2020, "title": "T"}])
    >>> compute_corpus_summary(frame).set_index("measure").loc["records", "value"]
    '1'
    """
    years = records["year"].dropna()
    rows = [
        ("records", len(records)),
        ("files", records["source_file"].nunique()),
        ("first year", int(years.min()) if len(years) else "unknown"),
        ("last year", int(years.max()) if len(years) else "unknown"),
    ]
    for column in ("title", "authors", "year", "venue", "doi", "abstract", "source_type",
                   "source_group"):
        series = records[column]
        if series.dtype == object:
            filled = series.map(lambda v: bool(v) and v is not pd.NA).sum()
        else:
            filled = series.notna().sum()
        rows.append((f"with {column}", int(filled)))
    return pd.DataFrame([(m, str(v)) for m, v in rows], columns=["measure", "value"])
