"""The two readers behind ``annotators --decisions`` and ``adjudicate --label-errors``:
:func:`labelaudit.project.pull.decisions_at` and
:func:`labelaudit.models.label_errors.read_label_issues`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from labelaudit.exceptions import InputError
from labelaudit.models.label_errors import read_label_issues
from labelaudit.project.decisions import record_decision
from labelaudit.project.demo import demo_batches
from labelaudit.project.ingest import ingest_batch
from labelaudit.project.layout import Project, init_project
from labelaudit.project.pull import decisions_at


def test_decisions_from_a_csv_and_a_jsonl_file(tmp_path: Path) -> None:
    csv = tmp_path / "decided.csv"
    csv.write_text("item,label,note\n7,pos,x\n12,neg,\n", encoding="utf-8")
    assert decisions_at(csv) == (["7", "12"], ["pos", "neg"], str(csv))
    jsonl = tmp_path / "decided.jsonl"
    jsonl.write_text('{"item": 3, "label": 1}\n{"item": "b", "label": "x"}\n', encoding="utf-8")
    assert decisions_at(jsonl)[:2] == (["3", "b"], ["1", "x"])


@pytest.mark.parametrize("header", ["item,verdict", "id,label"])
def test_a_file_without_item_or_label_names_the_column(tmp_path: Path, header: str) -> None:
    path = tmp_path / "decided.csv"
    path.write_text(f"{header}\n7,pos\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        decisions_at(path)
    text = str(caught.value)
    missing = "label" if header.startswith("item") else "item"
    assert "decided.csv" in text and missing in text and header.replace(",", ", ") in text


def test_decisions_from_a_project_are_its_latest_per_item(tmp_path: Path) -> None:
    data = demo_batches(tmp_path / "batches", n_batches=1)
    init_project(tmp_path / "project", name="d", categories=("0", "1", "2"))
    project = Project.load(tmp_path / "project")
    for name, path in data.batches:
        ingest_batch(project, path, batch=name)
    with project.open_store() as store:
        items = [r[0] for r in store.execute(
            "SELECT DISTINCT item FROM annotations ORDER BY item LIMIT 2").fetchall()]  # fmt: skip
        record_decision(store, project.config, items[0], "0", decided_by="a")
        record_decision(store, project.config, items[1], "1", decided_by="a")
        record_decision(store, project.config, items[0], "2", decided_by="b")  # latest wins
    found_items, labels, name = decisions_at(tmp_path / "project")
    assert dict(zip(found_items, labels, strict=True)) == {items[0]: "2", items[1]: "1"}
    assert name == f"{tmp_path / 'project'} (decisions)"


def test_label_issues_read_back_and_refused(tmp_path: Path) -> None:
    issues = [{"item": "4", "given": "a", "suggested": "b", "quality": 0.1, "extra": 1}]
    good = tmp_path / "errors.json"
    good.write_text(json.dumps({"issues": issues, "n_items": 9}), encoding="utf-8")
    assert read_label_issues(good) == issues
    for name, text in {
        "broken.json": "{not json",
        "list.json": "[1, 2]",
        "short.json": '{"issues": [{"item": "4", "given": "a"}]}',
        "nolist.json": '{"issues": {"item": "4"}}',
    }.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        with pytest.raises(InputError, match=re.escape(name)):
            read_label_issues(path)
    with pytest.raises(InputError, match=re.escape("missing.json")):
        read_label_issues(tmp_path / "missing.json")
