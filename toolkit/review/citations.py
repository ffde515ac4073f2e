"""Citation audit: find author-year citations in a manuscript and match them to records.

Finds parenthetical citations (``(Hossain, 2023; Popov, 2023)``, ``(Welsh, et al. 2017)``,
``(McGreal & Olcott Jr, 2021)``) and narrative ones (``Thomsen (2023)``,
``Brown and Duart (2024)``), matches each cited work to the records table by first author's
family name and year, uses the co-authors to choose between works that share both, and
reports what is cited but not listed, listed but never cited, and ambiguous.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import pandas as pd

from toolkit.errors import CitationAuditError

__all__ = [
    "CitationAudit",
    "audit_citations",
    "find_citations",
    "split_references",
    "CITATION_COLUMNS",
    "MATCH_COLUMNS",
]

#: Columns of :func:`find_citations`: one row per cited work.
CITATION_COLUMNS = ("citation_id", "group_id", "form", "start", "end", "line", "text",
                    "authors", "first_author", "n_authors", "et_al", "year")
#: Columns of :attr:`CitationAudit.matches`.
MATCH_COLUMNS = (*CITATION_COLUMNS, "status", "record_id", "candidates")

_YEAR = r"(?:1[89]\d\d|20\d\d)[a-z]?"
_PAREN = re.compile(r"\(([^()]*?" + _YEAR + r"[^()]*?)\)")
_NAME = r"(?:(?:van|von|de|der|den|du|da|del|le|la|Mac|Mc|O')\s?)*[A-ZÀ-Ý][\w'’\-]+"
_NAMES = _NAME + r"(?:\s+(?:" + _NAME + r"|Jr\.?))*"
_NARRATIVE = re.compile(
    r"(?P<authors>" + _NAMES + r"(?:(?:,\s+" + _NAMES + r")*,?\s+(?:&|and)\s+" + _NAMES
    + r")?(?:,?\s+et\s+al\.?)?)\s+\((?P<year>" + _YEAR + r")\)"
)
_PREFIX = re.compile(r"^(?:e\.g\.|i\.e\.|see also|see|cf\.|as cited in)[,\s]+", re.I)
# Capitalised words that open a sentence or label, not an author name.
_STOP_WORDS = {"Question", "Figure", "Table", "Section", "Chapter", "Appendix", "In", "The", "By",
               "Since", "From", "Until", "After", "Before", "During", "As", "According", "For",
               "See", "Also", "Both", "And", "But", "However", "Then", "Thus", "Here", "This",
               "That", "These", "Those", "Following", "Per", "With", "Like", "Unlike", "While",
               "When", "Where", "Although", "Because", "If", "Moreover", "Furthermore", "Yet"}
_FIRST_NAME = re.compile(r"^(?:(?:van|von|de|der|den|du|da|del|le|la)\s+)*[A-ZÀ-Ý]")


@dataclass(frozen=True)
class CitationAudit:
    """Result of :func:`audit_citations`.

    Attributes
    ----------
    matches : DataFrame
        One row per cited work (:data:`MATCH_COLUMNS`); ``status`` is ``matched``,
        ``resolved`` (several works share first author and year; the co-authors chose one),
        ``ambiguous`` (still several; ``candidates`` lists them) or ``missing`` (no record).
    missing : DataFrame
        Cited works with no record: ``first_author, year, text, occurrences, lines``.
    uncited : DataFrame
        Records never cited: ``record_id, first_author, year, title``.
    ambiguous : DataFrame
        Citations whose first author and year fit more than one record:
        ``text, line, first_author, year, candidates, status, record_id``.
    """

    matches: pd.DataFrame
    missing: pd.DataFrame
    uncited: pd.DataFrame
    ambiguous: pd.DataFrame

    def summary(self) -> pd.DataFrame:
        """Count each finding; a two-column table (``finding, count``)."""
        status = self.matches["status"].value_counts()
        rows = [
            ("citations (cited works)", len(self.matches)),
            ("citation groups", self.matches["group_id"].nunique()),
            ("matched", int(status.get("matched", 0))),
            ("resolved by co-authors", int(status.get("resolved", 0))),
            ("ambiguous", int(status.get("ambiguous", 0))),
            ("cited but missing from the list", len(self.missing)),
            ("listed but never cited", len(self.uncited)),
        ]
        return pd.DataFrame(rows, columns=["finding", "count"])


def split_references(text: str, heading: str = "References") -> tuple[str, str]:
    """Split a manuscript into body and reference list at the last line equal to ``heading``.

    Examples
    --------
    >>> split_references("Body (A, 2020).\\nReferences\\n- A. (2020). T.")
    ('Body (A, 2020).\\n', '- A. (2020). T.')
    """
    matches = list(re.finditer(rf"^\s*{re.escape(heading)}\s*$", text, re.M))
    if not matches:
        return text, ""
    last = matches[-1]
    return text[: last.start()], text[last.end():].lstrip("\n")


def fold(name: str) -> str:
    """Fold a name for comparison: no accents, no punctuation, lower case.

    Examples
    --------
    >>> fold("Díaz"), fold("van Vuuren"), fold("Olcott Jr.")
    ('diaz', 'vanvuuren', 'olcottjr')
    """
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[^a-z]", "", text.lower())


def _parse_authors(text: str) -> tuple[list[str], bool]:
    """Split an author part such as ``Brown, Mairéad, Beirne, & Conchúr`` into family names."""
    et_al = bool(re.search(r"\bet\s+al\.?", text))
    text = re.sub(r",?\s*\bet\s+al\.?", "", text)
    parts = re.split(r"\s*,\s*|\s+&\s+|\s+and\s+", text.strip().strip(","))
    names = [p.strip() for p in parts if p.strip() and p.strip() != "&"]
    return names, et_al


def _line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def find_citations(text: str) -> pd.DataFrame:
    """Find author-year citations in ``text``.

    Parameters
    ----------
    text : str
        Manuscript text (body only; see :func:`split_references`).

    Returns
    -------
    DataFrame
        One row per cited work, columns :data:`CITATION_COLUMNS`, in text order. Works in one
        parenthesis share a ``group_id``; ``form`` is ``parenthetical`` or ``narrative``.

    Examples
    --------
    >>> found = find_citations("As shown (Hossain, 2023; Brown & Duart, 2024), and "
    ...                        "Thomsen (2023) agrees.")
    >>> found[["form", "first_author", "n_authors", "year"]].values.tolist()
    ... # doctest: +NORMALIZE_WHITESPACE
    [['parenthetical', 'Hossain', 1, '2023'], ['parenthetical', 'Brown', 2, '2024'],
     ['narrative', 'Thomsen', 1, '2023']]
    """
    rows: list[dict[str, Any]] = []
    group = 0
    covered: list[tuple[int, int]] = []
    for match in _PAREN.finditer(text):
        inner = match.group(1)
        pieces = [p.strip() for p in inner.split(";")]
        found_any = False
        offset = match.start(1)
        for piece in pieces:
            start = text.find(piece, offset)
            offset = start + len(piece)
            cleaned = _PREFIX.sub("", piece.strip())
            year_match = re.search(r"(,|et\s+al\.?)\s*(" + _YEAR + r")\s*$", cleaned)
            if not year_match:
                continue  # APA puts a comma before the year, except after "et al."
            author_part = cleaned[: year_match.start(2)]
            if re.search(r"\d", author_part):
                continue
            names, et_al = _parse_authors(author_part)
            if not names or not _FIRST_NAME.match(names[0]):
                continue
            if not found_any:
                group += 1
                found_any = True
            rows.append({
                "group_id": group, "form": "parenthetical", "start": start,
                "end": start + len(piece), "line": _line_of(text, start), "text": piece,
                "authors": tuple(names), "first_author": names[0],
                "n_authors": len(names) if not et_al else max(len(names), 3), "et_al": et_al,
                "year": year_match.group(2),
            })
        if found_any:
            covered.append((match.start(), match.end()))
    for match in _NARRATIVE.finditer(text):
        if any(a <= match.start() < b for a, b in covered):
            continue
        words = match.group("authors").split(" ")
        while words and words[0] in _STOP_WORDS:
            words.pop(0)
        names, et_al = _parse_authors(" ".join(words))
        if not names:
            continue
        group += 1
        rows.append({
            "group_id": group, "form": "narrative", "start": match.start(), "end": match.end(),
            "line": _line_of(text, match.start()), "text": match.group(0),
            "authors": tuple(names), "first_author": names[0],
            "n_authors": len(names) if not et_al else max(len(names), 3), "et_al": et_al,
            "year": match.group("year"),
        })
    rows.sort(key=lambda r: r["start"])
    groups = {g: i + 1 for i, g in enumerate(dict.fromkeys(r["group_id"] for r in rows))}
    for i, row in enumerate(rows, start=1):
        row["citation_id"] = i
        row["group_id"] = groups[row["group_id"]]
    return pd.DataFrame(rows, columns=list(CITATION_COLUMNS))


def _family(author: str) -> str:
    return author.split(",")[0].strip()


def audit_citations(text: str, records: pd.DataFrame, *, body_only: bool = True) -> CitationAudit:
    """Match the citations in a manuscript against a records table.

    Parameters
    ----------
    text : str
        Manuscript text. With ``body_only=True`` the part after a ``References`` heading is
        ignored.
    records : DataFrame
        Records table with ``record_id, authors, year, title``.
    body_only : bool, default True
        Cut the reference list off before searching.

    Returns
    -------
    CitationAudit

    Raises
    ------
    CitationAuditError
        When ``records`` lacks the needed columns.

    Examples
    --------
    >>> from toolkit.corpus import records_frame
    >>> records = records_frame([
    ...     {"record_id": "b1", "authors": ("Brown, Phillip",), "year": 2024, "title": "X"},
    ...     {"record_id": "b2", "authors": ("Brown, Mark", "Duart, Josep M"), "year": 2024,
    ...      "title": "Y"},
    ...     {"record_id": "z", "authors": ("Zed, Ann",), "year": 1999, "title": "Z"}])
    >>> audit = audit_citations("(Brown, 2024; Brown & Duart, 2024; Welsh, 2013)", records)
    >>> audit.matches[["text", "status", "record_id"]].values.tolist()
    ... # doctest: +NORMALIZE_WHITESPACE
    [['Brown, 2024', 'resolved', 'b1'], ['Brown & Duart, 2024', 'resolved', 'b2'],
     ['Welsh, 2013', 'missing', <NA>]]
    >>> audit.uncited["record_id"].tolist()
    ['z']
    """
    needed = {"record_id", "authors", "year", "title"}
    if not needed <= set(records.columns):
        raise CitationAuditError(
            f"audit_citations: records lack columns {sorted(needed - set(records.columns))}; "
            "pass the records table from load_corpus"
        )
    body = split_references(text)[0] if body_only else text
    found = find_citations(body)
    index: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for rec in records.to_dict("records"):
        authors = rec["authors"] or ()
        if not authors or rec["year"] is None or rec["year"] is pd.NA:
            continue
        key = (fold(_family(authors[0])), str(int(rec["year"])))
        index.setdefault(key, []).append(rec)
    statuses, chosen, candidates = [], [], []
    for row in found.to_dict("records"):
        year = row["year"][:4]
        pool = index.get((fold(row["first_author"]), year), [])
        ids = tuple(str(r["record_id"]) for r in pool)
        if not pool:
            statuses.append("missing")
            chosen.append(None)
        elif len(pool) == 1:
            statuses.append("matched")
            chosen.append(ids[0])
        else:
            pick = _disambiguate(row, pool)
            statuses.append("resolved" if pick else "ambiguous")
            chosen.append(pick)
        candidates.append(ids if len(pool) > 1 else ())
    matches = found.assign(status=statuses, record_id=pd.array(chosen, dtype="string"),
                           candidates=candidates)
    missing = (
        matches[matches["status"] == "missing"]
        .groupby(["first_author", "year"], sort=False)
        .agg(text=("text", "first"), occurrences=("text", "size"),
             lines=("line", lambda s: tuple(sorted(set(s)))))
        .reset_index()
    )
    cited = set(matches["record_id"].dropna())
    for ids in matches.loc[matches["status"] == "ambiguous", "candidates"]:
        cited.update(ids)
    uncited = records.loc[~records["record_id"].isin(cited), ["record_id", "authors", "year",
                                                               "title"]].copy()
    uncited.insert(1, "first_author", uncited.pop("authors").map(
        lambda a: _family(a[0]) if a else ""))
    ambiguous = matches.loc[matches["candidates"].map(len) > 0,
                            ["text", "line", "first_author", "year", "candidates", "status",
                             "record_id"]]
    return CitationAudit(matches.reset_index(drop=True), missing, uncited.reset_index(drop=True),
                         ambiguous.reset_index(drop=True))


def _disambiguate(row: dict[str, Any], pool: list[dict[str, Any]]) -> str | None:
    """Choose among works sharing first author and year by the number and names of authors."""
    cited_rest = [fold(n) for n in row["authors"][1:]]

    def fits(rec: dict[str, Any]) -> bool:
        families = [fold(_family(a)) for a in rec["authors"]]
        if row["et_al"]:
            return len(families) >= 3 and all(n in families for n in cited_rest)
        if len(families) != row["n_authors"]:
            return False
        return all(n in families for n in cited_rest)

    fitting = [r for r in pool if fits(r)]
    return str(fitting[0]["record_id"]) if len(fitting) == 1 else None
