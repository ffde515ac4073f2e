"""``slr init``: make a review folder from reference exports.

:func:`init_review` copies the exports into ``exports/``, loads and de-duplicates them,
and writes a commented ``review.yaml``, a starter codebook drawn from the records' own
keywords and an empty ``codings/`` folder. Nothing existing is ever overwritten.
"""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from toolkit._io import atomic_write_text
from toolkit.codebook import Code, Codebook, Patterns, save_codebook
from toolkit.corpus import DedupResult, LoadResult, deduplicate, load_corpus
from toolkit.corpus.load import READERS
from toolkit.errors import ToolkitError

__all__ = ["init_review", "starter_codebook", "InitResult"]

#: How many codes a starter codebook gets at most.
STARTER_CODES = 8


@dataclass(frozen=True)
class InitResult:
    """What :func:`init_review` made.

    Attributes
    ----------
    folder : Path
    files : tuple of Path
        The files written (review.yaml, codebook.yaml, the copied exports).
    loaded : LoadResult or None
        The exports as loaded (None when none were given).
    dedup : DedupResult or None
    """

    folder: Path
    files: tuple[Path, ...]
    loaded: LoadResult | None
    dedup: DedupResult | None

    def __repr__(self) -> str:
        works = len(self.dedup.records) if self.dedup is not None else 0
        return f"InitResult(folder={str(self.folder)!r}, works={works})"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:40] or "code"


def _phrases(records: pd.DataFrame) -> list[tuple[str, int]]:
    """Keywords the records give (author keywords), with the records that carry each."""
    counts: Counter[str] = Counter()
    for keywords in records.get("keywords", pd.Series(dtype=object)):
        if isinstance(keywords, (tuple, list)):
            counts.update({k.strip().lower() for k in keywords if str(k).strip()})
    return [(k, n) for k, n in counts.most_common() if n >= 2]


def _title_pairs(records: pd.DataFrame) -> list[tuple[str, int]]:
    """Two-word phrases that recur in titles and abstracts (when there are no keywords)."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    counts: Counter[str] = Counter()
    for title, abstract in zip(records["title"], records["abstract"], strict=True):
        text = " ".join(str(t) for t in (title, abstract) if isinstance(t, str)).lower()
        words = re.findall(r"[a-z][a-z-]+", text)
        pairs = {f"{a} {b}" for a, b in zip(words, words[1:], strict=False)
                 if a not in ENGLISH_STOP_WORDS and b not in ENGLISH_STOP_WORDS}
        counts.update(pairs)
    return [(k, n) for k, n in counts.most_common() if n >= 2]


def starter_codebook(records: pd.DataFrame, *, name: str) -> Codebook:
    """Draw a first codebook from the records: one code per recurring keyword.

    The records' author keywords that at least two works share (and, when there are
    fewer than three, two-word phrases that recur in titles and abstracts) become codes, up
    to :data:`STARTER_CODES`, each with the phrase as its pattern, so the rule coder can
    run at once. It is a starting point to rewrite into the review's own codes, and says
    so in every definition.

    Examples
    --------
    >>> records = pd.DataFrame({"title": ["Home office ergonomics", "Home office stress"],
    ...     "abstract": [None, None], "keywords": [("Remote work", "stress"), ("remote work",)]})
    >>> book = starter_codebook(records, name="x")
    >>> [(c.id, c.patterns.lemmas) for c in book]
    [('remote_work', ('remote work',)), ('home_office', ('home office',))]
    """
    found = [(k, n, "keyword") for k, n in _phrases(records)]
    if len(found) < 3:
        found += [(k, n, "phrase of the titles and abstracts") for k, n in _title_pairs(records)]
    codes, seen = [], set()
    for phrase, n, source in found:
        code_id = _slug(phrase)
        if code_id in seen:
            continue
        seen.add(code_id)
        codes.append(Code(
            id=code_id, label=phrase.capitalize(),
            definition=(f"Starter code: the {source} '{phrase}', shared by {n} records. "
                        "Rewrite the definition, or replace the code by the review's own."),
            patterns=Patterns(lemmas=(phrase,))))
        if len(codes) == STARTER_CODES:
            break
    if not codes:
        raise ToolkitError("no keyword or phrase recurs in the records, so there is no "
                           "starter codebook to draw; write codebook.yaml by hand")
    return Codebook(name=name, version="0.1", round=1, codes=tuple(codes),
                    description="Starter codebook drawn from the records by slr init.")


def _exports(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if not path.exists():
            raise ToolkitError(f"{path}: no such file or folder; give the reference exports "
                               "to copy into the review")
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file()
                           and p.suffix.lower() in (*READERS, ".txt"))
            if not found:
                raise ToolkitError(f"{path}: holds no reference exports (.bib, .ris, .csv, "
                                   ".tsv, .txt); give the folder the database exports are in")
            files += found
        else:
            files.append(path)
    names = [f.name for f in files]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ToolkitError(f"exports named alike: {repeated}; rename them so each keeps its "
                           "own file in exports/")
    return files


def _review_yaml(title: str, exports: list[str], databases: dict[str, str]) -> str:
    search = "\n".join(
        f"  - database: {json.dumps(db)}\n"
        f"    files: [{json.dumps(f)}]\n"
        "    string: null      # the search string as run, e.g. TITLE-ABS-KEY(...)\n"
        "    date: null        # when it was run, e.g. 2024-03-01\n"
        "    hits: null        # how many records the database reported"
        for f, db in databases.items()) or "  []"
    files = ", ".join(json.dumps(f) for f in exports) or "exports"
    return f"""# review.yaml: what this review is and how slr runs the method on it.
# Every path is relative to this folder. After editing, run `slr reproduce .` from here.
title: {json.dumps(title)}
description: null      # one or two sentences on the review's aim
questions:             # the review's questions, by number
  1: null

records:
  files: [{files}]
  deduplicate: true    # merge records of one work found in several exports

# The search log: one entry per database. slr counts what each export holds beside the
# hits you record here (PRISMA's "records identified").
search:
{search}

# screening: screening.csv   # record_id, stage (title_abstract / full_text), decision, reason

segments:
  from: abstracts      # abstracts | documents (full texts in documents/) | evidence (a table)
  unit: sentence       # abstracts: whole | sentence; documents: paragraph | sentence | page

coding:
  codebook: codebook.yaml   # a starter codebook drawn from the records' keywords: rewrite it
  codings: codings          # coding sheets read back land here, per round and coder
  rule_scores: in-sample    # say held-out if the patterns were written on other texts

# cases:                # for a cross-case table: kinds of case and the codes that are cases
#   sectors: [sector]   # a code with codes below it stands for them

triangulation:
  by: [source_group, database]   # any record column: source_type, year, ...
  min_groups: 2
coverage: [year]

topics:
  embedding: tfidf
  # stop_words: [...]    # default: the words at least half of the segments share

report:
  limitations: []
"""


def init_review(folder: str | Path, exports: list[str | Path] | None = None, *,
                title: str | None = None) -> InitResult:
    """Make a review folder: exports copied, review.yaml, a starter codebook, codings/.

    Parameters
    ----------
    folder : str or Path
        The new folder; it must not exist, or be empty.
    exports : list of str or Path, optional
        Reference exports (files or folders), copied into ``exports/``, loaded and
        de-duplicated (to check them and to draw the starter codebook).
    title : str, optional
        Default: the folder's name.

    Returns
    -------
    InitResult

    Raises
    ------
    ToolkitError
        When the folder holds files already, an export is missing, or exports share a
        name; nothing is written then.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ToolkitError(f"{folder}: is a file; slr init makes a new review folder; choose "
                           "a new folder name")
    if folder.exists() and any(folder.iterdir()):
        raise ToolkitError(f"{folder}: exists and is not empty; slr init makes a new review "
                           "folder and never writes into one in use; choose a new folder")
    sources = _exports([Path(p) for p in exports or []])
    loaded = load_corpus(sources) if sources else None  # bad exports fail before any write
    # the database each export names (the search log below), given to its records before
    # de-duplication so that each work lists the databases the review will report
    named = {str(source): _database_name(source, loaded) for source in sources}
    dedup = deduplicate(loaded.records.assign(database=[
        named.get(str(f), db) for f, db in zip(loaded.records["source_file"],
                                               loaded.records["database"], strict=True)]))\
        if loaded is not None else None
    title = title or folder.resolve().name
    book = starter_codebook(dedup.records, name=title) if dedup is not None else Codebook(
        name=title, version="0.1", round=1, codes=(Code(
            "theme", "Theme", definition="Replace by the review's own codes."),))
    written = []
    (folder / "exports").mkdir(parents=True, exist_ok=True)
    (folder / "codings").mkdir(exist_ok=True)
    databases: dict[str, str] = {}
    for source in sources:
        target = folder / "exports" / source.name
        shutil.copyfile(source, target)
        written.append(target)
        databases[f"exports/{source.name}"] = named[str(source)]
    written.append(save_codebook(book, folder / "codebook.yaml"))
    written.append(atomic_write_text(folder / "review.yaml", _review_yaml(
        title, ["exports"], databases), overwrite=False))
    atomic_write_text(folder / "codings" / "README.txt",
                      "Codings, one file per coder and round: round<N>/<coder>.csv.\n"
                      "slr sheet writes a coding sheet and reads it back here; slr code "
                      "saves the rule coder's codings as round<N>/rules.csv.\n",
                      overwrite=False)
    return InitResult(folder, tuple(written), loaded, dedup)


def _database_name(source: Path, loaded: LoadResult | None) -> str:
    """Name the database a file came from: the reader's ``database``, else the file stem.

    A reader that found no evidence of the database names the format (``ris``,
    ``csv``...); the file's own name (``eric.ris`` -> ``eric``) then says more.
    """
    from toolkit.corpus._database import FORMAT_NAMES

    if loaded is not None and "database" in loaded.records.columns:
        mine = loaded.records.loc[loaded.records["source_file"].astype(str) == str(source),
                                  "database"].dropna()
        mine = mine[~mine.isin(FORMAT_NAMES)]
        if len(mine):
            return str(mine.mode().iloc[0])
    return source.stem
