"""The bundled review's own coding: complete human coding, rules as a second method."""

from __future__ import annotations

import pandas as pd
import pytest

from toolkit import load_review
from toolkit.agreement import compute_agreement
from toolkit.codebook import load_codebook
from toolkit.coding import RuleCoder, load_codings, segments_from_review, validate_codings
from toolkit.paths import bundled_codebook_path, bundled_codings_dir


@pytest.fixture(scope="module")
def parts():
    codebook = load_codebook(bundled_codebook_path())
    segments = segments_from_review(load_review())
    codings = load_codings(bundled_codings_dir(), methods=None)
    return codebook, segments, codings


def test_every_segment_has_a_human_code(parts) -> None:
    codebook, segments, codings = parts
    human = codings[codings["method"] == "human"]
    validate_codings(human, codebook=codebook, segments=segments)
    coded = set(human.dropna(subset=["code_id"])["segment_id"])
    assert coded == set(segments["segment_id"])
    assert human["coder"].unique().tolist() == ["curator"]


def test_saved_rule_coding_is_what_the_rule_coder_gives_now(parts) -> None:
    codebook, segments, codings = parts
    key = ["segment_id", "code_id", "start", "end", "pattern"]
    saved = codings[codings["method"] == "rules"].sort_values(key).reset_index(drop=True)
    fresh = RuleCoder(codebook).fit().transform(segments)
    fresh = fresh.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(saved[fresh.columns.tolist()], fresh, check_dtype=False)


def test_the_folder_gives_only_people_unless_asked() -> None:
    assert load_codings(bundled_codings_dir())["method"].unique().tolist() == ["human"]


def test_rule_agreement_per_theme_is_reported(parts) -> None:
    codebook, _, codings = parts
    table = compute_agreement(codings, methods=["human", "rules"], codebook=codebook,
                              level="theme", n_boot=100)
    themes = {c.id for c in codebook.themes()}
    assert themes | {"(pooled)", "(mean)"} == set(table["code_id"])
    kappa = table[(table["metric"] == "cohen_kappa") & table["code_id"].isin(themes)]
    assert (kappa["n_units"] == 108).all()
