"""The reduction: exact neighbours, the machine-independent layout, placing new documents."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from toolkit.errors import TopicModelError
from toolkit.topics import TopicModel, _reduce
from toolkit.topics._reduce import exact_neighbours

from .test_topics import TINY


def test_exact_neighbours_match_brute_force_cosine() -> None:
    from sklearn.neighbors import NearestNeighbors

    rng = np.random.default_rng(0)
    points = rng.normal(size=(500, 20)).astype(np.float32)
    queries = rng.normal(size=(40, 20)).astype(np.float32) * 3  # any scale
    indices, distances = exact_neighbours(queries, points, 7)
    ref = NearestNeighbors(n_neighbors=7, metric="cosine", algorithm="brute").fit(points)
    ref_distances, ref_indices = ref.kneighbors(queries)
    assert np.array_equal(indices, ref_indices)
    assert np.allclose(distances, ref_distances, atol=1e-6)
    assert indices.dtype == np.int32 and distances.dtype == np.float64


def test_exact_neighbours_do_not_see_last_bit_noise() -> None:
    # What another BLAS kernel or CPU does to a matrix product: relative noise near 1e-16.
    rng = np.random.default_rng(2)
    points = rng.normal(size=(400, 30))
    noisy = points * (1 + rng.uniform(-4e-16, 4e-16, size=points.shape))
    assert not np.array_equal(points, noisy)
    clean = exact_neighbours(points, points, 10, self_first=True)
    shaken = exact_neighbours(noisy, noisy, 10, self_first=True)
    assert np.array_equal(clean[0], shaken[0]) and np.array_equal(clean[1], shaken[1])
    # The distances sit on the rounding grid.
    assert np.allclose(np.round(clean[1], 6), clean[1], rtol=0, atol=1e-15)


def test_ties_at_the_kth_place_go_to_the_lowest_columns() -> None:
    from toolkit.topics._reduce import _top_k

    rng = np.random.default_rng(3)
    sims = rng.integers(0, 4, size=(200, 40)).astype(float)  # ties everywhere
    for k in (1, 5, 17, 40):
        got = np.sort(_top_k(sims, k), axis=1)
        # Reference: a stable sort by descending value (equal values keep column order).
        want = np.sort(np.argsort(-sims, axis=1, kind="stable")[:, :k], axis=1)
        assert np.array_equal(got, want)


def test_self_first_even_when_a_duplicate_ties() -> None:
    points = np.array([[1, 0], [0, 1], [1, 0], [1, 0.1]])
    indices, distances = exact_neighbours(points, points, 3, self_first=True)
    assert indices[:, 0].tolist() == [0, 1, 2, 3]
    assert indices[2].tolist()[:2] == [2, 0] and distances[2, 0] == 0.0


def test_exact_neighbours_in_small_blocks_give_the_same_answer(monkeypatch) -> None:
    rng = np.random.default_rng(1)
    points = rng.normal(size=(300, 8))
    whole = exact_neighbours(points, points, 5)
    monkeypatch.setattr(_reduce, "_BLOCK_BYTES", 4 * 300 * 7)  # blocks of 7 rows
    blocked = exact_neighbours(points, points, 5)
    assert np.array_equal(whole[0], blocked[0]) and np.array_equal(whole[1], blocked[1])


def test_exact_neighbours_ties_zero_rows_and_k_equal_n() -> None:
    points = np.array([[1, 0], [0, 1], [1, 0], [0, 0], [2, 0]], dtype=np.float32)
    indices, distances = exact_neighbours(points, points, 5)
    assert indices[0].tolist()[:3] == [0, 2, 4]  # equal vectors: lower index first
    assert indices[2].tolist()[:3] == [0, 2, 4]
    assert np.allclose(distances[3], 1.0)  # a zero row is at distance 1 from everything
    assert sorted(indices[1].tolist()) == [0, 1, 2, 3, 4]
    with pytest.raises(TopicModelError, match="k=6"):
        exact_neighbours(points, points, 6)


def test_transform_places_fitted_documents_in_their_own_topics() -> None:
    model = TopicModel(min_topic_size=5).fit(TINY)
    assert np.array_equal(model.transform(TINY), model.topics_)
    new = model.transform(["Tuition fees rose again for learners.",
                           "Rural villages still lack internet access."])
    assert new[0] == model.topics_[0] and new[1] == model.topics_[10]


def test_above_the_exact_limit_neighbours_are_searched(monkeypatch) -> None:
    exact = TopicModel(min_topic_size=5, use_cache=False).fit(TINY)
    monkeypatch.setattr(_reduce, "EXACT_NEIGHBOURS_LIMIT", 10)
    searched = TopicModel(min_topic_size=5, use_cache=False).fit(TINY)
    # Both find the three subjects; the neighbour search differs, the topics do not.
    pd.testing.assert_series_equal(searched.document_topics_["topic"],
                                   exact.document_topics_["topic"])


def test_umap_compilation_is_cached_on_disk() -> None:
    # In a new process: in this one, other tests may have compiled UMAP's functions already.
    import subprocess
    import sys

    code = ("import umap.umap_\n"
            "from toolkit.topics._reduce import cache_umap_compilation\n"
            "assert cache_umap_compilation() is True\n"
            "assert cache_umap_compilation() is True  # idempotent\n"
            "print(type(umap.umap_.smooth_knn_dist._cache).__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out[-1] != "NullCache"


def test_umap_reduction_remains_available() -> None:
    model = TopicModel(min_topic_size=5, reduction="umap", use_cache=False).fit(TINY)
    assert len(set(model.topics_) - {-1}) == 3
    with pytest.raises(TopicModelError, match="reduction='pca'"):
        TopicModel(reduction="pca").fit(TINY)
