"""A cheap closed-loop HTTP/1.1 load generator (stdlib asyncio, raw sockets, keep-alive).

Used by ``bench_serve.py`` for its timed loop. Each client holds one keep-alive connection
and sends the next request as soon as the previous answer's last byte has arrived
(closed loop, like ``wrk``). An answer counts as good only when its status is 200 and its
body is complete: ``Content-Length`` bytes (or every chunk of a chunked body) and, when the
caller knows it, exactly the expected length. A request costs the client a few hundred
microseconds of CPU (measured and printed by the benchmark), where an ``httpx.AsyncClient``
costs about 2 ms: on a 2-core machine shared with the server, the client's CPU is part of
every latency it measures.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

__all__ = ["LoadResult", "fetch", "run_load"]


@dataclass
class LoadResult:
    """Latencies (seconds, send to last byte) and error details per page name."""

    times: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    client_cpu: float = 0.0  # CPU seconds of this process during the loop


def _request(host: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}", "Connection: keep-alive"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def fetch(reader: asyncio.StreamReader) -> tuple[int, int, bool]:
    """Read one answer: (status, body bytes, whether the server keeps the connection)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length, chunked, keep = -1, False, True
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
        elif name == b"connection":
            keep = b"close" not in value.lower()
    if chunked:
        length = 0
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)  # the chunk and its CRLF
            length += size
            if size == 0:
                break
    elif length >= 0:
        await reader.readexactly(length)
    else:  # no length: the body ends with the connection
        length, keep = len(await reader.read()), False
    return status, length, keep


async def _client(
    host: str,
    port: int,
    requests: list[tuple[str, bytes, int | None]],
    offset: int,
    stop: float,
    result: LoadResult,
) -> None:
    """One closed-loop client: the pages round-robin from ``offset`` until ``stop``."""
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    k = offset
    while time.monotonic() < stop:
        name, request, expected = requests[k % len(requests)]
        k += 1
        started = time.perf_counter()
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(host, port)
            assert reader is not None
            writer.write(request)
            status, length, keep = await fetch(reader)
            detail = ""
            if status != 200:
                detail = str(status)
            elif expected is not None and length != expected:
                detail = f"body {length} bytes, expected {expected}"
            if not keep:
                writer.close()
                writer = None
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as error:
            detail = type(error).__name__
            if writer is not None:
                writer.close()
            writer = None
        result.times[name].append(time.perf_counter() - started)
        if detail:
            result.errors[name].append(detail)
    if writer is not None:
        writer.close()


async def run_load(
    base: str,
    pages: dict[str, str],
    headers: dict[str, str],
    clients: int,
    seconds: float,
    expected: dict[str, int] | None = None,
) -> LoadResult:
    """``clients`` closed-loop clients requesting ``pages`` (name -> path) round-robin for
    ``seconds`` on ``base`` (``http://host:port``); ``expected`` body lengths per page
    name, when given, are checked on every answer."""
    host, port = base.removeprefix("http://").rstrip("/").rsplit(":", 1)
    requests = [
        (name, _request(f"{host}:{port}", path, headers), (expected or {}).get(name))
        for name, path in pages.items()
    ]
    result = LoadResult({name: [] for name in pages}, {name: [] for name in pages})
    cpu = time.process_time()
    stop = time.monotonic() + seconds
    await asyncio.gather(
        *(_client(host, int(port), requests, i, stop, result) for i in range(clients))
    )
    result.client_cpu = time.process_time() - cpu
    return result
