"""Files in and out of consensus: annotator weights (CSV) and the per-item labels."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pyarrow as pa

from labelaudit.exceptions import InputError, UsageError

__all__ = ["OUTPUT_FORMATS", "output_format", "read_weights_file", "write_consensus"]

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
    target = Path(path)
    kind = output_format(target)
    if kind == "csv":
        from labelaudit.csvio import write_csv

        write_csv(_flat(result), target, raw=raw_csv)
    elif kind == "parquet":
        import pyarrow.parquet as pq

        pq.write_table(result, target)
    else:
        columns = result.to_pydict()
        names = list(columns)
        with target.open("w", encoding="utf-8") as handle:
            for row in zip(*columns.values(), strict=True):
                record = dict(zip(names, row, strict=True))
                handle.write(json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n")
    return target


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
