"""Decode export files: byte-order marks, UTF-16/32 without BOM, and the cp1252 fallback.

Every way a file can fail to become text ends in :class:`~toolkit.errors.CorpusInputError`
(unreadable path, unknown codec, a spreadsheet or archive under a text suffix) or in text
plus a warning (bytes that are not valid in the detected codec); never in a
``UnicodeDecodeError`` or ``LookupError``.
"""

from __future__ import annotations

import codecs
import logging
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

from toolkit.errors import CorpusInputError

__all__ = ["DecodedText", "read_text", "decode_bytes", "read_bytes"]

logger = logging.getLogger(__name__)

# UTF-32 first: its little-endian BOM starts with UTF-16's.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32"),
    (codecs.BOM_UTF8, "utf-8", "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16"),
)
#: Magic numbers of binary files people rename to .csv/.txt (xlsx/docx/zip, xls, pdf, gzip).
_BINARY_MAGIC = (
    (b"PK\x03\x04", "a zip archive (an .xlsx/.docx workbook or a zipped export)"),
    (b"\xd0\xcf\x11\xe0", "an old Office file (.xls/.doc)"),
    (b"%PDF", "a PDF"),
    (b"\x1f\x8b", "a gzip archive"),
)


@dataclass(frozen=True, slots=True)
class DecodedText:
    """Text of a file and how it was decoded.

    Attributes
    ----------
    text : str
        The decoded text with ``\\r\\n`` and ``\\r`` turned into ``\\n`` and a leading BOM
        removed.
    encoding : str
        The codec used.
    fallback : bool
        True when the bytes were not valid in the detected codec and were decoded another
        way (cp1252, or with replacement characters); ``problem`` says how.
    problem : str
        What went wrong, for the warning; empty when nothing did.
    """

    text: str
    encoding: str
    fallback: bool = False
    problem: str = ""


def _looks_utf32(sample: bytes) -> str | None:
    """Guess UTF-32 without BOM from three NUL bytes in every four."""
    if len(sample) < 8 or sample.count(0) < len(sample) // 2:
        return None
    lanes = [sample[i::4] for i in range(4)]
    nul = [lane.count(0) / max(len(lane), 1) for lane in lanes]
    if nul[0] < 0.2 and min(nul[1:]) > 0.9:
        return "utf-32-le"
    if nul[3] < 0.2 and min(nul[:3]) > 0.9:
        return "utf-32-be"
    return None


def _looks_utf16(sample: bytes) -> str | None:
    """Guess UTF-16 without BOM from NUL bytes at alternating positions."""
    if len(sample) < 4 or sample.count(0) < len(sample) // 4:
        return None
    even_nuls = sample[0::2].count(0)
    odd_nuls = sample[1::2].count(0)
    if odd_nuls > 0.4 * len(sample[1::2]) and even_nuls < 0.1 * len(sample[0::2]):
        return "utf-16-le"
    if even_nuls > 0.4 * len(sample[0::2]) and odd_nuls < 0.1 * len(sample[1::2]):
        return "utf-16-be"
    return None


def read_bytes(path: str | Path) -> bytes:
    """Read a file's bytes, turning every OS error into a :class:`CorpusInputError`.

    Raises
    ------
    CorpusInputError
        For a missing file, a directory, a file without read permission or any other
        ``OSError``.
    """
    path = Path(path)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise CorpusInputError(path, "no such file; check the path") from None
    except IsADirectoryError:
        raise CorpusInputError(path, "is a directory, not a file; pass the folder to "
                               "load_corpus to read every export in it") from None
    except PermissionError:
        raise CorpusInputError(path, "no permission to read this file; check its "
                               "permissions or copy it somewhere readable") from None
    except OSError as err:
        raise CorpusInputError(path, f"cannot be read ({err.strerror or err}); check the "
                               "file and the disk") from None


def binary_kind(data: bytes) -> str | None:
    """Name the binary format of ``data`` when it starts like one, else ``None``."""
    for magic, kind in _BINARY_MAGIC:
        if data.startswith(magic):
            return kind
    return None


_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


def decode_bytes(data: bytes, where: str | Path, encoding: str | None = None) -> DecodedText:
    """Decode ``data`` (read from ``where``); see :func:`read_text`."""
    decoded = _decode_bytes(data, where, encoding)
    problem = not_text(decoded.text)
    if problem:
        raise CorpusInputError(where, problem)
    return decoded


def not_text(text: str) -> str | None:
    """Say why ``text`` is no export (control characters everywhere), else ``None``.

    Real exports carry a stray control character now and then, never one in twenty.

    Examples
    --------
    >>> not_text("@article{k, title={T}}") is None, not_text(chr(1) * 40)[:11]
    (True, 'is not text')
    """
    sample = text[:65536]
    controls = len(_CONTROL.findall(sample))
    if controls <= max(8, len(sample) // 20):
        return None
    return (f"is not text ({controls} control characters in its first {len(sample):,} "
            "characters); it is a binary file or a damaged export: export the references "
            "again as RIS, BibTeX or CSV")


def _decode_bytes(data: bytes, where: str | Path, encoding: str | None) -> DecodedText:
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise CorpusInputError(
                where, f"unknown encoding {encoding!r}; pass a codec name Python knows "
                "(e.g. 'utf-8', 'cp1252', 'latin-1', 'utf-16') or leave encoding out to "
                "detect it") from None
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as err:
            raise CorpusInputError(
                where, f"not valid {encoding} (byte {err.start}: {err.reason}); leave "
                "encoding out to detect it, or pass the file's real encoding") from None
        return DecodedText(_newlines(text), encoding)
    kind = binary_kind(data)
    if kind is not None:
        raise CorpusInputError(
            where, f"is {kind}, not a text export; save it as CSV (or export the references "
            "as RIS/BibTeX) and load that file")
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            return _decode(data[len(bom):], codec, where, label)
    sample = data[:4096]
    guessed = _looks_utf32(sample) or _looks_utf16(sample)
    if guessed is not None:
        return _decode(data, guessed, where, guessed)
    try:
        return DecodedText(_newlines(data.decode("utf-8")), "utf-8")
    except UnicodeDecodeError as err:
        problem = (f"not valid UTF-8 (byte {err.start}); read as cp1252 instead. Check "
                   "accented characters, or pass encoding=... if you know the file's encoding")
        _warn(where, problem)
        text = data.decode("cp1252", errors="replace")
        return DecodedText(_newlines(text), "cp1252", fallback=True, problem=problem)


def _decode(data: bytes, codec: str, where: str | Path, label: str) -> DecodedText:
    try:
        return DecodedText(_newlines(data.decode(codec)), label)
    except UnicodeDecodeError as err:
        if codec == "utf-8":
            problem = (f"starts with a UTF-8 byte-order mark but is not valid UTF-8 (byte "
                       f"{err.start + 3}); read as cp1252 instead. Check accented characters")
            text = data.decode("cp1252", errors="replace")
            fallback_codec = "cp1252"
        else:
            problem = (f"looks like {label} but byte {err.start} is not valid there; "
                       "undecodable bytes became U+FFFD. Check the file's encoding")
            text = data.decode(codec, errors="replace")
            fallback_codec = label
        _warn(where, problem)
        return DecodedText(_newlines(text), fallback_codec, fallback=True, problem=problem)


def _warn(where: str | Path, problem: str) -> None:
    message = f"{where}: {problem}."
    warnings.warn(message, UserWarning, stacklevel=4)
    logger.warning(message)


def read_text(path: str | Path, encoding: str | None = None) -> DecodedText:
    """Read a text export, choosing the encoding the way a reference manager would.

    Order: an explicit ``encoding``; a byte-order mark (UTF-32, UTF-8, UTF-16); UTF-32 or
    UTF-16 without BOM when the NUL bytes show it; UTF-8; and last cp1252, with a
    :class:`UserWarning` that names the file (the text may then contain wrong characters,
    never an exception). Bytes that are invalid after a BOM are decoded the same forgiving
    way, with a warning.

    Parameters
    ----------
    path : Path
        File to read.
    encoding : str, optional
        Force a codec, skipping detection.

    Returns
    -------
    DecodedText

    Raises
    ------
    CorpusInputError
        When the file cannot be read, the codec is unknown, the bytes are not valid in a
        forced codec, or the file is a spreadsheet, archive or PDF.
    """
    return decode_bytes(read_bytes(path), path, encoding)


def _newlines(text: str) -> str:
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text
