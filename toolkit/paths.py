"""Where the bundled review lives."""

from __future__ import annotations

import os
from pathlib import Path

from toolkit.errors import ToolkitError

__all__ = ["project_root", "bundled_corpus_dir"]


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
