"""The groups of a de-duplication: union-find with the guards that keep works apart."""

from __future__ import annotations

from typing import Any

from toolkit.corpus._dedupe_compare import Evidence
from toolkit.corpus._dedupe_fields import dois_related

__all__ = ["Clusters", "blocks_chains"]

#: Uncertain decisions that stop a chain of merges from joining the two records anyway
#: (besides every "distinct" one): those where a field contradicts, not those where too
#: little is known.
_CONTRADICTIONS = frozenset({"years_differ", "pages_differ", "venue_differs",
                             "abstract_differs", "authors_differ", "preprint",
                             "title_differs", "doi_title_differs", "different_doi",
                             "doi_authors_differ"})


def blocks_chains(row: list[Any]) -> bool:
    """Whether a direct decision stops a chain of merges (see ``_CONTRADICTIONS``)."""
    decision, rule, _reason, by, ev = row
    if by != "rules" or decision == "merge":
        return False
    if decision == "distinct":
        return True
    if rule == "years_differ":  # two years apart is often print against online-first
        return ev.year_diff is not None and ev.year_diff >= 3
    return rule in _CONTRADICTIONS

class Clusters:
    """Union-find over record positions with three guards.

    Groups holding different DOIs are not joined (so a chain of matches cannot link two
    DOIs either), unless a person decided the link. Groups holding two records that the
    rules compared directly and did not merge (distinct or uncertain) are not joined by a
    rule either: a record without a year or DOI cannot bridge a 2001 report and its 2005
    chapter. Groups a person kept apart are never joined.
    """

    def __init__(self, dois: list[str], apart: list[tuple[int, int]],
                 not_merged: list[tuple[int, int]]) -> None:
        n = len(dois)
        self.parent = list(range(n))
        self.size = [1] * n
        self.dois: dict[int, frozenset[str]] = {i: frozenset((d,)) for i, d in
                                                enumerate(dois) if d}
        self.apart: dict[int, set[int]] = {}
        self.not_merged: dict[int, set[int]] = {}
        for pairs, table in ((apart, self.apart), (not_merged, self.not_merged)):
            for a, b in pairs:
                table.setdefault(a, set()).add(b)
                table.setdefault(b, set()).add(a)
        #: per group root, its records that carry a constraint
        self.members: dict[int, list[int]] = {i: [i] for i in self.apart.keys()
                                              | self.not_merged.keys()}
        self.edge: dict[int, tuple[int, str, Evidence | None, str]] = {}

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:
            self.parent[i], i = root, self.parent[i]
        return root

    def _blocked(self, ra: int, rb: int, table: dict[int, set[int]]) -> bool:
        if not table:
            return False
        small, large = (ra, rb) if len(self.members.get(ra, ())) <= len(
            self.members.get(rb, ())) else (rb, ra)
        return any(self.find(p) == large for m in self.members.get(small, ())
                   for p in table.get(m, ()))

    def union(self, a: int, b: int, rule: str, ev: Evidence | None, by: str) -> str:
        """Join the groups of ``a`` and ``b``.

        Returns ``"joined"``, ``"same"`` (already one group), or why not: ``"doi"``,
        ``"apart"`` (a person's decision), ``"rules"`` (a direct comparison said no).
        """
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return "same"
        da, db = self.dois.get(ra, frozenset()), self.dois.get(rb, frozenset())
        if by != "review" and da and db and not da & db and not all(
                dois_related(x, y) for x in da for y in db):
            return "doi"
        if self._blocked(ra, rb, self.apart):
            return "apart"
        if by != "review" and self._blocked(ra, rb, self.not_merged):
            return "rules"
        if self.size[ra] < self.size[rb]:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.size[ra] += self.size[rb]
        if da or db:
            self.dois[ra] = da | db
            self.dois.pop(rb, None)
        moved = self.members.pop(rb, None)
        if moved:
            self.members.setdefault(ra, []).extend(moved)
        self.edge.setdefault(a, (b, rule, ev, by))
        self.edge.setdefault(b, (a, rule, ev, by))
        return "joined"
