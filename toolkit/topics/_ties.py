"""BERTopic and HDBSCAN with ties broken the same way on every machine.

NumPy sorts with vectorised algorithms chosen for the CPU (x86-simd-sort on AVX2 and
AVX-512 machines, a scalar introsort elsewhere). Where values are equal, ``argsort``,
``argpartition`` and pandas' ``sort_values`` return them in an order that depends on that
choice, so a result that reads a tie order differs between machines. Three places in a
topic fit do:

* HDBSCAN sorts the edges of its minimum spanning tree by weight, and mutual reachability
  distances tie often (many edges take one point's core distance);
* BERTopic numbers topics by size, and two topics may have the same size;
* BERTopic picks each topic's top words by c-TF-IDF score, and scores tie often (words
  counted equally in a topic and across topics).

:class:`StableHDBSCAN` runs HDBSCAN's own code with a stable ``argsort``;
:class:`StableBERTopic` numbers equal-sized topics by their earlier id and orders equal
scores by the word's place in the vocabulary (alphabetical). Nothing else changes.
"""

from __future__ import annotations

import threading
import types
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from bertopic import BERTopic
from hdbscan import HDBSCAN

__all__ = ["StableBERTopic", "StableHDBSCAN"]

_PATCH_LOCK = threading.Lock()


class _StableSortNumpy(types.ModuleType):
    """NumPy as seen by hdbscan's fitting code: ``argsort`` stable unless a kind is given."""

    def __getattr__(self, name: str) -> Any:
        return getattr(np, name)

    @staticmethod
    def argsort(a: Any, axis: int = -1, kind: str | None = None, order: Any = None) -> Any:
        return np.argsort(a, axis=axis, kind=kind or "stable", order=order)


_STABLE_NUMPY = _StableSortNumpy("numpy")


class StableHDBSCAN(HDBSCAN):
    """``hdbscan.HDBSCAN`` whose edges of equal weight are sorted in one fixed order."""

    def fit(self, X: Any, y: Any = None, **kwargs: Any) -> StableHDBSCAN:  # noqa: N803
        """Fit as HDBSCAN does, with ``np.argsort`` stable inside ``hdbscan.hdbscan_``."""
        import hdbscan.hdbscan_ as module

        with _PATCH_LOCK:
            original = module.np
            module.np = _STABLE_NUMPY
            try:
                super().fit(X, y, **kwargs)
            finally:
                module.np = original
        return self


class StableBERTopic(BERTopic):
    """BERTopic whose topic numbers and top words do not depend on sort tie order."""

    def _sort_mappings_by_frequency(self, documents: pd.DataFrame) -> pd.DataFrame:
        nr_zeroshot = len(self._topic_id_to_zeroshot_topic_idx)
        if self._is_zeroshot and not self.nr_topics and nr_zeroshot > 0:
            return documents
        self._update_topic_size(documents)
        sizes = pd.DataFrame(self.topic_sizes_.items(), columns=["Old_Topic", "Size"])
        sizes = sizes.sort_values(["Size", "Old_Topic"], ascending=[False, True],
                                  kind="stable")
        sizes = sizes[sizes.Old_Topic != -1]
        sorted_topics = {**{-1: -1}, **dict(zip(sizes.Old_Topic, range(len(sizes)),
                                                strict=True))}
        self.topic_mapper_.add_mappings(sorted_topics, topic_model=self)
        documents.Topic = documents.Topic.map(sorted_topics).fillna(documents.Topic).astype(int)
        self._update_topic_size(documents)
        return documents

    def _extract_words_per_topic(self, words: list[str], documents: pd.DataFrame,
                                 c_tf_idf: Any = None, fine_tune_representation: bool = True,
                                 calculate_aspects: bool = True,
                                 embeddings: np.ndarray | None = None
                                 ) -> Mapping[str, list[tuple[str, float]]]:
        if self.representation_model:  # tuned representations: BERTopic's own way
            return super()._extract_words_per_topic(
                words, documents, c_tf_idf, fine_tune_representation=fine_tune_representation,
                calculate_aspects=calculate_aspects, embeddings=embeddings)
        matrix = (self.c_tf_idf_ if c_tf_idf is None else c_tf_idf).tocsr()
        labels = sorted(int(label) for label in documents.Topic.unique())
        topics: dict[Any, list[tuple[str, float]]] = {}
        for row, label in enumerate(labels):
            start, end = matrix.indptr[row], matrix.indptr[row + 1]
            columns, scores = matrix.indices[start:end], matrix.data[start:end]
            order = np.lexsort((columns, -scores))  # score, then vocabulary order
            chosen = [(words[columns[i]], scores[i]) for i in order[:self.top_n_words]
                      if scores[i] > 0]
            topics[label] = chosen + [("", 0.00001)] * (self.top_n_words - len(chosen))
        return topics
