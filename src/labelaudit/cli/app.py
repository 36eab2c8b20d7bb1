"""The ``labelaudit`` command line: a thin shell over the library.

Each command lives in its own module under :mod:`labelaudit.cli.commands` and registers
itself on :data:`app`; every module there is imported at start-up. A command parses
options, calls one library function and renders its result. Exit codes: 0 = ran (and every
quality gate passed), 1 = a quality gate failed, 2 = usage error or unreadable / invalid
input (one line on stderr; the traceback with --debug). Heavy modules are imported inside
the command functions so that ``labelaudit --help`` stays fast.
"""

from __future__ import annotations

import pkgutil
import sys
from importlib import import_module
from typing import Annotated

import typer

from labelaudit import __version__

app = typer.Typer(
    name="labelaudit",
    help="Quality control for annotation data: agreement, diagnostics and reports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"labelaudit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """labelaudit: exact, fast inter-annotator agreement and annotation quality control."""


def _register_commands() -> None:
    """Import every module of :mod:`labelaudit.cli.commands` (each adds its command)."""
    from labelaudit.cli import commands

    for module in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        import_module(f"{commands.__name__}.{module.name}")


_register_commands()


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        sys.exit(130)
