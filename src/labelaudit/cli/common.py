"""Options, choices and error handling shared by the CLI commands."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from labelaudit.methods import CATEGORICAL_METHODS, CONSENSUS_METHODS

if TYPE_CHECKING:
    from labelaudit.io import ExportOptions
    from labelaudit.table import AnnotationTable

__all__ = [
    "CI",
    "PLATFORM_FORMATS",
    "AnnotatorColOpt",
    "AnnotatorColsOpt",
    "CategoricalMethod",
    "CategoriesOpt",
    "ConsensusMethod",
    "ControlOpt",
    "DebugOpt",
    "EngineOpt",
    "FileArg",
    "FormatOpt",
    "FromOpt",
    "GroundTruthAsGoldOpt",
    "IncludeModelsOpt",
    "InputFormat",
    "ItemColOpt",
    "LabelColOpt",
    "LabelConfigOpt",
    "LayoutOpt",
    "Level",
    "LevelOpt",
    "LsProjectOpt",
    "LsUrlOpt",
    "NaValuesOpt",
    "OnDuplicateOpt",
    "OutputFormat",
    "PageFormat",
    "PageFormatOpt",
    "RawCsvOpt",
    "TaskKeyOpt",
    "TokenFileOpt",
    "UsersOpt",
    "Weights",
    "error_line",
    "export_options",
    "fail",
    "read_table",
    "read_task_table",
    "server_target",
    "spark_profiles_of",
    "spark_source",
]


class OutputFormat(StrEnum):
    """How a command prints its result."""

    table = "table"
    markdown = "markdown"
    json = "json"


class PageFormat(StrEnum):
    """How an analysis command prints its document: terminal text, Markdown, one
    self-contained HTML page, or the JSON contract."""

    table = "table"
    markdown = "markdown"
    html = "html"
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
    scale = "scale"
    conll = "conll"


#: Input formats read by :func:`labelaudit.io.read_export` (annotation-platform exports).
#: (the same names as :data:`labelaudit.io.detect.PLATFORM_FORMATS`, kept literal here so
#: that the command line starts without importing pyarrow; a test keeps them equal)
PLATFORM_FORMATS = frozenset(
    {
        "label-studio",
        "label-studio-min",
        "prodigy",
        "labelbox",
        "doccano",
        "sagemaker",
        "argilla",
        "scale",
        "conll",
    }
)


def error_line(error: BaseException) -> str:
    """The one-line message of an error: ``InputError``'s own text; file and reason for OSError.

    OSError covers every failed write (an unwritable path, a directory given as the output
    file, a full disk) and read; its ``[Errno n]`` prefix is dropped.
    """
    if isinstance(error, OSError) and error.strerror:
        names = [str(n) for n in (error.filename, error.filename2) if n is not None]
        return f"{' -> '.join(names)}: {error.strerror}" if names else error.strerror
    return str(error)


# ``--method`` choices, built from the one list of names (:mod:`labelaudit.methods`): every
# aggregator for ``consensus``, the categorical ones for the quality commands. Type checkers
# see ``str``; a member's ``str()`` is its name as given on the command line.
if TYPE_CHECKING:
    ConsensusMethod = str
    CategoricalMethod = str
else:
    ConsensusMethod = StrEnum(
        "ConsensusMethod", {name.replace("-", "_"): name for name in CONSENSUS_METHODS}
    )
    CategoricalMethod = StrEnum(
        "CategoricalMethod", {name.replace("-", "_"): name for name in CATEGORICAL_METHODS}
    )


def fail(error: BaseException, debug: bool) -> typer.Exit:
    """Print a one-line error (the traceback too with ``--debug``) and exit with code 2."""
    if debug:
        import traceback

        traceback.print_exception(error)
    typer.echo(f"error: {error_line(error)}", err=True)
    return typer.Exit(code=2)


# --------------------------------------------------------------- shared table options
# Commands that read an annotation file declare these parameters with the aliases below
# and pass them to :func:`read_table`, so every command reads files the same way.
FileArg = Annotated[
    Path,
    typer.Argument(
        help="Annotations: CSV, TSV, JSONL, JSON, Parquet, or a platform export "
        "(Label Studio, Prodigy, Labelbox, doccano, SageMaker, Argilla, Scale AI)."
    ),
]
FromOpt = Annotated[
    InputFormat | None,
    typer.Option(
        "--from", help="Input format (default: detected from the extension and first record)."
    ),
]
LayoutOpt = Annotated[str, typer.Option(help="long (item, annotator, label rows) or wide.")]
EngineOpt = Annotated[
    str,
    typer.Option(
        help="local (this process) or spark (PySpark, extra [spark] + Java: statistics "
        "computed by Spark on a CSV/TSV/Parquet file or a catalog table; docs/scaling.md)."
    ),
]
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
NaValuesOpt = Annotated[
    str | None,
    typer.Option(
        help="Cell texts read as missing besides the empty cell, comma-separated (e.g. "
        "NA,null). Default: only the empty cell is missing; NA, null, nan are labels."
    ),
]
FormatOpt = Annotated[OutputFormat, typer.Option("--format", help="Output format.")]
PageFormatOpt = Annotated[
    PageFormat, typer.Option("--format", help="Output format: table, markdown, html or json.")
]

# --------------------------------------------------------------- shared export options
# Every command that reads an annotation-platform export declares these and turns them
# into one labelaudit.io.ExportOptions with export_options(...).
_EXPORT = "Export options"
ControlOpt = Annotated[
    str | None,
    typer.Option(
        help="Labelling control (question) to analyse when the export has several.",
        rich_help_panel=_EXPORT,
    ),
]
TaskKeyOpt = Annotated[
    str | None,
    typer.Option(
        help="Item key path in each task, e.g. data.item (default: the task id; merges projects).",
        rich_help_panel=_EXPORT,
    ),
]
LabelConfigOpt = Annotated[
    Path | None,
    typer.Option(
        help="Label Studio labelling config XML (declared labels, control types).",
        rich_help_panel=_EXPORT,
    ),
]
IncludeModelsOpt = Annotated[
    bool,
    typer.Option(
        help="Read predictions as model annotators (left out of human agreement by default).",
        rich_help_panel=_EXPORT,
    ),
]
GroundTruthAsGoldOpt = Annotated[
    bool,
    typer.Option(
        help="Annotations marked ground_truth serve as gold labels.", rich_help_panel=_EXPORT
    ),
]
UsersOpt = Annotated[
    Path | None,
    typer.Option(
        help="CSV mapping exported user ids to names (id, name|email|username).",
        rich_help_panel=_EXPORT,
    ),
]
DebugOpt = Annotated[bool, typer.Option(help="Show tracebacks.")]
GuidelinesVersionOpt = Annotated[
    str | None,
    typer.Option(
        help="Guideline version the batch was labelled under (default: the version of "
        "the \\[guidelines] file; docs/guidelines.md)."
    ),
]
RawCsvOpt = Annotated[
    bool,
    typer.Option(
        "--raw-csv",
        help="Write CSV/TSV cells unchanged (by default a cell starting with = + - @ tab or "
        "CR gets a leading ' so spreadsheets do not run it as a formula).",
    ),
]


# --------------------------------------------------------------- Label Studio server options
_SERVER = "Label Studio server"
LsUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--ls-url", help="Label Studio base URL, e.g. http://localhost:8080.",
        rich_help_panel=_SERVER,
    ),
]  # fmt: skip
LsProjectOpt = Annotated[
    int | None,
    typer.Option("--ls-project", help="Label Studio project id.", rich_help_panel=_SERVER),
]
TokenFileOpt = Annotated[
    Path | None,
    typer.Option(
        help="File whose first line is the API token (else $LABEL_STUDIO_API_KEY).",
        rich_help_panel=_SERVER,
    ),
]


def server_target(ls_url: str | None, ls_project: int | None) -> tuple[str, int]:
    """``(url, project)`` when both ``--ls-url`` and ``--ls-project`` were given.

    Raises
    ------
    UsageError
        One of them is missing.
    """
    from labelaudit.exceptions import UsageError

    if ls_url is None or ls_project is None:
        raise UsageError("talking to Label Studio needs both --ls-url URL and --ls-project ID")
    return ls_url, ls_project


def export_options(
    control: str | None = None,
    task_key: str | None = None,
    label_config: Path | None = None,
    include_models: bool = False,
    ground_truth_as_gold: bool = False,
    users: Path | None = None,
) -> ExportOptions:
    """The shared export options of a command as one :class:`labelaudit.io.ExportOptions`."""
    from labelaudit.io import ExportOptions

    return ExportOptions(
        control, task_key, label_config, include_models, ground_truth_as_gold, users
    )


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
    na_values: str | None = None,
    task: str | None = None,
    export: ExportOptions | None = None,
    engine: str = "local",
    all_items: bool = False,
) -> AnnotationTable:
    """Read and validate an annotation file from the shared options (raises InputError).

    ``engine="spark"``: the item profiles come from Spark (:mod:`labelaudit.spark`) and
    the table is their expansion; ``all_items``: every row, in file order, comes back
    (per-item outputs: consensus labels, annotator streaks).

    Every command reads through the one front door, :func:`labelaudit.io.read_any`:
    platform exports (named with ``--from`` or detected) go to ``read_export`` with the
    ``export`` options, plain tables to ``read_annotations``.
    """
    from labelaudit.io import read_any

    if engine != "local":
        return _spark_table(
            file,
            input_format,
            layout,
            (item_col, annotator_col, label_col),
            level,
            categories,
            on_duplicate,
            engine=engine,
            na_values=na_values,
            task=task,
            all_items=all_items,
        )
    if export is None:
        export = export_options(control, task_key)
    table, _ = read_any(
        file,
        from_=input_format.value if input_format is not None else None,
        layout=layout,
        item_col=item_col,
        annotator_col=annotator_col,
        label_col=label_col,
        annotator_cols=annotator_cols,
        level=level.value,
        categories=categories,
        on_duplicate=on_duplicate,
        na_values=na_values,
        task=task,
        **export.read_kwargs(),
    )
    return _warned(file, table)


def _warned(file: Path, table: AnnotationTable) -> AnnotationTable:
    """``table``, its reader's warnings printed to stderr (stdout may be JSON)."""
    print_warnings(file, table.report.get("warnings", []))
    return table


def print_warnings(file: Path, warnings: Sequence[str]) -> None:
    """A reader's warnings about ``file``, one ``warning:`` line each on stderr (stdout
    may be JSON)."""
    for warning in warnings:
        typer.echo(f"warning: {file}: {warning}", err=True)


def read_task_table(
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
    task: str | None,
    export: ExportOptions,
    na_values: str | None = None,
    engine: str = "local",
    all_items: bool = False,
) -> AnnotationTable:
    """:func:`read_table` for the commands with ``--task``: a structured ``task`` (spans,
    boxes, ...) reads the label column as its JSON payload, and ``--categories`` then
    names the labels inside the payload (:func:`labelaudit.structured.api.as_task`)."""
    structured = task is not None and task != "categorical"
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
        na_values=na_values,
        task=task if structured else None,
        export=export,
        engine=engine,
        all_items=all_items,
    )
    if task is None:
        return table  # as_task would return it as is: no need to import labelaudit.structured
    from labelaudit.structured.api import as_task

    return as_task(table, task, categories if structured else None)


def _spark_table(
    file: Path,
    input_format: InputFormat | None,
    layout: str,
    columns: tuple[str | None, str | None, str | None],
    level: Level,
    categories: str | None,
    on_duplicate: str,
    *,
    engine: str,
    na_values: str | None,
    task: str | None,
    all_items: bool,
) -> AnnotationTable:
    """``--engine spark``: long categorical tables from CSV/TSV/Parquet or a catalog table."""
    from labelaudit.spark.engine import spark_rows

    if not all_items:
        return spark_profiles_of(
            file, input_format, layout, columns, level, categories, on_duplicate,
            engine=engine, na_values=na_values, task=task,
        ).expand()  # fmt: skip
    frame, options = spark_source(
        file, input_format, layout, columns, level, categories, on_duplicate,
        engine=engine, na_values=na_values, task=task,
    )  # fmt: skip
    return _warned(file, spark_rows(frame, **options))


def spark_profiles_of(
    file: Path,
    input_format: InputFormat | None,
    layout: str,
    columns: tuple[str | None, str | None, str | None],
    level: Level,
    categories: str | None,
    on_duplicate: str,
    *,
    engine: str,
    na_values: str | None = None,
    task: str | None = None,
) -> Any:
    """``--engine spark``: the item profiles of ``file`` (:func:`labelaudit.spark.
    spark_profiles`), its warnings printed; options as :func:`spark_source`."""
    from labelaudit.spark.engine import spark_profiles

    frame, options = spark_source(
        file, input_format, layout, columns, level, categories, on_duplicate,
        engine=engine, na_values=na_values, task=task,
    )  # fmt: skip
    profiles = spark_profiles(frame, **options)
    _warned(file, profiles.table)
    return profiles


def spark_source(
    file: Path,
    input_format: InputFormat | None,
    layout: str,
    columns: tuple[str | None, str | None, str | None],
    level: Level,
    categories: str | None,
    on_duplicate: str,
    *,
    engine: str,
    na_values: str | None = None,
    task: str | None = None,
) -> tuple[Any, dict[str, Any]]:
    """``--engine spark``: the Spark DataFrame of ``file`` (CSV/TSV/Parquet or a catalog
    table) and the reading options of :func:`labelaudit.spark.spark_profiles`; the
    options Spark cannot honour are refused (UsageError)."""
    from labelaudit.exceptions import UsageError

    if engine != "spark":
        raise UsageError(f"--engine must be local or spark; got {engine!r}")
    fmt = input_format.value if input_format is not None else None
    refused = {
        "--layout wide": layout != "long",
        "--task": task not in (None, "categorical"),
        "--na-values": bool(na_values),
        "--on-duplicate keep-last": on_duplicate != "error",
        f"--from {fmt}": fmt not in (None, "csv", "tsv", "parquet"),
    }
    if any(refused.values()):
        shown = ", ".join(name for name, bad in refused.items() if bad)
        raise UsageError(
            f"{shown}: not available with --engine spark (long CSV/TSV/Parquet tables or "
            "catalog tables of categorical labels); use --engine local"
        )
    from labelaudit.spark.engine import read_spark, spark_session

    frame, locator = read_spark(spark_session(), file, fmt)
    item_col, annotator_col, label_col = columns
    return frame, {
        "item_col": item_col,
        "annotator_col": annotator_col,
        "label_col": label_col,
        "level": level.value,
        "categories": categories,
        "locator": locator,
    }
