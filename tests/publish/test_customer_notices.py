"""Customer notices by e-mail through a real SMTP server: the sandbox's relay (sandbox/smtp.py).

The transport (``smtp_notices``) against the relay: a notice renders its template and lands,
a refused address is DEAD with the fix, a relay that is down or a dropped connection is RETRY
(after the data: ``outcome_unknown``, resent with the same Message-ID), a refused login is
DEAD. The whole publish of ``customer_notices`` on the landed world (every notice once, a
second publish and a rebuild send nothing, ``marts.order_notices`` shows each as sent) is the
last test of test_publish.py, which runs on ``publish_world`` in file order. The model's event
derivation is its dbt unit test (``dbt_project/models/publish/customer_notices.yml``), run by
every ``dbt build``.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from dagster_project.publish.transports import (
    Message,
    Outcome,
    Status,
    TransportConfigError,
    open_transport,
)
from dagster_project.publish.transports.smtp import message_id
from sandbox.testing import SandboxHandle, running_sandbox
from tests.ingest.test_sandbox_ingest import environment
from tests.waiting import wait_until

TARGET, SYSTEM, KIND = "customer_notices", "notices_smtp", "smtp_notices"
_ids = iter(range(1, 1_000_000))


def _small_world(**kw: Any):
    return running_sandbox(seed=5, skus=10, orders_per_day=0, days=0, **kw)


@pytest.fixture(scope="module")
def relay() -> Iterator[SandboxHandle]:
    with _small_world() as sb, environment(sb.env):
        yield sb


def notice(event: str = "shipped", **payload: Any) -> Message:
    ref = uuid.uuid4().hex[:8]
    row = {
        "order_key": f"D2C#{ref}",
        "event": event,
        "event_ref": f"SHP-{ref}",
        "order_name": f"#{ref}",
        "email": "ann.lee@example.com",
        "customer_name": "Ann Lée",
        "event_at": "2026-03-02T09:00:00+00:00",
        "carrier": "UPS",
        "service": "GROUND",
        "tracking_number": f"1Z{ref.upper()}",
        "lines": [
            {"sku": "SKU-1", "title": "Widget", "ordered": 2, "shipped": 2, "backordered": 0}
        ],
        "units_ordered": 2,
        "units_shipped": 2,
        "hold_reason": None,
        **payload,
    }
    key = f"{row['order_key']}:{event}:{row['event_ref']}"
    return Message(next(_ids), TARGET, SYSTEM, key, "upsert", row, f"{TARGET}:{key}:h", 0)


def send(*messages: Message) -> list[Outcome]:
    transport = open_transport(KIND, SYSTEM)
    try:
        return list(transport.send(list(messages)))
    finally:
        transport.close()


def mails(sb: SandboxHandle, key: str) -> list[dict]:
    return [m for m in sb.control.mailbox() if m["headers"].get("X-Distrohub-Notice") == key]


def test_a_notice_renders_its_template_and_lands_in_the_mailbox(relay) -> None:
    msg = notice(tracking_number="1ZTRACK0042")
    (out,) = send(msg)
    assert out.status is Status.DELIVERED, out
    assert out.response["reply"].startswith("250")
    (mail,) = mails(relay, f"{TARGET}:{msg.record_key}")
    assert mail["rcpt_to"] == ["ann.lee@example.com"]
    assert mail["authenticated_as"] == relay.env["DISTROHUB_SMTP_USER"]
    assert mail["subject"] == f"Your order {msg.payload['order_name']} has shipped"
    assert mail["message_id"] == message_id(TARGET, msg.record_key, "distrohub.example.com")
    assert mail["message_id"] == out.response["message_id"]
    assert "Ann Lée" in mail["to"] and "orders@distrohub.example.com" in mail["from"]
    assert "Tracking: 1ZTRACK0042" in mail["text"] and "UPS (GROUND)" in mail["text"]
    assert "Widget (SKU-1): 2" in mail["text"]

    short = notice(
        "partly_shipped",
        lines=[{"sku": "SKU-9", "title": "Gizmo", "ordered": 4, "shipped": 1, "backordered": 3}],
    )
    (out,) = send(short)
    assert out.status is Status.DELIVERED
    (mail,) = mails(relay, f"{TARGET}:{short.record_key}")
    assert "Gizmo (SKU-9): 1 of 4 shipped, 3 backordered" in mail["text"]
    assert short.payload["tracking_number"] in mail["text"]


def test_a_refused_address_is_dead_with_the_fix_and_the_batch_goes_on(relay) -> None:
    before = len(relay.control.mailbox())
    bad, good = notice(email="nobody@nowhere.invalid"), notice()
    refused, sent = send(bad, good)
    assert refused.status is Status.DEAD and refused.error_code == "address_rejected"
    assert refused.response == {
        "stage": "rcpt",
        "code": 550,
        "reply": "5.1.2 <nobody@nowhere.invalid>: recipient address rejected: no such domain",
    }
    assert SYSTEM in refused.error and bad.record_key in refused.error
    assert "correct the e-mail" in refused.error and "distrohub replay" in refused.error
    # the session went on after the refusal (RSET): the next notice of the batch lands
    assert sent.status is Status.DELIVERED
    assert len(relay.control.mailbox()) == before + 1


def test_a_notice_that_cannot_be_written_is_dead_before_anything_is_sent(relay) -> None:
    before = len(relay.control.mailbox())
    no_address, no_template = notice(email=None), notice("lost_in_space")
    outcomes = send(no_address, no_template)
    assert [o.status for o in outcomes] == [Status.DEAD, Status.DEAD]
    assert "no usable e-mail address" in outcomes[0].error
    assert "no template for event 'lost_in_space'" in outcomes[1].error
    assert len(relay.control.mailbox()) == before


def test_a_refused_login_is_dead_and_a_relay_that_is_down_is_retried(relay) -> None:
    before = len(relay.control.mailbox())
    with environment({"DISTROHUB_SMTP_PASSWORD": "not-the-password"}):
        (out,) = send(notice())
    assert out.status is Status.DEAD and out.error_code == "auth_failed"
    assert "DISTROHUB_SMTP_PASSWORD" in out.error and "not-the-password" not in out.error
    with socket.socket() as probe:  # a port nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    with environment({"DISTROHUB_SMTP_PORT": str(closed_port)}):
        (out,) = send(notice())
    assert out.status is Status.RETRY and out.error_code == "target_unavailable"
    assert f"127.0.0.1:{closed_port}" in out.error and "nothing was accepted" in out.error
    with environment({"DISTROHUB_SMTP_SECURITY": "ssl3"}), pytest.raises(TransportConfigError):
        open_transport(KIND, SYSTEM)
    assert len(relay.control.mailbox()) == before


def test_a_connection_dropped_after_the_data_is_retried_with_the_same_message_id() -> None:
    """The relay keeps every 3rd message and drops the connection before answering: the
    outcome is unknown, the notice is retried, and the second copy carries the same
    Message-ID (SMTP cannot be asked whether it has a message: at least once, recognisably)."""
    with _small_world(faults=("smtp_drops",)) as sb, environment(sb.env):
        messages = [notice() for _ in range(3)]
        outcomes = send(*messages)
        assert [o.status for o in outcomes] == [Status.DELIVERED, Status.DELIVERED, Status.RETRY]
        lost = outcomes[2]
        assert lost.error_code == "outcome_unknown" and "same Message-ID" in lost.error
        (fault,) = wait_until("the relay to log the drop", lambda: sb.control.faults()["log"])
        (again,) = send(messages[2])
        assert again.status is Status.DELIVERED
        copies = mails(sb, f"{TARGET}:{messages[2].record_key}")
        assert len(copies) == 2 and copies[0]["message_id"] == copies[1]["message_id"]
        assert fault["message_id"] == copies[0]["message_id"]
