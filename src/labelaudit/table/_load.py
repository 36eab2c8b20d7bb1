"""Loading a file or DataFrame as an Arrow table of raw text columns (no validation yet).

One missing-value rule for every format: only the empty cell (and JSON ``null``, a
Parquet/DataFrame null) is missing; ``NA``, ``null``, ``nan`` and the like are labels
unless ``na_values`` lists them. Files are opened through :mod:`labelaudit.table.source`
(gzip decoded transparently, encodings and limits checked), so that every defect is one
:class:`~labelaudit.exceptions.InputError` naming the file and the line.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from labelaudit.csvio import unquote_formulas
from labelaudit.exceptions import InputError
from labelaudit.table._encode import Locator
from labelaudit.table.source import (
    current_limits,
    limit_error,
    open_arrow,
    open_binary,
    open_text,
    utf8_error,
)

__all__ = ["EXTENSIONS", "FORMATS", "format_of", "load_source"]

FORMATS = ("csv", "tsv", "jsonl", "json", "parquet")
EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".parquet": "parquet",
    ".pq": "parquet",
}


def format_of(path: Path) -> str | None:
    """The table format named by the extension (``x.csv.gz`` -> ``csv``), else None."""
    suffixes = [s.lower() for s in Path(path).suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    return EXTENSIONS.get(suffixes[-1]) if suffixes else None


def load_source(
    source: Any,
    format: str | None,
    *,
    na_values: Sequence[str] | None = None,
    dictionary: Collection[str] = (),
) -> tuple[pa.Table, Locator]:
    """Load a file or DataFrame as an Arrow table of raw columns, with its :class:`Locator`.

    No validation beyond the file format: callers pick columns and go through ``encode``.
    ``na_values``: cell texts (after trimming) read as missing besides the empty cell.
    ``dictionary``: names of Parquet string columns the caller can take as Arrow
    dictionary arrays (``dictionary<string>``); those with a small dictionary in the file
    come so (:func:`_dictionary_columns`), the others as strings. Other formats ignore it.
    """
    if isinstance(source, pa.Table):
        table, locator = source, _record_locator("<Table>", "row")
    elif hasattr(source, "to_arrow") and not isinstance(source, (str, Path)):
        table, locator = source.to_arrow(), _record_locator("<DataFrame>", "row")
    elif hasattr(source, "columns") and hasattr(source, "iloc"):
        table = pa.Table.from_pandas(source, preserve_index=False)
        locator = _record_locator("<DataFrame>", "row")
    else:
        table, locator = _load_file(source, format, dictionary)
    return _apply_na(table, na_values), locator


def _load_file(
    source: Any, format: str | None, dictionary: Collection[str] = ()
) -> tuple[pa.Table, Locator]:
    path = Path(source)
    name = str(source)
    if not path.is_file():
        raise InputError(
            "file not found", source=name, expected="a readable file", actual=str(path)
        )
    kind = format or format_of(path)
    if kind not in FORMATS:
        raise InputError(
            "unknown file format",
            source=name,
            field="--from",
            expected=f"one of {', '.join(FORMATS)}",
            actual=kind or path.suffix,
            hint="pass --from",
        )
    if kind == "parquet":
        return _load_parquet(path, name, dictionary)
    if kind in ("csv", "tsv"):
        return _load_csv(path, name, delimiter="\t" if kind == "tsv" else ",")
    return (_load_jsonl if kind == "jsonl" else _load_json)(path, name)


def _record_locator(name: str, unit: str) -> Locator:
    return Locator(name, lambda row: row + 1, unit)


def _apply_na(table: pa.Table, na_values: Sequence[str] | None) -> pa.Table:
    """Cells whose trimmed text is one of ``na_values`` become null (missing)."""
    if not na_values:
        return table
    value_set = pa.array([str(v).strip() for v in na_values], type=pa.string())
    for index, name in enumerate(table.column_names):
        column = table.column(index)
        if pa.types.is_dictionary(column.type) and pa.types.is_string(column.type.value_type):
            column = column.cast(pa.string())  # e.g. a Parquet dictionary column
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            continue
        hit = pc.is_in(pc.utf8_trim_whitespace(column), value_set=value_set)
        table = table.set_column(index, name, pc.if_else(hit, pa.scalar(None, column.type), column))
    return table


# ---------------------------------------------------------------------------- CSV / TSV
def _load_csv(path: Path, name: str, delimiter: str = ",") -> tuple[pa.Table, Locator]:
    import pyarrow.csv as pacsv

    header = _csv_header(path, name, delimiter)
    locator = Locator(name, lambda row: _csv_record_line(path, name, delimiter, row))
    convert = pacsv.ConvertOptions(
        column_types={column: pa.string() for column in header},
        null_values=[""],
        strings_can_be_null=True,
    )
    table = None
    for newlines_in_values in (False, True):
        # Without newlines in values Arrow splits the file at line ends in parallel; a
        # quoted value with a line break on a split raises ("out of sync with chunker"),
        # never a different table, and the file is then read again allowing them.
        parse = pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=newlines_in_values)
        try:
            with open_arrow(path, name) as handle:  # never a Python file: see open_arrow
                table = pacsv.read_csv(handle, parse_options=parse, convert_options=convert)
            break
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
            if newlines_in_values:
                raise _csv_shape_error(path, name, delimiter, len(header), error) from None
    assert table is not None
    _check_quotes(table, path, name, delimiter)
    return unquote_formulas(table), locator  # undo the formula guard of labelaudit's writers


def _csv_header(path: Path, name: str, delimiter: str) -> list[str]:
    try:
        with open_text(path, name) as handle:
            header = next(csv.reader(handle, delimiter=delimiter), None)
    except UnicodeDecodeError:
        raise _not_utf8(path, name) from None
    except csv.Error as error:
        raise InputError("unreadable CSV header", source=name, line=1, actual=str(error)) from None
    if not header:
        raise InputError(
            "empty input", source=name, line=1, expected="a header line", actual="an empty file"
        )
    seen: dict[str, int] = {}
    for position, column in enumerate(header, start=1):
        if column in seen:
            raise InputError(
                "duplicate column name",
                source=name,
                line=1,
                field=column,
                expected="each column name once in the header",
                actual=f"columns {seen[column]} and {position} are both named {column!r}",
                hint="rename one of the columns",
            )
        seen[column] = position
    return header


def _not_utf8(path: Path, name: str) -> InputError:
    return utf8_error(path, name) or InputError(
        "not UTF-8 text", source=name, expected="UTF-8 text"
    )


def _csv_record_line(path: Path, name: str, delimiter: str, row: int) -> int:
    """1-based line on which data record ``row`` starts (the header is line 1)."""
    with open_text(path, name) as handle:
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
    if "UTF8" in str(error) or "UTF-8" in str(error):
        return _not_utf8(path, name)
    try:
        with open_text(path, name) as handle:
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
    except UnicodeDecodeError:
        return _not_utf8(path, name)
    except csv.Error as csv_error:
        return InputError("unreadable CSV", source=name, line=start, actual=str(csv_error))
    return InputError("unreadable CSV", source=name, actual=str(error)[:300])


def _check_quotes(table: pa.Table, path: Path, name: str, delimiter: str) -> None:
    """A stray ``"`` opens a quoted field that swallows the following lines: when any
    cell holds a line break, re-read the file strictly (RFC 4180: a closing quote is
    followed by a delimiter or the end of the line) and name the line where the open
    quote began. Files without line breaks inside cells are never re-read."""
    if not any(_has_line_break(column) for column in table.columns):
        return
    with open_text(path, name) as handle:
        reader = csv.reader(handle, delimiter=delimiter, strict=True)
        start = 1
        try:
            for _ in reader:
                start = reader.line_num + 1
        except csv.Error as error:
            raise InputError(
                "unbalanced quote",
                source=name,
                line=start,
                expected='a quoted field closed by " before the next delimiter or line end',
                actual=f"{error} (the quoted field opened on line {start} runs to line "
                f"{reader.line_num})",
                hint='remove the stray " or double it ("") inside a quoted field',
            ) from None


def _has_line_break(column: pa.ChunkedArray) -> bool:
    """True when a string chunk's value bytes hold CR or LF (a ``memchr`` search of the
    data buffers, no per-value pass; bytes of a sliced chunk outside it may give a true
    that only costs the strict re-read)."""
    for chunk in column.chunks:
        if not (pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type)):
            continue
        data = chunk.buffers()[2]
        if data is not None:
            text = data.to_pybytes()
            if b"\n" in text or b"\r" in text:
                return True
    return False


# ---------------------------------------------------------------------------- JSON
def _json_error(name: str, line: int | None, error: Exception, expected: str) -> InputError:
    if isinstance(error, json.JSONDecodeError):
        actual = f"{error.msg} at column {error.colno}"
    elif isinstance(error, RecursionError):
        actual = "values nested too deeply"
    elif isinstance(error, UnicodeDecodeError):
        actual = f"byte {error.object[error.start : error.start + 1]!r} is not UTF-8"
    else:
        actual = str(error)[:200]
    return InputError(
        "malformed JSON line" if expected.startswith("one") else "malformed JSON",
        source=name,
        line=line,
        expected=expected,
        actual=actual,
    )


_JSON_ERRORS = (ValueError, RecursionError)  # JSONDecodeError, UnicodeDecodeError, 4,300 digits


def _load_jsonl(path: Path, name: str) -> tuple[pa.Table, Locator]:
    records: list[Any] = []
    lines: list[int] = []
    cap = current_limits().max_line_bytes
    with open_binary(path, name) as handle:
        number = 0
        while text := handle.readline(cap + 1):
            number += 1
            if len(text) > cap and not text.endswith(b"\n"):
                raise limit_error(f"{name}:{number}", "line length", cap, "--max-line-bytes")
            if not text.strip():
                continue
            try:
                records.append(json.loads(text.removeprefix(b"\xef\xbb\xbf")))
            except _JSON_ERRORS as error:
                raise _json_error(name, number, error, "one JSON object per line") from None
            lines.append(number)
    locator = Locator(name, lambda row: lines[row] if row < len(lines) else row + 1)
    return _records_to_table(records, name, locator), locator


def _load_json(path: Path, name: str) -> tuple[pa.Table, Locator]:
    with open_binary(path, name) as handle:
        data = handle.read()
    try:
        document = json.loads(data.removeprefix(b"\xef\xbb\xbf"))
    except _JSON_ERRORS as error:
        line = error.lineno if isinstance(error, json.JSONDecodeError) else None
        raise _json_error(name, line, error, "a JSON array of records") from None
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
    try:
        columns = {
            key: pa.array([_cell(r.get(key)) for r in records], type=pa.string()) for key in keys
        }
    except (ValueError, RecursionError) as error:
        raise InputError("unreadable JSON value", source=name, actual=str(error)[:200]) from None
    return pa.table(columns) if columns else pa.table({})


def _cell(value: Any) -> str | None:
    """A JSON value as cell text: null stays null (missing), numbers without ``.0``,
    objects and arrays as canonical JSON."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if not value.is_integer() else str(int(value))
    if isinstance(value, int):
        return str(value)
    return json.dumps(value, sort_keys=True)


# ---------------------------------------------------------------------------- Parquet
#: Largest mean size (bytes per value, uncompressed, dictionary page included) of a string
#: column chunk read as Arrow dictionary: dictionary indices of at most 16 bits per value.
#: Larger chunks mostly fell back to plain pages (a writer caps the dictionary page, 1 MiB
#: in Arrow), which Arrow would hash string by string to build a dictionary.
_DICTIONARY_BYTES_PER_VALUE = 2


def _load_parquet(
    path: Path, name: str, dictionary: Collection[str] = ()
) -> tuple[pa.Table, Locator]:
    """A Parquet file as an Arrow table. The columns named in ``dictionary`` that hold
    few distinct strings (:func:`_dictionary_columns`) come as dictionary arrays built
    from the file's own dictionary pages: no string is copied per row, and coding them
    hashes only the (per row group) dictionaries."""
    import pyarrow.parquet as pq

    try:
        with open_arrow(path, name) as handle:  # never a Python file: see open_arrow
            parquet = pq.ParquetFile(handle)
            chosen = _dictionary_columns(parquet.metadata, dictionary)
            if chosen:
                handle.seek(0)
                parquet = pq.ParquetFile(handle, metadata=parquet.metadata, read_dictionary=chosen)
            table = parquet.read()
    except (pa.ArrowException, OSError, ValueError) as error:
        raise InputError(
            "unreadable Parquet file",
            source=name,
            expected="a Parquet file",
            actual=str(error)[:300],
        ) from None
    return table, _record_locator(name, "row")


def _dictionary_columns(metadata: Any, wanted: Collection[str]) -> list[str]:
    """The ``wanted`` top-level string columns whose every row group has a dictionary
    page and which hold at most :data:`_DICTIONARY_BYTES_PER_VALUE` bytes per value (so
    their data pages are dictionary indices, not plain strings that Arrow would hash one
    by one). Only a matter of speed: Arrow reads any page layout as a dictionary array.
    ``large_string`` columns (dictionaries of them are refused downstream) stay as read."""
    if not wanted:
        return []
    try:
        schema = metadata.schema.to_arrow_schema()
    except (pa.ArrowException, ValueError):  # read as before; the reader reports the file
        return []
    leaves = {metadata.schema.column(i).path: i for i in range(metadata.num_columns)}
    chosen = []
    for field in schema:
        kind = field.type
        index = leaves.get(field.name)
        if field.name not in wanted or index is None or not pa.types.is_string(kind):
            continue
        chunks = [metadata.row_group(g).column(index) for g in range(metadata.num_row_groups)]
        values = sum(chunk.num_values for chunk in chunks)
        size = sum(chunk.total_uncompressed_size for chunk in chunks)
        if (
            chunks
            and all(chunk.has_dictionary_page for chunk in chunks)
            and size <= _DICTIONARY_BYTES_PER_VALUE * values
        ):
            chosen.append(field.name)
    return chosen


def file_locator(path: Path, format: str | None = None) -> Locator:
    """The :class:`Locator` reading ``path`` would give (rows -> lines or records), without
    reading it: for engines that read the file elsewhere and report errors the same way."""
    name = str(path)
    kind = format or format_of(Path(path))
    if kind in ("csv", "tsv"):
        delimiter = "\t" if kind == "tsv" else ","
        return Locator(name, lambda row: _csv_record_line(Path(path), name, delimiter, row))
    return _record_locator(name, "record" if kind in ("json",) else "row")
