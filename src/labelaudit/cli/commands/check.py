"""``labelaudit check``: the quality gates on a stored batch; exit 0 pass, 1 fail, 2 error."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from labelaudit.cli.app import app
from labelaudit.cli.common import DebugOpt
from labelaudit.cli.pages import OutOpt, PageFormat, PageFormatOpt, emit_document


@app.command("check")
def check_command(
    batch: Annotated[str | None, typer.Option(help="Batch name (default: the latest).")] = None,
    project: Annotated[
        Path | None,
        typer.Option(help="Project folder (default: nearest parent holding labelaudit.toml)."),
    ] = None,
    output: PageFormatOpt = PageFormat.table,
    out: OutOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Evaluate the [[gates]] of labelaudit.toml on a batch; POST the result to [alert] url.

    Prints the verdict first (which gates failed, by how much), then one row per gate.
    Exit code 0 when every gate passes, 1 when one fails, 2 on a usage error or an empty
    store. Example: labelaudit check --batch 2024-w17 --format json
    """
    from labelaudit.project import find_project
    from labelaudit.project.check import check_project, send_alert
    from labelaudit.project.documents import check_document

    found = find_project(project)
    result = send_alert(found, check_project(found, batch=batch))
    report = result.to_dict()
    emit_document(check_document(report), report, output, out)
    if result.alert is not None and not result.alert.sent:
        typer.echo(f"warning: alert to {result.alert.url} failed: {result.alert.error}", err=True)
    raise typer.Exit(code=result.exit_code)
