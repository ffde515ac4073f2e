"""Coding rounds of a review folder: edit the codebook into a new round, and register it.

A codebook that people have coded with is never changed in place: the first edit after a
round's codings starts the next round (:func:`toolkit.codebook.start_round`), saved as
``codebook_round<N>.yaml`` in the review folder and listed in ``review.yaml`` under
``coding.rounds`` (and as ``coding.codebook``, the codebook the analysis uses). Further edits
before anyone codes with it change that file. ``review.yaml`` is edited line by line, so its
comments stay.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from toolkit._io import atomic_write_text
from toolkit._yaml import decode_text
from toolkit.codebook import Codebook, diff_codebooks, load_codebook, save_codebook, start_round
from toolkit.errors import ToolkitError
from toolkit.review.config import REVIEW_FILE, load_review_config
from toolkit.review.project import Review

__all__ = ["RoundEdit", "edit_review_codebook", "register_round", "round_codebooks"]


@dataclass(frozen=True)
class RoundEdit:
    """What an edit of a review's codebook did.

    Attributes
    ----------
    codebook : Codebook
        The edited codebook.
    path : Path
        Where it was saved.
    started : bool
        True when the edit began a new round (the previous one had codings).
    diff : DataFrame
        :func:`toolkit.codebook.diff_codebooks` between the previous round and this one.
    """

    codebook: Codebook
    path: Path
    started: bool
    diff: pd.DataFrame


def _coded_rounds(review: Review) -> set[int]:
    folder = review.codings_dir
    if not folder.is_dir():
        return set()
    return {int(p.name[5:]) for p in folder.glob("round*") if p.name[5:].isdigit()
            and any(f.name != "rules.csv" for f in p.glob("*.csv"))}


def round_codebooks(review: Review, rounds: Sequence[int], *, book: Codebook | None = None,
                    book_path: Path | None = None) -> dict[int, tuple[Codebook, Path]]:
    """Give each coding round its codebook.

    The analysis codebook (``coding.codebook``, or the one given) serves its own round;
    other rounds take theirs from ``coding.rounds``; a round listed nowhere takes the
    analysis codebook.

    Parameters
    ----------
    review : Review
    rounds : sequence of int
    book, book_path : optional
        The analysis codebook and its file (default: the review's ``coding.codebook``).

    Returns
    -------
    dict
        Round -> (codebook with that round number, its file).

    Raises
    ------
    ToolkitError
        For a round whose listed codebook file is missing.
    """
    book_path = book_path or review.codebook_path()
    book = book or review.codebook()
    listed = review.rounds()
    books: dict[int, tuple[Codebook, Path]] = {}
    for round_ in rounds:
        path = listed.get(round_)
        if book.round == round_ or path is None or path.resolve() == book_path.resolve():
            books[round_] = (_numbered(book, round_), book_path)
        elif not path.is_file():
            raise ToolkitError(f"{path}: no codebook here; review.yaml's coding.rounds names "
                               f"it for round {round_}")
        else:
            books[round_] = (_numbered(load_codebook(path), round_), path)
    return books


def _numbered(book: Codebook, round_: int) -> Codebook:
    from dataclasses import replace

    return book if book.round == round_ else replace(book, round=round_)


def edit_review_codebook(review: Review, change: Callable[[Codebook], Codebook]
                         ) -> RoundEdit:
    """Apply ``change`` to the review's codebook, in a new round when the current was coded.

    Parameters
    ----------
    review : Review
    change : callable
        Codebook -> Codebook, e.g. ``lambda b: add_code(b, "a.b", "B", parent="a")``.

    Returns
    -------
    RoundEdit

    Raises
    ------
    ToolkitError
        (or :class:`toolkit.errors.CodebookError`) for an edit the codebook refuses, or a
        round file that exists but is not registered (it is never overwritten).
    """
    current_path = review.codebook_path()
    current = review.codebook()
    if current.round in _coded_rounds(review):
        previous = current
        book = change(start_round(current))
        path = review.folder / f"codebook_round{book.round}.yaml"
        if path.exists():
            raise ToolkitError(f"{path}: exists but review.yaml does not name it as the "
                               f"codebook; set coding.codebook to it (or move it away) and "
                               "run again")
        save_codebook(book, path)
        register_round(review.folder, path, book.round, previous=(current.round,
                                                                  current_path))
        return RoundEdit(book, path, True, diff_codebooks(previous, book))
    rounds = review.rounds()
    earlier = [r for r in rounds if 0 < r < current.round]
    previous = (load_codebook(rounds[max(earlier)]) if earlier else current)
    book = change(current)
    save_codebook(book, current_path, overwrite=True)
    return RoundEdit(book, current_path, False, diff_codebooks(previous, book))


def _relative(folder: Path, path: Path) -> str:
    import os

    return Path(os.path.relpath(path.resolve(), folder.resolve())).as_posix()


_KEY = re.compile(r"^(?P<indent>[ \t]+)(?P<key>[A-Za-z_][A-Za-z0-9_]*)[ \t]*:(?P<rest>.*)$")


def register_round(folder: str | Path, codebook_path: Path, round_: int, *,
                   previous: tuple[int, Path] | None = None) -> Path:
    """List a round's codebook in ``review.yaml`` and make it the analysis codebook.

    Sets ``coding.codebook`` and adds ``coding.rounds: {round_: file}`` (and the previous
    round's file when the review listed no rounds yet). Only those lines change; comments
    and the other keys stay as written.

    Raises
    ------
    ToolkitError
        When the edited file would not read back with those values (then nothing is
        written, and the message says what to add by hand).
    """
    folder = Path(folder)
    path = folder / REVIEW_FILE
    data = load_review_config(folder)
    coding = dict(data.get("coding") or {})
    rounds = {int(k): str(v) for k, v in (coding.get("rounds") or {}).items()}
    if previous is not None and previous[0] not in rounds:
        rounds[previous[0]] = _relative(folder, previous[1])
    relative = _relative(folder, codebook_path)
    rounds[round_] = relative
    lines = decode_text(path.read_bytes()).splitlines()
    start = next((i for i, line in enumerate(lines) if re.match(r"^coding[ \t]*:", line)), None)
    if start is None:
        lines += ["", "coding:"]
        start = len(lines) - 1
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or lines[end][0] in " \t#"):
        end += 1
    block = lines[start + 1:end]
    indent = next((m["indent"] for m in map(_KEY.match, block) if m), "  ")
    kept: list[str] = []
    skipping = False
    for line in block:
        match = _KEY.match(line)
        if match and match["indent"] == indent:
            skipping = match["key"] in ("codebook", "rounds")
            if skipping:
                continue
        elif skipping and (not line.strip() or len(line) - len(line.lstrip()) > len(indent)):
            continue
        else:
            skipping = False
        kept.append(line)
    new = [f"{indent}codebook: {relative}", f"{indent}rounds:"]
    new += [f"{indent}  {k}: {v}" for k, v in sorted(rounds.items())]
    text = "\n".join([*lines[:start + 1], *new, *kept, *lines[end:]]) + "\n"
    from toolkit._yaml import load_yaml

    check = (load_yaml(text) or {}).get("coding") or {}
    if check.get("codebook") != relative or {int(k): str(v) for k, v in
                                             (check.get("rounds") or {}).items()} != rounds:
        raise ToolkitError(f"{path}: could not add round {round_} by editing the file; add "
                           f"by hand under coding: codebook: {relative} and rounds: {rounds}")
    return atomic_write_text(path, text)
