"""Calibration rounds: creation, scoring against the expert, feedback sheets, stored scores."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from labelaudit.cli.app import app
from labelaudit.guidelines import read_guideline
from labelaudit.guidelines.calibration import CalibrationRound, read_round
from labelaudit.guidelines.example import write_example
from labelaudit.guidelines.feedback import write_feedback
from labelaudit.guidelines.scoring import score_round
from labelaudit.intervals import wilson_interval
from labelaudit.table import read_annotations

runner = CliRunner()
V2 = Path(__file__).resolve().parents[1] / "src/labelaudit/guidelines/examples/pandalm-v2.md"


def _round(expected: list[str | None]) -> CalibrationRound:
    items = tuple(
        {"item": f"i{n}", "expected": e, "text": f"text {n}", "batch": "b"}
        for n, e in enumerate(expected)
    )
    return CalibrationRound("r1", "gold", 0, "none", "v2", items)


def _answers(rows: list[tuple[str, str, str]]) -> object:
    items, annotators, labels = zip(*rows, strict=True)
    return read_annotations(
        pa.table({"item": list(items), "annotator": list(annotators), "label": list(labels)})
    )


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.sampled_from(["0", "1", "2"]), min_size=2, max_size=40).filter(
        lambda labels: len(set(labels)) >= 2
    ),
    st.lists(st.sampled_from(["0", "1", "2"]), min_size=2, max_size=40),
)
def test_an_annotator_copying_the_expert_scores_one(expert: list[str], other: list[str]) -> None:
    rows = [(f"i{n}", "copy", label) for n, label in enumerate(expert)]
    rows += [(f"i{n}", "other", label) for n, label in enumerate(other[: len(expert)])]
    result = score_round(_round(list(expert)), _answers(rows))
    copy = next(r for r in result.annotators if r["annotator"] == "copy")
    assert copy["accuracy"] == 1.0
    assert copy["kappa"] == pytest.approx(1.0, abs=1e-12)
    assert copy["n_misses"] == 0
    assert all(m["annotator"] != "copy" for m in result.misses)


def test_scores_by_hand() -> None:
    expected = ["0", "1", "2", "1", "0"]
    rows = [(f"i{n}", "a", e) for n, e in enumerate(expected)]
    rows += [("i0", "b", "1"), ("i1", "b", "1"), ("i2", "b", "2"), ("i3", "b", "0")]
    rows += [("i4", "c", "0"), ("zz", "c", "2")]  # an item outside the round is ignored
    result = score_round(_round(expected), _answers(rows), guide=read_guideline(V2))
    b = next(r for r in result.annotators if r["annotator"] == "b")
    assert (b["n_items"], b["n_correct"]) == (4, 2)
    low, high = wilson_interval(2, 4)
    assert b["accuracy_ci95"] == [pytest.approx(float(low)), pytest.approx(float(high))]
    # expected x given: rows 0,1,2; b said 1 for 0, 1 for 1, 2 for 2, 0 for 1
    assert b["confusion"] == [[0, 1, 0], [1, 1, 0], [0, 0, 1]]
    p_o, p_e = 2 / 4, (1 * 1 + 2 * 2 + 1 * 1) / 16
    assert b["kappa"] == pytest.approx((p_o - p_e) / (1 - p_e), abs=1e-12)
    assert result.annotators[0]["annotator"] == "b"  # needs coaching first
    assert b["status"] == "needs coaching"
    misses = [m for m in result.misses if m["annotator"] == "b"]
    assert [(m["item"], m["answer"], m["expected"], m["section"]) for m in misses] == [
        ("i0", "1", "0", "pref.tie.2"),
        ("i3", "0", "1", "pref.tie.2"),
    ]
    assert misses[0]["text"] == "text 0"


def test_expert_answers_from_the_file() -> None:
    rows = [("i0", "boss", "1"), ("i1", "boss", "2"), ("i0", "a", "1"), ("i1", "a", "1")]
    result = score_round(_round([None, None]), _answers(rows), expert="boss")
    assert [r["annotator"] for r in result.annotators] == ["a"]
    assert result.annotators[0]["n_correct"] == 1


def test_feedback_sheets_are_escaped_and_formula_safe(tmp_path: Path) -> None:
    rows = [("i0", "=cmd|' /C calc'!A0", "1"), ("i1", "=cmd|' /C calc'!A0", "1")]
    round_ = CalibrationRound(
        "r1",
        "gold",
        0,
        "none",
        "v2",
        (
            {"item": "i0", "expected": "0", "text": "<script>alert(1)</script>", "batch": "b"},
            {"item": "i1", "expected": "0", "text": '=HYPERLINK("x")', "batch": "b"},
        ),
    )
    data = score_round(round_, _answers(rows), guide=read_guideline(V2)).to_dict()
    written = write_feedback(data, tmp_path, read_guideline(V2))
    names = sorted(p.name for p in written)
    assert "team.csv" in names and "cmd_C_calc_A0.html" in names
    html = (tmp_path / "cmd_C_calc_A0.html").read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "A tie is not a way out" in html  # the deciding rule's text
    with (tmp_path / "cmd_C_calc_A0.csv").open(encoding="utf-8") as handle:
        rows_read = list(csv.DictReader(handle))
    assert [r["text"] for r in rows_read] == ["<script>alert(1)</script>", '\'=HYPERLINK("x")']
    team = (tmp_path / "team.csv").read_text(encoding="utf-8")
    assert "'=cmd" in team  # the annotator name cannot run as a formula


def test_feedback_workbook_holds_the_csv_tables_as_text(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    rows = [("i0", "=cmd|' /C calc'!A0", "1"), ("i1", "=cmd|' /C calc'!A0", "1")]
    round_ = CalibrationRound(
        "r1",
        "gold",
        0,
        "none",
        "v2",
        (
            {"item": "i0", "expected": "0", "text": "<b>x</b>", "batch": "b"},
            {"item": "i1", "expected": "0", "text": '=HYPERLINK("x")', "batch": "b"},
        ),
    )
    data = score_round(round_, _answers(rows), guide=read_guideline(V2)).to_dict()
    written = write_feedback(data, tmp_path, read_guideline(V2), xlsx=True)
    assert written[-1] == tmp_path / "feedback.xlsx"
    book = openpyxl.load_workbook(written[-1])
    assert book.sheetnames == ["team", "cmd_C_calc_A0"]
    cells = [c for sheet in book for row in sheet.iter_rows() for c in row if c.value is not None]
    assert cells and all(c.data_type in {"s", "n"} for c in cells)  # no formula cell
    misses = [[c.value for c in row] for row in book["cmd_C_calc_A0"].iter_rows()]
    assert misses[0][:4] == ["item", "text", "answer", "expected"]
    assert [m[1] for m in misses[1:]] == ["<b>x</b>", '\'=HYPERLINK("x")']


def test_worked_example_round_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = write_example(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(app, ["init", ".", "--categories", "0,1,2"]).exit_code == 0
    config = tmp_path / "labelaudit.toml"
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            '# file = "gold.csv"', 'file = "batches/gold.csv"'
        )
        + '\n[guidelines]\nfile = "guidelines-v2.md"\n',
        encoding="utf-8",
    )
    for batch, _, path in files.batches:
        assert runner.invoke(app, ["ingest", str(path), "--batch", batch]).exit_code == 0
    created = runner.invoke(
        app, ["calibration", "create", "--items", "30", "--stratify", "label", "--out-dir", "r1"]
    )
    assert created.exit_code == 0, created.output
    again = runner.invoke(
        app, ["calibration", "create", "--items", "30", "--stratify", "label", "--out-dir", "r1b"]
    )
    assert again.exit_code == 0
    first = read_round(tmp_path / "r1")
    assert [i["item"] for i in first.items] == [
        i["item"] for i in read_round(tmp_path / "r1b").items
    ]
    assert len(first.items) == 30 and all(i["expected"] is not None for i in first.items)
    tasks = json.loads((tmp_path / "r1" / "tasks.json").read_text(encoding="utf-8"))
    assert tasks[0]["data"]["item"] == first.items[0]["item"]
    scored = runner.invoke(
        app,
        [
            "calibration",
            "score",
            "r1",
            str(files.answers),
            "--feedback-dir",
            "fb",
            "--xlsx",
            "--format",
            "json",
        ],
    )
    assert scored.exit_code == 0, scored.output
    data = json.loads(scored.stdout)
    assert {r["annotator"] for r in data["annotators"]} == {
        "annotator1",
        "annotator2",
        "annotator3",
    }
    assert (tmp_path / "fb" / "annotator3.html").is_file()
    assert (tmp_path / "fb" / "feedback.xlsx").is_file()
    from labelaudit.guidelines.stored import calibration_history
    from labelaudit.project import Project

    with Project.load(tmp_path).open_store(read_only=True) as store:
        history = calibration_history(store, "annotator3")
    assert [(h["round"], h["guideline_version"]) for h in history] == [("r1", "v2")]
    assert history[0]["accuracy"] == next(
        r["accuracy"] for r in data["annotators"] if r["annotator"] == "annotator3"
    )
    hard = runner.invoke(
        app, ["calibration", "create", "--items", "10", "--from", "hard", "--out-dir", "h"]
    )
    assert hard.exit_code == 0, hard.output
    queue = runner.invoke(
        app, ["calibration", "create", "--items", "10", "--from", "queue", "--out-dir", "q"]
    )
    assert queue.exit_code == 0, queue.output
    bad = runner.invoke(app, ["calibration", "create", "--items", "10", "--from", "nope"])
    assert bad.exit_code == 2 and "--from must be one of gold, queue, hard" in bad.output
    np.testing.assert_equal(len(read_round(tmp_path / "h").items), 10)
