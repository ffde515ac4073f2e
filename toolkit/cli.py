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
from toolkit.errors import ToolkitError

__all__ = ["main", "build_parser"]


def _print_table(title: str, frame: pd.DataFrame) -> None:
    print(f"\n{title}")
    print("-" * len(title))
    print(frame.to_string(index=False) if len(frame) else "(none)")


def _cmd_load(args: argparse.Namespace) -> None:
    result = load_corpus(args.paths, strict=args.strict, encoding=args.encoding)
    records = result.records
    _print_table("Files", result.blocks)
    if result.skipped:
        _print_table("Skipped (not read)", result.skipped_frame())
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
    from toolkit.reproduce import reproduce

    result = reproduce(args.out, corpus=args.corpus, codebook_path=args.codebook,
                       codings_dir=args.codings, embedding=args.embedding, n_boot=args.n_boot,
                       progress=not args.no_progress)
    print(f"wrote {len(result.files)} files to {result.out}")
    print(f"open {result.out / 'report.html'} in a browser")
    _print_table("Triangulation across source groups", result.status)


def _cmd_code(args: argparse.Namespace) -> None:
    from toolkit.codebook import load_codebook
    from toolkit.coding import RuleCoder, compute_rule_metrics, load_codings, segments_from_frame

    book = load_codebook(args.codebook)
    frame = _read_table(args.segments)
    segments = segments_from_frame(frame, args.text_column, id_column=args.id_column)
    coded = RuleCoder(book, n_process=args.processes).fit().transform(segments)
    found = coded.dropna(subset=["code_id"])
    _print_table("Segments per code (rules)", found.groupby("code_id")["segment_id"].nunique()
                 .rename("segments").reset_index())
    if args.human:
        human = load_codings(args.human)
        _print_table("Rule coder against the human coding",
                     compute_rule_metrics(coded, human, codebook=book, level="theme"))
    if args.out:
        _write_frame(coded, Path(args.out), args.force)
        print(f"\nwrote {len(coded)} codings to {args.out}")


def _cmd_topics(args: argparse.Namespace) -> None:
    from toolkit.coding import segments_from_frame
    from toolkit.topics import TopicModel, compute_topic_table, save_topic_model

    frame = _read_table(args.segments)
    segments = segments_from_frame(frame, args.text_column, id_column=args.id_column)
    model = TopicModel(embedding=args.embedding, min_topic_size=args.min_topic_size,
                       stop_words=args.stop_words).fit(segments)
    _print_table("Topics", compute_topic_table(model))
    if args.out:
        save_topic_model(model, args.out, overwrite=args.force)
        model.document_topics_.to_csv(Path(args.out) / "document_topics.csv", index=False)
        print(f"\nsaved the model and document_topics.csv in {args.out}")


def _cmd_triangulate(args: argparse.Namespace) -> None:
    from toolkit import export, triangulation
    from toolkit.codebook import load_codebook
    from toolkit.coding import load_codings, segments_from_review
    from toolkit.review import load_review

    review = load_review(args.corpus)
    book = load_codebook(args.codebook)
    codings = load_codings(args.codings, coders=args.coders or None)
    segments = segments_from_review(review)
    table = triangulation.compute_source_triangulation(
        codings, segments, review.records, book, by=args.by, min_groups=args.min_groups)
    _print_table(f"Themes by {args.by}", table.wide.reset_index())
    if args.out:
        for path in export.export_table(table, args.out):
            print(f"wrote {path}")


def _read_table(path: str) -> pd.DataFrame:
    source = Path(path)
    if not source.is_file():
        raise ToolkitError(f"{source}: no such file")
    if source.suffix.lower() == ".xlsx":
        return pd.read_excel(source)
    sep = "\t" if source.suffix.lower() in (".tsv", ".tab") else ","
    return pd.read_csv(source, sep=sep)


def _write_frame(frame: pd.DataFrame, path: Path, force: bool) -> None:
    from toolkit._io import atomic_write_text

    atomic_write_text(path, frame.to_csv(index=False, lineterminator="\n"), overwrite=force)


def _add_table_arguments(parser: argparse.ArgumentParser, *, out: str) -> None:
    """Add the arguments shared by commands that read one text column of a user's table."""
    parser.add_argument("segments", help="CSV, TSV or XLSX with one text per row")
    parser.add_argument("--text-column", default="text", help="column with the text")
    parser.add_argument("--id-column", help="column with stable ids (default: row numbers)")
    parser.add_argument("--out", help=out)
    parser.add_argument("--force", action="store_true", help="replace --out if it exists")


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
        "reproduce", help="rebuild the whole bundled review into one folder",
        description="Rebuild the bundled micro-credentials review: load the corpus and "
                    "codebook, run the rule coder, the agreement statistics, the topic model "
                    "and every triangulation table, and write tables (CSV, XLSX, LaTeX, "
                    "Markdown), figures, the codebook as .qdc, report.html and manifest.json "
                    "into --out. Nothing is written there unless every stage succeeds.",
    )
    rep.add_argument("--out", default="out", help="output folder (default: out/)")
    rep.add_argument("--corpus", help="a review folder laid out like corpus/")
    rep.add_argument("--codebook", help="the codebook YAML (default: the bundled round 2)")
    rep.add_argument("--codings", help="folder of saved codings (round<N>/<coder>.csv)")
    rep.add_argument("--embedding", default="tfidf",
                     help="topic-model backend: tfidf (default), minilm-static, minilm")
    rep.add_argument("--n-boot", type=int, default=1000, help="bootstrap replicates")
    rep.add_argument("--no-progress", action="store_true", help="no progress bar")
    rep.set_defaults(func=_cmd_reproduce)

    code = sub.add_parser(
        "code", help="code a table of texts with a codebook's patterns",
        description="Apply the rule-based coder to one column of a CSV/TSV/XLSX table and "
                    "report codes found; with --human, compare with saved human codings.")
    _add_table_arguments(code, out="write the codings to this CSV")
    code.add_argument("--codebook", required=True, help="codebook YAML")
    code.add_argument("--human", help="folder of saved human codings to compare with")
    code.add_argument("--processes", type=int, default=1, help="worker processes")
    code.set_defaults(func=_cmd_code)

    top = sub.add_parser(
        "topics", help="fit a topic model on a table of texts",
        description="Fit BERTopic offline on one column of a table and print the topics; "
                    "--out saves the model (safetensors + JSON) and each row's topic.")
    _add_table_arguments(top, out="folder to save the model in")
    top.add_argument("--embedding", default="tfidf", help="tfidf, minilm-static, minilm or a "
                                                          "local model folder")
    top.add_argument("--min-topic-size", type=int, help="smallest topic")
    top.add_argument("--stop-words", nargs="*", default=None, help="extra words to ignore")
    top.set_defaults(func=_cmd_topics)

    tri = sub.add_parser(
        "triangulate", help="theme x source-group table from saved codings",
        description="Build the data-source triangulation table (theme x source group or "
                    "type) from a review folder, a codebook and saved codings.")
    tri.add_argument("--corpus", help="review folder (default: the bundled one)")
    tri.add_argument("--codebook", required=True, help="codebook YAML")
    tri.add_argument("--codings", required=True, help="folder of saved codings")
    tri.add_argument("--coders", nargs="*", help="use only these coders")
    tri.add_argument("--by", default="source_group", choices=["source_group", "source_type"])
    tri.add_argument("--min-groups", type=int, default=2, help="groups needed to corroborate")
    tri.add_argument("--out", help="folder for the table in every format")
    tri.set_defaults(func=_cmd_triangulate)
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
