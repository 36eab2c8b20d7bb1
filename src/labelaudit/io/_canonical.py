"""Write the canonical table (CSV, JSONL, Parquet) and read such a file back losslessly."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from labelaudit.csvio import unquote_formulas
from labelaudit.exceptions import InputError, UsageError
from labelaudit.io._payload import PAYLOAD_TYPES, TOKENS
from labelaudit.io._report import ReadReport
from labelaudit.io._stream import iter_records
from labelaudit.table import Locator, RawColumns, encode
from labelaudit.table.schema import TaskSchema
from labelaudit.table.table import AnnotationTable

__all__ = ["read_canonical", "write_table"]

_META_KEY = b"labelaudit.schema"
_SUFFIXES = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
_SUFFIXES |= {".parquet": "parquet", ".pq": "parquet"}
_TYPES: dict[str, pa.DataType] = {
    "duration_s": pa.float64(),
    "image_width": pa.float64(),
    "image_height": pa.float64(),
    "source_line": pa.int64(),
    "created_at": pa.timestamp("us", tz="UTC"),
    "tokens": TOKENS,
}


def _kind_of(path: Path) -> str:
    kind = _SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise UsageError(
            f"cannot tell the output format of {path.name!r}: use a .csv, .tsv, .jsonl or "
            ".parquet extension"
        )
    return kind


def write_table(table: AnnotationTable, path: str | Path, *, raw_csv: bool = False) -> Path:
    """Write the canonical table, format chosen by the file extension.

    Parameters
    ----------
    table : AnnotationTable
        Columns ``item``, ``annotator``, ``label``, ``payload`` (structured tasks) and the
        carried-along columns (``created_at``, ``duration_s``, ``task_id``, ...).
    path : str or Path
        ``.csv`` / ``.tsv``: structured values (payload, tokens) as JSON strings.
        ``.jsonl``: one JSON object per row, payloads as nested JSON.
        ``.parquet``: native Arrow structs; the task schema in the file metadata.
        Every format adds a ``task_type`` column so :func:`read_export` can read it back.
    raw_csv : bool, default False
        CSV/TSV cells unchanged (default: formula-like text cells get a leading ``'``,
        removed again when labelaudit reads the file; see :mod:`labelaudit.csvio`).

    Returns
    -------
    Path
    """
    path = Path(path)
    kind = _kind_of(path)
    data = table.data.append_column(
        "task_type", pa.array(np.full(table.n_ratings, table.task, dtype=object), pa.string())
    )
    if kind == "parquet":
        import pyarrow.parquet as pq

        metadata = {**(data.schema.metadata or {}), _META_KEY: json.dumps(table.schema.to_dict())}
        pq.write_table(data.replace_schema_metadata(metadata), path)
    elif kind == "jsonl":
        with path.open("w", encoding="utf-8") as handle:
            for batch in data.to_batches(max_chunksize=65_536):
                for row in batch.to_pylist():
                    handle.write(json.dumps(row, ensure_ascii=False, default=_json_default))
                    handle.write("\n")
    else:
        from labelaudit.csvio import write_csv

        write_csv(_flat(data, table), path, delimiter="\t" if kind == "tsv" else ",", raw=raw_csv)
    return path


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _flat(data: pa.Table, table: AnnotationTable) -> pa.Table:
    """Nested columns as JSON strings (the payload's JSON is the canonical label)."""
    for index, name in enumerate(data.column_names):
        column = data.column(name)
        if name == "payload":
            data = data.set_column(index, name, data.column("label"))
        elif pa.types.is_nested(column.type):
            text = [None if v is None else json.dumps(v) for v in column.to_pylist()]
            data = data.set_column(index, name, pa.array(text, pa.string()))
    del table
    return data


def _load(path: Path) -> tuple[pa.Table, dict[str, Any] | None, str]:
    kind = _kind_of(path)
    if kind == "parquet":
        import pyarrow.parquet as pq

        data = pq.read_table(path)
        meta = (data.schema.metadata or {}).get(_META_KEY)
        return data, json.loads(meta) if meta else None, "row"
    if kind == "jsonl":
        rows = [record.value for record in iter_records(path)]
        names = list(dict.fromkeys(key for row in rows for key in row))
        columns = {n: [row.get(n) for row in rows] for n in names}
        return pa.table({n: _column(n, v) for n, v in columns.items()}), None, "line"
    import pyarrow.csv as pacsv

    data = pacsv.read_csv(
        path,
        parse_options=pacsv.ParseOptions(delimiter="\t" if kind == "tsv" else ","),
        convert_options=pacsv.ConvertOptions(column_types=_csv_types(path, kind)),
    )
    return unquote_formulas(data), None, "line"


def _csv_types(path: Path, kind: str) -> dict[str, pa.DataType]:
    with path.open(encoding="utf-8-sig") as handle:
        header = handle.readline().rstrip("\r\n").split("\t" if kind == "tsv" else ",")
    names = [name.strip('"') for name in header]
    return {n: (_TYPES[n] if n in _TYPES and n != "tokens" else pa.string()) for n in names}


def _column(name: str, values: list[Any]) -> pa.Array:
    if name == "created_at":
        return pc.cast(pa.array(values, pa.string()), _TYPES[name])
    if name in _TYPES:
        return pa.array(values, _TYPES[name])
    if name == "payload":
        return pa.array([json.dumps(v) for v in values], pa.string())
    return pa.array(values)


def _parse_json(column: pa.ChunkedArray, kind_type: pa.DataType, native: bool) -> pa.Array:
    if native and column.type == kind_type:
        return column
    return pa.array([None if v is None else json.loads(v) for v in column.to_pylist()], kind_type)


def read_canonical(
    path: Path, *, level: str | None = None, categories: Any = None, on_duplicate: str = "error"
) -> tuple[AnnotationTable, ReadReport]:
    """Read a table written by :func:`write_table` back into an :class:`AnnotationTable`."""
    data, meta, unit = _load(path)
    for required in ("item", "annotator", "label", "task_type"):
        if required not in data.column_names:
            raise InputError(
                "not a labelaudit table",
                source=str(path),
                field=required,
                expected="the columns written by labelaudit convert",
                actual=", ".join(data.column_names),
            )
    tasks = pc.unique(data.column("task_type")).to_pylist()
    task = str(tasks[0]) if tasks else "categorical"
    extra: dict[str, Any] = {}
    for name in data.column_names:
        if name in ("item", "annotator", "label", "task_type"):
            continue
        column = data.column(name)
        if name == "payload" and task in PAYLOAD_TYPES:
            column = _parse_json(column, PAYLOAD_TYPES[task], unit == "row")
        elif name == "tokens":
            column = _parse_json(column, TOKENS, unit == "row")
        elif name == "created_at" and not pa.types.is_timestamp(column.type):
            column = pc.cast(column, _TYPES[name])
        extra[name] = column if isinstance(column, pa.ChunkedArray) else pa.chunked_array([column])
    declared = categories if categories is not None else (meta or {}).get("categories")
    schema = TaskSchema.create(level or (meta or {}).get("level", "nominal"), declared, task)
    raw = RawColumns(
        item=data.column("item"),
        annotator=data.column("annotator"),
        label=data.column("label"),
        rows=np.arange(data.num_rows),
        fields={"item": "item", "annotator": "annotator", "label": "label"},
        label_fields=None,
        extra=extra,
    )
    offset = 2 if unit == "line" and path.suffix.lower() != ".jsonl" else 1
    locator = Locator(str(path), lambda row: row + offset, unit)
    table = encode(raw, schema, locator, on_duplicate=on_duplicate)
    report = ReadReport(
        source=str(path),
        format="canonical",
        unit=unit,
        n_records=data.num_rows,
        n_annotations=data.num_rows,
        n_rows=table.n_ratings,
        task=task,
        schema=schema.to_dict(),
        files=[str(path)],
    )
    return table, report
