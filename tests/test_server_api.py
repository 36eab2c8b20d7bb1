"""labelaudit serve in process (httpx ASGI transport): every endpoint, auth, CSRF, decisions,
escaping, busy store, new batches seen without a restart."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from server_helpers import (
    HOSTILE_ANNOTATOR,
    HOSTILE_ITEM,
    SPAN_ITEM,
    call,
    copy_project,
    make_project,
)

pytest.importorskip("fastapi")

from labelaudit.project.layout import Project
from labelaudit.server import create_app, is_loopback

API_ROUTES = (
    "/api/status",
    "/api/batches",
    "/api/batches/2024-w01",
    "/api/annotators",
    "/api/annotators/annotator3",
    "/api/items/87",
    "/api/queue",
    "/api/decisions",
)
PAGES = (
    "/",
    "/batches",
    "/batches/2024-w02",
    "/annotators",
    "/annotators/annotator1",
    "/items/87",
    "/queue",
    "/decisions",
)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return make_project(tmp_path_factory.mktemp("serve"))


@pytest.fixture(scope="module")
def app(setup: dict[str, Any]) -> Any:
    return create_app(setup["root"])


@pytest.fixture()
def own(setup: dict[str, Any], tmp_path: Path) -> tuple[Any, dict[str, str], Path]:
    """A private copy of the project (for tests that write) and its app."""
    root = copy_project(setup["root"], tmp_path / "project")
    return create_app(root), setup["tokens"]["main"], root


def test_every_api_route_answers_a_reader(app: Any, setup: dict[str, Any]) -> None:
    token = setup["tokens"]["main"]["reader"]
    for path in API_ROUTES:
        response = call(app, "GET", path, token)
        assert response.status_code == 200, (path, response.text)
        assert response.headers["content-type"].startswith("application/json")
        assert response.headers["x-content-type-options"] == "nosniff"
    status = call(app, "GET", "/api/status", token).json()
    assert status["n_batches"] == 2
    assert status["latest_batch"] == "2024-w02"
    assert [g["metric"] for g in status["gates"]]
    assert status["open_adjudications"] > 0
    assert status["decided_items"] == 0
    assert len(status["trends"]["krippendorff_alpha"]) == 2
    batch = call(app, "GET", "/api/batches/2024-w01", token).json()
    assert batch["batch"]["name"] == "2024-w01"
    assert batch["metrics"]["krippendorff_alpha"]["ci95"][0] < 1
    assert batch["worst_items"]
    item = call(app, "GET", "/api/items/87", token).json()
    assert [x["annotator"] for x in item["batches"][0]["labels"]] == [
        "annotator1",
        "annotator2",
        "annotator3",
    ]
    assert item["text"] == "What sound does this make?"
    assert item["batches"][0]["consensus"] == {
        "label": "1",
        "confidence": pytest.approx(2 / 3),
        "tied": False,
        "votes": {"1": 2, "0": 1},
        "method": "majority",
    }


def test_every_page_renders_for_a_reader(app: Any, setup: dict[str, Any]) -> None:
    token = setup["tokens"]["main"]["reader"]
    for path in PAGES:
        response = call(app, "GET", path, token)
        assert response.status_code == 200, (path, response.text[:500])
        assert response.headers["content-type"].startswith("text/html")
        assert "script-src 'self'" in response.text  # the page's own CSP
    overview = call(app, "GET", "/", token).text
    assert "<svg" in overview  # control charts drawn as in the reports
    assert "Gates of 2024-w02" in overview
    queue = call(app, "GET", "/queue", token).text
    assert "queue.js" in queue and 'name="csrf-token"' in queue
    assert 'action="/queue/decide"' not in queue  # readers get no decide buttons


def test_auth_is_required_everywhere(app: Any, setup: dict[str, Any]) -> None:
    for path in API_ROUTES:
        for token in (None, "la_wrong", setup["tokens"]["hostile"]["writer"]):
            response = call(app, "GET", path, token)
            assert response.status_code == 401, (path, token)
            assert response.headers["www-authenticate"] == "Bearer"
            assert response.json()["error"] == "unauthorized"
    for path in PAGES:
        response = call(app, "GET", path)
        assert response.status_code == 303
        assert response.headers["location"] == f"/login?next={quote(path, safe='/')}"
    assert call(app, "GET", "/openapi.json").status_code == 200
    assert call(app, "GET", "/login").status_code == 200
    body = {"item": "87", "label": "1"}
    assert call(app, "POST", "/api/decisions", None, json=body).status_code == 401
    reader = setup["tokens"]["main"]["reader"]
    assert call(app, "POST", "/api/decisions", reader, json=body).status_code == 403


def test_writer_decides_and_figures_are_recomputed(own: tuple[Any, dict[str, str], Path]) -> None:
    app, tokens, root = own
    before = call(app, "GET", "/api/queue", tokens["reader"]).json()
    first, second = before["items"][:2]
    for entry, label in ((first, "2"), (second, "0")):
        response = call(
            app,
            "POST",
            "/api/decisions",
            tokens["writer"],
            json={"item": entry["item"], "label": label},
        )
        assert response.status_code == 201, response.text
        decided = response.json()
        assert decided["decided_by"] == "main-writer" and decided["revision"] == 1
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", decided["decided_at"])
    after = call(app, "GET", "/api/queue", tokens["reader"]).json()
    assert after["n_open"] == before["n_open"] - 2
    assert after["n_decided"] == 2
    status = call(app, "GET", "/api/status", tokens["reader"]).json()
    assert status["decided_items"] == 2
    # decided again: a second revision, still one decided item
    again = call(
        app, "POST", "/api/decisions", tokens["writer"], json={"item": first["item"], "label": "1"}
    )
    assert again.json()["revision"] == 2
    item = call(app, "GET", f"/api/items/{first['item']}", tokens["reader"]).json()
    assert [d["label"] for d in item["decisions"]] == ["2", "1"] and item["decision"] == "1"
    # the batch's stored figures: decisions kind, apart from gold
    batch = call(app, "GET", f"/api/batches/{first['batch']}", tokens["reader"]).json()
    figures = batch["decisions"]
    decided_here = [
        (e, d) for e, d in ((first, "1"), (second, "0")) if e["batch"] == first["batch"]
    ]
    expected: dict[str, list[int]] = {}
    for entry, label in decided_here:
        for c in entry["candidates"]:
            expected.setdefault(c["annotator"], [0, 0])
            expected[c["annotator"]][0] += 1
            expected[c["annotator"]][1] += c["label"] == label
    got = {name: [p["n"], p["agreed"]] for name, p in figures["annotators"].items()}
    assert got == expected
    assert figures["n_decided"] == len(decided_here)
    assert figures["open_adjudications"] == figures["n_queued"] - len(decided_here)
    with Project.load(root).open_store(read_only=True) as store:
        kinds = {r[0] for r in store.execute("SELECT DISTINCT kind FROM batch_metrics").fetchall()}
        gold = store.execute(
            "SELECT count(*) FROM batch_metrics WHERE kind = 'gold' AND metric = 'gold_answers' "
            "AND value > 0"
        ).fetchone()[0]
    assert "decisions" in kinds and gold == 2  # gold untouched
    exported = call(app, "GET", "/api/decisions?format=csv", tokens["reader"])
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["label"] for r in rows] == ["2", "0", "1"]
    assert exported.headers["content-disposition"].startswith("attachment")
    lines = call(app, "GET", "/api/decisions?format=jsonl", tokens["reader"]).text.splitlines()
    assert [json.loads(line)["item"] for line in lines] == [
        first["item"],
        second["item"],
        first["item"],
    ]


def test_bad_decisions_and_unknown_names(own: tuple[Any, dict[str, str], Path]) -> None:
    app, tokens, _ = own
    writer = tokens["writer"]
    assert (
        call(app, "POST", "/api/decisions", writer, json={"item": "87", "label": "9"}).status_code
        == 422
    )
    missing = call(app, "POST", "/api/decisions", writer, json={"item": "nope", "label": "1"})
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    assert call(app, "POST", "/api/decisions", writer, json={"item": 5}).status_code == 422
    for path in ("/api/batches/nope", "/api/annotators/nobody", "/api/items/none"):
        assert call(app, "GET", path, tokens["reader"]).status_code == 404
    page = call(app, "GET", "/batches/%3Cnope%3E", tokens["reader"])
    assert page.status_code == 404 and "&lt;nope&gt;" in page.text
    assert call(app, "GET", "/api/queue?sort=evil", tokens["reader"]).status_code == 422
    assert call(app, "GET", "/api/queue?limit=0", tokens["reader"]).status_code == 422


def test_queue_filters_and_sorts(app: Any, setup: dict[str, Any]) -> None:
    token = setup["tokens"]["main"]["reader"]
    every = call(app, "GET", "/api/queue?limit=500", token).json()["items"]
    ties = call(app, "GET", "/api/queue?reason=tie&limit=500", token).json()["items"]
    assert ties == [e for e in every if e["reason"] == "tie"]
    for bound in (0.5, 0.7):
        low = call(app, "GET", f"/api/queue?max_confidence={bound}&limit=500", token).json()
        assert low["items"] == [e for e in every if e["confidence"] <= bound]
    assert low["items"]
    by_conf = call(app, "GET", "/api/queue?sort=confidence&limit=500", token).json()["items"]
    values = [e["confidence"] for e in by_conf]
    assert values == sorted(values)
    batch = call(app, "GET", "/api/queue?batch=2024-w02&limit=500", token).json()["items"]
    assert batch and {e["batch"] for e in batch} == {"2024-w02"}
    mine = call(app, "GET", "/api/queue?annotator=annotator2&label=2&limit=500", token).json()
    assert all(
        any(c["annotator"] == "annotator2" for c in e["candidates"])
        and any(c["label"] == "2" for c in e["candidates"])
        for e in mine["items"]
    )
    page = call(app, "GET", "/api/queue?limit=3&offset=2", token).json()
    assert page["items"] == call(app, "GET", "/api/queue?limit=5", token).json()["items"][2:5]


def test_cookie_login_and_csrf(own: tuple[Any, dict[str, str], Path]) -> None:
    app, tokens, _ = own
    form = call(app, "GET", "/login?next=//evil.example/")
    login_csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)[1]
    assert 'name="next" value="/"' in form.text  # an off-site next is dropped
    cookie = form.cookies["labelaudit_login"]
    wrong = call(
        app,
        "POST",
        "/login",
        data={"token": tokens["writer"], "csrf": "forged", "next": "/queue"},
        cookies={"labelaudit_login": cookie},
    )
    assert wrong.status_code == 403
    bad = call(
        app,
        "POST",
        "/login",
        data={"token": "la_nope", "csrf": login_csrf},
        cookies={"labelaudit_login": cookie},
    )
    assert bad.status_code == 401
    done = call(
        app,
        "POST",
        "/login",
        data={"token": tokens["writer"], "csrf": login_csrf, "next": "/queue"},
        cookies={"labelaudit_login": cookie},
    )
    assert done.status_code == 303 and done.headers["location"] == "/queue"
    assert "httponly" in done.headers["set-cookie"].lower()
    assert "samesite=strict" in done.headers["set-cookie"].lower()
    session = {"labelaudit_token": tokens["writer"]}
    page = call(app, "GET", "/queue", cookies=session)
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text)[1]
    body = {"item": "87", "label": "1"}
    no_csrf = call(app, "POST", "/api/decisions", json=body, cookies=session)
    assert no_csrf.status_code == 403
    ok = call(
        app, "POST", "/api/decisions", json=body, cookies=session, headers={"X-CSRF-Token": csrf}
    )
    assert ok.status_code == 201
    form_post = call(
        app,
        "POST",
        "/queue/decide",
        data={"item": "87", "label": "2", "csrf": "x"},
        cookies=session,
    )
    assert form_post.status_code == 403
    form_ok = call(
        app,
        "POST",
        "/queue/decide",
        data={"item": "87", "label": "2", "csrf": csrf},
        cookies=session,
    )
    assert form_ok.status_code == 303
    out = call(app, "POST", "/logout", data={"csrf": csrf}, cookies=session)
    assert out.status_code == 303 and 'labelaudit_token=""' in out.headers["set-cookie"]


def test_hostile_content_is_escaped(setup: dict[str, Any]) -> None:
    app = create_app(setup["hostile"])
    token = setup["tokens"]["hostile"]["writer"]
    item_path = "/items/" + quote(HOSTILE_ITEM, safe="")
    for path in (
        "/",
        "/batches",
        "/batches/%3Cb%3Ebatch%3C%2Fb%3E",
        item_path,
        "/queue",
        "/annotators",
        "/annotators/" + quote(HOSTILE_ANNOTATOR, safe=""),
    ):
        page = call(app, "GET", path, token)
        assert page.status_code == 200, (path, page.text[:300])
        assert "<script>alert" not in page.text and "<img src=x" not in page.text
        assert "<b>batch</b>" not in page.text and "<i>hostile</i>" not in page.text
        scripts = re.findall(r"<script[^>]*>", page.text)
        allowed = {'<script src="/static/queue.js">', '<script src="/static/hover.js">'}
        assert set(scripts) <= allowed
    item = call(app, "GET", "/api/items/" + quote(HOSTILE_ITEM, safe=""), token).json()
    assert item["item"] == HOSTILE_ITEM
    decided = call(
        app, "POST", "/api/decisions", token, json={"item": "=cmd|' /C calc'!A0", "label": "1"}
    )
    assert decided.status_code == 201
    exported = call(app, "GET", "/api/decisions?format=csv", token).text
    assert "\n\"'=cmd|" in exported  # neutralised for spreadsheets


def test_spans_are_drawn_over_the_text(setup: dict[str, Any]) -> None:
    app = create_app(setup["hostile"])
    token = setup["tokens"]["hostile"]["reader"]
    data = call(app, "GET", f"/api/items/{SPAN_ITEM}", token).json()
    segments = data["batches"][0]["labels"][0]["segments"]
    assert [(s["text"], s["labels"]) for s in segments] == [
        ("Alice", ["PER"]),
        (" met Bob in ", []),
        ("Paris", ["LOC"]),
        (".", []),
    ]
    page = call(app, "GET", f"/items/{SPAN_ITEM}", token).text
    assert '<mark title="PER">Alice' in page and '<mark title="LOC">Paris' in page


def test_busy_store_answers_503(own: tuple[Any, dict[str, str], Path]) -> None:
    _, tokens, root = own
    app = create_app(root, retry_seconds=0.3)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, duckdb; c = duckdb.connect(sys.argv[1]); print('held', flush=True); "
            "sys.stdin.readline()",
            str(root / "labelaudit.duckdb"),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        busy = call(app, "GET", "/api/status", tokens["reader"])
        assert busy.status_code == 503 and busy.headers["retry-after"] == "1"
        assert busy.json()["error"] == "busy" and "busy" in busy.json()["detail"]
        page = call(app, "GET", "/batches", tokens["reader"])
        assert page.status_code == 503
    finally:
        holder.communicate("\n", timeout=30)
    assert call(app, "GET", "/api/status", tokens["reader"]).status_code == 200


def test_loopback_rule() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert is_loopback("127.5.6.7") and is_loopback("[::1]")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4") and not is_loopback("::")
