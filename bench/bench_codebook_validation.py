"""Benchmark: codebook validation time against size, for flat books, chains and cycles.

Validation used to walk every code's parent chain with list look-ups (cubic on a chain or a
cycle: 800 codes took 5 s and 11.5 s); it is now one pass. This prints, for each shape and
size, the time of :func:`toolkit.codebook.codebook_from_dict` (validation plus building,
YAML parsing excluded) and the ratio to the next smaller size: about 2 for linear time
when the size doubles, about 8 for cubic. Chains longer than ``MAX_CODE_DEPTH`` are refused
with one problem, and that refusal is what is timed for them.

Usage: python bench/bench_codebook_validation.py [--sizes 800 1600 3200 6400 12800]
"""

from __future__ import annotations

import argparse
import time

from toolkit.codebook import codebook_from_dict
from toolkit.errors import CodebookError


def book(shape: str, n: int) -> dict:
    codes = []
    for i in range(n):
        code = {"id": f"c{i}", "label": f"Code {i}", "definition": "x" * 40,
                "patterns": {"phrases": [f"word {i}"], "regex": [f"w{i}[a-z]+"]}}
        if shape == "flat" and i % 10:
            code["parent"] = f"c{i - i % 10}"
        elif shape == "chain" and i:
            code["parent"] = f"c{i - 1}"
        elif shape == "cycle":
            code["parent"] = f"c{(i - 1) % n}"
        codes.append(code)
    return {"name": "bench", "version": "1", "round": 1, "codes": codes}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[800, 1600, 3200, 6400, 12800])
    args = parser.parse_args()
    print(f"{'shape':6} {'codes':>6} {'seconds':>8} {'ratio':>6}  outcome")
    for shape in ("flat", "chain", "cycle"):
        previous = None
        for n in args.sizes:
            data = book(shape, n)
            start = time.perf_counter()
            try:
                codebook_from_dict(data)
                outcome = "valid"
            except CodebookError as err:
                outcome = f"{len(err.problems)} problem(s)"
            seconds = time.perf_counter() - start
            ratio = f"{seconds / previous:.1f}" if previous else ""
            print(f"{shape:6} {n:6d} {seconds:8.3f} {ratio:>6}  {outcome}")
            previous = seconds


if __name__ == "__main__":
    main()
