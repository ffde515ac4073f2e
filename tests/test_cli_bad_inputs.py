"""Every ``slr`` subcommand against bad inputs: one ``error:`` message, non-zero, no traceback.

The table runs in-process through :func:`toolkit.cli.main` (fast); a few rows also run as
a real ``slr`` process. A toolkit error may list its problems on lines below the message
(``- ...``), but there is exactly one ``error:`` line and it comes first.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from toolkit import cli
from toolkit.cli import main
from toolkit.paths import bundled_codebook_path, bundled_codings_dir, bundled_corpus_dir
from toolkit.review import init_review, load_review

PROJECT = Path(__file__).resolve().parents[1]
BOOK = str(bundled_codebook_path())
CODINGS = str(bundled_codings_dir())
EXPORTS = PROJECT / "tests" / "data" / "review"


def _bomb() -> str:
    lines = ["x0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"x{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def bad(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of broken inputs, one per kind of mistake."""
    d = tmp_path_factory.mktemp("bad")
    (d / "empty.csv").write_text("")
    (d / "empty.bib").write_text("")
    (d / "badquote.csv").write_text('text,segment_id\n"a,1\nb,2\n')
    (d / "renamed.xlsx").write_bytes(b"PK\x03\x04 not really a spreadsheet")
    (d / "binary.csv").write_bytes(bytes(range(256)) * 4)
    (d / "bom_then_junk.bib").write_bytes(b"\xef\xbb\xbf@article{k,\n title={\xff\xfe}}\n")
    (d / "binary.bib").write_bytes(b"\x00\x01\x02\xff" * 100)
    (d / "nocolumn.csv").write_text("other\nhello\n")
    (d / "same30.csv").write_text("text\n" + "same text here\n" * 30)
    (d / "few.csv").write_text("text\n" + "".join(f"text number {i}\n" for i in range(3)))
    (d / "ok.csv").write_text("text\nhello world\n")
    (d / "afile").write_text("x")
    (d / "emptydir").mkdir()
    (d / "cp1252.yaml").write_bytes(
        "name: x\nversion: '1'\nround: 1\ncodes:\n- id: a\n  label: Caf\xe9\n".encode("cp1252"))
    (d / "bomb.yaml").write_text("name: x\nversion: '1'\n" + _bomb() + "round: *a8\n"
                                 "codes: [{id: a, label: A}]\n")
    (d / "lookahead.yaml").write_text("name: x\nversion: '1'\nround: 1\ncodes:\n- id: a\n"
                                      "  label: A\n  patterns: {regex: ['fee(?=s)']}\n")
    (d / "parentlist.yaml").write_text("name: x\nversion: '1'\nround: 1\ncodes:\n- id: a\n"
                                       "  label: A\n  parent: [x]\n")
    (d / "codx" / "roundX").mkdir(parents=True)
    (d / "codx" / "roundX" / "ann.csv").write_text(
        "segment_id,code_id,coder,round,method,start,end,memo,created_at\n")
    (d / "codb" / "round1").mkdir(parents=True)
    (d / "codb" / "round1" / "ann.csv").write_bytes(bytes(range(128, 256)))
    (d / "codr" / "round1").mkdir(parents=True)
    (d / "codr" / "round1" / "ann.csv").write_text(
        "segment_id,code_id,coder,round,method,start,end,memo,created_at\n"
        "ev001,x,ann,one,human,,,,\n")
    broken = Path(shutil.copytree(bundled_corpus_dir(), d / "review_broken_yaml"))
    (broken / "review.yaml").write_text("paper: [unclosed\n")
    bombed = Path(shutil.copytree(bundled_corpus_dir(), d / "review_bomb"))
    (bombed / "review.yaml").write_text(_bomb() + "paper: *a8\n")
    badcsv = Path(shutil.copytree(bundled_corpus_dir(), d / "review_bad_evidence"))
    (badcsv / "evidence.csv").write_bytes(b"\xff\xfe\x00garbage")
    notours = d / "notours"
    notours.mkdir()
    (notours / "manifest.json").write_text("{}")
    (notours / "precious.js").write_text("x")
    (d / "link").symlink_to(notours)
    full = d / "model_full"
    full.mkdir()
    (full / "something.txt").write_text("x")
    with zipfile.ZipFile(d / "fake.qdpx", "w") as archive:
        archive.writestr("../evil.qde", "<x/>")
    (d / "sub").mkdir()
    (d / "sub" / "scopus.csv").write_text("Title,Year\nA title,2020\n")
    _own_reviews(d)
    return d


def _own_reviews(d: Path) -> None:
    """Review folders as `slr init` makes them, each broken in one way."""
    own = d / "own"  # a good review: exports, review.yaml, starter codebook, no codings yet
    init_review(own, [EXPORTS / "scopus.csv", EXPORTS / "wos.txt", EXPORTS / "eric.ris"],
                title="Remote work")
    text = (own / "review.yaml").read_text()

    def variant(name: str, review_yaml: str | None = None) -> Path:
        folder = Path(shutil.copytree(own, d / name))
        if review_yaml is not None:
            (folder / "review.yaml").write_text(review_yaml)
        return folder

    variant("own_broken", "title: [unclosed\n")
    variant("own_bomb", _bomb() + "title: *a8\n")
    (variant("own_cp1252") / "review.yaml").write_bytes(
        "title: Caf\xe9 work\n".encode("cp1252"))
    variant("own_not_mapping", "- title\n- questions\n")
    variant("own_unknown_key", text + "colour: blue\n")
    variant("own_questions", text.replace("questions:             # the review's questions, "
                                          "by number\n  1: null",
                                          "questions:\n  first: Why?\n  1: What?"))
    variant("own_types", text + "cases: [sector]\ncoverage: year\n")
    variant("own_search", text.replace("hits: null", "hits: many", 1))
    variant("own_documents", text.replace("from: abstracts", "from: documents")
            .replace("unit: sentence", "unit: page"))
    variant("own_add", text.replace("  deduplicate: true", "  deduplicate: true\n  add: "
                                    "regions.csv"))
    (variant("own_add_bad_ids", text.replace("  deduplicate: true", "  deduplicate: true\n"
                                             "  add: regions.csv")) / "regions.csv"
     ).write_text("record_id,region\nnobody2020x,north\n")
    (variant("own_screening", text + "screening: screening.csv\n") / "screening.csv"
     ).write_text("record_id,stage,decision\nalder2021working,title_abstract,maybe\n")
    variant("own_screening_missing", text + "screening: screening.csv\n")
    (variant("own_nobook") / "codebook.yaml").unlink()
    (variant("own_book_bomb") / "codebook.yaml").write_text(
        "name: x\nversion: '1'\n" + _bomb() + "round: *a8\ncodes: [{id: a, label: A}]\n")
    (variant("own_nomatch") / "codebook.yaml").write_text(
        "name: x\nversion: '1'\nround: 1\ncodes:\n- id: a\n  label: A\n"
        "  patterns: {phrases: [zzqqxx]}\n")
    empty = variant("own_empty_exports")
    for path in (empty / "exports").iterdir():
        path.unlink()
    noabs = variant("own_no_abstracts")
    for path in (noabs / "exports").iterdir():
        path.unlink()
    (noabs / "exports" / "titles.ris").write_text(
        "TY  - JOUR\nTI  - Remote work and sleep\nPY  - 2021\nER  - \n\n"
        "TY  - JOUR\nTI  - Remote work and pay\nPY  - 2022\nER  - \n")
    binary = variant("own_binary_exports")  # no export can be read
    for path in (binary / "exports").iterdir():
        path.write_bytes(bytes(range(256)) * 4)
    rules = variant("own_rules")  # one coder only: the rule coder
    (rules / "codings" / "round1").mkdir()
    first = load_review(rules).segments()["segment_id"].iloc[0]
    (rules / "codings" / "round1" / "rules.csv").write_text(
        "segment_id,code_id,coder,round,method,start,end,memo,created_at\n"
        f"{first},remote_work,rules,1,rules,,,,\n")
    badcodings = variant("own_bad_codings")
    (badcodings / "codings" / "round1").mkdir()
    (badcodings / "codings" / "round1" / "ann.csv").write_bytes(bytes(range(128, 256)))


CASES = [
    # load
    ("load-missing", ["load", "{d}/nope.bib"]),
    ("load-empty", ["load", "{d}/empty.bib"]),
    ("load-empty-folder", ["load", "{d}/emptydir"]),
    ("load-binary-strict", ["load", "{d}/binary.bib", "--strict"]),
    ("load-binary", ["load", "{d}/binary.bib"]),
    ("load-bogus-encoding", ["load", "{d}/ok.csv", "--encoding", "bogus"]),
    ("load-out-unknown-kind", ["load", "{corpus}/references.bib", "--out", "{d}/x.docx"]),
    ("load-out-into-a-file", ["load", "{corpus}/references.bib", "--out", "{d}/afile/x.bib"]),
    ("load-out-is-a-folder", ["load", "{corpus}/references.bib", "--out", "{d}/codx"]),
    ("load-out-exists", ["load", "{corpus}/references.bib", "--out", "{d}/ok.csv"]),
    ("load-no-paths", ["load"]),
    # reproduce
    ("reproduce-corpus-missing", ["reproduce", "--corpus", "{d}/nowhere", "--out", "{d}/o"]),
    ("reproduce-corpus-is-file", ["reproduce", "--corpus", "{d}/afile", "--out", "{d}/o"]),
    ("reproduce-review-yaml-broken", ["reproduce", "--corpus", "{d}/review_broken_yaml",
                                      "--out", "{d}/o"]),
    ("reproduce-review-yaml-bomb", ["reproduce", "--corpus", "{d}/review_bomb", "--out",
                                    "{d}/o"]),
    ("reproduce-evidence-binary", ["reproduce", "--corpus", "{d}/review_bad_evidence",
                                   "--out", "{d}/o"]),
    ("reproduce-codebook-cp1252", ["reproduce", "--codebook", "{d}/cp1252.yaml", "--out",
                                   "{d}/o"]),
    ("reproduce-codebook-bomb", ["reproduce", "--codebook", "{d}/bomb.yaml", "--out", "{d}/o"]),
    ("reproduce-codebook-folder", ["reproduce", "--codebook", "{d}", "--out", "{d}/o"]),
    ("reproduce-codings-roundX", ["reproduce", "--codings", "{d}/codx", "--out", "{d}/o"]),
    ("reproduce-codings-binary", ["reproduce", "--codings", "{d}/codb", "--out", "{d}/o"]),
    ("reproduce-codings-bad-round", ["reproduce", "--codings", "{d}/codr", "--out", "{d}/o"]),
    ("reproduce-codings-missing", ["reproduce", "--codings", "{d}/nowhere", "--out", "{d}/o"]),
    ("reproduce-n-boot-negative", ["reproduce", "--n-boot", "-1", "--out", "{d}/o"]),
    ("reproduce-n-boot-text", ["reproduce", "--n-boot", "many", "--out", "{d}/o"]),
    ("reproduce-out-is-file", ["reproduce", "--out", "{d}/afile"]),
    ("reproduce-out-not-ours", ["reproduce", "--out", "{d}/notours"]),
    ("reproduce-out-symlink", ["reproduce", "--out", "{d}/link"]),
    ("reproduce-out-under-a-file", ["reproduce", "--out", "{d}/afile/out"]),
    ("reproduce-embedding-bogus", ["reproduce", "--embedding", "word2vec", "--codings",
                                   "{d}/codx", "--out", "{d}/o"]),
    # code
    ("code-empty-csv", ["code", "{d}/empty.csv", "--codebook", BOOK]),
    ("code-bad-quotes", ["code", "{d}/badquote.csv", "--codebook", BOOK]),
    ("code-renamed-xlsx", ["code", "{d}/renamed.xlsx", "--codebook", BOOK]),
    ("code-binary-csv", ["code", "{d}/binary.csv", "--codebook", BOOK]),
    ("code-segments-folder", ["code", "{d}", "--codebook", BOOK]),
    ("code-segments-missing", ["code", "{d}/nope.csv", "--codebook", BOOK]),
    ("code-no-text-column", ["code", "{d}/nocolumn.csv", "--codebook", BOOK]),
    ("code-codebook-missing", ["code", "{d}/ok.csv", "--codebook", "{d}/nope.yaml"]),
    ("code-codebook-bomb", ["code", "{d}/ok.csv", "--codebook", "{d}/bomb.yaml"]),
    ("code-codebook-lookahead", ["code", "{d}/ok.csv", "--codebook", "{d}/lookahead.yaml"]),
    ("code-codebook-parent-list", ["code", "{d}/ok.csv", "--codebook", "{d}/parentlist.yaml"]),
    ("code-codebook-is-qdpx", ["code", "{d}/ok.csv", "--codebook", "{d}/fake.qdpx"]),
    ("code-human-roundX", ["code", "{d}/ok.csv", "--codebook", BOOK, "--human", "{d}/codx"]),
    ("code-human-binary", ["code", "{d}/ok.csv", "--codebook", BOOK, "--human", "{d}/codb"]),
    ("code-out-folder", ["code", "{d}/ok.csv", "--codebook", BOOK, "--out", "{d}/codx"]),
    ("code-out-under-a-file", ["code", "{d}/ok.csv", "--codebook", BOOK, "--out",
                               "{d}/afile/x.csv"]),
    ("code-out-exists", ["code", "{d}/ok.csv", "--codebook", BOOK, "--out", "{d}/afile"]),
    ("code-processes-zero", ["code", "{d}/ok.csv", "--codebook", BOOK, "--processes", "0"]),
    ("code-no-codebook", ["code", "{d}/ok.csv"]),
    # topics
    ("topics-identical-texts", ["topics", "{d}/same30.csv"]),
    ("topics-too-few", ["topics", "{d}/few.csv"]),
    ("topics-empty", ["topics", "{d}/empty.csv"]),
    ("topics-binary", ["topics", "{d}/binary.csv"]),
    ("topics-min-size-zero", ["topics", "{d}/ok.csv", "--min-topic-size", "0"]),
    ("topics-embedding-bogus", ["topics", "{d}/ok.csv", "--embedding", "word2vec"]),
    ("topics-no-text-column", ["topics", "{d}/nocolumn.csv"]),
    # triangulate
    ("triangulate-codebook-cp1252", ["triangulate", "--codebook", "{d}/cp1252.yaml",
                                     "--codings", CODINGS]),
    ("triangulate-codings-missing", ["triangulate", "--codebook", BOOK, "--codings",
                                     "{d}/nowhere"]),
    ("triangulate-codings-roundX", ["triangulate", "--codebook", BOOK, "--codings",
                                    "{d}/codx"]),
    ("triangulate-unknown-coder", ["triangulate", "--codebook", BOOK, "--codings", CODINGS,
                                   "--coders", "nobody"]),
    ("triangulate-min-groups-zero", ["triangulate", "--codebook", BOOK, "--codings", CODINGS,
                                     "--min-groups", "0"]),
    ("triangulate-bad-by", ["triangulate", "--codebook", BOOK, "--codings", CODINGS, "--by",
                            "colour"]),
    ("triangulate-corpus-broken", ["triangulate", "--corpus", "{d}/review_broken_yaml",
                                   "--codebook", BOOK, "--codings", CODINGS]),
    ("triangulate-out-is-file", ["triangulate", "--codebook", BOOK, "--codings", CODINGS,
                                 "--out", "{d}/afile"]),
    # init: a new review folder
    ("init-folder-in-use", ["init", "{d}/codx", "--from", "{e}/eric.ris"]),
    ("init-folder-is-file", ["init", "{d}/afile", "--from", "{e}/eric.ris"]),
    ("init-under-a-file", ["init", "{d}/afile/r", "--from", "{e}/eric.ris"]),
    ("init-export-missing", ["init", "{d}/new", "--from", "{d}/nope.ris"]),
    ("init-export-empty", ["init", "{d}/new", "--from", "{d}/empty.bib"]),
    ("init-export-binary", ["init", "{d}/new", "--from", "{d}/binary.csv"]),
    ("init-export-folder-empty", ["init", "{d}/new", "--from", "{d}/emptydir"]),
    ("init-exports-named-alike", ["init", "{d}/new", "--from", "{e}/scopus.csv",
                                  "{d}/sub/scopus.csv"]),
    ("init-no-recurring-keyword", ["init", "{d}/new", "--from", "{d}/sub/scopus.csv"]),
    ("init-no-folder", ["init"]),
    # segment: the review folder's texts
    ("segment-folder-missing", ["segment", "{d}/nowhere"]),
    ("segment-folder-is-file", ["segment", "{d}/afile"]),
    ("segment-not-a-review", ["segment", "{d}/emptydir"]),
    ("segment-yaml-broken", ["segment", "{d}/own_broken"]),
    ("segment-yaml-bomb", ["segment", "{d}/own_bomb"]),
    ("segment-yaml-cp1252", ["segment", "{d}/own_cp1252"]),
    ("segment-yaml-not-a-mapping", ["segment", "{d}/own_not_mapping"]),
    ("segment-yaml-unknown-key", ["segment", "{d}/own_unknown_key"]),
    ("segment-yaml-question-keys", ["segment", "{d}/own_questions"]),
    ("segment-yaml-wrong-types", ["segment", "{d}/own_types"]),
    ("segment-yaml-hits-text", ["segment", "{d}/own_search"]),
    ("segment-exports-empty", ["segment", "{d}/own_empty_exports"]),
    ("segment-exports-binary", ["segment", "{d}/own_binary_exports"]),
    ("segment-no-abstracts", ["segment", "{d}/own_no_abstracts"]),
    ("segment-no-documents", ["segment", "{d}/own_documents"]),
    ("segment-add-missing", ["segment", "{d}/own_add"]),
    ("segment-add-unknown-ids", ["segment", "{d}/own_add_bad_ids"]),
    ("segment-out-under-a-file", ["segment", "{d}/own", "--out", "{d}/afile/s.csv"]),
    ("segment-out-is-folder", ["segment", "{d}/own", "--out", "{d}/codx"]),
    # sheet: a coding sheet for a person
    ("sheet-no-coder", ["sheet", "{d}/own"]),
    ("sheet-coder-is-a-path", ["sheet", "{d}/own", "--coder", "../x"]),
    ("sheet-coder-is-the-rules", ["sheet", "{d}/own", "--coder", "rules"]),
    ("sheet-round-zero", ["sheet", "{d}/own", "--coder", "ann", "--round", "0"]),
    ("sheet-not-a-review", ["sheet", "{d}/emptydir", "--coder", "ann"]),
    ("sheet-no-codebook", ["sheet", "{d}/own_nobook", "--coder", "ann"]),
    ("sheet-codebook-bomb", ["sheet", "{d}/own_book_bomb", "--coder", "ann"]),
    ("sheet-no-segments", ["sheet", "{d}/own_no_abstracts", "--coder", "ann"]),
    ("sheet-read-missing", ["sheet", "{d}/own", "--coder", "ann", "--read", "{d}/nope.xlsx"]),
    ("sheet-read-renamed-xlsx", ["sheet", "{d}/own", "--coder", "ann", "--read",
                                 "{d}/renamed.xlsx"]),
    ("sheet-read-binary-csv", ["sheet", "{d}/own", "--coder", "ann", "--read",
                               "{d}/binary.csv"]),
    ("sheet-read-empty", ["sheet", "{d}/own", "--coder", "ann", "--read", "{d}/empty.csv"]),
    ("sheet-read-no-columns", ["sheet", "{d}/own", "--coder", "ann", "--read",
                               "{d}/nocolumn.csv"]),
    ("sheet-out-unknown-kind", ["sheet", "{d}/own", "--coder", "ann", "--out", "{d}/s.docx"]),
    ("sheet-out-exists", ["sheet", "{d}/own", "--coder", "ann", "--out", "{d}/ok.csv"]),
    ("sheet-out-under-a-file", ["sheet", "{d}/own", "--coder", "ann", "--out",
                                "{d}/afile/s.xlsx"]),
    # code, topics and triangulate given a review folder
    ("code-review-broken", ["code", "{d}/own_broken"]),
    ("code-review-no-codebook", ["code", "{d}/own_nobook"]),
    ("code-review-no-segments", ["code", "{d}/own_no_abstracts"]),
    ("code-review-codebook-bomb", ["code", "{d}/own", "--codebook", "{d}/bomb.yaml"]),
    ("code-review-human-binary", ["code", "{d}/own_bad_codings"]),
    ("topics-review-broken", ["topics", "{d}/own_broken"]),
    ("topics-review-no-segments", ["topics", "{d}/own_no_abstracts"]),
    ("topics-review-empty-exports", ["topics", "{d}/own_empty_exports"]),
    ("triangulate-review-missing", ["triangulate", "{d}/nowhere"]),
    ("triangulate-not-a-review", ["triangulate", "{d}/emptydir"]),
    ("triangulate-review-no-codings", ["triangulate", "{d}/own"]),
    ("triangulate-review-no-codebook", ["triangulate", "{d}/own_nobook"]),
    ("triangulate-review-bad-codings", ["triangulate", "{d}/own_bad_codings"]),
    ("triangulate-review-by-unknown", ["triangulate", "{d}/own_rules", "--by", "colour"]),
    ("triangulate-review-min-groups-text", ["triangulate", "{d}/own_rules", "--min-groups",
                                            "two"]),
    # agree: between the review's coders
    ("agree-folder-missing", ["agree", "{d}/nowhere"]),
    ("agree-not-a-review", ["agree", "{d}/emptydir"]),
    ("agree-yaml-broken", ["agree", "{d}/own_broken"]),
    ("agree-no-codings", ["agree", "{d}/own"]),
    ("agree-one-coder", ["agree", "{d}/own_rules"]),
    ("agree-unknown-coders", ["agree", "{d}/own_rules", "--coders", "nobody", "else"]),
    ("agree-bad-codings", ["agree", "{d}/own_bad_codings"]),
    ("agree-no-codebook", ["agree", "{d}/own_nobook"]),
    ("agree-n-boot-zero", ["agree", "{d}/own_rules", "--n-boot", "0"]),
    ("agree-bad-level", ["agree", "{d}/own_rules", "--level", "word"]),
    # reproduce DIR: any review folder
    ("reproduce-dir-missing", ["reproduce", "{d}/nowhere", "--out", "{d}/o"]),
    ("reproduce-dir-not-a-review", ["reproduce", "{d}/emptydir", "--out", "{d}/o"]),
    ("reproduce-dir-yaml-broken", ["reproduce", "{d}/own_broken"]),
    ("reproduce-dir-yaml-bomb", ["reproduce", "{d}/own_bomb", "--out", "{d}/o"]),
    ("reproduce-dir-exports-empty", ["reproduce", "{d}/own_empty_exports"]),
    ("reproduce-dir-no-abstracts", ["reproduce", "{d}/own_no_abstracts", "--out", "{d}/o"]),
    ("reproduce-dir-no-codebook", ["reproduce", "{d}/own_nobook"]),
    ("reproduce-dir-nothing-coded", ["reproduce", "{d}/own_nomatch", "--out", "{d}/o"]),
    ("reproduce-dir-bad-codings", ["reproduce", "{d}/own_bad_codings", "--out", "{d}/o"]),
    ("reproduce-dir-screening-bad", ["reproduce", "{d}/own_screening", "--out", "{d}/o"]),
    ("reproduce-dir-screening-missing", ["reproduce", "{d}/own_screening_missing", "--out",
                                         "{d}/o"]),
    ("reproduce-dir-and-corpus", ["reproduce", "{d}/own", "--corpus", "{d}/own_rules",
                                  "--out", "{d}/o"]),
    # codebook editing: every refusal comes before anything is written
    ("codebook-no-action", ["codebook", "{d}/own"]),
    ("codebook-add-no-label", ["codebook", "add", "{d}/own", "new.code"]),
    ("codebook-add-unknown-parent", ["codebook", "add", "{d}/own", "new.code", "--label",
                                     "New", "--parent", "nowhere"]),
    ("codebook-add-bad-id", ["codebook", "add", "{d}/own", "Bad Id!", "--label", "X"]),
    ("codebook-add-id-in-use", ["codebook", "add", "{corpus}", "benefits", "--label", "B"]),
    ("codebook-not-a-review", ["codebook", "add", "{d}/emptydir", "a", "--label", "A"]),
    ("codebook-no-codebook", ["codebook", "retire", "{d}/own_nobook", "a"]),
    ("codebook-rename-unknown", ["codebook", "rename", "{corpus}", "nope", "nope2"]),
    ("codebook-rename-to-used-id", ["codebook", "rename", "{corpus}", "benefits",
                                    "challenges"]),
    ("codebook-merge-unknown", ["codebook", "merge", "{corpus}", "nope", "--into",
                                "benefits"]),
    ("codebook-merge-no-into", ["codebook", "merge", "{corpus}", "benefits"]),
    ("codebook-split-not-id-label", ["codebook", "split", "{corpus}", "benefits",
                                     "--into", "noequals"]),
    ("codebook-split-unknown", ["codebook", "split", "{corpus}", "nope", "--into",
                                "a.b=A"]),
    ("codebook-retire-unknown", ["codebook", "retire", "{corpus}", "nope"]),
    ("codebook-diff-one-round", ["codebook", "diff", "{d}/own"]),
    ("codebook-diff-unknown-round", ["codebook", "diff", "{corpus}", "--new", "7"]),
    # adjudication
    ("adjudicate-not-a-review", ["adjudicate", "{d}/emptydir"]),
    ("adjudicate-no-codings", ["adjudicate", "{d}/own"]),
    ("adjudicate-rules-only", ["adjudicate", "{d}/own_rules"]),
    ("adjudicate-one-coder", ["adjudicate", "{corpus}"]),
    ("adjudicate-unknown-coder", ["adjudicate", "{corpus}", "--coders", "curator", "nobody"]),
    ("adjudicate-consensus-is-a-path", ["adjudicate", "{corpus}", "--consensus", "../x"]),
    ("adjudicate-round-zero", ["adjudicate", "{corpus}", "--rounds", "0"]),
    # reproduce with coders, rounds, consensus and methods named
    ("reproduce-unknown-coder", ["reproduce", "{corpus}", "--coders", "nobody", "--out",
                                 "{d}/o"]),
    ("reproduce-rules-as-coder", ["reproduce", "{corpus}", "--coders", "rules", "--out",
                                  "{d}/o"]),
    ("reproduce-unknown-round", ["reproduce", "{corpus}", "--rounds", "9", "--out", "{d}/o"]),
    ("reproduce-missing-consensus", ["reproduce", "{corpus}", "--consensus", "agreed",
                                     "--out", "{d}/o"]),
    ("reproduce-methods-without-human", ["reproduce", "{corpus}", "--methods", "rules",
                                         "--out", "{d}/o"]),
    ("reproduce-unknown-method", ["reproduce", "{corpus}", "--methods", "human", "robots"]),
    ("agree-methods-two-coders", ["agree", "{corpus}", "--methods", "human", "rules",
                                  "--coders", "nobody"]),
    # the command itself
    ("no-command", []),
    ("unknown-command", ["frobnicate"]),
]


def _argv(template: list[str], d: Path) -> list[str]:
    return [a.format(d=d, corpus=bundled_corpus_dir(), e=EXPORTS) for a in template]


def _run(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:  # argparse: usage errors
        return int(exc.code or 0)


def _listing(folder: Path) -> list[tuple[str, int]]:
    """Every path under ``folder`` (review folders included) with its size."""
    return sorted((str(p.relative_to(folder)), p.stat().st_size if p.is_file() else 0)
                  for p in folder.rglob("*") if not p.is_symlink())


def _assert_one_message(code: int, err: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert code != 0, err
    assert lines and lines[0].startswith("error: "), err
    assert sum(line.startswith("error:") for line in lines) == 1, err
    assert all(line.startswith(("error:", "- ", "  ")) for line in lines), err
    assert "Traceback" not in err and "unexpected" not in lines[0], err


def _rows() -> list[object]:
    rows = []
    for case in CASES:
        if hasattr(case, "marks"):  # a pytest.param(name, argv, marks=...)
            rows.append(pytest.param(case.values[1], id=case.values[0], marks=case.marks))
        else:
            rows.append(pytest.param(case[1], id=case[0]))
    return rows


def _table() -> dict[str, list[str]]:
    return {(case.values if hasattr(case, "marks") else case)[0]:
            (case.values if hasattr(case, "marks") else case)[1] for case in CASES}


@pytest.mark.parametrize("argv", _rows())
def test_bad_input_is_one_clear_message(bad: Path, argv: list[str],
                                        capsys: pytest.CaptureFixture[str]) -> None:
    before = _listing(bad)
    code = _run([*_argv(argv, bad), *(["--no-progress"] if argv[:1] == ["reproduce"] else [])])
    _assert_one_message(code, capsys.readouterr().err)
    assert _listing(bad) == before  # nothing left behind, nothing changed
    assert (bad / "notours" / "precious.js").read_text() == "x"


def test_every_subcommand_is_in_the_table() -> None:
    commands = set(cli.build_parser()._subparsers._group_actions[0].choices)  # noqa: SLF001
    covered = {argv[0] for argv in _table().values() if argv}
    assert commands <= covered, commands - covered


def test_an_unexpected_exception_is_one_line_with_a_bug_hint(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def explode(args: object) -> None:
        raise RuntimeError("something\nwent wrong")

    parser = cli.build_parser()
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    parser._subparsers._group_actions[0].choices["load"].set_defaults(func=explode)  # noqa: SLF001
    assert main(["load", "x.bib"]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: unexpected RuntimeError: "
                                                   "something went wrong; this is a bug")
    assert "SLR_DEBUG=1" in err
    monkeypatch.setenv("SLR_DEBUG", "1")
    with pytest.raises(RuntimeError):
        main(["load", "x.bib"])


def test_an_os_error_nobody_expected_is_one_line(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    def refuse(args: object) -> None:
        raise PermissionError(13, "Permission denied", "/some/file")

    parser = cli.build_parser()
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    parser._subparsers._group_actions[0].choices["load"].set_defaults(func=refuse)  # noqa: SLF001
    assert main(["load", "x.bib"]) == 2
    assert capsys.readouterr().err == ("error: /some/file: Permission denied; check the path, "
                                       "its permissions and the free disk space\n")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root reads unreadable files")
def test_an_unreadable_input_is_one_message(bad: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    locked = tmp_path / "locked.csv"
    locked.write_text("text\nx\n")
    locked.chmod(0)
    _assert_one_message(_run(["code", str(locked), "--codebook", BOOK]),
                        capsys.readouterr().err)


@pytest.mark.parametrize("name", ["code-binary-csv", "reproduce-corpus-missing",
                                  "load-bogus-encoding", "no-command", "segment-yaml-bomb",
                                  "segment-exports-binary", "init-export-binary",
                                  "reproduce-dir-not-a-review"])
def test_a_real_process_prints_one_message(bad: Path, name: str) -> None:
    argv = _argv(_table()[name], bad)
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    env.pop("SLR_DEBUG", None)
    result = subprocess.run([sys.executable, "-m", "toolkit", *argv, *(
        ["--no-progress"] if argv[:1] == ["reproduce"] else [])], capture_output=True,
        text=True, env=env, timeout=300)
    _assert_one_message(result.returncode, result.stderr)
    # a warning on the way (an export read as cp1252) is a note on stdout, never on stderr
    assert all(line.startswith(("note: ", "  ")) for line in result.stdout.splitlines())


def test_a_bom_before_invalid_utf8_loads_with_a_note(bad: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    # Not an error: the file is read as cp1252, as reference managers do, and the note says
    # which byte was wrong, so the user can check the accented characters.
    code = _run(["load", str(bad / "bom_then_junk.bib")])
    shown = capsys.readouterr()
    assert code == 0 and "Traceback" not in shown.err + shown.out
    assert "not valid UTF-8 (byte 23); read as cp1252" in shown.err + shown.out
