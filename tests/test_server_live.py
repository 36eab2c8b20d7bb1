"""labelaudit serve for real: the CLI (tokens, loopback rule, temporary token) and a uvicorn
server on 127.0.0.1 that keeps answering while a CLI ingest writes the store."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from server_helpers import copy_project, free_port, live_server, make_project

pytest.importorskip("uvicorn")

from labelaudit.cli.app import app as cli
from labelaudit.project.layout import Project, init_project
from labelaudit.server import create_app

runner = CliRunner()
LABELAUDIT = [sys.executable, "-m", "labelaudit"]


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return make_project(tmp_path_factory.mktemp("live"))


def test_token_create_stores_only_a_hash(tmp_path: Path) -> None:
    project = init_project(tmp_path / "p")
    result = runner.invoke(
        cli, ["token", "create", "--writer", "--name", "alice", "--project", str(project.root)]
    )
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("la_") and len(token) == 35
    with project.open_store(read_only=True) as store:
        rows = store.execute("SELECT token_sha256, role, name FROM api_tokens").fetchall()
    import hashlib

    assert rows == [(hashlib.sha256(token.encode()).hexdigest(), "writer", "alice")]
    again = runner.invoke(
        cli, ["token", "create", "--name", "alice", "--project", str(project.root)]
    )
    assert again.exit_code == 2 and "exists already" in again.output


def test_non_loopback_bind_without_token_is_refused(tmp_path: Path) -> None:
    project = init_project(tmp_path / "p")
    result = runner.invoke(cli, ["serve", "--project", str(project.root), "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "labelaudit token create" in result.output and "Traceback" not in result.output


def test_serve_prints_a_temporary_token_that_works(tmp_path: Path) -> None:
    project = init_project(tmp_path / "p", name="temp")
    port = free_port()
    process = subprocess.Popen(
        [*LABELAUDIT, "serve", "--project", str(project.root), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        serving = process.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in serving
        token = process.stdout.readline().strip().rsplit(" ", 1)[-1]
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                answer = httpx.get(
                    f"{base}/api/status", headers={"Authorization": f"Bearer {token}"}
                )
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline and process.poll() is None
                time.sleep(0.1)
        assert answer.status_code == 200 and answer.json()["n_batches"] == 0
        assert httpx.get(f"{base}/api/status").status_code == 401
        assert httpx.get(f"{base}/openapi.json").status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_cli_ingest_while_serving_loses_nothing(setup: dict[str, Any], tmp_path: Path) -> None:
    root = copy_project(setup["root"], tmp_path / "project")
    token = setup["tokens"]["main"]["reader"]
    name, path = setup["later"]
    headers = {"Authorization": f"Bearer {token}"}
    seen: list[int] = []
    errors: list[str] = []
    stop = threading.Event()
    with live_server(create_app(root)) as base:

        def poll() -> None:
            with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
                while not stop.is_set():
                    for route in ("/api/status", "/api/batches", "/", "/api/queue"):
                        answer = client.get(route)
                        if answer.status_code != 200:
                            errors.append(f"{route}: {answer.status_code} {answer.text[:200]}")
                        elif route == "/api/status":
                            seen.append(answer.json()["n_batches"])

        pollers = [threading.Thread(target=poll) for _ in range(2)]
        for thread in pollers:
            thread.start()
        try:
            while len(seen) < 4:  # the server is answering before the ingest starts
                time.sleep(0.05)
            env = {**os.environ, "LABELAUDIT_LOCK_WAIT": "30"}
            ingest = subprocess.run(
                [*LABELAUDIT, "ingest", str(path), "--batch", name, "--project", str(root)],
                capture_output=True,
                text=True,
                env=env,
                timeout=300,
            )
            check = subprocess.run(
                [*LABELAUDIT, "check", "--batch", name, "--project", str(root)],
                capture_output=True,
                text=True,
                env=env,
                timeout=300,
            )
            deadline = time.monotonic() + 60
            while (not seen or seen[-1] != 3) and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            stop.set()
            for thread in pollers:
                thread.join(timeout=120)
        assert ingest.returncode == 0, ingest.stderr
        assert check.returncode in (0, 1), check.stderr  # 1: the degraded batch fails a gate
        assert errors == []
        assert seen[0] == 2 and seen[-1] == 3  # the new batch, seen without a restart
        batches = httpx.get(f"{base}/api/batches", headers=headers).json()["batches"]
    stored = [b["name"] for b in batches]
    assert stored == ["2024-w01", "2024-w02", name]
    with Project.load(root).open_store(read_only=True) as store:
        rows = store.execute(
            "SELECT b.name, count(*) FROM annotations a JOIN batches b USING (batch_id) "
            "GROUP BY b.name ORDER BY b.name"
        ).fetchall()
    lines = path.read_text(encoding="utf-8").count("\n") - 1
    assert dict(rows)[name] == lines  # every row of the file, once
    assert {n: c for n, c in rows if n != name} == {
        b["name"]: b["n_annotations"] for b in batches if b["name"] != name
    }
