"""``labelaudit export``: consensus, soft labels and every label as a training-ready dataset."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from labelaudit.cli.app import app
from labelaudit.cli.common import (
    AnnotatorColOpt,
    AnnotatorColsOpt,
    CategoricalMethod,
    CategoriesOpt,
    ControlOpt,
    DebugOpt,
    FileArg,
    FormatOpt,
    FromOpt,
    IncludeModelsOpt,
    ItemColOpt,
    LabelColOpt,
    LabelConfigOpt,
    LayoutOpt,
    OnDuplicateOpt,
    OutputFormat,
    TaskKeyOpt,
    UsersOpt,
    export_options,
    read_table,
)


class Target(StrEnum):
    """What ``export`` writes."""

    hf = "hf"
    parquet = "parquet"


@app.command("export")
def export_command(
    file: FileArg,
    to: Annotated[
        Target, typer.Option(help="hf: a Hugging Face dataset folder; parquet: one file.")
    ],
    out: Annotated[
        Path, typer.Option(help="Output folder (--to hf) or .parquet file (--to parquet).")
    ],
    method: Annotated[
        CategoricalMethod, typer.Option(help="Consensus method.")
    ] = CategoricalMethod("dawid-skene"),
    name: Annotated[str | None, typer.Option(help="Dataset name in the card.")] = None,
    seed: Annotated[int, typer.Option(help="Random seed (ties, MACE restarts).")] = 0,
    output: FormatOpt = OutputFormat.table,
    input_format: FromOpt = None,
    layout: LayoutOpt = "long",
    item_col: ItemColOpt = None,
    annotator_col: AnnotatorColOpt = None,
    label_col: LabelColOpt = None,
    annotator_cols: AnnotatorColsOpt = None,
    categories: CategoriesOpt = None,
    on_duplicate: OnDuplicateOpt = "error",
    control: ControlOpt = None,
    task_key: TaskKeyOpt = None,
    label_config: LabelConfigOpt = None,
    include_models: IncludeModelsOpt = False,
    users: UsersOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Write consensus, soft labels, confidence and every annotator's label for training.

    The columns are those of `consensus --soft` plus `annotations`; the Hugging Face folder
    also holds a dataset card (README.md) with the agreement figures and the method.

    Example: labelaudit export labels.csv --to hf --out labels_hf --method dawid-skene
    """
    from labelaudit.cli.common import Level
    from labelaudit.models import export_labels

    table = read_table(
        file,
        input_format,
        layout,
        item_col,
        annotator_col,
        label_col,
        annotator_cols,
        Level.nominal,
        categories,
        on_duplicate,
        export=export_options(control, task_key, label_config, include_models, False, users),
    )
    result = export_labels(table, out, to=to.value, method=str(method), name=name, seed=seed)
    data = result.to_dict()
    if output.value == "json":
        import json

        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    alpha = (data["agreement"].get("krippendorff_alpha") or {}).get("value")
    typer.echo(
        f"wrote {data['n_items']:,} items ({len(data['columns'])} columns, {data['method']}) "
        f"to {data['path']}" + (f"; human agreement alpha {alpha:.3f}" if alpha is not None else "")
    )
