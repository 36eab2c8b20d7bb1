"""Options, choices and error handling shared by the CLI commands."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from labelaudit.table import AnnotationTable

__all__ = [
    "CI",
    "PLATFORM_FORMATS",
    "AnnotatorColOpt",
    "AnnotatorColsOpt",
    "CategoriesOpt",
    "DebugOpt",
    "FileArg",
    "FormatOpt",
    "FromOpt",
    "InputFormat",
    "ItemColOpt",
    "LabelColOpt",
    "LayoutOpt",
    "Level",
    "LevelOpt",
    "OnDuplicateOpt",
    "OutputFormat",
    "Weights",
    "fail",
    "read_table",
]


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
    label_studio = "label-studio"
    label_studio_min = "label-studio-min"
    prodigy = "prodigy"
    labelbox = "labelbox"
    doccano = "doccano"
    sagemaker = "sagemaker"
    argilla = "argilla"


#: Input formats read by :func:`labelaudit.io.read_export` (annotation-platform exports).
PLATFORM_FORMATS = frozenset(
    {"label-studio", "label-studio-min", "prodigy", "labelbox", "doccano", "sagemaker", "argilla"}
)


def fail(error: Exception, debug: bool) -> typer.Exit:
    """Print a one-line error (the traceback too with ``--debug``) and exit with code 2."""
    if debug:
        import traceback

        traceback.print_exception(error)
    typer.echo(f"error: {error}", err=True)
    return typer.Exit(code=2)


# --------------------------------------------------------------- shared table options
# Commands that read an annotation file declare these parameters with the aliases below
# and pass them to :func:`read_table`, so every command reads files the same way.
FileArg = Annotated[
    Path,
    typer.Argument(
        help="Annotations: CSV, TSV, JSONL, JSON, Parquet, or a platform export "
        "(Label Studio, Prodigy, Labelbox, doccano, SageMaker, Argilla)."
    ),
]
FromOpt = Annotated[
    InputFormat | None,
    typer.Option(
        "--from", help="Input format (default: detected from the extension and first record)."
    ),
]
LayoutOpt = Annotated[str, typer.Option(help="long (item, annotator, label rows) or wide.")]
ItemColOpt = Annotated[
    str | None, typer.Option(help="Item column (default: item, else item_id or task).")
]
AnnotatorColOpt = Annotated[
    str | None,
    typer.Option(help="Annotator column (default: annotator, else annotator_id, worker or rater)."),
]
LabelColOpt = Annotated[str | None, typer.Option(help="Label column (default: label).")]
AnnotatorColsOpt = Annotated[
    str | None,
    typer.Option(help="Wide layout: comma-separated annotator columns (default: all but item)."),
]
LevelOpt = Annotated[Level, typer.Option(help="Measurement level.")]
CategoriesOpt = Annotated[
    str | None,
    typer.Option(help="Declared categories in order, comma-separated (may include unused ones)."),
]
OnDuplicateOpt = Annotated[
    str, typer.Option(help="error or keep-last for a repeated (item, annotator).")
]
FormatOpt = Annotated[OutputFormat, typer.Option("--format", help="Output format.")]
DebugOpt = Annotated[bool, typer.Option(help="Show tracebacks.")]


def read_table(
    file: Path,
    input_format: InputFormat | None,
    layout: str,
    item_col: str | None,
    annotator_col: str | None,
    label_col: str | None,
    annotator_cols: str | None,
    level: Level,
    categories: str | None,
    on_duplicate: str,
    *,
    task_key: str | None = None,
    control: str | None = None,
) -> AnnotationTable:
    """Read and validate an annotation file from the shared options (raises InputError).

    Annotation-platform exports (named with ``--from`` or detected from the first record)
    and tables written by ``labelaudit convert`` go through
    :func:`labelaudit.io.read_export`; plain tables through ``read_annotations``.
    """
    from labelaudit.table import read_annotations

    plain = input_format is not None and input_format.value not in PLATFORM_FORMATS
    if not plain:
        from labelaudit.io import detect_format, read_export

        platform = input_format.value if input_format is not None else detect_format(file)
        if platform is not None:
            table, _ = read_export(
                file,
                from_=platform,
                task_key=task_key,
                control=control,
                level=level.value if level is not Level.nominal else None,
                categories=categories,
                on_duplicate=on_duplicate,
            )
            return table
    table = read_annotations(
        file,
        format=input_format.value if input_format else None,
        layout=layout,
        item_col=item_col,
        annotator_col=annotator_col,
        label_col=label_col,
        annotator_cols=annotator_cols,
        level=level.value,
        categories=categories,
        on_duplicate=on_duplicate,
    )
    for warning in table.report.get("warnings", []):  # stderr: stdout may be JSON
        typer.echo(f"warning: {file}: {warning}", err=True)
    return table
