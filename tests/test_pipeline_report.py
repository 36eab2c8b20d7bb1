"""``labelaudit report``: the report dict read from the store, its renderings, and the browser."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from labelaudit.cli.app import app
from labelaudit.pipeline_report import (
    Scope,
    build_pipeline_report,
    render_pipeline_html,
    render_pipeline_markdown,
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
