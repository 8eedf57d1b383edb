"""X12 test material: where the real sample files live (../shared/realdata/x12 beside the
repo, read in place, never copied) and a small made-up ASN to mutate."""

from __future__ import annotations

from pathlib import Path

import pytest

REALDATA = (Path(__file__).resolve().parents[2] / ".." / "shared" / "realdata").resolve()
X12_DIR = REALDATA / "x12"


def x12_path(relative: str) -> Path:
    """The real file ``relative`` (e.g. ``oopfactory/846_Example1.txt``); skips when absent."""
    path = X12_DIR / relative
    if not path.is_file():
        pytest.skip(f"real X12 sample {path} is absent (shared/realdata not checked out here)")
    return path


def all_x12_files() -> list[str]:
    """Every file under shared/realdata/x12, relative to it (empty when absent)."""
    if not X12_DIR.is_dir():
        return []
    return sorted(str(p.relative_to(X12_DIR)) for p in X12_DIR.rglob("*") if p.is_file())


#: A minimal valid 856 (9 segments from ST to SE), the base for made-up error cases.
ASN = (
    "ISA*00*          *00*          *ZZ*SUPPLIER       *ZZ*DISTROHUB      *240102*0304*U*00401"
    "*000000042*0*P*>~\n"
    "GS*SH*SUPPLIER*DISTROHUB*20240102*0304*42*X*004010~\n"
    "ST*856*0001~\n"
    "BSN*00*SHIP1*20240102*0304~\n"
    "HL*1**S~\n"
    "HL*2*1*O~\n"
    "PRF*PO123~\n"
    "HL*3*2*I~\n"
    "LIN**VP*ABC~\n"
    "SN1**5*EA~\n"
    "SE*9*0001~\n"
    "GE*1*42~\n"
    "IEA*1*000000042~\n"
)
