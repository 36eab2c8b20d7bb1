"""Validate canonical columns once and integer-encode them into an AnnotationTable.

Everything here is vectorised (pyarrow compute / numpy). The only per-row Python work
happens on the error path, to name the exact line of the first bad row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from labelaudit.exceptions import InputError
from labelaudit.table.schema import TaskSchema
from labelaudit.table.table import AnnotationTable

__all__ = ["NUMBER_PATTERN", "Locator", "RawColumns", "as_text", "encode"]

#: A decimal number as written in a file (no NaN/inf): what counts as a numeric label.
NUMBER_PATTERN = r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$"


@dataclass
class Locator:
    """Maps a row of the raw input to the line (or record) a user can open.

    ``line_of(row)`` is called on the error path only, so it may rescan the file.
    """

    source: str
    line_of: Callable[[int], int]
    unit: str = "line"

    def error(self, row: int, problem: str, **facts: object) -> InputError:
        """An InputError located at raw row ``row`` (0-based)."""
        return InputError(
            problem,
            source=self.source,
            line=self.line_of(row),
            unit=self.unit,
            **facts,  # type: ignore[arg-type]
        )


@dataclass
class RawColumns:
    """Canonical columns before validation.

    ``rows`` gives, for each entry, the 0-based raw row it came from (wide layouts emit
    several entries per row); ``label_fields`` names the column each label came from.
    """

    item: pa.ChunkedArray
    annotator: pa.ChunkedArray
    label: pa.ChunkedArray
    rows: np.ndarray
    fields: dict[str, str]
    label_fields: np.ndarray | None
    extra: dict[str, pa.ChunkedArray]

    def field_of(self, name: str, entry: int) -> str:
        """The user's column name that entry ``entry`` of canonical column ``name`` came from."""
        if name == "label" and self.label_fields is not None:
            return str(self.label_fields[entry])
        return self.fields[name]


def as_text(column: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray:
    """Any column as trimmed strings; integral floats lose their ``.0`` (3.0 -> "3")."""
    if isinstance(column, pa.Array):
        column = pa.chunked_array([column])
    if pa.types.is_floating(column.type):
        # 3.0 -> "3", 2.5 -> "2.5": labels read as floats keep a natural name
        as_float = column.to_numpy(zero_copy_only=False)
        integral = np.isfinite(as_float) & (np.floor(as_float) == as_float)
        text = np.where(integral, np.char.mod("%d", np.nan_to_num(as_float)), as_float.astype(str))
        mask = pc.is_null(column).to_numpy(zero_copy_only=False) | np.isnan(as_float)
        return pa.chunked_array([pa.array(text.astype(object), mask=mask, type=pa.string())])
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        column = pc.cast(column, pa.string())
    return pc.utf8_trim_whitespace(column)


#: Structured tasks whose label is a JSON list (an empty cell: the empty list).
_LIST_TASKS = ("multilabel", "spans", "boxes", "ranking")


def _first_true(mask: np.ndarray) -> int | None:
    hits = np.flatnonzero(mask)
    return int(hits[0]) if hits.size else None


def _check_present(column: pa.ChunkedArray, name: str, raw: RawColumns, locator: Locator) -> None:
    missing = pc.or_(pc.is_null(column), pc.equal(pc.utf8_length(column), 0))
    bad = _first_true(pc.fill_null(missing, True).to_numpy(zero_copy_only=False))
    if bad is not None:
        raise locator.error(
            int(raw.rows[bad]),
            f"missing {name}",
            field=raw.field_of(name, bad),
            expected=f"a non-empty {name}",
            actual="",
            hint=f"fill in the {name} or remove the row",
        )


def _dictionary_codes(column: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique strings and the code of each row (hash encode, then sort the dictionary)."""
    encoded = pc.dictionary_encode(column).combine_chunks()
    dictionary = encoded.dictionary.to_numpy(zero_copy_only=False).astype(object)
    indices = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    order = _natural_order(dictionary)
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return dictionary[order], rank[indices]


def _natural_order(names: np.ndarray) -> np.ndarray:
    """Numeric order when every name is a number, else lexicographic."""
    numbers = _parse_numbers(names)
    if numbers is not None:
        return np.lexsort((names.astype(str), numbers))
    return np.argsort(names.astype(str), kind="stable")


def _parse_numbers(names: np.ndarray) -> np.ndarray | None:
    if names.size == 0:
        return None
    matches = pc.match_substring_regex(pa.array(names.astype(str)), NUMBER_PATTERN)
    if not pc.all(matches).as_py():
        return None
    return np.asarray(names.astype(str), dtype=np.float64)


def _number_names(values: np.ndarray) -> np.ndarray:
    """Names of numeric categories: 3.0 -> "3", 2.5 -> "2.5" (vectorised)."""
    integral = np.floor(values) == values
    names = values.astype(str).astype(object)
    names[integral] = values[integral].astype(np.int64).astype(str)
    return names


def _encode_labels(
    label: pa.ChunkedArray, schema: TaskSchema, raw: RawColumns, locator: Locator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (categories, category_values, label_codes) after the label checks.

    Structured tasks carry canonical JSON strings in ``label``: they are coded as strings
    and checked against nothing here (their readers validate the payload).
    """
    if schema.is_structured:
        return _string_codes(label)
    text = label.to_numpy(zero_copy_only=False).astype(object)
    is_number = pc.match_substring_regex(label, NUMBER_PATTERN).to_numpy(zero_copy_only=False)
    declared = np.asarray(schema.categories, dtype=object) if schema.categories else None
    declared_numbers = _parse_numbers(declared) if declared is not None else None
    numeric = bool(is_number.all()) and (declared is None or declared_numbers is not None)
    if schema.is_quantitative and not numeric:
        bad = _first_true(~is_number)
        if bad is not None:
            raise _label_error(raw, locator, bad, f"a number ({schema.level} level)", text[bad])
        raise InputError(
            f"declared categories must be numbers at {schema.level} level",
            source=locator.source,
            field="--categories",
            expected="numbers",
            actual=",".join(map(str, schema.categories or ())),
        )
    if schema.level == "ordinal" and not numeric and declared is None:
        raise InputError(
            "ordinal string labels need a declared category order",
            source=locator.source,
            field="label",
            expected="--categories in rank order",
            actual=", ".join(map(str, np.unique(text)[:5])),
            hint="pass --categories low,medium,high (lowest first)",
        )
    if numeric:
        values = np.asarray(text.astype(str), dtype=np.float64)
        if declared_numbers is not None and declared is not None:
            return _codes_against_declared(values, declared_numbers, declared, raw, locator, text)
        observed, codes = np.unique(values, return_inverse=True)
        names = _number_names(observed)
        return names, observed.astype(np.float64), codes.astype(np.int64)
    if declared is not None:
        return _codes_against_declared(text, declared, declared, raw, locator, text)
    return _string_codes(label)


def _string_codes(label: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    names, codes = _dictionary_codes(label)
    return names, np.arange(1, names.size + 1, dtype=np.float64), codes


def _codes_against_declared(
    keys: np.ndarray,
    declared_keys: np.ndarray,
    declared_names: np.ndarray,
    raw: RawColumns,
    locator: Locator,
    text: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    order = np.argsort(declared_keys, kind="stable")
    sorted_keys = declared_keys[order]
    position = np.clip(np.searchsorted(sorted_keys, keys), 0, sorted_keys.size - 1)
    found = sorted_keys[position] == keys
    bad = _first_true(~found)
    if bad is not None:
        allowed = ", ".join(map(str, declared_names[:20]))
        raise _label_error(
            raw,
            locator,
            bad,
            f"one of the declared categories ({allowed})",
            text[bad],
            hint="fix the label or add it to --categories",
        )
    values = (
        declared_keys.astype(np.float64)
        if declared_keys.dtype.kind == "f"
        else np.arange(1, declared_keys.size + 1, dtype=np.float64)
    )
    names = np.array([str(n) for n in declared_names], dtype=object)
    return names, values, order[position].astype(np.int64)


def _label_error(
    raw: RawColumns,
    locator: Locator,
    entry: int,
    expected: str,
    actual: object,
    hint: str | None = None,
) -> InputError:
    return locator.error(
        int(raw.rows[entry]),
        "invalid label",
        field=raw.field_of("label", entry),
        expected=expected,
        actual=actual,
        hint=hint,
    )


def _resolve_duplicates(
    item_codes: np.ndarray,
    annotator_codes: np.ndarray,
    n_annotators: int,
    on_duplicate: str,
    raw: RawColumns,
    locator: Locator,
) -> np.ndarray | None:
    """Mask of rows to keep (None = keep all); raise on duplicates with on_duplicate=error."""
    key = item_codes * n_annotators + annotator_codes
    order = np.argsort(key, kind="stable")
    repeated = key[order][1:] == key[order][:-1]
    if not repeated.any():
        return None
    if on_duplicate == "error":
        later = order[1:][repeated]
        first_dup = int(later.min())
        earlier = int(order[:-1][repeated][np.argmin(later)])
        raise locator.error(
            int(raw.rows[first_dup]),
            "duplicate (item, annotator) pair",
            field=f"{raw.fields['item']},{raw.fields['annotator']}",
            expected="one label per item and annotator",
            actual=f"a second label (first at {locator.unit} "
            f"{locator.line_of(int(raw.rows[earlier]))})",
            hint="remove the duplicate or pass --on-duplicate keep-last",
        )
    keep = np.ones(key.size, dtype=bool)
    keep[order[:-1][repeated]] = False  # stable sort: the later row of each pair wins
    return keep


def encode(
    raw: RawColumns, schema: TaskSchema, locator: Locator, *, on_duplicate: str = "error"
) -> AnnotationTable:
    """Validate canonical columns and build the integer-coded :class:`AnnotationTable`."""
    if len(raw.item) == 0:
        raise InputError(
            "empty input",
            source=locator.source,
            expected="at least one annotation",
            actual="0 rows",
        )
    item, annotator, label = (as_text(c) for c in (raw.item, raw.annotator, raw.label))
    if schema.task in _LIST_TASKS:  # an empty cell is an annotation with no regions
        empty = pc.or_kleene(pc.is_null(label), pc.equal(pc.utf8_length(label), 0))
        label = pc.if_else(empty, pa.scalar("[]", pa.string()), label)
    for column, name in ((item, "item"), (annotator, "annotator"), (label, "label")):
        _check_present(column, name, raw, locator)
    items, item_codes = _dictionary_codes(item)
    annotators, annotator_codes = _dictionary_codes(annotator)
    categories, category_values, label_codes = _encode_labels(label, schema, raw, locator)
    keep = _resolve_duplicates(
        item_codes, annotator_codes, annotators.size, on_duplicate, raw, locator
    )
    columns = {
        "item": item,
        "annotator": annotator,
        "label": pa.DictionaryArray.from_arrays(
            pa.array(label_codes), pa.array(categories, type=pa.string())
        ).cast(pa.string()),
    }
    columns.update(raw.extra)
    data = pa.table(columns)
    n_dropped = 0
    if keep is not None:
        n_dropped = int((~keep).sum())
        data = data.filter(pa.array(keep))
        item_codes, annotator_codes, label_codes = (
            item_codes[keep],
            annotator_codes[keep],
            label_codes[keep],
        )
        used_items, item_codes = np.unique(item_codes, return_inverse=True)
        items = items[used_items]
    return AnnotationTable(
        data=data,
        schema=schema,
        items=items,
        annotators=annotators,
        categories=categories,
        category_values=category_values,
        item_codes=item_codes.astype(np.int64),
        annotator_codes=annotator_codes.astype(np.int64),
        label_codes=label_codes,
        source=locator.source,
        report={"duplicates_replaced": n_dropped},
    )
