"""The guideline pages of labelaudit serve (in process) and in a real Chromium, which also
takes the screenshots of docs/guidelines.md (``LABELAUDIT_UPDATE_SCREENSHOTS=1``)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from guidelines_helpers import example_project
from server_helpers import call, live_server

pytest.importorskip("fastapi")

from labelaudit.server import create_app

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return example_project(tmp_path_factory.mktemp("guidelines") / "project")


def test_guidelines_page_and_twin(example: dict[str, Any]) -> None:
    app, token = create_app(example["root"]), example["token"]
    data = call(app, "GET", "/api/guidelines", token).json()
    assert [v["version"] for v in data["versions"]] == ["v1", "v2"]
    assert data["comparisons"] == [{"before": "v1", "after": "v2"}]
    assert [r["section"] for r in data["rules"]["rules"]] == ["pref.better.2", "pref.tie.2"]
    assert {r["annotator"] for r in data["calibration"]} == {
        "annotator1",
        "annotator2",
        "annotator3",
    }
    page = call(app, "GET", "/guidelines", token)
    assert page.status_code == 200
    assert "Rules most often disagreed on" in page.text
    assert "/guidelines/compare?before=v1&amp;after=v2" in page.text
    compare = call(app, "GET", "/api/guidelines/compare?before=v1&after=v2", token).json()
    assert compare["verdict"] == "helped"
    assert compare["periods"]["v1"]["batches"] == ["2024-w01", "2024-w02", "2024-w03"]
    html = call(app, "GET", "/guidelines/compare?before=v1&after=v2", token).text
    assert "The revision helped" in html
    missing = call(app, "GET", "/api/guidelines/compare?before=v9&after=v2", token)
    assert missing.status_code == 422
    assert "no batch labelled under guideline version 'v9'" in missing.json()["detail"]
    assert call(app, "GET", "/api/guidelines").status_code == 401


def test_annotator_page_shows_calibration_trend(example: dict[str, Any]) -> None:
    app, token = create_app(example["root"]), example["token"]
    data = call(app, "GET", "/api/annotators/annotator3", token).json()
    assert [r["round"] for r in data["calibration"]] == ["round-1"]
    page = call(app, "GET", "/annotators/annotator3", token).text
    assert 'id="calibration"' in page and "Accuracy against the expert in round-1" in page


@pytest.mark.browser
def test_feedback_sheet_and_compare_view_in_chromium(
    browser: Any, example: dict[str, Any], tmp_path: Path
) -> None:
    from test_report_browser import PageLog

    shots = {}
    with live_server(create_app(example["root"])) as base:
        context = browser.new_context(viewport={"width": 1200, "height": 900})
        page = context.new_page()
        log = PageLog()
        log.attach(page)
        try:
            page.goto(f"{base}/login?next=/guidelines", wait_until="load")
            page.fill("#token", example["token"])
            page.click("#login")
            page.wait_for_url(f"{base}/guidelines")
            assert page.locator("h1").inner_text() == "Guidelines"
            page.click("text=compare")
            page.wait_for_url(f"{base}/guidelines/compare?before=v1&after=v2")
            assert page.locator("h1").inner_text() == "Guideline revision v1 → v2"
            assert "The revision helped" in page.locator("#headline").inner_text()
            shots["guidelines-compare.png"] = tmp_path / "compare.png"
            page.screenshot(path=str(shots["guidelines-compare.png"]), full_page=False)
            sheet = example["root"] / "feedback" / "annotator3.html"
            page.goto(sheet.as_uri(), wait_until="load")
            assert page.locator("h1").inner_text() == "Calibration feedback: annotator3 (round-1)"
            assert page.locator("#misses-table tbody tr").count() == len(
                [m for m in example["score"]["misses"] if m["annotator"] == "annotator3"]
            )
            shots["guidelines-feedback.png"] = tmp_path / "feedback.png"
            page.screenshot(path=str(shots["guidelines-feedback.png"]), full_page=False)
        finally:
            context.close()
    assert not (log.dialogs or log.console_errors or log.page_errors or log.failed_requests)
    if os.environ.get("LABELAUDIT_UPDATE_SCREENSHOTS") == "1":
        for name, path in shots.items():
            shutil.copyfile(path, ROOT / "docs" / "images" / name)
