"""The bench-only environment dlt runs in (``.venv-bench-dlt/``, git-ignored).

The ingest measurement compares our ingest with dlt's ``rest_api`` source. dlt is
never installed into the project's ``.venv``: it gets its own virtual environment,
created on first use from ``bench/dlt/requirements.txt`` (PyPI only, about 10 s here)
and recreated when that file changes. ``make bench`` and ``distrohub bench`` do it.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.context import Progress

REPO = Path(__file__).resolve().parents[1]
DLT_DIR = Path(__file__).resolve().parent / "dlt"
REQUIREMENTS = DLT_DIR / "requirements.txt"
LOADER = DLT_DIR / "load_orders.py"
VENV = REPO / ".venv-bench-dlt"
STAMP_NAME = ".requirements.sha256"


class DltEnvironmentError(RuntimeError):
    """The bench-only dlt environment could not be created."""


@dataclass(frozen=True)
class DltEnvironment:
    python: Path
    created_seconds: float | None  # None: it was already there


def _digest() -> str:
    return hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()


def ensure(progress: Progress, venv: Path = VENV) -> DltEnvironment:
    """The dlt environment, created (with pip's progress shown) when missing or outdated."""
    python = venv / "bin" / "python"
    stamp = venv / STAMP_NAME
    if python.exists() and stamp.exists() and stamp.read_text().strip() == _digest():
        return DltEnvironment(python, None)
    started = time.monotonic()
    if venv.exists():
        progress(f"{venv.name}: {REQUIREMENTS.name} changed, creating it again")
        shutil.rmtree(venv)
    progress(f"creating the bench-only dlt environment {venv} (once; PyPI only)")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    command = [
        str(python),
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--progress-bar",
        "off",
        "-r",
        str(REQUIREMENTS),
    ]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as pip:
        assert pip.stdout is not None
        tail: list[str] = []
        for line in pip.stdout:
            line = line.rstrip()
            tail = (tail + [line])[-20:]
            if line.startswith(("Collecting", "Installing", "Successfully", "ERROR")):
                progress(f"  pip: {line}")
    if pip.returncode != 0:
        raise DltEnvironmentError(
            f"pip could not install {REQUIREMENTS} into {venv} (exit {pip.returncode}):\n"
            + "\n".join(tail)
            + "\nFix: check that PyPI is reachable, then run the bench again "
            "(or `--no-dlt` to skip the comparison)"
        )
    stamp.write_text(_digest() + "\n")
    seconds = time.monotonic() - started
    progress(f"{venv.name} ready in {seconds:.0f} s")
    return DltEnvironment(python, seconds)
