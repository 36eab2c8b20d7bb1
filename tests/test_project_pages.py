"""Pages of the project commands: check, status, ingest and the weekly report as documents.

Verdict sentences name each failed gate and its distance to the threshold; terminal text
fits 80 columns with words whole; ``[categories]`` meanings reach tables and charts; the
weekly report draws the OC curve of a recorded review; paths are relative unless
``--provenance full``. The browser checks of these pages are in ``test_report_browser.py``.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from labelaudit.cli.app import app
from labelaudit.exceptions import InputError
from labelaudit.pipeline_report import Scope, build_pipeline_report, render_pipeline_markdown
from labelaudit.pipeline_report.document import pipeline_document
from labelaudit.plans import draw_review_sample, score_review, single_accept_probability
from labelaudit.plans.store import batch_rows, record_review
from labelaudit.project import Project, ingest_batch, init_project, load_config
from labelaudit.project.check import check_project
from labelaudit.project.config import toml_string
from labelaudit.project.demo import run_demo
from labelaudit.project.documents import gates_sentence, status_document
from labelaudit.report.document import render_document

runner = CliRunner()
HOSTILE = ['<script>alert("x")</script>', "\"quoted\" 'single'", "{{7*7}}"]
LABELS = ("ok", HOSTILE[0], "{{7*7}}")
ANNOTATORS = (HOSTILE[1], "{{7*7}}", "<script>alert(2)</script>", "ann4")


def hostile_project(folder: Path) -> Project:
    """Four weekly batches named, labelled and annotated with hostile text (``<script>``,
    quotes, ``{{7*7}}``), the last one noisy, category meanings declared, and a review
    recorded for the last batch: a project whose every page shows hostile names."""
    project = init_project(folder / "project", categories=LABELS)
    meanings = "".join(f"{toml_string(c)} = {toml_string('means ' + c)}\n" for c in LABELS)
    with project.config_path.open("a", encoding="utf-8") as handle:
        handle.write("\n[categories]\n" + meanings)
    project = Project.load(project.root)
    for week in range(1, 5):
        path = folder / f"w{week}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["item", "annotator", "label", "text"])
            for i in range(12):
                for a, name in enumerate(ANNOTATORS):
                    wrong = (week == 4 and a >= 2) or i == a
                    label = LABELS[(i + wrong) % 3]
                    writer.writerow([f"w{week}-{i}", name, label, f"{HOSTILE[i % 3]} item {i}"])
        ingest_batch(project, path, batch=f'{{{{7*7}}}} "w{week}" <script>')
    last = project.open_store(read_only=True)
    with last as store:
        name = store.batches()[-1].name
    sample = draw_review_sample(batch_rows(project, name), 20, seed=1)
    record_review(project, name, score_review(sample, np.arange(20) < 2, plan_n=20, plan_c=1))
    return project


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The demo project (six PandaLM batches, the last degraded) with a review recorded
    for the last batch: 80 annotations drawn, the first 6 judged wrong, plan n=80, c=3."""
    out = tmp_path_factory.mktemp("pages")
    result = run_demo(out, echo=lambda line: None)
    project = Project.load(result.project)
    sample = draw_review_sample(batch_rows(project, "2024-w06"), 80, seed=3)
    wrong = np.arange(len(sample)) < 6
    record_review(project, "2024-w06", score_review(sample, wrong, plan_n=80, plan_c=3))
    return project


def words_whole(output: str, cells: list[str]) -> None:
    """Every line within 80 columns; every word of ``cells`` printed unbroken."""
    assert max(len(line) for line in output.splitlines()) <= 80
    printed = set(re.split(r"[\s│┃]+", output))
    for cell in cells:
        for word in cell.split():
            assert word in printed, word


# ------------------------------------------------------------------------- config
def test_categories_table_is_read_and_validated(tmp_path: Path) -> None:
    project = init_project(tmp_path / "p", categories=("0", "1", "2"))
    before = project.config.sha256
    assert project.config.categories == {} and "categories" not in project.config.to_dict()
    path = project.config_path
    base = path.read_text()
    path.write_text(base + '\n[categories]\n0 = "tie"\n1 = "response 1 better"\n')
    config = load_config(path)
    assert config.categories == {"0": "tie", "1": "response 1 better"}
    assert config.to_dict()["categories"] == config.categories and config.sha256 != before
    for extra, key, expected in (
        ("\n[categories]\n0 = 3\n", "categories.0", "non-empty string"),
        ('\n[categories]\n0 = " "\n', "categories.0", "non-empty string"),
        ('\n[categories]\n7 = "seven"\n', "categories.7", "a declared category (0, 1, 2)"),
        ("categories = 1\n", "categories", "a [categories] table"),
    ):
        path.write_text(base + extra if extra.startswith("\n") else extra + base)
        with pytest.raises(InputError) as caught:
            load_config(path)
        message = str(caught.value)
        assert str(path) in message and key in message and expected in message, message


# --------------------------------------------------------------------------- check
def test_check_verdict_names_failed_gates_and_margins(demo: Project) -> None:
    check = check_project(demo).to_dict()
    failed = [g for g in check["gates"] if g["verdict"] == "fail"]
    sentence = gates_sentence(check)
    assert sentence.startswith(f"Batch 2024-w06 fails {len(failed)} of {len(check['gates'])}")
    for gate in failed:
        margin = abs(gate["value"] - gate["threshold"])
        assert f"{gate['name']}: {gate['metric']}" in sentence
        shown = f"{margin:.3f}" if gate["metric"] == "krippendorff_alpha" else f"{margin:g}"
        assert f"by {shown})" in sentence, (shown, sentence)
    good = check_project(demo, batch="2024-w01").to_dict()
    assert gates_sentence(good) == f"Batch 2024-w01 passes all {len(good['gates'])} gates."


def test_check_and_status_fit_80_columns(demo: Project) -> None:
    root = ["--project", str(demo.root)]
    check = runner.invoke(app, ["check", *root], env={"COLUMNS": "80"})
    assert check.exit_code == 1
    gates = check_project(demo).to_dict()["gates"]
    words_whole(check.stdout, [g["metric"] for g in gates] + [g["reason"] for g in gates])
    assert "FAIL: Batch 2024-w06 fails" in check.stdout
    status = runner.invoke(app, ["status", *root], env={"COLUMNS": "80"})
    assert status.exit_code == 0
    words_whole(status.stdout, [f"2024-w0{i}" for i in range(1, 7)])
    assert "Not shown at 80 columns: sha256" in status.stdout  # dropped with a note


def test_terminal_keeps_hostile_names_whole_and_inert() -> None:
    batches = [
        {
            "name": name,
            "n_annotations": 10,
            "n_items": 5,
            "n_annotators": 2,
            "n_rejected": 0,
            "ingested_at": "2024-01-01T00:00:00",
            "sha256": "0" * 64,
        }
        for name in [*HOSTILE, "\x1b]8;;http://x\x07link\x1b]8;;\x07"]
    ]
    status = {"project": {"name": "[bold]p[/bold]"}, "batches": batches, "rejected_rows": 0}
    out = render_document(status_document(status), "table", width=80)
    assert "\x1b" not in out and "[bold]p[/bold]" in out
    words_whole(out, HOSTILE)
    html = render_document(status_document(status), "html")
    assert "<script>alert" not in html and "&lt;script&gt;" in html


def test_json_contracts_unchanged(demo: Project, tmp_path: Path) -> None:
    root = ["--project", str(demo.root)]
    check = runner.invoke(app, ["check", *root, "--format", "json"])
    assert json.loads(check.stdout) == check_project(demo).to_dict()
    status = runner.invoke(app, ["status", *root, "--format", "json"])
    assert set(json.loads(status.stdout)) == {
        "project", "batches", "n_annotations", "rejected_rows", "rejects"
    }  # fmt: skip
    page = tmp_path / "check.html"
    written = runner.invoke(app, ["check", *root, "--format", "html", "--out", str(page)])
    assert written.exit_code == 1 and written.stdout == ""
    assert f"wrote {page}" in written.stderr
    assert 'class="headline fail"' in page.read_text()


def test_provenance_relative_by_default(demo: Project, tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(demo.root.parent)
    args = ["status", "--project", str(demo.root), "--format", "html"]
    relative = runner.invoke(app, args)
    full = runner.invoke(app, [*args, "--provenance", "full"])
    absolute = str(demo.root.resolve())
    assert absolute not in relative.stdout and ">project<" in relative.stdout
    assert absolute in full.stdout
    out = tmp_path / "r.md"
    report = ["report", "--all", "--project", str(demo.root), "--format", "markdown"]
    assert runner.invoke(app, [*report, "--out", str(out)]).exit_code == 0
    assert absolute not in out.read_text() and "2024-w06.csv" in out.read_text()
    assert runner.invoke(app, [*report, "--out", str(out), "--provenance", "full"]).exit_code == 0
    assert str(demo.root.parent.resolve() / "batches") in out.read_text()


# ------------------------------------------------------------------- weekly report
def test_weekly_headline_is_the_latest_batch_verdict(demo: Project) -> None:
    report = build_pipeline_report(demo, Scope(mode="all"))
    document = pipeline_document(report)
    latest = report["batches"][-1]
    (figure,) = document.headline.figures
    assert figure.value == latest["krippendorff_alpha"] and figure.target == 0.667
    assert figure.ci95 == tuple(latest["krippendorff_alpha_ci95"]) and figure.passed is False
    assert document.headline.status == "fail"
    assert document.headline.sentence.startswith(gates_sentence(report["gates"]))
    weakest = report["weakest_annotator"]
    with demo.open_store(read_only=True) as store:
        rows = store.execute(
            "SELECT annotator, value FROM annotator_metrics a JOIN batches b USING (batch_id) "
            "WHERE b.name = '2024-w06' AND a.metric = 'loo_agreement'"
        ).fetchall()
    values = dict(rows)
    assert weakest["annotator"] == min(values, key=values.__getitem__)
    assert weakest["mean_loo_agreement"] == pytest.approx(sum(values.values()) / len(values))
    assert f"Annotator {weakest['annotator']} drives most disagreement" in (
        document.headline.sentence
    )


def test_review_oc_curve_is_the_plan_in_force(demo: Project) -> None:
    report = build_pipeline_report(demo, Scope(mode="all"))
    review = report["review"]
    assert review["batch"] == "2024-w06" and review["plan"] == {"n": 80, "c": 3}
    assert review["errors"] == 6 and review["decision"] == "reject"
    p = np.array([point["p"] for point in review["oc_curve"]])
    expected = single_accept_probability(80, 3, p, batch_size=review["batch_size"])
    got = np.array([point["p_accept"] for point in review["oc_curve"]])
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    assert p[0] == 0.0 and got[0] == 1.0 and got[-1] < 0.005 and np.all(np.diff(got) <= 0)
    document = pipeline_document(report)
    (section,) = [s for s in document.sections if s.key == "review"]
    (chart,) = section.charts
    assert "share of wrong annotations in the batch" in chart.svg
    assert "probability of accepting the batch" in chart.svg
    html = render_document(document, "html")
    assert 'id="chart-review"' in html and html.count("<svg") == 4


def test_category_meanings_wherever_codes_appear(demo: Project) -> None:
    report = build_pipeline_report(demo, Scope(mode="all"))
    markdown = render_pipeline_markdown(report)
    confusions = markdown.split("**Most confused label pairs**", 1)[1].split("**", 1)[0]
    assert "| 1 (response 1 better) | 2 (response 2 better) |" in confusions
    queue = markdown.split("**Adjudication queue:", 1)[1]
    assert re.search(r"annotator\d: [012] \((tie|response [12] better)\)", queue)
    document = pipeline_document(report)
    (section,) = [s for s in document.sections if s.key == "confusions"]
    heat = section.charts[0].svg
    assert "0 (tie)" in heat and "2 (response 2 better)" in heat
