"""Benchmark: loading 100,000 real BibTeX entries and 100,000 real RIS records.

The BibTeX file is built from the entries of the real files in ``../shared/data/messy/bibtex``
(raw Unicode and chemistry macros from bibliotex, ``@string`` macros, LaTeX accents in names
and ``crossref`` targets from the iridia database, JabRef and biber test files), repeated
with a new key and a marked title until there are ``--entries`` of them; the iridia
``@string`` definitions and crossref targets come first, as in the real database. The RIS
file is built the same way from the records of the real RIS exports in
``../shared/data/messy/ris`` (Scopus, Embase, Ovid, ProQuest, Zotero, Web of Science, ...).

In one run, each in a fresh process (so each peak memory is its own): bare
``bibtexparser.parse_file`` (its default middleware), ``load_corpus`` on one process and
with its default (two processes on a two-core machine); for the RIS file ``load_corpus``
with its default (one process) and with ``workers=2``. Reported: seconds, ratio to bare
bibtexparser, peak memory (PSS of the loading process plus its worker processes) and the
machine's load average, since parallel reading only helps when cores are free.

Usage: python bench/bench_load.py [--entries 100000] [--ris 100000] [--shared ../shared/data]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bibtexparser import model
from bibtexparser.splitter import Splitter

ROOT = Path(__file__).resolve().parents[1]
BIB_SOURCES = [
    "bibliotex_mit/bibliotex_all_concatenated.bib",
    "iridia_ulb_references/articles.bib",
    "iridia_ulb_references/biblio.bib",
    "jabref_test_resources/testjabref.bib",
    "jabref_test_resources/complex.bib",
    "jabref_test_resources/jabref-authors.bib",
    "bibtexparser_v1.4.4_tests_data/biber-examples.bib",
]
IRIDIA_HEAD = ["abbrev.bib", "journals.bib", "authors.bib", "crossref.bib"]
RIS_SOURCES = ["*.ris", "web_of_science.txt", "ris_issue_1099.txt", "ris_issue_992.txt",
               "pubmed_endnote.txt"]
_KEY = re.compile(r"^(\s*@\s*\w+\s*\{\s*)([^,\s]*)", re.S)
_TITLE = re.compile(r"(\btitle\s*=\s*[{\"])", re.I)


def _entries(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8", errors="replace")
    logging.disable(logging.WARNING)  # the sources' own broken entries are not news here
    try:
        blocks = Splitter(text).split().blocks
    finally:
        logging.disable(logging.NOTSET)
    return [b.raw for b in blocks if isinstance(b, model.Entry) and b.raw and b.key]


def build_bibtex(shared: Path, n: int, target: Path) -> int:
    bib = shared / "messy" / "bibtex"
    entries = [raw for name in BIB_SOURCES for raw in _entries(bib / name)]
    head = "\n".join((bib / "iridia_ulb_references" / name).read_text(encoding="utf-8")
                     for name in IRIDIA_HEAD)
    with target.open("w", encoding="utf-8") as out:
        out.write(head + "\n")
        for i in range(n):
            raw = entries[i % len(entries)]
            if i >= len(entries):
                raw = _KEY.sub(lambda m, i=i: f"{m.group(1)}{m.group(2)}-v{i}", raw, count=1)
                raw = _TITLE.sub(lambda m, i=i: f"{m.group(1)}V{i} ", raw, count=1)
            out.write(raw + "\n\n")
    return len(entries)


def _ris_records(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8-sig", errors="replace").replace("\r\n", "\n")
    return re.findall(r"^TY  - .*?^ER  -[^\n]*", text, re.M | re.S)


def build_ris(shared: Path, n: int, target: Path) -> int:
    folder = shared / "messy" / "ris" / "asreview_tests_demo_data"
    # webapp_ris_many_authors.ris is a test of one record with 7,456 authors, not an export
    paths = sorted({p for pattern in RIS_SOURCES for p in folder.glob(pattern)
                    if p.name != "webapp_ris_many_authors.ris"})
    records = [r for p in paths for r in _ris_records(p)]
    with target.open("w", encoding="utf-8") as out:
        for i in range(n):
            record = records[i % len(records)]
            if i >= len(records):
                record = re.sub(r"^(TI|T1)  - ", rf"\1  - V{i} ", record, count=1, flags=re.M)
                record = re.sub(r"^ID  - (.*)$", rf"ID  - \1-v{i}", record, count=1,
                                flags=re.M)
            out.write(record + "\n\n")
    return len(records)


_CHILD = """
import json, os, resource, sys, threading, time, warnings
warnings.simplefilter("ignore")
kind, path, workers = sys.argv[1], sys.argv[2], sys.argv[3]

def pss(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            return next(int(l.split()[1]) for l in f if l.startswith("Pss:"))
    except (OSError, StopIteration):
        return 0

def children(pid):
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found.extend(int(c) for c in f.read().split())
    except OSError:
        pass
    return found

peak = [0]
done = threading.Event()
def sample():
    me = os.getpid()
    while not done.is_set():
        peak[0] = max(peak[0], pss(me) + sum(pss(c) for c in children(me)))
        done.wait(0.05)

threading.Thread(target=sample, daemon=True).start()
start = time.perf_counter()
if kind == "bare":
    import bibtexparser
    library = bibtexparser.parse_file(path)
    count = len(library.entries)
else:
    from toolkit.corpus import load_corpus
    result = load_corpus(path, workers=None if workers == "auto" else int(workers))
    count = len(result.records)
seconds = time.perf_counter() - start
done.set()
own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "count": count, "pss_kib": peak[0], "own_kib": own,
                  "load": os.getloadavg()[0]}))
"""


def measure(kind: str, path: Path, workers: str = "1") -> dict:
    """Run one load in a fresh process; return seconds, records and peak memory.

    Peak memory is the largest sum, sampled every 50 ms, of the proportional set size
    (PSS) of the loading process and its worker processes, so pages a forked worker shares
    with its parent count once; where /proc is missing, the process's own peak RSS.
    """
    done = subprocess.run([sys.executable, "-c", _CHILD, kind, str(path), workers],
                          capture_output=True, text=True, check=True,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["peak_mib"] = (result["pss_kib"] or result["own_kib"]) / 1024
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--ris", type=int, default=100_000)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bib, ris = Path(tmp) / "bench.bib", Path(tmp) / "bench.ris"
        t0 = time.perf_counter()
        real = build_bibtex(args.shared, args.entries, bib)
        real_ris = build_ris(args.shared, args.ris, ris)
        print(f"built in {time.perf_counter() - t0:.1f} s: {bib.stat().st_size / 2**20:.0f} MiB "
              f"BibTeX ({args.entries:,} entries from {real:,} real ones), "
              f"{ris.stat().st_size / 2**20:.0f} MiB RIS ({args.ris:,} records from "
              f"{real_ris:,} real ones)")
        bare = measure("bare", bib)
        rows = [("bibtexparser.parse_file (bare)", bare)]
        rows.append(("load_corpus, 1 process", measure("load", bib, "1")))
        rows.append(("load_corpus, default (2 processes)", measure("load", bib, "auto")))
        print(f"\n{'BibTeX':34} {'records':>9} {'seconds':>8} {'x bare':>7} {'peak MiB':>9}"
              f" {'load':>5}")
        for label, r in rows:
            print(f"{label:34} {r['count']:>9,} {r['seconds']:>8.1f} "
                  f"{r['seconds'] / bare['seconds']:>7.2f} {r['peak_mib']:>9.0f}"
                  f" {r['load']:>5.1f}")
        print(f"\n{'RIS':34} {'records':>9} {'seconds':>8} {'':>7} {'peak MiB':>9} {'load':>5}")
        for label, workers in (("load_corpus, default (1 process)", "auto"),
                               ("load_corpus, workers=2", "2")):
            r = measure("load", ris, workers)
            print(f"{label:34} {r['count']:>9,} {r['seconds']:>8.1f} {'':>7} "
                  f"{r['peak_mib']:>9.0f} {r['load']:>5.1f}")
        print(f"\nload = the machine's 1-minute load average at the end of each run "
              f"({os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
