"""What changed between two codebook versions, and when new codes stopped appearing."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from toolkit.codebook.model import Code, Codebook
from toolkit.errors import CodingError

__all__ = ["diff_codebooks", "compute_saturation", "compute_codes_per_round", "DIFF_COLUMNS"]

#: Columns of :func:`diff_codebooks`.
DIFF_COLUMNS = ("change", "code_id", "old_id", "detail")
_ORDER = {"added": 0, "removed": 1, "retired": 2, "renamed": 3, "merged": 4, "split": 5,
          "moved": 6, "label_changed": 7, "definition_changed": 8, "patterns_changed": 9}


def _definition(code: Code) -> tuple[str, str, str, tuple[str, ...]]:
    return code.definition, code.include, code.exclude, code.examples


def diff_codebooks(old: Codebook, new: Codebook) -> pd.DataFrame:
    """List the changes from ``old`` to ``new``, using the new codes' lineage.

    Lineage accumulates over rounds (a code renamed in round 2 still says so in round 3),
    so only the links that connect the two codebooks given count: a rename or merge whose
    source is a code of ``old`` that ``new`` no longer has, a split from a code of ``old``
    into a code ``old`` did not have. Comparing round 2 with round 3 therefore lists only
    what changed in round 3.

    Parameters
    ----------
    old, new : Codebook

    Returns
    -------
    DataFrame
        Columns :data:`DIFF_COLUMNS`, one row per change, sorted by kind then code:
        ``added`` (no lineage link), ``removed`` (gone and not carried on by any lineage),
        ``retired`` (gone, recorded in ``new.retired``; ``detail`` holds the reason),
        ``renamed``, ``merged`` (one row per source code), ``split`` (one row per new code),
        ``moved`` (other parent), ``label_changed``, ``definition_changed`` (definition,
        include, exclude or examples), ``patterns_changed``.

    Examples
    --------
    >>> from toolkit.codebook import Code, Codebook, Lineage
    >>> old = Codebook("x", "1", 1, (Code("a", "A"), Code("b", "B"), Code("c", "C")))
    >>> new = Codebook("x", "2", 2, (Code("ab", "AB", lineage=Lineage(merged_from=("a", "b"))),
    ...                              Code("d", "D", introduced_in=2)))
    >>> diff_codebooks(old, new)[["change", "code_id", "old_id"]].values.tolist()
    [['added', 'd', <NA>], ['removed', <NA>, 'c'], ['merged', 'ab', 'a'], ['merged', 'ab', 'b']]
    """
    rows: list[tuple[str, str | None, str | None, str]] = []
    carried: set[str] = set()
    renamed_to = {old_id: code.id for code in new.codes for old_id in code.lineage.renamed_from}
    for code in new.codes:
        predecessors: list[tuple[str, str]] = []
        for old_id in code.lineage.renamed_from:
            if old_id in old and old_id not in new:
                predecessors.append(("renamed", old_id))
        for old_id in code.lineage.merged_from:
            if old_id in old and old_id not in new:
                predecessors.append(("merged", old_id))
        split_from = code.lineage.split_from
        if split_from and split_from in old and code.id not in old:
            predecessors.append(("split", split_from))
        for kind, old_id in predecessors:
            carried.add(old_id)
            rows.append((kind, code.id, old_id, f"{old[old_id].label} -> {code.label}"))
        base_id = code.id if code.id in old else next(
            (o for k, o in predecessors if k == "renamed"), None)
        if base_id is None:
            if not predecessors:
                rows.append(("added", code.id, None, code.label))
            continue
        before = old[base_id]
        if renamed_to.get(before.parent or "", before.parent) != code.parent:
            rows.append(("moved", code.id, base_id, f"parent {before.parent} -> {code.parent}"))
        if before.label != code.label:
            rows.append(("label_changed", code.id, base_id, f"{before.label} -> {code.label}"))
        if _definition(before) != _definition(code):
            fields = [f for f, a, b in zip(("definition", "include", "exclude", "examples"),
                                           _definition(before), _definition(code), strict=True)
                      if a != b]
            rows.append(("definition_changed", code.id, base_id, ", ".join(fields)))
        if before.patterns != code.patterns:
            rows.append(("patterns_changed", code.id, base_id,
                         f"{len(before.patterns)} -> {len(code.patterns)} patterns"))
    retired = {r.id: r for r in new.retired}
    for code in old.codes:
        if code.id not in new and code.id not in carried:
            if code.id in retired:
                reason = retired[code.id].reason
                rows.append(("retired", None, code.id,
                             f"{code.label}: {reason}" if reason else code.label))
            else:
                rows.append(("removed", None, code.id, code.label))
    frame = pd.DataFrame(rows, columns=list(DIFF_COLUMNS)).astype(
        {"change": "string", "code_id": "string", "old_id": "string", "detail": "string"})
    frame["_order"] = frame["change"].map(_ORDER)
    frame = frame.sort_values(["_order", "code_id", "old_id"], kind="stable", na_position="first")
    return frame.drop(columns="_order").reset_index(drop=True)


def compute_codes_per_round(codebooks: Sequence[Codebook]) -> pd.DataFrame:
    """Count new and total codes per round across successive codebook versions.

    Returns
    -------
    DataFrame
        Columns ``round, version, codes, new_codes, carried_over, dropped``: ``new_codes``
        are codes whose ``introduced_in`` is that round.
    """
    rows = []
    previous: Codebook | None = None
    for book in sorted(codebooks, key=lambda b: b.round):
        new = sum(c.introduced_in == book.round for c in book.codes)
        dropped = 0
        if previous is not None:
            diff = diff_codebooks(previous, book)
            dropped = int(diff["change"].isin(["removed", "retired"]).sum())
        rows.append((book.round, book.version, len(book.codes), new, len(book.codes) - new,
                     dropped))
        previous = book
    return pd.DataFrame(rows, columns=["round", "version", "codes", "new_codes", "carried_over",
                                       "dropped"])


def compute_saturation(codings: pd.DataFrame, *, batch_size: int = 10,
                       segment_order: Sequence[str] | None = None) -> pd.DataFrame:
    """Count new codes per batch of segments coded: the classic saturation curve.

    Parameters
    ----------
    codings : DataFrame
        Long coding table with ``segment_id`` and ``code_id``.
    batch_size : int, default 10
        Segments per batch.
    segment_order : sequence of str, optional
        The order in which segments were coded; default: order of first appearance.

    Returns
    -------
    DataFrame
        Columns ``batch, first_segment, last_segment, segments, new_codes, cumulative_codes``.

    Raises
    ------
    CodingError
        For ``batch_size < 1`` or missing columns.

    Examples
    --------
    >>> codings = pd.DataFrame({"segment_id": ["s1", "s1", "s2", "s3"],
    ...                         "code_id": ["a", "b", "a", "c"]})
    >>> curve = compute_saturation(codings, batch_size=2)
    >>> curve[["batch", "new_codes", "cumulative_codes"]].values.tolist()
    [[1, 2, 2], [2, 1, 3]]
    """
    if batch_size < 1:
        raise CodingError(f"compute_saturation: batch_size is {batch_size}; use 1 or more")
    missing = {"segment_id", "code_id"} - set(codings.columns)
    if missing:
        raise CodingError(f"compute_saturation: codings lack columns {sorted(missing)}")
    coded = codings.dropna(subset=["code_id"])
    order = list(segment_order) if segment_order is not None else list(
        dict.fromkeys(codings["segment_id"]))
    by_segment = coded.groupby("segment_id")["code_id"].apply(set).to_dict()
    seen: set[str] = set()
    rows = []
    for start in range(0, len(order), batch_size):
        batch = order[start:start + batch_size]
        new: set[str] = set()
        for segment in batch:
            new |= by_segment.get(segment, set()) - seen
        seen |= new
        rows.append((start // batch_size + 1, batch[0], batch[-1], len(batch), len(new),
                     len(seen)))
    return pd.DataFrame(rows, columns=["batch", "first_segment", "last_segment", "segments",
                                       "new_codes", "cumulative_codes"])
