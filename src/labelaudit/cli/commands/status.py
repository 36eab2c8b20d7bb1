"""``labelaudit status``: the batches of a project and its rejected rows."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from labelaudit.cli.app import app
from labelaudit.cli.common import DebugOpt, FormatOpt, OutputFormat


@app.command("status")
def status_command(
    project: Annotated[
        Path | None,
        typer.Option(help="Project folder (default: nearest parent holding labelaudit.toml)."),
    ] = None,
    output: FormatOpt = OutputFormat.table,
    debug: DebugOpt = False,
) -> None:
    """List the project's batches (name, size, sha256, ingest time) and rejected rows.

    Example: labelaudit status --format json
    """
    from labelaudit.project import find_project, project_status

    report = project_status(find_project(project))
    if output == OutputFormat.json:
        import json

        typer.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    elif output == OutputFormat.markdown:
        typer.echo(render_markdown(report.to_dict()))
    else:
        render_status(report.to_dict())


def render_markdown(status: dict[str, Any]) -> str:
    """The status as a Markdown table (user content escaped as in every Markdown writer)."""
    from labelaudit.report.format import escape_markdown as cell

    lines = [
        "| batch | annotations | items | annotators | rejected | ingested (UTC) | sha256 |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    lines.extend(
        f"| {cell(b['name'])} | {b['n_annotations']} | {b['n_items']} | "
        f"{b['n_annotators']} | {b['n_rejected']} | {b['ingested_at']} | {b['sha256'][:12]} |"
        for b in status["batches"]
    )
    lines.append(f"\nRejected rows kept in the store: {status['rejected_rows']}")
    return "\n".join(lines)


def render_status(status: dict[str, Any]) -> None:
    """The status document on the terminal."""
    import shutil

    from labelaudit.report.builders import status_document
    from labelaudit.report.document import render_document

    width = shutil.get_terminal_size((80, 24)).columns
    typer.echo(render_document(status_document(status), "table", width=width), nl=False)
