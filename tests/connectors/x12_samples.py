"""X12 test material: the real sample files (under ``x12/`` of the real public payloads,
tests/realdata.py; read in place, never copied) and a small made-up ASN to mutate."""

from __future__ import annotations

from pathlib import Path

from tests.realdata import realdata


def x12_path(relative: str) -> Path:
    """The real file ``relative`` (e.g. ``oopfactory/846_Example1.txt``); skips when absent
    (fails under CI=true)."""
    return realdata(f"x12/{relative}")


def all_x12_files() -> list[str]:
    """Every real X12 file, relative to the ``x12`` folder; skips when absent (fails under
    CI=true)."""
    x12_dir = realdata("x12")
    return sorted(str(p.relative_to(x12_dir)) for p in x12_dir.rglob("*") if p.is_file())


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
