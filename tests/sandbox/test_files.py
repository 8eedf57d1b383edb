"""The file-based systems: X12 files well-formed (counts, control numbers) in
each supplier's dialect, 850s and 940s read from the outboxes and answered,
the 3PL stock snapshot CSV. The X12 check here is written independently of
the sandbox's X12 code."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from sandbox.testing import SandboxHandle
from tests.waiting import wait_until


def envelope(raw: bytes) -> dict:
    """Check one X12 file's envelopes; return its delimiters and set codes."""
    text = raw.decode("utf-8")
    assert text.startswith("ISA"), text[:20]
    elem = text[3]
    isa_end = 0
    for _ in range(16):
        isa_end = text.index(elem, isa_end + 1)
    comp, term = text[isa_end + 1], text[isa_end + 2]
    assert len(text[: isa_end + 3]) == 106, "ISA is fixed width"
    segs = [s.strip("\r\n") for s in text.split(term)]
    segs = [s.split(elem) for s in segs if s]
    codes, groups, sets_in_group, seg_count = [], 0, 0, 0
    isa_ctrl = gs_ctrl = st_ctrl = None
    for s in segs:
        tag = s[0]
        if tag == "ISA":
            isa_ctrl, groups = s[13], 0
            assert len(isa_ctrl) == 9 and isa_ctrl.isdigit()
        elif tag == "GS":
            gs_ctrl, sets_in_group, groups = s[6], 0, groups + 1
        elif tag == "ST":
            st_ctrl, seg_count = s[2], 1
            codes.append(s[1])
        elif tag == "SE":
            seg_count += 1
            assert int(s[1]) == seg_count, f"SE01 {s[1]} but {seg_count} segments"
            assert s[2] == st_ctrl
            sets_in_group += 1
            st_ctrl = None
        elif tag == "GE":
            assert int(s[1]) == sets_in_group and s[2] == gs_ctrl
        elif tag == "IEA":
            assert int(s[1]) == groups and s[2] == isa_ctrl
            isa_ctrl = None
        else:
            assert st_ctrl is not None, f"segment {tag} outside a transaction set"
            seg_count += 1
    assert isa_ctrl is None and st_ctrl is None, "file ends inside an envelope"
    return {
        "element": elem,
        "component": comp,
        "terminator": term,
        "newline": text.split(term, 1)[1][:1] in ("\n", "\r"),
        "codes": codes,
    }


def files_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def test_supplier_files_are_well_formed_and_vary_in_dialect(sb: SandboxHandle) -> None:
    dialects = {}
    for code in ("ACME", "BOREAL", "CASCADE"):
        paths = files_in(sb.dirs[f"supplier:{code}:drop"])
        assert paths, code
        info = [envelope(p.read_bytes()) for p in paths]
        dialects[code] = {
            (i["element"], i["component"], i["terminator"], i["newline"]) for i in info
        }
        assert len(dialects[code]) == 1, "one partner, one dialect"
        kinds = {c for i in info for c in i["codes"]}
        assert {"855", "856", "810"} <= kinds
        if code in ("ACME", "CASCADE"):
            assert "846" in kinds
    assert len({next(iter(d)) for d in dialects.values()}) == 3, dialects
    # batching differs too: several sets per group, several groups per interchange
    cascade = [envelope(p.read_bytes()) for p in files_in(sb.dirs["supplier:CASCADE:drop"])]
    assert any(len(set(i["codes"])) > 1 for i in cascade)
    boreal = [envelope(p.read_bytes()) for p in files_in(sb.dirs["supplier:BOREAL:drop"])]
    assert any(len(i["codes"]) > 1 for i in boreal)


def test_3pl_snapshot_and_945s(sb: SandboxHandle) -> None:
    paths = files_in(sb.dirs["3pl:drop"])
    snaps = [p for p in paths if p.suffix == ".csv"]
    assert snaps
    rows = list(csv.DictReader(io.StringIO(snaps[-1].read_text())))
    assert rows and set(rows[0]) == {
        "snapshot_at",
        "warehouse",
        "sku",
        "description",
        "status",
        "on_hand",
        "committed",
        "available",
        "uom",
    }
    assert all(int(r["on_hand"]) > 0 for r in rows)
    for p in paths:
        if p.suffix == ".edi":
            assert envelope(p.read_bytes())["codes"] == ["945"]


def _write(folder: Path, name: str, text: str) -> None:
    tmp = folder / f".{name}.tmp"
    tmp.write_text(text)
    tmp.rename(folder / name)


def _x12(sender: str, gs: str, sets: list[list[str]]) -> str:
    body, n = [], 0
    for k, segs in enumerate(sets, start=1):
        body.append(f"ST*{segs[0]}*{k:04d}")
        body += segs[1:]
        body.append(f"SE*{len(segs) + 1}*{k:04d}")
        n += 1
    isa = (
        f"ISA*00*{' ' * 10}*00*{' ' * 10}*ZZ*{'DISTROHUB':<15}*ZZ*{sender:<15}*260302*1200*U*00401*"
        f"000000042*0*P*>"
    )
    return (
        "~\n".join(
            [
                isa,
                f"GS*{gs}*DISTROHUB*{sender}*20260302*1200*42*X*004010",
                *body,
                f"GE*{n}*42",
                "IEA*1*000000042",
            ]
        )
        + "~\n"
    )


def test_850_from_the_outbox_is_acknowledged_shipped_and_invoiced(sb: SandboxHandle) -> None:
    world = sb.runtime.sim.world
    sku = next(it.sku for it in world.items if it.supplier == "ACME" and it.is_stocked)
    po = [
        "850",
        "BEG*00*SA*PO-HUB-0001**20260302",
        "N1*ST*East Distribution Centre*92*DC-EAST",
        f"PO1*1*24*EA*3.50**SK*{sku}",
        "PO1*2*5*EA*1.00**SK*NOT-A-SKU",
        "CTT*2",
    ]
    before = {p.name for p in files_in(sb.dirs["supplier:ACME:drop"])}
    _write(sb.dirs["supplier:ACME:outbox"], "po-hub-0001.edi", _x12("123456789", "PO", [po]))
    _write(sb.dirs["supplier:ACME:outbox"], "garbage.edi", "this is not X12")
    sb.control.sync()
    files = sb.control.received()["suppliers"]["ACME"]["files"]
    by_name = {f["file"]: f for f in files}
    assert by_name["po-hub-0001.edi"]["orders"][0]["number"] == "PO-HUB-0001"
    assert (
        by_name["garbage.edi"]["status"] == "rejected" and "ISA" in by_name["garbage.edi"]["reason"]
    )
    assert (sb.dirs["supplier:ACME:outbox"] / "archive" / "po-hub-0001.edi").exists()
    sb.control.advance(days=3, hours=3)
    new = [p for p in files_in(sb.dirs["supplier:ACME:drop"]) if p.name not in before]
    texts = [p.read_text() for p in new]
    assert any("BAK*" in t and "PO-HUB-0001" in t for t in texts), "855"
    assert any("ACK*IR" in t and "NOT-A-SKU" in t for t in texts), "unknown SKU rejected in the 855"
    assert any("BSN*" in t and "PO-HUB-0001" in t for t in texts), "856"
    assert any("BIG*" in t and "PO-HUB-0001" in t for t in texts), "810"
    pos = {p["number"]: p for p in sb.control.truth(["purchase_orders"])["purchase_orders"]}
    assert pos["PO-HUB-0001"]["received"] and pos["PO-HUB-0001"]["state"] in (
        "received",
        "invoiced",
    )


def test_940_to_the_3pl_is_shipped_with_a_945(sb: SandboxHandle) -> None:
    stock = [
        r
        for r in sb.control.truth(["stock"])["stock"]
        if r["location"] == "3PL" and r["status"] == "sellable"
    ]
    sku = stock[0]["sku"]
    order = [
        "940",
        "W05*N*HUB-3PL-0001*D2C#5555",
        "N1*ST*Pat Doe",
        "N3*9 Elm St",
        "N4*Columbus*OH*43215*US",
        "G62*10*20260302",
        "W66*PP*M",
        "LX*1",
        f"W01*1*EA**SK*{sku}",
        "W76*1",
    ]
    _write(sb.dirs["3pl:outbox"], "940-hub-0001.edi", _x12("MIDWAY3PL", "OW", [order]))
    entry = wait_until(
        "the 3PL to pick up 940-hub-0001.edi",
        lambda: next(
            (f for f in sb.control.received()["3pl"]["files"] if f["file"] == "940-hub-0001.edi"),
            None,
        ),
    )
    assert entry["orders"][0]["status"] == "accepted"
    sb.control.advance(hours=6)
    advices = [p.read_text() for p in files_in(sb.dirs["3pl:drop"]) if p.suffix == ".edi"]
    match = [t for t in advices if "W06*N*HUB-3PL-0001" in t]
    assert match and f"*SK*{sku}" in match[0]
    envelope(match[0].encode())
