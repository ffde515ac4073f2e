from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from toolkit.codebook import load_codebook
from toolkit.coding import RuleCoder, compute_rule_metrics, lemma_forms, make_codings
from toolkit.errors import NotFittedError

BOOK = Path(__file__).parents[1] / "data" / "codebooks" / "small.yaml"

# A small hand-made set: texts, and the codes a human gave them.
TEXTS = {
    "s1": "The Fees were far too expensive for most learners.",
    "s2": "Learners stacked credentials towards a diploma.",
    "s3": "Without internet access, nobody could connect.",
    "s4": "The cost of living rose.",  # the rules fire, the human says no: a false positive
    "s5": "Stackable awards help.",
    "s6": "Nothing relevant here.",
    "s7": "Some learners could not pay.",  # the human codes cost, no pattern fires: a miss
}
HUMAN = {"s1": ["barriers.cost"], "s2": ["enablers.stacking"], "s3": ["barriers.access"],
         "s4": [], "s5": ["enablers.stacking"], "s6": [], "s7": ["barriers.cost"]}


@pytest.fixture(scope="module")
def coded() -> pd.DataFrame:
    segments = pd.DataFrame({"segment_id": list(TEXTS), "text": list(TEXTS.values())})
    return RuleCoder(load_codebook(BOOK)).fit().transform(segments)


def _human() -> pd.DataFrame:
    rows = [{"segment_id": s, "code_id": c, "coder": "ann", "round": 1, "method": "human"}
            for s, codes in HUMAN.items() for c in (codes or [None])]
    return make_codings(rows)


def test_lemma_expansion_is_lower_case() -> None:
    assert "fees" in lemma_forms("fee") and "stacked" in lemma_forms("Stack")


def test_matches_carry_code_pattern_and_text(coded: pd.DataFrame) -> None:
    found = {(r.segment_id, r.code_id, r.matched_text, r.pattern)
             for r in coded.itertuples() if isinstance(r.code_id, str)}
    assert ("s1", "barriers.cost", "Fees", "lemmas: fee") in found  # capitalised form
    assert ("s1", "barriers.cost", "too expensive", "phrases: too expensive") in found
    assert ("s2", "enablers.stacking", "stacked credentials",
            "lemmas: stack credential") in found
    assert ("s3", "barriers.access", "internet access", "phrases: internet access") in found
    assert ("s3", "barriers.access", "connect", "globs: connect*") in found
    assert ("s5", "enablers.stacking", "Stackable", "regex: \\bstackab\\w+") in found
    assert ("s4", "barriers.cost", "cost", "lemmas: cost") in found
    for row in coded.itertuples():
        if isinstance(row.code_id, str):
            assert TEXTS[row.segment_id][row.start:row.end] == row.matched_text
    assert coded["method"].unique().tolist() == ["rules"]
    unmatched = coded.loc[coded["code_id"].isna(), "segment_id"].tolist()
    assert unmatched == ["s6", "s7"]  # coded, nothing found


def test_precision_recall_f1_against_human(coded: pd.DataFrame) -> None:
    metrics = compute_rule_metrics(coded, _human(), codebook=load_codebook(BOOK))
    row = metrics.set_index("code_id")
    # barriers.cost: human s1, s7; rules s1, s4 -> tp 1, fp 1, fn 1
    assert row.loc["barriers.cost", ["tp", "fp", "fn"]].tolist() == [1, 1, 1]
    assert row.loc["barriers.cost", "precision"] == 0.5
    assert row.loc["barriers.cost", "recall"] == 0.5
    assert row.loc["enablers.stacking", "f1"] == 1.0
    assert pd.isna(row.loc["enablers", "precision"])  # never predicted: undefined, not 0
    assert row.loc["(all)", ["tp", "fp", "fn"]].tolist() == [4, 1, 1]
    themes = compute_rule_metrics(coded, _human(), codebook=load_codebook(BOOK),
                                  level="theme").set_index("code_id")
    assert themes.loc["barriers", ["tp", "fp", "fn"]].tolist() == [2, 1, 1]


def test_rerun_is_identical_and_parallel_matches_serial(coded: pd.DataFrame) -> None:
    segments = pd.DataFrame({"segment_id": [f"x{i}" for i in range(40)],
                             "text": list(TEXTS.values()) * 5 + ["Fees."] * 5})
    book = load_codebook(BOOK)
    serial = RuleCoder(book).fit().transform(segments)
    parallel = RuleCoder(book, n_process=2, batch_size=4).fit().transform(segments)
    pd.testing.assert_frame_equal(serial, parallel)


def test_not_fitted() -> None:
    with pytest.raises(NotFittedError, match="Call 'fit'"):
        RuleCoder(load_codebook(BOOK)).transform(pd.DataFrame({"segment_id": [], "text": []}))
