"""The shared HTTP client: retries, Retry-After, budget, errors (no network: MockTransport)."""

from __future__ import annotations

import httpx
import pytest

from dagster_project.connectors.http import (
    AuthenticationFailed,
    HttpClient,
    HttpStatusError,
    HttpTransportError,
    RequestBudget,
    RetryPolicy,
    parse_retry_after,
)


def _client(handler, **kw) -> tuple[HttpClient, list[float]]:
    slept: list[float] = []
    client = HttpClient(
        "demo-system",
        "http://example.test/api/",
        transport=httpx.MockTransport(handler),
        sleep=slept.append,
        **kw,
    )
    return client, slept


def test_retries_429_honouring_retry_after() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) < 3:
            return httpx.Response(429, headers={"Retry-After": "2"})
        return httpx.Response(200, json={"ok": True})

    client, slept = _client(handler)
    assert client.get("things").json() == {"ok": True}
    assert len(calls) == 3
    assert slept == [2.0, 2.0]


def test_5xx_backoff_grows_and_gives_up_with_a_readable_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, text="bad gateway")

    client, slept = _client(handler, retry=RetryPolicy(max_attempts=4, initial_wait=1, jitter=0))
    with pytest.raises(HttpStatusError) as info:
        client.get("things", params={"token": "s3cret"})
    assert slept == [1.0, 2.0, 4.0]
    message = str(info.value)
    assert "demo-system" in message and "/api/things" in message and "Fix:" in message
    assert "after 4 attempts" in message
    assert "s3cret" not in message  # the query string never reaches a message
    assert info.value.retryable


def test_non_idempotent_post_is_not_resent_after_a_500_but_is_after_a_503() -> None:
    statuses = iter([500])

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(next(statuses, 200))

    client, slept = _client(handler)
    with pytest.raises(HttpStatusError):
        client.post("create", json={})
    assert slept == []

    statuses = iter([503])
    client, slept = _client(handler)
    assert client.post("create", json={}).status_code == 200
    assert len(slept) == 1


def test_read_timeout_on_post_is_reported_as_maybe_taken_effect() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    client, slept = _client(handler)
    with pytest.raises(HttpTransportError) as info:
        client.post("create", json={})
    assert info.value.may_have_taken_effect and slept == []


def test_connection_refused_is_retried_then_named() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        raise httpx.ConnectError("refused", request=request)

    client, _ = _client(handler, retry=RetryPolicy(max_attempts=3, initial_wait=0, jitter=0))
    with pytest.raises(HttpTransportError) as info:
        client.post("create", json={})
    assert len(calls) == 3
    assert not info.value.may_have_taken_effect
    assert "demo-system is running" in str(info.value)


def test_budget_counts_every_attempt() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503)

    budget = RequestBudget(max_requests=2)
    client, _ = _client(handler, budget=budget)
    with pytest.raises(Exception) as info:
        client.get("x")
    assert "budget" in str(info.value) and budget.used == 2


def test_401_is_an_authentication_error_with_the_configured_fix() -> None:
    client, slept = _client(lambda r: httpx.Response(401), fixes={401: "check DEMO_TOKEN"})
    with pytest.raises(AuthenticationFailed) as info:
        client.get("x")
    assert "check DEMO_TOKEN" in str(info.value) and slept == []


def test_retry_after_longer_than_we_wait_stops() -> None:
    client, slept = _client(lambda r: httpx.Response(429, headers={"Retry-After": "3600"}))
    with pytest.raises(HttpStatusError) as info:
        client.get("x")
    assert slept == [] and "3600" in str(info.value)


def test_parse_retry_after_http_date() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 1, 1, 0, 0, 0, tzinfo=UTC)
    assert parse_retry_after("Thu, 01 Jan 2026 00:00:30 GMT", now) == 30.0
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("soon") is None
