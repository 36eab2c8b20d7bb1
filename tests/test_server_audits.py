"""Preference and judge audits stored in the project (``--project``) and served: the JSON
twin is the stored document, the page is drawn by the command's own report builder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from server_helpers import call, make_project

pytest.importorskip("fastapi")

from labelaudit.cli.app import app as cli
from labelaudit.project.layout import Project
from labelaudit.server import create_app

DATA = Path(__file__).parent / "data"
runner = CliRunner()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    setup = make_project(tmp_path_factory.mktemp("audits"))
    root = setup["root"]
    preferences = ["preferences", str(DATA / "preferences" / "llmbar"), "--from", "llmbar"]
    judge = ["judge", "audit", str(DATA / "judge" / "llmbar_natural_verdicts.jsonl")]
    judge += ["--gold", str(DATA / "judge" / "llmbar_natural_gold.jsonl")]
    documents = {}
    for kind, args, audit_id in (("preferences", preferences, 1), ("judge", judge, 2)):
        for _ in range(2):  # stored twice: one audit
            done = runner.invoke(
                cli, [*args, "--n-boot", "20", "--format", "json", "--project", str(root)]
            )
            assert done.exit_code == 0, done.output
        documents[kind] = json.loads(done.stdout)
        assert f"stored {kind} audit {audit_id} in {root}" in done.stderr
    return setup | {"documents": documents, "app": create_app(root)}


def test_audits_are_listed_and_served_as_stored(served: dict[str, Any]) -> None:
    app, reader = served["app"], served["tokens"]["main"]["reader"]
    listed = call(app, "GET", "/api/audits", reader).json()
    assert [a["audit_id"] for a in listed["preferences"]] == [1]
    assert [a["name"] for a in listed["judge"]] == ["llmbar_natural_verdicts.jsonl"]
    for (kind, document), audit_id in zip(served["documents"].items(), (1, 2), strict=True):
        answer = call(app, "GET", f"/api/audits/{kind}/{audit_id}", reader).json()
        assert answer["audit"]["kind"] == kind
        assert answer["result"] == document
        page = call(app, "GET", f"/audits/{kind}/{audit_id}", reader)
        assert page.status_code == 200 and "<table" in page.text
    assert call(app, "GET", "/api/audits/judge/1", reader).status_code == 404
    page = call(app, "GET", "/audits", reader)
    assert page.status_code == 200 and 'href="/audits/judge/2"' in page.text
    schema = call(app, "GET", "/openapi.json").json()["paths"]
    assert "/api/audits" in schema and "/api/audits/{kind}/{audit_id}" in schema


def test_audit_routes_refuse_bad_requests(served: dict[str, Any]) -> None:
    app, reader = served["app"], served["tokens"]["main"]["reader"]
    assert call(app, "GET", "/api/audits").status_code == 401
    assert call(app, "GET", "/audits", follow_redirects=False).status_code == 303
    assert call(app, "GET", "/api/audits/judge/99", reader).status_code == 404
    assert call(app, "GET", "/audits/judge/99", reader).status_code == 404
    assert call(app, "GET", "/api/audits/other/1", reader).status_code == 422
    assert call(app, "GET", "/api/audits/judge/x", reader).status_code == 422


def test_a_new_audit_is_seen_without_a_restart(served: dict[str, Any], tmp_path: Path) -> None:
    app, reader = served["app"], served["tokens"]["main"]["reader"]
    assert len(call(app, "GET", "/api/audits", reader).json()["preferences"]) == 1
    from labelaudit.project.audits import store_audit

    document = served["documents"]["preferences"] | {"note": "<b>changed</b>"}
    assert store_audit(Project.load(served["root"]), "preferences", document, name="x.csv") == 3
    listed = call(app, "GET", "/api/audits", reader).json()["preferences"]
    assert [a["audit_id"] for a in listed] == [3, 1]
    page = call(app, "GET", "/audits", reader).text
    assert "x.csv" in page
