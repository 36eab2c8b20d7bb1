"""A spans project end to end: init --task spans, ingest of a platform export and of a
converted Parquet (native list<struct> payload), check and report tracking span F1, the
structured adjudication queue, and bad structured input at ingest."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from labelaudit.cli.app import app
from labelaudit.project import Project
from ner_fixture import write_export

runner = CliRunner()


@pytest.fixture
def spans_project(tmp_path):
    export = write_export(tmp_path / "ner_export.json")
    project = tmp_path / "proj"
    result = runner.invoke(app, ["init", str(project), "--task", "spans"])
    assert result.exit_code == 0, result.output
    return project, export


def test_init_stores_the_task_and_gates_its_metric(spans_project):
    project, _ = spans_project
    config = Project.load(project).config
    assert config.task.task == "spans" and config.task.tracked_metric == "span_f1_exact"
    assert config.gates[0].metric == "span_f1_exact"
    assert runner.invoke(app, ["init", str(project.parent / "plain")]).exit_code == 0
    plain = Project.load(project.parent / "plain").config
    assert plain.task.task is None and plain.gates[0].metric == "krippendorff_alpha"


def test_ingest_check_report_track_span_f1(spans_project, tmp_path):
    project, export = spans_project
    parquet = tmp_path / "ner.parquet"
    assert runner.invoke(app, ["convert", str(export), "--out", str(parquet)]).exit_code == 0
    stored = runner.invoke(
        app, ["ingest", str(parquet), "--batch", "w1", "--project", str(project)]
    )
    assert stored.exit_code == 0, stored.output
    with Project.load(project).open_store(read_only=True) as store:
        rows = dict(
            store.execute(
                "SELECT metric, value FROM batch_metrics WHERE kind = 'agreement'"
            ).fetchall()
        )
        flags = store.execute(
            "SELECT value FROM annotator_metrics WHERE kind = 'annotators' AND metric = "
            "'n_flags' AND annotator = '4'"
        ).fetchone()
    assert {"span_f1_exact", "span_f1_overlap", "span_f1_exact:PER"} <= set(rows)
    assert not any("krippendorff" in name for name in rows)  # no nominal alpha over payloads
    assert 0.4 < rows["span_f1_exact"] < rows["span_f1_overlap"] < 1.0
    assert flags == (1.0,)
    check = runner.invoke(app, ["check", "--project", str(project), "--format", "json"])
    assert check.exit_code == 1  # exact span F1 ~0.59 < the default gate 0.7
    gates = json.loads(check.stdout)
    assert any(g["metric"] == "span_f1_exact" and g["verdict"] == "fail" for g in gates["gates"])
    out = tmp_path / "report.json"
    report = runner.invoke(
        app, ["report", "--all", "--out", str(out), "--project", str(project), "--format", "json"]
    )
    assert report.exit_code == 0, report.output
    data = json.loads(out.read_text())
    assert data["charts"]["metric"] == "span_f1_exact"
    assert data["batches"][0]["span_f1_exact"] == pytest.approx(rows["span_f1_exact"])


def test_ingest_refuses_another_task_and_bad_spans(spans_project, tmp_path):
    project, _ = spans_project
    other = tmp_path / "plain"
    runner.invoke(app, ["init", str(other)])
    export = write_export(tmp_path / "again.json")
    refused = runner.invoke(app, ["ingest", str(export), "--batch", "x", "--project", str(other)])
    assert refused.exit_code == 2 and "holds spans annotations" in refused.stderr
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        json.dumps({"item": "d", "annotator": "a", "label": [{"start": 9, "end": 3, "label": "X"}]})
        + "\n"
    )
    result = runner.invoke(app, ["ingest", str(bad), "--batch", "b", "--project", str(project)])
    assert result.exit_code == 2
    assert "bad.jsonl row 1" in result.stderr and "field 'label.end'" in result.stderr


def test_adjudicate_spans_attaches_every_annotators_regions(spans_project, tmp_path):
    _, export = spans_project
    out = tmp_path / "queue.jsonl"
    result = runner.invoke(
        app, ["adjudicate", str(export), "--threshold", "0.8", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    entries = [json.loads(line) for line in out.read_text().splitlines()]
    assert entries and all(e["task"] == "spans" for e in entries)
    confidences = [e["confidence"] for e in entries]
    assert confidences == sorted(confidences) and max(confidences) < 0.8
    first = entries[0]
    assert {c["annotator"] for c in first["candidates"]} == {"1", "2", "3", "4"}
    for candidate in first["candidates"]:
        assert all({"start", "end", "label"} == set(r) for r in candidate["regions"])
        assert json.loads(candidate["label"]) == candidate["regions"]
    refused = runner.invoke(app, ["adjudicate", str(export), "--label-studio", "--out", str(out)])
    assert refused.exit_code == 2
