"""toolkit: systematic literature reviews and thematic analysis from Jupyter.

The public API is re-exported here; see the sub-packages for details.
"""

from toolkit.corpus import (
    DedupResult,
    LoadFailure,
    LoadResult,
    LoadWarning,
    compute_corpus_summary,
    deduplicate,
    load_corpus,
    read_bibtex,
    read_csv,
    read_ris,
    write_bibtex,
    write_ris,
)
from toolkit.corpus.summary import compute_counts
from toolkit.errors import CorpusFormatError, CorpusInputError, ToolkitError
from toolkit.report.figures import plot_corpus_counts
from toolkit.review import (
    Review,
    audit_citations,
    compute_evidence_counts,
    find_citations,
    load_review,
)

__version__ = "0.1.0"

__all__ = [
    "CorpusFormatError",
    "CorpusInputError",
    "DedupResult",
    "LoadFailure",
    "LoadResult",
    "LoadWarning",
    "Review",
    "ToolkitError",
    "audit_citations",
    "compute_corpus_summary",
    "compute_counts",
    "compute_evidence_counts",
    "deduplicate",
    "find_citations",
    "load_corpus",
    "load_review",
    "plot_corpus_counts",
    "read_bibtex",
    "read_csv",
    "read_ris",
    "write_bibtex",
    "write_ris",
]
