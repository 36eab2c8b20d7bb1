"""The content hash of an annotation table: same rows and columns, same SHA-256.

Definition (version 2, ``CONTENT_HASH_VERSION``). Rows are taken in (item, annotator)
order. SHA-256 is fed, all integers little-endian:

1. the tag ``b"labelaudit-content/2\\0"``, then the number of rows and of columns (u64);
2. for each column - ``item``, ``annotator``, ``label``, then every other stored column
   sorted by name - its name as a string list of one, its distinct values as a string
   list, and one i32 code per row (position in that list, -1 for a missing cell).

A *string list* is its length n (u64), the n + 1 cumulative byte offsets (i64, from 0)
and the concatenated UTF-8 bytes. Every field has a known length, so no choice of
separator characters (TAB, newline, NUL) in ids or labels can make two tables encode to
the same bytes. The distinct values are the table's sorted item and annotator names, the
labels *used* in UTF-8 byte order (declared but unused categories do not change the hash)
and, for other columns, their text (:func:`labelaudit.table.as_text`) in order of first
appearance. Version 1 (before 2026-12) joined ``item\\tannotator\\tlabel`` with no escape:
a TAB in an id could make two tables collide; the store migration 4 rehashes old batches.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from labelaudit.table._encode import as_text
from labelaudit.table.table import AnnotationTable

__all__ = ["CANONICAL_COLUMNS", "CONTENT_HASH_VERSION", "content_sha256"]

CONTENT_HASH_VERSION = 2
CANONICAL_COLUMNS = ("item", "annotator", "label")
_TAG = b"labelaudit-content/2\0"
#: Structured tasks' ``payload`` is the parsed form of ``label`` (already hashed).
_NOT_HASHED = (*CANONICAL_COLUMNS, "payload")


def _text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Scalar columns as :func:`as_text`; nested ones (lists, structs) as sorted-key JSON."""
    try:
        return as_text(column)
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
        import json

        cells = [None if v is None else json.dumps(v, sort_keys=True) for v in column.to_pylist()]
        return pa.chunked_array([pa.array(cells, pa.string())])


def _u64(value: int) -> bytes:
    return int(value).to_bytes(8, "little")


def _update_strings(digest: hashlib._Hash, values: pa.Array) -> None:
    """Feed a string list: count, n + 1 offsets from 0 (i64), the UTF-8 bytes."""
    values = pc.cast(values, pa.large_string())
    if values.null_count:
        values = pc.fill_null(values, "")  # callers pass distinct, non-null values only
    values = pa.concat_arrays([values])  # offset 0, own buffers
    offsets = np.frombuffer(values.buffers()[1], dtype="<i8")[: len(values) + 1]
    digest.update(_u64(len(values)))
    digest.update(np.ascontiguousarray(offsets - offsets[0]).data)
    data = values.buffers()[2]
    if data is not None and len(values):
        digest.update(memoryview(data)[int(offsets[0]) : int(offsets[-1])])


def _as_strings(names: np.ndarray) -> pa.Array:
    """Names (object or str array) as Arrow strings, without a fixed-width copy."""
    try:
        return pa.array(names, pa.large_string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array(names.astype(str), pa.large_string())


def _update_column(digest: hashlib._Hash, name: str, names: pa.Array, codes: np.ndarray) -> None:
    _update_strings(digest, pa.array([name], pa.large_string()))
    _update_strings(digest, names)
    digest.update(np.ascontiguousarray(codes, dtype="<i4").data)


def _used_labels(table: AnnotationTable, order: np.ndarray) -> tuple[pa.Array, np.ndarray]:
    """Used categories in UTF-8 byte order and each sorted row's code among them."""
    used = np.flatnonzero(np.bincount(table.label_codes, minlength=table.n_categories))
    names = _as_strings(table.categories[used])
    by_text = np.asarray(pc.sort_indices(names).to_numpy(zero_copy_only=False), np.int64)
    remap = np.full(table.n_categories, -1, dtype=np.int32)
    remap[used[by_text]] = np.arange(used.size, dtype=np.int32)
    return names.take(pa.array(by_text)), remap[table.label_codes].take(order)


def content_sha256(table: AnnotationTable) -> str:
    """SHA-256 (hex) of the table's content, as defined in the module docstring.

    Independent of row order and of the file format the rows came from; covers every
    column the table holds (what ``ingest`` stores; a structured ``payload`` is the parsed
    ``label``), so a file that differs only in an
    extra column hashes differently. Cost: one gather of the codes in (item, annotator)
    order (:attr:`AnnotationTable.row_order`) and one pass of SHA-256 over 12 bytes per
    row plus the distinct names.
    """
    return table.content_sha256


def _compute(table: AnnotationTable) -> str:
    """The hash itself (:attr:`AnnotationTable.content_sha256` caches it per table)."""
    order = table.row_order
    data = table.data
    extras = sorted(n for n in data.column_names if n not in _NOT_HASHED)
    digest = hashlib.sha256(_TAG)
    digest.update(_u64(table.n_ratings) + _u64(len(CANONICAL_COLUMNS) + len(extras)))
    per_item = table.ratings_per_item()
    sorted_items = np.repeat(np.arange(table.n_items, dtype=np.int32), per_item)  # = codes[order]
    items = _as_strings(table.items) if table.item_names is None else table.item_names
    _update_column(digest, "item", items, sorted_items)
    annotators = table.annotator_codes.astype(np.int32).take(order)
    _update_column(digest, "annotator", _as_strings(table.annotators), annotators)
    _update_column(digest, "label", *_used_labels(table, order))
    take = pa.array(order)
    for name in extras:
        encoded = pc.dictionary_encode(_text(data.column(name)).take(take)).combine_chunks()
        codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
        _update_column(digest, name, encoded.dictionary, codes)
    return digest.hexdigest()
