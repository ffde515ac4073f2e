"""Fuzz campaign before a release: the codebook, .qdc/.qdpx and coding-sheet properties, long.

Runs tests/codebook/test_properties.py and tests/coding/test_properties.py under the
hypothesis profile ``campaign`` (random, not derandomized; no deadline) with ``--examples``
examples per property, and prints per property the examples tried (passing, failing,
invalid) and the time, then the totals. A property that fails prints hypothesis's smallest
failing input; the script exits non-zero.

Usage: python bench/fuzz_codebook.py [--examples 2000] [-k EXPR]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
FILES = ["tests/codebook/test_properties.py", "tests/coding/test_properties.py"]
_STATS = re.compile(r"(\d+) passing(?: examples?)?, (\d+) failing(?: examples?)?, (?:and )?(\d+) "
                    "invalid")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=2000, help="examples per property")
    parser.add_argument("-k", default=None, help="only properties matching this expression")
    args = parser.parse_args()
    env = {**os.environ, "HYPOTHESIS_PROFILE": "campaign",
           "SLR_FUZZ_EXAMPLES": str(args.examples),
           "PYTHONPATH": os.pathsep.join([str(PROJECT), os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-m", "pytest", *FILES, "-p", "no:cacheprovider", "-q",
               "--hypothesis-show-statistics", "-o", "addopts=", "-rf"]
    if args.k:
        command += ["-k", args.k]
    start = time.perf_counter()
    result = subprocess.run(command, cwd=PROJECT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    counts: dict[str, list[int]] = {}  # property -> [tried, failing, invalid] over phases
    current = None
    for line in result.stdout.splitlines():
        if line.strip().startswith(("tests/", "test_")) and "::" in line and line.endswith(":"):
            current = line.strip().rstrip(":").split("::")[-1]
        match = _STATS.search(line)
        if match and current:
            passing, fails, bad = (int(g) for g in match.groups())
            total = counts.setdefault(current, [0, 0, 0])
            total[0] += passing + fails + bad
            total[1] += fails
            total[2] += bad
    rows = [(name, *values) for name, values in counts.items()]
    tried = sum(r[1] for r in rows)
    failing = sum(r[2] for r in rows)
    invalid = sum(r[3] for r in rows)
    print(f"{'property':62} {'tried':>7} {'failing':>7} {'invalid':>7}")
    for name, count, fails, bad in rows:
        print(f"{name[:62]:62} {count:7d} {fails:7d} {bad:7d}")
    summary = [line for line in result.stdout.splitlines() if " passed" in line
               or " failed" in line or line.startswith("FAILED")]
    print(f"\ninputs tried: {tried:,} (of which invalid/filtered: {invalid:,}); failing "
          f"examples: {failing:,}; wall time {seconds:.0f} s")
    print("\n".join(summary))
    if result.returncode != 0:
        print(result.stdout[-6000:], result.stderr[-2000:], sep="\n")
    return result.returncode


if __name__ == "__main__":
    raise SystemExit(main())
