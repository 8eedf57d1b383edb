"""The one HTTP client every connector uses: timeouts, retries, budget, readable errors.

A connector never writes its own retry loop; it builds an :class:`HttpClient`
for its system and calls :meth:`HttpClient.request`. The client

* applies timeouts (``httpx.Timeout``; defaults in :data:`DEFAULT_TIMEOUT`);
* retries, through tenacity, with exponential backoff and jitter, on 429, on
  5xx and on connection errors; a ``Retry-After`` header (seconds or an HTTP
  date) replaces the backoff for that attempt, and one asking for more than
  :attr:`RetryPolicy.max_retry_after` stops the retries with an error saying so;
* retries a non-idempotent request (POST/PATCH unless told otherwise) only
  when it certainly did not take effect: the connection was never made, or
  the server answered 429 or 503. A read timeout on a ``create`` is not
  retried blindly: the caller must find out what happened (search by its
  idempotency key) and decide;
* spends a per-system :class:`RequestBudget` (a cap on requests for the
  client's life, e.g. one run, and an optional steady rate); every attempt,
  retries included, counts;
* raises :class:`HttpError` subclasses that name the system, the method, the
  URL path (never the query string, never headers, never the body sent) and
  the fix.

It knows nothing of any particular system. ``on_response`` is the hook for
platform-specific signals (e.g. a call-limit header) on every response.
"""

from __future__ import annotations

import email.utils
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

log = logging.getLogger("distrohub.http")

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=60.0, write=30.0, pool=10.0)
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# statuses after which a request certainly had no effect (safe to resend any request)
NOT_PROCESSED_STATUSES = frozenset({429, 503})
BODY_EXCERPT = 300


# ------------------------------------------------------------------- errors
class HttpError(Exception):
    """A request to a system failed; the message says which, where and what to do."""

    retryable: bool = False

    def __init__(self, system: str, method: str, path: str, problem: str, fix: str) -> None:
        self.system = system
        self.method = method
        self.path = path
        self.problem = problem
        self.fix = fix
        super().__init__(f"{system}: {method} {path}: {problem}. Fix: {fix}")


class HttpStatusError(HttpError):
    """The system answered with an error status (after any retries)."""

    def __init__(
        self,
        system: str,
        method: str,
        path: str,
        status: int,
        body: str,
        fix: str,
        retry_after: float | None = None,
        attempts: int = 1,
    ) -> None:
        self.status = status
        self.body = body
        self.retry_after = retry_after
        self.attempts = attempts
        self.retryable = status in {429} or status >= 500
        tried = f" after {attempts} attempts" if attempts > 1 else ""
        excerpt = f": {body}" if body else ""
        super().__init__(system, method, path, f"HTTP {status}{tried}{excerpt}", fix)


class AuthenticationFailed(HttpStatusError):
    """401 or 403: the credentials are missing, wrong or expired, or not allowed."""


class HttpTransportError(HttpError):
    """No usable answer: connection refused, timeout, broken connection (after retries).

    ``may_have_taken_effect`` is True when the request may have reached the
    server (a read timeout, a dropped connection): a non-idempotent request
    must then be checked by its idempotency key before being sent again.
    """

    retryable = True

    def __init__(
        self,
        system: str,
        method: str,
        path: str,
        problem: str,
        fix: str,
        may_have_taken_effect: bool,
    ) -> None:
        self.may_have_taken_effect = may_have_taken_effect
        super().__init__(system, method, path, problem, fix)


class RequestBudgetExceeded(HttpError):
    """The client spent its request budget; nothing was sent."""


# ---------------------------------------------------------------- policies
@dataclass(frozen=True)
class RetryPolicy:
    """How hard to retry. Waits grow ``initial_wait * 2**n`` up to ``max_wait``, plus jitter."""

    max_attempts: int = 5
    initial_wait: float = 0.5
    max_wait: float = 30.0
    jitter: float = 1.0
    max_retry_after: float = 120.0
    retry_statuses: frozenset[int] = frozenset({429, 500, 502, 503, 504})


@dataclass
class RequestBudget:
    """A per-system allowance: at most ``max_requests`` attempts, at most ``per_second``.

    One budget object may be shared by several clients of the same system.
    Thread-safe.
    """

    max_requests: int | None = None
    per_second: float | None = None
    used: int = 0
    _next_slot: float = field(default=0.0, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def take(self, sleep: Callable[[float], None] = time.sleep) -> bool:
        """Spend one request; False when the cap is reached. Waits for the rate if set."""
        with self._lock:
            if self.max_requests is not None and self.used >= self.max_requests:
                return False
            self.used += 1
            wait = 0.0
            if self.per_second:
                now = time.monotonic()
                slot = max(now, self._next_slot)
                self._next_slot = slot + 1.0 / self.per_second
                wait = slot - now
        if wait > 0:
            sleep(wait)
        return True

    @property
    def remaining(self) -> int | None:
        return None if self.max_requests is None else max(0, self.max_requests - self.used)


# ------------------------------------------------------------------ client
class _Retryable(Exception):
    """Internal: an attempt that may be retried, carrying the final error if not."""

    def __init__(self, error: HttpError, retry_after: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class HttpClient:
    """An ``httpx.Client`` for one system, with retries, a budget and readable errors.

    ``system`` names the system in every error and log line (e.g. ``"tryton"``,
    ``"shopify-b2b"``). ``fixes`` maps a status code to the fix an operator
    should apply (e.g. ``{401: "check DISTROHUB_X_TOKEN"}``); sensible generic
    ones are used otherwise. ``sleep`` is injectable for tests.
    """

    def __init__(
        self,
        system: str,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        budget: RequestBudget | None = None,
        fixes: Mapping[int, str] | None = None,
        on_response: Callable[[httpx.Response], None] | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.system = system
        self.base_url = base_url
        self.retry = retry or RetryPolicy()
        self.budget = budget or RequestBudget()
        self.fixes = dict(fixes or {})
        self.on_response = on_response
        self._sleep = sleep
        self._backoff = wait_exponential_jitter(
            multiplier=self.retry.initial_wait, max=self.retry.max_wait, jitter=self.retry.jitter
        )
        self._client = httpx.Client(
            base_url=base_url,
            headers=dict(headers or {}),
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
        )

    # context manager -----------------------------------------------------
    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    # requests ------------------------------------------------------------
    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("POST", path, **kw)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        content: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """Send a request; return the 2xx/3xx response or raise an :class:`HttpError`.

        ``idempotent`` (default: by method) says whether the request may be
        sent again when it is unknown whether it took effect.
        """
        method = method.upper()
        safe = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        shown = _path_only(self.base_url, path)
        attempts = 0

        def attempt() -> httpx.Response:
            nonlocal attempts
            if not self.budget.take(self._sleep):
                raise RequestBudgetExceeded(
                    self.system,
                    method,
                    shown,
                    f"request budget of {self.budget.max_requests} requests spent",
                    f"raise the request budget for {self.system} or run the sync less often; "
                    "the next run starts with a fresh budget",
                )
            attempts += 1
            try:
                response = self._client.request(
                    method,
                    path,
                    params=params,
                    json=json,
                    content=content,
                    headers=headers,
                )
            except httpx.TransportError as exc:
                raise self._transport_error(exc, method, shown, safe) from exc
            if self.on_response is not None:
                self.on_response(response)
            if response.status_code < 400:
                return response
            raise self._status_error(response, method, shown, safe, attempts)

        retrying = Retrying(
            stop=stop_after_attempt(self.retry.max_attempts),
            wait=self._wait,
            retry=retry_if_exception(lambda e: isinstance(e, _Retryable)),
            before_sleep=lambda state: self._log_retry(state, method, shown),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            return retrying(attempt)
        except _Retryable as exc:  # retries exhausted: the last attempt's error
            raise exc.error from None

    # internals -----------------------------------------------------------
    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Retryable) and exc.retry_after is not None:
            return exc.retry_after
        return self._backoff(state)

    def _log_retry(self, state: RetryCallState, method: str, shown: str) -> None:
        exc = state.outcome.exception() if state.outcome else None
        what = exc.error.problem if isinstance(exc, _Retryable) else repr(exc)
        wait = state.next_action.sleep if state.next_action else 0.0
        log.warning(
            "%s: %s %s: %s; retry %d/%d in %.1f s",
            self.system,
            method,
            shown,
            what,
            state.attempt_number,
            self.retry.max_attempts - 1,
            wait,
        )

    def _transport_error(
        self,
        exc: httpx.TransportError,
        method: str,
        shown: str,
        safe: bool,
    ) -> Exception:
        never_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
        error = HttpTransportError(
            self.system,
            method,
            shown,
            f"{type(exc).__name__}: {exc}",
            f"check that {self.system} is running and reachable at {self.base_url}"
            + (
                ""
                if never_sent
                else "; the request may have taken effect: look it up by its key before resending"
            ),
            may_have_taken_effect=not never_sent,
        )
        if never_sent or safe:
            return _Retryable(error)
        return error

    def _status_error(
        self,
        response: httpx.Response,
        method: str,
        shown: str,
        safe: bool,
        attempts: int,
    ) -> Exception:
        status = response.status_code
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        retryable = status in self.retry.retry_statuses and (
            safe or status in NOT_PROCESSED_STATUSES
        )
        too_long = retry_after is not None and retry_after > self.retry.max_retry_after
        fix = self._fix(status)
        if retryable and too_long:
            fix = (
                f"{self.system} asks to wait {retry_after:.0f} s (Retry-After), longer "
                f"than the {self.retry.max_retry_after:.0f} s we wait; run again later"
            )
        cls = AuthenticationFailed if status in (401, 403) else HttpStatusError
        error = cls(
            self.system,
            method,
            shown,
            status,
            _excerpt(response),
            fix,
            retry_after=retry_after,
            attempts=attempts,
        )
        if retryable and not too_long:
            return _Retryable(error, retry_after)
        return error

    def _fix(self, status: int) -> str:
        if status in self.fixes:
            return self.fixes[status]
        if status == 401:
            return f"the credentials for {self.system} were rejected: check them"
        if status == 403:
            return f"{self.system} refuses this call for these credentials: check their rights"
        if status == 404:
            return f"check the base URL of {self.system} ({self.base_url}) and the path"
        if status == 429:
            return (
                f"{self.system} keeps rate-limiting us: lower the request rate "
                "(RequestBudget.per_second) or run less often"
            )
        if status >= 500:
            return f"{self.system} failed on its side: look at its log, then run again"
        return f"{self.system} rejected the request as invalid: see the answer above"


def _path_only(base_url: str, path: str) -> str:
    """The URL path for messages: no scheme, host, query string or fragment."""
    full = httpx.URL(base_url).join(path) if base_url else httpx.URL(path)
    return full.path


def _excerpt(response: httpx.Response) -> str:
    try:
        text = response.text
    except (UnicodeDecodeError, httpx.ResponseNotRead):
        return ""
    text = " ".join(text.split())
    return text[:BODY_EXCERPT] + ("…" if len(text) > BODY_EXCERPT else "")
