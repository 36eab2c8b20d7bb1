"""Projects, in-process calls and a real uvicorn server on 127.0.0.1 for the server tests."""

from __future__ import annotations

import asyncio
import csv
import json
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from labelaudit.project.demo import demo_batches
from labelaudit.project.ingest import ingest_batch
from labelaudit.project.layout import Project, init_project
from labelaudit.project.tokens import create_token

HOSTILE_ITEM = '<script>alert("item")</script>/x?y#z'
HOSTILE_ANNOTATOR = '"><img src=x onerror=alert(1)>'
HOSTILE_TEXT = 'Call =HYPERLINK("http://evil") <b>bold</b> & {{ 7*7 }} [bold]x[/bold]'
SPAN_ITEM = "span-item"
SPAN_TEXT = "Alice met Bob in Paris."


def _hostile_batch(path: Path) -> Path:
    """Items with markup, quotes and slashes in names; one item whose labels are spans."""
    spans_a = '[{"start": 0, "end": 5, "label": "PER"}, {"start": 17, "end": 22, "label": "LOC"}]'
    spans_b = '[{"start": 0, "end": 5, "label": "PER"}]'
    rows = [
        (HOSTILE_ITEM, "annotator1", "0", HOSTILE_TEXT),
        (HOSTILE_ITEM, HOSTILE_ANNOTATOR, "1", HOSTILE_TEXT),
        (HOSTILE_ITEM, "annotator3", "2", HOSTILE_TEXT),
        ("=cmd|' /C calc'!A0", "annotator1", "1", "formula item"),
        ("=cmd|' /C calc'!A0", "annotator3", "2", "formula item"),
        (SPAN_ITEM, "annotator1", spans_a, SPAN_TEXT),
        (SPAN_ITEM, "annotator3", spans_b, SPAN_TEXT),
    ]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["item", "annotator", "label", "text"])
        writer.writerows(rows)
    return path


def make_project(root: Path) -> dict[str, Any]:
    """A demo-like project (3 weekly PandaLM batches with gold, the last degraded) and a
    second, hostile project; returns paths and a reader and a writer token of each."""
    data = demo_batches(root / "batches", n_batches=3, degraded=(2,))
    project_root = root / "project"
    init_project(project_root, name="server-test", categories=("0", "1", "2"))
    config = project_root / "labelaudit.toml"
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            '# file = "gold.csv"', f"file = {json.dumps(str(data.gold))}"
        ),
        encoding="utf-8",
    )
    project = Project.load(project_root)
    for name, path in data.batches[:2]:
        ingest_batch(project, path, batch=name)
    hostile_root = root / "hostile"
    init_project(hostile_root, name="<i>hostile</i>")
    hostile = Project.load(hostile_root)
    ingest_batch(hostile, _hostile_batch(root / "hostile.csv"), batch="<b>batch</b>")
    tokens = {}
    for key, found in (("main", project), ("hostile", hostile)):
        with found.open_store() as store:
            tokens[key] = {
                "reader": create_token(store, role="reader", name=f"{key}-reader"),
                "writer": create_token(store, role="writer", name=f"{key}-writer"),
            }
    return {
        "root": project_root,
        "hostile": hostile_root,
        "later": data.batches[2],
        "tokens": tokens,
    }


def copy_project(source: Path, target: Path) -> Path:
    """A private copy of a project folder (tests that write get their own)."""
    shutil.copytree(source, target)
    return target


def call(app: Any, method: str, path: str, token: str | None = None, **kwargs: Any) -> Any:
    """One in-process request through httpx's ASGI transport."""
    headers = dict(kwargs.pop("headers", {}) or {})
    cookies = kwargs.pop("cookies", None)
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"

    async def run() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", cookies=cookies
        ) as client:
            return await client.request(method, path, headers=headers, **kwargs)

    # in a thread of its own: the session's Playwright may hold this thread's event loop
    with ThreadPoolExecutor(max_workers=1) as worker:
        return worker.submit(asyncio.run, run()).result()


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def live_server(app: Any, *, lifespan: str = "off") -> Iterator[str]:
    """Run ``app`` under a real uvicorn on 127.0.0.1 in a thread; yields the base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan=lifespan)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
