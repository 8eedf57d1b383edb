"""What a benchmark measured: figures with units and targets, printed, saved as JSON and a plot."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table


@dataclass
class Figure:
    """One measured number.

    ``target`` is the goal as text ("≥ 5× dlt", "≤ 120 s"); ``met`` is whether the figure
    reaches it (None: the figure has no target of its own).
    """

    name: str
    value: float | int | None
    unit: str
    target: str = ""
    met: bool | None = None
    note: str = ""


@dataclass
class Measurement:
    key: str  # "ingest", "rebuild", ...
    title: str
    params: dict[str, Any] = field(default_factory=dict)
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None  # the measurement could not complete: why, and what to do

    def add(
        self, name: str, value, unit: str, target: str = "", met: bool | None = None, note: str = ""
    ) -> Figure:
        fig = Figure(name, value, unit, target, met, note)
        self.figures.append(fig)
        return fig

    def figure(self, name: str) -> Figure | None:
        return next((f for f in self.figures if f.name == name), None)


def machine() -> dict[str, Any]:
    """The machine the figures came from."""
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        info["memory_gib"] = round(pages / 2**30, 1)
    except (ValueError, OSError):
        pass
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
            cwd=Path(__file__).resolve().parents[1],
        )
        if out.returncode == 0:
            info["commit"] = out.stdout.strip()
    except OSError:
        pass
    return info


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        if abs(value) >= 100:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:,.1f}"
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def print_table(measurements: list[Measurement], console: Console) -> None:
    table = Table(title="distrohub bench", show_lines=False)
    for col, justify in (
        ("measurement", "left"),
        ("figure", "left"),
        ("value", "right"),
        ("unit", "left"),
        ("target", "left"),
        ("", "left"),
    ):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for m in measurements:
        if m.error:
            table.add_row(m.title, "[red]did not complete[/]", "", "", "", m.error[:120])
            continue
        for i, f in enumerate(m.figures):
            mark = {True: "[green]met[/]", False: "[red]missed[/]", None: ""}[f.met]
            table.add_row(m.title if i == 0 else "", f.name, _fmt(f.value), f.unit, f.target, mark)
        table.add_section()
    console.print(table)
    for m in measurements:
        for note in m.notes:
            console.print(f"[dim]{m.key}:[/] {note}")


def save(measurements: list[Measurement], scale: dict[str, Any], out_dir: Path) -> dict[str, Path]:
    """``<stamp>.json``, ``latest.json`` and ``latest.png`` in ``out_dir``; their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    doc = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "scale": scale,
        "measurements": [asdict(m) for m in measurements],
    }
    text = json.dumps(doc, indent=2, default=str) + "\n"
    paths = {
        "json": out_dir / f"{stamp}.json",
        "latest": out_dir / "latest.json",
        "png": out_dir / "latest.png",
    }
    for key in ("json", "latest"):
        tmp = paths[key].with_suffix(".json.tmp")
        tmp.write_text(text)
        tmp.replace(paths[key])
    plot(measurements, doc["machine"], paths["png"])
    return paths


def plot(measurements: list[Measurement], machine_info: dict[str, Any], path: Path) -> None:
    """One panel per measurement: its figures that share the panel's main unit, as bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [
        m
        for m in measurements
        if not m.error and any(isinstance(f.value, int | float) for f in m.figures)
    ]
    if not panels:
        panels_n = 1
    else:
        panels_n = len(panels)
    fig, axes = plt.subplots(panels_n, 1, figsize=(9, 2.6 * panels_n + 0.6), squeeze=False)
    for ax, m in zip(axes[:, 0], panels, strict=False):
        numeric = [f for f in m.figures if isinstance(f.value, int | float)]
        unit = numeric[0].unit
        shown = [f for f in numeric if f.unit == unit]
        colors = ["#2e7d32" if f.met else "#c62828" if f.met is False else "#546e7a" for f in shown]
        ax.barh([f.name for f in shown], [float(f.value) for f in shown], color=colors)
        for y, f in enumerate(shown):
            label = _fmt(f.value) + (f"  (target {f.target})" if f.target else "")
            ax.text(float(f.value), y, " " + label, va="center", fontsize=8)
        ax.set_title(f"{m.title} [{unit}]", fontsize=10, loc="left")
        ax.invert_yaxis()
        ax.tick_params(labelsize=8)
        ax.margins(x=0.35)
    if not panels:
        axes[0, 0].text(0.5, 0.5, "no measurement completed", ha="center")
    cpu = machine_info.get("cpu", "")
    fig.suptitle(
        f"distrohub bench — {machine_info.get('cpus')} CPUs {cpu}, "
        f"{machine_info.get('memory_gib')} GiB",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
