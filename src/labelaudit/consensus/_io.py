"""Files in and out of consensus: annotator weights (CSV) and the per-item labels."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pyarrow as pa

from labelaudit.exceptions import InputError, UsageError

__all__ = [
    "OUTPUT_FORMATS",
    "output_format",
    "read_weights_file",
    "write_consensus",
    "write_consensus_parts",
]

OUTPUT_FORMATS = {
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}


def read_weights_file(path: str | Path) -> dict[str, float]:
    """Read ``annotator,weight`` rows (a header line ``annotator,weight`` is optional).

    Parameters
    ----------
    path : str or Path
        CSV file, one annotator per line.

    Returns
    -------
    dict of str to float
        Annotator name -> weight.

    Raises
    ------
    InputError
        Missing file, a line without exactly two fields, a weight that is not a finite
        number >= 0, or an annotator listed twice (each names the line).
    """
    source = str(path)
    file = Path(path)
    if not file.is_file():
        raise InputError("file not found", source=source, expected="a readable file")
    return _parse_weights(file, source)


def _parse_weights(file: Path, source: str) -> dict[str, float]:
    weights: dict[str, float] = {}
    with file.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        for record in reader:
            line = reader.line_num
            if not record or all(not cell.strip() for cell in record):
                continue
            if len(record) != 2:
                raise InputError(
                    "malformed weights line",
                    source=source,
                    line=line,
                    expected="2 fields: annotator,weight",
                    actual=f"{len(record)} fields",
                )
            name, text = record[0].strip(), record[1].strip()
            if line == 1 and name.lower() == "annotator" and text.lower() == "weight":
                continue
            weight = _weight(text, source, line)
            if name in weights:
                raise InputError(
                    "annotator listed twice",
                    source=source,
                    line=line,
                    field="annotator",
                    expected="one weight per annotator",
                    actual=name,
                )
            weights[name] = weight
    if not weights:
        raise InputError("no weights", source=source, expected="annotator,weight lines")
    return weights


def _weight(text: str, source: str, line: int) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise InputError(
            "invalid weight",
            source=source,
            line=line,
            field="weight",
            expected="a finite number >= 0",
            actual=text,
        )
    return value


def output_format(path: str | Path) -> str:
    """``csv``, ``jsonl`` or ``parquet`` from the extension; UsageError for anything else."""
    kind = OUTPUT_FORMATS.get(Path(path).suffix.lower())
    if kind is None:
        msg = (
            f"cannot tell the output format of {str(path)!r} from its extension; "
            f"use one of {', '.join(OUTPUT_FORMATS)}"
        )
        raise UsageError(msg)
    return kind


def write_consensus(result: pa.Table, path: str | Path, *, raw_csv: bool = False) -> Path:
    """Write the per-item table as CSV, JSONL or Parquet, by the file's extension.

    Parameters
    ----------
    result : pyarrow.Table
        Output of :func:`labelaudit.consensus.consensus_table`.
    path : str or Path
        ``.csv``, ``.jsonl`` / ``.ndjson`` or ``.parquet`` / ``.pq``. Nulls are empty
        cells in CSV and ``null`` in JSONL. Structured labels (lists, structs) stay
        nested in JSONL and Parquet and are JSON text in a CSV cell.
    raw_csv : bool, default False
        CSV cells unchanged (default: formula-like text cells get a leading ``'``, see
        :mod:`labelaudit.csvio`).

    Returns
    -------
    Path
        The path written.

    Raises
    ------
    UsageError
        Unknown extension.
    """
    return write_consensus_parts([result], path, raw_csv=raw_csv)


def write_consensus_parts(
    parts: Iterable[pa.Table], path: str | Path, *, raw_csv: bool = False
) -> Path:
    """:func:`write_consensus` of the concatenation of ``parts`` (same columns), written
    part by part: the rows never need to be in memory at once (the Spark engine streams
    its per-item results this way). At least one part, possibly empty."""
    target = Path(path)
    kind = output_format(target)
    with ExitStack() as stack:
        writer: Any = None
        for part in parts:
            writer = _write_part(part, kind, target, raw_csv, writer, stack)
    return target


def _write_part(
    part: pa.Table, kind: str, target: Path, raw_csv: bool, writer: Any, stack: ExitStack
) -> Any:
    """Append ``part`` to ``target`` (opening the writer on the first part); the writer."""
    if kind == "csv":
        import pyarrow.csv as pacsv

        from labelaudit.csvio import neutralise_formulas

        flat = _flat(part)
        data = flat if raw_csv else neutralise_formulas(flat)
        if writer is None:
            writer = stack.enter_context(pacsv.CSVWriter(target, data.schema))
        writer.write_table(data)
    elif kind == "parquet":
        import pyarrow.parquet as pq

        if writer is None:
            writer = stack.enter_context(pq.ParquetWriter(target, part.schema))
        writer.write_table(part)
    else:
        if writer is None:
            writer = stack.enter_context(target.open("w", encoding="utf-8"))
        _write_jsonl(part, writer)
    return writer


def _write_jsonl(result: pa.Table, handle: Any) -> None:
    columns = result.to_pydict()
    names = list(columns)
    for row in zip(*columns.values(), strict=True):
        record = dict(zip(names, row, strict=True))
        handle.write(json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n")


def _flat(result: pa.Table) -> pa.Table:
    """Nested columns (structured labels) as JSON text, for CSV."""
    for index, name in enumerate(result.column_names):
        column = result.column(name)
        if pa.types.is_nested(column.type):
            text = [
                None if v is None else json.dumps(v, ensure_ascii=False, allow_nan=False)
                for v in column.to_pylist()
            ]
            result = result.set_column(index, name, pa.array(text, type=pa.string()))
    return result
