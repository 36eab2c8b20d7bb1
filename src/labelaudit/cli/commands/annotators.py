"""``labelaudit annotators``: the annotator table with gold accuracy and outlier flags."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from labelaudit.cli.app import app
from labelaudit.cli.commands.agreement import TaskOpt
from labelaudit.cli.common import (
    AnnotatorColOpt,
    AnnotatorColsOpt,
    CategoricalMethod,
    CategoriesOpt,
    ControlOpt,
    DebugOpt,
    EngineOpt,
    FileArg,
    FromOpt,
    GroundTruthAsGoldOpt,
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
    TaskKeyOpt,
    UsersOpt,
    export_options,
    read_task_table,
)

GoldOpt = Annotated[
    Path | None, typer.Option(help="Gold labels file (CSV/TSV/JSONL/JSON/Parquet), one per item.")
]
GoldItemColOpt = Annotated[str, typer.Option(help="Item column of the gold file.")]
GoldLabelColOpt = Annotated[str, typer.Option(help="Gold label column of the gold file.")]
GoldColOpt = Annotated[
    str | None, typer.Option(help="Column of FILE holding gold labels (instead of --gold).")
]
DurationColOpt = Annotated[
    str | None, typer.Option(help="Seconds-per-label column (default: duration_s if present).")
]
TimeColOpt = Annotated[
    str | None, typer.Option(help="Timestamp column (default: created_at if present).")
]
SeedOpt = Annotated[int, typer.Option(help="Seed of tie-breaks and MACE restarts.")]


@app.command("annotators")
def annotators_command(
    file: FileArg,
    gold: GoldOpt = None,
    gold_item_col: GoldItemColOpt = "item",
    gold_label_col: GoldLabelColOpt = "gold_label",
    gold_col: GoldColOpt = None,
    decisions: Annotated[
        Path | None,
        typer.Option(
            help="Adjudicators' decisions: a labelaudit project (pull --as-decisions) or a "
            "file with item and label columns; agreement with them is its own figure."
        ),
    ] = None,
    exclude_gold: Annotated[
        bool, typer.Option(help="Leave gold items out of agreement and the models.")
    ] = False,
    method: Annotated[
        list[CategoricalMethod] | None,
        typer.Option(
            help="Aggregator to fit (repeat) (default: majority, dawid-skene, mace).",
        ),
    ] = None,
    duration_col: DurationColOpt = None,
    time_col: TimeColOpt = None,
    min_labels: Annotated[int, typer.Option(help="Labels needed before any flag.")] = 20,
    min_gold: Annotated[int, typer.Option(help="Gold labels needed for a gold flag.")] = 10,
    min_pool: Annotated[int, typer.Option(help="Annotators needed to form a pool.")] = 5,
    z_threshold: Annotated[float, typer.Option(help="Robust |z| that flags.")] = 3.5,
    run_alpha: Annotated[float, typer.Option(help="Run p-value that may flag.")] = 1e-4,
    kappa_max: Annotated[float, typer.Option(help="Spammer: largest DS kappa.")] = 0.1,
    spam_threshold: Annotated[float, typer.Option(help="Spammer: least MACE spamming.")] = 0.9,
    fail_on_flag: Annotated[bool, typer.Option(help="Exit 1 when an annotator is flagged.")] = (
        False
    ),
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
    task: TaskOpt = None,
    min_regions: Annotated[
        int, typer.Option(help="Structured labels: regions needed before any flag.")
    ] = 20,
    margin: Annotated[
        float,
        typer.Option(help="Structured labels: flag at this much below the others' agreement."),
    ] = 0.15,
    control: ControlOpt = None,
    task_key: TaskKeyOpt = None,
    label_config: LabelConfigOpt = None,
    include_models: IncludeModelsOpt = False,
    users: UsersOpt = None,
    ground_truth_as_gold: GroundTruthAsGoldOpt = False,
    predictions: Annotated[
        Path | None,
        typer.Option(
            help="Model predictions (item, label, model_version, class probabilities): "
            "each model is an annotator of kind model, reported apart under 'models'."
        ),
    ] = None,
    models_as_annotators: Annotated[
        bool,
        typer.Option(help="Keep model annotators in the annotator table and its agreement."),
    ] = False,
    engine: EngineOpt = "local",
    debug: DebugOpt = False,
) -> None:
    """Annotator table: agreement, gold accuracy, DS/MACE quality, speed, outlier flags.

    Structured labels (--task spans|boxes|polygons|cuboids|keypoints|multilabel|ranking|
    text, or what the export says) get their own pairwise measures (span F1, box / polygon
    / cuboid / keypoint F1, MASI, tau, edit similarity) against the others, the consensus
    and gold, with missed/extra regions.

    Exit code 1 with --fail-on-flag when an annotator is flagged, 2 on bad input.

    Example: labelaudit annotators labels.csv --gold gold.csv --format json
    """
    from labelaudit.exceptions import UsageError
    from labelaudit.quality import (
        DEFAULT_METHODS,
        OutlierRules,
        annotator_report,
        ground_truth_gold,
        load_gold,
    )

    methods = [str(m) for m in method] if method else list(DEFAULT_METHODS)
    rules = OutlierRules(
        min_labels, min_gold, min_pool, z_threshold, run_alpha, kappa_max, spam_threshold
    )
    reading = (input_format, layout, (item_col, annotator_col, label_col), level, categories)
    spark = engine != "local"
    collected = (
        _collecting(gold_col, decisions, predictions, ground_truth_as_gold, exclude_gold, methods)
        if spark
        else {}
    )
    if spark and not any(collected.values()):
        options = {
            "gold": gold, "gold_item_col": gold_item_col, "gold_label_col": gold_label_col,
            "methods": methods, "duration_col": duration_col, "time_col": time_col,
            "rules": rules, "seed": seed,
        }  # fmt: skip
        report = _distributed(file, reading, on_duplicate, engine, task, options)
        render(report, output.value)
        raise typer.Exit(code=1 if fail_on_flag and report["n_flagged"] else 0)
    table = (
        _collected(file, reading, on_duplicate, engine, task, collected)
        if spark
        else read_task_table(
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
            export=export_options(
                control, task_key, label_config, include_models, ground_truth_as_gold, users
            ),
        )
    )
    if table.schema.is_structured:
        from labelaudit.quality.structured import (
            StructuredRules,
            read_structured_gold,
            structured_annotator_report,
        )

        if method or gold_col or exclude_gold:
            raise UsageError(
                f"--method, --gold-col and --exclude-gold apply to categorical labels, "
                f"not to {table.task}"
            )
        structured_report = structured_annotator_report(
            table,
            gold=read_structured_gold(
                table, str(gold), item_col=gold_item_col, label_col=gold_label_col
            )
            if gold
            else None,
            rules=StructuredRules(min_regions, margin),
            duration_col=duration_col,
            time_col=time_col,
        ).to_dict()
        if decisions is not None:
            structured_report["decisions"] = _decisions(table, decisions)
        render_structured(structured_report, output.value)
        if fail_on_flag and structured_report["n_flagged"]:
            raise typer.Exit(code=1)
        return
    table, models = _models(table, predictions, models_as_annotators, seed)  # before gold
    gold_labels = load_gold(
        table, path=gold, column=gold_col, item_col=gold_item_col, label_col=gold_label_col
    )
    if ground_truth_as_gold:
        if gold_labels is not None:
            raise UsageError("--ground-truth-as-gold replaces --gold/--gold-col: pass one")
        table, gold_labels = ground_truth_gold(table)
    report = annotator_report(
        table,
        gold=gold_labels,
        methods=methods,
        exclude_gold=exclude_gold,
        duration_col=duration_col,
        time_col=time_col,
        rules=rules,
        seed=seed,
    ).to_dict()
    if decisions is not None:
        report["decisions"] = _decisions(table, decisions)
    if models is not None:
        report["models"] = models.to_dict()
    render(report, output.value)
    if models is not None and output.value != "json":
        from labelaudit.report.document import render_document

        typer.echo(render_document(models.to_document(), output.value), nl=False)
    if report.get("decisions") and output.value != "json":
        found = report["decisions"]
        typer.echo(
            f"agreement with adjudicators' decisions ({found['n_items']} disputed items, "
            "a biased sample; not gold):"
        )
        for name, row in found["annotators"].items():
            typer.echo(f"  {name}: {row['agreement']:.2f} ({row['agreed']}/{row['n']})")
    if fail_on_flag and report["n_flagged"]:
        raise typer.Exit(code=1)


def _collecting(
    gold_col: str | None, decisions: Path | None, predictions: Path | None,
    ground_truth_as_gold: bool, exclude_gold: bool, methods: list[str],
) -> dict[str, bool]:  # fmt: skip
    """Which options make ``--engine spark`` read every row into this process (the
    annotator statistics on Spark do not cover them)."""
    from labelaudit.spark.annotator_fits import SPARK_QUALITY_METHODS

    return {
        "--gold-col": gold_col is not None,
        "--decisions": decisions is not None,
        "--predictions": predictions is not None,
        "--ground-truth-as-gold": ground_truth_as_gold,
        "--exclude-gold": exclude_gold,
        **{f"--method {m}": m not in SPARK_QUALITY_METHODS for m in methods},
    }


def _distributed(
    file: Path, reading: tuple[Any, ...], on_duplicate: str, engine: str, task: Any,
    options: dict[str, Any],
) -> dict[str, Any]:  # fmt: skip
    """``--engine spark``: the annotator report's statistics on Spark
    (:func:`labelaudit.spark.annotators.spark_annotator_statistics`), finished here;
    the reader's warnings to stderr."""
    from labelaudit.cli.common import print_warnings, spark_source
    from labelaudit.quality import check_methods
    from labelaudit.quality.annotator_report import finish_annotator_report
    from labelaudit.spark.annotators import spark_annotator_statistics

    fmt, layout, columns, level, categories = reading
    frame, found = spark_source(
        file, fmt, layout, columns, level, categories, on_duplicate,
        engine=engine, task=task.value if task else None,
    )  # fmt: skip
    rules, methods = options.pop("rules"), check_methods(options["methods"])
    statistics = spark_annotator_statistics(frame, **options, **found)
    print_warnings(file, statistics.warnings)
    report = finish_annotator_report(
        statistics, methods=methods, rules=rules, seed=options["seed"]
    )  # fmt: skip
    return report.to_dict()


def _collected(
    file: Path, reading: tuple[Any, ...], on_duplicate: str, engine: str, task: Any,
    collected: dict[str, bool],
) -> Any:  # fmt: skip
    """``--engine spark`` with an option the Spark statistics do not cover: every row
    (and every column) read on Spark, in source order, into this process; says so."""
    from labelaudit.cli.common import print_warnings, spark_source
    from labelaudit.spark.engine import spark_rows

    shown = ", ".join(name for name, used in collected.items() if used)
    typer.echo(
        f"note: --engine spark with {shown}: every row is read into this process (docs/scaling.md)",
        err=True,
    )
    fmt, layout, columns, level, categories = reading
    frame, options = spark_source(
        file, fmt, layout, columns, level, categories, on_duplicate,
        engine=engine, task=task.value if task else None,
    )  # fmt: skip
    table = spark_rows(frame, **options, extra=frame.columns)
    print_warnings(file, table.report.get("warnings", []))
    return table


def _decisions(table: Any, source: Path) -> dict[str, Any]:
    """Agreement of each annotator with the decisions of ``source`` (project or file)."""
    from labelaudit.project.pull import decisions_at
    from labelaudit.quality.gold_scores import decision_agreement

    items, labels, name = decisions_at(source)
    return decision_agreement(table, items, labels, name)


def _models(table: Any, predictions: Path | None, keep: bool, seed: int) -> tuple[Any, Any]:
    """The table (human rows only unless ``keep``) and the models' agreement (or None)."""
    from labelaudit.models import annotator_kinds, human_rows
    from labelaudit.models.predictions import model_agreement, read_predictions, with_predictions

    if predictions is not None:
        table = with_predictions(table, read_predictions(predictions))
    if bool((annotator_kinds(table) == "human").all()):
        return table, None
    found = model_agreement(table, seed=seed)
    return (table if keep else human_rows(table)), found


def render(report: dict[str, Any], output: str) -> None:
    """Print the annotator report: its document (who needs attention, and why) or JSON."""
    from labelaudit.report.builders_quality import annotators_document
    from labelaudit.report.format import emit_document

    emit_document(report, lambda: annotators_document(report), output)


def render_structured(report: dict[str, Any], output: str) -> None:
    """Print the structured annotator report: its document (who needs attention) or JSON."""
    from labelaudit.report.builders_quality import structured_annotators_document
    from labelaudit.report.format import emit_document

    emit_document(report, lambda: structured_annotators_document(report), output)
