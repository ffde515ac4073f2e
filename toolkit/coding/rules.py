"""Rule-based coding from the codebook's patterns, with spaCy's tokenizer and PhraseMatcher.

The codebook is the configuration: every match is traced to the code and the pattern that
fired. Phrases and lemma patterns go into one :class:`spacy.matcher.PhraseMatcher` on the
``LOWER`` attribute. Lemma patterns are expanded into their inflected forms through the
inverted English lookup table of ``spacy-lookups-data`` (lower-cased, because the table is
case-sensitive: "Reviews" has no entry, "reviews" does), so matching needs no per-token
lemmatiser and stays in compiled code. Globs (``credential*``) match whole tokens: after each
batch is tokenized, the word forms new to the vocabulary are tested against the globs once,
and those that fit join the PhraseMatcher, so globs too are matched in compiled code. Regex
patterns run last, over the text, on RE2 (linear time; see :mod:`toolkit.codebook.patterns`).
"""

from __future__ import annotations

import gzip
import importlib.resources
import itertools
import json
import re
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache
from typing import Any

import pandas as pd

from toolkit.codebook.model import Codebook
from toolkit.coding.store import make_codings
from toolkit.errors import CodingError, NotFittedError

__all__ = ["RuleCoder", "lemma_forms"]

_MAX_EXPANSIONS = 256
Match = tuple[int, str, int, int, str, str]  # (row, code_id, start, end, text, pattern)


@lru_cache(maxsize=1)
def _inverse_lemma_table() -> dict[str, frozenset[str]]:
    path = importlib.resources.files("spacy_lookups_data") / "data" / "en_lemma_lookup.json.gz"
    table: dict[str, str] = json.loads(gzip.decompress(path.read_bytes()))
    inverse: dict[str, set[str]] = {}
    for form, lemma in table.items():
        inverse.setdefault(lemma.lower(), set()).add(form.lower())
    return {lemma: frozenset(forms) for lemma, forms in inverse.items()}


def lemma_forms(word: str) -> tuple[str, ...]:
    """All lower-case forms whose dictionary form is ``word`` (``word`` itself included).

    Examples
    --------
    >>> lemma_forms("stack")
    ('stack', 'stacked', 'stacking', 'stacks')
    """
    word = word.lower()
    return tuple(sorted({word} | _inverse_lemma_table().get(word, frozenset())))


def _compile_regex(code_id: str, pattern: str) -> Any:
    from toolkit.codebook.patterns import check_regex, compile_regex

    problem = check_regex(pattern)
    if problem:
        raise CodingError(f"code {code_id!r}: regex {pattern[:80]!r}: {problem}")
    return compile_regex(pattern)


def _glob_regex(glob: str) -> str:
    return "".join(r"[\w'-]*" if ch == "*" else re.escape(ch) for ch in glob.lower())


class RuleCoder:
    """Code segments with the patterns of a codebook.

    Parameters
    ----------
    codebook : Codebook
        Codes with ``patterns``; codes without patterns are never applied.
    coder : str, default "rules"
        Value of the ``coder`` column.
    round : int, optional
        Value of the ``round`` column; default: the codebook's round.
    n_process : int, default 1
        Worker processes for large inputs (each builds its own matcher).
    batch_size : int, default 2000
        Texts per tokenizer batch (and per task with several processes).

    Attributes
    ----------
    patterns_ : DataFrame
        After :meth:`fit`: ``code_id, kind, pattern, expansions`` (how many phrases a lemma
        pattern became).
    """

    def __init__(self, codebook: Codebook, *, coder: str = "rules", round: int | None = None,  # noqa: A002
                 n_process: int = 1, batch_size: int = 2000) -> None:
        self.codebook = codebook
        self.coder = coder
        self.round = round
        self.n_process = n_process
        self.batch_size = batch_size

    def _check_params(self) -> None:
        if self.n_process < 1 or self.batch_size < 1:
            raise CodingError(f"RuleCoder: n_process={self.n_process}, batch_size="
                              f"{self.batch_size}; both must be 1 or more")

    def fit(self, segments: object = None) -> RuleCoder:
        """Compile the patterns (``segments`` is ignored; present for the estimator API)."""
        self._check_params()
        import spacy
        from spacy.matcher import PhraseMatcher

        self.nlp_ = spacy.blank("en")
        self.matcher_ = PhraseMatcher(self.nlp_.vocab, attr="LOWER")
        self._keys: dict[int, tuple[str, str]] = {}
        self._globs: list[tuple[str, re.Pattern[str]]] = []
        self._regexes: list[tuple[str, str, Any]] = []
        rows = []
        for code in self.codebook.codes:
            for kind, pattern in code.patterns.items():
                label = f"{kind}: {pattern}"
                if kind in ("phrases", "lemmas"):
                    words = pattern.lower().split()
                    if kind == "phrases":
                        variants = [" ".join(words)]
                    else:
                        choices = [lemma_forms(w) for w in words]
                        variants = [" ".join(c) for c in itertools.islice(
                            itertools.product(*choices), _MAX_EXPANSIONS)]
                    key = f"{code.id}\x1f{label}"
                    self.matcher_.add(key, [self.nlp_.make_doc(v) for v in variants])
                    self._keys[self.nlp_.vocab.strings[key]] = (code.id, label)
                    rows.append((code.id, kind, pattern, len(variants)))
                elif kind == "globs":  # whole tokens, lower case; see _absorb_new_words
                    key = f"{code.id}\x1f{label}"
                    self._keys[self.nlp_.vocab.strings[key]] = (code.id, label)
                    self._globs.append((key, re.compile(_glob_regex(pattern))))
                    rows.append((code.id, kind, pattern, 1))
                else:  # RE2: linear time whatever the pattern (see codebook.patterns)
                    self._regexes.append((code.id, label, _compile_regex(code.id, pattern)))
                    rows.append((code.id, kind, pattern, 1))
        self._glob_forms: set[str] = set()
        self._strings_seen = 0
        self._absorb_new_words()  # words the blank vocabulary already knows
        self.patterns_ = pd.DataFrame(rows, columns=["code_id", "kind", "pattern",
                                                     "expansions"])
        return self

    def _absorb_new_words(self) -> None:
        """Add every new lower-case word form that fits a glob to the PhraseMatcher.

        The tokenizer puts each new word into the vocabulary's string store, which only
        grows; so after each batch only the strings added since the last batch are tested.
        """
        strings = self.nlp_.vocab.strings
        if len(strings) == self._strings_seen:
            return
        fresh = list(itertools.islice(iter(strings), self._strings_seen, None))
        self._strings_seen = len(strings)
        for string in fresh:
            word = string.lower()
            if word in self._glob_forms or not word or " " in word:
                continue
            self._glob_forms.add(word)
            for key, rx in self._globs:
                if rx.fullmatch(word):
                    self.matcher_.add(key, [self.nlp_.make_doc(word)])
        self._strings_seen = len(strings)  # make_doc may have added strings too

    def _match(self, texts: Sequence[str], offset: int = 0) -> list[Match]:
        from spacy.attrs import IDX, LENGTH

        out: list[Match] = []
        keys, matcher, tokenizer = self._keys, self.matcher_, self.nlp_.tokenizer
        attrs = [IDX, LENGTH]
        for begin in range(0, len(texts), self.batch_size):
            chunk = texts[begin:begin + self.batch_size]
            docs = list(tokenizer.pipe(chunk, batch_size=self.batch_size))
            if self._globs:
                self._absorb_new_words()
            for position, (text, doc) in enumerate(zip(chunk, docs, strict=True)):
                row = offset + begin + position
                found = matcher(doc)
                if found:
                    array = doc.to_array(attrs)
                    for match_id, start, end in found:
                        code_id, label = keys[match_id]
                        first = int(array[start, 0])
                        last = int(array[end - 1, 0] + array[end - 1, 1])
                        out.append((row, code_id, first, last, text[first:last], label))
                for code_id, label, rx in self._regexes:
                    for hit in rx.finditer(text):
                        out.append((row, code_id, hit.start(), hit.end(), hit.group(), label))
        return out

    def match_texts(self, texts: Iterable[str]) -> list[Match]:
        """Raw matches ``(row, code_id, start, end, text, pattern)`` for plain texts."""
        if not hasattr(self, "matcher_"):
            raise NotFittedError("This RuleCoder instance is not fitted yet. Call 'fit' "
                                 "before using this estimator.")
        texts = list(texts)
        if self.n_process == 1 or len(texts) < 4 * self.batch_size:
            return self._match(texts)
        chunks = [(texts[i:i + self.batch_size], i)
                  for i in range(0, len(texts), self.batch_size)]
        from toolkit.codebook.io import codebook_to_dict

        with ProcessPoolExecutor(self.n_process, initializer=_init_worker,
                                 initargs=(codebook_to_dict(self.codebook),
                                           self.batch_size)) as pool:
            parts = pool.map(_work, chunks, chunksize=4)
            return [m for part in parts for m in part]

    def transform(self, segments: pd.DataFrame) -> pd.DataFrame:
        """Code a segments table (``segment_id``, ``text``).

        Returns
        -------
        DataFrame
            Codings (:data:`toolkit.coding.CODING_COLUMNS` plus ``matched_text`` and
            ``pattern``), ``method="rules"``, one row per match, ordered by segment (input
            order) and position; a segment with no match gets one row with an empty
            ``code_id`` (coded, nothing found). ``created_at`` stays empty so that reruns are
            identical.

        Raises
        ------
        NotFittedError
            Before :meth:`fit`.
        CodingError
            When ``segment_id`` or ``text`` is missing.
        """
        missing = {"segment_id", "text"} - set(segments.columns)
        if missing:
            raise CodingError(f"RuleCoder.transform: segments lack {sorted(missing)}")
        matches = self.match_texts(segments["text"].astype(str).tolist())
        ids = segments["segment_id"].tolist()
        round_ = self.round if self.round is not None else self.codebook.round
        hit = {m[0] for m in matches}
        # A segment with no match was still coded: one row with an empty code says so.
        matches.extend((row, None, None, None, None, None) for row in range(len(ids))
                       if row not in hit)
        matches.sort(key=lambda m: (m[0], m[2] if m[2] is not None else -1,
                                    m[3] if m[3] is not None else -1, m[1] or "", m[5] or ""))
        return make_codings([
            {"segment_id": ids[row], "code_id": code, "coder": self.coder, "round": round_,
             "method": "rules", "start": start, "end": end, "matched_text": text,
             "pattern": label}
            for row, code, start, end, text, label in matches
        ] or {c: [] for c in ("segment_id", "code_id", "matched_text", "pattern")})

    def fit_transform(self, segments: pd.DataFrame) -> pd.DataFrame:
        """:meth:`fit` then :meth:`transform`."""
        return self.fit().transform(segments)


_WORKER: RuleCoder | None = None


def _init_worker(codebook_dict: dict[str, Any], batch_size: int) -> None:
    global _WORKER
    from toolkit.codebook.io import codebook_from_dict

    _WORKER = RuleCoder(codebook_from_dict(codebook_dict), batch_size=batch_size).fit()


def _work(chunk: tuple[list[str], int]) -> list[Match]:
    if _WORKER is None:  # pragma: no cover - _init_worker always runs first
        raise RuntimeError("worker not initialised")
    return _WORKER._match(chunk[0], chunk[1])
