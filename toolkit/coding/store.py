"""Codings: the long table of who applied which code to which segment, saved per coder."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from toolkit._io import atomic_write_text
from toolkit._spreadsheet import frame_to_csv, read_table
from toolkit.codebook.model import Codebook
from toolkit.errors import CodingError

__all__ = ["CODING_COLUMNS", "RULE_COLUMNS", "METHODS", "PEOPLE", "make_codings",
           "save_codings", "load_codings", "codings_path", "validate_codings"]

#: Columns of every codings table, in order. ``code_id`` empty means "seen, no code applies";
#: ``start``/``end`` empty mean the whole segment.
CODING_COLUMNS = ("segment_id", "code_id", "coder", "round", "method", "start", "end", "memo",
                  "created_at")
#: Extra columns of rule-based codings.
RULE_COLUMNS = ("matched_text", "pattern")
#: Values of the ``method`` column: a person's coding (``human``), a coding agreed after
#: adjudication (``consensus``, under its own coder name), the rule coder (``rules``) and a
#: topic model (``topic``). Rules and topics are methods, not coders.
METHODS = ("human", "consensus", "rules", "topic")
#: Methods whose codings people made; :func:`load_codings` returns only these by default.
PEOPLE = ("human", "consensus")
_DTYPES = {"segment_id": "string", "code_id": "string", "coder": "string", "round": "Int64",
           "method": "string", "start": "Int64", "end": "Int64", "memo": "string",
           "created_at": "string", "matched_text": "string", "pattern": "string"}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_ROUND_DIR = re.compile(r"^round[0-9]{1,6}$")


def make_codings(rows: list[dict[str, object]] | pd.DataFrame) -> pd.DataFrame:
    """Build a codings table with the fixed columns and dtypes (extra rule columns kept).

    Examples
    --------
    >>> make_codings([{"segment_id": "s1", "code_id": "a", "coder": "ann", "round": 1,
    ...                "method": "human"}]).columns.tolist()
    ['segment_id', 'code_id', 'coder', 'round', 'method', 'start', 'end', 'memo', 'created_at']
    """
    frame = pd.DataFrame(rows)
    for column in CODING_COLUMNS:
        if column not in frame.columns:
            frame[column] = pd.NA
    columns = list(CODING_COLUMNS) + [c for c in RULE_COLUMNS if c in frame.columns]
    frame = frame[columns]
    return frame.astype({c: _DTYPES[c] for c in columns}).reset_index(drop=True)


def validate_codings(codings: pd.DataFrame, *, codebook: Codebook | None = None,
                     segments: pd.DataFrame | None = None, where: str = "codings") -> None:
    """Raise :class:`CodingError` listing codes not in the codebook and unknown segments."""
    problems = []
    missing = [c for c in CODING_COLUMNS if c not in codings.columns]
    if missing:
        raise CodingError(f"{where}: missing columns {missing}; build codings with make_codings")
    if codebook is not None:
        unknown = sorted(set(codings["code_id"].dropna()) - set(codebook.ids))
        if unknown:
            problems.append(f"codes not in codebook {codebook.name!r} version "
                            f"{codebook.version}: {unknown[:20]}")
    if segments is not None:
        unknown = sorted(set(codings["segment_id"]) - set(segments["segment_id"]))
        if unknown:
            problems.append(f"segments not in the segments table: {unknown[:20]}")
    bad_method = sorted(set(codings["method"].dropna()) - set(METHODS))
    if bad_method:
        problems.append(f"method must be one of {', '.join(METHODS)}; found {bad_method}")
    if problems:
        raise CodingError(f"{where}: " + "; ".join(problems))


def codings_path(folder: str | Path, *, coder: str, round: int) -> Path:  # noqa: A002
    """Where the codings of one coder in one round live: ``<folder>/round<N>/<coder>.csv``."""
    if not _NAME.match(coder):
        raise CodingError(f"coder name {coder!r}: use letters, digits, '.', '_' or '-'")
    return Path(folder) / f"round{int(round)}" / f"{coder}.csv"


def save_codings(codings: pd.DataFrame, folder: str | Path, *, overwrite: bool = False) -> Path:
    """Save one coder's codings for one round, atomically.

    The file is ``<folder>/round<N>/<coder>.csv``. A table with several coders or rounds is
    refused (save each separately), so one coder's save can never touch another coder's
    file; an existing file of the same coder and round is replaced only with
    ``overwrite=True``.

    Raises
    ------
    CodingError
        For mixed coders or rounds, or an empty table.
    toolkit._io.OutputExistsError
        When the file exists and ``overwrite`` is False.
    """
    codings = make_codings(codings)
    coders = codings["coder"].dropna().unique().tolist()
    rounds = codings["round"].dropna().unique().tolist()
    if len(codings) == 0:
        raise CodingError("save_codings: nothing to save")
    if len(coders) != 1 or len(rounds) != 1 or codings["coder"].isna().any():
        raise CodingError(f"save_codings: the table holds coders {coders} and rounds {rounds}; "
                          "save one coder and one round at a time")
    validate_codings(codings)
    path = codings_path(folder, coder=coders[0], round=int(rounds[0]))
    text = frame_to_csv(codings.sort_values(["segment_id", "code_id", "start"], kind="stable",
                                            na_position="first"))
    return atomic_write_text(path, text, overwrite=overwrite)


def load_codings(folder: str | Path, *, coders: list[str] | None = None,
                 rounds: list[int] | None = None,
                 methods: Sequence[str] | None = PEOPLE) -> pd.DataFrame:
    """Load saved codings (all coders and rounds, or those asked for) into one table.

    Parameters
    ----------
    folder : str or Path
        Holds ``round<N>/<coder>.csv``.
    coders : list of str, optional
        Only these coders (file names); default all.
    rounds : list of int, optional
        Only these rounds; default all.
    methods : sequence of str or None, default ``("human", "consensus")``
        Only rows of these methods (:data:`METHODS`). By default people's codings: rule
        and topic codings saved in the folder are left out unless asked for (e.g.
        ``methods=["human", "rules"]``, or ``None`` for everything), so they never mix
        into the human coders.

    Raises
    ------
    CodingError
        When the folder has no codings (or none of the asked coders/rounds/methods), or a
        file's coder/round columns disagree with its name.
    """
    folder = Path(folder)
    if methods is not None:
        unknown = sorted(set(methods) - set(METHODS))
        if unknown:
            raise CodingError(f"load_codings: unknown method(s) {unknown}; choose from "
                              f"{', '.join(METHODS)}")
    if not folder.is_dir():
        raise CodingError(f"{folder}: no such folder; give the folder that holds "
                          "round<N>/<coder>.csv")
    files = sorted(folder.glob("round*/*.csv"))
    frames = []
    for path in files:
        if not _ROUND_DIR.match(path.parent.name) or not _NAME.match(path.stem):
            raise CodingError(f"{path}: not a codings file name (expected round<N>/<coder>.csv "
                              "with N a whole number); rename or move it")
        coder, round_ = path.stem, int(path.parent.name.removeprefix("round"))
        if (coders and coder not in coders) or (rounds and round_ not in rounds):
            continue
        raw = read_table(path, error=CodingError, dtype=str, keep_default_na=False,
                         na_values=[""])
        missing = [c for c in ("segment_id", "code_id", "coder", "round", "method")
                   if c not in raw.columns]
        if missing:
            raise CodingError(f"{path}: missing column(s) {missing}; a codings file has the "
                              f"columns {', '.join(CODING_COLUMNS)}")
        try:
            frame = make_codings(raw)
        except (TypeError, ValueError) as err:
            raise CodingError(f"{path}: a value does not fit its column ({str(err)[:160]}); "
                              "round, start and end hold whole numbers") from None
        if set(frame["coder"].dropna()) != {coder} or set(frame["round"].dropna()) != {round_}:
            raise CodingError(f"{path}: coder/round columns do not match the file's place "
                              f"(expected coder {coder!r}, round {round_})")
        if methods is not None:
            if frame["method"].isna().any():
                line = int(frame.index[frame["method"].isna()][0]) + 2
                raise CodingError(f"{path}: row {line} has no method; fill in one of "
                                  f"{', '.join(METHODS)}")
            frame = frame[frame["method"].isin(list(methods))]
            if frame.empty:
                continue
        frames.append(frame)
    if not frames:
        raise CodingError(f"{folder}: no codings found (looked for round<N>/<coder>.csv"
                          + (f" for coders {coders}" if coders else "")
                          + (f" in rounds {rounds}" if rounds else "")
                          + (f" with method {', '.join(methods)}; pass methods=None for "
                             "rule and topic codings too" if methods is not None else "")
                          + ")")
    return make_codings(pd.concat(frames, ignore_index=True))
