"""The tables a de-duplication returns: kept records, merge log, pairs, uncertain, sources."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from toolkit.corpus._dedupe_clusters import Clusters
from toolkit.corpus._dedupe_compare import Evidence, evidence_text
from toolkit.corpus._dedupe_fields import database_labels
from toolkit.types import (
    DEDUP_LOG_COLUMNS,
    DEDUP_PAIR_COLUMNS,
    DEDUP_SOURCE_COLUMNS,
    RECORD_COLUMNS,
)

__all__ = ["build_tables", "pairs_frame", "sources_frame", "uncertain_frame", "SIDE_BY_SIDE"]

_FILLABLE = ("title", "authors", "year", "month", "venue", "publisher", "volume", "issue",
             "pages", "doi", "url", "abstract", "keywords", "note")


def _filled_mask(column: pd.Series) -> list[bool]:
    """Return, per value, whether it is filled (not missing, blank or an empty tuple)."""
    if column.dtype == object:
        return [bool(v) if isinstance(v, (tuple, list)) else not (
            v is None or v is pd.NA or (isinstance(v, float) and v != v)
            or (isinstance(v, str) and not v.strip())) for v in column.tolist()]
    filled = column.notna()
    if pd.api.types.is_string_dtype(column.dtype):
        filled &= column.str.strip().ne("").fillna(False)
    return filled.astype(bool).tolist()


def build_tables(frame: pd.DataFrame, clusters: Clusters, roots: list[int],
                 rows: dict[tuple[int, int], list[Any]], *, fill: bool, stats: dict[str, int],
                 groups_only: bool = False) -> tuple[pd.DataFrame | None, ...]:
    """Build the outputs of a de-duplication from its groups and decisions.

    Returns ``(records, log, pairs, uncertain, sources)``; ``stats`` gains ``works``,
    ``merged_pairs`` and ``uncertain_pairs``. With ``groups_only`` (the groups of a part
    of the records, as :mod:`toolkit.scale.dedupe` joins them) ``rows`` is not read,
    ``pairs`` and ``uncertain`` are ``None`` and ``stats`` gains ``works`` only.
    """
    n = len(frame)
    groups: dict[int, list[int]] = {}
    for i, root in enumerate(roots):
        groups.setdefault(root, []).append(i)
    values = {c: frame[c].tolist() for c in _FILLABLE if c in frame.columns}
    filled = {c: _filled_mask(frame[c]) for c in values}
    completeness = np.sum([np.array(m, dtype=np.int32) for m in filled.values()], axis=0) \
        if filled else np.zeros(n, np.int32)
    record_ids = [str(r) for r in frame["record_id"]]
    titles = frame["title"].tolist()
    where = _where_all(frame)
    databases = database_labels(frame)
    kept_of = [0] * n
    log_rows: list[list[Any]] = []
    source_rule = ["kept"] * n
    kept_rows: list[int] = []
    work_databases: dict[int, tuple[str, ...]] = {}
    for members in groups.values():
        kept = max(members, key=lambda i: (int(completeness[i]), -i))
        kept_rows.append(kept)
        work_databases[kept] = tuple(sorted({databases[i] for i in members}))
        for i in members:
            kept_of[i] = kept
            if i == kept:
                continue
            matched, rule, ev, by = clusters.edge.get(i, (kept, "review", None, "review"))
            source_rule[i] = rule
            filled_now = []
            if fill:
                for column in values:
                    if not filled[column][kept] and filled[column][i]:
                        values[column][kept] = values[column][i]
                        filled[column][kept] = True
                        filled_now.append(column)
            log_rows.append([
                record_ids[kept], record_ids[i], rule,
                np.nan if ev is None or ev.title_score is None else ev.title_score,
                record_ids[matched], ", ".join(filled_now), titles[kept], titles[i],
                where[kept], where[i], by, databases[i], *_evidence_values(ev),
            ])
    kept_frame = frame.copy()
    if fill:
        for column, column_values in values.items():
            kept_frame[column] = pd.Series(column_values, dtype=frame[column].dtype)
    keep_sorted = sorted(kept_rows)
    kept_frame = kept_frame.loc[keep_sorted].reset_index(drop=True)
    kept_frame = kept_frame[[c for c in RECORD_COLUMNS if c in kept_frame.columns]
                            + [c for c in kept_frame.columns if c not in RECORD_COLUMNS]]
    kept_frame["databases"] = pd.Series([work_databases[i] for i in keep_sorted], dtype=object)

    log = pd.DataFrame(log_rows, columns=list(DEDUP_LOG_COLUMNS))
    log = log.astype({"score": "float64", "year_diff": "Int64", "author_overlap": "float64",
                      "abstract_score": "float64"})
    log = log.sort_values(["kept_id", "removed_id"], kind="stable").reset_index(drop=True)

    sources = sources_frame(frame, [record_ids[kept_of[i]] for i in range(n)], record_ids,
                            databases, source_rule)
    if groups_only:
        stats.update(works=len(kept_frame))
        return kept_frame, log, None, None, sources
    pairs = pairs_frame(rows, record_ids, roots)
    uncertain = uncertain_frame(frame, rows, roots, databases)
    stats.update(works=len(kept_frame),
                 merged_pairs=int(sum(r[0] == "merge" for r in rows.values())),
                 uncertain_pairs=len(uncertain))
    return kept_frame, log, pairs, uncertain, sources


def sources_frame(frame: pd.DataFrame, kept_ids: list[str], record_ids: list[str],
                  databases: list[str], rules: list[str]) -> pd.DataFrame:
    """Return the sources table of ``frame``'s records: the work each ended in, and why."""
    n = len(frame)
    return pd.DataFrame({
        "kept_id": kept_ids,
        "source_record_id": record_ids,
        "source_file": frame["source_file"].tolist() if "source_file" in frame.columns
        else [None] * n,
        "source_line": frame["source_line"].tolist() if "source_line" in frame.columns
        else [None] * n,
        "database": databases,
        "rule": rules,
    }, columns=list(DEDUP_SOURCE_COLUMNS)).astype({"source_line": "Int64"})


def _evidence_values(ev: Evidence | None) -> list[Any]:
    if ev is None:
        return ["", *([None] * 10)]
    return [evidence_text(ev), ev.title, ev.doi, ev.first_author, ev.author_overlap,
            ev.year_diff, ev.venue, ev.volume, ev.issue, ev.pages, ev.abstract_score]


def pairs_frame(rows: dict[tuple[int, int], list[Any]], record_ids: Any,
                roots: Any) -> pd.DataFrame:
    """Return the pairs table of ``rows``, in position order.

    ``record_ids[i]`` and ``roots[i]`` (the work of record ``i``) are looked up for the
    positions in ``rows`` only, so a mapping or array over some positions will do.
    """
    data = []
    for (i, j), (decision, rule, reason, by, ev) in sorted(rows.items()):
        data.append([record_ids[i], record_ids[j], decision, rule, reason, by,
                     roots[i] == roots[j], ev.title_score, "", ev.title, ev.doi,
                     ev.first_author, ev.author_overlap, ev.year_diff, ev.venue, ev.volume,
                     ev.issue, ev.pages, ev.abstract_score, ev.kind, ev.preprint])
    pairs = pd.DataFrame(data, columns=[*DEDUP_PAIR_COLUMNS, "_kind", "_preprint"])
    pairs = pairs.astype({"merged": bool, "score": "float64", "year_diff": "Int64",
                          "author_overlap": "float64", "abstract_score": "float64"})
    pairs["evidence"] = _evidence_column(pairs)
    return pairs.drop(columns=["_kind", "_preprint"])


def _evidence_column(pairs: pd.DataFrame) -> pd.Series:
    """:func:`evidence_text` for a whole pairs table at once (same words)."""
    if not len(pairs):
        return pd.Series([], dtype=object)
    text = np.where(pairs["score"].isna(), "title missing",
                    "title " + pairs["score"].astype(str) + " (" + pairs["title_match"] + ")")
    text = text + "; doi " + pairs["doi_match"] + "; first author " + \
        pairs["first_author_match"]
    text = text + np.where(pairs["author_overlap"].isna(), "",
                           "; authors overlap " + pairs["author_overlap"].astype(str))
    text = text + np.where(pairs["year_diff"].isna(), "; year missing",
                           "; year +" + pairs["year_diff"].astype(str))
    for name in ("venue", "volume", "issue", "pages"):
        text = text + f"; {name} " + pairs[f"{name}_match"]
    text = text + np.where(pairs["abstract_score"].isna(), "",
                           "; abstract " + pairs["abstract_score"].astype(str))
    text = text + np.where(pairs["_kind"] == "differ", "; one is a notice", "")
    text = text + np.where(pairs["_preprint"] == "differ", "; one is a preprint", "")
    return pd.Series(text, index=pairs.index, dtype=object)


#: Fields shown side by side for an uncertain pair (review sheet order).
SIDE_BY_SIDE = ("title", "authors", "year", "venue", "volume", "issue", "pages", "doi",
                "database", "source", "abstract")


def uncertain_frame(frame: pd.DataFrame, rows: dict[tuple[int, int], list[Any]],
                    roots: Any, databases: list[str]) -> pd.DataFrame:
    """One row per pair of works with an uncertain link: the strongest pair of records.

    Works a person already kept apart are left out, so a decided question does not come back.
    """
    apart = {(min(roots[i], roots[j]), max(roots[i], roots[j]))
             for (i, j), row in rows.items() if row[3] == "review" and row[0] == "distinct"}
    best: dict[tuple[int, int], tuple[float, int, int]] = {}
    for (i, j), row in rows.items():
        if row[0] != "uncertain" or roots[i] == roots[j]:
            continue
        works = (min(roots[i], roots[j]), max(roots[i], roots[j]))
        if works in apart:
            continue
        key = (-(row[4].title_score or 0.0), i, j)
        if works not in best or key < best[works]:
            best[works] = key
    picked = [(i, j, rows[(i, j)]) for _score, i, j in sorted(best.values())]
    where = _where_all(frame) if picked else []
    wanted = [c for c in ("record_id", *SIDE_BY_SIDE) if c in frame.columns]
    lists = {c: frame[c].tolist() for c in wanted} if picked else {}

    def value(i: int, name: str) -> Any:
        if name == "database":
            return databases[i]
        if name == "source":
            return where[i]
        if name not in lists:
            return None
        raw = lists[name][i]
        if isinstance(raw, tuple):
            return "; ".join(raw)
        if raw is None or raw is pd.NA or (isinstance(raw, float) and raw != raw):
            return None
        if name == "abstract":
            return str(raw)[:300]
        return raw

    data = []
    for i, j, (_decision, rule, reason, _by, ev) in picked:
        row: dict[str, Any] = {"record_id_1": str(lists["record_id"][i]),
                               "record_id_2": str(lists["record_id"][j]),
                               "rule": rule, "reason": reason,
                               "score": np.nan if ev.title_score is None else ev.title_score,
                               "evidence": evidence_text(ev)}
        for name in SIDE_BY_SIDE:
            row[f"{name}_1"] = value(i, name)
            row[f"{name}_2"] = value(j, name)
        data.append(row)
    columns = ["record_id_1", "record_id_2", "rule", "reason", "score", "evidence"] + [
        f"{name}_{side}" for name in SIDE_BY_SIDE for side in (1, 2)]
    uncertain = pd.DataFrame(data, columns=columns)
    return uncertain.sort_values(["score", "record_id_1", "record_id_2"],
                                 ascending=[False, True, True], kind="stable"
                                 ).reset_index(drop=True)


def _where_all(frame: pd.DataFrame) -> list[str]:
    n = len(frame)
    sources = frame["source_file"].tolist() if "source_file" in frame.columns else [None] * n
    lines = frame["source_line"].tolist() if "source_line" in frame.columns else [None] * n
    out = []
    for source, line in zip(sources, lines, strict=True):
        if source is None or source is pd.NA:
            out.append("")
        elif line is None or line is pd.NA:
            out.append(str(source))
        else:
            out.append(f"{source}:{line}")
    return out
