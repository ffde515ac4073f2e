"""``deduplicate`` on a Dask cluster, with the one-process result, the client kept small.

:func:`toolkit.corpus.deduplicate` finds candidate pairs with six sorted passes (title,
title backwards, first author and year, DOI, volume and page, abstract start; see
:func:`toolkit.corpus._dedupe_compare.sort_passes`), each pairing a record with the
``window`` records after it, decides each pair, joins the merges into works (surest
first, with guards) and builds its tables. Here every step runs on the workers, and what
reaches the client is a few numbers per merge:

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
   :func:`toolkit.corpus.dedupe.compare_pairs`, the one-process code;
6. the client gathers the merged pairs (two integers each) and finds the groups of records
   linked by merges (connected components); whether a merge is applied depends only on
   its group (:func:`toolkit.corpus.dedupe.join_works`), so the groups are shuffled to
   buckets, with their records, merges and contradicting decisions, and each bucket joins
   its works and builds their kept records, merge log and sources with the one-process
   code (:func:`toolkit.corpus._dedupe_tables.build_tables`);
7. the work of every record (one integer each) goes back to the ranges, which build their
   part of the pairs table and their uncertain links, and to the record partitions, which
   keep their kept records (filled ones from the buckets) and write their sources rows.

So the candidate pairs, each pair's decision (it depends on the two records only) and the
works are exactly the one-process ones. The result's records, merge log, pairs and sources
stay on the cluster as Dask DataFrames (:class:`DistributedDedup`); only the uncertain
links (one row per pair of works for a person to look at) are gathered.
"""

from __future__ import annotations

import bisect
import heapq
import math
import operator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from toolkit.corpus._dedupe_clusters import blocks_chains
from toolkit.corpus._dedupe_compare import compare, sort_passes
from toolkit.corpus._dedupe_fields import Prepared, database_labels, prepare
from toolkit.corpus._dedupe_tables import (
    build_tables,
    pairs_frame,
    sources_frame,
    uncertain_frame,
)
from toolkit.corpus.dedupe import (
    DedupResult,
    _check,
    _review_decisions,
    add_review_rows,
    compare_pairs,
    join_works,
)
from toolkit.errors import ToolkitError
from toolkit.scale._client import dask_client, dataframe_config
from toolkit.types import RECORD_COLUMNS

__all__ = ["DistributedDedup", "deduplicate_distributed"]

_FIELDS = [f.name for f in fields(Prepared)]
Entry = tuple[Any, ...]  # (pass, key values..., position)
Pair = tuple[int, int]
Rows = dict[Pair, list[Any]]  # decided pairs: [decision, rule, reason, decided_by, evidence]


@dataclass(frozen=True)
class DistributedDedup:
    """A :class:`~toolkit.corpus.DedupResult` whose large tables stay on the cluster.

    Attributes
    ----------
    records : dask.dataframe.DataFrame
        The kept records, partitioned as the input, indexed by their input position.
    log : dask.dataframe.DataFrame
        The merge log, one partition per bucket of works (rows sorted within each).
    pairs : dask.dataframe.DataFrame
        Every pair compared, one partition per range of the sort, indexed by the pair's code
        ``i * n + j`` (``i < j`` input positions, ``n`` records).
    uncertain : DataFrame
        The uncertain links for a person, as in :class:`~toolkit.corpus.DedupResult`.
    sources : dask.dataframe.DataFrame
        One row per input record, partitioned and indexed as the input.
    stats : dict
        As in :class:`~toolkit.corpus.DedupResult`.

    Write a large result with each table's ``to_parquet``; :meth:`compute` gathers it.
    """

    records: Any
    log: Any
    pairs: Any
    uncertain: pd.DataFrame
    sources: Any
    stats: dict[str, int] = field(default_factory=dict)

    def compute(self) -> DedupResult:
        """Gather the tables on the client: equal to ``deduplicate``'s on the same records."""
        import dask

        with dataframe_config():
            records, log, pairs, sources = dask.compute(self.records, self.log, self.pairs,
                                                        self.sources)
        log = log.sort_values(["kept_id", "removed_id"], kind="stable")
        return DedupResult(records.sort_index().reset_index(drop=True),
                           log.reset_index(drop=True),
                           pairs.sort_index().reset_index(drop=True), self.uncertain,
                           sources.sort_index().reset_index(drop=True), dict(self.stats))

    def __repr__(self) -> str:
        return (f"DistributedDedup(records={self.stats.get('works')}, "
                f"removed={self.stats.get('records', 0) - self.stats.get('works', 0)}, "
                f"uncertain={len(self.uncertain)})")


# ----------------------------------------------------------------------- worker side

Part = tuple[Prepared, list[str]]  # a partition's normalised records and their ids


def _prepare(part: pd.DataFrame) -> Part:
    return prepare(part.reset_index(drop=True)), [str(r) for r in part["record_id"]]


def _entries(part: Part, offset: int) -> list[Entry]:
    """Every sort entry of a partition, sorted."""
    out: list[Entry] = []
    for number, (columns, present) in enumerate(sort_passes(part[0])):
        for i in np.flatnonzero(present).tolist():
            out.append((number, *(column[i] for column in columns), offset + i))
    out.sort()
    return out


def _sample(entries: list[Entry], k: int) -> list[Entry]:
    if len(entries) <= k:
        return entries
    step = len(entries) / k
    return [entries[int(s * step)] for s in range(k)]


def _row(part: Part, i: int) -> tuple[Any, ...]:
    """Return a record's normalised fields, then its id."""
    prep, ids = part
    return (*(getattr(prep, name)[i] for name in _FIELDS), ids[i])


def _split(entries: list[Entry], part: Part, offset: int, splitters: list[Entry]
           ) -> list[tuple[list[Entry], dict[int, tuple[Any, ...]]]]:
    """Cut sorted entries at the range boundaries; each piece carries its records."""
    cuts = [0, *(bisect.bisect_left(entries, s) for s in splitters), len(entries)]
    pieces = []
    for start, end in zip(cuts, cuts[1:], strict=False):
        piece = entries[start:end]
        rows = {e[-1]: _row(part, e[-1] - offset) for e in piece}
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


def _local_prep(rows: dict[int, tuple[Any, ...]], positions: list[int]) -> Prepared:
    columns = list(zip(*(rows[p] for p in positions), strict=True))
    return Prepared(*[list(c) for c in columns[:len(_FIELDS)]])


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
                  n: int, title_threshold: float, year_tolerance: int) -> Rows:
    """Score, filter and decide the pairs this range was given (each pair in one range)."""
    _, rows = pairs
    codes = np.sort(np.concatenate(assigned)) if assigned else np.empty(0, np.int64)
    if not len(codes):
        return {}
    low, high = codes // n, codes % n
    positions = np.unique(np.concatenate([low, high]))
    prep = _local_prep(rows, positions.tolist())
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


def _rows_at(part: Part, local: list[int]) -> list[tuple[Any, ...]]:
    return [_row(part, i) for i in local]


def _records_at(part: pd.DataFrame, local: list[int]) -> pd.DataFrame:
    return part.iloc[local]


def _positions_of(part: pd.DataFrame, offset: int, wanted: set[str]) -> dict[str, int]:
    return {str(r): offset + i for i, r in enumerate(part["record_id"]) if str(r) in wanted}


def _id_buckets(part: pd.DataFrame, buckets: int) -> tuple[int, list[list[str]]]:
    """Missing ids of a partition, and its ids cut by a stable hash (for the check)."""
    ids = part["record_id"]
    present = ids[ids.notna()].astype(str).to_numpy(dtype=object)
    where = pd.util.hash_array(present) % np.uint64(buckets) if len(present) else \
        np.empty(0, np.uint64)
    return int(ids.isna().sum()), [present[where == b].tolist() for b in range(buckets)]


def _repeated(*pieces: list[str]) -> list[str]:
    seen: set[str] = set()
    repeated: list[str] = []
    for piece in pieces:
        for r in piece:
            if r in seen and r not in repeated:
                repeated.append(r)
            seen.add(r)
    return repeated[:5]


def _evidence_of(rows: Rows, wanted: set[Pair]) -> dict[Pair, Any]:
    return {pair: rows[pair][4] for pair in wanted if pair in rows}


def _without(rows: Rows, dropped: set[Pair]) -> Rows:
    return {pair: row for pair, row in rows.items() if pair not in dropped}


def _merge_edges(rows: Rows) -> np.ndarray:
    merged = [pair for pair, row in rows.items() if row[0] == "merge"]
    return np.array(merged, dtype=np.int64).reshape(-1, 2)


def _route_rows(rows: Rows, labels: np.ndarray, buckets: int) -> list[Rows]:
    """Cut out the merges and contradicting decisions inside groups, by group bucket."""
    out: list[Rows] = [{} for _ in range(buckets)]
    for (i, j), row in rows.items():
        label = labels[i]
        if label >= 0 and label == labels[j] and (row[0] == "merge" or blocks_chains(row)):
            out[label % buckets][(i, j)] = row
    return out


def _route_members(frame: pd.DataFrame, part: Part, labels: np.ndarray, offset: int,
                   buckets: int) -> list[tuple[pd.DataFrame, np.ndarray, list[str]]]:
    """Cut out the records of a partition that are in groups, by group bucket, with DOIs."""
    local = labels[offset:offset + len(frame)]
    out = []
    for b in range(buckets):
        take = np.flatnonzero((local >= 0) & (local % buckets == b))
        out.append((frame.iloc[take], offset + take, [part[0].doi[i] for i in take.tolist()]))
    return out


def _join_bucket(*pieces: Any, members: int, offsets: list[int], fill: bool
                 ) -> dict[str, Any]:
    """Join the works of one bucket of groups and build their tables.

    ``pieces`` are ``members`` record pieces (from every partition) then row pieces (from
    every range) and last the pairs a person kept apart in these groups.
    """
    frames = [p for p in pieces[:members] if len(p[1])] or list(pieces[:1])
    row_pieces, apart = pieces[members:-1], pieces[-1]
    positions = np.concatenate([p[1] for p in frames]).astype(np.int64)
    order = np.argsort(positions, kind="stable")
    positions = positions[order]
    frame = pd.concat([p[0] for p in frames]).iloc[order].reset_index(drop=True)
    dois = [d for p in frames for d in p[2]]
    dois = [dois[k] for k in order.tolist()]
    local = {int(p): k for k, p in enumerate(positions.tolist())}
    rows: Rows = {}
    for piece in row_pieces:
        for (i, j), row in piece.items():
            rows[(local[i], local[j])] = list(row)  # a copy: the range keeps its own
    merging = [pair for pair, row in rows.items() if row[0] == "merge"]
    ids = [str(r) for r in frame["record_id"]]
    clusters = join_works(ids, dois, rows, [(local[a], local[b]) for a, b in apart])
    glob = positions.tolist()
    refused = {(glob[a], glob[b]): (rows[(a, b)][0], rows[(a, b)][2]) for a, b in merging
               if rows[(a, b)][0] != "merge"}
    roots = [clusters.find(i) for i in range(len(frame))]
    stats: dict[str, int] = {}
    kept, log, _, _, sources = build_tables(frame, clusters, roots, {}, fill=fill,
                                            stats=stats, groups_only=True)
    at = {r: k for k, r in enumerate(ids)}
    kept_of = np.array([at[r] for r in sources["kept_id"]], dtype=np.int64)
    kept_of = positions[kept_of] if len(kept_of) else positions
    kept.index = pd.Index(np.unique(kept_of), dtype=np.int64)
    partition = np.searchsorted(offsets, positions, side="right") - 1
    kept_partition = np.searchsorted(offsets, kept.index.to_numpy(), side="right") - 1
    keeping, rules = sources["kept_id"].to_numpy(dtype=object), \
        sources["rule"].to_numpy(dtype=object)
    by_part = []
    for k in range(len(offsets) - 1):
        mine = partition == k
        by_part.append((kept[kept_partition == k], positions[mine], keeping[mine],
                        rules[mine]))
    return {"log": log, "parts": by_part, "assign": (positions, kept_of), "refused": refused}


def _range_tables(found: tuple[np.ndarray, dict[int, tuple[Any, ...]]], rows: Rows,
                  refused: dict[Pair, tuple[str, str]], kept_of: np.ndarray, n: int
                  ) -> dict[str, Any]:
    """Build a range's part of the pairs table; count its merges; find its uncertain links."""
    records = found[1]
    final: Rows = {}
    for pair, row in rows.items():
        change = refused.get(pair)
        final[pair] = row if change is None else [change[0], row[1], change[1], *row[3:]]
    ids = {p: record[-1] for p, record in records.items()}
    pairs = pairs_frame(final, ids, kept_of)
    pairs.index = pd.Index([i * n + j for i, j in sorted(final)], dtype=np.int64)
    best: dict[Pair, tuple[tuple[float, int, int], list[Any]]] = {}
    for (i, j), row in final.items():
        if row[0] != "uncertain" or kept_of[i] == kept_of[j]:
            continue
        works = (min(int(kept_of[i]), int(kept_of[j])), max(int(kept_of[i]), int(kept_of[j])))
        key = (-(row[4].title_score or 0.0), i, j)
        if works not in best or key < best[works][0]:
            best[works] = (key, row)
    return {"pairs": pairs, "merged": sum(row[0] == "merge" for row in final.values()),
            "uncertain": best}


def _outcome(joined: dict[str, Any]) -> tuple[Any, Any]:
    return joined["assign"], joined["refused"]


def _kept_part(frame: pd.DataFrame, offset: int, kept_of: np.ndarray, *joined: Any
               ) -> pd.DataFrame:
    """Return a partition's kept records: its one-record works and the buckets' kept ones."""
    positions = np.arange(offset, offset + len(frame))
    grouped = [piece[0] for piece in joined if len(piece[0])]
    in_groups = np.concatenate([g.index.to_numpy() for g in grouped]) if grouped else \
        np.empty(0, np.int64)
    alone = (kept_of[offset:offset + len(frame)] == positions) & ~np.isin(positions,
                                                                         in_groups)
    single = frame.iloc[np.flatnonzero(alone)].copy()
    single.index = pd.Index(positions[alone], dtype=np.int64)
    single = single[[c for c in RECORD_COLUMNS if c in single.columns]
                    + [c for c in single.columns if c not in RECORD_COLUMNS]]
    single["databases"] = pd.Series([(label,) for label in database_labels(single)],
                                    index=single.index, dtype=object)
    if not grouped:
        return single
    return pd.concat([single, *grouped]).sort_index() if len(single) else \
        pd.concat(grouped).sort_index()


def _sources_part(frame: pd.DataFrame, offset: int, *joined: Any) -> pd.DataFrame:
    """Return a partition's sources rows: each record's work and the rule that put it there."""
    n = len(frame)
    ids = [str(r) for r in frame["record_id"]]
    kept_id, rule = list(ids), ["kept"] * n
    for _, positions, keeping, rules in joined:
        for p, k, r in zip(positions.tolist(), keeping.tolist(), rules.tolist(), strict=True):
            kept_id[p - offset], rule[p - offset] = k, r
    sources = sources_frame(frame, kept_id, ids, database_labels(frame), rule)
    sources.index = pd.Index(np.arange(offset, offset + n), dtype=np.int64)
    return sources


def _head0(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.iloc[:0]


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
) -> DistributedDedup:
    """:func:`toolkit.corpus.deduplicate` on a Dask cluster, the client kept small.

    Parameters
    ----------
    records : DataFrame or dask.dataframe.DataFrame
        The records table. A Dask DataFrame (``load_corpus_distributed(...).records``, or
        ``dd.from_map`` over files) is read partition by partition on the workers and
        never reaches the client; make one yourself inside
        ``with toolkit.scale.dataframe_config():``, or Dask turns the authors' tuples into
        text. A pandas table is cut into pieces and sent to the workers.
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
    DistributedDedup
        Its ``compute()`` equals ``deduplicate(records, ...)`` on the same records: kept
        records, merge log, pairs, uncertain pairs, sources and stats. Records, log, pairs
        and sources stay on the cluster (Dask DataFrames) when ``client`` is given; with
        ``scheduler`` or ``workers`` (a client closed on return) they are brought home.

    Raises
    ------
    ToolkitError, DedupReviewError
        As :func:`~toolkit.corpus.deduplicate` does.
    DistributedError
        When Dask is not installed or the cluster cannot be reached.

    Examples
    --------
    >>> from distributed import Client  # doctest: +SKIP
    >>> from toolkit.scale import load_corpus_distributed  # doctest: +SKIP
    >>> with Client(n_workers=2, threads_per_worker=1) as client:  # doctest: +SKIP
    ...     records = load_corpus_distributed("exports/", client=client).records
    ...     result = deduplicate_distributed(records, client=client)
    ...     result.log.to_parquet("merge-log")       # written by the workers
    ...     result.uncertain.to_csv("uncertain.csv")  # already on the client
    """
    with dask_client(client, scheduler=scheduler, workers=workers,
                     where="deduplicate_distributed") as own, dataframe_config():
        result = _run(own, records, title_threshold=title_threshold,
                      year_tolerance=year_tolerance, fill=fill, decisions=decisions,
                      window=window, npartitions=npartitions)
        if client is None:  # the cluster closes with this call: bring the tables home
            import dask
            import dask.dataframe as dd

            tables = dask.compute(result.records, result.log, result.pairs, result.sources)
            records, log, pairs, sources = (dd.from_pandas(t, npartitions=1, sort=False)
                                            for t in tables)
            result = DistributedDedup(records, log, pairs, result.uncertain, sources,
                                      result.stats)
        return result


def _partitions(client: Any, records: Any, npartitions: int | None, n_workers: int
                ) -> tuple[list[Any], list[int]]:
    """Futures of the record partitions and their lengths (ids checked)."""
    if isinstance(records, pd.DataFrame):
        _check(records)
        frame = records.reset_index(drop=True)
        n = len(frame)
        parts = npartitions or max(2 * n_workers, math.ceil(n / 50_000))
        bounds = np.linspace(0, n, max(1, min(parts, n)) + 1).astype(int)
        pieces = [frame.iloc[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
        return client.scatter(pieces), [len(p) for p in pieces]
    if not hasattr(records, "to_delayed"):
        raise ToolkitError("deduplicate_distributed: records must be a pandas or Dask "
                           f"DataFrame, not {type(records).__name__}; pass the records table")
    missing = [c for c in ("record_id", "title", "year", "doi") if c not in records.columns]
    if missing:
        raise ToolkitError(f"deduplicate: records lack columns {missing}; pass the records "
                           "table from load_corpus")
    as_text = [c for c in ("authors", "keywords") if c in records.columns
               and isinstance(records[c].dtype, pd.StringDtype)]
    if as_text:
        raise ToolkitError(f"deduplicate_distributed: the Dask records' {as_text} columns "
                           "hold text, not tuples of names (Dask turns object columns into "
                           "strings when it makes a DataFrame); make the Dask DataFrame "
                           "inside `with toolkit.scale.dataframe_config():`")
    futures = client.compute(records.to_delayed())
    lengths = client.gather(client.map(len, futures))
    _check_ids(client, futures, max(1, len(futures)))
    return futures, lengths


def _check_ids(client: Any, parts: list[Any], buckets: int) -> None:
    """``deduplicate``'s id checks, with the ids shuffled by hash instead of gathered."""
    cut = client.map(_id_buckets, parts, buckets=buckets, pure=False)
    missing = sum(client.gather([client.submit(operator.getitem, c, 0) for c in cut]))
    if missing:
        raise ToolkitError("deduplicate: some record_id values are missing; every record "
                           "needs an id (load_corpus derives one)")
    pieces = [client.submit(operator.getitem, c, 1, pure=False) for c in cut]
    repeated = client.gather([
        client.submit(_repeated, *[client.submit(operator.getitem, p, b, pure=False)
                                   for p in pieces], pure=False) for b in range(buckets)])
    dupes = [r for found in repeated for r in found][:5]
    if dupes:
        raise ToolkitError(f"deduplicate: record_id values repeat, e.g. {dupes}; record ids "
                           "must be unique (load_corpus renames repeated keys)")


def _review(client: Any, decisions: Any, parts: list[Any], offsets: list[int]
            ) -> tuple[list[Pair], list[Pair]]:
    """Turn a person's decisions into positions, looking up only the ids they name."""
    if decisions is None:
        return [], []
    if isinstance(decisions, (str, Path)):
        from toolkit.corpus.dedupe_review import read_review_sheet

        decisions = read_review_sheet(decisions)
    wanted: set[str] = set()
    if isinstance(decisions, pd.DataFrame):
        for column in ("record_id_1", "record_id_2"):
            if column in decisions.columns:
                wanted |= {str(r) for r in decisions[column]}
    ids: dict[str, int] = {}
    for found in client.gather([client.submit(_positions_of, p, offsets[k], wanted)
                                for k, p in enumerate(parts)]):
        ids.update(found)
    return _review_decisions(decisions, ids)


def _components(edges: np.ndarray, n: int) -> np.ndarray:
    """Per record, the group of records linked to it by merges; -1 for none."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    labels = np.full(n, -1, dtype=np.int64)
    if not len(edges):
        return labels
    graph = coo_matrix((np.ones(len(edges), np.int8), (edges[:, 0], edges[:, 1])),
                       shape=(n, n))
    _, found = connected_components(graph, directed=False)
    linked = np.zeros(n, dtype=bool)
    linked[edges.ravel()] = True
    labels[linked] = found[linked]
    return labels


def _dask_frame(client: Any, parts: list[Any]) -> Any:
    import dask.dataframe as dd

    meta = client.submit(_head0, parts[0]).result()
    return dd.from_delayed(parts, meta=meta, verify_meta=False)


def _run(client: Any, records: Any, *, title_threshold: float, year_tolerance: int,
         fill: bool, decisions: Any, window: int, npartitions: int | None
         ) -> DistributedDedup:
    n_workers = max(1, len(client.scheduler_info().get("workers", {})))
    parts, lengths = _partitions(client, records, npartitions, n_workers)
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
    del ranges, heads

    # 4-5: each candidate pair goes to one range only (passes often find a pair twice),
    # counted, and decided there
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
    del assigned, owned
    n_compared = sum(client.gather(client.map(len, decided)))

    # a person's decisions win over the rules': their pairs leave the ranges and form one
    # more "range" of their own, with the evidence the rules found when they compared them
    review_merges, review_apart = _review(client, decisions, parts, offsets)
    if review_merges or review_apart:
        named = {(min(a, b), max(a, b)) for a, b in review_merges + review_apart}
        review_rows: Rows = {}
        for part_ in client.gather([client.submit(_evidence_of, d, named) for d in decided]):
            review_rows.update({pair: [None, None, None, None, ev] for pair, ev in
                                part_.items()})

        def evidence_of(i: int, j: int) -> Any:
            got = _records(client, preps, offsets, [i, j])
            return compare(_local_prep(got, [i, j]), 0, 1, None,
                           title_threshold=title_threshold)

        add_review_rows(review_rows, review_merges, review_apart, evidence_of)
        decided = [client.submit(_without, d, named, pure=False) for d in decided]
        decided.append(client.scatter([review_rows])[0])
        endpoints = sorted({p for pair in review_rows for p in pair})
        found.append(client.scatter([(np.empty(0, np.int64),
                                      _records(client, preps, offsets, endpoints))])[0])

    # 6: groups of records linked by merges, joined bucket by bucket
    edges = np.concatenate(client.gather(client.map(_merge_edges, decided)))
    labels = _components(edges, n)
    del edges
    n_buckets = len(decided)
    labels_f = client.scatter([labels], broadcast=True)[0]
    routed_rows = [client.submit(_route_rows, d, labels_f, n_buckets, pure=False)
                   for d in decided]
    routed_members = [client.submit(_route_members, part, prep, labels_f, offsets[k],
                                    n_buckets, pure=False)
                      for k, (part, prep) in enumerate(zip(parts, preps, strict=True))]
    apart_of: list[list[Pair]] = [[] for _ in range(n_buckets)]
    for a, b in review_apart:
        if labels[a] >= 0 and labels[a] == labels[b]:
            apart_of[labels[a] % n_buckets].append((a, b))
    joined = []
    for b in range(n_buckets):
        members = [client.submit(operator.getitem, m, b, pure=False) for m in routed_members]
        rows_b = [client.submit(operator.getitem, r, b, pure=False) for r in routed_rows]
        joined.append(client.submit(_join_bucket, *members, *rows_b, apart_of[b],
                                    members=len(members), offsets=offsets, fill=fill,
                                    pure=False))
    del routed_rows, routed_members, labels, labels_f
    kept_of = np.arange(n, dtype=np.int64)
    refused: dict[Pair, tuple[str, str]] = {}
    for assign, refusals in client.gather([
            client.submit(_outcome, j) for j in joined]):
        kept_of[assign[0]] = assign[1]
        refused.update(refusals)

    # 7: the ranges' pairs and uncertain links; the partitions' kept records and sources
    kept_f = client.scatter([kept_of], broadcast=True)[0]
    refused_f = client.scatter([refused], broadcast=True)[0]
    tables = [client.submit(_range_tables, f, d, refused_f, kept_f, max(n, 1), pure=False)
              for f, d in zip(found, decided, strict=True)]
    del found, decided
    merged = sum(client.gather([client.submit(operator.getitem, t, "merged") for t in tables]))
    best: dict[Pair, tuple[tuple[float, int, int], list[Any]]] = {}
    for part_ in client.gather([client.submit(operator.getitem, t, "uncertain") for t in tables]):
        for works, (key, row) in part_.items():
            if works not in best or key < best[works][0]:
                best[works] = (key, row)
    apart_works = {(min(kept_of[a], kept_of[b]), max(kept_of[a], kept_of[b]))
                   for a, b in review_apart}
    picked = {(key[1], key[2]): row for works, (key, row) in best.items()
              if works not in apart_works}
    uncertain = _uncertain(client, parts, offsets, picked, kept_of)

    by_part = [client.submit(operator.getitem, j, "parts", pure=False) for j in joined]
    per_part = [[client.submit(operator.getitem, b, k, pure=False) for b in by_part]
                for k in range(len(parts))]
    kept_parts = [client.submit(_kept_part, part, offsets[k], kept_f, *per_part[k],
                                pure=False) for k, part in enumerate(parts)]
    source_parts = [client.submit(_sources_part, part, offsets[k], *per_part[k], pure=False)
                    for k, part in enumerate(parts)]
    log_parts = [client.submit(operator.getitem, j, "log", pure=False) for j in joined]
    pair_parts = [client.submit(operator.getitem, t, "pairs", pure=False) for t in tables]
    works = int((kept_of == np.arange(n)).sum())
    stats = {"records": n, "candidate_pairs": n_candidates, "compared_pairs": n_compared,
             "works": works, "merged_pairs": merged, "uncertain_pairs": len(uncertain)}
    return DistributedDedup(_dask_frame(client, kept_parts), _dask_frame(client, log_parts),
                            _dask_frame(client, pair_parts), uncertain,
                            _dask_frame(client, source_parts), stats)


def _records(client: Any, preps: list[Any], offsets: list[int], positions: list[int]
             ) -> dict[int, tuple[Any, ...]]:
    """Fetch the normalised records (and ids) at some positions from their partitions."""
    wanted = _by_partition(offsets, positions)
    futures = {k: client.submit(_rows_at, preps[k], [p - offsets[k] for p in ps], pure=False)
               for k, ps in wanted.items()}
    out: dict[int, tuple[Any, ...]] = {}
    for k, got in zip(futures, client.gather(list(futures.values())), strict=True):
        out.update(zip(wanted[k], got, strict=True))
    return out


def _by_partition(offsets: list[int], positions: list[int]) -> dict[int, list[int]]:
    """Group sorted positions by the partition holding them."""
    wanted: dict[int, list[int]] = {}
    for p in positions:
        wanted.setdefault(bisect.bisect_right(offsets, p) - 1, []).append(p)
    return wanted


def _uncertain(client: Any, parts: list[Any], offsets: list[int], picked: Rows,
               kept_of: np.ndarray) -> pd.DataFrame:
    """Build the uncertain table of the picked pairs from their records, fetched."""
    positions = sorted({p for pair in picked for p in pair})
    wanted = _by_partition(offsets, positions)
    frames = client.gather([client.submit(_records_at, parts[k], [p - offsets[k] for p in ps],
                                          pure=False) for k, ps in sorted(wanted.items())])
    if frames:
        frame = pd.concat(frames).reset_index(drop=True)
    else:
        frame = client.submit(_head0, parts[0]).result().reset_index(drop=True)
    local = {p: k for k, p in enumerate(positions)}
    rows = {(local[i], local[j]): row for (i, j), row in picked.items()}
    roots = [int(kept_of[p]) for p in positions]
    return uncertain_frame(frame, rows, roots, database_labels(frame))

