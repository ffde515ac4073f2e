"""Benchmark: rule coding and de-duplication on one process and on Dask LocalClusters.

Rule coding: ``10,000,000 * scale`` thirty-word segments (drawn, seeded, from the words of
the bundled evidence statements, as in bench_rules.py), made on the workers partition by
partition (100,000 segments each) and coded with the bundled codebook; only the code
frequency table comes back to the client. The one-process run codes the same partitions
one after another in one process and adds up the same table; the tables must be equal.

De-duplication: ``1,000,000 * scale`` records with realistic duplicates
(bench/dedupe_data.py's generator over the real records in ../shared/data: each work in 2.2
of six databases on average, its copies varied as databases vary them; past the real
pool's 23,534 works, works made from them, see ``made_works``), ``deduplicate`` against
``deduplicate_distributed``. The records are stored once as parquet files of 50,000; the
one-process run reads them all, the clusters read them on the workers (a file a
partition), and the tables stay there: kept records, merge log, pairs and sources are
compared through a sum of row hashes computed where they are (equal for equal rows, in any
order), with the uncertain pairs and the stats; all must be equal in the three runs.

The CPU time each working process got during the timed part is printed as a share of the
wall time: on a machine other jobs share, a worker that got 50% of a core explains a
speed-up below the number of workers.

Each case runs in a fresh process (one process; a LocalCluster of 1 worker; of 2 workers,
each single-threaded), so peak memory is the case's own: the peak resident memory of the
process (``VmHWM``) and of every worker process for the clusters (read on the workers when
the case ends). The 1-minute load average of the machine is printed with every figure, since
the machine may be shared.

Usage: python bench/bench_scale.py [--scale 1.0] [--part coding|dedupe|all]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
SEGMENTS = 10_000_000
RECORDS = 1_000_000
PART = 100_000


# --- segments ---------------------------------------------------------------------------

def vocabulary() -> np.ndarray:
    import toolkit as tk

    return np.array(" ".join(tk.load_review().evidence["statement"]).split())


def make_partition(number: int, size: int, words: np.ndarray) -> pd.DataFrame:
    """Segments ``number * PART ...`` of the benchmark (seeded by the partition number)."""
    rng = np.random.default_rng(number)
    picks = rng.integers(0, len(words), size=(size, 30))
    texts = [" ".join(row) for row in words[picks]]
    ids = [f"s{number:05d}-{i:06d}" for i in range(size)]
    return pd.DataFrame({"segment_id": pd.array(ids, dtype="string"),
                         "text": pd.array(texts, dtype="string")})


def _sizes(n: int) -> list[int]:
    return [min(PART, n - start) for start in range(0, n, PART)]


def _rss_mib() -> float:
    """Peak resident memory of this process, in MiB.

    ``VmHWM`` on Linux: ``ru_maxrss`` survives ``exec``, so a process started from a big
    one (the parent holding the made records; a worker started by the client) would report
    its parent's size at the fork.
    """
    try:
        status = Path("/proc/self/status").read_text()
        return int(status.split("VmHWM:")[1].split()[0]) / 1024
    except (OSError, IndexError, ValueError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def coding_case(workers: int, n: int) -> dict[str, object]:
    from toolkit.codebook import load_codebook
    from toolkit.coding import RuleCoder
    from toolkit.coding.analysis import frequency_counts, frequency_table, keyed_codings
    from toolkit.paths import bundled_codebook_path

    book = load_codebook(bundled_codebook_path())
    words = vocabulary()
    sizes = _sizes(n)
    out: dict[str, object] = {"part": "coding", "workers": workers, "items": n}
    if workers == 0:
        coder = RuleCoder(book).fit()
        with _timed(out, workers, _warm):
            counts = []
            for number, size in enumerate(sizes):
                codings = coder.transform(make_partition(number, size, words))
                counts.append(frequency_counts(keyed_codings(codings, book, "code", "bench")))
            table = frequency_table(pd.concat(counts, ignore_index=True), book, "code",
                                    by=None, documents=False, works=False)
    else:
        import dask.dataframe as dd

        from toolkit.scale import code_distributed, compute_code_frequencies_distributed

        with _timed(out, workers, _warm) as client:
            segments = dd.from_map(make_partition, list(range(len(sizes))), sizes,
                                   words=words, meta=make_partition(0, 0, words),
                                   enforce_metadata=False)
            codings = code_distributed(RuleCoder(book), segments, client=client)
            table = compute_code_frequencies_distributed(codings, book, whole_segments=True)
    out["client_rss_mib"] = _rss_mib()
    out["table"] = table.to_json()
    return out


@contextlib.contextmanager
def _timed(out: dict[str, object], workers: int, warm: Callable[[], None]
           ) -> Iterator[Any]:
    """Time the block: in this process (``workers == 0``, yields None) or on a new
    LocalCluster of single-threaded workers, warmed by ``warm`` before the clock starts
    (yields its client). Records seconds, CPU seconds of each working process (and of the
    client), and the workers' peak memory in ``out``."""
    if workers == 0:
        start, cpu = time.perf_counter(), _cpu_seconds()
        yield None
        out["seconds"] = time.perf_counter() - start
        out["cpu_seconds"] = [_cpu_seconds() - cpu]
        out["worker_rss_mib"] = []
        return
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=None, memory_limit=0) as cluster, \
            Client(cluster) as client:
        client.run(warm)  # imports (and the matcher), outside the timing
        cpu = client.run(_cpu_seconds)
        start, client_cpu = time.perf_counter(), _cpu_seconds()
        yield client
        out["seconds"] = time.perf_counter() - start
        out["client_cpu_seconds"] = _cpu_seconds() - client_cpu
        out["cpu_seconds"] = [v - cpu[k] for k, v in client.run(_cpu_seconds).items()]
        out["worker_rss_mib"] = sorted(client.run(_rss_mib).values())


def _warm() -> None:
    from toolkit.codebook import load_codebook
    from toolkit.coding import RuleCoder
    from toolkit.paths import bundled_codebook_path
    from toolkit.scale.coding import _settings, _worker_coder

    key, settings = _settings(RuleCoder(load_codebook(bundled_codebook_path())))
    _worker_coder(key, settings)


# --- de-duplication ---------------------------------------------------------------------

#: Databases a work is found in, on average (as bench/bench_dedupe.py's benchmark).
MEAN_COPIES = 2.2


def made_works(pool: pd.DataFrame, n: int, random_state: int = 0) -> pd.DataFrame:
    """``n`` further works in the pool's shape, so the benchmark can pass the real pool's size.

    The real pool (about 23,500 works) makes about 53,000 records at 2.2 databases a work;
    a bibliometric slice of a million records has far more works. Each made work takes its
    title's first half from one real work and its second half from another, its authors,
    year, venue and type from a third; it has no DOI, abstract, volume, issue or pages (none
    is made up). Titles so made are distinct works to the de-duplication, whose copies in
    several databases are then varied like the real works' (bench/dedupe_data.py).
    """
    rng = np.random.default_rng(random_state)
    titles = pool["title"].astype(str).str.split().to_numpy()
    first, second, donor = (rng.integers(0, len(pool), n) for _ in range(3))
    made = pool.iloc[donor].copy().reset_index(drop=True)
    made["title"] = [" ".join(titles[a][:max(1, len(titles[a]) // 2)]
                              + titles[b][len(titles[b]) // 2:])
                     for a, b in zip(first, second, strict=True)]
    for column in ("doi", "abstract", "volume", "issue", "pages"):
        made[column] = None
    made["origin"] = "made"
    return made


def dedupe_records(n: int) -> pd.DataFrame:
    """``n`` records: the real works first, then made works (see :func:`made_works`)."""
    sys.path.insert(0, str(HERE))
    from dedupe_data import load_pool, make_benchmark

    real = load_pool()
    n_works = int(np.ceil(n / MEAN_COPIES))
    while True:  # copies are drawn: when they fall short, draw again with 5% more works
        pool = real if n_works <= len(real) else pd.concat(
            [real, made_works(real, n_works - len(real))], ignore_index=True)
        records, _ = make_benchmark(pool, n_works=n_works, mean_copies=MEAN_COPIES,
                                    random_state=0)
        if len(records) >= n:
            break
        n_works = int(np.ceil(n_works * 1.05))
    return records.iloc[:n].reset_index(drop=True)


#: Records a stored file holds: one partition of the distributed runs.
RECORDS_PER_FILE = 50_000


def _records_dir(n: int, parent: int) -> Path:
    import tempfile

    return Path(tempfile.gettempdir()) / f"bench_scale_records_{n}_{parent}"


def store_records(records: pd.DataFrame, folder: Path) -> None:
    """Write the records as parquet files of ``RECORDS_PER_FILE`` (numbered in order)."""
    folder.mkdir()
    for number, start in enumerate(range(0, len(records), RECORDS_PER_FILE)):
        records.iloc[start:start + RECORDS_PER_FILE].to_parquet(
            folder / f"records-{number:05d}.parquet")


def read_records(path: str) -> pd.DataFrame:
    """One stored file, tuples restored (parquet gives lists back)."""
    records = pd.read_parquet(path)
    for column in records.columns:
        values = records[column].dropna()
        if len(values) and isinstance(values.iloc[0], (list, np.ndarray)):
            records[column] = [tuple(v) if isinstance(v, (list, np.ndarray)) else v
                               for v in records[column]]
    return records


def _columns_of(path: str) -> pd.DataFrame:
    return read_records(path).iloc[:0]


def _stored(n: int) -> list[str]:
    return sorted(str(p) for p in _records_dir(n, os.getppid()).glob("records-*.parquet"))


def digest(frame: pd.DataFrame) -> int:
    """A sum of row hashes: equal for equal rows in any order or partitioning."""
    if not len(frame):
        return 0
    hashes = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    return int(hashes.sum(dtype=np.uint64))


TABLES = ("records", "log", "pairs", "sources", "uncertain")


def dedupe_case(workers: int, n: int) -> dict[str, object]:
    files = _stored(n)
    out: dict[str, object] = {"part": "dedupe", "workers": workers}
    if workers == 0:
        from toolkit.corpus import deduplicate

        records = pd.concat([read_records(f) for f in files], ignore_index=True)
        out["items"], out["rss_after_records_mib"] = len(records), _rss_mib()
        with _timed(out, workers, _warm_dedupe):
            result = deduplicate(records)
        out["digests"] = {t: digest(getattr(result, t)) for t in TABLES}
    else:
        import dask
        import dask.dataframe as dd

        from toolkit.scale import dataframe_config, deduplicate_distributed

        with _timed(out, workers, _warm_dedupe) as client:
            # read on the workers, a file a partition; the client never holds the records
            meta = client.submit(_columns_of, files[0]).result()
            with dataframe_config():  # authors stay tuples
                records = dd.from_map(read_records, files, meta=meta,
                                      enforce_metadata=False)
            result = deduplicate_distributed(records, client=client)
            sums = dask.compute({t: [dask.delayed(digest)(p)
                                     for p in getattr(result, t).to_delayed()]
                                 for t in TABLES if t != "uncertain"})[0]
        out["items"] = result.stats["records"]
        out["digests"] = {t: sum(v) % 2 ** 64 for t, v in sums.items()}
        out["digests"]["uncertain"] = digest(result.uncertain)
    out["client_rss_mib"] = _rss_mib()
    out["stats"] = result.stats
    return out


def _warm_dedupe() -> None:
    import toolkit.scale.dedupe  # noqa: F401


# --- driver -----------------------------------------------------------------------------

def run_case(part: str, workers: int, scale: float) -> dict[str, object]:
    n = max(1, int(round((SEGMENTS if part == "coding" else RECORDS) * scale)))
    before = os.getloadavg()[0]
    out = coding_case(workers, n) if part == "coding" else dedupe_case(workers, n)
    out["load_before"], out["load_after"] = before, os.getloadavg()[0]
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0,
                        help="fraction of the full size (10M segments, 1M records)")
    parser.add_argument("--part", choices=["coding", "dedupe", "all"], default="all")
    parser.add_argument("--case", help=argparse.SUPPRESS)  # part:workers, in a child
    args = parser.parse_args()
    if args.case:
        part, workers = args.case.split(":")
        print(json.dumps(run_case(part, int(workers), args.scale)))
        return
    print(f"{os.cpu_count()} cores; scale {args.scale}; every case in a fresh process; "
          "rate per core = items/s / processes doing the work; RSS = peak resident memory; "
          "load = 1-minute load average before/after")
    parts = ["coding", "dedupe"] if args.part == "all" else [args.part]
    stored = None
    if "dedupe" in parts:  # made once here, read by the three cases
        import shutil

        n = max(1, int(round(RECORDS * args.scale)))
        stored = _records_dir(n, os.getpid())
        shutil.rmtree(stored, ignore_errors=True)
        store_records(dedupe_records(n), stored)
    try:
        _run(parts, args.scale)
    finally:
        if stored is not None:
            shutil.rmtree(stored, ignore_errors=True)


def _run(parts: list[str], scale: float) -> None:
    for part in parts:
        results = {}
        for workers in (0, 1, 2):
            done = subprocess.run([sys.executable, __file__, "--case", f"{part}:{workers}",
                                   "--scale", str(scale)], capture_output=True,
                                  text=True, check=False)
            if done.returncode:
                print(done.stderr[-3000:])
                raise SystemExit(f"{part} with {workers} workers failed")
            out = json.loads(done.stdout.strip().splitlines()[-1])
            results[workers] = out
            label = "one process" if workers == 0 else f"LocalCluster, {workers} worker(s)"
            rate = out["items"] / out["seconds"]
            cores = max(1, workers)
            memory = (f"worker peak RSS {', '.join(f'{m:,.0f}' for m in out['worker_rss_mib'])}"
                      f" MiB; client {out['client_rss_mib']:,.0f} MiB") if workers else \
                f"process peak RSS {out['client_rss_mib']:,.0f} MiB"
            busy = ", ".join(f"{c / out['seconds']:.0%}" for c in out["cpu_seconds"])
            client_cpu = (f"; client CPU {out['client_cpu_seconds']:.1f} s"
                          if "client_cpu_seconds" in out else "")
            print(f"  {part:6} {label:28} {out['items']:>11,} in {out['seconds']:8.1f} s: "
                  f"{rate:>9,.0f}/s, {rate / cores:>9,.0f}/s per core; CPU of each working "
                  f"process / wall time: {busy}{client_cpu}; {memory}; "
                  f"load {out['load_before']:.1f}/{out['load_after']:.1f}", flush=True)
        key = "table" if part == "coding" else "digests"
        same = len({json.dumps(results[w][key], sort_keys=True) for w in results}) == 1
        if part == "dedupe":
            same = same and len({json.dumps(results[w]["stats"], sort_keys=True)
                                 for w in results}) == 1
            print(f"  stats: {results[0]['stats']}")
        speedup = results[1]["seconds"] / results[2]["seconds"]
        print(f"  {part}: 2 workers {speedup:.2f}x one worker; one worker "
              f"{results[0]['seconds'] / results[1]['seconds']:.2f}x one process; results "
              f"{'identical' if same else 'DIFFER'} across the three runs", flush=True)


if __name__ == "__main__":
    main()
