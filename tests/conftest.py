"""Shared fixtures: paths to the project's own test data and to ../shared (optional)."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

DATA = Path(__file__).parent / "data"
PROJECT = Path(__file__).resolve().parents[1]
SHARED = PROJECT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def corpus_data() -> Path:
    return DATA / "corpus"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared/data is absent; third-party files are only used when present")
    return SHARED


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep the tests' embedding cache out of the user's ~/.cache."""
    import os

    previous = os.environ.get("SLR_CACHE_DIR")
    os.environ["SLR_CACHE_DIR"] = str(tmp_path_factory.mktemp("slr-cache"))
    yield
    if previous is None:
        os.environ.pop("SLR_CACHE_DIR", None)
    else:
        os.environ["SLR_CACHE_DIR"] = previous


# Property-based tests (hypothesis): "ci" keeps each property to a few seconds; "campaign"
# is the longer run before a release (bench/fuzz_codebook.py). Pick with
# HYPOTHESIS_PROFILE=campaign or pytest --hypothesis-profile=campaign.
try:
    from hypothesis import HealthCheck, settings
except ImportError:  # pragma: no cover - hypothesis is in the test extra
    pass
else:
    settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True,
                              suppress_health_check=[HealthCheck.too_slow])
    settings.register_profile("campaign", deadline=None,
                              max_examples=int(os.environ.get("SLR_FUZZ_EXAMPLES", "20000")),
                              suppress_health_check=[HealthCheck.too_slow,
                                                     HealthCheck.data_too_large])
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
