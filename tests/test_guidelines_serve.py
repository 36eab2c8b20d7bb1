"""The guideline pages of labelaudit serve, in process (the Chromium test, which takes the
screenshots of docs/guidelines.md, is tests/test_server_browser_guidelines.py)."""

from __future__ import annotations

from typing import Any

import pytest

from guidelines_helpers import example_project
from server_helpers import call

pytest.importorskip("fastapi")

from labelaudit.server import create_app


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
