"""Benchmark: topic models on the ~18,000 abstracts in ../shared/data/abstracts/airas_papers_db.

First, the very first fit on a machine: a fresh process whose numba cache is empty, so
UMAP's and pynndescent's compiled functions are built (as after a new install). Then, for
each embedding backend, in a fresh process with empty embedding and reduction caches
(numba's compiled code now on disk, as on every later run): the cold fit (encode, reduce,
cluster, keywords; the imports before it are timed apart) and peak memory, then a refit with
other clustering settings that reuses the cached embeddings and reduction, and the speed-up
of that refit over the cold fit. Every backend runs with the default, machine-independent
reduction (``reduction="stable"``). Finally, the reference: MiniLM topics as the toolkit
computed them before that reduction existed (umap-learn's own layout, ``reduction="umap"``),
and how closely each backend's topics match it (adjusted Rand index of the assignments, over
all documents and over those that neither calls an outlier). The reference and, when
``minilm`` is not among the timed backends, MiniLM with the stable reduction run on the
MiniLM embeddings of the minilm run or of SLR_CACHE_DIR (encoding them first when absent:
about 12 minutes here). All figures are measured in this one run.

Usage: python bench/bench_topics.py [--limit N] [--backends tfidf minilm-static minilm]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "abstracts" / "airas_papers_db"


def load_abstracts(limit: int | None) -> list[str]:
    texts = []
    for path in sorted(DATA.glob("*.json")):
        for item in json.loads(path.read_text(encoding="utf-8")):
            text = f"{item.get('title', '')}. {item.get('abstract', '')}".strip()
            if len(text) > 20:
                texts.append(" ".join(text.split()))
    return texts[:limit] if limit else texts


def child(backend: str, reduction: str, limit: int | None, out: str) -> None:
    t0 = time.perf_counter()
    import bertopic  # noqa: F401 - timed apart from the fit
    import umap  # noqa: F401

    from toolkit.topics import TopicModel

    import_s = time.perf_counter() - t0
    texts = load_abstracts(limit)
    t0 = time.perf_counter()
    cold = TopicModel(embedding=backend, min_topic_size=30, reduction=reduction).fit(texts)
    cold_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    TopicModel(embedding=backend, min_topic_size=50, reduction=reduction).fit(texts)
    refit_s = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    np.save(out, cold.topics_)
    print(json.dumps({"backend": backend, "reduction": reduction, "documents": len(texts),
                      "import_s": import_s, "cold_s": cold_s,
                      "refit_s": refit_s, "peak_mb": peak_mb,
                      "topics": int((cold.topic_info_["topic"] >= 0).sum()),
                      "outliers": int((cold.topics_ == -1).sum())}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--backends", nargs="+", default=["tfidf", "minilm-static", "minilm"])
    parser.add_argument("--child", nargs=4, metavar=("BACKEND", "REDUCTION", "LIMIT", "OUT"))
    args = parser.parse_args()
    if args.child:
        backend, reduction, limit, out = args.child
        child(backend, reduction, int(limit) or None, out)
        return
    if not DATA.is_dir():
        sys.exit(f"{DATA} is absent; this benchmark needs ../shared/data")
    cache = Path(os.environ.get("SLR_CACHE_DIR", Path.home() / ".cache" / "slr-toolkit"))
    env = dict(os.environ, HF_HUB_OFFLINE="1", SLR_CACHE_DIR=str(cache))
    if "minilm-static" in args.backends:  # distil once, outside the timings
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "from toolkit.topics import make_embedder; "
                        "make_embedder('minilm-static')"], check=True, env=env)
        print(f"static model ready in {time.perf_counter() - t0:.1f} s (distilled once, "
              "then cached)")
    results, assignments = [], {}
    work = Path(tempfile.mkdtemp())
    env["NUMBA_CACHE_DIR"] = str(work / "numba")  # empty: the first child compiles

    runs = itertools.count()

    def run(backend: str, reduction: str = "stable", cache_dir: Path | None = None) -> dict:
        """One child; with no ``cache_dir``, a cold one: a new, empty cache of its own."""
        if cache_dir is None:  # cold: nothing cached for these texts (models kept)
            cache_dir = work / f"cache-{backend}-{next(runs)}"
            cache_dir.mkdir()
            if (cache / "models").is_dir():
                (cache_dir / "models").symlink_to(cache / "models")
        out = work / f"{backend}-{reduction}.npy"
        proc = subprocess.run([sys.executable, __file__, "--child", backend, reduction,
                               str(args.limit or 0), str(out)], check=True,
                              env=dict(env, SLR_CACHE_DIR=str(cache_dir)),
                              capture_output=True, text=True)
        row = json.loads(proc.stdout.strip().splitlines()[-1])
        row["cache"] = str(cache_dir)
        assignments[backend if reduction == "stable" else f"{backend} ({reduction})"] = (
            np.load(out))
        return row

    def report(row: dict, label: str) -> None:
        print(f"{label:22s} {row['documents']:6d} docs  imports {row['import_s']:5.1f} s  "
              f"cold fit {row['cold_s']:7.1f} s  "
              f"cached refit {row['refit_s']:6.1f} s  "
              f"speed-up {row['cold_s'] / row['refit_s']:5.1f}x  "
              f"peak {row['peak_mb']:7.0f} MB  topics {row['topics']:3d}  "
              f"outliers {row['outliers']}", flush=True)

    first = run(args.backends[0])
    del assignments[args.backends[0]]
    print(f"first fit on a machine ({args.backends[0]}, numba cache empty): imports "
          f"{first['import_s']:.1f} s, fit {first['cold_s']:.1f} s", flush=True)
    for backend in args.backends:
        row = run(backend)
        results.append(row)
        report(row, backend)
    # The reference: MiniLM topics with umap-learn's layout, as before the stable reduction,
    # and MiniLM with the stable one, on the MiniLM embeddings cached by the minilm run above
    # or in SLR_CACHE_DIR (when neither has them, the first of these runs encodes them).
    minilm = [row["cache"] for row in results if row["backend"] == "minilm"]
    shared = Path(minilm[0]) if minilm else cache
    reference = run("minilm", "umap", shared)
    report(reference, "minilm (umap, before)")
    if not minilm:
        report(run("minilm", "stable", shared), "minilm (cached emb.)")
    from sklearn.metrics import adjusted_rand_score

    old = assignments["minilm (umap)"]
    for name in [*args.backends, *(["minilm"] if not minilm else [])]:
        new = assignments[name]
        both = (old >= 0) & (new >= 0)
        print(f"ARI {name} (stable) vs MiniLM topics before: "
              f"{adjusted_rand_score(old, new):.3f} on all documents, "
              f"{adjusted_rand_score(old[both], new[both]):.3f} on the {both.sum()} documents "
              "that neither calls an outlier", flush=True)
    if "minilm-static" in args.backends:
        a, b = assignments["minilm"], assignments["minilm-static"]
        both = (a >= 0) & (b >= 0)
        print(f"ARI minilm-static vs minilm (both stable): {adjusted_rand_score(a, b):.3f} on "
              f"all documents, {adjusted_rand_score(a[both], b[both]):.3f} on the "
              f"{both.sum()} documents that neither calls an outlier")
    shutil.rmtree(work, ignore_errors=True)  # the runs' own caches and numba's code


if __name__ == "__main__":
    main()
