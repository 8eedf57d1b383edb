"""The transport contract: a message from ``ops.outbox``, its outcome, and the protocol.

A transport delivers messages of one kind to one system and reports, per
message and as soon as it is known, what happened (:class:`Outcome`). It never
raises for one message's failure; it raises :class:`TransportConfigError` only
when it cannot be built (a missing variable, an invalid declaration).

Shared helpers classify the shared HTTP client's errors into outcomes, so every
HTTP transport maps 429/5xx/timeouts to RETRY and other 4xx to DEAD the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from dagster_project.connectors.http import (
    AuthenticationFailed,
    HttpError,
    HttpStatusError,
    HttpTransportError,
    RequestBudgetExceeded,
)

#: Longest response text kept in an outcome (the outbox row stays small).
MAX_RESPONSE_CHARS = 2000


@dataclass(frozen=True)
class Message:
    """One row of ``ops.outbox``: what to deliver, where, and its idempotency key."""

    id: int
    target: str
    system: str
    record_key: str
    action: str
    payload: dict[str, Any]
    idempotency_key: str
    attempts: int = 0


class Status(StrEnum):
    DELIVERED = "delivered"
    EXISTED = "existed"
    RETRY = "retry"
    DEAD = "dead"


@dataclass(frozen=True)
class Outcome:
    """What became of one message; ``error`` is one line naming system, record and fix."""

    message_id: int
    status: Status
    response: Any = None
    error_code: str | None = None
    error: str | None = None
    retry_after: float | None = None


class Transport(Protocol):
    kind: str

    def send(self, messages: Sequence[Message]) -> Iterator[Outcome]: ...

    def close(self) -> None: ...


class OneByOne:
    """A transport whose target has no batch call: one request per message, in order."""

    kind = ""

    def __init__(self, connector: Any) -> None:
        self.connector = connector
        self.system: str = connector.system

    def send(self, messages: Sequence[Message]) -> Iterator[Outcome]:
        for message in messages:
            yield self._send_one(message)

    def close(self) -> None:
        self.connector.close()

    def _send_one(self, message: Message) -> Outcome:
        raise NotImplementedError


class TransportConfigError(RuntimeError):
    """A transport cannot be built: a variable is missing or a declaration is invalid."""


# ------------------------------------------------------------------ helpers
def trimmed(value: Any) -> Any:
    """``value`` made JSON-able and short: anything over ~2 kB becomes a cut string."""
    try:
        text = json.dumps(value, default=str)
    except (TypeError, ValueError):
        text = json.dumps(str(value))
    if len(text) <= MAX_RESPONSE_CHARS:
        return json.loads(text)
    return text[:MAX_RESPONSE_CHARS] + "…"


def body_of(error: HttpStatusError) -> Any:
    """The target's answer in an HTTP error, parsed when it is JSON (trimmed)."""
    try:
        return trimmed(json.loads(error.body))
    except (TypeError, ValueError):
        return trimmed(error.body)


def delivered(message: Message, response: Any, *, existed: bool = False) -> Outcome:
    return Outcome(
        message.id, Status.EXISTED if existed else Status.DELIVERED, response=trimmed(response)
    )


def dead(message: Message, code: str, error: str, response: Any = None) -> Outcome:
    return Outcome(message.id, Status.DEAD, trimmed(response), code, _one_line(error))


def retry(
    message: Message, code: str, error: str, response: Any = None, after: float | None = None
) -> Outcome:
    return Outcome(message.id, Status.RETRY, trimmed(response), code, _one_line(error), after)


def from_http_error(
    message: Message, exc: HttpError, *, what: str, not_found: tuple[str, str] | None = None
) -> Outcome:
    """Classify the shared client's final error (its retries are spent) for ``message``.

    ``what`` names the record for the error line (e.g. ``"order 123"``).
    429 → RETRY rate_limited; 5xx and no answer → RETRY target_unavailable;
    401/403 → DEAD auth_failed (an operator must fix the credentials); 409 →
    DEAD conflict; 404 with ``not_found`` = (code, what it means and the fix) → DEAD
    with that code; any other 4xx → DEAD rejected_by_target with the answer.
    """
    prefix = f"{exc.system}: {what}"
    if isinstance(exc, RequestBudgetExceeded):
        return retry(message, "rate_limited", f"{prefix}: {exc}")
    if isinstance(exc, HttpTransportError):
        return retry(message, "target_unavailable", f"{prefix}: {exc}")
    if isinstance(exc, AuthenticationFailed):
        return dead(message, "auth_failed", f"{prefix}: {exc}", body_of(exc))
    if isinstance(exc, HttpStatusError):
        answer = body_of(exc)
        if exc.status == 429:
            return retry(message, "rate_limited", f"{prefix}: {exc}", answer, exc.retry_after)
        if exc.status >= 500:
            return retry(message, "target_unavailable", f"{prefix}: {exc}", answer, exc.retry_after)
        if exc.status == 409:
            return dead(message, "conflict", f"{prefix}: {exc}", answer)
        if exc.status == 404 and not_found is not None:
            code, meaning = not_found
            return dead(message, code, f"{prefix}: {meaning}", answer)
        return dead(message, "rejected_by_target", f"{prefix}: {exc}", answer)
    return retry(message, "target_unavailable", f"{prefix}: {exc}")


def _one_line(text: str) -> str:
    return " ".join(str(text).split())[:1000]
