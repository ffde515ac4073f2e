"""Benchmark: de-duplication accuracy on labelled data, and its speed at 100,000 records.

Accuracy, on the labelled benchmark of ``bench/dedupe_data.py`` (real records from
``../shared/data`` copied as several database exports would hold them, with hard
non-duplicates: chapters sharing a book DOI, supplement abstracts sharing a DOI, errata,
preprints, same-author-same-year neighbours). Reported: pair precision, pair recall
(sensitivity) and F1 over all pairs of records; false merges (works absorbed into another
work's record) and specificity as ASySD reports it (share of true works that keep a record
of their own); the uncertain pairs left for a person; and the same figures for the
previous rules (``--previous PATH`` to the old ``dedupe.py``). Then on naturally labelled
data: two exports of one 100-record library (``_baseline.ris`` and ``baseline_zotero.ris``),
DOIs hidden, truth from the DOIs.

Speed, each case in a fresh process (two cores): 100,000 records with realistic
duplicates; 20,000 records all of one year; 6,000 records sharing one title (different
works). Reported: seconds, candidate pairs, pairs compared, peak memory of the
de-duplication (tracemalloc, a second run) and the process's peak RSS.

Usage: python bench/bench_dedupe.py [--works 3000] [--random-state 0] [--scale 100000]
       [--previous PATH] [--skip-speed] [--write DIR] [--show 10]
Skips with a message when ../shared/data is absent.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from math import comb
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from dedupe_data import SHARED, load_pool, make_benchmark  # noqa: E402

from toolkit.corpus import deduplicate  # noqa: E402


def pair_metrics(predicted: pd.Series, truth: pd.Series) -> dict[str, float]:
    """Pair and record-level figures for a clustering ``predicted`` against ``truth``.

    Both are indexed by record id; values are cluster ids.
    """
    frame = pd.DataFrame({"pred": predicted, "true": truth.reindex(predicted.index)})
    n = len(frame)
    cells = frame.groupby(["pred", "true"]).size()
    tp = int(sum(comb(int(c), 2) for c in cells))
    pred_pairs = int(sum(comb(int(c), 2) for c in frame.groupby("pred").size()))
    true_pairs = int(sum(comb(int(c), 2) for c in frame.groupby("true").size()))
    fp, fn = pred_pairs - tp, true_pairs - tp
    total = comb(n, 2)
    tn = total - tp - fp - fn
    works_per_cluster = frame.groupby("pred")["true"].nunique()
    false_merges = int((works_per_cluster - 1).sum())
    n_works = frame["true"].nunique()
    clusters_per_work = frame.groupby("true")["pred"].nunique()
    missed_records = int((clusters_per_work - 1).sum())
    duplicates = n - n_works
    return {
        "records": n, "works": n_works, "true_pairs": true_pairs, "predicted_pairs": pred_pairs,
        "tp": tp, "fp": fp, "fn": fn,
        "precision": tp / pred_pairs if pred_pairs else 1.0,
        "recall": tp / true_pairs if true_pairs else 1.0,
        "f1": 2 * tp / (pred_pairs + true_pairs) if pred_pairs + true_pairs else 1.0,
        "pair_specificity": tn / (tn + fp) if tn + fp else 1.0,
        "false_merges": false_merges,
        "specificity": 1 - false_merges / n_works,
        "record_sensitivity": (duplicates - missed_records) / duplicates if duplicates else 1.0,
    }


def _predicted(result: object, records: pd.DataFrame) -> pd.Series:
    sources = getattr(result, "sources", None)
    if sources is not None and len(sources):
        return sources.set_index("source_record_id")["kept_id"]
    # previous implementation: no sources table; rebuild from the log
    kept = pd.Series(records["record_id"].astype(str).values,
                     index=records["record_id"].astype(str).values)
    log = result.log  # type: ignore[attr-defined]
    kept.loc[log["removed_id"].astype(str).values] = log["kept_id"].astype(str).values
    return kept


def _load_previous(path: Path):  # noqa: ANN202
    spec = importlib.util.spec_from_file_location("previous_dedupe", path)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    # the previous log had these ten columns (toolkit.types has more now)
    module.DEDUP_LOG_COLUMNS = ("kept_id", "removed_id", "rule", "score", "matched_id",
                                "filled_fields", "kept_title", "removed_title", "kept_source",
                                "removed_source")
    return module.deduplicate


def _describe_errors(records: pd.DataFrame, truth: pd.DataFrame, predicted: pd.Series,
                     show: int, pairs: pd.DataFrame | None = None) -> None:
    work = truth.set_index("record_id")["work_id"]
    role = truth.set_index("record_id")["role"]
    by_id = records.set_index(records["record_id"].astype(str))
    fps, fns = [], []
    for _cluster, members in predicted.groupby(predicted):
        ids = members.index.tolist()
        for a in range(len(ids)):
            for b in range(a + 1, len(ids)):
                if work[ids[a]] != work[ids[b]]:
                    fps.append((ids[a], ids[b]))
    for _work, members in work.groupby(work):
        ids = members.index.tolist()
        for a in range(len(ids)):
            for b in range(a + 1, len(ids)):
                if predicted[ids[a]] != predicted[ids[b]]:
                    fns.append((ids[a], ids[b]))
    kinds: dict[str, int] = {}
    for a, b in fps:
        doi_a, doi_b = by_id.at[a, "doi"], by_id.at[b, "doi"]
        if role[a] != "copy" or role[b] != "copy":
            kind = f"{role[a]}/{role[b]}"
        elif isinstance(doi_a, str) and isinstance(doi_b, str) and doi_a == doi_b:
            kind = "shared DOI"
        else:
            kind = "other"
        kinds[kind] = kinds.get(kind, 0) + 1
    print(f"  false pairs by kind: {kinds or '{}'}; missed pairs: {len(fns)}")
    if pairs is not None and len(fns):
        index = {(a, b): (d, r) for a, b, d, r in zip(
            pairs["record_id_1"], pairs["record_id_2"], pairs["decision"], pairs["rule"],
            strict=True)}
        why: dict[str, int] = {}
        for a, b in fns:
            d, r = index.get((a, b), index.get((b, a), ("not compared", "")))
            why[f"{d} {r}".strip()] = why.get(f"{d} {r}".strip(), 0) + 1
        print(f"  missed pairs by decision: {dict(sorted(why.items(), key=lambda x: -x[1]))}")
    cols = ["title", "authors", "year", "venue", "volume", "pages", "doi", "database"]
    for label, pairs in (("false", fps), ("missed", fns)):
        for a, b in pairs[:show]:
            print(f"  {label}: {a} / {b}")
            for col in cols:
                print(f"      {col:8} {str(by_id.at[a, col])[:90]!s:92} | "
                      f"{str(by_id.at[b, col])[:90]}")


def run_accuracy(args: argparse.Namespace) -> None:
    pool = load_pool(SHARED)
    records, truth = make_benchmark(pool, n_works=args.works, random_state=args.random_state)
    if args.write:
        out = Path(args.write)
        out.mkdir(parents=True, exist_ok=True)
        flat = records.copy()
        for col in ("authors", "keywords", "extra"):
            flat[col] = flat[col].map(lambda v: "; ".join(map(str, v)) if v else "")
        flat.to_csv(out / "dedupe_benchmark_records.csv", index=False)
        truth.to_csv(out / "dedupe_benchmark_truth.csv", index=False)
        print(f"wrote the benchmark to {out} (third-party records: do not commit)")
    truth_series = truth.set_index("record_id")["work_id"]
    print(f"Labelled benchmark (random_state={args.random_state}): {len(records)} records, "
          f"{truth['work_id'].nunique()} works "
          f"({(truth['role'] == 'notice').sum()} errata/corrections, "
          f"{(truth['role'] == 'preprint').sum()} preprints), pool of {len(pool)} real works")
    start = time.perf_counter()
    result = deduplicate(records)
    seconds = time.perf_counter() - start
    predicted = _predicted(result, records)
    m = pair_metrics(predicted, truth_series)
    print(f"  current rules: precision {m['precision']:.4f}  recall {m['recall']:.4f}  "
          f"F1 {m['f1']:.4f}  ({m['tp']} of {m['true_pairs']} true pairs, {m['fp']} false "
          f"pairs)")
    print(f"    false merges {m['false_merges']}, specificity {m['specificity']:.4f}, "
          f"record sensitivity {m['record_sensitivity']:.4f}, pair specificity "
          f"{m['pair_specificity']:.6f}; {seconds:.1f} s")
    uncertain = result.uncertain
    if len(uncertain):
        same = (truth_series.reindex(uncertain["record_id_1"]).values
                == truth_series.reindex(uncertain["record_id_2"]).values)
        print(f"    uncertain pairs for a person: {len(uncertain)} ({int(same.sum())} true "
              f"duplicates, {int((~same).sum())} different works); by rule: "
              f"{uncertain['rule'].value_counts().to_dict()}")
        # a reviewer who decides every uncertain pair correctly
        decided = uncertain[["record_id_1", "record_id_2"]].copy()
        decided["decision"] = np.where(same, "merge", "keep apart")
        reviewed = deduplicate(records, decisions=decided)
        r = pair_metrics(_predicted(reviewed, records), truth_series)
        print(f"    after a person decides them: precision {r['precision']:.4f}  recall "
              f"{r['recall']:.4f}  F1 {r['f1']:.4f}")
    print(f"    merge log rules: {result.log['rule'].value_counts().to_dict()}")
    pairs = result.pairs
    different = (truth_series.reindex(pairs["record_id_1"]).values
                 != truth_series.reindex(pairs["record_id_2"]).values)
    hard = pairs[different]
    close = hard[(hard["title_match"].isin(["exact", "similar", "prefix", "partial",
                                            "numbers", "acronyms"]))
                 & (hard["first_author_match"] == "agree")]
    print(f"    pairs of different works compared field by field: {len(hard)} "
          f"({hard['decision'].value_counts().to_dict()}); with one DOI: "
          f"{int((hard['doi_match'] == 'agree').sum())}; notices: "
          f"{int((hard['rule'] == 'notice').sum())}; preprints: "
          f"{int((hard['rule'] == 'preprint').sum())}; same first author and titles at "
          f"least 80 alike: {len(close)}")
    _describe_errors(records, truth, predicted, args.show, result.pairs)
    if args.previous:
        previous = _load_previous(Path(args.previous))
        start = time.perf_counter()
        old = previous(records.drop(columns="database"))
        seconds = time.perf_counter() - start
        p = pair_metrics(_predicted(old, records), truth_series)
        print(f"  previous rules ({args.previous}): precision {p['precision']:.4f}  recall "
              f"{p['recall']:.4f}  F1 {p['f1']:.4f}  ({p['fp']} false pairs), false merges "
              f"{p['false_merges']}, specificity {p['specificity']:.4f}; {seconds:.1f} s")


def run_natural() -> None:
    from dedupe_data import _quiet_load

    from toolkit.corpus._dedupe_fields import comparison_doi as doi_key

    demo = SHARED / "messy" / "ris" / "asreview_tests_demo_data"
    frames = []
    for name in ("_baseline.ris", "baseline_zotero.ris"):
        frame = _quiet_load(demo / name)
        frame["record_id"] = name + ":" + frame["record_id"].astype(str)
        frames.append(frame)
    records = pd.concat(frames, ignore_index=True)
    keys = records["doi"].map(doi_key)
    labelled = records[keys != ""].reset_index(drop=True)
    truth = pd.Series(keys[keys != ""].values, index=labelled["record_id"].astype(str))
    hidden = labelled.assign(doi=None)
    for label, frame in (("DOIs kept", labelled), ("DOIs hidden", hidden)):
        result = deduplicate(frame)
        m = pair_metrics(_predicted(result, frame), truth)
        print(f"  asreview _baseline.ris + baseline_zotero.ris ({m['records']} records, "
              f"{m['works']} works by DOI), {label}: precision {m['precision']:.4f}  recall "
              f"{m['recall']:.4f}  ({m['fp']} false, {m['fn']} missed pairs; "
              f"{len(result.uncertain)} uncertain)")


def _speed_case(case: str, scale: int) -> dict[str, object]:
    pool = load_pool(SHARED)
    if case == "scale":  # every pool work, copies enough for ``scale`` records
        records, truth = make_benchmark(pool, n_works=len(pool),
                                        mean_copies=1.1 * scale / len(pool), random_state=0)
        records = records.iloc[:scale].reset_index(drop=True)
    elif case == "one_year":  # 20,000 records all of one year
        records, truth = make_benchmark(pool, n_works=9000, mean_copies=2.2, random_state=0)
        records = records.iloc[:20_000].copy()
        records["year"] = pd.array([2020] * len(records), dtype="Int64")
    else:  # 6,000 records of works by different first authors, all given one title
        from dedupe_data import _split_name, _strip_accents

        first = pool["authors"].map(lambda a: _strip_accents(_split_name(a[0])[0]).lower())
        distinct = pool[~first.duplicated()].reset_index(drop=True)
        records, truth = make_benchmark(distinct, n_works=6200, mean_copies=1.0,
                                        random_state=0)
        copies = truth["role"].eq("copy").to_numpy()  # errata and preprints would get the
        records = records[copies].iloc[:6000].copy()  # very title they are about
        truth = truth[copies]
        records["title"] = "Effects of exercise on depression in older adults"
    gc.collect()
    start = time.perf_counter()
    result = deduplicate(records)
    seconds = time.perf_counter() - start
    m = pair_metrics(_predicted(result, records), truth.set_index("record_id")["work_id"])
    out: dict[str, object] = {
        "case": case, "records": len(records), "seconds": seconds,
        "works": len(result.records), "uncertain": len(result.uncertain),
        "precision": m["precision"], "recall": m["recall"], "true_works": m["works"],
        **{k: v for k, v in result.stats.items() if k.endswith("pairs")}}
    del result
    gc.collect()
    tracemalloc.start()
    deduplicate(records)
    out["peak_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    out["max_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["load"] = os.getloadavg()[0]
    return out


def run_speed(scale: int) -> None:
    print(f"Speed ({os.cpu_count()} cores; each case in a fresh process; peak = tracemalloc "
          "peak of the de-duplication alone, RSS = the whole process incl. loading the pool; "
          "load = 1-minute load average of the machine)")
    for case in ("scale", "one_year", "same_title"):
        done = subprocess.run([sys.executable, __file__, "--case", case, "--scale", str(scale)],
                              capture_output=True, text=True, check=True)
        out = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"  {case:10} {out['records']:>7} records: {out['seconds']:6.1f} s, "
              f"{out['candidate_pairs']:>9} candidate pairs "
              f"({out['candidate_pairs'] / out['records']:.1f} per record), "
              f"{out['compared_pairs']:>7} compared; {out['works']} works found of "
              f"{out['true_works']}, precision {out['precision']:.4f} recall "
              f"{out['recall']:.4f}, {out['uncertain']} uncertain; peak "
              f"{out['peak_mib']:.0f} MiB, RSS {out['max_rss_mib']:.0f} MiB, load "
              f"{out['load']:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--works", type=int, default=3000)
    parser.add_argument("--random-state", type=int, default=0,
                        help="seed of the labelled benchmark (0 is the published one)")
    parser.add_argument("--scale", type=int, default=100_000)
    parser.add_argument("--previous", help="path of the previous dedupe.py to compare")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--write", help="write the generated benchmark (CSV) to this folder")
    parser.add_argument("--show", type=int, default=5, help="examples of errors to print")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not SHARED.is_dir():
        print(f"skipped: {SHARED} is absent; the benchmark reads real records from there")
        return
    if args.case:
        print(json.dumps(_speed_case(args.case, args.scale)))
        return
    run_accuracy(args)
    print("Naturally labelled data")
    run_natural()
    if not args.skip_speed:
        run_speed(args.scale)


if __name__ == "__main__":
    main()
