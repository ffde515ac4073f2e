"""Split BibTeX text into bibtexparser blocks, fast for well-formed entries.

bibtexparser's splitter walks the text mark by mark in Python; on real files it is most of
the time a load takes. This module gives the same blocks (same types, keys, fields, raw
text, line numbers, failures) faster: the text is cut at lines that start a block (where
bibtexparser always starts one), each piece that is a plain well-formed ``@type{key, ...}``
entry is read with regular expressions that follow bibtexparser's rules (a character after
a backslash is never a delimiter; braces do not count inside quotes), and every other piece
(``@string``, ``@comment``, ``@preamble``, parenthesised entries, anything irregular) is
handed to bibtexparser itself. ``tests/corpus/test_fastsplit.py`` checks the result equals
bibtexparser's on every real file and on generated text.
"""

from __future__ import annotations

import logging
import re

from bibtexparser import model
from bibtexparser.splitter import Splitter

from toolkit._log import quiet_logger

__all__ = ["split_blocks"]

_BLOCK_START = re.compile(r"^[ \t]*@\w*[ \t]*(?=[{(])", re.M)
_ATOM = r"[^{}\\]++|\\+(?s:.)"


def _braced(depth: int) -> str:
    inner = _ATOM if depth == 0 else f"{_ATOM}|{_braced(depth - 1)}"
    return r"\{(?:" + inner + r")*+\}"


_BRACED = _braced(6)
_ONE_BRACED = re.compile(_BRACED)
_QUOTED = r'"(?:[^"\\]++|\\+(?s:.))*+"'
_BARE = r'[^\s,{}"#=@\\]++'
_PART = f"(?:{_BRACED}|{_QUOTED}|{_BARE})"
_FIELD = re.compile(
    rf'\s*(?:(\}})|([^{{}}",=@\\]*?)\s*=(\s*{_PART}(?:\s*#\s*{_PART})*+)\s*([,}}]))')
_HEAD = re.compile(r'[ \t]*@(\w*)[ \t]*\{([^{}",=@\\]*),')
_RESERVED = {"string", "comment", "preamble"}
_LINE_START_AT = re.compile(r"\n\s*@")
ESCAPED_NEWLINE = "\\\n"  # a backslash before a newline: see split_blocks


def _fallback(text: str, lookahead: str, line: int) -> list[model.Block]:
    """Bibtexparser's blocks for ``text`` (starting on 0-based ``line``).

    ``lookahead`` (the next piece's first line) makes an entry left open at the end of
    ``text`` end as it would in one pass; blocks starting in it are dropped.
    """
    with quiet_logger("bibtexparser", logging.CRITICAL):
        blocks = list(Splitter(text + lookahead).split().blocks)
    lines = text.count("\n")
    out = []
    for block in blocks:
        start = block.start_line or 0
        if lookahead and start >= lines:
            continue
        _shift(block, line)
        out.append(block)
    return out


def _shift(block: model.Block, lines: int) -> None:
    """Move a block (and what it wraps, and its fields) down by ``lines`` lines."""
    if not lines:
        return
    block._start_line_in_file = (block.start_line or 0) + lines  # noqa: SLF001 - no setter
    inner = getattr(block, "ignore_error_block", None)
    if inner is not None and inner is not block:
        _shift(inner, lines)
    for fld in getattr(block, "fields", None) or ():
        fld._start_line = (fld.start_line or 0) + lines  # noqa: SLF001


def _entry(piece: str, line: int) -> list[model.Block] | None:
    """Blocks of one piece holding a plain entry, or ``None`` when it is not one."""
    head = _HEAD.match(piece)
    if head is None or head.group(1).lower() in _RESERVED:
        return None
    fields: list[model.Field] = []
    keys: set[str] = set()
    duplicates: set[str] = set()
    pos = head.end()
    counted, lines = 0, line
    while True:
        field = _FIELD.match(piece, pos)
        if field is None:
            return None
        if field.group(1):  # the closing brace after a trailing comma
            end = field.end()
            break
        name = field.group(2).strip()
        if not name:
            return None
        if name in keys:
            duplicates.add(name)
        keys.add(name)
        lines += piece.count("\n", counted, field.start(3))
        counted = field.start(3)
        value = field.group(3).strip()
        fld = model.Field(start_line=lines, key=name, value=value)
        if value[0] == "{" and "#" not in value and _ONE_BRACED.fullmatch(value):
            fld.slr_text = value[1:-1]  # one braced part: the reader needs no second look
        fields.append(fld)
        if field.group(4) == "}":
            end = field.end()
            break
        pos = field.end()
    trailing = piece[end:]
    if "@" in trailing:  # a block starting mid-line: bibtexparser's business
        return None
    start = piece.index("@")
    entry = model.Entry(start_line=line, entry_type=head.group(1).lower(),
                        key=head.group(2).strip(), fields=fields, raw=piece[start:end])
    blocks: list[model.Block] = [
        model.DuplicateFieldKeyBlock(duplicate_keys=duplicates, entry=entry)
        if duplicates else entry]
    comment = trailing.strip()
    if comment:
        leading = trailing[:len(trailing) - len(trailing.lstrip())].count("\n")
        closing_line = line + piece.count("\n", 0, end)
        text = trailing.lstrip().rstrip()
        blocks.append(model.ImplicitComment(start_line=closing_line + leading, raw=text,
                                            comment=text))
    return blocks


def split_blocks(text: str) -> list[model.Block]:
    """Return the blocks bibtexparser's splitter would return for ``text``.

    Examples
    --------
    >>> [type(b).__name__ for b in split_blocks("@article{a, title={T}}\\n% note\\n")]
    ['Entry', 'ImplicitComment']
    """
    starts = [m.start() for m in _BLOCK_START.finditer(text)]
    if not starts or ESCAPED_NEWLINE in text:
        # bibtexparser does not count a newline after a backslash as a line, so its line
        # numbers (and where a lookahead line begins) cannot be rebuilt piece by piece:
        # such texts (none of 107 real files has one) are split in one pass.
        return _fallback(text, "", 0)
    blocks: list[model.Block] = []
    if starts[0] > 0:
        blocks.extend(_fallback(text[:starts[0]], _first_line(text, starts[0]), 0))
    line = text.count("\n", 0, starts[0])
    bounds = [*starts, len(text)]
    for index, begin in enumerate(starts):
        end = bounds[index + 1]
        piece = text[begin:end]
        found = None
        if '{"}' not in piece and not _LINE_START_AT.search(piece, 1):
            found = _entry(piece, line)
        if found is None:
            found = _fallback(piece, _first_line(text, end), line)
        blocks.extend(found)
        line += piece.count("\n")
    return blocks


def _first_line(text: str, start: int) -> str:
    if start >= len(text):
        return ""
    newline = text.find("\n", start)
    return text[start:] if newline < 0 else text[start:newline + 1]
