"""The review as data: the bundled review loader and the citation audit."""

from toolkit.review.bundle import (
    EVIDENCE_COLUMNS,
    Review,
    ReviewDataError,
    compute_evidence_counts,
    load_review,
    validate_review,
)
from toolkit.review.citations import (
    CitationAudit,
    audit_citations,
    find_citations,
    split_references,
)

__all__ = [
    "EVIDENCE_COLUMNS",
    "CitationAudit",
    "Review",
    "ReviewDataError",
    "audit_citations",
    "compute_evidence_counts",
    "find_citations",
    "load_review",
    "split_references",
    "validate_review",
]
