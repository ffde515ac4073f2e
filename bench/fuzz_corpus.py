"""A longer fuzzing campaign over the corpus readers (for before a release).

Two generators, sharing the property check of ``tests/corpus/test_properties.py`` (a result
or a toolkit error, every block accounted for, lines inside the file, unique ids, no hang):

1. the hypothesis strategies of the property suite, run again and again with new seeds
   under the ``fuzz`` profile;
2. mutations of real files: the exports in ``../shared/data/messy`` and the project's own
   fixtures, with bytes flipped, inserted, deleted, duplicated or cut, lines swapped,
   format tokens (``@article{``, ``TY  - ``, ``ER``, quotes, braces, NUL, BOMs) inserted, or the
   whole file re-encoded (UTF-16/32, cp1252), loaded under their own suffix.

Every failing input is saved under ``--out`` to be replayed. Prints inputs tried and
failures found per generator.

Usage: python bench/fuzz_corpus.py [--minutes 10] [--seed 0] [--out /tmp/slr-fuzz]
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "corpus"))
os.environ.setdefault("SLR_HYPOTHESIS_PROFILE", "fuzz")

import test_properties as props  # noqa: E402 - after the path and profile are set

HANG = 20
TOKENS = [b"@article{", b"@string{m = ", b"}", b"{", b'"', b"#", b",", b"=", b"\n",
          b"TY  - JOUR\n", b"ER  - \n", b"PT J\n", b"ER\n", b"PMID- 1\n", b"\x00",
          b"\xef\xbb\xbf", b"\xff\xfe", b"\\", b"%", b"~", b"$", b"<record>", b"</record>",
          b"\r", b"\t", b";", b"\xc3", b"\\'{e}", b"\\textless", b"10.1000/x%28"]


class Hang(Exception):
    pass


@contextmanager
def deadline(seconds: float):
    def stop(signum, frame):
        raise Hang(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class _Factory:
    def __init__(self, root: Path) -> None:
        self.root, self.count = root, 0

    def mktemp(self, name: str) -> Path:
        self.count += 1
        path = self.root / f"{name}{self.count}"
        path.mkdir()
        return path


def _seeds(shared: Path) -> list[Path]:
    files = [p for p in sorted((shared / "messy").rglob("*")) if p.is_file()
             and p.stat().st_size < 400_000 and p.name != "LICENSE"]
    files += sorted((ROOT / "tests" / "data" / "corpus").iterdir())
    return files


def mutate(data: bytes, rng: random.Random) -> bytes:
    """Apply one to four random damages to ``data``."""
    for _ in range(rng.randint(1, 4)):
        kind = rng.randrange(8)
        size = len(data)
        at = rng.randrange(size + 1)
        if kind == 0 and size:
            data = data[:at] + bytes([rng.randrange(256)]) + data[at + 1:]
        elif kind == 1:
            data = data[:at] + rng.choice(TOKENS) + data[at:]
        elif kind == 2 and size:
            end = min(size, at + rng.randint(1, 200))
            data = data[:at] + data[end:]
        elif kind == 3 and size:
            end = min(size, at + rng.randint(1, 2000))
            data = data[:end] + data[at:end] * rng.randint(1, 5) + data[end:]
        elif kind == 4:
            data = data[:at]
        elif kind == 5:
            lines = data.split(b"\n")
            if len(lines) > 2:
                i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
                lines[i], lines[j] = lines[j], lines[i]
            data = b"\n".join(lines)
        elif kind == 6:
            text = data.decode("utf-8", errors="replace")
            codec = rng.choice(["utf-16", "utf-16-be", "utf-32", "utf-32-be", "cp1252",
                                "utf-8-sig"])
            data = text.encode(codec, errors="replace")
        else:
            data = data[:at] + os.urandom(rng.randint(1, 64)) + data[at:]
    return data


def _record(out: Path, label: str, index: int, path: Path, error: BaseException,
            failures: Counter) -> None:
    key = f"{type(error).__name__}: {str(error).splitlines()[0][:120] if str(error) else ''}"
    failures[key] += 1
    target = out / f"{label}-{index}{path.suffix}"
    if path.is_dir():
        shutil.copytree(path, target)
    else:
        shutil.copy(path, target)
    (out / f"{label}-{index}.txt").write_text("".join(traceback.format_exception(error)))


def run_mutations(shared: Path, seconds: float, seed: int, out: Path) -> tuple[int, Counter]:
    rng = random.Random(seed)
    seeds = _seeds(shared)
    failures: Counter = Counter()
    tried = 0
    stop = time.monotonic() + seconds
    with tempfile.TemporaryDirectory() as tmp:
        while time.monotonic() < stop:
            source = rng.choice(seeds)
            path = Path(tmp) / f"input{source.suffix}"
            path.write_bytes(mutate(source.read_bytes(), rng))
            tried += 1
            try:
                with deadline(HANG):
                    props.check_load(path)
            except BaseException as error:  # noqa: BLE001 - every failure is recorded
                if isinstance(error, KeyboardInterrupt):
                    raise
                _record(out, "mutation", tried, path, error, failures)
    return tried, failures


def run_hypothesis(seconds: float, seed: int, out: Path) -> tuple[int, Counter]:
    from hypothesis import seed as hypothesis_seed
    from hypothesis.errors import InvalidArgument

    tried = 0
    original = props.check_load

    def counting(path: Path) -> None:
        nonlocal tried
        tried += 1
        original(path)

    props.check_load = counting
    failures: Counter = Counter()
    tests = [props.test_every_reader_on_format_like_text,
             props.test_every_reader_on_random_bytes, props.test_a_folder_of_several_formats]
    stop = time.monotonic() + seconds
    round_ = 0
    with tempfile.TemporaryDirectory() as tmp:
        factory = _Factory(Path(tmp))
        while time.monotonic() < stop:
            test = tests[round_ % len(tests)]
            round_ += 1
            try:  # rounds of the 'fuzz' profile's size, so the time budget is checked often
                hypothesis_seed(seed * 1000 + round_)(test)(tmp_path_factory=factory,
                                                             deadline=deadline)
            except BaseException as error:  # noqa: BLE001 - every failure is recorded
                if isinstance(error, (KeyboardInterrupt, InvalidArgument)):
                    raise
                key = f"{test.__name__}: {type(error).__name__}: {str(error)[:200]}"
                failures[key] += 1
                (out / f"hypothesis-{round_}.txt").write_text(
                    "".join(traceback.format_exception(error)))
    props.check_load = original
    return tried, failures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "slr-fuzz")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    logging.disable(logging.WARNING)  # encoding fallbacks of mutated files are expected
    half = args.minutes * 30
    start = time.monotonic()
    tried_h, failed_h = run_hypothesis(half, args.seed, args.out)
    tried_m, failed_m = run_mutations(args.shared, half, args.seed, args.out)
    minutes = (time.monotonic() - start) / 60
    print(f"campaign: {minutes:.1f} min, seed {args.seed}, failing inputs kept in {args.out}")
    for label, tried, failed in (("hypothesis strategies", tried_h, failed_h),
                                 ("mutated real files", tried_m, failed_m)):
        print(f"{label:24} inputs tried {tried:>8,}   failures {sum(failed.values()):>4}")
        for key, count in failed.most_common(10):
            print(f"    {count:>4} x {key}")


if __name__ == "__main__":
    main()
