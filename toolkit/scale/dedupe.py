"""``deduplicate`` on a Dask cluster, with the one-process merge log.

:func:`toolkit.corpus.deduplicate` finds candidate pairs with six sorted passes (title,
title backwards, first author and year, DOI, volume and page, abstract start; see
:func:`toolkit.corpus._dedupe_compare.sort_passes`), each pairing a record with the
``window`` records after it. Here the same passes run as one distributed sample sort:

1. every partition normalises its records (``prepare``) and emits one sort entry per pass a
   record takes part in: ``(pass, key values..., position)``, the order the one-process
   ``lexsort`` uses (keys as Python values, then position);
2. a sample of the entries fixes range boundaries; each partition cuts its sorted entries
   at them and each range gathers its pieces from every partition, with the normalised
   record of every entry (the shuffle);
3. each range pairs every entry with the ``window`` entries after it in its pass (the first
   ``window`` entries of the following ranges come along, so no pair is lost at a
   boundary);
4. the pair codes are shuffled once more, by code, so each pair found by several passes is
   given to one range only (the first that found it) and counted once;
5. each range scores, filters and decides the pairs it was given with
   :func:`toolkit.corpus.dedupe.compare_pairs`, the one-process code.

So the candidate pairs, and each pair's decision (which depends on the two records only),
are exactly the one-process ones. The client then gathers the decided pairs (the ``pairs``
table is part of the result anyway) and the compared DOIs, joins the works in the same
order with :func:`toolkit.corpus.dedupe.assemble` and builds the tables; this last step
holds the records table once on the client (the kept records and the merge log are built
from it), which is what bounds the size this runs at (see README "Scaling").
"""

from __future__ import annotations

import bisect
import heapq
import math
import operator
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from toolkit.corpus._dedupe_compare import compare, sort_passes
from toolkit.corpus._dedupe_fields import Prepared, prepare
from toolkit.corpus.dedupe import (
    DedupResult,
    _check,
    _review_decisions,
    add_review_rows,
    assemble,
    compare_pairs,
)
from toolkit.errors import ToolkitError
from toolkit.scale._client import dask_client, dataframe_config

__all__ = ["deduplicate_distributed"]

_FIELDS = [f.name for f in fields(Prepared)]
Entry = tuple[Any, ...]  # (pass, key values..., position)


# ----------------------------------------------------------------------- worker side

def _prepare(part: pd.DataFrame) -> Prepared:
    return prepare(part.reset_index(drop=True))


def _doi(prep: Prepared) -> list[str]:
    return prep.doi


def _entries(prep: Prepared, offset: int) -> list[Entry]:
    """Every sort entry of a partition, sorted."""
    out: list[Entry] = []
    for number, (columns, present) in enumerate(sort_passes(prep)):
        for i in np.flatnonzero(present).tolist():
            out.append((number, *(column[i] for column in columns), offset + i))
    out.sort()
    return out


def _sample(entries: list[Entry], k: int) -> list[Entry]:
    if len(entries) <= k:
        return entries
    step = len(entries) / k
    return [entries[int(s * step)] for s in range(k)]


def _row(prep: Prepared, i: int) -> tuple[Any, ...]:
    return tuple(getattr(prep, name)[i] for name in _FIELDS)


def _split(entries: list[Entry], prep: Prepared, offset: int, splitters: list[Entry]
           ) -> list[tuple[list[Entry], dict[int, tuple[Any, ...]]]]:
    """Cut sorted entries at the range boundaries; each piece carries its records."""
    cuts = [0, *(bisect.bisect_left(entries, s) for s in splitters), len(entries)]
    pieces = []
    for start, end in zip(cuts, cuts[1:], strict=False):
        piece = entries[start:end]
        rows = {e[-1]: _row(prep, e[-1] - offset) for e in piece}
        pieces.append((piece, rows))
    return pieces


def _merge(*pieces: tuple[list[Entry], dict[int, tuple[Any, ...]]]
           ) -> tuple[list[Entry], dict[int, tuple[Any, ...]]]:
    rows: dict[int, tuple[Any, ...]] = {}
    for _, part_rows in pieces:
        rows.update(part_rows)
    return list(heapq.merge(*(p[0] for p in pieces))), rows


def _head(block: tuple[list[Entry], dict[int, tuple[Any, ...]]], window: int
          ) -> tuple[list[Entry], dict[int, tuple[Any, ...]]]:
    entries, rows = block
    head = entries[:window]
    return head, {e[-1]: rows[e[-1]] for e in head}


def _local_prep(rows: dict[int, tuple[Any, ...]], positions: np.ndarray) -> Prepared:
    columns = list(zip(*(rows[p] for p in positions.tolist()), strict=True))
    return Prepared(*[list(c) for c in columns])


def _range_pairs(block: tuple[list[Entry], dict[int, tuple[Any, ...]]],
                 tail: tuple[list[Entry], dict[int, tuple[Any, ...]]], window: int,
                 n: int) -> tuple[np.ndarray, dict[int, tuple[Any, ...]]]:
    """Pair each entry of a range with the ``window`` after it in its pass.

    Returns the pair codes (``low * n + high``, unique) and the records they need.
    """
    entries, rows = block
    tail_entries, tail_rows = tail
    every = entries + tail_entries
    if not entries or len(every) < 2:
        return np.empty(0, np.int64), {}
    passes = np.array([e[0] for e in every], dtype=np.int64)
    pos = np.array([e[-1] for e in every], dtype=np.int64)
    own = len(entries)
    lefts, rights = [], []
    for step in range(1, window + 1):
        stop = min(own, len(every) - step)
        if stop <= 0:
            break
        same = passes[:stop] == passes[step:step + stop]
        lefts.append(pos[:stop][same])
        rights.append(pos[step:step + stop][same])
    if not lefts:
        return np.empty(0, np.int64), {}
    left, right = np.concatenate(lefts), np.concatenate(rights)
    codes = np.unique(np.minimum(left, right) * n + np.maximum(left, right))
    return codes, {**tail_rows, **rows}


def _decide_range(pairs: tuple[np.ndarray, dict[int, tuple[Any, ...]]], *assigned: np.ndarray,
                  n: int, title_threshold: float, year_tolerance: int
                  ) -> dict[tuple[int, int], list[Any]]:
    """Score, filter and decide the pairs this range was given (each pair in one range)."""
    _, rows = pairs
    codes = np.sort(np.concatenate(assigned)) if assigned else np.empty(0, np.int64)
    if not len(codes):
        return {}
    low, high = codes // n, codes % n
    positions = np.unique(np.concatenate([low, high]))
    prep = _local_prep(rows, positions)
    local = np.stack([np.searchsorted(positions, low), np.searchsorted(positions, high)],
                     axis=1)
    decided = compare_pairs(prep, local, title_threshold=title_threshold,
                            year_tolerance=year_tolerance)
    glob = positions.tolist()
    return {(glob[a], glob[b]): row for (a, b), row in decided.items()}


def _by_bucket(pairs: tuple[np.ndarray, Any], buckets: int) -> list[np.ndarray]:
    codes = pairs[0]
    return [codes[codes % buckets == b] for b in range(buckets)]


def _assign(*per_range: np.ndarray) -> tuple[int, list[np.ndarray]]:
    """Give each pair of one bucket to the first range that found it; count the pairs."""
    if not per_range:
        return 0, []
    codes = np.concatenate(per_range)
    owner = np.concatenate([np.full(len(c), r, np.int64) for r, c in enumerate(per_range)])
    unique, first = np.unique(codes, return_index=True)  # first: the lowest range
    owner = owner[first]
    return len(unique), [unique[owner == r] for r in range(len(per_range))]


def _owned(assigned: tuple[int, list[np.ndarray]], r: int) -> np.ndarray:
    return assigned[1][r] if assigned[1] else np.empty(0, np.int64)


def _ids(part: pd.DataFrame) -> pd.DataFrame:
    return part[["record_id"]]


def _rows_at(prep: Prepared, local: list[int]) -> list[tuple[Any, ...]]:
    return [_row(prep, i) for i in local]


# ----------------------------------------------------------------------- client side

def deduplicate_distributed(
    records: Any,
    *,
    client: Any = None,
    scheduler: str | None = None,
    workers: int | None = None,
    title_threshold: float = 90.0,
    year_tolerance: int = 1,
    fill: bool = True,
    decisions: pd.DataFrame | str | Path | None = None,
    window: int = 10,
    npartitions: int | None = None,
) -> DedupResult:
    """:func:`toolkit.corpus.deduplicate` with blocking and comparisons on a Dask cluster.

    Parameters
    ----------
    records : DataFrame or dask.dataframe.DataFrame
        The records table (a Dask DataFrame, e.g. ``load_corpus_distributed(...).records``,
        is read partition by partition on the workers).
    client, scheduler, workers
        Where to run (see :func:`toolkit.scale.dask_client`).
    title_threshold, year_tolerance, fill, decisions, window
        As for :func:`~toolkit.corpus.deduplicate`.
    npartitions : int, optional
        Pieces a pandas ``records`` is cut into, and ranges of the shuffle; by default
        enough for about 50,000 records (300,000 sort entries) each, and at least two per
        worker.

    Returns
    -------
    DedupResult
        Equal to ``deduplicate(records, ...)`` on the same records: kept records, merge
        log, pairs, uncertain pairs, sources and stats.

    Raises
    ------
    ToolkitError, DedupReviewError
        As :func:`~toolkit.corpus.deduplicate` does.
    DistributedError
        When Dask is not installed or the cluster cannot be reached.
    """
    with dask_client(client, scheduler=scheduler, workers=workers,
                     where="deduplicate_distributed") as own, dataframe_config():
        return _run(own, records, title_threshold=title_threshold,
                    year_tolerance=year_tolerance, fill=fill, decisions=decisions,
                    window=window, npartitions=npartitions)


def _partitions(client: Any, records: Any, npartitions: int | None, n_workers: int
                ) -> tuple[list[Any], pd.DataFrame | None, list[int]]:
    """Futures of the record partitions, the pandas table when given one, their lengths."""
    if isinstance(records, pd.DataFrame):
        _check(records)
        frame = records.reset_index(drop=True)
        n = len(frame)
        parts = npartitions or max(2 * n_workers, math.ceil(n / 50_000))
        bounds = np.linspace(0, n, max(1, min(parts, n)) + 1).astype(int)
        pieces = [frame.iloc[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
        futures = client.scatter(pieces)
        return futures, frame, [len(p) for p in pieces]
    if not hasattr(records, "to_delayed"):
        raise ToolkitError("deduplicate_distributed: records must be a pandas or Dask "
                           f"DataFrame, not {type(records).__name__}; pass the records table")
    missing = [c for c in ("record_id", "title", "year", "doi") if c not in records.columns]
    if missing:
        raise ToolkitError(f"deduplicate: records lack columns {missing}; pass the records "
                           "table from load_corpus")
    futures = client.compute(records.to_delayed())
    lengths = client.gather(client.map(len, futures))
    return futures, None, lengths


def _run(client: Any, records: Any, *, title_threshold: float, year_tolerance: int,
         fill: bool, decisions: Any, window: int, npartitions: int | None) -> DedupResult:
    n_workers = max(1, len(client.scheduler_info().get("workers", {})))
    parts, frame, lengths = _partitions(client, records, npartitions, n_workers)
    if frame is None:  # a Dask table: check the ids before the work, on their own
        ids_only = pd.concat(client.gather(client.map(_ids, parts)), ignore_index=True)
        _check(ids_only.assign(title=None, year=None, doi=None))
    n = sum(lengths)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(int).tolist()
    preps = client.map(_prepare, parts, pure=False)

    # 1-2: sort entries, sample, cut into ranges, shuffle the pieces
    entries = [client.submit(_entries, p, offsets[k], pure=False) for k, p in enumerate(preps)]
    n_ranges = npartitions or max(2 * n_workers, math.ceil(6 * n / 300_000))
    samples = client.gather([client.submit(_sample, e, 20 * n_ranges) for e in entries])
    pooled = sorted(s for sample in samples for s in sample)
    splitters = [pooled[int(len(pooled) * r / n_ranges)] for r in range(1, n_ranges)] \
        if pooled else []
    splitters = sorted(set(splitters))
    n_ranges = len(splitters) + 1
    cut = [client.submit(_split, e, p, offsets[k], splitters, pure=False)
           for k, (e, p) in enumerate(zip(entries, preps, strict=True))]
    del entries
    ranges = []
    for r in range(n_ranges):
        pieces = [client.submit(operator.getitem, c, r, pure=False) for c in cut]
        ranges.append(client.submit(_merge, *pieces, pure=False))
    del cut, pieces

    # 3: pairs within ranges, with the next `window` entries across the boundary
    heads = client.gather([client.submit(_head, b, window) for b in ranges])
    found = []
    for r, block in enumerate(ranges):
        tail_entries: list[Entry] = []
        tail_rows: dict[int, tuple[Any, ...]] = {}
        for head, rows_ in heads[r + 1:]:
            take = head[:window - len(tail_entries)]
            tail_entries.extend(take)
            tail_rows.update({e[-1]: rows_[e[-1]] for e in take})
            if len(tail_entries) >= window:
                break
        found.append(client.submit(_range_pairs, block, (tail_entries, tail_rows), window,
                                   max(n, 1), pure=False))
    del ranges

    # each candidate pair goes to one range only (passes often find a pair twice), counted
    # and assigned where it lands by code
    split = [client.submit(_by_bucket, f, n_ranges, pure=False) for f in found]
    assigned = [client.submit(_assign, *[client.submit(operator.getitem, s, b, pure=False)
                                         for s in split], pure=False)
                for b in range(n_ranges)]
    del split
    n_candidates = sum(client.gather([client.submit(operator.getitem, a, 0) for a in assigned]))
    owned = [[client.submit(_owned, a, r, pure=False) for a in assigned]
             for r in range(n_ranges)]
    decided = [client.submit(_decide_range, f, *owned[r], n=max(n, 1),
                             title_threshold=title_threshold, year_tolerance=year_tolerance,
                             pure=False) for r, f in enumerate(found)]
    del found, assigned, owned
    rows: dict[tuple[int, int], list[Any]] = {}
    for part in client.gather(decided):
        rows.update(part)
    rows = {pair: rows[pair] for pair in sorted(rows)}
    dois = [d for part in client.gather(client.map(_doi, preps)) for d in part]

    if frame is None:
        frame = pd.concat(client.gather(parts), ignore_index=False).reset_index(drop=True)
    ids = {str(r): i for i, r in enumerate(frame["record_id"])}
    review_merges, review_apart = _review_decisions(decisions, ids)

    def evidence_of(i: int, j: int) -> Any:
        found = []
        for position in (i, j):
            k = bisect.bisect_right(offsets, position) - 1
            found.append(client.submit(_rows_at, preps[k], [position - offsets[k]],
                                       pure=False))
        got = [r[0] for r in client.gather(found)]
        local = Prepared(*[list(c) for c in zip(*got, strict=True)])
        return compare(local, 0, 1, None, title_threshold=title_threshold)

    stats = {"records": n, "candidate_pairs": n_candidates, "compared_pairs": len(rows)}
    add_review_rows(rows, review_merges, review_apart, evidence_of)
    return assemble(frame, dois, rows, review_apart, stats, fill=fill)
