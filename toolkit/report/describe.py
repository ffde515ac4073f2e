"""Sentences that say what a table shows, generated from the table itself.

Each ``describe_*`` function reads one table and returns one or two plain sentences for a
reader who will not read the table cell by cell ("No policy source supports the themes
Challenges and Recognition."). Code ids are written as their labels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

__all__ = ["join_words", "describe_counts", "describe_source_triangulation",
           "describe_cross_case", "describe_coverage", "describe_agreement",
           "describe_rule_metrics", "describe_method", "describe_topics", "describe_prisma",
           "describe_overlap"]

_META = ("groups_supporting", "status")
#: Up to this many groups, each group's missing themes are named one by one.
_FEW_GROUPS = 5
_METRIC_NAMES = {"cohen_kappa": "Cohen's kappa", "krippendorff_alpha": "Krippendorff's alpha",
                 "fleiss_kappa": "Fleiss' kappa"}


def join_words(items: Sequence[str], *, limit: int = 6) -> str:
    """Join words for a sentence: "a", "a and b", "a, b and c", "a, b, ... and 4 more".

    Examples
    --------
    >>> join_words(["x"]), join_words(["x", "y", "z"]), join_words(list("abcdefgh"), limit=3)
    ('x', 'x, y and z', 'a, b, c and 5 more')
    """
    items = [str(i) for i in items]
    if len(items) > limit:
        return ", ".join(items[:limit]) + f" and {len(items) - limit} more"
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else plural or word + 's'}"


def _label(value: object, labels: Mapping[str, str]) -> str:
    return labels.get(str(value), str(value))


def describe_counts(counts: pd.DataFrame, by: str, total: int) -> str:
    """One sentence on a ``by, records`` count table (:func:`toolkit.compute_counts`)."""
    known = counts[counts[by] != "(missing)"]
    missing = int(counts.loc[counts[by] == "(missing)", "records"].sum())
    if known.empty:
        return f"None of the {total} works has a {by.replace('_', ' ')}."
    parts = [f"{r[by]} {r['records']}" for _, r in known.head(6).iterrows()]
    text = (f"The {total} works fall into {_plural(len(known), 'value')} of "
            f"{by.replace('_', ' ')}: {join_words(parts)}.")
    if missing:
        text += f" {_plural(missing, 'work')} {'has' if missing == 1 else 'have'} none."
    return text


def describe_source_triangulation(wide: pd.DataFrame, by: str, min_groups: int,
                                  labels: Mapping[str, str]) -> str:
    """Say how many themes are corroborated, and which groups support nothing.

    Examples
    --------
    >>> wide = pd.DataFrame({"academic": [3, 1], "policy": [2, 0],
    ...                      "groups_supporting": [2, 1],
    ...                      "status": ["corroborated", "single-group"]},
    ...                     index=pd.Index(["cost", "access"], name="theme"))
    >>> text = describe_source_triangulation(wide, "source_group", 2, {"cost": "Cost"})
    >>> for sentence in text.split(", "):
    ...     print(sentence)
    Of 2 themes
    1 is corroborated by at least 2 source groups (Cost)
    1 rests on a single source group (access). No policy source supports access.
    """
    groups = [c for c in wide.columns if c not in _META and c != "unknown"]
    noun = by.replace("_", " ").removesuffix("s") if by != "databases" else "database"
    status = wide["status"]
    named = {s: [_label(t, labels) for t in status.index[status == s]]
             for s in ("corroborated", "partly corroborated", "single-group",
                       "unknown group only", "unsupported")}
    parts = []
    if named["corroborated"]:
        n = len(named["corroborated"])
        parts.append(f"{n} {'is' if n == 1 else 'are'} corroborated by at least "
                     f"{_plural(min_groups, noun)} ({join_words(named['corroborated'])})")
    if named["partly corroborated"]:
        parts.append(f"{len(named['partly corroborated'])} "
                     f"{'is' if len(named['partly corroborated']) == 1 else 'are'} supported by "
                     f"more than one {noun} but fewer than {min_groups} "
                     f"({join_words(named['partly corroborated'])})")
    if named["single-group"]:
        parts.append(f"{len(named['single-group'])} "
                     f"{'rests' if len(named['single-group']) == 1 else 'rest'} on a single "
                     f"{noun} ({join_words(named['single-group'])})")
    if named["unknown group only"]:
        n = len(named["unknown group only"])
        parts.append(f"{n} {'rests' if n == 1 else 'rest'} only on works of no known {noun} "
                     f"({join_words(named['unknown group only'])})")
    if named["unsupported"]:
        parts.append(f"{len(named['unsupported'])} "
                     f"{'has' if len(named['unsupported']) == 1 else 'have'} no support "
                     f"({join_words(named['unsupported'])})")
    text = f"Of {_plural(len(wide), 'theme')}, " + ", ".join(parts) + "."
    supported = wide[~status.isin(["unsupported", "unknown group only"])]
    if len(groups) <= _FEW_GROUPS:
        for group in groups:
            absent = [_label(t, labels) for t in supported.index[supported[group] == 0]]
            if absent and len(absent) < len(supported):
                text += f" No {group} source supports {join_words(absent)}."
            elif absent:
                text += f" No {group} source supports any theme."
    elif len(supported):
        reach = {g: int((supported[g] > 0).sum()) for g in groups}
        widest = sorted(groups, key=lambda g: (-reach[g], g))[:3]
        text += (f" Of the {len(groups)} {noun}s, " + join_words(
            [f"{g} supports {reach[g]} of the {len(supported)} supported themes"
             for g in widest]) + ".")
    if "unknown" in wide.columns and wide["unknown"].sum():
        text += (f" Works without a {noun} form the unknown column; they never count towards "
                 "corroboration.")
    return text


def describe_cross_case(wide: pd.DataFrame, labels: Mapping[str, str]) -> str:
    """Name the strongest theme-case pairing and the cases no theme reaches."""
    if wide.empty or not wide.to_numpy().sum():
        return "No segment is coded with both a theme and a case."
    stacked = wide.stack()
    (theme, case), top = stacked.idxmax(), int(stacked.max())
    text = (f"The most frequent pairing is {_label(theme, labels)} in the case "
            f"{_label(case, labels)} ({_plural(top, 'segment')}).")
    empty = [_label(c, labels) for c in wide.columns if not wide[c].sum()]
    if empty:
        text += f" No coded theme appears with {join_words(empty)}."
    return text


def describe_coverage(wide: pd.DataFrame, by: str, value: str,
                      labels: Mapping[str, str], questions: Mapping[str, str] | None = None
                      ) -> str:
    """Say which columns (questions, years, ...) the themes cover, and which they miss."""
    totals = wide.sum(axis=0)
    if by == "rq":
        uncovered = [f"question {c}" for c in wide.columns if not totals[c]]
        top = totals.idxmax()
        text = (f"Question {top} draws the most coded {value} ({int(totals[top])}).")
        if uncovered:
            text += f" No theme covers {join_words(uncovered)}."
        else:
            text += " Every question is covered by at least one theme."
        return text
    known = [c for c in wide.columns if c != "unknown" and totals[c]]
    if not known:
        return f"No coded {value} has a known {by}."
    top = max(known, key=lambda c: (totals[c], c))
    text = (f"Coded {value} span {by} values {known[0]} to {known[-1]}; the most are in "
            f"{top} ({int(totals[top])}).") if by == "year" else (
        f"The most coded {value} are in {top} ({int(totals[top])}).")
    thin = [_label(t, labels) for t in wide.index if wide.loc[t].sum() == 0]
    if thin:
        text += f" {join_words(thin)} {'has' if len(thin) == 1 else 'have'} none."
    return text


def describe_agreement(table: pd.DataFrame, labels: Mapping[str, str],
                       raters: Sequence[str]) -> str:
    """Pooled agreement between the raters, and the themes they agree on least."""
    long = table[table["metric"] == "cohen_kappa"] if "cohen_kappa" in set(table["metric"]) \
        else table[table["metric"] == "krippendorff_alpha"]
    if long.empty:
        return "Agreement could not be computed."
    metric = _METRIC_NAMES.get(str(long["metric"].iloc[0]), str(long["metric"].iloc[0]))
    pooled = long[long["code_id"] == "(pooled)"]
    themes = long[~long["code_id"].isin(["(pooled)", "(mean)"])].dropna(subset=["value"])
    text = f"Between {join_words(list(raters))}"
    if len(pooled) and pd.notna(pooled["value"].iloc[0]):
        row = pooled.iloc[0]
        text += f", pooled {metric} is {row['value']:.2f}"
        if pd.notna(row.get("ci_low")):
            text += f" (95% interval {row['ci_low']:.2f} to {row['ci_high']:.2f})"
    text += "."
    if len(themes):
        low = themes.sort_values(["value", "code_id"]).head(2)
        text += (" They agree least on " + join_words(
            [f"{_label(r.code_id, labels)} ({r.value:.2f})" for r in low.itertuples()]) + ".")
    return text


def describe_rule_metrics(metrics: pd.DataFrame, labels: Mapping[str, str]) -> str:
    """Overall precision and recall of the rule coder, and its weakest theme."""
    overall = metrics[metrics["code_id"] == "(all)"]
    text = ""
    if len(overall):
        row = overall.iloc[0]
        if pd.notna(row["precision"]) and pd.notna(row["recall"]):
            text = (f"Over all themes the rules find {float(row['recall']):.0%} of what the "
                    f"human coder coded (recall), and {float(row['precision']):.0%} of what "
                    "they find is right (precision).")
    themes = metrics[(metrics["code_id"] != "(all)") & metrics["f1"].notna()]
    if len(themes):
        worst = themes.sort_values(["f1", "code_id"]).iloc[0]
        text += (f" They do worst on {_label(worst['code_id'], labels)} "
                 f"(F1 {float(worst['f1']):.2f}).")
    return text.strip() or "The rules and the human coding share no theme to compare."


def describe_method(wide: pd.DataFrame, labels: Mapping[str, str]) -> str:
    """Where the human coding and the rules agree most and least."""
    kappa = wide["kappa"].dropna()
    if kappa.empty:
        return "Human and rule coding could not be compared."
    best, worst = kappa.idxmax(), kappa.idxmin()
    return (f"Human coding and the rules agree most on {_label(best, labels)} (kappa "
            f"{kappa[best]:.2f}) and least on {_label(worst, labels)} (kappa "
            f"{kappa[worst]:.2f}).")


def describe_topics(topic_table: pd.DataFrame, n_segments: int) -> str:
    """How many topics, how many outliers, and the largest topic's words."""
    topics = topic_table[topic_table["topic"] >= 0]
    outliers = int(topic_table.loc[topic_table["topic"] < 0, "size"].sum())
    if topics.empty:
        return (f"The topic model put all {n_segments} segments among the outliers: it "
                "found no topic.")
    top = topics.sort_values(["size", "topic"], ascending=[False, True]).iloc[0]
    words = ", ".join(str(top["keywords"]).split(", ")[:4])
    return (f"The topic model found {_plural(len(topics), 'topic')} in {n_segments} segments "
            f"and left {outliers} as outliers (topic -1); the largest, topic {top['topic']} "
            f"({top['size']} segments), is about {words}.")


def describe_prisma(flow: pd.DataFrame) -> str:
    """Give the identified, removed and included counts, and the boxes that stay unknown."""
    counts = flow.set_index("box")["count"]
    known = {b: int(v) for b, v in counts.items() if not pd.isna(v)}
    text = []
    if "records_identified" in known:
        text.append(f"{known['records_identified']} records were identified")
    if "duplicates_removed" in known:
        text.append(f"{known['duplicates_removed']} duplicates removed")
    if "records_screened" in known:
        text.append(f"{known['records_screened']} records screened")
    if "studies_included" in known:
        text.append(f"{known['studies_included']} studies included")
    unknown = flow.loc[flow["count"].isna(), "label"].str.lower().tolist()
    sentence = (join_words(text) + ".").capitalize() if text else "No count is known."
    if unknown:
        sentence += (f" {_plural(len(unknown), 'count')} {'is' if len(unknown) == 1 else 'are'}"
                     f" not known from the data and {'stays' if len(unknown) == 1 else 'stay'}"
                     f" unknown ('?'): {join_words(unknown, limit=4)}.")
    return sentence


def describe_overlap(overlap: pd.DataFrame) -> str:
    """How many works each database found, and how many only one found."""
    diagonal = {d: int(overlap.loc[d, d]) for d in overlap.index}
    only = {d: int(overlap.loc[d, "only"]) for d in overlap.index}
    parts = [f"{d} {n} ({only[d]} found by no other)" for d, n in diagonal.items()]
    return f"Works found per database: {join_words(parts, limit=8)}."
