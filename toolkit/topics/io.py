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


#: The files BERTopic's safetensors format consists of; the only ones ever read.
_BERTOPIC_FILES = ("topics.json", "config.json", "topic_embeddings.safetensors",
                   "ctfidf.safetensors", "ctfidf_config.json")
#: Files that BERTopic would unpickle (``joblib``/``torch.load``) if they were present.
_PICKLE_SUFFIXES = (".bin", ".pkl", ".pickle", ".joblib", ".pt", ".pth")


def _check_model_folder(folder: Path) -> Path:
    """Refuse anything but a saved folder in the safetensors format, before BERTopic sees it.

    BERTopic's own loader unpickles a *file* given as the model (``joblib.load``), reads
    ``.bin`` files with ``torch.load``, fetches a missing folder from the Hugging Face hub,
    opens images and instantiates the sentence-transformers model named in ``config.json``.
    None of that may happen for a folder someone else made, so each is refused here.
    """
    bert = folder / "bertopic"
    if bert.is_symlink() or (bert.exists() and not bert.is_dir()):
        raise TopicModelError(f"{bert}: is not a folder; a saved model keeps BERTopic's part "
                              "in a folder of safetensors and JSON files (pickled models are "
                              "refused: they can run code when loaded)")
    if not bert.is_dir():
        raise TopicModelError(f"{bert}: missing; the model folder is incomplete (nothing is "
                              "downloaded in its place); save the model again with "
                              "save_topic_model")
    missing = [name for name in _BERTOPIC_FILES if not (bert / name).is_file()
               or (bert / name).is_symlink()]
    if missing:
        raise TopicModelError(f"{bert}: missing {', '.join(missing)}; only models saved by "
                              "save_topic_model (safetensors format) can be loaded")
    unsafe = sorted(p.name for p in bert.iterdir()
                    if p.suffix.lower() in _PICKLE_SUFFIXES or p.name == "images")
    if unsafe:
        raise TopicModelError(f"{bert}: holds {', '.join(unsafe)}, which BERTopic would "
                              "unpickle or open; refused (save_topic_model never writes them)")
    config = _read_json(bert / "config.json")
    if not isinstance(config, dict) or config.get("embedding_model") is not None:
        raise TopicModelError(f"{bert / 'config.json'}: names an embedding model to load; "
                              "refused (save_topic_model records the embedding in "
                              "toolkit.json, never there)")
    return bert


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise TopicModelError(f"{path}: cannot be read as JSON ({err}); the model folder is "
                              "damaged; save the model again") from None


def load_topic_model(folder: str | Path, *, embedding: str | Path | None = None) -> TopicModel:
    """Load a model saved by :func:`save_topic_model`: JSON and safetensors, no pickle.

    Nothing but the files :func:`save_topic_model` writes is read, and nothing is
    downloaded: a folder whose ``bertopic`` entry is a file (a pickle), that holds ``.bin``
    files, or whose ``bertopic`` part is missing is refused before BERTopic is called.

    Parameters
    ----------
    folder : str or Path
        The folder :func:`save_topic_model` wrote.
    embedding : str or Path, optional
        The embedding backend to attach for new documents. Default: the one recorded in the
        folder when it is a named backend (``"tfidf"`` state is restored from the folder).
        A model saved with a local sentence-transformers folder records that path; it is
        loaded only when passed here, so a model folder from someone else cannot make the
        toolkit load a model from a path of its choosing.

    Raises
    ------
    TopicModelError
        For a folder that is not a complete saved model in the safetensors format, of
        another format, or that records an embedding path not passed as ``embedding``.
    """
    from bertopic import BERTopic
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    from toolkit.topics.embeddings import BACKENDS

    folder = Path(folder)
    path = folder / "toolkit.json"
    if not path.is_file():
        raise TopicModelError(f"{folder}: no toolkit.json; not a saved topic model")
    meta = _read_json(path)
    if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
        raise TopicModelError(f"{path}: format {found!r}, expected {_FORMAT!r}")
    bert = _check_model_folder(folder)
    try:
        params = dict(meta["params"])
        recorded = str(params["embedding"])
        model = TopicModel(**params)
        if "tfidf" in meta:
            embedder = TfidfSvdEmbedder.from_state(
                meta["tfidf"], load_file(str(folder / "tfidf.safetensors")))
        else:
            chosen = embedding if embedding is not None else recorded
            if embedding is None and recorded not in BACKENDS:
                raise TopicModelError(
                    f"{path}: the model was fitted with the embedding {recorded!r}, a local "
                    "folder; pass embedding= to load it (never loaded from a model folder "
                    f"on its own), or one of {', '.join(BACKENDS)}")
            embedder = make_embedder(chosen, random_state=params.get("random_state", 0))
        model.embedder_ = embedder
        with quiet_logger("BERTopic"):
            model.model_ = BERTopic.load(str(bert.resolve()), embedding_model=embedder)
        model.topics_ = np.asarray(meta["topics"], dtype=int)
        model.segment_ids_ = meta["segment_ids"]
        model.topic_info_ = pd.DataFrame(meta["topic_info"]).assign(
            keywords=lambda f: f["keywords"].map(tuple))[["topic", "size", "name", "keywords"]]
    except TopicModelError:
        raise
    except (KeyError, TypeError, ValueError, OSError, SafetensorError) as err:
        raise TopicModelError(f"{folder}: damaged or incomplete saved model "
                              f"({type(err).__name__}: {str(err)[:200]}); save it again") \
            from None
    names = dict(zip(model.topic_info_["topic"], model.topic_info_["name"], strict=True))
    model.document_topics_ = pd.DataFrame({
        "segment_id": pd.array(model.segment_ids_, dtype="string"), "topic": model.topics_,
        "topic_name": [names.get(int(t), str(t)) for t in model.topics_]})
    return model
