"""CSV and TSV output safe to open in a spreadsheet, and the reader side that undoes it.

A cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run as a
formula by Excel, LibreOffice and Google Sheets (CSV injection, OWASP). Every CSV/TSV file
labelaudit writes goes through :func:`write_csv`, which prefixes such text cells with a
single quote ``'``, as OWASP recommends. Numbers stay numbers: numeric columns are never
touched, and a text cell that is a plain number (``-1``, ``+2.5``, ``-3e4``) is left as it
is. A cell that already begins with quotes followed by one of those characters gets one
more quote, so :func:`unquote_formulas` (applied by labelaudit's own CSV readers) removes
exactly one and every round trip is exact. ``raw=True`` (``--raw-csv``) writes values
unchanged for machine pipelines.

Reference: OWASP, "CSV Injection" (https://owasp.org/www-community/attacks/CSV_Injection).
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "FORMULA_START",
    "neutralise_formulas",
    "neutralise_strings",
    "unquote_formulas",
    "write_csv",
]

#: First characters that make a spreadsheet evaluate a cell.
FORMULA_START = "=+-@\t\r"
_NEEDS_QUOTE = r"^'*[=+\-@\t\r]"
_ADDED_QUOTE = r"^'('*[=+\-@\t\r])"
_PLAIN_NUMBER = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"


def _text_columns(table: pa.Table) -> list[int]:
    return [
        index
        for index, column in enumerate(table.columns)
        if pa.types.is_string(column.type)
        or pa.types.is_large_string(column.type)
        or (pa.types.is_dictionary(column.type) and pa.types.is_string(column.type.value_type))
    ]


def neutralise_strings(column: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """The one formula rule on a string array: a value matching ``^'*[=+\\-@\\t\\r]`` that
    is not a plain number gains one leading ``'`` (nulls kept). Used for CSV cells, XLSX
    cells and XLSX header names alike."""
    needs = pc.and_(
        pc.match_substring_regex(column, _NEEDS_QUOTE),
        pc.invert(pc.match_substring_regex(column, _PLAIN_NUMBER)),
    )
    quoted = pc.binary_join_element_wise(pa.scalar("'"), column, pa.scalar(""))
    return pc.if_else(needs, quoted, column)


def neutralise_formulas(table: pa.Table) -> pa.Table:
    """``table`` with every formula-like text cell prefixed by ``'`` (vectorised, nulls kept).

    Parameters
    ----------
    table : pyarrow.Table
        Any table; only string columns change.

    Returns
    -------
    pyarrow.Table
        Same shape and column names; a text cell matching ``^'*[=+\\-@\\t\\r]`` that is not a
        plain number gains one leading quote.
    """
    for index in _text_columns(table):
        column = table.column(index)
        if pa.types.is_dictionary(column.type):
            column = column.cast(pa.string())
        table = table.set_column(index, table.field(index).name, neutralise_strings(column))
    return table


def unquote_formulas(table: pa.Table) -> pa.Table:
    """Undo :func:`neutralise_formulas`: drop one ``'`` before quotes and a formula character.

    Applied to the string columns of every CSV/TSV labelaudit reads, so a file it wrote
    reads back exactly as the data it came from.
    """
    for index in _text_columns(table):
        column = table.column(index)
        if pa.types.is_dictionary(column.type):
            continue
        if not pc.any(pc.starts_with(column, "'")).as_py():
            continue  # no cell starts with the quote: nothing to undo (no regex pass)
        stripped = pc.replace_substring_regex(column, _ADDED_QUOTE, r"\1", max_replacements=1)
        table = table.set_column(index, table.field(index).name, stripped)
    return table


def write_csv(
    table: pa.Table, path: str | Path, *, delimiter: str = ",", raw: bool = False
) -> Path:
    """Write ``table`` as CSV (or TSV with ``delimiter="\\t"``), formula cells neutralised.

    Parameters
    ----------
    table : pyarrow.Table
        Flat table (nested columns must already be text).
    path : str or Path
        Destination.
    delimiter : str, default ","
        Field separator.
    raw : bool, default False
        Write values unchanged (no quote prefix).

    Returns
    -------
    Path
        The path written.
    """
    import pyarrow.csv as pacsv

    target = Path(path)
    data = table if raw else neutralise_formulas(table)
    pacsv.write_csv(data, target, write_options=pacsv.WriteOptions(delimiter=delimiter))
    return target
