"""`distrohub demo|ui|stop`: the whole pipeline once on the embedded default."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import click
from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Column, Table
from rich.text import Text

from dagster_project.hub import settings
from dagster_project.hub.cluster import ClusterError
from dagster_project.hub.lifecycle import start_hub, stop_hub

# piped output (CI logs, `make demo | tee`) gets room for the summary table
console = Console(width=None if sys.stdout.isatty() else 120)
err = Console(stderr=True)

UI_HOST = "127.0.0.1"
DEFAULT_UI_PORT = 3000


def _ui_port() -> int:
    return int(os.environ.get("DISTROHUB_UI_PORT", DEFAULT_UI_PORT))


def _start_hub_or_exit() -> None:
    try:
        state = start_hub(lambda m: console.log(m))
    except (ClusterError, settings.HubNotConfigured) as exc:
        err.print(f"[bold red]hub:[/] {exc}")
        sys.exit(1)
    verb = "started" if state.started_now else "running"
    console.log(f"hub {verb} ({state.mode}) at {state.urls.server}")


@dataclass
class RunProgress:
    """What a running materialization has done so far, read from the instance's event log."""

    run_id: str
    steps_total: int
    assets_total: int
    checks_total: int
    started: float = field(default_factory=time.monotonic)
    steps_done: int = 0
    steps_failed: int = 0
    steps_skipped: int = 0
    running: dict[str, float] = field(default_factory=dict)  # step key → started (monotonic)
    assets_done: set[str] = field(default_factory=set)
    checks_passed: int = 0
    checks_failed: int = 0
    last_asset: str = ""
    finished: bool = False
    cursor: str | None = None

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def read(self, instance) -> None:
        """Apply the run's events written since the last read."""
        import dagster as dg

        kinds = {
            dg.DagsterEventType.STEP_START,
            dg.DagsterEventType.STEP_SUCCESS,
            dg.DagsterEventType.STEP_FAILURE,
            dg.DagsterEventType.STEP_SKIPPED,
            dg.DagsterEventType.STEP_UP_FOR_RETRY,
            dg.DagsterEventType.ASSET_MATERIALIZATION,
            dg.DagsterEventType.ASSET_CHECK_EVALUATION,
        }
        while True:
            page = instance.get_records_for_run(
                self.run_id, cursor=self.cursor, of_type=kinds, limit=500
            )
            for record in page.records:
                event = record.event_log_entry.dagster_event
                if event is not None:
                    self._apply(event)
            self.cursor = page.cursor
            if not page.has_more:
                return

    def _apply(self, event) -> None:
        import dagster as dg

        kind = event.event_type
        step = event.step_key or ""
        if kind == dg.DagsterEventType.STEP_START:
            self.running[step] = time.monotonic()
        elif kind in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE):
            self.running.pop(step, None)
            self.steps_done += 1
            self.steps_failed += kind == dg.DagsterEventType.STEP_FAILURE
        elif kind == dg.DagsterEventType.STEP_SKIPPED:
            self.steps_done += 1
            self.steps_skipped += 1
        elif kind == dg.DagsterEventType.STEP_UP_FOR_RETRY:
            self.running.pop(step, None)
        elif kind == dg.DagsterEventType.ASSET_MATERIALIZATION:
            self.last_asset = event.asset_key.to_user_string()
            self.assets_done.add(self.last_asset)
        elif kind == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            if event.event_specific_data.passed:
                self.checks_passed += 1
            else:
                self.checks_failed += 1

    def line(self) -> str:
        """One line for logs that are not a terminal (CI, `make demo | tee`)."""
        checks = f"checks {self.checks_passed} passed, {self.checks_failed} failed"
        return (
            f"steps {self.steps_done}/{self.steps_total}, assets "
            f"{len(self.assets_done)}/{self.assets_total}, {checks}, "
            f"{self.elapsed:.0f} s; running: {', '.join(sorted(self.running)) or '-'}"
        )


class ProgressDisplay:
    """A live view of a RunProgress on the terminal (one line now and then elsewhere).

    Bound to the stream that is stdout when it is created, so that dbt's output can be
    redirected to the log file meanwhile without taking the display with it.
    """

    LINE_EVERY_SECONDS = 20.0

    def __init__(self, log_path) -> None:
        self.console = Console(file=sys.stdout, width=console.width)
        self.log_path = log_path
        self._bars = Progress(
            TextColumn("{task.description}", table_column=Column(width=22)),
            BarColumn(bar_width=36),
            MofNCompleteColumn(),
            console=self.console,
        )
        self._steps = self._bars.add_task("steps", total=None)
        self._assets = self._bars.add_task("assets materialized", total=None)
        self._live = Live(
            self._render(None),
            console=self.console,
            refresh_per_second=4,
            redirect_stdout=False,
            redirect_stderr=True,
        )
        self._last_line = 0.0

    def __enter__(self) -> ProgressDisplay:
        if self.console.is_terminal:
            self._live.start()
        else:
            self.console.print(f"materializing every asset once… (dbt's output: {self.log_path})")
        return self

    def __exit__(self, *exc) -> None:
        if self.console.is_terminal:
            self._live.stop()

    def update(self, progress: RunProgress) -> None:
        if not self.console.is_terminal:
            if progress.finished or time.monotonic() - self._last_line >= self.LINE_EVERY_SECONDS:
                self._last_line = time.monotonic()
                self.console.print(progress.line())
            return
        self._live.update(self._render(progress))

    def _render(self, progress: RunProgress | None):
        if progress is None:
            return Group(Text("starting the run…"), self._bars)
        self._bars.update(self._steps, total=progress.steps_total, completed=progress.steps_done)
        self._bars.update(
            self._assets, total=progress.assets_total, completed=len(progress.assets_done)
        )
        checks = Text.assemble(
            ("checks ", "bold"),
            (f"{progress.checks_passed} passed", "green"),
            ", ",
            (f"{progress.checks_failed} failed", "red" if progress.checks_failed else ""),
            f" (of {progress.checks_total} declared)",
        )
        now = time.monotonic()
        running = ", ".join(
            f"{step} ({now - since:.0f} s)" for step, since in sorted(progress.running.items())
        )
        lines = [
            Text.assemble(
                ("materializing every asset once", "bold"), f" ({progress.elapsed:.0f} s)"
            ),
            self._bars,
            checks,
            Text.assemble(("running ", "bold"), running or "-"),
        ]
        if progress.steps_failed:
            lines.append(Text(f"{progress.steps_failed} steps failed", style="red"))
        if progress.last_asset:
            lines.append(Text.assemble(("last ", "bold"), progress.last_asset, style="dim"))
        lines.append(Text(f"dbt's output: {self.log_path}", style="dim"))
        return Group(*lines)


def materialize_all(
    on_progress: Callable[[RunProgress], None] | None = None, poll_seconds: float = 0.5
) -> tuple[bool, list[tuple[str, dict]], list[str]]:
    """Materialize every asset once into the Dagster instance (dagster-postgres).

    The run executes in a worker thread under a known run id; this thread reads the run's
    events from the instance as they are written and passes a RunProgress to
    ``on_progress`` every ``poll_seconds`` (and once at the end).

    Returns (success, [(asset key, metadata)], [failed step messages]).
    """
    import dagster as dg

    from dagster_project.definitions import defs

    definitions = defs()
    job = definitions.resolve_implicit_global_asset_job_def()
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    run_id = str(uuid.uuid4())  # Dagster's run ids are UUID4 strings
    outcome: dict[str, object] = {}

    def execute() -> None:
        try:
            with dg.DagsterInstance.get() as instance:
                outcome["result"] = job.execute_in_process(
                    instance=instance, run_id=run_id, raise_on_error=False, run_config=quiet
                )
        except BaseException as exc:  # re-raised in the calling thread
            outcome["error"] = exc

    progress = RunProgress(
        run_id=run_id,
        steps_total=len(job.graph.node_dict),
        assets_total=len(job.asset_layer.executable_asset_keys),
        checks_total=len(job.asset_layer.asset_graph.asset_check_keys),
    )
    worker = threading.Thread(target=execute, name=f"materialize-{run_id[:8]}", daemon=True)
    with dg.DagsterInstance.get() as instance:
        # storage is created (or migrated) here, before the worker opens its own instance:
        # two instances initializing fresh storage at once race on its schema
        instance.get_run_by_id(run_id)
        instance.get_records_for_run(run_id, limit=1)
        worker.start()
        try:
            while worker.is_alive():
                worker.join(poll_seconds)
                if on_progress is not None and worker.is_alive():
                    progress.read(instance)
                    on_progress(progress)
        except KeyboardInterrupt:
            # the worker thread dies with the process: record the run as canceled, not running
            run = instance.get_run_by_id(run_id)
            if run is not None and not run.is_finished:
                instance.report_run_canceled(run, message="interrupted (Ctrl-C) in distrohub demo")
            raise
        if on_progress is not None:
            progress.read(instance)
            progress.finished = True
            on_progress(progress)
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    result = outcome["result"]
    materialized = []
    for event in result.get_asset_materialization_events():
        mat = event.materialization
        meta = {k: getattr(v, "value", v) for k, v in mat.metadata.items()}
        materialized.append((mat.asset_key.to_user_string(), meta))
    failures = [
        f"{ev.step_key}: {_error_message(ev.event_specific_data.error)}"
        for ev in result.all_events
        if ev.is_step_failure and ev.event_specific_data and ev.event_specific_data.error
    ]
    return result.success, materialized, failures


def _error_message(error) -> str:
    """The error a step raised: Dagster's "error occurred while executing op" wrapper is
    replaced by what it wraps (a dg.Failure's description is kept as it is)."""
    if error.cls_name == "DagsterExecutionStepExecutionError" and error.cause is not None:
        error = error.cause
    return error.message.strip()


def _step(title: str, *args: str) -> None:
    console.rule(f"[bold]{title}")
    result = run_plugin(*args)
    if result.returncode != 0:
        err.print(
            f"[bold red]{title} failed[/] (`distrohub {' '.join(args)}`, exit "
            f"{result.returncode}); see its output above. `make stop` stops what started."
        )
        sys.exit(result.returncode)


@click.command()
@click.option("--seed", default=1, show_default=True, help="The sandbox world's seed.")
@click.option("--skus", default=50, show_default=True, help="Items in the sandbox world.")
@click.option("--orders-per-day", default=20, show_default=True)
@click.option("--days", default=3, show_default=True)
@click.option(
    "--scenario",
    type=click.Choice(("clean", "discrepancies")),
    default="clean",
    show_default=True,
    help="clean: every system agrees; discrepancies: planted differences to reconcile.",
)
def demo(seed: int, skus: int, orders_per_day: int, days: int, scenario: str) -> None:
    """Start everything on this machine and run the whole pipeline once."""
    started = time.monotonic()
    console.rule("distrohub demo")
    _start_hub_or_exit()
    world = [
        "--seed",
        str(seed),
        "--skus",
        str(skus),
        "--orders-per-day",
        str(orders_per_day),
        "--days",
        str(days),
        "--scenario",
        scenario,
    ]
    _step("sandbox systems (storefronts, WMS, 3PL, carrier, suppliers)", "sandbox", "up", *world)
    _step("the ERP (Tryton), seeded from the same world", "erp", "up", *world)
    settings.load_generated_environment()
    _set_world_clock()
    console.rule("[bold]the pipeline")
    log_path = settings.state_dir() / "demo-run.log"
    with log_path.open("w") as log, ProgressDisplay(log_path) as display:
        with contextlib.redirect_stdout(log):
            ok, materialized, failures = materialize_all(on_progress=display.update)
    console.print(summary_table(materialized))
    deliveries = delivery_table(materialized)
    if deliveries is not None:
        console.print(deliveries)
    console.rule("[bold]summary")
    console.print(closing_summary())
    for failure in failures:
        err.print(f"[red]failed[/] {failure}")
    console.print(
        f"{'[green]done' if ok else '[red]finished with failures'}[/] in "
        f"{time.monotonic() - started:.1f} s. Open the UI with [bold]make ui[/] "
        f"(http://{UI_HOST}:{_ui_port()}); stop everything with [bold]make stop[/]."
    )
    sys.exit(0 if ok else 1)


def closing_summary():
    """What the run achieved, read back from the hub (operations/summary.py)."""
    import psycopg

    from dagster_project.operations.summary import collect_summary, render_summary

    try:
        with psycopg.connect(settings.hub_urls().hub, connect_timeout=10) as conn:
            summary = collect_summary(conn)
    except psycopg.Error as exc:
        return f"[red]could not read the summary from the hub:[/] {exc}"
    return render_summary(summary, f"http://{UI_HOST}:{_ui_port()}")


COUNTS = ("read", "inserted", "updated", "unchanged", "quarantined")


def summary_table(materialized: list[tuple[str, dict]]) -> Table:
    """One row per system: streams landed and what became of their records."""
    per_system: dict[str, dict[str, int]] = {}
    others: list[str] = []
    for key, meta in materialized:
        if key.startswith("deliver/"):
            continue
        if not key.startswith("raw/"):
            others.append(key)
            continue
        system = key.removeprefix("raw/").split("__", 1)[0]
        row = per_system.setdefault(system, dict.fromkeys(("streams", *COUNTS), 0))
        row["streams"] += 1
        for name in COUNTS:
            row[name] += int(meta.get(name) or 0)
    table = Table(title="what the pipeline loaded")
    table.add_column("system", no_wrap=True)
    for name in ("streams", *COUNTS):
        table.add_column(name, justify="right")
    for system, row in sorted(per_system.items()):
        style = "yellow" if row["quarantined"] else None
        table.add_row(system, *(str(row[c]) for c in ("streams", *COUNTS)), style=style)
    if others:
        layers = Counter(key.split("/", 1)[0] if "/" in key else key for key in others)
        table.caption = "also materialized: " + ", ".join(
            f"{n} {layer}" if n > 1 else layer for layer, n in sorted(layers.items())
        )
    return table


#: (metadata key, column label) of each delivery's figures
DELIVERY_COUNTS = (
    ("records_added", "new"),
    ("records_changed", "changed"),
    ("records_held", "held"),
    ("messages_enqueued", "queued"),
    ("suppressed_loop", "in target"),
    ("delivered", "sent"),
    ("already_there", "existed"),
    ("retry_scheduled", "retry"),
    ("dead_letters", "dead"),
)


def delivery_table(materialized: list[tuple[str, dict]]) -> Table | None:
    """One row per publish target: what its gated delivery sent."""
    rows = [(k.removeprefix("deliver/"), m) for k, m in materialized if k.startswith("deliver/")]
    if not rows:
        return None
    table = Table(
        title="what the pipeline published (gated; ops.outbox)",
        caption="in target: already held by the system (loop suppression, not sent); "
        "existed: found there on a resend",
    )
    table.add_column("target", no_wrap=True)
    for _, label in DELIVERY_COUNTS:
        table.add_column(label, justify="right")
    for target, meta in sorted(rows):
        style = "yellow" if meta.get("dead_letters") else None
        table.add_row(target, *(str(meta.get(key, 0)) for key, _ in DELIVERY_COUNTS), style=style)
    return table


@click.command()
@click.option("--port", type=int, default=None, help="Port (default 3000, DISTROHUB_UI_PORT).")
@click.option(
    "--no-daemon",
    is_flag=True,
    help="Serve the UI only (dagster-webserver): no schedules, sensors or queued runs start, "
    "so what it shows stays as the last runs left it.",
)
def ui(port: int | None, no_daemon: bool) -> None:
    """Serve the Dagster UI on 127.0.0.1: `dagster dev` (the webserver and the daemon that
    runs the schedules and sensors), or with --no-daemon the webserver alone."""
    _start_hub_or_exit()
    port = port or _ui_port()
    name = "dagster-webserver" if no_daemon else "dagster"
    exe = shutil.which(name, path=os.path.dirname(sys.executable)) or shutil.which(name)
    if exe is None:
        err.print(f"[red]{name} not found in the venv: run `make install`[/]")
        sys.exit(1)
    what = "the UI alone, no daemon" if no_daemon else "the UI and the daemon"
    console.print(f"Dagster UI on http://{UI_HOST}:{port} ({what}; Ctrl-C stops it)")
    os.chdir(settings.REPO_ROOT)
    serve = ["-w", "workspace.yaml", "-h", UI_HOST, "-p", str(port)]
    os.execv(exe, [exe, *serve] if no_daemon else [exe, "dev", *serve])


@click.command()
def stop() -> None:
    """Stop everything the demo started (the ERP, the sandbox systems, the hub)."""
    for part in (("erp", "down"), ("sandbox", "down")):
        if run_plugin(*part).returncode != 0:
            err.print(f"[yellow]`distrohub {' '.join(part)}` did not finish cleanly[/]")
    try:
        console.print(f"hub: {stop_hub()}")
    except ClusterError as exc:
        err.print(f"[red]hub:[/] {exc}")
        sys.exit(1)


def _set_world_clock() -> None:
    """Business time for this run is the sandbox world's clock (DISTROHUB_AS_OF), unless the
    operator pinned one: ages, validity windows and SLAs are then measured in the world's time,
    not nine months after it. Feed ages stay on the hub's clock (macros/as_of.sql)."""
    if os.environ.get("DISTROHUB_AS_OF"):
        console.log(f"as of {os.environ['DISTROHUB_AS_OF']} (DISTROHUB_AS_OF, set by you)")
        return
    result = run_plugin("sandbox", "truth", "--sections", "clock", capture_output=True, text=True)
    if result.returncode != 0:
        err.print(
            "[bold red]sandbox clock unreadable[/] (`distrohub sandbox truth --sections clock`, "
            f"exit {result.returncode}): {result.stderr.strip() or result.stdout.strip()}"
        )
        sys.exit(result.returncode)
    now = json.loads(result.stdout)["clock"]["now"]
    os.environ["DISTROHUB_AS_OF"] = now
    console.log(f"as of {now}: the sandbox world's clock (DISTROHUB_AS_OF for this run)")


def run_plugin(*args: str, **options) -> subprocess.CompletedProcess:
    """Run another distrohub sub-command in its own process (keeps plugins decoupled);
    ``options`` go to subprocess.run (``capture_output=True, text=True`` to read its output)."""
    return subprocess.run(
        [sys.executable, "-m", "dagster_project.cli.main", *args],
        env=settings.operator_environment(),
        **options,
    )
