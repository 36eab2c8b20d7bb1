"""``labelaudit consensus``: one label per item from many (majority vote, Dawid-Skene, ...)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from labelaudit.cli.app import app
from labelaudit.cli.commands.agreement import TaskOpt
from labelaudit.cli.common import (
    AnnotatorColOpt,
    AnnotatorColsOpt,
    CategoriesOpt,
    ConsensusMethod,
    ControlOpt,
    DebugOpt,
    EngineOpt,
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
    read_task_table,
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
        float | None,
        typer.Option(
            help="Boxes, polygons, cuboids: IoU (keypoints: OKS) that links regions into one "
            "object (0.5)."
        ),
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
    fit_on: Annotated[
        Path | None,
        typer.Option(
            help="label-model: learn the LF accuracies from these votes (e.g. a train split; "
            "same reading options) and label FILE with them."
        ),
    ] = None,
    class_balance: Annotated[
        str | None,
        typer.Option(help="label-model: class prior, one number per category (e.g. 0.3,0.7)."),
    ] = None,
    n_records: Annotated[
        int | None,
        typer.Option(
            help="label-model: records the learning votes came from, counting those no LF "
            "voted on (printed by `labelaudit lf apply`; default: the items with a vote)."
        ),
    ] = None,
    raw_csv: RawCsvOpt = False,
    soft: Annotated[
        bool,
        typer.Option(
            help="Write per-item label distributions to --out: vote shares (share_<label>), "
            "the method's posterior (p_<label>), entropy and top-label share."
        ),
    ] = False,
    engine: EngineOpt = "local",
    debug: DebugOpt = False,
) -> None:
    """Consensus labels and confidences, one row per item; prints a summary.

    Structured labels (--task spans|boxes|polygons|cuboids|keypoints|multilabel|ranking|
    text, or what the export says) are voted per region and written in their own shape,
    one record per item.

    Example: labelaudit consensus labels.csv --method dawid-skene --out consensus.csv
    """
    from labelaudit.consensus.api import (
        output_format,
        read_weights_file,
        run_consensus,
        run_structured_consensus,
    )
    from labelaudit.exceptions import UsageError

    if soft and out is None:
        raise UsageError("--soft writes the label distributions to a file: add --out PATH")
    if engine != "local" and str(method) != "label-model":  # the LF votes: read on Spark
        _spark(file, method, out, output.value, soft, raw_csv, engine, locals())
        return
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
        engine=engine,
        all_items=True,
    )
    weights = read_weights_file(weights_file) if weights_file else None
    fit_table = None
    if fit_on is not None:
        fit_table = read_task_table(
            fit_on, input_format, layout, item_col, annotator_col, label_col, annotator_cols,
            level, categories, on_duplicate, task=None,
            export=export_options(control, task_key, label_config, include_models, False, users),
        )  # fmt: skip
    if table.schema.is_structured:
        if soft:
            raise UsageError("--soft applies to categorical labels, not to structured ones")
        for name, value in (
            ("max-iter", max_iter),
            ("tol", tol),
            ("tie", tie),
            ("proportion", proportion),
            ("class-balance", class_balance),
            ("fit-on", fit_on),
            ("n-records", n_records),
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
        if out is not None:
            output_format(out)  # a bad extension fails before the fit
        estimator, result = run_consensus(
            table,
            str(method) if method else "dawid-skene",
            out=None if soft else out,
            raw_csv=raw_csv,
            seed=seed,
            max_iter=max_iter,
            tol=tol,
            tie=tie.value if tie else None,
            weights=weights,
            proportion=proportion,
            class_balance=class_balance,
            fit_on=fit_table,
            n_records=n_records,
        )
    summary = result.to_dict()
    if soft and out is not None:
        summary["soft"] = _write_soft(table, estimator, out, raw_csv, output.value)
    if out is not None:
        typer.echo(f"wrote {result.n_items} rows to {out}", err=True)
    render(summary, output.value)


def _spark(
    file: Path,
    method: Any,
    out: Path | None,
    output: str,
    soft: bool,
    raw_csv: bool,
    engine: str,
    given: dict[str, Any],
) -> None:
    """``--engine spark``: majority or Dawid-Skene computed on Spark, the labels streamed
    to ``out`` one partition at a time (:func:`labelaudit.spark.outputs.spark_consensus`)."""
    from labelaudit.cli.common import spark_source
    from labelaudit.exceptions import UsageError
    from labelaudit.spark.outputs import spark_consensus

    for name in ("min_votes", "iou", "weights_file", "fit_on", "class_balance", "n_records"):
        if given[name] is not None:
            flag = name.replace("_", "-")
            raise UsageError(f"--{flag}: not available with --engine spark; use --engine local")
    frame, reading = spark_source(
        file, given["input_format"], given["layout"],
        (given["item_col"], given["annotator_col"], given["label_col"]),
        given["level"], given["categories"], given["on_duplicate"], engine=engine,
        task=given["task"].value if given["task"] else None,
    )  # fmt: skip
    options = {name: given[name] for name in ("seed", "max_iter", "tol", "proportion")}
    options["tie"] = given["tie"].value if given["tie"] else None
    found = spark_consensus(
        frame, str(method) if method else "dawid-skene", out=out, soft=soft,
        raw_csv=raw_csv, options=options, **reading,
    )  # fmt: skip
    if found.soft is not None and output != "json":
        from labelaudit.models.soft import soft_sentence

        typer.echo(soft_sentence(found.soft), err=True)
    if out is not None:
        typer.echo(f"wrote {found.n_rows} rows to {out}", err=True)
    render(found.to_dict(), output)


def _write_soft(table: Any, estimator: Any, out: Path, raw_csv: bool, output: str) -> Any:
    """Write the soft labels to ``out``; returns their summary (and prints its sentence)."""
    from labelaudit.consensus.api import write_consensus
    from labelaudit.models import soft_labels

    distributions = soft_labels(table, estimator)
    write_consensus(distributions.to_arrow(), out, raw_csv=raw_csv)
    if output != "json":
        typer.echo(distributions.to_document().headline.sentence, err=True)
    return distributions.summary()


def render(summary: dict[str, Any], output: str) -> None:
    """Print the consensus summary: its document, or the dict as JSON (the contract)."""
    from labelaudit.report.builders import consensus_document
    from labelaudit.report.format import emit_document

    emit_document(summary, lambda: consensus_document(summary), output)
