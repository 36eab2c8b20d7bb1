"""A real Label Studio sends its webhooks to a real ``labelaudit serve`` on 127.0.0.1:
annotations made through Label Studio's API reach the open batch, an update replaces the
label, a webhook with a wrong secret stores nothing, and closing the batch puts the
annotations in the store (its queue and counts change)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from ls_harness import LabelStudio
from server_helpers import live_server

pytest.importorskip("uvicorn")

from labelaudit.project.layout import Project, init_project
from labelaudit.project.tokens import create_token
from labelaudit.server import create_app

pytestmark = pytest.mark.label_studio

SECRET = "ls-live-webhook-secret"
CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="mood" toName="text" choice="single">
    <Choice value="glad"/><Choice value="sad"/>
  </Choices>
</View>
"""
ACTIONS = ["ANNOTATION_CREATED", "ANNOTATION_UPDATED", "ANNOTATIONS_DELETED"]


def _choice(value: str) -> list[dict[str, Any]]:
    return [
        {"from_name": "mood", "to_name": "text", "type": "choices", "value": {"choices": [value]}}
    ]


def _wait(check: Callable[[], bool], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def test_label_studio_webhooks_reach_the_open_batch(
    label_studio: LabelStudio, tmp_path: Path
) -> None:
    ls = label_studio
    project = init_project(tmp_path / "project", name="ls-live-hooks", categories=("glad", "sad"))
    with project.open_store() as store:
        writer = create_token(store, role="writer", name="lead")
    auth = {"Authorization": f"Bearer {writer}"}
    app = create_app(project.root, webhook_secret=SECRET)
    with live_server(app) as base:
        ls_project = ls.create_project("webhooks to serve", CONFIG)
        tasks = ls.import_tasks(ls_project, [{"data": {"text": f"day {k}"}} for k in range(3)])
        for secret in (SECRET, "a wrong secret"):
            ls.api(
                "POST",
                "/api/webhooks/",
                json={
                    "project": ls_project,
                    "url": f"{base}/webhooks/label-studio",
                    "send_payload": True,
                    "send_for_all_actions": False,
                    "actions": ACTIONS,
                    "headers": {"X-Labelaudit-Secret": secret},
                    "is_active": True,
                },
            )
        users = [ls.add_user(f"hooks{k}-{time.time_ns()}@example.com") for k in range(2)]

        def state() -> dict[str, int]:
            return httpx.get(f"{base}/api/webhook-batch", headers=auth).json()

        made = [
            ls.annotate(task, _choice("glad" if (k + j) % 2 else "sad"), token)
            for k, task in enumerate(tasks)
            for j, token in enumerate(users)
        ]
        _wait(lambda: state()["n_annotations"] == len(made), "six annotations in the open batch")
        # an update through Label Studio: the new revision replaces the label
        first = made[0]
        ls.api(
            "PATCH",
            f"/api/annotations/{first['id']}/",
            token=users[0],
            json={"result": _choice("glad")},
        )
        _wait(lambda: state()["n_deliveries"] == len(made) + 1, "the update's delivery")
        assert state() == {
            "n_annotations": len(made),
            "n_deleted": 0,
            "n_tasks": len(tasks),
            "n_deliveries": len(made) + 1,  # the wrong-secret webhook stored nothing
        }
        closed = httpx.post(
            f"{base}/api/webhook-batch/close", headers=auth, json={"name": "from-ls"}, timeout=300
        )
        assert closed.status_code == 200, closed.text
        assert closed.json()["n_annotations"] == len(made)
        assert state()["n_deliveries"] == 0
        batch = httpx.get(f"{base}/api/batches/from-ls", headers=auth).json()["batch"]
        assert batch["n_annotations"] == len(made) and batch["n_items"] == len(tasks)
        queue = httpx.get(f"{base}/api/queue?batch=from-ls&status=all", headers=auth).json()
        # every task has one glad and one sad, but task 0 was updated to two glads
        assert queue["n_matching"] == len(tasks) - 1
    with Project.load(project.root).open_store(read_only=True) as store:
        labels = store.execute(
            "SELECT label, count(*) FROM annotations GROUP BY label ORDER BY label"
        ).fetchall()
    assert labels == [("glad", 4), ("sad", 2)]
