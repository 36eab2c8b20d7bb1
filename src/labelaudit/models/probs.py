"""Model class probabilities per item: read, validated and aligned with labels.

A probabilities file has an item column and one column per class, named by the class
(CSV, TSV, JSONL, JSON or Parquet)::

    item,cat,dog,bird
    img1,0.9,0.08,0.02

Columns named ``label``, ``model_version`` and ``annotator`` are not classes (a predictions
file may carry them). Every cell must be a number in [0, 1] and every row must sum to 1
within :data:`SUM_TOLERANCE` (rows are then divided by their sum, so rounding in the file
does not matter). Errors name the file, line and column.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from labelaudit.exceptions import InputError
from labelaudit.table import NUMBER_PATTERN, Locator, as_text, load_source

__all__ = [
    "NOT_CLASSES",
    "SUM_TOLERANCE",
    "Probabilities",
    "read_item_column",
    "read_probabilities",
]

#: Largest |row sum - 1| accepted (files rounded to 4 decimals pass with up to 20 classes).
SUM_TOLERANCE = 1e-3
#: Columns of a probabilities or predictions file that are never classes.
NOT_CLASSES = ("label", "model_version", "annotator")


@dataclass(frozen=True, eq=False)
class Probabilities:
    """Validated class probabilities.

    Attributes
    ----------
    items : ndarray of str, shape (n,)
        Item ids, in file order.
    classes : ndarray of str, shape (q,)
        Class names, in column order.
    matrix : ndarray of float64, shape (n, q)
        Probabilities; every row sums to 1 (divided by its sum after validation).
    locator : Locator
        Maps a row to its line in the file (for errors).
    item_field : str
        Name of the item column.
    normalised_ : bool
        Whether the row sums were checked and the rows divided by them.
    """

    items: np.ndarray
    classes: np.ndarray
    matrix: np.ndarray
    locator: Locator
    item_field: str = "item"
    normalised_: bool = False

    @property
    def source(self) -> str:
        """The file the probabilities came from."""
        return self.locator.source

    def line_of(self, row: int) -> int:
        """The 1-based line (or record) of row ``row``."""
        return int(self.locator.line_of(row))

    def normalised(self) -> Probabilities:
        """The same probabilities with every row divided by its sum (itself when done).

        Raises
        ------
        InputError
            A row whose sum is more than :data:`SUM_TOLERANCE` from 1.
        """
        if self.normalised_:
            return self
        _check_sums(self.matrix, self.locator, [str(c) for c in self.classes])
        matrix = self.matrix / self.matrix.sum(axis=1, keepdims=True)
        return Probabilities(self.items, self.classes, matrix, self.locator, self.item_field, True)


def read_probabilities(
    source: str | Path | Any,
    *,
    item_col: str = "item",
    classes: list[str] | None = None,
    format: str | None = None,
    check_sums: bool = True,
) -> Probabilities:
    """Read and validate a probabilities file (see the module docstring).

    Parameters
    ----------
    source : path or DataFrame
    item_col : str
        The item column.
    classes : list of str, optional
        The class columns, in order (default: every column but the item column and
        :data:`NOT_CLASSES`).
    format : str, optional
        File format (default: from the extension).
    check_sums : bool, default True
        Check the row sums and divide each row by its sum (:meth:`Probabilities.normalised`);
        False leaves both to the caller (e.g. to report a missing class column first).

    Returns
    -------
    Probabilities

    Raises
    ------
    InputError
        Missing item or class column, a duplicate or empty item, a cell that is not a number
        in [0, 1], or a row whose sum is more than :data:`SUM_TOLERANCE` from 1.
    """
    raw, locator = load_source(source, format)
    names = list(raw.column_names)
    if item_col not in names:
        raise InputError(
            "no item column", source=locator.source, line=1, field=item_col,
            expected=f"a column named {item_col!r}", actual=", ".join(names) or "no columns",
            hint="pass --item-col",
        )  # fmt: skip
    skip = (item_col, *NOT_CLASSES)
    wanted = classes if classes is not None else [n for n in names if n not in skip]
    missing = [c for c in wanted if c not in names]
    if not wanted or missing:
        raise InputError(
            "no class columns" if not wanted else "missing class column",
            source=locator.source, line=1, field=missing[0] if missing else "columns",
            expected="one column per class, named by the class",
            actual=", ".join(names) or "no columns",
        )  # fmt: skip
    items = read_item_column(raw.column(item_col), locator, item_col)
    matrix = np.column_stack([_numbers(raw.column(c), locator, c) for c in wanted])
    found = Probabilities(items, np.asarray(wanted, dtype=str), matrix, locator, item_col)
    return found.normalised() if check_sums else found


def read_item_column(
    column: pa.ChunkedArray, locator: Locator, field: str, *, unique: bool = True
) -> np.ndarray:
    """A column of ids or labels as str, shape (n,); InputError at the first empty cell
    (and, with ``unique``, at the second row of a repeated value)."""
    text = as_text(column)
    empty = pc.or_kleene(pc.is_null(text), pc.equal(pc.utf8_trim_whitespace(text), "")).to_numpy(
        zero_copy_only=False
    )
    if bool(empty.any()):
        row = int(np.flatnonzero(empty)[0])
        raise locator.error(row, f"empty {field}", field=field, expected="a value", actual="")
    values = np.asarray(text.to_numpy(zero_copy_only=False), dtype=str)
    if not unique:
        return values
    order = np.argsort(values, kind="stable")
    twice = np.flatnonzero(values[order][1:] == values[order][:-1])
    if twice.size:
        rows = order[twice + 1]
        row = int(rows.min())
        raise locator.error(
            row, "item listed twice", field=field, expected="one row per item",
            actual=str(values[row]),
        )  # fmt: skip
    return values


def _numbers(column: pa.ChunkedArray, locator: Locator, field: str) -> np.ndarray:
    """A class column as float64; InputError at the first cell that is not in [0, 1]."""
    if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
        values = column.cast(pa.float64()).to_numpy(zero_copy_only=False)
        bad = np.isnan(values) | (values < 0) | (values > 1)
    else:
        text = pc.utf8_trim_whitespace(as_text(column))
        numeric = pc.fill_null(pc.match_substring_regex(text, NUMBER_PATTERN), False)
        ok = numeric.to_numpy(zero_copy_only=False)
        values = np.full(len(text), np.nan)
        if bool(ok.any()):
            values[ok] = np.asarray(pc.filter(text, numeric).to_numpy(zero_copy_only=False), float)
        bad = ~ok | np.isnan(values) | (values < 0) | (values > 1)
    if bool(bad.any()):
        row = int(np.flatnonzero(bad)[0])
        cell = column[row].as_py()
        raise locator.error(
            row, "not a probability", field=field, expected="a number from 0 to 1",
            actual="empty" if cell is None else str(cell),
        )  # fmt: skip
    return np.asarray(values, dtype=np.float64)


def _check_sums(matrix: np.ndarray, locator: Locator, classes: list[str]) -> None:
    sums = matrix.sum(axis=1)
    off = np.abs(sums - 1.0) > SUM_TOLERANCE
    if bool(off.any()):
        row = int(np.flatnonzero(off)[0])
        raise locator.error(
            row, "probabilities do not sum to 1", field=",".join(classes),
            expected=f"a row sum of 1 (within {SUM_TOLERANCE:g})", actual=f"{sums[row]:.6g}",
        )  # fmt: skip
