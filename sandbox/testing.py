"""Start a sandbox world for tests: `running_sandbox(...)`.

    from sandbox.testing import running_sandbox

    @pytest.fixture(scope="session")
    def sandbox():
        with running_sandbox(seed=7, skus=50, days=2) as sb:
            yield sb

    def test_orders(sandbox):
        url, token = sandbox.shopify_url("D2C"), sandbox.shopify_token("D2C")
        sandbox.control.advance(hours=6)
        truth = sandbox.control.truth(["orders"])

The sandbox runs in a background thread of the test process (its own event
loop, servers on free ports of 127.0.0.1) with a temporary state directory,
so nothing is left behind and nothing collides with a `sandbox up` in the
same tree. ``sb.env`` holds the same ``DISTROHUB_*`` variables as
``systems.env`` (also written to ``sb.state_dir / "systems.env"``), so a
connector can be configured exactly as in production. ``sb.runtime`` gives
direct access to the simulation when a test needs it.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.control_client import ControlClient
from sandbox.runtime import SandboxConfig, SandboxRuntime
from sandbox.server import SandboxServer
from sandbox.state_dir import new_credentials, systems_env, write_systems_env

START_TIMEOUT = 120.0


@dataclass
class SandboxHandle:
    """A running sandbox: where each system is, its credentials, the control API."""

    state_dir: Path
    urls: dict[str, str]
    credentials: dict[str, Any]
    dirs: dict[str, Path]
    env: dict[str, str]
    control: ControlClient
    runtime: SandboxRuntime
    info: dict[str, Any] = field(default_factory=dict)

    def shopify_url(self, channel: str) -> str:
        return self.urls[f"shopify:{channel}"]

    def shopify_token(self, channel: str) -> str:
        return self.credentials["shopify"][channel]["token"]

    def shopify_secret(self, channel: str) -> str:
        return self.credentials["shopify"][channel]["webhook_secret"]

    def wms_url(self, location: str) -> str:
        return self.urls[f"wms:{location}"]

    def wms_token(self, location: str) -> str:
        return self.credentials["wms"][location]["token"]

    def wms_secret(self, location: str) -> str:
        return self.credentials["wms"][location]["webhook_secret"]


class _Thread(threading.Thread):
    def __init__(self, server: SandboxServer) -> None:
        super().__init__(name="distrohub-sandbox", daemon=True)
        self.server = server
        self.loop: asyncio.AbstractEventLoop | None = None
        self.ready = threading.Event()
        self.info: dict[str, Any] | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        async def main() -> None:
            self.loop = asyncio.get_running_loop()
            try:
                self.info = await self.server.start()
            except BaseException as exc:
                self.error = exc
                self.ready.set()
                return
            self.ready.set()
            await self.server.wait_and_stop()

        asyncio.run(main())


@contextlib.contextmanager
def running_sandbox(
    seed: int = 1,
    skus: int = 50,
    orders_per_day: int = 20,
    days: int = 2,
    scenario: str = "clean",
    faults: tuple[str, ...] | list[str] = (),
    auto_release: bool = False,
    webhook_url: str | None = None,
    api_plan: str = "unlimited",
    marketplace_api_plan: str | None = None,
    timeout_seconds: float = 15.0,
    webhook_retry_delays: tuple[float, ...] = (0.05, 0.1, 0.2),
    state_dir: Path | None = None,
    backlog_orders: int = 0,
    backlog_channel: str = "D2C",
    prerender_orders: bool = False,
) -> Iterator[SandboxHandle]:
    """Start a sandbox world on free ports; stop it on exit.

    ``api_plan`` defaults to ``unlimited`` (no leaky-bucket 429s) and webhook
    retries are quick (0.05/0.1/0.2 s) so tests are fast; pass
    ``api_plan="standard"`` to exercise Shopify's limits. ``backlog_orders`` (with
    ``orders_per_day=0``) fills one store with exactly that many orders;
    ``prerender_orders`` serves order lists from JSON rendered once (see
    ``sandbox.order_bodies``)."""
    config = SandboxConfig(
        seed=seed,
        skus=skus,
        orders_per_day=orders_per_day,
        days=days,
        scenario=scenario,
        faults=tuple(faults),
        auto_release=auto_release,
        webhook_url=webhook_url,
        api_plan=api_plan,
        marketplace_api_plan=marketplace_api_plan or api_plan,
        timeout_seconds=timeout_seconds,
        webhook_retry_delays=tuple(webhook_retry_delays),
        backlog_orders=backlog_orders,
        backlog_channel=backlog_channel,
        prerender_orders=prerender_orders,
    )
    with contextlib.ExitStack() as stack:
        if state_dir is None:
            state_dir = Path(
                stack.enter_context(tempfile.TemporaryDirectory(prefix="distrohub-sandbox-"))
            )
        state = Path(state_dir) / "sandbox"
        state.mkdir(parents=True, exist_ok=True)
        creds = new_credentials()
        server = SandboxServer(config, creds, state)
        thread = _Thread(server)
        thread.start()
        if not thread.ready.wait(START_TIMEOUT):
            raise TimeoutError(f"sandbox did not start within {START_TIMEOUT:.0f} s")
        if thread.error is not None:
            raise RuntimeError(f"sandbox failed to start: {thread.error}") from thread.error
        assert thread.info is not None and thread.loop is not None
        info = thread.info
        env = systems_env(info, creds, info["dirs"], server.rt.webhook_url)
        write_systems_env(state / "systems.env", env)
        control = ControlClient(info["urls"]["control"], creds["control"]["token"])
        handle = SandboxHandle(
            state, info["urls"], creds, server.dirs, env, control, server.rt, info
        )
        try:
            yield handle
        finally:
            control.close()
            thread.loop.call_soon_threadsafe(server.request_stop)
            thread.join(15)


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: bytes


class WebhookRecorder:
    """A tiny HTTP server on a free port that answers 200 and keeps every POST."""

    def __init__(self) -> None:
        import http.server

        recorder = self
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: the sandbox sends many in a row

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                size = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(size)
                with recorder._lock:
                    recorder.requests.append(
                        RecordedRequest(self.path, dict(self.headers.items()), body)
                    )
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="webhook-recorder", daemon=True
        )

    def __enter__(self) -> WebhookRecorder:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def received(self, path_prefix: str = "") -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path.startswith(path_prefix)]
