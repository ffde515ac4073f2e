"""Segments: the units that get coded.

From what researchers have: a table column (:func:`segments_from_frame`), the abstracts of
a records table, whole or split into sentences (:func:`segments_from_records`), full texts
in ``.txt``, ``.md`` or ``.pdf`` (:func:`segments_from_documents`, page numbers kept for
PDFs), or a curated evidence table (:func:`segments_from_frame` on its statements).

Texts that give no segment (a record without an abstract, a scanned PDF without a text
layer) are reported with a :class:`SegmentWarning`, never refused wholesale;
:func:`find_records_without_text` lists them as a table.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from toolkit.errors import CodingError

__all__ = ["SEGMENT_COLUMNS", "SegmentWarning", "segments_from_frame",
           "segments_from_records", "segments_from_documents", "segments_from_review",
           "find_records_without_text", "DOCUMENT_SUFFIXES"]

#: First columns of every segments table; other columns of the source are kept after them.
SEGMENT_COLUMNS = ("segment_id", "document_id", "text", "start", "end")
#: File kinds :func:`segments_from_documents` reads.
DOCUMENT_SUFFIXES = (".txt", ".md", ".pdf")


class SegmentWarning(UserWarning):
    """Some records or documents gave no text to segment; the message names them."""

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


def _sentences(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, text)`` of each sentence (spaCy's rule-based sentencizer)."""
    return [(s.start_char, s.end_char, s.text) for s in _sentencizer()(text).sents
            if s.text.strip()]


def _empty(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value) \
        or not str(value).strip()


def find_records_without_text(records: pd.DataFrame, column: str = "abstract"
                              ) -> pd.DataFrame:
    """List the records that have no text in ``column``: ``record_id, title, reason``.

    Examples
    --------
    >>> frame = pd.DataFrame({"record_id": ["a", "b"], "title": ["A", "B"],
    ...                       "abstract": ["Text.", None]})
    >>> find_records_without_text(frame).values.tolist()
    [['b', 'B', 'no abstract']]
    """
    if column not in records.columns:
        raise CodingError(f"records have no column {column!r}; columns are "
                          f"{list(records.columns)[:12]}")
    empty = records[[_empty(v) for v in records[column]]]
    titles = empty["title"] if "title" in empty.columns else pd.Series(pd.NA, index=empty.index)
    return pd.DataFrame({"record_id": empty["record_id"].astype("string").to_numpy(),
                         "title": titles.astype("string").to_numpy(),
                         "reason": f"no {column}"})


def _report_skipped(what: str, skipped: list[str], reason: str) -> None:
    if skipped:
        warnings.warn(f"{len(skipped)} {what} {reason} and gave no segment: "
                      f"{skipped[:10]}{' ...' if len(skipped) > 10 else ''}",
                      SegmentWarning, stacklevel=3)


def segments_from_records(records: pd.DataFrame, *, column: str = "abstract",
                          unit: Literal["whole", "sentence"] = "whole",
                          keep: Iterable[str] = ()) -> pd.DataFrame:
    """Segments from one text column of a records table (the abstracts, by default).

    Parameters
    ----------
    records : DataFrame
        A records table (``record_id`` and ``column``).
    column : str, default "abstract"
    unit : {"whole", "sentence"}
        One segment per record (id: the record id), or one per sentence (id:
        ``<record id>:s<n>``, 1-based; ``start``/``end`` are offsets into the text).
    keep : iterable of str
        Further record columns to carry over.

    Returns
    -------
    DataFrame
        :data:`SEGMENT_COLUMNS`, then ``record_id`` and ``keep``. Records without text give
        no segment and are named in a :class:`SegmentWarning`
        (:func:`find_records_without_text` lists them).

    Raises
    ------
    CodingError
        For a missing column, an unknown unit or repeated record ids.

    Examples
    --------
    >>> records = pd.DataFrame({"record_id": ["r1", "r2"],
    ...                         "abstract": ["Costs rise. Access falls.", "One."]})
    >>> segments_from_records(records, unit="sentence")[["segment_id", "text", "start"]
    ...                                                  ].values.tolist()
    [['r1:s1', 'Costs rise.', 0], ['r1:s2', 'Access falls.', 12], ['r2:s1', 'One.', 0]]
    """
    keep = list(keep)
    missing = [c for c in ["record_id", column, *keep] if c not in records.columns]
    if missing:
        raise CodingError(f"segments_from_records: records have no column(s) {missing}; "
                          f"columns are {list(records.columns)[:12]}")
    if unit not in ("whole", "sentence"):
        raise CodingError(f"segments_from_records: unit={unit!r}; choose 'whole' or "
                          "'sentence'")
    ids = records["record_id"].astype(str)
    if ids.duplicated().any():
        raise CodingError(f"segments_from_records: record ids repeat: "
                          f"{sorted(set(ids[ids.duplicated()]))[:10]}; de-duplicate first")
    rows, skipped = [], []
    extra = [records[c].tolist() for c in keep]
    for i, (record, text) in enumerate(zip(ids, records[column], strict=True)):
        if _empty(text):
            skipped.append(record)
            continue
        text = str(text)
        carried = [values[i] for values in extra]
        if unit == "whole":
            rows.append((record, record, text, 0, len(text), record, *carried))
            continue
        for n, (start, end, sentence) in enumerate(_sentences(text), start=1):
            rows.append((f"{record}:s{n}", record, sentence, start, end, record, *carried))
    _report_skipped("record(s)", skipped, f"have no {column}")
    frame = pd.DataFrame(rows, columns=[*SEGMENT_COLUMNS, "record_id", *keep])
    return frame.astype({"segment_id": "string", "document_id": "string", "text": "string",
                         "start": "int64", "end": "int64", "record_id": "string"})


def _paragraphs(text: str) -> list[tuple[int, str]]:
    """``(start, text)`` of each non-blank paragraph (blank lines separate them)."""
    found, position = [], 0
    for piece in _PARAGRAPH.split(text):
        start = text.index(piece, position)
        position = start + len(piece)
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            found.append((start + lead, piece.strip()))
    return found


_HYPHEN_BREAK = re.compile(r"(?<=[a-z])-\n(?=[a-z])")
_LINE_BREAK = re.compile(r"[ \t]*\n[ \t]*")


_COLUMN_GAP = re.compile(r"\S {6,}\S")


def _page_text(page: Any) -> str:
    """Return a page's text, paragraphs separated by blank lines where the page shows them.

    pypdf's layout mode keeps the blank lines between paragraphs; a page that sets text in
    columns side by side is read in plain mode instead, which keeps each column whole.
    """
    try:
        layout = page.extract_text(extraction_mode="layout") or ""
    except (ValueError, KeyError, TypeError, ZeroDivisionError):
        layout = ""
    lines = layout.split("\n")
    if not layout.strip() or any(_COLUMN_GAP.search(line.strip()) for line in lines):
        return page.extract_text() or ""
    return "\n".join(line.strip() for line in lines)


def _pdf_pages(path: Path) -> list[str]:
    """Text of each page of a PDF (pypdf), words split across lines joined again."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            raise CodingError(f"{path}: the PDF is encrypted; save an unprotected copy")
        pages = [_page_text(page) for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError) as err:
        raise CodingError(f"{path}: not a readable PDF ({type(err).__name__}: "
                          f"{str(err)[:120]}); export it again or give its text as .txt"
                          ) from None
    cleaned = []
    for text in pages:
        text = _HYPHEN_BREAK.sub("", text.replace("\r\n", "\n"))
        paragraphs = re.split(r"\n\s*\n", text)
        cleaned.append("\n\n".join(_LINE_BREAK.sub(" ", p).strip() for p in paragraphs))
    return cleaned


def segments_from_documents(paths: Iterable[str | Path], *,
                            unit: Literal["paragraph", "sentence", "page"] = "paragraph",
                            encoding: str = "utf-8",
                            record_ids: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Split full texts (``.txt``, ``.md``, ``.pdf``) into paragraphs, sentences or pages.

    Ids are ``<file stem>:p<paragraph>`` or ``<file stem>:p<paragraph>.s<sentence>``
    (1-based), so they stay the same as long as the document's earlier paragraphs do. A
    PDF's ids carry the page: ``<stem>:pg<page>.p<paragraph>`` (``.s<sentence>``), or
    ``<stem>:pg<page>`` with ``unit="page"``; its text comes from pypdf, with words
    hyphenated across lines joined and line breaks inside a paragraph made spaces.
    Sentences come from spaCy's rule-based ``sentencizer`` on ``spacy.blank("en")``.
    ``start``/``end`` are character offsets into the document (for a PDF: into the page's
    extracted text). Documents with no text (a scanned PDF) give no segment and are named
    in a :class:`SegmentWarning`.

    Parameters
    ----------
    paths : iterable of str or Path
    unit : {"paragraph", "sentence", "page"}
        ``"page"`` makes one segment per PDF page (a text file counts as one page).
    encoding : str, default "utf-8"
        For text files.
    record_ids : mapping, optional
        File stem -> record id of the work the document is (a stem not in it gets no
        record id); default: the stem itself.

    Returns
    -------
    DataFrame
        :data:`SEGMENT_COLUMNS`, then ``page`` (1-based for PDFs, missing for text files)
        and ``record_id``.

    Raises
    ------
    CodingError
        For a missing file, an unknown kind, an unreadable or encrypted PDF, or two
        documents with the same stem.
    """
    if unit not in ("paragraph", "sentence", "page"):
        raise CodingError(f"segments_from_documents: unit={unit!r}; choose 'paragraph', "
                          "'sentence' or 'page'")
    rows = []
    stems: dict[str, Path] = {}
    skipped = []
    for given in paths:
        path = Path(given)
        if not path.is_file():
            raise CodingError(f"{path}: no such file")
        if path.suffix.lower() not in DOCUMENT_SUFFIXES:
            raise CodingError(f"{path}: unknown document kind; give .txt, .md or .pdf files")
        if path.stem in stems:
            raise CodingError(f"{path}: a document named {path.stem!r} was already read from "
                              f"{stems[path.stem]}; rename one so segment ids stay unique")
        stems[path.stem] = path
        record = path.stem if record_ids is None else record_ids.get(path.stem)
        if path.suffix.lower() == ".pdf":
            pages: list[tuple[int | None, str]] = list(enumerate(_pdf_pages(path), start=1))
        else:
            try:
                text = path.read_text(encoding=encoding).replace("\r\n", "\n")
            except UnicodeDecodeError:
                raise CodingError(f"{path}: not {encoding} text; save it as UTF-8 or pass "
                                  "the encoding") from None
            pages = [(None, text)]
        before = len(rows)
        for page, text in pages:
            at = f"{path.stem}:pg{page}" if page is not None else path.stem
            if unit == "page":
                if text.strip():
                    lead = len(text) - len(text.lstrip())
                    rows.append((at if page is not None else f"{at}:pg1", path.stem,
                                 text.strip(), lead, lead + len(text.strip()), page, record))
                continue
            sep = "." if page is not None else ":"
            for p_number, (p_start, paragraph) in enumerate(_paragraphs(text), start=1):
                if unit == "paragraph":
                    rows.append((f"{at}{sep}p{p_number}", path.stem, paragraph, p_start,
                                 p_start + len(paragraph), page, record))
                    continue
                for s_number, (start, end, sent) in enumerate(_sentences(paragraph), start=1):
                    rows.append((f"{at}{sep}p{p_number}.s{s_number}", path.stem, sent,
                                 p_start + start, p_start + end, page, record))
        if len(rows) == before:
            skipped.append(path.name)
    _report_skipped("document(s)", skipped, "have no text layer or no text")
    frame = pd.DataFrame(rows, columns=[*SEGMENT_COLUMNS, "page", "record_id"])
    return frame.astype({"segment_id": "string", "document_id": "string", "text": "string",
                         "start": "int64", "end": "int64", "page": "Int64",
                         "record_id": "string"})


def segments_from_review(review: Any) -> pd.DataFrame:
    """Return a review's segments, as its ``review.yaml`` says to make them.

    The same as ``review.segments()`` (see :class:`toolkit.review.Review`): abstracts,
    full texts or the statements of a curated evidence table, with the columns that link
    them to works (``record_id``, or ``cited_keys`` for evidence).
    """
    return review.segments()
