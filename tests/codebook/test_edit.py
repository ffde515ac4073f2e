"""Editing a codebook between rounds: each operation, its lineage, and the round diff."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.codebook import (
    Code,
    Codebook,
    Patterns,
    add_code,
    diff_codebooks,
    export_qdc,
    load_codebook,
    merge_codes,
    read_qdc,
    rename_code,
    retire_code,
    save_codebook,
    split_code,
    start_round,
    update_code,
)
from toolkit.codebook.diff import compute_codes_per_round
from toolkit.errors import CodebookError

ROOT = Path(__file__).parents[2] / "codebooks"


@pytest.fixture(scope="module")
def round2() -> Codebook:
    return load_codebook(ROOT / "microcredentials.yaml")


def _changes(old: Codebook, new: Codebook) -> set[tuple[str, str, str]]:
    diff = diff_codebooks(old, new)
    return set(zip(diff["change"], diff["code_id"].fillna("-"), diff["old_id"].fillna("-"),
                   strict=True))


def test_an_unchanged_next_round_has_no_changes(round2: Codebook) -> None:
    # Round 2's lineage (renames, merges and splits of round 1) must not be reported again.
    assert diff_codebooks(round2, start_round(round2)).empty


def test_round_2_to_3_lists_only_round_3_changes(round2: Codebook) -> None:
    round1 = load_codebook(ROOT / "microcredentials_round1.yaml")
    round3 = start_round(round2)
    round3 = add_code(round3, "benefits.skills_signalling", "Signalling skills",
                      parent="benefits", definition="Shareable evidence of skills.",
                      patterns={"phrases": ["evidence of skills"]})
    round3 = rename_code(round3, "challenges.cost", "challenges.costs", label="Costs")
    round3 = merge_codes(round3, ["case_region.australia", "case_region.europe"],
                         into="case_region.frameworks_abroad", label="Frameworks abroad")
    round3 = split_code(round3, "evolution.moocs", {"evolution.moocs.platforms": "Platforms",
                                                     "evolution.moocs.free": "Free courses"})
    round3 = retire_code(round3, "workforce.impact", reason="no segment fits it")
    assert _changes(round2, round3) == {
        ("added", "benefits.skills_signalling", "-"),
        ("renamed", "challenges.costs", "challenges.cost"),
        ("label_changed", "challenges.costs", "challenges.cost"),
        ("merged", "case_region.frameworks_abroad", "case_region.australia"),
        ("merged", "case_region.frameworks_abroad", "case_region.europe"),
        ("split", "evolution.moocs.platforms", "evolution.moocs"),
        ("split", "evolution.moocs.free", "evolution.moocs"),
        ("retired", "-", "workforce.impact"),
    }
    # none of round 1 -> 2's changes comes back (e.g. the merge into flexibility_access)
    earlier = {(c, i, o) for c, i, o in _changes(round1, round2)
               if c in ("renamed", "merged", "split")}
    assert earlier and not earlier & _changes(round2, round3)
    per_round = compute_codes_per_round([round1, round2, round3])
    assert per_round["new_codes"].tolist()[-1] == 4  # signalling, the merge, two splits
    assert per_round["dropped"].tolist()[-1] == 1  # the retired code


def test_saved_round_loads_back_and_exports(round2: Codebook, tmp_path: Path) -> None:
    round3 = retire_code(add_code(start_round(round2), "benefits.x", "X", parent="benefits"),
                         "workforce.impact", reason="never applied")
    path = save_codebook(round3, tmp_path / "round3.yaml")
    again = load_codebook(path)
    assert again == round3 and again.round == 3 and again.version == "3.0"
    assert again["benefits.x"].introduced_in == 3
    assert again.retired[0].id == "workforce.impact" and again.retired[0].round == 3
    assert read_qdc(export_qdc(round3, tmp_path / "round3.qdc")) == round3
    with pytest.raises(Exception, match="exists"):
        save_codebook(round3, path)  # never over an existing round


def test_lineage_of_each_operation() -> None:
    book = Codebook("d", "1", 1, (Code("a", "A"), Code("a.x", "AX", parent="a"),
                                  Code("b", "B", patterns=Patterns(phrases=("bee",))),
                                  Code("c", "C", patterns=Patterns(phrases=("sea",))),
                                  Code("d", "D")))
    two = start_round(book)
    renamed = rename_code(two, "a", "alpha")
    assert renamed["alpha"].lineage.renamed_from == ("a",)
    assert renamed["a.x"].parent == "alpha"  # children follow
    merged = merge_codes(two, ["c"], into="b")
    assert merged["b"].lineage.merged_from == ("c",) and "c" not in merged
    assert merged["b"].patterns.phrases == ("bee", "sea")
    split = split_code(two, "d", {"d1": "D1", "d2": "D2"})
    assert [split[i].lineage.split_from for i in ("d1", "d2")] == ["d", "d"]
    assert "d" not in split and split["d1"].introduced_in == 2
    # a code added this round and renamed in it has no history to record
    added = rename_code(add_code(two, "e", "E"), "e", "e2")
    assert not added["e2"].lineage
    updated = update_code(two, "b", definition="Bees.", patterns={"lemmas": ["bee"]})
    assert updated["b"].definition == "Bees." and updated["b"].patterns.lemmas == ("bee",)


@pytest.mark.parametrize(("call", "message"), [
    pytest.param(lambda b: add_code(b, "a", "A again"), "already a code", id="id-in-use"),
    pytest.param(lambda b: add_code(rename_code(b, "b", "b2"), "b", "B again"),
                 "never reused", id="id-in-lineage"),
    pytest.param(lambda b: add_code(retire_code(b, "b"), "b", "B again"), "never reused",
                 id="id-retired"),
    pytest.param(lambda b: add_code(b, "z", "Z", parent="nope"), "no such code",
                 id="unknown-parent"),
    pytest.param(lambda b: add_code(b, "Bad Id", "Bad"), "id must be lower-case",
                 id="bad-id"),
    pytest.param(lambda b: retire_code(b, "a"), "has child codes", id="retire-parent"),
    pytest.param(lambda b: split_code(b, "b", {"b1": "B1"}), "at least two", id="split-one"),
    pytest.param(lambda b: merge_codes(b, ["b"], into="n"), "give its label",
                 id="merge-new-needs-label"),
    pytest.param(lambda b: merge_codes(b, ["a"], into="a.x"), "lies under",
                 id="merge-into-child"),
    pytest.param(lambda b: update_code(b, "b", id="c"), "rename_code", id="update-id"),
    pytest.param(lambda b: update_code(b, "a", parent="a.x"), "parent cycle",
                 id="update-cycle"),
])
def test_bad_edits_say_what_to_do(call, message: str) -> None:
    book = start_round(Codebook("d", "1", 1, (Code("a", "A"), Code("a.x", "AX", parent="a"),
                                              Code("b", "B"))))
    with pytest.raises(CodebookError, match=message):
        call(book)
