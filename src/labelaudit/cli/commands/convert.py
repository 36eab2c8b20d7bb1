"""``labelaudit convert``: an annotation-platform export -> the canonical table file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from labelaudit.cli.app import app
from labelaudit.cli.common import (
    ControlOpt,
    DebugOpt,
    IncludeModelsOpt,
    InputFormat,
    LabelConfigOpt,
    RawCsvOpt,
    TaskKeyOpt,
    UsersOpt,
    export_options,
)


@app.command("convert")
def convert_command(
    files: Annotated[
        list[Path],
        typer.Argument(help="Export file(s); several Label Studio projects merge on --task-key."),
    ],
    out: Annotated[Path, typer.Option("--out", help="Output: .csv, .tsv, .jsonl or .parquet.")],
    input_format: Annotated[
        InputFormat | None,
        typer.Option("--from", help="Export format (default: detected)."),
    ] = None,
    task_key: TaskKeyOpt = None,
    control: ControlOpt = None,
    task: Annotated[
        str | None, typer.Option(help="Force the task type (multilabel, ranking, text, ...).")
    ] = None,
    label_config: LabelConfigOpt = None,
    include_models: IncludeModelsOpt = False,
    users: UsersOpt = None,
    on_duplicate: Annotated[
        str, typer.Option(help="error or keep-last for a repeated (item, annotator).")
    ] = "error",
    raw_csv: RawCsvOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Read an annotation-platform export and write the canonical table; print the read report.

    Example: labelaudit convert export.json --out labels.parquet --control sentiment
    """
    from labelaudit.io import read_export, write_table

    table, report = read_export(
        files if len(files) > 1 else files[0],
        from_=input_format.value if input_format else None,
        task=task,
        on_duplicate=on_duplicate,
        **export_options(
            control, task_key, label_config, include_models, False, users
        ).read_kwargs(),
    )
    written = write_table(table, out, raw_csv=raw_csv)
    typer.echo(report.to_text())
    typer.echo(f"wrote {written} ({table.n_ratings} rows, task {table.task})")
