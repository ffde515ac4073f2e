"""Edit a codebook the way coding rounds change it, with the lineage recorded.

Every function takes a :class:`Codebook` and returns a new one (codebooks are frozen);
nothing is written until :func:`toolkit.codebook.save_codebook`. A round of coding starts
with :func:`start_round`, then codes are added, renamed, merged, split, retired or
updated; each change lands where :func:`toolkit.codebook.diff_codebooks` finds it:

- :func:`add_code`: a new code, ``introduced_in`` the current round;
- :func:`rename_code`: a new id for the same idea (``lineage.renamed_from``);
- :func:`merge_codes`: several codes folded into one (``lineage.merged_from``);
- :func:`split_code`: one code carved into several (``lineage.split_from``);
- :func:`retire_code`: a code taken out of use, kept in ``Codebook.retired``;
- :func:`update_code`: label, definition, criteria, examples, colour, patterns, parent.

Ids are never reused for another idea: an id that a code, a lineage record or a retired
code holds cannot be given to a new code. Every result is validated like a codebook file,
so what you save loads again.

Examples
--------
>>> from toolkit.codebook import Code, Codebook, diff_codebooks
>>> round1 = Codebook("demo", "1.0", 1, (Code("cost", "Cost"), Code("fees", "Fees"),
...                                       Code("time", "Time")))
>>> round2 = start_round(round1)
>>> round2 = merge_codes(round2, ["cost", "fees"], into="costs", label="Costs")
>>> round2 = add_code(round2, "time.travel", "Travel time", parent="time")
>>> diff_codebooks(round1, round2)[["change", "code_id", "old_id"]].values.tolist()
[['added', 'time.travel', <NA>], ['merged', 'costs', 'cost'], ['merged', 'costs', 'fees']]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from toolkit.codebook.io import PATTERN_KEYS, codebook_to_dict, validate_codebook_dict
from toolkit.codebook.model import Code, Codebook, Lineage, Patterns, RetiredCode
from toolkit.errors import CodebookError

__all__ = ["start_round", "add_code", "update_code", "rename_code", "merge_codes",
           "split_code", "retire_code"]

_UPDATABLE = ("label", "parent", "definition", "include", "exclude", "examples", "color",
              "patterns", "codable")


def _where(codebook: Codebook) -> str:
    return f"codebook {codebook.name!r} round {codebook.round}"


def _fail(codebook: Codebook, problem: str) -> CodebookError:
    return CodebookError(_where(codebook), [problem])


def _known(codebook: Codebook, code_id: str, action: str) -> Code:
    if code_id not in codebook:
        raise _fail(codebook, f"cannot {action} {code_id!r}: no such code; known codes "
                              f"include {sorted(codebook.ids)[:12]}")
    return codebook[code_id]


def _reserved(codebook: Codebook) -> set[str]:
    """Every id the codebook's history holds: codes, lineage sources, retired codes."""
    ids = set(codebook.ids) | {r.id for r in codebook.retired}
    for code in codebook.codes:
        ids.update(code.lineage.renamed_from)
        ids.update(code.lineage.merged_from)
        if code.lineage.split_from:
            ids.add(code.lineage.split_from)
    return ids


def _fresh(codebook: Codebook, code_id: str) -> None:
    if code_id in codebook:
        raise _fail(codebook, f"{code_id!r} is already a code; choose another id")
    if code_id in _reserved(codebook):
        raise _fail(codebook, f"{code_id!r} was used for a code in an earlier round (see "
                              "the lineage and retired codes); an id is never reused for "
                              "another idea, choose another")


def _patterns(value: Patterns | Mapping[str, Iterable[str]] | None) -> Patterns:
    if value is None:
        return Patterns()
    if isinstance(value, Patterns):
        return value
    unknown = [k for k in value if k not in PATTERN_KEYS]
    if unknown:
        raise CodebookError("patterns", [f"unknown pattern kind(s) {unknown}; use "
                                         f"{', '.join(PATTERN_KEYS)}"])
    return Patterns(*(tuple(value.get(k, ())) for k in PATTERN_KEYS))


def _union(*groups: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(item for group in groups for item in group))


def _merge_patterns(patterns: Iterable[Patterns]) -> Patterns:
    patterns = list(patterns)
    return Patterns(*(_union(*(getattr(p, k) for p in patterns)) for k in PATTERN_KEYS))


def _rebuild(codebook: Codebook, codes: Sequence[Code], **changes: Any) -> Codebook:
    """Return a new codebook with these codes, validated like a file (every problem listed)."""
    new = dataclasses.replace(codebook, codes=tuple(codes), **changes)
    problems = validate_codebook_dict(codebook_to_dict(new), _where(new))
    if problems:
        raise CodebookError(_where(new), problems)
    return new


def _insert_after_subtree(codes: list[Code], codebook: Codebook, parent: str | None,
                          code: Code) -> list[Code]:
    """Place ``code`` after the last code of its parent's subtree (file order stays readable)."""
    if parent is None:
        return [*codes, code]
    family = {parent, *codebook.descendants(parent)}
    last = max(i for i, c in enumerate(codes) if c.id in family)
    return [*codes[:last + 1], code, *codes[last + 1:]]


def start_round(codebook: Codebook, *, version: str | None = None,
                description: str | None = None) -> Codebook:
    """Begin the next coding round: the same codes, ``round`` one higher.

    Parameters
    ----------
    codebook : Codebook
        The codebook of the round just finished.
    version : str, optional
        Default ``"<round>.0"``.
    description : str, optional
        Default: the old description.

    Examples
    --------
    >>> from toolkit.codebook import Code, Codebook
    >>> start_round(Codebook("demo", "1.0", 1, (Code("a", "A"),)))
    Codebook(name='demo', version='2.0', round=2, codes=1, themes=1)
    """
    new_round = codebook.round + 1
    return dataclasses.replace(codebook, round=new_round, version=version or f"{new_round}.0",
                               description=codebook.description if description is None
                               else description)


def add_code(codebook: Codebook, code_id: str, label: str, *, parent: str | None = None,
             definition: str = "", include: str = "", exclude: str = "",
             examples: Sequence[str] = (), color: str | None = None,
             patterns: Patterns | Mapping[str, Iterable[str]] | None = None,
             codable: bool = True) -> Codebook:
    """Add a code, introduced in the codebook's round, after its parent's other codes.

    Parameters
    ----------
    codebook : Codebook
    code_id : str
        New id, e.g. ``"benefits.skills_signalling"``; never one used before.
    label : str
    parent : str, optional
        Parent code; ``None`` makes a theme.
    definition, include, exclude : str
    examples : sequence of str
    color : str, optional
        ``#RRGGBB``.
    patterns : Patterns or mapping, optional
        Rules for the rule coder, e.g. ``{"phrases": ["evidence of skills"]}``.
    codable : bool, default True

    Returns
    -------
    Codebook

    Raises
    ------
    CodebookError
        For an id in use (now or in an earlier round), an unknown parent, or any field the
        codebook format does not accept.
    """
    _fresh(codebook, code_id)
    if parent is not None:
        _known(codebook, parent, "add a code under")
    code = Code(id=code_id, label=label, parent=parent, definition=definition,
                include=include, exclude=exclude, examples=tuple(examples), color=color,
                introduced_in=codebook.round, patterns=_patterns(patterns), codable=codable)
    return _rebuild(codebook, _insert_after_subtree(list(codebook.codes), codebook, parent,
                                                    code))


def update_code(codebook: Codebook, code_id: str, **changes: Any) -> Codebook:
    """Change a code's label, parent, definition, criteria, examples, colour, patterns.

    Parameters
    ----------
    codebook : Codebook
    code_id : str
    **changes
        Any of ``label, parent, definition, include, exclude, examples, color, patterns,
        codable``. ``patterns`` may be a mapping such as ``{"phrases": [...]}``.

    Raises
    ------
    CodebookError
        For an unknown code or field, or a change that makes the codebook invalid (such as
        a parent cycle).

    Examples
    --------
    >>> from toolkit.codebook import Code, Codebook
    >>> book = update_code(Codebook("d", "1", 1, (Code("a", "A"),)), "a", definition="All.")
    >>> book["a"].definition
    'All.'
    """
    code = _known(codebook, code_id, "update")
    unknown = [k for k in changes if k not in _UPDATABLE]
    if unknown:
        raise _fail(codebook, f"cannot change {unknown} of a code; changeable: "
                              f"{', '.join(_UPDATABLE)} (use rename_code for the id)")
    if "patterns" in changes:
        changes["patterns"] = _patterns(changes["patterns"])
    if "examples" in changes:
        changes["examples"] = tuple(changes["examples"])
    if changes.get("parent") is not None:
        _known(codebook, changes["parent"], "move a code under")
    updated = dataclasses.replace(code, **changes)
    return _rebuild(codebook, [updated if c.id == code_id else c for c in codebook.codes])


def rename_code(codebook: Codebook, old_id: str, new_id: str, *,
                label: str | None = None) -> Codebook:
    """Give a code a new id (and optionally a new label); children follow.

    The old id goes into ``lineage.renamed_from``, unless the code was added in this same
    round (then there is nothing to trace: no earlier round knew it).

    Raises
    ------
    CodebookError
        For an unknown code or an id in use now or before.

    Examples
    --------
    >>> from toolkit.codebook import Code, Codebook
    >>> book = rename_code(Codebook("d", "1", 2, (Code("a", "A"),)), "a", "alpha")
    >>> book["alpha"].lineage.renamed_from
    ('a',)
    """
    code = _known(codebook, old_id, "rename")
    _fresh(codebook, new_id)
    lineage = code.lineage
    if code.introduced_in < codebook.round:
        lineage = dataclasses.replace(lineage, renamed_from=_union(lineage.renamed_from,
                                                                   [old_id]))
    renamed = dataclasses.replace(code, id=new_id, label=label or code.label, lineage=lineage)
    codes = [renamed if c.id == old_id else
             dataclasses.replace(c, parent=new_id) if c.parent == old_id else c
             for c in codebook.codes]
    return _rebuild(codebook, codes)


def merge_codes(codebook: Codebook, sources: Sequence[str], into: str, *,
                label: str | None = None, definition: str | None = None,
                parent: str | None = None) -> Codebook:
    """Fold ``sources`` into one code, ``into`` (an existing code, or a new one).

    The sources leave the codebook; their ids go into the target's ``lineage.merged_from``,
    their patterns and examples join the target's, and their children move under it.

    Parameters
    ----------
    codebook : Codebook
    sources : sequence of str
        Codes to fold in (one or more).
    into : str
        Target: an existing code keeps its id, label and definition unless given; a new id
        makes a new code (``label`` then required) under ``parent``, by default the
        sources' common parent.
    label, definition, parent : optional

    Raises
    ------
    CodebookError
        For unknown sources, a target among the sources or below one, a new target without
        a label, or sources under different parents with no ``parent`` given.
    """
    sources = list(dict.fromkeys(sources))
    if not sources:
        raise _fail(codebook, "merge_codes: name at least one code to merge")
    found = [_known(codebook, s, "merge") for s in sources]
    if into in sources:
        raise _fail(codebook, f"cannot merge {into!r} into itself; list only the other codes")
    below = {d for s in sources for d in codebook.descendants(s)}
    if into in below:
        raise _fail(codebook, f"{into!r} lies under a code being merged; merge into a code "
                              "outside them")
    if into in codebook:
        target = codebook[into]
        target = dataclasses.replace(
            target, label=label or target.label,
            definition=target.definition if definition is None else definition,
            parent=target.parent if parent is None else parent)
    else:
        _fresh(codebook, into)
        if not label:
            raise _fail(codebook, f"merge_codes: {into!r} is a new code; give its label")
        parents = {c.parent for c in found}
        if parent is None and len(parents) > 1:
            raise _fail(codebook, f"the codes to merge sit under different parents "
                                  f"{sorted(p or '(theme)' for p in parents)}; give parent=")
        target = Code(id=into, label=label,
                      parent=parent if parent is not None else next(iter(parents)),
                      definition=definition or "", introduced_in=codebook.round)
    lineage = dataclasses.replace(target.lineage,
                                  merged_from=_union(target.lineage.merged_from, sources))
    target = dataclasses.replace(
        target, lineage=lineage,
        patterns=_merge_patterns([target.patterns, *(c.patterns for c in found)]),
        examples=_union(target.examples, *(c.examples for c in found)))
    gone = set(sources)
    codes: list[Code] = []
    placed = False
    for code in codebook.codes:
        if code.id in gone or code.id == into:
            if not placed and (code.id == into or into not in codebook):
                codes.append(target)
                placed = True
            continue
        codes.append(dataclasses.replace(code, parent=into) if code.parent in gone else code)
    return _rebuild(codebook, codes)


def split_code(codebook: Codebook, code_id: str, into: Mapping[str, str], *,
               keep: bool = False) -> Codebook:
    """Carve a code into several new ones (``lineage.split_from`` records where from).

    The new codes take the original's parent and are introduced in this round, with no
    patterns (divide the original's patterns with :func:`update_code`).

    Parameters
    ----------
    codebook : Codebook
    code_id : str
        The code to split.
    into : mapping of str to str
        New id -> label, e.g. ``{"challenges.cost.fees": "Fees", ...}``.
    keep : bool, default False
        Keep the original code beside the new ones (e.g. for passages that fit none).

    Raises
    ------
    CodebookError
        For an unknown code, fewer than two new codes without ``keep``, new ids in use, or
        an original with children that would be orphaned.
    """
    original = _known(codebook, code_id, "split")
    if len(into) < (1 if keep else 2):
        raise _fail(codebook, f"split_code: {code_id!r} needs at least two new codes "
                              "(or one with keep=True)")
    for new_id in into:
        _fresh(codebook, new_id)
    if not keep and codebook.children(code_id):
        raise _fail(codebook, f"{code_id!r} has child codes "
                              f"{[c.id for c in codebook.children(code_id)]}; move them "
                              "(update_code parent=...) or keep the code (keep=True)")
    new_codes = [Code(id=new_id, label=label, parent=original.parent,
                      introduced_in=codebook.round, color=original.color,
                      lineage=Lineage(split_from=code_id))
                 for new_id, label in into.items()]
    codes: list[Code] = []
    for code in codebook.codes:
        if code.id == code_id:
            if keep:
                codes.append(code)
            codes.extend(new_codes)
        else:
            codes.append(code)
    return _rebuild(codebook, codes)


def retire_code(codebook: Codebook, code_id: str, *, reason: str = "") -> Codebook:
    """Take a code out of use; it is kept in ``Codebook.retired`` with the reason.

    Codings of earlier rounds that used it stay valid against their own round's
    codebook; the id is never given to another code.

    Raises
    ------
    CodebookError
        For an unknown code, or a code with children (retire or move them first).

    Examples
    --------
    >>> from toolkit.codebook import Code, Codebook
    >>> book = retire_code(Codebook("d", "1", 2, (Code("a", "A"), Code("b", "B"))), "b",
    ...                    reason="never applied")
    >>> book.ids, book.retired[0].reason
    (('a',), 'never applied')
    """
    code = _known(codebook, code_id, "retire")
    if codebook.children(code_id):
        raise _fail(codebook, f"{code_id!r} has child codes "
                              f"{[c.id for c in codebook.children(code_id)]}; retire or move "
                              "them first")
    record = RetiredCode(code.id, code.label, codebook.round, reason.strip())
    return _rebuild(codebook, [c for c in codebook.codes if c.id != code_id],
                    retired=(*codebook.retired, record))
