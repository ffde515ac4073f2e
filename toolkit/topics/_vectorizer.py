"""Word counts for topic keywords, counted once per document and cached on disk.

BERTopic finds a topic's keywords (c-TF-IDF) by vectorising, for every topic, all its
documents joined into one string, and picks representative documents by vectorising
samples of the documents. On 18,000 abstracts these two passes through scikit-learn's
``CountVectorizer`` take about 14 s, which is most of a refit whose embeddings and UMAP
reduction come from the cache.

:class:`DocumentCountVectorizer` is a ``CountVectorizer`` (same parameters, same output).
Told the training documents first (:meth:`DocumentCountVectorizer.learn_documents`), it
counts each of them once, in the two forms BERTopic hands over: as written, and cleaned the
way BERTopic cleans topic strings. The counts are cached beside the embeddings. A topic
string is then recognised as the known documents joined by spaces (checked character for
character) and its counts are the sum of theirs plus the word pairs that span two
neighbouring documents; a known document's counts are looked up. Whatever it does not
recognise, or any parameter it does not handle, goes through scikit-learn's own code, so
only the time changes, never the counts (the tests compare both ways).

The TF-IDF embedding backend counts through the same class and cache, so with no extra
stop words the keywords reuse the embedding's counts.
"""

from __future__ import annotations

import bisect
import hashlib
import io
import json
import re
import zipfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer

from toolkit._io import atomic_write_bytes
from toolkit.errors import TopicModelError

__all__ = ["DocumentCountVectorizer", "bertopic_clean"]

_DEFAULT_TOKEN_PATTERN = r"(?u)\b\w\w+\b"
_CLEAN = re.compile(r"[^A-Za-z0-9 ]+")
_FORMAT = "counts-1"
_PREFIX = 16  # characters by which training texts are indexed for recognising joins


def bertopic_clean(document: str, language: str | None = None) -> str:
    """Clean a text as BERTopic does before counting the words of a topic string.

    Tabs and line breaks become spaces; for ``language="english"`` (BERTopic's setting
    when it chooses the embedding model itself) everything but ASCII letters, digits and
    spaces is dropped too. With an embedding model given, BERTopic's language is None.
    """
    document = document.replace("\n", " ").replace("\t", " ")
    return _CLEAN.sub("", document) if language == "english" else document


@dataclass(frozen=True)
class _Counts:
    """Counts of one form of the training documents.

    ``terms`` are sorted (scikit-learn's column order); ``matrix`` is documents x terms;
    ``first`` and ``last`` give each document's first and last word (column in
    ``terms``, -1 for a document without words), for the pairs that span two documents.
    """

    terms: list[str]
    matrix: sp.csr_array
    first: np.ndarray
    last: np.ndarray

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        np.savez(buffer, terms=np.frombuffer("\n".join(self.terms).encode("utf-8"),
                                             dtype=np.uint8),
                 data=self.matrix.data.astype(np.int32),
                 indices=self.matrix.indices.astype(np.int32),
                 indptr=self.matrix.indptr.astype(np.int64),
                 shape=np.asarray(self.matrix.shape),
                 first=self.first, last=self.last)
        return buffer.getvalue()

    @classmethod
    def from_file(cls, path: Path) -> _Counts:
        with np.load(path, allow_pickle=False) as f:
            text = f["terms"].tobytes().decode("utf-8")
            matrix = sp.csr_array((f["data"], f["indices"], f["indptr"]),
                                  shape=tuple(f["shape"]))
            return cls(text.split("\n") if text else [], matrix, f["first"], f["last"])


def _count(documents: Sequence[str], words: Any, pairs: bool) -> _Counts:
    """Count words (and adjacent pairs) of every document; ``words(doc)`` gives its words.

    Per document the counting is ``collections.Counter``'s (C); the distinct terms of all
    documents are numbered at once with ``pandas.factorize`` (a C hash table).
    """
    import pandas as pd

    keys: list[str] = []
    data: list[int] = []
    indptr = [0]
    first_words: list[str] = []
    last_words: list[str] = []
    for document in documents:
        tokens = words(document)
        counts = Counter(tokens)
        if pairs:
            counts.update(map(" ".join, zip(tokens, tokens[1:], strict=False)))
        keys.extend(counts)
        data.extend(counts.values())
        indptr.append(len(keys))
        first_words.append(tokens[0] if tokens else "")
        last_words.append(tokens[-1] if tokens else "")
    codes, uniques = pd.factorize(np.asarray(keys, dtype=object))
    distinct: list[str] = uniques.tolist()
    order = sorted(range(len(distinct)), key=distinct.__getitem__)  # faster than argsort
    new_of_old = np.empty(len(distinct), dtype=np.int64)
    new_of_old[np.asarray(order, dtype=np.int64)] = np.arange(len(distinct))
    terms = [distinct[k] for k in order]
    matrix = sp.csr_array((np.asarray(data, dtype=np.int64), new_of_old[codes],
                           np.asarray(indptr, dtype=np.int64)),
                          shape=(len(documents), len(terms)))
    matrix.sort_indices()

    def column(word: str) -> int:
        return bisect.bisect_left(terms, word) if word else -1

    return _Counts(terms, matrix, np.asarray([column(w) for w in first_words], np.int32),
                   np.asarray([column(w) for w in last_words], np.int32))


def _contains(sorted_terms: list[str], term: str) -> bool:
    k = bisect.bisect_left(sorted_terms, term)
    return k < len(sorted_terms) and sorted_terms[k] == term


def _align(matrix: sp.csr_array) -> Any:
    """Return the sparse type scikit-learn's configuration asks for, as it does itself."""
    try:
        from sklearn.utils._sparse import _align_api_if_sparse
    except ImportError:  # pragma: no cover - older scikit-learn returns csr_matrix
        return sp.csr_matrix(matrix)
    return _align_api_if_sparse(matrix)


class DocumentCountVectorizer(CountVectorizer):
    """``CountVectorizer`` that counts known documents once (see the module docstring).

    Takes exactly ``CountVectorizer``'s parameters (so BERTopic saves and reloads it as
    one). Without :meth:`learn_documents`, or for parameters other than word unigrams
    and bigrams with ``min_df=1``, ``max_df=1.0`` and the default token pattern, it is
    scikit-learn's class unchanged.
    """

    _known: dict[str, Any]
    _piece_index: tuple[dict[str, list[int]], dict[str, int]] | None = None
    _col_map: np.ndarray | None = None
    _names: np.ndarray | None = None

    def learn_documents(self, documents: Sequence[str], *, language: str | None = None,
                        cache_folder: Path | None = None) -> DocumentCountVectorizer:
        """Count ``documents`` as written and as BERTopic cleans them.

        ``language`` is the model's ``BERTopic.language``. The counts are read from
        ``cache_folder`` when these documents were counted with these settings before.
        """
        self._known = {}
        if not self._handled():
            return self
        documents = [str(d) for d in documents]
        cleaned = [bertopic_clean(d, language) for d in documents]
        words = self._words()
        pairs = self.ngram_range == (1, 2)
        key = self._key(documents) if cache_folder is not None else None
        forms = [("raw", documents), ("clean", cleaned)]
        if language != "english":
            # Spaces for tabs and line breaks change no word: the counts are shared.
            forms = forms[:1]
        for form, texts in forms:
            path = cache_folder / f"{key}-{form}.npz" if cache_folder and key else None
            counts = None
            if path is not None and path.is_file():
                try:
                    counts = _Counts.from_file(path)
                except (OSError, ValueError, KeyError, zipfile.BadZipFile):
                    counts = None  # unreadable: counted again and rewritten below
                if counts is not None and counts.matrix.shape[0] != len(texts):
                    counts = None
            if counts is None:
                counts = _count(texts, words, pairs)
                if path is not None:
                    atomic_write_bytes(path, counts.to_bytes(), overwrite=True)
            rows: dict[str, int] = {}
            for i, text in enumerate(texts):
                rows.setdefault(text, i)
            self._known[form] = (texts, rows, counts)
        if "clean" not in self._known:
            self._known["clean"] = (cleaned, {}, self._known["raw"][2])
        self._piece_index = None
        return self

    def __getstate__(self) -> dict[str, Any]:
        """Leave the learnt documents out of copies and pickles (they count as usual)."""
        state = dict(super().__getstate__())  # object.__getstate__ gives __dict__ itself
        for name in ("_known", "_piece_index", "_col_map"):
            state.pop(name, None)
        return state

    def document_counts(self) -> tuple[list[str], sp.csr_array]:
        """Return the learnt documents' counts as written: sorted terms, documents x terms.

        Raises
        ------
        TopicModelError
            Before :meth:`learn_documents`, or for settings it does not count itself.
        """
        if not self._ready():
            raise TopicModelError("DocumentCountVectorizer.document_counts: call "
                                  "learn_documents first (with word 1-2 grams, min_df=1)")
        counts = self._known["raw"][2]
        return counts.terms, counts.matrix

    # -- what the fast path handles -------------------------------------------------------
    def _handled(self) -> bool:
        return (self.analyzer == "word" and self.tokenizer is None
                and self.preprocessor is None and self.lowercase
                and self.strip_accents is None and self.token_pattern == _DEFAULT_TOKEN_PATTERN
                and tuple(self.ngram_range) in {(1, 1), (1, 2)} and not self.binary
                and self.min_df == 1 and self.max_df == 1.0 and self.max_features is None
                and self.vocabulary is None and self.input == "content"
                and self.decode_error == "strict")

    def _ready(self) -> bool:
        return bool(getattr(self, "_known", None)) and self._handled()

    def _words(self) -> Any:
        find = re.compile(self.token_pattern).findall
        stop = frozenset(self.get_stop_words() or ())

        def words(document: str) -> list[str]:
            return [w for w in find(document.lower()) if w not in stop]

        return words

    def _key(self, documents: Sequence[str]) -> str:
        digest = hashlib.sha256(json.dumps(
            {"format": _FORMAT, "stop": sorted(self.get_stop_words() or ()),
             "ngram_range": list(self.ngram_range)}).encode())
        for text in documents:
            digest.update(text.encode("utf-8"))
            digest.update(b"\x00")
        return digest.hexdigest()

    # -- scikit-learn interface -----------------------------------------------------------
    def fit(self, raw_documents: Iterable[str], y: Any = None) -> DocumentCountVectorizer:
        self.fit_transform(raw_documents)
        return self

    def fit_transform(self, raw_documents: Iterable[str], y: Any = None) -> Any:
        if self._ready() and not isinstance(raw_documents, str):
            raw_documents = list(raw_documents)
            matrix = self._fit_joined(raw_documents)
            if matrix is not None:
                return matrix
        self._col_map = self._names = None
        return super().fit_transform(raw_documents, y)

    def transform(self, raw_documents: Iterable[str]) -> Any:
        if self._ready() and not isinstance(raw_documents, str) and hasattr(self,
                                                                             "vocabulary_"):
            raw_documents = list(raw_documents)
            matrix = self._transform_known(raw_documents)
            if matrix is not None:
                return matrix
        return super().transform(raw_documents)

    # -- fast paths -----------------------------------------------------------------------
    def _pieces(self) -> tuple[dict[str, list[int]], dict[str, int]]:
        """Index the cleaned training texts by their first characters.

        Texts shorter than that are indexed whole; one row per distinct text (equal texts
        count alike).
        """
        if self._piece_index is None:
            by_prefix: dict[str, list[int]] = {}
            short: dict[str, int] = {}
            seen: set[str] = set()
            for i, text in enumerate(self._known["clean"][0]):
                if text in seen:
                    continue
                seen.add(text)
                if len(text) >= _PREFIX:
                    by_prefix.setdefault(text[:_PREFIX], []).append(i)
                else:
                    short[text] = i
            self._piece_index = (by_prefix, short)
            return by_prefix, short
        return self._piece_index

    def _decompose(self, string: str) -> list[int] | None:
        """Training texts that, joined by single spaces, make ``string`` (None if none do).

        Any such decomposition gives the counts of ``string`` itself: no word spans a
        space, and the word pairs across pieces are added separately. Depth first, longest
        piece first, with a bound on the work so that a string that is no such join costs
        little before scikit-learn takes over.
        """
        texts = self._known["clean"][0]
        by_prefix, short = self._pieces()
        end = len(string)
        budget = 50 * (end // 8 + 10)

        def candidates(p: int) -> list[int]:
            found = [i for i in by_prefix.get(string[p:p + _PREFIX], ())
                     if string.startswith(texts[i], p)
                     and (p + len(texts[i]) == end or string[p + len(texts[i])] == " ")]
            for q in range(p, min(p + _PREFIX, end) + 1):
                if q == end or string[q] == " ":
                    i = short.get(string[p:q])
                    if i is not None:
                        found.append(i)
            return sorted(found, key=lambda i: -len(texts[i]))

        stack = [(0, candidates(0), 0)]
        chosen: list[int] = []
        while stack:
            budget -= 1
            if budget < 0:
                return None
            p, options, k = stack[-1]
            if k == len(options):
                stack.pop()
                if chosen:
                    chosen.pop()
                continue
            stack[-1] = (p, options, k + 1)
            piece = options[k]
            q = p + len(texts[piece])
            chosen.append(piece)
            if q == end:
                return chosen
            stack.append((q + 1, candidates(q + 1), 0))
        return None

    def _fit_joined(self, joined: list[str]) -> Any | None:
        counts = self._known["clean"][2]
        members = []
        for string in joined:
            member = self._decompose(string)
            if member is None:
                return None
            members.append(member)
        rows = np.fromiter((i for m in members for i in m), dtype=np.int64)
        groups = np.repeat(np.arange(len(joined)), [len(m) for m in members])
        selector = sp.csr_array((np.ones(len(rows), dtype=np.int64), (groups, rows)),
                                shape=(len(joined), counts.matrix.shape[0]))
        summed = (selector @ counts.matrix).tocsc()
        # Word pairs across the boundary of two neighbouring documents (with words).
        extra: Counter[tuple[int, str]] = Counter()
        if self.ngram_range == (1, 2):
            for j, member in enumerate(members):
                previous = -1
                for i in member:
                    if counts.first[i] < 0:
                        continue
                    if previous >= 0:
                        extra[j, f"{counts.terms[previous]} {counts.terms[counts.first[i]]}"] += 1
                    previous = counts.last[i]
        used = np.flatnonzero(np.diff(summed.indptr) > 0)
        terms = [counts.terms[c] for c in used]
        # Merge the pair terms not seen inside any document into the sorted columns.
        new_terms = sorted({t for _, t in extra if not _contains(terms, t)})
        inserted_at = np.asarray([bisect.bisect_left(terms, t) for t in new_terms], np.int64)
        old_position = np.arange(len(terms)) + np.searchsorted(inserted_at,
                                                               np.arange(len(terms)), "right")
        new_position = inserted_at + np.arange(len(new_terms))

        def column(term: str) -> int:
            k = bisect.bisect_left(terms, term)
            if k < len(terms) and terms[k] == term:
                return int(old_position[k])
            return int(new_position[bisect.bisect_left(new_terms, term)])

        base = summed[:, used].tocoo()
        matrix = sp.csr_array(
            (np.concatenate([base.data, np.fromiter(extra.values(), np.int64, len(extra))]),
             (np.concatenate([base.row, np.fromiter((j for j, _ in extra), np.int64,
                                                    len(extra))]),
              np.concatenate([old_position[base.col],
                              np.fromiter((column(t) for _, t in extra), np.int64,
                                          len(extra))]))),
            shape=(len(joined), len(terms) + len(new_terms)), dtype=self.dtype)
        matrix.sum_duplicates()
        matrix.sort_indices()
        names = np.empty(len(terms) + len(new_terms), dtype=object)
        names[old_position] = terms
        names[new_position] = new_terms
        self.vocabulary_ = dict(zip(names.tolist(), range(len(names)), strict=True))
        self.fixed_vocabulary_ = False
        self._col_map = None
        self._names = names
        return _align(matrix)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        names = getattr(self, "_names", None)
        if names is not None:  # fitted on the fast path: already in column order
            return names.copy()
        return super().get_feature_names_out(input_features)

    def _transform_known(self, documents: list[str]) -> Any | None:
        _, rows, counts = self._known["raw"]
        found = [rows.get(d) for d in documents]
        if any(r is None for r in found):
            return None
        col_map = getattr(self, "_col_map", None)
        if col_map is None:
            get = self.vocabulary_.get
            col_map = self._col_map = np.fromiter((get(t, -1) for t in counts.terms),
                                                  dtype=np.int64, count=len(counts.terms))
        picked = counts.matrix[np.asarray(found, dtype=np.int64)].tocoo()
        columns = col_map[picked.col]
        keep = columns >= 0
        matrix = sp.csr_array((picked.data[keep], (picked.row[keep], columns[keep])),
                              shape=(len(documents), len(self.vocabulary_)), dtype=self.dtype)
        matrix.sort_indices()
        return _align(matrix)
