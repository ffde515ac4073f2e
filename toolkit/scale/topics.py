"""Embeddings per partition, and a topic model fitted on a sample that places every document.

Sentence-embedding backends (``"minilm"``, ``"minilm-static"``, a local
sentence-transformers folder) embed each document on its own, so every worker embeds its
partitions with its own copy of the model (loaded once per worker process) and the vectors
are the one-process vectors. The client writes them, partition by partition, into the
embedding cache file :func:`toolkit.topics.embeddings.embed` would write for the same texts
(``.npy`` under ``SLR_CACHE_DIR/embeddings``, keyed by SHA-256 of the backend and every
text), so a later ``TopicModel.fit`` or ``embed`` on those texts reads them instead of
encoding again; only one partition's texts and vectors are on the client at a time.

``"tfidf"`` learns its vocabulary and SVD from the documents themselves: it is fitted on a
seeded sample, then places every document per partition.

:func:`fit_topics_distributed` fits a :class:`toolkit.topics.TopicModel` on a seeded sample
of the segments (on the client) and assigns every segment its topic on the workers with
:meth:`TopicModel.transform <toolkit.topics.TopicModel.transform>`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from toolkit.errors import TopicModelError
from toolkit.scale._client import dask_client, dataframe_config, require_dask

__all__ = ["embed_distributed", "fit_topics_distributed", "sample_positions"]

#: Per worker process: embedders by backend spec (loaded once).
_EMBEDDERS: dict[str, Any] = {}


def sample_positions(n: int, size: int, random_state: int | None = 0) -> np.ndarray:
    """Sorted positions of a seeded sample of ``size`` out of ``n`` (all when ``size >= n``).

    Examples
    --------
    >>> sample_positions(10, 3).tolist()
    [5, 6, 9]
    """
    if size >= n:
        return np.arange(n)
    rng = np.random.default_rng(random_state)
    return np.sort(rng.choice(n, size=size, replace=False))


# ----------------------------------------------------------------------- worker side

def _worker_embedder(spec: str, random_state: int | None) -> Any:
    from toolkit.topics.embeddings import make_embedder

    key = f"{spec}\x1f{random_state}"
    if key not in _EMBEDDERS:
        _EMBEDDERS[key] = make_embedder(spec, random_state=random_state)
    return _EMBEDDERS[key]


def _texts_of(part: Any, column: str) -> list[str]:
    if isinstance(part, pd.DataFrame):
        return part[column].astype(str).tolist()
    return [str(t) for t in part]


def _embed_part(part: Any, column: str, spec: str, random_state: int | None) -> np.ndarray:
    return _worker_embedder(spec, random_state).embed(_texts_of(part, column))


def _embed_tfidf(part: Any, column: str, settings: dict[str, Any],
                 arrays: dict[str, np.ndarray]) -> np.ndarray:
    from toolkit.topics.embeddings import TfidfSvdEmbedder

    return TfidfSvdEmbedder.from_state(settings, arrays).embed(_texts_of(part, column))


def _assign(part: pd.DataFrame, model: Any) -> pd.DataFrame:
    topics = model.transform(part) if len(part) else np.empty(0, np.int64)
    return pd.DataFrame({"segment_id": part["segment_id"].astype("string").to_numpy(),
                         "topic": np.asarray(topics, dtype=np.int64)})


# ----------------------------------------------------------------------- client side

def _pieces(client: Any, documents: Any, npartitions: int | None) -> list[Any]:
    """Futures of the document partitions (pandas is cut and scattered; Dask computed)."""
    if isinstance(documents, (pd.DataFrame, pd.Series, list, tuple)):
        n = len(documents)
        n_workers = max(1, len(client.scheduler_info().get("workers", {})))
        parts = npartitions or max(2 * n_workers, -(-n // 20_000))
        bounds = np.linspace(0, n, max(1, min(parts, n)) + 1).astype(int)
        if isinstance(documents, (list, tuple)):
            pieces: list[Any] = [list(documents[a:b]) for a, b in zip(bounds, bounds[1:],
                                                                       strict=False)]
        else:
            pieces = [documents.iloc[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
        return client.scatter(pieces)
    if hasattr(documents, "to_delayed"):
        return client.compute(documents.to_delayed())
    raise TopicModelError(f"embed_distributed: documents must be a list of texts or a pandas "
                          f"or Dask table, not {type(documents).__name__}")


def embed_distributed(documents: Any, embedding: str | Path = "minilm-static", *,
                      client: Any = None, scheduler: str | None = None,
                      workers: int | None = None, column: str = "text",
                      use_cache: bool = True, sample_size: int = 20_000,
                      random_state: int | None = 0, npartitions: int | None = None
                      ) -> np.ndarray:
    """Embed documents on a Dask cluster with an offline backend.

    Parameters
    ----------
    documents : list of str, DataFrame, Series or Dask DataFrame
        The texts (a table's ``column``).
    embedding : str or Path
        ``"minilm"``, ``"minilm-static"``, a local sentence-transformers folder, or
        ``"tfidf"`` (fitted on a seeded sample of ``sample_size`` documents).
    use_cache : bool, default True
        For the sentence backends: read the cache file of these texts when it exists,
        else write it, in :func:`toolkit.topics.embeddings.embed`'s format, partition by
        partition.

    Returns
    -------
    ndarray of shape (n, d)
        The vectors; with the cache, a read-only memory map of the cache file, so a corpus
        larger than the client's memory is never loaded whole.

    Raises
    ------
    TopicModelError
        For an unknown backend or documents of another kind.
    DistributedError
        When Dask is not installed or the cluster cannot be reached.
    """
    require_dask("embed_distributed")
    from toolkit.topics.embeddings import TfidfSvdEmbedder, make_embedder

    if callable(embedding) and not isinstance(embedding, (str, Path)):
        raise TopicModelError("embed_distributed: a callable backend cannot be sent to "
                              "workers reliably; use 'minilm', 'minilm-static', 'tfidf' or a "
                              "model folder the workers can read")
    spec = str(embedding)
    local = make_embedder(spec, random_state=random_state)  # checks spec; distils once
    with dask_client(client, scheduler=scheduler, workers=workers,
                     where="embed_distributed") as own, dataframe_config():
        pieces = _pieces(own, documents, npartitions)
        if isinstance(local, TfidfSvdEmbedder):
            sample = _gather_sample(own, pieces, column, sample_size, random_state)
            local.embed(sample)
            settings, arrays = local.state()
            state = own.scatter(arrays, broadcast=True)
            parts = [own.submit(_embed_tfidf, p, column, settings, state, pure=False)
                     for p in pieces]
            return np.concatenate(own.gather(parts)) if parts else np.empty((0, 0))
        identity = getattr(local, "identity", spec)
        parts = [own.submit(_embed_part, p, column, spec, random_state, pure=False)
                 for p in pieces]
        if not use_cache:
            return np.concatenate(own.gather(parts))
        return _write_cache(own, pieces, parts, column, identity)


def _gather_sample(client: Any, pieces: list[Any], column: str, size: int,
                   random_state: int | None) -> list[str]:
    lengths = client.gather(client.map(len, pieces))
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(int)
    chosen = sample_positions(int(offsets[-1]), size, random_state)
    picks = []
    for k, piece in enumerate(pieces):
        local = chosen[(chosen >= offsets[k]) & (chosen < offsets[k + 1])] - offsets[k]
        if len(local):
            picks.append(client.submit(_pick_texts, piece, column, local.tolist()))
    return [t for part in client.gather(picks) for t in part]


def _dtype(vectors: np.ndarray) -> str:
    return vectors.dtype.str


def _pick_texts(part: Any, column: str, local: list[int]) -> list[str]:
    texts = _texts_of(part, column)
    return [texts[i] for i in local]


def _write_cache(client: Any, pieces: list[Any], parts: list[Any], column: str,
                 identity: str) -> np.ndarray:
    """Stream the partitions' vectors into the cache file ``embed`` would write."""
    import hashlib

    from toolkit.topics.embeddings import cache_dir

    texts_parts = client.map(_texts_of, pieces, column=column)
    digest = hashlib.sha256(identity.encode())
    shapes = client.gather(client.map(np.shape, parts))
    n = sum(s[0] for s in shapes)
    dim = shapes[0][1] if shapes else 0
    for texts_future in texts_parts:  # one partition's texts on the client at a time
        for text in texts_future.result():
            digest.update(text.encode("utf-8"))
            digest.update(b"\x00")
    path = cache_dir() / "embeddings" / f"{digest.hexdigest()}.npy"
    if path.is_file():
        cached = np.load(path, mmap_mode="r", allow_pickle=False)
        if cached.shape[0] == n:
            return cached
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    dtype = client.submit(_dtype, parts[0]).result() if parts else "<f4"
    out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.dtype(dtype), shape=(n, dim))
    row = 0
    try:
        for future in parts:
            block = future.result()
            out[row:row + len(block)] = block
            row += len(block)
            future.release()
        out.flush()
        del out
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return np.load(path, mmap_mode="r", allow_pickle=False)


def fit_topics_distributed(model: Any, segments: Any, *, client: Any = None,
                           scheduler: str | None = None, workers: int | None = None,
                           sample_size: int = 10_000, random_state: int | None = None,
                           npartitions: int | None = None) -> Any:
    """Fit a topic model on a sample of the segments, then place every segment on workers.

    Parameters
    ----------
    model : TopicModel
        Unfitted; fitted here on the sample (on the client, where its caches are).
    segments : DataFrame or Dask DataFrame
        ``segment_id``, ``text``.
    sample_size : int, default 10000
        Segments to fit on, drawn with ``random_state`` (default: the model's).

    Returns
    -------
    DataFrame or dask.dataframe.DataFrame
        ``segment_id, topic`` for every segment, in input order: equal to
        ``model.transform(segments)`` after ``model.fit`` on the same sample. Computed for a
        pandas ``segments``; lazy, partition for partition, for a Dask one (which then needs
        the ``client`` it lives on).
    """
    dd, _ = require_dask("fit_topics_distributed")
    seed = getattr(model, "random_state", 0) if random_state is None else random_state
    if isinstance(segments, pd.DataFrame):
        frame = segments.reset_index(drop=True)
        sample = frame.iloc[sample_positions(len(frame), sample_size, seed)]
        model.fit(sample.reset_index(drop=True))
        with dask_client(client, scheduler=scheduler, workers=workers,
                         where="fit_topics_distributed") as own, dataframe_config():
            shared = own.scatter(model, broadcast=True)
            placed = [own.submit(_assign, p, shared, pure=False)
                      for p in _pieces(own, frame, npartitions)]
            return pd.concat(own.gather(placed), ignore_index=True)
    with dask_client(client, scheduler=scheduler, workers=workers,
                     where="fit_topics_distributed") as own, dataframe_config():
        pieces = _pieces(own, segments, None)
        lengths = own.gather(own.map(len, pieces))
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(int)
        chosen = sample_positions(int(offsets[-1]), sample_size, seed)
        picks = []
        for k, piece in enumerate(pieces):
            local = chosen[(chosen >= offsets[k]) & (chosen < offsets[k + 1])] - offsets[k]
            if len(local):
                picks.append(own.submit(_rows, piece, local.tolist()))
        sample = pd.concat(own.gather(picks), ignore_index=True)
        model.fit(sample)
        meta = pd.DataFrame({"segment_id": pd.array([], dtype="string"),
                             "topic": np.empty(0, np.int64)})
        return segments.map_partitions(_assign, model, meta=meta, align_dataframes=False)


def _rows(part: pd.DataFrame, local: list[int]) -> pd.DataFrame:
    return part.iloc[local]

