from __future__ import annotations

import pytest

from toolkit.corpus import records_frame
from toolkit.errors import CitationAuditError
from toolkit.review import audit_citations, find_citations, split_references


def _cited(text: str) -> list[tuple[str, str, int, bool, str]]:
    found = find_citations(text)
    return [(r.form, r.first_author, r.n_authors, r.et_al, r.year)
            for r in found.itertuples(index=False)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("Skills shift (Doe, 2020).", [("parenthetical", "Doe", 1, False, "2020")],
                     id="single"),
        pytest.param("(Doe & Roe, 2021; Poe et al., 2019)",
                     [("parenthetical", "Doe", 2, False, "2021"),
                      ("parenthetical", "Poe", 3, True, "2019")], id="two-in-one"),
        pytest.param("(Ahmed, Baker, Chu, & Diaz, 2022)",
                     [("parenthetical", "Ahmed", 4, False, "2022")], id="four-authors"),
        pytest.param("(Welsh, et al. 2017)", [("parenthetical", "Welsh", 3, True, "2017")],
                     id="comma-before-et-al-no-comma-before-year"),
        pytest.param("(McGreal & Olcott Jr, 2021)",
                     [("parenthetical", "McGreal", 2, False, "2021")], id="suffix-jr"),
        pytest.param("(Van der Hijden & Martin, 2023; van Vuuren & Bunt, 2023)",
                     [("parenthetical", "Van der Hijden", 2, False, "2023"),
                      ("parenthetical", "van Vuuren", 2, False, "2023")], id="particles"),
        pytest.param("(Díaz, Lim, & Elzey, 2022)",
                     [("parenthetical", "Díaz", 3, False, "2022")], id="accent"),
        pytest.param("(Thi Ngoc Ha, Van Dyke, & Spittle,\n\n2024)",
                     [("parenthetical", "Thi Ngoc Ha", 3, False, "2024")], id="page-break"),
        pytest.param("(OECD, 2021)", [("parenthetical", "OECD", 1, False, "2021")],
                     id="organisation"),
        pytest.param("(e.g., Doe, 2020a)", [("parenthetical", "Doe", 1, False, "2020a")],
                     id="prefix-and-letter"),
        pytest.param("As Thomsen (2023) argues", [("narrative", "Thomsen", 1, False, "2023")],
                     id="narrative"),
        pytest.param("Brown and Duart (2024) map gaps",
                     [("narrative", "Brown", 2, False, "2024")], id="narrative-two"),
        pytest.param("Tamoliune et al. (2023) review",
                     [("narrative", "Tamoliune", 3, True, "2023")], id="narrative-et-al"),
        pytest.param("MOOCs (from 2000 to 2012) and (WHEC 2021) and Question 1 (2023)", [],
                     id="not-citations"),
    ],
)
def test_citation_forms(text: str, expected: list) -> None:
    assert _cited(text) == expected


def test_groups_and_lines() -> None:
    found = find_citations("One (A, 2001; B, 2002).\nTwo (C, 2003).")
    assert found["group_id"].tolist() == [1, 1, 2]
    assert found["line"].tolist() == [1, 1, 2]


def test_split_references_uses_last_heading() -> None:
    body, refs = split_references("References\nin text\nReferences\n- A. (2001).")
    assert body == "References\nin text\n" and refs == "- A. (2001)."


RECORDS = records_frame([
    {"record_id": "brownp", "authors": ("Brown, Phillip",), "year": 2024, "title": "Future"},
    {"record_id": "brownm", "authors": ("Brown, Mark", "Duart, Josep M."), "year": 2024,
     "title": "Gaps"},
    {"record_id": "smith1", "authors": ("Smith, A", "Jones, B", "Khan, C"), "year": 2020,
     "title": "One"},
    {"record_id": "smith2", "authors": ("Smith, A", "Lee, D", "Park, E"), "year": 2020,
     "title": "Two"},
    {"record_id": "diaz", "authors": ("Díaz, María",), "year": 2022, "title": "World"},
    {"record_id": "never", "authors": ("Nobody, N",), "year": 1999, "title": "Unused"},
])


def test_audit_matches_resolves_and_reports() -> None:
    text = ("Intro (Brown, 2024; Brown & Duart, 2024). Also (Smith et al., 2020) and "
            "(Diaz, 2022). Missing (Welsh & Dragusin, 2013).\nReferences\n- (Nobody, 1999)")
    audit = audit_citations(text, RECORDS)
    status = dict(zip(audit.matches["text"], audit.matches["status"], strict=True))
    assert status == {"Brown, 2024": "resolved", "Brown & Duart, 2024": "resolved",
                      "Smith et al., 2020": "ambiguous", "Diaz, 2022": "matched",
                      "Welsh & Dragusin, 2013": "missing"}
    chosen = dict(zip(audit.matches["text"], audit.matches["record_id"], strict=True))
    assert chosen["Brown, 2024"] == "brownp" and chosen["Brown & Duart, 2024"] == "brownm"
    assert audit.ambiguous.set_index("text").loc["Smith et al., 2020", "candidates"] == (
        "smith1", "smith2")
    assert audit.missing[["first_author", "year"]].values.tolist() == [["Welsh", "2013"]]
    # the reference list is not searched, so "Nobody" stays uncited
    assert audit.uncited["record_id"].tolist() == ["never"]
    summary = dict(audit.summary().values.tolist())
    assert summary["ambiguous"] == 1 and summary["resolved by co-authors"] == 2


def test_audit_needs_record_columns() -> None:
    with pytest.raises(CitationAuditError, match="lack columns"):
        audit_citations("(A, 2001)", RECORDS.drop(columns="authors"))
