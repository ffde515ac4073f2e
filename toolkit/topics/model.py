"""``TopicModel``: BERTopic in the scikit-learn style, offline and repeatable."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from toolkit._log import quiet_logger
from toolkit.errors import NotFittedError, TopicModelError
from toolkit.topics._layout import StableUMAP
from toolkit.topics._reduce import NeighbourUMAP, cache_umap_compilation
from toolkit.topics._vectorizer import DocumentCountVectorizer
from toolkit.topics.embeddings import cache_dir, embed, make_embedder

__all__ = ["TopicModel", "MIN_DOCUMENTS", "TOPIC_INFO_COLUMNS", "DOCUMENT_TOPIC_COLUMNS"]

logger = logging.getLogger(__name__)

#: Fewer documents than this cannot be clustered meaningfully; ``fit`` says so.
MIN_DOCUMENTS = 10
#: Columns of :attr:`TopicModel.topic_info_`.
TOPIC_INFO_COLUMNS = ("topic", "size", "name", "keywords")
#: Columns of :attr:`TopicModel.document_topics_`.
DOCUMENT_TOPIC_COLUMNS = ("segment_id", "topic", "topic_name")


@contextmanager
def _quiet() -> Iterator[None]:
    """Hold back BERTopic's log lines and two expected UMAP warnings.

    UMAP warns about n_jobs (random_state is set) and a missing search index (the
    neighbours are precomputed).
    """
    with quiet_logger("BERTopic"), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*n_jobs value.*")
        warnings.filterwarnings("ignore", message=".*knn_search_index.*")
        yield


class TopicModel:
    """Topics of a set of texts with BERTopic, with every random step seeded.

    Parameters
    ----------
    embedding : str, Path or callable, default "tfidf"
        ``"minilm"``, ``"minilm-static"``, ``"tfidf"``, a local sentence-transformers folder
        or a function ``texts -> array`` (see :mod:`toolkit.topics.embeddings`).
    min_topic_size : int, optional
        Smallest topic (HDBSCAN ``min_cluster_size``); default ``max(2, min(10, n // 15))``.
    n_neighbors : int, default 15
        UMAP neighbourhood, capped at a third of the documents for small corpora. The
        neighbours are found exactly up to 50,000 documents (see
        :mod:`toolkit.topics._reduce`), by UMAP's approximate search above.
    n_components : int, default 5
        UMAP dimensions, capped at ``n - 2``.
    nr_topics : int or "auto", optional
        Merge topics down to this number after fitting.
    top_n_words : int, default 10
    stop_words : list of str, optional
        Words to leave out of topic keywords on top of English stop words (for a review:
        the words every document shares, such as its subject's name).
    seed_topic_list : list of list of str, optional
        Guided topics (see :func:`toolkit.topics.seed_topics_from_codebook`).
    zeroshot_topic_list : list of str, optional
        Zero-shot topic labels (see :func:`toolkit.topics.zeroshot_topics_from_codebook`).
    zeroshot_min_similarity : float, default 0.7
    reduce_outliers : bool, default False
        Assign outlier documents (topic -1) to their nearest topic by c-TF-IDF similarity.
    random_state : int, default 0
        Seeds UMAP (which then runs single-threaded) and the TF-IDF/SVD backend, so a second
        fit on the same texts gives the same topics, assignments and keywords.
    use_cache : bool, default True
        Cache on disk the embeddings, UMAP's reduction of them and each document's word
        counts (for the keywords): a refit with other clustering settings
        (``min_topic_size``, ``nr_topics``, ``reduce_outliers``) skips encoding, UMAP and
        counting; one with seed or zero-shot topics skips encoding and counting.

    Attributes
    ----------
    model_ : bertopic.BERTopic
    embedder_ : bertopic.backend.BaseEmbedder
    embeddings_ : ndarray
    topics_ : ndarray of int
        Topic of each document (-1: outlier).
    document_topics_ : DataFrame
        :data:`DOCUMENT_TOPIC_COLUMNS`.
    topic_info_ : DataFrame
        :data:`TOPIC_INFO_COLUMNS`, outliers first, then topics by number.
    """

    def __init__(self, *, embedding: str | Path | Callable[[list[str]], Any] = "tfidf",
                 min_topic_size: int | None = None, n_neighbors: int = 15,
                 n_components: int = 5, nr_topics: int | str | None = None,
                 top_n_words: int = 10, stop_words: Sequence[str] | None = None,
                 seed_topic_list: list[list[str]] | None = None,
                 zeroshot_topic_list: list[str] | None = None,
                 zeroshot_min_similarity: float = 0.7, reduce_outliers: bool = False,
                 reduction: Literal["stable", "umap"] = "stable", random_state: int = 0,
                 use_cache: bool = True) -> None:
        self.embedding = embedding
        self.min_topic_size = min_topic_size
        self.n_neighbors = n_neighbors
        self.n_components = n_components
        self.nr_topics = nr_topics
        self.top_n_words = top_n_words
        self.stop_words = stop_words
        self.seed_topic_list = seed_topic_list
        self.zeroshot_topic_list = zeroshot_topic_list
        self.zeroshot_min_similarity = zeroshot_min_similarity
        self.reduce_outliers = reduce_outliers
        self.reduction = reduction
        self.random_state = random_state
        self.use_cache = use_cache

    def _check_params(self, texts: Sequence[str]) -> None:
        n = len(texts)
        if n < MIN_DOCUMENTS:
            raise TopicModelError(
                f"TopicModel.fit: {n} documents are too few to find topics (at least "
                f"{MIN_DOCUMENTS}); code them with the codebook instead, or add documents")
        distinct = len(set(texts))
        if distinct < MIN_DOCUMENTS:
            raise TopicModelError(
                f"TopicModel.fit: the {n} documents hold only {distinct} different text(s); "
                f"topics need at least {MIN_DOCUMENTS} different documents (check that the "
                "text column is the right one)")
        if self.min_topic_size is not None and self.min_topic_size < 2:
            raise TopicModelError("TopicModel: min_topic_size must be 2 or more")
        if self.reduction not in ("stable", "umap"):
            raise TopicModelError(f"TopicModel: reduction={self.reduction!r}; choose 'stable' "
                                  "(the same topics on every machine) or 'umap'")
        if self.random_state is None:
            raise TopicModelError("TopicModel: random_state=None would make topics change "
                                  "from run to run; pass an integer")

    def _texts(self, documents: pd.DataFrame | Sequence[str]) -> tuple[list[str], list[str]]:
        if isinstance(documents, pd.DataFrame):
            if "text" not in documents.columns:
                raise TopicModelError("TopicModel: a DataFrame needs a 'text' column")
            ids = (documents["segment_id"].astype(str).tolist() if "segment_id" in documents
                   else [str(i) for i in range(len(documents))])
            return documents["text"].astype(str).tolist(), ids
        texts = [str(t) for t in documents]
        return texts, [str(i) for i in range(len(texts))]

    def fit(self, documents: pd.DataFrame | Sequence[str],
            embeddings: np.ndarray | None = None) -> TopicModel:
        """Fit on a segments table (``segment_id``, ``text``) or a list of texts.

        Parameters
        ----------
        documents : DataFrame or sequence of str
        embeddings : ndarray of shape (n, d), optional
            The documents' vectors, when computed already (by :func:`embed` with this
            model's backend); otherwise they are computed (and cached).
        """
        texts, ids = self._texts(documents)
        self._check_params(texts)
        embedder = make_embedder(self.embedding, random_state=self.random_state)
        if embeddings is None:
            embeddings = embed(embedder, texts, use_cache=self.use_cache)
        elif len(embeddings) != len(texts):
            raise TopicModelError(f"TopicModel.fit: {len(embeddings)} embeddings for "
                                  f"{len(texts)} documents; pass one row per document")
        return self._fit_embedded(texts, ids, embedder, np.asarray(embeddings))

    def _fit_embedded(self, texts: list[str], ids: list[str], embedder: Any,
                      embeddings: np.ndarray) -> TopicModel:
        """Fit once the embedder and the documents' vectors are known."""
        from toolkit.topics._ties import StableBERTopic, StableHDBSCAN

        n = len(texts)
        self.embedder_ = embedder
        self.embeddings_ = embeddings
        size = self.min_topic_size or max(2, min(10, n // 15))
        # Small corpora: a neighbourhood of a third of the documents at most, so that a few
        # dozen documents can still form more than one topic.
        n_neighbors = max(2, min(self.n_neighbors, n - 1, n // 3))
        n_components = max(2, min(self.n_components, n - 2))
        if self.reduction == "stable":
            umap_model: Any = StableUMAP(n_neighbors=n_neighbors, n_components=n_components,
                                         min_dist=0.0, random_state=self.random_state)
        else:
            from umap import UMAP

            umap_model = UMAP(n_neighbors=n_neighbors, n_components=n_components,
                              min_dist=0.0, metric="cosine", random_state=self.random_state,
                              init="spectral" if n > 50 else "random")
            cache_umap_compilation()
        reducer = NeighbourUMAP(umap_model, cache_dir() / "reductions" if self.use_cache
                                else None)
        hdbscan_model = StableHDBSCAN(min_cluster_size=size, metric="euclidean",
                                cluster_selection_method="eom", prediction_data=True,
                                # HDBSCAN's default of 4 worker processes for core distances
                                # costs 5 s of process start-up on 18,000 documents and
                                # computes 0.6 s of work; the clusters are the same.
                                core_dist_n_jobs=1)
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

        stop = sorted(ENGLISH_STOP_WORDS | {w.lower() for w in self.stop_words or ()})
        vectorizer = DocumentCountVectorizer(stop_words=stop, min_df=1, ngram_range=(1, 2))
        self.model_ = StableBERTopic(embedding_model=self.embedder_, umap_model=reducer,
                               hdbscan_model=hdbscan_model, vectorizer_model=vectorizer,
                               min_topic_size=size, nr_topics=self.nr_topics,
                               top_n_words=self.top_n_words,
                               seed_topic_list=self.seed_topic_list,
                               zeroshot_topic_list=self.zeroshot_topic_list,
                               zeroshot_min_similarity=self.zeroshot_min_similarity,
                               calculate_probabilities=False)
        vectorizer.learn_documents(texts, language=self.model_.language,
                                   cache_folder=cache_dir() / "counts" if self.use_cache
                                   else None)
        with _quiet():
            # A copy: guided topic modelling averages seed vectors into the array it gets.
            topics, _ = self.model_.fit_transform(texts, embeddings=self.embeddings_.copy())
            topics = np.asarray(topics)
            if self.reduce_outliers and (topics == -1).any() and len(set(topics) - {-1}):
                topics = np.asarray(self.model_.reduce_outliers(texts, topics.tolist(),
                                                                strategy="c-tf-idf"))
                self.model_.update_topics(texts, topics=topics.tolist(),
                                          vectorizer_model=vectorizer)
        self.topics_ = topics
        self.segment_ids_ = ids
        self._summarise()
        return self

    def _summarise(self) -> None:
        info = self.model_.get_topic_info()
        # BERTopic pads a topic with fewer words than top_n_words with empty strings.
        keywords = {t: tuple(w for w, _ in (self.model_.get_topic(t) or [])[: self.top_n_words]
                             if w)
                    for t in info["Topic"]}
        counts = pd.Series(self.topics_).value_counts()
        self.topic_info_ = pd.DataFrame({
            "topic": info["Topic"].astype(int),
            "size": [int(counts.get(t, 0)) for t in info["Topic"]],
            "name": info["Name"].astype(str),
            "keywords": [keywords[t] for t in info["Topic"]],
        }).sort_values("topic").reset_index(drop=True)
        names = dict(zip(self.topic_info_["topic"], self.topic_info_["name"], strict=True))
        self.document_topics_ = pd.DataFrame({
            "segment_id": pd.array(self.segment_ids_, dtype="string"),
            "topic": self.topics_.astype(int),
            "topic_name": [names.get(int(t), str(t)) for t in self.topics_],
        })

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise NotFittedError("This TopicModel instance is not fitted yet. Call 'fit' with "
                                 "appropriate arguments before using this estimator.")

    def transform(self, documents: pd.DataFrame | Sequence[str]) -> np.ndarray:
        """Topic of each new document.

        A fitted model places each document among its nearest fitted documents in UMAP's
        space (see :class:`toolkit.topics._reduce.NeighbourUMAP`) and asks HDBSCAN; a
        reloaded one takes the nearest topic embedding (see :func:`save_topic_model`).
        """
        self._check_fitted()
        texts, _ = self._texts(documents)
        vectors = embed(self.embedder_, texts, use_cache=self.use_cache)
        with _quiet():
            topics, _ = self.model_.transform(texts, embeddings=vectors)
        return np.asarray(topics)

    def fit_transform(self, documents: pd.DataFrame | Sequence[str]) -> np.ndarray:
        """:meth:`fit`, then the topics of the fitted documents."""
        return self.fit(documents).topics_

    def get_params(self) -> dict[str, Any]:
        """Return the constructor parameters as stored (names read from ``__init__``)."""
        import inspect

        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {name: getattr(self, name) for name in names}

    def __repr__(self) -> str:
        fitted = (f", topics={int((self.topic_info_['topic'] >= 0).sum())}"
                  if hasattr(self, "topic_info_") else "")
        return f"TopicModel(embedding={self.embedding!r}, random_state={self.random_state}{fitted})"
