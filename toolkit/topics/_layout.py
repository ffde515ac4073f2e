"""UMAP's method, computed so that the result does not depend on the machine.

UMAP (McInnes, Healy and Melville, 2018; the ``umap-learn`` package, BSD-3) builds a fuzzy
graph of each document's nearest neighbours and lays it out by stochastic gradient
descent. Its layout is compiled by numba with ``fastmath``, which lets the compiler
reorder and fuse floating-point operations differently for each CPU, and its spectral
start solves an eigenproblem through BLAS. The gradient descent then amplifies those
last-bit differences: on 108 short texts, machines with other vector units found other
topics.

This module follows umap-learn's algorithm step for step (``smooth_knn_dist``,
``compute_membership_strengths``, the fuzzy union, the categorical intersection used for
guided topics, ``make_epochs_per_sample``, random initialisation and
``_optimize_layout_euclidean_single_epoch``), with three differences that make it
bit-identical on every IEEE-754 machine:

* it is compiled without ``fastmath``, so every addition and multiplication is rounded as
  written, whatever vector instructions the CPU has;
* it calls no maths library: ``exp`` and ``pow`` are computed from additions,
  multiplications and exact power-of-two scaling (:func:`_exp`, :func:`_log`), instead of
  the C library's versions, which differ between CPUs with and without fused multiply-add;
* its inputs arrive identical: neighbour similarities are rounded to a grid before they are
  ranked (see :func:`toolkit.topics._reduce.exact_neighbours`), and the membership strengths
  are rounded too, so the last-bit noise of the matrix products (which do depend on the
  BLAS library and the CPU) never reaches the layout.

Everything runs in one thread, seeded by ``random_state``.
"""

from __future__ import annotations

import math
from typing import Any

import numba
import numpy as np
import scipy.sparse as sp

__all__ = ["StableUMAP", "fuzzy_graph", "find_ab_params", "membership_weights"]

_LN2 = 0.6931471805599453
# ln 2 split as in fdlibm: the high part has trailing zero bits, so k * _LN2_HI is exact.
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.4426950408889634
_SQRT_HALF = 0.7071067811865476
# Series coefficients, highest power first: 1/k! for k = 8..0 and 1/(2k+1) for k = 5..0
# (each a correctly rounded division, so the same numbers on every machine). A layout needs
# no more than about 1e-9 relative accuracy.
_EXP_SERIES = tuple(1.0 / math.factorial(k) for k in range(8, -1, -1))
_ATANH_SERIES = tuple(1.0 / (2 * k + 1) for k in range(5, -1, -1))
#: 2**k for k = -1074..1023, exact; scaling by it is ``ldexp`` without a library call.
_POW2 = np.array([math.ldexp(1.0, k) for k in range(-1074, 1024)])
#: UMAP's tolerances (``umap.umap_``): binary search stop and the floor on sigma.
_SMOOTH_K_TOLERANCE = 1e-5
_MIN_K_DIST_SCALE = 1e-3
#: Membership strengths are rounded to this many decimals before the layout.
_WEIGHT_DECIMALS = 8


@numba.njit(cache=True, inline="always")
def _exp(x: float) -> float:  # pragma: no cover - compiled
    """``e**x`` from basic arithmetic only (relative error below 1e-9)."""
    if x < -744.0:
        return 0.0
    if x > 709.0:
        return math.inf
    k = math.floor(x * _INV_LN2 + 0.5)
    r = (x - k * _LN2_HI) - k * _LN2_LO  # |r| <= ln(2) / 2
    p = 0.0
    for c in _EXP_SERIES:  # Taylor series of e**r to r**8, Horner form
        p = p * r + c
    return p * _POW2[int(k) + 1074]


@numba.njit(cache=True, inline="always")
def _log(x: float) -> float:  # pragma: no cover - compiled
    """Natural logarithm of ``x > 0`` from basic arithmetic only (error below 1e-9)."""
    m, e = math.frexp(x)  # x = m * 2**e, 0.5 <= m < 1 (exact)
    if m < _SQRT_HALF:
        m *= 2.0
        e -= 1
    s = (m - 1.0) / (m + 1.0)  # |s| < 0.172
    s2 = s * s
    series = 0.0
    for c in _ATANH_SERIES:  # 2 atanh(s) = 2 (s + s**3/3 + s**5/5 + ...), to s**11
        series = series * s2 + c
    return e * _LN2 + 2.0 * s * series


@numba.njit(cache=True, inline="always")
def _pow(x: float, y: float) -> float:  # pragma: no cover - compiled
    """``x**y`` for ``x > 0`` through :func:`_exp` and :func:`_log`."""
    return _exp(y * _log(x))


def find_ab_params(spread: float = 1.0, min_dist: float = 0.0) -> tuple[float, float]:
    """Fit the curve ``1 / (1 + a d**(2b))`` as umap-learn does, rounded to 6 decimals.

    The least-squares fit is computed once per setting; rounding it keeps the constants the
    same on every machine.
    """
    from scipy.optimize import curve_fit

    def curve(x: np.ndarray, a: float, b: float) -> np.ndarray:
        return 1.0 / (1.0 + a * x ** (2 * b))

    xv = np.linspace(0, spread * 3, 300)
    yv = np.where(xv < min_dist, 1.0, np.exp(-(xv - min_dist) / spread))
    (a, b), _ = curve_fit(curve, xv, yv)
    return round(float(a), 6), round(float(b), 6)


@numba.njit(cache=True)
def _smooth_knn_dist(distances: np.ndarray, k: float) -> tuple[np.ndarray, np.ndarray]:
    # pragma: no cover - compiled; umap.umap_.smooth_knn_dist in float64, in one thread.
    n, m = distances.shape
    target = _log(k) / _LN2
    rho = np.zeros(n)
    sigma = np.zeros(n)
    total = 0.0
    for i in range(n):
        for j in range(m):
            total += distances[i, j]
    mean_all = total / (n * m)
    for i in range(n):
        for j in range(m):  # rho: distance to the nearest neighbour that is not itself
            if distances[i, j] > 0.0:
                rho[i] = distances[i, j]
                break
        lo, hi, mid = 0.0, math.inf, 1.0
        for _ in range(64):
            psum = 0.0
            for j in range(1, m):
                d = distances[i, j] - rho[i]
                psum += _exp(-(d / mid)) if d > 0.0 else 1.0
            if abs(psum - target) < _SMOOTH_K_TOLERANCE:
                break
            if psum > target:
                hi = mid
                mid = (lo + hi) / 2.0
            else:
                lo = mid
                mid = mid * 2.0 if hi == math.inf else (lo + hi) / 2.0
        sigma[i] = mid
        row_mean = 0.0
        for j in range(m):
            row_mean += distances[i, j]
        row_mean /= m
        floor = _MIN_K_DIST_SCALE * (row_mean if rho[i] > 0.0 else mean_all)
        if sigma[i] < floor:
            sigma[i] = floor
    return sigma, rho


@numba.njit(cache=True)
def _strengths(indices: np.ndarray, distances: np.ndarray, sigma: np.ndarray,
               rho: np.ndarray, skip_self: bool) -> np.ndarray:
    # pragma: no cover - compiled; umap.umap_.compute_membership_strengths
    n, m = indices.shape
    values = np.zeros((n, m))
    for i in range(n):
        for j in range(m):
            if skip_self and indices[i, j] == i:
                values[i, j] = 0.0
            elif distances[i, j] - rho[i] <= 0.0 or sigma[i] == 0.0:
                values[i, j] = 1.0
            else:
                values[i, j] = _exp(-((distances[i, j] - rho[i]) / sigma[i]))
    return values


def membership_weights(indices: np.ndarray, distances: np.ndarray, *,
                       skip_self: bool = True) -> np.ndarray:
    """Fuzzy membership of each row's neighbours (UMAP's local fuzzy simplicial sets).

    Parameters
    ----------
    indices, distances : ndarray of shape (n, k)
        Nearest neighbours, nearest first. As in UMAP, the smoothing leaves the first
        column out of its sum (it is the row itself when the rows were searched among
        themselves).
    skip_self : bool, default True
        Give a row's edge to itself strength 0 (neighbours searched among the rows).

    Returns
    -------
    ndarray of float64, shape (n, k)
        Strengths in [0, 1], rounded to 8 decimals.
    """
    distances = np.ascontiguousarray(distances, dtype=np.float64)
    sigma, rho = _smooth_knn_dist(distances, float(distances.shape[1]))
    values = _strengths(np.ascontiguousarray(indices, dtype=np.int64), distances, sigma, rho,
                        skip_self)
    return np.round(values, _WEIGHT_DECIMALS)


def _fuzzy_union(graph: sp.coo_matrix) -> sp.csr_matrix:
    transpose = graph.transpose()
    union = (graph + transpose - graph.multiply(transpose)).tocsr()
    union.eliminate_zeros()
    union.data = np.round(union.data, _WEIGHT_DECIMALS)
    return union


def fuzzy_graph(indices: np.ndarray, distances: np.ndarray, y: Any = None, *,
                target_weight: float = 0.5) -> sp.csr_matrix:
    """UMAP's fuzzy graph of the documents, with labels intersected in when given.

    Parameters
    ----------
    indices, distances : ndarray of shape (n, k)
        Each document's nearest neighbours among the documents, itself first.
    y : array-like of int, optional
        Category per document (``-1``: unknown), as in guided topic modelling; edges between
        documents of different categories are weakened as UMAP's ``target_metric=
        "categorical"`` does.
    target_weight : float, default 0.5
        UMAP's weight of the labels.

    Returns
    -------
    scipy.sparse.csr_matrix of shape (n, n)
        Symmetric edge strengths in [0, 1].
    """
    n = len(indices)
    values = membership_weights(indices, distances)
    graph = sp.coo_matrix((values.ravel(), (np.repeat(np.arange(n), indices.shape[1]),
                                            indices.ravel())), shape=(n, n))
    graph.eliminate_zeros()
    graph = _fuzzy_union(graph)
    if y is None:
        return graph
    from sklearn.preprocessing import normalize

    labels = np.asarray(y, dtype=np.int64)
    far = 2.5 * (1.0 / (1.0 - target_weight)) if target_weight < 1.0 else 1.0e12
    coo = graph.tocoo()
    row_label, col_label = labels[coo.row], labels[coo.col]
    unknown = (row_label == -1) | (col_label == -1)
    factor = np.where(unknown, _exp(-1.0), np.where(row_label != col_label, _exp(-far), 1.0))
    coo.data = coo.data * factor
    coo.eliminate_zeros()
    # umap.umap_.reset_local_connectivity: each row's strongest edge back to 1, then union.
    csr = normalize(coo.tocsr(), norm="max")
    return _fuzzy_union(csr.tocoo())


@numba.njit(cache=True)
def _next_random(state: np.ndarray) -> int:  # pragma: no cover - compiled
    """umap.utils.tau_rand_int: a Tausworthe generator on three 32-bit words."""
    state[0] = (((state[0] & 4294967294) << 12) & 0xFFFFFFFF) ^ (
        (((state[0] << 13) & 0xFFFFFFFF) ^ state[0]) >> 19)
    state[1] = (((state[1] & 4294967288) << 4) & 0xFFFFFFFF) ^ (
        (((state[1] << 2) & 0xFFFFFFFF) ^ state[1]) >> 25)
    state[2] = (((state[2] & 4294967280) << 17) & 0xFFFFFFFF) ^ (
        (((state[2] << 3) & 0xFFFFFFFF) ^ state[2]) >> 11)
    return state[0] ^ state[1] ^ state[2]


@numba.njit(cache=True)
def _clip(value: float) -> float:  # pragma: no cover - compiled
    if value > 4.0:
        return 4.0
    if value < -4.0:
        return -4.0
    return value


@numba.njit(cache=True)
def _optimize(embedding: np.ndarray, head: np.ndarray, tail: np.ndarray,
              epochs_per_sample: np.ndarray, a: float, b: float, gamma: float,
              initial_alpha: float, negative_sample_rate: float, n_epochs: int,
              rng_state: np.ndarray) -> None:
    # pragma: no cover - compiled; umap.layouts.optimize_layout_euclidean (move_other=True)
    n_vertices, dim = embedding.shape
    epochs_per_negative_sample = epochs_per_sample / negative_sample_rate
    next_negative = epochs_per_negative_sample.copy()
    next_sample = epochs_per_sample.copy()
    alpha = initial_alpha
    for n in range(n_epochs):
        for i in range(epochs_per_sample.shape[0]):
            if next_sample[i] > n:
                continue
            j = head[i]
            k = tail[i]
            dist_squared = 0.0
            for d in range(dim):
                diff = embedding[j, d] - embedding[k, d]
                dist_squared += diff * diff
            if dist_squared > 0.0:
                power = _pow(dist_squared, b)  # d**(b-1) below is power / d
                grad_coeff = -2.0 * a * b * (power / dist_squared)
                grad_coeff /= a * power + 1.0
            else:
                grad_coeff = 0.0
            for d in range(dim):
                grad = _clip(grad_coeff * (embedding[j, d] - embedding[k, d]))
                embedding[j, d] += grad * alpha
                embedding[k, d] -= grad * alpha
            next_sample[i] += epochs_per_sample[i]
            n_negative = int((n - next_negative[i]) / epochs_per_negative_sample[i])
            for _ in range(n_negative):
                k = _next_random(rng_state[j]) % n_vertices
                dist_squared = 0.0
                for d in range(dim):
                    diff = embedding[j, d] - embedding[k, d]
                    dist_squared += diff * diff
                if dist_squared > 0.0:
                    grad_coeff = 2.0 * gamma * b
                    grad_coeff /= (0.001 + dist_squared) * (a * _pow(dist_squared, b) + 1.0)
                elif j == k:
                    continue
                else:
                    grad_coeff = 0.0
                if grad_coeff > 0.0:
                    for d in range(dim):
                        grad = _clip(grad_coeff * (embedding[j, d] - embedding[k, d]))
                        embedding[j, d] += grad * alpha
            next_negative[i] += n_negative * epochs_per_negative_sample[i]
        alpha = initial_alpha * (1.0 - n / n_epochs)


class StableUMAP:
    """UMAP's reduction from precomputed neighbours, bit-identical on every machine.

    Parameters
    ----------
    n_neighbors : int, default 15
        Neighbourhood size; the neighbours given to :meth:`fit_transform` must have at least
        this many columns (the first being the document itself).
    n_components : int, default 5
    min_dist, spread : float, default 0.0 and 1.0
        As in UMAP.
    n_epochs : int, optional
        Default as UMAP: 500 up to 10,000 documents, 200 above.
    learning_rate, repulsion_strength, negative_sample_rate : float
        As in UMAP (1.0, 1.0, 5).
    target_weight : float, default 0.5
        Weight of the labels in a guided (semi-supervised) fit.
    random_state : int, default 0
        Seeds the starting positions and the negative sampling.

    Attributes
    ----------
    graph_ : scipy.sparse.csr_matrix
        The fuzzy graph that was laid out.
    embedding_ : ndarray of float32, shape (n, n_components)
    """

    def __init__(self, *, n_neighbors: int = 15, n_components: int = 5, min_dist: float = 0.0,
                 spread: float = 1.0, n_epochs: int | None = None, learning_rate: float = 1.0,
                 repulsion_strength: float = 1.0, negative_sample_rate: int = 5,
                 target_weight: float = 0.5, random_state: int = 0) -> None:
        self.n_neighbors = n_neighbors
        self.n_components = n_components
        self.min_dist = min_dist
        self.spread = spread
        self.n_epochs = n_epochs
        self.learning_rate = learning_rate
        self.repulsion_strength = repulsion_strength
        self.negative_sample_rate = negative_sample_rate
        self.target_weight = target_weight
        self.random_state = random_state

    def get_params(self) -> dict[str, Any]:
        """Return the parameters as stored (for cache keys)."""
        return dict(vars(self)) | {"method": "stable-umap-1"}

    def fit_transform(self, indices: np.ndarray, distances: np.ndarray,
                      y: Any = None) -> np.ndarray:
        """Lay out the documents given their neighbours (``indices``, ``distances``).

        Returns
        -------
        ndarray of float32, shape (n, n_components)
        """
        n = len(indices)
        graph = fuzzy_graph(indices[:, :self.n_neighbors], distances[:, :self.n_neighbors],
                            y, target_weight=self.target_weight).tocoo()
        graph.sum_duplicates()
        n_epochs = self.n_epochs or (500 if n <= 10_000 else 200)
        if graph.nnz:
            graph.data[graph.data < graph.data.max() / float(n_epochs)] = 0.0
            graph.eliminate_zeros()
        rng = np.random.default_rng(self.random_state)
        embedding = rng.uniform(-10.0, 10.0, size=(n, self.n_components))
        low, high = embedding.min(axis=0), embedding.max(axis=0)
        embedding = (10.0 * (embedding - low) / np.where(high > low, high - low, 1.0))
        embedding = np.ascontiguousarray(embedding, dtype=np.float64)
        self.graph_ = graph.tocsr()
        if graph.nnz:
            weights = graph.data
            samples = n_epochs * (weights / weights.max())
            epochs_per_sample = np.where(samples > 0, float(n_epochs) / np.where(
                samples > 0, samples, 1.0), -1.0)
            a, b = find_ab_params(self.spread, self.min_dist)
            seeds = rng.integers(1, 2**31 - 1, size=(n, 3), dtype=np.int64)
            _optimize(embedding, graph.row.astype(np.int64), graph.col.astype(np.int64),
                      epochs_per_sample, a, b, float(self.repulsion_strength),
                      float(self.learning_rate), float(self.negative_sample_rate),
                      int(n_epochs), seeds)
        self.embedding_ = embedding.astype(np.float32)
        return self.embedding_
