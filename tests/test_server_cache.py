"""The server's cache drops only what a write changed: a decision keeps the pipeline report
and its charts, a CLI ingest drops them (the new batch is seen without a restart)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from server_helpers import call, make_project

pytest.importorskip("fastapi")

from labelaudit.project.ingest import ingest_batch
from labelaudit.project.layout import Project
from labelaudit.server import create_app, views


def _boom() -> Any:
    raise AssertionError("recomputed")


def test_a_decision_keeps_the_pipeline_and_an_ingest_drops_it(tmp_path: Path) -> None:
    setup = make_project(tmp_path)
    app = create_app(setup["root"])
    access, tokens = app.state.access, setup["tokens"]["main"]
    assert call(app, "GET", "/", tokens["reader"]).status_code == 200
    kept = {"charts": views.pipeline_charts(access), ("pipeline", None): views.pipeline(access)}
    entry = call(app, "GET", "/api/queue", tokens["reader"]).json()["items"][0]
    decided = call(
        app, "POST", "/api/decisions", tokens["writer"], json={"item": entry["item"], "label": "2"}
    )
    assert decided.status_code == 201
    for key, value in kept.items():  # the same objects, not recomputed
        assert access.cached(key, _boom, ("results", "config")) is value
    with pytest.raises(AssertionError, match="recomputed"):
        access.cached("queue-decided", _boom, ("results", "decisions"))
    status = call(app, "GET", "/api/status", tokens["reader"]).json()
    assert status["decided_items"] == 1
    name, path = setup["later"]
    ingest_batch(Project.load(setup["root"]), path, batch=name)
    with pytest.raises(AssertionError, match="recomputed"):
        access.cached("charts", _boom, ("results", "config"))
    status = call(app, "GET", "/api/status", tokens["reader"]).json()
    assert status["latest_batch"] == name and status["decided_items"] == 1
