"""The review project: a folder described by ``review.yaml``, loaded as one object.

:func:`load_review` reads any review folder (the bundled one by default); ``slr init``
makes one (:func:`init_review`); :func:`toolkit.review.pipeline.reproduce` runs the whole
method on it. Curated evidence tables and the citation audit that checks them live here
too.
"""

from toolkit.review.citations import (
    CitationAudit,
    audit_citations,
    find_citations,
    split_references,
)
from toolkit.review.config import (
    REVIEW_FILE,
    ReviewConfigError,
    load_review_config,
    save_review_config,
)
from toolkit.review.evidence import (
    EVIDENCE_COLUMNS,
    ReviewDataError,
    compute_evidence_counts,
    validate_review,
)
from toolkit.review.pipeline import reproduce
from toolkit.review.project import Review, load_review
from toolkit.review.scaffold import init_review
from toolkit.review.sources import compute_search_table

__all__ = [
    "EVIDENCE_COLUMNS",
    "REVIEW_FILE",
    "CitationAudit",
    "Review",
    "ReviewConfigError",
    "ReviewDataError",
    "audit_citations",
    "compute_evidence_counts",
    "compute_search_table",
    "find_citations",
    "init_review",
    "load_review",
    "load_review_config",
    "reproduce",
    "save_review_config",
    "split_references",
    "validate_review",
]
