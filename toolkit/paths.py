"""Where the bundled review lives."""

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
    """Return the bundled review's ``corpus/`` folder."""
    return project_root() / "corpus"


def bundled_codebook_path(round: int = 2) -> Path:  # noqa: A002
    """Return the review codebook of a round: ``microcredentials.yaml`` (2) or ``_round1``."""
    name = "microcredentials.yaml" if round == 2 else f"microcredentials_round{round}.yaml"
    path = project_root() / "codebooks" / name
    if not path.is_file():
        raise ToolkitError(f"{path}: no codebook for round {round}; rounds 1 and 2 are bundled")
    return path


def bundled_codings_dir() -> Path:
    """Folder of the review's saved codings (``codebooks/codings/microcredentials``)."""
    return project_root() / "codebooks" / "codings" / "microcredentials"
