"""``labelaudit ingest``: validate a batch file and store it with its per-batch results."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from labelaudit.cli.app import app
from labelaudit.cli.common import (
    PLATFORM_FORMATS,
    AnnotatorColOpt,
    AnnotatorColsOpt,
    ControlOpt,
    DebugOpt,
    FileArg,
    FromOpt,
    GuidelinesVersionOpt,
    IncludeModelsOpt,
    ItemColOpt,
    LabelColOpt,
    LabelConfigOpt,
    NaValuesOpt,
    TaskKeyOpt,
    UsersOpt,
    export_options,
)
from labelaudit.cli.pages import (
    OutOpt,
    PageFormat,
    PageFormatOpt,
    ProvenanceMode,
    ProvenanceOpt,
    emit_document,
)

if TYPE_CHECKING:
    from labelaudit.io import ExportOptions
    from labelaudit.project import Project
    from labelaudit.table import AnnotationTable

ProjectOpt = Annotated[
    Path | None,
    typer.Option(help="Project folder (default: nearest parent holding labelaudit.toml)."),
]


@app.command("ingest")
def ingest_command(
    file: FileArg,
    batch: Annotated[str, typer.Option(help="Batch name (e.g. 2024-w17).")],
    project: ProjectOpt = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Let the batch name take new content.")
    ] = False,
    max_rejects: Annotated[
        int, typer.Option(help="Store the valid rows if at most N rows are invalid.")
    ] = 0,
    input_format: FromOpt = None,
    layout: Annotated[
        str | None, typer.Option(help="long or wide (default: \\[input] layout).")
    ] = None,
    item_col: ItemColOpt = None,
    annotator_col: AnnotatorColOpt = None,
    label_col: LabelColOpt = None,
    annotator_cols: AnnotatorColsOpt = None,
    control: ControlOpt = None,
    task_key: TaskKeyOpt = None,
    label_config: LabelConfigOpt = None,
    include_models: IncludeModelsOpt = False,
    users: UsersOpt = None,
    na_values: NaValuesOpt = None,
    guidelines_version: GuidelinesVersionOpt = None,
    output: PageFormatOpt = PageFormat.table,
    out: OutOpt = None,
    provenance: ProvenanceOpt = ProvenanceMode.relative,
    debug: DebugOpt = False,
) -> None:
    """Validate FILE against the project's schema and store it as batch NAME.

    Atomic and idempotent: the same content again (under any name) is a no-op; any
    invalid row fails the ingest (exit 2) unless --max-rejects allows it.

    Example: labelaudit ingest week17.csv --batch 2024-w17
    """
    from labelaudit.guidelines.project import batch_version_recorder
    from labelaudit.project import ReadOptions, find_project, ingest_batch
    from labelaudit.project.documents import ingest_document

    found = find_project(project)
    record_version = batch_version_recorder(found, batch, guidelines_version)
    export = export_options(control, task_key, label_config, include_models, False, users)
    table, input_format = _platform_export(found, file, input_format, export)
    options = ReadOptions.from_config(
        found,
        format=input_format.value if input_format else None,
        layout=layout,
        item_col=item_col,
        annotator_col=annotator_col,
        label_col=label_col,
        annotator_cols=annotator_cols,
        na_values=na_values,
    )
    with _spinner() as show:
        result = ingest_batch(
            found,
            file,
            batch=batch,
            replace_batch=replace,
            max_rejects=max_rejects,
            options=options,
            progress=show,
            table=table,
            on_commit=record_version,
        )
    report = result.to_dict()
    document = ingest_document(report, full_paths=provenance == ProvenanceMode.full)
    emit_document(document, report, output, out)


def _platform_export(
    project: Project, file: Path, input_format: Any, export: ExportOptions
) -> tuple[AnnotationTable | None, Any]:
    """An annotation-platform export read as ``agreement`` reads it (None for a table).

    Returns the table (or None) and the format left for the table reader (None once the
    export is read).
    """
    from labelaudit.io import detect_format, read_export

    if input_format is not None and input_format.value not in PLATFORM_FORMATS:
        return None, input_format
    platform = input_format.value if input_format is not None else detect_format(file)
    if platform is None or platform == "canonical":
        return None, input_format
    table, _ = read_export(
        file,
        from_=platform,
        **export.read_kwargs(),
        level=project.config.task.level,
        categories=project.config.task.categories,
    )
    return table, None


@contextmanager
def _spinner() -> Iterator[Callable[[str], None]]:
    """A stage spinner on stderr when it is a terminal; silent otherwise (without
    importing rich: a pipe or a file gets no spinner)."""
    if not sys.stderr.isatty():
        yield lambda stage: None
        return
    from rich.console import Console

    console = Console(stderr=True)
    if not console.is_terminal:
        yield lambda stage: None
        return
    with console.status("ingest: opening the store") as status:
        yield lambda stage: status.update(f"ingest: {stage}")
