"""The `distrohub` command line: a click group whose sub-commands are plugged in.

Each sub-command group is declared as an entry point in the
``distrohub.commands`` group (pyproject.toml), so the product never imports the
sandbox package, and a missing optional part says so instead of breaking the
whole command line.
"""

from __future__ import annotations

import sys
from importlib.metadata import entry_points

import click
from rich.console import Console

err = Console(stderr=True)


class PluginGroup(click.Group):
    """A click group that finds its sub-commands through entry points."""

    def _plugins(self) -> dict:
        return {ep.name: ep for ep in entry_points(group="distrohub.commands")}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self._plugins()))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name)
        if command is not None:
            return command
        ep = self._plugins().get(name)
        if ep is None:
            return None
        try:
            return ep.load()
        except ImportError as exc:  # a part that is not installed must not break the rest
            return _unavailable(name, ep.value, exc)


def _unavailable(name: str, target: str, exc: Exception) -> click.Command:
    reason = f"cannot load {target}: {exc}"

    @click.command(
        name, help=f"(unavailable: {reason})", context_settings={"ignore_unknown_options": True}
    )
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def command(args: tuple[str, ...]) -> None:
        err.print(f"[red]distrohub {name}[/]: {reason}. Re-run `make install` to repair the venv.")
        sys.exit(2)

    return command


@click.group(cls=PluginGroup, context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """distrohub: the integration hub between ERP, storefronts, warehouses, 3PL,
    carriers and EDI suppliers."""


def main() -> None:
    try:
        cli(standalone_mode=True)
    except KeyboardInterrupt:
        err.print("[yellow]interrupted[/]")
        sys.exit(130)


if __name__ == "__main__":
    main()
