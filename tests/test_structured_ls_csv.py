"""Label Studio's CSV/TSV export of spans: its own region shape, and empty annotations."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from labelaudit.cli.app import app
from labelaudit.io import read_any
from labelaudit.structured import payload_of

runner = CliRunner()
TEXT = "Ada Lovelace met Charles Babbage in London"


def _region(start: int, end: int, *labels: str) -> dict[str, object]:
    return {"start": start, "end": end, "text": TEXT[start:end], "labels": list(labels)}


def _export(path: Path, delimiter: str) -> Path:
    """Label Studio's CSV export columns: one row per annotation, the Labels tag's column
    holding a JSON list of regions; ann3 marked nothing on t1 (empty cell) and t2 (``[]``)."""
    rows = [
        ("t1", "ann1", [_region(0, 12, "PER"), _region(36, 42, "LOC")]),
        ("t1", "ann2", [_region(0, 12, "PER"), _region(36, 42, "ORG")]),
        ("t1", "ann3", None),
        ("t2", "ann1", [_region(17, 32, "PER")]),
        ("t2", "ann2", [_region(17, 32, "PER")]),
        ("t2", "ann3", []),
    ]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(["id", "text", "annotator", "label", "lead_time"])
        for item, annotator, regions in rows:
            cell = "" if regions is None else json.dumps(regions)
            writer.writerow([item, TEXT, annotator, cell, 3.5])
    return path


def test_label_studio_regions_and_empty_cells(tmp_path: Path) -> None:
    for name, delimiter in (("export.csv", ","), ("export.tsv", "\t")):
        table, _ = read_any(_export(tmp_path / name, delimiter), item_col="id", task="spans")
        assert table.n_ratings == 6  # the empty annotations are kept, not missing labels
        payload = payload_of(table).to_pylist()
        by_row = {
            (str(table.items[i]), str(table.annotators[a])): p
            for i, a, p in zip(table.item_codes, table.annotator_codes, payload, strict=True)
        }
        assert by_row[("t1", "ann3")] == [] and by_row[("t2", "ann3")] == []
        assert by_row[("t1", "ann1")] == [
            {"start": 0, "end": 12, "label": "PER"},
            {"start": 36, "end": 42, "label": "LOC"},
        ]


def test_label_studio_csv_through_the_cli(tmp_path: Path) -> None:
    path = _export(tmp_path / "export.csv", ",")
    result = runner.invoke(
        app, ["agreement", str(path), "--task", "spans", "--item-col", "id", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    # exact matches: ann1-ann2 PER (t1) and PER (t2): 2 x 2 / 6; ann3 marked nothing
    assert report["metrics"]["span_f1"]["exact"]["micro"]["value"] > 0
    result = runner.invoke(
        app, ["annotators", str(path), "--task", "spans", "--item-col", "id", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["annotators"]
    assert {r["annotator"]: r["n_regions"] for r in rows}["ann3"] == 0


def test_region_without_any_label_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text('id,annotator,label\nt1,ann1,"[{""start"": 0, ""end"": 3, ""labels"": []}]"\n')
    result = runner.invoke(app, ["agreement", str(path), "--task", "spans", "--item-col", "id"])
    assert result.exit_code == 2
    assert "bad.csv" in result.output and "label" in result.output
