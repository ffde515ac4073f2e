"""DocumentCountVectorizer: the counts are scikit-learn's, only faster for known texts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

from toolkit.topics import TopicModel, _vectorizer
from toolkit.topics._vectorizer import DocumentCountVectorizer, bertopic_clean

from .test_topics import STOP, TINY

DOCS = [
    "Micro-credentials: short courses for working adults.",
    "Short courses",  # a prefix of the next document, on a word boundary
    "Short courses cost money; employers pay (sometimes).",
    "",  # empty
    "The and of",  # only stop words
    "Employers value badges — and digital badges travel.",
    "Micro-credentials: short courses for working adults.",  # duplicate
    "Café owners learn e-commerce\tonline\nat night.",
    "Stackable credentials lead to degrees",
]


def joined_by_topic(docs: list[str], topics: list[int], language: str | None = None
                    ) -> list[str]:
    """What BERTopic hands its vectoriser for c-TF-IDF: documents joined per topic."""
    frame = pd.DataFrame({"Document": docs, "Topic": topics})
    return [bertopic_clean(d, language) for d in
            frame.groupby("Topic", as_index=False).agg({"Document": " ".join}).Document]


def assert_same(fast: DocumentCountVectorizer, slow: CountVectorizer, a, b) -> None:
    assert type(a) is type(b) and a.dtype == b.dtype and a.shape == b.shape
    assert (a != b).nnz == 0
    assert fast.vocabulary_ == slow.vocabulary_
    assert list(fast.get_feature_names_out()) == list(slow.get_feature_names_out())


@pytest.mark.parametrize("language", [None, "english"])
@pytest.mark.parametrize("ngrams", [(1, 2), (1, 1)])
@pytest.mark.parametrize("stop", [None, sorted(ENGLISH_STOP_WORDS | {"short"})])
@pytest.mark.parametrize("topics", [[0, 0, 0, 1, 1, 1, 2, 2, 2], [1, 0, 1, 0, 1, 0, 1, 0, -1],
                                    [0] * 9])
def test_topic_strings_are_counted_as_scikit_learn_counts_them(language, ngrams, stop,
                                                                topics) -> None:
    joined = joined_by_topic(DOCS, topics, language)
    slow = CountVectorizer(stop_words=stop, ngram_range=ngrams)
    fast = DocumentCountVectorizer(stop_words=stop, ngram_range=ngrams).learn_documents(
        DOCS, language=language)
    assert all(fast._decompose(string) is not None for string in joined)  # fast path ran
    assert_same(fast, slow, fast.fit_transform(joined), slow.fit_transform(joined))
    # Known documents as written (BERTopic's representative documents), then unknown ones.
    for docs in (DOCS[::-1], ["Badges for café owners", "short courses"]):
        assert (fast.transform(docs) != slow.transform(docs)).nnz == 0


def test_unrecognised_strings_and_other_settings_fall_back_to_scikit_learn() -> None:
    fast = DocumentCountVectorizer(stop_words="english", ngram_range=(1, 2)).learn_documents(
        DOCS)
    other = ["Short courses and badges", "something else entirely"]
    assert fast._decompose(other[0]) is None
    slow = CountVectorizer(stop_words="english", ngram_range=(1, 2))
    assert_same(fast, slow, fast.fit_transform(other), slow.fit_transform(other))
    pruned = DocumentCountVectorizer(min_df=2).learn_documents(DOCS)
    assert not pruned._ready()  # min_df is applied per topic string: left to scikit-learn
    joined = joined_by_topic(DOCS, [0, 1, 2] * 3)
    assert (pruned.fit_transform(joined) != CountVectorizer(min_df=2).fit_transform(joined)
            ).nnz == 0


def test_counts_are_cached_on_disk_and_reused(tmp_path, monkeypatch) -> None:
    first = DocumentCountVectorizer(ngram_range=(1, 2)).learn_documents(
        DOCS, language="english", cache_folder=tmp_path)
    assert len(list(tmp_path.glob("*.npz"))) == 2  # as written and as cleaned for English
    monkeypatch.setattr(_vectorizer, "_count", lambda *a: pytest.fail("counted again"))
    again = DocumentCountVectorizer(ngram_range=(1, 2)).learn_documents(
        DOCS, language="english", cache_folder=tmp_path)
    joined = joined_by_topic(DOCS, [0, 1, 0, 1, 0, 1, 0, 1, 0], "english")
    assert (first.fit_transform(joined) != again.fit_transform(joined)).nnz == 0
    other_stop = DocumentCountVectorizer(stop_words=["short"])  # other settings: new counts
    with pytest.raises(pytest.fail.Exception, match="counted again"):
        other_stop.learn_documents(DOCS, cache_folder=tmp_path)


@pytest.mark.parametrize("corpus", ["tiny", "review"])
def test_topic_keywords_are_the_same_with_and_without_the_fast_path(corpus, monkeypatch
                                                                    ) -> None:
    from toolkit import load_review
    from toolkit.coding import segments_from_review

    texts = (TINY + [t.replace("year", "term") for t in TINY] if corpus == "tiny"
             else segments_from_review(load_review()))
    def refuse(original):  # the fast path must serve every call BERTopic makes
        def method(self, *args, **kwargs):
            if isinstance(self, DocumentCountVectorizer):
                pytest.fail("fell back to scikit-learn")
            return original(self, *args, **kwargs)
        return method

    for name in ("fit_transform", "transform"):
        monkeypatch.setattr(CountVectorizer, name, refuse(getattr(CountVectorizer, name)))
    fast = TopicModel(stop_words=STOP, reduce_outliers=True).fit(texts)
    monkeypatch.undo()
    monkeypatch.setattr(DocumentCountVectorizer, "_ready", lambda self: False)
    slow = TopicModel(stop_words=STOP, reduce_outliers=True).fit(texts)
    pd.testing.assert_frame_equal(fast.topic_info_, slow.topic_info_)
    assert fast.model_.get_representative_docs() == slow.model_.get_representative_docs()
    assert np.array_equal(fast.model_.c_tf_idf_.toarray(), slow.model_.c_tf_idf_.toarray())


def test_joins_are_recognised_even_when_the_longest_piece_is_wrong() -> None:
    docs = ["alpha beta", "alpha", "beta gamma", "delta"]
    fast = DocumentCountVectorizer(ngram_range=(1, 2)).learn_documents(docs)
    assert fast._decompose("alpha beta gamma") == [1, 2]  # "alpha beta" first, then back
    assert fast._decompose("alpha beta gamma delta") == [1, 2, 3]
    assert fast._decompose("alpha gamma") is None
    joined = ["alpha beta gamma", "alpha beta delta"]
    slow = CountVectorizer(ngram_range=(1, 2))
    assert_same(fast, slow, fast.fit_transform(joined), slow.fit_transform(joined))


def test_copies_forget_the_documents_and_a_damaged_cache_is_recounted(tmp_path) -> None:
    import copy

    fast = DocumentCountVectorizer().learn_documents(DOCS, cache_folder=tmp_path)
    assert not copy.deepcopy(fast)._ready() and fast._ready()
    (path,) = tmp_path.glob("*.npz")
    path.write_bytes(b"not a zip file")
    again = DocumentCountVectorizer().learn_documents(DOCS, cache_folder=tmp_path)
    joined = joined_by_topic(DOCS, [0] * 9)
    assert (again.fit_transform(joined) != CountVectorizer().fit_transform(joined)).nnz == 0
    assert path.stat().st_size > 100  # rewritten
