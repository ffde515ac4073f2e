"""The review sheet: uncertain duplicate pairs side by side, for a person to decide.

:func:`write_review_sheet` writes the pairs :func:`toolkit.corpus.deduplicate` was unsure
of (CSV or XLSX), one row per pair with both records' fields next to each other and an
empty ``decision`` column. A person writes ``merge`` or ``keep apart`` (or leaves it
blank); :func:`read_review_sheet` reads the decisions back, and
``deduplicate(records, decisions=...)`` applies them before its own rules, so the same
records and the same sheet always give the same result.

Text from reference exports is untrusted: cells that a spreadsheet would run as a formula
(starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return) are written with a
leading apostrophe, which :func:`read_review_sheet` removes again.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit._io import atomic_write_bytes, atomic_write_text
from toolkit._spreadsheet import protect_cell, unprotect_cell
from toolkit.errors import DedupReviewError

__all__ = ["write_review_sheet", "read_review_sheet", "REVIEW_SHEET_COLUMNS", "DECISIONS"]

#: The first columns of a review sheet; the side-by-side fields follow.
REVIEW_SHEET_COLUMNS = ("pair", "decision", "note", "record_id_1", "record_id_2", "reason",
                        "score", "evidence")

#: Words accepted in the ``decision`` column (case and spaces ignored) and what they mean.
DECISIONS = {
    "merge": "merge", "m": "merge", "same": "merge", "duplicate": "merge", "yes": "merge",
    "y": "merge",
    "keep apart": "keep apart", "keep": "keep apart", "k": "keep apart", "apart": "keep apart",
    "different": "keep apart", "distinct": "keep apart", "not duplicate": "keep apart",
    "no": "keep apart", "n": "keep apart", "keep separate": "keep apart",
}

_INSTRUCTIONS = [
    ("What this is", "Pairs of records that de-duplication could not decide on its own. "
                     "Each row shows both records side by side (_1 and _2)."),
    ("What to do", "Write merge (one work) or keep apart (two works) in the decision "
                   "column. Leave it blank to decide later; blank pairs stay apart and come "
                   "back on the next sheet."),
    ("Why unsure", "The reason column says why the rules stopped; evidence lists what "
                   "agreed (title similarity 0-100, DOI, first author, year, journal, "
                   "volume, issue, pages, abstract)."),
    ("Then", "Save the sheet and apply it: deduplicate(records, decisions=read_review_sheet"
             "(path)), or slr load ... --dedupe --decisions path."),
    ("Do not", "Change the record_id columns, or the header row."),
]


def _sheet_frame(uncertain: pd.DataFrame) -> pd.DataFrame:
    sheet = uncertain.copy()
    sheet.insert(0, "pair", range(1, len(sheet) + 1))
    sheet.insert(1, "decision", "")
    sheet.insert(2, "note", "")
    front = [c for c in REVIEW_SHEET_COLUMNS if c in sheet.columns]
    rest = [c for c in sheet.columns if c not in front and c != "rule"]
    sheet = sheet[front + rest]
    for name in sheet.columns:
        if sheet[name].dtype == object or pd.api.types.is_string_dtype(sheet[name].dtype):
            sheet[name] = sheet[name].map(protect_cell).astype(object)
    return sheet


def write_review_sheet(result: Any, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write the uncertain pairs of a de-duplication as a sheet for a person to decide.

    Parameters
    ----------
    result : DedupResult or DataFrame
        The result of :func:`toolkit.corpus.deduplicate`, or its ``uncertain`` table.
    path : str or Path
        ``.csv`` or ``.xlsx``. An XLSX sheet gets a drop-down in the decision column and a
        second sheet, ``how to``, explaining the columns.
    overwrite : bool, default False
        Replace an existing file (a sheet may hold a person's decisions, so the default
        refuses).

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    DedupReviewError
        For a suffix other than ``.csv`` or ``.xlsx``.
    toolkit._io.OutputExistsError
        When ``path`` exists and ``overwrite`` is False.

    Examples
    --------
    >>> import tempfile
    >>> from toolkit.corpus import deduplicate, records_frame
    >>> frame = records_frame([
    ...     {"record_id": "a", "title": "Sleep and memory in older adults", "year": 2020,
    ...      "authors": ("Lee, Ann",), "doi": "10.1000/a"},
    ...     {"record_id": "b", "title": "Sleep and memory in older adults", "year": 2020,
    ...      "authors": ("Lee, Ann",), "doi": "10.1000/b"}])
    >>> result = deduplicate(frame)
    >>> result.uncertain[["record_id_1", "record_id_2", "rule"]].values.tolist()
    [['a', 'b', 'different_doi']]
    >>> path = write_review_sheet(result, Path(tempfile.mkdtemp()) / "review.csv")
    >>> read_review_sheet(path)[["record_id_1", "record_id_2", "decision"]].values.tolist()
    [['a', 'b', '']]
    """
    uncertain = getattr(result, "uncertain", result)
    if not isinstance(uncertain, pd.DataFrame) or not {"record_id_1", "record_id_2"} <= set(
            uncertain.columns):
        raise DedupReviewError(path, ["write_review_sheet needs a DedupResult or its "
                                      "uncertain table"])
    path = Path(path)
    sheet = _sheet_frame(uncertain)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return atomic_write_text(path, sheet.to_csv(index=False, lineterminator="\n"),
                                 overwrite=overwrite)
    if suffix == ".xlsx":
        return atomic_write_bytes(path, _xlsx_bytes(sheet), overwrite=overwrite)
    raise DedupReviewError(path, ["a review sheet is a .csv or .xlsx file; choose one of "
                                  "those suffixes"])


def _xlsx_bytes(sheet: pd.DataFrame) -> bytes:
    from openpyxl.styles import Alignment, Font
    from openpyxl.worksheet.datavalidation import DataValidation

    from toolkit._spreadsheet import deterministic_xlsx

    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        sheet.to_excel(writer, sheet_name="pairs", index=False)
        pd.DataFrame(_INSTRUCTIONS, columns=["topic", "text"]).to_excel(
            writer, sheet_name="how to", index=False)
        ws = writer.sheets["pairs"]
        ws.freeze_panes = "D2"
        widths = {"pair": 6, "decision": 13, "note": 20, "reason": 40, "evidence": 60}
        for cell in ws[1]:
            name = str(cell.value)
            cell.font = Font(bold=True)
            width = widths.get(name, 45 if name.startswith(("title", "abstract")) else 18)
            ws.column_dimensions[cell.column_letter].width = width
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
        if len(sheet):
            rule = DataValidation(type="list", formula1='"merge,keep apart"', allow_blank=True)
            rule.add(f"B2:B{len(sheet) + 1}")
            ws.add_data_validation(rule)
        writer.sheets["how to"].column_dimensions["B"].width = 100
    return deterministic_xlsx(buffer.getvalue())


def read_review_sheet(path: str | Path) -> pd.DataFrame:
    """Read a filled review sheet back as decisions for :func:`toolkit.corpus.deduplicate`.

    Parameters
    ----------
    path : str or Path
        A sheet written by :func:`write_review_sheet` (``.csv`` or ``.xlsx``), filled in.

    Returns
    -------
    DataFrame
        One row per sheet row: ``record_id_1, record_id_2, decision`` (``"merge"``,
        ``"keep apart"`` or ``""`` for undecided), ``note`` and ``sheet_row`` (the
        spreadsheet row, header = 1). ``attrs["source"]`` holds the path.

    Raises
    ------
    DedupReviewError
        When the file is missing or not a sheet, a column is missing, or rows hold an
        unknown decision, an empty record id, a record paired with itself, or a pair
        decided twice in different ways; every such row is listed.
    """
    path = Path(path)
    sheet = _read(path)
    missing = [c for c in ("record_id_1", "record_id_2", "decision") if c not in sheet.columns]
    if missing:
        raise DedupReviewError(path, [f"missing column(s) {missing}; keep the header row "
                                      "written by write_review_sheet"])
    notes = sheet["note"] if "note" in sheet.columns else pd.Series("", index=sheet.index)
    problems: list[str] = []
    rows: list[dict[str, Any]] = []
    seen: dict[tuple[str, str], tuple[int, str]] = {}
    for index, (one, two, raw, note) in enumerate(zip(
            sheet["record_id_1"], sheet["record_id_2"], sheet["decision"], notes, strict=True)):
        line = index + 2
        one, two = unprotect_cell(one.strip()), unprotect_cell(two.strip())
        word = " ".join(raw.replace("_", " ").replace("-", " ").split()).casefold()
        if word and word not in DECISIONS:
            problems.append(f"row {line}: decision {raw.strip()!r} is not understood; write "
                            "'merge' or 'keep apart', or leave it blank")
            continue
        if not one or not two:
            problems.append(f"row {line}: a record id is empty; copy the ids from the sheet "
                            "as written")
            continue
        if one == two:
            problems.append(f"row {line}: record {one!r} is paired with itself")
            continue
        decision = DECISIONS.get(word, "")
        key = (min(one, two), max(one, two))
        if decision and key in seen and seen[key][1] and seen[key][1] != decision:
            problems.append(f"row {line}: the pair {one!r} / {two!r} is decided "
                            f"'{decision}' here but '{seen[key][1]}' on row {seen[key][0]}")
            continue
        seen[key] = (line, decision or seen.get(key, (0, ""))[1])
        rows.append({"record_id_1": one, "record_id_2": two, "decision": decision,
                     "note": unprotect_cell(note.strip()), "sheet_row": line})
    if problems:
        raise DedupReviewError(path, problems)
    decisions = pd.DataFrame(rows, columns=["record_id_1", "record_id_2", "decision", "note",
                                            "sheet_row"])
    decisions.attrs["source"] = str(path)
    return decisions


def _read(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise DedupReviewError(path, ["no such file; give the path of the sheet written by "
                                      "write_review_sheet"])
    suffix = path.suffix.lower()
    try:
        if suffix == ".xlsx":
            return pd.read_excel(path, sheet_name="pairs", dtype=str, keep_default_na=False)
        if suffix == ".csv":
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (ValueError, KeyError, zipfile.BadZipFile, UnicodeDecodeError,
            pd.errors.ParserError, pd.errors.EmptyDataError, OSError) as error:
        detail = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise DedupReviewError(path, [f"cannot be read as a review sheet ({detail}); save it "
                                      f"again as {suffix} from the sheet written by "
                                      "write_review_sheet"]) from None
    raise DedupReviewError(path, ["a review sheet is a .csv or .xlsx file"])
