"""Topic models (BERTopic) that run offline, repeat exactly, and line up with the codebook."""

from toolkit.topics.bridges import (
    ALIGNMENT_COLUMNS,
    compute_theme_keywords,
    compute_topic_theme_alignment,
    seed_topics_from_codebook,
    zeroshot_topics_from_codebook,
)
from toolkit.topics.embeddings import BACKENDS, embed, make_embedder
from toolkit.topics.io import load_topic_model, save_topic_model
from toolkit.topics.model import MIN_DOCUMENTS, TopicModel
from toolkit.topics.stability import (
    TopicStability,
    TopicStabilityWarning,
    compute_topic_stability,
)
from toolkit.topics.views import compute_topic_table, compute_topics_by

__all__ = [
    "ALIGNMENT_COLUMNS",
    "BACKENDS",
    "MIN_DOCUMENTS",
    "TopicModel",
    "TopicStability",
    "TopicStabilityWarning",
    "compute_theme_keywords",
    "compute_topic_stability",
    "compute_topic_table",
    "compute_topic_theme_alignment",
    "compute_topics_by",
    "embed",
    "load_topic_model",
    "make_embedder",
    "save_topic_model",
    "seed_topics_from_codebook",
    "zeroshot_topics_from_codebook",
]
