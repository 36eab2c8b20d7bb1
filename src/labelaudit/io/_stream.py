"""Streaming JSON: records of a JSON array, of JSON Lines, or of concatenated JSON values.

A large export is never held whole as Python objects: the file is decoded in chunks of
:data:`CHUNK` characters and each record is parsed with the C scanner behind
``json.JSONDecoder.raw_decode`` as soon as its text is complete. Only one record (plus one
buffered chunk) is alive at a time.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from labelaudit.exceptions import InputError
from labelaudit.table.source import current_limits, limit_error, open_binary

__all__ = ["CHUNK", "JsonRecord", "first_record", "iter_records", "peek_text"]

#: Characters decoded per read. Records longer than this are assembled over several reads.
CHUNK = 1 << 23
_WS = re.compile(r"[ \t\n\r]*")
_TAIL = 16  # a parse error this close to the buffer end may be a record cut by the chunk


@dataclass(frozen=True)
class JsonRecord:
    """One parsed record: its 1-based number, the line it starts on, and its value."""

    number: int
    line: int
    value: Any


class _Buffer:
    """Incrementally decoded UTF-8 text with a read position and line bookkeeping."""

    def __init__(self, handle: IO[bytes], source: str) -> None:
        self.handle = handle
        self.source = source
        self.decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self.text = ""
        self.pos = 0
        self.eof = False
        self.bytes_read = 0
        self._line_base = 1  # line number of text[0]
        self._counted = 0  # text[: self._counted] is accounted for in self._line
        self._line = 1

    def fill(self) -> bool:
        """Append one chunk; drop consumed text. Returns False at end of file."""
        if self.eof:
            return False
        data = self.handle.read(CHUNK)
        try:
            chunk = self.decoder.decode(data, final=not data)
        except UnicodeDecodeError as error:
            raise InputError(
                "not UTF-8 text",
                source=self.source,
                expected="a UTF-8 encoded JSON file",
                actual=f"byte {error.object[error.start : error.start + 1]!r} at offset "
                f"{self.bytes_read + error.start}",
                hint="re-export the file as UTF-8 JSON",
            ) from None
        self.bytes_read += len(data)
        if not data:
            self.eof = True
        self._line = self.line_at(self.pos)
        self._line_base = self._line
        self._counted = 0
        self.text = self.text[self.pos :] + chunk
        self.pos = 0
        return bool(data) or bool(chunk)

    def line_at(self, index: int) -> int:
        """1-based line of text[index] (index >= the last position asked for)."""
        if index < self._counted:
            return self._line_base + self.text.count("\n", 0, index)
        self._line += self.text.count("\n", self._counted, index)
        self._counted = index
        return self._line

    def skip_ws(self) -> bool:
        """Move past whitespace (reading more as needed); False at end of input."""
        while True:
            match = _WS.match(self.text, self.pos)
            self.pos = match.end() if match else self.pos
            if self.pos < len(self.text):
                return True
            if not self.fill():
                return False


def _decode(buffer: _Buffer, number: int, unit: str) -> tuple[Any, int]:
    """Parse the value at buffer.pos, reading more text until it is complete."""
    raw_decode = json.JSONDecoder().raw_decode
    start = buffer.pos
    cap = current_limits().max_line_bytes
    while True:
        try:
            return raw_decode(buffer.text, buffer.pos)
        except RecursionError:
            raise InputError(
                "malformed JSON",
                source=buffer.source,
                line=number,
                unit=unit,
                expected="valid JSON",
                actual="values nested too deeply",
            ) from None
        except json.JSONDecodeError as error:
            incomplete = error.msg.startswith("Unterminated string") or (
                error.pos >= len(buffer.text) - _TAIL
            )
            if incomplete and not buffer.eof and len(buffer.text) - start > cap:
                raise limit_error(
                    f"{buffer.source} {unit} {number}", "record length", cap, "--max-line-bytes"
                ) from None
            if incomplete and not buffer.eof:
                start -= buffer.pos
                buffer.fill()
                start += buffer.pos
                continue
            truncated = incomplete and error.pos > start
            raise InputError(
                "truncated file" if truncated else "malformed JSON",
                source=buffer.source,
                line=number,
                unit=unit,
                expected="a complete JSON value" if truncated else "valid JSON",
                actual=f"{error.msg} (line {buffer.line_at(error.pos)}, "
                f"column {error.pos - buffer.text.rfind(chr(10), 0, error.pos)})",
                hint="re-export the file; it was cut off or edited by hand"
                if truncated
                else "fix the JSON syntax at the position given",
            ) from None
        except ValueError as error:  # an integer of more than 4,300 digits
            raise InputError(
                "malformed JSON",
                source=buffer.source,
                line=number,
                unit=unit,
                expected="valid JSON",
                actual=str(error)[:120],
            ) from None


def iter_records(path: Path, source: str | None = None) -> Iterator[JsonRecord]:
    """Yield the records of a JSON file one by one, streaming.

    Parameters
    ----------
    path : Path
        A JSON array of records (``[{...}, {...}]``), a single JSON object, JSON Lines, or
        concatenated (pretty-printed) JSON values.
    source : str, optional
        Name used in error messages (default: the path).

    Yields
    ------
    JsonRecord
        ``number`` counts records from 1 (array elements, or values in a stream);
        ``line`` is the line the record starts on.

    Raises
    ------
    InputError
        Not UTF-8, malformed JSON, a truncated file, or text after the closing bracket;
        the message names the record and the line and column of the defect.
    """
    name = source or str(path)
    with open_binary(path, name) as handle:
        buffer = _Buffer(handle, name)
        if not buffer.skip_ws():
            raise InputError(
                "empty input", source=name, expected="a JSON export", actual="an empty file"
            )
        if buffer.text[buffer.pos] == "[":
            buffer.pos += 1
            yield from _array_records(buffer)
        else:
            yield from _stream_records(buffer)


def _array_records(buffer: _Buffer) -> Iterator[JsonRecord]:
    number = 0
    expect_value = True
    while True:
        if not buffer.skip_ws():
            raise InputError(
                "truncated file",
                source=buffer.source,
                line=number + 1,
                unit="record",
                expected="']' closing the JSON array",
                actual="end of file",
                hint="re-export the file; it was cut off",
            )
        char = buffer.text[buffer.pos]
        if char == "]" and (number == 0 or not expect_value):
            buffer.pos += 1
            break
        if not expect_value:
            if char != ",":
                raise InputError(
                    "malformed JSON",
                    source=buffer.source,
                    line=number,
                    unit="record",
                    expected="',' or ']' after the record",
                    actual=f"{char!r} (line {buffer.line_at(buffer.pos)})",
                )
            buffer.pos += 1
            expect_value = True
            continue
        number += 1
        line = buffer.line_at(buffer.pos)
        value, buffer.pos = _decode(buffer, number, "record")
        expect_value = False
        yield JsonRecord(number, line, value)
    if buffer.skip_ws():
        raise InputError(
            "malformed JSON",
            source=buffer.source,
            line=buffer.line_at(buffer.pos),
            expected="nothing after the closing ']'",
            actual=buffer.text[buffer.pos : buffer.pos + 20],
        )


def _stream_records(buffer: _Buffer) -> Iterator[JsonRecord]:
    number = 0
    while buffer.skip_ws():
        number += 1
        line = buffer.line_at(buffer.pos)
        value, buffer.pos = _decode(buffer, line, "line")
        yield JsonRecord(number, line, value)


def first_record(path: Path) -> Any:
    """The first record of a JSON file (array element or first value), or None if unreadable."""
    try:
        for record in iter_records(path):
            return record.value
    except InputError:
        return None
    return None


def peek_text(path: Path, size: int = 4096) -> str:
    """The first ``size`` bytes of a file as text (undecodable bytes replaced)."""
    with path.open("rb") as handle:
        return handle.read(size).decode("utf-8-sig", errors="replace")
