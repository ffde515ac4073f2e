"""``reproduce``: rebuild the whole bundled review into one folder.

The folder holds tables, figures and a report, with a manifest of versions, seeds and
checksums.

The output is written into a temporary folder beside the target and moved into place only
when every stage has finished, so a failed run never leaves a folder that looks complete.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import platform
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit._io import atomic_write_text, staged_directory
from toolkit._platform import numeric_environment
from toolkit.errors import ToolkitError

__all__ = ["reproduce", "ReproduceResult", "STAGES", "check_reproduce_output"]

#: The stages, in order, as the progress display names them.
STAGES = ("load review", "codebook", "rule coding", "agreement", "topic model",
          "topic stability", "triangulation", "export tables", "figures", "REFI-QDA",
          "PRISMA", "report", "manifest")
_PACKAGES = ("slr-toolkit", "pandas", "numpy", "bibtexparser", "rispy", "spacy",
             "spacy-lookups-data", "bertopic", "umap-learn", "hdbscan", "scikit-learn",
             "krippendorff", "matplotlib", "rapidfuzz")
STOP_WORDS = ("micro", "credential", "credentials", "microcredentials")


@dataclass(frozen=True)
class ReproduceResult:
    """Where the outputs went and what the run found."""

    out: Path
    files: tuple[Path, ...]
    status: pd.DataFrame

    def __repr__(self) -> str:
        return f"ReproduceResult(out={str(self.out)!r}, files={len(self.files)})"


def _reproducibility(embedding: str) -> dict[str, str]:
    """State what a rerun reproduces, on this machine and on others (see the README)."""
    lexical = embedding == "tfidf"
    return {
        "same_machine": "Same inputs, package versions and settings: every file is "
                        "byte-identical (this manifest's environment apart).",
        "any_machine": (
            "Same inputs, package versions and settings on another machine (other CPU, "
            "BLAS kernels, thread count): every table (CSV, XLSX, Markdown, LaTeX), "
            "codebook.qdc and report.html are identical; the stable reduction rounds "
            "similarities before ranking neighbours and lays documents out without "
            "CPU-dependent arithmetic. Figures (PNG) are identical as long as matplotlib "
            "and FreeType are the same versions."
            if lexical else
            "The topic model's embeddings come from PyTorch or model2vec, whose float32 "
            "results depend on the CPU; topic tables, the method triangulation and "
            "report.html may differ on another machine (the stability table says how "
            "much the topics move under perturbation). Every other table is identical."),
        "decided_by": "environment: the BLAS library and kernel, the CPU features that "
                      "select vector code, and the CPU numba compiles for",
    }


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def _relative(path: Path) -> str:
    """Show a path relative to the project (or the current folder) when inside it."""
    from toolkit.paths import project_root

    path = path.resolve()
    for base in (project_root(), Path.cwd()):
        try:
            return str(path.relative_to(base.resolve()))
        except ValueError:
            continue
    return str(path)


def _h(value: object) -> str:
    """Escape any value for HTML text or a quoted attribute (quotes included)."""
    return html.escape(str(value), quote=True)


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img alt="{_h(path.stem)}" src="data:image/png;base64,{data}">'


def _table(frame: pd.DataFrame, digits: int = 3) -> str:
    return frame.to_html(float_format=lambda v: f"{v:.{digits}f}", na_rep="", border=0,
                         classes="tbl", escape=True)


def check_reproduce_output(folder: Path) -> None:
    """Raise unless ``folder`` holds exactly what an earlier ``slr reproduce`` wrote there.

    Its ``manifest.json`` must carry ``"tool": "slr reproduce"``, and every file in the
    folder must be listed among the manifest's outputs with the same SHA-256: a file added
    or changed since (a note, an edited table) makes the folder not ours to replace.

    Raises
    ------
    ToolkitError
        Naming the unexpected or changed files and what to do.
    """
    manifest_path = folder / "manifest.json"
    refuse = (f"{folder}: exists and is not an earlier reproduce output ({{}}); choose "
              "another --out folder or move its files away")
    if manifest_path.is_symlink() or not manifest_path.is_file():
        raise ToolkitError(refuse.format("no manifest.json"))
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ToolkitError(refuse.format("manifest.json is not readable JSON")) from None
    if not isinstance(manifest, dict) or manifest.get("tool") != "slr reproduce":
        raise ToolkitError(refuse.format("manifest.json was not written by slr reproduce"))
    outputs = manifest.get("outputs")
    if not isinstance(outputs, dict):
        raise ToolkitError(refuse.format("manifest.json lists no outputs"))
    expected = {Path(str(name)): digest for name, digest in outputs.items()}
    expected[Path("manifest.json")] = None
    folders = {parent for name in expected for parent in name.parents}
    unexpected, changed = [], []
    for root, dirs, files in os.walk(folder):
        base = Path(root).relative_to(folder)
        for name in sorted(dirs):
            if (folder / base / name).is_symlink() or base / name not in folders:
                unexpected.append(str(base / name) + "/")
        dirs[:] = [d for d in dirs
                   if base / d in folders and not (folder / base / d).is_symlink()]
        for name in sorted(files):
            rel = base / name
            if rel not in expected or (folder / rel).is_symlink():
                unexpected.append(str(rel))
            elif expected[rel] is not None and _sha256(folder / rel) != expected[rel]:
                changed.append(str(rel))
    if unexpected or changed:
        parts = []
        if unexpected:
            parts.append(f"files it did not write: {_listing(unexpected)}")
        if changed:
            parts.append(f"files changed since it wrote them: {_listing(changed)}")
        raise ToolkitError(f"{folder}: holds " + "; and ".join(parts) + "; move them "
                           "elsewhere (or remove the folder) and run again, or choose another "
                           "--out folder")


def _listing(names: list[str], limit: int = 10) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def reproduce(out: str | Path = "out", *, corpus: str | Path | None = None,
              codebook_path: str | Path | None = None, codings_dir: str | Path | None = None,
              embedding: str = "tfidf", n_boot: int = 1000, random_state: int = 0,
              progress: bool = True, overwrite: bool = True) -> ReproduceResult:
    """Run the whole review and write every artefact into ``out``.

    Parameters
    ----------
    out : str or Path, default "out"
        Target folder. An existing folder is replaced only when it is provably an earlier
        output (see :func:`check_reproduce_output`), so a folder of other files is never
        wiped; a symbolic link is refused. The new folder is built beside it and swapped in
        at the end (see :func:`toolkit._io.staged_directory`).
    corpus, codebook_path, codings_dir : optional
        Review folder, round-2 codebook and codings folder; default: the bundled ones.
    embedding : str, default "tfidf"
        Topic-model backend (``"minilm"``, ``"minilm-static"``, ``"tfidf"`` or a path).
    n_boot : int, default 1000
        Bootstrap replicates for agreement intervals.
    random_state : int, default 0
    progress : bool, default True
        Show a progress bar of the stages (on stderr).
    overwrite : bool, default True

    Returns
    -------
    ReproduceResult

    Raises
    ------
    ToolkitError
        (or a subclass) for unusable inputs, with one message; nothing is left in ``out``.
    """
    from toolkit.paths import bundled_codebook_path, bundled_codings_dir, bundled_corpus_dir

    out = Path(out)
    if os.path.lexists(out) and not overwrite and not out.is_symlink():
        raise ToolkitError(f"{out}: exists; pass overwrite=True (or remove it)")
    corpus_dir = Path(corpus) if corpus else bundled_corpus_dir()
    book_path = Path(codebook_path) if codebook_path else bundled_codebook_path()
    codings_path = Path(codings_dir) if codings_dir else bundled_codings_dir()
    with staged_directory(out, replace=check_reproduce_output) as work:
        status = _run(work, corpus_dir, book_path, codings_path, embedding, n_boot,
                      random_state, progress)
    absolute = Path(os.path.abspath(out))
    out = absolute.parent.resolve() / absolute.name
    files = tuple(sorted(p for p in out.rglob("*") if p.is_file()))
    return ReproduceResult(out, files, status)


def _run(work: Path, corpus_dir: Path, book_path: Path, codings_path: Path, embedding: str,
         n_boot: int, random_state: int, progress: bool) -> pd.DataFrame:
    import matplotlib

    matplotlib.use("Agg", force=False)
    from tqdm.auto import tqdm

    from toolkit import agreement, export, prisma, triangulation
    from toolkit.codebook import export_qdc, load_codebook
    from toolkit.coding import (
        RuleCoder,
        compute_rule_metrics,
        load_codings,
        make_codings,
        segments_from_review,
        validate_codings,
    )
    from toolkit.corpus import compute_corpus_summary, deduplicate
    from toolkit.corpus.summary import compute_counts, plot_corpus_counts
    from toolkit.review import compute_evidence_counts, load_review

    bar: Any = None  # shown once the inputs have loaded, so input errors stay one message

    def stage(name: str) -> None:
        if bar is not None:
            bar.set_postfix_str(name)

    def done() -> None:
        if bar is not None:
            bar.update(1)

    tables_dir, figures_dir = work / "tables", work / "figures"
    stage("load review")
    review = load_review(corpus_dir)
    segments = segments_from_review(review)
    records = review.records
    done()

    stage("codebook")
    book = load_codebook(book_path)
    codings = load_codings(codings_path)
    validate_codings(codings, codebook=book, segments=segments,
                     where=f"{codings_path} with {book_path}")
    human = codings[codings["method"] == "human"]
    if human.dropna(subset=["code_id"]).empty:
        raise triangulation.TriangulationError(f"{codings_path}: no human codings with a code")
    bar = tqdm(total=len(STAGES), initial=2, disable=not progress, desc="reproduce",
               unit="stage")

    stage("rule coding")
    rules = RuleCoder(book).fit().transform(segments)
    metrics = compute_rule_metrics(rules, human, codebook=book, level="theme")
    done()

    stage("agreement")
    both = make_codings(pd.concat([human, rules], ignore_index=True))
    agree = agreement.compute_agreement(both, methods=["human", "rules"], codebook=book,
                                        level="theme", n_boot=n_boot,
                                        random_state=random_state)
    done()

    stage("topic model")
    from toolkit.topics import (  # imported here: bad inputs fail before BERTopic loads
        TopicModel,
        compute_topic_stability,
        compute_topic_table,
        compute_topic_theme_alignment,
        compute_topics_by,
    )

    model = TopicModel(embedding=embedding, stop_words=list(STOP_WORDS),
                       random_state=random_state).fit(segments)
    done()

    stage("topic stability")
    stability = compute_topic_stability(model, segments, random_state=random_state,
                                        warn=False)
    topic_table = compute_topic_table(model, stability)
    alignment = compute_topic_theme_alignment(model.document_topics_, human, book)
    topics_by_group = compute_topics_by(model.document_topics_, segments, "source_group",
                                        records=records)
    done()

    stage("triangulation")
    source = triangulation.compute_source_triangulation(human, segments, records, book)
    source_type = triangulation.compute_source_triangulation(human, segments, records, book,
                                                             by="source_type")
    cases = triangulation.compute_cross_case(human, segments, book)
    coverage_rq = triangulation.compute_coverage(human, segments, book, by="rq")
    coverage_year = triangulation.compute_coverage(human, segments, book, by="year",
                                                   records=records)
    method_agreement = triangulation.compute_method_agreement(human, rules, book,
                                                              agreement=agree)
    method = triangulation.compute_method_triangulation(human, rules, model.document_topics_,
                                                        book)
    done()

    stage("export tables")
    dedup = deduplicate(records)
    plain = {
        "corpus_summary": compute_corpus_summary(records),
        "works_by_source_group": compute_counts(records, "source_group"),
        "works_by_source_type": compute_counts(records, "source_type"),
        "evidence_by_question": compute_evidence_counts(review, "rq"),
        "rule_metrics_by_theme": metrics,
        "agreement_by_theme": agreement.agreement_table(agree),
        "topics": topic_table,
        "topic_stability": stability.summary(),
        "topic_stability_runs": stability.runs,
        "topic_theme_alignment": alignment["wide"],
        "topic_best_per_theme": alignment["best_per_theme"],
        "topics_by_source_group": topics_by_group,
    }
    for name, frame in plain.items():
        export.export_table(frame, tables_dir, name)
    tri_tables = [source, source_type, cases, coverage_rq, coverage_year, method_agreement,
                  method]
    for table in tri_tables:
        export.export_table(table, tables_dir)
    done()

    stage("figures")
    figures = {}
    import matplotlib.pyplot as plt

    def fig(name: str, draw: Any, size: tuple[float, float]) -> None:
        _, ax = plt.subplots(figsize=size)
        draw(ax)
        figures[name] = export.save_figure(ax, figures_dir / f"{name}.png")

    fig("source_triangulation", lambda ax: export.plot_status(
        source.wide, ax=ax, title="Works supporting each theme, by source group"), (8, 4.5))
    fig("cross_case", lambda ax: export.plot_heatmap(
        cases.wide, ax=ax, title="Segments per theme and case"), (10, 4.5))
    fig("coverage_rq", lambda ax: export.plot_heatmap(
        coverage_rq.wide, ax=ax, title="Segments per theme and guiding question"), (8, 4.5))
    fig("works_by_year", lambda ax: plot_corpus_counts(records, "year", ax=ax), (7, 3.5))
    fig("works_by_source_type", lambda ax: plot_corpus_counts(records, "source_type", ax=ax),
        (7, 5))
    fig("topics_by_source_group", lambda ax: export.plot_heatmap(
        topics_by_group, ax=ax, title="Documents per topic and source group"), (7, 3.5))
    done()

    stage("REFI-QDA")
    export_qdc(book, work / "codebook.qdc")
    done()

    stage("PRISMA")
    load_blocks = pd.DataFrame({"source_file": ["references.bib"], "records": [len(records)]})
    unknown_note = "not reported in the paper"
    flow = prisma.compute_prisma(load_blocks, dedup.log, derive_screened=False, notes={
        "records_identified": "the paper's reference list, not the search results (the "
                              "search is not reported)",
        "duplicates_removed": "measured: de-duplication of the reference list",
        "records_screened": unknown_note,
        "records_excluded": unknown_note, "reports_sought": unknown_note,
        "reports_not_retrieved": unknown_note, "reports_assessed": unknown_note,
        "reports_excluded": unknown_note, "removed_other": unknown_note,
        "studies_included": "not reported; the reference list has "
                            f"{len(records)} entries"})
    export.export_table(flow, tables_dir, "prisma_flow")
    fig("prisma_flow", lambda ax: prisma.plot_prisma(flow, ax=ax), (9, 7))
    done()

    stage("report")
    report = _report(review, book, source, cases, coverage_rq, method_agreement, method, metrics,
                     agree, topic_table, stability, alignment, flow, figures, segments,
                     records, plain)
    atomic_write_text(work / "report.html", report)
    done()

    stage("manifest")
    inputs = sorted([*corpus_dir.glob("*.bib"), *corpus_dir.glob("*.csv"),
                     *corpus_dir.glob("*.yaml"), book_path, *codings_path.rglob("*.csv")])
    outputs = sorted(p for p in work.rglob("*") if p.is_file())
    manifest = {
        "tool": "slr reproduce",
        "versions": _versions(),
        "seeds": {"random_state": random_state, "n_boot": n_boot},
        "environment": numeric_environment(),
        "reproducibility": _reproducibility(embedding),
        "settings": {"embedding": embedding, "stop_words": list(STOP_WORDS)},
        "inputs": {_relative(p): _sha256(p) for p in inputs},
        "outputs": {str(p.relative_to(work)): _sha256(p) for p in outputs},
    }
    atomic_write_text(work / "manifest.json", json.dumps(manifest, indent=1, sort_keys=True))
    done()
    bar.close()
    return source.wide[["groups_supporting", "status"]].reset_index()


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.7em}h2{border-bottom:2px solid #4C72B0;padding-bottom:.2em;margin-top:2em}
table.tbl{border-collapse:collapse;font-size:.85em;margin:.8em 0}
table.tbl th,table.tbl td{border-bottom:1px solid #ddd;padding:.25em .6em;text-align:right}
table.tbl th{background:#f3f6fb}img{max-width:100%;margin:.5em 0}
.note{color:#555;font-size:.9em}.ok{color:#2e7d32;font-weight:bold}
.warn{color:#b71c1c;font-weight:bold}li{margin:.2em 0}
"""


def _report(review: Any, book: Any, source: Any, cases: Any, coverage: Any,
            method_agreement: Any, method: Any, metrics: pd.DataFrame, agree: pd.DataFrame,
            topic_table: pd.DataFrame, stability: Any, alignment: dict[str, pd.DataFrame],
            flow: pd.DataFrame, figures: dict[str, Path], segments: pd.DataFrame,
            records: pd.DataFrame, plain: dict[str, pd.DataFrame]) -> str:
    from toolkit.agreement import agreement_table
    from toolkit.triangulation import evidence_for

    paper = review.protocol.get("paper") or {}
    steps = "".join(f"<li>{_h(s.get('description', ''))}</li>"
                    for s in review.protocol.get("method", {}).get("steps", []))
    questions = "".join(f"<li>RQ{_h(k)}: {_h(v)}</li>" for k, v in sorted(
        review.protocol.get("guiding_questions", {}).items(),
        key=lambda kv: (0, kv[0], "") if isinstance(kv[0], int) else (1, 0, str(kv[0]))))
    status = source.wide["status"]
    corroborated = [t for t, s in status.items() if s == "corroborated"]
    field = {key: _h(paper.get(key, "?")) for key in ("author", "year", "title", "journal",
                                                       "volume", "issue", "doi")}
    parts = [f"<h1>Reproduction of {field['author']} ({field['year']})</h1>",
             f"<p><i>{field['title']}</i>, {field['journal']} "
             f"{field['volume']}({field['issue']}), doi:{field['doi']}.</p>",
             "<h2>What was done</h2>",
             "<p>The paper's method, as it describes it:</p><ol>" + steps + "</ol>",
             "<p>What this reproduction did with the bundled data: loaded the reference list "
             f"({len(records)} works, each given a source type and group), the "
             f"{len(review.evidence)} places where the paper cites them (paraphrased as "
             "evidence segments) and its guiding questions; coded every segment by hand with "
             f"the round-2 codebook ({len(book)} codes in {len(book.themes())} themes) and "
             "again with the codebook's patterns (rule coder); measured how far the two "
             "agree; fitted a topic model; and built the triangulation tables below. Every "
             "number here was computed by <code>slr reproduce</code>; the tables are also in "
             "<code>tables/</code> as CSV, XLSX, LaTeX and Markdown.</p>",
             "<h3>Guiding questions</h3><ul>" + questions + "</ul>",
             "<h2>The corpus</h2>", _table(plain["works_by_source_group"]),
             _img(figures["works_by_source_type"]), _img(figures["works_by_year"]),
             "<h2>Data-source triangulation</h2>",
             "<p>Works supporting each theme per source group; a theme is "
             "<span class='ok'>corroborated</span> when at least two groups support it.</p>",
             _table(source.wide), _img(figures["source_triangulation"]),
             "<h2>Cross-case analysis</h2>", _table(cases.wide), _img(figures["cross_case"]),
             "<h2>Coverage of the guiding questions</h2>", _table(coverage.wide),
             _img(figures["coverage_rq"]),
             "<h2>Method triangulation</h2>",
             "<h3>Agreement between the human coding and the rule coder</h3>",
             "<p class='note'>Values with 95% bootstrap intervals over segments. The rule "
             "coder is a method, not a second investigator: investigator triangulation "
             "needs two human coders.</p>",
             _table(agreement_table(agree)),
             "<h3>Human coding, rules and topic model per theme</h3>", _table(method.wide),
             "<h3>Rule coder against the human coding, per theme</h3>", _table(metrics),
             "<h2>Topic model</h2>",
             "<p class='note'>Topics found by BERTopic in the evidence segments, with "
             "how well each holds up when the model is refitted with other seeds and on "
             "random subsets of 80% of the segments (stability: mean Jaccard index of the "
             "best-matching refit topic; Hennig, 2007: below 0.6 unstable, 0.85 and above "
             "stable).</p>",
             _table(topic_table),
             f"<p class='{'warn' if stability.verdict == 'unstable' else 'note'}'>"
             f"{html.escape(stability.message)}</p>",
             "<h3>Best topic for each theme</h3>", _table(alignment["best_per_theme"]),
             _img(figures["topics_by_source_group"]),
             "<h2>PRISMA 2020 flow</h2>",
             "<p class='note'>Counts the paper does not report stay unknown ('?').</p>",
             _table(flow.drop(columns=["stage"])), _img(figures["prisma_flow"]),
             "<h2>Evidence behind the corroborated themes</h2>"]
    for theme in corroborated:
        parts.append(f"<h3>{_h(book[theme].label)} <code>{_h(theme)}</code></h3>")
        for group in [c for c in source.wide.columns if c not in ("groups_supporting",
                                                                     "status")]:
            evidence = evidence_for(source, theme, group, segments=segments, records=records)
            if evidence.empty:
                continue
            items = "".join(
                f"<li><b>{_h(r.segment_id)}</b> (section {_h(r.section)}): {_h(r.text)} "
                f"<span class='note'>[{_h(r.record_id)}, {_h(r.source_type)}, {_h(r.year)}]"
                "</span></li>" for r in evidence.itertuples(index=False))
            parts.append(f"<p><b>{_h(group)}</b></p><ul>{items}</ul>")
    unsupported = [t for t, s in status.items() if s != "corroborated"]
    if unsupported:
        parts.append("<h3>Not corroborated</h3><ul>" + "".join(
            f"<li class='warn'>{_h(t)}: {_h(status[t])}</li>"
            for t in unsupported) + "</ul>")
    body = "\n".join(parts)
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Reproduction "
            f"report</title><style>{_CSS}</style></head><body>{body}</body></html>\n")
