"""Disagreement review and adjudication: a sheet of what coders disagree on, a consensus back.

The usual way two coders settle their differences: list every segment and code where they
differ, with each coder's decision and memo; an adjudicator (or the coders together)
decides each one; the decisions, with what they agreed on anyway, make a **consensus
coding**. The consensus is saved under its own coder name with ``method="consensus"``, so
it never replaces anyone's coding (see :func:`toolkit.coding.save_codings`).

1. :func:`compute_disagreements` -> a table, one row per (segment, code) in dispute;
2. :func:`write_adjudication_sheet` -> CSV or XLSX with an empty ``decision`` column;
3. :func:`read_adjudication_sheet` -> the consensus codings;
4. :func:`combine_with_consensus` -> one human coding for the analyses: the consensus
   where there is one, the chosen coder elsewhere.

Codes that only some coders could use (introduced in a later round than another coder's
codebook) are listed too, marked ``n/a`` for those who could not use them: the adjudicator
decides them like any other.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from toolkit._io import atomic_write_bytes, atomic_write_text
from toolkit._spreadsheet import frame_to_csv, frames_to_xlsx, read_table
from toolkit.coding.presence import code_presence
from toolkit.coding.raters import Rater, common_codes, select_raters
from toolkit.coding.store import make_codings
from toolkit.errors import CodingError

__all__ = ["compute_disagreements", "write_adjudication_sheet", "read_adjudication_sheet",
           "combine_with_consensus", "DECISIONS"]

#: Accepted spellings of a decision (case-insensitive): apply the code, or do not.
DECISIONS = {"yes": True, "y": True, "apply": True, "1": True, "true": True, "x": True,
             "no": False, "n": False, "reject": False, "0": False, "false": False}
_FIXED = ("segment_id", "text", "code_id", "label", "note")
_DECIDE = ("decision", "decision_memo")


def _memos(rater: Rater) -> dict[str, str]:
    if "memo" not in rater.codings.columns:
        return {}
    memos = rater.codings.dropna(subset=["memo"])
    return {segment: " | ".join(dict.fromkeys(group["memo"].astype(str)))
            for segment, group in memos.groupby("segment_id")}


def _compare(codings: pd.DataFrame, coders: Sequence[str] | None, rounds: Sequence[int] | None,
             codebook: object | None, where: str
             ) -> tuple[tuple[Rater, ...], pd.DataFrame, list[str] | None, list[str]]:
    raters = select_raters(codings, coders=coders, rounds=rounds, codebook=codebook,
                           where=where)
    if len(raters) < 2:
        raise CodingError(f"{where}: {len(raters)} human coder(s) ({[r.name for r in raters]}); "
                          "adjudication needs two or more (name them with coders=[...])")
    common, left = common_codes(raters, where=where)
    every = None if common is None else sorted(set(common) | set(left))
    frame = pd.concat([r.codings.assign(coder=r.name) for r in raters], ignore_index=True)
    presence = code_presence(frame, codes=every, by="coder")
    seen_by_all = presence.notna().all(axis=1)
    return raters, presence[seen_by_all], common, left


def compute_disagreements(codings: pd.DataFrame, segments: pd.DataFrame, *,
                          coders: Sequence[str] | None = None,
                          rounds: Sequence[int] | None = None,
                          codebook: object | None = None) -> pd.DataFrame:
    """List each segment and code on which the coders differ.

    Only segments every coder saw are compared. A code some coder could not use (not in
    that coder's round) is listed when another coder applied it, marked ``n/a``.

    Parameters
    ----------
    codings : DataFrame
        Codings of two or more people (see :func:`toolkit.coding.select_raters`).
    segments : DataFrame
        ``segment_id`` and ``text``.
    coders, rounds : optional
        Which coders and rounds to compare (default: every human coder).
    codebook : Codebook or sequence of Codebook, optional
        The codebook of each round (labels, and which codes each coder could use).

    Returns
    -------
    DataFrame
        ``segment_id, text, code_id, label, note``, then per coder ``<coder> applied``
        (``yes``/``no``/``n/a``) and ``<coder> memo``, then empty ``decision`` and
        ``decision_memo`` columns, sorted by segment and code.

    Raises
    ------
    CodingError
        For fewer than two coders, or raters that cannot be chosen as asked.

    Examples
    --------
    >>> from toolkit.coding import make_codings
    >>> codings = make_codings([
    ...     {"segment_id": "s1", "code_id": "a", "coder": "ann", "round": 1, "method": "human"},
    ...     {"segment_id": "s1", "code_id": "b", "coder": "bob", "round": 1, "method": "human"}])
    >>> table = compute_disagreements(codings, pd.DataFrame({"segment_id": ["s1"],
    ...                                                      "text": ["Some text."]}))
    >>> table[["code_id", "ann applied", "bob applied"]].values.tolist()
    [['a', 'yes', 'no'], ['b', 'no', 'yes']]
    """
    raters, presence, common, left = _compare(codings, coders, rounds, codebook,
                                              "compute_disagreements")
    return _disagreements(raters, presence, common, left, segments)


def _disagreements(raters: tuple[Rater, ...], presence: pd.DataFrame,
                   common: list[str] | None, left: list[str],
                   segments: pd.DataFrame) -> pd.DataFrame:
    texts = dict(zip(segments["segment_id"], segments["text"], strict=True))
    book = next((r.codebook for r in reversed(raters) if r.codebook is not None), None)
    memos = {r.name: _memos(r) for r in raters}
    rows = []
    for (segment, code), values in presence.iterrows():
        usable = [r for r in raters if common is None or code in common or code in
                  (r.codes() or ())]
        applied = {r.name: int(values[r.name]) for r in usable}
        if len(set(applied.values())) < 2 and (len(usable) == len(raters) or
                                               not any(applied.values())):
            continue
        row = {"segment_id": segment, "text": texts.get(segment, pd.NA), "code_id": code,
               "label": book[code].label if book is not None and code in book else pd.NA,
               "note": pd.NA if len(usable) == len(raters) else
               "only " + ", ".join(r.name for r in usable) + " could use this code"}
        for rater in raters:
            row[f"{rater.name} applied"] = ("yes" if applied[rater.name] else "no") \
                if rater.name in applied else "n/a"
            row[f"{rater.name} memo"] = memos[rater.name].get(segment, pd.NA)
        row.update(decision="", decision_memo="")
        rows.append(row)
    columns = [*_FIXED, *(f"{r.name} {k}" for r in raters for k in ("applied", "memo")),
               *_DECIDE]
    frame = pd.DataFrame(rows, columns=columns)
    if left:
        frame.attrs["left_out"] = left
    return frame.sort_values(["segment_id", "code_id"], kind="stable").reset_index(drop=True)


def write_adjudication_sheet(disagreements: pd.DataFrame, path: str | Path, *,
                             overwrite: bool = False) -> Path:
    """Write the disagreements as a CSV or XLSX sheet to fill in ``decision``.

    The sheet goes through the toolkit's spreadsheet writers, so text a spreadsheet would
    run as a formula is neutralised (see :mod:`toolkit._spreadsheet`). ``.xlsx`` files get
    a second sheet, ``how to decide``, explaining the columns.

    Raises
    ------
    CodingError
        For a suffix other than ``.csv`` or ``.xlsx``.
    toolkit._io.OutputExistsError
        When the file exists and ``overwrite`` is False.
    """
    path = Path(path)
    if path.suffix.lower() == ".csv":
        return atomic_write_text(path, frame_to_csv(disagreements), overwrite=overwrite)
    if path.suffix.lower() == ".xlsx":
        help_rows = pd.DataFrame({"column": ["<coder> applied", "<coder> memo", "decision",
                                             "decision_memo"],
                                  "meaning": ["yes: the coder applied the code; no: did not; "
                                              "n/a: the code did not exist in that coder's "
                                              "round",
                                              "the coder's memo on the segment",
                                              "fill in yes (apply the code) or no",
                                              "why (kept with the consensus coding)"]})
        data = frames_to_xlsx([("adjudication", disagreements, False),
                               ("how to decide", help_rows, False)],
                              widths={"adjudication": {"B": 70, "D": 30}})
        return atomic_write_bytes(path, data, overwrite=overwrite)
    raise CodingError(f"{path}: an adjudication sheet is .csv or .xlsx")


def read_adjudication_sheet(path: str | Path, codings: pd.DataFrame, *,
                            coders: Sequence[str] | None = None,
                            rounds: Sequence[int] | None = None,
                            codebook: object | None = None, consensus: str = "consensus",
                            round: int | None = None,  # noqa: A002
                            created_at: str | None = None) -> pd.DataFrame:
    """Read a decided adjudication sheet back as a consensus coding.

    For every segment all coders saw, the consensus holds the codes they all applied plus
    the codes decided ``yes``; a segment left with no code gets one row with an empty
    ``code_id`` (seen, nothing applies). The sheet is checked against the codings it was
    made from: every disagreement must be decided, and no row may name a pair that is not
    in dispute.

    Parameters
    ----------
    path : str or Path
        The filled sheet (``.csv`` or ``.xlsx``).
    codings : DataFrame
        The codings the sheet was made from.
    coders, rounds, codebook : optional
        As given to :func:`compute_disagreements`.
    consensus : str, default "consensus"
        Coder name of the consensus coding; must not be the name of anyone who coded.
    round : int, optional
        Round of the consensus coding; default the latest round of the coders compared.
    created_at : str, optional
        Timestamp for the rows; default now (UTC).

    Returns
    -------
    DataFrame
        Codings (:data:`toolkit.coding.CODING_COLUMNS`), ``coder=consensus``,
        ``method="consensus"``; ``memo`` holds the decision memo where there is one.

    Raises
    ------
    CodingError
        Listing every undecided row, unknown decision and row that is not a disagreement
        (spreadsheet row numbers, header = 1); also for a consensus name already in use.
    """
    path = Path(path)
    if path.suffix.lower() not in (".csv", ".xlsx"):
        raise CodingError(f"{path}: an adjudication sheet is .csv or .xlsx")
    taken = sorted(set(codings["coder"].dropna()))
    if consensus in taken:
        raise CodingError(f"{path}: consensus name {consensus!r} is already a coder in these "
                          f"codings ({taken}); choose another name, so no one's coding is "
                          "replaced")
    extra = {"sheet_name": "adjudication"} if path.suffix.lower() == ".xlsx" else {}
    sheet = read_table(path, error=CodingError, dtype=str, keep_default_na=False, **extra)
    missing = [c for c in ("segment_id", "code_id", "decision") if c not in sheet.columns]
    if missing:
        raise CodingError(f"{path}: missing column(s) {missing}; keep the sheet's header row")
    raters, presence, common, left = _compare(codings, coders, rounds, codebook,
                                              "read_adjudication_sheet")
    expected = _disagreements(raters, presence, common, left,
                              pd.DataFrame({"segment_id": [], "text": []}))
    open_pairs = set(zip(expected["segment_id"], expected["code_id"], strict=True))
    problems: list[str] = []
    decided: dict[tuple[str, str], tuple[bool, str | None]] = {}
    for index, row in sheet.iterrows():
        line = int(index) + 2
        key = (row["segment_id"].strip(), row["code_id"].strip())
        if key not in open_pairs:
            problems.append(f"row {line}: segment {key[0]!r} and code {key[1]!r} are not a "
                            "disagreement of these codings (was the sheet made from others?)")
            continue
        answer = row["decision"].strip().lower()
        if not answer:
            problems.append(f"row {line}: no decision for {key[0]} / {key[1]}; write yes or no")
            continue
        if answer not in DECISIONS:
            problems.append(f"row {line}: decision {row['decision']!r} is not yes or no")
            continue
        memo = str(row.get("decision_memo", "")).strip() or None
        decided[key] = (DECISIONS[answer], memo)
    undecided = sorted(open_pairs - set(decided) - {
        (s.strip(), c.strip()) for s, c in zip(sheet["segment_id"], sheet["code_id"],
                                               strict=True)})
    problems.extend(f"segment {s} / code {c}: missing from the sheet; add it with a decision"
                    for s, c in undecided)
    if problems:
        raise CodingError(f"{path}: {len(problems)} problem(s):\n- " + "\n- ".join(problems))
    stamp = created_at or datetime.now(UTC).isoformat(timespec="seconds")
    round_ = round if round is not None else max(
        (r.round for r in raters if r.round is not None), default=None)
    rows = []
    for segment, block in presence.groupby(level="segment_id", sort=True):
        codes = []
        for (_, code), values in block.iterrows():
            if (segment, code) in decided:
                apply, memo = decided[(segment, code)]
                if apply:
                    codes.append((code, memo))
            elif values.fillna(0).astype(int).all():
                codes.append((code, None))
        for code, memo in codes or [(None, None)]:
            rows.append({"segment_id": segment, "code_id": code, "coder": consensus,
                         "round": round_, "method": "consensus", "memo": memo,
                         "created_at": stamp})
    return make_codings(rows)


def combine_with_consensus(primary: pd.DataFrame, consensus: pd.DataFrame) -> pd.DataFrame:
    """One human coding: the consensus on the segments it covers, ``primary`` elsewhere.

    Parameters
    ----------
    primary : DataFrame
        The coding used where there is no consensus (usually one coder's).
    consensus : DataFrame
        A consensus coding (:func:`read_adjudication_sheet`).

    Returns
    -------
    DataFrame
        Codings; rows keep their own coder, round and method, so the source of each
        decision stays visible.

    Examples
    --------
    >>> from toolkit.coding import make_codings
    >>> ann = make_codings([{"segment_id": s, "code_id": "a", "coder": "ann", "round": 1,
    ...                      "method": "human"} for s in ("s1", "s2")])
    >>> agreed = make_codings([{"segment_id": "s2", "code_id": "b", "coder": "consensus",
    ...                         "round": 1, "method": "consensus"}])
    >>> combine_with_consensus(ann, agreed)[["segment_id", "code_id", "coder"]].values.tolist()
    [['s1', 'a', 'ann'], ['s2', 'b', 'consensus']]
    """
    covered = set(consensus["segment_id"])
    kept = primary[~primary["segment_id"].isin(covered)]
    return make_codings(pd.concat([kept, consensus], ignore_index=True)).sort_values(
        ["segment_id", "coder"], kind="stable").reset_index(drop=True)
