"""``load_corpus``: one entry point over every reader, with format detection by content.

A file's kind is decided by what it holds, not only by its suffix: a RIS export saved as
``.txt`` with a header line before the first ``TY`` is RIS, a Web of Science export saved as
``.ris`` is Web of Science, a PubMed ``.nbib`` is MEDLINE. In a folder, every file that is
not read (not a reference export, empty, unreadable, hidden) is listed in
:attr:`LoadResult.skipped` with the reason; a file named explicitly that cannot be read
raises :class:`~toolkit.errors.CorpusInputError` instead.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

import pandas as pd

from toolkit.corpus._schema import LoadResult, LoadWarning, SkippedFile
from toolkit.corpus._text import binary_kind, not_text, read_bytes
from toolkit.corpus.bibtex import read_bibtex, read_bibtex_files
from toolkit.corpus.delimited import read_csv
from toolkit.corpus.endnote import read_endnote_xml
from toolkit.corpus.medline import read_medline
from toolkit.corpus.ris import read_ris
from toolkit.corpus.wos import read_wos
from toolkit.errors import CorpusFormatError, CorpusInputError

__all__ = ["load_corpus", "READERS", "reader_for", "detect_format", "FORMATS"]

Reader = Callable[..., LoadResult]

#: Format name -> reader.
FORMATS: dict[str, Reader] = {
    "bibtex": read_bibtex,
    "ris": read_ris,
    "wos": read_wos,
    "medline": read_medline,
    "endnote-xml": read_endnote_xml,
    "csv": read_csv,
}
#: File suffix -> the format a file with that suffix usually holds (content can overrule).
SUFFIXES: dict[str, str] = {
    ".bib": "bibtex", ".bibtex": "bibtex", ".ris": "ris", ".nbib": "medline",
    ".medline": "medline", ".ciw": "wos", ".xml": "endnote-xml", ".csv": "csv",
    ".tsv": "csv", ".tab": "csv",
}
#: Kept for callers that map suffixes to readers.
READERS: dict[str, Reader] = {suffix: FORMATS[kind] for suffix, kind in SUFFIXES.items()}

_HEAD = 65536
_RIS_LINE = re.compile(r"^(?:TY  - |ER  -)", re.M)
_MEDLINE_LINE = re.compile(r"^PMID- ?\d", re.M)
_WOS_FIRST = re.compile(r"^(?:FN |VR |PT [A-Z]\b)")
_WOS_PT = re.compile(r"^PT [A-Z]$", re.M)
_BIB_ENTRY = re.compile(r"^[ \t]*@[ \t]*\w+[ \t]*[{(]", re.M)
_XML = re.compile(r"^\s*<(?:\?xml|xml\b|records\b)", re.I)
_HEADER_WORDS = re.compile(r"\b(?:title|doi|author|authors|ti|au|abstract|year)\b", re.I)


def _head_text(data: bytes) -> str:
    """Decode the first bytes of a file for sniffing (never raises)."""
    head = data[:_HEAD]
    for bom, codec in ((b"\xff\xfe\x00\x00", "utf-32-le"), (b"\x00\x00\xfe\xff", "utf-32-be"),
                       (b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"),
                       (b"\xfe\xff", "utf-16-be")):
        if head.startswith(bom):
            return head[len(bom):].decode(codec, errors="ignore")
    sample = head[:4096]
    if sample.count(0) > len(sample) // 4:
        lanes = [sample[i::4].count(0) for i in range(4)]
        if min(lanes[1:]) > 0.9 * len(sample[1::4]) and lanes[0] < 0.2 * len(sample[0::4]):
            return head.decode("utf-32-le", errors="ignore")
        if min(lanes[:3]) > 0.9 * len(sample[0::4]) and lanes[3] < 0.2 * len(sample[3::4]):
            return head.decode("utf-32-be", errors="ignore")
        if sample[1::2].count(0) > sample[0::2].count(0):
            return head.decode("utf-16-le", errors="ignore")
        return head.decode("utf-16-be", errors="ignore")
    return head.decode("utf-8", errors="ignore")


def detect_format(path: str | Path, data: bytes | None = None) -> tuple[str | None, str]:
    """Tell which export ``path`` holds, from its content and suffix.

    Returns
    -------
    kind : str or None
        A key of :data:`FORMATS`, or ``None`` when the file is not a reference export.
    reason : str
        Why (for a skipped file, what to do).

    Raises
    ------
    CorpusInputError
        When the file cannot be read.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "export.txt"
    >>> _ = path.write_text("Exported from a database\\n\\nTY  - JOUR\\nTI  - T\\nER  - \\n")
    >>> detect_format(path)[0]
    'ris'
    """
    path = Path(path)
    data = read_bytes(path) if data is None else data
    suffix = path.suffix.lower()
    if not data.strip(b"\xef\xbb\xbf\xff\xfe\x00 \n\r\t"):
        return None, "file is empty; re-export the references from your reference manager " \
                     "or database"
    binary = binary_kind(data)
    if binary is not None:
        return None, (f"is {binary}, not a text export; save it as CSV (or export the "
                      "references as RIS/BibTeX) and load that file")
    head = _head_text(data)
    problem = not_text(head)
    if problem:
        return None, problem
    first = next((line for line in head.split("\n") if line.strip()), "").lstrip("\ufeff")
    by_suffix = SUFFIXES.get(suffix)
    if _XML.match(head):
        if "<record" in head:
            return "endnote-xml", "EndNote XML"
        return None, "XML, but not EndNote XML (no <record> elements); export as RIS or " \
                     "EndNote XML"
    if _WOS_FIRST.match(first) or (by_suffix in (None, "ris") and _WOS_PT.search(head)
                                   and not _RIS_LINE.search(head)):
        return "wos", "Web of Science plain text"
    if _MEDLINE_LINE.search(head) and not _RIS_LINE.search(head):
        return "medline", "PubMed/MEDLINE"
    if _RIS_LINE.search(head) and (by_suffix != "bibtex" or not _BIB_ENTRY.search(head)):
        if by_suffix != "csv" or _RIS_LINE.match(first):
            return "ris", "RIS tags"
    if by_suffix == "bibtex" or _BIB_ENTRY.search(head):
        return "bibtex", "BibTeX entries"
    if by_suffix in ("csv", "ris", "medline", "wos", "endnote-xml"):
        return by_suffix, f"{suffix} file"
    if ("\t" in first or "," in first or ";" in first) and _HEADER_WORDS.search(first):
        return "csv", "a table with a header row"
    return None, (f"not a reference export this loader knows (no BibTeX entries, RIS/Web of "
                  f"Science/MEDLINE tags, EndNote XML or table header); suffix "
                  f"{suffix or '(none)'!r}. Export as .bib, .ris, .nbib, .ciw, .xml, .csv or "
                  ".tsv")


def reader_for(path: Path) -> Reader:
    """Return the reader for ``path``, by content and suffix.

    Raises
    ------
    CorpusInputError
        When the file is not a reference export this loader knows, or cannot be read.
    """
    kind, reason = detect_format(path)
    if kind is None:
        raise CorpusInputError(path, reason)
    return FORMATS[kind]


def _walk(folder: Path, skipped: list[SkippedFile]) -> list[Path]:
    found: list[Path] = []
    for root, dirs, files in os.walk(folder, onerror=lambda err: skipped.append(
            SkippedFile(str(err.filename), f"folder cannot be read ({err.strerror})"))):
        base = Path(root)
        for name in sorted(d for d in dirs if d.startswith(".")):
            skipped.append(SkippedFile(str(base / name), "hidden folder, not searched"))
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = base / name
            if name.startswith("."):
                skipped.append(SkippedFile(str(path), "hidden file"))
            else:
                found.append(path)
    return sorted(found)


def _plan(paths: Iterable[str | Path]) -> tuple[list[tuple[Path, str]], list[SkippedFile]]:
    """Each readable file with its format, and the files skipped in folders (with why)."""
    plan: list[tuple[Path, str]] = []
    skipped: list[SkippedFile] = []
    for given in paths:
        path = Path(given)
        if not path.exists():
            raise CorpusInputError(path, "no such file or directory; check the path "
                                   f"(relative paths start at {Path.cwd()})")
        if path.is_dir():
            before = len(plan)
            local: list[SkippedFile] = []
            for file in _walk(path, local):
                try:
                    kind, reason = detect_format(file)
                except CorpusInputError as err:
                    local.append(SkippedFile(str(file), err.problem))
                    continue
                if kind is None:
                    local.append(SkippedFile(str(file), reason))
                else:
                    plan.append((file, kind))
            skipped.extend(local)
            if len(plan) == before:
                listed = "; ".join(str(s) for s in local[:5])
                raise CorpusInputError(
                    path, "directory holds no readable reference files; put .bib, .ris, "
                    ".nbib, .ciw, .xml, .csv or .tsv exports in it"
                    + (f" (skipped: {listed})" if listed else ""))
        else:
            kind, reason = detect_format(path)
            if kind is None:
                raise CorpusInputError(path, reason if "empty" in reason or "is a" in reason
                                       else f"unknown file kind "
                                       f"{path.suffix.lower() or '(no suffix)'!r}: {reason}")
            plan.append((path, kind))
    return plan, skipped


def load_corpus(
    path_or_paths: str | Path | Iterable[str | Path],
    *,
    strict: bool = False,
    encoding: str | None = None,
    bibtex_together: bool = True,
    workers: int | None = None,
) -> LoadResult:
    """Load one or more reference exports into a single records table.

    Parameters
    ----------
    path_or_paths : str, Path or iterable of them
        Files or directories (searched recursively; hidden ones skipped). Readable kinds,
        recognised by content as well as suffix: BibTeX, RIS, Web of Science plain text
        (``.txt``/``.ciw``), PubMed/MEDLINE (``.nbib``/``.txt``), EndNote XML (``.xml``,
        written by EndNote, Zotero, Mendeley) and CSV/TSV exports.
    strict : bool, default False
        Raise :class:`~toolkit.errors.CorpusFormatError` listing every failure instead of
        returning them as data.
    encoding : str, optional
        Force a codec for every file.
    bibtex_together : bool, default True
        Read all BibTeX files as one database, in the order given (sorted within a
        directory), so ``@string`` macros and ``crossref`` targets defined in one file serve
        the others, as BibTeX does with ``\\bibliography{a,b}``. Each file is still split on
        its own, so a broken entry at the end of one file never swallows the next file.
    workers : int, optional
        Processes to read with. By default BibTeX over 4 MB is read by up to four (the
        machine's cores) and everything else by one; the result is the same either way.

    Returns
    -------
    LoadResult
        ``records`` with :data:`toolkit.types.RECORD_COLUMNS`, ``failures``, ``warnings``,
        ``blocks`` (per-file accounting) and ``skipped`` (files in folders not read, and
        why).

    Raises
    ------
    CorpusInputError
        For a missing path, an empty, unreadable or unknown file named explicitly, a
        directory without readable files, or an unknown encoding: one message each, saying
        what to do.
    CorpusFormatError
        With ``strict=True``, when any block could not be read.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.bib").write_text("@book{k1, title={One}, year=2001}\\n")
    >>> _ = (folder / "b.ris").write_text("TY  - JOUR\\nID  - k2\\nTI  - Two\\nER  - \\n")
    >>> _ = (folder / "notes.md").write_text("search strings")
    >>> result = load_corpus(folder)
    >>> result.records[["record_id", "title", "database"]].values.tolist()
    [['k1', 'One', 'bibtex'], ['k2', 'Two', 'ris']]
    >>> [pathlib.Path(s.path).name for s in result.skipped]
    ['notes.md']
    """
    if isinstance(path_or_paths, (str, Path)):
        path_or_paths = [path_or_paths]
    plan, skipped = _plan(list(path_or_paths))
    if not plan:
        raise CorpusInputError("(no paths)", "no files given; pass a file or a directory")
    results: list[LoadResult] = []
    bib_files = [path for path, kind in plan if kind == "bibtex"]
    together = bibtex_together and len(bib_files) > 1
    if together:
        results.append(read_bibtex_files(bib_files, encoding=encoding, workers=workers))
    for path, kind in plan:
        if kind == "bibtex":
            if not together:
                results.append(read_bibtex(path, encoding=encoding, workers=workers))
            continue
        options = {"workers": workers} if kind in ("ris", "wos", "medline") else {}
        results.append(FORMATS[kind](path, encoding=encoding, **options))
    result = _concat(results, [str(path) for path, _ in plan])
    result = replace(result, skipped=tuple(skipped))
    if strict and result.failures:
        raise CorpusFormatError(result.failures)
    return result


def _concat(results: list[LoadResult], order: list[str]) -> LoadResult:
    records = pd.concat([r.records for r in results], ignore_index=True)
    position = {name: i for i, name in enumerate(order)}
    warns = [w for r in results for w in r.warnings]
    flags = pd.Series([record_id in r.generated_ids for r in results
                       for record_id in r.records["record_id"]], dtype=bool)
    records["_generated"] = flags.to_numpy()
    records["_order"] = records["source_file"].map(position)
    records = records.sort_values(["_order"], kind="stable").drop(columns="_order")
    records = records.reset_index(drop=True)
    is_generated = records.pop("_generated").tolist()
    ids, renamed = unique_record_ids(records["record_id"].tolist(), is_generated,
                                     records["source_file"].tolist(),
                                     records["source_line"].tolist())
    warns.extend(renamed)
    records["record_id"] = pd.array(ids, dtype="string")
    failures = sorted((f for r in results for f in r.failures),
                      key=lambda f: (position.get(f.source_file, 0), f.line or 0))
    blocks = pd.concat([r.blocks for r in results], ignore_index=True)
    blocks["_order"] = blocks["source_file"].map(position)
    blocks = blocks.sort_values("_order", kind="stable").drop(columns="_order")
    return LoadResult(
        records,
        tuple(failures),
        tuple(warns),
        blocks.reset_index(drop=True),
        frozenset(i for i, g in zip(ids, is_generated, strict=True) if g),
    )


def unique_record_ids(ids: list[str], is_generated: list[bool], files: list[object],
                      lines: list[object]) -> tuple[list[str], list[LoadWarning]]:
    """Rename repeated record ids across files: ``key-2``, ``key-3``, ... with a warning.

    Ids written in the files claim their names first; derived ids give way. The lists are
    in the final record order (files in the order given, records in file order); the
    distributed loader (:mod:`toolkit.scale.load`) calls this on the same lists.
    """
    ids = list(ids)
    warns: list[LoadWarning] = []
    seen: dict[str, int] = {}
    counters: dict[str, int] = {}
    for i in sorted(range(len(ids)), key=lambda i: (is_generated[i], i)):
        record_id = ids[i]
        if record_id not in seen:
            seen[record_id] = i
            continue
        count = counters.get(record_id, 2)
        while f"{record_id}-{count}" in seen:
            count += 1
        counters[record_id] = count + 1
        new_id = f"{record_id}-{count}"
        first = seen[record_id]
        warns.append(LoadWarning(
            str(files[i]), _int(lines[i]), "duplicate_key",
            f"record id {record_id!r} already used at {files[first]}:"
            f"{lines[first]}; this record kept as {new_id!r}", new_id))
        ids[i] = new_id
        seen[new_id] = i
    return ids, warns


def _int(value: object) -> int | None:
    return None if value is None or value is pd.NA else int(value)  # type: ignore[call-overload]
