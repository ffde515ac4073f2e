"""``load_corpus``: one entry point over every reader."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

import pandas as pd

from toolkit.corpus._schema import LoadResult, LoadWarning
from toolkit.corpus._text import read_text
from toolkit.corpus.bibtex import parse_bibtex_string, read_bibtex
from toolkit.corpus.delimited import read_csv
from toolkit.corpus.ris import read_ris
from toolkit.errors import CorpusFormatError, CorpusInputError

__all__ = ["load_corpus", "READERS", "reader_for"]

Reader = Callable[..., LoadResult]

#: File suffix -> reader. ``.txt`` is decided by content (RIS tags, Web of Science, or a table).
READERS: dict[str, Reader] = {
    ".bib": read_bibtex,
    ".bibtex": read_bibtex,
    ".ris": read_ris,
    ".nbib": read_ris,
    ".csv": read_csv,
    ".tsv": read_csv,
}


def reader_for(path: Path) -> Reader:
    """Return the reader for ``path``, by suffix (``.txt`` by content).

    Raises
    ------
    CorpusInputError
        For a suffix no reader knows.
    """
    suffix = path.suffix.lower()
    if suffix in READERS:
        return READERS[suffix]
    if suffix == ".txt":
        head = path.read_bytes()[:2048].decode("utf-8", errors="ignore").lstrip("\ufeff")
        return read_ris if head.lstrip().startswith("TY  -") else read_csv
    known = ", ".join(sorted([*READERS, ".txt"]))
    raise CorpusInputError(
        path, f"unknown file kind {suffix or '(no suffix)'!r}; export the references as one of "
        f"{known}"
    )


def _expand(paths: Iterable[str | Path]) -> list[Path]:
    files: list[Path] = []
    for given in paths:
        path = Path(given)
        if not path.exists():
            raise CorpusInputError(path, "no such file or directory; check the path (relative "
                                   f"paths start at {Path.cwd()})")
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*")
                if p.is_file() and (p.suffix.lower() in READERS or p.suffix.lower() == ".txt")
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not found:
                raise CorpusInputError(
                    path, "directory holds no readable reference files; put .bib, .ris, .csv, "
                    ".tsv or .txt exports in it"
                )
            files.extend(found)
        else:
            files.append(path)
    return files


def load_corpus(
    path_or_paths: str | Path | Iterable[str | Path],
    *,
    strict: bool = False,
    encoding: str | None = None,
    bibtex_together: bool = True,
) -> LoadResult:
    """Load one or more reference exports into a single records table.

    Parameters
    ----------
    path_or_paths : str, Path or iterable of them
        Files (``.bib``, ``.ris``, ``.csv``, ``.tsv``, ``.txt``) or directories, searched
        recursively for such files (hidden ones skipped).
    strict : bool, default False
        Raise :class:`~toolkit.errors.CorpusFormatError` listing every failure instead of
        returning them as data.
    encoding : str, optional
        Force a codec for every file.
    bibtex_together : bool, default True
        Parse all BibTeX files as one text, in the order given (sorted within a directory),
        so ``@string`` macros and ``crossref`` targets defined in one file serve the others,
        as BibTeX does with ``\\bibliography{a,b}``. Lines and files stay per file.

    Returns
    -------
    LoadResult
        ``records`` with :data:`toolkit.types.RECORD_COLUMNS`, ``failures``, ``warnings``
        and ``blocks`` (per-file accounting).

    Raises
    ------
    CorpusInputError
        For a missing path, an empty file, a directory without readable files, or an unknown
        file kind: one message each, saying what to do.
    CorpusFormatError
        With ``strict=True``, when any block could not be read.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.bib").write_text("@book{k1, title={One}, year=2001}\\n")
    >>> _ = (folder / "b.ris").write_text("TY  - JOUR\\nID  - k2\\nTI  - Two\\nER  - \\n")
    >>> load_corpus(folder).records[["record_id", "title"]].values.tolist()
    [['k1', 'One'], ['k2', 'Two']]
    """
    if isinstance(path_or_paths, (str, Path)):
        path_or_paths = [path_or_paths]
    files = _expand(path_or_paths)
    for file in files:
        if file.stat().st_size == 0 or not file.read_bytes().strip(b"\xef\xbb\xbf\xff\xfe \n\r\t"):
            raise CorpusInputError(file, "file is empty; re-export the references from your "
                                   "reference manager or database")
    results: list[LoadResult] = []
    bib_files = [f for f in files if reader_for(f) is read_bibtex]
    if bibtex_together and len(bib_files) > 1:
        results.append(_read_bibtex_together(bib_files, encoding))
    else:
        bib_files = []
    for file in files:
        if file in bib_files:
            continue
        results.append(reader_for(file)(file, encoding=encoding))
    result = _concat(results)
    if strict and result.failures:
        raise CorpusFormatError(result.failures)
    return result


def _read_bibtex_together(files: list[Path], encoding: str | None) -> LoadResult:
    """Parse several BibTeX files as one text; lines and accounting stay per file."""
    texts: list[str] = []
    starts: list[tuple[int, str]] = []
    warns: list[LoadWarning] = []
    offset = 0
    for file in files:
        decoded = read_text(file, encoding)
        text = decoded.text.lstrip("\ufeff")
        text += "" if text.endswith("\n") else "\n"
        starts.append((offset, str(file)))
        offset += text.count("\n")
        texts.append(text)
        if decoded.fallback:
            warns.append(
                LoadWarning(str(file), None, "encoding", "not valid UTF-8; decoded as cp1252")
            )

    def locate(line: int) -> tuple[str, int]:
        index = bisect.bisect_left([s for s, _ in starts], line) - 1
        start, name = starts[max(index, 0)]
        return name, line - start

    result = parse_bibtex_string("".join(texts), str(files[0]), locate=locate)
    return replace(result, warnings=(*warns, *result.warnings))


def _concat(results: list[LoadResult]) -> LoadResult:
    if not results:
        raise CorpusInputError("(no paths)", "no files given; pass a file or a directory")
    records = pd.concat([r.records for r in results], ignore_index=True)
    warns = [w for r in results for w in r.warnings]
    generated = [set(r.generated_ids) for r in results]
    is_generated = [
        record_id in generated[k] for k, r in enumerate(results) for record_id in
        r.records["record_id"]
    ]
    ids = records["record_id"].tolist()
    seen: dict[str, int] = {}
    # Ids written in the files claim their names first; derived ids give way.
    order = sorted(range(len(ids)), key=lambda i: (is_generated[i], i))
    for i in order:
        record_id = ids[i]
        if record_id not in seen:
            seen[record_id] = i
            continue
        count = 2
        while f"{record_id}-{count}" in seen:
            count += 1
        new_id = f"{record_id}-{count}"
        first = seen[record_id]
        warns.append(
            LoadWarning(
                str(records.at[i, "source_file"]), _int(records.at[i, "source_line"]),
                "duplicate_key",
                f"record id {record_id!r} already used at {records.at[first, 'source_file']}:"
                f"{records.at[first, 'source_line']}; this record kept as {new_id!r}",
                new_id,
            )
        )
        ids[i] = new_id
        seen[new_id] = i
    records["record_id"] = pd.array(ids, dtype="string")
    return LoadResult(
        records,
        tuple(f for r in results for f in r.failures),
        tuple(warns),
        pd.concat([r.blocks for r in results], ignore_index=True),
        frozenset(i for i, g in zip(ids, is_generated, strict=True) if g),
    )


def _int(value: object) -> int | None:
    return None if value is None or value is pd.NA else int(value)  # type: ignore[call-overload]
