"""Load test of ``labelaudit serve`` on loopback: 50 concurrent clients for 60 s.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_serve.py                 # builds the store, ~10 min
    .venv/bin/python benchmarks/bench_serve.py --keep /tmp/serve-bench   # keep / reuse it

The store is the 100-batch history of ``bench_pipeline.py`` (100 batches of 10,000
annotations: 1,000,000 annotations, 5 per item, annotators from a pool of 50, 5
categories), built through the library. A reader token is created, then the real command
``labelaudit serve`` runs in its own process on 127.0.0.1. Each page is fetched once
first through httpx (its cold time: the first computation after a store change, e.g. a
new batch; its status and body length are kept), then 50 closed-loop clients request the
pages round-robin for 60 s, each on its own keep-alive connection (:mod:`http_load`:
asyncio on raw sockets, a few hundred microseconds of client CPU per request; every answer
must be status 200 with the full body of the length httpx saw, or it counts as an error;
``--client httpx`` runs the earlier ``httpx.AsyncClient`` loop, about 2 ms of client CPU
per request). The latency of each request is measured from send to the last byte; p50 /
p95 / p99 per page, requests and errors are printed as a Markdown table, with the server's
and the client's CPU per request. After the load every page is fetched and checked once
more through httpx, one decision is posted (a writer token) and every page fetched once
more: what a decision costs the next reader.

Target (issue 14): p95 under 200 ms for the overview and batch pages, zero errors. The
client and the server share the 2-core machine, so the client's own CPU use is part of
every latency. Bounded: it stops by itself after ``--seconds`` and only talks to
127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench_pipeline import CATEGORIES, HISTORY, make_batch
from http_load import run_load

PAGES = {
    "overview /": "/",
    "batch /batches/week-050": "/batches/week-050",
    "/api/status": "/api/status",
    "/api/batches/week-099": "/api/batches/week-099",
    "batches /batches": "/batches",
    "annotators /annotators": "/annotators",
    "annotator /annotators/ann7": "/annotators/ann7",
    "item /items/item42": "/items/item42",
    "queue /queue": "/queue",
}
TARGETS = {"overview /": 0.2, "batch /batches/week-050": 0.2}


def build(folder: Path) -> Path:
    """The 100-batch project (reused when ``folder`` already holds it)."""
    project = folder / "history"
    if (project / "labelaudit.duckdb").is_file():
        return project
    weeks = folder / "weeks"
    weeks.mkdir(parents=True, exist_ok=True)
    for week in range(100):
        make_batch(weeks / f"week-{week:03d}.parquet", 10_000, seed=1000 + week)
    labelaudit = [sys.executable, "-m", "labelaudit"]
    subprocess.run(
        [*labelaudit, "init", str(project), "--categories", ",".join(CATEGORIES)],
        check=True,
        capture_output=True,
    )
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", HISTORY, str(project), str(weeks)], check=True)
    print(f"built the store (100 ingests) in {time.perf_counter() - started:.0f} s")
    return project


def serve(project: Path, port: int) -> tuple[subprocess.Popen[str], str, str]:
    """A reader and a writer token and ``labelaudit serve`` on 127.0.0.1:port."""
    labelaudit = [sys.executable, "-m", "labelaudit"]
    tokens = []
    for role in ([], ["--writer"]):
        made = subprocess.run(
            [*labelaudit, "token", "create", "--project", str(project), *role],
            check=True,
            capture_output=True,
            text=True,
        )
        tokens.append(made.stdout.strip().splitlines()[-1])
    process = subprocess.Popen(
        [*labelaudit, "serve", "--project", str(project), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    return process, tokens[0], tokens[1]


async def load(
    base: str,
    token: str,
    writer: str,
    clients: int,
    seconds: float,
    pid: int,
    raw: bool = True,
    decide_every: float = 0.0,
) -> dict[str, list[float]]:
    """Every page once through httpx (cold; status and body length kept), then ``clients``
    closed-loop clients over the pages for ``seconds`` (``raw``: :mod:`http_load`, every
    answer checked for status 200 and the full body; else httpx), every page checked once
    more through httpx, then two decisions and every page once more (what a decision costs
    the next reader); the server's (process ``pid``) and the client's CPU seconds during
    the timed loop. ``decide_every`` > 0 also posts a decision every that many seconds
    during the loop (each one changes the store: every kept answer is dropped and pages
    are recomputed under load; bodies then change, so only statuses are checked)."""
    import httpx

    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    times: dict[str, list[float]] = {name: [] for name in PAGES}
    errors: dict[str, list[str]] = {name: [] for name in PAGES}
    cold: dict[str, float] = {}
    lengths: dict[str, int] = {}
    async with httpx.AsyncClient(
        base_url=base, headers=headers, limits=limits, timeout=120
    ) as client:
        for _ in range(600):  # wait for the server
            try:
                await client.get("/openapi.json")
                break
            except httpx.ConnectError:
                await asyncio.sleep(0.1)
        else:
            raise RuntimeError(f"no server at {base} after 60 s")
        for name, path in PAGES.items():
            started = time.perf_counter()
            answer = await client.get(path)
            cold[name] = time.perf_counter() - started
            if answer.status_code != 200:
                raise RuntimeError(f"{path}: {answer.status_code} {answer.text[:300]}")
            lengths[name] = len(answer.content)
        during: list[float] = []
        deciding = _decider(client, writer, decide_every, seconds, during)
        cpu = _cpu_seconds(pid)
        if raw:
            expected = None if decide_every else lengths
            loop, _ = await asyncio.gather(
                run_load(base, PAGES, headers, clients, seconds, expected), deciding
            )
            times, errors, client_cpu = loop.times, loop.errors, loop.client_cpu
        else:
            client_cpu = time.process_time()
            await asyncio.gather(_httpx_loop(client, clients, seconds, times, errors), deciding)
            client_cpu = time.process_time() - client_cpu
        cpu = _cpu_seconds(pid) - cpu
        for name, path in PAGES.items():  # the verification pass: same pages after the load
            answer = await client.get(path)
            same = decide_every or len(answer.content) == lengths[name]
            if answer.status_code != 200 or not same:
                raise RuntimeError(
                    f"{path} after the load: {answer.status_code}, "
                    f"{len(answer.content)} bytes, not {lengths[name]}"
                )
        decide = []
        for entry in (await client.get("/api/queue?limit=2")).json()["items"]:
            started = time.perf_counter()
            decided = await client.post(
                "/api/decisions",
                json={"item": entry["item"], "label": entry["candidates"][0]["label"]},
                headers={"Authorization": f"Bearer {writer}"},
            )
            decide.append(time.perf_counter() - started)
            if decided.status_code != 201:
                raise RuntimeError(f"decision: {decided.status_code} {decided.text[:300]}")
        after: dict[str, float] = {}
        for name, path in PAGES.items():
            started = time.perf_counter()
            answer = await client.get(path)
            after[name] = time.perf_counter() - started
            if answer.status_code != 200:
                raise RuntimeError(f"{path}: {answer.status_code} {answer.text[:300]}")
    return {  # type: ignore[return-value]
        "times": times,
        "errors": errors,
        "cold": cold,
        "after_decision": after,
        "decide": decide,
        "server_cpu": cpu,
        "client_cpu": client_cpu,
        "client": "raw" if raw else "httpx",
        "decisions_during": during,
        "bytes": lengths,
    }


async def _decider(
    client: object, writer: str, every: float, seconds: float, latencies: list[float]
) -> None:
    """A decision every ``every`` seconds for ``seconds`` (none when ``every`` is 0), on
    open items taken from the queue; each one's latency is appended to ``latencies``."""
    if every <= 0:
        return
    n = int(seconds / every)
    auth = {"Authorization": f"Bearer {writer}"}
    got = await client.get(f"/api/queue?limit={n + 10}", headers=auth)  # type: ignore[attr-defined]
    items = got.json()["items"]
    stop = time.monotonic() + seconds
    for entry in items[:n]:
        await asyncio.sleep(every)
        if time.monotonic() >= stop:
            break
        started = time.perf_counter()
        decided = await client.post(  # type: ignore[attr-defined]
            "/api/decisions",
            json={"item": entry["item"], "label": entry["candidates"][0]["label"]},
            headers=auth,
        )
        latencies.append(time.perf_counter() - started)
        if decided.status_code != 201:
            raise RuntimeError(f"decision: {decided.status_code} {decided.text[:300]}")


async def _httpx_loop(
    client: object,
    clients: int,
    seconds: float,
    times: dict[str, list[float]],
    errors: dict[str, list[str]],
) -> None:
    """The earlier load generator (``--client httpx``): ``clients`` tasks sharing one
    ``httpx.AsyncClient``; about 2 ms of client CPU per request."""
    import httpx

    stop = time.monotonic() + seconds

    async def user(offset: int) -> None:
        names = list(PAGES)
        k = offset
        while time.monotonic() < stop:
            name = names[k % len(names)]
            k += 1
            started = time.perf_counter()
            try:
                answer = await client.get(PAGES[name])  # type: ignore[attr-defined]
                await answer.aread()
                ok = answer.status_code == 200
                detail = str(answer.status_code)
            except httpx.HTTPError as error:
                ok, detail = False, type(error).__name__
            times[name].append(time.perf_counter() - started)
            if not ok:
                errors[name].append(detail)

    await asyncio.gather(*(user(i) for i in range(clients)))


def table(result: dict[str, dict[str, object]], seconds: float, clients: int) -> str:
    """The Markdown table of the run."""
    lines = [
        "| page | cold (first request) | after a decision | requests | p50 | p95 | p99 | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in PAGES:
        values = np.array(result["times"][name]) * 1000  # type: ignore[index]
        p50, p95, p99 = np.percentile(values, [50, 95, 99]) if values.size else (0, 0, 0)
        target = TARGETS.get(name)
        mark = "" if target is None else (" ✓" if p95 <= target * 1000 else " ✗")
        cold = result["cold"][name] * 1000  # type: ignore[index]
        errors = len(result["errors"][name])  # type: ignore[index]
        after = result["after_decision"][name] * 1000  # type: ignore[index]
        lines.append(
            f"| {name} | {cold:,.0f} ms | {after:,.0f} ms | {values.size:,} | {p50:,.0f} ms | "
            f"{p95:,.0f} ms{mark} | {p99:,.0f} ms | {errors} |"
        )
    total = sum(len(v) for v in result["times"].values())  # type: ignore[union-attr]
    first, second = (float(t) * 1000 for t in result["decide"])  # type: ignore[union-attr]
    cpu = float(result["server_cpu"]) / total * 1000  # type: ignore[arg-type]
    client_cpu = float(result["client_cpu"]) / total * 1000  # type: ignore[arg-type]
    lines.append(
        f"\n{clients} clients ({result['client']} client), {seconds:.0f} s: {total:,} requests "
        f"({total / seconds:,.0f}/s); CPU per request in the timed loop: server "
        f"{cpu:.2f} ms, client {client_cpu:.2f} ms. Two decisions "
        f"(POST /api/decisions on items in all 100 batches): {first:,.0f} ms (the first "
        f"computes each batch's queue size once), then {second:,.0f} ms."
    )
    during = np.array(result["decisions_during"]) * 1000  # type: ignore[arg-type]
    if during.size:
        lines.append(
            f"{during.size} decisions posted during the load (each drops every kept answer): "
            f"median {np.median(during):,.0f} ms, max {during.max():,.0f} ms."
        )
    return "\n".join(lines)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux ``/proc``; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="folder for the store (reused if present)")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--port", type=int, default=8799)
    parser.add_argument("--json", type=Path, help="also write the raw latencies here")
    parser.add_argument(
        "--decide-every",
        type=float,
        default=0.0,
        help="also post a decision every this many seconds during the load (default: none)",
    )
    parser.add_argument(
        "--client",
        choices=("raw", "httpx"),
        default="raw",
        help="load generator: raw asyncio sockets (default) or the earlier httpx client",
    )
    options = parser.parse_args(argv)
    folder = options.keep or Path(tempfile.mkdtemp(prefix="bench-serve-"))
    project = build(folder)
    process, token, writer = serve(project, options.port)
    try:
        base = f"http://127.0.0.1:{options.port}"
        result = asyncio.run(
            load(
                base,
                token,
                writer,
                options.clients,
                options.seconds,
                process.pid,
                raw=options.client == "raw",
                decide_every=options.decide_every,
            )
        )
    finally:
        process.terminate()
        process.wait(timeout=60)
    print(f"labelaudit serve, {os.cpu_count()} CPUs, store {project}")
    print(table(result, options.seconds, options.clients))
    print("load average (1, 5, 15 min) at the end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    if options.json:
        options.json.write_text(json.dumps(result), encoding="utf-8")


if __name__ == "__main__":
    main()
