"""The ``labelaudit`` command line: a thin shell over the library.

Each command parses options, calls one library function and renders its result. Exit
codes: 0 = ran (and every quality gate passed), 1 = a quality gate failed, 2 = usage
error or unreadable / invalid input (one line on stderr; the traceback with --debug).
Heavy modules are imported inside the commands so that ``labelaudit --help`` is fast.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from labelaudit import __version__

app = typer.Typer(
    name="labelaudit",
    help="Quality control for annotation data: agreement, diagnostics and reports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class OutputFormat(StrEnum):
    """How a command prints its result."""

    table = "table"
    markdown = "markdown"
    json = "json"


class Level(StrEnum):
    """Measurement level of the labels."""

    nominal = "nominal"
    ordinal = "ordinal"
    interval = "interval"
    ratio = "ratio"


class Weights(StrEnum):
    """Agreement weights of the kappa family."""

    identity = "identity"
    linear = "linear"
    quadratic = "quadratic"
    ordinal = "ordinal"
    ratio = "ratio"
    radical = "radical"
    circular = "circular"
    bipolar = "bipolar"


class CI(StrEnum):
    """Kind of standard errors and confidence intervals."""

    none = "none"
    analytic = "analytic"
    bootstrap = "bootstrap"


class InputFormat(StrEnum):
    """Input file format."""

    csv = "csv"
    tsv = "tsv"
    jsonl = "jsonl"
    json = "json"
    parquet = "parquet"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"labelaudit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """labelaudit: exact, fast inter-annotator agreement and annotation quality control."""


def _fail(error: Exception, debug: bool) -> typer.Exit:
    if debug:
        import traceback

        traceback.print_exception(error)
    typer.echo(f"error: {error}", err=True)
    return typer.Exit(code=2)


@app.command("agreement")
def agreement_command(
    file: Annotated[Path, typer.Argument(help="Annotations: CSV, TSV, JSONL, JSON or Parquet.")],
    output: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = (
        OutputFormat.table
    ),
    input_format: Annotated[
        InputFormat | None,
        typer.Option("--from", help="Input format (default: from the file extension)."),
    ] = None,
    layout: Annotated[str, typer.Option(help="long (item, annotator, label rows) or wide.")] = (
        "long"
    ),
    item_col: Annotated[str | None, typer.Option(help="Item column [item|item_id|task].")] = None,
    annotator_col: Annotated[
        str | None, typer.Option(help="Annotator column [annotator|annotator_id|worker|rater].")
    ] = None,
    label_col: Annotated[str | None, typer.Option(help="Label column [label].")] = None,
    annotator_cols: Annotated[
        str | None,
        typer.Option(
            help="Wide layout: comma-separated annotator columns (default: all but the item)."
        ),
    ] = (None),
    level: Annotated[Level, typer.Option(help="Measurement level.")] = Level.nominal,
    categories: Annotated[
        str | None,
        typer.Option(
            help="Declared categories in order, comma-separated (may include unused ones)."
        ),
    ] = None,
    weights: Annotated[Weights, typer.Option(help="Weights for the kappa family.")] = (
        Weights.identity
    ),
    weights_file: Annotated[
        Path | None, typer.Option(help="q x q weight matrix file (overrides --weights).")
    ] = None,
    ci: Annotated[CI, typer.Option(help="Standard errors and 95% CIs.")] = CI.analytic,
    n_boot: Annotated[int, typer.Option(help="Bootstrap replicates.")] = 1000,
    seed: Annotated[int, typer.Option(help="Random seed (bootstrap).")] = 0,
    on_duplicate: Annotated[
        str, typer.Option(help="error or keep-last for a repeated (item, annotator).")
    ] = "error",
    top: Annotated[int, typer.Option(help="Rows in the confusion and worst-item lists.")] = 10,
    report: Annotated[
        Path | None, typer.Option(help="Also write PREFIX.html, PREFIX.md and PREFIX.json.")
    ] = None,
    debug: Annotated[bool, typer.Option(help="Show tracebacks.")] = False,
) -> None:
    """Agreement coefficients with CIs, and the annotators and categories behind disagreement.

    Example: labelaudit agreement labels.csv --categories pos,neg,neutral --format json
    """
    from labelaudit.exceptions import LabelAuditError

    try:
        result = _run_agreement(
            file,
            input_format.value if input_format else None,
            layout,
            item_col,
            annotator_col,
            label_col,
            annotator_cols,
            level.value,
            categories,
            weights.value,
            weights_file,
            ci.value,
            n_boot,
            seed,
            on_duplicate,
            top,
        )
    except LabelAuditError as error:
        raise _fail(error, debug) from None
    _emit(result, output.value, report)


def _run_agreement(
    file: Path,
    input_format: str | None,
    layout: str,
    item_col: str | None,
    annotator_col: str | None,
    label_col: str | None,
    annotator_cols: str | None,
    level: str,
    categories: str | None,
    weights: str,
    weights_file: Path | None,
    ci: str,
    n_boot: int,
    seed: int,
    on_duplicate: str,
    top: int,
) -> dict[str, Any]:
    from labelaudit.agreement import agreement_report
    from labelaudit.agreement.weights import read_weights_file
    from labelaudit.table import read_annotations

    table = read_annotations(
        file,
        format=input_format,
        layout=layout,
        item_col=item_col,
        annotator_col=annotator_col,
        label_col=label_col,
        annotator_cols=annotator_cols,
        level=level,
        categories=categories,
        on_duplicate=on_duplicate,
    )
    matrix = read_weights_file(weights_file, table.n_categories) if weights_file else None
    result = agreement_report(
        table, weights=weights, weights_matrix=matrix, ci=ci, n_boot=n_boot, seed=seed, top=top
    )
    return result.to_dict()


def _emit(result: dict[str, Any], output: str, report: Path | None) -> None:
    if report is not None:
        from labelaudit.report import write_reports

        paths = write_reports(result, report.parent, stem=report.name)
        typer.echo("reports: " + ", ".join(str(p) for p in paths.values()), err=True)
    if output == "json":
        import json

        typer.echo(json.dumps(result, indent=2, ensure_ascii=False, allow_nan=False))
    elif output == "markdown":
        from labelaudit.report import render_markdown

        typer.echo(render_markdown(result))
    else:
        from rich.console import Console

        from labelaudit.report import render_terminal

        render_terminal(result, Console())


@app.command("demo")
def demo_command(
    out_dir: Annotated[Path, typer.Option(help="Folder for pilot.html, pilot.md, pilot.json.")] = (
        Path("demo-output")
    ),
) -> None:
    """Run the pilot study on bundled real data (PandaLM test set: 999 items, 3 annotators)."""
    from rich.console import Console

    from labelaudit.agreement import agreement_report
    from labelaudit.datasets import load_pandalm
    from labelaudit.report import render_terminal, write_reports

    result = agreement_report(load_pandalm(), ci="analytic").to_dict()
    render_terminal(result, Console())
    paths = write_reports(result, out_dir, stem="pilot")
    typer.echo("")
    for kind, path in paths.items():
        typer.echo(f"{kind:>8}: {path.resolve()}")
    typer.echo(f"Report written to {paths['html'].resolve()}")


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        sys.exit(130)
