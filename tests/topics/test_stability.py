"""Topic stability: known answers on built cases (clear subjects: stable; noise: not)."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from toolkit.errors import TopicModelError
from toolkit.topics import (
    TopicModel,
    TopicStabilityWarning,
    compute_topic_stability,
    compute_topic_table,
)
from toolkit.topics.stability import STABILITY_RUN_COLUMNS, STABILITY_TOPIC_COLUMNS

SUBJECTS = [["fees", "tuition", "costs", "price", "loans", "debt", "payment", "budget"],
            ["internet", "devices", "rural", "broadband", "laptops", "connection", "village",
             "signal"],
            ["badges", "employers", "certificates", "recognition", "hiring", "credentials",
             "jobs", "trust"]]


def _separated() -> list[str]:
    """Three subjects with no word in common: any sensible refit finds the same topics."""
    rng = np.random.default_rng(0)
    return [" ".join(rng.choice(words, 6)) for words in SUBJECTS for _ in range(20)]


def _noise() -> list[str]:
    """Sixty texts of words drawn at random from one vocabulary: no topics to find."""
    rng = np.random.default_rng(0)
    vocabulary = [f"{word}{i}" for word in sum(SUBJECTS, []) for i in range(8)]
    return [" ".join(rng.choice(vocabulary, 8)) for _ in range(60)]


def _random_vectors(texts: list[str]) -> np.ndarray:
    return np.array([np.random.default_rng(zlib.crc32(t.encode())).normal(size=16)
                     for t in texts])


@pytest.fixture(scope="module")
def separated() -> tuple[TopicModel, list[str]]:
    docs = _separated()
    return TopicModel(min_topic_size=5, use_cache=False).fit(docs), docs


def test_well_separated_subjects_are_stable(separated) -> None:
    model, docs = separated
    stability = compute_topic_stability(model, docs)
    assert stability.pairwise_ari == pytest.approx(1.0)
    assert stability.verdict == "stable"
    assert stability.topics["topic"].tolist() == [0, 1, 2]
    assert stability.topics["mean_jaccard"].tolist() == pytest.approx([1.0, 1.0, 1.0])
    assert (stability.topics["reappears"] == 1.0).all()
    assert (stability.topics["verdict"] == "stable").all()
    assert tuple(stability.topics.columns) == STABILITY_TOPIC_COLUMNS
    assert tuple(stability.runs.columns) == STABILITY_RUN_COLUMNS
    assert stability.runs["kind"].tolist() == ["seed"] * 5 + ["resample"] * 5
    assert stability.runs["random_state"].tolist()[:5] == [1, 2, 3, 4, 5]
    assert set(stability.runs.loc[5:, "documents"]) == {48}
    assert "stable" in stability.message and "exploratory" not in stability.message


@pytest.mark.parametrize("case", ["words", "vectors"])
def test_noise_is_unstable_and_says_so(case: str) -> None:
    if case == "words":
        docs, model = _noise(), TopicModel(min_topic_size=5, use_cache=False)
    else:
        docs = [f"document {i}" for i in range(60)]
        model = TopicModel(embedding=_random_vectors, min_topic_size=5, use_cache=False)
    model.fit(docs)
    with pytest.warns(TopicStabilityWarning, match="exploratory"):
        stability = compute_topic_stability(model, docs)
    assert stability.pairwise_ari < 0.4
    assert stability.verdict == "unstable"
    assert (stability.topics["verdict"] == "unstable").all()
    assert (stability.topics["mean_jaccard"] < 0.6).all()


def test_the_same_answer_twice_and_no_warning_when_asked(separated) -> None:
    model, docs = separated
    first = compute_topic_stability(model, docs, seeds=1, resamples=2, warn=False)
    second = compute_topic_stability(model, docs, seeds=1, resamples=2, warn=False)
    assert first.runs.equals(second.runs) and first.topics.equals(second.topics)
    other = compute_topic_stability(model, docs, seeds=0, resamples=2, random_state=1)
    assert len(other.runs) == 2


def test_topic_table_carries_stability(separated) -> None:
    model, docs = separated
    table = compute_topic_table(model, compute_topic_stability(model, docs, seeds=1,
                                                               resamples=1))
    assert list(table.columns) == ["topic", "size", "share", "keywords", "stability",
                                   "verdict"]
    assert table.loc[table["topic"] >= 0, "verdict"].tolist() == ["stable"] * 3


def test_bad_calls_are_refused(separated) -> None:
    model, docs = separated
    with pytest.raises(TopicModelError, match="fit the model first"):
        compute_topic_stability(TopicModel(), docs)
    with pytest.raises(TopicModelError, match="not the documents"):
        compute_topic_stability(model, docs[::-1][:30])
    with pytest.raises(TopicModelError, match="at least one refit"):
        compute_topic_stability(model, docs, seeds=0, resamples=0)
    with pytest.raises(TopicModelError, match="fraction=1.5"):
        compute_topic_stability(model, docs, fraction=1.5)
    with pytest.raises(TopicModelError, match="too few"):
        compute_topic_stability(model, docs, fraction=0.1)
