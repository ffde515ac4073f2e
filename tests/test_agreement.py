"""Agreement coefficients against published worked examples, and the codings front end."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from toolkit.agreement import (
    agreement_table,
    cohen_kappa,
    compute_agreement,
    fleiss_kappa,
    gwet_ac1,
    krippendorff_alpha,
    percent_agreement,
)
from toolkit.coding import make_codings
from toolkit.errors import AgreementError

# Gwet (2014), Handbook of Inter-Rater Reliability, 4th ed.: two abstractors classify 100
# pregnancies (irrCAC dataset cont3x3abstractors). Published: Cohen 0.7964, AC1 0.8493,
# Krippendorff 0.7973, percent agreement 0.89.
GWET = ([[0, 0]] * 13 + [[1, 1]] * 20 + [[1, 2]] * 7 + [[2, 1]] * 4 + [[2, 2]] * 56)
# Fleiss (1971) as worked in the literature: 10 subjects, 14 raters, 5 categories; 0.210.
FLEISS_COUNTS = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0],
                 [2, 2, 8, 1, 1], [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2],
                 [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]
# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability": 4 observers, 12 units,
# missing values; nominal 0.743, interval 0.849.
N = None
KRIPP = [[1, 1, N, 1], [2, 2, 3, 2], [3, 3, 3, 3], [3, 3, 3, 3], [2, 2, 2, 2], [1, 2, 3, 4],
         [4, 4, 4, 4], [1, 1, 2, 1], [2, 2, 2, 2], [N, 5, 5, 5], [N, N, 1, 1], [N, 3, N, N]]
# Cohen's kappa example (50 proposals, two readers): p_o 0.70, p_e 0.50, kappa 0.40.
COHEN = [["y", "y"]] * 20 + [["y", "n"]] * 5 + [["n", "y"]] * 10 + [["n", "n"]] * 15


def test_published_values() -> None:
    assert round(cohen_kappa(GWET), 3) == 0.796
    assert round(gwet_ac1(GWET), 3) == 0.849
    assert round(krippendorff_alpha(GWET), 3) == 0.797
    assert round(percent_agreement(GWET), 3) == 0.890
    ratings = [[k for k, n in enumerate(row) for _ in range(n)] for row in FLEISS_COUNTS]
    assert round(fleiss_kappa(ratings), 3) == 0.210
    assert round(krippendorff_alpha(KRIPP), 3) == 0.743
    assert round(krippendorff_alpha(KRIPP, "interval"), 3) == 0.849
    assert round(cohen_kappa(COHEN), 3) == 0.400


def test_missing_ratings_and_unused_categories() -> None:
    with_missing = GWET + [[0, None], [None, 2]]
    assert cohen_kappa(with_missing) == cohen_kappa(GWET)
    assert gwet_ac1(with_missing) == gwet_ac1(GWET)
    # AC1 counts categories that were possible but unused
    assert gwet_ac1([[0, 0], [0, 1]], categories=[0, 1, 2]) != gwet_ac1([[0, 0], [0, 1]])
    with pytest.raises(AgreementError, match="exactly two raters"):
        cohen_kappa(KRIPP)
    with pytest.raises(AgreementError, match="no unit was rated by two or more"):
        fleiss_kappa([[1, None], [None, 2]])


def _codings() -> pd.DataFrame:
    # ann and bob code 6 segments with two codes; bob never saw s6.
    ann = {"s1": ["a"], "s2": ["a", "b"], "s3": [], "s4": ["b"], "s5": ["a"], "s6": ["a"]}
    bob = {"s1": ["a"], "s2": ["a"], "s3": [], "s4": ["b"], "s5": ["b"]}
    rows = []
    for coder, data in (("ann", ann), ("bob", bob)):
        for seg, codes in data.items():
            for code in codes or [None]:
                rows.append({"segment_id": seg, "code_id": code, "coder": coder, "round": 1,
                             "method": "human"})
    return make_codings(rows)


def test_compute_agreement_by_hand() -> None:
    table = compute_agreement(_codings(), n_boot=200)
    value = table.set_index(["code_id", "metric"])["value"]
    units = table.set_index(["code_id", "metric"])["n_units"]
    # code a over s1..s5 (s6 unseen by bob): ann 1,1,0,0,1  bob 1,1,0,0,0 -> 4/5 agree
    assert units[("a", "percent_agreement")] == 5
    assert value[("a", "percent_agreement")] == pytest.approx(0.8)
    assert value[("a", "cohen_kappa")] == pytest.approx(cohen_kappa(
        [[1, 1], [1, 1], [0, 0], [0, 0], [1, 0]]))
    # code b: ann 0,1,0,1,0  bob 0,0,0,1,1 -> 3/5; pooled: 10 units, 7 agree
    assert value[("b", "percent_agreement")] == pytest.approx(0.6)
    assert value[("(pooled)", "percent_agreement")] == pytest.approx(0.7)
    assert units[("(pooled)", "percent_agreement")] == 10
    low = table.set_index(["code_id", "metric"])["ci_low"]
    assert low[("(pooled)", "gwet_ac1")] <= value[("(pooled)", "gwet_ac1")]
    again = compute_agreement(_codings(), n_boot=200)
    pd.testing.assert_frame_equal(table, again)  # random_state=0 repeats
    wide = agreement_table(table)
    assert list(wide.index[-2:]) == ["(pooled)", "(mean)"]
    assert wide.loc["a", "percent_agreement"].startswith("0.800 [")


def test_one_rater_is_refused() -> None:
    one = _codings()
    with pytest.raises(AgreementError, match="needs two or more"):
        compute_agreement(one[one["coder"] == "ann"])


def test_bootstrap_interval_covers_estimate_on_random_data() -> None:
    rng = np.random.default_rng(1)
    truth = rng.integers(0, 2, 300)
    noisy = np.where(rng.random(300) < 0.1, 1 - truth, truth)
    rows = [{"segment_id": f"s{i}", "code_id": "x" if v else None, "coder": c, "round": 1,
             "method": "human"} for c, values in (("a", truth), ("b", noisy))
            for i, v in enumerate(values)]
    table = compute_agreement(make_codings(rows), n_boot=500).set_index(["code_id", "metric"])
    row = table.loc[("x", "cohen_kappa")]
    assert row["ci_low"] < row["value"] < row["ci_high"]
    assert 0.7 < row["value"] < 0.9


# Ordinal: the anxiety ratings of two doctors (4 x 4) as analysed with vcd::Kappa in R:
# unweighted 0.7335, equal-spacing (linear) 0.7475, Fleiss-Cohen (quadratic) 0.7664.
ANXIETY = [[11, 3, 1, 0], [1, 9, 0, 1], [0, 1, 10, 0], [1, 2, 0, 10]]


def _pairs(table: list[list[int]], labels: list[str] | None = None) -> list[list[object]]:
    name = (lambda i: labels[i]) if labels else (lambda i: i)
    return [[name(i), name(j)] for i, row in enumerate(table) for j, n in enumerate(row)
            for _ in range(n)]


def test_weighted_kappa_published_values() -> None:
    from toolkit.agreement import weighted_kappa

    anxiety = _pairs(ANXIETY)
    assert round(cohen_kappa(anxiety), 4) == 0.7335
    assert round(weighted_kappa(anxiety, "linear"), 4) == 0.7475
    assert round(weighted_kappa(anxiety, "quadratic"), 4) == 0.7664
    # Gwet's abstractors with quadratic weights: irrCAC's kappa2.table gives 0.8921569
    assert round(weighted_kappa(GWET, "quadratic"), 7) == 0.8921569
    # labels need their order; an unused top level changes the weights
    scale = ["normal", "moderate", "high", "very high"]
    assert weighted_kappa(_pairs(ANXIETY, scale), categories=scale) == \
        weighted_kappa(anxiety)
    with pytest.raises(AgreementError, match="give categories"):
        weighted_kappa(_pairs(ANXIETY, scale))
    assert weighted_kappa(anxiety, categories=[0, 1, 2, 3, 4]) != weighted_kappa(anxiety)
    with pytest.raises(AgreementError, match="exactly two raters"):
        weighted_kappa(KRIPP)


def test_ordinal_agreement_table() -> None:
    from toolkit.agreement import compute_ordinal_agreement

    scale = ["normal", "moderate", "high", "very high"]
    ratings = pd.DataFrame(_pairs(ANXIETY, scale), columns=["doctor1", "doctor2"])
    table = compute_ordinal_agreement(ratings, categories=scale, n_boot=300)
    value = table.set_index("metric")["value"].round(4).to_dict()
    assert value == {"percent_agreement": 0.8, "cohen_kappa": 0.7335,
                     "weighted_kappa_linear": 0.7475, "weighted_kappa_quadratic": 0.7664}
    assert (table["ci_low"] < table["value"]).all() and (table["value"] < table["ci_high"]).all()
    assert table["n_units"].unique().tolist() == [50]


def _rounds() -> tuple[pd.DataFrame, object, object]:
    """Curator coded s1..s4 in round 1; student coded them in round 2, with a new code n."""
    from toolkit.codebook import Code, Codebook, add_code, start_round

    one = Codebook("r", "1", 1, (Code("a", "A"), Code("b", "B")))
    two = add_code(start_round(one), "n", "New")
    curator = {"s1": ["a"], "s2": ["b"], "s3": ["a", "b"], "s4": []}
    student = {"s1": ["a", "n"], "s2": ["b", "n"], "s3": ["a"], "s4": ["n"]}
    rows = [{"segment_id": s, "code_id": c, "coder": who, "round": r, "method": "human"}
            for who, r, data in (("curator", 1, curator), ("student", 2, student))
            for s, codes in data.items() for c in codes or [None]]
    rows += [{"segment_id": s, "code_id": "a", "coder": "rules", "round": 2, "method": "rules"}
             for s in ("s1", "s2")]
    return make_codings(rows), one, two


def test_only_codes_both_rounds_had_are_compared() -> None:
    from toolkit.coding import RoundWarning

    codings, one, two = _rounds()
    with pytest.warns(RoundWarning, match=r"left out: n \(not available to curator in round 1"):
        table = compute_agreement(codings, codebook=[one, two], n_boot=0)
    assert set(table["code_id"]) == {"a", "b", "(pooled)", "(mean)"}
    assert table.attrs == {"raters": ["curator", "student"], "left_out": ["n"]}
    # rules are a method: not a third coder, and two people give Cohen's kappa
    assert set(table["metric"]) >= {"cohen_kappa"} and (table["n_raters"] == 2).all()
    pooled = table.set_index(["code_id", "metric"]).loc[("(pooled)", "percent_agreement")]
    assert pooled["value"] == pytest.approx(7 / 8) and pooled["n_units"] == 8
    # one codebook (round 2) still knows from introduced_in that n did not exist in round 1
    with pytest.warns(RoundWarning):
        compute_agreement(codings, codebook=two, n_boot=0)


def test_coders_rounds_and_methods_are_explicit() -> None:
    from toolkit.errors import CodingError

    codings, one, two = _rounds()
    with pytest.raises(CodingError, match="'rules' holds rules codings: rules is a method"):
        compute_agreement(codings, coders=["curator", "rules"])
    methods = compute_agreement(codings, methods=["human", "rules"], coders=["student"],
                                codebook=two, n_boot=0)
    assert methods.attrs["raters"] == ["human", "rules"]
    with pytest.raises(CodingError, match="has codings of \\['curator', 'student'\\]"):
        compute_agreement(codings, methods=["human", "rules"])
    with pytest.raises(AgreementError, match="1 human coders"):
        compute_agreement(codings, rounds=[2])
    with pytest.raises(CodingError, match="add the round-2 codebook"):
        compute_agreement(codings, codebook=[one, one.__class__("r", "3", 3, one.codes)])
