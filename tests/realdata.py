"""Where the real public payloads are: the one place every test that reads them looks.

Some tests check parsers and the sandbox's payloads against real ones: public Shopify REST
and webhook payloads, X12 and EDIFACT files and carrier events, copied byte for byte from
public repositories (see docs/connecting.md, Real public payloads). They are read in place
and never copied into this repository. The folder is ``$DISTROHUB_REALDATA``, by default
``shared/realdata`` in the folder that holds the checkout. When it is absent the tests that
need it are skipped with a message saying so, except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import os
from pathlib import Path

from tests.prerequisites import missing_prerequisite

ENV_VAR = "DISTROHUB_REALDATA"
DEFAULT_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"


def realdata(relative: str = "") -> Path:
    """The folder, or the file or folder ``relative`` in it; skips (or fails) when absent."""
    path = Path(os.environ.get(ENV_VAR) or DEFAULT_DIR) / relative
    if not path.exists():
        missing_prerequisite(
            f"real public payloads not found at {path}: set {ENV_VAR} to their folder "
            "(docs/connecting.md, Real public payloads)"
        )
    return path
