"""``labelaudit consensus``: one label per item from many (majority vote, Dawid-Skene, ...)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from labelaudit.cli.app import app
from labelaudit.cli.common import (
    AnnotatorColOpt,
    AnnotatorColsOpt,
    CategoriesOpt,
    ConsensusMethod,
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


class Tie(StrEnum):
    """Tie rule of the vote-based methods."""

    random = "random"
    abstain = "abstain"


@app.command("consensus")
def consensus_command(
    file: FileArg,
    method: Annotated[ConsensusMethod, typer.Option(help="Aggregation method.")] = ConsensusMethod(
        "dawid-skene"
    ),
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

    Example: labelaudit consensus labels.csv --method dawid-skene --out consensus.csv
    """
    from labelaudit.consensus.api import read_weights_file, run_consensus

    table = read_table(
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
    )
    weights = read_weights_file(weights_file) if weights_file else None
    _, result = run_consensus(
        table,
        str(method),
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
