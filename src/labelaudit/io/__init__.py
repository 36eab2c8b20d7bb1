"""Annotation-platform exports -> the canonical :class:`AnnotationTable`, and back to files.

``read_export`` reads Label Studio (JSON, JSON_MIN), Prodigy, Labelbox, doccano,
SageMaker Ground Truth, Argilla and Scale AI (delivered tasks) exports and an in-memory
Hugging Face Dataset, streaming large files, and returns the table with a
:class:`ReadReport` of what was read, skipped (with reasons) and inferred.
``write_table`` writes the canonical table as CSV, JSONL or Parquet. See ``docs/formats.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from labelaudit.exceptions import InputError, UsageError
from labelaudit.io._canonical import read_canonical, write_table
from labelaudit.io._collect import Collector, Options
from labelaudit.io._ls_config import Control, LabelConfig, parse_label_config
from labelaudit.io._report import ReadReport
from labelaudit.io.detect import PLATFORM_FORMATS, detect_format
from labelaudit.io.front import read_any
from labelaudit.io.options import ExportOptions, read_users
from labelaudit.table import Locator
from labelaudit.table.table import AnnotationTable

__all__ = [
    "FORMATS",
    "Control",
    "ExportOptions",
    "LabelConfig",
    "ReadReport",
    "detect_format",
    "parse_label_config",
    "read_any",
    "read_export",
    "read_users",
    "write_table",
]

#: Every value ``from_`` accepts.
FORMATS = (*PLATFORM_FORMATS, "canonical", "huggingface")
_UNITS = {
    "conll": "line",
    "prodigy": "line",
    "labelbox": "line",
    "doccano": "line",
    "sagemaker": "line",
    "scale": "record",
}
_FIELDS = {
    "label-studio": ("id", "completed_by"),
    "label-studio-min": ("id", "annotator"),
    "prodigy": ("_input_hash", "_annotator_id"),
    "labelbox": ("data_row.global_key", "label_details.created_by"),
    "doccano": ("id", "(file name)"),
    "sagemaker": ("source-ref", "workerId"),
    "argilla": ("id", "user_id"),
    "scale": ("task_id", "(vendor)"),
    "conll": ("(sentence position)", "(file name or annotator_cols)"),
}


def _paths(source: Any) -> list[Path]:
    items = list(source) if isinstance(source, (list, tuple)) else [source]
    paths = [Path(p) for p in items]
    for path in paths:
        if not path.exists():
            raise InputError(
                "file not found", source=str(path), expected="a readable file", actual=str(path)
            )
    return paths


def _raise_file_defect(source: Any) -> None:
    """Surface a truncated or malformed JSON file as such (not as 'unrecognised')."""
    from labelaudit.io._stream import iter_records

    json_suffixes = (".json", ".jsonl", ".ndjson", ".manifest")
    if (
        isinstance(source, (str, Path))
        and Path(source).is_file()
        and Path(source).suffix.lower() in json_suffixes
    ):
        for _ in iter_records(Path(source)):
            return
        raise InputError(
            "empty input",
            source=str(source),
            expected="at least one record",
            actual="an empty JSON array",
        )


def read_export(
    source: Any,
    *,
    from_: str | None = None,
    task_key: str | None = None,
    control: str | None = None,
    task: str | None = None,
    label_config: str | Path | None = None,
    level: str | None = None,
    categories: Sequence[Any] | str | None = None,
    on_duplicate: str = "error",
    include_models: bool = False,
    users: str | Path | dict[str, str] | None = None,
    annotator_cols: Sequence[str] | str | None = None,
) -> tuple[AnnotationTable, ReadReport]:
    """Read an annotation-platform export into a validated table and a read report.

    Parameters
    ----------
    source : path, list of paths, or Dataset
        The export file; several files (Label Studio projects merged on ``task_key``); a
        directory or ``.zip`` (doccano per-user files, SageMaker worker responses); or an
        in-memory Hugging Face ``datasets.Dataset``.
    from_ : str, optional
        One of :data:`FORMATS`; detected from the extension and the first record if omitted.
    task_key : str, optional
        Dotted path of the item key (``data.text``, ``meta.doc_id``, ``id``). Default: the
        platform's task id. Required to merge several Label Studio projects.
    control : str, optional
        The labelling control (question) to read when the export has several.
    task : str, optional
        Force the task type (e.g. ``multilabel`` for a choices control that happened to
        get one label each, ``ranking`` for an Argilla list value).
    label_config : str or Path, optional
        Label Studio labelling config (XML text or file): declared labels in order,
        multiple-choice flags, rating scale, the text field spans point into.
    level : str, optional
        Measurement level; default ``ordinal`` for ratings, else ``nominal``.
    categories : sequence or str, optional
        Declared categories (labels inside the payload for structured tasks).
    on_duplicate : {"error", "keep-last"}
        What a second annotation by the same annotator of the same item does.
    include_models : bool
        Label Studio: read predictions as rows of model annotators named by their
        ``model_version`` (``annotator_kind`` = ``model``). Default: left out (counted in
        a note), so agreement is between people.
    users : path or dict, optional
        Map of exported user ids to names (a CSV, see :func:`read_users`, or a dict).
    annotator_cols : sequence of str or comma-separated str, optional
        CoNLL only: one file's last tag columns, one annotator each (default: one
        annotator per file, the last column its tags; :mod:`labelaudit.io.conll`).

    Returns
    -------
    (AnnotationTable, ReadReport)
        The table (``table.task`` and ``table.payload`` per the structured-label contract)
        and what was read, skipped with reasons (first 20 examples with record numbers)
        and inferred.

    Raises
    ------
    InputError
        File-level defects: not JSON, not UTF-8, truncated, wrong format, no usable
        annotation. Record-level defects are skipped and counted in the report instead.
    UsageError
        Options that do not fit the export (unknown control, incompatible ``task``).
    """
    fmt = from_ or detect_format(source)
    if fmt is None:
        _raise_file_defect(source)
        raise InputError(
            "not a recognised annotation-platform export",
            source=str(source),
            expected=f"one of {', '.join(FORMATS)}",
            actual="a file whose first record matches none of them",
            hint="pass from_= (--from), or read a plain item/annotator/label table with "
            "read_annotations",
        )
    if fmt not in FORMATS:
        raise UsageError(f"from_ must be one of {', '.join(FORMATS)}; got {fmt!r}")
    options = Options(control, task, level, categories, on_duplicate)
    if fmt == "huggingface":
        from labelaudit.io.huggingface import read_dataset

        return read_dataset(source, options=options, task_key=task_key)
    paths = _paths(source)
    if fmt == "canonical":
        if len(paths) != 1:
            raise UsageError("a canonical table is read from one file")
        return read_canonical(
            paths[0], level=level, categories=categories, on_duplicate=on_duplicate
        )
    name = "+".join(p.name for p in paths) if len(paths) > 1 else str(paths[0])
    unit = _UNITS.get(fmt, "record")
    item_field, annotator_field = _FIELDS[fmt]
    col = Collector(
        name, fmt, unit=unit, item_field=task_key or item_field, annotator_field=annotator_field
    )
    col.report.files = [str(p) for p in paths]
    user_map = read_users(users) if isinstance(users, (str, Path)) else users
    if fmt == "conll":
        from labelaudit.io.conll import read as read_conll

        names = annotator_cols.split(",") if isinstance(annotator_cols, str) else annotator_cols
        read_conll(paths, col, task_key=task_key, options=options, annotators=names)
    else:
        _dispatch(fmt, paths, col, options, task_key, label_config, include_models, user_map)
    return col.finish(options, Locator(name, lambda row: row + 1, unit))


def _dispatch(
    fmt: str,
    paths: list[Path],
    col: Collector,
    options: Options,
    task_key: str | None,
    label_config: str | Path | None,
    include_models: bool = False,
    users: dict[str, str] | None = None,
) -> None:
    if fmt in ("label-studio", "label-studio-min"):
        from labelaudit.io._ls_config import parse_label_config
        from labelaudit.io.label_studio import read_label_studio

        if len(paths) > 1 and task_key is None:
            raise UsageError(
                "several Label Studio exports are merged on a task key: task ids differ "
                "between projects; pass task_key (--task-key data.FIELD)"
            )
        config = parse_label_config(label_config) if label_config is not None else None
        if config is not None:
            options.declared = {n: c.labels for n, c in config.controls.items() if c.labels}
            options.multiple = {n for n, c in config.controls.items() if c.multiple}
        read_label_studio(
            paths,
            col,
            minimal=fmt == "label-studio-min",
            task_key=task_key,
            config=config,
            control=options.control,
            include_models=include_models,
            users=users,
        )
        return
    from importlib import import_module

    module = import_module(f"labelaudit.io.{fmt}")
    module.read(paths, col, task_key=task_key, options=options)
