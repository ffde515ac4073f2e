"""Save and load topic models without pickle: BERTopic's safetensors format plus JSON.

What a reload keeps: the topics, their keywords and c-TF-IDF weights, the topic
embeddings, every training document's topic (``document_topics_``), the parameters, and the
fitted TF-IDF/SVD embedder (as arrays) or the name of the embedding backend.

What it does not keep: the clustering step. UMAP and HDBSCAN are not saved, so a reloaded
model assigns new documents to the topic whose embedding is most similar (cosine), not by
HDBSCAN prediction; assignments of new documents can therefore differ from those the
original model would give. Refitting needs the documents again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from toolkit._io import atomic_write_text
from toolkit._log import quiet_logger
from toolkit.errors import TopicModelError
from toolkit.topics.embeddings import TfidfSvdEmbedder, make_embedder
from toolkit.topics.model import TopicModel

__all__ = ["save_topic_model", "load_topic_model"]

_FORMAT = "slr-toolkit-topic-model-1"


def save_topic_model(model: TopicModel, folder: str | Path, *, overwrite: bool = False) -> Path:
    """Save a fitted :class:`TopicModel` into ``folder`` (created; refused if non-empty).

    Raises
    ------
    TopicModelError
        For an unfitted model, a callable embedding (cannot be saved), or a non-empty
        folder without ``overwrite=True``.
    """
    from safetensors.numpy import save_file

    if not hasattr(model, "model_"):
        raise TopicModelError("save_topic_model: fit the model first")
    if callable(model.embedding) and not isinstance(model.embedding, (str, Path)):
        raise TopicModelError("save_topic_model: a callable embedding cannot be saved; use a "
                              "named backend or a model folder")
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()) and not overwrite:
        raise TopicModelError(f"{folder}: folder is not empty; pass overwrite=True or choose "
                              "another folder")
    folder.mkdir(parents=True, exist_ok=True)
    with quiet_logger("BERTopic"):  # its warning about the embedding model: recorded below
        model.model_.save(str(folder / "bertopic"), serialization="safetensors",
                          save_ctfidf=True, save_embedding_model=False)
    params = model.get_params()
    params["embedding"] = str(params["embedding"])
    meta: dict[str, Any] = {
        "format": _FORMAT, "params": params,
        "segment_ids": list(model.segment_ids_), "topics": [int(t) for t in model.topics_],
        "topic_info": [{"topic": int(r.topic), "size": int(r.size), "name": r.name,
                        "keywords": list(r.keywords)}
                       for r in model.topic_info_.itertuples(index=False)],
    }
    if isinstance(model.embedder_, TfidfSvdEmbedder):
        settings, arrays = model.embedder_.state()
        meta["tfidf"] = settings
        save_file(arrays, str(folder / "tfidf.safetensors"))
    atomic_write_text(folder / "toolkit.json", json.dumps(meta, indent=1, sort_keys=True),
                      overwrite=True)
    return folder


def load_topic_model(folder: str | Path) -> TopicModel:
    """Load a model saved by :func:`save_topic_model` (no pickle involved).

    Raises
    ------
    TopicModelError
        For a folder without ``toolkit.json`` or of another format.
    """
    from bertopic import BERTopic
    from safetensors.numpy import load_file

    folder = Path(folder)
    path = folder / "toolkit.json"
    if not path.is_file():
        raise TopicModelError(f"{folder}: no toolkit.json; not a saved topic model")
    meta = json.loads(path.read_text(encoding="utf-8"))
    if meta.get("format") != _FORMAT:
        raise TopicModelError(f"{path}: format {meta.get('format')!r}, expected {_FORMAT!r}")
    model = TopicModel(**meta["params"])
    if "tfidf" in meta:
        embedder = TfidfSvdEmbedder.from_state(meta["tfidf"],
                                               load_file(str(folder / "tfidf.safetensors")))
    else:
        embedder = make_embedder(meta["params"]["embedding"],
                                 random_state=meta["params"]["random_state"])
    model.embedder_ = embedder
    model.model_ = BERTopic.load(str(folder / "bertopic"), embedding_model=embedder)
    model.topics_ = np.asarray(meta["topics"], dtype=int)
    model.segment_ids_ = meta["segment_ids"]
    model.topic_info_ = pd.DataFrame(meta["topic_info"]).assign(
        keywords=lambda f: f["keywords"].map(tuple))[["topic", "size", "name", "keywords"]]
    names = dict(zip(model.topic_info_["topic"], model.topic_info_["name"], strict=True))
    model.document_topics_ = pd.DataFrame({
        "segment_id": pd.array(model.segment_ids_, dtype="string"), "topic": model.topics_,
        "topic_name": [names.get(int(t), str(t)) for t in model.topics_]})
    return model
