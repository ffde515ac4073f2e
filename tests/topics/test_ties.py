"""Ties broken the same way on every machine: topic numbers, top words, HDBSCAN's tree."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from toolkit.topics._ties import StableBERTopic, StableHDBSCAN


def test_equal_scores_are_ordered_by_vocabulary_and_the_cut_keeps_the_first() -> None:
    model = StableBERTopic(top_n_words=3)
    words = ["alpha", "beta", "delta", "gamma", "omega"]
    # Topic 0: every word scores 0.5 except omega (0.9); topic 1: one word only.
    model.c_tf_idf_ = sp.csr_matrix(np.array([[0.5, 0.5, 0.5, 0.5, 0.9],
                                              [0.0, 0.0, 0.0, 0.2, 0.0]]))
    documents = pd.DataFrame({"Topic": [1, 0, 0]})
    topics = model._extract_words_per_topic(words, documents)
    assert [w for w, _ in topics[0]] == ["omega", "alpha", "beta"]
    assert topics[1] == [("gamma", 0.2), ("", 0.00001), ("", 0.00001)]


def test_topics_of_equal_size_are_numbered_by_their_earlier_id() -> None:
    from bertopic._bertopic import TopicMapper

    model = StableBERTopic()
    documents = pd.DataFrame({"Document": list("abcdefgh"), "ID": range(8),
                              "Topic": [3, 3, 1, 1, -1, 2, 2, 2]})
    model.topic_mapper_ = TopicMapper(documents["Topic"].tolist())
    mapped = model._sort_mappings_by_frequency(documents)
    # Topic 2 is largest (0); 1 and 3 tie at two documents: 1 first.
    assert mapped["Topic"].tolist() == [2, 2, 1, 1, -1, 0, 0, 0]


def test_stable_hdbscan_finds_what_hdbscan_finds_and_restores_numpy() -> None:
    import hdbscan.hdbscan_ as module
    from hdbscan import HDBSCAN

    rng = np.random.default_rng(0)
    points = np.vstack([rng.normal(c, 0.3, size=(30, 2)) for c in (0, 5, 10)])
    points[5] = points[6]  # duplicates: edges of equal weight
    ours = StableHDBSCAN(min_cluster_size=5).fit(points).labels_
    theirs = HDBSCAN(min_cluster_size=5).fit(points).labels_
    assert np.array_equal(ours, theirs)
    assert module.np is np
