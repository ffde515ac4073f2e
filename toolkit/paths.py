"""Where the project and its bundled review live.

The bundled review is an ordinary review folder (``corpus/``); which codebook and codings
it uses is read from its ``review.yaml``, like any other review's.
"""

from __future__ import annotations

import os
from pathlib import Path

from toolkit.errors import ToolkitError

__all__ = ["project_root", "bundled_corpus_dir", "bundled_codebook_path", "bundled_codings_dir"]


def project_root() -> Path:
    """Return the project folder holding ``corpus/`` and ``codebooks/``.

    ``SLR_PROJECT_ROOT`` overrides; otherwise the folder above the installed ``toolkit``
    package (an editable install, as the README's commands make).

    Raises
    ------
    ToolkitError
        When no ``corpus/`` folder is found there.
    """
    env = os.environ.get("SLR_PROJECT_ROOT")
    root = Path(env) if env else Path(__file__).resolve().parents[1]
    if not (root / "corpus").is_dir():
        raise ToolkitError(
            f"{root}: no corpus/ folder here; install the project with `pip install -e .` from "
            "a clone, or set SLR_PROJECT_ROOT to the clone's folder"
        )
    return root


def bundled_corpus_dir() -> Path:
    """Return the bundled review's folder (``corpus/``)."""
    return project_root() / "corpus"


def bundled_codebook_path(round: int | None = None) -> Path:  # noqa: A002
    """Return the bundled review's codebook of a round (default: the one it codes with).

    Raises
    ------
    ToolkitError
        For a round its ``review.yaml`` does not list, or a file that is not there.
    """
    from toolkit.review.config import load_review_config

    folder = bundled_corpus_dir()
    coding = load_review_config(folder).get("coding") or {}
    rounds = {int(k): v for k, v in (coding.get("rounds") or {}).items()}
    if round is None:
        name = coding.get("codebook") or rounds[max(rounds)]
    elif round in rounds:
        name = rounds[round]
    else:
        raise ToolkitError(f"{folder / 'review.yaml'}: no codebook for round {round}; rounds "
                           f"{sorted(rounds)} are bundled")
    path = (folder / name).resolve()
    if not path.is_file():
        raise ToolkitError(f"{path}: the codebook the bundled review.yaml names is missing")
    return path


def bundled_codings_dir() -> Path:
    """Return the folder of the bundled review's saved codings (from its ``review.yaml``)."""
    from toolkit.review.config import load_review_config

    folder = bundled_corpus_dir()
    coding = load_review_config(folder).get("coding") or {}
    return (folder / (coding.get("codings") or "codings")).resolve()
