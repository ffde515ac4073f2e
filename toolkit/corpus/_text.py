"""Decode export files: byte-order marks, UTF-16 without BOM, and the cp1252 fallback."""

from __future__ import annotations

import codecs
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DecodedText", "read_text"]

logger = logging.getLogger(__name__)

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass(frozen=True, slots=True)
class DecodedText:
    """Text of a file and how it was decoded.

    Attributes
    ----------
    text : str
        The decoded text with ``\\r\\n`` and ``\\r`` turned into ``\\n``.
    encoding : str
        The codec used.
    fallback : bool
        True when the file was not valid UTF-8 and was decoded as cp1252.
    """

    text: str
    encoding: str
    fallback: bool = False


def _looks_utf16(data: bytes) -> str | None:
    """Guess UTF-16 without BOM from NUL bytes at alternating positions."""
    sample = data[:4096]
    if len(sample) < 4 or sample.count(0) < len(sample) // 4:
        return None
    even_nuls = sample[0::2].count(0)
    odd_nuls = sample[1::2].count(0)
    if odd_nuls > 0.4 * len(sample[1::2]) and even_nuls < 0.1 * len(sample[0::2]):
        return "utf-16-le"
    if even_nuls > 0.4 * len(sample[0::2]) and odd_nuls < 0.1 * len(sample[1::2]):
        return "utf-16-be"
    return None


def read_text(path: Path, encoding: str | None = None) -> DecodedText:
    """Read a text export, choosing the encoding the way a reference manager would.

    Order: an explicit ``encoding``; a byte-order mark (UTF-8, UTF-16 LE/BE); UTF-16 without
    BOM when the bytes show it; UTF-8; and last cp1252, with a :class:`UserWarning` that names
    the file (the text may then contain wrong characters, never an exception).

    Parameters
    ----------
    path : Path
        File to read.
    encoding : str, optional
        Force a codec, skipping detection.

    Returns
    -------
    DecodedText
    """
    data = Path(path).read_bytes()
    if encoding is not None:
        text = data.decode(encoding)
        return DecodedText(_newlines(text), encoding)
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return DecodedText(_newlines(data.decode(codec)), codec)
    utf16 = _looks_utf16(data)
    if utf16 is not None:
        try:
            return DecodedText(_newlines(data.decode(utf16)), utf16)
        except UnicodeDecodeError:
            pass
    try:
        return DecodedText(_newlines(data.decode("utf-8")), "utf-8")
    except UnicodeDecodeError as err:
        message = (
            f"{path}: not valid UTF-8 (byte {err.start}); read as cp1252 instead. "
            "Check accented characters, or pass encoding=... if you know the file's encoding."
        )
        warnings.warn(message, UserWarning, stacklevel=3)
        logger.warning(message)
        text = data.decode("cp1252", errors="replace")
        return DecodedText(_newlines(text), "cp1252", fallback=True)


def _newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")
