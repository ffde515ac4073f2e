"""REFI-QDA projects (``.qdpx``): the coded review for NVivo, ATLAS.ti, MAXQDA, and back.

A ``.qdpx`` is a zip holding ``project.qde`` (QDA-XML 1.0, ``urn:QDA-XML:project:1.0``)
and the sources as ``sources/<GUID>.txt``. :func:`export_qdpx` writes:

- **users**: one per coder (the rule coder included, named as in the codings);
- **codebook**: as in :func:`toolkit.codebook.export_qdc` (same GUIDs, same metadata);
- **sources**: one text source per document, its text the document's segments joined by
  blank lines (the segments' texts, in table order);
- **selections**: one per segment (its codings are segment-level codings), and one per
  coded span (``start``/``end``, e.g. a rule match); positions count Unicode code points
  from 0, end exclusive, as the standard says;
- **codings**: code, coder (``creatingUser``) and time; a coder's memo becomes a note;
- **notes**: memos (:mod:`toolkit.memos`) on codes, segments, documents and the review.

What the schema has no place for (segment ids and columns, rounds, methods, rule
patterns, "seen, no code" rows) rides in each selection's ``Description`` after a line
``--- slr-toolkit ---``, as in the ``.qdc`` export, so our own file reads back losslessly;
other tools show it as text.

:func:`read_qdpx` reads a ``.qdpx`` (or a bare ``.qde``) written by any tool: each text
source becomes a segment holding its whole text, each coded text selection a coding whose
``start``/``end`` point into that text. NVivo counts positions in UTF-16 code units (an
emoji counts twice) instead of code points; ``positions="auto"`` converts for projects whose
``origin`` names NVivo. Pictures, audio, video and PDF pages without a text representation
cannot become text codings; they are listed in ``problems``, never dropped silently.

The archive is read like :func:`toolkit.codebook.read_qdpx_codes`: members that would land
outside an extraction folder are refused, sizes are bounded, the XML is parsed with
defusedxml, and nothing is ever extracted to disk.
"""

from toolkit.coding.qdpx._common import QDPX_FORMAT, QdpxProject
from toolkit.coding.qdpx.check import check_qdpx_structure
from toolkit.coding.qdpx.export import export_qdpx, format_qdpx
from toolkit.coding.qdpx.read import read_qdpx

__all__ = ["QDPX_FORMAT", "QdpxProject", "check_qdpx_structure", "export_qdpx", "format_qdpx",
           "read_qdpx"]
