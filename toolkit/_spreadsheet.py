"""Write and read CSV and XLSX so that no cell of data becomes a live spreadsheet formula.

Text from reference exports, codebooks and coders is untrusted: a title or memo that starts
with ``=`` (``=cmd|' /C calc'!A0``), ``+``, ``-`` or ``@`` is run as a formula by Excel or
LibreOffice when the file is opened. Every CSV and XLSX the toolkit writes goes through
this module:

* **CSV**: a text cell that starts with one of :data:`FORMULA_START` (after any run of
  single quotes) gets one single quote in front, as OWASP recommends; the readers here
  remove exactly that quote again, so a round trip gives back the text as it was (a text
  that really starts with ``'=`` is written ``''=`` and read back as ``'=``).
* **XLSX**: such cells are stored as text (openpyxl ``data_type "s"``), never as formulas,
  so no quote is needed and the file reads back unchanged, except what XML cannot hold:
  other control characters become U+FFFD, and a carriage return reads back as a newline
  unless openpyxl writes through lxml.

Numbers in numeric columns stay numbers: only text is ever touched, so ``-0.5`` in a float
column is written as ``-0.5``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit.errors import ToolkitError

__all__ = ["FORMULA_START", "protect_cell", "unprotect_cell", "protect_frame",
           "unprotect_frame", "frame_to_csv", "frames_to_xlsx", "read_csv_table", "read_table",
           "store_formulas_as_text", "deterministic_xlsx"]

#: First characters that make a spreadsheet evaluate a cell (OWASP's list, plus the
#: full-width forms some spreadsheet locales accept).
FORMULA_START = "=+-@\t\r\uff1d\uff0b\uff0d\uff20"
_DANGER = re.compile(f"'*[{re.escape(FORMULA_START)}]")
_PROTECTED = re.compile(f"'+[{re.escape(FORMULA_START)}]")
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def protect_cell(value: Any) -> Any:
    """Return ``value`` with one ``'`` in front if a spreadsheet would read it as a formula.

    Examples
    --------
    >>> protect_cell("=cmd|' /C calc'!A0"), protect_cell("-1"), protect_cell(-1)
    ("'=cmd|' /C calc'!A0", "'-1", -1)
    >>> protect_cell("cost"), protect_cell("'=x")
    ('cost', "''=x")
    """
    if isinstance(value, str) and _DANGER.match(value):
        return "'" + value
    return value


def unprotect_cell(value: Any) -> Any:
    """Undo :func:`protect_cell` (``unprotect_cell(protect_cell(x)) == x`` for every x).

    Examples
    --------
    >>> unprotect_cell("'=SUM(A1)"), unprotect_cell("''=x"), unprotect_cell("'tis")
    ('=SUM(A1)', "'=x", "'tis")
    """
    if isinstance(value, str) and _PROTECTED.match(value):
        return value[1:]
    return value


def _is_text(series: pd.Series) -> bool:
    return pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)


def _map_labels(index: pd.Index, func: Any) -> pd.Index:
    if isinstance(index, pd.MultiIndex):
        return index.set_levels([level.map(func) if _is_text(level.to_series()) else level
                                 for level in index.levels], verify_integrity=False)
    return index.map(func) if _is_text(index.to_series()) else index


def _map_frame(frame: pd.DataFrame, func: Any) -> pd.DataFrame:
    out = frame.copy()
    for position in range(out.shape[1]):
        column = out.iloc[:, position]
        if _is_text(column):
            out.isetitem(position, column.map(func, na_action="ignore").astype(column.dtype))
    for axis in ("columns", "index"):
        labels = _map_labels(getattr(out, axis), func)
        labels.names = [func(name) for name in labels.names]
        setattr(out, axis, labels)
    return out


def protect_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Apply :func:`protect_cell` to every text cell, column name and index label."""
    return _map_frame(frame, protect_cell)


def unprotect_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Apply :func:`unprotect_cell` to every text cell, column name and index label."""
    return _map_frame(frame, unprotect_cell)


def frame_to_csv(frame: pd.DataFrame, *, index: bool = False) -> str:
    r"""Render a frame as CSV text (``\n`` line ends) with formula-like text neutralised.

    Examples
    --------
    >>> print(frame_to_csv(pd.DataFrame({"text": ["=1+1", "fine"], "n": [-1, 2]})), end="")
    text,n
    '=1+1,-1
    fine,2
    """
    protected = protect_frame(frame)
    # Python's csv writer quotes a cell holding "\n" but not one holding a bare "\r" when
    # lines end in "\n", and such a cell would split its row on reading: quote them all then.
    quoting = csv.QUOTE_ALL if _has_carriage_return(protected) else csv.QUOTE_MINIMAL
    return protected.to_csv(index=index, lineterminator="\n", quoting=quoting)


def _has_carriage_return(frame: pd.DataFrame) -> bool:
    labels = [*frame.columns.to_flat_index(), *frame.index.to_flat_index(),
              *frame.columns.names, *frame.index.names]
    cells = (value for position in range(frame.shape[1]) if _is_text(frame.iloc[:, position])
             for value in frame.iloc[:, position])
    return any(isinstance(v, str) and "\r" in v
               for value in (*labels, *cells)
               for v in (value if isinstance(value, tuple) else (value,)))


def read_csv_table(source: str | Path | io.StringIO, **kwargs: Any) -> pd.DataFrame:
    """Read CSV written by :func:`frame_to_csv` (``pandas.read_csv`` keywords), quotes undone."""
    return unprotect_frame(pd.read_csv(source, **kwargs))


def _xml_safe(value: Any) -> Any:
    if isinstance(value, str) and _ILLEGAL_XML.search(value):
        return _ILLEGAL_XML.sub("\ufffd", value)
    return value


def frames_to_xlsx(sheets: Sequence[tuple[str, pd.DataFrame, bool]], *,
                   widths: Mapping[str, Mapping[str, float]] | None = None) -> bytes:
    """Write frames as the sheets of one XLSX (bytes); text is never stored as a formula.

    Parameters
    ----------
    sheets : sequence of (name, frame, index)
        Sheet name, frame, and whether to write its index.
    widths : mapping, optional
        Per sheet, column letter to width.
    """
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame, index in sheets:
            _map_frame(frame, _xml_safe).to_excel(writer, sheet_name=name, index=index)
            sheet = writer.sheets[name]
            store_formulas_as_text(sheet)
            for letter, width in (widths or {}).get(name, {}).items():
                sheet.column_dimensions[letter].width = width
    return buffer.getvalue()


def store_formulas_as_text(sheet: Any) -> None:
    """Make every cell of an openpyxl worksheet that would run as a formula plain text.

    openpyxl stores any text that starts with ``=`` as a formula; pandas' ``to_excel`` goes
    through it, so a sheet written that way needs this before it is saved.
    """
    for row in sheet.iter_rows():
        for cell in row:
            if cell.data_type == "f":  # openpyxl's guess for text starting with '='
                cell.data_type = "s"


def read_table(path: str | Path, *, error: type[ToolkitError] = ToolkitError,
               sheet_name: str | int = 0, **kwargs: Any) -> pd.DataFrame:
    """Read a user's CSV, TSV or XLSX table; every way it can be unreadable is one ``error``.

    ``.xlsx`` is read with openpyxl, ``.tsv``/``.tab`` as tab-separated, anything else as
    UTF-8 CSV (a byte-order mark is fine); in CSV the formula quotes added by
    :func:`frame_to_csv` are removed again. ``kwargs`` go to :func:`pandas.read_csv` /
    :func:`pandas.read_excel`.

    Raises
    ------
    ToolkitError
        (``error``) For a missing path, a folder, an empty file, text that is not UTF-8,
        unbalanced quotes, a file that is not the spreadsheet its name says, a missing
        sheet, or a file the system will not let us read; each says what to do.
    """
    import zipfile

    source = Path(path)
    if source.is_dir():
        raise error(f"{source}: is a folder; give a CSV, TSV or XLSX file")
    if not source.is_file():
        raise error(f"{source}: no such file; check the path")
    suffix = source.suffix.lower()
    sep = "\t" if suffix in (".tsv", ".tab") else ","
    try:
        if suffix == ".xlsx":  # XLSX keeps text as text: nothing was quoted, nothing to undo
            return pd.read_excel(source, sheet_name=sheet_name, engine="openpyxl", **kwargs)
        return read_csv_table(source, sep=sep, encoding="utf-8-sig", **kwargs)
    except UnicodeDecodeError as err:
        raise error(f"{source}: byte {err.start} (0x{err.object[err.start]:02x}) is not UTF-8; "
                    "save the table as UTF-8 CSV (or as .xlsx)") from None
    except pd.errors.EmptyDataError:
        raise error(f"{source}: is empty; a table needs a header row and one row per "
                    "record") from None
    except pd.errors.ParserError as err:
        reason = str(err).strip().splitlines()[-1][:200]
        raise error(f"{source}: not a readable {'TSV' if sep == chr(9) else 'CSV'} "
                    f"({reason}); check its quotes and delimiters") from None
    except (zipfile.BadZipFile, KeyError, EOFError) as err:
        raise error(f"{source}: not a readable .xlsx ({type(err).__name__}); is it another "
                    "kind of file renamed? save it again from the spreadsheet") from None
    except ValueError as err:  # e.g. "Worksheet named 'coding' not found"
        raise error(f"{source}: {str(err)[:200]}; check the file") from None
    except OSError as err:
        raise error(f"{source}: cannot be read ({err.strerror or err}); check its "
                    "permissions") from None


def deterministic_xlsx(data: bytes) -> bytes:
    """Rewrite an XLSX so that it carries no time: fixed zip dates, fixed document dates.

    Excel files otherwise embed the moment they were written, and two identical tables
    would differ byte for byte.
    """
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in sorted(source.infolist(), key=lambda i: i.filename):
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*",
                                 rb"\g<1>2000-01-01T00:00:00Z", content)
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(fixed, content)
    return buffer.getvalue()
