"""How stable are the topics? Refit under perturbations and see what comes back.

Topic models on small corpora are fragile: another seed, or a few documents fewer, and the
clustering may split, merge or dissolve a topic. :func:`compute_topic_stability` measures
this the way cluster analysis does (Hennig, 2007, "Cluster-wise assessment of cluster
stability", *Computational Statistics & Data Analysis* 52(1)): it refits the model

* with other seeds (every document, ``random_state`` = the model's + 1, + 2, ...), and
* on random subsets of the documents (a share ``fraction`` of them, drawn without
  replacement, the model's own seed),

reusing the documents' vectors (so it measures the reduction and clustering, not the
embedding), and compares each refit with the fitted model and with every other refit:

* **overall**: the adjusted Rand index (ARI) between every pair of fits on the documents
  both contain (outliers count as one more group), averaged;
* **per topic**: in each refit, the topic whose documents best match the fitted topic's
  (Jaccard index of the two sets of documents, on the documents the refit saw); a topic
  *reappears* in a refit when that best match reaches 0.5. Following Hennig, a topic whose
  mean best Jaccard is below 0.6 is *unstable*, from 0.6 to 0.85 a pattern whose members
  are *uncertain*, and from 0.85 *stable*.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from toolkit.errors import TopicModelError

__all__ = ["TopicStability", "TopicStabilityWarning", "compute_topic_stability",
           "STABILITY_TOPIC_COLUMNS", "STABILITY_RUN_COLUMNS"]

#: Columns of :attr:`TopicStability.topics`.
STABILITY_TOPIC_COLUMNS = ("topic", "size", "mean_jaccard", "min_jaccard", "reappears",
                           "verdict")
#: Columns of :attr:`TopicStability.runs`.
STABILITY_RUN_COLUMNS = ("run", "kind", "random_state", "documents", "topics", "outliers",
                         "ari_vs_fit")
#: Hennig's (2007) reading of a cluster's mean Jaccard.
UNSTABLE_BELOW, STABLE_FROM = 0.6, 0.85
#: Below this mean pairwise ARI the topics as a whole are called unstable.
OVERALL_UNSTABLE_BELOW = 0.5


class TopicStabilityWarning(UserWarning):
    """The topics change substantially when the model is refitted."""


@dataclass(frozen=True)
class TopicStability:
    """What :func:`compute_topic_stability` found.

    Attributes
    ----------
    topics : DataFrame
        :data:`STABILITY_TOPIC_COLUMNS`, one row per topic of the fitted model (outliers
        left out): ``mean_jaccard`` / ``min_jaccard`` over refits of the best-matching
        refit topic, ``reappears`` the share of refits where that match is at least 0.5,
        ``verdict`` ``"stable"``, ``"uncertain"`` or ``"unstable"``.
    runs : DataFrame
        :data:`STABILITY_RUN_COLUMNS`, one row per refit.
    pairwise_ari : float
        Mean ARI over every pair of fits (the fitted model included).
    verdict : str
        ``"stable"``, ``"moderate"`` or ``"unstable"`` for the topics as a whole.
    message : str
        The finding in plain words, for a report or a notebook.
    """

    topics: pd.DataFrame
    runs: pd.DataFrame
    pairwise_ari: float
    verdict: str
    message: str

    def summary(self) -> pd.DataFrame:
        """One row: refits, mean pairwise ARI, mean ARI against the fit, topic counts."""
        runs = self.runs
        return pd.DataFrame([{
            "refits": len(runs), "pairwise_ari": self.pairwise_ari,
            "ari_vs_fit": float(runs["ari_vs_fit"].mean()),
            "topics_min": int(runs["topics"].min()), "topics_max": int(runs["topics"].max()),
            "stable_topics": int((self.topics["verdict"] == "stable").sum()),
            "unstable_topics": int((self.topics["verdict"] == "unstable").sum()),
            "verdict": self.verdict}])

    def __repr__(self) -> str:
        return (f"TopicStability(refits={len(self.runs)}, pairwise_ari="
                f"{self.pairwise_ari:.3f}, verdict={self.verdict!r})")


def _jaccard(a: np.ndarray, b: np.ndarray) -> float:
    union = np.count_nonzero(a | b)
    return float(np.count_nonzero(a & b) / union) if union else float("nan")


def _best_jaccard(reference: np.ndarray, topic: int, labels: np.ndarray,
                  seen: np.ndarray) -> float:
    """Best Jaccard between the fitted topic (on the seen documents) and a refit topic."""
    members = (reference == topic) & seen
    if not members.any():
        return float("nan")
    best = 0.0
    for other in np.unique(labels[members]):
        if other < 0:
            continue
        best = max(best, _jaccard(members, (labels == other) & seen))
    return best


def _topic_verdict(mean_jaccard: float) -> str:
    if not mean_jaccard >= UNSTABLE_BELOW:
        return "unstable"
    return "stable" if mean_jaccard >= STABLE_FROM else "uncertain"


def compute_topic_stability(model: object, documents: pd.DataFrame | Sequence[str], *,
                            seeds: int = 5, resamples: int = 5, fraction: float = 0.8,
                            random_state: int = 0, warn: bool = True) -> TopicStability:
    """Refit a topic model under perturbations and measure how much its topics move.

    Parameters
    ----------
    model : TopicModel
        Fitted on ``documents``.
    documents : DataFrame or sequence of str
        The documents the model was fitted on (same order).
    seeds : int, default 5
        Refits with other seeds, on every document.
    resamples : int, default 5
        Refits on random subsets of the documents.
    fraction : float, default 0.8
        Share of the documents in each subset.
    random_state : int, default 0
        Seeds the choice of subsets.
    warn : bool, default True
        Issue a :class:`TopicStabilityWarning` in plain words when the topics as a whole,
        or any topic, are unstable.

    Returns
    -------
    TopicStability

    Raises
    ------
    TopicModelError
        For an unfitted model, documents that are not the ones it was fitted on, or
        settings that leave nothing to compare.

    Examples
    --------
    >>> from toolkit.topics import TopicModel, compute_topic_stability
    >>> texts = ([f"Fees and tuition costs rose for learners in year {i}." for i in range(12)]
    ...          + [f"Rural villages lacked internet access in region {i}." for i in range(12)])
    >>> model = TopicModel(min_topic_size=5, use_cache=False).fit(texts)
    >>> stability = compute_topic_stability(model, texts, seeds=2, resamples=2)
    >>> stability.verdict, stability.topics["verdict"].tolist()
    ('stable', ['stable', 'stable'])
    """
    from sklearn.metrics import adjusted_rand_score

    if not hasattr(model, "model_"):
        raise TopicModelError("compute_topic_stability: fit the model first")
    texts, ids = model._texts(documents)  # type: ignore[attr-defined]
    if ids != list(model.segment_ids_) or len(texts) != len(model.topics_):  # type: ignore[attr-defined]
        raise TopicModelError("compute_topic_stability: these are not the documents the "
                              "model was fitted on; pass the same table or list, in order")
    if seeds < 0 or resamples < 0 or seeds + resamples < 1:
        raise TopicModelError("compute_topic_stability: ask for at least one refit (seeds "
                              "or resamples)")
    if not 0 < fraction < 1:
        raise TopicModelError(f"compute_topic_stability: fraction={fraction} must be between "
                              "0 and 1 (exclusive)")
    from toolkit.topics.model import MIN_DOCUMENTS

    n = len(texts)
    keep = int(round(fraction * n))
    if resamples and keep < MIN_DOCUMENTS:
        raise TopicModelError(f"compute_topic_stability: {fraction:.0%} of {n} documents is "
                              f"too few to refit; raise fraction or use seeds only")
    reference = np.asarray(model.topics_)  # type: ignore[attr-defined]
    vectors = np.asarray(model.embeddings_)  # type: ignore[attr-defined]
    params = model.get_params()  # type: ignore[attr-defined]
    base_seed = int(params["random_state"])
    rng = np.random.default_rng(random_state)
    plan = ([("seed", base_seed + i + 1, np.arange(n)) for i in range(seeds)]
            + [("resample", base_seed, np.sort(rng.choice(n, keep, replace=False)))
               for _ in range(resamples)])
    fits: list[tuple[np.ndarray, np.ndarray]] = [(np.ones(n, dtype=bool), reference)]
    rows = []
    for number, (kind, seed, chosen) in enumerate(plan, start=1):
        refit = type(model)(**{**params, "random_state": seed})
        refit._fit_embedded([texts[i] for i in chosen], [ids[i] for i in chosen],
                            model.embedder_, vectors[chosen])  # type: ignore[attr-defined]
        labels = np.full(n, -2, dtype=int)  # -2: not in this refit
        labels[chosen] = refit.topics_
        seen = labels != -2
        fits.append((seen, labels))
        rows.append({"run": number, "kind": kind, "random_state": seed,
                     "documents": int(len(chosen)),
                     "topics": int(len(set(refit.topics_.tolist()) - {-1})),
                     "outliers": int((refit.topics_ == -1).sum()),
                     "ari_vs_fit": float(adjusted_rand_score(reference[seen], labels[seen]))})
    runs = pd.DataFrame(rows, columns=list(STABILITY_RUN_COLUMNS))
    pairs = [float(adjusted_rand_score(a[sa & sb], b[sa & sb]))
             for (sa, a), (sb, b) in itertools.combinations(fits, 2)]
    pairwise = float(np.mean(pairs))
    topic_rows = []
    for topic in sorted(set(reference.tolist()) - {-1}):
        scores = np.array([_best_jaccard(reference, topic, labels, seen)
                           for seen, labels in fits[1:]])
        scores = scores[~np.isnan(scores)]
        mean = float(scores.mean()) if len(scores) else float("nan")
        topic_rows.append({"topic": topic, "size": int((reference == topic).sum()),
                           "mean_jaccard": mean,
                           "min_jaccard": float(scores.min()) if len(scores) else float("nan"),
                           "reappears": float((scores >= 0.5).mean()) if len(scores)
                           else float("nan"),
                           "verdict": _topic_verdict(mean)})
    topics = pd.DataFrame(topic_rows, columns=list(STABILITY_TOPIC_COLUMNS))
    verdict = ("unstable" if pairwise < OVERALL_UNSTABLE_BELOW
               else "stable" if pairwise >= 0.8 else "moderate")
    message = _message(topics, runs, pairwise, verdict)
    if warn and (verdict == "unstable" or (topics["verdict"] == "unstable").any()):
        warnings.warn(message, TopicStabilityWarning, stacklevel=2)
    return TopicStability(topics, runs, pairwise, verdict, message)


def _message(topics: pd.DataFrame, runs: pd.DataFrame, pairwise: float, verdict: str) -> str:
    kinds = runs["kind"].tolist()
    how = " and ".join(f"{kinds.count(kind)} {words}" for kind, words in (
        ("seed", "with other seeds"), ("resample", "on random subsets")) if kind in kinds)
    found = (f"{runs['topics'].min()} to {runs['topics'].max()} topics"
             if runs["topics"].min() != runs["topics"].max() else f"{runs['topics'].min()} topics")
    text = (f"Refitted {len(runs)} times ({how}): the refits found {found}, and any two fits "
            f"agree at an adjusted Rand index of {pairwise:.2f} on average, so the topics as a "
            f"whole are {verdict}.")
    unstable = topics.loc[topics["verdict"] == "unstable", "topic"].tolist()
    if unstable:
        names = ", ".join(str(t) for t in unstable)
        text += (f" Topic{'s' if len(unstable) > 1 else ''} {names} "
                 f"{'do' if len(unstable) > 1 else 'does'} not hold up: in the refits, the "
                 "best-matching topic shares fewer than 6 in 10 of its documents on average. "
                 "Treat such topics as exploratory, not as findings.")
    elif verdict == "unstable":
        text += " Treat the topics as exploratory, not as findings."
    return text
