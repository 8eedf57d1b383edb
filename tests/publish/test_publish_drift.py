"""Drift: how a publish target declares it (publish/targets.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from dagster_project.publish.targets import COMPONENT_TYPE, DEFS_DIR, Drift, declared_targets

NAME = "storefront_prices"


def _declare(tmp_path: Path, **changes) -> Path:
    """defs/publish/defs.yaml's storefront_prices block with ``changes``, in ``tmp_path``."""
    docs = yaml.safe_load_all((DEFS_DIR / "publish" / "defs.yaml").read_text())
    block = next(d for d in docs if d["attributes"]["target"] == NAME)
    attributes = {**block["attributes"], **changes}
    attributes = {k: v for k, v in attributes.items() if v is not None}
    (tmp_path / "defs.yaml").write_text(
        yaml.safe_dump({"type": COMPONENT_TYPE, "attributes": attributes})
    )
    return tmp_path


def test_drift_is_validated(tmp_path):
    hourly = {"mode": "correct", "schedule": "5 * * * *"}
    assert declared_targets(_declare(tmp_path, drift=hourly))[NAME].drift == Drift(**hourly)
    with pytest.raises(ValidationError, match=f"{NAME}: drift needs a live relation"):
        declared_targets(_declare(tmp_path, drift=hourly, loop_suppression=None))
    with pytest.raises(ValidationError, match="mode"):
        declared_targets(_declare(tmp_path, drift={"mode": "fix", "schedule": "5 * * * *"}))
    with pytest.raises(ValidationError, match="schedule"):
        declared_targets(_declare(tmp_path, drift={"mode": "report", "schedule": "hourly"}))
