"""Label Studio webhooks over real HTTP to a real ``labelaudit serve`` on 127.0.0.1: a burst
of 1,000 deliveries with repeats and replays stores each annotation state exactly once,
the open batch closes on demand and on a schedule, a wrong secret stores nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from server_helpers import free_port, live_server

pytest.importorskip("uvicorn")

from labelaudit.project.layout import Project, init_project
from labelaudit.server import create_app

SECRET = "webhook-test-secret"
CHOICES = ("positive", "negative", "neutral")
N_TASKS = 300
USERS = (11, 12, 13)


def delivery(
    annotation: int, task: int, user: int, choice: str, updated: str, action: str
) -> dict[str, Any]:
    """A Label Studio ANNOTATION_* webhook body (the shape Label Studio posts)."""
    return {
        "action": action,
        "project": {"id": 7, "title": "sentiment"},
        "task": {"id": task, "data": {"text": f"review number {task}"}},
        "annotation": {
            "id": annotation,
            "completed_by": user,
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": updated,
            "was_cancelled": False,
            "result": [
                {
                    "id": f"r{annotation}",
                    "type": "choices",
                    "from_name": "sentiment",
                    "to_name": "text",
                    "value": {"choices": [choice]},
                }
            ],
        },
    }


def burst() -> tuple[list[dict[str, Any]], dict[int, str | None]]:
    """1,000 distinct deliveries (creations, updates, deletions) and the final state of each
    annotation (None = deleted)."""
    out: list[dict[str, Any]] = []
    final: dict[int, str | None] = {}
    annotation = 1000
    for task in range(N_TASKS):
        for k, user in enumerate(USERS):
            annotation += 1
            choice = CHOICES[(task + k) % 3]
            out.append(
                delivery(
                    annotation, task, user, choice, "2026-01-01T00:00:00Z", "ANNOTATION_CREATED"
                )
            )
            final[annotation] = choice
            if len(out) % 9 == 0:  # an update to another label
                changed = CHOICES[(task + k + 1) % 3]
                out.append(
                    delivery(
                        annotation,
                        task,
                        user,
                        changed,
                        "2026-01-02T00:00:00Z",
                        "ANNOTATION_UPDATED",
                    )
                )
                final[annotation] = changed
            if len(out) % 31 == 0:
                out.append({"action": "ANNOTATIONS_DELETED", "annotations": [{"id": annotation}]})
                final[annotation] = None
            if len(out) >= 1000:
                return out, final
    return out, final


def _send(base: str, bodies: list[dict[str, Any]], secret: str = SECRET) -> list[int]:
    headers = {"X-Labelaudit-Secret": secret}
    with httpx.Client(base_url=base, headers=headers, timeout=120) as client:

        def post(body: dict[str, Any]) -> int:
            return client.post("/webhooks/label-studio", json=body).status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            return list(pool.map(post, bodies))


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """``labelaudit serve`` in a subprocess with a webhook secret; its temporary token."""
    project = init_project(tmp_path / "ls", name="ls-webhooks", categories=CHOICES)
    port = free_port()
    env = {**os.environ, "LABELAUDIT_WEBHOOK_SECRET": SECRET}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "labelaudit",
            "serve",
            "--project",
            str(project.root),
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        process.stdout.readline()
        token = process.stdout.readline().strip().rsplit(" ", 1)[-1]
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}/openapi.json")
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline and process.poll() is None
                time.sleep(0.1)
        yield {"base": base, "token": token, "project": project}
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_burst_with_repeats_stores_each_state_once(served: dict[str, Any]) -> None:
    base, project = served["base"], served["project"]
    auth = {"Authorization": f"Bearer {served['token']}"}
    bodies, final = burst()
    assert len(bodies) == 1000
    refused = _send(base, bodies[:50], secret="wrong")
    assert set(refused) == {403}
    assert httpx.get(f"{base}/api/webhook-batch", headers=auth).json()["n_deliveries"] == 0
    repeats = bodies[::7]  # sent twice in the burst, interleaved
    started = time.monotonic()
    statuses = _send(base, bodies + repeats)
    print(f"burst of {len(bodies) + len(repeats)} deliveries: {time.monotonic() - started:.1f} s")
    assert statuses.count(201) == 1000 and statuses.count(200) == len(repeats)
    state = httpx.get(f"{base}/api/webhook-batch", headers=auth).json()
    live = {a: c for a, c in final.items() if c is not None}
    assert state == {
        "n_annotations": len(live),
        "n_deleted": len(final) - len(live),
        "n_tasks": len({(a - 1001) // 3 for a in live}),
        "n_deliveries": 1000,
    }
    closed = httpx.post(
        f"{base}/api/webhook-batch/close", headers=auth, json={"name": "week-1"}, timeout=300
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["outcome"] == "stored" and closed.json()["n_annotations"] == len(live)
    # a full replay after closing changes nothing; closing again stores nothing
    assert set(_send(base, bodies[:200])) == {200}
    assert httpx.get(f"{base}/api/webhook-batch", headers=auth).json()["n_deliveries"] == 0
    again = httpx.post(f"{base}/api/webhook-batch/close", headers=auth, json={}, timeout=300)
    assert again.json()["outcome"] == "empty"
    with Project.load(project.root).open_store(read_only=True) as store:
        rows = store.execute(
            "SELECT item, annotator, label FROM annotations a JOIN batches b USING (batch_id) "
            "WHERE b.name = 'week-1'"
        ).fetchall()
        n_batches = len(store.batches())
    assert n_batches == 1 and len(rows) == len(live)
    by_task_user = {(int(item), annotator): label for item, annotator, label in rows}
    expected = {((a - 1001) // 3, str(USERS[(a - 1001) % 3])): c for a, c in live.items()}
    assert len(by_task_user) == len(expected)
    assert sorted(by_task_user.values()) == sorted(expected.values())
    batch = httpx.get(f"{base}/api/batches/week-1", headers=auth).json()
    assert batch["batch"]["n_annotations"] == len(live)


def test_bad_deliveries_are_refused_cleanly(served: dict[str, Any]) -> None:
    base = served["base"]
    headers = {"X-Labelaudit-Secret": SECRET}
    bad = [
        {"action": "ANNOTATION_CREATED", "annotation": {"id": "x"}, "task": {"id": 1, "data": {}}},
        {
            "action": "ANNOTATION_CREATED",
            "annotation": {"id": 1, "completed_by": 1},
            "task": {"id": 2},
        },
        {"action": 5},
        {"action": "ANNOTATIONS_DELETED", "annotations": "all"},
    ]
    for body in bad:
        answer = httpx.post(f"{base}/webhooks/label-studio", json=body, headers=headers)
        assert answer.status_code == 422, (body, answer.text)
        assert "invalid Label Studio webhook" in answer.json()["detail"]
    ignored = httpx.post(
        f"{base}/webhooks/label-studio", json={"action": "PROJECT_UPDATED"}, headers=headers
    )
    assert ignored.status_code == 200 and ignored.json()["stored"] == 0
    nothing = httpx.post(f"{base}/webhooks/label-studio", json=[1, 2], headers=headers)
    assert nothing.status_code == 422
    auth = {"Authorization": f"Bearer {served['token']}"}
    assert httpx.get(f"{base}/api/webhook-batch", headers=auth).json()["n_deliveries"] == 0
    evil = httpx.post(f"{base}/api/webhook-batch/close", headers=auth, json={"name": "../x"})
    assert evil.status_code == 422


def test_open_batch_closes_on_a_schedule(tmp_path: Path) -> None:
    project = init_project(tmp_path / "ls", categories=CHOICES)
    app = create_app(project.root, temporary_token="la_t", webhook_secret=SECRET, close_every=0.5)
    with live_server(app, lifespan="on") as base:
        bodies = [
            delivery(i, i // 2, USERS[i % 2], "positive", "t1", "ANNOTATION_CREATED")
            for i in range(20)
        ]
        assert set(_send(base, bodies)) == {201}
        deadline = time.monotonic() + 60
        auth = {"Authorization": "Bearer la_t"}
        while time.monotonic() < deadline:  # every delivery ends in a scheduled batch
            waiting = httpx.get(f"{base}/api/webhook-batch", headers=auth).json()
            batches = httpx.get(f"{base}/api/batches", headers=auth).json()["batches"]
            if batches and not waiting["n_deliveries"]:
                break
            time.sleep(0.2)
        assert sum(b["n_annotations"] for b in batches) == 20
        assert all(b["name"].startswith("ls-") for b in batches)
