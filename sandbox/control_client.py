"""A small client for the sandbox control API (used by the CLI and tests)."""

from __future__ import annotations

from typing import Any

import httpx


class ControlError(RuntimeError):
    pass


class ControlClient:
    """Talks to ``/_sandbox/...`` with the control token."""

    def __init__(self, url: str, token: str, timeout: float = 600.0) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=timeout
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ControlClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, **kw: Any) -> Any:
        try:
            r = self._http.request(method, "/_sandbox" + path, **kw)
        except httpx.HTTPError as exc:
            raise ControlError(
                f"sandbox control API at {self.url} did not answer ({exc}); is it running? "
                "Try `distrohub sandbox status`."
            ) from exc
        if r.status_code >= 400:
            raise ControlError(f"{method} /_sandbox{path} -> {r.status_code}: {r.text[:500]}")
        return r.json()

    def ping(self) -> bool:
        try:
            return self._http.get("/_sandbox/ping", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def status(self) -> dict[str, Any]:
        return self._call("GET", "/status")

    def advance(self, hours: int = 0, days: int = 0) -> dict[str, Any]:
        return self._call("POST", "/advance", json={"hours": hours, "days": days})

    def truth(self, sections: list[str] | None = None) -> dict[str, Any]:
        params = {"sections": ",".join(sections)} if sections else None
        return self._call("GET", "/truth", params=params)

    def mailbox(self) -> list[dict[str, Any]]:
        """Every message the sandbox's mail relay accepted (the truth's ``mailbox``)."""
        return self.truth(["mailbox"])["mailbox"]

    def received(self) -> dict[str, Any]:
        return self._call("GET", "/received")

    def faults(self) -> dict[str, Any]:
        return self._call("GET", "/faults")

    def webhooks(self) -> dict[str, Any]:
        return self._call("GET", "/webhooks")

    def set_webhook_target(self, url: str | None) -> dict[str, Any]:
        return self._call("PUT", "/webhook-target", json={"url": url})

    def change_order(self, channel: str, number: int, change: str = "tag") -> dict[str, Any]:
        return self._call("POST", f"/orders/{channel}/{number}/change", json={"change": change})

    def adjust_stock(self, location: str, sku: str, delta: int) -> dict[str, Any]:
        return self._call("POST", f"/stock/{location}/{sku}/adjust", json={"delta": delta})

    def edit_price(self, channel: str, sku: str, price: str) -> dict[str, Any]:
        return self._call("POST", f"/prices/{channel}/{sku}", json={"price": price})

    def sync(self) -> dict[str, Any]:
        return self._call("POST", "/sync")

    def drain(self) -> dict[str, Any]:
        return self._call("POST", "/drain")

    def shutdown(self) -> dict[str, Any]:
        return self._call("POST", "/shutdown")
