"""PRISMA 2020 flow counts from data, with unknown counts left unknown (never zero)."""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["compute_prisma", "PRISMA_BOXES"]

#: The boxes of the PRISMA 2020 flow diagram (new reviews, databases and registers).
PRISMA_BOXES = (
    ("identification", "records_identified", "Records identified"),
    ("identification", "duplicates_removed", "Duplicate records removed"),
    ("identification", "removed_other", "Records removed for other reasons"),
    ("screening", "records_screened", "Records screened"),
    ("screening", "records_excluded", "Records excluded"),
    ("screening", "reports_sought", "Reports sought for retrieval"),
    ("screening", "reports_not_retrieved", "Reports not retrieved"),
    ("screening", "reports_assessed", "Reports assessed for eligibility"),
    ("screening", "reports_excluded", "Reports excluded"),
    ("included", "studies_included", "Studies included in review"),
)


def compute_prisma(blocks: pd.DataFrame | None = None, dedup_log: pd.DataFrame | None = None,
                   screening: pd.DataFrame | None = None, *,
                   derive_screened: bool = True,
                   notes: dict[str, str] | None = None,
                   search: pd.DataFrame | None = None) -> pd.DataFrame:
    """Fill the PRISMA 2020 boxes from what the data says; the rest stays ``<NA>``.

    Parameters
    ----------
    blocks : DataFrame, optional
        ``LoadResult.blocks`` (records per source file): gives records identified.
    dedup_log : DataFrame, optional
        The de-duplication log: gives duplicates removed.
    screening : DataFrame, optional
        Screening decisions: ``record_id, stage`` (``title_abstract`` or ``full_text``),
        ``decision`` (``include``/``exclude``/``not_retrieved``) and ``reason``. Gives every
        screening box and the exclusion reasons.
    derive_screened : bool, default True
        Without a screening table, count the records left after de-duplication as screened
        (the usual flow). Pass False when that is not known to be so, e.g. for a reference
        list rebuilt from a paper.
    notes : dict, optional
        Text per box id, e.g. why a count is unknown.
    search : DataFrame, optional
        The search log beside what was loaded
        (:func:`toolkit.review.compute_search_table`: ``database, hits, records``): records
        identified are then detailed per database, with the hits each database reported
        where they differ from the records its export held.

    Returns
    -------
    DataFrame
        ``stage, box, label, count`` (nullable int), ``detail`` (per-file counts,
        exclusion reasons), ``note``.

    Examples
    --------
    >>> blocks = pd.DataFrame({"source_file": ["a.ris"], "records": [10]})
    >>> table = compute_prisma(blocks, pd.DataFrame({"kept_id": ["x"], "removed_id": ["y"]}))
    >>> [None if pd.isna(v) else int(v) for v in table["count"]][:5]
    [10, 1, None, 9, None]
    """
    counts: dict[str, Any] = {box: pd.NA for _, box, _ in PRISMA_BOXES}
    detail: dict[str, str] = {}
    if blocks is not None:
        counts["records_identified"] = int(blocks["records"].sum())
        detail["records_identified"] = "; ".join(
            f"{r.source_file}: {r.records}" for r in blocks.itertuples(index=False))
    if search is not None and len(search):
        parts = []
        for row in search.itertuples(index=False):
            loaded = "?" if pd.isna(row.records) else int(row.records)
            text = f"{row.database}: {loaded}"
            if not pd.isna(row.hits) and (pd.isna(row.records) or int(row.hits) != loaded):
                text += f" (the database reported {int(row.hits)} hits)"
            parts.append(text)
        detail["records_identified"] = "; ".join(parts)
    if dedup_log is not None:
        counts["duplicates_removed"] = len(dedup_log)
    if counts["records_identified"] is not pd.NA and counts["duplicates_removed"] is not pd.NA \
            and screening is None and derive_screened:
        counts["records_screened"] = counts["records_identified"] - counts["duplicates_removed"]
        detail["records_screened"] = "records left after de-duplication"
    if screening is not None:
        ta = screening[screening["stage"] == "title_abstract"]
        ft = screening[screening["stage"] == "full_text"]
        counts["records_screened"] = len(ta)
        counts["records_excluded"] = int((ta["decision"] == "exclude").sum())
        counts["reports_sought"] = int((ta["decision"] == "include").sum())
        counts["reports_not_retrieved"] = int((ft["decision"] == "not_retrieved").sum())
        counts["reports_assessed"] = int((ft["decision"] != "not_retrieved").sum())
        excluded = ft[ft["decision"] == "exclude"]
        counts["reports_excluded"] = len(excluded)
        counts["studies_included"] = int((ft["decision"] == "include").sum())
        if len(excluded):
            reasons = excluded["reason"].fillna("no reason given").value_counts()
            # most frequent first, equal counts by reason (not in the CPU's sorting order)
            ranked = sorted(reasons.items(), key=lambda item: (-item[1], str(item[0])))
            detail["reports_excluded"] = "; ".join(f"{r}: {n}" for r, n in ranked)
    notes = notes or {}
    rows = [(stage, box, label, counts[box], detail.get(box, ""), notes.get(box, ""))
            for stage, box, label in PRISMA_BOXES]
    table = pd.DataFrame(rows, columns=["stage", "box", "label", "count", "detail", "note"])
    table["count"] = table["count"].astype("Int64")
    return table
