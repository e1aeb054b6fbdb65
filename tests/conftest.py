import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# numba kernels compile in the test process at first use, as plain numba does (no interpreted
# first runs, no background compiles), and the CLI does not compile ahead at its start.
os.environ.setdefault("SIDLANG_JIT", "wait")
os.environ.setdefault("SIDLANG_PREWARM", "0")

settings.register_profile("ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "dev", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "testdata"


@pytest.fixture
def testdata() -> Path:
    """The shared real-music folder beside the checkout; skips where a clone lacks it."""
    if not SHARED.is_dir():
        pytest.skip(f"shared test data not found at {SHARED} (only beside the project checkout)")
    return SHARED
