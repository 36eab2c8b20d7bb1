"""The ``labelaudit`` command line: a thin shell over the library.

Each command lives in its own module under :mod:`labelaudit.cli.commands` and registers
itself on :data:`app`; every module there is imported at start-up. A command parses
options, calls one library function and renders its result. Exit codes: 0 = ran (and every
quality gate passed), 1 = a quality gate failed, 2 = usage error or unreadable / invalid
input (one line on stderr; the traceback with --debug). Heavy modules are imported inside
the command functions so that ``labelaudit --help`` stays fast.
"""

from __future__ import annotations

import copy
import functools
import pkgutil
import sys
from collections.abc import Callable, Sequence
from importlib import import_module
from typing import Annotated, Any

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


def guarded(callback: Callable[..., Any]) -> Callable[..., Any]:
    """``callback`` with the CLI's one error rule: the only place that turns errors into exits.

    A :class:`~labelaudit.exceptions.LabelAuditError` (bad input, bad usage) or an
    :class:`OSError` (unreadable or unwritable file, a directory given as output, a full
    disk) becomes one ``error:`` line on stderr and exit code 2; with ``--debug`` the
    traceback is printed too. A failed quality gate is a result, not an error: commands
    exit 1 for it themselves.
    """
    from labelaudit.exceptions import LabelAuditError

    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return callback(*args, **kwargs)
        except (LabelAuditError, OSError) as error:
            from labelaudit.cli.common import fail

            raise fail(error, bool(kwargs.get("debug"))) from None

    return run


def _guard_all(typer_app: typer.Typer) -> None:
    """Wrap every registered command (sub-apps included) in :func:`guarded`.

    Help texts are escaped for Rich markup here too, so ``[[gates]]``, ``[alert]`` and
    ``[report]`` in a docstring are shown as written instead of being eaten as markup.
    """
    import inspect

    from rich.markup import escape

    for info in typer_app.registered_commands:
        if info.callback is not None:
            if info.help is None and info.callback.__doc__:
                info.help = escape(inspect.cleandoc(info.callback.__doc__))
            info.callback = guarded(info.callback)
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            _guard_all(group.typer_instance)


_register_commands()
_guard_all(app)


def selected(argv: Sequence[str]) -> typer.Typer:
    """:data:`app`, or a copy holding only the command or group that ``argv`` names first.

    Typer builds the Click object of every command (each option's type resolved from its
    annotation) before it parses anything: 0.12-0.16 s (measured on a loaded machine) for
    the ~40 commands a run never uses. The copy keeps the root callback, so parsing,
    ``COMMAND --help`` and every error message are the same. Root options (``--help``,
    ``--version``) and unknown names get the whole app, so the command list and its "did
    you mean" suggestions are unchanged.
    """
    name = argv[0] if argv else None
    commands = [info for info in app.registered_commands if info.name == name]
    groups = [info for info in app.registered_groups if info.name == name]
    if not (commands or groups):
        return app
    only = copy.copy(app)
    only.registered_commands, only.registered_groups = commands, groups
    return only


def main() -> None:
    """Console-script entry point."""
    from labelaudit.cli.memory import keep_freed_memory
    from labelaudit.cli.startup import defer_pandas

    if sys.argv[1:2] != ["serve"]:  # a command ends within seconds; the server runs on
        keep_freed_memory()
    defer_pandas()
    try:
        selected(sys.argv[1:])()
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        sys.exit(130)
