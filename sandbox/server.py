"""The sandbox process: every system on its own port of 127.0.0.1, one loop (the HTTP
systems served by uvicorn, the mail relay by aiosmtpd: ``sandbox.smtp``).

``python -m sandbox.server --state-dir DIR`` reads ``config.json`` and
``credentials.json`` from DIR (written by ``distrohub sandbox up``), builds
the world (reporting progress in ``progress.json``), binds one socket per
system, serves them with uvicorn, and writes ``runtime.json`` (pid, ports,
URLs) once every server accepts connections. SIGTERM or SIGINT, or ``POST
/_sandbox/shutdown``, stop it; ``runtime.json`` is removed on the way out.

`SandboxServer` is also used in-process by `sandbox.testing`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import uvicorn

from sandbox import carrier_api, control_api, shopify_api, wms_api
from sandbox.runtime import SYSTEMS, SandboxConfig, SandboxRuntime
from sandbox.shopify_payloads import API_VERSION
from sandbox.smtp import Mailbox, SmtpRelay
from sandbox.state_dir import drop_dirs, read_json, write_json

SYNC_SECONDS = 0.5


class _QuietServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to us (several run in one loop)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class SandboxServer:
    """Builds the runtime and serves every system until asked to stop."""

    def __init__(
        self,
        config: SandboxConfig,
        credentials: dict[str, Any],
        state: Path,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> None:
        self.config = config
        self.state = state
        self.dirs = drop_dirs(state)
        self.rt = SandboxRuntime(config, credentials, self.dirs)
        self.progress = progress
        self.servers: list[_QuietServer] = []
        self.tasks: list[asyncio.Task[Any]] = []
        self.stop_event: asyncio.Event | None = None
        self.ports: dict[str, int] = {}
        self.smtp: SmtpRelay | None = None

    def _apps(self):
        rt = self.rt
        return {
            "shopify:B2B": shopify_api.make_app(rt, "B2B"),
            "shopify:D2C": shopify_api.make_app(rt, "D2C"),
            "shopify:MARKETPLACE": shopify_api.make_app(rt, "MARKETPLACE"),
            "wms:DC-EAST": wms_api.make_app(rt, "DC-EAST"),
            "wms:DC-WEST": wms_api.make_app(rt, "DC-WEST"),
            "carrier": carrier_api.make_app(rt),
            "control": control_api.make_app(rt, self.request_stop),
        }

    def _bind(self, system: str) -> socket.socket:
        port = int(self.config.ports.get(system, 0))
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.config.host, port))
        except OSError as exc:
            sock.close()
            raise OSError(
                f"cannot bind {system} to {self.config.host}:{port} ({exc}); choose another port "
                "or leave it at 0 for a free one"
            ) from exc
        sock.set_inheritable(False)
        return sock

    async def start(self) -> dict[str, Any]:
        """Build the world, start every server, return the runtime description."""
        self.stop_event = asyncio.Event()
        self.rt.build(self.progress)
        apps = self._apps()
        for system in SYSTEMS:
            sock = self._bind(system)
            self.ports[system] = sock.getsockname()[1]
            cfg = uvicorn.Config(
                apps[system],
                log_level="warning",
                access_log=False,
                lifespan="off",
                http="h11",
                timeout_keep_alive=30,
            )
            server = _QuietServer(cfg)
            self.servers.append(server)
            self.tasks.append(
                asyncio.create_task(server.serve(sockets=[sock]), name=f"serve {system}")
            )
        deadline = time.monotonic() + 30
        while not all(s.started for s in self.servers):
            if time.monotonic() > deadline:
                raise RuntimeError("servers did not start within 30 s; see server.log")
            for t in self.tasks:
                if t.done() and t.exception():
                    raise RuntimeError(f"{t.get_name()} failed: {t.exception()}")
            await asyncio.sleep(0.02)
        host = self.config.host
        self.rt.urls = {s: f"http://{host}:{p}" for s, p in self.ports.items()}
        # the mail relay (plain SMTP, sandbox.smtp) on its own port, on this loop
        assert self.rt.sim is not None
        creds = self.rt.creds.get("smtp") or {}
        self.smtp = SmtpRelay(
            Mailbox(self.rt.sim.mailbox, self.state / "mailbox.jsonl"),
            self.rt.faults,
            creds.get("user", ""),
            creds.get("password", ""),
        )
        sock = self._bind("smtp")
        self.ports["smtp"] = sock.getsockname()[1]
        await self.smtp.start(sock)
        self.rt.urls["smtp"] = f"smtp://{host}:{self.ports['smtp']}"
        self.tasks.append(self.rt.dispatcher.start())
        self.rt.dispatching = True
        self.tasks.append(asyncio.create_task(self._background(), name="sandbox background"))
        return self.describe()

    def describe(self) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "host": self.config.host,
            "ports": self.ports,
            "urls": self.rt.urls,
            "shopify_api_version": API_VERSION,
            "dirs": {k: str(v) for k, v in self.dirs.items()},
            "started_at": time.time(),
        }

    async def _background(self) -> None:
        """Read outboxes and write files every half second; tick the clock if asked."""
        last_tick = time.monotonic()
        while True:
            await asyncio.sleep(SYNC_SECONDS)
            try:
                self.rt.sync()
                tick = self.config.tick_seconds
                if tick > 0 and time.monotonic() - last_tick >= tick:
                    last_tick = time.monotonic()
                    self.rt.advance(1)
            except Exception as exc:  # keep serving; the log says what broke
                print(
                    f"sandbox background step failed: {type(exc).__name__}: {exc}",
                    file=sys.stderr,
                    flush=True,
                )

    def request_stop(self) -> None:
        if self.stop_event is not None:
            self.stop_event.set()

    async def wait_and_stop(self) -> None:
        assert self.stop_event is not None
        await self.stop_event.wait()
        await self.stop()

    async def stop(self) -> None:
        if self.smtp is not None:
            await self.smtp.stop()
        for s in self.servers:
            s.should_exit = True
        for t in self.tasks:
            if t.get_name().startswith("serve "):
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(t, 5)
            else:
                t.cancel()
                with contextlib.suppress(BaseException):
                    await t
        await self.rt.dispatcher.close()


def _progress_writer(state: Path) -> Callable[[str, int, int], None]:
    last = [0.0]

    def report(phase: str, done: int, total: int) -> None:
        now = time.monotonic()
        if done in (0, total) or now - last[0] > 0.2:
            last[0] = now
            write_json(
                state / "progress.json",
                {"phase": phase, "done": done, "total": total, "pid": os.getpid()},
            )

    return report


async def _main(state: Path) -> int:
    config = SandboxConfig.from_json(read_json(state / "config.json") or {})
    creds = read_json(state / "credentials.json")
    if not creds:
        print(
            f"no credentials in {state}; start the sandbox with `distrohub sandbox up`",
            file=sys.stderr,
        )
        return 2
    server = SandboxServer(config, creds, state, _progress_writer(state))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, server.request_stop)
    try:
        info = await server.start()
    except Exception as exc:
        write_json(
            state / "progress.json",
            {"phase": "failed", "error": f"{type(exc).__name__}: {exc}", "pid": os.getpid()},
        )
        raise
    write_json(state / "runtime.json", info)
    write_json(
        state / "progress.json", {"phase": "ready", "done": 1, "total": 1, "pid": os.getpid()}
    )
    print(f"sandbox ready: {info['urls']}", flush=True)
    try:
        await server.wait_and_stop()
    finally:
        runtime = read_json(state / "runtime.json")
        if runtime and runtime.get("pid") == os.getpid():
            with contextlib.suppress(FileNotFoundError):
                (state / "runtime.json").unlink()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="run the distrohub sandbox systems (use `distrohub sandbox up`)"
    )
    parser.add_argument("--state-dir", required=True, help="the sandbox state directory")
    args = parser.parse_args(argv)
    return asyncio.run(_main(Path(args.state_dir)))


if __name__ == "__main__":
    sys.exit(main())
