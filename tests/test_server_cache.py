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


def _kept(app: Any, path: str, token: str, query: str = "", cookie: bool = False) -> Any:
    from labelaudit.server.access import MISSING
    from labelaudit.server.answers import answer_key

    access = app.state.access
    kept = access.answer(answer_key(path, query, token, cookie), access.version())
    return None if kept is MISSING else kept


def test_a_replayed_answer_is_the_same_answer_until_the_store_changes(tmp_path: Path) -> None:
    setup = make_project(tmp_path)
    app = create_app(setup["root"])
    tokens = setup["tokens"]["main"]
    reader, writer = tokens["reader"], tokens["writer"]
    first = call(app, "GET", "/queue", reader)
    assert first.status_code == 200 and _kept(app, "/queue", reader) is not None
    again = call(app, "GET", "/queue", reader)  # replayed: same bytes, same headers
    assert again.content == first.content and again.headers == first.headers
    assert "x-labelaudit-cacheable" not in again.headers
    assert (
        again.headers["x-frame-options"] == "DENY" and again.headers["cache-control"] == "no-store"
    )
    # another caller, a bad token, a cookie: each its own answer, never someone else's
    as_writer = call(app, "GET", "/queue", writer)
    assert as_writer.status_code == 200 and as_writer.content != first.content
    assert call(app, "GET", "/queue", writer).content == as_writer.content
    assert call(app, "GET", "/queue", reader + "x").status_code == 303  # to the login
    assert call(app, "GET", "/api/status", reader + "x").status_code == 401
    by_cookie = call(app, "GET", "/queue", cookies={"labelaudit_token": reader})
    assert by_cookie.status_code == 200 and _kept(app, "/queue", reader, cookie=True) is not None
    # a decision changes the store: the next answer is computed again and shows it
    assert call(app, "GET", "/api/status", reader).json()["decided_items"] == 0
    assert call(app, "GET", "/api/status", reader).json()["decided_items"] == 0
    entry = call(app, "GET", "/api/queue", reader).json()["items"][0]
    decided = call(
        app, "POST", "/api/decisions", writer, json={"item": entry["item"], "label": "2"}
    )
    assert decided.status_code == 201
    assert _kept(app, "/api/status", reader) is None
    assert call(app, "GET", "/api/status", reader).json()["decided_items"] == 1
    assert call(app, "GET", "/queue", reader).content != first.content
    # a query is part of the key; an answer that is not 200 is never kept
    tie = call(app, "GET", "/api/queue", reader, params={"reason": "tie"})
    assert tie.status_code == 200 and _kept(app, "/api/queue", reader, "reason=tie") is not None
    bad = call(app, "GET", "/api/queue", reader, params={"reason": "bad"})
    assert bad.status_code == 422 and _kept(app, "/api/queue", reader, "reason=bad") is None
    assert call(app, "GET", "/batches/no-such-batch", reader).status_code == 404
    assert _kept(app, "/batches/no-such-batch", reader) is None


def test_a_new_token_drops_every_kept_answer(tmp_path: Path) -> None:
    from labelaudit.project.tokens import create_token

    setup = make_project(tmp_path)
    app = create_app(setup["root"])
    reader = setup["tokens"]["main"]["reader"]
    assert call(app, "GET", "/api/batches", reader).status_code == 200
    assert _kept(app, "/api/batches", reader) is not None
    with Project.load(setup["root"]).open_store() as store:
        create_token(store, role="reader", name="late")
    assert call(app, "GET", "/api/annotators", reader).status_code == 200  # refreshes
    assert _kept(app, "/api/batches", reader) is None
