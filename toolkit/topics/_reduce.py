"""Dimension reduction for topic models: UMAP on exact nearest neighbours, cached on disk.

UMAP's own neighbour search (NN-descent from pynndescent) is approximate, and in a new
process it first spends tens of seconds compiling. Below :data:`EXACT_NEIGHBOURS_LIMIT`
documents the neighbours are instead found exactly, by blocked matrix products of the
unit-length embeddings (cosine distance), and handed to UMAP as ``precomputed_knn``: no
compilation of NN-descent, and the same neighbours on every run. Above the limit UMAP
searches as usual.

UMAP compiles its numba functions in every new process (about 10 s here), because they are
not declared with ``cache=True``. :func:`cache_umap_compilation` switches numba's own
on-disk cache on for the ones a fit uses, so only the first fit on a machine compiles.

New documents are placed without refitting: at the membership-weighted mean of the
reduced positions of their nearest fitted documents, with UMAP's own membership
strengths. This is how UMAP's ``transform`` starts; its refinement epochs are left out.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from toolkit._io import atomic_write_npy
from toolkit.errors import NotFittedError, TopicModelError

__all__ = ["EXACT_NEIGHBOURS_LIMIT", "exact_neighbours", "NeighbourUMAP",
           "cache_umap_compilation"]

#: Up to this many documents the neighbours are found exactly (about 4 s for 18,000
#: documents of 100 dimensions on two cores; the cost grows with the square of n).
EXACT_NEIGHBOURS_LIMIT = 50_000
_BLOCK_BYTES = 1 << 27  # similarity block of at most 128 MB
#: Cosine similarities are rounded to this many decimals before neighbours are ranked.
SIMILARITY_DECIMALS = 6


# The numba functions an exact-neighbour, single-threaded (seeded) UMAP fit compiles, by
# module. The parallel layout function is left out on purpose: it shares its Python
# function with the serial one, and numba's cache would not tell the two apart.
_UMAP_JITTED = {
    "umap.umap_": ("smooth_knn_dist", "compute_membership_strengths", "fast_intersection",
                   "fast_metric_intersection", "reprocess_row", "reset_local_metrics"),
    "umap.layouts": ("clip", "_nb_optimize_layout_euclidean_single_epoch"),
    "umap.utils": ("tau_rand_int", "tau_rand"),
}
_umap_cache_on = False


def cache_umap_compilation() -> bool:
    """Keep UMAP's compiled numba functions on disk between processes.

    Numba writes them beside UMAP's sources, or into the user cache folder when that is not
    writable, and recompiles by itself when UMAP's source files change. Returns whether the
    cache is on; any problem (a newer UMAP without these functions, nowhere to write) leaves
    UMAP compiling as usual.
    """
    global _umap_cache_on
    if _umap_cache_on:
        return True
    import importlib

    try:
        for module_name, names in _UMAP_JITTED.items():
            module = importlib.import_module(module_name)
            for name in names:
                dispatcher: Any = getattr(module, name, None)
                if hasattr(dispatcher, "enable_caching") and not dispatcher.signatures:
                    dispatcher.enable_caching()
    except Exception:  # noqa: BLE001 - an optimisation only: never fail a fit over it
        return False
    _umap_cache_on = True
    return True


def _unit(vectors: np.ndarray) -> np.ndarray:
    vectors = np.ascontiguousarray(vectors, dtype=np.float64)
    norms = np.sqrt(np.einsum("ij,ij->i", vectors, vectors))[:, None]
    return vectors / np.where(norms == 0, 1, norms)


def _top_k(sims: np.ndarray, k: int) -> np.ndarray:
    """Columns of the ``k`` largest values of each row; of equal values, the lowest columns.

    ``argpartition`` alone would pick among equal values by its own algorithm, and NumPy
    chooses that algorithm by CPU (vectorised sorts on AVX2 and AVX-512 machines), so ties
    at the k-th place would go differently on different machines. Here only the k-th
    largest *value* comes from ``partition`` (the same number everywhere); which columns
    reach it is decided by comparison and column order.
    """
    n = sims.shape[1]
    if k >= n:
        return np.broadcast_to(np.arange(n), sims.shape).copy()
    kth = np.partition(sims, n - k, axis=1)[:, n - k]
    mask = sims >= kth[:, None]
    for row in np.nonzero(mask.sum(axis=1) > k)[0]:  # a tie straddles the k-th place
        above = np.flatnonzero(sims[row] > kth[row])
        tied = np.flatnonzero(sims[row] == kth[row])
        mask[row] = False
        mask[row, above] = True
        mask[row, tied[:k - len(above)]] = True
    return np.nonzero(mask)[1].reshape(len(sims), k)


def exact_neighbours(queries: np.ndarray, points: np.ndarray, k: int, *,
                     decimals: int = SIMILARITY_DECIMALS, self_first: bool = False
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Find the ``k`` nearest ``points`` of every query row by cosine distance.

    The similarities are computed in float64 and rounded to ``decimals`` decimals before
    they are ranked. The matrix product that computes them depends on the BLAS library, the
    CPU and the number of threads in its last bits; after rounding, those differences are
    gone (except for a similarity within about 1e-15 of a rounding edge), so the same
    neighbours and distances come out on every machine.

    Parameters
    ----------
    queries, points : ndarray of shape (m, d) and (n, d)
        Any scale; rows are brought to unit length (a zero row is at distance 1 from all).
    k : int
        Neighbours per query, at most ``n``.
    decimals : int, default 6
        Rounding of the cosine similarities before ranking.
    self_first : bool, default False
        ``queries`` are ``points``: put each row first among its own neighbours (UMAP's
        convention), even when a duplicate row ties with it.

    Returns
    -------
    indices : ndarray of int32, shape (m, k)
        Nearest first; ties go to the lower index, so the result is the same on every run.
    distances : ndarray of float64, shape (m, k)
        Cosine distances ``1 - rounded similarity``, clipped to [0, 2].
    """
    queries, points = _unit(queries), _unit(points)
    m, n = len(queries), len(points)
    if not 1 <= k <= n:
        raise TopicModelError(f"exact_neighbours: k={k} must be between 1 and the number "
                              f"of points ({n}); ask for fewer neighbours")
    if self_first and m != n:
        raise TopicModelError("exact_neighbours: self_first needs the queries to be the "
                              "points")
    indices = np.empty((m, k), dtype=np.int32)
    distances = np.empty((m, k), dtype=np.float64)
    step = max(1, _BLOCK_BYTES // (8 * n))
    for start in range(0, m, step):
        sims = np.round(queries[start:start + step] @ points.T, decimals)
        if self_first:
            rows = np.arange(len(sims))
            sims[rows, start + rows] = np.inf
        part = _top_k(sims, k)
        part_sims = np.take_along_axis(sims, part, axis=1)
        # Order by similarity, then index (lexsort is stable: the same order everywhere).
        order = np.lexsort((part, -part_sims), axis=1)
        indices[start:start + step] = np.take_along_axis(part, order, axis=1)
        ordered = np.minimum(np.take_along_axis(part_sims, order, axis=1), 1.0)
        distances[start:start + step] = np.clip(1.0 - ordered, 0.0, 2.0)
    return indices, distances


@functools.cache
def _code_version(stable: bool) -> str:
    """Identify the code that computes a reduction.

    A changed layout then never reads a stale cache entry: the key holds the sources of
    this module and of the layout, or umap-learn's version.
    """
    if not stable:
        from importlib.metadata import version

        return "umap-learn " + version("umap-learn")
    from toolkit.topics import _layout

    digest = hashlib.sha256()
    for path in sorted({Path(__file__), Path(_layout.__file__)}):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _approximate_neighbours(data: np.ndarray, k: int, random_state: int
                            ) -> tuple[np.ndarray, np.ndarray]:
    """Neighbours by NN-descent (pynndescent, as UMAP searches), for large corpora."""
    from pynndescent import NNDescent

    index = NNDescent(data, n_neighbors=k, metric="cosine", random_state=random_state,
                      n_jobs=1, low_memory=True, compressed=True)
    indices, distances = index.neighbor_graph
    return indices.astype(np.int32), distances.astype(np.float64)


class NeighbourUMAP:
    """Dimension reduction fed with exact neighbours, read from a disk cache when known.

    It wraps either :class:`toolkit.topics._layout.StableUMAP` (the same result on every
    machine) or ``umap.UMAP`` (umap-learn's own layout: faster to compile, but its result
    depends on the CPU; see the module docstring).

    The cache key is SHA-256 over the input vectors, the (semi-supervised) labels, the
    reducer's parameters and the neighbour search used, so a refit with other clustering
    settings skips both encoding and the reduction.

    Parameters
    ----------
    umap : StableUMAP or umap.UMAP
        Unfitted; its ``n_neighbors`` is the neighbourhood searched.
    folder : Path, optional
        Cache folder; ``None`` switches the cache off.
    """

    def __init__(self, umap: Any, folder: Path | None) -> None:
        self.umap = umap
        self.folder = folder
        self.vectors_: np.ndarray | None = None
        self.embedding_: np.ndarray | None = None

    @property
    def stable(self) -> bool:
        """Whether the layout is machine-independent (:class:`StableUMAP`)."""
        from toolkit.topics._layout import StableUMAP

        return isinstance(self.umap, StableUMAP)

    def _exact(self, n: int) -> bool:
        return n <= EXACT_NEIGHBOURS_LIMIT

    def _key(self, data: np.ndarray, labels: Any) -> str:
        digest = hashlib.sha256(np.ascontiguousarray(data).tobytes())
        digest.update(str(data.dtype).encode())
        if labels is not None:
            digest.update(np.asarray(labels).tobytes())
        params = {k: v for k, v in self.umap.get_params().items()
                  if isinstance(v, (int, float, str, bool, type(None)))}
        params["neighbours"] = (f"exact-2-{SIMILARITY_DECIMALS}" if self._exact(len(data))
                                else "nndescent")
        params["code"] = _code_version(self.stable)
        digest.update(json.dumps(params, sort_keys=True).encode())
        return digest.hexdigest()

    def _reduce(self, data: np.ndarray, y: Any) -> np.ndarray:
        n = len(data)
        k = min(self.umap.n_neighbors, n)
        if self.stable:
            random_state = self.umap.random_state
            indices, distances = (exact_neighbours(data, data, k, self_first=True)
                                  if self._exact(n)
                                  else _approximate_neighbours(data, k, random_state))
            return self.umap.fit_transform(indices, distances, y=y)
        if self._exact(n):
            indices, distances = exact_neighbours(data, data, k, self_first=True)
            self.umap.set_params(precomputed_knn=(indices, distances.astype(np.float32)))
        return np.asarray(self.umap.fit_transform(data, y=y), dtype=np.float32)

    def fit_transform(self, data: np.ndarray, y: Any = None) -> np.ndarray:
        """Reduce ``data`` (read from the cache when this exact input was reduced before)."""
        data = np.asarray(data)
        if data.dtype != np.float64:
            data = data.astype(np.float32)
        path = (self.folder / f"{self._key(data, y)}.npy") if self.folder else None
        if path is not None and path.is_file():
            reduced = np.load(path, allow_pickle=False)
        else:
            reduced = self._reduce(data, y)
            if path is not None:
                atomic_write_npy(path, reduced)
        self.vectors_, self.embedding_ = data, reduced
        return reduced

    def fit(self, data: np.ndarray, y: Any = None) -> NeighbourUMAP:
        """Fit; see :meth:`fit_transform`."""
        self.fit_transform(data, y)
        return self

    def transform(self, data: np.ndarray) -> np.ndarray:
        """Place new rows at the membership-weighted mean of their nearest fitted rows."""
        from toolkit.topics._layout import membership_weights

        if self.vectors_ is None or self.embedding_ is None:
            raise NotFittedError("NeighbourUMAP: call fit before transform")
        k = min(self.umap.n_neighbors, len(self.vectors_))
        indices, distances = exact_neighbours(np.asarray(data), self.vectors_, k)
        weights = membership_weights(indices, distances, skip_self=False)
        totals = weights.sum(axis=1, keepdims=True)
        weights = np.where(totals > 0, weights / np.where(totals > 0, totals, 1.0), 1.0 / k)
        return np.einsum("mk,mkd->md", weights,
                         self.embedding_[indices].astype(np.float64)).astype(np.float32)
