"""Readers: CSV, TSV, JSONL, JSON (array of records), Parquet and DataFrames -> AnnotationTable.

Every source goes through the same boundary: pick the columns, reshape a wide layout to
long, then :func:`labelaudit.table._encode.encode` validates and integer-codes once.
Errors name the file, the line (or record), the field, what was expected and what was found.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from labelaudit.csvio import unquote_formulas
from labelaudit.exceptions import InputError, UsageError
from labelaudit.table._encode import Locator, RawColumns, as_text, encode
from labelaudit.table.schema import TaskSchema
from labelaudit.table.table import AnnotationTable

__all__ = ["FORMATS", "from_dataframe", "load_source", "read_annotations"]

FORMATS = ("csv", "tsv", "jsonl", "json", "parquet")
_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".parquet": "parquet",
    ".pq": "parquet",
}
ALIASES = {
    "item": ("item", "item_id", "task"),
    "annotator": ("annotator", "annotator_id", "worker", "rater"),
    "label": ("label",),
}


def read_annotations(
    source: str | Path | Any,
    *,
    format: str | None = None,
    layout: str = "long",
    item_col: str | None = None,
    annotator_col: str | None = None,
    label_col: str | None = None,
    annotator_cols: Sequence[str] | str | None = None,
    level: str = "nominal",
    categories: Sequence[Any] | str | None = None,
    on_duplicate: str = "error",
    task: str = "categorical",
) -> AnnotationTable:
    """Read annotations from a file or a DataFrame into a validated :class:`AnnotationTable`.

    Parameters
    ----------
    source : path or DataFrame
        CSV, TSV, JSONL, JSON (array of records) or Parquet file; or a pandas / polars
        DataFrame or pyarrow Table.
    format : str, optional
        One of ``csv, tsv, jsonl, json, parquet``; inferred from the extension if omitted.
    layout : {"long", "wide"}
        Long: one row per (item, annotator, label). Wide: one row per item, one column
        per annotator (``annotator_cols``; default every column but the item column);
        empty cells are "not rated".
    item_col, annotator_col, label_col : str, optional
        Column names; default ``item``, ``annotator``, ``label``, else the aliases
        ``item_id``/``task`` and ``annotator_id``/``worker``/``rater`` (exactly one may match).
    level : {"nominal", "ordinal", "interval", "ratio"}
        Measurement level.
    categories : sequence or comma-separated str, optional
        Declared categories in order (may include unused ones).
    on_duplicate : {"error", "keep-last"}
        What a second label for the same (item, annotator) does.
    task : str
        Task type (see :data:`labelaudit.table.schema.TASKS`); structured tasks are normally
        set by the platform readers, which also fill the ``payload`` column.

    Returns
    -------
    AnnotationTable

    Raises
    ------
    InputError
        Unreadable file, missing columns or values, labels outside the declared
        categories, non-numeric labels at interval/ratio level, duplicates, empty input.
    """
    if on_duplicate not in ("error", "keep-last"):
        raise UsageError(f"on_duplicate must be 'error' or 'keep-last'; got {on_duplicate!r}")
    if layout not in ("long", "wide"):
        raise UsageError(f"layout must be 'long' or 'wide'; got {layout!r}")
    schema = TaskSchema.create(level, categories, task)
    table, locator = load_source(source, format)
    if layout == "wide":
        raw = _wide_columns(table, locator, item_col, annotator_cols)
    else:
        raw = _long_columns(table, locator, item_col, annotator_col, label_col)
    return encode(raw, schema, locator, on_duplicate=on_duplicate)


def from_dataframe(frame: Any, **options: Any) -> AnnotationTable:
    """Same as :func:`read_annotations` for a pandas/polars DataFrame or a pyarrow Table."""
    return read_annotations(frame, **options)


# ---------------------------------------------------------------------------- loading
def load_source(source: Any, format: str | None) -> tuple[pa.Table, Locator]:
    """Load a file or DataFrame as an Arrow table of raw columns, with its :class:`Locator`.

    No validation beyond the file format: callers pick columns and go through ``encode``.
    """
    if isinstance(source, pa.Table):
        return source, _record_locator("<Table>", "row")
    if hasattr(source, "to_arrow") and not isinstance(source, (str, Path)):
        return source.to_arrow(), _record_locator("<DataFrame>", "row")
    if hasattr(source, "columns") and hasattr(source, "iloc"):
        return pa.Table.from_pandas(source, preserve_index=False), _record_locator(
            "<DataFrame>", "row"
        )
    path = Path(source)
    name = str(source)
    if not path.is_file():
        raise InputError(
            "file not found", source=name, expected="a readable file", actual=str(path)
        )
    kind = format or _EXTENSIONS.get(path.suffix.lower())
    if kind not in FORMATS:
        raise InputError(
            "unknown file format",
            source=name,
            field="format",
            expected=f"one of {', '.join(FORMATS)}",
            actual=kind or path.suffix,
            hint="name the format: --from on the command line, format= in Python",
        )
    loaders: dict[str, Callable[[Path, str], tuple[pa.Table, Locator]]] = {
        "csv": _load_csv,
        "tsv": _load_csv,
        "jsonl": _load_jsonl,
        "json": _load_json,
        "parquet": _load_parquet,
    }
    if kind == "tsv":
        return _load_csv(path, name, delimiter="\t")
    return loaders[kind](path, name)


def _record_locator(name: str, unit: str) -> Locator:
    return Locator(name, lambda row: row + 1, unit)


def _load_csv(path: Path, name: str, delimiter: str = ",") -> tuple[pa.Table, Locator]:
    import pyarrow.csv as pacsv

    with path.open(newline="", encoding="utf-8-sig") as handle:
        header = next(csv.reader(handle, delimiter=delimiter), None)
    if not header:
        raise InputError(
            "empty input", source=name, line=1, expected="a header line", actual="an empty file"
        )
    locator = Locator(name, lambda row: _csv_record_line(path, delimiter, row))
    try:
        table = pacsv.read_csv(
            path,
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={column: pa.string() for column in header},
                strings_can_be_null=True,
            ),
        )
    except pa.ArrowInvalid as error:
        raise _csv_shape_error(path, name, delimiter, len(header), error) from None
    return unquote_formulas(table), locator  # undo the formula guard of labelaudit's writers


def _csv_record_line(path: Path, delimiter: str, row: int) -> int:
    """1-based line on which data record ``row`` starts (the header is line 1)."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        next(reader, None)
        line = reader.line_num + 1
        for index, _ in enumerate(reader):
            if index == row:
                return line
            line = reader.line_num + 1
    return line


def _csv_shape_error(
    path: Path, name: str, delimiter: str, width: int, error: Exception
) -> InputError:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        start = 1
        for record in reader:
            if record and len(record) != width:
                return InputError(
                    "malformed row",
                    source=name,
                    line=start,
                    expected=f"{width} fields (as in the header)",
                    actual=f"{len(record)} fields",
                )
            start = reader.line_num + 1
    return InputError("unreadable CSV", source=name, actual=str(error))


def _load_jsonl(path: Path, name: str) -> tuple[pa.Table, Locator]:
    records: list[Any] = []
    lines: list[int] = []
    with path.open(encoding="utf-8-sig") as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                records.append(json.loads(text))
            except json.JSONDecodeError as error:
                raise InputError(
                    "malformed JSON line",
                    source=name,
                    line=number,
                    expected="one JSON object per line",
                    actual=f"{error.msg} at column {error.colno}",
                ) from None
            lines.append(number)
    locator = Locator(name, lambda row: lines[row] if row < len(lines) else row + 1)
    return _records_to_table(records, name, locator), locator


def _load_json(path: Path, name: str) -> tuple[pa.Table, Locator]:
    try:
        with path.open(encoding="utf-8-sig") as handle:
            document = json.load(handle)
    except json.JSONDecodeError as error:
        raise InputError(
            "malformed JSON",
            source=name,
            line=error.lineno,
            expected="a JSON array of records",
            actual=f"{error.msg} at column {error.colno}",
        ) from None
    if isinstance(document, dict):
        document = next((v for v in document.values() if isinstance(v, list)), None)
    if not isinstance(document, list):
        raise InputError(
            "not an array of records",
            source=name,
            expected="a JSON array of objects",
            actual=type(document).__name__,
        )
    locator = _record_locator(name, "record")
    return _records_to_table(document, name, locator), locator


def _records_to_table(records: list[Any], name: str, locator: Locator) -> pa.Table:
    keys: dict[str, None] = {}
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise locator.error(
                index, "not a JSON object", expected="an object", actual=type(record).__name__
            )
        keys.update(dict.fromkeys(record))
    columns = {
        key: pa.array([_cell(r.get(key)) for r in records], type=pa.string()) for key in keys
    }
    return pa.table(columns) if columns else pa.table({})


def _cell(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return (
            repr(value)
            if isinstance(value, float) and not value.is_integer()
            else str(int(value) if isinstance(value, float) else value)
        )
    return json.dumps(value, sort_keys=True)


def _load_parquet(path: Path, name: str) -> tuple[pa.Table, Locator]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as error:
        raise InputError(
            "unreadable Parquet file", source=name, expected="a Parquet file", actual=str(error)
        ) from None
    return table, _record_locator(name, "row")


# ---------------------------------------------------------------------------- columns
def _resolve(names: list[str], role: str, requested: str | None, locator: Locator) -> str:
    if requested is not None:
        if requested not in names:
            raise InputError(
                f"no {role} column",
                source=locator.source,
                field=requested,
                expected=f"a column named {requested!r}",
                actual=", ".join(names) or "no columns",
                hint=f"pass --{role}-col with one of the columns above",
            )
        return requested
    matches = [alias for alias in ALIASES[role] if alias in names]
    if ALIASES[role][0] in names:
        return ALIASES[role][0]
    if len(matches) == 1:
        return matches[0]
    problem = f"no {role} column" if not matches else f"ambiguous {role} column"
    raise InputError(
        problem,
        source=locator.source,
        field=f"--{role}-col",
        expected=f"exactly one of {', '.join(ALIASES[role])}",
        actual=", ".join(matches or names) or "no columns",
        hint=f"pass --{role}-col NAME",
    )


def _long_columns(
    table: pa.Table,
    locator: Locator,
    item_col: str | None,
    annotator_col: str | None,
    label_col: str | None,
) -> RawColumns:
    names = table.column_names
    item = _resolve(names, "item", item_col, locator)
    annotator = _resolve(names, "annotator", annotator_col, locator)
    label = _resolve(names, "label", label_col, locator)
    used = {item, annotator, label}
    extra = {n: table.column(n) for n in names if n not in used}
    return RawColumns(
        item=table.column(item),
        annotator=table.column(annotator),
        label=table.column(label),
        rows=np.arange(table.num_rows),
        fields={"item": item, "annotator": annotator, "label": label},
        label_fields=None,
        extra=extra,
    )


def _wide_columns(
    table: pa.Table,
    locator: Locator,
    item_col: str | None,
    annotator_cols: Sequence[str] | str | None,
) -> RawColumns:
    names = table.column_names
    item = _resolve(names, "item", item_col, locator)
    if isinstance(annotator_cols, str):
        annotator_cols = [c.strip() for c in annotator_cols.split(",") if c.strip()]
    columns = list(annotator_cols) if annotator_cols else [n for n in names if n != item]
    for column in columns:
        if column not in names:
            raise InputError(
                "no annotator column",
                source=locator.source,
                field=column,
                expected="a column of the file",
                actual=", ".join(names),
                hint="check --annotator-cols",
            )
    item_values = table.column(item)
    rows, annotators, labels, fields = [], [], [], []
    for column in columns:
        values = _cells_as_text(table.column(column))
        rated = np.flatnonzero(values != "")
        rows.append(rated)
        labels.append(values[rated])
        annotators.append(np.full(rated.size, column, dtype=object))
        fields.append(np.full(rated.size, column, dtype=object))
    row_index = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    item_array = item_values.take(pa.array(row_index, type=pa.int64()))
    return RawColumns(
        item=item_array,
        annotator=pa.chunked_array([pa.array(np.concatenate(annotators), type=pa.string())]),
        label=pa.chunked_array([pa.array(np.concatenate(labels), type=pa.string())]),
        rows=row_index,
        fields={"item": item, "annotator": "(column name)", "label": "label"},
        label_fields=np.concatenate(fields),
        extra={},
    )


def _cells_as_text(column: pa.ChunkedArray) -> np.ndarray:
    """Column as an object array of stripped strings, '' for null (not rated)."""
    as_strings = as_text(column)
    text = as_strings.to_numpy(zero_copy_only=False).astype(object)
    text[pc.is_null(as_strings).to_numpy(zero_copy_only=False)] = ""
    return text


_load = load_source  # the former private name, kept for in-flight callers
