"""The audit on the seed paper itself (skipped when ../shared is absent)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from toolkit.review import audit_citations, load_review

SEED = Path(__file__).resolve().parents[3] / "shared" / "seeds" / "000_4ce3cd164e73f432.txt"


@pytest.mark.skipif(not SEED.is_file(), reason="../shared/seeds is absent")
def test_recorded_audit_matches_a_fresh_run() -> None:
    review = load_review()
    audit = audit_citations(SEED.read_text(encoding="utf-8"), review.records)
    fresh = audit.matches[["line", "status", "record_id"]].astype({"record_id": "string"})
    recorded = review.audit[["line", "status", "record_id"]].astype({"record_id": "string"})
    pd.testing.assert_frame_equal(fresh.reset_index(drop=True), recorded)
    assert len(audit.uncited) == 0
    assert audit.matches["group_id"].nunique() == len(review.evidence)
