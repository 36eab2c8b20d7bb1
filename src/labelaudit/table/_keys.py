"""Short strings as 64-bit keys: coding ids without hashing or comparing strings.

Ids in annotation files are mostly short strings that share a prefix (``item-000123``,
``doc_42``, ``17``). When every string of a column is one common prefix of P bytes plus
at most 7 more bytes, a string is fully described by one uint64: those bytes (zero
padded, first byte lowest) and their count in the top byte. Arrow hashes 64-bit integers
several times faster than strings (no variable-length compare, no copy into the hash
table), and numpy sorts them without comparing strings. Everything is vectorised: one
gather of 8 bytes per row, no Python loop over rows.

Order: :func:`order_keys` turns the keys into integers whose order is the strings' UTF-8
byte order (what ``pyarrow.compute.sort_indices`` gives): the rest bytes big-endian, then
the length (a string sorts before itself followed by NUL bytes).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

__all__ = ["MAX_REST", "arrow_of", "key_strings", "numbers_of", "order_keys", "short_keys"]

#: Most bytes after the common prefix that a key holds (the eighth byte is the length).
MAX_REST = 7
_LOW_BYTES = np.uint64((1 << 56) - 1)
_BLOCK = 1 << 13


_ARROW_TYPES = {
    np.dtype(np.int32): pa.int32(),
    np.dtype(np.int64): pa.int64(),
    np.dtype(np.uint64): pa.uint64(),
}


def arrow_of(values: np.ndarray) -> pa.Array:
    """A contiguous int32, int64 or uint64 numpy array as an Arrow array (zero copy)."""
    values = np.ascontiguousarray(values)
    kind = _ARROW_TYPES[values.dtype]
    return pa.Array.from_buffers(kind, values.size, [None, pa.py_buffer(values)])


def numbers_of(array: pa.Array) -> np.ndarray:
    """The values of an Arrow integer array without nulls as numpy (zero copy)."""
    width = np.dtype(f"<{'u' if pa.types.is_unsigned_integer(array.type) else 'i'}"
                     f"{array.type.bit_width // 8}")  # fmt: skip
    values = np.frombuffer(array.buffers()[1], dtype=width)
    return values[array.offset : array.offset + len(array)]


def _offsets(chunk: pa.Array) -> np.ndarray:
    """The n + 1 value offsets of a string chunk (int32 or int64), honouring its offset."""
    width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    raw = np.frombuffer(chunk.buffers()[1], dtype=width)
    return raw[chunk.offset : chunk.offset + len(chunk) + 1]


def _words(data: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """The 8 bytes from each byte position ``starts`` as a little-endian uint64, (n,).

    ``data`` is the bytes as aligned uint64 words with one spare word at the end; each
    value is two aligned word gathers and shifts (no unaligned or per-byte access).
    """
    word = starts >> 3
    shift = ((starts & 7) * 8).astype(np.uint64)
    low = data[word] >> shift
    high = (data[word + 1] << np.uint64(1)) << (np.uint64(63) - shift)  # 0 when shift = 0
    low |= high
    return low


def _padded(chunk: pa.Array, offsets: np.ndarray) -> np.ndarray:
    """The bytes ``offsets[0]:offsets[-1]`` of a string chunk's data as uint64 words plus
    two spare words (a copy)."""
    buffer = chunk.buffers()[2]
    begin, end = int(offsets[0]), int(offsets[-1])
    words = np.zeros((end - begin) // 8 + 2, dtype="<u8")
    if buffer is not None and end > begin:
        stored = np.frombuffer(buffer, dtype=np.uint8, count=end - begin, offset=begin)
        words.view(np.uint8)[: end - begin] = stored
    return words


def _chunk_parts(chunk: pa.Array, reach: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The chunk as parts (its string bytes as uint64 words, the n + 1 offsets of the
    part's strings in them) that cover its rows in order; a key reads up to ``reach``
    bytes from a string's start.

    The rows whose reads stay inside the data buffer read it in place (no copy: Arrow's
    buffers are 8-byte aligned); the last few, and any chunk whose buffer is not aligned,
    read a zero-padded copy of their own bytes.
    """
    offsets = _offsets(chunk)
    buffer = chunk.buffers()[2]
    safe = 0
    if buffer is not None and buffer.address % 8 == 0:
        words = np.frombuffer(buffer, dtype="<u8", count=buffer.size // 8)
        # a row is safe when bytes start .. start + reach - 1 lie inside the words
        safe = int(np.searchsorted(offsets[:-1], words.size * 8 - reach, side="right"))
    parts = [(words, offsets[: safe + 1])] if safe else []
    if safe < offsets.size - 1:
        rest = offsets[safe:]
        parts.append((_padded(chunk, rest), rest - rest[0]))
    return parts


def _prefix_words(prefix: np.ndarray) -> list[tuple[int, np.uint64, np.uint64]]:
    """The prefix as (byte position, mask, masked little-endian word), 8 bytes a word."""
    padded = np.zeros(-(-prefix.size // 8) * 8 + 8, dtype=np.uint8)
    padded[: prefix.size] = prefix
    out = []
    for at in range(0, prefix.size, 8):  # loops over prefix words, never over rows
        mask = np.uint64((1 << (8 * min(8, prefix.size - at))) - 1)
        out.append((at, mask, padded[at : at + 8].view("<u8")[0] & mask))
    return out


def _block_keys(
    data: np.ndarray,
    offsets: np.ndarray,
    cut: int,
    prefix: list[tuple[int, np.uint64, np.uint64]],
    out: np.ndarray,
) -> bool:
    """Keys of one block of rows (their n + 1 ``offsets`` in ``data``) into ``out``;
    False when a row lacks the prefix."""
    starts = offsets[:-1]
    for at, mask, wanted in prefix:
        if not np.all((_words(data, starts + at) & mask) == wanted):
            return False
    rest = (offsets[1:] - starts - cut).astype(np.uint64)
    words = _words(data, starts + cut)
    words &= (np.uint64(1) << (rest * np.uint64(8))) - np.uint64(1)
    rest <<= np.uint64(56)
    np.bitwise_or(words, rest, out=out)
    return True


def _extent(chunks: list[pa.Array]) -> tuple[int, int]:
    """(longest, shortest) string length in bytes over the chunks."""
    longest, shortest = 0, 2**63
    for chunk in chunks:  # one chunk's lengths at a time
        lengths = np.diff(_offsets(chunk))
        longest, shortest = max(longest, int(lengths.max())), min(shortest, int(lengths.min()))
    return longest, shortest


def short_keys(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, bytes] | None:
    """One uint64 per row, equal exactly when the rows' strings are equal, and the common
    prefix they leave out; or None.

    None when the column is not a string column, has nulls or is empty, or when its
    strings are not one common prefix plus at most :data:`MAX_REST` bytes each (then
    hash the strings themselves). The prefix length is the longest string's length minus
    7, so no search for the longest common prefix is needed. Rows are processed in
    blocks of ``2**13`` (temporaries stay in cache and on the heap, never mmap-ed),
    reading the Arrow data buffers in place (:func:`_chunk_parts`).

    Returns
    -------
    keys : ndarray of uint64, shape (n_rows,)
        Bytes after the prefix in the low 7 bytes (first byte lowest, zero padded), their
        count in the top byte.
    prefix : bytes
        The bytes every string starts with (:func:`key_strings` restores the strings).
    """
    kind = column.type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        return None
    if column.null_count or len(column) == 0:
        return None
    chunks = [
        c for c in (column.chunks if isinstance(column, pa.ChunkedArray) else [column]) if len(c)
    ]
    longest, shortest = _extent(chunks)
    cut = max(0, longest - MAX_REST)
    if shortest < cut:
        return None
    first = _offsets(chunks[0])
    prefix_bytes = _padded(chunks[0], first[:2]).view(np.uint8)[:cut].tobytes()
    prefix = _prefix_words(np.frombuffer(prefix_bytes, dtype=np.uint8))
    keys = np.empty(len(column), dtype=np.uint64)
    done = 0
    for chunk in chunks:  # loops over chunks, their parts and blocks of rows
        for data, offsets in _chunk_parts(chunk, cut + 16):
            rows = offsets.size - 1
            for low in range(0, rows, _BLOCK):
                high = min(low + _BLOCK, rows)
                block = keys[done + low : done + high]
                if not _block_keys(data, offsets[low : high + 1], cut, prefix, block):
                    return None
            done += rows
    return keys, prefix_bytes


def key_strings(keys: np.ndarray, prefix: bytes, kind: pa.DataType | None = None) -> pa.Array:
    """The strings of keys from :func:`short_keys` (with its ``prefix``), shape (d,), as
    ``kind`` (``string`` by default, or ``large_string``).

    Built from the keys alone (prefix, then the key's rest bytes), so the distinct
    strings of a column need no gather from its rows.
    """
    keys = np.ascontiguousarray(keys, dtype="<u8")
    rest = (keys >> np.uint64(56)).astype(np.int64)
    width = len(prefix) + 8
    cells = np.empty((keys.size, width), dtype=np.uint8)
    cells[:, : len(prefix)] = np.frombuffer(prefix, dtype=np.uint8)
    cells[:, len(prefix) :] = keys.view(np.uint8).reshape(-1, 8)
    data = cells[np.arange(width)[None, :] < (len(prefix) + rest)[:, None]]
    offsets = np.zeros(keys.size + 1, dtype=np.int64)
    np.cumsum(len(prefix) + rest, out=offsets[1:])
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    strings = pa.Array.from_buffers(pa.large_string(), keys.size, buffers)
    return strings.cast(kind or pa.string())


def order_keys(keys: np.ndarray) -> np.ndarray:
    """Keys of :func:`short_keys` as uint64 that sort like the strings (UTF-8 byte order).

    The rest bytes become big-endian (first byte most significant) and the length moves
    to the lowest byte, so ties of zero padding are broken by the shorter string first.
    """
    keys = np.asarray(keys, dtype=np.uint64)
    return (keys & _LOW_BYTES).byteswap() | (keys >> np.uint64(56))
