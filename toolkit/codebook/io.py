"""Read, validate and write codebooks as YAML.

Validation reports **every** problem at once, each saying where it is and what is valid.
``save_codebook`` writes atomically with a fixed key order so that diffs stay readable.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from toolkit._io import atomic_write_text
from toolkit._yaml import YamlError, decode_text, dump_yaml, load_yaml, show
from toolkit.codebook.model import Code, Codebook, Lineage, Patterns, RetiredCode
from toolkit.codebook.patterns import check_regex
from toolkit.errors import CodebookError

__all__ = ["load_codebook", "save_codebook", "codebook_from_dict", "codebook_to_dict",
           "validate_codebook_dict"]

TOP_KEYS = ("name", "version", "round", "authors", "description", "codes", "retired")
CODE_KEYS = ("id", "label", "parent", "definition", "include", "exclude", "examples", "color",
             "introduced_in", "lineage", "patterns", "codable")
PATTERN_KEYS = ("phrases", "lemmas", "globs", "regex")
RETIRED_KEYS = ("id", "label", "round", "reason")
LINEAGE_KEYS = ("renamed_from", "merged_from", "split_from")
_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")
_GLOB_CHARS = re.compile(r"[\w'-]+")
#: Deepest hierarchy accepted (levels below a theme); real codebooks have a handful.
MAX_CODE_DEPTH = 100
_MAX_SUGGESTIONS = 20  # "did you mean" hints are computed for this many unknown parents


def _suggest(key: str, valid: Sequence[str]) -> str:
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"{hint}valid keys: {', '.join(valid)}"


def _str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)


def validate_codebook_dict(data: Any, where: str = "<codebook>") -> list[str]:
    """Return every problem of a raw codebook mapping (empty list when valid).

    Parameters
    ----------
    data : object
        What ``yaml.safe_load`` gave.
    where : str
        Prefix for messages (usually the file path).

    Examples
    --------
    >>> validate_codebook_dict({"name": "x", "version": "1", "round": 1,
    ...     "codes": [{"id": "a", "label": "A", "parnet": "b"}]})  # doctest: +NORMALIZE_WHITESPACE
    ["codes[0] (id 'a'): unknown key 'parnet'; did you mean 'parent'? valid keys: id, label,
      parent, definition, include, exclude, examples, color, introduced_in, lineage, patterns,
      codable"]
    """
    problems: list[str] = []
    if not isinstance(data, Mapping):
        return [f"the file must hold a mapping with keys {', '.join(TOP_KEYS)}"]
    for key in data:
        if key not in TOP_KEYS:
            problems.append(f"unknown top-level key {key!r}; {_suggest(str(key), TOP_KEYS)}")
    for key in ("name", "version", "round", "codes"):
        if key not in data:
            problems.append(f"missing top-level key {key!r}")
    round_ = data.get("round")
    if "round" in data and (not isinstance(round_, int) or isinstance(round_, bool)
                            or round_ < 1):
        problems.append(f"round is {show(round_)}; it must be a whole number from 1")
        round_ = None
    if "authors" in data and not _str_list(data["authors"]) and data["authors"] != []:
        problems.append("authors must be a list of names")
    for key in ("name", "version"):
        if key in data and (not isinstance(data[key], (str, int, float))
                            or isinstance(data[key], bool) or not str(data[key]).strip()):
            problems.append(f"{key} is {show(data[key])}; it must be a short text")
    if "description" in data and not isinstance(data["description"], str):
        problems.append("description must be text")
    codes = data.get("codes")
    if "codes" in data and (not isinstance(codes, list) or not codes):
        problems.append("codes must be a non-empty list of code mappings")
        return problems
    if not isinstance(codes, list):
        return problems
    ids: dict[str, int] = {}
    parents: dict[str, str | None] = {}
    for i, code in enumerate(codes):
        if not isinstance(code, Mapping):
            problems.append(f"codes[{i}]: must be a mapping with at least id and label")
            continue
        code_id = code.get("id")
        at = f"codes[{i}] (id {show(code_id)})" if code_id is not None else f"codes[{i}]"
        for key in code:
            if key not in CODE_KEYS:
                problems.append(f"{at}: unknown key {key!r}; {_suggest(str(key), CODE_KEYS)}")
        if not isinstance(code_id, str) or not _ID.match(code_id):
            problems.append(f"{at}: id must be lower-case letters, digits, '.', '_' or '-', "
                            "starting with a letter or digit (e.g. 'challenges.cost')")
        elif code_id in ids:
            problems.append(f"{at}: duplicate id; already used by codes[{ids[code_id]}]")
        else:
            ids[code_id] = i
            parent = code.get("parent")
            if parent is None or isinstance(parent, str):
                parents[code_id] = parent
            else:
                parents[code_id] = None
                problems.append(f"{at}: parent is {show(parent)}; it must be one code id "
                                "(text), or left out for a theme")
        if not isinstance(code.get("label"), str) or not code.get("label", "").strip():
            problems.append(f"{at}: needs a label (a short human-readable name)")
        for key in ("definition", "include", "exclude"):
            if key in code and not isinstance(code[key], str):
                problems.append(f"{at}: {key} must be text")
        if "examples" in code and not _str_list(code["examples"]):
            problems.append(f"{at}: examples must be a list of texts")
        color = code.get("color")
        if color is not None and (not isinstance(color, str) or not _COLOR.match(color)):
            problems.append(f"{at}: color {show(color)} is not '#RRGGBB' (six hex digits)")
        introduced = code.get("introduced_in", 1)
        if not isinstance(introduced, int) or isinstance(introduced, bool) or introduced < 1:
            problems.append(f"{at}: introduced_in {show(introduced)} must be a round number "
                            "from 1")
        elif isinstance(round_, int) and introduced > round_:
            problems.append(f"{at}: introduced_in {introduced} is after this codebook's round "
                            f"{round_}")
        if "codable" in code and not isinstance(code["codable"], bool):
            problems.append(f"{at}: codable must be true or false")
        problems.extend(_check_lineage(at, code.get("lineage")))
        problems.extend(_check_patterns(at, code.get("patterns")))
    problems.extend(_check_hierarchy(ids, parents))
    problems.extend(_check_retired(data.get("retired"), ids, round_))
    return problems


def _check_retired(retired: Any, ids: dict[str, int], round_: Any) -> list[str]:
    """Retired codes: a list of ``{id, label, round, reason}``, ids not in use any more."""
    if retired is None:
        return []
    if not isinstance(retired, list):
        return ["retired must be a list of {id, label, round, reason} mappings"]
    problems: list[str] = []
    seen: set[str] = set()
    for i, item in enumerate(retired):
        at = f"retired[{i}]"
        if not isinstance(item, Mapping):
            problems.append(f"{at}: must be a mapping with {', '.join(RETIRED_KEYS)}")
            continue
        for key in item:
            if key not in RETIRED_KEYS:
                problems.append(f"{at}: unknown key {key!r}; {_suggest(str(key), RETIRED_KEYS)}")
        code_id = item.get("id")
        if not isinstance(code_id, str) or not _ID.match(code_id):
            problems.append(f"{at}: id must be a code id (lower-case letters, digits, '.', '_' "
                            "or '-')")
        elif code_id in ids:
            problems.append(f"{at}: {code_id!r} is retired but still a code of this codebook; "
                            "remove one of the two")
        elif code_id in seen:
            problems.append(f"{at}: {code_id!r} is retired twice")
        else:
            seen.add(code_id)
        if not isinstance(item.get("label"), str) or not item.get("label", "").strip():
            problems.append(f"{at}: needs the label the code had")
        when = item.get("round")
        if not isinstance(when, int) or isinstance(when, bool) or when < 1:
            problems.append(f"{at}: round {show(when)} must be a round number from 1")
        elif isinstance(round_, int) and when > round_:
            problems.append(f"{at}: round {when} is after this codebook's round {round_}")
        if "reason" in item and not isinstance(item["reason"], str):
            problems.append(f"{at}: reason must be text")
    return problems


def _check_hierarchy(ids: dict[str, int], parents: dict[str, str | None]) -> list[str]:
    """Unknown parents, parent cycles and over-deep chains, in one pass over the codes.

    Each code is visited once (cycles are reported once each, not once per member), so a
    codebook of thousands of codes validates in linear time.
    """
    problems: list[str] = []
    suggestions = 0
    for code_id, parent in parents.items():
        if parent is not None and parent not in ids:
            hint = ""
            if suggestions < _MAX_SUGGESTIONS:
                suggestions += 1
                close = difflib.get_close_matches(parent, list(ids), n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
            problems.append(f"codes[{ids[code_id]}] (id {code_id!r}): parent {show(parent)} is "
                            f"not a code in this codebook; {hint}leave parent out for a theme")
    depth: dict[str, int | None] = {}  # levels below the theme; None: on or under a cycle
    for start in parents:
        path: list[str] = []
        place: dict[str, int] = {}
        current: str | None = start
        while current is not None and current in parents and current not in depth \
                and current not in place:
            place[current] = len(path)
            path.append(current)
            current = parents[current]
        below: int | None
        if current is not None and current in place:  # walked into a cycle
            cycle = path[place[current]:]
            first = min(cycle, key=ids.__getitem__)
            turn = cycle.index(first)
            members = cycle[turn:] + cycle[:turn]
            problems.append(f"codes[{ids[first]}] (id {first!r}): parent cycle "
                            f"{_chain([*members, first])}; a code cannot be its own ancestor")
            for member in cycle:
                depth[member] = None
            path, below = path[:place[current]], None
        elif current is not None and current in depth:
            below = depth[current]
        else:  # reached a theme (no parent) or an unknown parent (reported above)
            below = -1
        for code_id in reversed(path):
            below = None if below is None else below + 1
            depth[code_id] = below
    known = [(d, code_id) for code_id, d in depth.items() if d is not None]
    deepest = max(known, key=lambda item: (item[0], -ids[item[1]])) if known else None
    if deepest is not None and deepest[0] > MAX_CODE_DEPTH:
        level, code_id = deepest
        problems.append(f"codes[{ids[code_id]}] (id {code_id!r}): {level} levels below its "
                        f"theme; at most {MAX_CODE_DEPTH} are allowed (flatten the hierarchy)")
    return problems


def _chain(ids: list[str], limit: int = 12) -> str:
    if len(ids) <= limit:
        return " -> ".join(ids)
    return (" -> ".join(ids[:6]) + f" -> ... ({len(ids) - 9} more) -> "
            + " -> ".join(ids[-3:]))


def _check_lineage(at: str, lineage: Any) -> list[str]:
    if lineage is None:
        return []
    if not isinstance(lineage, Mapping):
        return [f"{at}: lineage must be a mapping with {', '.join(LINEAGE_KEYS)}"]
    problems = []
    for key, value in lineage.items():
        if key not in LINEAGE_KEYS:
            problems.append(f"{at}: unknown lineage key {key!r}; "
                            f"{_suggest(str(key), LINEAGE_KEYS)}")
        elif key == "split_from":
            if not isinstance(value, str):
                problems.append(f"{at}: lineage.split_from must be one code id")
        elif not _str_list(value):
            problems.append(f"{at}: lineage.{key} must be a list of code ids")
    return problems


def _check_patterns(at: str, patterns: Any) -> list[str]:
    if patterns is None:
        return []
    if not isinstance(patterns, Mapping):
        return [f"{at}: patterns must be a mapping with {', '.join(PATTERN_KEYS)}"]
    problems = []
    for kind, values in patterns.items():
        if kind not in PATTERN_KEYS:
            problems.append(f"{at}: unknown pattern kind {kind!r}; "
                            f"{_suggest(str(kind), PATTERN_KEYS)}")
            continue
        if not _str_list(values):
            problems.append(f"{at}: patterns.{kind} must be a list of non-empty texts")
            continue
        for value in values:
            if kind == "regex":
                problem = check_regex(value)
                if problem:
                    problems.append(f"{at}: bad regex {show(value)}: {problem}")
            elif kind == "globs" and not _is_glob(value):
                problems.append(f"{at}: bad glob {show(value)}; a glob is one word with one or "
                                "two '*' for any letters, e.g. 'credential*'")
    return problems


def _is_glob(value: str) -> bool:
    """One word of letters, digits, ``'`` and ``-`` with one or two ``*`` (linear check)."""
    stars = value.count("*")
    rest = value.replace("*", "")
    return 1 <= stars <= 2 and (not rest or _GLOB_CHARS.fullmatch(rest) is not None)


def _tuple(value: Any) -> tuple[str, ...]:
    return tuple(str(v).strip() for v in value or ())


def codebook_from_dict(data: Mapping[str, Any], where: str = "<codebook>") -> Codebook:
    """Validate a raw mapping and build a :class:`Codebook`.

    Raises
    ------
    CodebookError
        Listing every problem found by :func:`validate_codebook_dict`.
    """
    problems = validate_codebook_dict(data, where)
    if problems:
        raise CodebookError(where, problems)
    codes = []
    for raw in data["codes"]:
        lineage = raw.get("lineage") or {}
        patterns = raw.get("patterns") or {}
        codes.append(Code(
            id=raw["id"], label=raw["label"].strip(), parent=raw.get("parent"),
            definition=str(raw.get("definition", "")).strip(),
            include=str(raw.get("include", "")).strip(),
            exclude=str(raw.get("exclude", "")).strip(),
            examples=_tuple(raw.get("examples")), color=raw.get("color"),
            introduced_in=int(raw.get("introduced_in", 1)),
            lineage=Lineage(_tuple(lineage.get("renamed_from")),
                            _tuple(lineage.get("merged_from")), lineage.get("split_from")),
            patterns=Patterns(*(_tuple(patterns.get(k)) for k in PATTERN_KEYS)),
            codable=bool(raw.get("codable", True)),
        ))
    retired = tuple(RetiredCode(item["id"], item["label"].strip(), int(item["round"]),
                                str(item.get("reason", "")).strip())
                    for item in data.get("retired") or ())
    return Codebook(name=str(data["name"]), version=str(data["version"]),
                    round=int(data["round"]), codes=tuple(codes),
                    authors=_tuple(data.get("authors")),
                    description=str(data.get("description", "")).strip(), retired=retired)


def load_codebook(path: str | Path) -> Codebook:
    """Load and validate a codebook YAML file (parsed with ``yaml.safe_load``).

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    Codebook

    Raises
    ------
    CodebookError
        With every problem, each naming the code and what is valid; also for a missing or
        unreadable file, text that is not UTF-8 (UTF-16/32 need a byte-order mark), YAML
        syntax errors, and YAML that nests too deep or whose aliases expand too far
        (see :mod:`toolkit._yaml`).

    Examples
    --------
    >>> from toolkit.paths import project_root
    >>> load_codebook(project_root() / "codebooks" / "microcredentials.yaml")  # doctest: +ELLIPSIS
    Codebook(name='Micro-credentials review', version='2.0', round=2, codes=..., themes=...)
    """
    path = Path(path)
    if path.is_dir():
        raise CodebookError(path, ["is a folder; give the codebook's .yaml file"])
    if not path.is_file():
        raise CodebookError(path, ["no such file; check the path"])
    try:
        data = load_yaml(decode_text(path.read_bytes()))
    except YamlError as err:
        raise CodebookError(path, [str(err)]) from None
    except OSError as err:
        raise CodebookError(path, [f"cannot be read ({err.strerror}); check its permissions"]) \
            from None
    return codebook_from_dict(data, str(path))


def codebook_to_dict(codebook: Codebook) -> dict[str, Any]:
    """Return the codebook as a mapping with a fixed key order, empty fields left out."""
    codes = []
    for code in codebook.codes:
        item: dict[str, Any] = {"id": code.id, "label": code.label}
        if code.parent:
            item["parent"] = code.parent
        for key in ("definition", "include", "exclude"):
            if getattr(code, key):
                item[key] = getattr(code, key)
        if code.examples:
            item["examples"] = list(code.examples)
        if code.color:
            item["color"] = code.color
        item["introduced_in"] = code.introduced_in
        if code.lineage:
            lineage: dict[str, Any] = {}
            if code.lineage.renamed_from:
                lineage["renamed_from"] = list(code.lineage.renamed_from)
            if code.lineage.merged_from:
                lineage["merged_from"] = list(code.lineage.merged_from)
            if code.lineage.split_from:
                lineage["split_from"] = code.lineage.split_from
            item["lineage"] = lineage
        if len(code.patterns):
            item["patterns"] = {k: list(getattr(code.patterns, k)) for k in PATTERN_KEYS
                                if getattr(code.patterns, k)}
        if not code.codable:
            item["codable"] = False
        codes.append(item)
    data: dict[str, Any] = {"name": codebook.name, "version": codebook.version,
                            "round": codebook.round}
    if codebook.authors:
        data["authors"] = list(codebook.authors)
    if codebook.description:
        data["description"] = codebook.description
    data["codes"] = codes
    if codebook.retired:
        data["retired"] = [{"id": r.id, "label": r.label, "round": r.round,
                            **({"reason": r.reason} if r.reason else {})}
                           for r in codebook.retired]
    return data


def save_codebook(codebook: Codebook, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write a codebook as YAML, atomically, keys in a fixed order.

    Parameters
    ----------
    codebook : Codebook
    path : str or Path
    overwrite : bool, default False
        Replace an existing file; otherwise an existing file raises
        :class:`toolkit._io.OutputExistsError`.

    Returns
    -------
    Path
    """
    text = dump_yaml(codebook_to_dict(codebook), sort_keys=False, allow_unicode=True,
                     width=96, default_flow_style=False)
    return atomic_write_text(path, text, overwrite=overwrite)
