"""Reference-corpus readers, de-duplication and writers.

Every reader returns a :class:`LoadResult`: a records DataFrame with the columns of
:data:`toolkit.types.RECORD_COLUMNS`, the blocks that could not be read (``failures``), and
warnings about records that were kept but changed. Readers: BibTeX, RIS, Web of Science
plain text, PubMed/MEDLINE, EndNote XML and CSV/TSV exports. :func:`load_corpus` detects the
format of each file by content and suffix and combines several files or directories.
"""

from toolkit.corpus._schema import (
    LoadFailure,
    LoadResult,
    LoadWarning,
    SkippedFile,
    normalise_doi,
    records_frame,
)
from toolkit.corpus.bibtex import parse_bibtex_string, read_bibtex
from toolkit.corpus.dedupe import (
    DedupResult,
    compute_database_overlap,
    deduplicate,
    normalise_title,
)
from toolkit.corpus.dedupe_review import read_review_sheet, write_review_sheet
from toolkit.corpus.delimited import parse_csv_string, read_csv
from toolkit.corpus.endnote import parse_endnote_xml_string, read_endnote_xml
from toolkit.corpus.load import detect_format, load_corpus
from toolkit.corpus.medline import parse_medline_string, read_medline
from toolkit.corpus.ris import parse_ris_string, read_ris
from toolkit.corpus.summary import compute_corpus_summary
from toolkit.corpus.wos import parse_wos_string, read_wos
from toolkit.corpus.write import format_bibtex, format_ris, write_bibtex, write_ris

__all__ = [
    "DedupResult",
    "LoadFailure",
    "LoadResult",
    "LoadWarning",
    "SkippedFile",
    "compute_corpus_summary",
    "compute_database_overlap",
    "deduplicate",
    "detect_format",
    "format_bibtex",
    "format_ris",
    "load_corpus",
    "normalise_doi",
    "normalise_title",
    "parse_bibtex_string",
    "parse_csv_string",
    "parse_endnote_xml_string",
    "parse_medline_string",
    "parse_ris_string",
    "parse_wos_string",
    "read_bibtex",
    "read_csv",
    "read_endnote_xml",
    "read_medline",
    "read_review_sheet",
    "read_ris",
    "read_wos",
    "records_frame",
    "write_bibtex",
    "write_review_sheet",
    "write_ris",
]
