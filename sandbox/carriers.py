"""Carrier tracking: a milestone plan per shipment, played out over simulated
time, and EasyPost-style ``tracker.updated`` events.

Event bodies follow EasyPost's Event object (as in the real public payloads, see
docs/connecting.md, Sandbox): ``{"object": "Event", "description":
"tracker.updated", "result": {Tracker with tracking_details[]},
"previous_attributes": {"status": ...}}``. They are rendered on demand from
(tracker, step) so a large world does not keep every body in memory.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from typing import Any

from sandbox.ids import hex_id, tracking_number
from sandbox.records import Shipment, Tracker, TrackerStep

CARRIER_BY_ORIGIN = {"DC-EAST": "UPS", "DC-WEST": "FedEx", "3PL": "USPS"}
SCAC = {"UPS": "UPSN", "FedEx": "FDEG", "USPS": "USPS", "CanadaPost": "CAPO"}
PUBLIC_URL = "https://track.easypost.com/djE6dHJrXz"


def iso_z(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def carrier_for(origin: str, country: str) -> str:
    if country == "CA":
        return "CanadaPost"
    return CARRIER_BY_ORIGIN.get(origin, "UPS")


def new_tracking(seed: int, carrier: str, seq: int) -> tuple[str, str]:
    """(tracker id, tracking code)."""
    return "trk_" + hex_id(seed, "tracker", seq), tracking_number(carrier, seed, seq)


def plan_for(
    rng: random.Random, shipment: Shipment, origin_city: tuple[str, str, str]
) -> list[TrackerStep]:
    """Milestones: label created, picked up, in transit, out for delivery,
    delivered (1-4 days later); 3% end in a failed delivery returned to sender."""
    t = shipment.shipped_at
    dest = shipment.ship_to
    d_city, d_state, d_zip = dest.get("city"), dest.get("region"), dest.get("postal_code")
    o_city, o_state, o_zip = origin_city
    transit_days = rng.choice((1, 1, 2, 2, 3, 4))
    deliver_day = (t // 86400 + transit_days) * 86400
    steps = [
        TrackerStep(t, "pre_transit", "label_created", "Shipping label created", None, None, None),
        TrackerStep(
            t + 3 * 3600, "in_transit", "arrived_at_facility", "Picked up", o_city, o_state, o_zip
        ),
        TrackerStep(
            t + 9 * 3600,
            "in_transit",
            "departed_facility",
            "Departed facility",
            o_city,
            o_state,
            o_zip,
        ),
        TrackerStep(
            deliver_day + 5 * 3600,
            "in_transit",
            "arrived_at_destination",
            "Arrived at destination facility",
            d_city,
            d_state,
            d_zip,
        ),
        TrackerStep(
            deliver_day + 8 * 3600,
            "out_for_delivery",
            "out_for_delivery",
            "Out for delivery",
            d_city,
            d_state,
            d_zip,
        ),
    ]
    if rng.random() < 0.03:
        steps.append(
            TrackerStep(
                deliver_day + 15 * 3600,
                "failure",
                "address_not_found",
                "Delivery attempted: address not found",
                d_city,
                d_state,
                d_zip,
            )
        )
        steps.append(
            TrackerStep(
                deliver_day + 86400 + 9 * 3600,
                "return_to_sender",
                "return",
                "Returned to sender",
                d_city,
                d_state,
                d_zip,
            )
        )
    else:
        steps.append(
            TrackerStep(
                deliver_day + 14 * 3600,
                "delivered",
                "arrived_at_destination",
                "Delivered",
                d_city,
                d_state,
                d_zip,
            )
        )
    for step in steps[1:3]:
        step.country = "US" if o_city else None
    for step in steps[3:]:
        step.country = dest.get("country") or None
    return steps


SERVICES = {
    "UPS": "Ground",
    "FedEx": "FEDEX_GROUND",
    "USPS": "GroundAdvantage",
    "CanadaPost": "Expedited",
}


def _place(step: TrackerStep) -> str | None:
    parts = [p for p in (step.city, step.state, step.country) if p]
    return " ".join(parts).upper() if parts else None


def carrier_detail(tr: Tracker) -> dict[str, Any]:
    """EasyPost's CarrierDetail: service, origin and destination of the plan."""
    origin, final = tr.plan[1], tr.plan[-1]
    return {
        "object": "CarrierDetail",
        "service": SERVICES.get(tr.carrier, "Ground"),
        "container_type": None,
        "est_delivery_date_local": datetime.fromtimestamp(final.at, UTC).strftime("%Y-%m-%d"),
        "est_delivery_time_local": None,
        "origin_location": _place(origin),
        "origin_tracking_location": {
            "object": "TrackingLocation",
            "city": origin.city,
            "state": origin.state,
            "country": origin.country,
            "zip": origin.zip,
        },
        "destination_location": _place(final),
        "destination_tracking_location": None,
        "guaranteed_delivery_date": None,
        "alternate_identifier": None,
        "initial_delivery_attempt": None,
    }


def tracker_json(tr: Tracker, done: int, mode: str = "test") -> dict[str, Any]:
    """The Tracker object after ``done`` milestones."""
    now_step = tr.plan[done - 1] if done else None
    delivered = next((s for s in tr.plan[:done] if s.status == "delivered"), None)
    final = tr.plan[-1]
    return {
        "id": tr.id,
        "object": "Tracker",
        "mode": mode,
        "tracking_code": tr.tracking_code,
        "status": now_step.status if now_step else "unknown",
        "status_detail": now_step.status_detail if now_step else "unknown",
        "created_at": iso_z(tr.created),
        "updated_at": iso_z(now_step.at if now_step else tr.created),
        "signed_by": "J. Receiver" if delivered else None,
        "weight": tr.weight_oz,
        "est_delivery_date": iso_z(final.at // 86400 * 86400),
        "shipment_id": None,
        "carrier": tr.carrier,
        "tracking_details": [
            {
                "object": "TrackingDetail",
                "message": s.message,
                "description": s.message,
                "status": s.status,
                "status_detail": s.status_detail,
                "datetime": iso_z(s.at),
                "source": tr.carrier,
                "carrier_code": "",
                "tracking_location": {
                    "object": "TrackingLocation",
                    "city": s.city,
                    "state": s.state,
                    "country": s.country,
                    "zip": s.zip,
                },
            }
            for s in tr.plan[:done]
        ],
        "carrier_detail": carrier_detail(tr),
        "public_url": PUBLIC_URL + tr.id[4:16],
        "finalized": done == len(tr.plan),
        "is_return": False,
    }


def event_json(seed: int, tr: Tracker, done: int, recorded_at: int) -> dict[str, Any]:
    """The ``tracker.updated`` Event after milestone ``done`` (1-based)."""
    prev = tr.plan[done - 2].status if done >= 2 else "unknown"
    return {
        "id": "evt_" + hex_id(seed, "evt", tr.id, done),
        "object": "Event",
        "mode": "test",
        "description": "tracker.updated",
        "created_at": iso_z(recorded_at),
        "updated_at": iso_z(recorded_at),
        "previous_attributes": {"status": prev},
        "pending_urls": [],
        "completed_urls": [],
        "user_id": "user_" + hex_id(seed, "user", length=16),
        "status": "completed",
        "result": tracker_json(tr, done),
    }


def event_body(seed: int, tr: Tracker, done: int, recorded_at: int) -> bytes:
    return json.dumps(event_json(seed, tr, done, recorded_at), separators=(",", ":")).encode()
