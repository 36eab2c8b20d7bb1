"""Durations and timestamps carried along in the table, read as float seconds.

Durations (``duration_s``) are numbers of seconds. Timestamps (``created_at``) are ISO 8601
strings (all with a zone offset, or all without), Arrow timestamps, or numbers (epoch
seconds). Empty cells are missing (NaN); anything else unreadable is an
:class:`~labelaudit.exceptions.InputError` naming the record, the column and the value.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from labelaudit.exceptions import InputError
from labelaudit.table import NUMBER_PATTERN as _NUMBER
from labelaudit.table.table import AnnotationTable

__all__ = [
    "DURATION_COL",
    "TIME_COL",
    "TIME_FORMS",
    "duration_seconds",
    "resolve_column",
    "time_seconds",
    "time_seconds_form",
]

#: Default names of the optional columns.
DURATION_COL = "duration_s"
TIME_COL = "created_at"


def resolve_column(table: AnnotationTable, requested: str | None, default: str) -> str | None:
    """The column to use: ``requested`` (must exist), else ``default`` if present, else None."""
    names = table.data.column_names
    if requested is None:
        return default if default in names else None
    if requested not in names:
        raise InputError(
            "no such column",
            source=table.source,
            field=requested,
            expected="a column of the annotation file",
            actual=", ".join(names),
            hint="check the column name (--duration-col / --time-col)",
        )
    return requested


def _text_cells(column: pa.ChunkedArray) -> tuple[pa.ChunkedArray, np.ndarray]:
    """Trimmed text of each cell and the mask of empty / null cells."""
    text = pc.utf8_trim_whitespace(pc.cast(column, pa.string()))
    empty = pc.fill_null(pc.equal(pc.utf8_length(text), 0), True)
    return text, empty.to_numpy(zero_copy_only=False)


def _bad_value(
    table: AnnotationTable, name: str, row: int, value: object, expected: str
) -> InputError:
    return InputError(
        "unreadable value",
        source=table.source,
        line=row + 1,
        unit="record",
        field=name,
        expected=expected,
        actual=value,
        hint="fix the value or leave the cell empty (missing); or choose another column",
    )


def duration_seconds(table: AnnotationTable, name: str) -> np.ndarray:
    """Column ``name`` as seconds per label, shape (n_ratings,), float64 (NaN = missing).

    Raises
    ------
    InputError
        A cell that is not a number, or a negative number.
    """
    column = table.data.column(name)
    if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
        values = np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64)
    else:
        text, empty = _text_cells(column)
        number = pc.fill_null(pc.match_substring_regex(text, _NUMBER), False)
        bad = np.flatnonzero(~empty & ~number.to_numpy(zero_copy_only=False))
        if bad.size:
            value = text[int(bad[0])].as_py()
            raise _bad_value(table, name, int(bad[0]), value, "a duration in seconds")
        cells = text.to_numpy(zero_copy_only=False).astype(object)
        values = np.asarray(np.where(empty, "nan", cells).astype(str), dtype=np.float64)
    negative = np.flatnonzero(values < 0)
    if negative.size:
        row = int(negative[0])
        raise _bad_value(table, name, row, float(values[row]), "a duration >= 0 seconds")
    return values


def time_seconds(table: AnnotationTable, name: str) -> np.ndarray:
    """Column ``name`` as seconds since the epoch, shape (n_ratings,), float64 (NaN = missing).

    Raises
    ------
    InputError
        A cell that is neither an ISO 8601 timestamp nor a number, or a mix of timestamps
        with and without a zone offset.
    """
    return time_seconds_form(table, name)[0]


#: How :func:`time_seconds_form` read a text column: no cell, numbers, ISO 8601 with a
#: zone offset, without one.
TIME_FORMS = ("empty", "number", "zoned", "naive")


def time_seconds_form(table: AnnotationTable, name: str) -> tuple[np.ndarray, str]:
    """:func:`time_seconds` and how the column was read (one of :data:`TIME_FORMS`;
    ``zoned`` for a typed timestamp column, ``number`` for a numeric one): parts of a
    column read alone give the whole column's values when they were all read one way."""
    column = table.data.column(name)
    if pa.types.is_timestamp(column.type):
        return _epoch(column), "zoned"
    if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
        return np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64), "number"
    text, empty = _text_cells(column)
    present = text.filter(pa.array(~empty))
    number = pc.fill_null(pc.match_substring_regex(present, _NUMBER), False)
    if present.length() and pc.all(number).as_py():
        cells = text.to_numpy(zero_copy_only=False).astype(object)
        values = np.asarray(np.where(empty, "nan", cells).astype(str), dtype=np.float64)
        return values, "number"
    cleaned = pc.if_else(pa.array(empty), pa.scalar(None, pa.string()), text)
    for target, form in ((pa.timestamp("us", tz="UTC"), "zoned"), (pa.timestamp("us"), "naive")):
        try:
            values = _epoch(pc.cast(cleaned, target))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
        return values, form if present.length() else "empty"
    row, value = _first_unparsable(cleaned)
    raise _bad_value(
        table, name, row, value, "an ISO 8601 timestamp (all with a zone offset, or all without)"
    )


def _epoch(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    micros = pc.cast(
        pc.cast(column, pa.timestamp("us", tz=getattr(column.type, "tz", None))), pa.int64()
    )
    values = micros.to_numpy(zero_copy_only=False)
    return np.asarray(values, dtype=np.float64) / 1e6


def _first_unparsable(cleaned: pa.ChunkedArray) -> tuple[int, object]:
    """Error path only: the first cell that neither timestamp type accepts."""
    cells = cleaned.to_pylist()
    tz_ok = _parses(cells, pa.timestamp("us", tz="UTC"))
    naive_ok = _parses(cells, pa.timestamp("us"))
    for row, (cell, a, b) in enumerate(zip(cells, tz_ok, naive_ok, strict=True)):
        if cell is not None and not (a or b):
            return row, cell
    # every cell parses one way or the other: the column mixes the two forms
    first_naive = next(r for r, (c, a) in enumerate(zip(cells, tz_ok, strict=True)) if c and not a)
    return first_naive, cells[first_naive]


def _parses(cells: list[object], target: pa.DataType) -> list[bool]:
    out = []
    for cell in cells:
        try:
            pc.cast(pa.array([cell], type=pa.string()), target)
            out.append(True)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            out.append(False)
    return out
