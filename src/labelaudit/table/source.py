"""Opening input files safely: encoding and compression sniffing, and resource limits.

Every reader (the table readers, the platform readers in :mod:`labelaudit.io`, the
preference readers) opens its files here, so that odd bytes give one clear
:class:`~labelaudit.exceptions.InputError` instead of a traceback:

- gzip data (by its magic bytes, whatever the file is called) is decompressed
  transparently, up to :attr:`Limits.max_decompressed_bytes`; a truncated or corrupt
  stream is an error naming the file;
- UTF-16 and UTF-32 text (by its byte-order mark) and zip archives given as a table are
  named as such, with the fix;
- invalid UTF-8 is located by line and byte offset (:func:`utf8_error`).

Limits (documented in ``docs/limits.md``; override per process with the environment
variables ``LABELAUDIT_MAX_DECOMPRESSED_BYTES`` and ``LABELAUDIT_MAX_LINE_BYTES``, or in
code with :func:`limits`):

- :attr:`Limits.max_decompressed_bytes` (default 2 GiB): bytes read out of one gzip
  stream or out of the members of one zip archive;
- :attr:`Limits.max_line_bytes` (default 64 MiB): one line of a JSON Lines file, or one
  record of a streamed JSON export.
"""

from __future__ import annotations

import codecs
import gzip
import io
import os
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

from labelaudit.exceptions import InputError

__all__ = [
    "Limits",
    "current_limits",
    "limit_error",
    "limits",
    "open_arrow",
    "open_binary",
    "open_text",
    "read_zip_member",
    "sniff",
    "utf8_error",
    "what_it_is",
]

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32 (little-endian)"),
    (b"\x00\x00\xfe\xff", "UTF-32 (big-endian)"),
    (b"\xff\xfe", "UTF-16 (little-endian)"),
    (b"\xfe\xff", "UTF-16 (big-endian)"),
)


@dataclass(frozen=True)
class Limits:
    """Resource limits applied while reading input files (bytes)."""

    max_decompressed_bytes: int = 2 << 30
    max_line_bytes: int = 64 << 20

    @classmethod
    def from_environment(cls) -> Limits:
        """Defaults, overridden by ``LABELAUDIT_MAX_DECOMPRESSED_BYTES`` /
        ``LABELAUDIT_MAX_LINE_BYTES`` when set to a positive integer."""
        values: dict[str, int] = {}
        for name in ("max_decompressed_bytes", "max_line_bytes"):
            text = os.environ.get(f"LABELAUDIT_{name.upper()}")
            if text is not None:
                values[name] = _positive(text, f"LABELAUDIT_{name.upper()}")
        return cls(**values)


def _positive(text: str, name: str) -> int:
    from labelaudit.exceptions import UsageError

    try:
        value = int(str(text).strip())
    except ValueError:
        value = 0
    if value < 1:
        raise UsageError(f"{name} must be a positive number of bytes; got {text!r}")
    return value


_CURRENT: list[Limits] = []


def current_limits() -> Limits:
    """The limits in force: the innermost :func:`limits` block, else the environment's."""
    return _CURRENT[-1] if _CURRENT else Limits.from_environment()


@contextmanager
def limits(
    *, max_decompressed_bytes: int | None = None, max_line_bytes: int | None = None
) -> Iterator[Limits]:
    """Apply other limits inside a ``with`` block (None keeps the current value)."""
    base = current_limits()
    changes = {
        k: _positive(str(v), k)
        for k, v in (
            ("max_decompressed_bytes", max_decompressed_bytes),
            ("max_line_bytes", max_line_bytes),
        )
        if v is not None
    }
    _CURRENT.append(replace(base, **changes))
    try:
        yield _CURRENT[-1]
    finally:
        _CURRENT.pop()


def sniff(path: Path) -> str:
    """What the file's first bytes say it is: ``gzip``, ``zip``, a UTF-16/32 name, or ``text``."""
    with Path(path).open("rb") as handle:
        head = handle.read(4)
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZIP_MAGIC):
        return "zip"
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    return "text"


class _CappedGzip(io.RawIOBase):
    """A gzip stream that stops with an InputError past the decompressed-size limit and
    turns a truncated or corrupt stream into an InputError naming the file."""

    def __init__(self, path: Path, source: str, cap: int) -> None:
        self._inner = gzip.open(path, "rb")  # noqa: SIM115 (closed in close())
        self._source = source
        self._cap = cap
        self._count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        want = min(len(view), self._cap + 1 - self._count)
        try:
            data = self._inner.read(max(want, 1))
        except (EOFError, OSError, zlib.error) as error:
            raise InputError(
                "truncated or corrupt gzip data",
                source=self._source,
                expected="a complete gzip stream",
                actual=str(error) or type(error).__name__,
                hint="download or compress the file again",
            ) from None
        self._count += len(data)
        if self._count > self._cap:
            raise limit_error(
                self._source, "decompressed size", self._cap, "--max-decompressed-bytes"
            )
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._inner.close()
        super().close()


def limit_error(source: str, what: str, cap: int, option: str) -> InputError:
    """The error for an input beyond one of the :class:`Limits`."""
    return InputError(
        f"input exceeds the {what} limit",
        source=source,
        expected=f"at most {cap:,} bytes",
        actual=f"more than {cap:,} bytes",
        hint=f"if the file is trusted, raise the limit with the environment variable "
        f"LABELAUDIT_{option.removeprefix('--').replace('-', '_').upper()}=N",
    )


def open_binary(path: Path, source: str | None = None, *, allow: tuple[str, ...] = ()) -> IO[bytes]:
    """Open a file as bytes; gzip data (by magic, any name) is decompressed, capped.

    ``allow`` names other kinds (``"zip"``) the caller handles itself; any other
    non-text kind (UTF-16/32 text, a zip archive) is an InputError saying what it is.
    """
    name = source or str(path)
    kind = sniff(path)
    if kind == "gzip":
        cap = current_limits().max_decompressed_bytes
        return io.BufferedReader(_CappedGzip(Path(path), name, cap), buffer_size=1 << 20)
    if kind != "text" and kind not in allow:
        raise what_it_is(name, kind)
    return Path(path).open("rb")


def open_arrow(path: Path, source: str | None = None) -> Any:
    """Open a file for Arrow's readers as a native Arrow stream (``pyarrow.NativeFile``).

    Arrow's multi-threaded readers (CSV with ``use_threads``, Parquet pre-buffering) run
    read-ahead tasks on Arrow's I/O thread pool. Given a Python file object, those tasks
    call back into Python and the last reference to the file is dropped on an Arrow
    thread, which must take the GIL to do it. When that happens while the interpreter is
    finalising, CPython ends the thread with ``pthread_exit``; the forced unwind meets a
    ``noexcept`` C++ destructor and the process aborts with "terminate called without an
    active exception" (exit 134) after its normal output (apache/arrow#34314, #50482,
    #43604). So Arrow never gets a Python object here: a plain file is an ``OSFile``,
    and gzip data (by magic, any name) is decompressed here, within
    :attr:`Limits.max_decompressed_bytes`, into a buffer Arrow owns. Other non-text
    kinds raise the same InputError as :func:`open_binary`.
    """
    import pyarrow as pa

    name = source or str(path)
    kind = sniff(path)
    if kind == "gzip":
        with open_binary(path, name) as handle:
            data = handle.read()
        sink = pa.BufferOutputStream()  # a copy Arrow allocates and owns: no GIL to free it
        sink.write(data)
        del data
        return pa.BufferReader(sink.getvalue())
    if kind != "text":
        raise what_it_is(name, kind)
    return pa.OSFile(str(path), "rb")


def what_it_is(source: str, kind: str) -> InputError:
    """An InputError naming the kind of a file that is not UTF-8 text."""
    hint = (
        "unzip it first, or pass the archive to a reader that takes one (doccano)"
        if kind == "zip"
        else "save the file as UTF-8 (e.g. iconv -f UTF-16 -t UTF-8)"
    )
    return InputError(
        "not UTF-8 text",
        source=source,
        expected="UTF-8 text (or gzip-compressed UTF-8)",
        actual=f"{kind} data" if kind == "zip" else f"{kind} text (byte-order mark)",
        hint=hint,
    )


def open_text(path: Path, source: str | None = None) -> IO[str]:
    """Open a file as UTF-8 text (BOM skipped, newlines kept as in the file)."""
    return io.TextIOWrapper(open_binary(path, source), encoding="utf-8-sig", newline="")


def utf8_error(path: Path, source: str | None = None) -> InputError | None:
    """The first invalid UTF-8 byte of a file, located by line, or None if it decodes."""
    name = source or str(path)
    line, offset = 1, 0
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    with open_binary(path, name) as handle:
        while block := handle.read(1 << 20):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as error:
                return InputError(
                    "not UTF-8 text",
                    source=name,
                    line=line + block.count(b"\n", 0, error.start),
                    expected="UTF-8 text",
                    actual=f"byte {block[error.start : error.start + 1]!r} at offset "
                    f"{offset + error.start}",
                    hint="save the file as UTF-8 (e.g. iconv -f LATIN1 -t UTF-8)",
                )
            line += block.count(b"\n")
            offset += len(block)
    return None


def read_zip_member(archive: Any, member: Any, source: str, budget: list[int]) -> bytes:
    """The bytes of one zip member, read in blocks; ``budget[0]`` holds the bytes left of
    :attr:`Limits.max_decompressed_bytes` for the whole archive (decremented)."""
    chunks = []
    try:
        with archive.open(member) as handle:
            while block := handle.read(1 << 20):
                budget[0] -= len(block)
                if budget[0] < 0:
                    cap = current_limits().max_decompressed_bytes
                    raise limit_error(source, "decompressed size", cap, "--max-decompressed-bytes")
                chunks.append(block)
    except (EOFError, OSError, zlib.error, zipfile.BadZipFile) as error:
        raise InputError(
            "truncated or corrupt zip archive",
            source=source,
            field=member.filename,
            expected="a complete zip archive",
            actual=str(error) or type(error).__name__,
        ) from None
    return b"".join(chunks)
