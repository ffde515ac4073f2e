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
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)


def exact_neighbours(queries: np.ndarray, points: np.ndarray, k: int
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Find the ``k`` nearest ``points`` of every query row by cosine distance.

    Parameters
    ----------
    queries, points : ndarray of shape (m, d) and (n, d)
        Any scale; rows are brought to unit length (a zero row is at distance 1 from all).
    k : int
        Neighbours per query, at most ``n``.

    Returns
    -------
    indices : ndarray of int32, shape (m, k)
        Nearest first; ties go to the lower index, so the result is the same on every run.
    distances : ndarray of float32, shape (m, k)
        Cosine distances, clipped to [0, 2].
    """
    queries, points = _unit(queries), _unit(points)
    m, n = len(queries), len(points)
    if not 1 <= k <= n:
        raise TopicModelError(f"exact_neighbours: k={k} must be between 1 and the number "
                              f"of points ({n}); ask for fewer neighbours")
    indices = np.empty((m, k), dtype=np.int32)
    distances = np.empty((m, k), dtype=np.float32)
    step = max(1, _BLOCK_BYTES // (4 * n))
    for start in range(0, m, step):
        sims = queries[start:start + step] @ points.T
        part = (np.argpartition(-sims, k - 1, axis=1)[:, :k] if k < n
                else np.broadcast_to(np.arange(n), sims.shape))
        part_sims = np.take_along_axis(sims, part, axis=1)
        # Order by similarity, then index, so that ties never depend on argpartition.
        order = np.lexsort((part, -part_sims), axis=1)
        indices[start:start + step] = np.take_along_axis(part, order, axis=1)
        distances[start:start + step] = np.clip(
            1.0 - np.take_along_axis(part_sims, order, axis=1), 0.0, 2.0)
    return indices, distances


class NeighbourUMAP:
    """UMAP fed with exact neighbours, whose reduction is read from a disk cache when known.

    The cache key is SHA-256 over the input vectors, the (semi-supervised) labels, UMAP's
    parameters and the neighbour search used, so a refit with other clustering settings
    skips both encoding and UMAP.

    Parameters
    ----------
    umap : umap.UMAP
        Unfitted; its ``n_neighbors`` is the neighbourhood searched.
    folder : Path, optional
        Cache folder; ``None`` switches the cache off.
    """

    def __init__(self, umap: Any, folder: Path | None) -> None:
        self.umap = umap
        self.folder = folder
        self.vectors_: np.ndarray | None = None
        self.embedding_: np.ndarray | None = None

    def _exact(self, n: int) -> bool:
        return n <= EXACT_NEIGHBOURS_LIMIT

    def _key(self, data: np.ndarray, labels: Any) -> str:
        digest = hashlib.sha256(np.ascontiguousarray(data, dtype=np.float32).tobytes())
        if labels is not None:
            digest.update(np.asarray(labels).tobytes())
        params = {k: v for k, v in self.umap.get_params().items()
                  if isinstance(v, (int, float, str, bool, type(None)))}
        params["neighbours"] = "exact-1" if self._exact(len(data)) else "nndescent"
        digest.update(json.dumps(params, sort_keys=True).encode())
        return digest.hexdigest()

    def fit_transform(self, data: np.ndarray, y: Any = None) -> np.ndarray:
        """Reduce ``data`` (read from the cache when this exact input was reduced before)."""
        data = np.asarray(data, dtype=np.float32)
        path = (self.folder / f"{self._key(data, y)}.npy") if self.folder else None
        if path is not None and path.is_file():
            reduced = np.load(path, allow_pickle=False)
        else:
            if self._exact(len(data)):
                k = min(self.umap.n_neighbors, len(data))
                self.umap.set_params(precomputed_knn=exact_neighbours(data, data, k))
            reduced = np.asarray(self.umap.fit_transform(data, y=y), dtype=np.float32)
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
        from umap.umap_ import smooth_knn_dist

        if self.vectors_ is None or self.embedding_ is None:
            raise NotFittedError("NeighbourUMAP: call fit before transform")
        k = min(self.umap.n_neighbors, len(self.vectors_))
        indices, distances = exact_neighbours(np.asarray(data, dtype=np.float32),
                                              self.vectors_, k)
        sigmas, rhos = smooth_knn_dist(distances, float(k))
        weights = np.exp(-np.maximum(distances - rhos[:, None], 0.0) / sigmas[:, None])
        weights /= weights.sum(axis=1, keepdims=True)
        return np.einsum("mk,mkd->md", weights, self.embedding_[indices]).astype(np.float32)
