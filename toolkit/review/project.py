"""A review folder as one object: :func:`load_review` and :class:`Review`.

Any folder with a ``review.yaml`` (see :mod:`toolkit.review.config`) is a review: the
records come from its exports (loaded, given their databases and source groups, and
de-duplicated), its segments from the abstracts, full texts or evidence table the file
names, and its codebook and codings from where the file says they are. The bundled review
is such a folder (``corpus/``), with no special case here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit.codebook import Codebook, load_codebook
from toolkit.corpus import DedupResult, LoadResult, deduplicate, load_corpus
from toolkit.errors import ToolkitError
from toolkit.paths import bundled_corpus_dir
from toolkit.review.config import REVIEW_FILE, ReviewConfigError, load_review_config
from toolkit.review.evidence import (
    ReviewDataError,
    read_evidence,
    read_review_table,
    validate_review,
)
from toolkit.review.sources import assign_databases

__all__ = ["Review", "load_review"]

_DEFAULT_CODINGS = "codings"
_STAGES = ("title_abstract", "full_text")
_DECISIONS = {"title_abstract": ("include", "exclude"),
              "full_text": ("include", "exclude", "not_retrieved")}
_DEFAULT_CODEBOOK = "codebook.yaml"


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(value)] if isinstance(value, (str, int)) else [str(v) for v in value]


@dataclass(frozen=True)
class Review:
    """A review, as :func:`load_review` returns it.

    Attributes
    ----------
    records : DataFrame
        The works (:data:`toolkit.types.RECORD_COLUMNS`), de-duplicated when the review
        asks for it, plus ``database`` (the database each came from) and, after
        de-duplication, ``databases`` (every database that found the work); extra columns
        the review declares (e.g. ``source_note``) follow.
    evidence : DataFrame or None
        The curated evidence table (:data:`toolkit.review.EVIDENCE_COLUMNS`) when the
        review's segments come from one; ``cited_keys`` and ``missing_citations`` are
        tuples, ``rq`` a nullable integer.
    protocol : dict
        ``review.yaml`` as loaded with ``yaml.safe_load``.
    audit : DataFrame or None
        The citation audit recorded while curating an evidence table, when there is one.
    folder : Path
        The review folder; every path in ``review.yaml`` is relative to it.
    loaded : LoadResult or None
        What loading the exports gave: every record read, failures, warnings, and the
        per-file accounting (``loaded.blocks``) that PRISMA counts come from.
    dedup : DedupResult or None
        The de-duplication (its ``log`` lists every merge), when the review asks for one.
    """

    records: pd.DataFrame
    evidence: pd.DataFrame | None
    protocol: dict[str, Any]
    audit: pd.DataFrame | None
    folder: Path = field(default=Path("."))
    loaded: LoadResult | None = None
    dedup: DedupResult | None = None

    # --- what review.yaml says -----------------------------------------------------------

    def _section(self, key: str) -> dict[str, Any]:
        value = self.protocol.get(key)
        return value if isinstance(value, dict) else {}

    def path(self, relative: str | Path) -> Path:
        """Resolve a path of ``review.yaml`` against the review folder."""
        return self.folder / relative

    @property
    def title(self) -> str:
        """The review's title."""
        return str(self.protocol.get("title", self.folder.name))

    @property
    def id(self) -> str:
        """A short id (``id`` in review.yaml, else the folder's name)."""
        return str(self.protocol.get("id") or self.folder.resolve().name)

    def questions(self) -> pd.DataFrame:
        """Return the review's questions as a table (``rq, question``)."""
        given = self.protocol.get("questions") or {}
        items = sorted(((int(k), v) for k, v in given.items()), key=lambda kv: kv[0]) \
            if isinstance(given, dict) else list(enumerate(given, start=1))
        return pd.DataFrame([(int(k), str(v)) for k, v in items if v is not None],
                            columns=["rq", "question"])

    @property
    def cases(self) -> dict[str, list[str]]:
        """Kinds of case and their codes (``cases`` in review.yaml), for cross-case tables."""
        return {str(k): _as_list(v) for k, v in self._section("cases").items()}

    @property
    def segment_source(self) -> str:
        """Where segments come from: ``"abstracts"``, ``"documents"`` or ``"evidence"``."""
        return str(self._section("segments").get("from", "abstracts"))

    @property
    def segment_unit(self) -> str:
        """How texts are cut into segments (``whole``, ``sentence``, ``paragraph``, ``page``)."""
        default = {"abstracts": "whole", "documents": "paragraph", "evidence": "whole"}
        return str(self._section("segments").get("unit") or default[self.segment_source])

    @property
    def documents_dir(self) -> Path:
        """The folder of full texts (``segments.documents``, default ``documents/``)."""
        return self.path(self._section("segments").get("documents") or "documents")

    @property
    def codings_dir(self) -> Path:
        """The folder of saved codings (``coding.codings``, default ``codings/``)."""
        return self.path(self._section("coding").get("codings") or _DEFAULT_CODINGS)

    @property
    def coders(self) -> list[str] | None:
        """The human coders whose codings the analysis uses (None: every one)."""
        coders = self._section("coding").get("coders")
        return _as_list(coders) if coders else None

    def rounds(self) -> dict[int, Path]:
        """Return the codebook file per coding round (``coding.rounds``, else the one codebook)."""
        rounds = self._section("coding").get("rounds") or {}
        if rounds:
            return dict(sorted((int(k), self.path(v)) for k, v in rounds.items()))
        return {0: self.path(self._section("coding").get("codebook") or _DEFAULT_CODEBOOK)}

    def codebook_path(self, round: int | None = None) -> Path:  # noqa: A002
        """Return the codebook file of a round (default: ``coding.codebook``, else the last).

        Raises
        ------
        ToolkitError
            For a round the review does not list.
        """
        coding = self._section("coding")
        if round is None and coding.get("codebook"):
            return self.path(coding["codebook"])
        rounds = self.rounds()
        if round is None:
            return rounds[max(rounds)]
        if round not in rounds:
            raise ToolkitError(f"{self.folder / REVIEW_FILE}: no codebook for round {round}; "
                               f"rounds listed: {sorted(rounds)}")
        return rounds[round]

    def codebook(self, round: int | None = None) -> Codebook:  # noqa: A002
        """Load the codebook of a round (see :meth:`codebook_path`)."""
        path = self.codebook_path(round)
        if not path.is_file():
            raise ToolkitError(f"{path}: no codebook here; review.yaml's coding.codebook "
                               "names it (slr init writes a starter codebook.yaml)")
        return load_codebook(path)

    @property
    def stop_words(self) -> list[str] | None:
        """Words the topic model leaves out of keywords (``topics.stop_words``), if given."""
        words = self._section("topics").get("stop_words")
        return None if words is None else [str(w) for w in words]

    @property
    def search(self) -> list[dict[str, Any]]:
        """The search log: databases, search strings, dates and hits."""
        return [e for e in self.protocol.get("search") or [] if isinstance(e, dict)]

    def screening(self) -> pd.DataFrame | None:
        """Read the screening decisions (``screening`` in review.yaml), if the review has them."""
        name = self.protocol.get("screening")
        if not name:
            return None
        path = self.path(name)
        if not path.is_file():
            raise ToolkitError(f"{path}: no such file; review.yaml's screening names it")
        table = read_review_table(path, dtype=str, keep_default_na=False)
        missing = [c for c in ("record_id", "stage", "decision") if c not in table.columns]
        if missing:
            raise ToolkitError(f"{path}: missing column(s) {missing}; a screening table has "
                               "record_id, stage, decision, reason")
        if "reason" not in table.columns:
            table["reason"] = ""
        table["stage"] = table["stage"].str.strip().str.lower()
        table["decision"] = table["decision"].str.strip().str.lower()
        problems = [f"line {i + 2}: stage {stage!r}, decision {decision!r}"
                    for i, (stage, decision) in enumerate(zip(table["stage"], table["decision"],
                                                              strict=True))
                    if stage not in _STAGES or decision not in _DECISIONS[stage]]
        if problems:
            raise ReviewDataError(self.folder, [
                f"{name}: {p}; stage is title_abstract (decision include or exclude) or "
                "full_text (include, exclude or not_retrieved)" for p in problems[:20]]
                + ([f"{name}: and {len(problems) - 20} more"] if len(problems) > 20 else []))
        return table

    def sources(self) -> pd.DataFrame | None:
        """Return every loaded record and the work it ended in (``DedupResult.sources``).

        One row per record read from the exports (:data:`toolkit.types.DEDUP_SOURCE_COLUMNS`:
        ``kept_id, source_record_id, source_file, source_line, database, rule``); None when
        the review is not de-duplicated. Give it to
        :func:`toolkit.corpus.compute_database_overlap` for the overlap of databases.
        """
        if self.dedup is None:
            return None
        return self.dedup.sources

    def loaded_records(self) -> pd.DataFrame:
        """Return every record loaded from the exports, before de-duplication, with ``database``."""
        if self.loaded is None:
            return self.records
        return assign_databases(self.loaded.records, self.search, self.folder)

    # --- segments ------------------------------------------------------------------------

    def segments(self) -> pd.DataFrame:
        """Build the review's segments, as ``segments`` in review.yaml says.

        ``from: abstracts`` (one per record, or per sentence with ``unit: sentence``),
        ``from: documents`` (full texts in ``documents/``: ``.txt``, ``.md``, ``.pdf``,
        each named by the record id of the work it is) or ``from: evidence`` (the
        statements of the evidence table, with ``section``, ``rq`` and ``cited_keys``).
        Texts that give no segment are named in a
        :class:`~toolkit.coding.SegmentWarning`.

        Raises
        ------
        ToolkitError
            When the texts are missing (no documents folder, no evidence table).
        """
        from toolkit.coding import (
            DOCUMENT_SUFFIXES,
            segments_from_documents,
            segments_from_frame,
            segments_from_records,
        )

        settings = self._section("segments")
        source, unit = self.segment_source, self.segment_unit
        if source == "evidence":
            if self.evidence is None:
                raise ToolkitError(f"{self.folder}: segments come from an evidence table but "
                                   "none was loaded")
            segments = segments_from_frame(self.evidence, "statement", id_column="segment_id",
                                           keep=["section", "rq", "cited_keys"])
            segments["document_id"] = pd.array([str(settings.get("document_id") or self.id)]
                                               * len(segments), dtype="string")
            return segments
        if source == "documents":
            folder = self.documents_dir
            files = sorted(p for p in folder.rglob("*") if p.is_file()
                           and p.suffix.lower() in DOCUMENT_SUFFIXES) if folder.is_dir() else []
            if not files:
                raise ToolkitError(f"{folder}: no full texts (.txt, .md, .pdf) here; put one "
                                   "file per work in it, named by its record id")
            known = set(self.records["record_id"].astype(str))
            return segments_from_documents(files, unit=unit,  # type: ignore[arg-type]
                                           record_ids={p.stem: p.stem for p in files
                                                       if p.stem in known})
        column = str(settings.get("column") or "abstract")
        return segments_from_records(self.records, column=column,
                                     unit=unit)  # type: ignore[arg-type]

    # --- evidence tables -------------------------------------------------------------------

    def evidence_long(self) -> pd.DataFrame:
        """One row per (segment, cited record): ``segment_id, record_id, section, rq``.

        Joined with each record's ``source_type``, ``source_group`` and ``year``.
        """
        if self.evidence is None:
            raise ToolkitError(f"{self.folder}: this review has no evidence table")
        rows = [(seg, key, sec, rq) for seg, keys, sec, rq in self.evidence[
            ["segment_id", "cited_keys", "section", "rq"]].itertuples(index=False)
            for key in keys]
        long = pd.DataFrame(rows, columns=["segment_id", "record_id", "section", "rq"])
        long["rq"] = long["rq"].astype("Int64")
        info = self.records[["record_id", "source_type", "source_group", "year"]]
        return long.merge(info, on="record_id", how="left")

    def input_files(self) -> list[Path]:
        """Return every file the review reads (for a manifest): exports, texts, codings."""
        files = [self.folder / REVIEW_FILE]
        for given in _as_list(self._section("records").get("files")):
            path = self.path(given)
            files += sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() \
                else [path]
        segments = self._section("segments")
        for key in ("evidence", "audit"):
            if segments.get(key):
                files.append(self.path(segments[key]))
        if self.segment_source == "documents" and self.documents_dir.is_dir():
            files += sorted(p for p in self.documents_dir.rglob("*") if p.is_file())
        for key in ("add",):
            if self._section("records").get(key):
                files.append(self.path(self._section("records")[key]))
        if self.protocol.get("screening"):
            files.append(self.path(self.protocol["screening"]))
        files.append(self.codebook_path())
        if self.codings_dir.is_dir():
            files += sorted(self.codings_dir.rglob("*.csv"))
        return sorted({p.resolve() for p in files if p.is_file()})

    def __repr__(self) -> str:
        questions = len(self.questions())
        if self.evidence is not None:
            return (f"Review(records={len(self.records)}, evidence={len(self.evidence)}, "
                    f"questions={questions})")
        return f"Review({self.title!r}, records={len(self.records)}, questions={questions})"


def _records(folder: Path, protocol: dict[str, Any]
             ) -> tuple[pd.DataFrame, LoadResult, DedupResult | None]:
    settings = protocol.get("records") or {}
    given = _as_list(settings.get("files")) or ["exports"]
    paths = [folder / f for f in given]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise ReviewConfigError(folder / REVIEW_FILE, [
            f"records.files: {missing} do not exist; put the reference exports there (or "
            "list where they are)"])
    loaded = load_corpus(paths, strict=bool(settings.get("strict", False)))
    if loaded.records.empty:
        failures = loaded.failures_frame()
        shown = [f"{f.source_file} line {f.line}: {f.reason}"
                 for f in failures.head(5).itertuples(index=False)]
        raise ReviewDataError(folder, [
            f"records.files: no record could be read from {', '.join(given)} "
            f"({len(failures)} block(s) failed); are these reference exports?", *shown])
    records = assign_databases(loaded.records, protocol.get("search"), folder)
    for column, name in (settings.get("columns") or {}).items():
        records[str(column)] = records["extra"].map(
            lambda extra, key=str(name): dict(extra).get(key)).astype("string")
    taxonomy = protocol.get("source_taxonomy") or {}
    if taxonomy:
        group_of = {k: v.get("group") for k, v in taxonomy.items() if isinstance(v, dict)}
        fill = records["source_group"].isna() & records["source_type"].isin(list(group_of))
        records.loc[fill, "source_group"] = records.loc[fill, "source_type"].map(group_of)
    dedup = None
    if settings.get("deduplicate", True):
        dedup = deduplicate(records)  # each kept work lists every database that found it
        records = dedup.records
    if settings.get("add"):
        records = _add_columns(records, folder / settings["add"])
    return records.reset_index(drop=True), loaded, dedup


def _add_columns(records: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Merge a CSV of ``record_id`` + columns into the records (new or replacing values)."""
    if not path.is_file():
        raise ToolkitError(f"{path}: no such file; review.yaml's records.add names it")
    table = read_review_table(path, dtype=str, keep_default_na=False)
    if "record_id" not in table.columns:
        raise ToolkitError(f"{path}: needs a record_id column, then one column per value to "
                           "add (e.g. region)")
    unknown = sorted(set(table["record_id"]) - set(records["record_id"].astype(str)))
    if unknown:
        raise ToolkitError(f"{path}: record ids not in the review: {unknown[:10]}; use the "
                           "ids of the de-duplicated records (slr segment lists them)")
    table = table.set_index("record_id").replace("", pd.NA)
    records = records.copy()
    for column in table.columns:
        values = records["record_id"].astype(str).map(table[column])
        if column in records.columns:
            values = values.fillna(records[column])
        records[column] = values.astype("string")
    return records


def load_review(folder: str | Path | None = None, *, validate: bool = True) -> Review:
    """Load a review folder (the bundled review by default).

    Parameters
    ----------
    folder : str or Path, optional
        A folder with a ``review.yaml``; default: the project's ``corpus/``.
    validate : bool, default True
        Run :func:`~toolkit.review.validate_review` and raise on any inconsistency.

    Returns
    -------
    Review

    Raises
    ------
    ReviewConfigError
        For a folder without ``review.yaml`` or a wrong one (every problem listed).
    ReviewDataError
        When the files disagree (all problems listed), or a file review.yaml names is
        missing.
    toolkit.errors.CorpusFormatError
        When ``records.strict`` is set and an export has unreadable entries.

    Examples
    --------
    >>> review = load_review()
    >>> review
    Review(records=85, evidence=108, questions=8)
    """
    folder = Path(folder) if folder is not None else bundled_corpus_dir()
    protocol = load_review_config(folder)
    segments = protocol.get("segments") or {}
    needed = [segments[k] for k in ("evidence", "audit") if segments.get(k)]
    missing = [name for name in needed if not (folder / name).is_file()]
    if missing:
        raise ReviewDataError(folder, [f"{name} is missing; review.yaml's segments section "
                                       "names it" for name in missing])
    records, loaded, dedup = _records(folder, protocol)
    evidence = audit = None
    if segments.get("from") == "evidence":
        evidence = read_evidence(folder / segments["evidence"], protocol)
    if segments.get("audit"):
        audit = read_review_table(folder / segments["audit"], dtype={"record_id": "string"})
        if "candidates" not in audit.columns:
            raise ReviewDataError(folder, [f"{segments['audit']}: missing column "
                                           "'candidates'"])
        audit["candidates"] = audit["candidates"].fillna("")
    review = Review(records, evidence, protocol, audit, folder, loaded, dedup)
    if validate:
        validate_review(review)
    return review
