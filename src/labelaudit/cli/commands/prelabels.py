"""``labelaudit prelabels``: pre-label acceptance per annotator, label and model version."""

from __future__ import annotations

from typing import Annotated

import typer

from labelaudit.cli.app import app
from labelaudit.cli.commands.annotators import GoldItemColOpt, GoldLabelColOpt, GoldOpt
from labelaudit.cli.common import (
    CategoricalMethod,
    ControlOpt,
    DebugOpt,
    FileArg,
    FormatOpt,
    FromOpt,
    LabelConfigOpt,
    Level,
    OutputFormat,
    TaskKeyOpt,
    UsersOpt,
    export_options,
    read_table,
)


@app.command("prelabels")
def prelabels_command(
    file: FileArg,
    gold: GoldOpt = None,
    gold_item_col: GoldItemColOpt = "item",
    gold_label_col: GoldLabelColOpt = "gold_label",
    method: Annotated[
        CategoricalMethod, typer.Option(help="Consensus of the humans when there is no gold.")
    ] = CategoricalMethod("majority"),
    accept: Annotated[
        float, typer.Option(help="Flag: accepts more than this share of pre-labels unchanged...")
    ] = 0.9,
    gap: Annotated[
        float, typer.Option(help="...and is less accurate on pre-labelled items by more than this.")
    ] = 0.05,
    wrong_gap: Annotated[
        float,
        typer.Option(
            help="Flag: keeps wrong pre-labels more often than the others' median by this."
        ),
    ] = 0.2,
    min_wrong: Annotated[int, typer.Option(help="Wrong pre-labels needed for that flag.")] = 5,
    seed: Annotated[int, typer.Option(help="Random seed of the consensus.")] = 0,
    output: FormatOpt = OutputFormat.table,
    input_format: FromOpt = None,
    control: ControlOpt = None,
    task_key: TaskKeyOpt = None,
    label_config: LabelConfigOpt = None,
    users: UsersOpt = None,
    debug: DebugOpt = False,
) -> None:
    """How often annotators keep the pre-label they started from, and whether they anchor.

    FILE is a Label Studio export whose annotations record the prediction they started
    from (parent_prediction); its predictions are read as model annotators.

    Example: labelaudit prelabels export.json --gold gold.csv --format json
    """
    import json

    from labelaudit.models.prelabels import PrelabelRules, prelabel_acceptance
    from labelaudit.quality import load_gold

    table = read_table(
        file, input_format, "long", "item", None, "label", None, Level.nominal, None, "error",
        export=export_options(control, task_key, label_config, True, False, users),
    )  # fmt: skip
    gold_labels = load_gold(table, path=gold, item_col=gold_item_col, label_col=gold_label_col)
    from labelaudit.exceptions import UsageError

    try:
        result = prelabel_acceptance(
            table, gold=gold_labels, rules=PrelabelRules(accept, gap, wrong_gap, min_wrong),
            method=str(method), seed=seed,
        )  # fmt: skip
    except UsageError as error:
        raise UsageError(f"{file}: {error}") from None
    if output.value == "json":
        typer.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
        return
    from labelaudit.report.document import render_document

    typer.echo(render_document(result.to_document(), output.value), nl=False)
