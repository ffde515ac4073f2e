"""``reproduce``: run the whole method on a review folder and write every artefact.

The output folder holds tables, figures and a report, with a manifest of versions, seeds
and checksums. Any review folder works (:func:`toolkit.review.load_review`); the bundled
one is the default.

The output is built in a staging folder beside the target and moved into place only when
every stage has finished (:func:`toolkit._io.staged_directory`), so a failed run never
leaves a folder that looks complete; an existing target is replaced only when it is provably
an earlier output (:func:`check_reproduce_output`).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit import agreement, triangulation
from toolkit._io import atomic_write_text, staged_directory
from toolkit._platform import numeric_environment
from toolkit.codebook import Codebook, export_qdc
from toolkit.coding import (
    RuleCoder,
    SegmentWarning,
    combine_with_consensus,
    compute_rule_metrics,
    export_qdpx,
    find_records_without_text,
    load_codings,
    make_codings,
    validate_codings,
)
from toolkit.corpus import compute_corpus_summary, compute_database_overlap
from toolkit.corpus.summary import compute_counts
from toolkit.errors import ToolkitError, TopicModelError
from toolkit.memos import load_memos
from toolkit.report import figures as plots
from toolkit.report import prisma
from toolkit.report.tables import export_table
from toolkit.review.evidence import compute_evidence_counts
from toolkit.review.project import Review, load_review
from toolkit.review.rounds import round_codebooks
from toolkit.review.sources import compute_search_table

__all__ = ["reproduce", "ReproduceResult", "STAGES", "check_reproduce_output",
           "choose_human_coding", "HumanCoding"]

#: The stages, in order, as the progress display names them.
STAGES = ("load review", "codebook", "rule coding", "agreement", "topic model",
          "topic stability", "triangulation", "export tables", "figures", "REFI-QDA",
          "PRISMA", "report", "manifest")
_PACKAGES = ("slr-toolkit", "pandas", "numpy", "bibtexparser", "rispy", "spacy",
             "spacy-lookups-data", "bertopic", "umap-learn", "hdbscan", "scikit-learn",
             "krippendorff", "matplotlib", "rapidfuzz")
#: Topic models need at least this many segments; fewer, and the stage is skipped.
MIN_TOPIC_SEGMENTS = 10
#: Methods that method triangulation can compare (``coding.methods``, ``--methods``).
METHODS = ("human", "rules", "topics")
#: The review folder's memos (:mod:`toolkit.memos`): ``memos/<kind>/<target>.md``.
MEMOS_DIR = "memos"
#: Coder name of an adjudicated coding when review.yaml names none.
DEFAULT_CONSENSUS = "consensus"
#: Source groups above this many are tabled but not drawn (a bar chart would be unreadable).
MAX_GROUPS_DRAWN = 8


@dataclass(frozen=True)
class ReproduceResult:
    """Where the outputs went and what the run found."""

    out: Path
    files: tuple[Path, ...]
    status: pd.DataFrame

    def __repr__(self) -> str:
        return f"ReproduceResult(out={str(self.out)!r}, files={len(self.files)})"


@dataclass(frozen=True)
class Settings:
    """How the method runs on a review: from its ``review.yaml``, with call overrides.

    Attributes
    ----------
    embedding : str
        Topic-model backend.
    stop_words : tuple of str
        Words left out of topic keywords: ``topics.stop_words``, else the words at least
        half of the segments share (:func:`shared_words`), which say nothing about any
        one topic.
    stop_words_from : str
        ``"review.yaml"`` or ``"derived"``.
    min_topic_size : int or None
    by : tuple of str
        Record columns to triangulate on.
    min_groups, min_works : int
        Corroboration thresholds.
    coverage : tuple of str
        Segment or record columns for coverage tables.
    n_boot, random_state : int
    coders : tuple of str or None
        The human coders (``coding.coders``; None: every one in the codings folder). The
        first is the primary coder, whose coding the analysis uses where no consensus
        decides; all of them are compared in investigator triangulation.
    rounds : tuple of int or None
        The coding rounds whose codings are used (``coding.use_rounds``; None: all).
    consensus : str or None
        Coder name of the adjudicated coding (``coding.consensus``); None: ``consensus``
        when the folder holds it.
    methods : tuple of str
        What method triangulation compares (``coding.methods``): ``human`` and any of
        ``rules`` and ``topics``.
    """

    embedding: str
    stop_words: tuple[str, ...] | None
    stop_words_from: str
    min_topic_size: int | None
    by: tuple[str, ...]
    min_groups: int
    min_works: int
    coverage: tuple[str, ...]
    n_boot: int
    random_state: int
    rule_scores: str = "in-sample"
    coders: tuple[str, ...] | None = None
    rounds: tuple[int, ...] | None = None
    consensus: str | None = None
    methods: tuple[str, ...] = METHODS
    notes: list[str] = field(default_factory=list, compare=False)

    @classmethod
    def of(cls, review: Review, *, embedding: str | None = None, n_boot: int = 1000,
           random_state: int = 0, coders: Sequence[str] | None = None,
           rounds: Sequence[int] | None = None, consensus: str | None = None,
           methods: Sequence[str] | None = None) -> Settings:
        """Read the settings of ``review``; arguments given here win.

        Raises
        ------
        ToolkitError
            For a method other than human, rules and topics, or methods without human.
        """
        topics = review.protocol.get("topics") or {}
        tri = review.protocol.get("triangulation") or {}
        coding = review.protocol.get("coding") or {}
        by = tri.get("by") or ["source_group"]
        stop = review.stop_words
        coders = coders if coders is not None else review.coders
        rounds = rounds if rounds is not None else coding.get("use_rounds")
        methods = tuple(methods if methods is not None else coding.get("methods") or METHODS)
        unknown = sorted(set(methods) - set(METHODS))
        if unknown or "human" not in methods:
            raise ToolkitError(f"{review.folder}: methods {list(methods)}: method "
                               f"triangulation compares 'human' with any of 'rules' and "
                               f"'topics'; unknown: {unknown}" if unknown else
                               f"{review.folder}: methods {list(methods)} leave out 'human'; "
                               "method triangulation compares the human coding with the "
                               "others")
        return cls(
            embedding=str(embedding or topics.get("embedding") or "tfidf"),
            stop_words=None if stop is None else tuple(stop),
            stop_words_from="review.yaml" if stop is not None else "derived",
            min_topic_size=topics.get("min_topic_size"),
            by=tuple([by] if isinstance(by, str) else by),
            min_groups=int(tri.get("min_groups", 2)),
            min_works=int(tri.get("min_works", 1)),
            coverage=tuple(review.protocol.get("coverage") or ["rq", "year"]),
            n_boot=n_boot, random_state=random_state,
            rule_scores=str(coding.get("rule_scores") or "in-sample"),
            coders=tuple(str(c) for c in coders) if coders else None,
            rounds=tuple(int(r) for r in rounds) if rounds else None,
            consensus=consensus or coding.get("consensus") or None,
            methods=methods)


def shared_words(texts: list[str], *, min_share: float = 0.5) -> tuple[str, ...]:
    """Words (not English stop words) that at least ``min_share`` of the texts contain.

    A review's own subject ("remote", "work") is in nearly every abstract of its search, so
    it tells no topic from another; it is left out of topic keywords unless review.yaml
    lists the stop words itself.

    Examples
    --------
    >>> shared_words(["Remote work and stress.", "Remote work, sleep.", "Pay gaps."])
    ('remote', 'work')
    """
    import re

    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    counts: dict[str, int] = {}
    for text in texts:
        for word in set(re.findall(r"[a-z][a-z'-]+", str(text).lower())):
            if word not in ENGLISH_STOP_WORDS and len(word) > 2:
                counts[word] = counts.get(word, 0) + 1
    need = max(2, min_share * len(texts))
    return tuple(sorted(w for w, n in counts.items() if n >= need))


def _reproducibility(embedding: str) -> dict[str, str]:
    """State what a rerun reproduces, on this machine and on others (see the README)."""
    lexical = embedding == "tfidf"
    return {
        "same_machine": "Same inputs, package versions and settings: every file is "
                        "byte-identical (this manifest's environment apart).",
        "any_machine": (
            "Same inputs, package versions and settings on another machine (other CPU, "
            "BLAS kernels, thread count): every table (CSV, XLSX, Markdown, LaTeX), "
            "codebook.qdc and report.html are identical; the stable reduction rounds "
            "similarities before ranking neighbours and lays documents out without "
            "CPU-dependent arithmetic, and ties are broken by index wherever NumPy's "
            "CPU-specific sorting code would decide them. Figures (PNG) are identical as "
            "long as matplotlib and FreeType are the same versions."
            if lexical else
            "The topic model's embeddings come from PyTorch or model2vec, whose float32 "
            "results depend on the CPU; topic tables, the method triangulation and "
            "report.html may differ on another machine (the stability table says how "
            "much the topics move under perturbation). Every other table is identical."),
        "decided_by": "environment: the BLAS library and kernel, the CPU features that "
                      "select vector code (NumPy's sorting among them), and the CPU numba "
                      "compiles for",
    }


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def _relative(path: Path) -> str:
    """Show a path relative to the project (or the current folder) when inside it."""
    from toolkit.paths import project_root

    path = path.resolve()
    for base in (project_root(), Path.cwd()):
        try:
            return str(path.relative_to(base.resolve()))
        except ValueError:
            continue
    return str(path)


def check_reproduce_output(folder: Path) -> None:
    """Raise unless ``folder`` holds exactly what an earlier ``slr reproduce`` wrote there.

    Its ``manifest.json`` must carry ``"tool": "slr reproduce"``, and every file in the
    folder must be listed among the manifest's outputs with the same SHA-256: a file added
    or changed since (a note, an edited table) makes the folder not ours to replace.

    Raises
    ------
    ToolkitError
        Naming the unexpected or changed files and what to do.
    """
    manifest_path = folder / "manifest.json"
    refuse = (f"{folder}: exists and is not an earlier reproduce output ({{}}); choose "
              "another --out folder or move its files away")
    if manifest_path.is_symlink() or not manifest_path.is_file():
        raise ToolkitError(refuse.format("no manifest.json"))
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ToolkitError(refuse.format("manifest.json is not readable JSON")) from None
    if not isinstance(manifest, dict) or manifest.get("tool") != "slr reproduce":
        raise ToolkitError(refuse.format("manifest.json was not written by slr reproduce"))
    outputs = manifest.get("outputs")
    if not isinstance(outputs, dict):
        raise ToolkitError(refuse.format("manifest.json lists no outputs"))
    expected = {Path(str(name)): digest for name, digest in outputs.items()}
    expected[Path("manifest.json")] = None
    folders = {parent for name in expected for parent in name.parents}
    unexpected, changed = [], []
    for root, dirs, files in os.walk(folder):
        base = Path(root).relative_to(folder)
        for name in sorted(dirs):
            if (folder / base / name).is_symlink() or base / name not in folders:
                unexpected.append(str(base / name) + "/")
        dirs[:] = [d for d in dirs
                   if base / d in folders and not (folder / base / d).is_symlink()]
        for name in sorted(files):
            rel = base / name
            if rel not in expected or (folder / rel).is_symlink():
                unexpected.append(str(rel))
            elif expected[rel] is not None and _sha256(folder / rel) != expected[rel]:
                changed.append(str(rel))
    if unexpected or changed:
        parts = []
        if unexpected:
            parts.append(f"files it did not write: {_listing(unexpected)}")
        if changed:
            parts.append(f"files changed since it wrote them: {_listing(changed)}")
        raise ToolkitError(f"{folder}: holds " + "; and ".join(parts) + "; move them "
                           "elsewhere (or remove the folder) and run again, or choose another "
                           "--out folder")


def _listing(names: list[str], limit: int = 10) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def reproduce(out: str | Path = "out", *, corpus: str | Path | None = None,
              codebook_path: str | Path | None = None, codings_dir: str | Path | None = None,
              embedding: str | None = None, n_boot: int = 1000, random_state: int = 0,
              coders: Sequence[str] | None = None, rounds: Sequence[int] | None = None,
              consensus: str | None = None, methods: Sequence[str] | None = None,
              progress: bool = True, overwrite: bool = True) -> ReproduceResult:
    """Run the whole method on a review folder and write every artefact into ``out``.

    Parameters
    ----------
    out : str or Path, default "out"
        Target folder. An existing folder is replaced only when it is provably an earlier
        output (see :func:`check_reproduce_output`), so a folder of other files is never
        wiped; a symbolic link is refused. The new folder is built beside it and swapped in
        at the end (see :func:`toolkit._io.staged_directory`).
    corpus : str or Path, optional
        The review folder (one with a ``review.yaml``); default: the bundled review.
    codebook_path, codings_dir : optional
        Use this codebook or codings folder instead of the ones ``review.yaml`` names.
    embedding : str, optional
        Topic-model backend (``"minilm"``, ``"minilm-static"``, ``"tfidf"`` or a path);
        default: ``topics.embedding`` of review.yaml, else ``"tfidf"``.
    n_boot : int, default 1000
        Bootstrap replicates for agreement intervals.
    random_state : int, default 0
    coders : sequence of str, optional
        The human coders, primary coder first (default: ``coding.coders`` of review.yaml,
        else every human coder in the codings folder, the one who coded most segments as
        primary). Other people's files in the folder are left alone.
    rounds : sequence of int, optional
        Use the codings of these rounds only (default: ``coding.use_rounds``, else all).
        Each coding is checked against its own round's codebook (``coding.rounds``).
    consensus : str, optional
        Coder name of the adjudicated coding (default: ``coding.consensus``, else
        ``consensus`` when present). Where it decided a segment, the analysis uses it.
    methods : sequence of str, optional
        What method triangulation compares: ``human`` with ``rules`` and/or ``topics``
        (default: ``coding.methods``, else all three).
    progress : bool, default True
        Show a progress bar of the stages (on stderr).
    overwrite : bool, default True

    Returns
    -------
    ReproduceResult

    Raises
    ------
    ToolkitError
        (or a subclass) for unusable inputs, with one message; nothing is left in ``out``.
    """
    out = Path(out)
    if os.path.lexists(out) and not overwrite and not out.is_symlink():
        raise ToolkitError(f"{out}: exists; pass overwrite=True (or remove it)")
    if codings_dir is not None and not Path(codings_dir).is_dir():
        raise ToolkitError(f"{codings_dir}: no such folder of codings; give the folder that "
                           "holds round<N>/<coder>.csv (or leave it out to use the review's)")
    review = load_review(corpus)
    book_path = Path(codebook_path) if codebook_path else review.codebook_path()
    codings_path = Path(codings_dir) if codings_dir else review.codings_dir
    settings = Settings.of(review, embedding=embedding, n_boot=n_boot,
                           random_state=random_state, coders=coders, rounds=rounds,
                           consensus=consensus, methods=methods)
    with staged_directory(out, replace=check_reproduce_output) as work:
        status = _run(work, review, book_path, codings_path, settings, progress)
    absolute = Path(os.path.abspath(out))
    out = absolute.parent.resolve() / absolute.name
    files = tuple(sorted(p for p in out.rglob("*") if p.is_file()))
    return ReproduceResult(out, files, status)


@dataclass
class Results:
    """What one run found, handed to the report (:mod:`toolkit.review.report`).

    Tables a stage did not make (no human coding, too few segments for topics, no cases)
    stay None, and ``notes`` says why.
    """

    review: Review
    book: Codebook
    settings: Settings
    segments: pd.DataFrame
    analysis: pd.DataFrame
    analysis_from: str
    skipped: pd.DataFrame
    human: pd.DataFrame | None = None
    people: HumanCoding | None = None
    memos: pd.DataFrame | None = None
    rules: pd.DataFrame | None = None
    metrics: pd.DataFrame | None = None
    agree: pd.DataFrame | None = None
    people_agree: pd.DataFrame | None = None
    method_agree: Any = None
    model: Any = None
    stability: Any = None
    topic_table: pd.DataFrame | None = None
    alignment: dict[str, pd.DataFrame] | None = None
    topics_by_group: pd.DataFrame | None = None
    sources: list[triangulation.TriangulationTable] = field(default_factory=list)
    cases: triangulation.TriangulationTable | None = None
    coverage: list[triangulation.TriangulationTable] = field(default_factory=list)
    investigator: triangulation.TriangulationTable | None = None
    method: triangulation.TriangulationTable | None = None
    plain: dict[str, pd.DataFrame] = field(default_factory=dict)
    flow: pd.DataFrame | None = None
    search: pd.DataFrame | None = None
    screening: pd.DataFrame | None = None
    figures: dict[str, Path] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class HumanCoding:
    """The people's codings a run uses, and how they were chosen.

    Attributes
    ----------
    codings : DataFrame
        The chosen coders' codings (of the chosen rounds) and the consensus, if any.
    coders : tuple of str
        The human coders, primary first.
    consensus : str or None
        Coder name of the consensus coding used, if any.
    books : tuple of Codebook
        The codebook of each round the codings come from.
    analysis : DataFrame
        One human coding: the primary coder's, with the consensus where it decided (codes
        renamed or merged since carried to the analysis codebook's ids).
    """

    codings: pd.DataFrame
    coders: tuple[str, ...]
    consensus: str | None
    books: tuple[Codebook, ...]
    analysis: pd.DataFrame

    @property
    def primary(self) -> str:
        """The coder whose coding the analysis uses where no consensus decides."""
        return self.coders[0]


def _current_ids(book: Codebook) -> dict[str, str]:
    """Earlier ids (renamed or merged away) -> the id the analysis codebook uses now."""
    current: dict[str, str] = {}
    for code in book.codes:
        for old in (*code.lineage.renamed_from, *code.lineage.merged_from):
            current.setdefault(old, code.id)
    for _ in range(len(current)):  # chains: a renamed in round 2, then merged in round 3
        changed = {k: current.get(v, v) for k, v in current.items()}
        if changed == current:
            break
        current = changed
    return current


def _load_codings(review: Review, book: Codebook, segments: pd.DataFrame,
                  codings_path: Path, book_path: Path, settings: Settings
                  ) -> HumanCoding | None:
    """Load the people's codings the analysis uses (None when the review has none yet).

    Only the chosen coders' files are read into the analysis, each checked against its
    own round's codebook, so another person's extra file (a student's round 3) never
    breaks a run that does not use it. Rule and topic codings saved in the folder are
    methods, never coders.
    """
    if not codings_path.is_dir() or not any(codings_path.glob("round*/*.csv")):
        return None
    everything = load_codings(codings_path, methods=None)
    if settings.rounds is not None:
        missing = sorted(set(settings.rounds) - set(everything["round"].dropna().astype(int)))
        if missing:
            there = sorted(int(r) for r in everything["round"].dropna().unique())
            raise ToolkitError(f"{codings_path}: no codings of round(s) {missing}; the rounds "
                               f"there are {there}")
        everything = everything[everything["round"].isin(list(settings.rounds))]
    human = everything[everything["method"] == "human"]
    present = sorted(human["coder"].dropna().unique())
    if settings.coders is not None:
        unknown = [c for c in settings.coders if c not in present]
        if unknown:
            raise ToolkitError(f"{codings_path}: no human codings of coder(s) {unknown}"
                               + (f" in rounds {list(settings.rounds)}" if settings.rounds
                                  else "")
                               + f"; the human coders there are {present} (rule codings are "
                               "a method, not a coder)")
        coders = tuple(dict.fromkeys(settings.coders))
    elif present:
        coded = human.dropna(subset=["code_id"]).groupby("coder")["segment_id"].nunique()
        coders = tuple(sorted(present, key=lambda c: (-int(coded.get(c, 0)), c)))
    else:
        return None
    name = settings.consensus or DEFAULT_CONSENSUS
    agreed = everything[(everything["coder"] == name) & (everything["method"] == "consensus")]
    if agreed.empty and settings.consensus is not None:
        raise ToolkitError(f"{codings_path}: no consensus coding of {name!r}; adjudicate "
                           f"with slr adjudicate {review.folder} (or leave --consensus out)")
    chosen = make_codings(pd.concat([human[human["coder"].isin(coders)], agreed],
                                    ignore_index=True))
    rounds = sorted(int(r) for r in chosen["round"].dropna().unique())
    books = round_codebooks(review, rounds, book=book, book_path=book_path)
    for (round_, coder), part in chosen.groupby(["round", "coder"], sort=True):
        round_book, round_path = books[int(round_)]
        validate_codings(part, codebook=round_book, segments=segments,
                         where=f"{codings_path / f'round{int(round_)}' / f'{coder}.csv'} "
                               f"with its round's codebook {round_path}")
    primary = chosen[chosen["coder"] == coders[0]]
    if primary["round"].nunique() > 1:  # a recoding in a later round replaces the earlier one
        latest = primary.groupby("segment_id")["round"].transform("max")
        primary = primary[primary["round"] == latest]
    analysis = primary if agreed.empty else combine_with_consensus(primary, agreed)
    if analysis.dropna(subset=["code_id"]).empty:
        raise triangulation.TriangulationError(f"{codings_path}: no human codings with a "
                                               "code")
    current = _current_ids(book)
    analysis = analysis.assign(code_id=analysis["code_id"].map(
        lambda c: current.get(c, c) if isinstance(c, str) else c).astype("string"))
    unknown = sorted(set(analysis["code_id"].dropna()) - set(book.ids))
    if unknown:
        raise ToolkitError(
            f"{codings_path}: the analysis coding ({coders[0]}"
            + (f" with {name}" if not agreed.empty else "") + f") uses codes that the "
            f"analysis codebook {book_path} does not have: {unknown[:10]}; name the newest "
            "round's codebook as coding.codebook in review.yaml (slr codebook does this), or "
            "retire codes only after recoding them")
    return HumanCoding(chosen, coders, None if agreed.empty else name,
                       tuple(b for b, _ in books.values()), make_codings(analysis))


def choose_human_coding(review: Review, segments: pd.DataFrame, *,
                        coders: Sequence[str] | None = None,
                        rounds: Sequence[int] | None = None, consensus: str | None = None,
                        codebook_path: str | Path | None = None,
                        codings_dir: str | Path | None = None) -> HumanCoding | None:
    """Return the human coding a review's analysis uses, chosen as ``reproduce`` chooses it.

    Parameters
    ----------
    review : Review
    segments : DataFrame
        The review's segments (codings are checked against them).
    coders, rounds, consensus : optional
        As for :func:`reproduce` (defaults from review.yaml's ``coding`` section).
    codebook_path, codings_dir : optional
        Instead of the review's.

    Returns
    -------
    HumanCoding or None
        None when no person has coded yet.
    """
    from toolkit.codebook import load_codebook

    book_path = Path(codebook_path) if codebook_path else review.codebook_path()
    folder = Path(codings_dir) if codings_dir else review.codings_dir
    settings = Settings.of(review, coders=coders, rounds=rounds, consensus=consensus)
    return _load_codings(review, load_codebook(book_path), segments, folder, book_path,
                         settings)


def _segments(review: Review) -> tuple[pd.DataFrame, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SegmentWarning)
        segments = review.segments()
    if segments.empty:
        raise ToolkitError(f"{review.folder}: no segments: the review's texts are empty "
                           "(are there abstracts in the exports? see `slr segment`)")
    return segments, [str(w.message) for w in caught if issubclass(w.category, SegmentWarning)]


def _by_column(records: pd.DataFrame, by: str) -> str:
    """Name the records column to triangulate on (``database``: every database of a work)."""
    return "databases" if by == "database" and "databases" in records.columns else by


def _run(work: Path, review: Review, book_path: Path, codings_path: Path,
         settings: Settings, progress: bool) -> pd.DataFrame:
    import matplotlib

    matplotlib.use("Agg", force=False)
    from tqdm.auto import tqdm

    from toolkit.codebook import load_codebook
    from toolkit.review.report import render_report

    bar: Any = None  # shown once the inputs have loaded, so input errors stay one message

    def stage(name: str) -> None:
        if bar is not None:
            bar.set_postfix_str(name)

    def done() -> None:
        if bar is not None:
            bar.update(1)

    tables_dir, figures_dir = work / "tables", work / "figures"
    stage("load review")
    records = review.records
    screening = review.screening()  # read now: a broken file fails before the long stages
    segments, segment_notes = _segments(review)
    column = str((review.protocol.get("segments") or {}).get("column") or "abstract")
    skipped = (find_records_without_text(records, column)
               if review.segment_source == "abstracts" else
               pd.DataFrame(columns=["record_id", "title", "reason"]))
    done()

    stage("codebook")
    if not book_path.is_file():
        raise ToolkitError(f"{book_path}: no codebook here; review.yaml's coding.codebook "
                           "names it")
    book = load_codebook(book_path)
    people = _load_codings(review, book, segments, codings_path, book_path, settings)
    human = people.analysis if people is not None else None
    bar = tqdm(total=len(STAGES), initial=2, disable=not progress, desc="reproduce",
               unit="stage")

    stage("rule coding")
    rules = RuleCoder(book).fit().transform(segments)
    results = Results(review, book, settings, segments,
                      analysis=human if human is not None else rules,
                      analysis_from="human" if human is not None else "rules",
                      skipped=skipped, human=human, people=people, rules=rules,
                      screening=screening)
    results.warnings += segment_notes
    results.memos = load_memos(review.folder / MEMOS_DIR)
    if human is not None:
        results.metrics = compute_rule_metrics(rules, human, codebook=book, level="theme")
    else:
        results.notes["coding"] = ("No human coding yet: the tables use the rule coder's "
                                   "codings, which no person has checked.")
    if results.analysis.dropna(subset=["code_id"]).empty:
        raise triangulation.TriangulationError(
            f"{review.folder}: no segment was coded: the rule coder found none of the "
            f"codebook's patterns and there is no human coding; add patterns to {book_path} "
            "or code segments by hand (slr sheet)")
    done()

    stage("agreement")
    _agreement(results)
    done()

    stage("topic model")
    _topics(results, segments, records)
    done()

    stage("topic stability")
    _stability(results, segments, records)
    done()

    stage("triangulation")
    _triangulate(results)
    done()

    stage("export tables")
    _tables(results, tables_dir)
    done()

    stage("figures")
    _figures(results, figures_dir)
    done()

    stage("REFI-QDA")
    export_qdc(book, work / "codebook.qdc")
    _qdpx(results, work / "project.qdpx")
    done()

    stage("PRISMA")
    _prisma(results, tables_dir, figures_dir)
    done()

    stage("report")
    atomic_write_text(work / "report.html", render_report(results))
    done()

    stage("manifest")
    memo_dir = review.folder / MEMOS_DIR
    inputs = sorted({*review.input_files(), book_path.resolve(),
                     *(codings_path.rglob("*.csv") if codings_path.is_dir() else []),
                     *(memo_dir.rglob("*.md") if memo_dir.is_dir() else [])})
    outputs = sorted(p for p in work.rglob("*") if p.is_file())
    manifest = {
        "tool": "slr reproduce",
        "review": {"title": review.title, "folder": _relative(review.folder)},
        "versions": _versions(),
        "seeds": {"random_state": settings.random_state, "n_boot": settings.n_boot},
        "environment": numeric_environment(),
        "reproducibility": _reproducibility(settings.embedding),
        "settings": {"embedding": settings.embedding,
                     "stop_words": list(results.settings.stop_words or ()),
                     "stop_words_from": results.settings.stop_words_from,
                     "triangulation_by": list(settings.by), "min_groups": settings.min_groups,
                     "codings_used": results.analysis_from,
                     **({"coders": list(results.people.coders),
                         "consensus": results.people.consensus,
                         "rounds": sorted({b.round for b in results.people.books})}
                        if results.people is not None else {}),
                     "methods": list(settings.methods)},
        "inputs": {_relative(p): _sha256(p) for p in inputs},
        "outputs": {str(p.relative_to(work)): _sha256(p) for p in outputs},
    }
    atomic_write_text(work / "manifest.json", json.dumps(manifest, indent=1, sort_keys=True))
    done()
    bar.close()
    first = results.sources[0]
    return first.wide[["groups_supporting", "status"]].reset_index()


def _topics(results: Results, segments: pd.DataFrame, records: pd.DataFrame) -> None:
    settings = results.settings
    if len(segments) < MIN_TOPIC_SEGMENTS:
        results.notes["topics"] = (f"No topic model: {len(segments)} segments are too few "
                                   f"(at least {MIN_TOPIC_SEGMENTS} are needed).")
        return
    from toolkit.topics import TopicModel  # imported here: bad inputs fail before BERTopic

    stop = settings.stop_words
    if stop is None:
        stop = shared_words(segments["text"].astype(str).tolist())
        results.settings = replace(settings, stop_words=stop)
    try:
        results.model = TopicModel(embedding=settings.embedding, stop_words=list(stop),
                                   min_topic_size=settings.min_topic_size,
                                   random_state=settings.random_state).fit(segments)
    except (TopicModelError, ValueError) as err:
        results.notes["topics"] = f"No topic model: it could not be fitted ({err})."


def _stability(results: Results, segments: pd.DataFrame, records: pd.DataFrame) -> None:
    if results.model is None:
        return
    from toolkit.topics import (
        compute_topic_stability,
        compute_topic_table,
        compute_topic_theme_alignment,
        compute_topics_by,
    )

    model = results.model
    results.stability = compute_topic_stability(model, segments,
                                                random_state=results.settings.random_state,
                                                warn=False)
    results.topic_table = compute_topic_table(model, results.stability)
    results.alignment = compute_topic_theme_alignment(model.document_topics_, results.analysis,
                                                      results.book)
    results.topics_by_group = compute_topics_by(model.document_topics_, segments,
                                                "source_group", records=records)


def _quiet_unknown(call: Callable[[], triangulation.TriangulationTable], results: Results
                   ) -> triangulation.TriangulationTable:
    """Run a table; keep its unknown-group warning for the report instead of showing it."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", triangulation.TriangulationWarning)
        table = call()
    for warning in caught:
        if issubclass(warning.category, triangulation.TriangulationWarning):
            results.warnings.append(f"{table.name}: {warning.message}")
    return table


def _agreement(results: Results) -> None:
    """Agreement between the people (investigator) and between the methods."""
    people, settings = results.people, results.settings
    if people is None:
        return
    if len(people.coders) > 1:
        results.people_agree = agreement.compute_agreement(
            people.codings, coders=people.coders, codebook=people.books, level="theme",
            n_boot=settings.n_boot, random_state=settings.random_state)
        left = results.people_agree.attrs.get("left_out") or []
        if left:
            results.warnings.append(
                f"agreement between {', '.join(people.coders)}: themes not in every coder's "
                f"round are left out: {', '.join(left)}")
    else:
        results.notes["investigator"] = (
            f"One person ({people.primary}) coded the segments: investigator triangulation "
            "needs a second human coder (slr sheet).")
    if "rules" in settings.methods:
        results.method_agree = triangulation.compute_method_agreement(
            results.human, results.rules, results.book, n_boot=settings.n_boot,
            random_state=settings.random_state)
        results.agree = results.method_agree.tidy.rename(
            columns={"row": "code_id", "column": "metric"})


def _triangulate(results: Results) -> None:
    review, book, settings = results.review, results.book, results.settings
    records, segments, codings = review.records, results.segments, results.analysis
    cases = review.cases
    for by in settings.by:
        column = _by_column(records, by)
        table = _quiet_unknown(lambda c=column: triangulation.compute_source_triangulation(
            codings, segments, records, book, by=c, min_groups=settings.min_groups,
            min_works=settings.min_works, cases=cases), results)
        results.sources.append(replace(table, name=f"source_triangulation_{by}"))
    if cases:
        results.cases = triangulation.compute_cross_case(codings, segments, book, cases=cases)
    for by in settings.coverage:
        if by not in segments.columns and by not in records.columns:
            continue
        if by in segments.columns and segments[by].isna().all():
            continue
        results.coverage.append(_quiet_unknown(
            lambda b=by: triangulation.compute_coverage(codings, segments, book, by=b,
                                                        records=records, cases=cases),
            results))
    people = results.people
    if people is not None and len(people.coders) > 1:
        results.investigator = triangulation.compute_investigator_triangulation(
            people.codings, list(people.books), coders=people.coders,
            consensus=people.consensus, n_boot=settings.n_boot,
            random_state=settings.random_state, agreement=results.people_agree)
    if people is not None and "rules" in settings.methods:
        topics = (results.model.document_topics_
                  if results.model is not None and "topics" in settings.methods else None)
        results.method = triangulation.compute_method_triangulation(
            results.human, results.rules, topics, book)


def _qdpx(results: Results, path: Path) -> None:
    """Write the coded review as a REFI-QDA project for NVivo, ATLAS.ti or MAXQDA."""
    parts = [results.rules]
    if results.people is not None:
        current = _current_ids(results.book)
        people = results.people.codings
        parts.insert(0, people.assign(code_id=people["code_id"].map(
            lambda c: current.get(c, c) if isinstance(c, str) else c).astype("string")))
    codings = make_codings(pd.concat(parts, ignore_index=True))
    codings = codings[codings["code_id"].isna() | codings["code_id"].isin(results.book.ids)]
    export_qdpx(path, results.book, results.segments, codings, memos=results.memos,
                name=results.review.title)


def _tables(results: Results, tables_dir: Path) -> None:
    review, records = results.review, results.review.records
    plain: dict[str, pd.DataFrame | None] = {
        "corpus_summary": compute_corpus_summary(records),
        "works_by_source_group": compute_counts(records, "source_group"),
        "works_by_source_type": compute_counts(records, "source_type"),
    }
    if review.evidence is not None:
        plain["evidence_by_question"] = compute_evidence_counts(review, "rq")
    sources = review.sources()
    if review.search or (sources is not None and sources["database"].nunique() > 1):
        results.search = compute_search_table(review.search, review.loaded,
                                              review.folder, review.loaded_records())
        plain["search_log"] = results.search
        plain["database_overlap"] = compute_database_overlap(sources)
    if review.dedup is not None and len(review.dedup.log):
        plain["deduplication_log"] = review.dedup.log[["kept_id", "removed_id", "rule",
                                                        "score", "kept_source",
                                                        "removed_source"]]
    if len(results.skipped):
        plain["records_without_text"] = results.skipped
    if results.metrics is not None:
        plain["rule_metrics_by_theme"] = results.metrics
    if results.agree is not None:
        plain["agreement_by_theme"] = agreement.agreement_table(results.agree)
    if results.people_agree is not None:
        plain["agreement_between_coders"] = agreement.agreement_table(results.people_agree)
    if results.model is not None:
        plain.update({
            "topics": results.topic_table,
            "topic_stability": results.stability.summary(),
            "topic_stability_runs": results.stability.runs,
            "topic_theme_alignment": results.alignment["wide"],
            "topic_best_per_theme": results.alignment["best_per_theme"],
            "topics_by_source_group": results.topics_by_group,
        })
    results.plain = {k: v for k, v in plain.items() if v is not None}
    for name, frame in results.plain.items():
        export_table(frame, tables_dir, name)
    for table in [*results.sources, results.cases, *results.coverage, results.investigator,
                  results.method_agree, results.method]:
        if table is not None:
            export_table(table, tables_dir)


def _figures(results: Results, figures_dir: Path) -> None:
    import matplotlib.pyplot as plt

    records = results.review.records
    labels = {code.id: code.label for code in results.book}

    def named(frame: pd.DataFrame) -> pd.DataFrame:
        """Show code ids by their labels (rows and columns)."""
        return frame.rename(index=lambda v: labels.get(str(v), v),
                            columns=lambda v: labels.get(str(v), v))

    def fig(name: str, draw: Callable[[Any], Any], size: tuple[float, float]) -> None:
        _, ax = plt.subplots(figsize=size)
        draw(ax)
        results.figures[name] = plots.save_figure(ax, figures_dir / f"{name}.png")

    for i, table in enumerate(results.sources):
        groups = [c for c in table.wide.columns if c not in ("groups_supporting", "status")]
        if len(groups) > MAX_GROUPS_DRAWN:
            continue
        by = table.name.removeprefix("source_triangulation_")
        name = "source_triangulation" if i == 0 else table.name
        fig(name, lambda ax, t=table, b=by: plots.plot_status(
            named(t.wide), ax=ax, title=f"Works supporting each theme, by {b.replace('_', ' ')}"),
            (8, max(4.5, 0.4 * len(table.wide) + 1.2)))
    if results.cases is not None:
        fig("cross_case", lambda ax: plots.plot_heatmap(
            named(results.cases.wide), ax=ax, title="Segments per theme and case"),
            (10, 4.5))
    for table in results.coverage:
        if table.by == "rq":
            fig("coverage_rq", lambda ax, t=table: plots.plot_heatmap(
                named(t.wide), ax=ax, title="Segments per theme and guiding question"),
                (8, 4.5))
    fig("works_by_year", lambda ax: plots.plot_corpus_counts(records, "year", ax=ax), (7, 3.5))
    types = records["source_type"].nunique(dropna=False)
    fig("works_by_source_type", lambda ax: plots.plot_corpus_counts(records, "source_type",
                                                                     ax=ax),
        (7, min(5, 0.3 * types + 1.5)))
    if results.topics_by_group is not None:
        fig("topics_by_source_group", lambda ax: plots.plot_heatmap(
            results.topics_by_group, ax=ax, title="Documents per topic and source group"),
            (7, 3.5))


def _prisma(results: Results, tables_dir: Path, figures_dir: Path) -> None:
    import matplotlib.pyplot as plt

    review = results.review
    report = review.protocol.get("report") or {}
    loaded = review.loaded
    blocks = None
    if loaded is not None:
        blocks = loaded.blocks.groupby("source_file", sort=False)["records"].sum().reset_index()
        blocks["source_file"] = [_review_relative(review, f) for f in blocks["source_file"]]
    screening = results.screening
    log = review.dedup.log if review.dedup is not None else None
    flow = prisma.compute_prisma(blocks, log, screening,
                                 derive_screened=bool(report.get("derive_screened", True)),
                                 notes={str(k): str(v) for k, v in
                                        (report.get("prisma_notes") or {}).items()},
                                 search=results.search)
    results.flow = flow
    export_table(flow, tables_dir, "prisma_flow")
    _, ax = plt.subplots(figsize=(9, 7))
    plots.plot_prisma(flow, ax=ax)
    results.figures["prisma_flow"] = plots.save_figure(ax, figures_dir / "prisma_flow.png")


def _review_relative(review: Review, path: str) -> str:
    try:
        return str(Path(path).resolve().relative_to(review.folder.resolve()))
    except ValueError:
        return Path(path).name
