"""Memos: a researcher's notes on a code, a segment, a document or the review as a whole.

Memos are plain text files a person can read, edit and keep under version control:
``<folder>/<kind>/<target>.md`` with a small YAML front matter, then the note itself::

    ---
    kind: code
    target: benefits.skills_signalling
    title: Why a new code
    author: student
    created_at: '2026-03-02T10:00:00+00:00'
    ---
    Badges and certificates are talked about as *evidence* of skills ...

``kind`` is one of :data:`MEMO_KINDS`; ``target`` is the code id, segment id or document
id the memo annotates (for ``review``, a short name such as ``method``). Characters a file
name cannot hold are percent-encoded in the name; the front matter keeps the exact id.

:func:`attach_memos` puts memo text next to what it annotates in any table (a codebook
table, code frequencies, quotes), so notes travel with the analysis; the REFI-QDA export
carries them as notes (:func:`toolkit.coding.export_qdpx`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal
from urllib.parse import quote, unquote

import pandas as pd

from toolkit._io import atomic_write_text
from toolkit._yaml import YamlError, decode_text, dump_yaml, load_yaml
from toolkit.errors import ToolkitError

__all__ = ["Memo", "MemoError", "MEMO_KINDS", "MEMO_COLUMNS", "memo_path", "write_memo",
           "read_memo", "load_memos", "attach_memos"]

MemoKind = Literal["code", "segment", "document", "review"]
#: What a memo can annotate.
MEMO_KINDS: tuple[str, ...] = ("code", "segment", "document", "review")
#: Columns of :func:`load_memos`.
MEMO_COLUMNS = ("kind", "target", "title", "author", "created_at", "text", "path")
#: Largest memo file read (bytes); notes are short, a bigger file is a mistake.
MAX_MEMO_BYTES = 1024 * 1024
_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_KEYS = ("kind", "target", "title", "author", "created_at")


class MemoError(ToolkitError, ValueError):
    """A memo cannot be written or read as asked."""


@dataclass(frozen=True)
class Memo:
    """One memo.

    Attributes
    ----------
    kind : str
        ``code``, ``segment``, ``document`` or ``review``.
    target : str
        What it annotates (code id, segment id, document id, or a name for ``review``).
    text : str
        The note (Markdown welcome).
    title, author, created_at : str
        Optional; ``created_at`` is ISO 8601.
    """

    kind: str
    target: str
    text: str
    title: str = ""
    author: str = ""
    created_at: str = ""


def _check_kind(kind: str) -> None:
    if kind not in MEMO_KINDS:
        raise MemoError(f"memo kind {kind!r}: use one of {', '.join(MEMO_KINDS)}")


def memo_path(folder: str | Path, kind: MemoKind, target: str) -> Path:
    """Where the memo on ``target`` lives: ``<folder>/<kind>/<target, percent-encoded>.md``.

    Examples
    --------
    >>> memo_path("memos", "segment", "report:p3.s1").as_posix()
    'memos/segment/report%3Ap3.s1.md'
    """
    _check_kind(kind)
    if not isinstance(target, str) or not target.strip():
        raise MemoError(f"memo on a {kind}: the target is empty; give the {kind} id")
    name = quote(target, safe="-_.~")
    if name.startswith("."):
        name = "%2E" + name[1:]  # never a hidden file, never '..'
    return Path(folder) / kind / f"{name}.md"


def write_memo(folder: str | Path, kind: MemoKind, target: str, text: str, *,
               title: str = "", author: str = "", created_at: str | None = None,
               overwrite: bool = False) -> Path:
    """Write a memo atomically as ``<folder>/<kind>/<target>.md``.

    Parameters
    ----------
    folder : str or Path
        The memos folder (e.g. the review folder's ``memos/``).
    kind : {"code", "segment", "document", "review"}
    target : str
        What the memo annotates.
    text : str
    title, author : str, optional
    created_at : str, optional
        Default now (UTC).
    overwrite : bool, default False
        Replace an existing memo on the same target; otherwise it is refused, so no note
        is lost (read it, add to it, and write with ``overwrite=True``).

    Returns
    -------
    Path

    Raises
    ------
    MemoError
        For an unknown kind or an empty target.
    toolkit._io.OutputExistsError
        When the memo exists and ``overwrite`` is False.

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> path = write_memo(folder, "code", "cost", "Fees and travel.", author="ann",
    ...                   created_at="2026-01-01T00:00:00+00:00")
    >>> read_memo(path).text
    'Fees and travel.'
    """
    path = memo_path(folder, kind, target)
    head = {"kind": kind, "target": target}
    if title:
        head["title"] = title
    if author:
        head["author"] = author
    head["created_at"] = created_at or datetime.now(UTC).isoformat(timespec="seconds")
    front = dump_yaml(head, sort_keys=False, allow_unicode=True, width=1000).strip()
    body = text.replace("\r\n", "\n").strip("\n")
    return atomic_write_text(path, f"---\n{front}\n---\n{body}\n", overwrite=overwrite)


def read_memo(path: str | Path) -> Memo:
    """Read one memo file (front matter read with safe YAML; at most 1 MB).

    Raises
    ------
    MemoError
        For a missing or oversized file, text that is not UTF-8, a missing or broken front
        matter, an unknown kind, or a front matter that does not match the file's place.
    """
    path = Path(path)
    if not path.is_file():
        raise MemoError(f"{path}: no such memo file")
    if path.stat().st_size > MAX_MEMO_BYTES:
        raise MemoError(f"{path}: {path.stat().st_size} bytes; a memo is at most 1 MB")
    try:
        text = decode_text(path.read_bytes())
    except YamlError as err:
        raise MemoError(f"{path}: {err}") from None
    match = _FRONT.match(text)
    if not match:
        raise MemoError(f"{path}: no front matter; a memo starts with a '---' line, then "
                        "kind and target, then '---'")
    try:
        head = load_yaml(match.group(1))
    except YamlError as err:
        raise MemoError(f"{path}: front matter: {err}") from None
    if not isinstance(head, dict):
        raise MemoError(f"{path}: the front matter must be 'key: value' lines")
    unknown = sorted(str(k) for k in head if k not in _KEYS)
    if unknown:
        raise MemoError(f"{path}: unknown front-matter key(s) {unknown}; use "
                        f"{', '.join(_KEYS)}")
    kind, target = head.get("kind"), head.get("target")
    if kind not in MEMO_KINDS:
        raise MemoError(f"{path}: kind {kind!r}; use one of {', '.join(MEMO_KINDS)}")
    if not isinstance(target, str) or not target.strip():
        raise MemoError(f"{path}: target must be the id the memo annotates")
    if path.parent.name != kind or unquote(path.stem) != target:
        raise MemoError(f"{path}: its front matter says {kind} {target!r} but the file sits "
                        f"at {path.parent.name}/{path.name}; move it to "
                        f"{memo_path('.', kind, target).as_posix()}")
    fields = {k: "" if head.get(k) is None else str(head[k])
              for k in ("title", "author", "created_at")}
    return Memo(kind, target, text[match.end():].strip("\n"), **fields)


def load_memos(folder: str | Path, *, kind: MemoKind | None = None) -> pd.DataFrame:
    """Read every memo in a folder (an absent folder has none).

    Returns
    -------
    DataFrame
        :data:`MEMO_COLUMNS`, sorted by kind then target.

    Raises
    ------
    MemoError
        Listing every memo file that cannot be read, and files that are not memos.
    """
    folder = Path(folder)
    if kind is not None:
        _check_kind(kind)
    rows, problems = [], []
    if folder.is_dir():
        for path in sorted(folder.rglob("*")):
            if path.is_dir() or path.name.startswith("."):
                continue
            rel = path.relative_to(folder)
            if path.suffix != ".md" or len(rel.parts) != 2 or rel.parts[0] not in MEMO_KINDS:
                problems.append(f"{path}: not a memo (expected <kind>/<target>.md with kind "
                                f"one of {', '.join(MEMO_KINDS)})")
                continue
            if kind is not None and rel.parts[0] != kind:
                continue
            try:
                memo = read_memo(path)
            except MemoError as err:
                problems.append(str(err))
                continue
            rows.append((memo.kind, memo.target, memo.title, memo.author, memo.created_at,
                         memo.text, str(path)))
    if problems:
        raise MemoError(f"{folder}: {len(problems)} problem(s):\n- " + "\n- ".join(problems))
    frame = pd.DataFrame(rows, columns=list(MEMO_COLUMNS)).astype("string")
    return frame.sort_values(["kind", "target"], kind="stable").reset_index(drop=True)


def attach_memos(table: pd.DataFrame, memos: pd.DataFrame, *, kind: MemoKind,
                 on: str | None = None, column: str = "memo") -> pd.DataFrame:
    """Return ``table`` with the memo text on each row's code, segment or document.

    Parameters
    ----------
    table : DataFrame
        Any table with a column (or index) of the ids memos annotate.
    memos : DataFrame
        From :func:`load_memos`.
    kind : {"code", "segment", "document", "review"}
    on : str, optional
        Column holding the ids; default the index.
    column : str, default "memo"
        Name of the new column (an existing column of that name gets the memos appended,
        so a coder's memo and a researcher's memo both show).

    Examples
    --------
    >>> memos = pd.DataFrame({"kind": ["code"], "target": ["cost"], "text": ["Fees."]})
    >>> table = pd.DataFrame({"code_id": ["cost", "time"], "segments": [3, 1]})
    >>> attach_memos(table, memos, kind="code", on="code_id")["memo"].tolist()
    ['Fees.', <NA>]
    """
    _check_kind(kind)
    chosen = memos[memos["kind"] == kind]
    text = dict(zip(chosen["target"], chosen["text"], strict=True))
    ids = table[on] if on is not None else table.index.to_series(index=table.index)
    found = pd.array([text.get(i, pd.NA) for i in ids], dtype="string")
    out = table.copy()
    if column in out.columns:
        old = out[column].astype("string")
        both = [(f"{a} | {b}" if pd.notna(a) and pd.notna(b) else a if pd.notna(a) else b)
                for a, b in zip(old, found, strict=True)]
        out[column] = pd.array(both, dtype="string")
    else:
        out[column] = found
    return out
