"""The guideline pages in a real Chromium against a real uvicorn on 127.0.0.1: the compare
view and a feedback sheet. With ``LABELAUDIT_UPDATE_SCREENSHOTS=1`` their screenshots are
written to ``docs/images/guidelines-compare.png`` and ``guidelines-feedback.png``
(docs/guidelines.md).

Named to run after the judge tests: the session-wide Playwright browser keeps an event loop
in the main thread once started.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from guidelines_helpers import example_project
from server_helpers import live_server

pytest.importorskip("uvicorn")

from labelaudit.server import create_app

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return example_project(tmp_path_factory.mktemp("guidelines-browser") / "project")


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
