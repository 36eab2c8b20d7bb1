"""``export-sheet`` and :mod:`labelaudit.sheets`: flat XLSX/CSV read back with openpyxl and
csv; every text value a string cell, no cell a formula, hostile names neutralised."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from labelaudit.cli.app import app
from labelaudit.csvio import FORMULA_START
from labelaudit.project import Project, ingest_batch, init_project
from labelaudit.project.decisions import batch_queue, batch_table
from labelaudit.sheets import flat_table, write_sheet, write_xlsx

openpyxl = pytest.importorskip("openpyxl")
runner = CliRunner()

HOSTILE = ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)"]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """A batch whose annotator names and item ids would run as formulas."""
    folder = tmp_path_factory.mktemp("sheets")
    rows = [("item", "annotator", "label")]
    people = [*HOSTILE, "plain"]
    rng = np.random.default_rng(7)
    for i in range(60):
        item = f"=A{i}" if i % 3 == 0 else f"i{i}"
        for person in people:  # half the labels random: many low-confidence items
            label = i % 3 if rng.random() < 0.5 else int(rng.integers(3))
            rows.append((item, person, str(label)))
    path = folder / "batch.csv"
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    project = init_project(folder / "project", categories=("0", "1", "2"))
    ingest_batch(project, path, batch="=week1")
    return project


def test_xlsx_reads_back_as_text_never_a_formula(hostile: Project, tmp_path: Path) -> None:
    out = tmp_path / "w.xlsx"
    result = runner.invoke(app, ["export-sheet", "--project", str(hostile.root), "--out", str(out)])
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["annotators", "queue"]
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert cell.data_type == "s"
                    assert (
                        cell.value[:1] not in FORMULA_START or cell.value.lstrip("+-")[:1].isdigit()
                    )
    annotators = [[c.value for c in row] for row in book["annotators"].iter_rows()]
    header = annotators[0]
    assert header[:4] == ["batch", "ingested_at", "annotator", "n_labels"]
    names = {row[header.index("annotator")] for row in annotators[1:]}
    assert names == {"'" + h for h in HOSTILE} | {"plain"}  # ingest trims a leading tab
    assert {row[0] for row in annotators[1:]} == {"'=week1"}
    when = annotators[1][1]
    assert isinstance(when, str) and when.endswith("Z")
    datetime.fromisoformat(when.replace("Z", "+00:00"))  # ISO 8601
    numbers = [row[header.index("loo_agreement")] for row in annotators[1:]]
    assert all(isinstance(v, float) for v in numbers)


def test_queue_sheet_is_the_whole_queue(hostile: Project, tmp_path: Path) -> None:
    out = tmp_path / "q.xlsx"
    args = ["export-sheet", "--project", str(hostile.root), "--table", "queue", "--out", str(out)]
    assert runner.invoke(app, args).exit_code == 0
    rows = [[c.value for c in row] for row in openpyxl.load_workbook(out)["queue"].iter_rows()]
    assert rows[0] == [
        "batch",
        "item",
        "reason",
        "consensus_label",
        "confidence",
        "n_labels",
        "labels",
        "decision",
        "note",
    ]
    with hostile.open_store(read_only=True) as store:
        record = store.batches()[-1]
        queue = batch_queue(batch_table(store, record))
    assert len(rows) - 1 == len(queue.entries) > 20  # more than the 20 the result keeps
    items = [row[1] for row in rows[1:]]
    expected = [
        ("'" + e["item"]) if e["item"].startswith("=") else e["item"] for e in queue.entries
    ]
    assert items == expected


def test_csv_export_reads_back(hostile: Project, tmp_path: Path) -> None:
    out = tmp_path / "w.csv"
    args = ["export-sheet", "--project", str(hostile.root), "--out", str(out)]
    assert runner.invoke(app, args).exit_code == 0
    with (tmp_path / "w-annotators.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["annotator"] for r in rows} >= {'\'=HYPERLINK("http://x","y")', "plain"}


def test_flat_table_flattens_and_headers_are_safe(tmp_path: Path) -> None:
    table = flat_table(
        [
            {
                "=name": "x",
                "ci95": [0.1, 0.9],
                "nested": {"a": 1, "b": {"c": "d"}},
                "tags": ["p", "q"],
                "when": datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
                "inf": float("inf"),
            },
            {"=name": "-y", "ci95": [None, None], "nested": {"a": 2.5}},
        ]
    )
    assert table.column_names == [
        "=name",
        "ci95_low",
        "ci95_high",
        "nested.a",
        "nested.b.c",
        "tags",
        "when",
        "inf",
    ]
    assert table.column("nested.a").to_pylist() == [1, 2.5]
    assert table.column("when").to_pylist() == ["2024-05-01T12:00:00Z", None]
    assert table.column("inf").to_pylist() == [None, None]
    path = write_xlsx({"s": table}, tmp_path / "f.xlsx")
    rows = [[c.value for c in r] for r in openpyxl.load_workbook(path)["s"].iter_rows()]
    assert rows[0][0] == "'=name" and rows[2][0] == "'-y" and rows[1][5] == "p; q"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=12), min_size=1, max_size=6))
def test_no_text_ever_becomes_a_formula(
    tmp_path_factory: pytest.TempPathFactory, texts: list[str]
) -> None:
    path = tmp_path_factory.mktemp("h") / "h.xlsx"
    write_xlsx({"s": pa.table({"t": pa.array(texts, pa.string())})}, path)
    book = openpyxl.load_workbook(path)
    cells = [row[0] for row in book["s"].iter_rows(min_row=2)]
    assert len(cells) == len(texts)
    for cell, _text in zip(cells, texts, strict=True):
        assert cell.data_type != "f"
        if cell.value is not None:
            assert cell.data_type == "s"


def test_write_sheet_csv_single_and_errors(tmp_path: Path) -> None:
    table = pa.table({"a": ["=1"], "n": [1.5]})
    (path,) = write_sheet({"only": table}, tmp_path / "one.csv")
    assert path.read_text().splitlines()[1] == '"\'=1",1.5'
    with pytest.raises(Exception, match="sheet format must be one of"):
        write_sheet({"only": table}, tmp_path / "x.ods", format="ods")
