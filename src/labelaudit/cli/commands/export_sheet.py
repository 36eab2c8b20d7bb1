"""``labelaudit export-sheet``: a stored batch's annotator table and adjudication queue for
Google Sheets, Excel or Airtable (flat XLSX or CSV, formula-safe)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from labelaudit.cli.app import app
from labelaudit.cli.common import DebugOpt


@app.command("export-sheet")
def export_sheet_command(
    out: Annotated[Path, typer.Option("--out", help="The .xlsx workbook or .csv file to write.")],
    table: Annotated[
        list[str] | None,
        typer.Option(help="annotators or queue (repeat; default: both, one sheet each)."),
    ] = None,
    batch: Annotated[str | None, typer.Option(help="Batch name (default: the latest).")] = None,
    project: Annotated[
        Path | None,
        typer.Option(help="Project folder (default: nearest parent holding labelaudit.toml)."),
    ] = None,
    sheet_format: Annotated[
        str | None,
        typer.Option("--format", help="xlsx or csv (default: from the --out extension)."),
    ] = None,
    debug: DebugOpt = False,
) -> None:
    """Write the annotator table and the adjudication queue of a batch as flat sheets:
    one header row, ISO 8601 dates, numbers as numbers, no formula in any cell. XLSX holds
    one sheet per table; CSV with two tables writes OUT-annotators.csv and OUT-queue.csv.

    Example: labelaudit export-sheet --out week17.xlsx --batch 2024-w17
    """
    from labelaudit.exceptions import UsageError
    from labelaudit.project import find_project
    from labelaudit.project.sheets import SHEET_TABLES, project_sheets
    from labelaudit.sheets import write_sheet

    if not out.parent.is_dir():
        raise UsageError(f"--out {out}: the folder {out.parent} does not exist")
    sheets = project_sheets(find_project(project), batch=batch, tables=table or SHEET_TABLES)
    for path in write_sheet(sheets, out, format=sheet_format):
        typer.echo(f"wrote {path}", err=True)
