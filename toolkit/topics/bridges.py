"""Bridges between topics and the codebook.

Guided and zero-shot topics, alignment tables and per-theme keywords.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from toolkit.codebook import Code, Codebook
from toolkit.coding.presence import segments_per_theme
from toolkit.errors import TopicModelError

__all__ = ["seed_topics_from_codebook", "zeroshot_topics_from_codebook",
           "compute_topic_theme_alignment", "compute_theme_keywords", "ALIGNMENT_COLUMNS"]

#: Columns of the long table of :func:`compute_topic_theme_alignment`.
ALIGNMENT_COLUMNS = ("topic", "theme", "topic_size", "theme_size", "overlap", "jaccard",
                     "precision", "recall")


def _pattern_words(code: Code) -> list[str]:
    words: list[str] = []
    for kind, pattern in code.patterns.items():
        if kind == "regex":
            continue
        text = pattern.replace("*", "")
        for word in re.findall(r"[a-z][a-z'-]+", text.lower()):
            if len(word) > 2 and word not in words:
                words.append(word)
    return words


def seed_topics_from_codebook(codebook: Codebook, *, max_words: int = 15) -> tuple[list[str],
                                                                              list[list[str]]]:
    """Seed words per theme from the codebook's patterns, for guided topic modelling.

    Returns
    -------
    (themes, seed_topic_list)
        Theme ids, and for each the first ``max_words`` distinct words of the patterns of
        its codes (phrases, lemmas and globs without ``*``). Themes with no pattern words
        are left out.
    """
    themes, seeds = [], []
    for theme in codebook.themes():
        words: list[str] = []
        for code_id in (theme.id, *codebook.descendants(theme.id)):
            for word in _pattern_words(codebook[code_id]):
                if word not in words:
                    words.append(word)
        if words:
            themes.append(theme.id)
            seeds.append(words[:max_words])
    return themes, seeds


def zeroshot_topics_from_codebook(codebook: Codebook) -> tuple[list[str], list[str]]:
    """Zero-shot topic labels from the themes: ``"<label>: <definition>"``.

    Returns
    -------
    (themes, labels)
    """
    themes = [t for t in codebook.themes() if t.codable]
    return [t.id for t in themes], [f"{t.label}: {t.definition}".strip(": ") for t in themes]


def compute_topic_theme_alignment(document_topics: pd.DataFrame, codings: pd.DataFrame,
                                  codebook: Codebook, *, include_outliers: bool = False
                                  ) -> dict[str, pd.DataFrame]:
    """How topics (inductive) line up with the codebook's themes (deductive).

    A document belongs to a theme when any of its codings is a code of that theme.

    Parameters
    ----------
    document_topics : DataFrame
        ``segment_id, topic`` (e.g. :attr:`TopicModel.document_topics_`).
    codings : DataFrame
        Codings of the same segments (usually the human coder's).
    codebook : Codebook
    include_outliers : bool, default False
        Treat topic -1 as a topic.

    Returns
    -------
    dict of DataFrame
        ``"long"``: every (topic, theme) pair, :data:`ALIGNMENT_COLUMNS` (``overlap``:
        documents in both; ``jaccard`` = overlap / union; ``precision`` = overlap / topic
        size; ``recall`` = overlap / theme size).
        ``"wide"``: overlap counts, topics as rows and themes as columns.
        ``"best_per_theme"``: for each theme, the topic with the highest Jaccard.
        ``"themes_without_topic"``: themes whose best Jaccard is below 0.1 (or that have no
        documents).
        ``"topics_without_theme"``: topics whose best Jaccard with any theme is below 0.1.

    Examples
    --------
    >>> from toolkit.codebook import Code, Codebook
    >>> book = Codebook("x", "1", 1, (Code("a", "A"), Code("b", "B")))
    >>> topics = pd.DataFrame({"segment_id": ["s1", "s2", "s3"], "topic": [0, 0, 1]})
    >>> codings = pd.DataFrame({"segment_id": ["s1", "s2", "s3"], "code_id": ["a", "a", "a"]})
    >>> result = compute_topic_theme_alignment(topics, codings, book)
    >>> result["wide"].values.tolist()
    [[2, 0], [1, 0]]
    """
    missing = {"segment_id", "topic"} - set(document_topics.columns)
    if missing:
        raise TopicModelError(f"compute_topic_theme_alignment: document_topics lack {missing}")
    docs = document_topics if include_outliers else document_topics[document_topics["topic"] >= 0]
    theme_docs = {theme: set(found) for theme, found in segments_per_theme(
        codings, codebook, within=document_topics["segment_id"], unknown="ignore").items()}
    topic_docs = {int(t): set(g["segment_id"]) for t, g in docs.groupby("topic")}
    rows = []
    for topic, tdocs in sorted(topic_docs.items()):
        for theme, hdocs in theme_docs.items():
            overlap = len(tdocs & hdocs)
            union = len(tdocs | hdocs)
            rows.append((topic, theme, len(tdocs), len(hdocs), overlap,
                         overlap / union if union else np.nan,
                         overlap / len(tdocs) if tdocs else np.nan,
                         overlap / len(hdocs) if hdocs else np.nan))
    long = pd.DataFrame(rows, columns=list(ALIGNMENT_COLUMNS))
    wide = long.pivot(index="topic", columns="theme", values="overlap").reindex(
        columns=list(theme_docs)).fillna(0).astype(int)
    best = (long.sort_values(["theme", "jaccard", "topic"], ascending=[True, False, True])
            .groupby("theme", sort=False).head(1).set_index("theme")
            .reindex(list(theme_docs)).reset_index())
    weak_themes = best[(best["jaccard"].fillna(0) < 0.1)][["theme", "theme_size", "topic",
                                                           "jaccard"]]
    topic_best = long.groupby("topic")["jaccard"].max().fillna(0)
    weak_topics = topic_best[topic_best < 0.1].rename("best_jaccard").reset_index()
    return {"long": long, "wide": wide,
            "best_per_theme": best[["theme", "topic", "overlap", "theme_size", "topic_size",
                                    "jaccard", "precision", "recall"]],
            "themes_without_topic": weak_themes.reset_index(drop=True),
            "topics_without_theme": weak_topics}


def compute_theme_keywords(segments: pd.DataFrame, codings: pd.DataFrame, codebook: Codebook, *,
                           top_n: int = 10, stop_words: list[str] | None = None
                           ) -> pd.DataFrame:
    """Keywords of each human theme by class-based TF-IDF over the segments coded with it.

    Every theme's segments are joined into one document; BERTopic's
    :class:`~bertopic.vectorizers.ClassTfidfTransformer` then weighs words by how typical
    they are of that theme against the others.

    Returns
    -------
    DataFrame
        ``theme, segments, keywords`` (tuple of the ``top_n`` words, best first).
    """
    from bertopic.vectorizers import ClassTfidfTransformer
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

    text = dict(zip(segments["segment_id"], segments["text"], strict=True))
    groups = segments_per_theme(codings, codebook, within=text, unknown="ignore")
    themes = [t for t, s in groups.items() if s]
    if not themes:
        raise TopicModelError("compute_theme_keywords: no coded segment matches the segments")
    documents = [" ".join(text[s] for s in groups[t]) for t in themes]
    stop = sorted(ENGLISH_STOP_WORDS | {w.lower() for w in stop_words or ()})
    vectorizer = CountVectorizer(stop_words=stop, ngram_range=(1, 2))
    counts = vectorizer.fit_transform(documents)
    weights = ClassTfidfTransformer().fit_transform(counts).toarray()
    words = vectorizer.get_feature_names_out()
    rows = []
    for i, theme in enumerate(themes):
        order = np.lexsort((words, -weights[i]))[:top_n]
        rows.append((theme, len(groups[theme]), tuple(words[order])))
    return pd.DataFrame(rows, columns=["theme", "segments", "keywords"])
