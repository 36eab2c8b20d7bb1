"""``labelaudit adjudicate``: queue tied and low-confidence items with every candidate label."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from labelaudit.cli.app import app
from labelaudit.cli.commands.agreement import TaskOpt
from labelaudit.cli.commands.annotators import SeedOpt
from labelaudit.cli.common import (
    AnnotatorColOpt,
    AnnotatorColsOpt,
    CategoricalMethod,
    CategoriesOpt,
    ControlOpt,
    DebugOpt,
    FileArg,
    FromOpt,
    IncludeModelsOpt,
    ItemColOpt,
    LabelColOpt,
    LabelConfigOpt,
    LayoutOpt,
    Level,
    LevelOpt,
    LsProjectOpt,
    LsUrlOpt,
    OnDuplicateOpt,
    PageFormat,
    PageFormatOpt,
    RawCsvOpt,
    TaskKeyOpt,
    TokenFileOpt,
    UsersOpt,
    export_options,
    read_task_table,
    server_target,
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
    control: ControlOpt = None,
    task_key: TaskKeyOpt = None,
    label_config: LabelConfigOpt = None,
    include_models: IncludeModelsOpt = False,
    users: UsersOpt = None,
    push: Annotated[
        bool, typer.Option(help="Create the review tasks in --ls-project through the API.")
    ] = False,
    ls_url: LsUrlOpt = None,
    ls_project: LsProjectOpt = None,
    token_file: TokenFileOpt = None,
    raw_csv: RawCsvOpt = False,
    task: TaskOpt = None,
    label_errors: Annotated[
        Path | None,
        typer.Option(
            help="JSON of labelaudit label-errors --out: its flagged items join the queue "
            "(reason label_error)."
        ),
    ] = None,
    debug: DebugOpt = False,
) -> None:
    """Queue the tied and low-confidence items, each with every annotator's label.

    Structured labels (--task spans|boxes|..., or what the export says): items whose voting
    consensus confidence is below --threshold, with every annotator's regions.

    With --label-config (or --push, which reads the review project's config), the Label
    Studio tasks are built and validated against that config.

    Example: labelaudit adjudicate labels.csv --threshold 0.7 --out queue.jsonl --label-studio
    """
    from labelaudit.exceptions import UsageError
    from labelaudit.quality import adjudication_queue, write_queue
    from labelaudit.quality.label_studio import export_label_studio, label_studio_path

    ls_path = label_studio_path(out, ls_out) if label_studio else None
    table = read_task_table(
        file,
        input_format,
        layout,
        item_col,
        annotator_col,
        label_col,
        annotator_cols,
        level,
        categories,
        on_duplicate,
        task=task.value if task else None,
        export=export_options(control, task_key, label_config, include_models, False, users),
    )
    if table.schema.is_structured:
        from labelaudit.quality.structured_queue import structured_adjudication_queue

        if label_studio and label_config is None and not push:
            raise UsageError(
                f"--label-studio needs --label-config (or --push) for {table.task} regions: "
                "they are written as native regions of the config's control"
            )
        queue = structured_adjudication_queue(table, threshold=threshold)
    else:
        queue = adjudication_queue(table, method=str(method), threshold=threshold, seed=seed)
    if label_errors is not None:
        from labelaudit.models.label_errors import read_label_issues
        from labelaudit.quality import with_label_errors

        queue = with_label_errors(queue, table, read_label_issues(label_errors))
    pushed = None
    if push or (ls_path is not None and label_config is not None):
        pushed = _review(
            queue, table, ls_path, label_config, control, push, ls_url, ls_project, token_file
        )
    elif ls_path is not None:
        fields = (ls_from_name, ls_to_name, text_col or [])
        export_label_studio(queue, table, ls_path, *fields)
    if out is not None:
        write_queue(queue, out, raw_csv=raw_csv)
    if out is None:
        for line in queue.jsonl_lines():
            typer.echo(line)
    summary = {**queue.summary(), "out": str(out) if out else None}
    summary["label_studio"] = str(ls_path) if ls_path else None
    if pushed is not None:
        summary["pushed"] = pushed
    emit_summary(queue, summary, output.value, table, text_col, err=out is None)


def _review(
    queue: Any,
    table: Any,
    ls_path: Path | None,
    label_config: Path | None,
    control: str | None,
    push: bool,
    ls_url: str | None,
    ls_project: int | None,
    token_file: Path | None,
) -> dict[str, Any] | None:
    """Review tasks validated against the label config; written and/or pushed."""
    from labelaudit.io import parse_label_config
    from labelaudit.quality.label_studio import write_label_studio
    from labelaudit.quality.label_studio_review import pick_control, review_tasks

    api = None
    if push:
        from labelaudit.io.label_studio_api import LabelStudioAPI, load_token

        url, project = server_target(ls_url, ls_project)
        api = LabelStudioAPI(url, load_token(token_file))
    try:
        if label_config is not None:
            config = parse_label_config(label_config)
        else:
            assert api is not None
            config = parse_label_config(api.project(project)["label_config"])
        tasks = review_tasks(queue, table, config, pick_control(config, table.task, control))
        if ls_path is not None:
            write_label_studio(tasks, ls_path)
        if api is None:
            return None
        created = api.import_tasks(project, tasks)
        return {"ls_url": api.url, "ls_project": project, "n_tasks": created}
    finally:
        if api is not None:
            api.close()


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
    pushed = summary.get("pushed")
    if pushed and output != "json":  # JSON: the summary's "pushed" says it
        typer.echo(
            f"pushed {pushed['n_tasks']} review tasks to {pushed['ls_url']} project "
            f"{pushed['ls_project']}",
            err=True,
        )
