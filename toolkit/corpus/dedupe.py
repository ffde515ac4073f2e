"""De-duplication with a decision log: exact DOI, then normalised title (+ year), then fuzzy.

Nothing is removed without a log row: each absorbed record appears once in the log with the
record that kept its place, the rule and score that linked them, and the fields it filled.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from toolkit.corpus._schema import normalise_doi
from toolkit.errors import ToolkitError
from toolkit.types import DEDUP_LOG_COLUMNS, RECORD_COLUMNS

__all__ = ["DedupResult", "deduplicate", "normalise_title"]

_FILLABLE = ("title", "authors", "year", "month", "venue", "publisher", "volume", "issue",
             "pages", "doi", "url", "abstract", "keywords", "note")


@dataclass(frozen=True)
class DedupResult:
    """Kept records and the log of every merge.

    Attributes
    ----------
    records : DataFrame
        The kept records, in input order, with empty fields filled from their duplicates.
    log : DataFrame
        One row per absorbed record, columns :data:`toolkit.types.DEDUP_LOG_COLUMNS`:
        ``kept_id, removed_id, rule, score, matched_id, filled_fields, kept_title,
        removed_title, kept_source, removed_source``. ``rule`` is ``"doi"``,
        ``"title_year"`` or ``"title_fuzzy"``; ``score`` is 100 for exact rules and the
        rapidfuzz ratio otherwise; ``matched_id`` is the record it matched directly.
    """

    records: pd.DataFrame
    log: pd.DataFrame

    def __repr__(self) -> str:
        return f"DedupResult(records={len(self.records)}, removed={len(self.log)})"


def normalise_title(title: Any) -> str:
    """Casefold, strip accents, punctuation and extra spaces.

    Examples
    --------
    >>> normalise_title("Micro-Credentials: a Review!"), normalise_title(None)
    ('micro credentials a review', '')
    """
    if title is None or title is pd.NA or (isinstance(title, float) and title != title):
        return ""
    text = unicodedata.normalize("NFKD", str(title))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[^\w\s]|_", " ", text).split())


class _Clusters:
    """Union-find over record positions that refuses to join groups with different DOIs."""

    def __init__(self, dois: list[str]) -> None:
        self.parent = list(range(len(dois)))
        self.dois: dict[int, set[str]] = {i: {d} if d else set() for i, d in enumerate(dois)}
        self.edge: dict[int, tuple[int, str, float]] = {}

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int, rule: str, score: float) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        if self.dois[ra] and self.dois[rb] and not self.dois[ra] & self.dois[rb]:
            return  # a title match must not bridge two different DOIs
        low, high = sorted((ra, rb))
        self.parent[high] = low
        self.dois[low] |= self.dois.pop(high)
        # Remember, for each record, the first record it matched directly and how.
        self.edge.setdefault(a, (b, rule, score))
        self.edge.setdefault(b, (a, rule, score))


def _filled(value: Any) -> bool:
    if value is None or value is pd.NA:
        return False
    if isinstance(value, float) and value != value:
        return False
    if isinstance(value, tuple):
        return bool(value)
    return str(value).strip() != ""


def deduplicate(
    records: pd.DataFrame,
    *,
    title_threshold: float = 95.0,
    year_tolerance: int = 0,
    fill: bool = True,
) -> DedupResult:
    """Merge records that describe the same work.

    Rules, in order: (1) equal DOI; (2) equal normalised title and year; (3) rapidfuzz
    ``ratio`` of normalised titles at least ``title_threshold`` with years within
    ``year_tolerance``. Two records with different DOIs are never merged, not even through a
    third record without a DOI (the first link found wins). A missing year matches any year
    for rule 2 but never for rule 3.

    In each group the record with the most filled fields is kept (the first in input order on
    a tie); with ``fill=True`` its empty fields take the first value found among the others.

    Parameters
    ----------
    records : DataFrame
        Records table (:data:`toolkit.types.RECORD_COLUMNS`), ``record_id`` unique.
    title_threshold : float, default 95
        Minimum ratio (0-100) for the fuzzy title rule; 101 switches the rule off.
    year_tolerance : int, default 0
        Largest year difference the fuzzy rule accepts.
    fill : bool, default True
        Fill empty fields of kept records from their duplicates.

    Returns
    -------
    DedupResult

    Raises
    ------
    ToolkitError
        When ``record_id`` is not unique or columns are missing.

    Examples
    --------
    >>> from toolkit.corpus import records_frame
    >>> frame = records_frame([
    ...     {"record_id": "a", "title": "Micro-credentials: a review", "year": 2021},
    ...     {"record_id": "b", "title": "Micro credentials - A review", "year": 2021,
    ...      "doi": "10.1/x"},
    ... ])
    >>> result = deduplicate(frame)
    >>> (result.records["record_id"].tolist(),
    ...  result.log[["kept_id", "removed_id", "rule"]].values.tolist())
    (['b'], [['b', 'a', 'title_year']])
    """
    missing = [c for c in ("record_id", "title", "year", "doi") if c not in records.columns]
    if missing:
        raise ToolkitError(f"deduplicate: records lack columns {missing}; pass the records "
                           "table from load_corpus")
    if records["record_id"].duplicated().any():
        dupes = records.loc[records["record_id"].duplicated(), "record_id"].unique()[:5].tolist()
        raise ToolkitError(f"deduplicate: record_id values repeat, e.g. {dupes}; record ids "
                           "must be unique (load_corpus renames repeated keys)")
    frame = records.reset_index(drop=True)
    n = len(frame)
    dois = [normalise_doi(d) or "" for d in frame["doi"]]
    clusters = _Clusters(list(dois))
    titles = [normalise_title(t) for t in frame["title"]]
    years = frame["year"].astype("Int64")

    first_by_doi: dict[str, int] = {}
    for i, doi in enumerate(dois):
        if doi:
            if doi in first_by_doi:
                clusters.union(first_by_doi[doi], i, "doi", 100.0)
            else:
                first_by_doi[doi] = i

    by_title: dict[str, list[int]] = {}
    for i, title in enumerate(titles):
        if title:
            by_title.setdefault(title, []).append(i)
    for members in by_title.values():
        for pos, i in enumerate(members):
            for j in members[:pos]:
                yi, yj = years[i], years[j]
                same_year = yi is pd.NA or yj is pd.NA or yi == yj
                if same_year:
                    clusters.union(j, i, "title_year", 100.0)

    if title_threshold <= 100:
        year_groups: dict[int, list[int]] = {}
        for i, year in enumerate(years):
            if year is not pd.NA and titles[i]:
                year_groups.setdefault(int(year), []).append(i)
        for year in sorted(year_groups):
            left = year_groups[year]
            right = [j for y in range(year - year_tolerance, year + year_tolerance + 1)
                     for j in year_groups.get(y, [])]
            scores = process.cdist([titles[i] for i in left], [titles[j] for j in right],
                                   scorer=fuzz.ratio, score_cutoff=title_threshold,
                                   dtype=np.uint8, workers=1)
            for a, b in zip(*np.nonzero(scores), strict=True):
                i, j = left[a], right[b]
                if j < i and clusters.find(i) != clusters.find(j):
                    clusters.union(j, i, "title_fuzzy", float(scores[a, b]))

    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(clusters.find(i), []).append(i)
    completeness = [sum(_filled(frame.at[i, c]) for c in _FILLABLE) for i in range(n)]
    keep_rows: list[int] = []
    log_rows: list[list[Any]] = []
    updates: dict[tuple[int, str], Any] = {}
    for members in groups.values():
        kept = max(members, key=lambda i: (completeness[i], -i))
        keep_rows.append(kept)
        for i in members:
            if i == kept:
                continue
            matched, rule, score = clusters.edge.get(i, (kept, "title_year", 100.0))
            filled = []
            if fill:
                for column in _FILLABLE:
                    if not _filled(updates.get((kept, column), frame.at[kept, column])) and \
                            _filled(frame.at[i, column]):
                        updates[(kept, column)] = frame.at[i, column]
                        filled.append(column)
            log_rows.append([
                frame.at[kept, "record_id"], frame.at[i, "record_id"], rule, score,
                frame.at[matched, "record_id"], ", ".join(filled), frame.at[kept, "title"],
                frame.at[i, "title"], _where(frame, kept), _where(frame, i),
            ])
    kept_frame = frame.copy()
    for (row, column), value in updates.items():
        kept_frame.at[row, column] = value
    kept_frame = kept_frame.loc[sorted(keep_rows)].reset_index(drop=True)
    kept_frame = kept_frame[[c for c in RECORD_COLUMNS if c in kept_frame.columns]
                            + [c for c in kept_frame.columns if c not in RECORD_COLUMNS]]
    log = pd.DataFrame(log_rows, columns=list(DEDUP_LOG_COLUMNS))
    log = log.sort_values(["kept_id", "removed_id"], kind="stable").reset_index(drop=True)
    return DedupResult(kept_frame, log)


def _where(frame: pd.DataFrame, i: int) -> str:
    source, line = frame.at[i, "source_file"], frame.at[i, "source_line"]
    if source is None or source is pd.NA:
        return ""
    return f"{source}:{line}" if line is not None and line is not pd.NA else str(source)
