"""Who is compared with whom: coders, rounds and methods, each with its round's codebook.

Agreement, adjudication and investigator triangulation all start by choosing *raters* from
a codings table. A rater is either a person (a coder of ``method="human"``, or a
``consensus`` coding under its own coder name) or a method (``rules``, ``topic``, or
``human`` when one person's coding stands for the human method). Rule codings are a
method, never a coder.

Codings know their round: a coder who worked in round 2 could not use a code introduced
in round 3. :func:`select_raters` gives each rater the codebook of its round (from the
codebooks given) and the codes that existed for it; :func:`common_codes` keeps the codes
every rater could use and says which were left out.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from toolkit.codebook.model import Codebook
from toolkit.coding.store import METHODS, PEOPLE
from toolkit.errors import CodingError

__all__ = ["Rater", "RoundWarning", "select_raters", "common_codes"]


class RoundWarning(UserWarning):
    """Raters coded with different codebooks; codes not shared by all were left out."""


@dataclass(frozen=True)
class Rater:
    """One side of a comparison.

    Attributes
    ----------
    name : str
        The coder's name, or the method's name when methods are compared.
    codings : DataFrame
        This rater's rows of the codings table.
    round : int or None
        The coding round of these rows (``None`` when the table has no round).
    codebook : Codebook or None
        The codebook of that round, when codebooks were given.
    """

    name: str
    codings: pd.DataFrame
    round: int | None
    codebook: Codebook | None = None

    def codes(self, level: Literal["code", "theme"] = "code") -> frozenset[str] | None:
        """Codable codes (or themes) that existed in this rater's round; None without a book."""
        if self.codebook is None:
            return None
        limit = self.round if self.round is not None else self.codebook.round
        if level == "theme":
            return frozenset(t.id for t in self.codebook.themes() if t.introduced_in <= limit)
        return frozenset(c.id for c in self.codebook.codes
                         if c.codable and c.introduced_in <= limit)

    def __repr__(self) -> str:
        return f"Rater({self.name!r}, round={self.round}, rows={len(self.codings)})"


def _books(codebook: Codebook | Sequence[Codebook] | None) -> list[Codebook]:
    if codebook is None:
        return []
    if isinstance(codebook, Codebook):
        return [codebook]
    books = list(codebook)
    rounds = [b.round for b in books]
    if len(set(rounds)) != len(rounds):
        raise CodingError(f"codebooks: two codebooks of the same round {sorted(rounds)}; give "
                          "one codebook per round")
    return sorted(books, key=lambda b: b.round)


def _book_for(books: list[Codebook], round_: int | None, name: str, where: str
              ) -> Codebook | None:
    if not books:
        return None
    if round_ is None or len(books) == 1:
        return books[-1] if round_ is None else books[0]
    for book in books:
        if book.round == round_:
            return book
    raise CodingError(f"{where}: {name!r} coded in round {round_}, but the codebooks given are "
                      f"of rounds {[b.round for b in books]}; add the round-{round_} codebook")


def select_raters(codings: pd.DataFrame, *, coders: Sequence[str] | None = None,
                  rounds: Sequence[int] | None = None, methods: Sequence[str] | None = None,
                  codebook: Codebook | Sequence[Codebook] | None = None,
                  where: str = "select_raters") -> tuple[Rater, ...]:
    """Choose the raters to compare, each with its round and its round's codebook.

    Parameters
    ----------
    codings : DataFrame
        Long codings table (``segment_id, code_id, coder, round, method``).
    coders : sequence of str, optional
        People to compare. Default (no ``methods``): every coder with ``method="human"``
        (a consensus coding joins only when named here).
    rounds : sequence of int, optional
        Use only codings of these rounds.
    methods : sequence of str, optional
        Compare methods instead (e.g. ``["human", "rules"]``): each method is one rater
        named after it. A people method (``human``, ``consensus``) must come down to one
        coder; choose it with ``coders``.
    codebook : Codebook or sequence of Codebook, optional
        The codebook of each round involved (one codebook serves every round; its codes'
        ``introduced_in`` still tells which existed in an earlier round).
    where : str
        Prefix for messages.

    Returns
    -------
    tuple of Rater
        Sorted by name.

    Raises
    ------
    CodingError
        For unknown coders or methods, a rule or topic coding named as a coder, a people
        method with several coders, a rater with codings of several rounds, codes a rater
        used that its round's codebook does not have, or no codebook for a rater's round.

    Examples
    --------
    >>> from toolkit.coding import make_codings
    >>> codings = make_codings([
    ...     {"segment_id": "s1", "code_id": "a", "coder": "ann", "round": 1, "method": "human"},
    ...     {"segment_id": "s1", "code_id": "a", "coder": "rules", "round": 1,
    ...      "method": "rules"}])
    >>> [r.name for r in select_raters(codings)]
    ['ann']
    >>> [r.name for r in select_raters(codings, methods=["human", "rules"])]
    ['human', 'rules']
    """
    missing = {"segment_id", "code_id", "coder", "method"} - set(codings.columns)
    if missing:
        raise CodingError(f"{where}: codings lack columns {sorted(missing)}; build them with "
                          "make_codings")
    rows = codings
    if rounds is not None:
        if "round" not in rows.columns:
            raise CodingError(f"{where}: rounds given but the codings have no round column")
        rows = rows[rows["round"].isin(list(rounds))]
    books = _books(codebook)
    chosen: list[tuple[str, pd.DataFrame]] = []
    if methods is None:
        people = rows[rows["method"].isin(list(PEOPLE))]
        if coders is None:
            names = sorted(people.loc[people["method"] == "human", "coder"].dropna().unique())
        else:
            names = list(dict.fromkeys(coders))
            for name in names:
                theirs = rows[rows["coder"] == name]
                if theirs.empty:
                    known = sorted(people["coder"].dropna().unique())
                    raise CodingError(f"{where}: no codings of coder {name!r}"
                                      + (f" in rounds {list(rounds)}" if rounds else "")
                                      + f"; coders are {known}")
                other = sorted(set(theirs["method"].dropna()) - set(PEOPLE))
                if other:
                    raise CodingError(
                        f"{where}: {name!r} holds {other[0]} codings: {other[0]} is a method, "
                        f"not a coder; compare methods with methods=['human', '{other[0]}'] "
                        "(and coders=[<the human coder>])")
        chosen = [(name, people[people["coder"] == name]) for name in names]
    else:
        unknown = sorted(set(methods) - set(METHODS))
        if unknown:
            raise CodingError(f"{where}: unknown method(s) {unknown}; choose from "
                              f"{', '.join(METHODS)}")
        for method in dict.fromkeys(methods):
            theirs = rows[rows["method"] == method]
            if coders is not None and method in PEOPLE:
                theirs = theirs[theirs["coder"].isin(list(coders))]
            names = sorted(theirs["coder"].dropna().unique())
            if not names:
                raise CodingError(f"{where}: no {method} codings"
                                  + (f" of coders {list(coders)}" if coders else "")
                                  + (f" in rounds {list(rounds)}" if rounds else ""))
            if len(names) > 1:
                hint = ("choose the one that stands for the method with coders=[...] (or "
                        "compare the people with coders=[...] and no methods)"
                        if method in PEOPLE else "keep one of them")
                raise CodingError(f"{where}: method {method!r} has codings of {names}; {hint}")
            chosen.append((method, theirs))
    raters = []
    for name, frame in chosen:
        round_ = None
        if "round" in frame.columns:
            seen = sorted(int(r) for r in frame["round"].dropna().unique())
            if len(seen) > 1:
                raise CodingError(f"{where}: {name!r} has codings of rounds {seen}; compare one "
                                  "round of each rater (rounds=[...])")
            round_ = seen[0] if seen else None
        book = _book_for(books, round_, name, where)
        if book is not None:
            used = set(frame["code_id"].dropna())
            unknown = sorted(used - set(book.ids))
            if unknown:
                raise CodingError(
                    f"{where}: {name!r} (round {round_}) used codes that codebook "
                    f"{book.name!r} round {book.round} does not have: {unknown[:10]}; give "
                    "the codebook of each round (codebook=[round2, round3, ...])")
        raters.append(Rater(name, frame, round_, book))
    return tuple(sorted(raters, key=lambda r: r.name))


def common_codes(raters: Sequence[Rater], *, level: Literal["code", "theme"] = "code",
                 warn: bool = True, where: str = "agreement"
                 ) -> tuple[list[str] | None, list[str]]:
    """Codes (or themes) every rater could use, and those left out.

    Without codebooks, ``(None, [])``: every code that appears counts. With them, a code
    introduced after a rater's round, or absent from a rater's codebook, is left out, with
    a :class:`RoundWarning` naming it and why (unless ``warn=False``).

    Returns
    -------
    tuple
        ``(codes in common, sorted; codes left out, sorted)``.
    """
    sets = {r.name: r.codes(level) for r in raters}
    if any(s is None for s in sets.values()):
        return None, []
    union = set().union(*sets.values())  # type: ignore[arg-type]
    common = set.intersection(*(set(s) for s in sets.values()))  # type: ignore[arg-type]
    left = sorted(union - common)
    if left and warn:
        detail = "; ".join(
            f"{code} (not available to " + ", ".join(
                f"{r.name} in round {r.round}" for r in raters if code not in sets[r.name])
            + ")" for code in left[:8])
        more = f" and {len(left) - 8} more" if len(left) > 8 else ""
        warnings.warn(f"{where}: {len(left)} {level}(s) did not exist for every rater and were "
                      f"left out: {detail}{more}", RoundWarning, stacklevel=3)
    return sorted(common), left
