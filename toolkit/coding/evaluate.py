"""Precision, recall and F1 of rule-based coding against a human coder."""

from __future__ import annotations

from typing import Literal

import pandas as pd

from toolkit.codebook.model import Codebook
from toolkit.coding.presence import lift_to_themes
from toolkit.errors import CodingError

__all__ = ["compute_rule_metrics", "METRIC_COLUMNS"]

#: Columns of :func:`compute_rule_metrics`.
METRIC_COLUMNS = ("code_id", "support", "predicted", "tp", "fp", "fn", "precision", "recall",
                  "f1")


def compute_rule_metrics(rules: pd.DataFrame, human: pd.DataFrame, *,
                         codebook: Codebook | None = None,
                         level: Literal["code", "theme"] = "code") -> pd.DataFrame:
    """Per-code precision, recall and F1 of rule codings, with the human coding as truth.

    Both tables are reduced to segment-level presence, on the segments the human coder saw.
    precision = tp / (tp + fp), recall = tp / (tp + fn), F1 = 2PR / (P + R); a ratio with a
    zero denominator is <NA>, not 0, so "never predicted" is not confused with "always
    wrong". The last row, ``(all)``, pools every (segment, code) decision (micro average).

    Parameters
    ----------
    rules, human : DataFrame
        Codings tables.
    codebook : Codebook, optional
        Needed for ``level="theme"``; with a codebook every code of it is listed, even
        codes no one applied.
    level : {"code", "theme"}
        Compare codes, or the themes they belong to.

    Returns
    -------
    DataFrame
        Columns :data:`METRIC_COLUMNS`; ``support`` is the number of segments the human gave
        the code, ``predicted`` the number the rules gave it.

    Examples
    --------
    >>> human = pd.DataFrame({"segment_id": ["s1", "s2", "s3"], "code_id": ["a", "a", None]})
    >>> rules = pd.DataFrame({"segment_id": ["s1", "s3"], "code_id": ["a", "a"]})
    >>> row = compute_rule_metrics(rules, human).iloc[0]
    >>> (int(row["tp"]), int(row["fp"]), int(row["fn"]), float(row["precision"]),
    ...  float(row["recall"]))
    (1, 1, 1, 0.5, 0.5)
    """
    for name, frame in (("rules", rules), ("human", human)):
        if not {"segment_id", "code_id"} <= set(frame.columns):
            raise CodingError(f"compute_rule_metrics: {name} codings need segment_id and "
                              "code_id")
    if level == "theme":
        if codebook is None:
            raise CodingError("compute_rule_metrics: level='theme' needs the codebook")
        rules, human = lift_to_themes(rules, codebook), lift_to_themes(human, codebook)
    seen = set(human["segment_id"])
    truth = {(s, c) for s, c in zip(human["segment_id"], human["code_id"], strict=True)
             if isinstance(c, str)}
    predicted = {(s, c) for s, c in zip(rules["segment_id"], rules["code_id"], strict=True)
                 if s in seen and isinstance(c, str)}
    if codebook is not None:
        codes = [c.id for c in codebook.codes]
        if level == "theme":
            codes = [c.id for c in codebook.themes()]
    else:
        codes = sorted({c for _, c in truth | predicted if isinstance(c, str)})
    rows = []
    totals = [0, 0, 0]
    for code in codes:
        t = {s for s, c in truth if c == code}
        p = {s for s, c in predicted if c == code}
        tp, fp, fn = len(t & p), len(p - t), len(t - p)
        totals = [totals[0] + tp, totals[1] + fp, totals[2] + fn]
        rows.append((code, len(t), len(p), tp, fp, fn, *_prf(tp, fp, fn)))
    tp, fp, fn = totals
    rows.append(("(all)", tp + fn, tp + fp, tp, fp, fn, *_prf(tp, fp, fn)))
    frame = pd.DataFrame(rows, columns=list(METRIC_COLUMNS))
    for column in ("precision", "recall", "f1"):
        frame[column] = frame[column].astype("Float64").round(3)
    return frame


def _prf(tp: int, fp: int, fn: int) -> tuple[float | None, float | None, float | None]:
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    if precision is None or recall is None or precision + recall == 0:
        f1 = None if precision is None or recall is None else 0.0
    else:
        f1 = 2 * precision * recall / (precision + recall)
    return precision, recall, f1
