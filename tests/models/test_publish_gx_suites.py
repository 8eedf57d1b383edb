"""The publish models built on the landed sandbox world pass their GX suites (the gate's
Great Expectations part, dagster_project.quality)."""

from __future__ import annotations

import time

from dagster_project.quality.expectations import run_suite, suites
from tests.models.conftest import LandedWorld


def test_publish_models_pass_their_gx_suites(clean_world: LandedWorld) -> None:
    failed = {}
    started = time.monotonic()
    for model in suites():
        result = run_suite(clean_world.hub, model)
        if not result.success:
            failed[model] = result.markdown
    print(f"6 GX suites on the sandbox world: {time.monotonic() - started:.2f} s")
    assert not failed, "\n\n".join(failed.values())
