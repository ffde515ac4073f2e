"""``review.yaml``: the one file that describes a review folder.

A review folder holds the review's inputs (reference exports, full texts or an evidence
table, a codebook, codings) and a ``review.yaml`` saying where they are and how the method
runs on them. :func:`load_review_config` reads and checks it; every path in it is relative
to the folder. ``slr init`` writes a commented one (see :mod:`toolkit.review.scaffold`).

Keys (all optional but ``title``)::

    title, id, description       what the review is
    questions                    {number: question} (or a list)
    publication                  author, year, title, journal, volume, issue, pages, doi:
                                 the paper, when the folder reproduces a published review
    method                       [{id, description}]: the method as the review states it
    records                      files (exports), strict, deduplicate, columns (extra
                                 fields to keep as columns), add (CSV of columns per record)
    source_taxonomy              {source type: {group, definition}}
    search                       [{database, files, string, date, hits, note}]: the search log
    screening                    CSV: record_id, stage, decision, reason
    segments                     from (abstracts | documents | evidence), unit, column,
                                 documents, evidence, audit, document_id
    coding                       codebook, rounds {n: file}, codings, coders (primary
                                 first), use_rounds, consensus, methods, rule_scores
    cases                        {kind of case: [code ids]}: for the cross-case table
    triangulation                by [record columns], min_groups, min_works
    coverage                     [segment or record columns], e.g. [rq, year]
    topics                       embedding, stop_words, min_topic_size
    report                       about, limitations, prisma_notes, derive_screened

Other keys a review keeps for itself (``sections``, ``corpus``, ``not_reported`` of a
curated evidence table) are kept as they are.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from toolkit._yaml import YamlError, decode_text, dump_yaml, load_yaml, show
from toolkit.errors import ToolkitError

__all__ = ["ReviewConfigError", "load_review_config", "save_review_config",
           "validate_review_dict", "REVIEW_FILE",
           "REVIEW_KEYS", "SEGMENT_SOURCES"]

#: The file that makes a folder a review.
REVIEW_FILE = "review.yaml"
#: Where segments can come from.
SEGMENT_SOURCES = ("abstracts", "documents", "evidence")

_SECTIONS: dict[str, dict[str, type | tuple[type, ...]]] = {
    "records": {"files": (list, str), "strict": bool, "deduplicate": bool, "columns": dict,
                "add": str},
    "segments": {"from": str, "unit": str, "column": str, "documents": str, "evidence": str,
                 "audit": str, "document_id": str},
    "coding": {"codebook": str, "rounds": dict, "codings": str, "coders": list,
               "use_rounds": list, "consensus": str, "methods": list, "rule_scores": str},
    "triangulation": {"by": (list, str), "min_groups": int, "min_works": int},
    "topics": {"embedding": str, "stop_words": list, "min_topic_size": (int, type(None))},
    "report": {"about": str, "limitations": list, "prisma_notes": dict,
               "derive_screened": bool, "title": str},
}
_TOP: dict[str, type | tuple[type, ...]] = {
    "title": str, "id": str, "description": str, "questions": (dict, list),
    "publication": dict, "method": (list, dict), "source_taxonomy": dict, "search": list,
    "screening": str, "cases": dict, "coverage": list, "sections": list, "corpus": dict,
    "not_reported": dict, **{k: dict for k in _SECTIONS},
}
#: Top-level keys ``review.yaml`` may hold.
REVIEW_KEYS = tuple(_TOP)
_UNITS = {"abstracts": ("whole", "sentence"), "documents": ("paragraph", "sentence", "page"),
          "evidence": ("whole",)}


class ReviewConfigError(ToolkitError, ValueError):
    """A ``review.yaml`` is missing or wrong; ``problems`` lists every problem found."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path, self.problems = path, tuple(problems)
        super().__init__(f"{path}: {len(problems)} problem(s):\n- " + "\n- ".join(problems)
                         if len(problems) > 1 else f"{path}: {problems[0]}")


def _kind(expected: type | tuple[type, ...]) -> str:
    kinds = expected if isinstance(expected, tuple) else (expected,)
    names = {list: "a list", dict: "a mapping", str: "text", bool: "true or false",
             int: "a whole number", type(None): "empty"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _check(where: str, value: Any, expected: type | tuple[type, ...]) -> str | None:
    kinds = expected if isinstance(expected, tuple) else (expected,)
    if bool in kinds or not isinstance(value, bool):
        if isinstance(value, kinds):
            return None
    if str in kinds and isinstance(value, (int, float)) and not isinstance(value, bool):
        return None  # a year or a number written where text is expected reads as text
    return f"{where} is {type(value).__name__}; expected {_kind(expected)}"


def _is_number(key: Any) -> bool:
    """Whether a question key is a whole number (``1`` or ``"1"``)."""
    if isinstance(key, bool):
        return False
    if isinstance(key, int):
        return True
    return isinstance(key, str) and key.strip().isascii() and key.strip().isdigit()


def _file_list(value: Any) -> bool:
    """Whether ``value`` names files: empty, a path, or a list of paths."""
    if value is None or isinstance(value, str):
        return True
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def validate_review_dict(data: Any) -> list[str]:
    """Return every problem of a loaded ``review.yaml`` (empty when it is valid)."""
    if not isinstance(data, dict):
        return ["the file does not hold a mapping of keys; start from the review.yaml "
                "that `slr init` writes"]
    problems = []
    if not data.get("title"):
        problems.append("title is missing; give the review a title")
    for key, value in data.items():
        if key not in _TOP:
            problems.append(f"unknown key {key!r}; known keys: {', '.join(REVIEW_KEYS)}")
            continue
        if value is None:  # an empty value leaves the default
            continue
        problem = _check(key, value, _TOP[key])
        if problem:
            problems.append(problem)
            continue
        for sub, sub_value in (value.items() if key in _SECTIONS else ()):
            if sub not in _SECTIONS[key]:
                problems.append(f"{key}.{sub}: unknown key; known: "
                                f"{', '.join(_SECTIONS[key])}")
            elif sub_value is not None:  # an empty value leaves the default
                problem = _check(f"{key}.{sub}", sub_value, _SECTIONS[key][sub])
                if problem:
                    problems.append(problem)
    segments = data.get("segments") or {}
    if isinstance(segments, dict):
        source = segments.get("from", "abstracts")
        if source not in SEGMENT_SOURCES:
            problems.append(f"segments.from is {source!r}; choose one of "
                            f"{', '.join(SEGMENT_SOURCES)}")
        elif "unit" in segments and segments["unit"] not in _UNITS[source]:
            problems.append(f"segments.unit is {segments['unit']!r}; segments from {source} "
                            f"are cut into {' or '.join(_UNITS[source])}")
        elif source == "evidence" and not segments.get("evidence"):
            problems.append("segments.from is evidence but segments.evidence names no file")
    for i, entry in enumerate(data.get("search") or []):
        if not isinstance(entry, dict) or not entry.get("database"):
            problems.append(f"search[{i + 1}]: each entry needs a database (and files, "
                            "string, date, hits)")
        elif not _file_list(entry.get("files")):
            problems.append(f"search[{i + 1}] ({entry['database']}): files lists the export "
                            "files of this database, e.g. [exports/scopus.csv]")
        elif "hits" in entry and entry["hits"] is not None and (
                not isinstance(entry["hits"], int) or isinstance(entry["hits"], bool)):
            problems.append(f"search[{i + 1}] ({entry['database']}): hits must be a whole "
                            "number")
    questions = data.get("questions") or {}
    if isinstance(questions, dict):
        bad = [k for k in questions if not _is_number(k)]
        if bad:
            problems.append(f"questions: keys are the questions' numbers (1, 2, ...); found "
                            f"{', '.join(show(k) for k in bad[:5])}")
    cases = data.get("cases") or {}
    if isinstance(cases, dict):
        for family, codes in cases.items():
            if not isinstance(codes, (list, str)):
                problems.append(f"cases.{family}: list the code ids that are cases of this "
                                "kind, e.g. [case_industry]")
    coding = data.get("coding") or {}
    rounds = coding.get("rounds") if isinstance(coding, dict) else None
    if isinstance(rounds, dict):
        bad = [k for k, v in rounds.items() if not _is_number(k) or not isinstance(v, str)]
        if bad:
            problems.append(f"coding.rounds: give each round's number and its codebook file, "
                            f"e.g. {{1: codebook_round1.yaml}}; found {show(bad[:5])}")
    if isinstance(coding, dict) and coding.get("rule_scores") not in (None, "in-sample",
                                                                      "held-out"):
        problems.append("coding.rule_scores: 'in-sample' (the patterns were written on these "
                        "segments) or 'held-out'")
    return problems


def load_review_config(folder: str | Path) -> dict[str, Any]:
    """Read and check a review folder's ``review.yaml``.

    Parameters
    ----------
    folder : str or Path
        The review folder.

    Returns
    -------
    dict
        The file as loaded by the bounded safe loader (:func:`toolkit._yaml.load_yaml`:
        plain types only, no alias bombs, limited size and depth).

    Raises
    ------
    ReviewConfigError
        For a folder without ``review.yaml``, a file that is not (UTF-8) YAML or too big,
        deep or alias-laden to read safely, or any key that is unknown or of the wrong kind
        (every problem listed).
    """
    folder = Path(folder)
    path = folder / REVIEW_FILE
    if folder.exists() and not folder.is_dir():
        raise ReviewConfigError(folder, ["is a file, not a review folder; give the folder "
                                         "that holds review.yaml"])
    if not folder.is_dir():
        raise ReviewConfigError(folder, ["no such folder; make a review folder with "
                                         "`slr init FOLDER --from EXPORTS...`"])
    if not path.is_file():
        raise ReviewConfigError(folder, [f"no {REVIEW_FILE} here, so this is not a review "
                                         "folder; make one with `slr init FOLDER --from "
                                         "EXPORTS...`"])
    try:
        data = load_yaml(decode_text(path.read_bytes()))
    except YamlError as err:
        raise ReviewConfigError(path, [str(err)]) from None
    except OSError as err:
        raise ReviewConfigError(path, [f"cannot be read ({err.strerror or err}); check its "
                                       "permissions"]) from None
    problems = validate_review_dict(data)
    if problems:
        raise ReviewConfigError(path, problems)
    return data


def save_review_config(folder: str | Path, data: dict[str, Any]) -> Path:
    """Check ``data`` and write it as the folder's ``review.yaml``, atomically.

    Keys keep their order; comments of a hand-written file are not kept (edit the file by
    hand to keep them).

    Raises
    ------
    ReviewConfigError
        Listing every problem, before anything is written.
    """
    from toolkit._io import atomic_write_text

    path = Path(folder) / REVIEW_FILE
    problems = validate_review_dict(data)
    if problems:
        raise ReviewConfigError(path, problems)
    text = dump_yaml(data, sort_keys=False, allow_unicode=True, width=90)
    return atomic_write_text(path, text)
