"""Annotator attributes (groups) and item attributes (slices) of an annotation table.

A ``--by`` column becomes a :class:`Grouping`: one code per annotator (an annotator
attribute such as vendor, region, language or a demographic) or one code per item (a data
slice). Attributes come from a separate file (``--annotators-meta``: an annotator column
and attribute columns; ``--items-meta``: an item column and slice columns) or from columns
of the ratings file itself, which must then be constant per annotator (a group) or per item
(a slice); a column that is neither is an :class:`~labelaudit.exceptions.InputError`
naming the file, the line, the field and the two values found.

Annotators (items) with no value form an explicit ``"unknown"`` group, counted, never
dropped. Group names are exactly the text of the data (trimmed, ``3.0`` read as ``3``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from labelaudit.exceptions import InputError, UsageError
from labelaudit.table import AnnotationTable, as_text, load_source

__all__ = [
    "UNKNOWN",
    "AttributeFile",
    "Grouping",
    "read_attribute_file",
    "resolve_groupings",
]

#: Name of the group of annotators (or items) without a value.
UNKNOWN = "unknown"
_KEY_ALIASES = {
    "annotator": ("annotator", "annotator_id", "worker", "rater", "user_id"),
    "item": ("item", "item_id", "task", "instance_id"),
}


@dataclass(frozen=True)
class AttributeFile:
    """A table of attributes keyed by annotator or item, read and checked once.

    Attributes
    ----------
    kind : {"annotator", "item"}
    source : str
        File name (or ``"<DataFrame>"``).
    keys : ndarray of str, shape (n,)
        Annotator (item) names, unique.
    columns : dict of str to ndarray of object, each shape (n,)
        Attribute values as text; ``None`` = missing.
    """

    kind: str
    source: str
    keys: np.ndarray
    columns: dict[str, np.ndarray]


@dataclass(frozen=True)
class Grouping:
    """One ``--by`` column resolved to codes.

    Attributes
    ----------
    by : str
        The column name.
    kind : {"annotator", "item"}
        An annotator attribute (groups of raters) or an item attribute (slices of data).
    names : tuple of str
        Group names as in the data, sorted; the unknown group (if any) last.
    codes : ndarray of int64
        Group code of each annotator, shape (n_annotators,), or item, shape (n_items,).
    unknown : int or None
        Code of the unknown group (no value), None when every unit has a value.
    origin : str
        Where the values came from (``"ratings file"`` or the attribute file's name).
    n_meta_only : int
        Units listed in the attribute file that have no rating (not used).
    """

    by: str
    kind: str
    names: tuple[str, ...]
    codes: np.ndarray
    unknown: int | None
    origin: str
    n_meta_only: int = 0

    @property
    def n_groups(self) -> int:
        """Number of groups, the unknown group included."""
        return len(self.names)

    def units_per_group(self) -> np.ndarray:
        """Annotators (items) per group, shape (n_groups,), int64."""
        return np.bincount(self.codes, minlength=self.n_groups)


def read_attribute_file(
    source: str | Path | Any, kind: str, key: str | None = None
) -> AttributeFile:
    """Read ``--annotators-meta`` (``kind="annotator"``) or ``--items-meta`` (``"item"``).

    Parameters
    ----------
    source : path or DataFrame
        CSV, TSV, JSONL, JSON or Parquet with one key column and attribute columns.
    kind : {"annotator", "item"}
    key : str, optional
        Key column; default ``annotator`` (aliases ``annotator_id``, ``worker``, ``rater``,
        ``user_id``) or ``item`` (``item_id``, ``task``, ``instance_id``).

    Raises
    ------
    InputError
        No key column, an empty key, or one key listed twice with different values
        (file, line, field, both values).
    """
    raw, locator = load_source(source, None)
    names = raw.column_names
    column = key if key is not None else next((a for a in _KEY_ALIASES[kind] if a in names), None)
    if column is None or column not in names:
        raise InputError(
            f"no {kind} column",
            source=locator.source,
            line=1,
            field=key or f"--{kind}-col",
            expected=f"one of {', '.join(_KEY_ALIASES[kind])}" if key is None else repr(key),
            actual=", ".join(names) or "no columns",
        )
    keys = _text(raw.column(column))
    missing = np.flatnonzero(_factorize(keys)[1] < 0)
    if missing.size:
        raise locator.error(int(missing[0]), f"empty {kind}", field=column, expected="a name")
    columns = {n: _text(raw.column(n)) for n in names if n != column}
    unique, first, inverse = np.unique(keys.astype(str), return_index=True, return_inverse=True)
    for name, values in columns.items():
        row = _first_conflict(inverse, _factorize(values)[1])
        if row is not None:
            earlier = int(first[inverse[row]])
            raise locator.error(
                row,
                f"{kind} {keys[row]!r} listed twice with different values",
                field=name,
                expected=f"{values[earlier]!r} as on {_where(locator, earlier)}",
                actual=values[row],
            )
    return AttributeFile(kind, locator.source, unique, {n: v[first] for n, v in columns.items()})


def resolve_groupings(
    table: AnnotationTable,
    by: Sequence[str],
    *,
    annotators: AttributeFile | None = None,
    items: AttributeFile | None = None,
) -> list[Grouping]:
    """One :class:`Grouping` per ``by`` column.

    Each name is looked up in the annotator file, then the item file, then the columns of
    the ratings file; a ratings column constant per annotator is an annotator attribute,
    else one constant per item is a slice.

    Raises
    ------
    UsageError
        A name found nowhere.
    InputError
        A ratings column constant neither per annotator nor per item (file, line, field).
    """
    out = []
    for name in dict.fromkeys(by):
        if annotators is not None and name in annotators.columns:
            out.append(_from_file(table, name, annotators, table.annotators))
        elif items is not None and name in items.columns:
            out.append(_from_file(table, name, items, table.items))
        elif name in table.data.column_names and name not in ("item", "annotator", "label"):
            out.append(_from_ratings(table, name))
        else:
            known = [c for c in table.data.column_names if c not in ("item", "annotator", "label")]
            for extra in (annotators, items):
                if extra is not None:
                    known += list(extra.columns)
            raise UsageError(
                f"--by {name!r}: no such column in the ratings or attribute files; "
                f"known: {', '.join(known) or 'none'}"
            )
    return out


# ----------------------------------------------------------------------------- helpers
def _text(column: pa.ChunkedArray) -> np.ndarray:
    """Column as an object array of trimmed strings; None for null or empty cells."""
    text = as_text(column)
    empty = pc.fill_null(pc.equal(pc.utf8_length(text), 0), True)
    values = np.asarray(text.to_numpy(zero_copy_only=False), dtype=object)
    values[empty.to_numpy(zero_copy_only=False)] = None
    return values


def _factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct names and the code of each entry (-1 where missing), vectorised."""
    encoded = pc.dictionary_encode(pa.array(values, type=pa.string()))
    names = np.asarray(encoded.dictionary.to_numpy(zero_copy_only=False), dtype=object)
    raw = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    order = np.argsort(names.astype(str), kind="stable")
    rank = np.empty(order.size + 1, dtype=np.int64)
    rank[order] = np.arange(order.size)
    rank[-1] = -1  # code -1 (missing) stays -1
    return names[order], rank[raw]


def _codes(values: np.ndarray, n_units: int) -> tuple[tuple[str, ...], np.ndarray, int | None]:
    """Sorted names of the present values, codes per unit, the unknown group's code."""
    names, codes = _factorize(values)
    names_t = tuple(str(n) for n in names)
    missing = codes < 0
    if not missing.any():
        return names_t, codes, None
    unknown = UNKNOWN if UNKNOWN not in names_t else f"{UNKNOWN} (no value)"
    return (*names_t, unknown), np.where(missing, len(names_t), codes), len(names_t)


def _from_file(table: AnnotationTable, by: str, meta: AttributeFile, units: np.ndarray) -> Grouping:
    index = np.searchsorted(meta.keys, units.astype(str))
    index = np.clip(index, 0, max(meta.keys.size - 1, 0))
    known = meta.keys[index] == units.astype(str) if meta.keys.size else np.zeros(0, bool)
    values = np.full(units.size, None, dtype=object)
    values[known] = meta.columns[by][index[known]]
    names, codes, unknown = _codes(values, units.size)
    used = np.zeros(meta.keys.size, dtype=bool)
    used[index[known]] = True
    return Grouping(by, meta.kind, names, codes, unknown, meta.source, int((~used).sum()))


def _from_ratings(table: AnnotationTable, by: str) -> Grouping:
    """A ratings column as an annotator attribute (constant per annotator) or a slice."""
    values = _text(table.data.column(by))
    _, value_codes = _factorize(values)
    for kind, unit_codes, n_units in (
        ("annotator", table.annotator_codes, table.n_annotators),
        ("item", table.item_codes, table.n_items),
    ):
        if _first_conflict(unit_codes, value_codes) is None:
            per_unit = np.full(n_units, None, dtype=object)
            present = value_codes >= 0
            per_unit[unit_codes[present]] = values[present]
            names, codes, unknown = _codes(per_unit, n_units)
            return Grouping(by, kind, names, codes, unknown, "ratings file")
    raise _not_constant(table, by, values, value_codes)


def _first_conflict(unit_codes: np.ndarray, value_codes: np.ndarray) -> int | None:
    """A row whose value (code >= 0; missing ignored) differs from its unit's first value,
    in the unit with two values that appears first in row order; None when every unit
    has one value. O(n): each unit's smallest and largest code (``ufunc.at``), no sort.
    """
    present = value_codes >= 0
    if not present.any():
        return None
    size = int(unit_codes.max()) + 1
    low = np.full(size, np.iinfo(np.int64).max)
    high = np.full(size, -1)
    np.minimum.at(low, unit_codes[present], value_codes[present])
    np.maximum.at(high, unit_codes[present], value_codes[present])
    mixed = (low < high)[unit_codes] & present
    if not mixed.any():
        return None
    first = np.flatnonzero(mixed)[0]  # the unit's first row decides what "differs" means
    unit = unit_codes[first]
    rows = np.flatnonzero((unit_codes == unit) & present)
    return int(rows[value_codes[rows] != value_codes[rows[0]]][0])


def _not_constant(
    table: AnnotationTable, by: str, values: np.ndarray, value_codes: np.ndarray
) -> InputError:
    row = _first_conflict(table.annotator_codes, value_codes)
    assert row is not None  # the caller found a conflict per annotator
    annotator = table.annotator_codes[row]
    earlier = int(np.flatnonzero((table.annotator_codes == annotator) & (value_codes >= 0))[0])
    line, unit, earlier_at = _locate(table, row), _unit(table), _locate(table, earlier)
    return InputError(
        f"column {by!r} is neither constant per annotator nor per item: annotator "
        f"{table.annotators[annotator]!r} has {values[earlier]!r} on {unit} {earlier_at}",
        source=table.source,
        line=line,
        unit=unit,
        field=by,
        expected=f"{values[earlier]!r} (one value per annotator) or one value per item",
        actual=values[row],
        hint="give per-annotator attributes in --annotators-meta, or fix the value",
    )


def _unit(table: AnnotationTable) -> str:
    return "line" if _file_format(table) in ("csv", "tsv", "jsonl") else "row"


def _file_format(table: AnnotationTable) -> str | None:
    from labelaudit.table import format_of

    path = Path(table.source)
    return format_of(path) if path.is_file() else None


def _locate(table: AnnotationTable, row: int) -> int:
    """The 1-based line (CSV/TSV/JSONL) or record of data row ``row`` of the table's file."""
    if table.report.get("duplicates_replaced") or _unit(table) != "line":
        return row + 1
    _, locator = load_source(table.source, _file_format(table))
    return int(locator.line_of(row))


def _where(locator: Any, row: int) -> str:
    unit = getattr(locator, "unit", "line")
    return f"{unit} {locator.line_of(row)}"
