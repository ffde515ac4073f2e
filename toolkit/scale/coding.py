"""Rule coding over partitions, and distributed codings reduced to small tables.

:func:`code_distributed` runs :meth:`toolkit.coding.RuleCoder.transform` on every partition
of a segments table. Each worker process builds the matcher once (spaCy's PhraseMatcher
over the codebook's patterns, about a second) and keeps it for every later partition and
call with the same codebook; the codebook travels as its plain dict, never as an object.
A segment's matches depend on the segment and the codebook only, so the partitions'
codings, in partition order, are the one-process codings.

The tables read codings, not segments: frequencies and co-occurrence add up per partition
once every segment's codings sit in one partition (``code_distributed``'s output is so; any
other Dask codings table is shuffled on ``segment_id`` first); agreement and triangulation
read which codes each rater applied to each segment, which :func:`reduce_codings` keeps
while dropping the matched text, offsets and repeats.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

import numpy as np
import pandas as pd

from toolkit.codebook import Codebook
from toolkit.coding.frequencies import (
    _coded,
    cooccurrence_counts,
    frequencies_from_counts,
)
from toolkit.coding.rules import RuleCoder
from toolkit.coding.store import make_codings
from toolkit.errors import CodingError
from toolkit.scale._client import dask_client, dataframe_config, require_dask

__all__ = ["code_distributed", "reduce_codings", "compute_code_frequencies_distributed",
           "compute_cooccurrence_distributed"]

#: Per worker process: fitted coders by the digest of their settings (built once).
_CODERS: dict[str, RuleCoder] = {}
#: Columns agreement and triangulation read from codings.
REDUCED_COLUMNS = ("segment_id", "code_id", "coder", "round", "method")


def _settings(coder: RuleCoder) -> tuple[str, dict[str, Any]]:
    from toolkit.codebook.io import codebook_to_dict

    settings = {"codebook": codebook_to_dict(coder.codebook), "coder": coder.coder,
                "round": coder.round, "batch_size": coder.batch_size}
    text = json.dumps(settings, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest(), settings


def _worker_coder(key: str, settings: dict[str, Any]) -> RuleCoder:
    coder = _CODERS.get(key)
    if coder is None:
        from toolkit.codebook.io import codebook_from_dict

        coder = RuleCoder(codebook_from_dict(settings["codebook"]), coder=settings["coder"],
                          round=settings["round"], batch_size=settings["batch_size"]).fit()
        _CODERS[key] = coder
    return coder


def _transform(segments: pd.DataFrame, key: str, settings: dict[str, Any]) -> pd.DataFrame:
    return _worker_coder(key, settings).transform(segments)


def code_distributed(coder: RuleCoder, segments: Any, *, client: Any = None,
                     scheduler: str | None = None, workers: int | None = None,
                     npartitions: int | None = None) -> Any:
    """:meth:`RuleCoder.transform <toolkit.coding.RuleCoder.transform>` on a Dask cluster.

    Parameters
    ----------
    coder : RuleCoder
        Its settings (codebook, coder, round, batch size) are sent to the workers, which
        fit their own matcher once; it need not be fitted here.
    segments : DataFrame or dask.dataframe.DataFrame
        Segments (``segment_id``, ``text``).
    client, scheduler, workers
        Where to run (see :func:`toolkit.scale.dask_client`). A Dask ``segments`` needs the
        ``client`` its partitions live on, or the default client.
    npartitions : int, optional
        Pieces a pandas ``segments`` is cut into (default: about 50,000 segments each, at
        least two per worker).

    Returns
    -------
    DataFrame or dask.dataframe.DataFrame
        For a Dask ``segments``, a lazy Dask DataFrame of codings, partition for partition
        (each segment's codings in its segment's partition); for a pandas ``segments``, the
        codings computed, equal to ``coder.transform(segments)``.

    Raises
    ------
    CodingError
        When ``segment_id`` or ``text`` is missing.
    DistributedError
        When Dask is not installed or the cluster cannot be reached.
    """
    dd, _ = require_dask("code_distributed")
    missing = {"segment_id", "text"} - set(segments.columns)
    if missing:
        raise CodingError(f"code_distributed: segments lack {sorted(missing)}")
    coder._check_params()
    key, settings = _settings(coder)
    empty = pd.DataFrame({"segment_id": pd.array([], dtype="string"),
                          "text": pd.array([], dtype="string")})
    with dataframe_config():
        if isinstance(segments, pd.DataFrame):
            with dask_client(client, scheduler=scheduler, workers=workers,
                             where="code_distributed") as own:
                n_workers = max(1, len(own.scheduler_info().get("workers", {})))
                parts = npartitions or max(2 * n_workers, -(-len(segments) // 50_000))
                frame = segments.reset_index(drop=True)
                bounds = np.linspace(0, len(frame), max(1, min(parts, len(frame))) + 1)
                pieces = [frame.iloc[a:b] for a, b in zip(bounds.astype(int),
                                                          bounds.astype(int)[1:], strict=False)]
                futures = [own.submit(_transform, p, key, settings, pure=False)
                           for p in own.scatter(pieces)]
                coded = own.gather(futures)
            return pd.concat(coded, ignore_index=True) if coded else \
                coder.fit().transform(empty)
        if client is None and scheduler is None and workers is not None:
            raise CodingError("code_distributed: a Dask segments table is coded lazily on "
                              "the cluster its partitions belong to; pass client= (or use "
                              "the default client), not workers=")
        meta = make_codings({c: [] for c in ("segment_id", "code_id", "matched_text",
                                             "pattern")})  # transform's empty result
        return segments.map_partitions(_transform, key, settings, meta=meta,
                                       align_dataframes=False)


def reduce_codings(codings: Any, *, columns: tuple[str, ...] = REDUCED_COLUMNS
                   ) -> pd.DataFrame:
    """Gather distributed codings as the small table agreement and triangulation read.

    Keeps ``columns`` (which code each rater applied to each segment, in which round and
    by which method, and the "seen, no code" rows), drops repeats within each partition
    and again after gathering, so a code matched many times in a segment is one row.

    Parameters
    ----------
    codings : dask.dataframe.DataFrame or DataFrame
        Long codings table.

    Returns
    -------
    DataFrame
        The distinct ``columns`` rows, in the order of their first appearance;
        :func:`toolkit.agreement.compute_agreement` and the triangulation functions give
        the same tables on it as on the full codings.
    """
    keep = [c for c in columns if c in codings.columns]
    if "segment_id" not in keep:
        raise CodingError("reduce_codings: codings lack segment_id; pass a codings table")
    with dataframe_config():
        if isinstance(codings, pd.DataFrame):
            reduced = codings[keep]
        else:
            reduced = codings[keep].map_partitions(pd.DataFrame.drop_duplicates).compute()
    return reduced.drop_duplicates().reset_index(drop=True)


def _by_segment(codings: Any, whole_segments: bool) -> Any:
    return codings if whole_segments else codings.shuffle("segment_id")


def _frequency_part(part: pd.DataFrame) -> pd.DataFrame:
    rows = part.dropna(subset=["code_id"])
    table = rows.groupby("code_id", sort=True).agg(
        codings=("segment_id", "size"), segments=("segment_id", "nunique")).reset_index()
    table["seen"] = 0
    seen = pd.DataFrame({"code_id": [None], "codings": [0], "segments": [0],
                         "seen": [part["segment_id"].nunique()]})
    return pd.concat([table, seen], ignore_index=True).astype(
        {"code_id": "string", "codings": "int64", "segments": "int64", "seen": "int64"})


def _lifted(codings: Any, codebook: Codebook | None, level: str, where: str) -> Any:
    if isinstance(codings, pd.DataFrame):
        return _coded(codings, codebook, level, where)  # type: ignore[arg-type]
    meta = _coded(codings._meta, codebook if level == "code" else None, "code", where)
    if level == "theme":
        _coded(codings._meta.iloc[:0].assign(code_id=pd.NA), codebook, level, where)
        meta = meta.astype({"code_id": "string"})
    return codings.map_partitions(_coded, codebook, level, where, meta=meta)


def compute_code_frequencies_distributed(codings: Any, *, codebook: Codebook | None = None,
                                         level: Literal["code", "theme"] = "code",
                                         whole_segments: bool = False) -> pd.DataFrame:
    """:func:`toolkit.coding.compute_code_frequencies` as a Dask aggregation.

    Parameters
    ----------
    codings : dask.dataframe.DataFrame
        Distributed codings, e.g. the output of :func:`code_distributed`.
    codebook, level
        As for :func:`~toolkit.coding.compute_code_frequencies`.
    whole_segments : bool, default False
        Whether every segment's codings already sit in one partition (true of
        :func:`code_distributed`'s output); otherwise they are shuffled on ``segment_id``
        first, since distinct segments only add up across partitions that do not share one.

    Returns
    -------
    DataFrame
        Equal to ``compute_code_frequencies(codings.compute(), ...)``; only the per-code
        sums of every partition are gathered.
    """
    with dataframe_config():
        coded = _by_segment(_lifted(codings, codebook, level,
                                    "compute_code_frequencies_distributed"), whole_segments)
        meta = _frequency_part(coded._meta)
        partial = coded.map_partitions(_frequency_part, meta=meta).compute()
    seen = int(partial["seen"].sum())
    table = partial.dropna(subset=["code_id"]).groupby("code_id", sort=True)[
        ["codings", "segments"]].sum().reset_index()
    return frequencies_from_counts(table, seen)


def _cooccurrence_part(part: pd.DataFrame) -> pd.DataFrame:
    counts = cooccurrence_counts(part.dropna(subset=["code_id"]))
    return counts.stack().rename("count").reset_index().rename(
        columns={"code_id": "code_a", "level_1": "code_b"}).astype(
        {"code_a": "string", "code_b": "string", "count": "int64"})


def compute_cooccurrence_distributed(codings: Any, *, codebook: Codebook | None = None,
                                     level: Literal["code", "theme"] = "code",
                                     whole_segments: bool = False) -> pd.DataFrame:
    """:func:`toolkit.coding.compute_cooccurrence` as a Dask aggregation.

    Each partition counts its own code pairs (a codes x codes table); the client adds
    them up. See :func:`compute_code_frequencies_distributed` for ``whole_segments``.

    Returns
    -------
    DataFrame
        Equal to ``compute_cooccurrence(codings.compute(), ...)``.
    """
    with dataframe_config():
        coded = _by_segment(_lifted(codings, codebook, level,
                                    "compute_cooccurrence_distributed"), whole_segments)
        meta = pd.DataFrame({"code_a": pd.array([], dtype="string"),
                             "code_b": pd.array([], dtype="string"),
                             "count": pd.array([], dtype="int64")})
        partial = coded.map_partitions(_cooccurrence_part, meta=meta).compute()
    codes = sorted(set(partial["code_a"]))
    index = pd.Index(codes, name="code_id", dtype="string")
    summed = partial.groupby(["code_a", "code_b"])["count"].sum()
    table = summed.unstack(fill_value=0).reindex(index=codes, columns=codes, fill_value=0)
    return pd.DataFrame(table.to_numpy(dtype=np.int64), index=index,
                        columns=index.rename(None))
