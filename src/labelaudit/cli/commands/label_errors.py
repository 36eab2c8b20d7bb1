"""``labelaudit label-errors``: the items whose label is likely wrong, by confident learning."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from labelaudit.cli.app import app
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
    export_options,
    read_table,
)


@app.command("label-errors")
def label_errors_command(
    labels: FileArg,
    probs: Annotated[
        Path,
        typer.Option(
            help="Out-of-sample class probabilities: an item column and one column per class."
        ),
    ],
    item_col: Annotated[str, typer.Option(help="Item column of LABELS and PROBS.")] = "item",
    label_col: Annotated[str, typer.Option(help="Label column of LABELS.")] = "label",
    annotator_col: Annotated[
        str | None, typer.Option(help="Annotator column (LABELS is then an annotation table).")
    ] = None,
    method: Annotated[
        CategoricalMethod, typer.Option(help="Consensus of an annotation table.")
    ] = CategoricalMethod("dawid-skene"),
    seed: Annotated[int, typer.Option(help="Random seed of the consensus.")] = 0,
    out: Annotated[Path | None, typer.Option(help="Also write the JSON result here.")] = None,
    queue: Annotated[
        Path | None,
        typer.Option(
            help="Write the flagged items as adjudication queue entries (reason label_error): "
            ".csv, .tsv, .parquet, else JSONL; or pass --out's JSON to adjudicate --label-errors."
        ),
    ] = None,
    output: FormatOpt = OutputFormat.table,
    input_format: FromOpt = None,
    control: ControlOpt = None,
    task_key: TaskKeyOpt = None,
    label_config: LabelConfigOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Rank the items whose given label is likely wrong (cleanlab's confident learning).

    LABELS is a table of one label per item (item,label) or an annotation table / platform
    export, whose consensus is taken first; with several annotators CROWDLAB scores the
    consensus and each annotator too. Needs the [cleanlab] extra.

    Example: labelaudit label-errors labels.csv --probs cv_probs.csv --format json
    """
    import json

    from labelaudit.models import label_errors as le
    from labelaudit.models.probs import read_probabilities

    le.require_cleanlab()
    crowd = None
    table: Any = None
    if input_format is None and le.is_single_label_file(labels, annotator_col=annotator_col):
        given = le.read_given_labels(labels, item_col=item_col, label_col=label_col)
    else:
        table = read_table(
            labels, input_format, "long", item_col, annotator_col, label_col, None,
            Level.nominal, None, "error",
            export=export_options(control, task_key, label_config),
        )  # fmt: skip
        given, crowd = le.consensus_labels(table, str(method), seed=seed)
    found = read_probabilities(probs, item_col=item_col, check_sums=False)
    result = le.find_label_errors(given, found, crowd=crowd)
    data = result.to_dict()
    if out is not None:
        out.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if queue is not None:
        _write_queue(queue, table, data["issues"], str(method) if table is not None else "given")
    if output.value == "json":
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    from labelaudit.report.document import render_document

    typer.echo(render_document(result.to_document(), output.value), nl=False)


def _write_queue(path: Path, table: Any, issues: list[dict[str, Any]], method: str) -> None:
    """The flagged items as an adjudication queue file (the format ``adjudicate`` writes)."""
    import numpy as np

    from labelaudit.quality import AdjudicationQueue, with_label_errors, write_queue

    n_items = table.n_items if table is not None else len(issues)
    empty = AdjudicationQueue(method, 0.0, n_items, [], np.zeros(0, np.int64), np.zeros(0, object))
    write_queue(with_label_errors(empty, table, issues), path)
