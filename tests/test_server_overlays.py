"""Hover values on the overview's charts and boxes drawn over an item's image: escaped
data, only http(s) or data: images, the image's origin allowed by the page's CSP; in
Chromium the tooltip shows the value."""

from __future__ import annotations

import base64
import csv
import json
import re
from typing import Any
from urllib.parse import quote

import pytest

from server_helpers import HOSTILE_ANNOTATOR, call, live_server

pytest.importorskip("fastapi")

from labelaudit.project.ingest import ingest_batch
from labelaudit.project.layout import Project, init_project
from labelaudit.project.tokens import create_token
from labelaudit.server import create_app
from labelaudit.server.overlays import boxes, hover_points, image_origin, image_url

# a 4x4 PNG (one colour), as a data: URI
PNG = (
    "data:image/png;base64,"
    + base64.b64encode(
        bytes.fromhex(
            "89504e470d0a1a0a0000000d4948445200000004000000040802000000269309290000"
            "001549444154789c63f8cfc0f09f81e13f03c37f06000b2f02fe2f8e1b560000000049454e44ae426082"
        )
    ).decode()
)
BOX_A = json.dumps([{"x": 10, "y": 10, "width": 30, "height": 40, "label": "<car>"}])
BOX_B = json.dumps([{"x": 12, "y": 8, "width": 28, "height": 44, "label": "car"}])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("overlays")
    rows = [
        ("photo-1", "annotator1", BOX_A, PNG),
        ("photo-1", HOSTILE_ANNOTATOR, BOX_B, PNG),
        ("photo-2", "annotator1", BOX_A, "javascript:alert(1)"),
        ("photo-2", "annotator2", BOX_B, "javascript:alert(1)"),
        ("photo-3", "annotator1", BOX_A, "https://images.example.org/a.png"),
    ]
    path = root / "boxes.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["item", "annotator", "label", "image"])
        writer.writerows(rows)
    project = init_project(root / "project", name="boxes")
    ingest_batch(Project.load(project.root), path, batch="boxes-1")
    with project.open_store() as store:
        token = create_token(store, role="reader", name="viewer")
    return {"app": create_app(project.root), "token": token}


def test_box_labels_are_drawn_over_the_image(served: dict[str, Any]) -> None:
    app, token = served["app"], served["token"]
    data = call(app, "GET", "/api/items/photo-1", token).json()
    assert data["image"] == PNG
    drawn = {row["annotator"]: row["boxes"] for row in data["batches"][0]["labels"]}
    assert drawn["annotator1"] == {
        "unit": "percent",
        "boxes": [{"x": 10.0, "y": 10.0, "width": 30.0, "height": 40.0, "label": "<car>"}],
    }
    page = call(app, "GET", "/items/photo-1", token).text
    assert page.count('<figure class="boxes">') == 2 and page.count("<rect ") == 2
    assert "&lt;car&gt;" in page and "<car>" not in page
    assert '"><img src=x' not in page  # the hostile annotator's name is escaped
    assert "img-src data:;" in page  # a data: image needs no other source
    hostile = call(app, "GET", "/items/photo-2", token)
    assert hostile.status_code == 200
    assert "javascript:" not in hostile.text and 'class="boxes"' not in hostile.text
    remote = call(app, "GET", "/items/photo-3", token).text
    assert "img-src data: https://images.example.org;" in remote


def test_overlay_helpers() -> None:
    assert image_url({"image": " https://x.org/a.png "}) == "https://x.org/a.png"
    assert image_url({"image": "javascript:alert(1)", "url": "ftp://x"}) is None
    assert image_origin("https://x.org:8443/a?b") == "https://x.org:8443"
    assert image_origin("https://x.org;script-src *") is None
    assert image_origin(PNG) is None
    assert boxes('[{"x": 0, "y": 0, "width": 150, "height": 20, "label": "a"}]')["unit"] == "pixels"  # type: ignore[index]
    assert boxes('[{"x": "1", "y": 0, "width": 1, "height": 1}]') is None
    assert boxes("car") is None and boxes("[]") is None
    svg = '<g id="s">\n<g><use x="1"/>\n<use x="2"/>\n</g></g><use x="9"/>'
    marked = hover_points(svg, "s", ["a&b", "c", "d"], [0.5, None, 0.25])
    assert marked.count("data-hover") == 2 and 'data-hover="a&amp;b: 0.5"' in marked
    assert marked.endswith('<use x="9"/>')  # only the series' markers
    assert hover_points(svg, "s", ["a"], [1.0]) == svg  # counts disagree: unchanged
    assert re.search(r"<title>d: 0\.25</title>", marked)


@pytest.mark.browser
def test_box_hover_in_chromium(served: dict[str, Any], browser: Any) -> None:
    from playwright.sync_api import expect

    with live_server(served["app"]) as base:
        context = browser.new_context(viewport={"width": 1000, "height": 800})
        context.add_cookies([{"name": "labelaudit_token", "value": served["token"], "url": base}])
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        try:
            page.goto(f"{base}/items/{quote('photo-1')}", wait_until="load")
            assert page.locator("figure.boxes img").first.evaluate("i => i.naturalWidth") == 4
            rects = page.locator("figure.boxes rect")
            rects.nth(0).hover()  # annotators in name order: the hostile name first, as text
            expect(page.locator(".hover-tip")).to_have_text(f"{HOSTILE_ANNOTATOR}: car")
            rects.nth(1).hover()
            expect(page.locator(".hover-tip")).to_have_text("annotator1: <car>")
        finally:
            context.close()
    assert not errors
