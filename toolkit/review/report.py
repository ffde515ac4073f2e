"""The report of one run of the method on a review: ``report.html``.

Built from what the run found (:class:`toolkit.review.pipeline.Results`): every table and
figure comes with one or two generated sentences saying what it shows
(:mod:`toolkit.report.describe`), codes appear by their labels, limitations are stated
where they apply, and the evidence behind each theme folds away, one row per statement.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from toolkit.report import describe
from toolkit.report.html import (
    escape,
    render_details,
    render_figure,
    render_page,
    render_table,
)
from toolkit.triangulation import UNKNOWN, TriangulationTable, evidence_for

if TYPE_CHECKING:  # pragma: no cover
    from toolkit.review.pipeline import Results

__all__ = ["render_report"]

_STATUS_CLASS = {"corroborated": "ok", "unsupported": "warn"}


def _works(n: int) -> str:
    return f"{n} work has" if n == 1 else f"{n} works have"


def _says(text: str) -> str:
    return f"<p class='says'>{escape(text)}</p>"


def _note(text: str) -> str:
    return f"<p class='note'>{escape(text)}</p>"


def _header(results: Results) -> list[str]:
    review = results.review
    publication = review.protocol.get("publication") or {}
    parts = []
    if publication:
        author, year = publication.get("author", "?"), publication.get("year", "?")
        parts.append(f"<h1>Reproduction of {escape(author)} ({escape(year)})</h1>")
        venue = publication.get("journal", "")
        issue = (f" {escape(publication.get('volume', ''))}"
                 f"({escape(publication.get('issue', ''))})"
                 if publication.get("volume") else "")
        doi = f", doi:{escape(publication['doi'])}" if publication.get("doi") else ""
        parts.append(f"<p><i>{escape(publication.get('title', review.title))}</i>, "
                     f"{escape(venue)}{issue}{doi}.</p>")
    else:
        parts.append(f"<h1>{escape(review.title)}</h1>")
    if review.protocol.get("description"):
        parts.append(f"<p>{escape(review.protocol['description'])}</p>")
    return parts


def _what_was_done(results: Results) -> list[str]:
    review, book = results.review, results.book
    parts = ["<h2>What was done</h2>"]
    method = review.protocol.get("method")
    steps = method.get("steps", []) if isinstance(method, dict) else (method or [])
    if steps:
        parts.append("<p>The review's method, as it describes it:</p><ol>" + "".join(
            f"<li>{escape(s.get('description', s) if isinstance(s, dict) else s)}</li>"
            for s in steps) + "</ol>")
    about = (review.protocol.get("report") or {}).get("about")
    if about:
        parts.append(f"<p>{escape(about)}</p>")
    source = {"abstracts": "the records' abstracts", "documents": "the full texts",
              "evidence": "the statements of the evidence table"}[review.segment_source]
    unit = {"whole": "one segment each", "sentence": "one segment per sentence",
            "paragraph": "one segment per paragraph", "page": "one segment per page"}[
        review.segment_unit]
    loaded = review.loaded
    files = loaded.blocks["source_file"].nunique() if loaded is not None else 0
    removed = len(review.dedup.log) if review.dedup is not None else 0
    coders = sorted(results.human["coder"].unique()) if results.human is not None else []
    coding = (f"coded by hand by {describe.join_words(coders)} and again by the rule coder "
              "(the codebook's patterns)" if coders else
              "coded by the rule coder only (the codebook's patterns): no person has coded "
              "them yet")
    facts = (f"This run loaded {len(review.records)} works from {files} "
             f"file{'s' if files != 1 else ''}"
             + (f" ({removed} duplicate record{'s' if removed != 1 else ''} merged)"
                if review.dedup is not None else "")
             + f"; cut {source} into {unit} ({len(results.segments)} segments); "
             f"{coding} with the codebook {book.name!r} (round {book.round}: {len(book)} "
             f"codes in {len(book.themes())} themes)"
             + ("; fitted a topic model" if results.model is not None else "")
             + "; and built the tables below. Every number here was computed by slr "
             "reproduce; the tables are also in tables/ as CSV, XLSX, LaTeX and Markdown.")
    parts.append(f"<p>{escape(facts)}</p>")
    questions = review.questions()
    if len(questions):
        parts.append("<h3>Questions</h3><ul>" + "".join(
            f"<li>RQ{escape(r.rq)}: {escape(r.question)}</li>"
            for r in questions.itertuples()) + "</ul>")
    return parts


def _corpus(results: Results) -> list[str]:
    review, plain, figures = results.review, results.plain, results.figures
    records = review.records
    parts = ["<h2>The works</h2>",
             _says(describe.describe_counts(plain["works_by_source_group"], "source_group",
                                            len(records))),
             render_table(plain["works_by_source_group"]),
             render_figure(figures["works_by_source_type"],
                           "Works per source type (as the loader or review.yaml assigns it)."),
             render_figure(figures["works_by_year"], "Works per publication year.")]
    if "database_overlap" in plain:
        parts += ["<h3>Databases</h3>", _says(describe.describe_overlap(
            plain["database_overlap"])), render_table(plain["database_overlap"])]
    if len(results.skipped):
        rows = render_table(results.skipped.reset_index(drop=True), index=False)
        parts.append(render_details(
            f"<b>{_works(len(results.skipped))} no text to code</b> (not segmented)", rows))
    return parts


def _search(results: Results) -> list[str]:
    parts = ["<h2>Search and selection (PRISMA 2020)</h2>"]
    if results.search is not None:
        parts += ["<p>The search log of review.yaml beside what each database's export "
                  "held when loaded:</p>", render_table(results.search.reset_index(drop=True),
                                                        index=False)]
    flow = results.flow
    parts += [_says(describe.describe_prisma(flow)),
              render_table(flow.drop(columns=["stage"]).assign(
                  count=flow["count"].astype(object).where(flow["count"].notna(), "?")),
                  index=False),
              render_figure(results.figures["prisma_flow"])]
    return parts


def _status_table(wide: pd.DataFrame, labels: dict[str, str]) -> str:
    html = render_table(wide, labels=labels)
    for status, css in _STATUS_CLASS.items():
        html = html.replace(f'<td class="txt">{status}</td>',
                            f'<td class="txt {css}">{status}</td>')
    return html


def _triangulation(results: Results, labels: dict[str, str]) -> list[str]:
    settings, parts = results.settings, []
    basis = ("the human coding" if results.analysis_from == "human" else
             "the rule coder's codings (no human coding yet)")
    for i, table in enumerate(results.sources):
        by = table.name.removeprefix("source_triangulation_")
        parts += [f"<h2>Data-source triangulation by {escape(by.replace('_', ' '))}</h2>",
                  _says(describe.describe_source_triangulation(
                      table.wide, table.by, settings.min_groups, labels)),
                  _note(f"Works supporting each theme per {by.replace('_', ' ')}, from "
                        f"{basis}; a theme is corroborated when at least "
                        f"{settings.min_groups} groups support it with at least "
                        f"{settings.min_works} work{'s' if settings.min_works > 1 else ''} "
                        "each."),
                  _status_table(table.wide, labels)]
        name = "source_triangulation" if i == 0 else table.name
        if name in results.figures:
            parts.append(render_figure(results.figures[name]))
    if results.cases is not None:
        parts += ["<h2>Cross-case analysis</h2>",
                  _says(describe.describe_cross_case(results.cases.wide, labels)),
                  _note("Segments coded with both the theme (row) and the case (column); "
                        "the cases are declared in review.yaml."),
                  render_table(results.cases.wide, labels=labels),
                  render_figure(results.figures["cross_case"])]
    questions = {str(r.rq): r.question for r in results.review.questions().itertuples()}
    for table in results.coverage:
        title = ("Coverage of the guiding questions" if table.by == "rq"
                 else f"Coverage by {table.by.replace('_', ' ')}")
        parts += [f"<h2>{escape(title)}</h2>",
                  _says(describe.describe_coverage(table.wide, table.by, table.value,
                                                   labels, questions)),
                  render_table(table.wide, labels=labels)]
        if table.by == "rq" and "coverage_rq" in results.figures:
            parts.append(render_figure(results.figures["coverage_rq"]))
    return parts


def _coding(results: Results, labels: dict[str, str]) -> list[str]:
    parts: list[str] = []
    people = results.people
    if results.investigator is not None and people is not None:
        coders = list(people.coders)
        parts += ["<h2>Investigator triangulation: agreement between coders</h2>",
                  _says(describe.describe_agreement(results.people_agree, labels, coders)),
                  _note("Per theme, with 95% bootstrap intervals over segments, on the "
                        "segments every coder saw and the themes every coder's round had."),
                  render_table(results.plain["agreement_between_coders"], labels=labels)]
        if people.consensus is not None:
            parts += [_note(f"Before and after adjudication: each coder against the "
                            f"consensus coding ({people.consensus}), which the analysis uses "
                            f"where it decided, and {people.primary}'s coding elsewhere."),
                      render_table(results.investigator.wide, labels=labels)]
    elif "investigator" in results.notes:
        parts += ["<h2>Investigator triangulation</h2>",
                  f"<p class='note'>{escape(results.notes['investigator'])}</p>"]
    if results.agree is not None:
        parts += ["<h2>Method triangulation</h2>",
                  "<h3>Agreement between the human coding and the rule coder</h3>",
                  _says(describe.describe_agreement(results.agree, labels,
                                                    ["the human coding", "the rule coder"])),
                  _note("Per theme, with 95% bootstrap intervals over segments. The rule "
                        "coder is a method, not a second investigator."),
                  render_table(results.plain["agreement_by_theme"], labels=labels)]
    if results.method is not None:
        parts += ["<h3>Human coding, rules and topic model per theme</h3>" if results.agree
                  is not None else "<h2>Method triangulation</h2>",
                  _says(describe.describe_method(results.method.wide, labels)),
                  _note("Per theme: segments the human coder and the rules coded, both, the "
                        "rules' precision and recall, Cohen's kappa between them, and the "
                        "topic that best matches the theme's segments (Jaccard index)."),
                  render_table(results.method.wide, labels=labels)]
    if results.metrics is not None:
        parts += ["<h3>Rule coder against the human coding, per theme</h3>",
                  _says(describe.describe_rule_metrics(results.metrics, labels))]
        if results.settings.rule_scores == "in-sample":
            parts.append("<p class='warn'>These scores are in-sample: the codebook's patterns "
                         "were written while coding these same segments, so they overstate "
                         "how well the rules would code new texts.</p>")
        parts.append(render_table(results.metrics, labels=labels, index=False))
    if "coding" in results.notes:
        parts += ["<h2>Coding</h2>", f"<p class='warn'>{escape(results.notes['coding'])}</p>"]
    return parts


def _topics(results: Results, labels: dict[str, str]) -> list[str]:
    parts = ["<h2>Topic model</h2>"]
    if results.model is None:
        return parts + [_says(results.notes.get("topics", "No topic model was fitted."))]
    stability = results.stability
    stop = results.settings.stop_words or ()
    origin = ("listed in review.yaml" if results.settings.stop_words_from == "review.yaml"
              else "found in at least half of the segments")
    parts += [_says(describe.describe_topics(results.topic_table, len(results.segments))),
              _note("Topics found by BERTopic in the segments, with how well each holds up "
                    "when the model is refitted with other seeds and on random subsets of "
                    "80% of the segments (stability: mean Jaccard index of the "
                    "best-matching refit topic; Hennig, 2007: below 0.6 unstable, 0.85 and "
                    f"above stable). Words left out of the keywords ({origin}): "
                    + (", ".join(stop) if stop else "none") + "."),
              render_table(results.topic_table, index=False),
              f"<p class='{'warn' if stability.verdict == 'unstable' else 'says'}'>"
              f"{escape(stability.message)}</p>",
              "<h3>Best topic for each theme</h3>",
              render_table(results.alignment["best_per_theme"], labels=labels, index=False)]
    if "topics_by_source_group" in results.figures:
        parts.append(render_figure(results.figures["topics_by_source_group"]))
    return parts


def _memos_of(results: Results, kind: str, targets: set[str] | None = None
              ) -> list[Any]:
    memos = results.memos
    if memos is None or memos.empty:
        return []
    rows = memos[memos["kind"] == kind]
    if targets is not None:
        rows = rows[rows["target"].isin(targets)]
    return list(rows.itertuples(index=False))


def _memo(row: Any, labels: dict[str, str] | None = None) -> str:
    """One memo as a note: what it annotates, its title and author, then its text."""
    about = ""
    if labels is not None and row.kind in ("code", "document"):
        about = f"on {escape(labels.get(str(row.target), row.target))}: "
    head = " &middot; ".join(escape(v) for v in (row.title, row.author)
                             if v is not None and v is not pd.NA and str(v))
    text = "<br>".join(escape(line) for line in str(row.text).splitlines())
    return (f"<div class='note'><b>Memo</b> {about}{head}"
            f"{'<br>' if head or about else ''}{text}</div>")


def _review_memos(results: Results) -> list[str]:
    rows = _memos_of(results, "review")
    if not rows:
        return []
    return ["<h2>Memos on the review</h2>", *(_memo(r) for r in rows)]


def _document_memos(results: Results) -> list[str]:
    rows = _memos_of(results, "document")
    if not rows:
        return []
    records = results.review.records
    titles = (dict(zip(records["record_id"].astype(str), records["title"].astype(str),
                       strict=True)) if "title" in records.columns else {})
    return ["<h2>Memos on documents</h2>", *(_memo(r, {k: f"{k} ({v})" for k, v in
                                                       titles.items()}) for r in rows)]


def _where(value: Any) -> str:
    return "" if value is None or value is pd.NA else escape(value)


def _statement_rows(table: TriangulationTable, theme: str, groups: list[str],
                    results: Results) -> tuple[int, str]:
    """One row per statement behind a theme: the text, its works and their groups."""
    segments, records = results.segments, results.review.records
    rows: dict[str, dict[str, Any]] = {}
    for group in groups:
        evidence = evidence_for(table, theme, group, segments=segments, records=records)
        for r in evidence.itertuples(index=False):
            row = rows.setdefault(str(r.segment_id), {
                "where": getattr(r, "section", None) if "section" in evidence.columns
                else getattr(r, "page", None), "text": r.text, "works": {}})
            work = getattr(r, "record_id", None)
            if work is not None and work is not pd.NA:
                year = getattr(r, "year", None)
                year = "" if year is None or year is pd.NA else f", {year}"
                row["works"][str(work)] = f"{work} ({group}{year})"
    if not rows:
        return 0, ""
    where = "section" if "section" in segments.columns else "page" \
        if "page" in segments.columns else ""
    head = (f"<th>segment</th>{f'<th>{where}</th>' if where else ''}<th>statement</th>"
            "<th>works (group)</th>")
    notes = {str(m.target): m for m in _memos_of(results, "segment", set(rows))}
    body = "".join(
        f"<tr><td class='txt'>{escape(sid)}</td>"
        + (f"<td class='txt'>{_where(row['where'])}</td>" if where else "")
        + f"<td class='txt'>{escape(row['text'])}"
        + (_memo(notes[sid]) if sid in notes else "") + "</td>"
        f"<td class='txt'>{escape('; '.join(row['works'].values()))}</td></tr>"
        for sid, row in sorted(rows.items()))
    return len(rows), (f'<div class="scroll"><table class="tbl"><thead><tr>{head}</tr>'
                       f"</thead><tbody>{body}</tbody></table></div>")


def _evidence(results: Results, labels: dict[str, str]) -> list[str]:
    if not results.sources:
        return []
    table = results.sources[0]
    groups = [c for c in table.wide.columns if c not in ("groups_supporting", "status")]
    parts = ["<h2>Evidence behind each theme</h2>",
             _note("Open a theme to read the statements coded with it, one row per "
                   "statement, with the works behind it and their group.")]
    for theme, status in table.wide["status"].items():
        count, rows = _statement_rows(table, str(theme), groups, results)
        if not count:
            continue
        supporting = [g for g in groups if g != UNKNOWN and table.wide.loc[theme, g] > 0]
        css = _STATUS_CLASS.get(str(status), "")
        summary = (f"<b>{escape(labels.get(str(theme), theme))}</b> &middot; "
                   f"<span class='{css}'>{escape(status)}</span>"
                   + (f" ({escape(describe.join_words(supporting))})" if supporting else "")
                   + f" &middot; {count} statement{'s' if count != 1 else ''}")
        codes = {c.id for c in results.book.codes
                 if c.id == theme or c.id.startswith(f"{theme}.")}
        notes = "".join(_memo(m, labels) for m in _memos_of(results, "code", codes))
        parts.append(render_details(summary, notes + rows))
    unsupported = [labels.get(str(t), str(t)) for t, s in table.wide["status"].items()
                   if s == "unsupported"]
    if unsupported:
        parts.append(_note(f"No statement supports {describe.join_words(unsupported, limit=20)}."))
    return parts


def _limitations(results: Results) -> list[str]:
    review, items = results.review, []
    method = review.protocol.get("method")
    if isinstance(method, dict):
        items += [str(x) for x in method.get("limitations", [])]
    items += [str(x) for x in (review.protocol.get("report") or {}).get("limitations", [])]
    if results.analysis_from == "rules":
        items.append("No person has coded the segments yet: every table rests on the rule "
                     "coder, whose patterns match words, not meaning.")
    elif results.people is not None and len(results.people.coders) < 2:
        items.append("One person coded the segments; agreement is measured against the rule "
                     "coder, not against a second person.")
    if results.metrics is not None and results.settings.rule_scores == "in-sample":
        items.append("The rule coder's precision and recall are in-sample (its patterns were "
                     "written on these segments).")
    if results.stability is not None and results.stability.verdict != "stable":
        items.append(f"Topics are {results.stability.verdict} under refitting: "
                     + results.stability.message)
    if "topics" in results.notes:
        items.append(results.notes["topics"])
    if len(results.skipped):
        items.append(f"{_works(len(results.skipped))} no text to code and "
                     f"{'is' if len(results.skipped) == 1 else 'are'} not represented in the "
                     "coded tables: " + ", ".join(results.skipped["record_id"].astype(str)[:10])
                     + ".")
    unknown = results.flow["count"].isna().sum() if results.flow is not None else 0
    if unknown:
        items.append(f"{unknown} PRISMA counts are not known from the data and stay unknown.")
    items += [w for w in results.warnings
              if not (len(results.skipped) and "gave no segment" in w)]
    if not items:
        return []
    return ["<h2>Limitations</h2><ul>" + "".join(f"<li>{escape(i)}</li>" for i in items)
            + "</ul>"]


def render_report(results: Results) -> str:
    """Write the report of one run as a self-contained HTML page."""
    labels = {code.id: code.label for code in results.book}
    parts = [*_header(results), *_what_was_done(results), *_review_memos(results),
             *_corpus(results), *_search(results), *_triangulation(results, labels),
             *_coding(results, labels), *_topics(results, labels), *_evidence(results, labels),
             *_document_memos(results), *_limitations(results)]
    return render_page(f"Report: {results.review.title}", parts)
