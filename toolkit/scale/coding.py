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
from toolkit.coding.analysis import (
    attach_segment_attributes,
    cooccurrence_counts,
    cooccurrence_table,
    fill_segment_attributes,
    frequency_counts,
    frequency_table,
    keyed_codings,
    rows_order,
    segment_attributes,
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


def _digest(settings: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Key settings sent to the workers by their content (what the workers cache by)."""
    text = json.dumps(settings, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest(), settings


def _settings(coder: RuleCoder) -> tuple[str, dict[str, Any]]:
    from toolkit.codebook.io import codebook_to_dict

    return _digest({"codebook": codebook_to_dict(coder.codebook), "coder": coder.coder,
                    "round": coder.round, "batch_size": coder.batch_size})


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


#: Per worker process: codebooks by the digest of their dict (rebuilt once).
_BOOKS: dict[str, Codebook] = {}


def _book_settings(codebook: Codebook) -> tuple[str, dict[str, Any]]:
    from toolkit.codebook.io import codebook_to_dict

    return _digest(codebook_to_dict(codebook))


def _worker_book(key: str, settings: dict[str, Any]) -> Codebook:
    book = _BOOKS.get(key)
    if book is None:
        from toolkit.codebook.io import codebook_from_dict

        book = _BOOKS[key] = codebook_from_dict(settings)
    return book


def _keyed_part(part: pd.DataFrame, key: str, settings: dict[str, Any], level: str,
                where: str) -> pd.DataFrame:
    return keyed_codings(part, _worker_book(key, settings), level, where)  # type: ignore[arg-type]


def _keyed(codings: Any, codebook: Codebook, level: str, whole_segments: bool,
           where: str) -> Any:
    """Shuffle (unless whole), check and key the codings on the workers."""
    if isinstance(codings, pd.DataFrame):
        raise CodingError(f"{where}: codings is a pandas DataFrame; use "
                          f"toolkit.coding.{where.removesuffix('_distributed')} for it, or "
                          "pass a Dask DataFrame")
    missing = {"segment_id", "code_id"} - set(codings.columns)
    if missing:
        raise CodingError(f"{where}: codings lack columns {sorted(missing)}")
    if level not in ("code", "theme"):
        raise CodingError(f"{where}: level={level!r}; use 'code' or 'theme'")
    book_key, settings = _book_settings(codebook)
    meta = pd.DataFrame({"key": pd.Series([], dtype="str"),
                         "segment_id": pd.Series([], dtype="str")})
    return _by_segment(codings, whole_segments).map_partitions(
        _keyed_part, book_key, settings, level, where, meta=meta, align_dataframes=False)


def _attributes_meta(segments: Any, by: str | None) -> pd.DataFrame:
    columns = {"segment_id": pd.Series([], dtype="str")}
    if "document_id" in segments.columns:
        columns["document"] = pd.Series([], dtype=object)
    if "cited_keys" in segments.columns or "record_id" in segments.columns:
        columns["works"] = pd.Series([], dtype=object)
    if by is not None:
        columns["groups"] = pd.Series([], dtype=object)
    return pd.DataFrame(columns)


def _counts_meta() -> pd.DataFrame:
    return pd.DataFrame({"kind": pd.array([], dtype="string"),
                         "key": pd.array([], dtype="string"),
                         "value": pd.array([], dtype="string"),
                         "count": pd.array([], dtype="int64")})


def compute_code_frequencies_distributed(codings: Any, codebook: Codebook, *,
                                         segments: Any = None,
                                         records: pd.DataFrame | None = None,
                                         level: Literal["code", "theme"] = "code",
                                         by: str | None = None,
                                         whole_segments: bool = False) -> pd.DataFrame:
    """:func:`toolkit.coding.compute_code_frequencies` as a Dask aggregation.

    Every partition is counted by the one-process code (:func:`toolkit.coding.analysis.
    frequency_counts`: codings and segments per code, distinct documents and works, segments
    per group) and only these counts reach the client, which adds them up and finishes the
    table as the one-process function does.

    Parameters
    ----------
    codings : dask.dataframe.DataFrame
        Distributed codings (one coding), e.g. the output of :func:`code_distributed`.
    codebook, level, by
        As for :func:`~toolkit.coding.compute_code_frequencies`.
    segments : DataFrame or dask.dataframe.DataFrame, optional
        As for :func:`~toolkit.coding.compute_code_frequencies`. A pandas table is joined
        to every partition; a Dask one is joined on ``segment_id`` (a shuffle). Make a Dask
        one with ``dask.config.set({"dataframe.convert-string": False})``: otherwise Dask
        turns the tuples of ``cited_keys`` into their text, one "work" per segment.
    records : DataFrame, optional
        For ``by`` a records column; a pandas table (one row per work).
    whole_segments : bool, default False
        Whether every segment's codings already sit in one partition (true of
        :func:`code_distributed`'s output); otherwise they are shuffled on ``segment_id``
        first, since distinct segments only add up across partitions that share none.

    Returns
    -------
    DataFrame
        Equal to ``compute_code_frequencies(codings.compute(), codebook, ...)``.

    Raises
    ------
    CodingError
        As the one-process function (raised from the partition where it is found).
    """
    where = "compute_code_frequencies_distributed"
    if by is not None and segments is None:
        raise CodingError(f"{where}: by= needs the segments table")
    with dataframe_config():
        frame = _keyed(codings, codebook, level, whole_segments, where)
        if segments is not None:
            meta = attach_segment_attributes(frame._meta, _attributes_meta(segments, by))
            if isinstance(segments, pd.DataFrame):
                # One copy of the segments' attributes per worker, joined to each partition
                # in pandas (Dask's own join would turn the tuples of works into text).
                import dask

                attributes = dask.delayed(segment_attributes(segments, records, by),
                                          pure=True)
                frame = frame.map_partitions(attach_segment_attributes, attributes,
                                             meta=meta, align_dataframes=False)
            else:
                attributes = segments.map_partitions(
                    segment_attributes, records, by, meta=_attributes_meta(segments, by),
                    align_dataframes=False)
                # A join on segment_id keeps each segment's rows in one partition; the task
                # shuffle pickles, so the tuples stay tuples.
                frame = frame.merge(attributes, on="segment_id", how="left",
                                    shuffle_method="tasks").map_partitions(
                    fill_segment_attributes, meta=meta, align_dataframes=False)
        counts = frame.map_partitions(frequency_counts, meta=_counts_meta(),
                                      align_dataframes=False).compute()
    columns = () if segments is None else tuple(segments.columns)
    return frequency_table(counts, codebook, level, by=by, documents="document_id" in columns,
                           works="cited_keys" in columns or "record_id" in columns)


def _cooccurrence_part(part: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    both = cooccurrence_counts(part, order)
    a, b = np.nonzero(both)
    return pd.DataFrame({"a": a.astype(np.int64), "b": b.astype(np.int64),
                         "count": both[a, b].astype(np.int64)})


def compute_cooccurrence_distributed(codings: Any, codebook: Codebook, *,
                                     level: Literal["code", "theme"] = "code",
                                     measure: Literal["count", "jaccard"] = "count",
                                     codes: list[str] | None = None, drop_unused: bool = True,
                                     whole_segments: bool = False) -> pd.DataFrame:
    """:func:`toolkit.coding.compute_cooccurrence` as a Dask aggregation.

    Each partition counts its own code pairs with the one-process code (a codes x codes
    table, sent as its non-zero cells); the client adds them up and finishes the table.
    See :func:`compute_code_frequencies_distributed` for ``whole_segments``; the other
    parameters are those of :func:`~toolkit.coding.compute_cooccurrence`.

    Returns
    -------
    DataFrame
        Equal to ``compute_cooccurrence(codings.compute(), codebook, ...)``.
    """
    where = "compute_cooccurrence_distributed"
    order = list(codes) if codes is not None else rows_order(codebook, level)
    if measure not in ("count", "jaccard"):
        raise CodingError(f"{where}: measure {measure!r}; use 'count' or 'jaccard'")
    with dataframe_config():
        frame = _keyed(codings, codebook, level, whole_segments, where)
        meta = pd.DataFrame({c: pd.array([], dtype="int64") for c in ("a", "b", "count")})
        cells = frame.map_partitions(_cooccurrence_part, order, meta=meta,
                                     align_dataframes=False).compute()
    both = np.zeros((len(order), len(order)), dtype=np.int64)
    np.add.at(both, (cells["a"].to_numpy(), cells["b"].to_numpy()), cells["count"].to_numpy())
    return cooccurrence_table(both, order, level=level, measure=measure,
                              drop_unused=drop_unused)
