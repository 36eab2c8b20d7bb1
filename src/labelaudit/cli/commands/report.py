"""``labelaudit report``: the weekly quality report of a project, from its stored results."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from labelaudit.cli.app import app
from labelaudit.cli.common import DebugOpt
from labelaudit.cli.pages import ProvenanceMode, ProvenanceOpt


class ReportFormat(StrEnum):
    """File format of the report."""

    html = "html"
    markdown = "markdown"
    json = "json"


@app.command("report")
def report_command(
    out: Annotated[Path, typer.Option(help="Report file to write (e.g. report.html).")],
    since: Annotated[
        str | None, typer.Option(help="Batches ingested in this period, e.g. 7d, 4w, 12h.")
    ] = None,
    batch: Annotated[str | None, typer.Option(help="Only this batch.")] = None,
    all_batches: Annotated[bool, typer.Option("--all", help="Every batch.")] = False,
    project: Annotated[
        Path | None,
        typer.Option(help="Project folder (default: nearest parent holding labelaudit.toml)."),
    ] = None,
    output: Annotated[
        ReportFormat, typer.Option("--format", help="html, markdown or json.")
    ] = ReportFormat.html,
    provenance: ProvenanceOpt = ProvenanceMode.relative,
    debug: DebugOpt = False,
) -> None:
    """Write the quality report: the verdict on the latest batch, gates, agreement and gold
    control charts, the review plan's OC curve, annotator leaderboard, confused label pairs,
    adjudication queue and provenance.

    Default scope: the [report] period of labelaudit.toml (7d). Reads the results stored
    at ingest; recomputes nothing. Example: labelaudit report --all --out report.html
    """
    from labelaudit.exceptions import UsageError
    from labelaudit.pipeline_report import Scope, build_pipeline_report, write_pipeline_report
    from labelaudit.project import find_project

    chosen = [flag for flag, given in (("--since", since), ("--batch", batch)) if given]
    chosen += ["--all"] if all_batches else []
    if len(chosen) > 1:
        raise UsageError(f"choose one of --since, --batch, --all; got {' and '.join(chosen)}")
    mode = "all" if all_batches else "batch" if batch is not None else "since"
    found = find_project(project)
    report = build_pipeline_report(found, Scope(mode=mode, since=since, batch=batch))
    path = write_pipeline_report(
        report, out, format=output.value, full_paths=provenance == ProvenanceMode.full
    )
    typer.echo(f"Report written to {path.resolve()}")
