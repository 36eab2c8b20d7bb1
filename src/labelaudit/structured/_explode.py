"""Vectorised flattening of list payloads and group arithmetic on sorted integer keys.

Everything here is numpy/pyarrow over whole columns: a list payload of n rows becomes
flat element arrays plus the row (``parent``) each element came from
(``pyarrow.compute.list_flatten`` / ``list_parent_indices``); groups of equal sorted keys
become (start, size) runs; pairs and cross products within runs are built with
``np.repeat`` arithmetic, never with a Python loop over groups.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "code_strings",
    "cross_within_groups",
    "explode",
    "group_runs",
    "numbers",
    "order_by",
    "pack",
    "pairs_within_groups",
    "row_pairs",
    "run_offsets",
    "strings",
]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


def explode(payload: pa.ChunkedArray | pa.Array) -> tuple[I64, pa.Array]:
    """Flatten a list column.

    Parameters
    ----------
    payload : pyarrow list array, n rows
        A null list counts as an empty list.

    Returns
    -------
    parent : ndarray of int64, shape (n_elements,)
        Row of each element, non-decreasing.
    values : pyarrow.Array, length n_elements
        The elements in row order (a StructArray for struct lists).
    """
    array = payload.combine_chunks() if isinstance(payload, pa.ChunkedArray) else payload
    parent = pc.list_parent_indices(array).to_numpy(zero_copy_only=False).astype(np.int64)
    return parent, pc.list_flatten(array)


def numbers(values: pa.Array, name: str) -> F64:
    """Field ``name`` of a StructArray as float64 (null -> NaN)."""
    field = pc.struct_field(values, name)
    return np.asarray(
        pc.fill_null(pc.cast(field, pa.float64()), np.nan).to_numpy(zero_copy_only=False),
        dtype=np.float64,
    )


def strings(values: pa.Array, name: str | None = None) -> pa.Array:
    """Field ``name`` of a StructArray (or the array itself) as strings, null -> ``""``."""
    field = pc.struct_field(values, name) if name is not None else values
    return pc.fill_null(pc.cast(field, pa.string()), "")


def code_strings(
    values: pa.Array, declared: Sequence[str] | None = None
) -> tuple[npt.NDArray[np.object_], I64]:
    """Integer codes of strings: declared names first (in order), then the rest sorted.

    Returns ``(names, codes)`` with ``names[codes] == values``; codes do not depend on
    row order. One hash pass (``dictionary_encode``), then a sort of the distinct values.
    """
    encoded = pc.dictionary_encode(values)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    seen = np.asarray(encoded.dictionary.to_numpy(zero_copy_only=False), dtype=object)
    seen = seen.astype(str) if seen.size else np.zeros(0, dtype=str)
    indices = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    first = np.asarray(list(declared or ()), dtype=str)
    remap = np.zeros(seen.size, dtype=np.int64)
    in_first = np.isin(seen, first) if first.size else np.zeros(seen.size, dtype=bool)
    if first.size:
        order = np.argsort(first, kind="stable")
        remap[in_first] = order[np.searchsorted(first[order], seen[in_first])]
    rest = seen[~in_first]
    rest_order = np.argsort(rest, kind="stable")
    rank = np.empty(rest.size, dtype=np.int64)
    rank[rest_order] = np.arange(rest.size)
    remap[~in_first] = first.size + rank
    names = np.concatenate([first.astype(object), rest[rest_order].astype(object)])
    return names, remap[indices] if indices.size else indices


def run_offsets(sizes: npt.ArrayLike) -> I64:
    """0, 1, ..., s-1 for every run size s, concatenated: shape (sum(sizes),)."""
    s = np.asarray(sizes, dtype=np.int64)
    total = int(s.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.cumsum(s) - s
    return np.arange(total, dtype=np.int64) - np.repeat(starts, s)


def group_runs(sorted_keys: npt.ArrayLike) -> tuple[I64, I64]:
    """(start, size) of each run of equal values in a sorted 1-D key array."""
    keys = np.asarray(sorted_keys)
    if keys.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    new = np.ones(keys.size, dtype=bool)
    new[1:] = keys[1:] != keys[:-1]
    starts = np.flatnonzero(new).astype(np.int64)
    sizes = np.diff(np.append(starts, keys.size)).astype(np.int64)
    return starts, sizes


def pairs_within_groups(starts: I64, sizes: I64) -> tuple[I64, I64]:
    """All pairs (i, j), i < j, of positions inside each run [start, start + size).

    Shapes (sum s(s-1)/2,); pairs of a run are contiguous, in lexicographic order.
    """
    elements = np.repeat(starts, sizes) + run_offsets(sizes)
    after = np.repeat(sizes, sizes) - 1 - run_offsets(sizes)
    first = np.repeat(elements, after)
    return first, first + 1 + run_offsets(after)


def cross_within_groups(
    a_starts: I64, a_sizes: I64, b_starts: I64, b_sizes: I64
) -> tuple[I64, I64, I64]:
    """The cross product of run a_g x run b_g for every g.

    Returns ``(a, b, group)``: positions in the a and b arrays and the run index g, a-major
    within each group (shape (sum a_g * b_g,)).
    """
    a_elements = np.repeat(a_starts, a_sizes) + run_offsets(a_sizes)
    reps = np.repeat(b_sizes, a_sizes)
    first = np.repeat(a_elements, reps)
    b_first = np.repeat(np.repeat(b_starts, a_sizes), reps)
    group = np.repeat(np.repeat(np.arange(a_sizes.size, dtype=np.int64), a_sizes), reps)
    return first, b_first + run_offsets(reps), group


def row_pairs(item_codes: I64, annotator_codes: I64) -> tuple[I64, I64]:
    """Every pair of rows (r, s) of one item with annotator(r) < annotator(s).

    Shapes (sum m_i (m_i - 1) / 2,), sorted by (item, annotator(r), annotator(s)).
    """
    order = np.lexsort((annotator_codes, item_codes)).astype(np.int64)
    starts, sizes = group_runs(item_codes[order])
    first, second = pairs_within_groups(starts, sizes)
    return order[first], order[second]


def order_by(major: I64, minor: I64) -> I64:
    """Positions sorting by (major, minor), both non-negative int64.

    One argsort of a packed key ``major << b | minor`` when it fits in 63 bits (b the bit
    length of max(minor)), else ``np.lexsort``; equal (major, minor) keep no set order.
    """
    if major.size == 0:
        return np.zeros(0, dtype=np.int64)
    bits = int(minor.max()).bit_length()
    if int(major.max()).bit_length() + bits <= 62 and int(minor.min()) >= 0:
        return np.argsort((major << np.int64(bits)) | minor).astype(np.int64)
    return np.lexsort((minor, major)).astype(np.int64)


def pack(high: I64, low: I64) -> I64:
    """``high << b | low`` with b the bit length of max(low): one int64 ordering like
    (high, low) for non-negative values that fit (offsets below 2**31 always do)."""
    bits = int(low.max()).bit_length() if low.size else 0
    return np.asarray((high << np.int64(bits)) | low, dtype=np.int64)
