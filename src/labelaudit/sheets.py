"""Flat tables for spreadsheets: CSV and XLSX that Google Sheets, Excel and Airtable import.

The shape spreadsheet imports expect: one header row of plain column names (no merged or
two-level headers), one value per cell (nested values flattened to dotted columns, a
``[low, high]`` interval to ``_low`` / ``_high`` columns, other lists to ``"; "``-joined
text), timestamps as ISO 8601 text in UTC (``2024-05-01T10:00:00Z``), numbers as numbers.

Formula safety is the one rule of :mod:`labelaudit.csvio`: every text cell and every header
name that a spreadsheet would run as a formula (first character ``=``, ``+``, ``-``, ``@``,
tab or CR, unless the text is a plain number) gains a leading ``'``
(:func:`labelaudit.csvio.neutralise_strings`). CSV goes through
:func:`labelaudit.csvio.write_csv`; XLSX is written with openpyxl (the ``[xlsx]`` extra),
every text value as a string cell (``data_type 's'``), never a formula, characters XML
cannot hold replaced by U+FFFD, non-finite numbers as empty cells.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from labelaudit.exceptions import UsageError

__all__ = ["SHEET_FORMATS", "flat_table", "write_sheet", "write_xlsx"]

#: Output formats of :func:`write_sheet`.
SHEET_FORMATS = ("xlsx", "csv")
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
#: Excel's limit on the characters of one cell.
_CELL_LIMIT = 32767


def _iso(value: datetime | date) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(timespec="seconds") + "Z"
    return value.isoformat()


def _flat_value(key: str, value: Any, out: dict[str, Any]) -> None:
    """Put one (possibly nested) value into ``out`` under flat column names."""
    if isinstance(value, Mapping):
        for sub, inner in value.items():
            _flat_value(f"{key}.{sub}", inner, out)
    elif isinstance(value, (list, tuple)):
        numeric = all(isinstance(v, (int, float)) or v is None for v in value)
        if len(value) == 2 and numeric and ("ci" in key or "interval" in key):
            out[f"{key}_low"], out[f"{key}_high"] = value
        elif all(not isinstance(v, (Mapping, list, tuple)) for v in value):
            out[key] = "; ".join("" if v is None else str(v) for v in value)
        else:
            out[key] = json.dumps(value, ensure_ascii=False, default=str)
    elif isinstance(value, (datetime, date)):
        out[key] = _iso(value)
    elif isinstance(value, float) and not math.isfinite(value):
        out[key] = None
    else:
        out[key] = value


def flat_table(records: Sequence[Mapping[str, Any]], columns: Sequence[str] = ()) -> pa.Table:
    """Records (JSON-like dicts) as a flat table: one column per leaf value.

    Parameters
    ----------
    records : sequence of mappings
        One row each; nested mappings become ``parent.child`` columns, two-number lists
        under a ``*ci*`` / ``*interval*`` key ``_low`` / ``_high`` columns, lists of
        scalars ``"; "``-joined text, other lists JSON text, dates ISO 8601 text.
    columns : sequence of str, optional
        Columns first, in this order (created empty when absent); the others follow in
        first-seen order.

    Returns
    -------
    pyarrow.Table
        Text columns are strings; a column whose values are all numbers (or null) is
        numeric; a column mixing kinds is text.
    """
    flat: list[dict[str, Any]] = []
    for record in records:
        row: dict[str, Any] = {}
        for key, value in record.items():
            _flat_value(str(key), value, row)
        flat.append(row)
    names = list(dict.fromkeys([*columns, *(k for row in flat for k in row)]))
    arrays = {}
    for name in names:
        values = [row.get(name) for row in flat]
        kinds = {type(v) for v in values if v is not None}
        if (kinds and kinds <= {int, float}) or kinds == {bool}:
            arrays[name] = pa.array(values)
        else:
            arrays[name] = pa.array([None if v is None else str(v) for v in values], pa.string())
    return pa.table(arrays) if arrays else pa.table({})


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        return _XML_ILLEGAL.sub("\ufffd", value)[:_CELL_LIMIT]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (datetime, date)):
        return _iso(value)
    return value


def _safe_sheet(table: pa.Table) -> tuple[list[str], pa.Table]:
    """Header names and the table with formula-like text made safe (the csvio rule)."""
    from labelaudit.csvio import neutralise_formulas, neutralise_strings

    header = neutralise_strings(pa.array(table.column_names, pa.string())).to_pylist()
    return [str(h) for h in header], neutralise_formulas(table)


def write_xlsx(sheets: Mapping[str, pa.Table], path: str | Path) -> Path:
    """Write tables as the sheets of one XLSX workbook (atomically).

    Parameters
    ----------
    sheets : mapping of sheet name to pyarrow.Table
        Flat tables (see :func:`flat_table`); sheet names are cut to Excel's 31 characters.
    path : str or Path
        Destination ``.xlsx``; written to a temporary file in the same folder, then moved.

    Returns
    -------
    Path

    Raises
    ------
    UsageError
        openpyxl is not installed (``pip install 'labelaudit[xlsx]'``).
    """
    try:
        from openpyxl import Workbook
    except ImportError:
        raise UsageError("writing XLSX needs openpyxl: pip install 'labelaudit[xlsx]'") from None
    import os
    import tempfile

    target = Path(path)
    book = Workbook(write_only=True)
    for name, table in sheets.items():
        sheet = book.create_sheet(re.sub(r"[\[\]:*?/\\]", "_", name)[:31] or "sheet")
        header, safe = _safe_sheet(table)
        sheet.append([_cell(h) for h in header])
        for row in safe.to_pylist():
            sheet.append([_cell(v) for v in row.values()])
    handle, temp = tempfile.mkstemp(dir=target.parent, suffix=".xlsx.tmp")
    os.close(handle)
    try:
        book.save(temp)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return target


def write_sheet(
    sheets: Mapping[str, pa.Table], path: str | Path, *, format: str | None = None
) -> list[Path]:
    """Write flat tables for a spreadsheet: one XLSX workbook, or one CSV per table.

    Parameters
    ----------
    sheets : mapping of name to pyarrow.Table
    path : str or Path
        The ``.xlsx`` file, or the ``.csv`` file (with several tables, ``stem-NAME.csv``
        beside it for each).
    format : {"xlsx", "csv"}, optional
        Default: from the file extension (``.xlsx``, else CSV).

    Returns
    -------
    list of Path
        The files written.
    """
    from labelaudit.csvio import write_csv

    target = Path(path)
    kind = format or ("xlsx" if target.suffix.lower() == ".xlsx" else "csv")
    if kind not in SHEET_FORMATS:
        raise UsageError(f"sheet format must be one of {', '.join(SHEET_FORMATS)}; got {kind!r}")
    if kind == "xlsx":
        return [write_xlsx(sheets, target)]
    if len(sheets) == 1:
        (table,) = sheets.values()
        names = {target: table}
    else:
        names = {
            target.with_name(f"{target.stem}-{n}{target.suffix}"): t for n, t in sheets.items()
        }
    written = []
    for file, table in names.items():
        header, _ = _safe_sheet(table)
        written.append(write_csv(table.rename_columns(header), file))
    return written
