"""Scale AI deliveries (task exports and callback bodies) through the front door, then
audited against the project's own gold: ``annotators --gold`` and ``check``."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from labelaudit.cli.app import app
from labelaudit.io import detect_format, read_any
from labelaudit.project import Project, init_project
from labelaudit.project.check import check_project
from labelaudit.project.config import toml_string

runner = CliRunner()
DATA = Path(__file__).parent / "data" / "scale"
TASKS, CALLBACKS, GOLD = DATA / "tasks.json", DATA / "callbacks.jsonl", DATA / "gold.csv"


def _gold() -> dict[str, str]:
    with GOLD.open(newline="") as handle:
        return {row["item"]: row["gold_label"] for row in csv.DictReader(handle)}


def _delivered(path: Path) -> dict[str, str]:
    """Brute force: item -> category of every completed task in a fixture file."""
    text = path.read_text()
    records = json.loads(text) if path.suffix == ".json" else map(json.loads, text.splitlines())
    out = {}
    for record in records:
        task = record.get("task", record)
        if task["status"] == "completed":
            out[task["metadata"]["item_id"]] = task["response"]["category"]
    return out


def test_detected_and_read_through_the_front_door() -> None:
    assert detect_format(TASKS) == detect_format(CALLBACKS) == "scale"
    table, report = read_any([TASKS, CALLBACKS], task_key="metadata.item_id")
    assert report is not None and report.n_skipped == 2  # one canceled, one pending
    expected = {**_delivered(TASKS), **_delivered(CALLBACKS)}
    assert table.n_ratings == len(expected) == 28
    assert set(table.annotators) == {"scale"}
    labels = dict(
        zip(table.items[table.item_codes], table.categories[table.label_codes], strict=True)
    )
    assert labels == expected


def test_task_id_is_the_default_item() -> None:
    table, _ = read_any(TASKS, from_="scale")
    ids = {t["task_id"] for t in json.loads(TASKS.read_text())}
    assert set(table.items) == ids


def test_unsupported_and_defective_tasks_are_counted(tmp_path: Path) -> None:
    tasks = json.loads(TASKS.read_text())[:4]
    tasks[0]["type"] = "imageannotation"
    tasks[1]["response"] = {}
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps(tasks))
    table, report = read_any(path, from_="scale", task_key="metadata.item_id")
    assert table.n_ratings == 2 and report is not None
    reasons = json.dumps(report.to_dict())
    assert "unsupported task type" in reasons and "no response.category" in reasons


def test_annotators_gold_accuracy_of_the_delivery() -> None:
    args = ["annotators", str(TASKS), "--task-key", "metadata.item_id", "--gold", str(GOLD)]
    result = runner.invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)["annotators"]
    gold, delivered = _gold(), _delivered(TASKS)
    right = sum(delivered[i] == gold[i] for i in delivered)  # brute force
    assert row["annotator"] == "scale" and row["n_gold"] == len(delivered) == 24
    assert row["gold_correct"] == right == 20
    assert row["gold_accuracy"] == pytest.approx(right / len(delivered))


def test_ingest_and_check_a_delivery(tmp_path: Path) -> None:
    project = init_project(tmp_path / "p", categories=("positive", "negative", "neutral"))
    config = project.root / "labelaudit.toml"
    text = config.read_text()
    text = text.replace('# file = "gold.csv"', f"file = {toml_string(str(GOLD))}")
    gate = 'name = "vendor-gold"\nmetric = "gold_error_rate"\nop = "<="\nthreshold = 0.1\n'
    text += "\n[[gates]]\n" + gate
    config.write_text(text)
    project = Project.load(project.root)
    for path, name in ((TASKS, "w19-a"), (CALLBACKS, "w19-b")):
        args = ["ingest", str(path), "--batch", name, "--project", str(project.root)]
        done = runner.invoke(app, [*args, "--from", "scale", "--task-key", "metadata.item_id"])
        assert done.exit_code == 0, done.output
    first = check_project(project, batch="w19-a")
    gate = next(g for g in first.gates if g.name == "vendor-gold")
    assert gate.value == pytest.approx(4 / 24) and gate.verdict == "fail"
    second = check_project(project, batch="w19-b")
    gate = next(g for g in second.gates if g.name == "vendor-gold")
    assert gate.value == pytest.approx(1 / 4)
