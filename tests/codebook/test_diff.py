from __future__ import annotations

from pathlib import Path

import pandas as pd

from toolkit.codebook import Code, Codebook, Lineage, Patterns, diff_codebooks, load_codebook
from toolkit.codebook.diff import compute_codes_per_round, compute_saturation

ROOT = Path(__file__).parents[2] / "codebooks"


def test_every_kind_of_change() -> None:
    old = Codebook("x", "1", 1, (
        Code("a", "A"), Code("b", "B"), Code("c", "C"), Code("d", "D", definition="old"),
        Code("e", "E", patterns=Patterns(phrases=("x",))), Code("f", "F"), Code("g", "G"),
        Code("h", "H", parent="a")))
    new = Codebook("x", "2", 2, (
        Code("a", "A"),
        Code("bc", "BC", lineage=Lineage(merged_from=("b", "c")), introduced_in=2),
        Code("d", "D", definition="new"),
        Code("e", "E", patterns=Patterns(phrases=("x", "y"))),
        Code("f2", "F two", lineage=Lineage(renamed_from=("f",))),
        Code("g1", "G1", lineage=Lineage(split_from="g"), introduced_in=2),
        Code("g2", "G2", lineage=Lineage(split_from="g"), introduced_in=2),
        Code("h", "Hh", parent="d"),
        Code("n", "N", introduced_in=2)))
    diff = diff_codebooks(old, new)
    got = set(zip(diff["change"], diff["code_id"].fillna("-"), diff["old_id"].fillna("-"),
                  strict=True))
    assert got == {
        ("added", "n", "-"), ("merged", "bc", "b"), ("merged", "bc", "c"),
        ("renamed", "f2", "f"), ("split", "g1", "g"), ("split", "g2", "g"),
        ("moved", "h", "h"), ("label_changed", "h", "h"), ("label_changed", "f2", "f"),
        ("definition_changed", "d", "d"), ("patterns_changed", "e", "e"),
    }


def test_bundled_rounds() -> None:
    r1 = load_codebook(ROOT / "microcredentials_round1.yaml")
    r2 = load_codebook(ROOT / "microcredentials.yaml")
    diff = diff_codebooks(r1, r2)
    counts = diff["change"].value_counts()
    assert counts["renamed"] == 11 and counts["merged"] == 4 and counts["split"] == 4
    assert "removed" not in counts  # every round-1 code lives on in round 2
    per_round = compute_codes_per_round([r2, r1])
    assert per_round["round"].tolist() == [1, 2]
    assert per_round["new_codes"].tolist() == [42, 18]


def test_saturation_by_batch() -> None:
    codings = pd.DataFrame({"segment_id": ["s1", "s2", "s3", "s4", "s5", "s5"],
                            "code_id": ["a", "b", "a", None, "c", "a"]})
    table = compute_saturation(codings, batch_size=2)
    assert table["new_codes"].tolist() == [2, 0, 1]
    assert table["cumulative_codes"].tolist() == [2, 2, 3]
    assert table["segments"].tolist() == [2, 2, 1]
