"""Read a REFI-QDA project written by any tool (see :mod:`toolkit.coding.qdpx`)."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from defusedxml import ElementTree as SafeET

from toolkit._yaml import YamlError, load_yaml, show
from toolkit.codebook.model import Codebook
from toolkit.codebook.refi import (
    MARKER,
    _build,
    _codes_from_root,
    _existing_file,
    _namespace,
)
from toolkit.coding.qdpx._common import (
    _MEMO_COLUMNS,
    MAX_SOURCE_BYTES,
    MAX_TOTAL_BYTES,
    QDPX_FORMAT,
    QdpxProject,
    _decode,
    _internal,
    _open_archive,
    _read_member,
)
from toolkit.coding.store import CODING_COLUMNS, RULE_COLUMNS, make_codings
from toolkit.errors import CodebookError, CodingError

__all__ = ["read_qdpx"]

_CODER = re.compile(r"[^A-Za-z0-9_.-]+")


def _coder_name(name: str, taken: set[str]) -> str:
    base = _CODER.sub("_", name.strip()).strip("._-") or "user"
    if not base[0].isalnum():
        base = "user_" + base
    coder, n = base, 2
    while coder in taken:
        coder, n = f"{base}_{n}", n + 1
    taken.add(coder)
    return coder


def _parse_block(el: Any, ns: str) -> dict[str, Any]:
    desc = el.find(f"{ns}Description")
    text = desc.text or "" if desc is not None else ""
    if MARKER not in text:
        return {}
    block = text.partition(MARKER)[2]
    try:
        data = json.loads(block)
    except ValueError:  # written by hand or by an older exporter: read it as (safe) YAML
        try:
            data = load_yaml(block)
        except YamlError:
            return {}
    return data if isinstance(data, dict) else {}


class _Positions:
    """Convert a tool's positions in one text to code-point offsets."""

    def __init__(self, text: str, units: Literal["codepoint", "utf16"]) -> None:
        self.length = len(text)
        self.cumulative: np.ndarray | None = None
        if units == "utf16" and any(ord(c) > 0xFFFF for c in text):
            widths = np.fromiter((2 if ord(c) > 0xFFFF else 1 for c in text), dtype=np.int64,
                                 count=len(text))
            self.cumulative = np.concatenate([[0], np.cumsum(widths)])

    def __call__(self, position: int) -> int | None:
        if self.cumulative is None:
            return position if 0 <= position <= self.length else None
        index = int(np.searchsorted(self.cumulative, position))
        if index > self.length or self.cumulative[index] != position:
            return None  # beyond the text, or inside a surrogate pair
        return index


def read_qdpx(path: str | Path, *,
              positions: Literal["auto", "codepoint", "utf16"] = "auto") -> QdpxProject:
    """Read a REFI-QDA project (``.qdpx``, or a bare ``.qde``) as segments and codings.

    Parameters
    ----------
    path : str or Path
    positions : {"auto", "codepoint", "utf16"}
        How the file counts selection positions. The standard counts Unicode code points;
        NVivo counts UTF-16 code units (characters beyond the Basic Multilingual Plane, such
        as emoji, count twice). ``auto``: UTF-16 when the project's ``origin`` names NVivo.

    Returns
    -------
    QdpxProject

    Raises
    ------
    CodingError
        For unsafe or damaged archives, files that are not projects, and projects without a
        codebook. Problems with single selections or sources are returned in
        ``problems`` instead.
    """
    path = _existing_file(path, ".qdpx")
    where = str(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise CodingError(f"{where}: cannot be read ({err.strerror}); check its "
                          "permissions") from None
    xml, members, archive = _open_archive(data, where)
    try:
        root = SafeET.fromstring(xml)
    except Exception as err:  # noqa: BLE001 - defusedxml and expat raise several types
        raise CodingError(f"{where}: cannot parse the project XML ({show(str(err))[1:-1]}); "
                          "is this a REFI-QDA project?") from None
    namespace = _namespace(root)
    ns = f"{{{namespace}}}"
    if root.tag != f"{ns}Project":
        raise CodingError(f"{where}: the root element is {root.tag!r}, not a REFI-QDA Project")
    origin = root.get("origin", "")
    guid_to_code: dict[str, str] = {}
    try:
        codes, meta = _codes_from_root(root, ns, where, guid_to_code)
        codebook = _build(codes, meta, where, root.get("name") or path.stem)
    except CodebookError as err:
        raise CodingError(f"{where}: {err}") from None
    units: Literal["codepoint", "utf16"] = (
        "utf16" if positions == "utf16" or (positions == "auto" and "nvivo" in origin.lower())
        else "codepoint")
    project_block = _parse_block(root, ns)
    own = origin.startswith("slr-toolkit") and project_block.get("format") == QDPX_FORMAT
    reader = _Reader(root, ns, where, members, archive, guid_to_code, codebook, units, own,
                     project_block)
    return reader.run(root.get("name") or path.stem, origin)


class _Reader:
    """One pass over a project's users, notes and sources."""

    def __init__(self, root: Any, ns: str, where: str, members: dict[str, zipfile.ZipInfo],
                 archive: zipfile.ZipFile | None, codes: dict[str, str], codebook: Codebook,
                 units: Literal["codepoint", "utf16"], own: bool,
                 project_block: dict[str, Any]) -> None:
        self.root, self.ns, self.where = root, ns, where
        self.members, self.archive = members, archive
        self.codes, self.codebook, self.units, self.own = codes, codebook, units, own
        self.block = project_block
        self.problems: list[str] = []
        self.read_bytes = 0
        taken: set[str] = set()
        self.users: dict[str, str] = {}
        rows = []
        for user in root.iter(f"{ns}User"):
            guid = user.get("guid", "").strip("{}").upper()
            label = user.get("name") or user.get("id") or "user"
            coder = label if own and label not in taken else _coder_name(label, taken)
            taken.add(coder)
            self.users[guid] = coder
            rows.append((user.get("guid", ""), label, coder))
        self.user_table = pd.DataFrame(rows, columns=["guid", "name", "coder"])
        self.notes: dict[str, tuple[str, str, dict[str, Any], Any]] = {}
        for el in root.iter(f"{ns}Note"):
            text = self._text(el, f"note {el.get('name')!r}")
            self.notes[el.get("guid", "").strip("{}").upper()] = (
                el.get("name") or "note", text or "", _parse_block(el, ns), el)
        self.used_notes: set[str] = set()

    def _user(self, guid: str | None) -> str | None:
        if not guid:
            return None
        return self.users.get(guid.strip("{}").upper())

    def _text(self, el: Any, what: str) -> str | None:
        content = el.find(f"{self.ns}PlainTextContent")
        if content is not None:
            return content.text or ""
        member = _internal(el.get("plainTextPath"))
        if member is None:
            if el.get("plainTextPath"):
                self.problems.append(f"{what}: text at {el.get('plainTextPath')!r} is outside "
                                     "the project; only internal sources are read")
            return None
        if self.archive is None or member not in self.members:
            self.problems.append(f"{what}: its text ({el.get('plainTextPath')}) is not in the "
                                 "project file; codings keep their positions, the text is "
                                 "empty")
            return None
        info = self.members[member]
        if self.read_bytes + info.file_size > MAX_TOTAL_BYTES:
            raise CodingError(f"{self.where}: the sources add up to more than "
                              f"{MAX_TOTAL_BYTES // (1024 * 1024)} MB; refusing to read more")
        self.read_bytes += info.file_size
        text = _decode(_read_member(self.archive, info, MAX_SOURCE_BYTES, self.where))
        if text is None:
            self.problems.append(f"{what}: {info.filename} is not UTF-8 text")
        return text

    def _note_texts(self, el: Any) -> list[str]:
        out = []
        for ref in el.findall(f"{self.ns}NoteRef"):
            key = ref.get("targetGUID", "").strip("{}").upper()
            if key in self.notes:
                self.used_notes.add(key)
                out.append(self.notes[key][1])
        return out

    def run(self, name: str, origin: str) -> QdpxProject:
        ns = self.ns
        segments: list[dict[str, Any]] = []
        codings: list[dict[str, Any]] = []
        memos: list[tuple[str, str, str, str, str, str]] = []
        for code_el in self.root.iter(f"{ns}Code"):
            code_id = self.codes.get(code_el.get("guid", "").strip("{}").upper())
            for ref in code_el.findall(f"{ns}NoteRef"):
                self._memo(ref, "code", code_id or "", memos)
        taken: set[str] = set()
        sources = self.root.find(f"{ns}Sources")
        for source in list(sources) if sources is not None else []:
            kind = source.tag.removeprefix(ns)
            label = source.get("name") or source.get("guid") or "source"
            representation = source.find(f"{ns}Representation") \
                if kind == "PDFSource" else None
            if kind == "TextSource":
                self._source(source, label, taken, segments, codings, memos)
            elif representation is not None:
                self._source(representation, label, taken, segments, codings, memos,
                             outer=source)
                n = len(source.findall(f"{ns}PDFSelection"))
                if n:
                    self.problems.append(f"PDFSource {label!r}: {n} area selection(s) on pages "
                                         "skipped; the text selections of its plain-text "
                                         "representation are read")
            else:
                n = sum(1 for el in source.iter() if el.tag.endswith("Selection"))
                if n or source.findall(f"{ns}Coding"):
                    self.problems.append(f"{kind} {label!r}: {n} selection(s) skipped; only "
                                         "text can become codings")
        for ref in self.root.findall(f"{ns}NoteRef"):
            self._memo(ref, "review", None, memos)
        for key, (_, _, block, _) in self.notes.items():
            if key not in self.used_notes and "coding_memo" not in block:
                self._memo_from(key, "review", None, memos)
        return QdpxProject(name, origin, self.codebook, self._segments(segments),
                           self._codings(codings), self._memos(memos), self.user_table,
                           tuple(self.problems))

    def _memo(self, ref: Any, kind: str, target: str | None, memos: list) -> None:
        key = ref.get("targetGUID", "").strip("{}").upper()
        if key in self.notes:
            self._memo_from(key, kind, target, memos)

    def _memo_from(self, key: str, kind: str, target: str | None, memos: list) -> None:
        title, text, block, el = self.notes[key]
        self.used_notes.add(key)
        info = block.get("memo") if isinstance(block.get("memo"), dict) else None
        if info:
            text = block.get("text", text)
            memos.append((str(info.get("kind", kind)), str(info.get("target", target or "")),
                          str(info.get("title", "")), str(info.get("author", "")),
                          str(info.get("created_at", "")), text))
            return
        if "coding_memo" in block:
            return
        author = self._user(el.get("creatingUser")) or ""
        memos.append((kind, target if target is not None else _slug(title), title, author,
                      el.get("creationDateTime") or "", text))

    def _source(self, source: Any, label: str, taken: set[str], segments: list,
                codings: list, memos: list, outer: Any = None) -> None:
        ns = self.ns
        text = self._text(source, f"source {label!r}")
        block = _parse_block(outer if outer is not None else source, ns)
        document = str(block.get("document_id", label)) if self.own else label
        if not self.own:
            base, n = document, 2
            while document in taken:
                document, n = f"{base} ({n})", n + 1
            taken.add(document)
        convert = _Positions(text, self.units) if text is not None else None
        for ref in (outer if outer is not None else source).findall(f"{ns}NoteRef"):
            self._memo(ref, "document", document, memos)
        if not self.own:
            segments.append({"segment_id": document, "document_id": document,
                             "text": text, "start": 0 if text is not None else None,
                             "end": len(text) if text is not None else None})
        whole = source.findall(f"{ns}Coding")
        for coding in whole:
            self._coding(coding, document, None, None, {}, codings)
        own_segments: dict[str, int] = {}
        for selection in source.findall(f"{ns}PlainTextSelection"):
            where = f"source {label!r}, selection {selection.get('guid')}"
            try:
                start = int(selection.get("startPosition", ""))
                end = int(selection.get("endPosition", ""))
            except ValueError:
                self.problems.append(f"{where}: positions are not whole numbers; skipped")
                continue
            if convert is not None:
                first, last = convert(start), convert(end)
                if first is None or last is None or first > last:
                    self.problems.append(f"{where}: positions {start}-{end} fall outside the "
                                         f"text of {convert.length} characters; skipped")
                    continue
            else:
                first, last = start, end
            info = _parse_block(selection, ns) if self.own else {}
            if self.own and info.get("segment_id") is not None:
                self._own_selection(selection, info, text, first, last, own_segments,
                                    document, segments, codings, memos)
                continue
            found = selection.findall(f"{ns}Coding")
            described = selection.find(f"{ns}Description")
            comment = (described.text or "").strip() if described is not None else ""
            if not found:  # a comment or note on a passage nobody coded: keep it as a memo
                if comment:
                    memos.append(("segment", document, f"on characters {first}-{last}",
                                  self._user(selection.get("creatingUser")) or "",
                                  selection.get("creationDateTime") or "", comment))
                for ref in selection.findall(f"{ns}NoteRef"):
                    self._memo(ref, "segment", document, memos)
                continue
            memo = " | ".join(t for t in [comment, *self._note_texts(selection)] if t) or None
            created = selection.get("creationDateTime")
            for coding in found:
                self._coding(coding, document, first, last, {"memo": memo,
                                                             "created_at": created}, codings,
                             fallback_user=selection.get("creatingUser"))

    def _own_selection(self, selection: Any, info: dict[str, Any], text: str | None,
                       first: int, last: int, own_segments: dict[str, int],
                       document: str, segments: list, codings: list, memos: list) -> None:
        segment = str(info["segment_id"])
        if "span" not in info:  # the segment itself
            own_segments[segment] = first
            segments.append({"segment_id": segment, "document_id": document,
                             "text": text[first:last] if text is not None else None,
                             "start": info.get("start"), "end": info.get("end"),
                             **(info.get("columns") or {})})
            for row in info.get("seen") or []:
                codings.append({"segment_id": segment, "code_id": None, **row})
            for ref in selection.findall(f"{self.ns}NoteRef"):
                self._memo(ref, "segment", segment, memos)
            span = (None, None)
        else:
            offset = own_segments.get(segment)
            if offset is None:
                self.problems.append(f"selection {selection.get('guid')}: part of segment "
                                     f"{segment!r}, which comes later or not at all; skipped")
                return
            span = (first - offset, last - offset)
        meta = info.get("codings") or {}
        for coding in selection.findall(f"{self.ns}Coding"):
            extra = meta.get(coding.get("guid", "").upper(), {})
            self._coding(coding, segment, *span, extra, codings)

    def _coding(self, coding: Any, segment: str, start: int | None, end: int | None,
                extra: dict[str, Any], codings: list, fallback_user: str | None = None) -> None:
        ref = coding.find(f"{self.ns}CodeRef")
        target = ref.get("targetGUID", "").strip("{}").upper() if ref is not None else ""
        code_id = self.codes.get(target)
        if code_id is None:
            self.problems.append(f"coding {coding.get('guid')} in {segment!r}: code "
                                 f"{target or '(none)'} is not in the codebook; skipped")
            return
        coder = extra.get("coder") or self._user(coding.get("creatingUser")) \
            or self._user(fallback_user) or "unknown"
        notes = [t for t in self._note_texts(coding) if t]
        memo = extra.get("memo")
        if not self.own:
            memo = " | ".join([*([memo] if memo else []), *notes]) or None
        row = {"segment_id": segment, "code_id": code_id, "coder": coder,
               "round": extra.get("round", self.codebook.round),
               "method": extra.get("method", "human"), "start": start, "end": end,
               "memo": memo,
               "created_at": extra.get("created_at", coding.get("creationDateTime"))}
        for column in RULE_COLUMNS:
            if column in extra:
                row[column] = extra[column]
        codings.append(row)

    def _segments(self, rows: list[dict[str, Any]]) -> pd.DataFrame:
        frame = pd.DataFrame(rows)
        base = ["segment_id", "document_id", "text", "start", "end"]
        for column in base:
            if column not in frame.columns:
                frame[column] = pd.Series(dtype=object)
        frame = frame[base + [c for c in frame.columns if c not in base]]
        kinds = self.block.get("segment_columns") or {} if self.own else {}
        for column in frame.columns:
            kind = kinds.get(column)
            if kind == "tuple":
                frame[column] = [tuple(v) if isinstance(v, list) else
                                 (() if v is None else v) for v in frame[column]]
            elif kind:
                try:
                    frame[column] = frame[column].astype(kind if kind != "object" else object)
                except (TypeError, ValueError):
                    pass
            elif column in ("segment_id", "document_id", "text"):
                frame[column] = frame[column].astype("string")
            elif column in ("start", "end"):
                frame[column] = frame[column].astype("Int64")
        return frame.reset_index(drop=True)

    def _codings(self, rows: list[dict[str, Any]]) -> pd.DataFrame:
        if not rows:
            return make_codings({c: [] for c in CODING_COLUMNS})
        return make_codings(rows)

    def _memos(self, rows: list[tuple[str, ...]]) -> pd.DataFrame:
        frame = pd.DataFrame([(*r, pd.NA) for r in rows], columns=list(_MEMO_COLUMNS))
        return frame.astype("string").sort_values(["kind", "target"], kind="stable"
                                                  ).reset_index(drop=True)


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug or "note"
