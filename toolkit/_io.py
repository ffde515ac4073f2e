"""Atomic file writes: a temporary file in the target folder, then ``os.replace``."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from toolkit.errors import ToolkitError

__all__ = ["atomic_write_text", "atomic_write_bytes", "atomic_write_npy", "OutputExistsError"]


class OutputExistsError(ToolkitError, FileExistsError):
    """A write would replace an existing file and the caller did not allow it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(
            f"{path}: file exists and would be replaced; pass overwrite=True or choose "
            "another path"
        )


def atomic_write_bytes(path: str | Path, data: bytes, *, overwrite: bool = True) -> Path:
    """Write ``data`` to ``path`` so that readers see the old file or the new, never half.

    Parameters
    ----------
    path : str or Path
        Target file; its folder is created if needed.
    data : bytes
        Content.
    overwrite : bool, default True
        When False and ``path`` exists, raise :class:`OutputExistsError`. The check and the
        final rename use ``os.link`` semantics where possible, so two writers cannot both win.

    Returns
    -------
    Path
        The written path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not overwrite and path.exists():
        raise OutputExistsError(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # fails if path appeared meanwhile
            except FileExistsError:
                raise OutputExistsError(path) from None
            tmp.unlink()
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def atomic_write_text(path: str | Path, text: str, *, overwrite: bool = True,
                      encoding: str = "utf-8") -> Path:
    """Write text atomically; see :func:`atomic_write_bytes`."""
    return atomic_write_bytes(path, text.encode(encoding), overwrite=overwrite)


def atomic_write_npy(path: str | Path, array: object) -> Path:
    """Write a NumPy array as ``.npy`` (no pickled objects), atomically."""
    import io

    import numpy as np

    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array), allow_pickle=False)
    return atomic_write_bytes(path, buffer.getvalue())
