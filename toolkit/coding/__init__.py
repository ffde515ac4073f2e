"""Segments, codings (per coder and round), coding sheets and the rule-based coder."""

from toolkit.coding.evaluate import METRIC_COLUMNS, compute_rule_metrics
from toolkit.coding.frequencies import compute_code_frequencies, compute_cooccurrence
from toolkit.coding.presence import code_presence, lift_to_themes, segments_per_theme
from toolkit.coding.rules import RuleCoder, lemma_forms
from toolkit.coding.segments import (
    DOCUMENT_SUFFIXES,
    SEGMENT_COLUMNS,
    SegmentWarning,
    find_records_without_text,
    segments_from_documents,
    segments_from_frame,
    segments_from_records,
    segments_from_review,
)
from toolkit.coding.sheets import SHEET_COLUMNS, read_coding_sheet, write_coding_sheet
from toolkit.coding.store import (
    CODING_COLUMNS,
    RULE_COLUMNS,
    codings_path,
    load_codings,
    make_codings,
    save_codings,
    validate_codings,
)

__all__ = [
    "CODING_COLUMNS",
    "DOCUMENT_SUFFIXES",
    "METRIC_COLUMNS",
    "RULE_COLUMNS",
    "SEGMENT_COLUMNS",
    "SHEET_COLUMNS",
    "RuleCoder",
    "SegmentWarning",
    "code_presence",
    "codings_path",
    "compute_code_frequencies",
    "compute_cooccurrence",
    "compute_rule_metrics",
    "find_records_without_text",
    "lemma_forms",
    "lift_to_themes",
    "load_codings",
    "make_codings",
    "read_coding_sheet",
    "save_codings",
    "segments_from_documents",
    "segments_from_frame",
    "segments_from_records",
    "segments_from_review",
    "segments_per_theme",
    "validate_codings",
    "write_coding_sheet",
]
