"""The ``slr`` command: parses arguments, calls the public functions, formats output."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from toolkit.corpus import (
    compute_corpus_summary,
    deduplicate,
    load_corpus,
    write_bibtex,
    write_ris,
)
from toolkit.corpus.summary import compute_counts
from toolkit.errors import ToolkitError
from toolkit.paths import bundled_corpus_dir
from toolkit.review import compute_evidence_counts, load_review

__all__ = ["main", "build_parser"]


def _print_table(title: str, frame: pd.DataFrame) -> None:
    print(f"\n{title}")
    print("-" * len(title))
    print(frame.to_string(index=False) if len(frame) else "(none)")


def _cmd_load(args: argparse.Namespace) -> None:
    result = load_corpus(args.paths, strict=args.strict, encoding=args.encoding)
    records = result.records
    _print_table("Files", result.blocks)
    if result.failures:
        _print_table("Failures (not loaded)", result.failures_frame().drop(columns="raw"))
    if result.warnings and args.verbose:
        _print_table("Warnings", result.warnings_frame())
    elif result.warnings:
        print(f"\n{len(result.warnings)} warning(s); show them with --verbose")
    if args.dedupe:
        dedup = deduplicate(records)
        records = dedup.records
        _print_table("De-duplication log", dedup.log[["kept_id", "removed_id", "rule", "score"]])
    _print_table("Summary", compute_corpus_summary(records))
    if args.out:
        out = Path(args.out)
        writer = {".bib": write_bibtex, ".ris": write_ris}.get(out.suffix.lower())
        if writer is None:
            raise ToolkitError(f"{out}: unknown output kind; use a .bib or .ris file name")
        writer(records, out, overwrite=args.force)
        print(f"\nwrote {len(records)} records to {out}")


def _cmd_reproduce(args: argparse.Namespace) -> None:
    folder = Path(args.corpus) if args.corpus else bundled_corpus_dir()
    review = load_review(folder)
    paper = review.protocol["paper"]
    print(f"Reproducing: {paper['author']} ({paper['year']}), doi:{paper['doi']}")
    print(f"from {folder}: {review!r}")
    dedup = deduplicate(review.records)
    print(f"\nde-duplication of the reference list: {len(dedup.log)} record(s) merged")
    _print_table("Summary", compute_corpus_summary(review.records))
    for by in ("source_group", "source_type"):
        _print_table(f"Works by {by.replace('_', ' ')}", compute_counts(review.records, by))
    _print_table("Evidence per guiding question", compute_evidence_counts(review, "rq"))
    _print_table("Evidence per source group", compute_evidence_counts(review, "source_group"))
    audit = review.audit
    _print_table("Citation audit", audit["status"].value_counts().rename_axis("status")
                 .reset_index(name="cited works"))
    missing = audit.loc[audit["status"] == "missing", ["segment_id", "text"]]
    _print_table("Cited but missing from the reference list", missing)


def build_parser() -> argparse.ArgumentParser:
    """Build the ``slr`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="slr",
        description="Systematic literature review toolkit: load reference exports, code them, "
                    "and reproduce the bundled micro-credentials review.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    load = sub.add_parser(
        "load", help="load reference files (.bib .ris .csv .tsv .txt) and report on them",
        description="Load BibTeX, RIS or CSV exports (files or folders), show what could not be "
                    "read and a summary; optionally de-duplicate and write the clean corpus.",
    )
    load.add_argument("paths", nargs="+", help="files or folders to load")
    load.add_argument("--strict", action="store_true",
                      help="stop with an error when any block cannot be read")
    load.add_argument("--encoding", help="force a text encoding (default: detect)")
    load.add_argument("--dedupe", action="store_true", help="merge duplicates (DOI, title)")
    load.add_argument("--out", help="write the (de-duplicated) records to this .bib or .ris")
    load.add_argument("--force", action="store_true", help="replace --out if it exists")
    load.add_argument("-v", "--verbose", action="store_true", help="list every warning")
    load.set_defaults(func=_cmd_load)

    rep = sub.add_parser(
        "reproduce", help="rebuild the bundled review",
        description="Load the bundled micro-credentials review (references, evidence "
                    "segments, protocol, citation audit), check that its files agree, and "
                    "print what it holds.",
    )
    rep.add_argument("--corpus", help="a review folder laid out like corpus/ (default: the "
                                      "bundled one)")
    rep.set_defaults(func=_cmd_reproduce)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``slr``; return the process exit code (2 on a toolkit error)."""
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except ToolkitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
