"""Annotator groups in the weekly report and on the dashboard: a project with a
``[fairness]`` section (real DuckDB store, real ingest), its report section, ``/api/fairness``
and ``/fairness`` in process, over a real uvicorn and in headless Chromium."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from server_helpers import call, live_server
from test_pipeline_fairness import _GATE, _batch

pytest.importorskip("fastapi")

from labelaudit.pipeline_report import Scope, build_pipeline_report, render_pipeline_html
from labelaudit.project import Project, ingest_batch, init_project
from labelaudit.project.tokens import create_token
from labelaudit.server import create_app


@pytest.fixture(scope="module")
def grouped(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("groups")
    project = init_project(folder / "p", level="interval")
    project.config_path.write_text(project.config_path.read_text() + _GATE)
    project = Project.load(project.root)
    ingest_batch(project, _batch(folder, "w1", 0.0, 1), batch="w1")
    ingest_batch(project, _batch(folder, "w2", 1.5, 2), batch="w2")
    with project.open_store() as store:
        token = create_token(store, role="reader", name="lead")
        gaps = dict(
            store.execute(
                "SELECT b.name, m.value FROM batch_metrics m JOIN batches b USING (batch_id) "
                "WHERE m.kind = 'fairness' AND m.metric = 'max_group_gap'"
            ).fetchall()
        )
    return {"project": project, "token": token, "gaps": gaps}


def test_weekly_report_has_the_group_section(grouped: dict[str, Any]) -> None:
    report = build_pipeline_report(grouped["project"], Scope(mode="all"))
    found = report["fairness"]
    assert found["batch"] == "w2" and found["by"] == ["vendor"]
    assert {g["batch"]: g["value"] for g in found["max_group_gap"]} == grouped["gaps"]
    assert {o["group"] for o in found["offsets"]} == {"acme", "zeta"}
    html = render_pipeline_html(report)
    assert "Annotator groups (vendor)" in html and "Largest cross-group offset gap" in html
    assert "zeta" in html


@pytest.mark.browser
def test_dashboard_fairness_page_and_api(grouped: dict[str, Any], browser: Any) -> None:
    from playwright.sync_api import expect

    app, token = create_app(grouped["project"].root), grouped["token"]
    data = call(app, "GET", "/api/fairness", token).json()["fairness"]
    assert data == build_pipeline_report(grouped["project"], Scope(mode="all"))["fairness"]
    assert call(app, "GET", "/api/fairness").status_code == 401
    with live_server(app) as base:
        context = browser.new_context()
        context.add_cookies([{"name": "labelaudit_token", "value": token, "url": base}])
        page = context.new_page()
        try:
            page.goto(f"{base}/fairness", wait_until="load")
            expect(page.locator("h1")).to_have_text("Annotator groups")
            gap = f"{grouped['gaps']['w2']:.3g}"
            assert f"largest cross-group offset gap {gap}" in page.locator("#headline").inner_text()
            assert page.locator("table").count() >= 4
            assert "zeta" in page.locator("main").inner_text()
            page.click("nav.site a[href='/fairness']")
            expect(page.locator("h1")).to_have_text("Annotator groups")
        finally:
            context.close()


def test_without_groups_the_page_says_how(tmp_path: Path) -> None:
    project = init_project(tmp_path / "plain", categories=("a", "b"))
    csv = tmp_path / "b.csv"
    csv.write_text("item,annotator,label\n1,x,a\n1,y,b\n2,x,a\n2,y,a\n", encoding="utf-8")
    ingest_batch(project, csv, batch="b1")
    with project.open_store() as store:
        token = create_token(store, role="reader")
    app = create_app(project.root)
    assert call(app, "GET", "/api/fairness", token).json() == {"fairness": None}
    page = call(app, "GET", "/fairness", token)
    assert page.status_code == 200 and "No group figures stored" in page.text
    assert build_pipeline_report(project, Scope(mode="all"))["fairness"] is None
