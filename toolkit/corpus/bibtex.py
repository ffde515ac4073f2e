"""Read BibTeX files: bibtexparser v2 splits, this module turns blocks into records.

bibtexparser's splitter cuts the text into blocks and keeps the ones it cannot parse (with
their line numbers); on top, this reader adds what a review corpus needs: ``@string``
macros (expanded lazily, size-capped) with ``#`` concatenation, month macros, ``crossref``
inheritance across every file read together, LaTeX to Unicode, names as
``"Family, Given"``, recovery of a field after a missing comma, and failures for text that
starts like an entry but is not one (``@article k, ...`` or ``@\\x00article{...}``).

Duplicate citation keys: **both records are kept**; the second (third, ...) is renamed
``<key>-2`` (``-3``, ...) and a :class:`~toolkit.corpus.LoadWarning` of kind
``duplicate_key`` names the original key and both lines. A repeated field keeps its first
value in the column and the others in ``extra``.

Large inputs are parsed in parallel: the text is cut at lines that start a block (where
bibtexparser itself always starts one), each piece is split and decoded in its own process,
and the pieces are joined in order, so the result is the same as one pass.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from bibtexparser import model

from toolkit.corpus._bibrecords import (
    FIELD_COLUMNS,
    VENUE_FIELDS,
    Chunk,
    build_chunk,
    combine_chunks,
    parse_chunk,
    resolve_parents,
    split_blocks,
    strings_of,
    target_fields,
)
from toolkit.corpus._database import bibtex_file_database
from toolkit.corpus._fastsplit import ESCAPED_NEWLINE
from toolkit.corpus._names import format_name
from toolkit.corpus._schema import LoadResult, LoadWarning
from toolkit.corpus._text import read_text

__all__ = ["read_bibtex", "read_bibtex_files", "parse_bibtex_string", "parse_bibtex_texts",
           "format_name", "FIELD_COLUMNS", "VENUE_FIELDS", "PARALLEL_MIN_CHARS"]

#: Texts longer than this (in characters) are parsed by several processes.
PARALLEL_MIN_CHARS = 4_000_000
#: A long text is read in pieces of about this many characters (by one or more processes).
PIECE_CHARS = 4_000_000
_BLOCK_START = re.compile(r"^[ \t]*@\w*[ \t]*(?=[{(])", re.M)
_STRING_START = re.compile(r"@[ \t]*string[ \t]*(?=[{(])", re.I)
_CROSSREF = re.compile(r"crossref\s*=\s*[{\"]?\s*([^,}\"\s]+)", re.I)
_ENTRY_KEY = re.compile(r"^[ \t]*@\w*[ \t]*[{(]([^,\n{}()]*),", re.M)

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- driver

def _pieces(text: str, parts: int) -> list[tuple[str, str, int]]:
    """Cut ``text`` into about ``parts`` pieces at lines that start a block.

    Returns ``(piece, lookahead, line_offset)``: ``lookahead`` is the first line of the next
    piece (empty for the last).
    """
    if parts <= 1 or len(text) < 2 or ESCAPED_NEWLINE in text:
        return [(text, "", 0)]  # bibtexparser's line count cannot be cut (see split_blocks)
    size = len(text) // parts
    cuts = [0]
    for target in range(size, len(text), size):
        mark = _BLOCK_START.search(text, target)
        if mark is None:
            break
        if mark.start() > cuts[-1]:
            cuts.append(mark.start())
    cuts.append(len(text))
    out, line = [], 0
    for start, end in zip(cuts, cuts[1:], strict=False):
        newline = text.find("\n", end)
        lookahead = text[end:len(text) if newline < 0 else newline + 1]
        out.append((text[start:end], lookahead, line))
        line += text.count("\n", start, end)
    return out


def _prescan_strings(texts: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """Find the ``@string`` definitions of every text without a full parse."""
    snippets = []
    for _, text in texts:
        for mark in _STRING_START.finditer(text):
            nxt = _BLOCK_START.search(text, mark.end())
            snippets.append(text[mark.start(): nxt.start() if nxt else len(text)])
    if not snippets:
        return []
    # each snippet ends where a block starts, so they can be split together
    return [(b.key, str(b.value)) for b in split_blocks("\n".join(snippets))
            if isinstance(b, model.String)]


def _workers(workers: int | None, size: int) -> int:
    if workers is not None:
        return max(1, int(workers))
    if size < PARALLEL_MIN_CHARS:
        return 1
    return max(1, min(os.cpu_count() or 1, 4))


def _run(args: tuple[Any, ...]) -> Chunk:
    return parse_chunk(*args)


def _prescan_parents(texts: Sequence[tuple[str, str]], targets: frozenset[str],
                     macro_defs: Sequence[tuple[str, str]]) -> dict[str, dict[str, str]]:
    """Find the crossref targets' own fields at the entry starts, without a full parse."""
    snippets = []
    for _, text in texts:
        for mark in _ENTRY_KEY.finditer(text):
            if mark.group(1).strip().lower() in targets:
                nxt = _BLOCK_START.search(text, mark.end())
                snippets.append(text[mark.start(): nxt.start() if nxt else len(text)])
    blocks = split_blocks("\n".join(snippets)) if snippets else []
    return target_fields(blocks, targets, macro_defs)


def parse_bibtex_texts(texts: Sequence[tuple[str, str]], *,
                       workers: int | None = None) -> LoadResult:
    """Parse several BibTeX texts as one database: macros and crossrefs serve them all.

    Parameters
    ----------
    texts : sequence of (source_file, text)
        In order; lines and per-file accounting stay per text.
    workers : int, optional
        Processes to use; by default one for texts under :data:`PARALLEL_MIN_CHARS`
        characters, else up to four (the machine's cores).

    Returns
    -------
    LoadResult
    """
    targets = frozenset(m.group(1).lower() for _, text in texts
                        for m in _CROSSREF.finditer(text))
    n_workers = _workers(workers, sum(len(t) for _, t in texts))
    databases = {src: bibtex_file_database(text) for src, text in texts}
    chunks: list[Chunk] = []
    total = sum(len(t) for _, t in texts)
    if n_workers > 1 or total > PIECE_CHARS:  # in pieces: macros and crossrefs found first
        prescan = _prescan_strings(texts)
        own = _prescan_parents(texts, targets, prescan)
        parents = resolve_parents(own)
        jobs = ((piece, lookahead, src, offset, prescan, targets, databases[src], parents)
                for src, text in texts
                for piece, lookahead, offset in _pieces(
                    text, max(2 * n_workers, -(-len(text) // PIECE_CHARS))))
        if n_workers > 1:
            with ProcessPoolExecutor(n_workers) as pool:
                chunks = list(pool.map(_run, jobs))
        else:  # one process, one piece at a time: never all blocks of a big file at once
            chunks = [_run(job) for job in jobs]
        found = [(k, v) for c in chunks for k, v, _, _ in c.strings]
        seen: dict[str, dict[str, str]] = {}
        for chunk in chunks:
            for key, fields in chunk.parents.items():
                seen.setdefault(key, fields)
        if [(k.lower(), v) for k, v in found] != [(k.lower(), v) for k, v in prescan] or \
                seen != own:
            logger.info("macros or crossref targets seen differently in pieces; parsing in "
                        "one pass")
            chunks = []
    if not chunks:  # one split per file; every macro and crossref target known first
        split = [(src, split_blocks(text)) for src, text in texts]
        macro_defs = [d for _, blocks in split for d in strings_of(blocks)]
        parents = resolve_parents(target_fields(
            (b for _, blocks in split for b in blocks), targets, macro_defs))
        chunks = [build_chunk(blocks, src, 0, macro_defs, targets, databases[src], parents)
                  for src, blocks in split]
    return combine_chunks(chunks, [src for src, _ in texts])


def parse_bibtex_string(text: str, source_file: str = "<string>", *,
                        workers: int | None = 1) -> LoadResult:
    r"""Parse BibTeX text; see :func:`read_bibtex`.

    Examples
    --------
    >>> result = parse_bibtex_string('@article{k, title={A {\\"U}ber}, year=2020}')
    >>> result.records.loc[0, ["record_id", "title"]].tolist()
    ['k', 'A Über']
    """
    return parse_bibtex_texts([(source_file, text)], workers=workers)


def read_bibtex_files(paths: Iterable[str | Path], *, encoding: str | None = None,
                      workers: int | None = None) -> LoadResult:
    """Read several BibTeX files as one database (shared macros and crossrefs).

    Parameters
    ----------
    paths : iterable of str or Path
        The files, in order (BibTeX reads ``\\bibliography{a,b}`` in order).
    encoding : str, optional
        Force a codec for every file.
    workers : int, optional
        See :func:`parse_bibtex_texts`.

    Returns
    -------
    LoadResult
        Lines, failures and accounting stay per file.

    Raises
    ------
    CorpusInputError
        When a file cannot be read or decoded.
    """
    texts: list[tuple[str, str]] = []
    warns: list[LoadWarning] = []
    for path in paths:
        decoded = read_text(path, encoding)
        texts.append((str(path), decoded.text))
        if decoded.fallback:
            warns.append(LoadWarning(str(path), None, "encoding", decoded.problem))
    result = parse_bibtex_texts(texts, workers=workers)
    return replace(result, warnings=(*warns, *result.warnings)) if warns else result


def read_bibtex(path: str | Path, *, encoding: str | None = None,
                workers: int | None = None) -> LoadResult:
    """Read one BibTeX file into records and failures.

    Parameters
    ----------
    path : str or Path
        A ``.bib`` file.
    encoding : str, optional
        Force a codec; by default BOMs, UTF-32, UTF-16 and UTF-8 are detected, and a file
        that is not valid UTF-8 is read as cp1252 with a warning naming the file.
    workers : int, optional
        Processes for a large file; see :func:`parse_bibtex_texts`.

    Returns
    -------
    LoadResult
        ``records`` with :data:`toolkit.types.RECORD_COLUMNS`; ``failures`` for blocks that
        did not parse (with line and raw text); ``warnings`` for renamed duplicate keys,
        unresolved crossrefs, undefined macros, missing commas and encoding fallbacks.

    Raises
    ------
    CorpusInputError
        When the file cannot be read or decoded.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = pathlib.Path(tempfile.mkdtemp()) / "a.bib"
    >>> _ = tmp.write_text('@string{j = "J. Tests"}\\n@article{a, journal = j, year = 2021}\\n')
    >>> read_bibtex(tmp).records.loc[0, "venue"]
    'J. Tests'
    """
    return read_bibtex_files([path], encoding=encoding, workers=workers)
