r"""Inter-rater agreement, with bootstrap confidence intervals.

Percent agreement, Cohen's and Fleiss' kappa, Krippendorff's alpha and Gwet's AC1 on
nominal codes; Cohen's weighted kappa (linear, quadratic) on ordinal judgements.

Every function takes ``ratings``: a units x raters array (list of lists, NumPy array or
DataFrame) whose cells are category labels, with ``None``/``NaN`` where a rater did not rate
a unit. Units rated by fewer than two raters carry no information about agreement and are
left out (Cohen's kappa, a two-rater statistic, uses the units both raters rated).

Notation: for unit :math:`i`, :math:`n_{ik}` raters chose category :math:`k` out of
:math:`n_i = \sum_k n_{ik}`; :math:`q` is the number of categories.

The bootstrap resamples units with replacement (``n_boot`` times, ``random_state=0`` by
default) and reports percentile intervals. For nominal data all five coefficients are
computed from per-unit counts, so each bootstrap replicate is a weighted sum and the
whole resampling is one matrix product.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from toolkit.codebook.model import Codebook
from toolkit.errors import AgreementError

__all__ = [
    "percent_agreement",
    "cohen_kappa",
    "fleiss_kappa",
    "krippendorff_alpha",
    "gwet_ac1",
    "weighted_kappa",
    "compute_agreement",
    "compute_ordinal_agreement",
    "agreement_table",
    "METRICS",
    "AGREEMENT_COLUMNS",
]

Metric = Literal["percent_agreement", "cohen_kappa", "fleiss_kappa", "krippendorff_alpha",
                 "gwet_ac1"]
#: Metrics computed by :func:`compute_agreement`, in order.
METRICS: tuple[str, ...] = ("percent_agreement", "cohen_kappa", "fleiss_kappa",
                            "krippendorff_alpha", "gwet_ac1")
#: Columns of :func:`compute_agreement`.
AGREEMENT_COLUMNS = ("code_id", "metric", "value", "ci_low", "ci_high", "n_units", "n_raters")


@dataclass(frozen=True)
class _Units:
    """Per-unit category counts of the units with at least two ratings."""

    counts: np.ndarray          # units x q
    pairs: np.ndarray | None    # units x (q*q) one-hot of (rater 1, rater 2), two raters only
    categories: tuple[Any, ...]


def _matrix(ratings: Any) -> tuple[np.ndarray, list[Any]]:
    frame = pd.DataFrame(np.asarray(ratings, dtype=object))
    if frame.ndim != 2 or frame.shape[1] < 2:
        raise AgreementError("ratings must be a units x raters table with at least two raters")
    values = frame.to_numpy(dtype=object)
    mask = pd.isna(frame).to_numpy()
    categories = sorted({v for v, m in zip(values.ravel(), mask.ravel(), strict=True) if not m},
                        key=lambda v: (str(type(v)), v))
    codes = np.full(values.shape, -1, dtype=int)
    lookup = {c: i for i, c in enumerate(categories)}
    for (i, j), value in np.ndenumerate(values):
        if not mask[i, j]:
            codes[i, j] = lookup[value]
    return codes, categories


def _units(ratings: Any, categories: Sequence[Any] | None = None) -> _Units:
    codes, observed = _matrix(ratings)
    cats = list(observed)
    if categories is not None:
        extra = [c for c in observed if c not in categories]
        if extra:
            raise AgreementError(f"ratings use categories {extra} not in {list(categories)}")
        remap = {observed.index(c): list(categories).index(c) for c in observed}
        codes = np.vectorize(lambda v: remap.get(v, -1))(codes) if codes.size else codes
        cats = list(categories)
    q = max(len(cats), 1)
    rated = (codes >= 0).sum(axis=1)
    keep = rated >= 2
    counts = np.zeros((int(keep.sum()), q))
    for row, unit in enumerate(codes[keep]):
        for value in unit[unit >= 0]:
            counts[row, value] += 1
    pairs = None
    if codes.shape[1] == 2:
        both = (codes[:, 0] >= 0) & (codes[:, 1] >= 0)
        pairs = np.zeros((int(both.sum()), q * q))
        pairs[np.arange(pairs.shape[0]), codes[both, 0] * q + codes[both, 1]] = 1
    return _Units(counts, pairs, tuple(cats))


def _require(units: _Units) -> None:
    if units.counts.shape[0] == 0:
        raise AgreementError("no unit was rated by two or more raters; agreement is undefined")


def _percent(counts: np.ndarray, weights: np.ndarray) -> np.ndarray:
    n = counts.sum(axis=1)
    per_unit = (counts * (counts - 1)).sum(axis=1) / (n * (n - 1))
    return weights @ per_unit / weights.sum(axis=-1)


def _fleiss(counts: np.ndarray, weights: np.ndarray) -> np.ndarray:
    n = counts.sum(axis=1)
    p_i = (counts * (counts - 1)).sum(axis=1) / (n * (n - 1))
    p_bar = weights @ p_i / weights.sum(axis=-1)
    p_j = (weights @ counts) / (weights @ n)[..., None]
    p_e = (p_j ** 2).sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (p_bar - p_e) / (1 - p_e)


def _gwet(counts: np.ndarray, weights: np.ndarray, q: int) -> np.ndarray:
    n = counts.sum(axis=1)
    p_a = weights @ ((counts * (counts - 1)).sum(axis=1) / (n * (n - 1))) / weights.sum(axis=-1)
    pi_k = (weights @ (counts / n[:, None])) / weights.sum(axis=-1)[..., None]
    p_e = (pi_k * (1 - pi_k)).sum(axis=-1) / max(q - 1, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (p_a - p_e) / (1 - p_e)


def _alpha_nominal(counts: np.ndarray, weights: np.ndarray) -> np.ndarray:
    n = counts.sum(axis=1)
    q = counts.shape[1]
    # per-unit coincidences o_ck = n_c (n_k - [c == k]) / (n_u - 1), flattened
    coinc = (counts[:, :, None] * (counts[:, None, :] - np.eye(q)[None])) / (n - 1)[:, None, None]
    o = weights @ coinc.reshape(len(n), q * q)
    o = o.reshape(*o.shape[:-1], q, q)
    n_c = o.sum(axis=-1)
    total = n_c.sum(axis=-1)
    off = ~np.eye(q, dtype=bool)
    disagree = (o * off).sum(axis=(-2, -1))
    expected = (n_c[..., :, None] * n_c[..., None, :] * off).sum(axis=(-2, -1))
    with np.errstate(divide="ignore", invalid="ignore"):
        return 1 - (total - 1) * disagree / expected


def _cohen(pairs: np.ndarray, weights: np.ndarray, q: int) -> np.ndarray:
    table = (weights @ pairs) / weights.sum(axis=-1)[..., None]
    table = table.reshape(*table.shape[:-1], q, q)
    p_o = np.trace(table, axis1=-2, axis2=-1)
    p_e = (table.sum(axis=-1) * table.sum(axis=-2)).sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (p_o - p_e) / (1 - p_e)


def _ones(n: int) -> np.ndarray:
    return np.ones(n)


def percent_agreement(ratings: Any) -> float:
    r"""Share of agreeing rater pairs, averaged over units.

    .. math:: P_o = \frac{1}{N}\sum_i \frac{\sum_k n_{ik}(n_{ik}-1)}{n_i(n_i-1)}

    With two raters this is the share of units on which they agree.

    Examples
    --------
    >>> percent_agreement([["a", "a"], ["a", "b"], ["b", "b"], ["b", None]])
    0.6666666666666666
    """
    units = _units(ratings)
    _require(units)
    return float(_percent(units.counts, _ones(len(units.counts))))


def cohen_kappa(ratings: Any) -> float:
    r"""Cohen's kappa for two raters, on the units both rated.

    .. math:: \kappa = \frac{p_o - p_e}{1 - p_e},\quad
              p_e = \sum_k p_{k\cdot}\, p_{\cdot k}

    where :math:`p_o` is the observed share of agreement and :math:`p_{k\cdot}`,
    :math:`p_{\cdot k}` are each rater's share of category :math:`k` (Cohen, 1960).

    Examples
    --------
    >>> table = ([["yes", "yes"]] * 20 + [["yes", "no"]] * 5 + [["no", "yes"]] * 10
    ...          + [["no", "no"]] * 15)
    >>> round(cohen_kappa(table), 3)
    0.4
    """
    units = _units(ratings)
    if units.pairs is None:
        raise AgreementError("Cohen's kappa is for exactly two raters; use fleiss_kappa, "
                             "krippendorff_alpha or gwet_ac1 for more")
    if units.pairs.shape[0] == 0:
        raise AgreementError("the two raters rated no unit in common")
    q = len(units.categories)
    return float(_cohen(units.pairs, _ones(len(units.pairs)), q))


def fleiss_kappa(ratings: Any) -> float:
    r"""Fleiss' kappa for two or more raters (Fleiss, 1971).

    .. math:: \kappa = \frac{\bar P - \bar P_e}{1 - \bar P_e},\quad
              \bar P_e = \sum_k p_k^2,\quad p_k = \frac{\sum_i n_{ik}}{\sum_i n_i}

    with :math:`\bar P` as in :func:`percent_agreement`. Fleiss defined it for the same number
    of raters per unit; with missing ratings the per-unit terms use each unit's own
    :math:`n_i`.

    Examples
    --------
    >>> counts = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0],
    ...           [2, 2, 8, 1, 1], [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2],
    ...           [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]
    >>> ratings = [[k for k, n in enumerate(row) for _ in range(n)] for row in counts]
    >>> round(fleiss_kappa(ratings), 3)
    0.21
    """
    units = _units(ratings)
    _require(units)
    return float(_fleiss(units.counts, _ones(len(units.counts))))


def krippendorff_alpha(ratings: Any, level: Literal["nominal", "ordinal", "interval",
                                                    "ratio"] = "nominal") -> float:
    r"""Krippendorff's alpha (Krippendorff, 2011), any number of raters, missing allowed.

    .. math:: \alpha = 1 - \frac{D_o}{D_e}
              = 1 - (n - 1)\frac{\sum_{c}\sum_{k} o_{ck}\,\delta^2_{ck}}
                               {\sum_{c}\sum_{k} n_c\, n_k\,\delta^2_{ck}}

    with the coincidence matrix :math:`o_{ck} = \sum_u \frac{\text{pairs } (c,k) \text{ in } u}
    {m_u - 1}`, :math:`n_c = \sum_k o_{ck}`, :math:`n = \sum_c n_c`, and the difference
    function :math:`\delta^2` of the level of measurement (nominal: 0 if equal, else 1).
    Nominal alpha is computed here; the other levels use the ``krippendorff`` package
    (numeric categories required).

    Examples
    --------
    >>> nan = None
    >>> data = [[1, 1, nan, 1], [2, 2, 3, 2], [3, 3, 3, 3], [3, 3, 3, 3], [2, 2, 2, 2],
    ...         [1, 2, 3, 4], [4, 4, 4, 4], [1, 1, 2, 1], [2, 2, 2, 2], [nan, 5, 5, 5],
    ...         [nan, nan, 1, 1], [nan, 3, nan, nan]]
    >>> round(krippendorff_alpha(data), 3), round(krippendorff_alpha(data, "interval"), 3)
    (0.743, 0.849)
    """
    if level == "nominal":
        units = _units(ratings)
        _require(units)
        return float(_alpha_nominal(units.counts, _ones(len(units.counts))))
    return _alpha_package(ratings, level)


def _alpha_package(ratings: Any, level: str) -> float:
    import krippendorff

    matrix = pd.DataFrame(np.asarray(ratings, dtype=object)).apply(pd.to_numeric,
                                                                   errors="raise")
    return float(krippendorff.alpha(reliability_data=matrix.to_numpy(dtype=float).T,
                                    level_of_measurement=level))


def gwet_ac1(ratings: Any, categories: Sequence[Any] | None = None) -> float:
    r"""Gwet's AC1 (Gwet, 2008), two or more raters, missing allowed.

    .. math:: AC_1 = \frac{p_a - p_e}{1 - p_e},\quad
              p_e = \frac{1}{q-1}\sum_k \pi_k (1 - \pi_k),\quad
              \pi_k = \frac{1}{N}\sum_i \frac{n_{ik}}{n_i}

    with :math:`p_a` as :math:`P_o` in :func:`percent_agreement`. Pass ``categories`` when
    some possible categories were never used, since :math:`q` counts them.

    Examples
    --------
    >>> table = [[0, 0]] * 13 + [[1, 1]] * 20 + [[1, 2]] * 7 + [[2, 1]] * 4 + [[2, 2]] * 56
    >>> round(gwet_ac1(table), 4), round(cohen_kappa(table), 4), percent_agreement(table)
    (0.8493, 0.7964, 0.89)
    """
    units = _units(ratings, categories)
    _require(units)
    return float(_gwet(units.counts, _ones(len(units.counts)), len(units.categories)))


def _kappa_weights(q: int, weights: str) -> np.ndarray:
    if weights not in ("linear", "quadratic"):
        raise AgreementError(f"weighted kappa: weights {weights!r}; use 'linear' or "
                             "'quadratic'")
    i, j = np.indices((q, q))
    distance = np.abs(i - j) / max(q - 1, 1)
    return 1 - (distance if weights == "linear" else distance ** 2)


def _weighted(pairs: np.ndarray, weights: np.ndarray, q: int, w: np.ndarray) -> np.ndarray:
    table = (weights @ pairs) / weights.sum(axis=-1)[..., None]
    table = table.reshape(*table.shape[:-1], q, q)
    p_o = (table * w).sum(axis=(-2, -1))
    expected = table.sum(axis=-1)[..., :, None] * table.sum(axis=-2)[..., None, :]
    p_e = (expected * w).sum(axis=(-2, -1))
    with np.errstate(divide="ignore", invalid="ignore"):
        return (p_o - p_e) / (1 - p_e)


def _ordinal_units(ratings: Any, categories: Sequence[Any] | None) -> _Units:
    frame = pd.DataFrame(np.asarray(ratings, dtype=object))
    if frame.shape[1] != 2:
        raise AgreementError("weighted kappa is for exactly two raters; use "
                             "krippendorff_alpha(..., 'ordinal') for more")
    observed = {v for v in frame.to_numpy().ravel() if not pd.isna(v)}
    if categories is None:
        if not all(isinstance(v, (int, float, np.integer, np.floating)) for v in observed):
            raise AgreementError("weighted kappa: the ratings are not numbers, so their order "
                                 "is unknown; give categories=[...] from lowest to highest")
        categories = sorted(observed)
    units = _units(frame.to_numpy(dtype=object), categories=list(categories))
    if units.pairs is None or units.pairs.shape[0] == 0:
        raise AgreementError("the two raters rated no unit in common")
    return units


def weighted_kappa(ratings: Any, weights: Literal["linear", "quadratic"] = "linear", *,
                   categories: Sequence[Any] | None = None) -> float:
    r"""Cohen's weighted kappa for two raters on an ordinal scale (Cohen, 1968).

    .. math:: \kappa_w = \frac{p_{o(w)} - p_{e(w)}}{1 - p_{e(w)}},\quad
              p_{o(w)} = \sum_{jk} w_{jk}\, p_{jk},\quad
              p_{e(w)} = \sum_{jk} w_{jk}\, p_{j\cdot}\, p_{\cdot k}

    with agreement weights :math:`w_{jk} = 1 - |j-k|/(q-1)` (linear) or
    :math:`1 - (j-k)^2/(q-1)^2` (quadratic, Fleiss and Cohen, 1973), so that a near miss
    (``"moderate"`` against ``"high"``) counts as partial agreement. For ordinal judgements
    such as quality appraisal; for yes/no codes use :func:`cohen_kappa`.

    Parameters
    ----------
    ratings : array-like
        Units x 2 raters; ``None``/``NaN`` where a rater did not rate (those units are
        left out).
    weights : {"linear", "quadratic"}
    categories : sequence, optional
        The scale from lowest to highest, including levels nobody used (they change
        :math:`q`). Required when the ratings are not numbers.

    Raises
    ------
    AgreementError
        For other than two raters, unordered labels without ``categories``, labels not in
        ``categories``, or no unit rated by both.

    Examples
    --------
    >>> table = [[11, 3, 1, 0], [1, 9, 0, 1], [0, 1, 10, 0], [1, 2, 0, 10]]
    >>> ratings = [[i, j] for i, row in enumerate(table) for j, n in enumerate(row)
    ...            for _ in range(n)]
    >>> round(weighted_kappa(ratings, "linear"), 4), round(weighted_kappa(ratings, "quadratic"), 4)
    (0.7475, 0.7664)
    """
    units = _ordinal_units(ratings, categories)
    q = len(units.categories)
    return float(_weighted(units.pairs, _ones(len(units.pairs)), q,  # type: ignore[arg-type]
                           _kappa_weights(q, weights)))


def compute_ordinal_agreement(ratings: pd.DataFrame, *, categories: Sequence[Any],
                              n_boot: int = 1000, ci: float = 0.95,
                              random_state: int | None = 0) -> pd.DataFrame:
    """Agreement of two raters on an ordinal scale, with bootstrap intervals.

    Parameters
    ----------
    ratings : DataFrame
        One row per unit (e.g. a study appraised), one column per rater, cells from
        ``categories`` or missing.
    categories : sequence
        The scale from lowest to highest (e.g. ``["low", "moderate", "high"]``).
    n_boot : int, default 1000
    ci : float, default 0.95
    random_state : int or None, default 0

    Returns
    -------
    DataFrame
        Columns ``metric, value, ci_low, ci_high, n_units, n_raters``; metrics
        ``percent_agreement`` (exact matches), ``cohen_kappa`` (unweighted),
        ``weighted_kappa_linear`` and ``weighted_kappa_quadratic``, over the units both
        raters rated; intervals resample units.

    Raises
    ------
    AgreementError
        See :func:`weighted_kappa`.
    """
    units = _ordinal_units(ratings, categories)
    pairs = units.pairs
    q = len(units.categories)
    n = len(pairs)  # type: ignore[arg-type]
    rng = np.random.default_rng(random_state)
    draws = rng.multinomial(n, np.full(n, 1 / n), size=n_boot).astype(float) \
        if n_boot > 0 and n > 1 else None
    agree = pairs[:, ::q + 1].sum(axis=1)  # type: ignore[index]  # 1 where both chose alike
    functions = {
        "percent_agreement": lambda w: (w @ agree) / w.sum(axis=-1),
        "cohen_kappa": lambda w: _cohen(pairs, w, q),  # type: ignore[arg-type]
        "weighted_kappa_linear": lambda w: _weighted(pairs, w, q,  # type: ignore[arg-type]
                                                     _kappa_weights(q, "linear")),
        "weighted_kappa_quadratic": lambda w: _weighted(pairs, w, q,  # type: ignore[arg-type]
                                                        _kappa_weights(q, "quadratic")),
    }
    rows = []
    tail = (1 - ci) / 2
    for metric, fn in functions.items():
        point = float(fn(np.ones(n)))
        low = high = np.nan
        if draws is not None:
            with np.errstate(divide="ignore", invalid="ignore"):
                reps = np.asarray(fn(draws), dtype=float)
            reps = reps[np.isfinite(reps)]
            if len(reps):
                low, high = float(np.quantile(reps, tail)), float(np.quantile(reps, 1 - tail))
        rows.append((metric, point, low, high, n, 2))
    return pd.DataFrame(rows, columns=["metric", "value", "ci_low", "ci_high", "n_units",
                                       "n_raters"])


def _point_and_boot(units: _Units, metric: str, level: str, ratings: Any, n_boot: int,
                    rng: np.random.Generator, ci: float) -> tuple[float, float, float, int]:
    q = len(units.categories)
    if metric == "cohen_kappa":
        if units.pairs is None or len(units.pairs) == 0:
            return np.nan, np.nan, np.nan, 0
        data, fn = units.pairs, (lambda w: _cohen(units.pairs, w, q))
    else:
        if len(units.counts) == 0:
            return np.nan, np.nan, np.nan, 0
        data = units.counts
        fn = {"percent_agreement": lambda w: _percent(units.counts, w),
              "fleiss_kappa": lambda w: _fleiss(units.counts, w),
              "gwet_ac1": lambda w: _gwet(units.counts, w, q),
              "krippendorff_alpha": lambda w: _alpha_nominal(units.counts, w)}[metric]
    n = len(data)
    point = float(fn(np.ones(n)))
    if metric == "krippendorff_alpha" and level != "nominal":
        point = _alpha_package(ratings, level)
    if n_boot <= 0 or n < 2:
        return point, np.nan, np.nan, n
    weights = rng.multinomial(n, np.full(n, 1 / n), size=n_boot).astype(float)
    if metric == "krippendorff_alpha" and level != "nominal":
        return point, np.nan, np.nan, n  # bootstrap only for the vectorised nominal case
    with np.errstate(divide="ignore", invalid="ignore"):
        reps = np.asarray(fn(weights), dtype=float)
    reps = reps[np.isfinite(reps)]
    if len(reps) == 0:
        return point, np.nan, np.nan, n
    tail = (1 - ci) / 2
    return point, float(np.quantile(reps, tail)), float(np.quantile(reps, 1 - tail)), n


def compute_agreement(codings: pd.DataFrame, *, coders: Sequence[str] | None = None,
                      rounds: Sequence[int] | None = None,
                      methods: Sequence[str] | None = None,
                      codebook: Codebook | Sequence[Codebook] | None = None,
                      level: Literal["code", "theme"] = "code",
                      metrics: Sequence[str] = METRICS,
                      alpha_level: Literal["nominal", "ordinal", "interval",
                                           "ratio"] = "nominal",
                      n_boot: int = 1000, ci: float = 0.95,
                      random_state: int | None = 0) -> pd.DataFrame:
    """Agreement per code (or theme) and overall, on segment-level code presence.

    Each code is a yes/no decision per segment (:func:`toolkit.coding.code_presence`);
    segments a rater never saw are missing, not "no". ``(pooled)`` treats every
    (segment, code) pair as a unit, its interval resampling whole segments; ``(mean)`` is the
    unweighted mean of the per-code values (no interval).

    Who is compared is explicit (:func:`toolkit.coding.select_raters`): by default every
    human coder; rule and topic codings are methods and take part only through
    ``methods``. Each rater's codes are checked against its round's codebook, and only codes
    that existed for every rater are compared: a code introduced in round 3 cannot be
    compared with a coder who worked in round 2, so it is left out with a
    :class:`toolkit.coding.RoundWarning` naming it (``table.attrs["left_out"]`` lists them).

    Parameters
    ----------
    codings : DataFrame
        Long codings table.
    coders : sequence of str, optional
        The people to compare (default: every ``method="human"`` coder). Name a consensus
        coder here to compare with it.
    rounds : sequence of int, optional
        Use only codings of these rounds.
    methods : sequence of str, optional
        Compare methods instead, e.g. ``["human", "rules"]``; the human method must come
        down to one coder (choose it with ``coders``).
    codebook : Codebook or sequence of Codebook, optional
        The codebook of each round involved. Lists every code (so codes one rater never
        used still count), tells which codes existed in each round, and is needed for
        ``level="theme"``.
    level : {"code", "theme"}
    metrics : sequence of str
        Any of :data:`METRICS`. Cohen's kappa is reported only for exactly two raters.
    alpha_level : str
        Level of measurement for Krippendorff's alpha.
    n_boot : int, default 1000
        Bootstrap replicates (0: no intervals).
    ci : float, default 0.95
    random_state : int or None, default 0

    Returns
    -------
    DataFrame
        Long table, :data:`AGREEMENT_COLUMNS`. A coefficient that is undefined for a code
        (for instance kappa when both raters never used it) is NaN, with ``n_units`` kept.
        ``attrs["raters"]`` names the raters, ``attrs["left_out"]`` the codes left out.

    Raises
    ------
    AgreementError
        With fewer than two raters, or unknown metrics.
    toolkit.errors.CodingError
        For raters that cannot be chosen as asked (see
        :func:`toolkit.coding.select_raters`).

    Examples
    --------
    >>> from toolkit.coding import make_codings
    >>> rows = [{"segment_id": s, "code_id": c, "coder": who, "round": 1, "method": "human"}
    ...         for who, coded in (("ann", "aab"), ("bob", "abb"))
    ...         for s, c in zip(("s1", "s2", "s3"), coded)]
    >>> table = compute_agreement(make_codings(rows), metrics=["percent_agreement"], n_boot=0)
    >>> table.set_index("code_id")["value"].round(3).to_dict()
    {'a': 0.667, 'b': 0.667, '(pooled)': 0.667, '(mean)': 0.667}
    """
    from toolkit.coding.presence import code_presence, lift_to_themes
    from toolkit.coding.raters import common_codes, select_raters

    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise AgreementError(f"compute_agreement: unknown metric(s) {unknown}; choose from "
                             f"{list(METRICS)}")
    if level == "theme" and codebook is None:
        raise AgreementError("compute_agreement: level='theme' needs the codebook")
    raters = select_raters(codings, coders=coders, rounds=rounds, methods=methods,
                           codebook=codebook, where="compute_agreement")
    names = [r.name for r in raters]
    if len(names) < 2:
        kind = "methods" if methods is not None else "human coders"
        raise AgreementError(f"compute_agreement: {len(names)} {kind} to compare ({names}); "
                             "agreement needs two or more (rule codings take part only "
                             "through methods=['human', 'rules'])")
    codes, left_out = common_codes(raters, level=level, where="compute_agreement")
    if codes is not None and not codes:
        raise AgreementError(f"compute_agreement: no {level} existed for every rater "
                             f"({', '.join(f'{r.name} in round {r.round}' for r in raters)}); "
                             "check the codebooks given")
    frames = []
    for rater in raters:
        rows = rater.codings.assign(coder=rater.name)
        if level == "theme":
            rows = lift_to_themes(rows, rater.codebook)
        frames.append(rows)
    presence = code_presence(pd.concat(frames, ignore_index=True), codes=codes, by="coder")
    rng = np.random.default_rng(random_state)
    rows = []
    two = len(names) == 2
    for code, block in presence.groupby(level="code_id", sort=True):
        ratings = block.to_numpy(dtype=object)
        ratings = np.where(pd.isna(block).to_numpy(), None, ratings)
        units = _units(ratings, categories=[0, 1])
        for metric in metrics:
            if metric == "cohen_kappa" and not two:
                continue
            value, low, high, n = _point_and_boot(units, metric, alpha_level, ratings, n_boot,
                                                  rng, ci)
            rows.append((code, metric, value, low, high, n, len(names)))
    table = pd.DataFrame(rows, columns=list(AGREEMENT_COLUMNS))
    pooled_rows = _pooled(presence, metrics, two, alpha_level, n_boot, rng, ci, len(names))
    means = (table.groupby("metric", sort=False)["value"].mean().reset_index()
             .assign(code_id="(mean)", ci_low=np.nan, ci_high=np.nan,
                     n_units=table.groupby("metric", sort=False)["n_units"].sum().to_numpy(),
                     n_raters=len(names)))
    out = pd.concat([table, pooled_rows, means[list(AGREEMENT_COLUMNS)]], ignore_index=True)
    out = out.astype({"n_units": int, "n_raters": int})
    out.attrs = {"raters": names, "left_out": left_out}
    return out


def _pooled(presence: pd.DataFrame, metrics: Sequence[str], two: bool, alpha_level: str,
            n_boot: int, rng: np.random.Generator, ci: float, n_raters: int) -> pd.DataFrame:
    """Every (segment, code) pair as a unit; the bootstrap resamples whole segments."""
    values = presence.to_numpy(dtype=object)
    values = np.where(pd.isna(presence).to_numpy(), None, values)
    units = _units(values, categories=[0, 1])
    segments = presence.index.get_level_values("segment_id").to_numpy()
    rated = np.array([sum(v is not None for v in row) >= 2 for row in values])
    both = np.array([row[0] is not None and row[1] is not None for row in values]) if two \
        else rated
    unique = np.unique(segments)
    position = {s: i for i, s in enumerate(unique)}
    seg_of_count = np.array([position[s] for s in segments[rated]])
    seg_of_pair = np.array([position[s] for s in segments[both]])
    draws = rng.multinomial(len(unique), np.full(len(unique), 1 / len(unique)),
                            size=n_boot).astype(float) if n_boot > 0 else None
    rows = []
    q = 2
    for metric in metrics:
        if metric == "cohen_kappa" and not two:
            continue
        if metric == "cohen_kappa":
            data, seg_map = units.pairs, seg_of_pair
            fn = {"cohen_kappa": lambda w, d=data: _cohen(d, w, q)}[metric]
        else:
            data, seg_map = units.counts, seg_of_count
            fn = {"percent_agreement": lambda w, d=data: _percent(d, w),
                  "fleiss_kappa": lambda w, d=data: _fleiss(d, w),
                  "gwet_ac1": lambda w, d=data: _gwet(d, w, q),
                  "krippendorff_alpha": lambda w, d=data: _alpha_nominal(d, w)}[metric]
        if data is None or len(data) == 0:
            rows.append(("(pooled)", metric, np.nan, np.nan, np.nan, 0, n_raters))
            continue
        point = float(fn(np.ones(len(data))))
        low = high = np.nan
        if draws is not None:
            with np.errstate(divide="ignore", invalid="ignore"):
                reps = np.asarray(fn(draws[:, seg_map]), dtype=float)
            reps = reps[np.isfinite(reps)]
            if len(reps):
                tail = (1 - ci) / 2
                low, high = float(np.quantile(reps, tail)), float(np.quantile(reps, 1 - tail))
        rows.append(("(pooled)", metric, point, low, high, len(data), n_raters))
    return pd.DataFrame(rows, columns=list(AGREEMENT_COLUMNS))


def agreement_table(agreement: pd.DataFrame, *, digits: int = 3) -> pd.DataFrame:
    """Wide view of :func:`compute_agreement`: one row per code, ``value [low, high]`` cells."""
    def cell(row: pd.Series) -> str:
        if pd.isna(row["value"]):
            return "n/a"
        text = f"{row['value']:.{digits}f}"
        if pd.notna(row["ci_low"]):
            text += f" [{row['ci_low']:.{digits}f}, {row['ci_high']:.{digits}f}]"
        return text

    frame = agreement.assign(cell=agreement.apply(cell, axis=1))
    wide = frame.pivot(index="code_id", columns="metric", values="cell")
    order = [m for m in METRICS if m in wide.columns]
    units = agreement.groupby("code_id")["n_units"].max()
    wide = wide[order]
    wide.insert(0, "n_units", units)
    specials = [i for i in ("(pooled)", "(mean)") if i in wide.index]
    return wide.loc[[i for i in wide.index if i not in specials] + specials]
