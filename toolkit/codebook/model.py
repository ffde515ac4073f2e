"""Codebook values: :class:`Code`, :class:`Patterns`, :class:`Lineage` and :class:`Codebook`.

All are frozen dataclasses; change them with :func:`dataclasses.replace`.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from dataclasses import dataclass, field

import pandas as pd

from toolkit.errors import ToolkitError

__all__ = ["Code", "Codebook", "Lineage", "Patterns", "RetiredCode", "CODEBOOK_FRAME_COLUMNS"]

#: Columns of :meth:`Codebook.to_frame`.
CODEBOOK_FRAME_COLUMNS = ("code_id", "label", "parent", "theme", "depth", "definition",
                          "include", "exclude", "examples", "color", "introduced_in",
                          "lineage", "n_patterns")


@dataclass(frozen=True, slots=True)
class Patterns:
    """Patterns for rule-based coding of one code.

    Attributes
    ----------
    phrases : tuple of str
        Exact word sequences, matched case-insensitively on tokens (``"digital badge"``).
    lemmas : tuple of str
        Word sequences matched on dictionary forms, so ``"stack credential"`` also finds
        "stacked credentials" and "stacking credentials".
    globs : tuple of str
        One-word wildcards, ``*`` for any letters (``"credential*"``, ``"*skilling"``).
    regex : tuple of str
        Regular expressions over the text, case-insensitive (last resort). They run on
        RE2, in time linear in the text: Python's syntax without look-around and
        back-references, and ``\\w``/``\\b`` are ASCII (see
        :mod:`toolkit.codebook.patterns`).
    """

    phrases: tuple[str, ...] = ()
    lemmas: tuple[str, ...] = ()
    globs: tuple[str, ...] = ()
    regex: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.phrases) + len(self.lemmas) + len(self.globs) + len(self.regex)

    def items(self) -> Iterator[tuple[str, str]]:
        """Yield ``(kind, pattern)`` pairs in a stable order."""
        for kind in ("phrases", "lemmas", "globs", "regex"):
            for pattern in getattr(self, kind):
                yield kind, pattern


@dataclass(frozen=True, slots=True)
class Lineage:
    """Where a code came from across rounds.

    Attributes
    ----------
    renamed_from : tuple of str
        Earlier ids of this same code.
    merged_from : tuple of str
        Codes of an earlier round folded into this one.
    split_from : str or None
        The earlier code this one was carved out of.
    """

    renamed_from: tuple[str, ...] = ()
    merged_from: tuple[str, ...] = ()
    split_from: str | None = None

    def __bool__(self) -> bool:
        return bool(self.renamed_from or self.merged_from or self.split_from)

    def describe(self) -> str:
        """One-line text, e.g. ``"renamed from a; merged from b, c"``."""
        parts = []
        if self.renamed_from:
            parts.append("renamed from " + ", ".join(self.renamed_from))
        if self.merged_from:
            parts.append("merged from " + ", ".join(self.merged_from))
        if self.split_from:
            parts.append("split from " + self.split_from)
        return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class Code:
    """One code of a codebook.

    Attributes
    ----------
    id : str
        Stable identifier (``"challenges.standardisation"``); never reused for another idea.
    label : str
        Short human name.
    parent : str or None
        Id of the parent code; ``None`` for a theme (top level).
    definition, include, exclude : str
        What the code means, when to apply it, when not to.
    examples : tuple of str
        Typical passages.
    color : str or None
        ``#RRGGBB``.
    introduced_in : int
        Coding round in which the code first appeared.
    lineage : Lineage
        Renames, merges and splits across rounds.
    patterns : Patterns
        Rules for the rule-based coder.
    codable : bool
        False for a pure grouping node that coders never apply directly.
    """

    id: str
    label: str
    parent: str | None = None
    definition: str = ""
    include: str = ""
    exclude: str = ""
    examples: tuple[str, ...] = ()
    color: str | None = None
    introduced_in: int = 1
    lineage: Lineage = field(default_factory=Lineage)
    patterns: Patterns = field(default_factory=Patterns)
    codable: bool = True


@dataclass(frozen=True, slots=True)
class RetiredCode:
    """A code taken out of use, kept on record so its id is never reused for another idea.

    Attributes
    ----------
    id : str
        The id it had.
    label : str
        Its label when it was retired.
    round : int
        The coding round whose codebook first went without it.
    reason : str
        Why it was retired (a memo for the audit trail).
    """

    id: str
    label: str
    round: int
    reason: str = ""


@dataclass(frozen=True)
class Codebook:
    """A versioned set of codes, as :func:`toolkit.codebook.load_codebook` returns it.

    Attributes
    ----------
    name : str
    version : str
        Free text, e.g. ``"2.0"``; rounds are tracked by ``round``.
    round : int
        The coding round this version belongs to.
    authors : tuple of str
    description : str
    codes : tuple of Code
        In file order (parents before or after children; order is kept on save).
    retired : tuple of RetiredCode
        Codes retired in this or an earlier round (see
        :func:`toolkit.codebook.retire_code`); their ids stay reserved.
    """

    name: str
    version: str
    round: int
    codes: tuple[Code, ...]
    authors: tuple[str, ...] = ()
    description: str = ""
    retired: tuple[RetiredCode, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {c.id: c for c in self.codes})
        children: dict[str | None, list[Code]] = {}
        for code in self.codes:
            children.setdefault(code.parent, []).append(code)
        object.__setattr__(self, "_children", {k: tuple(v) for k, v in children.items()})

    def __contains__(self, code_id: object) -> bool:
        return code_id in self._index  # type: ignore[attr-defined]

    def __len__(self) -> int:
        return len(self.codes)

    def __iter__(self) -> Iterator[Code]:
        return iter(self.codes)

    def __getitem__(self, code_id: str) -> Code:
        try:
            return self._index[code_id]  # type: ignore[attr-defined,no-any-return]
        except KeyError:
            raise ToolkitError(f"codebook {self.name!r}: no code {code_id!r}; known codes: "
                               f"{sorted(self._index)[:20]}") from None  # type: ignore[attr-defined]

    @property
    def ids(self) -> tuple[str, ...]:
        """All code ids in file order."""
        return tuple(c.id for c in self.codes)

    def children(self, code_id: str | None) -> tuple[Code, ...]:
        """Direct children of ``code_id`` (``None``: the themes), in file order."""
        return self._children.get(code_id, ())  # type: ignore[attr-defined,no-any-return]

    def themes(self) -> tuple[Code, ...]:
        """Top-level codes."""
        return self.children(None)

    def ancestors(self, code_id: str) -> tuple[str, ...]:
        """Ids from the parent up to the theme (nearest first)."""
        chain: list[str] = []
        seen: set[str] = set()
        parent = self[code_id].parent
        while parent is not None and parent not in seen:
            chain.append(parent)
            seen.add(parent)
            parent = self[parent].parent if parent in self else None
        return tuple(chain)

    def theme_of(self, code_id: str) -> str:
        """Return the top-level ancestor of ``code_id`` (itself for a theme)."""
        chain = self.ancestors(code_id)
        return chain[-1] if chain else code_id

    def descendants(self, code_id: str) -> tuple[str, ...]:
        """All codes below ``code_id``, depth first in file order."""
        out: list[str] = []
        seen = {code_id}
        stack = list(reversed(self.children(code_id)))
        while stack:  # iterative: deep hierarchies never exhaust the recursion limit
            child = stack.pop()
            if child.id in seen:
                continue
            seen.add(child.id)
            out.append(child.id)
            stack.extend(reversed(self.children(child.id)))
        return tuple(out)

    def to_frame(self) -> pd.DataFrame:
        """Return the codebook as a table, one row per code (:data:`CODEBOOK_FRAME_COLUMNS`)."""
        rows = []
        for code, depth, theme in self._walk_with_depth():
            rows.append((code.id, code.label, code.parent, theme, depth, code.definition,
                         code.include, code.exclude, "; ".join(code.examples), code.color,
                         code.introduced_in, code.lineage.describe(), len(code.patterns)))
        return pd.DataFrame(rows, columns=list(CODEBOOK_FRAME_COLUMNS))

    def walk(self) -> Iterator[Code]:
        """Codes depth first: each theme followed by its descendants."""
        for code, _, _ in self._walk_with_depth():
            yield code

    def _walk_with_depth(self) -> Iterator[tuple[Code, int, str]]:
        """``(code, depth, theme id)`` depth first, each code once (linear time)."""
        seen: set[str] = set()
        for theme in self.themes():
            stack = [(theme, 0)]
            while stack:
                code, depth = stack.pop()
                if code.id in seen:
                    continue
                seen.add(code.id)
                yield code, depth, theme.id
                stack.extend((child, depth + 1) for child in reversed(self.children(code.id)))

    def __repr__(self) -> str:
        return (f"Codebook(name={self.name!r}, version={self.version!r}, round={self.round}, "
                f"codes={len(self.codes)}, themes={len(self.themes())})")

    def _repr_html_(self) -> str:
        head = (f"<p><b>{html.escape(self.name)}</b> &middot; version "
                f"{html.escape(self.version)} &middot; round {self.round} &middot; "
                f"{len(self.codes)} codes in {len(self.themes())} themes</p>")
        rows = []
        for code, depth, _ in self._walk_with_depth():
            swatch = (f'<span style="display:inline-block;width:0.8em;height:0.8em;'
                      f'background:{html.escape(code.color)};margin-right:0.3em"></span>'
                      if code.color else "")
            indent = "&nbsp;" * 4 * depth
            label = f"<b>{html.escape(code.label)}</b>" if depth == 0 else html.escape(code.label)
            rows.append(
                f"<tr><td style='text-align:left'>{indent}{swatch}{label}</td>"
                f"<td style='text-align:left'><code>{html.escape(code.id)}</code></td>"
                f"<td style='text-align:left'>{html.escape(code.definition)}</td>"
                f"<td>{code.introduced_in}</td>"
                f"<td style='text-align:left'>{html.escape(code.lineage.describe())}</td>"
                f"<td>{len(code.patterns)}</td></tr>")
        table = ("<table><thead><tr><th>code</th><th>id</th><th>definition</th><th>round</th>"
                 "<th>lineage</th><th>patterns</th></tr></thead><tbody>" + "".join(rows)
                 + "</tbody></table>")
        return head + table
