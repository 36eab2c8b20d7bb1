"""A run killed with SIGKILL while requests are in flight resumes without losing verdicts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from judge_server import ScriptedServer, normalized

JUDGE = """
name = "resume"
mode = "label"
model = "resume-model"
base_url = "BASE_URL"
api_key_env = "LABELAUDIT_TEST_KEY"
categories = ["pos", "neg"]
template = "Item {{ item }}: {{ text }}"
[params]
temperature = 0
"""
N_ITEMS, CONCURRENCY = 40, 4


def command(tmp_path: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "labelaudit",
        "judge",
        "run",
        str(tmp_path / "judge.toml"),
        str(tmp_path / "items.jsonl"),
        "--out",
        str(tmp_path / "verdicts.jsonl"),
        "--cache",
        str(tmp_path / "cache.duckdb"),
        "--concurrency",
        str(CONCURRENCY),
        "--no-progress",
        "--format",
        "json",
    ]


def arrived(server: ScriptedServer) -> list[str]:
    """The prompts received, delimiter keys normalised (each run draws its own key)."""
    with server.lock:
        return [
            json.dumps([normalized(m["content"]) for m in messages]) for messages in server.arrived
        ]


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkill_mid_run_then_resume_resends_only_in_flight_requests(tmp_path: Path) -> None:
    env = {**os.environ, "LABELAUDIT_TEST_KEY": "sk-resume"}
    rows = [{"item": f"i{n:02d}", "text": f"text {n}"} for n in range(N_ITEMS)]
    (tmp_path / "items.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    with ScriptedServer(delay=0.1) as server:
        (tmp_path / "judge.toml").write_text(JUDGE.replace("BASE_URL", server.base_url))
        process = subprocess.Popen(
            command(tmp_path), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            deadline = time.monotonic() + 60
            while not (len(server.hits) >= 12 and server.in_flight > 0):
                assert process.poll() is None and time.monotonic() < deadline
                time.sleep(0.005)
            process.send_signal(signal.SIGKILL)
            assert process.wait(timeout=30) == -signal.SIGKILL
        finally:
            if process.poll() is None:
                process.kill()
        first = arrived(server)
        assert not (tmp_path / "verdicts.jsonl").exists()  # killed before writing
        with duckdb.connect(str(tmp_path / "cache.duckdb")) as connection:
            committed = connection.execute("SELECT count(*) FROM judge_cache").fetchone()[0]
        assert 12 - CONCURRENCY <= committed < N_ITEMS
        server.delay = 0.0
        second_run = subprocess.run(
            command(tmp_path), env=env, capture_output=True, text=True, timeout=120
        )
        assert second_run.returncode == 0, second_run.stderr
        second = arrived(server)[len(first) :]
    summary = json.loads(second_run.stdout)
    resent = set(first) & set(second)
    assert len(resent) <= CONCURRENCY  # only the requests in flight at the kill
    assert len(set(first) | set(second)) == N_ITEMS  # every item asked; keys compare across runs
    assert summary["n_cached"] == committed and summary["n_sent"] == N_ITEMS - committed
    assert len(second) == N_ITEMS - committed
    verdicts = [json.loads(line) for line in (tmp_path / "verdicts.jsonl").read_text().splitlines()]
    assert [v["item"] for v in verdicts] == [r["item"] for r in rows]  # no verdict lost
    assert all(v["verdict"] == "pos" and v["error"] is None for v in verdicts)
    assert sum(v["cached"] for v in verdicts) == committed
