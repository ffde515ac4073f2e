"""Benchmark: rule-based coding of short segments with the bundled codebook.

Prints segments per second of :class:`toolkit.coding.RuleCoder` (one and two processes) and
of a plain loop of compiled Python ``re`` searches that finds the same matches, measured in
the same run, and their ratio. The segments are synthetic: 30 words drawn (seeded) from the
bundled evidence statements, so the patterns fire about as often as on real text.

Usage: python bench/bench_rules.py [--segments 1000000] [--baseline 100000]
"""

from __future__ import annotations

import argparse
import re
import time

import numpy as np

import toolkit as tk
from toolkit.codebook import load_codebook
from toolkit.coding import RuleCoder, lemma_forms
from toolkit.paths import bundled_codebook_path


def make_segments(n: int, words_per_segment: int = 30, seed: int = 0) -> list[str]:
    statements = tk.load_review().evidence["statement"].tolist()
    vocabulary = np.array(" ".join(statements).split())
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(vocabulary), size=(n, words_per_segment))
    return [" ".join(row) for row in vocabulary[picks]]


def regex_baseline(codebook) -> list[tuple[str, re.Pattern[str]]]:
    """One compiled regex per pattern, matching what the rule coder matches."""
    compiled = []
    for code in codebook.codes:
        for kind, pattern in code.patterns.items():
            if kind == "phrases":
                body = r"\s+".join(re.escape(w) for w in pattern.split())
            elif kind == "lemmas":
                body = r"\s+".join("(?:" + "|".join(map(re.escape, lemma_forms(w))) + ")"
                                   for w in pattern.split())
            elif kind == "globs":
                body = "".join(r"[\w'-]*" if c == "*" else re.escape(c) for c in pattern)
            else:
                compiled.append((code.id, re.compile(pattern, re.IGNORECASE)))
                continue
            compiled.append((code.id, re.compile(rf"(?<![\w'-]){body}(?![\w'-])",
                                                 re.IGNORECASE)))
    return compiled


def run_baseline(texts: list[str], compiled) -> int:
    found = 0
    for text in texts:
        for _code, rx in compiled:
            for _ in rx.finditer(text):
                found += 1
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--segments", type=int, default=1_000_000)
    parser.add_argument("--baseline", type=int, default=100_000,
                        help="segments for the regex loop (its rate is compared)")
    args = parser.parse_args()
    codebook = load_codebook(bundled_codebook_path())
    t0 = time.perf_counter()
    texts = make_segments(args.segments)
    print(f"segments: {len(texts):,} x 30 words (made in {time.perf_counter() - t0:.1f} s)")
    n_patterns = sum(len(c.patterns) for c in codebook.codes)
    print(f"codebook: {len(codebook)} codes, {n_patterns} patterns")

    coder1 = RuleCoder(codebook, batch_size=5000).fit()
    coder2 = RuleCoder(codebook, n_process=2, batch_size=5000).fit()
    sample = texts[: args.baseline]

    t0 = time.perf_counter()
    one = coder1.match_texts(sample)
    rate1 = len(sample) / (time.perf_counter() - t0)

    t0 = time.perf_counter()
    matches = coder2.match_texts(texts)
    elapsed2 = time.perf_counter() - t0
    rate2 = len(texts) / elapsed2

    compiled = regex_baseline(codebook)
    t0 = time.perf_counter()
    found = run_baseline(sample, compiled)
    rate_re = len(sample) / (time.perf_counter() - t0)

    print(f"RuleCoder, 1 process : {rate1:12,.0f} segments/s ({len(one):,} matches in the "
          f"first {len(sample):,})")
    print(f"RuleCoder, 2 processes: {rate2:12,.0f} segments/s; all {len(texts):,} in "
          f"{elapsed2:.1f} s ({len(matches):,} matches)")
    print(f"re loop ({len(compiled)} regexes): {rate_re:12,.0f} segments/s "
          f"({found:,} matches in the first {len(sample):,})")
    print(f"speed-up over the re loop: {rate1 / rate_re:.1f}x on one process, "
          f"{rate2 / rate_re:.1f}x on two")


if __name__ == "__main__":
    main()
