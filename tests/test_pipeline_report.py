"""``labelaudit report``: the report dict read from the store, its renderings, and the browser."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from browser import LAUNCH_ARGS, chromium_path
from labelaudit.cli.app import app
from labelaudit.pipeline_report import (
    Scope,
    build_pipeline_report,
    render_pipeline_html,
    render_pipeline_markdown,
    write_pipeline_report,
)
from labelaudit.project import Project, ingest_batch, init_project
from labelaudit.project.config import toml_string

runner = CliRunner()
SCRIPT = '<script>alert("x")</script>'
EVIL_ANNOTATOR = "<img src=x onerror=alert(1)>"
EVIL_TEXT = "</td><script>alert('item')</script>"
LABELS = ("ok", SCRIPT, "bad")


def batch_csv(path: Path, week: int, noisy: bool) -> Path:
    """12 items x 5 annotators; labels agree except a few (more when ``noisy``)."""
    lines = ["item,annotator,label,text"]
    annotators = ["ann1", "ann2", "ann3", "ann4", EVIL_ANNOTATOR]
    for i in range(12):
        truth = LABELS[i % 3]
        for a, name in enumerate(annotators):
            label = truth
            if (noisy and a >= 3) or (i == a):
                label = LABELS[(i + 1) % 3]
            cell = '"' + EVIL_TEXT.replace('"', '""') + '"' if i == 0 else f"item text {i}"
            quoted = '"' + label.replace('"', '""') + '"'
            quoted_name = '"' + name + '"'
            lines.append(f"w{week}-{i},{quoted_name},{quoted},{cell}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """Four weekly batches with hostile labels, names and text; gold on two items a week."""
    folder = tmp_path_factory.mktemp("hostile")
    gold = folder / "gold.csv"
    rows = ["item,gold_label"] + [
        f'w{w}-{i},"{LABELS[i % 3].replace(chr(34), chr(34) * 2)}"'
        for w in range(1, 5)
        for i in (4, 5)
    ]
    gold.write_text("\n".join(rows) + "\n", encoding="utf-8")
    project = init_project(folder / "project", categories=LABELS)
    config = project.config_path
    text = config.read_text().replace('# file = "gold.csv"', f"file = {toml_string(str(gold))}")
    config.write_text(text)
    project = Project.load(project.root)
    for week in range(1, 5):
        path = batch_csv(folder / f"w{week}.csv", week, noisy=week == 4)
        ingest_batch(project, path, batch=f"<b>2024-w0{week}</b>")
    return project


def test_report_reads_stored_values(hostile: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    import labelaudit.agreement as agreement

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the report must not recompute agreement")

    monkeypatch.setattr(agreement, "agreement_report", refuse)
    report = build_pipeline_report(hostile, Scope(mode="all"))
    with hostile.open_store(read_only=True) as store:
        alpha = dict(store.metric_history("agreement", "krippendorff_alpha"))
        names = [b.name for b in store.batches()]
    assert [b["name"] for b in report["batches"]] == names
    assert [b["krippendorff_alpha"] for b in report["batches"]] == [alpha[n] for n in names]
    assert report["summary"]["n_annotations"] == 4 * 60
    assert report["gates"]["batch"] == names[-1]
    points = report["charts"]["agreement"]["charts"]["individuals"]["points"]
    assert [p["value"] for p in points] == [alpha[n] for n in names]
    json.dumps(report, allow_nan=False)  # strict JSON


def test_leaderboard_pools_gold_answers(hostile: Project) -> None:
    report = build_pipeline_report(hostile, Scope(mode="all"))
    rows = {row["annotator"]: row for row in report["annotators"]}
    # brute force: items 4 and 5 are gold each week; annotator index a mislabels item a,
    # and in week 4 annotators 3 and 4 mislabel every item
    for a, name in enumerate(["ann1", "ann2", "ann3", "ann4", EVIL_ANNOTATOR]):
        wrong = sum((week == 4 and a >= 3) or (i == a) for week in range(1, 5) for i in (4, 5))
        assert rows[name]["n_gold"] == 8
        assert rows[name]["gold_accuracy"] == pytest.approx(1 - wrong / 8)


def test_scopes(hostile: Project) -> None:
    one = build_pipeline_report(hostile, Scope(mode="batch", batch="<b>2024-w02</b>"))
    assert one["scope"]["batches"] == ["<b>2024-w02</b>"]
    assert len(one["charts"]["agreement"]["charts"]["individuals"]["points"]) == 2
    recent = build_pipeline_report(hostile, Scope(mode="since", since="7d"))
    assert len(recent["batches"]) == 4
    with pytest.raises(Exception, match="--since takes a number and a unit"):
        build_pipeline_report(hostile, Scope(mode="since", since="seven days"))
    with pytest.raises(Exception, match="no batch named 'nope'"):
        build_pipeline_report(hostile, Scope(mode="batch", batch="nope"))


def test_confusions_carry_examples_with_text(hostile: Project) -> None:
    report = build_pipeline_report(hostile, Scope(mode="all"))
    pairs = report["confusions"]["pairs"]
    assert pairs and all(len(p["examples"]) <= 3 for p in pairs)
    texts = [e["text"] for p in pairs for e in p["examples"]]
    assert EVIL_TEXT in texts


def test_markdown_escapes_user_content(hostile: Project) -> None:
    markdown = render_pipeline_markdown(build_pipeline_report(hostile, Scope(mode="all")))
    assert "<script>" not in markdown and "<img" not in markdown and "<b>" not in markdown
    assert '&lt;script&gt;alert("x")&lt;/script&gt;' in markdown


def test_html_is_self_contained_and_escaped(hostile: Project) -> None:
    html = render_pipeline_html(build_pipeline_report(hostile, Scope(mode="all")))
    assert (
        "<script" not in html.lower()
        and "<img" not in html
        and "http://" not in html.split("<svg", 1)[0].split("</title>", 1)[1]
    )
    assert html.count("<svg") == 3  # agreement, gold p-chart, confusion heat map
    assert "&lt;script&gt;" in html


def test_report_cli_formats(hostile: Project, tmp_path: Path) -> None:
    root = ["--project", str(hostile.root)]
    for fmt, name in (("html", "r.html"), ("markdown", "r.md"), ("json", "r.json")):
        result = runner.invoke(
            app, ["report", "--all", "--out", str(tmp_path / name), *root, "--format", fmt]
        )
        assert result.exit_code == 0, result.output
        assert result.stdout.strip() == f"Report written to {(tmp_path / name).resolve()}"
    assert json.loads((tmp_path / "r.json").read_text())["summary"]["n_batches"] == 4
    both = runner.invoke(app, ["report", "--all", "--batch", "x", "--out", "r.html", *root])
    assert both.exit_code == 2 and "choose one of --since, --batch, --all" in both.stderr
    empty = tmp_path / "empty"
    init_project(empty)
    none = runner.invoke(
        app, ["report", "--all", "--out", str(tmp_path / "e.html"), "--project", str(empty)]
    )
    assert none.exit_code == 2 and "holds no batch yet" in none.stderr


# ----------------------------------------------------------------------------- browser
def open_in_chromium(path: Path, check: Callable[[Any, dict[str, list[str]]], None]) -> None:
    """Open ``path`` in Debian's headless Chromium and run ``check(page, log)``.

    Playwright runs in its own thread: another module's session-wide ``browser`` fixture
    may hold the main thread's event loop, and the sync API allows one loop per thread.
    """
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    executable = chromium_path()
    if executable is None:
        pytest.skip("no Chromium (needs root and apt-get: apt-get install chromium)")
    failures: list[BaseException] = []

    def run() -> None:
        try:
            with sync_api.sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=executable, headless=True, args=LAUNCH_ARGS
                )
                try:
                    page = browser.new_context(viewport={"width": 1100, "height": 900}).new_page()
                    log: dict[str, list[str]] = {
                        "console": [],
                        "errors": [],
                        "dialogs": [],
                        "requests": [],
                    }
                    page.on(
                        "console",
                        lambda m: log["console"].append(m.text) if m.type == "error" else None,
                    )
                    page.on("pageerror", lambda e: log["errors"].append(str(e)))
                    page.on("dialog", lambda d: (log["dialogs"].append(d.message), d.dismiss()))
                    page.on("request", lambda r: log["requests"].append(r.url))
                    page.goto(path.as_uri(), wait_until="load")
                    check(page, log)
                finally:
                    browser.close()
        except BaseException as error:  # re-raised in the test's thread
            failures.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if failures:
        raise failures[0]


@pytest.mark.browser
def test_report_in_chromium(hostile: Project, tmp_path: Path) -> None:
    path = write_pipeline_report(
        build_pipeline_report(hostile, Scope(mode="all")), tmp_path / "report.html"
    )

    def check(view: Any, log: dict[str, list[str]]) -> None:
        assert log["console"] == [] and log["errors"] == [] and log["dialogs"] == []
        assert [url for url in log["requests"] if not url.startswith("file://")] == []
        assert view.title() == "Annotation quality report"
        for key in ("agreement", "gold", "confusions"):
            figure = view.locator(f"#chart-{key} svg")
            assert figure.count() == 1
            box = figure.bounding_box()
            assert box is not None and box["width"] > 200 and box["height"] > 100
        words = " ".join((view.locator("#chart-agreement svg").text_content() or "").split())
        assert "Phase II: <b>2024-w04</b> judged against them." in words  # shown as text
        assert "UCL" in words and "LCL" in words and "batch (in ingest order)" in words
        heat = view.locator("#chart-confusions svg").text_content() or ""
        assert "annotator A label" in heat and SCRIPT in heat
        assert view.locator("script").count() == 0 and view.locator("main img").count() == 0
        body = view.inner_text("body")
        assert SCRIPT in body and EVIL_ANNOTATOR in body and EVIL_TEXT in body
        assert "<b>2024-w04</b>" in body
        assert view.inner_text("#verdict") in ("Quality gates passed", "Quality gates failed")
        assert EVIL_ANNOTATOR in view.inner_text("#annotators-table")

    open_in_chromium(path, check)
