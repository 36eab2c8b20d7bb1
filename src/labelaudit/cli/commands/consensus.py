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
    DebugOpt,
    FileArg,
    FormatOpt,
    FromOpt,
    ItemColOpt,
    LabelColOpt,
    LayoutOpt,
    Level,
    LevelOpt,
    OnDuplicateOpt,
    OutputFormat,
    fail,
    read_table,
)


class Method(StrEnum):
    """Aggregation methods (``labelaudit.consensus.api.METHODS``)."""

    majority = "majority"
    weighted = "weighted"
    wawa = "wawa"
    dawid_skene = "dawid-skene"
    one_coin = "one-coin"
    glad = "glad"
    mace = "mace"
    mean = "mean"
    median = "median"
    trimmed_mean = "trimmed-mean"


class Tie(StrEnum):
    """Tie rule of the vote-based methods."""

    random = "random"
    abstain = "abstain"


@app.command("consensus")
def consensus_command(
    file: FileArg,
    method: Annotated[
        Method | None,
        typer.Option(
            help="Aggregation method (default: dawid-skene; majority for structured labels, "
            "which take majority or weighted only)."
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Write item,label,confidence here (.csv, .jsonl or .parquet)."),
    ] = None,
    output: FormatOpt = OutputFormat.table,
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
    debug: DebugOpt = False,
) -> None:
    """Consensus labels and confidences, one row per item; prints a summary.

    Structured labels (--task spans|boxes|multilabel|ranking|text, or what the export
    says) are voted per region and written in their own shape, one record per item.

    Example: labelaudit consensus labels.csv --method dawid-skene --out consensus.csv
    """
    from labelaudit.consensus._io import read_weights_file
    from labelaudit.consensus.api import run_consensus, run_structured_consensus
    from labelaudit.exceptions import LabelAuditError, UsageError
    from labelaudit.structured.api import as_task

    structured = task is not None and task is not Task.categorical
    try:
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
                method.value if method else "majority",
                out=out,
                weights=weights,
                min_votes=min_votes,
                iou=iou,
            )
            if out is not None:
                typer.echo(f"wrote {result.n_items} rows to {out}", err=True)
            render(result.to_dict(), output.value)
            return
        if min_votes is not None or iou is not None:
            raise UsageError("--min-votes and --iou apply to structured labels (--task)")
        _, result = run_consensus(
            table,
            method.value if method else "dawid-skene",
            out=out,
            seed=seed,
            max_iter=max_iter,
            tol=tol,
            tie=tie.value if tie else None,
            weights=weights,
            proportion=proportion,
        )
    except (LabelAuditError, OSError) as error:
        raise fail(error, debug) from None
    if out is not None:
        typer.echo(f"wrote {result.n_items} rows to {out}", err=True)
    render(result.to_dict(), output.value)


def render(summary: dict[str, Any], output: str) -> None:
    """Print the consensus summary as JSON, Markdown or a terminal table."""
    if output == "json":
        import json

        typer.echo(json.dumps(summary, indent=2, ensure_ascii=False, allow_nan=False))
        return
    rows = _rows(summary)
    if output == "markdown":
        typer.echo(f"# Consensus ({summary['method']})\n")
        typer.echo("| field | value |\n|---|---|")
        for name, value in rows:
            typer.echo(f"| {name} | {value} |")
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    grid = Table(title=f"Consensus ({summary['method']})", show_header=False)
    for name, value in rows:
        grid.add_row(escape(name), escape(value))
    Console().print(grid)


def _rows(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, text) pairs of the summary; nulls show their reason."""
    reasons = summary["reasons"]
    rows = []
    for name in (
        "n_items",
        "n_annotators",
        "n_labels",
        "n_abstained",
        "n_iter",
        "converged",
        "log_likelihood",
        "mean_confidence",
        "min_confidence",
    ):
        value = summary[name]
        if value is None:
            text = f"- ({reasons.get(name, 'undefined')})"
        elif isinstance(value, float):
            text = f"{value:.4f}" if abs(value) < 1e4 else f"{value:.1f}"
        else:
            text = str(value)
        rows.append((name, text))
    for category, count in (summary["label_distribution"] or {}).items():
        rows.append((f"label {category}", str(count)))
    for key, value in (summary["values"] or {}).items():
        rows.append((f"value {key}", f"{value:.4g}" if value is not None else "-"))
    return rows
