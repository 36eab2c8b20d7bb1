"""Short ids as 64-bit keys (labelaudit.table._keys): equal keys exactly for equal strings,
the strings' byte order, the strings rebuilt; and the reader codes ids the same way
whether or not they take that path."""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from labelaudit.table import read_annotations
from labelaudit.table._keys import MAX_REST, key_strings, order_keys, short_keys

#: Alphabets with the cases that matter: NUL bytes (zero padding), multi-byte UTF-8, digits.
_ALPHABET = st.sampled_from(["ab", "a\x00", "xy\u00e9\u4e2d", "0123456789", "\x00\x01\u00ff"])


@st.composite
def _columns(draw: st.DrawFn) -> tuple[pa.ChunkedArray, list[str]]:
    """A string column (one or two chunks, string or large_string, maybe sliced): a
    common prefix plus short rests, the case ``short_keys`` takes."""
    alphabet = draw(_ALPHABET)
    text = st.text(alphabet=alphabet, max_size=MAX_REST).filter(
        lambda rest: len(rest.encode()) <= MAX_REST
    )
    prefix = draw(st.text(alphabet=alphabet, max_size=12))
    values = [prefix + rest for rest in draw(st.lists(text, min_size=1, max_size=40))]
    kind = draw(st.sampled_from([pa.string(), pa.large_string()]))
    cut = draw(st.integers(0, len(values)))
    chunks = [pa.array(part, kind) for part in (values[:cut], values[cut:]) if part]
    if draw(st.booleans()) and len(values) > 2:  # a sliced chunk: offsets not from 0
        whole = pa.array(["zz", *values, "zz"], kind)
        chunks = [whole.slice(1, len(values))]
    return pa.chunked_array(chunks, kind), values


@settings(max_examples=150, deadline=None)
@given(_columns())
def test_keys_are_equal_exactly_for_equal_strings(found: tuple[pa.ChunkedArray, list[str]]) -> None:
    column, values = found
    keyed = short_keys(column)
    assert keyed is not None
    keys, prefix = keyed
    same_key = keys[:, None] == keys[None, :]
    same_text = np.array([[a == b for b in values] for a in values])
    assert (same_key == same_text).all()
    assert all(value.encode().startswith(prefix) for value in values)


@settings(max_examples=150, deadline=None)
@given(_columns())
def test_key_order_is_the_byte_order_and_strings_come_back(
    found: tuple[pa.ChunkedArray, list[str]],
) -> None:
    column, values = found
    keyed = short_keys(column)
    assert keyed is not None
    keys, prefix = keyed
    by_keys = [values[i] for i in np.argsort(order_keys(keys), kind="stable")]
    by_arrow = [values[i] for i in pc.sort_indices(column).to_pylist()]
    assert by_keys == by_arrow == sorted(values, key=lambda v: v.encode())
    rebuilt = key_strings(keys, prefix, column.type)
    assert rebuilt.type == column.type
    assert rebuilt.to_pylist() == values


def test_columns_that_do_not_fit_take_the_string_path() -> None:
    assert short_keys(pa.array(["a", "abcdefghij"])) is None  # rests of 1 and 10 bytes
    assert short_keys(pa.array(["item-1", None])) is None  # nulls
    assert short_keys(pa.array([1, 2, 3])) is None  # not strings
    assert short_keys(pa.array([], pa.string())) is None
    assert short_keys(pa.array(["prefix-1", "Prefix-2"])) is None  # no common 1-byte prefix
    keys, prefix = short_keys(pa.array(["doc-000000001", "doc-000000002"]))  # type: ignore[misc]
    assert prefix == b"doc-00" and keys[0] != keys[1]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(0, 10**6), min_size=1, max_size=30, unique=True),
    st.sampled_from(["{}", "item-{}", "  {}", "{}.0"]),
    st.randoms(use_true_random=False),
)
def test_reader_codes_ids_alike_on_both_paths(
    numbers: list[int], pattern: str, rnd: random.Random
) -> None:
    """Short ids (keys) and the same ids made long (string hashing): every row keeps its
    item, and the items are in the table's order (numbers by value then text, else
    UTF-8 byte order)."""
    short = [pattern.format(n) for n in numbers]
    long = [s + "-" + "x" * 20 for s in short]
    rows = [(i, a) for i in range(len(numbers)) for a in range(3) if (i + a) % 4]
    rnd.shuffle(rows)
    tables = [
        read_annotations(
            pa.table(
                {
                    "item": [names[i] for i, _ in rows],
                    "annotator": [f"a{a}" for _, a in rows],
                    "label": [str((i * a) % 3) for i, a in rows],
                }
            )
        )
        for names in (short, long)
        if rows
    ]
    if not tables:
        return
    short_table, long_table = tables
    stripped = [s.strip() for s in short]
    used = {stripped[i] for i, _ in rows}
    if pattern.startswith("item"):  # text: UTF-8 byte order
        expected = sorted(used, key=lambda s: s.encode())
    else:  # every id a number: by value, ties by text
        expected = sorted(used, key=lambda s: (float(s), s.encode()))
    assert list(short_table.items) == expected
    assert list(short_table.items[short_table.item_codes]) == [stripped[i] for i, _ in rows]
    assert list(long_table.items[long_table.item_codes]) == [long[i].strip() for i, _ in rows]
    for table in tables:
        assert table.item_names is not None
        assert table.item_names.to_pylist() == list(table.items)


def test_keys_read_in_place_equal_keys_from_a_copy() -> None:
    """Most rows read the Arrow data buffer in place, the last ones (and a buffer that is
    not 8-byte aligned) a padded copy: every way gives the same keys."""
    rng = np.random.default_rng(7)
    values = [f"item-{n}" for n in rng.integers(0, 10**6, 20_000)]
    column = pa.array(values)
    keys, prefix = short_keys(column)  # type: ignore[misc]
    _, offsets, data = column.buffers()
    raw = data.to_pybytes()
    unaligned = next(  # the same bytes at an address that is not a multiple of 8
        buffer
        for buffer in (pa.py_buffer(b"\x00" * k + raw).slice(k) for k in range(1, 9))
        if buffer.address % 8
    )
    for buffer in (unaligned, pa.py_buffer(raw)):
        again = pa.Array.from_buffers(pa.string(), len(values), [None, offsets, buffer])
        found = short_keys(pa.chunked_array([again.slice(0, 7_000), again.slice(7_000)]))
        assert found is not None and found[1] == prefix
        assert np.array_equal(found[0], keys)
    assert key_strings(keys, prefix).to_pylist() == values
