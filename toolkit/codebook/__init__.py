"""Codebooks: versioned YAML files of codes, REFI-QDA interchange and round-to-round diffs."""

from toolkit.codebook.diff import compute_codes_per_round, compute_saturation, diff_codebooks
from toolkit.codebook.io import (
    codebook_from_dict,
    codebook_to_dict,
    load_codebook,
    save_codebook,
    validate_codebook_dict,
)
from toolkit.codebook.model import Code, Codebook, Lineage, Patterns
from toolkit.codebook.refi import (
    check_qdc_structure,
    code_guid,
    export_qdc,
    format_qdc,
    read_qdc,
    read_qdpx_codes,
)

__all__ = [
    "Code",
    "Codebook",
    "Lineage",
    "Patterns",
    "check_qdc_structure",
    "code_guid",
    "codebook_from_dict",
    "codebook_to_dict",
    "compute_codes_per_round",
    "compute_saturation",
    "diff_codebooks",
    "export_qdc",
    "format_qdc",
    "load_codebook",
    "read_qdc",
    "read_qdpx_codes",
    "save_codebook",
    "validate_codebook_dict",
]
