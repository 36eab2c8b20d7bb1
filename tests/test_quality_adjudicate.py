"""The item table, the adjudication queue, its JSONL file and the Label Studio import file."""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from labelaudit.exceptions import InputError, UsageError
from labelaudit.quality import (
    adjudication_queue,
    item_fields,
    item_report,
    label_config,
    label_studio_tasks,
    write_jsonl,
    write_label_studio,
)
from labelaudit.quality.label_studio import label_studio_path
from labelaudit.table import AnnotationTable, read_annotations

QUEUE_CSV = Path(__file__).parent / "data" / "quality" / "queue.csv"
HOSTILE = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def table() -> AnnotationTable:
    return read_annotations(QUEUE_CSV)


def rows_of(table: AnnotationTable) -> dict[str, list[tuple[str, str]]]:
    """Brute force: (annotator, label) pairs of each item, by annotator code."""
    out: dict[str, list[tuple[int, str, str]]] = {}
    for i, a, k in zip(table.item_codes, table.annotator_codes, table.label_codes, strict=True):
        out.setdefault(str(table.items[i]), []).append(
            (int(a), str(table.annotators[a]), str(table.categories[k]))
        )
    return {item: [(name, label) for _, name, label in sorted(v)] for item, v in out.items()}


def test_item_report_majority(table: AnnotationTable) -> None:
    report = item_report(table, method="majority")
    document = report.to_dict()
    items = {row["item"]: row for row in document["items"]}
    assert document["method"] == "majority" and document["n_items"] == 6
    assert [items[i]["tied"] for i in ("t1", "t2", "t3", "t4", "t5", "t6")] == [
        True, False, False, True, True, False,
    ]  # fmt: skip
    assert items["t1"]["consensus_label"] is None and items["t6"]["consensus_label"] == "neg"
    assert items["t2"]["confidence"] == pytest.approx(2 / 3)
    assert items["t1"]["vote_entropy"] == pytest.approx(1.0)
    assert items["t4"]["vote_entropy"] == pytest.approx(math.log2(3))
    assert items["t3"]["vote_entropy"] == 0.0 and items["t3"]["disagree"] is False
    assert items["t5"]["n_labels"] == 4 and items["t5"]["n_distinct_labels"] == 2
    assert document["n_tied"] == 3 and document["n_disagree"] == 5
    json.dumps(document, allow_nan=False)


def test_item_report_posterior_method(table: AnnotationTable) -> None:
    report = item_report(table, method="dawid-skene")
    assert np.all((report.confidence > 0) & (report.confidence <= 1))
    assert np.all(report.labels[~report.tied] >= 0)
    with pytest.raises(UsageError, match="unknown method"):
        item_report(table, method="vote")


def test_queue_contents_order_and_candidates(table: AnnotationTable) -> None:
    queue = adjudication_queue(table, method="majority", threshold=0.7)
    assert [e["item"] for e in queue.entries] == ["t4", "t1", "t5", "t2"]
    assert [e["reason"] for e in queue.entries] == ["tie", "tie", "tie", "low_confidence"]
    assert queue.by_reason == {"tie": 3, "low_confidence": 1}
    expected = rows_of(table)
    for entry in queue.entries:
        pairs = [(c["annotator"], c["label"]) for c in entry["candidates"]]
        assert pairs == expected[entry["item"]]
        assert set(entry) == {"item", "reason", "consensus_label", "confidence", "candidates"}
    t2 = queue.entries[3]
    assert t2["consensus_label"] == "pos" and t2["confidence"] == pytest.approx(2 / 3)
    assert queue.entries[1]["candidates"][0] == {"annotator": HOSTILE, "label": "neg"}
    summary = queue.to_dict()
    assert summary["n_queued"] == 4 and summary["n_items"] == 6 and summary["threshold"] == 0.7


def test_threshold_edges(table: AnnotationTable) -> None:
    assert [
        e["item"] for e in adjudication_queue(table, method="majority", threshold=0).entries
    ] == [
        "t4",
        "t1",
        "t5",
    ]  # fmt: skip  (ties are always queued)
    everything = adjudication_queue(table, method="majority", threshold=1.0)
    assert [e["item"] for e in everything.entries] == ["t4", "t1", "t5", "t2", "t6"]
    with pytest.raises(UsageError, match=r"threshold must be a number in \[0, 1\]"):
        adjudication_queue(table, threshold=1.5)


def test_jsonl_file(table: AnnotationTable, tmp_path: Path) -> None:
    queue = adjudication_queue(table, method="majority")
    path = write_jsonl(queue, tmp_path / "queue.jsonl")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == queue.entries
    assert HOSTILE in lines[1] and "\\u" not in lines[1]  # UTF-8, not escaped


# ------------------------------------------------------------------------ Label Studio
def config_of(xml: str) -> dict[str, Any]:
    """Control and object names and the allowed choices of a labelling config."""
    root = ET.fromstring(xml)
    text, choices = root.find("Text"), root.find("Choices")
    assert text is not None and choices is not None
    return {
        "object": text.get("name"),
        "variable": (text.get("value") or "").removeprefix("$"),
        "control": choices.get("name"),
        "to_name": choices.get("toName"),
        "choices": [c.get("value") for c in choices.findall("Choice")],
    }


def validate_tasks(tasks: list[dict[str, Any]], config: dict[str, Any]) -> None:
    """The checks of Label Studio's import: data dict, predictions with choices results."""
    assert isinstance(tasks, list) and tasks
    for task in tasks:
        assert set(task) == {"data", "meta", "predictions"}
        assert isinstance(task["data"], dict) and config["variable"] in task["data"]
        for prediction in task["predictions"]:
            assert set(prediction) == {"model_version", "result"}
            assert isinstance(prediction["model_version"], str)
            (region,) = prediction["result"]
            assert region["from_name"] == config["control"]
            assert region["to_name"] == config["to_name"] == config["object"]
            assert region["type"] == "choices"
            assert len(region["value"]["choices"]) == 1
            assert region["value"]["choices"][0] in config["choices"]
        ids = [p["result"][0]["id"] for p in task["predictions"]]
        assert len(set(ids)) == len(ids)


def test_label_studio_file_has_one_prediction_per_candidate(
    table: AnnotationTable, tmp_path: Path
) -> None:
    queue = adjudication_queue(table, method="majority")
    tasks = label_studio_tasks(
        queue, from_name="sentiment", to_name="text", fields=item_fields(table, ["text"])
    )
    path = write_label_studio(tasks, tmp_path / "ls.json")
    loaded = json.loads(path.read_text(encoding="utf-8"))
    config = config_of(label_config(table.categories, from_name="sentiment", to_name="text"))
    validate_tasks(loaded, config)
    expected = rows_of(table)
    for task, entry in zip(loaded, queue.entries, strict=True):
        pairs = [
            (p["model_version"], p["result"][0]["value"]["choices"][0]) for p in task["predictions"]
        ]
        assert pairs == expected[entry["item"]]
        assert task["data"]["item"] == entry["item"]
        assert task["meta"] == {
            "reason": entry["reason"],
            "consensus_label": entry["consensus_label"],
            "confidence": entry["confidence"],
            "method": "majority",
        }
    texts = {task["data"]["item"]: task["data"]["text"] for task in loaded}
    assert texts == {"t4": "名前 😀", "t1": "Great, really great", "t5": "<b>bold</b>",
                     "t2": "Plain text"}  # fmt: skip


def test_label_config_escapes_and_round_trips_categories() -> None:
    categories = ['say "hi"', "<b>&amp;", "neu, sort of"]
    config = config_of(label_config(categories, from_name='a"b', to_name="<t>"))
    assert config["choices"] == categories
    assert config["control"] == 'a"b' and config["to_name"] == "<t>" == config["object"]


def test_label_studio_options_are_checked(table: AnnotationTable) -> None:
    queue = adjudication_queue(table, method="majority")
    with pytest.raises(UsageError, match="from_name must be a non-empty string"):
        label_studio_tasks(queue, from_name=" ")
    with pytest.raises(InputError, match="no such data column") as caught:
        item_fields(table, ["body"])
    assert "text" in str(caught.value)
    with pytest.raises(UsageError, match="--label-studio needs --out or --ls-out"):
        label_studio_path(None, None)
    assert label_studio_path("q.jsonl", None) == Path("q.label-studio.json")
    tasks = label_studio_tasks(queue)
    assert tasks[0]["data"] == {"item": "t4"}
