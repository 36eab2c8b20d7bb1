"""The serve benchmark's load generator (benchmarks/http_load.py) counts only whole 200s.

A real asyncio server on 127.0.0.1 answers each path in one way: a good body, a chunked
body, a 500, a body shorter than its ``Content-Length`` (then the connection closes), a
body of another length than expected, ``Connection: close``. The client must read the
good and chunked ones to the last byte on a kept-alive connection and count every other
one as an error, reconnecting when the server closes. No timing is asserted.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
from http_load import run_load

BODY = b"x" * 70_000  # more than one read buffer


def _answer(path: bytes) -> tuple[bytes, bool]:
    """The bytes to send for ``path`` and whether to close the connection after them."""
    head = b"HTTP/1.1 %d OK\r\nContent-Length: %d\r\n"
    if path == b"/good":
        return head % (200, len(BODY)) + b"\r\n" + BODY, False
    if path == b"/chunked":
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in (BODY[:5000], BODY[5000:]))
        return (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n",
            False,
        )
    if path == b"/error":
        return head % (500, 2) + b"\r\nno", False
    if path == b"/short":
        return head % (200, len(BODY)) + b"\r\n" + BODY[:100], True
    if path == b"/close":
        return head % (200, 4) + b"Connection: close\r\n\r\nbye!", True
    return head % (200, 3) + b"\r\nabc", False  # /other: 3 bytes where 5 are expected


async def _handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            request = await reader.readuntil(b"\r\n\r\n")
            assert b"Authorization: Bearer t0k" in request
            answer, close = _answer(request.split(b" ")[1])
            writer.write(answer)
            await writer.drain()
            if close:
                break
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def _run() -> object:
    server = await asyncio.start_server(_handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    pages = {name: f"/{name}" for name in ("good", "chunked", "error", "short", "close", "other")}
    expected = {"good": len(BODY), "chunked": len(BODY), "close": 4, "other": 5}
    async with server:
        return await run_load(
            f"http://127.0.0.1:{port}", pages, {"Authorization": "Bearer t0k"}, 3, 0.5, expected
        )


def test_only_complete_200_answers_of_the_expected_length_count_as_good() -> None:
    result = asyncio.run(_run())
    times, errors = result.times, result.errors  # type: ignore[attr-defined]
    assert all(len(times[name]) > 0 for name in times)  # every page was requested
    assert errors["good"] == [] and errors["chunked"] == [] and errors["close"] == []
    assert set(errors["error"]) == {"500"} and len(errors["error"]) == len(times["error"])
    assert set(errors["short"]) == {"IncompleteReadError"}
    assert len(errors["short"]) == len(times["short"])
    assert set(errors["other"]) == {"body 3 bytes, expected 5"}
    assert result.client_cpu > 0  # type: ignore[attr-defined]
