"""The bundled review as data: records, evidence segments, protocol and citation audit."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from toolkit._spreadsheet import read_table
from toolkit._yaml import YamlError, decode_text, load_yaml
from toolkit.corpus import load_corpus
from toolkit.errors import ToolkitError
from toolkit.paths import bundled_corpus_dir

__all__ = [
    "Review",
    "ReviewDataError",
    "load_review",
    "validate_review",
    "compute_evidence_counts",
    "EVIDENCE_COLUMNS",
]

#: Columns of :attr:`Review.evidence`.
EVIDENCE_COLUMNS = ("segment_id", "section", "section_title", "rq", "cited_keys",
                    "missing_citations", "citation", "statement")


class ReviewDataError(ToolkitError, ValueError):
    """The bundled review's files disagree with each other."""

    def __init__(self, folder: Path, problems: list[str]) -> None:
        self.folder, self.problems = folder, tuple(problems)
        super().__init__(f"{folder}: {len(problems)} problem(s) in the review data:\n- "
                         + "\n- ".join(problems))


@dataclass(frozen=True)
class Review:
    """The review in one object, as :func:`load_review` returns it.

    Attributes
    ----------
    records : DataFrame
        The reference list (:data:`toolkit.types.RECORD_COLUMNS`) plus ``source_note``, the
        curator's one-line reason for the source type.
    evidence : DataFrame
        One row per place where the paper cites works (:data:`EVIDENCE_COLUMNS`);
        ``cited_keys`` and ``missing_citations`` are tuples, ``rq`` a nullable integer.
    protocol : dict
        ``review.yaml`` as loaded with ``yaml.safe_load``.
    audit : DataFrame
        The citation audit recorded while curating (``citation_audit.csv``).
    folder : Path
        Where the files were read.
    """

    records: pd.DataFrame
    evidence: pd.DataFrame
    protocol: dict[str, Any]
    audit: pd.DataFrame
    folder: Path = field(default=Path("."))

    def evidence_long(self) -> pd.DataFrame:
        """One row per (segment, cited record): ``segment_id, record_id, section, rq``.

        Joined with each record's ``source_type``, ``source_group`` and ``year``.
        """
        rows = [(seg, key, sec, rq) for seg, keys, sec, rq in self.evidence[
            ["segment_id", "cited_keys", "section", "rq"]].itertuples(index=False)
            for key in keys]
        long = pd.DataFrame(rows, columns=["segment_id", "record_id", "section", "rq"])
        long["rq"] = long["rq"].astype("Int64")
        info = self.records[["record_id", "source_type", "source_group", "year"]]
        return long.merge(info, on="record_id", how="left")

    def questions(self) -> pd.DataFrame:
        """Return the guiding questions as a table (``rq, question``)."""
        items = sorted(self.protocol["guiding_questions"].items())
        return pd.DataFrame([(int(k), v) for k, v in items], columns=["rq", "question"])

    def __repr__(self) -> str:
        return (f"Review(records={len(self.records)}, evidence={len(self.evidence)}, "
                f"questions={len(self.protocol.get('guiding_questions', {}))})")


def _split(value: Any) -> tuple[str, ...]:
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return ()
    return tuple(part.strip() for part in str(value).split(";") if part.strip())


def load_review(folder: str | Path | None = None, *, validate: bool = True) -> Review:
    """Load the bundled review (or another folder laid out the same way).

    Parameters
    ----------
    folder : str or Path, optional
        Folder with ``references.bib``, ``evidence.csv``, ``review.yaml`` and
        ``citation_audit.csv``; default: the project's ``corpus/``.
    validate : bool, default True
        Run :func:`validate_review` and raise on any inconsistency.

    Returns
    -------
    Review

    Raises
    ------
    ReviewDataError
        When ``validate`` finds problems, all listed at once.
    toolkit.errors.CorpusFormatError
        When the reference file has unreadable entries (it is loaded with ``strict=True``).

    Examples
    --------
    >>> review = load_review()
    >>> review
    Review(records=85, evidence=108, questions=8)
    """
    folder = Path(folder) if folder is not None else bundled_corpus_dir()
    for name in ("references.bib", "evidence.csv", "review.yaml", "citation_audit.csv"):
        if not (folder / name).is_file():
            raise ReviewDataError(folder, [f"{name} is missing; a review folder holds "
                                           "references.bib, evidence.csv, review.yaml and "
                                           "citation_audit.csv"])
    records = load_corpus(folder / "references.bib", strict=True).records
    records["source_note"] = records["extra"].map(
        lambda extra: dict(extra).get("sourcenote")).astype("string")
    try:
        protocol = load_yaml(decode_text((folder / "review.yaml").read_bytes()))
    except YamlError as err:
        raise ReviewDataError(folder, [f"review.yaml: {err}"]) from None
    except OSError as err:
        raise ReviewDataError(folder, [f"review.yaml cannot be read ({err.strerror})"]) \
            from None
    if not isinstance(protocol, dict):
        raise ReviewDataError(folder, ["review.yaml must hold a mapping (paper, "
                                       "guiding_questions, sections, ...)"])

    def table(name: str, **kwargs: Any) -> pd.DataFrame:
        def error(message: str) -> ReviewDataError:
            return ReviewDataError(folder, [message])

        return read_table(folder / name, error=error, **kwargs)  # type: ignore[arg-type]

    evidence = table("evidence.csv", dtype=str, keep_default_na=False)
    missing = [c for c in ("segment_id", "section", "rq", "cited_keys", "missing_citations")
               if c not in evidence.columns]
    if missing:
        raise ReviewDataError(folder, [f"evidence.csv: missing column(s) {missing}"])
    titles = {s["id"]: s["title"] for s in protocol.get("sections", [])}
    evidence.insert(2, "section_title", evidence["section"].map(titles))
    try:
        evidence["rq"] = pd.to_numeric(evidence["rq"].replace("", None)).astype("Int64")
    except (TypeError, ValueError):
        raise ReviewDataError(folder, ["evidence.csv: column rq must hold question numbers "
                                       "(or stay empty)"]) from None
    evidence["cited_keys"] = evidence["cited_keys"].map(_split)
    evidence["missing_citations"] = evidence["missing_citations"].map(_split)
    evidence = evidence[list(EVIDENCE_COLUMNS)]
    audit = table("citation_audit.csv", dtype={"record_id": "string"})
    if "candidates" not in audit.columns:
        raise ReviewDataError(folder, ["citation_audit.csv: missing column 'candidates'"])
    audit["candidates"] = audit["candidates"].fillna("")
    review = Review(records, evidence, protocol, audit, folder)
    if validate:
        validate_review(review)
    return review


def validate_review(review: Review) -> None:
    """Check that the review's files agree; raise :class:`ReviewDataError` listing all problems.

    Checks: evidence ids unique; every cited key is a record; every evidence row cites at
    least one record or records a missing citation; every record is cited by some row or is
    listed in ``review.yaml`` under ``corpus.listed_but_never_cited``; every missing citation
    is listed under ``corpus.cited_but_missing``; every section exists in the protocol and
    its question matches the row's; all guiding questions have evidence; every record has a
    source type and group, and each group matches the taxonomy.
    """
    problems: list[str] = []
    evidence, records, protocol = review.evidence, review.records, review.protocol
    for section in protocol.get("sections", []):
        if set(section) != {"id", "title", "rq"}:
            problems.append(f"review.yaml section {section.get('id')!r}: keys {sorted(section)}; "
                            "expected id, title, rq (quote titles that contain commas)")
    for name, entry in protocol.get("source_taxonomy", {}).items():
        if not isinstance(entry, dict) or set(entry) != {"group", "definition"}:
            problems.append(f"review.yaml source_taxonomy {name!r}: expected group and "
                            "definition (quote definitions that contain commas)")
    keys = set(records["record_id"])
    if evidence["segment_id"].duplicated().any():
        repeated = evidence.loc[evidence["segment_id"].duplicated(), "segment_id"]
        problems.append(f"evidence.csv: segment_id repeats: {sorted(repeated)}")
    cited: set[str] = set()
    sections = {s["id"]: s.get("rq") for s in protocol.get("sections", [])}
    declared_missing = {m["citation"] for m in protocol.get("corpus", {}).get(
        "cited_but_missing", [])}
    for row in evidence.itertuples(index=False):
        unknown = [k for k in row.cited_keys if k not in keys]
        if unknown:
            problems.append(f"evidence.csv {row.segment_id}: cites {unknown}, which are not in "
                            "references.bib")
        cited.update(row.cited_keys)
        if not row.cited_keys and not row.missing_citations:
            problems.append(f"evidence.csv {row.segment_id}: cites nothing")
        for missing in row.missing_citations:
            if missing not in declared_missing:
                problems.append(f"evidence.csv {row.segment_id}: missing citation {missing!r} is "
                                "not listed under corpus.cited_but_missing in review.yaml")
        if row.section not in sections:
            problems.append(f"evidence.csv {row.segment_id}: section {row.section!r} is not in "
                            "review.yaml")
        else:
            expected = sections[row.section]
            actual = None if row.rq is pd.NA else int(row.rq)
            if expected != actual:
                problems.append(f"evidence.csv {row.segment_id}: rq {actual} but section "
                                f"{row.section} answers question {expected}")
    never = set(protocol.get("corpus", {}).get("listed_but_never_cited", []) or [])
    for key in sorted(keys - cited - never):
        problems.append(f"references.bib {key}: cited by no evidence row and not listed under "
                        "corpus.listed_but_never_cited")
    questions = {int(q) for q in protocol.get("guiding_questions", {})}
    covered = {int(q) for q in evidence["rq"].dropna()}
    if questions - covered:
        problems.append(f"evidence.csv: no evidence for guiding question(s) "
                        f"{sorted(questions - covered)}")
    taxonomy = protocol.get("source_taxonomy", {})
    for rec in records.itertuples(index=False):
        if rec.source_type is pd.NA or rec.source_group is pd.NA:
            problems.append(f"references.bib {rec.record_id}: needs sourcetype and sourcegroup")
        elif rec.source_type not in taxonomy:
            problems.append(f"references.bib {rec.record_id}: source type {rec.source_type!r} is "
                            f"not in review.yaml's source_taxonomy; known: {sorted(taxonomy)}")
        elif taxonomy[rec.source_type]["group"] != rec.source_group:
            problems.append(f"references.bib {rec.record_id}: group {rec.source_group!r} but "
                            f"source type {rec.source_type!r} belongs to "
                            f"{taxonomy[rec.source_type]['group']!r}")
    if problems:
        raise ReviewDataError(review.folder, problems)


def compute_evidence_counts(review: Review,
                            by: Literal["rq", "section", "source_group", "source_type"] = "rq",
                            ) -> pd.DataFrame:
    """Evidence per guiding question, section, source group or source type.

    Returns
    -------
    DataFrame
        Columns ``by, segments, citations, works``: evidence rows, (segment, work) pairs, and
        distinct works. For ``rq`` and ``section`` every evidence row counts; for the source
        columns a row counts once for each group or type it cites. Rows without a question
        (introduction) show as ``<NA>`` last.

    Examples
    --------
    >>> counts = compute_evidence_counts(load_review(), "source_group")
    >>> counts.columns.tolist()
    ['source_group', 'segments', 'citations', 'works']
    """
    if by not in ("rq", "section", "source_group", "source_type"):
        raise ToolkitError(f"compute_evidence_counts: by={by!r}; choose rq, section, "
                           "source_group or source_type")
    long = review.evidence_long()
    cites = long.groupby(by, dropna=False, sort=True).agg(
        citations=("record_id", "size"), works=("record_id", "nunique"))
    if by in ("rq", "section"):
        # every evidence row counts, including rows whose only citation is missing
        segments = review.evidence.groupby(by, dropna=False, sort=True).size().rename(
            "segments")
    else:
        segments = long.groupby(by, dropna=False, sort=True)["segment_id"].nunique().rename(
            "segments")
    table = pd.concat([segments, cites], axis=1).fillna(0).astype(int)
    table.index.name = by
    return table.reset_index()
