"""Readers: CSV, TSV, JSONL, JSON (array of records), Parquet and DataFrames -> AnnotationTable.

Every source goes through the same boundary: pick the columns, reshape a wide layout to
long, then :func:`labelaudit.table._encode.encode` validates and integer-codes once.
Errors name the file, the line (or record), the field, what was expected and what was found.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from labelaudit.exceptions import InputError, UsageError
from labelaudit.table._encode import LIST_TASKS, Locator, RawColumns, as_text, encode
from labelaudit.table._load import EXTENSIONS, FORMATS, format_of, load_source
from labelaudit.table.schema import TaskSchema
from labelaudit.table.table import AnnotationTable

__all__ = [
    "FORMATS",
    "format_of",
    "from_dataframe",
    "load_source",
    "raw_columns",
    "read_annotations",
]

_EXTENSIONS = EXTENSIONS  # the former private name
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
    na_values: Sequence[str] | str | None = None,
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
    na_values : sequence or comma-separated str, optional
        Cell texts read as missing besides the empty cell (e.g. ``NA,null``). By default
        only the empty cell (JSON ``null``, a Parquet null) is missing, in every format:
        ``NA``, ``null`` and ``nan`` are labels. ``table.report["missing_cells"]`` counts
        the cells of the used columns treated as missing.

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
    wanted = set() if layout == "wide" else _candidates(item_col, annotator_col, label_col)
    table, locator = load_source(
        source, format, na_values=split_names(na_values), dictionary=wanted
    )
    # long layout: encode refuses a missing id or label (list tasks excepted, where an
    # empty cell is an empty annotation), so a table that reads has no missing cell and
    # the count (a pass over every string) is only needed for the other cases
    counted = layout == "wide" or schema.task in LIST_TASKS
    raw, missing = raw_columns(
        table,
        locator,
        layout=layout,
        item_col=item_col,
        annotator_col=annotator_col,
        label_col=label_col,
        annotator_cols=annotator_cols,
        count_missing=counted,
    )
    for name in wanted & raw.extra.keys():  # an alias left unused: back to strings
        if pa.types.is_dictionary(raw.extra[name].type):
            raw.extra[name] = raw.extra[name].cast(raw.extra[name].type.value_type)
    result = encode(raw, schema, locator, on_duplicate=on_duplicate)
    result.report["missing_cells"] = missing
    return result


def _candidates(*requested: str | None) -> set[str]:
    """Names the long layout's item, annotator and label columns may have: the requested
    ones, else the aliases (those columns may load as dictionary arrays, which ``encode``
    codes from their dictionaries; other columns keep their type)."""
    names: set[str] = set()
    for role, name in zip(("item", "annotator", "label"), requested, strict=True):
        names.update((name,) if name is not None else ALIASES[role])
    return names


def split_names(names: Sequence[str] | str | None) -> tuple[str, ...] | None:
    """A comma-separated option as a tuple of trimmed names (None when empty)."""
    if names is None:
        return None
    if isinstance(names, str):
        names = names.split(",")
    out = tuple(str(n).strip() for n in names if str(n).strip())
    return out or None


def raw_columns(
    table: pa.Table,
    locator: Locator,
    *,
    layout: str = "long",
    item_col: str | None = None,
    annotator_col: str | None = None,
    label_col: str | None = None,
    annotator_cols: Sequence[str] | str | None = None,
    count_missing: bool = True,
) -> tuple[RawColumns, int]:
    """The canonical columns of a loaded table (before validation), and the number of
    cells of the used columns treated as missing (null, or empty after trimming; 0
    without counting when ``count_missing`` is false)."""
    if layout == "wide":
        raw = _wide_columns(table, locator, item_col, annotator_cols)
        used = [raw.fields["item"], *_annotator_columns(table, raw.fields["item"], annotator_cols)]
    else:
        raw = _long_columns(table, locator, item_col, annotator_col, label_col)
        used = list(raw.fields.values())
    missing = sum(_n_missing(table.column(name)) for name in used) if count_missing else 0
    return raw, missing


def _n_missing(column: pa.ChunkedArray) -> int:
    """Missing cells as :func:`as_text` sees them (null, NaN, empty or all whitespace),
    counted without building the text: integers and booleans miss only nulls, floats also
    NaN, strings also cells that are empty or whitespace only."""
    kind = column.type
    if pa.types.is_integer(kind) or pa.types.is_boolean(kind):
        return column.null_count
    if pa.types.is_floating(kind):
        return column.null_count + int(pc.sum(pc.is_nan(column).cast(pa.int64())).as_py() or 0)
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        column = as_text(column)
    blank = pc.or_(pc.equal(pc.utf8_length(column), 0), pc.utf8_is_space(column))
    return column.null_count + int(pc.sum(blank.cast(pa.int64())).as_py() or 0)


def from_dataframe(frame: Any, **options: Any) -> AnnotationTable:
    """Same as :func:`read_annotations` for a pandas/polars DataFrame or a pyarrow Table."""
    return read_annotations(frame, **options)


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
    table = _scalar(table, (item, annotator, label), locator)
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
    columns = _annotator_columns(table, item, annotator_cols)
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
    table = _scalar(table, (item, *columns), locator)
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


def _annotator_columns(
    table: pa.Table, item: str, annotator_cols: Sequence[str] | str | None
) -> list[str]:
    chosen = split_names(annotator_cols)
    return list(chosen) if chosen else [n for n in table.column_names if n != item]


def _scalar(table: pa.Table, names: Sequence[str], locator: Locator) -> pa.Table:
    """The table with ``names`` as scalar columns: binary columns decoded as UTF-8; list,
    struct, map and other nested columns refused (an id or label is one value)."""
    for name in dict.fromkeys(names):
        index = table.column_names.index(name)
        kind = table.schema.field(index).type
        if pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
            try:
                table = table.set_column(index, name, pc.cast(table.column(index), pa.string()))
            except pa.ArrowInvalid:
                raise InputError(
                    "binary column is not UTF-8 text",
                    source=locator.source,
                    field=name,
                    expected="text or numbers",
                    actual=str(kind),
                ) from None
            continue
        scalar = not pa.types.is_nested(kind) and (
            pa.types.is_string(kind)
            or pa.types.is_large_string(kind)
            or pa.types.is_integer(kind)
            or pa.types.is_floating(kind)
            or pa.types.is_boolean(kind)
            or pa.types.is_decimal(kind)
            or pa.types.is_null(kind)
            or (pa.types.is_dictionary(kind) and pa.types.is_string(kind.value_type))
        )
        if not scalar:
            raise InputError(
                "not a column of single values",
                source=locator.source,
                field=name,
                expected="text or numbers (one value per cell)",
                actual=str(kind),
                hint="pick another column, or flatten this one before reading",
            )
    return table


def _cells_as_text(column: pa.ChunkedArray) -> np.ndarray:
    """Column as an object array of stripped strings, '' for null (not rated)."""
    as_strings = as_text(column)
    text = as_strings.to_numpy(zero_copy_only=False).astype(object)
    text[pc.is_null(as_strings).to_numpy(zero_copy_only=False)] = ""
    return text


_load = load_source  # the former private name, kept for in-flight callers
