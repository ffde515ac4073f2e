"""What export, check and import share: limits, the project value, archive reading."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

import pandas as pd

from toolkit._yaml import show
from toolkit.codebook.model import Codebook
from toolkit.codebook.refi import (
    _MAX_QDE_BYTES,
    _safe_member,
)
from toolkit.errors import CodingError

__all__ = ["QdpxProject", "QDPX_FORMAT"]

#: Version of the toolkit's own blocks in a project file.
QDPX_FORMAT = 1
#: Largest text source read from an archive, and all of them together (bytes).
MAX_SOURCE_BYTES = 200 * 1024 * 1024
MAX_TOTAL_BYTES = 1024 * 1024 * 1024
_XSI = "http://www.w3.org/2001/XMLSchema-instance"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_DATETIME = re.compile(r"^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$")
_PROJECT_ORDER = ("Users", "CodeBook", "Variables", "Cases", "Sources", "Notes", "Links",
                  "Sets", "Graphs", "Description", "NoteRef")
_SEPARATOR = "\n\n"
_MEMO_COLUMNS = ("kind", "target", "title", "author", "created_at", "text", "path")

@dataclass(frozen=True)
class QdpxProject:
    """A REFI-QDA project read back (:func:`read_qdpx`).

    Attributes
    ----------
    name, origin : str
        The project's name and the program that wrote it.
    codebook : Codebook
    segments : DataFrame
        Our own export: the segments exported. Another tool's: one segment per text
        source (``segment_id`` = ``document_id`` = the source's name), ``text`` its whole
        plain text (<NA> when the archive lacks it).
    codings : DataFrame
        :data:`toolkit.coding.CODING_COLUMNS`; ``start``/``end`` are code-point offsets
        into the segment's text (empty: the whole segment).
    memos : DataFrame
        Notes as memos (:data:`toolkit.memos.MEMO_COLUMNS`; ``path`` empty).
    users : DataFrame
        ``guid, name, coder``: each user and the coder name it became.
    problems : tuple of str
        What could not be imported, one line each (non-text selections, missing sources,
        positions outside the text, unknown codes).
    """

    name: str
    origin: str
    codebook: Codebook
    segments: pd.DataFrame
    codings: pd.DataFrame
    memos: pd.DataFrame
    users: pd.DataFrame
    problems: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return (f"QdpxProject(name={self.name!r}, origin={self.origin!r}, "
                f"segments={len(self.segments)}, codings={len(self.codings)}, "
                f"memos={len(self.memos)}, problems={len(self.problems)})")

def _open_archive(data: bytes, where: str) -> tuple[bytes, dict[str, zipfile.ZipInfo],
                                                   zipfile.ZipFile | None]:
    """Return the project XML and the members by lower-case name (for a bare XML, none)."""
    if not data.startswith(b"PK"):
        return data, {}, None
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise CodingError(f"{where}: not a zip archive; a .qdpx is a zip with a .qde "
                          "inside") from None
    unsafe = [n for n in archive.namelist() if not _safe_member(n)]
    if unsafe:
        raise CodingError(f"{where}: refused: member(s) {unsafe[:3]} would be written outside "
                          "the target folder")
    members = {n.lower(): archive.getinfo(n) for n in archive.namelist()}
    qde = sorted((n for n in archive.namelist() if n.lower().endswith(".qde")),
                 key=lambda n: (n.lower() != "project.qde", n))
    if not qde:
        raise CodingError(f"{where}: no .qde project file inside the archive")
    return _read_member(archive, archive.getinfo(qde[0]), _MAX_QDE_BYTES, where), members, \
        archive


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int,
                 where: str) -> bytes:
    if info.file_size > limit:
        raise CodingError(f"{where}: {info.filename} is {info.file_size} bytes; refusing to "
                          f"read more than {limit // (1024 * 1024)} MB")
    try:
        return archive.read(info)
    except RuntimeError as err:  # encrypted member
        raise CodingError(f"{where}: {info.filename} is encrypted ({err}); export the "
                          "project again without a password") from None
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError) as err:
        raise CodingError(f"{where}: {info.filename} cannot be unpacked "
                          f"({show(str(err))[1:-1]}); the archive is damaged") from None


def _internal(path: str | None) -> str | None:
    """``internal://x.txt`` -> ``sources/x.txt`` (lower case); None for other schemes."""
    if not path or not path.startswith("internal://"):
        return None
    name = path[len("internal://"):]
    if not name or "/" in name or "\\" in name or name in (".", ".."):
        return None
    return f"sources/{name}".lower()

def _decode(data: bytes) -> str | None:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None

