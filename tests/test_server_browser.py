"""labelaudit serve in a real headless Chromium against a real uvicorn on 127.0.0.1: log in,
open every page, decide two adjudications with the keyboard and see them counted.

Uses the one session-wide Playwright browser of ``conftest.py``. With
``LABELAUDIT_UPDATE_SCREENSHOTS=1`` the overview screenshot is also written to
``docs/images/serve-overview.png`` (the picture in the README).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from server_helpers import copy_project, live_server, make_project
from test_report_browser import PageLog

pytest.importorskip("uvicorn")

from labelaudit.project import Project, ingest_batch
from labelaudit.server import create_app

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[1]
PAGES = {
    "/batches": "Batches",
    "/batches/2024-w02": "Batch 2024-w02",
    "/annotators": "Annotators",
    "/annotators/annotator3": "Annotator annotator3",
    "/items/87": "Item 87",
    "/decisions": "Expert decisions",
}


def _count(page: Any, label: str) -> str:
    return str(page.locator(f"dl.facts dt:text-is('{label}') + dd").inner_text())


def test_pages_and_keyboard_adjudication(
    browser: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from playwright.sync_api import expect

    base_dir = tmp_path_factory.mktemp("browser")
    setup = make_project(base_dir)
    root = copy_project(setup["root"], base_dir / "served")
    name, path = setup["later"]  # the degraded week: a failing gate, an annotator to watch
    ingest_batch(Project.load(root), path, batch=name)
    writer = setup["tokens"]["main"]["writer"]
    shots = tmp_path_factory.mktemp("serve-shots")
    with live_server(create_app(root)) as base:
        context = browser.new_context(viewport={"width": 1200, "height": 900})
        page = context.new_page()
        log = PageLog()
        log.attach(page)
        try:
            page.goto(f"{base}/", wait_until="load")
            assert page.url.startswith(f"{base}/login")
            page.fill("#token", writer)
            page.click("#login")
            page.wait_for_url(f"{base}/")
            assert page.locator("h1").inner_text() == "server-test: overview"
            assert "Latest batch 2024-w03: a gate failed" in page.locator("#headline").inner_text()
            assert page.locator("figure.chart svg").count() == 2  # agreement and gold charts
            point = page.locator("figure.chart svg use[data-hover]").first
            point.hover()
            expect(page.locator(".hover-tip")).to_be_visible()
            assert page.locator(".hover-tip").inner_text().startswith("2024-w01: ")
            open_before = int(_count(page, "open adjudications").replace(",", ""))
            assert _count(page, "decided items (expert decisions)") == "0"
            page.screenshot(path=str(shots / "serve-overview.png"), full_page=False)
            for path, title in PAGES.items():
                page.goto(f"{base}{path}", wait_until="load")
                assert page.locator("h1").inner_text() == title, path
            page.goto(f"{base}/queue", wait_until="load")
            rows = page.locator(".queue-entry")
            assert rows.nth(0).get_attribute("class") == "queue-entry selected"
            first = rows.nth(0).get_attribute("data-item")
            second = rows.nth(1).get_attribute("data-item")
            page.keyboard.press("2")  # first item: the second label ("1")
            expect(page.locator("#n-decided")).to_have_text("1")
            page.keyboard.press("3")  # the next item is selected now: third label ("2")
            expect(page.locator("#n-decided")).to_have_text("2")
            assert "decided: 1" in rows.nth(0).inner_text()
            assert "decided: 2" in rows.nth(1).inner_text()
            page.goto(f"{base}/", wait_until="load")
            assert _count(page, "decided items (expert decisions)") == "2"
            assert int(_count(page, "open adjudications").replace(",", "")) == open_before - 2
            page.goto(f"{base}/decisions", wait_until="load")
            text = page.locator("main").inner_text()
            assert first in text and second in text and "main-writer" in text
        finally:
            context.close()
    assert not (log.dialogs or log.console_errors or log.page_errors or log.failed_requests)
    assert all(url.startswith(base) for url in log.requests)  # nothing from elsewhere
    if os.environ.get("LABELAUDIT_UPDATE_SCREENSHOTS") == "1":
        target = ROOT / "docs" / "images" / "serve-overview.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shots / "serve-overview.png", target)
