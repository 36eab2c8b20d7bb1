"""``labelaudit consensus``: one label per item from many (majority vote, Dawid-Skene, ...)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from labelaudit.cli.app import app
from labelaudit.cli.commands.agreement import Task, TaskOpt
from labelaudit.cli.common import (
    AnnotatorColOpt,
    AnnotatorColsOpt,
    CategoriesOpt,
    ConsensusMethod,
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
    OnDuplicateOpt,
    PageFormat,
    PageFormatOpt,
    RawCsvOpt,
    TaskKeyOpt,
    UsersOpt,
    export_options,
    read_table,
)


class Tie(StrEnum):
    """Tie rule of the vote-based methods."""

    random = "random"
    abstain = "abstain"


@app.command("consensus")
def consensus_command(
    file: FileArg,
    method: Annotated[
        ConsensusMethod | None,
        typer.Option(
            help="Aggregation method (default: dawid-skene; majority for structured labels, "
            "which take majority or weighted only)."
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Write item,label,confidence here (.csv, .jsonl or .parquet)."),
    ] = None,
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
    task: TaskOpt = None,
    min_votes: Annotated[
        float | None,
        typer.Option(
            help="Structured voting: vote weight a label/span/box needs (default: majority)."
        ),
    ] = None,
    iou: Annotated[
        float | None, typer.Option(help="Boxes: IoU that links boxes into one object (0.5).")
    ] = None,
    control: ControlOpt = None,
    task_key: TaskKeyOpt = None,
    label_config: LabelConfigOpt = None,
    include_models: IncludeModelsOpt = False,
    users: UsersOpt = None,
    weights_file: Annotated[
        Path | None, typer.Option(help="annotator,weight CSV for --method weighted.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed (ties, MACE restarts).")] = 0,
    max_iter: Annotated[int | None, typer.Option(help="Maximum EM iterations.")] = None,
    tol: Annotated[
        float | None, typer.Option(help="EM stops below this relative log-likelihood change.")
    ] = None,
    tie: Annotated[
        Tie | None, typer.Option(help="Vote ties: random (seeded) or abstain (null label).")
    ] = None,
    proportion: Annotated[
        float | None, typer.Option(help="trimmed-mean: fraction cut from each end.")
    ] = None,
    raw_csv: RawCsvOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Consensus labels and confidences, one row per item; prints a summary.

    Structured labels (--task spans|boxes|multilabel|ranking|text, or what the export
    says) are voted per region and written in their own shape, one record per item.

    Example: labelaudit consensus labels.csv --method dawid-skene --out consensus.csv
    """
    from labelaudit.consensus.api import (
        read_weights_file,
        run_consensus,
        run_structured_consensus,
    )
    from labelaudit.exceptions import UsageError
    from labelaudit.structured.api import as_task

    structured = task is not None and task is not Task.categorical
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
        export=export_options(control, task_key, label_config, include_models, False, users),
    )
    table = as_task(table, task.value if task else None, categories if structured else None)
    weights = read_weights_file(weights_file) if weights_file else None
    if table.schema.is_structured:
        for name, value in (
            ("max-iter", max_iter),
            ("tol", tol),
            ("tie", tie),
            ("proportion", proportion),
        ):
            if value is not None:
                raise UsageError(f"--{name} does not apply to {table.task} labels")
        _, result = run_structured_consensus(
            table,
            str(method) if method else "majority",
            out=out,
            raw_csv=raw_csv,
            weights=weights,
            min_votes=min_votes,
            iou=iou,
        )
    else:
        if min_votes is not None or iou is not None:
            raise UsageError("--min-votes and --iou apply to structured labels (--task)")
        _, result = run_consensus(
            table,
            str(method) if method else "dawid-skene",
            out=out,
            raw_csv=raw_csv,
            seed=seed,
            max_iter=max_iter,
            tol=tol,
            tie=tie.value if tie else None,
            weights=weights,
            proportion=proportion,
        )
    if out is not None:
        typer.echo(f"wrote {result.n_items} rows to {out}", err=True)
    render(result.to_dict(), output.value)


def render(summary: dict[str, Any], output: str) -> None:
    """Print the consensus summary: its document, or the dict as JSON (the contract)."""
    from labelaudit.report.builders import consensus_document
    from labelaudit.report.format import emit_document

    emit_document(summary, consensus_document(summary), output)
