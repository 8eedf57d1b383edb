"""The oversell measurement's figures (bench/oversell.py), computed on a small hand-made truth.

The measurement itself plays days of simulated time with a whole pipeline pass every few
hours, minutes even at the smoke scale, so the bench's smoke run leaves it out
(tests/test_bench.py); what is checked here is how its figures are read from the truth.
"""

from __future__ import annotations

from bench.oversell import Staleness, oversold, oversold_at_store, store_levels

SINCE = "2026-03-03T00:00:00Z"


def _line(sku: str, quantity: int, allocated: int, shipped: int, status: str) -> dict:
    return {
        "line_ref": sku,
        "sku": sku,
        "quantity": quantity,
        "allocated": allocated,
        "shipped": shipped,
        "status": status,
    }


def _release(location: str, rid: str, status: str, lines: list[dict], at=SINCE, ref="D2C#1"):
    return {
        "location": location,
        "release_id": rid,
        "order_ref": ref,
        "status": status,
        "received_at": at,
        "lines": lines,
    }


TRUTH = {
    "releases": [
        # shipped in full: nothing oversold
        _release("DC-EAST", "R1", "shipped", [_line("A", 5, 5, 5, "shipped")]),
        # 2 of 6 backordered then closed short, the 4 allocated shipped
        _release("DC-EAST", "R2", "short_shipped", [_line("B", 6, 4, 4, "short_shipped")]),
        # nothing ever allocated: the whole release closed short
        _release("DC-WEST", "R3", "closed_short", [_line("C", 3, 0, 0, "closed_short")]),
        # the 3PL committed 1 of 4 on arrival and shipped it
        _release("3PL", "R4", "short_shipped", [_line("D", 4, 1, 1, "short_shipped")]),
        # allocated in full, the pick came up 2 short: a bin error, not an oversell
        _release("DC-WEST", "R5", "short_shipped", [_line("E", 5, 5, 3, "short_shipped")]),
        # still backordered: not finished, counted apart
        _release("DC-EAST", "R6", "backordered", [_line("F", 7, 0, 0, "backordered")]),
        # cancelled: never counted
        _release("DC-EAST", "R7", "cancelled", [_line("G", 9, 0, 0, "backordered")]),
        # released before the period: not counted
        _release(
            "DC-EAST",
            "R8",
            "closed_short",
            [_line("H", 9, 0, 0, "closed_short")],
            at="2026-03-01T00:00:00Z",
        ),
        # on an order the scenario planted a discrepancy on: left out
        _release(
            "DC-EAST", "R9", "closed_short", [_line("I", 2, 0, 0, "closed_short")], ref="B2B#7"
        ),
    ],
    "discrepancies": [{"kind": "shipment_unposted", "key": "B2B#7", "systems": [], "detail": {}}],
}


def test_oversold_units_are_what_no_stock_covered() -> None:
    sold = oversold(TRUTH, SINCE)
    assert sold.units == 2 + 3 + 3
    assert sold.lines == 3
    assert sold.by_location == {"DC-EAST": 2, "DC-WEST": 3, "3PL": 3}
    assert sold.short_picked == 2
    assert sold.planted == 2
    assert sold.backordered_open == 7
    # without a start, the release before the period counts too
    assert oversold(TRUTH, None).units == 8 + 9


def test_units_taken_below_a_store_level() -> None:
    truth = {
        "storefront_levels": [
            {"channel": "D2C", "sku": "A", "location": "DC-EAST", "available": -3},
            {"channel": "D2C", "sku": "B", "location": "DC-EAST", "available": 2},
            {"channel": "B2B", "sku": "A", "location": "3PL", "available": -5},
        ]
    }
    before = store_levels(truth)
    # A at D2C went from 4 to -3 (3 below zero); B stayed above; A at B2B was at -2 already
    # (the hub had not raised it): 3 more below
    previous = {("D2C", "A", "DC-EAST"): 4, ("D2C", "B", "DC-EAST"): 5, ("B2B", "A", "3PL"): -2}
    assert oversold_at_store(before, previous) == 3 + 3


def test_the_longest_run_of_passes_a_store_showed_more_than_the_hub_knew() -> None:
    s = Staleness()
    key, other = ("D2C", "A", "DC-EAST"), ("B2B", "B", "3PL")
    assert s.observe({key: 5, other: 1}, {key: 5, other: 1}) == 0
    assert s.observe({key: 5, other: 4}, {key: 3, other: 1}) == 2
    assert s.observe({key: 5, other: 1}, {key: 3, other: 1}) == 1
    assert s.observe({key: 3, other: 1}, {key: 3, other: 1}) == 0
    assert (s.longest, s.longest_key) == (2, key)
    assert s.ever == {key, other}
    # a listing the hub holds back (not in what it knew) is not compared
    assert s.observe({key: 9}, {}) == 0 and s.compared == 0
