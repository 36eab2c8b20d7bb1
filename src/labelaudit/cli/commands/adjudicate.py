"""``labelaudit adjudicate``: queue tied and low-confidence items with every candidate label."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from labelaudit.cli.app import app
from labelaudit.cli.commands.agreement import Task, TaskOpt
from labelaudit.cli.commands.annotators import SeedOpt
from labelaudit.cli.common import (
    AnnotatorColOpt,
    AnnotatorColsOpt,
    CategoricalMethod,
    CategoriesOpt,
    DebugOpt,
    FileArg,
    FromOpt,
    ItemColOpt,
    LabelColOpt,
    LayoutOpt,
    Level,
    LevelOpt,
    OnDuplicateOpt,
    PageFormat,
    PageFormatOpt,
    RawCsvOpt,
    read_table,
)


@app.command("adjudicate")
def adjudicate_command(
    file: FileArg,
    method: Annotated[
        CategoricalMethod, typer.Option(help="Aggregator giving consensus and confidence.")
    ] = CategoricalMethod("dawid-skene"),
    threshold: Annotated[float, typer.Option(help="Queue items with confidence below this.")] = 0.7,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Write the queue here: .csv, .tsv, .parquet, else JSONL (default: stdout)."
        ),
    ] = None,
    label_studio: Annotated[
        bool, typer.Option(help="Also write a Label Studio import file (JSON array of tasks).")
    ] = False,
    ls_out: Annotated[
        Path | None,
        typer.Option(help="Label Studio file (default: OUT with suffix .label-studio.json)."),
    ] = None,
    ls_from_name: Annotated[str, typer.Option(help="Name of the <Choices> control.")] = "label",
    ls_to_name: Annotated[str, typer.Option(help="Name of the object it labels.")] = "text",
    text_col: Annotated[
        list[str] | None, typer.Option(help="Column copied into each task's data (repeat).")
    ] = None,
    seed: SeedOpt = 0,
    output: PageFormatOpt = PageFormat.table,
    input_format: FromOpt = None,
    layout: LayoutOpt = "long",
    item_col: ItemColOpt = None,
    annotator_col: AnnotatorColOpt = None,
    label_col: LabelColOpt = None,
    annotator_cols: AnnotatorColsOpt = None,
    level: LevelOpt = Level.nominal,
    categories: CategoriesOpt = None,
    on_duplicate: OnDuplicateOpt = "error",
    raw_csv: RawCsvOpt = False,
    task: TaskOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Queue the tied and low-confidence items, each with every annotator's label.

    Structured labels (--task spans|boxes|..., or what the export says): items whose voting
    consensus confidence is below --threshold, with every annotator's regions.

    Example: labelaudit adjudicate labels.csv --threshold 0.7 --out queue.jsonl --label-studio
    """
    from labelaudit.exceptions import UsageError
    from labelaudit.quality import adjudication_queue, write_queue
    from labelaudit.quality.label_studio import export_label_studio, label_studio_path
    from labelaudit.structured.api import as_task

    structured = task is not None and task is not Task.categorical
    ls_path = label_studio_path(out, ls_out) if label_studio else None
    table = read_table(
        file,
        input_format,
        layout,
        item_col,
        annotator_col,
        label_col,
        annotator_cols,
        level,
        None if structured else categories,
        on_duplicate,
        task=task.value if structured and task else None,
    )
    table = as_task(table, task.value if task else None, categories if structured else None)
    if table.schema.is_structured:
        from labelaudit.quality.structured_queue import structured_adjudication_queue

        if label_studio:
            raise UsageError(
                f"--label-studio writes choice tasks; {table.task} regions are in the "
                "queue's candidates[].regions (write them with --out)"
            )
        queue = structured_adjudication_queue(table, threshold=threshold)
    else:
        queue = adjudication_queue(table, method=str(method), threshold=threshold, seed=seed)
    if ls_path is not None:
        fields = (ls_from_name, ls_to_name, text_col or [])
        export_label_studio(queue, table, ls_path, *fields)
    if out is not None:
        write_queue(queue, out, raw_csv=raw_csv)
    if out is None:
        for line in queue.jsonl_lines():
            typer.echo(line)
    summary = {**queue.summary(), "out": str(out) if out else None}
    summary["label_studio"] = str(ls_path) if ls_path else None
    emit_summary(queue, summary, output.value, table, text_col, err=out is None)


def emit_summary(
    queue: Any,
    summary: dict[str, Any],
    output: str,
    table: Any,
    text_col: list[str] | None,
    *,
    err: bool,
) -> None:
    """Print the queue's document (or its JSON summary) on stdout, or on stderr when the
    queue itself streams to stdout."""
    from labelaudit.quality import item_details
    from labelaudit.report.builders_quality import adjudication_document
    from labelaudit.report.format import emit_document

    data = queue.to_dict()
    details = item_details(
        table, [e["item"] for e in data["items"]], text_col=text_col[0] if text_col else None
    )
    files = [summary[k] for k in ("out", "label_studio") if summary[k] is not None]
    document = adjudication_document(data, details=details, files=files)
    emit_document(summary, document, output, err=err)
