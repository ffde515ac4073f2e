"""The ``slr`` command: parses arguments, calls the public functions, formats output."""

from __future__ import annotations

import argparse
import codecs
import os
import sys
import warnings
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


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one ``error:`` line, like every other."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"error: {self.prog}: {message}; see '{self.prog} --help'", file=sys.stderr)
        raise SystemExit(2)


def _count(minimum: int) -> object:
    """Return an argparse type that accepts a whole number of at least ``minimum``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} is too small; use {minimum} or more")
        return value

    parse.__name__ = f"whole number from {minimum}"
    return parse


def _encoding(text: str) -> str:
    try:
        return codecs.lookup(text).name
    except LookupError:
        raise argparse.ArgumentTypeError(f"unknown encoding {text!r}; e.g. utf-8, utf-16, "
                                         "cp1252, latin-1") from None


def _add_scale_arguments(parser: argparse.ArgumentParser) -> None:
    """``--scheduler`` / ``--workers``: run on Dask (the optional ``dask`` extra)."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="run on the Dask cluster of this scheduler (tcp://host:8786)")
    where.add_argument("--workers", type=_count(1), metavar="N",
                       help="run on a local Dask cluster of N worker processes")


def _scale(args: argparse.Namespace) -> dict[str, object] | None:
    """Return the Dask options for ``toolkit.scale`` functions, or ``None`` for one process."""
    if getattr(args, "scheduler", None) is None and getattr(args, "workers", None) is None:
        return None
    return {"scheduler": args.scheduler, "workers": args.workers}


def _cmd_load(args: argparse.Namespace) -> None:
    scale = _scale(args)
    if scale is None:
        _load(args, None)
        return
    from toolkit.scale import dask_client

    with dask_client(**scale, where="slr load") as client:  # type: ignore[arg-type]
        _load(args, client)


def _load(args: argparse.Namespace, client: object) -> None:
    scale = None if client is None else {"client": client}
    if scale is not None:
        from toolkit.scale import load_corpus_distributed

        result = load_corpus_distributed(args.paths, strict=args.strict,
                                         encoding=args.encoding, **scale).compute()
    else:
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
    if args.review_sheet or args.decisions:
        args.dedupe = True
    if args.dedupe:
        if scale is not None:
            from toolkit.scale import deduplicate_distributed

            dedup = deduplicate_distributed(records, decisions=args.decisions,
                                            **scale).compute()
        else:
            dedup = deduplicate(records, decisions=args.decisions)
        records = dedup.records
        _print_table("De-duplication log", dedup.log[["kept_id", "removed_id", "rule", "score"]])
        print(f"\n{len(dedup.uncertain)} uncertain pair(s) left for a person")
        if args.review_sheet:
            from toolkit.corpus import write_review_sheet

            sheet = write_review_sheet(dedup, args.review_sheet, overwrite=args.force)
            print(f"wrote them to {sheet}; fill the decision column, then load again with "
                  f"--decisions {sheet}")
    _print_table("Summary", compute_corpus_summary(records))
    if args.out:
        out = Path(args.out)
        writer = {".bib": write_bibtex, ".ris": write_ris}.get(out.suffix.lower())
        if writer is None:
            raise ToolkitError(f"{out}: unknown output kind; use a .bib or .ris file name")
        writer(records, out, overwrite=args.force)
        print(f"\nwrote {len(records)} records to {out}")


def _cmd_reproduce(args: argparse.Namespace) -> None:
    from toolkit.review.pipeline import reproduce

    folder = _folder(args)
    out = args.out or (str(Path(folder) / "out") if folder else "out")
    result = reproduce(out, corpus=folder, codebook_path=args.codebook,
                       codings_dir=args.codings, embedding=args.embedding, n_boot=args.n_boot,
                       coders=args.coders, rounds=args.rounds, consensus=args.consensus,
                       methods=args.methods, progress=not args.no_progress)
    print(f"wrote {len(result.files)} files to {result.out}")
    print(f"open {result.out / 'report.html'} in a browser")
    _print_table("Triangulation across source groups", result.status)


def _folder(args: argparse.Namespace) -> str | None:
    """Return the review folder, given as FOLDER or by its earlier name --corpus (not both)."""
    if args.folder and args.corpus and Path(args.folder) != Path(args.corpus):
        raise ToolkitError(f"two review folders given ({args.folder} and --corpus "
                           f"{args.corpus}); give one")
    return args.folder or args.corpus


def _review(folder: str | None):  # noqa: ANN202 - toolkit.review.Review
    """Load a review folder; say which blocks of its exports could not be read."""
    from toolkit.review import load_review

    review = load_review(folder)
    if review.loaded is not None and review.loaded.failures:
        failures = review.loaded.failures_frame()
        print(f"note: {len(failures)} block(s) of the exports could not be read and are left "
              "out (slr load EXPORTS shows them all):")
        for f in failures.head(5).itertuples(index=False):
            print(f"  {f.source_file} line {f.line}: {f.reason}")
    return review


def _segments(review: object) -> pd.DataFrame:
    """Make the review's segments; texts that gave none are listed, not refused."""
    from toolkit.coding import SegmentWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SegmentWarning)
        segments = review.segments()  # type: ignore[attr-defined]
    for warning in caught:
        print(f"note: {warning.message}")
    if segments.empty:
        folder = review.folder  # type: ignore[attr-defined]
        raise ToolkitError(f"{folder}: the review's texts gave no segment; are there "
                           "abstracts in the exports (or files in documents/)?")
    return segments


def _cmd_init(args: argparse.Namespace) -> None:
    from toolkit.review.scaffold import init_review

    made = init_review(args.folder, args.exports, title=args.title)
    if made.loaded is not None:
        _print_table("Exports", made.loaded.blocks)
        if made.loaded.failures:
            _print_table("Failures (not loaded)",
                         made.loaded.failures_frame().drop(columns="raw"))
    if made.dedup is not None:
        print(f"\n{len(made.loaded.records)} records, {len(made.dedup.log)} duplicates merged: "
              f"{len(made.dedup.records)} works")
    print(f"\nmade the review folder {made.folder}:")
    for path in made.files:
        print(f"  {path}")
    print(f"\nnext: edit {made.folder / 'review.yaml'} (title, questions, search log) and "
          f"{made.folder / 'codebook.yaml'}, then run\n  slr segment {made.folder}")


def _cmd_segment(args: argparse.Namespace) -> None:
    from toolkit._io import atomic_write_text
    from toolkit._spreadsheet import frame_to_csv
    from toolkit.coding import find_records_without_text

    review = _review(args.folder)
    segments = _segments(review)
    print(f"{len(segments)} segments from {review.segment_source} "
          f"({review.segment_unit}), {segments['document_id'].nunique()} documents")
    if review.segment_source == "abstracts":
        column = (review.protocol.get("segments") or {}).get("column") or "abstract"
        missing = find_records_without_text(review.records, column)
        if len(missing):
            _print_table(f"Records with no {column} (not segmented)", missing)
    out = Path(args.out) if args.out else review.folder / "segments.csv"
    frame = segments.copy()
    for column in frame.columns:
        if frame[column].map(lambda v: isinstance(v, tuple)).any():
            frame[column] = frame[column].map(lambda v: "; ".join(v)
                                              if isinstance(v, tuple) else v)
    atomic_write_text(out, frame_to_csv(frame))
    print(f"\nwrote {out}\nnext: slr code {review.folder}   (rules), or slr sheet "
          f"{review.folder} --coder NAME   (by hand)")


def _cmd_sheet(args: argparse.Namespace) -> None:
    from toolkit.coding import read_coding_sheet, save_codings, write_coding_sheet
    from toolkit.coding.store import codings_path

    codings_path(".", coder=args.coder, round=1)  # a name that is safe as a file name
    if args.coder == "rules":
        raise ToolkitError("coder name 'rules': that is the rule coder's (slr code saves its "
                           "codings under it); give the person's own name")
    review = _review(args.folder)
    book = review.codebook()
    segments = _segments(review)
    if args.read:
        codings = read_coding_sheet(args.read, book, segments, coder=args.coder,
                                    round=args.round)
        path = save_codings(codings, review.codings_dir, overwrite=args.force)
        coded = codings.dropna(subset=["code_id"])
        print(f"read {codings['segment_id'].nunique()} segments "
              f"({coded['segment_id'].nunique()} coded, {len(coded)} codings) from "
              f"{args.read}\nsaved {path}")
        return
    out = Path(args.out) if args.out else review.folder / "sheets" / f"{args.coder}.xlsx"
    path = write_coding_sheet(segments, book, out, overwrite=args.force)
    print(f"wrote the coding sheet {path} ({len(segments)} segments)\nthe coder fills the "
          f"codes column (ids from the codebook sheet, ';' between them), then:\n  slr sheet "
          f"{review.folder} --coder {args.coder} --read {path}")


def _cmd_code(args: argparse.Namespace) -> None:
    from toolkit.codebook import load_codebook
    from toolkit.coding import (
        RuleCoder,
        compute_rule_metrics,
        load_codings,
        save_codings,
        segments_from_frame,
    )

    review = None
    if Path(args.target).is_dir():
        review = _review(args.target)
        book = load_codebook(args.codebook) if args.codebook else review.codebook()
        segments = _segments(review)
    else:
        if not args.codebook:
            raise ToolkitError(f"{args.target}: a table of texts needs --codebook (or give a "
                               "review folder)")
        book = load_codebook(args.codebook)
        frame = _read_table(args.target)
        segments = segments_from_frame(frame, args.text_column, id_column=args.id_column)
    scale = _scale(args)
    if scale is not None:
        from toolkit.scale import code_distributed

        coded = code_distributed(RuleCoder(book), segments, **scale)
    else:
        coded = RuleCoder(book, n_process=args.processes).fit().transform(segments)
    found = coded.dropna(subset=["code_id"])
    _print_table("Segments per code (rules)", found.groupby("code_id")["segment_id"].nunique()
                 .rename("segments").reset_index())
    human = args.human or (review.codings_dir if review is not None else None)
    if human and Path(human).is_dir() and any(Path(human).glob("round*/*.csv")):
        if review is not None:  # the human coding reproduce uses: primary coder, consensus
            from toolkit.review.pipeline import choose_human_coding

            people = choose_human_coding(review, segments, codebook_path=args.codebook,
                                         codings_dir=human)
            codings = people.analysis if people is not None else coded.iloc[:0]
        else:
            codings = load_codings(human, methods=None)
            codings = codings[codings["method"] == "human"]
        if len(codings):
            _print_table("Rule coder against the human coding",
                         compute_rule_metrics(coded, codings, codebook=book, level="theme"))
    if args.out:
        _write_frame(coded, Path(args.out), args.force)
        print(f"\nwrote {len(coded)} codings to {args.out}")
    elif review is not None:
        path = save_codings(coded, review.codings_dir, overwrite=True)
        print(f"\nsaved the rule codings ({len(found)} codes on "
              f"{found['segment_id'].nunique()} of {len(segments)} segments) to {path}\n"
              f"next: slr triangulate {review.folder}")


def _cmd_agree(args: argparse.Namespace) -> None:
    from toolkit.agreement import agreement_table, compute_agreement
    from toolkit.coding import load_codings
    from toolkit.review.rounds import round_codebooks

    review = _review(args.folder)
    folder = review.codings_dir
    if not folder.is_dir() or not any(folder.glob("round*/*.csv")):
        raise ToolkitError(f"{folder}: no codings yet; code with slr sheet or slr code first")
    methods = args.methods or None
    coders = args.coders or None
    codings = load_codings(folder, rounds=args.rounds, methods=None)
    if methods is None:
        people = sorted(codings.loc[codings["method"] == "human", "coder"].unique())
        chosen = coders or people
        if len(chosen) == 1 and (codings["method"] == "rules").any():
            print(f"note: one human coder ({chosen[0]}): comparing the human coding with the "
                  "rule coder, which is a method, not a second investigator")
            methods, coders = ["human", "rules"], chosen
        elif len(chosen) < 2:
            raise ToolkitError(
                f"{folder}: agreement between coders needs two or more human coders; found "
                f"{chosen}; compare the human coding with the rule coder with --methods "
                "human rules")
    rounds = sorted(int(r) for r in codings["round"].dropna().unique())
    books = [b for b, _ in round_codebooks(review, rounds).values()]
    table = compute_agreement(codings, coders=coders, rounds=args.rounds,
                              methods=methods, codebook=books, level=args.level,
                              n_boot=args.n_boot)
    raters = ", ".join(table.attrs.get("raters", []))
    if methods is not None:
        who = codings.loc[codings["method"].isin(methods), "coder"]
        if coders:
            who = who[who.isin([*coders, *[m for m in methods if m not in ("human",
                                                                           "consensus")]])]
        raters = ", ".join(sorted(who.unique())) + " (methods: " + ", ".join(methods) + ")"
    if table.attrs.get("left_out"):
        print(f"note: left out (not in every rater's round): {table.attrs['left_out']}")
    _print_table(f"Agreement per {args.level} between {raters}",
                 agreement_table(table).reset_index())


def _code_names(pairs: Sequence[str]) -> dict[str, str]:
    """Parse ``id=Label`` pairs of ``slr codebook split --into``."""
    into: dict[str, str] = {}
    for pair in pairs:
        code_id, sep, label = pair.partition("=")
        if not sep or not code_id.strip() or not label.strip():
            raise ToolkitError(f"--into {pair!r}: give each new code as id=Label, e.g. "
                               "benefits.cost_time='Time costs'")
        into[code_id.strip()] = label.strip()
    return into


def _cmd_codebook(args: argparse.Namespace) -> None:
    from toolkit import codebook as cbk
    from toolkit.review.rounds import edit_review_codebook, round_codebooks

    review = _review(args.folder)
    if args.action == "diff":
        rounds = sorted(r for r in review.rounds() if r > 0)
        if len(rounds) < 2 and args.old is None:
            raise ToolkitError(f"{review.folder}: review.yaml lists {len(rounds)} coding "
                               "round(s) (coding.rounds); a diff needs two")
        new = args.new if args.new is not None else max(rounds)
        old = args.old if args.old is not None else max([r for r in rounds if r < new],
                                                        default=new - 1)
        for r in (old, new):
            if r not in review.rounds():
                raise ToolkitError(f"{review.folder}: no codebook for round {r}; rounds "
                                   f"listed: {rounds}")
        books = round_codebooks(review, [old, new])
        _print_table(f"Changes from round {old} to round {new}",
                     cbk.diff_codebooks(books[old][0], books[new][0]))
        return
    patterns = {k: v for k, v in (("phrases", args.phrases), ("lemmas", args.lemmas))
                if v} if args.action == "add" else None
    changes = {
        "add": lambda b: cbk.add_code(b, args.code, args.label, parent=args.parent,
                                      definition=args.definition or "",
                                      patterns=patterns or None),
        "rename": lambda b: cbk.rename_code(b, args.code, args.new_id, label=args.label),
        "merge": lambda b: cbk.merge_codes(b, args.codes, args.into, label=args.label),
        "split": lambda b: cbk.split_code(b, args.code, _code_names(args.into),
                                          keep=args.keep),
        "retire": lambda b: cbk.retire_code(b, args.code, reason=args.reason or ""),
    }
    edit = edit_review_codebook(review, changes[args.action])
    if edit.started:
        print(f"round {edit.codebook.round - 1} has codings, so this starts round "
              f"{edit.codebook.round}: saved {edit.path} and named it in "
              f"{review.folder / 'review.yaml'} (coding.codebook, coding.rounds)")
    else:
        print(f"saved {edit.path} (round {edit.codebook.round}, not coded yet)")
    _print_table(f"Changes in round {edit.codebook.round}", edit.diff)


def _people(review: object, args: argparse.Namespace) -> tuple[pd.DataFrame, list]:
    """Load the human coders' codings and the codebook of each of their rounds."""
    from toolkit.coding import load_codings
    from toolkit.review.rounds import round_codebooks

    folder = review.codings_dir  # type: ignore[attr-defined]
    if not folder.is_dir() or not any(folder.glob("round*/*.csv")):
        raise ToolkitError(f"{folder}: no codings yet; code with slr sheet first")
    codings = load_codings(folder, rounds=args.rounds, methods=["human"])
    if args.coders:
        unknown = sorted(set(args.coders) - set(codings["coder"]))
        if unknown:
            raise ToolkitError(f"{folder}: no human codings of {unknown}; the human coders "
                               f"there are {sorted(codings['coder'].unique())} (the rule "
                               "coder is a method: compare it with slr agree --methods "
                               "human rules)")
    rounds = sorted(int(r) for r in codings["round"].dropna().unique())
    books = [b for b, _ in round_codebooks(review, rounds).values()]  # type: ignore[arg-type]
    return codings, books


def _cmd_adjudicate(args: argparse.Namespace) -> None:
    from toolkit.coding import (
        compute_disagreements,
        read_adjudication_sheet,
        save_codings,
        write_adjudication_sheet,
    )
    from toolkit.coding.store import codings_path

    codings_path(".", coder=args.consensus, round=1)  # a name safe as a file name
    review = _review(args.folder)
    codings, books = _people(review, args)
    coders = args.coders or sorted(codings["coder"].unique())
    if len(coders) < 2:
        raise ToolkitError(f"{review.codings_dir}: adjudication needs two or more human "
                           f"coders; found {coders}")
    if args.read:
        consensus = read_adjudication_sheet(args.read, codings, coders=coders,
                                            rounds=args.rounds, codebook=books,
                                            consensus=args.consensus)
        path = save_codings(consensus, review.codings_dir, overwrite=args.force)
        print(f"read the decisions of {args.read}: a consensus coding of "
              f"{consensus['segment_id'].nunique()} segments\nsaved {path}\nnext: slr "
              f"reproduce {review.folder} --coders {' '.join(coders)}   (uses it where it "
              "decided)")
        return
    disputes = compute_disagreements(codings, _segments(review), coders=coders,
                                     rounds=args.rounds, codebook=books)
    out = Path(args.out) if args.out else review.folder / "sheets" / "adjudication.xlsx"
    path = write_adjudication_sheet(disputes, out, overwrite=args.force)
    print(f"{len(disputes)} disagreement(s) between {', '.join(coders)} on "
          f"{disputes['segment_id'].nunique()} segment(s)\nwrote {path}\nfill the decision "
          f"column (yes or no), then:\n  slr adjudicate {review.folder} --read {path}")


def _cmd_topics(args: argparse.Namespace) -> None:
    from toolkit.coding import segments_from_frame
    from toolkit.topics import TopicModel, compute_topic_table, save_topic_model

    stop_words = args.stop_words
    if Path(args.target).is_dir():
        review = _review(args.target)
        segments = _segments(review)
        if stop_words is None:
            stop_words = review.stop_words
    else:
        frame = _read_table(args.target)
        segments = segments_from_frame(frame, args.text_column, id_column=args.id_column)
    model = TopicModel(embedding=args.embedding, min_topic_size=args.min_topic_size,
                       stop_words=stop_words)
    scale = _scale(args)
    if scale is None and args.sample_size is not None:
        raise ToolkitError("--sample-size: fitting on a sample is for a Dask run; add "
                           "--workers N or --scheduler ADDRESS, or leave it out to fit on "
                           "every segment")
    try:
        if scale is not None:
            from toolkit.scale import fit_topics_distributed

            size = args.sample_size or 10_000
            document_topics = fit_topics_distributed(model, segments, sample_size=size,
                                                     **scale)
            print(f"fitted on a seeded sample of {min(size, len(segments))} of "
                  f"{len(segments)} segments; every segment placed on the workers")
        else:
            model.fit(segments)
            document_topics = model.document_topics_
    except ValueError as err:
        if isinstance(err, ToolkitError):
            raise
        # e.g. TruncatedSVD on texts that share (almost) no words
        raise ToolkitError(f"{args.target}: no topics can be fitted on these texts "
                           f"({str(err)[:160]}); they are too few or too alike: add texts "
                           "or try another --embedding") from None
    _print_table("Topics", compute_topic_table(model))
    if args.out:
        save_topic_model(model, args.out, overwrite=args.force)
        _write_frame(document_topics, Path(args.out) / "document_topics.csv", True)
        print(f"\nsaved the model and document_topics.csv in {args.out}")


def _cmd_triangulate(args: argparse.Namespace) -> None:
    from toolkit import triangulation
    from toolkit.codebook import load_codebook
    from toolkit.coding import load_codings
    from toolkit.report.tables import export_table
    from toolkit.review.pipeline import choose_human_coding

    review = _review(_folder(args))
    book = load_codebook(args.codebook) if args.codebook else review.codebook()
    folder = Path(args.codings) if args.codings else review.codings_dir
    if not folder.is_dir() or not any(folder.glob("round*/*.csv")):
        raise ToolkitError(f"{folder}: no codings yet; run slr code {review.folder} (rules) "
                           "or code by hand with slr sheet")
    segments = _segments(review)
    people = choose_human_coding(review, segments, coders=args.coders or None,
                                 codebook_path=args.codebook, codings_dir=folder)
    if people is not None:
        used = people.analysis
        print(f"codings: human ({people.primary}"
              + (f", with the consensus {people.consensus} where it decided"
                 if people.consensus else "") + ")")
    else:
        used = load_codings(folder, methods=["rules"])
        print("codings: the rule coder's (no human coding yet)")
    by = args.by or ((review.protocol.get("triangulation") or {}).get("by") or
                     ["source_group"])
    by = [by] if isinstance(by, str) else list(by)
    min_groups = args.min_groups or int((review.protocol.get("triangulation") or {}).get(
        "min_groups", 2))
    for name in by:
        column = "databases" if name == "database" and "databases" in review.records else name
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", triangulation.TriangulationWarning)
            table = triangulation.compute_source_triangulation(
                used, segments, review.records, book, by=column, min_groups=min_groups,
                cases=review.cases)
        for warning in caught:
            print(f"note: {warning.message}")
        _print_table(f"Themes by {name}", table.wide.reset_index())
        if args.out:
            for path in export_table(table, args.out, f"source_triangulation_{name}"):
                print(f"wrote {path}")


def _read_table(path: str) -> pd.DataFrame:
    from toolkit._spreadsheet import read_table

    return read_table(path)


def _write_frame(frame: pd.DataFrame, path: Path, force: bool) -> None:
    from toolkit._io import atomic_write_text
    from toolkit._spreadsheet import frame_to_csv

    atomic_write_text(path, frame_to_csv(frame), overwrite=force)


def _add_table_arguments(parser: argparse.ArgumentParser, *, out: str) -> None:
    """Add the arguments shared by commands that read a review folder or one table column."""
    parser.add_argument("target", help="a review folder, or a CSV/TSV/XLSX with one text per "
                                       "row")
    parser.add_argument("--text-column", default="text", help="for a table: the text column")
    parser.add_argument("--id-column", help="for a table: column with stable ids (default: "
                                            "row numbers)")
    parser.add_argument("--out", help=out)
    parser.add_argument("--force", action="store_true", help="replace --out if it exists")


_FOLDER = "the review folder (one with a review.yaml; default: the bundled review)"


def build_parser() -> argparse.ArgumentParser:
    """Build the ``slr`` argument parser."""
    parser = _Parser(
        prog="slr",
        description="Systematic literature review toolkit: load reference exports, make a "
                    "review folder, segment, code, measure agreement, fit topics, "
                    "triangulate and report; every step takes the review folder.",
        epilog="A review from start to end: slr init DIR --from EXPORTS...; slr segment DIR; "
               "slr code DIR; slr triangulate DIR; slr reproduce DIR.",
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
    load.add_argument("--encoding", type=_encoding,
                      help="force a text encoding (default: detect)")
    load.add_argument("--dedupe", action="store_true",
                      help="merge duplicates (title, DOI, authors, year, journal, pages)")
    load.add_argument("--review-sheet", metavar="PATH",
                      help="write the uncertain duplicate pairs to this .csv or .xlsx")
    load.add_argument("--decisions", metavar="PATH",
                      help="apply a filled review sheet (merge / keep apart) before the rules")
    load.add_argument("--out", help="write the (de-duplicated) records to this .bib or .ris")
    load.add_argument("--force", action="store_true",
                      help="replace --out (and --review-sheet) if it exists")
    load.add_argument("-v", "--verbose", action="store_true", help="list every warning")
    _add_scale_arguments(load)
    load.set_defaults(func=_cmd_load)

    init = sub.add_parser(
        "init", help="make a review folder from reference exports",
        description="Make a new review folder: copy the exports into it, load and "
                    "de-duplicate them, and write a commented review.yaml, a starter "
                    "codebook drawn from the records' keywords and an empty codings folder. "
                    "Never writes into a folder that holds files.")
    init.add_argument("folder", help="the new review folder")
    init.add_argument("--from", dest="exports", nargs="+", metavar="EXPORTS",
                      help="reference exports (files or folders) of the search")
    init.add_argument("--title", help="the review's title (default: the folder's name)")
    init.set_defaults(func=_cmd_init)

    seg = sub.add_parser(
        "segment", help="cut the review's texts into segments to code",
        description="Make the review's segments as review.yaml says (abstracts whole or per "
                    "sentence, full texts per paragraph, sentence or page, or an evidence "
                    "table), list the records with no text, and write segments.csv.")
    seg.add_argument("folder", nargs="?", help=_FOLDER)
    seg.add_argument("--out", help="where to write the segments (default: FOLDER/segments.csv)")
    seg.set_defaults(func=_cmd_segment)

    sheet = sub.add_parser(
        "sheet", help="write a coding sheet for a coder, or read a filled one back",
        description="Write an XLSX (or CSV) coding sheet of the review's segments with the "
                    "codebook beside it; with --read, read the filled sheet back and save "
                    "it as that coder's codings (never over another coder's file).")
    sheet.add_argument("folder", nargs="?", help=_FOLDER)
    sheet.add_argument("--coder", required=True, help="the coder's name (letters, digits, . _ -)")
    sheet.add_argument("--read", metavar="SHEET", help="read this filled sheet back")
    sheet.add_argument("--round", type=_count(1), help="coding round (default: the codebook's)")
    sheet.add_argument("--out", help="where to write the sheet (.xlsx or .csv; default: "
                                     "FOLDER/sheets/CODER.xlsx)")
    sheet.add_argument("--force", action="store_true",
                       help="replace this coder's own sheet or codings of the same round")
    sheet.set_defaults(func=_cmd_sheet)

    code = sub.add_parser(
        "code", help="code the review's segments (or a table of texts) with the codebook's "
                     "patterns",
        description="Apply the rule-based coder to a review's segments and save them as the "
                    "rule coder's codings (codings/round<N>/rules.csv), or to one column of a "
                    "CSV/TSV/XLSX table; compare with human codings where there are some.")
    _add_table_arguments(code, out="write the codings to this CSV instead")
    code.add_argument("--codebook", help="codebook YAML (default: the review's)")
    code.add_argument("--human", help="folder of saved human codings to compare with")
    code.add_argument("--processes", type=_count(1), default=1, help="worker processes")
    _add_scale_arguments(code)
    code.set_defaults(func=_cmd_code)

    agree = sub.add_parser(
        "agree", help="agreement between the review's coders",
        description="Percent agreement, Cohen's and Fleiss' kappa, Krippendorff's alpha and "
                    "Gwet's AC1 per theme (or code) between the coders of the review's saved "
                    "codings (the rule coder counts as one), with bootstrap intervals.")
    agree.add_argument("folder", nargs="?", help=_FOLDER)
    agree.add_argument("--coders", nargs="*", help="use only these human coders")
    agree.add_argument("--rounds", nargs="+", type=_count(1), metavar="N",
                       help="use the codings of these rounds only")
    agree.add_argument("--methods", nargs="+", choices=["human", "consensus", "rules"],
                       help="compare methods instead, e.g. human rules (with one --coders)")
    agree.add_argument("--level", choices=["theme", "code"], default="theme")
    agree.add_argument("--n-boot", type=_count(1), default=1000, help="bootstrap replicates")
    agree.set_defaults(func=_cmd_agree)

    book = sub.add_parser(
        "codebook", help="edit the codebook into a new round (add, rename, merge, split, "
        "retire) or compare two rounds (diff)",
        description="Edit the review's codebook with its lineage recorded. When the current "
        "round has codings, the first edit starts the next round (codebook_round<N>.yaml in "
        "the folder, named in review.yaml); the codebook people coded with never changes.")
    actions = book.add_subparsers(dest="action", required=True, metavar="ACTION",
                                  parser_class=_Parser)
    add = actions.add_parser("add", help="add a code")
    add.add_argument("folder", help=_FOLDER)
    add.add_argument("code", help="the new code's id, e.g. benefits.skills_signalling")
    add.add_argument("--label", required=True, help="its short name")
    add.add_argument("--parent", help="the parent code's id (none: a new theme)")
    add.add_argument("--definition", help="what the code means")
    add.add_argument("--phrases", nargs="+", help="phrases for the rule coder")
    add.add_argument("--lemmas", nargs="+", help="lemmas for the rule coder")
    ren = actions.add_parser("rename", help="give a code a new id")
    ren.add_argument("folder", help=_FOLDER)
    ren.add_argument("code", help="the code's id now")
    ren.add_argument("new_id", help="its new id")
    ren.add_argument("--label", help="a new label too")
    mer = actions.add_parser("merge", help="fold codes into one")
    mer.add_argument("folder", help=_FOLDER)
    mer.add_argument("codes", nargs="+", help="the codes to fold in")
    mer.add_argument("--into", required=True, help="the code they become (existing or new)")
    mer.add_argument("--label", help="label of a new target code")
    spl = actions.add_parser("split", help="carve a code into new ones")
    spl.add_argument("folder", help=_FOLDER)
    spl.add_argument("code", help="the code to split")
    spl.add_argument("--into", nargs="+", required=True, metavar="ID=LABEL",
                     help="the new codes, e.g. challenges.cost_fees='Fees'")
    spl.add_argument("--keep", action="store_true", help="keep the original code too")
    ret = actions.add_parser("retire", help="take a code out of use (kept as retired)")
    ret.add_argument("folder", help=_FOLDER)
    ret.add_argument("code", help="the code to retire")
    ret.add_argument("--reason", help="why")
    dif = actions.add_parser("diff", help="what changed between two rounds")
    dif.add_argument("folder", help=_FOLDER)
    dif.add_argument("--old", type=_count(0), help="the earlier round (default: the one "
                     "before --new)")
    dif.add_argument("--new", type=_count(0), help="the later round (default: the last)")
    book.set_defaults(func=_cmd_codebook)

    adj = sub.add_parser(
        "adjudicate", help="the disagreement sheet between human coders, and the consensus "
        "coding read back from it",
        description="Without --read: write a sheet (XLSX or CSV) listing each segment and "
        "code where the coders differ, with each coder's decision and memo and a decision "
        "column. With --read: read the decided sheet back as a consensus coding, saved "
        "under its own coder name (never over anyone's file); slr reproduce uses it.")
    adj.add_argument("folder", help=_FOLDER)
    adj.add_argument("--coders", nargs="+", metavar="CODER",
                     help="the human coders to compare (default: all)")
    adj.add_argument("--rounds", nargs="+", type=_count(1), metavar="N",
                     help="use the codings of these rounds only")
    adj.add_argument("--read", metavar="SHEET", help="read this decided sheet back")
    adj.add_argument("--consensus", default="consensus",
                     help="coder name of the consensus coding (default: consensus)")
    adj.add_argument("--out", help="where to write the sheet (.xlsx or .csv; default: "
                     "FOLDER/sheets/adjudication.xlsx)")
    adj.add_argument("--force", action="store_true", help="replace an existing sheet or "
                     "consensus file")
    adj.set_defaults(func=_cmd_adjudicate)

    top = sub.add_parser(
        "topics", help="fit a topic model on the review's segments (or a table of texts)",
        description="Fit BERTopic offline on the review's segments or one column of a table "
                    "and print the topics; --out saves the model (safetensors + JSON) and "
                    "each segment's topic.")
    _add_table_arguments(top, out="folder to save the model in")
    top.add_argument("--embedding", default="tfidf", help="tfidf, minilm-static, minilm or a "
                                                          "local model folder")
    top.add_argument("--min-topic-size", type=_count(2), help="smallest topic")
    top.add_argument("--stop-words", nargs="*", default=None,
                     help="extra words to ignore (default: the review's topics.stop_words)")
    top.add_argument("--sample-size", type=_count(2), metavar="N",
                     help="with --workers/--scheduler: fit on a seeded sample of N segments "
                          "(default 10000) and place every segment on the workers")
    _add_scale_arguments(top)
    top.set_defaults(func=_cmd_topics)

    tri = sub.add_parser(
        "triangulate", help="theme x source table from the review's codings",
        description="Build the data-source triangulation table (theme x any record column: "
                    "source group, source type, database, year, ...) from a review folder's "
                    "codings: the human coding where there is one, else the rule coder's.")
    tri.add_argument("folder", nargs="?", help=_FOLDER)
    tri.add_argument("--corpus", help=argparse.SUPPRESS)  # the earlier name of FOLDER
    tri.add_argument("--codebook", help="codebook YAML (default: the review's)")
    tri.add_argument("--codings", help="folder of saved codings (default: the review's)")
    tri.add_argument("--coders", nargs="*", help="use only these coders")
    tri.add_argument("--by", nargs="+", help="record column(s) to split on (default: "
                                             "review.yaml's triangulation.by)")
    tri.add_argument("--min-groups", type=_count(1), help="groups needed to corroborate")
    tri.add_argument("--out", help="folder for the table in every format")
    tri.set_defaults(func=_cmd_triangulate)

    rep = sub.add_parser(
        "reproduce", help="run the whole method on a review folder, into one output folder",
        description="Run the whole method on a review folder (the bundled review by "
                    "default): load the records and segments, the codebook and codings, run "
                    "the rule coder, the agreement statistics, the topic model and every "
                    "triangulation table, and write tables (CSV, XLSX, LaTeX, Markdown), "
                    "figures, the codebook as .qdc, report.html and manifest.json into --out. "
                    "Nothing is written there unless every stage succeeds.",
    )
    rep.add_argument("folder", nargs="?", help=_FOLDER)
    rep.add_argument("--out", help="output folder (default: out/, or FOLDER/out)")
    rep.add_argument("--corpus", help=argparse.SUPPRESS)  # the earlier name of FOLDER
    rep.add_argument("--codebook", help="codebook YAML (default: the review's)")
    rep.add_argument("--codings", help="folder of saved codings (round<N>/<coder>.csv)")
    rep.add_argument("--embedding", help="topic-model backend: tfidf (default), "
                                         "minilm-static, minilm")
    rep.add_argument("--n-boot", type=_count(1), default=1000, help="bootstrap replicates")
    rep.add_argument("--coders", nargs="+", metavar="CODER",
                     help="the human coders, primary first (default: coding.coders)")
    rep.add_argument("--rounds", nargs="+", type=_count(1), metavar="N",
                     help="use the codings of these rounds only (default: coding.use_rounds)")
    rep.add_argument("--consensus", metavar="CODER",
                     help="the adjudicated coding (default: coding.consensus, else "
                          "'consensus' when present)")
    rep.add_argument("--methods", nargs="+", choices=["human", "rules", "topics"],
                     help="what method triangulation compares (default: all three)")
    rep.add_argument("--no-progress", action="store_true", help="no progress bar")
    rep.set_defaults(func=_cmd_reproduce)
    return parser


def _show_note(message: Warning | str, category: type[Warning], filename: str, lineno: int,
               file: object = None, line: str | None = None) -> None:
    """Show a warning as one ``note:`` line on stdout (``warnings.showwarning``'s signature)."""
    print(f"note: {' '.join(str(message).split())}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``slr``; return the process exit code.

    Every failure is one message on stderr that starts with ``error:`` (a toolkit error may
    list its problems below it) and a non-zero exit: 2 for bad input or a refused write,
    130 when interrupted, 3 for an unexpected exception, which is a bug to report. Set
    ``SLR_DEBUG=1`` to see the traceback instead.
    """
    from toolkit._log import quiet_logger

    args = build_parser().parse_args(argv)
    debug = os.environ.get("SLR_DEBUG", "") not in ("", "0")
    try:
        # a warning is a note on stdout; stderr is for the one error line (the loader's log
        # line repeats its warning, so it is held back)
        with warnings.catch_warnings(), quiet_logger("toolkit"):
            warnings.showwarning = _show_note
            args.func(args)
    except ToolkitError as exc:
        if debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted; nothing half-written was left in place", file=sys.stderr)
        return 130
    except OSError as exc:  # the system refused something no lower layer expected
        if debug:
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}; check the path, its permissions and "
              "the free disk space", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - last resort: one line, never a traceback
        if debug:
            raise
        text = " ".join(str(exc).split())[:300]
        print(f"error: unexpected {type(exc).__name__}: {text}; this is a bug in slr-toolkit, "
              "please report it with the command you ran (run again with SLR_DEBUG=1 to see "
              "the traceback)", file=sys.stderr)
        return 3
    return 0
