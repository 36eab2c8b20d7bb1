"""``labelaudit check``: the quality gates on a stored batch; exit 0 pass, 1 fail, 2 error."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from labelaudit.cli.app import app
from labelaudit.cli.common import DebugOpt
from labelaudit.cli.pages import OutOpt, PageFormat, emit_document


class CheckFormat(StrEnum):
    """The page formats, plus the CI shapes of :mod:`labelaudit.project.gate_formats`."""

    table = "table"
    markdown = "markdown"
    json = "json"
    html = "html"
    junit = "junit"
    github = "github"
    gx = "gx"


CheckFormatOpt = Annotated[
    CheckFormat,
    typer.Option(
        "--format",
        help="table (terminal), markdown, json, html; junit (JUnit XML), github (Markdown "
        "job summary), gx (Great Expectations validation result JSON).",
    ),
]


@app.command("check")
def check_command(
    batch: Annotated[str | None, typer.Option(help="Batch name (default: the latest).")] = None,
    project: Annotated[
        Path | None,
        typer.Option(help="Project folder (default: nearest parent holding labelaudit.toml)."),
    ] = None,
    output: CheckFormatOpt = CheckFormat.table,
    out: OutOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Evaluate the [[gates]] of labelaudit.toml on a batch; POST the result to [alert] url.

    Prints the verdict first (which gates failed, by how much), then one row per gate.
    Exit code 0 when every gate passes, 1 when one fails, 2 on a usage error or an empty
    store. --format junit writes one JUnit testcase per gate (a <failure> per failed gate)
    for CI test reports. Example: labelaudit check --batch 2024-w17 --format junit --out gates.xml
    """
    from labelaudit.project import find_project
    from labelaudit.project.check import check_project, send_alert
    from labelaudit.project.documents import check_document

    found = find_project(project)
    result = send_alert(found, check_project(found, batch=batch))
    report = result.to_dict()
    if output in (CheckFormat.junit, CheckFormat.github, CheckFormat.gx):
        _emit_ci(report, output, out)
    else:
        emit_document(check_document(report), report, PageFormat(output.value), out)
    if result.alert is not None and not result.alert.sent:
        typer.echo(f"warning: alert to {result.alert.url} failed: {result.alert.error}", err=True)
    raise typer.Exit(code=result.exit_code)


def _emit_ci(report: dict[str, Any], output: CheckFormat, out: Path | None) -> None:
    """Print (or write to ``out``) the check result as JUnit XML, Markdown or GX JSON."""
    import json

    from labelaudit.exceptions import UsageError
    from labelaudit.project.gate_formats import check_github, check_gx, check_junit
    from labelaudit.report.format import write_output_file

    if output == CheckFormat.junit:
        content = check_junit(report)
    elif output == CheckFormat.github:
        content = check_github(report)
    else:
        content = json.dumps(check_gx(report), indent=2, ensure_ascii=False) + "\n"
    if out is None:
        typer.echo(content, nl=False)
        return
    if not out.parent.is_dir():
        raise UsageError(f"--out {out}: the folder {out.parent} does not exist")
    write_output_file(out, content)
