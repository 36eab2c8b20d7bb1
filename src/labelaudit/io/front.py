"""The one reading front door: any annotation file -> a validated table.

Every command that reads annotations (``agreement``, ``consensus``, ``ingest``, ...) calls
:func:`read_any`: a platform export (named by ``from_`` or detected from the extension,
the directory layout and the first record, :func:`labelaudit.io.detect_format`) goes to
:func:`labelaudit.io.read_export`; a table written by ``labelaudit convert`` to the
canonical reader; a plain item/annotator/label table to
:func:`labelaudit.table.read_annotations`. The same file therefore gives the same table
whichever command reads it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from labelaudit.exceptions import InputError
from labelaudit.io._report import ReadReport
from labelaudit.table import FORMATS as TABLE_FORMATS
from labelaudit.table.table import AnnotationTable

__all__ = ["platform_of", "read_any"]


def platform_of(source: Any, from_: str | None) -> str | None:
    """The platform reader for ``source`` (``from_`` if it names one, else detected), or
    None for a plain table (``csv``, ``tsv``, ``jsonl``, ``json``, ``parquet``)."""
    from labelaudit.io.detect import detect_format

    if from_ is not None:
        return None if from_ in TABLE_FORMATS else from_
    return detect_format(source)


def read_any(
    source: Any,
    *,
    from_: str | None = None,
    layout: str = "long",
    item_col: str | None = None,
    annotator_col: str | None = None,
    label_col: str | None = None,
    annotator_cols: Sequence[str] | str | None = None,
    level: str = "nominal",
    categories: Sequence[Any] | str | None = None,
    on_duplicate: str = "error",
    na_values: Sequence[str] | str | None = None,
    task_key: str | None = None,
    control: str | None = None,
    task: str | None = None,
    label_config: str | Path | None = None,
    include_models: bool = False,
    users: str | Path | dict[str, str] | None = None,
) -> tuple[AnnotationTable, ReadReport | None]:
    """Read any annotation source into a validated table.

    Parameters
    ----------
    source : path, list of paths, DataFrame or Dataset
        A plain table (CSV, TSV, JSONL, JSON, Parquet; gzip-compressed too), a platform
        export, a folder or zip of per-user files, or an in-memory frame.
    from_ : str, optional
        A table format or a platform (:data:`labelaudit.io.FORMATS`); detected if omitted.
    layout, item_col, annotator_col, label_col, annotator_cols, na_values
        Plain tables only (see :func:`labelaudit.table.read_annotations`);
        ``annotator_cols`` also names the tag columns of a CoNLL file.
    level, categories, on_duplicate
        Every source. For platform exports ``level="nominal"`` means "the reader's default"
        (``ordinal`` for ratings).
    task_key, control, label_config, include_models, users
        Platform exports only (see :func:`labelaudit.io.read_export`; the CLI's shared
        export options, :class:`labelaudit.io.ExportOptions`).
    task : str, optional
        Plain tables only: a structured task (``spans``, ...) the label column holds as
        JSON; an empty label cell is then an annotation with no regions (``[]``).

    Returns
    -------
    (AnnotationTable, ReadReport or None)
        The table, and the platform reader's report (None for a plain table).

    Raises
    ------
    InputError, UsageError
        As the reader chosen.
    """
    from labelaudit.io import read_export
    from labelaudit.table import read_annotations

    platform = platform_of(source, from_)
    if platform is not None:
        return read_export(
            source,
            from_=platform,
            task_key=task_key,
            control=control,
            label_config=label_config,
            include_models=include_models,
            users=users,
            annotator_cols=annotator_cols if platform == "conll" else None,
            level=level if level != "nominal" else None,
            categories=categories,
            on_duplicate=on_duplicate,
        )
    try:
        table = read_annotations(
            source,
            format=from_,
            layout=layout,
            item_col=item_col,
            annotator_col=annotator_col,
            label_col=label_col,
            annotator_cols=annotator_cols,
            level=level,
            categories=categories,
            on_duplicate=on_duplicate,
            na_values=na_values,
            task=task or "categorical",
        )
    except InputError as error:
        raise _platform_hint(source, error) from None
    return table, None


def _platform_hint(source: Any, error: InputError) -> InputError:
    """A JSON file with no item/annotator column whose records hold nested values is more
    likely an export we did not recognise than a table: say --from, not --item-col."""
    from labelaudit.io._stream import first_record
    from labelaudit.io.detect import PLATFORM_FORMATS

    if not (error.problem.startswith("no ") and error.problem.endswith(" column")):
        return error
    if not isinstance(source, (str, Path)) or Path(source).suffix.lower() not in (
        ".json",
        ".jsonl",
        ".ndjson",
    ):
        return error
    record = first_record(Path(source))
    if not (isinstance(record, dict) and any(isinstance(v, (dict, list)) for v in record.values())):
        return error
    return InputError(
        error.problem,
        source=error.source,
        field=error.field,
        expected=error.expected,
        actual=error.actual,
        hint=f"if this is an annotation-platform export, name it with --from "
        f"({', '.join(PLATFORM_FORMATS)}); if it is a plain table, {error.hint or 'fix it'}",
    )
