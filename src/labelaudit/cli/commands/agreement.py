"""``labelaudit agreement``: coefficients, CIs and disagreement diagnostics of one file."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from labelaudit.cli.app import app
from labelaudit.cli.common import (
    CI,
    AnnotatorColOpt,
    AnnotatorColsOpt,
    CategoriesOpt,
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
    NaValuesOpt,
    OnDuplicateOpt,
    PageFormat,
    PageFormatOpt,
    TaskKeyOpt,
    UsersOpt,
    Weights,
    export_options,
    read_task_table,
)


class Task(StrEnum):
    """What kind of labels the file holds (platform exports say it themselves)."""

    categorical = "categorical"
    multilabel = "multilabel"
    spans = "spans"
    boxes = "boxes"
    ranking = "ranking"
    text = "text"
    polygons = "polygons"
    cuboids = "cuboids"
    keypoints = "keypoints"


TaskOpt = Annotated[
    Task | None,
    typer.Option(
        help="Task type; structured labels in a generic file are JSON in the label column "
        "(plain text for text). Default: categorical, or what the export says."
    ),
]


@app.command("agreement")
def agreement_command(
    file: FileArg,
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
    na_values: NaValuesOpt = None,
    control: ControlOpt = None,
    task_key: TaskKeyOpt = None,
    label_config: LabelConfigOpt = None,
    include_models: IncludeModelsOpt = False,
    users: UsersOpt = None,
    task: TaskOpt = None,
    weights: Annotated[Weights, typer.Option(help="Weights for the kappa family.")] = (
        Weights.identity
    ),
    weights_file: Annotated[
        Path | None,
        typer.Option(
            help="q x q weight matrix file (overrides --weights); w[k, l] = rater 1 said k, "
            "rater 2 said l. Asymmetric only with two annotators."
        ),
    ] = None,
    annotators: Annotated[
        str | None,
        typer.Option(
            help="Every annotator, comma-separated, in order: the first is rater 1 (the rows "
            "of an asymmetric --weights-file). Default: by name."
        ),
    ] = None,
    ci: Annotated[CI, typer.Option(help="Standard errors and 95% CIs.")] = CI.analytic,
    n_boot: Annotated[
        int, typer.Option(help="Bootstrap replicates (2 to 100,000).", show_default=True)
    ] = 1000,
    seed: Annotated[int, typer.Option(help="Random seed (bootstrap).")] = 0,
    top: Annotated[int, typer.Option(help="Rows in the confusion and worst-item lists.")] = 10,
    report: Annotated[
        Path | None, typer.Option(help="Also write PREFIX.html, PREFIX.md and PREFIX.json.")
    ] = None,
    text_col: Annotated[
        str | None,
        typer.Option(
            help="Column with each item's text, shown beside disagreements "
            "(default: text, when the file has it)."
        ),
    ] = None,
    engine: EngineOpt = "local",
    debug: DebugOpt = False,
) -> None:
    """Agreement coefficients with CIs, and the annotators and categories behind disagreement.

    Example: labelaudit agreement labels.csv --categories pos,neg,neutral --format json
    """
    from functools import partial

    from labelaudit.exceptions import UsageError
    from labelaudit.table.profiles import KEEP_NAMES

    if engine == "spark" and top > KEEP_NAMES:
        raise UsageError(f"--top is at most {KEEP_NAMES} with --engine spark (item names kept)")

    if engine != "local":  # the profiles' statistics on Spark, the finish from them here
        from labelaudit.agreement.api import profile_report
        from labelaudit.cli.common import spark_profiles_of

        profiles = spark_profiles_of(
            file, input_format, layout, (item_col, annotator_col, label_col), level,
            categories, on_duplicate, engine=engine, na_values=na_values,
            task=task.value if task else None,
        )  # fmt: skip
        table, report_of = profiles.table, partial(profile_report, profiles)
    else:
        table = read_task_table(
            file, input_format, layout, item_col, annotator_col, label_col, annotator_cols,
            level, categories, on_duplicate, na_values=na_values,
            task=task.value if task else None,
            export=export_options(control, task_key, label_config, include_models, False, users),
        )  # fmt: skip
        from labelaudit.agreement import agreement_report

        report_of = partial(agreement_report, table)
    from labelaudit.agreement.weights import read_weights_file

    matrix = read_weights_file(weights_file, table.n_categories) if weights_file else None
    result = report_of(
        weights=weights.value,
        weights_matrix=matrix,
        ci=ci.value,
        n_boot=n_boot,
        seed=seed,
        top=top,
        rater_order=[a.strip() for a in annotators.split(",")] if annotators else None,
    ).to_dict()
    details = None
    if output is not PageFormat.json or report is not None:
        from labelaudit.quality import item_details

        worst = [d["item"] for d in result.get("top_disagreements") or []]
        boundaries = (result.get("structured") or {}).get("boundary_disagreements") or []
        worst += [e["item"] for b in boundaries for e in b.get("examples") or []]
        details = item_details(table, worst, text_col=text_col)
    emit(result, output.value, report, details=details)


def emit(
    result: dict[str, Any],
    output: str,
    report: Path | None,
    *,
    details: dict[str, Any] | None = None,
    category_names: dict[str, str] | None = None,
) -> None:
    """Print the agreement report (its document, or the dict as JSON); optionally write
    PREFIX.html/.md/.json. ``details`` and ``category_names`` go to the document."""
    from labelaudit.report.format import emit_document

    if report is not None:
        from labelaudit.report import write_reports

        paths = write_reports(
            result, report.parent, stem=report.name, details=details, category_names=category_names
        )
        typer.echo("reports: " + ", ".join(str(p) for p in paths.values()), err=True)

    def document() -> Any:
        from labelaudit.report.builders import agreement_document

        return agreement_document(
            result, details=details, category_names=category_names, charts=output == "html"
        )

    # built (charts drawn) only for a format that shows it, never for JSON
    emit_document(result, document, output)
