"""Fixtures for the sandbox tests: one shared sandbox world per session.

These tests need no PostgreSQL; they start the sandbox in-process on free
ports (`sandbox.testing.running_sandbox`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.testing import SandboxHandle, running_sandbox
from tests.realdata import realdata as real_payloads


@pytest.fixture(scope="session")
def realdata() -> Path:
    """The real public payloads (tests/realdata.py; never copied into the repo)."""
    return real_payloads()


@pytest.fixture(scope="session")
def sb() -> Iterator[SandboxHandle]:
    """A 50-SKU world with the discrepancies scenario, two days played, auto-release on."""
    with running_sandbox(
        seed=7, skus=50, orders_per_day=60, days=2, scenario="discrepancies", auto_release=True
    ) as handle:
        yield handle
