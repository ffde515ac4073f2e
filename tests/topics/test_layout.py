"""The machine-independent layout: its arithmetic, its agreement with umap-learn, its output."""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from toolkit.topics._layout import (
    StableUMAP,
    _exp,
    _log,
    _pow,
    find_ab_params,
    fuzzy_graph,
    membership_weights,
)
from toolkit.topics._reduce import exact_neighbours


def _blobs(n_per: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(3, 20)) * 4
    points = np.vstack([c + rng.normal(size=(n_per, 20)) for c in centres])
    return points, np.repeat(np.arange(3), n_per)


@pytest.mark.parametrize("x", [-740.0, -700.0, -30.5, -1.0, -1e-9, 0.0, 1e-12, 0.3466, 1.0,
                               12.25, 88.7, 700.0])
def test_exp_matches_the_maths_library(x: float) -> None:
    assert _exp(x) == pytest.approx(math.exp(x), rel=1e-9)


@pytest.mark.parametrize("x", [1e-300, 1e-12, 0.001, 0.70710678, 1.0, 1.41421357, 2.0,
                               3.0, 1234.5, 1e300])
def test_log_and_pow_match_the_maths_library(x: float) -> None:
    assert _log(x) == pytest.approx(math.log(x), rel=1e-10, abs=1e-10)
    for y in (-0.2085, 0.7915, 0.5):
        assert _pow(x, y) == pytest.approx(x ** y, rel=1e-9)


def test_exp_and_pow_are_accurate_over_the_layouts_range() -> None:
    from toolkit.topics._layout import _pow as pow_

    xs = np.geomspace(1e-12, 1e4, 2001)
    ours = np.array([pow_(x, 0.7915) for x in xs])
    assert np.max(np.abs(ours / xs ** 0.7915 - 1)) < 2e-9


def test_ab_params_are_umaps() -> None:
    from umap.umap_ import find_ab_params as umap_ab

    a, b = find_ab_params(1.0, 0.0)
    ua, ub = umap_ab(1.0, 0.0)
    assert (a, b) == (round(ua, 6), round(ub, 6))


def test_fuzzy_graph_matches_umap_learn() -> None:
    """Same neighbours in, the same fuzzy graph out as umap-learn's (to float32 precision)."""
    from umap.umap_ import fuzzy_simplicial_set

    points, _ = _blobs()
    indices, distances = exact_neighbours(points, points, 15, self_first=True)
    ours = fuzzy_graph(indices, distances).toarray()
    theirs, _, _ = fuzzy_simplicial_set(points, 15, np.random.RandomState(0), "cosine",
                                        knn_indices=indices.astype(np.int64),
                                        knn_dists=distances.astype(np.float32))
    assert np.allclose(ours, theirs.toarray(), atol=2e-6)
    assert np.allclose(ours, ours.T)


def test_labels_weaken_edges_across_categories() -> None:
    points, truth = _blobs()
    indices, distances = exact_neighbours(points, points, 15, self_first=True)
    plain = fuzzy_graph(indices, distances)
    labels = truth.copy()
    labels[::7] = -1
    guided = fuzzy_graph(indices, distances, labels).tocoo()
    across = (labels[guided.row] != labels[guided.col]) & (labels[guided.row] >= 0) & (
        labels[guided.col] >= 0)
    same = labels[guided.row] == labels[guided.col]
    assert guided.data[across].max(initial=0) < 0.1 < guided.data[same].mean()
    assert guided.shape == plain.shape


def test_membership_of_new_points_skips_nothing_of_their_own() -> None:
    points, _ = _blobs()
    indices, distances = exact_neighbours(points[:5] + 0.01, points, 10)
    weights = membership_weights(indices, distances, skip_self=False)
    assert weights.shape == (5, 10) and (weights[:, 0] == 1.0).all()


def test_layout_separates_well_separated_blobs_and_repeats_exactly() -> None:
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score

    points, truth = _blobs()
    indices, distances = exact_neighbours(points, points, 15, self_first=True)
    first = StableUMAP(n_components=2).fit_transform(indices, distances)
    second = StableUMAP(n_components=2).fit_transform(indices, distances)
    assert first.dtype == np.float32 and first.shape == (120, 2)
    assert np.array_equal(first, second)
    found = KMeans(3, n_init=10, random_state=0).fit_predict(first)
    assert adjusted_rand_score(truth, found) == 1.0
    other_seed = StableUMAP(n_components=2, random_state=1).fit_transform(indices, distances)
    assert not np.array_equal(first, other_seed)


_LAYOUT_CHILD = """
import hashlib, importlib.util, sys
import numpy as np
spec = importlib.util.spec_from_file_location("layout_alone", {path!r})
layout = importlib.util.module_from_spec(spec)
spec.loader.exec_module(layout)  # without the toolkit package: no BERTopic, no umap-learn
data = np.load({npz!r})
out = layout.StableUMAP().fit_transform(data["indices"], data["distances"])
guided = layout.StableUMAP().fit_transform(data["indices"], data["distances"], y=data["y"])
print(hashlib.sha256(out.tobytes() + guided.tobytes()).hexdigest())
"""

_FIT_CHILD = """
import hashlib, json, sys
from toolkit.topics import TopicModel
sys.path.insert(0, {tests!r})
from topics.test_topics import TINY
model = TopicModel(min_topic_size=5, use_cache=False).fit(TINY)
layout = model.model_.umap_model.embedding_
print(json.dumps({{"layout": hashlib.sha256(layout.tobytes()).hexdigest(),
                  "topics": model.topics_.tolist(),
                  "keywords": [list(k) for k in model.topic_info_["keywords"]]}}))
"""


def _child(code: str, **env: str) -> str:
    proc = subprocess.run([sys.executable, "-c", code], env=dict(os.environ, **env),
                          capture_output=True, text=True, timeout=900, check=True)
    return proc.stdout.strip().splitlines()[-1]


def test_layout_is_the_same_when_numba_compiles_for_another_cpu(tmp_path: Path) -> None:
    """What another machine does: numba generates code for a generic CPU.

    With ``fastmath``, umap-learn's layout gives other numbers there (fused multiply-adds
    and vector reductions change); this layout must give the same bits. The child loads
    the layout module on its own so that it compiles only this module's functions.
    """
    import toolkit.topics._layout as layout

    points, truth = _blobs(n_per=60, seed=3)
    indices, distances = exact_neighbours(points, points, 15, self_first=True)
    labels = np.where(np.arange(len(truth)) % 4 == 0, -1, truth)
    np.savez(tmp_path / "knn.npz", indices=indices, distances=distances, y=labels)
    here = StableUMAP().fit_transform(indices, distances)
    guided = StableUMAP().fit_transform(indices, distances, y=labels)
    code = _LAYOUT_CHILD.format(path=layout.__file__, npz=str(tmp_path / "knn.npz"))
    elsewhere = _child(code, NUMBA_CPU_NAME="generic", NUMBA_CACHE_DIR=str(tmp_path / "nb"))
    assert elsewhere == hashlib.sha256(here.tobytes() + guided.tobytes()).hexdigest()


def _other_sorting() -> dict[str, str]:
    """Make NumPy in a child sort with its baseline code instead of AVX2/AVX-512 code.

    Equal values then come out of ``argsort`` and ``sort_values`` in another order, as on
    a machine with other vector units. Empty where NumPy dispatches no such code.
    """
    from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__

    off = [f for f in ("X86_V3", "X86_V4", "AVX512_ICL", "AVX512_SPR")
           if f in __cpu_dispatch__ and __cpu_features__.get(f)]
    return {"NPY_DISABLE_CPU_FEATURES": " ".join(off)} if off else {}


def test_topics_are_the_same_with_other_blas_threads_and_other_sorting() -> None:
    """The whole fit in a child whose BLAS runs one thread (other partial sums) and whose
    NumPy sorts with other code (other tie order)."""
    from toolkit.topics import TopicModel

    from .test_topics import TINY

    model = TopicModel(min_topic_size=5, use_cache=False).fit(TINY)
    tests = str(Path(__file__).resolve().parents[1])
    child = json.loads(_child(_FIT_CHILD.format(tests=tests), OPENBLAS_NUM_THREADS="1",
                              OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", **_other_sorting()))
    assert child["topics"] == model.topics_.tolist()
    assert child["layout"] == hashlib.sha256(
        model.model_.umap_model.embedding_.tobytes()).hexdigest()
    assert child["keywords"] == [list(k) for k in model.topic_info_["keywords"]]
    assert len(set(child["topics"]) - {-1}) == 3
