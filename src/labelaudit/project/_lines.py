"""Line numbers of data records, for naming rejected rows (file:line).

CSV/TSV and JSONL records are located with one vectorised pass over the file's bytes; the
result is checked against the number of records the reader saw and, if it differs (an
unusual quoting or whitespace convention), one sequential pass over the file decides.
Both run on the error path only. JSON arrays, Parquet files and DataFrames count records
(1-based), like the readers in :mod:`labelaudit.table.readers`.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

__all__ = ["record_lines"]

_NEWLINE, _QUOTE, _CR = 10, 34, 13
#: Bytes ``str.strip()`` removes (ASCII part): \t \n \v \f \r, \x1c-\x1f and space.
_WHITESPACE = np.zeros(256, dtype=bool)
_WHITESPACE[[9, 10, 11, 12, 13, 28, 29, 30, 31, 32]] = True


def record_lines(path: Path | None, kind: str | None, n_records: int) -> np.ndarray:
    """1-based line (or record number) of each of the ``n_records`` data records.

    Parameters
    ----------
    path : Path or None
        The file read; None for in-memory tables.
    kind : str or None
        ``csv``, ``tsv``, ``jsonl`` give line numbers; anything else gives record numbers.
    n_records : int
        Number of data records the reader produced.

    Returns
    -------
    ndarray of int64, shape (n_records,)
    """
    if path is None or kind not in ("csv", "tsv", "jsonl"):
        return np.arange(1, n_records + 1, dtype=np.int64)
    from labelaudit.table.source import open_binary

    with open_binary(path) as handle:
        data = np.frombuffer(handle.read(), dtype=np.uint8)
    lines = _csv_lines(data) if kind in ("csv", "tsv") else _jsonl_lines(data)
    if lines.size != n_records:
        lines = _scan_csv(path, kind) if kind != "jsonl" else _scan_jsonl(path)
    if lines.size < n_records:  # the reader and the scan disagree: count records instead
        return np.arange(1, n_records + 1, dtype=np.int64)
    return lines[:n_records]


def _line_breaks(data: np.ndarray) -> np.ndarray:
    """Positions of line breaks: every \\n, and every \\r not followed by \\n (as the csv
    module and text editors count lines)."""
    is_cr = data == _CR
    lone_cr = is_cr.copy()
    lone_cr[:-1] &= data[1:] != _NEWLINE
    return np.flatnonzero((data == _NEWLINE) | lone_cr)


def _csv_lines(data: np.ndarray) -> np.ndarray:
    """Start lines of the data records: a line break ends a record when an even number of
    quote characters precedes it (RFC 4180 quoting; ``""`` inside quotes keeps parity)."""
    breaks = _line_breaks(data)
    quotes = np.flatnonzero(data == _QUOTE)
    ends = breaks[np.searchsorted(quotes, breaks) % 2 == 0]
    starts = np.concatenate(([0], ends + 1))
    stops = np.concatenate((ends, [data.size]))
    length = stops - starts
    ends_with_cr = np.zeros(starts.size, dtype=bool)
    has_bytes = length > 0
    ends_with_cr[has_bytes] = data[stops[has_bytes] - 1] == _CR
    blank = (length == 0) | ((length == 1) & ends_with_cr)
    starts = starts[~blank]
    lines = np.searchsorted(breaks, starts) + 1
    return lines[1:].astype(np.int64)  # the first non-blank record is the header


def _jsonl_lines(data: np.ndarray) -> np.ndarray:
    """Lines holding something other than whitespace (``str.strip()`` ASCII set, BOM)."""
    if data.size >= 3 and bytes(data[:3]) == b"\xef\xbb\xbf":
        data = data.copy()
        data[:3] = ord(" ")
    newlines = np.flatnonzero(data == _NEWLINE)
    starts = np.concatenate(([0], newlines + 1))
    starts = starts[starts < data.size]
    if starts.size == 0:
        return np.zeros(0, dtype=np.int64)
    content = np.add.reduceat((~_WHITESPACE[data]).astype(np.int64), starts)
    return (np.flatnonzero(content > 0) + 1).astype(np.int64)


def _scan_csv(path: Path, kind: str) -> np.ndarray:
    """One sequential pass with the csv module (record start lines after the header)."""
    lines = []
    from labelaudit.table.source import open_text

    with open_text(path) as handle:
        reader = csv.reader(handle, delimiter="\t" if kind == "tsv" else ",")
        start = 1
        for record in reader:
            if record:
                lines.append(start)
            start = reader.line_num + 1
    return np.asarray(lines[1:], dtype=np.int64)


def _scan_jsonl(path: Path) -> np.ndarray:
    """One sequential pass: the non-blank lines, as the JSONL reader counts them."""
    from labelaudit.table.source import open_text

    with open_text(path) as handle:
        numbers = [n for n, text in enumerate(handle, start=1) if text.strip()]
    return np.asarray(numbers, dtype=np.int64)
