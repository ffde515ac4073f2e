"""Loading a saved topic model never unpickles, never downloads, refuses foreign folders."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import pandas as pd
import pytest

from toolkit.errors import TopicModelError
from toolkit.topics import TopicModel, load_topic_model, save_topic_model

TINY = ([f"Fees and tuition costs rose sharply for learners in year {i}." for i in range(10)]
        + [f"Internet access and devices were missing in rural village {i}." for i in range(10)]
        + [f"Employers recognised badges and certificates from provider {i}." for i in range(10)])


class _Payload:
    """Unpickling this object writes a file: proof that code ran."""

    def __init__(self, target: Path) -> None:
        self.target = str(target)

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (Path.write_text, (Path(self.target), "pwned"))


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    model = TopicModel(min_topic_size=5).fit(TINY)
    return save_topic_model(model, tmp_path_factory.mktemp("topics") / "model")


@pytest.fixture
def copy(saved: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(saved, tmp_path / "model"))


def test_round_trip_still_loads(saved: Path) -> None:
    model = load_topic_model(saved)
    assert len(model.document_topics_) == 30
    assert set(model.transform(TINY[:3])) <= set(model.topic_info_["topic"])


def test_a_pickled_bertopic_entry_is_refused_and_never_run(copy: Path, tmp_path: Path) -> None:
    shutil.rmtree(copy / "bertopic")
    marker = tmp_path / "ran.txt"
    (copy / "bertopic").write_bytes(pickle.dumps(_Payload(marker)))
    with pytest.raises(TopicModelError, match="is not a folder.*pickled models are refused"):
        load_topic_model(copy)
    assert not marker.exists()


def test_a_missing_bertopic_folder_is_refused_without_network(copy: Path,
                                                              monkeypatch) -> None:
    import huggingface_hub
    from bertopic import _save_utils

    def no_network(*args: object, **kwargs: object) -> None:
        pytest.fail("tried the Hugging Face hub")

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", no_network)
    monkeypatch.setattr(_save_utils, "load_files_from_hf", no_network)
    shutil.rmtree(copy / "bertopic")
    monkeypatch.chdir(copy.parent)  # a relative path, as BERTopic would treat as a hub id
    with pytest.raises(TopicModelError, match="missing; .*nothing is downloaded"):
        load_topic_model(Path("model"))


@pytest.mark.parametrize("name", ["topic_embeddings.bin", "ctfidf.bin"])
def test_torch_pickles_in_the_folder_are_refused(copy: Path, name: str) -> None:
    (copy / "bertopic" / name).write_bytes(b"\x80\x04K\x01.")
    if name == "topic_embeddings.bin":  # the safetensors twin gone: BERTopic would torch.load
        (copy / "bertopic" / "topic_embeddings.safetensors").unlink()
    with pytest.raises(TopicModelError, match=r"bertopic: (missing|holds)"):
        load_topic_model(copy)


def test_a_config_naming_an_embedding_model_is_refused(copy: Path) -> None:
    config = copy / "bertopic" / "config.json"
    data = json.loads(config.read_text())
    data["embedding_model"] = "someone/remote-model"
    config.write_text(json.dumps(data))
    with pytest.raises(TopicModelError, match="names an embedding model"):
        load_topic_model(copy)


def test_a_recorded_embedding_path_is_not_loaded_unless_asked(copy: Path) -> None:
    meta_path = copy / "toolkit.json"
    meta = json.loads(meta_path.read_text())
    meta.pop("tfidf")
    meta["params"]["embedding"] = "/somewhere/else/model"
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(TopicModelError, match="pass embedding= to load it"):
        load_topic_model(copy)


@pytest.mark.parametrize("damage", ["bad-json", "not-a-dict", "unknown-param", "bad-tensors"])
def test_damaged_folders_are_one_clear_error(copy: Path, damage: str) -> None:
    meta_path = copy / "toolkit.json"
    if damage == "bad-json":
        meta_path.write_text("{not json")
    elif damage == "not-a-dict":
        meta_path.write_text("[1, 2]")
    elif damage == "unknown-param":
        meta = json.loads(meta_path.read_text())
        meta["params"]["colour"] = "red"
        meta_path.write_text(json.dumps(meta))
    else:
        (copy / "bertopic" / "topic_embeddings.safetensors").write_bytes(b"\x00" * 40)
    with pytest.raises(TopicModelError):
        load_topic_model(copy)


def test_loaded_tables_match(saved: Path) -> None:
    again = load_topic_model(saved)
    assert isinstance(again.topic_info_, pd.DataFrame)
    assert again.topic_info_["keywords"].map(type).eq(tuple).all()
