"""What a test does when something it needs from outside the repository is missing."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def missing_prerequisite(problem: str) -> NoReturn:
    """Skip the test saying ``problem``; under ``CI=true`` fail it instead (CI must run it)."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and {problem}", pytrace=False)
    pytest.skip(problem)
