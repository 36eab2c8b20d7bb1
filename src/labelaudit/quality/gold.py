"""Gold questions: align gold labels with a table and score annotators and aggregators on them.

Gold labels come from a file (:func:`read_gold`, columns ``item`` and ``gold_label`` by
default) or from a column carried along in the table (:func:`gold_from_column`). Both are
validated once and aligned to the table's integer codes in a :class:`GoldLabels`:

- a gold label outside the table's categories is an :class:`~labelaudit.exceptions.InputError`
  naming the line, the field, the allowed categories and the value;
- the same item twice with different gold labels is an ``InputError`` naming both lines;
- gold items absent from the table, and exact duplicate gold rows, are counted warnings
  (``GoldLabels.warnings``); no gold item in the table at all is an ``InputError``.

Scores on gold (accuracy with Wilson intervals) live in :mod:`labelaudit.quality.gold_scores`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from labelaudit.exceptions import InputError, UsageError
from labelaudit.table import NUMBER_PATTERN as _NUMBER
from labelaudit.table import Locator, as_text
from labelaudit.table.table import AnnotationTable

__all__ = [
    "GoldLabels",
    "align_gold",
    "gold_columns",
    "gold_from_column",
    "ground_truth_gold",
    "load_gold",
    "read_gold",
    "without_gold",
]

_EXAMPLES = 5


@dataclass(frozen=True)
class GoldLabels:
    """Gold labels aligned with one :class:`AnnotationTable`.

    Attributes
    ----------
    items : ndarray of str, shape (g,)
        Gold items found in the table, in table code order.
    item_codes : ndarray of int64, shape (g,)
        Their codes in the table the gold was aligned with (valid for that table only).
    label_codes : ndarray of int64, shape (g,)
        Gold category codes (positions in ``table.categories``).
    source : str
        File name or ``"column 'NAME'"``.
    warnings : list of dict
        Counted warnings: ``{"code", "count", "message", "examples"}``.
    """

    items: np.ndarray
    item_codes: np.ndarray
    label_codes: np.ndarray
    source: str
    warnings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def n_items(self) -> int:
        """Number of gold items present in the table."""
        return int(self.item_codes.shape[0])

    def item_lookup(self, n_items: int) -> np.ndarray:
        """Gold code of every table item, shape (n_items,), -1 where the item has no gold."""
        lookup = np.full(n_items, -1, dtype=np.int64)
        lookup[self.item_codes] = self.label_codes
        return lookup

    def to_dict(self) -> dict[str, Any]:
        """``{"source", "n_items", "warnings"}``."""
        return {"source": self.source, "n_items": self.n_items, "warnings": self.warnings}


def align_gold(
    table: AnnotationTable,
    items: pa.ChunkedArray | pa.Array,
    labels: pa.ChunkedArray | pa.Array,
    *,
    locator: Locator,
    item_field: str = "item",
    label_field: str = "gold_label",
    duplicates_warn: bool = True,
) -> GoldLabels:
    """Validate raw gold (item, label) pairs and align them with ``table``'s codes.

    Parameters
    ----------
    table : AnnotationTable
    items, labels : pyarrow arrays, shape (r,)
        Raw gold rows (any type; compared as trimmed text, numbers also by value).
    locator : Locator
        Maps a gold row (0-based) to the line or record the user can open.
    item_field, label_field : str
        Column names used in error messages.
    duplicates_warn : bool
        Count exact duplicate rows as a warning (a gold file) or silently (a table column,
        which repeats the gold on every annotation row of the item).

    Returns
    -------
    GoldLabels

    Raises
    ------
    InputError
        Missing item or label, a label outside the table's categories, conflicting gold
        labels for one item, or no gold item in the table.
    """
    item_text, label_text = as_text(items), as_text(labels)
    for column, name in ((item_text, item_field), (label_text, label_field)):
        _check_present(column, name, locator)
    codes, found = _item_codes(table, item_text, locator, item_field)
    warnings: list[dict[str, Any]] = []
    if not found.all():
        absent = item_text.filter(pa.array(~found)).to_numpy(zero_copy_only=False)
        message = "gold rows whose item is not in the table (ignored)"
        warnings.append(_warning("gold_items_not_in_table", absent, message))
    rows = np.flatnonzero(found)
    item_codes = codes[found].astype(np.int64)
    label_codes = _label_codes(table, label_text.take(pa.array(rows)), rows, locator, label_field)
    item_codes, label_codes, duplicates = _dedupe(item_codes, label_codes, rows, locator, table)
    if duplicates.size and duplicates_warn:
        message = "repeated gold rows with the same label (kept once)"
        warnings.append(_warning("duplicate_gold_rows", table.items[duplicates], message))
    return GoldLabels(
        items=table.items[item_codes],
        item_codes=item_codes,
        label_codes=label_codes,
        source=locator.source,
        warnings=warnings,
    )


def _check_present(column: pa.ChunkedArray, name: str, locator: Locator) -> None:
    missing = pc.fill_null(pc.equal(pc.utf8_length(column), 0), True)
    bad = np.flatnonzero(missing.to_numpy(zero_copy_only=False))
    if bad.size:
        raise locator.error(
            int(bad[0]),
            "missing gold value",
            field=name,
            expected="a non-empty value",
            actual="",
            hint="fill it in or remove the row",
        )


def _item_codes(
    table: AnnotationTable, item_text: pa.ChunkedArray, locator: Locator, item_field: str
) -> tuple[np.ndarray, np.ndarray]:
    """Table code of each gold item (float, NaN if absent) and the found mask."""
    table_items = pa.array(np.asarray(table.items, dtype=object).astype(str), type=pa.string())
    codes = pc.index_in(item_text, value_set=table_items).to_numpy(zero_copy_only=False)
    found = ~np.isnan(codes.astype(np.float64))
    if not found.any():
        raise InputError(
            "no gold item is in the table",
            source=locator.source,
            field=item_field,
            expected=f"item ids such as {', '.join(map(str, table.items[:3]))}",
            actual=", ".join(map(str, item_text.to_numpy(zero_copy_only=False)[:3])),
            hint="check the gold item column (--gold-item-col) and the table's item column",
        )
    return codes, found


def _warning(code: str, values: np.ndarray, message: str) -> dict[str, Any]:
    return {
        "code": code,
        "count": int(values.size),
        "message": message,
        "examples": [str(v) for v in values[:_EXAMPLES]],
    }


def _label_codes(
    table: AnnotationTable,
    labels: pa.ChunkedArray,
    rows: np.ndarray,
    locator: Locator,
    label_field: str,
) -> np.ndarray:
    """Category code of each gold label: exact name, else equal number; else InputError."""
    categories = np.asarray(table.categories, dtype=object).astype(str)
    raw = pc.index_in(labels, value_set=pa.array(categories, type=pa.string()))
    codes = raw.to_numpy(zero_copy_only=False).astype(np.float64)
    text = labels.to_numpy(zero_copy_only=False).astype(object)
    unmatched = np.isnan(codes)
    category_numbers = _numbers(categories)
    if unmatched.any() and category_numbers is not None:
        numeric = unmatched & pc.match_substring_regex(labels, _NUMBER).to_numpy(
            zero_copy_only=False
        )
        values = np.asarray(np.where(numeric, text, "nan").astype(str), dtype=np.float64)
        order = np.argsort(category_numbers, kind="stable")
        position = np.clip(np.searchsorted(category_numbers[order], values), 0, order.size - 1)
        hit = numeric & (category_numbers[order][position] == values)
        codes[hit] = order[position[hit]]
        unmatched = np.isnan(codes)
    if unmatched.any():
        bad = int(np.flatnonzero(unmatched)[0])
        raise locator.error(
            int(rows[bad]),
            "gold label outside the categories",
            field=label_field,
            expected=f"one of {', '.join(categories[:20])}",
            actual=text[bad],
            hint="fix the gold label, or declare every category with --categories",
        )
    return codes.astype(np.int64)


def _numbers(names: np.ndarray) -> np.ndarray | None:
    matches = pc.match_substring_regex(pa.array(names, type=pa.string()), _NUMBER)
    if names.size == 0 or not pc.all(matches).as_py():
        return None
    return np.asarray(names, dtype=np.float64)


def _dedupe(
    item_codes: np.ndarray,
    label_codes: np.ndarray,
    rows: np.ndarray,
    locator: Locator,
    table: AnnotationTable,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One gold label per item; conflicting labels raise. Returns codes and duplicated items."""
    order = np.lexsort((rows, item_codes))
    items, labels, source_rows = item_codes[order], label_codes[order], rows[order]
    repeat = items[1:] == items[:-1]
    conflict = np.flatnonzero(repeat & (labels[1:] != labels[:-1]))
    if conflict.size:
        first = int(conflict[np.argmin(source_rows[conflict + 1])])
        raise locator.error(
            int(source_rows[first + 1]),
            "conflicting gold labels for one item",
            field="item",
            expected="one gold label per item",
            actual=f"{table.categories[labels[first + 1]]!s} for item "
            f"{table.items[items[first]]!s} (was {table.categories[labels[first]]!s} at "
            f"{locator.unit} {locator.line_of(int(source_rows[first]))})",
            hint="keep one gold row per item",
        )
    keep = np.r_[True, ~repeat]
    duplicated = np.unique(items[1:][repeat])
    return items[keep], labels[keep], duplicated


def read_gold(
    path: str | Path,
    table: AnnotationTable,
    *,
    item_col: str = "item",
    label_col: str = "gold_label",
    format: str | None = None,
) -> GoldLabels:
    """Read a gold file (CSV, TSV, JSONL, JSON or Parquet) and align it with ``table``.

    Parameters
    ----------
    path : str or Path
        The gold file: one row per gold item.
    table : AnnotationTable
        The annotations the gold belongs to (gives item and category codes).
    item_col, label_col : str
        Column names of the item id and of the gold label.
    format : str, optional
        File format; inferred from the extension when omitted.

    Returns
    -------
    GoldLabels

    Raises
    ------
    InputError
        Unreadable file, missing column, or any error of :func:`align_gold`.
    """
    items, labels, locator = gold_columns(
        path, item_col=item_col, label_col=label_col, format=format
    )
    return align_gold(
        table, items, labels, locator=locator, item_field=item_col, label_field=label_col
    )


def gold_columns(
    path: str | Path,
    *,
    item_col: str = "item",
    label_col: str = "gold_label",
    format: str | None = None,
) -> tuple[Any, Any, Any]:
    """The item and gold-label columns of a gold file, as read (no alignment), and the
    file's locator (for located errors).

    Raises
    ------
    InputError
        Unreadable file or a missing column.
    """
    from labelaudit.table import load_source as _load

    raw, locator = _load(path, format)
    for name, option in ((item_col, "--gold-item-col"), (label_col, "--gold-label-col")):
        if name not in raw.column_names:
            raise InputError(
                "no gold column",
                source=locator.source,
                field=name,
                expected=f"a column named {name!r}",
                actual=", ".join(raw.column_names) or "no columns",
                hint=f"pass {option} with one of the columns above",
            )
    return raw.column(item_col), raw.column(label_col), locator


def gold_from_column(table: AnnotationTable, column: str) -> GoldLabels:
    """Gold labels from a column carried along in ``table.data`` (empty cell = not gold).

    Parameters
    ----------
    table : AnnotationTable
    column : str
        Column of the annotation file holding the item's gold label on its rows.

    Returns
    -------
    GoldLabels
        Rows of one item must agree on the gold label (repeats are expected).
    """
    if column not in table.data.column_names:
        raise InputError(
            "no gold column",
            source=table.source,
            field=column,
            expected=f"a column named {column!r} in the annotation file",
            actual=", ".join(table.data.column_names),
            hint="pass --gold-col with one of the columns above",
        )
    values = as_text(table.data.column(column))
    present = pc.fill_null(pc.greater(pc.utf8_length(values), 0), False)
    rows = np.flatnonzero(present.to_numpy(zero_copy_only=False))
    if rows.size == 0:
        raise InputError(
            "no gold label in the column",
            source=table.source,
            field=column,
            expected="a gold label on the rows of the gold items",
            actual="only empty cells",
        )
    locator = Locator(table.source, lambda row: int(rows[row]) + 1, "record")
    items = pa.array(table.items[table.item_codes[rows]], type=pa.string())
    return align_gold(
        table,
        items,
        values.take(pa.array(rows)),
        locator=locator,
        item_field="item",
        label_field=column,
        duplicates_warn=False,
    )


def load_gold(
    table: AnnotationTable,
    *,
    path: str | Path | None = None,
    column: str | None = None,
    item_col: str = "item",
    label_col: str = "gold_label",
    format: str | None = None,
) -> GoldLabels | None:
    """Gold labels from a file (``path``) or a table column (``column``); None for neither.

    Raises
    ------
    UsageError
        Both a file and a column were given.
    """
    if path is not None and column is not None:
        raise UsageError("give gold labels as a file (--gold) or a column (--gold-col), not both")
    if path is not None:
        return read_gold(path, table, item_col=item_col, label_col=label_col, format=format)
    if column is not None:
        return gold_from_column(table, column)
    return None


def without_gold(table: AnnotationTable, gold: GoldLabels) -> AnnotationTable:
    """The table without the rows of gold items (categories kept, items re-coded)."""
    return table.filter_rows(~np.isin(table.item_codes, gold.item_codes))


def ground_truth_gold(table: AnnotationTable) -> tuple[AnnotationTable, GoldLabels]:
    """Annotations marked ``ground_truth`` (Label Studio) as gold labels.

    Parameters
    ----------
    table : AnnotationTable
        A table read from an export; its ``ground_truth`` column (true on marked rows)
        says which rows are gold.

    Returns
    -------
    (AnnotationTable, GoldLabels)
        The table without the ground-truth rows (they are the answer key, not an
        annotator's work) and the gold labels aligned with it.

    Raises
    ------
    InputError
        No row is marked ``ground_truth``, or marked rows of one item disagree.
    """
    column = "ground_truth"
    marked = np.zeros(table.n_ratings, dtype=bool)
    if column in table.data.column_names:
        flags = pc.fill_null(table.data.column(column).cast(pa.bool_()), False)
        marked = flags.to_numpy(zero_copy_only=False).astype(bool)
    if not marked.any():
        raise InputError(
            "no ground-truth annotation",
            source=table.source,
            field=column,
            expected="annotations marked ground_truth: true (--ground-truth-as-gold)",
            actual="none in the export",
        )
    rows = np.flatnonzero(marked)
    rest = table.filter_rows(~marked)
    locator = Locator(table.source, lambda row: int(rows[row]) + 1, "row")
    items = pa.array(table.items[table.item_codes[rows]], type=pa.string())
    labels = table.data.column("label").take(pa.array(rows))
    gold = align_gold(
        rest, items, labels, locator=locator, label_field="ground_truth", duplicates_warn=False
    )
    return rest, replace(gold, source=f"{table.source} (ground_truth annotations)")
