"""The one way tests wait: poll a condition until it holds or a deadline passes.

Tests wait for conditions, never for time. :func:`wait_until` polls ``condition`` until it
returns something truthy and returns that value; past the deadline it fails with what it was
still waiting for, the last value it saw and the last error the condition raised. Deadlines
are generous (a loaded 2-core machine is slow, not wrong): a condition that holds returns at
once, so a long deadline costs nothing when things work.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    what: str,
    condition: Callable[[], T],
    *,
    timeout: float = 60,
    interval: float = 0.1,
    ignore: tuple[type[BaseException], ...] = (),
    context: Callable[[], str] | None = None,
) -> T:
    """Poll ``condition`` every ``interval`` seconds until it returns a truthy value.

    ``what`` names the awaited state ("the webhook server to answer"). Exceptions of the
    types in ``ignore`` count as "not yet" (a server not listening yet, a stale element);
    any other exception fails at once. ``context`` adds a line to the failure (the page
    the browser shows, the log's tail).
    """
    deadline = time.monotonic() + timeout
    last_value: object = None
    last_error: BaseException | None = None
    while True:
        try:
            value = condition()
        except ignore as exc:
            last_error = exc
        else:
            if value:
                return value
            last_value = value
        if time.monotonic() >= deadline:
            detail = [f"still waiting for {what} after {timeout:g} s"]
            if last_value is not None:
                detail.append(f"last value: {last_value!r}")
            if last_error is not None:
                detail.append(f"last error: {type(last_error).__name__}: {last_error}")
            if context is not None:
                detail.append(context())
            raise AssertionError("; ".join(detail))
        time.sleep(interval)
