"""Segments: the units that get coded, from a table column or from text documents."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Literal

import pandas as pd

from toolkit.errors import CodingError

__all__ = ["SEGMENT_COLUMNS", "segments_from_frame", "segments_from_documents",
           "segments_from_review"]

#: First columns of every segments table; other columns of the source are kept after them.
SEGMENT_COLUMNS = ("segment_id", "document_id", "text", "start", "end")

_PARAGRAPH = re.compile(r"\n\s*\n")


def segments_from_frame(frame: pd.DataFrame, text_column: str, *, id_column: str | None = None,
                        prefix: str = "seg", keep: Iterable[str] = ()) -> pd.DataFrame:
    """One segment per row of ``frame``, text from ``text_column``.

    Parameters
    ----------
    frame : DataFrame
    text_column : str
        Column with the text to code (an abstract, a statement, an answer).
    id_column : str, optional
        Column with stable ids; default: ``<prefix>0001``, ... in row order.
    prefix : str
        Prefix for generated ids.
    keep : iterable of str
        Further columns to carry over (e.g. ``record_id``, ``source_group``).

    Returns
    -------
    DataFrame
        :data:`SEGMENT_COLUMNS` (``document_id`` is the id, ``start`` 0, ``end`` the text
        length) followed by ``keep``. Rows with empty text are dropped *with* an error, not
        silently: see Raises.

    Raises
    ------
    CodingError
        When the text column is missing, ids repeat, or some rows have no text (all listed).

    Examples
    --------
    >>> frame = pd.DataFrame({"id": ["a", "b"], "abstract": ["One.", "Two."]})
    >>> segments = segments_from_frame(frame, "abstract", id_column="id")
    >>> segments[["segment_id", "text", "end"]].values.tolist()
    [['a', 'One.', 4], ['b', 'Two.', 4]]
    """
    if text_column not in frame.columns:
        raise CodingError(f"segments_from_frame: no column {text_column!r}; columns are "
                          f"{list(frame.columns)[:12]}")
    keep = list(keep)
    missing = [c for c in keep + ([id_column] if id_column else []) if c not in frame.columns]
    if missing:
        raise CodingError(f"segments_from_frame: no column(s) {missing}")
    texts = frame[text_column].astype("string")
    if id_column:
        ids = frame[id_column].astype(str).tolist()
    else:
        width = max(4, len(str(len(frame))))
        ids = [f"{prefix}{i:0{width}d}" for i in range(1, len(frame) + 1)]
    empty = [ids[i] for i, t in enumerate(texts) if t is pd.NA or not str(t).strip()]
    if empty:
        raise CodingError(f"segments_from_frame: {len(empty)} row(s) have no text in "
                          f"{text_column!r}: {empty[:10]}; drop or fill them first")
    if len(set(ids)) != len(ids):
        dupes = sorted({i for i in ids if ids.count(i) > 1})[:10]
        raise CodingError(f"segments_from_frame: segment ids repeat: {dupes}")
    out = pd.DataFrame({
        "segment_id": pd.array(ids, dtype="string"),
        "document_id": pd.array(ids, dtype="string"),
        "text": texts.to_numpy(),
        "start": 0,
        "end": texts.str.len().astype(int).to_numpy(),
    })
    for column in keep:
        out[column] = frame[column].reset_index(drop=True).array
    return out


@lru_cache(maxsize=1)
def _sentencizer():  # noqa: ANN202 - spaCy Language
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    return nlp


def segments_from_documents(paths: Iterable[str | Path], *,
                            unit: Literal["paragraph", "sentence"] = "paragraph",
                            encoding: str = "utf-8") -> pd.DataFrame:
    """Split plain-text or Markdown documents into paragraphs or sentences.

    Ids are ``<file stem>:p<paragraph>`` or ``<file stem>:p<paragraph>.s<sentence>``
    (1-based), so they stay the same as long as the document's earlier paragraphs do.
    Sentences come from spaCy's rule-based ``sentencizer`` on ``spacy.blank("en")``.
    ``start``/``end`` are character offsets into the document.

    Raises
    ------
    CodingError
        For a missing file or two documents with the same stem.
    """
    rows = []
    stems: dict[str, Path] = {}
    for given in paths:
        path = Path(given)
        if not path.is_file():
            raise CodingError(f"{path}: no such file")
        if path.stem in stems:
            raise CodingError(f"{path}: a document named {path.stem!r} was already read from "
                              f"{stems[path.stem]}; rename one so segment ids stay unique")
        stems[path.stem] = path
        text = path.read_text(encoding=encoding).replace("\r\n", "\n")
        paragraphs = []
        position = 0
        for piece in _PARAGRAPH.split(text):
            start = text.index(piece, position)
            position = start + len(piece)
            if piece.strip():
                lead = len(piece) - len(piece.lstrip())
                paragraphs.append((start + lead, piece.strip()))
        for p_number, (p_start, paragraph) in enumerate(paragraphs, start=1):
            if unit == "paragraph":
                rows.append((f"{path.stem}:p{p_number}", path.stem, paragraph, p_start,
                             p_start + len(paragraph)))
                continue
            doc = _sentencizer()(paragraph)
            for s_number, sent in enumerate(doc.sents, start=1):
                if sent.text.strip():
                    rows.append((f"{path.stem}:p{p_number}.s{s_number}", path.stem, sent.text,
                                 p_start + sent.start_char, p_start + sent.end_char))
    frame = pd.DataFrame(rows, columns=list(SEGMENT_COLUMNS))
    return frame.astype({"segment_id": "string", "document_id": "string", "text": "string"})


def segments_from_review(review: object) -> pd.DataFrame:
    """Return the bundled review's evidence statements as segments (one per evidence row).

    Carries ``section``, ``rq`` and ``cited_keys`` along.
    """
    evidence = review.evidence  # type: ignore[attr-defined]
    segments = segments_from_frame(evidence, "statement", id_column="segment_id",
                                   keep=["section", "rq", "cited_keys"])
    segments["document_id"] = pd.array(["siafu2024"] * len(segments), dtype="string")
    return segments
