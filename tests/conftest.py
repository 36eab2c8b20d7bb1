"""Shared fixtures: the bundled canonical vectors and the optional ../shared folder."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from browser import browser  # noqa: F401  (the one session-wide Playwright, for every module)

# One real Label Studio per session (tests/ls_harness.py), seeded once (tests/ls_seed.py):
# registered here so every module shares the same server.
from ls_harness import label_studio  # noqa: F401
from ls_seed import seeded_ls  # noqa: F401

# One local SparkSession per session (tests/spark_session.py), for the Spark engine tests.
from spark_session import spark  # noqa: F401

# Property tests explore the same examples on every run (reproducible CI); set
# HYPOTHESIS_PROFILE=explore to draw new ones locally.
settings.register_profile("repeatable", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("explore", deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

TESTS = Path(__file__).parent
ROOT = TESTS.parent
SHARED = ROOT.parent / "shared"


def load_vectors() -> dict[str, dict[str, Any]]:
    """Published agreement examples (../shared/reference/iaa_canonical.json, bundled)."""
    document = json.loads((TESTS / "data" / "iaa_canonical.json").read_text())
    return {vector["id"]: vector for vector in document["vectors"]}


@pytest.fixture(scope="session")
def vectors() -> dict[str, dict[str, Any]]:
    return load_vectors()


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The research folder beside the project; tests using it skip in a user's clone."""
    if not SHARED.is_dir():
        pytest.skip("../shared is absent (a user's clone): shared-data test skipped")
    return SHARED
