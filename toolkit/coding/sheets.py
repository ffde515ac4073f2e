"""Coding sheets: a spreadsheet a coder without Python fills in, and reading it back."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from toolkit._io import OutputExistsError, atomic_write_bytes, atomic_write_text
from toolkit._spreadsheet import frame_to_csv, frames_to_xlsx, read_table
from toolkit.codebook.model import Codebook
from toolkit.coding.store import make_codings
from toolkit.errors import CodingError

__all__ = ["write_coding_sheet", "read_coding_sheet", "SHEET_COLUMNS"]

#: Columns of a coding sheet. Coders fill ``codes`` (ids separated by ``;``) and ``memo``.
SHEET_COLUMNS = ("segment_id", "text", "codes", "memo")


def write_coding_sheet(segments: pd.DataFrame, codebook: Codebook, path: str | Path, *,
                       overwrite: bool = False) -> Path:
    """Write a sheet with one row per segment and an empty ``codes`` column.

    ``.xlsx`` files get a second sheet, ``codebook``, listing every codable code with its
    definition, inclusion and exclusion criteria; ``.csv`` files get the codebook as
    ``<name>.codebook.csv`` beside them. Segment texts come from reference exports, so
    cells a spreadsheet would run as formulas are neutralised (stored as text in XLSX,
    prefixed with ``'`` in CSV, which :func:`read_coding_sheet` removes again).

    Raises
    ------
    CodingError
        For a suffix other than ``.csv`` or ``.xlsx``.
    """
    path = Path(path)
    sheet = pd.DataFrame({"segment_id": segments["segment_id"], "text": segments["text"],
                          "codes": "", "memo": ""})
    codes = codebook.to_frame()
    codable = {c.id for c in codebook if c.codable}
    codes = codes[codes["code_id"].isin(codable)][["code_id", "label", "theme", "definition",
                                                    "include", "exclude"]]
    if path.suffix.lower() == ".csv":
        side = path.with_suffix(".codebook.csv")
        for target in (path, side):  # refuse before writing either, never half a sheet
            if not overwrite and os.path.lexists(target):
                raise OutputExistsError(target)
        atomic_write_text(side, frame_to_csv(codes), overwrite=overwrite)
        return atomic_write_text(path, frame_to_csv(sheet), overwrite=overwrite)
    if path.suffix.lower() == ".xlsx":
        data = frames_to_xlsx([("coding", sheet, False), ("codebook", codes, False)],
                              widths={"coding": {"B": 90, "C": 40}})
        return atomic_write_bytes(path, data, overwrite=overwrite)
    raise CodingError(f"{path}: a coding sheet is .csv or .xlsx")


def read_coding_sheet(path: str | Path, codebook: Codebook, segments: pd.DataFrame, *,
                      coder: str, round: int | None = None,  # noqa: A002
                      created_at: str | None = None) -> pd.DataFrame:
    """Read a filled coding sheet back as codings (``method="human"``).

    Every row of the sheet is a segment the coder has seen: a row with no codes becomes one
    coding row with an empty ``code_id`` ("seen, nothing applies"), so agreement statistics
    can tell *not coded* from *not seen*.

    Raises
    ------
    CodingError
        Listing every row (spreadsheet row number, header = 1) whose segment is unknown or
        whose codes are not codable codes of the codebook, with what is valid; also for a
        sheet that cannot be read at all (empty, not UTF-8, not really .xlsx...).
    """
    path = Path(path)
    if path.suffix.lower() not in (".csv", ".xlsx"):
        raise CodingError(f"{path}: a coding sheet is .csv or .xlsx")
    extra = {"sheet_name": "coding"} if path.suffix.lower() == ".xlsx" else {}
    sheet = read_table(path, error=CodingError, dtype=str, keep_default_na=False, **extra)
    missing = [c for c in ("segment_id", "codes") if c not in sheet.columns]
    if missing:
        raise CodingError(f"{path}: missing column(s) {missing}; keep the sheet's header row")
    codable = {c.id for c in codebook if c.codable}
    known_segments = set(segments["segment_id"])
    stamp = created_at or datetime.now(UTC).isoformat(timespec="seconds")
    round_ = round if round is not None else codebook.round
    problems, rows = [], []
    for index, row in sheet.iterrows():
        line = int(index) + 2  # header is row 1
        segment = row["segment_id"].strip()
        if segment not in known_segments:
            problems.append(f"row {line}: segment {segment!r} is not in the segments table")
            continue
        codes = [c.strip() for c in row["codes"].replace(",", ";").split(";") if c.strip()]
        bad = [c for c in codes if c not in codable]
        if bad:
            problems.append(f"row {line}: unknown or non-codable code(s) {bad}; codable codes "
                            f"are listed on the codebook sheet")
            continue
        memo = row.get("memo", "") or None
        for code in codes or [None]:
            rows.append({"segment_id": segment, "code_id": code, "coder": coder,
                         "round": round_, "method": "human", "memo": memo,
                         "created_at": stamp})
    if problems:
        raise CodingError(f"{path}: {len(problems)} problem(s):\n- " + "\n- ".join(problems))
    return make_codings(rows)
