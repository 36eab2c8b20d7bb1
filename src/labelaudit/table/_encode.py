"""Validate canonical columns once and integer-encode them into an AnnotationTable.

Everything here is vectorised (pyarrow compute / numpy). The only per-row Python work
happens on the error path, to name the exact line of the first bad row.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from labelaudit.exceptions import InputError
from labelaudit.table._keys import arrow_of, key_strings, numbers_of, order_keys, short_keys
from labelaudit.table.schema import TaskSchema
from labelaudit.table.table import AnnotationTable, dense_cell_order

__all__ = ["NUMBER_PATTERN", "Locator", "RawColumns", "as_text", "encode", "natural_order"]

#: A decimal number as written in a file (no NaN/inf): what counts as a numeric label.
NUMBER_PATTERN = r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$"
#: Integral floats below this print as integers (exact in float64).
_EXACT_INTEGER = 2.0**53


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
    """Any column as trimmed strings; integral floats lose their ``.0`` (3.0 -> "3").

    Integral floats print as integers only while exact (|x| < 2**53); larger ones keep
    their shortest round-trip form (``1.2345678901234567e+19``), never a wrapped int64.
    """
    if isinstance(column, pa.Array):
        column = pa.chunked_array([column])
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    if pa.types.is_floating(column.type):
        as_float = column.to_numpy(zero_copy_only=False).astype(np.float64)
        integral = np.isfinite(as_float) & (np.floor(as_float) == as_float)
        integral &= np.abs(as_float) < _EXACT_INTEGER
        text = as_float.astype(str).astype(object)
        text[integral] = as_float[integral].astype(np.int64).astype(str)
        mask = pc.is_null(column).to_numpy(zero_copy_only=False) | np.isnan(as_float)
        return pa.chunked_array([pa.array(text, mask=mask, type=pa.string())])
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        column = pc.cast(column, pa.string())
    return pc.utf8_trim_whitespace(column)


#: Structured tasks whose label is a JSON list (an empty cell: the empty list).
LIST_TASKS = ("multilabel", "spans", "boxes", "ranking", "polygons", "cuboids", "keypoints")


def _first_true(mask: np.ndarray) -> int | None:
    hits = np.flatnonzero(mask)
    return int(hits[0]) if hits.size else None


def _numpy(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(array.to_numpy(zero_copy_only=False))


def _indices(array: pa.Array) -> np.ndarray:
    """Dictionary indices as an int32 (or int64) numpy array, -1 where null."""
    if array.null_count == 0 and pa.types.is_integer(array.type):
        raw = numbers_of(array)  # a read-only view of the Arrow buffer: no copy when int32
        return raw.astype(np.int64 if raw.dtype.itemsize > 4 else np.int32, copy=False)
    return _numpy(pc.fill_null(array, -1)).astype(np.int64)


@dataclass
class _Coded:
    """A column after one hash pass: distinct canonical strings and each entry's index.

    ``names`` (d,) distinct trimmed strings (first-appearance order); ``indices`` (n,)
    int32 (int64 past 2**31 names) positions in ``names``, -1 where the cell is null or
    empty; ``same`` is True when the raw column already was exactly these strings (no
    cast, trim or merge changed one); ``missing`` counts the -1 entries; ``byte_order``
    (d,), when known, is the positions of ``names`` in UTF-8 byte order.
    """

    names: pa.Array
    indices: np.ndarray
    same: bool
    missing: int = 0
    byte_order: np.ndarray | None = None


def _hash_keys(column: pa.ChunkedArray) -> tuple[pa.Array, np.ndarray, np.ndarray] | None:
    """(distinct strings in first-appearance order, each row's index, their byte order)
    by hashing 64-bit keys (:func:`labelaudit.table._keys.short_keys`), or None."""
    found = short_keys(column)
    if found is None:
        return None
    keys, prefix = found
    encoded = pc.dictionary_encode(arrow_of(keys))
    distinct = numbers_of(encoded.dictionary)
    order = np.argsort(order_keys(distinct), kind="stable")
    return key_strings(distinct, prefix, column.type), _indices(encoded.indices), order


def _code(column: pa.ChunkedArray) -> _Coded:
    """Hash-encode a raw column, then canonicalise only its distinct values (vectorised).

    Short ids (a common prefix plus at most 7 bytes) hash as 64-bit keys, which also give
    their byte order; other columns go through Arrow's ``dictionary_encode``. Both give
    the distinct values in first-appearance order.
    """
    byte_order, fresh, unused = None, True, None
    found = None if pa.types.is_dictionary(column.type) else _hash_keys(column)
    if found is not None:
        raw_names, indices, byte_order = found
    else:
        if pa.types.is_dictionary(column.type):  # e.g. Parquet dictionary pages: no row hashing
            encoded = column.unify_dictionaries().combine_chunks()
            # a given dictionary may hold values no row uses (one Arrow hash of the
            # indices; numpy's bincount would first copy them to int64)
            unused = np.ones(len(encoded.dictionary), dtype=bool)
            unused[_numpy(pc.unique(encoded.indices).drop_null()).astype(np.int64)] = False
            fresh = False
        else:
            encoded = pc.dictionary_encode(column).combine_chunks()
        raw_names = encoded.dictionary
        indices = _indices(encoded.indices)
    text = as_text(raw_names).combine_chunks()
    blank = _numpy(pc.fill_null(pc.equal(pc.utf8_length(text), 0), True))
    if unused is not None:
        blank |= unused
    nulls = int(np.count_nonzero(indices < 0)) if column.null_count else 0
    unchanged = pa.types.is_string(raw_names.type) and not blank.any()
    unchanged = unchanged and bool(pc.all(pc.equal(raw_names, text)).as_py() is not False)
    if unchanged:  # distinct strings already, trimmed and non-empty
        return _Coded(text, indices, fresh, nulls, byte_order)
    merged = pc.dictionary_encode(text)
    if len(merged.dictionary) < len(text) or blank.any():
        remap = _numpy(pc.fill_null(merged.indices, -1)).astype(np.int64)
        remap[blank] = -1
        keep = np.zeros(len(merged.dictionary), dtype=bool)
        keep[remap[remap >= 0]] = True
        if not keep.all():  # drop the empty string from the distinct values
            position = np.cumsum(keep) - 1
            remap = np.where(remap >= 0, position[np.maximum(remap, 0)], -1)
        names = merged.dictionary.filter(pa.array(keep))
        indices = np.where(indices >= 0, remap[np.maximum(indices, 0)], -1)
        return _Coded(names, indices, False, int(np.count_nonzero(indices < 0)))
    return _Coded(text, indices, False, nulls)


def _check_present(coded: _Coded, name: str, raw: RawColumns, locator: Locator) -> None:
    if not coded.missing:
        return
    bad = _first_true(coded.indices < 0)
    if bad is not None:
        raise locator.error(
            int(raw.rows[bad]),
            f"missing {name}",
            field=raw.field_of(name, bad),
            expected=f"a non-empty {name}",
            actual="",
            hint=f"fill in the {name} or remove the row",
        )


def _numbers(names: pa.Array) -> np.ndarray | None:
    """The names as float64 when every one is a decimal number (``NUMBER_PATTERN``), else None."""
    if len(names) == 0 or not re.match(NUMBER_PATTERN, str(names[0])):
        return None  # the first name decides most cases without a pass over all of them
    if not pc.all(pc.match_substring_regex(names, NUMBER_PATTERN)).as_py():
        return None
    return _numpy(pc.cast(pc.utf8_trim_whitespace(names), pa.float64())).astype(np.float64)


def _natural_order(names: pa.Array, byte_order: np.ndarray | None = None) -> np.ndarray:
    """Positions of ``names`` sorted: by value when every name is a number (ties by text:
    ``1`` and ``1.0`` stay two names), else by text (UTF-8 byte order); one Arrow sort,
    or none when ``byte_order`` (the names' positions in byte order) is given."""
    numbers = _numbers(names)
    if numbers is None:
        if byte_order is not None:
            return byte_order.astype(np.int64)
        return _numpy(pc.sort_indices(names)).astype(np.int64)
    if byte_order is not None:
        text_rank = np.empty(byte_order.size, dtype=np.int64)
        text_rank[byte_order] = np.arange(byte_order.size)
        return np.lexsort((text_rank, numbers)).astype(np.int64)
    keys = pa.table({"value": numbers, "text": names})
    order = pc.sort_indices(keys, sort_keys=[("value", "ascending"), ("text", "ascending")])
    return _numpy(order).astype(np.int64)


def natural_order(names: pa.Array) -> np.ndarray:
    """Positions of distinct ``names`` in the order the table gives codes: by value when
    every name is a number (ties by text), else by text (UTF-8 byte order)."""
    return _natural_order(names)


def _sorted_codes(coded: _Coded) -> tuple[np.ndarray, pa.Array, np.ndarray]:
    """(names sorted as an object array, the same as Arrow, each entry's code as int64:
    the table's dtype, gathered once)."""
    order = _natural_order(coded.names, coded.byte_order)
    rank = np.empty(order.size, dtype=np.int64)
    rank[order] = np.arange(order.size, dtype=rank.dtype)
    names = coded.names.take(arrow_of(order))
    return _numpy(names).astype(object), names, rank[coded.indices]


def _entry_of(coded: _Coded, bad_names: np.ndarray) -> int:
    """The first entry whose distinct value is flagged in ``bad_names`` (error path)."""
    return int(np.flatnonzero(bad_names[coded.indices])[0])


def _number_names(values: np.ndarray) -> np.ndarray:
    """Names of numeric categories: 3.0 -> "3", 2.5 -> "2.5" (vectorised)."""
    integral = (np.floor(values) == values) & (np.abs(values) < _EXACT_INTEGER)
    names = values.astype(str).astype(object)
    names[integral] = values[integral].astype(np.int64).astype(str)
    return names


@dataclass
class _Labels:
    """Coded labels: names (q,), values (q,), codes (n,), scale, warnings."""

    categories: np.ndarray
    values: np.ndarray
    codes: np.ndarray
    scale: str
    warnings: list[str]


def _equal_numbers_warning(text: np.ndarray, numbers: np.ndarray, merged: bool) -> list[str]:
    """A warning naming labels that are numerically equal but written differently."""
    values, counts = np.unique(numbers, return_counts=True)
    clash = np.flatnonzero(counts > 1)
    if clash.size == 0:
        return []
    same = np.flatnonzero(numbers == values[clash[0]])[:4]
    shown = ", ".join(repr(str(t)) for t in text[same])
    what = (
        "are counted as one category (numeric level)"
        if merged
        else "are kept as different categories (nominal labels are text; pass --level "
        "ordinal/interval or declare numeric --categories to compare them as numbers)"
    )
    return [f"labels {shown} are numerically equal but written differently: they {what}"]


def _encode_labels(coded: _Coded, schema: TaskSchema, raw: RawColumns, locator: Locator) -> _Labels:
    """Categories, their values and each entry's code, after the label checks.

    Every check runs on the distinct labels, then maps to entries. At nominal level labels
    are text (``01``, ``1`` and ``1.0`` are three categories); numeric meaning applies at
    ordinal/interval/ratio level or against declared numeric categories. Structured tasks
    carry canonical JSON strings in ``label``: coded as text and checked here against
    nothing (their readers validate the payload).
    """
    if schema.is_structured:
        names, _, codes = _sorted_codes(coded)
        return _Labels(names, np.arange(1, names.size + 1, dtype=np.float64), codes, "text", [])
    text = _numpy(coded.names).astype(object)
    is_number = _numpy(pc.match_substring_regex(coded.names, NUMBER_PATTERN)).astype(bool)
    numbers = np.full(text.size, np.nan)
    if is_number.any():
        numbers[is_number] = _numpy(
            pc.cast(coded.names.filter(pa.array(is_number)), pa.float64())
        ).astype(np.float64)
    declared = np.asarray(schema.categories, dtype=object) if schema.categories else None
    declared_numbers = _numbers(pa.array(declared, pa.string())) if declared is not None else None
    numeric = bool(is_number.all()) and (declared is None or declared_numbers is not None)
    _check_level(schema, numeric, is_number, declared, coded, raw, locator, text)
    numeric_meaning = numeric and (schema.level != "nominal" or declared_numbers is not None)
    warnings = _equal_numbers_warning(text[is_number], numbers[is_number], numeric_meaning)
    if numeric_meaning:
        if declared is not None and declared_numbers is not None:
            found = _against_declared(numbers, declared_numbers, declared, coded, raw, locator)
            return _Labels(*found, "numeric", warnings)
        observed, entry_codes = np.unique(numbers, return_inverse=True)
        return _Labels(
            _number_names(observed), observed, entry_codes[coded.indices], "numeric", warnings
        )
    if declared is not None:
        found = _against_declared(text, declared, declared, coded, raw, locator)
        return _Labels(*found, "declared", warnings)
    names, _, codes = _sorted_codes(coded)
    if numeric:  # nominal numbers: text categories, numeric values for weights
        return _Labels(
            names,
            _numpy(pc.cast(pa.array(names, pa.string()), pa.float64())).astype(np.float64),
            codes,
            "numeric",
            warnings,
        )
    return _Labels(names, np.arange(1, names.size + 1, dtype=np.float64), codes, "text", warnings)


def _check_level(
    schema: TaskSchema,
    numeric: bool,
    is_number: np.ndarray,
    declared: np.ndarray | None,
    coded: _Coded,
    raw: RawColumns,
    locator: Locator,
    text: np.ndarray,
) -> None:
    """Numbers at interval/ratio level; a declared order for ordinal text labels."""
    if schema.is_quantitative and not numeric:
        if not is_number.all():
            entry = _entry_of(coded, ~is_number)
            bad_text = text[coded.indices[entry]]
            raise _label_error(raw, locator, entry, f"a number ({schema.level} level)", bad_text)
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
            actual=", ".join(map(str, np.sort(text.astype(str))[:5])),
            hint="pass --categories low,medium,high (lowest first)",
        )


def _against_declared(
    keys: np.ndarray,
    declared_keys: np.ndarray,
    declared_names: np.ndarray,
    coded: _Coded,
    raw: RawColumns,
    locator: Locator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(names, values, entry codes) of distinct labels ``keys`` matched to the declared list."""
    order = np.argsort(declared_keys, kind="stable")
    sorted_keys = declared_keys[order]
    position = np.clip(np.searchsorted(sorted_keys, keys), 0, sorted_keys.size - 1)
    found = sorted_keys[position] == keys
    if not found.all():
        entry = _entry_of(coded, ~found)
        allowed = ", ".join(map(str, declared_names[:20]))
        raise _label_error(
            raw,
            locator,
            entry,
            f"one of the declared categories ({allowed})",
            _numpy(coded.names)[coded.indices[entry]],
            hint="fix the label or add it to --categories",
        )
    values = (
        declared_keys.astype(np.float64)
        if declared_keys.dtype.kind == "f"
        else np.arange(1, declared_keys.size + 1, dtype=np.float64)
    )
    names = np.array([str(n) for n in declared_names], dtype=object)
    return names, values, order[position].astype(np.int64)[coded.indices]


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
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(mask of rows to keep or None = keep all, the rows' (item, annotator) order when
    one dense scatter found it); raise on duplicates with on_duplicate=error."""
    n_items = int(item_codes.max(initial=-1) + 1)
    cell_order = dense_cell_order(item_codes, annotator_codes, n_items, n_annotators)
    if cell_order is not None:
        return None, cell_order  # every (item, annotator) cell holds one row: no sort
    key = item_codes * n_annotators + annotator_codes
    order = np.argsort(key, kind="stable")
    repeated = key[order][1:] == key[order][:-1]
    if not repeated.any():
        return None, None
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
    return keep, None


@dataclass
class _Sorted:
    """A coded column sorted: names (object array and Arrow) and each entry's code."""

    names: np.ndarray
    arrow: pa.Array
    codes: np.ndarray


def _code_columns(
    raw: RawColumns, label: pa.ChunkedArray, schema: TaskSchema, locator: Locator
) -> tuple[dict[str, _Coded], _Sorted, _Sorted, _Labels, dict[str, pa.ChunkedArray | pa.Array]]:
    """Code, check and sort the canonical columns: (coded columns, items, annotators,
    labels, the canonical annotator and label columns). The item column costs most:
    annotators and labels are coded, sorted and written beside it in a worker thread
    (Arrow and numpy free the GIL); errors keep their order (missing item, annotator,
    label, then invalid labels)."""

    def others() -> tuple[_Sorted, _Labels, dict[str, pa.ChunkedArray | pa.Array]]:
        annotators = _Sorted(*_sorted_codes(coded["annotator"]))
        labels = _encode_labels(coded["label"], schema, raw, locator)
        categories = pa.array(labels.categories, pa.string())
        return (
            annotators,
            labels,
            {
                "annotator": _rows_text(
                    raw.annotator, coded["annotator"], annotators.arrow, annotators.codes
                ),
                "label": _rows_text(None, None, categories, labels.codes),
            },
        )

    with ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(lambda: (_code(raw.annotator), _code(label)))
        coded = {"item": _code(raw.item)}
        coded["annotator"], coded["label"] = first.result()
        for name, column in coded.items():
            _check_present(column, name, raw, locator)
        found = pool.submit(others)
        items = _Sorted(*_sorted_codes(coded["item"]))
        annotators, labels, texts = found.result()
    return coded, items, annotators, labels, texts


def encode(
    raw: RawColumns, schema: TaskSchema, locator: Locator, *, on_duplicate: str = "error"
) -> AnnotationTable:
    """Validate canonical columns and build the integer-coded :class:`AnnotationTable`.

    One hash pass per column (Arrow ``dictionary_encode``; of 64-bit keys for short ids,
    :mod:`labelaudit.table._keys`, which also give their order without a string sort);
    trimming, number checks, category matching and sorting run on the distinct values
    only, then map to rows with one numpy take. Annotators and labels are coded in a
    worker thread beside the items; the duplicate check's scatter into the item x
    annotator grid is kept as the table's :attr:`~AnnotationTable.row_order`.
    ``table.report["warnings"]`` lists what the user should know (e.g. labels that are
    numerically equal but written differently).
    """
    if len(raw.item) == 0:
        raise InputError(
            "empty input",
            source=locator.source,
            expected="at least one annotation",
            actual="0 rows",
        )
    label = raw.label
    if schema.task in LIST_TASKS:  # an empty cell is an annotation with no regions
        label = as_text(label)
        empty = pc.or_kleene(pc.is_null(label), pc.equal(pc.utf8_length(label), 0))
        label = pc.if_else(empty, pa.scalar("[]", pa.string()), label)
    coded, item_sort, annotator_sort, labels, texts = _code_columns(raw, label, schema, locator)
    items, item_names, item_codes = item_sort.names, item_sort.arrow, item_sort.codes
    annotators = annotator_sort.names
    annotator_codes = annotator_sort.codes
    item_codes = item_codes.astype(np.int64, copy=False)
    annotator_codes = annotator_codes.astype(np.int64, copy=False)
    keep, cell_order = _resolve_duplicates(
        item_codes, annotator_codes, annotators.size, on_duplicate, raw, locator
    )
    columns = {"item": _rows_text(raw.item, coded["item"], item_names, item_codes), **texts}
    columns.update(raw.extra)
    data = pa.table(columns)
    n_dropped, label_codes = 0, labels.codes
    if keep is not None:
        n_dropped = int((~keep).sum())
        data = data.filter(pa.array(keep))
        item_codes, annotator_codes, label_codes = (
            item_codes[keep],
            annotator_codes[keep],
            label_codes[keep],
        )
        used_items, item_codes = np.unique(item_codes, return_inverse=True)
        items, item_names = items[used_items], item_names.take(pa.array(used_items))
    table = AnnotationTable(
        data=data,
        schema=schema,
        items=items,
        annotators=annotators,
        categories=labels.categories,
        category_values=labels.values,
        item_codes=item_codes.astype(np.int64, copy=False),
        annotator_codes=annotator_codes,
        label_codes=label_codes.astype(np.int64, copy=False),
        source=locator.source,
        report={"duplicates_replaced": n_dropped, "warnings": labels.warnings},
        category_scale=labels.scale,
        item_names=item_names,
    )
    if cell_order is not None:  # found by the duplicate check: the table's cached row order
        table.__dict__["row_order"] = cell_order
    return table


def _rows_text(
    raw: pa.ChunkedArray | None, coded: _Coded | None, names: pa.Array, codes: np.ndarray
) -> pa.ChunkedArray | pa.Array:
    """The canonical strings of each row: the raw column itself when it already held
    exactly them, else one take from the distinct names."""
    if raw is not None and coded is not None and coded.same:
        return raw
    index_type = pa.int32() if len(names) < 2**31 else pa.int64()
    indices = pa.array(codes.astype(np.int32 if index_type == pa.int32() else np.int64))
    return names.take(indices)
