"""Segments, codings per coder and round, sheets, adjudication, rules, analysis, REFI-QDA."""

from toolkit.coding.adjudication import (
    DECISIONS,
    combine_with_consensus,
    compute_disagreements,
    read_adjudication_sheet,
    write_adjudication_sheet,
)
from toolkit.coding.analysis import (
    FREQUENCY_COLUMNS,
    QUOTE_COLUMNS,
    compute_code_frequencies,
    compute_cooccurrence,
    compute_quotes,
)
from toolkit.coding.evaluate import METRIC_COLUMNS, compute_rule_metrics
from toolkit.coding.presence import code_presence, lift_to_themes, segments_per_theme
from toolkit.coding.qdpx import (
    QdpxProject,
    check_qdpx_structure,
    export_qdpx,
    format_qdpx,
    read_qdpx,
)
from toolkit.coding.raters import Rater, RoundWarning, common_codes, select_raters
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
    METHODS,
    PEOPLE,
    RULE_COLUMNS,
    codings_path,
    load_codings,
    make_codings,
    save_codings,
    validate_codings,
)

__all__ = [
    "CODING_COLUMNS",
    "DECISIONS",
    "FREQUENCY_COLUMNS",
    "METHODS",
    "DOCUMENT_SUFFIXES",
    "METRIC_COLUMNS",
    "PEOPLE",
    "QUOTE_COLUMNS",
    "QdpxProject",
    "RULE_COLUMNS",
    "SEGMENT_COLUMNS",
    "SHEET_COLUMNS",
    "Rater",
    "RoundWarning",
    "RuleCoder",
    "check_qdpx_structure",
    "SegmentWarning",
    "code_presence",
    "combine_with_consensus",
    "common_codes",
    "codings_path",
    "compute_code_frequencies",
    "compute_cooccurrence",
    "compute_disagreements",
    "compute_quotes",
    "compute_rule_metrics",
    "export_qdpx",
    "format_qdpx",
    "find_records_without_text",
    "lemma_forms",
    "lift_to_themes",
    "load_codings",
    "make_codings",
    "read_adjudication_sheet",
    "read_coding_sheet",
    "read_qdpx",
    "save_codings",
    "segments_from_documents",
    "segments_from_frame",
    "segments_from_records",
    "segments_from_review",
    "select_raters",
    "segments_per_theme",
    "validate_codings",
    "write_adjudication_sheet",
    "write_coding_sheet",
]
