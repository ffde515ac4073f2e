from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from toolkit._io import OutputExistsError
from toolkit.codebook import load_codebook, save_codebook
from toolkit.errors import CodebookError

DATA = Path(__file__).parents[1] / "data" / "codebooks"


def test_small_codebook_loads_with_hierarchy() -> None:
    book = load_codebook(DATA / "small.yaml")
    assert book.ids == ("barriers", "barriers.cost", "barriers.access", "enablers",
                        "enablers.stacking")
    assert [c.id for c in book.themes()] == ["barriers", "enablers"]
    assert book.theme_of("barriers.cost") == "barriers"
    assert book["barriers.cost"].examples == ("The fee was too high.",)
    assert book["barriers.cost"].patterns.lemmas == ("fee", "cost")
    frame = book.to_frame()
    assert frame["depth"].tolist() == [0, 1, 1, 0, 1]
    html = book._repr_html_()
    assert "<table>" in html and "barriers.cost" in html and "#AA3377" in html


@pytest.mark.parametrize(
    ("name", "message"),
    [
        pytest.param("unknown_parent.yaml", r"codes\[1\] \(id 'barriers.cost'\): parent 'barrier' "
                     r"is not a code in this codebook; did you mean 'barriers'\?",
                     id="unknown-parent"),
        pytest.param("duplicate_id.yaml", r"codes\[1\] \(id 'cost'\): duplicate id; already used "
                     r"by codes\[0\]", id="duplicate-id"),
        pytest.param("cycle.yaml", r"parent cycle a -> c -> b -> a", id="cycle"),
        pytest.param("bad_pattern.yaml", r"bad regex 'fee\(s'", id="bad-regex"),
        pytest.param("bad_pattern.yaml", r"bad glob 'two words\*'", id="bad-glob"),
        pytest.param("bad_pattern.yaml", r"unknown pattern kind 'lemma'; did you mean 'lemmas'\?",
                     id="unknown-pattern-kind"),
        pytest.param("unknown_field.yaml", r"unknown key 'defintion'; did you mean 'definition'\?",
                     id="unknown-field"),
        pytest.param("not_yaml.yaml", r"not valid YAML at line \d+", id="yaml-syntax"),
        pytest.param("missing.yaml", r"no such file", id="missing-file"),
    ],
)
def test_validation_messages(name: str, message: str) -> None:
    with pytest.raises(CodebookError, match=message):
        load_codebook(DATA / name)


def test_all_problems_reported_at_once() -> None:
    with pytest.raises(CodebookError) as info:
        load_codebook(DATA / "many_problems.yaml")
    problems = info.value.problems
    expected = ["unknown top-level key 'versoin'; did you mean 'version'?",
                "missing top-level key 'version'", "round is 0",
                "id must be lower-case", "needs a label", "color 'red' is not '#RRGGBB'",
                "unknown lineage key 'renamed'; did you mean 'renamed_from'?"]
    for fragment in expected:
        assert any(fragment in p for p in problems), fragment
    assert len(problems) >= len(expected)
    assert str(info.value).startswith(str(DATA / "many_problems.yaml"))


def test_save_round_trip_keeps_order_and_refuses_overwrite(tmp_path: Path) -> None:
    book = load_codebook(DATA / "small.yaml")
    target = save_codebook(book, tmp_path / "book.yaml")
    again = load_codebook(target)
    assert again == book
    text = target.read_text()
    assert text.index("id: barriers\n") < text.index("id: barriers.cost") < text.index(
        "id: enablers\n")
    assert text.index("  label: Cost") < text.index("  parent: barriers")  # fixed key order
    with pytest.raises(OutputExistsError):
        save_codebook(book, target)
    changed = replace(book, version="1.1")
    save_codebook(changed, target, overwrite=True)
    assert load_codebook(target).version == "1.1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.yaml"]


def test_bundled_codebooks_are_valid() -> None:
    root = Path(__file__).parents[2] / "codebooks"
    r1 = load_codebook(root / "microcredentials_round1.yaml")
    r2 = load_codebook(root / "microcredentials.yaml")
    assert (r1.round, r2.round) == (1, 2)
    themes = {c.id for c in r2.themes()}
    assert {"definition", "evolution", "workforce", "benefits", "challenges",
            "higher_education", "qa_recognition", "policy_future", "case_industry",
            "case_region"} == themes
    cases = set(r2.descendants("case_industry")) | set(r2.descendants("case_region"))
    assert {"case_industry.technology", "case_industry.healthcare",
            "case_industry.manufacturing", "case_industry.finance", "case_region.australia",
            "case_region.europe", "case_region.tanzania"} <= cases
