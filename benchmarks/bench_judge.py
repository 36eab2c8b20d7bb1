"""Judge client speed: requests per second with the cache on, and cached-verdict replay.

Absolute targets (issue 7):

1. pointwise mode, concurrency 64, against a minimal asyncio HTTP/1.1 server on loopback
   that answers at once (run in its own process): at least 500 requests per second with
   the cache on; every answer is committed to the cache before its worker takes the next
   request (groups committed within 100 ms count as stored: the longest wait is printed);
2. 100,000 cached verdicts replayed (plan + cache lookup + parse + verdict file) in under
   10 s.

Usage::

    .venv/bin/python benchmarks/bench_judge.py                  # both, default sizes
    .venv/bin/python benchmarks/bench_judge.py --requests 5000 --replay 100000

Not part of the test suite. Prints one line per measurement.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ANSWER = json.dumps(
    {
        "id": "bench",
        "object": "chat.completion",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": '{"label": "pos"}'},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 120, "completion_tokens": 6, "total_tokens": 126},
    }
).encode()
RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
    + str(len(ANSWER)).encode()
    + b"\r\n\r\n"
    + ANSWER
)
JUDGE = """
name = "bench"
mode = "label"
model = "bench-model"
base_url = "BASE_URL"
api_key_env = "LABELAUDIT_BENCH_KEY"
categories = ["pos", "neg"]
template = "Is this review positive or negative?\\n{{ text }}"
[params]
temperature = 0
"""


# ------------------------------------------------------------------------- the server
async def _connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            writer.write(RESPONSE)
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def _serve() -> None:
    server = await asyncio.start_server(_connection, "127.0.0.1", 0, backlog=1024)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


def start_server() -> tuple[subprocess.Popen[str], str]:
    """The minimal server in a child process; returns it and its base URL."""
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve"], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    port = int(process.stdout.readline())
    return process, f"http://127.0.0.1:{port}/v1"


# ------------------------------------------------------------------------- measurements
def write_items(path: Path, n: int, prefix: str) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for i in range(n):
            text = f"review {prefix}{i}: the product arrived on time and works as described"
            handle.write(json.dumps({"item": f"{prefix}{i}", "text": text}) + "\n")


def throughput(folder: Path, base_url: str, n: int, concurrency: int) -> dict[str, object]:
    """Send ``n`` fresh requests with the cache on; requests per second of the whole run."""
    from labelaudit.judge.cache import JudgeCache
    from labelaudit.judge.definition import load_judge
    from labelaudit.judge.prices import load_prices
    from labelaudit.judge.run import RunOptions, run_judge

    (folder / "judge.toml").write_text(JUDGE.replace("BASE_URL", base_url))
    write_items(folder / "items.jsonl", n, f"t{time.time_ns()}-")
    judge = load_judge(folder / "judge.toml")
    with JudgeCache(folder / "cache.duckdb") as cache:
        started = time.perf_counter()
        result = run_judge(
            judge,
            folder / "items.jsonl",
            cache=cache,
            prices=load_prices(),
            options=RunOptions(concurrency=concurrency),
            out=folder / "verdicts.jsonl",
        )
        elapsed = time.perf_counter() - started
        stored = len(cache)
    summary = result.summary
    assert summary.n_sent == n and summary.n_failed == 0, summary
    return {
        "requests": n,
        "seconds": elapsed,
        "requests_per_s": n / elapsed,
        "stored": stored,
        "cache_writes": summary.cache_writes,
    }


def replay(folder: Path, n: int) -> dict[str, object]:
    """Fill the cache with ``n`` answers, then time a run that replays all of them."""
    from labelaudit.judge.cache import CacheEntry, JudgeCache
    from labelaudit.judge.data import read_items
    from labelaudit.judge.definition import load_judge
    from labelaudit.judge.prices import load_prices
    from labelaudit.judge.run import plan_requests, run_judge

    (folder / "judge.toml").write_text(JUDGE.replace("BASE_URL", "http://127.0.0.1:9/v1"))
    write_items(folder / "replay.jsonl", n, "r")
    judge = load_judge(folder / "judge.toml")
    plan = plan_requests(judge, read_items(folder / "replay.jsonl", fields=["item", "text"]))
    entries = [CacheEntry(p.key, judge.model, '{"label": "pos"}', 120, 6) for p in plan.planned]
    with JudgeCache(folder / "replay.duckdb") as cache:
        cache.put_many(entries)
        started = time.perf_counter()
        result = run_judge(
            judge,
            folder / "replay.jsonl",
            cache=cache,
            prices=load_prices(),
            out=folder / "replayed.jsonl",
        )
        elapsed = time.perf_counter() - started
    assert result.summary.n_cached == n and result.summary.n_sent == 0
    return {"verdicts": n, "seconds": elapsed, "verdicts_per_s": n / elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--replay", type=int, default=100_000)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(_serve())
        return
    import duckdb
    import httpx

    os.environ.setdefault("LABELAUDIT_BENCH_KEY", "sk-bench")
    print(
        f"python {platform.python_version()}, httpx {httpx.__version__}, duckdb "
        f"{duckdb.__version__}, {os.cpu_count()} CPUs, {platform.platform()}"
    )
    server, base_url = start_server()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            result = throughput(Path(tmp), base_url, args.requests, args.concurrency)
            writes = result["cache_writes"]
            print(
                f"throughput: {result['requests']} requests, concurrency {args.concurrency}, "
                f"cache on: {result['seconds']:.2f} s = {result['requests_per_s']:.0f} "
                f"requests/s (target >= 500); {result['stored']} answers stored in "
                f"{writes['commits']} commits (largest group {writes['max_group']}, longest "
                f"wait for a commit {writes['max_latency_ms']:.1f} ms; limit 100 ms)"
            )
    finally:
        server.kill()
        server.wait()
    with tempfile.TemporaryDirectory() as tmp:
        result = replay(Path(tmp), args.replay)
        print(
            f"replay: {result['verdicts']} cached verdicts in {result['seconds']:.2f} s = "
            f"{result['verdicts_per_s']:.0f} verdicts/s (target < 10 s)"
        )


if __name__ == "__main__":
    main()
