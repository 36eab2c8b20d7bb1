"""``labelaudit status``: the batches of a project and its rejected rows."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from labelaudit.cli.app import app
from labelaudit.cli.common import DebugOpt
from labelaudit.cli.pages import (
    OutOpt,
    PageFormat,
    PageFormatOpt,
    ProvenanceMode,
    ProvenanceOpt,
    emit_document,
)


@app.command("status")
def status_command(
    project: Annotated[
        Path | None,
        typer.Option(help="Project folder (default: nearest parent holding labelaudit.toml)."),
    ] = None,
    output: PageFormatOpt = PageFormat.table,
    out: OutOpt = None,
    provenance: ProvenanceOpt = ProvenanceMode.relative,
    debug: DebugOpt = False,
) -> None:
    """List the project's batches (name, size, sha256, ingest time) and rejected rows.

    Example: labelaudit status --format json
    """
    from labelaudit.project import find_project, project_status
    from labelaudit.project.documents import status_document

    report = project_status(find_project(project)).to_dict()
    document = status_document(report, full_paths=provenance == ProvenanceMode.full)
    emit_document(document, report, output, out)
