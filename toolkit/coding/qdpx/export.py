"""Write the coded review as a REFI-QDA project (see :mod:`toolkit.coding.qdpx`)."""

from __future__ import annotations

import io
import json
import uuid
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from toolkit._io import atomic_write_bytes
from toolkit.codebook.model import Codebook
from toolkit.codebook.refi import (
    GUID_NAMESPACE,
    MARKER,
    PROJECT_NS,
    _check_xml_text,
    add_code_elements,
    add_codebook_sets,
    code_guid,
)
from toolkit.coding.qdpx._common import (
    _DATETIME,
    _MEMO_COLUMNS,
    _NOT_XML,
    _SEPARATOR,
    _XSI,
    QDPX_FORMAT,
)
from toolkit.coding.qdpx.check import check_qdpx_structure
from toolkit.coding.store import CODING_COLUMNS, RULE_COLUMNS, make_codings
from toolkit.errors import CodingError

__all__ = ["export_qdpx", "format_qdpx"]


def _guid(*parts: object) -> str:
    return str(uuid.uuid5(GUID_NAMESPACE, "\x1f".join(str(p) for p in parts))).upper()


def _xml(text: object) -> str:
    return _NOT_XML.sub("\ufffd", "" if text is None else str(text))


def _plain(value: Any) -> Any:
    """Return a cell as a YAML-safe value (tuples to lists, NA to None, numpy to Python)."""
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _block(intro: str, data: dict[str, Any]) -> str:
    """Text, then the marker line, then ``data`` as JSON (which is YAML too), ASCII only."""
    text = json.dumps(data, ensure_ascii=True, separators=(", ", ": "))
    return f"{intro}\n\n{MARKER}\n{text}" if intro else f"{MARKER}\n{text}"


def _when(value: Any) -> str | None:
    value = _plain(value)
    return value if isinstance(value, str) and _DATETIME.match(value) else None


def _column_kinds(segments: pd.DataFrame, extra: list[str]) -> dict[str, str]:
    kinds = {}
    for column in ["segment_id", "document_id", "text", "start", "end", *extra]:
        if column not in segments.columns:
            continue
        values = [v for v in segments[column] if _plain(v) is not None]
        if values and all(isinstance(v, (tuple, list)) for v in values):
            kinds[column] = "tuple"
        else:
            kinds[column] = str(segments[column].dtype)
    return kinds


def _check_inputs(codebook: Codebook, segments: pd.DataFrame, codings: pd.DataFrame) -> None:
    missing = {"segment_id", "text"} - set(segments.columns)
    if missing:
        raise CodingError(f"export_qdpx: segments lack {sorted(missing)}")
    if segments["segment_id"].duplicated().any():
        repeated = segments.loc[segments["segment_id"].duplicated(), "segment_id"]
        raise CodingError(f"export_qdpx: segment ids repeat: {sorted(repeated)[:5]}")
    if segments["text"].isna().any():
        raise CodingError("export_qdpx: some segments have no text; a source needs its text")
    problems = []
    unknown = sorted(set(codings["code_id"].dropna()) - set(codebook.ids))
    if unknown:
        problems.append(f"codes not in codebook {codebook.name!r}: {unknown[:10]}")
    unknown = sorted(set(codings["segment_id"]) - set(segments["segment_id"]))
    if unknown:
        problems.append(f"segments not in the segments table: {unknown[:10]}")
    if codings["coder"].isna().any():
        problems.append("some codings have no coder")
    texts = dict(zip(segments["segment_id"], segments["text"], strict=True))
    for row in codings.dropna(subset=["start", "end"]).itertuples(index=False):
        if row.segment_id in texts and not 0 <= row.start <= row.end <= len(texts[row.segment_id]):
            problems.append(f"coding of {row.segment_id!r} spans {row.start}-{row.end}, outside "
                            f"its text of {len(texts[row.segment_id])} characters")
            break
    if problems:
        raise CodingError("export_qdpx: " + "; ".join(problems))


def _project_xml(codebook: Codebook, segments: pd.DataFrame, codings: pd.DataFrame,
                 memos: pd.DataFrame, name: str, origin: str
                 ) -> tuple[bytes, dict[str, str]]:
    """Return the project XML and the source files (name in the archive -> text)."""
    ET.register_namespace("", PROJECT_NS)
    ET.register_namespace("xsi", _XSI)
    ns = f"{{{PROJECT_NS}}}"
    extra = [c for c in segments.columns if c not in ("segment_id", "document_id", "text",
                                                       "start", "end")]
    rule_columns = [c for c in RULE_COLUMNS if c in codings.columns]
    root = ET.Element(f"{ns}Project", {"name": _xml(name), "origin": _xml(origin),
                                       f"{{{_XSI}}}schemaLocation": f"{PROJECT_NS} Project.xsd"})
    people = sorted(set(codings["coder"].dropna()) | set(memos["author"].dropna()) - {""})
    users_el = ET.SubElement(root, f"{ns}Users")
    for person in people:
        ET.SubElement(users_el, f"{ns}User", {"guid": _guid("user", person),
                                              "name": _xml(person), "id": _xml(person)})
    if not people:
        root.remove(users_el)

    # Notes: memos from the memo store, then coders' memos on their codings.
    notes: list[ET.Element] = []
    refs: dict[tuple[str, str], list[str]] = {}

    def note(guid: str, title: str, text: str, info: dict[str, Any], author: str | None,
             created: str | None) -> ET.Element:
        attrs = {"guid": guid, "name": _xml(title)}
        if author:
            attrs["creatingUser"] = _guid("user", author)
        if _when(created):
            attrs["creationDateTime"] = str(created)
        el = ET.Element(f"{ns}Note", attrs)
        if _xml(text) != text:
            info = {**info, "text": text}
        ET.SubElement(el, f"{ns}Description").text = _block("", info)
        ET.SubElement(el, f"{ns}PlainTextContent").text = _xml(text)
        notes.append(el)
        return el

    for memo in memos.itertuples(index=False):
        guid = _guid("memo", memo.kind, memo.target)
        title = memo.title if _plain(memo.title) else f"{memo.kind} memo: {memo.target}"
        note(guid, title, str(memo.text), {"memo": {
            "kind": memo.kind, "target": memo.target, "title": _plain(memo.title) or "",
            "author": _plain(memo.author) or "", "created_at": _plain(memo.created_at) or ""}},
            _plain(memo.author), _plain(memo.created_at))
        refs.setdefault((str(memo.kind), str(memo.target)), []).append(guid)

    codebook_el = ET.SubElement(root, f"{ns}CodeBook")
    add_code_elements(ET.SubElement(codebook_el, f"{ns}Codes"), codebook, ns,
                      notes={t: g for (k, t), g in refs.items() if k == "code"})

    sources_el = ET.SubElement(root, f"{ns}Sources")
    files: dict[str, str] = {}
    coding_memo_notes: dict[tuple[str, str, str], str] = {}
    columns = [c for c in CODING_COLUMNS if c in codings.columns] + rule_columns
    by_segment: dict[str, list[dict[str, Any]]] = {}
    for values in codings[columns].itertuples(index=False, name=None):
        row = {c: _plain(v) for c, v in zip(columns, values, strict=True)}
        by_segment.setdefault(row["segment_id"], []).append(row)
    keep = [c for c in ("segment_id", "text", "start", "end") if c in segments.columns]
    documents: dict[Any, list[dict[str, Any]]] = {}
    doc_column = "document_id" if "document_id" in segments.columns else "segment_id"
    for values in segments[[doc_column, *keep, *extra]].itertuples(index=False, name=None):
        documents.setdefault(values[0], []).append(
            dict(zip([*keep, *extra], values[1:], strict=True)))

    def add_coding(selection_el: ET.Element, guid: str, n: int, row: dict[str, Any],
                   segment: str) -> str:
        coding_guid = _guid("coding", guid, n, row["code_id"], row["coder"])
        attrs = {"guid": coding_guid, "creatingUser": _guid("user", row["coder"])}
        if _when(row["created_at"]):
            attrs["creationDateTime"] = row["created_at"]
        coding_el = ET.SubElement(selection_el, f"{ns}Coding", attrs)
        ET.SubElement(coding_el, f"{ns}CodeRef", {"targetGUID": code_guid(row["code_id"])})
        memo = row["memo"]
        if memo:
            key = (str(row["coder"]), str(segment), str(memo))
            if key not in coding_memo_notes:
                coding_memo_notes[key] = _guid("coding-memo", *key)
                note(coding_memo_notes[key], f"{row['coder']} on {segment}", str(memo),
                     {"coding_memo": {"coder": row["coder"], "segment_id": segment}},
                     str(row["coder"]), row["created_at"])
            ET.SubElement(coding_el, f"{ns}NoteRef", {"targetGUID": coding_memo_notes[key]})
        return coding_guid

    for document, block in documents.items():
        source_guid = _guid("source", document)
        texts = [str(seg["text"]) for seg in block]
        files[f"sources/{source_guid}.txt"] = _SEPARATOR.join(texts)
        source_el = ET.SubElement(sources_el, f"{ns}TextSource", {
            "guid": source_guid, "name": _xml(document),
            "plainTextPath": f"internal://{source_guid}.txt"})
        ET.SubElement(source_el, f"{ns}Description").text = _block(
            f"Document {document}: {len(block)} segment(s), coded with slr-toolkit.",
            {"document_id": _plain(document)})
        base = 0
        for seg, text in zip(block, texts, strict=True):
            segment = seg["segment_id"]
            rows = by_segment.get(segment, [])
            whole = [r for r in rows if r["start"] is None or r["end"] is None]
            info: dict[str, Any] = {"segment_id": _plain(segment),
                                    "start": _plain(seg.get("start")),
                                    "end": _plain(seg.get("end"))}
            if extra:
                info["columns"] = {c: _plain(seg[c]) for c in extra}
            seen = [_meta(r, rule_columns) for r in whole if r["code_id"] is None]
            if seen:
                info["seen"] = seen
            spans: dict[tuple[int, int], list[dict[str, Any]]] = {}
            for r in rows:
                if r["start"] is not None and r["end"] is not None:
                    spans.setdefault((int(r["start"]), int(r["end"])), []).append(r)
            selections = [(None, None, [r for r in whole if r["code_id"] is not None], info)]
            selections += [(a, b, group, {"segment_id": _plain(segment), "span": [a, b]})
                           for (a, b), group in sorted(spans.items())]
            for start, end, group, meta in selections:
                first, last = (0, len(text)) if start is None else (start, end)
                guid = _guid("selection", segment, start, end)
                label = segment if start is None else text[first:last][:100]
                selection_el = ET.SubElement(source_el, f"{ns}PlainTextSelection", {
                    "guid": guid, "name": _xml(label), "startPosition": str(base + first),
                    "endPosition": str(base + last)})
                described = ET.SubElement(selection_el, f"{ns}Description")
                codings_meta = {add_coding(selection_el, guid, n, row, segment):
                                _meta(row, rule_columns) for n, row in enumerate(group)}
                if codings_meta:
                    meta = {**meta, "codings": codings_meta}
                described.text = _block(f"Segment {segment}" if start is None else
                                        f"Part of segment {segment}", meta)
                if start is None:
                    for note_guid in refs.get(("segment", str(segment)), ()):
                        ET.SubElement(selection_el, f"{ns}NoteRef", {"targetGUID": note_guid})
            base += len(text) + len(_SEPARATOR)
        for note_guid in refs.get(("document", str(document)), ()):
            ET.SubElement(source_el, f"{ns}NoteRef", {"targetGUID": note_guid})
    if notes:
        notes_el = ET.SubElement(root, f"{ns}Notes")
        notes_el.extend(notes)
    add_codebook_sets(ET.SubElement(root, f"{ns}Sets"), codebook, ns, member="targetGUID")
    ET.SubElement(root, f"{ns}Description").text = _block(
        f"Exported by {origin}: {len(segments)} segments in {len(files)} document(s), "
        f"{int(codings['code_id'].notna().sum())} codings by {len(people)} coder(s).",
        {"format": QDPX_FORMAT, "segment_columns": _column_kinds(segments, extra),
         "coding_columns": rule_columns})
    for (kind, _), guids in sorted(refs.items()):
        if kind == "review":
            for note_guid in guids:
                ET.SubElement(root, f"{ns}NoteRef", {"targetGUID": note_guid})
    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n", files


def _meta(row: dict[str, Any], rule_columns: list[str]) -> dict[str, Any]:
    keys = ("coder", "round", "method", "created_at", "memo", *rule_columns)
    return {k: row[k] for k in keys}


def format_qdpx(codebook: Codebook, segments: pd.DataFrame, codings: pd.DataFrame, *,
                memos: pd.DataFrame | None = None, name: str | None = None,
                origin: str | None = None) -> bytes:
    """Return a REFI-QDA project archive as bytes (a zip; the same bytes on every run).

    See :func:`export_qdpx` for the parameters.
    """
    from toolkit import __version__

    _check_xml_text(codebook)
    codings = make_codings(codings)
    _check_inputs(codebook, segments, codings)
    memos = pd.DataFrame(columns=list(_MEMO_COLUMNS)) if memos is None else memos
    xml, files = _project_xml(codebook, segments, codings, memos, name or codebook.name,
                              origin or f"slr-toolkit {__version__}")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in [("project.qde", xml),
                             *sorted((k, v.encode("utf-8")) for k, v in files.items())]:
            info = zipfile.ZipInfo(member, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


def export_qdpx(path: str | Path, codebook: Codebook, segments: pd.DataFrame,
                codings: pd.DataFrame, *, memos: pd.DataFrame | None = None,
                name: str | None = None, overwrite: bool = False) -> Path:
    """Write the coded review as a REFI-QDA project (``.qdpx``), atomically.

    The project is checked with :func:`check_qdpx_structure` before it is written.

    Parameters
    ----------
    path : str or Path
    codebook : Codebook
        The codebook the codings use (one round).
    segments : DataFrame
        ``segment_id``, ``text``; ``document_id`` groups segments into sources (default:
        one source per segment); other columns travel in the toolkit's block.
    codings : DataFrame
        Codings of any coders and methods (each coder becomes a user).
    memos : DataFrame, optional
        From :func:`toolkit.memos.load_memos`; become notes next to what they annotate.
    name : str, optional
        Project name; default the codebook's name.
    overwrite : bool, default False

    Returns
    -------
    Path

    Raises
    ------
    CodingError
        For codes not in the codebook, codings of unknown segments, spans outside their
        segment, or segments without text.
    toolkit.errors.CodebookError
        For codebook text XML cannot carry.
    toolkit._io.OutputExistsError
        When the file exists and ``overwrite`` is False.
    """
    data = format_qdpx(codebook, segments, codings, memos=memos, name=name)
    problems = check_qdpx_structure(data)
    if problems:  # pragma: no cover - guards against regressions in format_qdpx
        raise CodingError(f"{path}: the project would break the schema: {problems[:5]}")
    return atomic_write_bytes(path, data, overwrite=overwrite)

