"""Codebooks: versioned YAML files of codes, editing between rounds, REFI-QDA and diffs."""

from toolkit.codebook.diff import compute_codes_per_round, compute_saturation, diff_codebooks
from toolkit.codebook.edit import (
    add_code,
    merge_codes,
    rename_code,
    retire_code,
    split_code,
    start_round,
    update_code,
)
from toolkit.codebook.io import (
    codebook_from_dict,
    codebook_to_dict,
    load_codebook,
    save_codebook,
    validate_codebook_dict,
)
from toolkit.codebook.model import Code, Codebook, Lineage, Patterns, RetiredCode
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
    "RetiredCode",
    "add_code",
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
    "merge_codes",
    "read_qdc",
    "read_qdpx_codes",
    "rename_code",
    "retire_code",
    "save_codebook",
    "split_code",
    "start_round",
    "update_code",
    "validate_codebook_dict",
]
