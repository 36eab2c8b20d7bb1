"""The HTML report in a real headless Chromium (Debian's, driven by Playwright).

Skipped when no Chromium can be found or installed (see ``tests/browser.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from labelaudit.datasets import dataset_path
from labelaudit.report import write_reports
from labelaudit.report.builders import build_document
from labelaudit.report.document import render_document
from labelaudit.table import read_annotations
from ls_harness import ADMIN, LabelStudio
from ls_seed import NER_CONFIG
from test_document import HOSTILE, all_results, wide_document
from test_report import SCRIPT, hostile_report, interval_report

pytestmark = pytest.mark.browser

EXPECTED_METRICS = [
    "Percent agreement",
    "Krippendorff's α",
    "Fleiss' κ",
    "Gwet's AC1",
    "Conger's κ",
    "Brennan–Prediger",
]


class PageLog:
    """Everything a page did that a self-contained, script-free report must not do."""

    def __init__(self) -> None:
        self.dialogs: list[str] = []
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.failed_requests: list[str] = []
        self.requests: list[str] = []

    def attach(self, page: Any) -> None:
        page.on("dialog", self._on_dialog)
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        page.on("requestfailed", lambda request: self.failed_requests.append(request.url))
        page.on("request", lambda request: self.requests.append(request.url))

    def _on_dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _on_console(self, message: Any) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)


@pytest.fixture
def report_page(
    browser: Any,
    tmp_path: Path,
) -> Iterator[tuple[Any, PageLog, Path]]:
    """The hostile three-annotator report opened in a fresh page, with its event log."""
    report = hostile_report()
    report["input"]["source"] = "testset-v1.json"
    paths = write_reports(report, tmp_path, stem="hostile")
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    log = PageLog()
    log.attach(page)
    page.goto(paths["html"].as_uri(), wait_until="load")
    try:
        yield page, log, paths["html"]
    finally:
        context.close()


def test_page_renders_tables_and_charts(
    report_page: tuple[Any, PageLog, Path], tmp_path_factory: pytest.TempPathFactory
) -> None:
    page, log, html_path = report_page
    assert page.title() == "Agreement report: testset-v1.json"
    names = page.locator("#metrics-table tbody tr td:first-child").all_inner_texts()
    assert names == EXPECTED_METRICS
    assert page.locator("#metrics-table tbody tr").nth(2).inner_text().split("\t")[:3] == [
        "Fleiss' κ",
        "0.857",
        "[0.835, 0.879]",
    ]
    charts = page.locator("figure.chart svg")
    assert charts.count() == 3
    for index in range(3):
        box = charts.nth(index).bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 50
    shots = tmp_path_factory.mktemp("screenshots")
    page.screenshot(path=str(shots / "report-desktop.png"), full_page=True)
    assert (shots / "report-desktop.png").stat().st_size > 10_000
    assert log.requests == [html_path.as_uri()]
    assert not (log.dialogs or log.console_errors or log.page_errors or log.failed_requests)


def test_hostile_content_is_inert_text(report_page: tuple[Any, PageLog, Path]) -> None:
    page, log, _ = report_page
    page.wait_for_timeout(300)  # give any injected handler (there must be none) time to fire
    assert log.dialogs == []
    assert page.evaluate("document.querySelectorAll('script, img, iframe, object').length") == 0
    pairwise = page.locator("#pairwise-table").inner_text()
    assert SCRIPT in pairwise
    assert '"><img src=x onerror=alert(1)>' in pairwise
    assert "[bold]loud[/bold]" in page.locator("#per-category-table").inner_text()
    heatmap_text = page.locator("#chart-pairwise svg").text_content()
    assert heatmap_text is not None and SCRIPT in heatmap_text
    assert not (log.console_errors or log.page_errors or log.failed_requests)


def test_mobile_layout_has_no_page_overflow(
    browser: Any,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    paths = write_reports(interval_report(), tmp_path)
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    try:
        page = context.new_page()
        page.goto(paths["html"].as_uri(), wait_until="load")
        assert page.locator("#icc-table tbody tr").count() == 6
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
        for svg in page.locator("figure.chart svg").all():
            box = svg.bounding_box()
            assert box is not None and 0 < box["width"] <= 390
        shots = tmp_path_factory.mktemp("screenshots")
        page.screenshot(path=str(shots / "report-mobile.png"), full_page=True)
    finally:
        context.close()


# ------------------------------------------- document pages (labelaudit.report.document)
def test_document_pages_in_chromium(tmp_path: Path, browser: Any) -> None:
    pages = [render_document(wide_document(), "html")]
    pages += [
        render_document(build_document(r), "html")
        for r in all_results(read_annotations(dataset_path("bluebirds")))
    ]
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        for index, html in enumerate(pages):
            path = tmp_path / f"page{index}.html"
            path.write_text(html, encoding="utf-8")
            page.goto(path.as_uri())
            box = page.locator("#headline").bounding_box()
            assert box is not None and box["y"] + box["height"] <= 800  # visible unscrolled
            widest = page.evaluate(
                "Math.max(...[...document.querySelectorAll('body *')]"
                ".map(e => e.getBoundingClientRect().right))"
            )
            assert widest <= 1280, (index, widest)
            assert page.evaluate("document.querySelectorAll('script').length") == 0
        page.goto((tmp_path / "page0.html").as_uri())
        body = page.inner_text("body")
        for hostile in HOSTILE:
            assert hostile in body  # shown as text, not run
        assert "49" not in body.split("{{7*7}}")[0][-3:]
    finally:
        context.close()


def test_preference_page_charts_in_chromium(
    browser: Any,
    tmp_path: Path,
) -> None:
    """The preference audit page of the bundled PandaLM votes: three charts, each with its
    axis titles, inside a 1280 px viewport, with no script run and no request made."""
    from labelaudit.datasets import dataset_path
    from labelaudit.preferences import audit_preferences, read_preferences

    table = read_preferences(dataset_path("pandalm"), format="pandalm")
    path = tmp_path / "audit.html"
    path.write_text(audit_preferences(table, n_boot=50)._repr_html_(), encoding="utf-8")
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        log = PageLog()
        log.attach(page)
        page.goto(path.as_uri(), wait_until="load")
        titles = {
            "position-bias": ("first slot won", "annotator or judge"),
            "length-bias": ("length difference", "P(longer response preferred)"),
            "bradley-terry": ("rating (Elo scale", "model"),
        }
        for key, (x_title, y_title) in titles.items():
            svg = page.locator(f"#chart-{key} svg")
            assert svg.count() == 1
            box = svg.bounding_box()
            assert box is not None and 200 < box["width"] <= 1280 and box["height"] > 100
            words = svg.text_content() or ""
            assert x_title in words and y_title in words
        assert log.requests == [path.as_uri()]
        assert not (log.dialogs or log.console_errors or log.page_errors)
    finally:
        context.close()


# ------------------------------------------- every analysis page (labelaudit CLI --format html)
AXIS_TITLES = """[...document.querySelectorAll('figure.chart svg')].flatMap(svg =>
  [...svg.querySelectorAll('g[id^="axes_"]')].flatMap(ax =>
    [...ax.querySelectorAll(':scope > g[id^="matplotlib.axis_"]')]
      .filter(axis => axis.querySelector('g[id^="xtick_"] text, g[id^="ytick_"] text'))
      .map(axis => [...axis.querySelectorAll(':scope > g[id^="text_"]')]
        .map(t => t.textContent.trim()).filter(Boolean).join(' / '))))"""


def test_every_analysis_page_in_chromium(browser: Any, tmp_path: Path) -> None:
    """Each analysis command's HTML page at 1280x800: the headline is visible without
    scrolling, nothing is wider than the viewport, every chart axis with tick labels has a
    title, hostile names are shown as text, and the page runs no script and loads nothing."""
    from typer.testing import CliRunner

    from analysis_pages import HOSTILE as NAMES
    from analysis_pages import analysis_commands
    from labelaudit.cli.app import app

    runner = CliRunner()
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        for name, args in analysis_commands(tmp_path).items():
            result = runner.invoke(app, [*args, "--format", "html"])
            assert result.exit_code == 0, (name, result.output)
            path = tmp_path / f"{name}.html"
            path.write_text(result.stdout, encoding="utf-8")
            page, log = context.new_page(), PageLog()
            log.attach(page)
            page.goto(path.as_uri(), wait_until="load")
            box = page.locator("#headline").bounding_box()
            assert box is not None and box["y"] + box["height"] <= 800, name
            assert page.evaluate("document.documentElement.scrollWidth") <= 1280, name
            widest = page.evaluate(
                "Math.max(...[...document.querySelectorAll('body *')]"
                ".map(e => e.getBoundingClientRect().right))"
            )
            assert widest <= 1280, (name, widest)
            titles = page.evaluate(AXIS_TITLES)
            assert all(titles), (name, titles)
            body = page.evaluate("document.body.textContent")  # closed <details> included
            if name not in ("pilot", "judge", "consensus"):  # real data; consensus names nobody
                shown = [n for n in NAMES if n in body]
                assert shown == NAMES, (name, shown)
                assert "{{7*7}}" in body  # shown, never evaluated as a template
            assert page.evaluate("document.querySelectorAll('script').length") == 0, name
            assert log.requests == [path.as_uri()], name
            assert not (log.dialogs or log.page_errors or log.console_errors), name
            page.close()
    finally:
        context.close()


# ------------------------------------- project pages: weekly report, check, status, ingest
#: Axis titles of every chart of the weekly report, by chart key.
PIPELINE_AXES = {
    "agreement": ("batch (in ingest order)", "per batch"),
    "gold": ("batch (in ingest order)", "gold error rate"),
    "confusions": ("annotator A label", "annotator B label"),
    "review": ("share of wrong annotations in the batch", "probability of accepting the batch"),
}


@pytest.fixture(scope="module")
def project_pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The weekly report and the check, status and ingest pages of a project whose batch,
    annotator and label names are hostile (``<script>``, quotes, ``{{7*7}}``)."""
    from typer.testing import CliRunner

    from labelaudit.cli.app import app
    from labelaudit.pipeline_report import Scope, build_pipeline_report, write_pipeline_report
    from test_project_pages import hostile_project

    folder = tmp_path_factory.mktemp("project-pages")
    project = hostile_project(folder)
    report = build_pipeline_report(project, Scope(mode="all"))
    pages = {"report": write_pipeline_report(report, folder / "report.html")}
    runner = CliRunner()
    root = ["--project", str(project.root), "--format", "html"]
    for name, args in (
        ("check", ["check"]),
        ("status", ["status"]),
        ("ingest", ["ingest", str(folder / "w1.csv"), "--batch", "again"]),
    ):
        pages[name] = folder / f"{name}.html"
        result = runner.invoke(app, [*args, *root, "--out", str(pages[name])])
        assert result.exit_code in (0, 1), result.output
    return pages


@pytest.mark.parametrize("width", [1280, 1400])
@pytest.mark.parametrize("name", ["report", "check", "status", "ingest"])
def test_project_pages_in_chromium(
    project_pages: dict[str, Path],
    browser: Any,
    name: str,
    width: int,
) -> None:
    """Headline visible unscrolled at 1280x800; nothing wider than the viewport (per-row
    expansions opened); hostile names shown as text; no script, dialog or request."""
    from test_project_pages import ANNOTATORS, HOSTILE

    path = project_pages[name]
    context = browser.new_context(viewport={"width": width, "height": 800})
    try:
        page = context.new_page()
        log = PageLog()
        log.attach(page)
        page.goto(path.as_uri(), wait_until="load")
        box = page.locator("#headline").bounding_box()
        assert box is not None and box["y"] + box["height"] <= 800
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        widest = page.evaluate(
            "Math.max(...[...document.querySelectorAll('body *')]"
            ".map(e => e.getBoundingClientRect().right))"
        )
        assert widest <= width, (name, widest)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert page.evaluate("document.querySelectorAll('script, img, iframe').length") == 0
        body = page.inner_text("body")
        batches = [f'{{{{7*7}}}} "w{week}" <script>' for week in range(1, 5)]
        shown = {
            "report": [*HOSTILE, *batches],
            "check": batches[-1:],
            "status": batches,
            "ingest": batches[:1],
        }[name]
        for hostile in shown:  # shown as text: not run, not rendered as a template
            assert hostile in body, hostile
        if name == "report":
            for annotator in ANNOTATORS:
                assert annotator in page.inner_text("#annotators-table")
        assert log.requests == [path.as_uri()]
        assert not (log.dialogs or log.console_errors or log.page_errors)
    finally:
        context.close()


def test_weekly_report_charts_have_axis_titles(
    project_pages: dict[str, Path],
    browser: Any,
) -> None:
    """Every chart of the weekly report (control chart, heat map, OC curve) carries both
    axis titles, fits the page, and shows hostile labels as text."""
    from test_project_pages import HOSTILE

    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        page.goto(project_pages["report"].as_uri(), wait_until="load")
        keys = [
            key.removeprefix("chart-")
            for key in page.eval_on_selector_all("figure.chart", "fs => fs.map(f => f.id)")
        ]
        assert set(keys) == {"agreement", "confusions", "review"}  # no gold answers here
        for key in keys:
            svg = page.locator(f"#chart-{key} svg")
            words = " ".join((svg.text_content() or "").split())
            x_title, y_title = PIPELINE_AXES[key]
            assert x_title in words and y_title in words, key
            chart = svg.bounding_box()
            assert chart is not None and 200 < chart["width"] <= 1280
        heat = " ".join((page.locator("#chart-confusions svg").text_content() or "").split())
        assert f"{HOSTILE[0]} (means {HOSTILE[0]})" in heat  # meaning beside the code
        assert "Phase II:" in (page.locator("#chart-agreement svg").text_content() or "")
    finally:
        context.close()


# ------------------------------------------------------------- Label Studio's span offsets
# Which unit Label Studio 1.23.2's editor counts span offsets in, checked here (one
# Playwright session for every browser test). A person's selection is reproduced with the
# mouse: log in, open the task, pick the LOC label, drag over "Houston" in a text that
# starts with an emoji (2 UTF-16 code units), submit, read the annotation back through the
# API. Code-point offsets give (14, 21); UTF-16 offsets would give (15, 22).
LS_TEXT = "🚀 Apollo left Houston for the Moon."
LS_WORD = "Houston"
_LS_FIND = """word => {
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const found = [];
  let node;
  while ((node = walker.nextNode())) {
    const at = node.data.indexOf(word);
    if (at < 0 || !node.parentElement.closest('[class*="lsf-richtext"]')) continue;
    const range = document.createRange();
    range.setStart(node, at);
    range.setEnd(node, at + word.length);
    const box = range.getBoundingClientRect();
    found.push({x: box.left, y: box.top, w: box.width, h: box.height});
  }
  return found;
}"""


def _ls_label_by_hand(page: Any, ls: LabelStudio, project: int, task: int) -> None:
    page.goto(f"{ls.url}/user/login/")
    page.fill("input[name=email]", ADMIN)
    page.fill("input[name=password]", ls.password)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_load_state("networkidle")
    page.goto(f"{ls.url}/projects/{project}/data?task={task}")
    page.get_by_text("LOC", exact=True).first.wait_for(timeout=60_000)
    page.get_by_text("LOC", exact=True).first.click()
    page.wait_for_function(f"() => ({_LS_FIND})({LS_WORD!r}).length > 0", timeout=60_000)
    [box] = page.evaluate(_LS_FIND, LS_WORD)
    y = box["y"] + box["h"] / 2
    page.mouse.move(box["x"] + 1, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["w"] - 1, y, steps=5)
    page.mouse.up()
    page.get_by_role("button", name="Submit").click()


@pytest.mark.label_studio
def test_label_studio_editor_writes_code_point_offsets(
    label_studio: LabelStudio,
    browser: Any,
) -> None:
    ls = label_studio
    project = ls.create_project("offsets", NER_CONFIG)
    [task] = ls.import_tasks(project, [{"data": {"text": LS_TEXT}}])
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        page = context.new_page()
        _ls_label_by_hand(page, ls, project, task)
        page.wait_for_function(
            "async url => (await (await fetch(url)).json()).annotations.length > 0",
            arg=f"{ls.url}/api/tasks/{task}",
            timeout=60_000,
        )
    finally:
        context.close()
    [annotation] = ls.api("GET", f"/api/tasks/{task}")["annotations"]
    [region] = annotation["result"]
    value = region["value"]
    assert (value["start"], value["end"], value["text"]) == (14, 21, LS_WORD)
    assert LS_TEXT[value["start"] : value["end"]] == LS_WORD  # code points, not UTF-16 units
    assert len(LS_TEXT[:14].encode("utf-16-le")) // 2 == 15
