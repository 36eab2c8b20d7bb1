"""End-to-end tests of ``labelaudit annotators`` and ``labelaudit adjudicate``: exit codes 0/1/2."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from labelaudit.cli.app import app
from labelaudit.datasets import dataset_path

runner = CliRunner()
QUEUE_CSV = str(Path(__file__).parent / "data" / "quality" / "queue.csv")
BLUEBIRDS = str(dataset_path("bluebirds"))
TRUTH = str(dataset_path("bluebirds-truth"))
GOLD = ["--gold", TRUTH, "--gold-item-col", "task", "--gold-label-col", "truth"]


@pytest.fixture(scope="module")
def clean_csv(tmp_path_factory: pytest.TempPathFactory) -> str:
    """5 annotators x 30 items who all agree with the truth but for one error each."""
    path = tmp_path_factory.mktemp("clean") / "clean.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["item", "annotator", "label", "gold_label"])
        for i in range(30):
            for a in range(5):
                label = "yn"[(i % 2) ^ (i == a)]
                writer.writerow([f"i{i}", f"a{a}", label, "yn"[i % 2] if i < 20 else ""])
    return str(path)


def test_annotators_json_on_bluebirds() -> None:
    result = runner.invoke(app, ["annotators", BLUEBIRDS, *GOLD, "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["n_annotators"] == 39 and len(document["annotators"]) == 39
    assert document["gold"]["aggregators"]["majority"]["value"] == pytest.approx(82 / 108)
    assert document["n_flagged"] > 0  # bluebirds has workers at chance level


def test_fail_on_flag_exit_codes(clean_csv: str) -> None:
    flagged = runner.invoke(app, ["annotators", BLUEBIRDS, "--fail-on-flag"])
    assert flagged.exit_code == 1, flagged.output
    assert "12 of 39 annotators need attention: 175 (unusual label distribution)" in flagged.stdout
    without = runner.invoke(app, ["annotators", BLUEBIRDS])
    assert without.exit_code == 0
    clean = runner.invoke(
        app, ["annotators", clean_csv, "--gold-col", "gold_label", "--fail-on-flag"]
    )
    assert clean.exit_code == 0, clean.output
    assert "No annotator flagged among 5." in clean.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.csv"], "file not found"),
        ([BLUEBIRDS, "--gold", TRUTH], "no gold column"),
        ([BLUEBIRDS, "--gold-col", "nope"], "no gold column"),
        ([BLUEBIRDS, "--z-threshold", "0"], "z_threshold must be in"),
        ([BLUEBIRDS, "--gold", TRUTH, "--gold-col", "x"], "not both"),
        ([BLUEBIRDS, "--duration-col", "secs"], "no such column"),
    ],
)
def test_annotators_bad_input_exits_2(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["annotators", *args])
    assert result.exit_code == 2
    assert message in result.stderr and result.stderr.startswith("error: ")


def test_gold_label_outside_categories_exits_2(tmp_path: Path) -> None:
    gold = tmp_path / "gold.csv"
    gold.write_text("task,truth\n11573,1\n11574,yes\n", encoding="utf-8")
    result = runner.invoke(
        app, ["annotators", BLUEBIRDS, "--gold", str(gold), "--gold-item-col", "task",
              "--gold-label-col", "truth"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert f"{gold}:3: gold label outside the categories" in result.stderr


def test_hostile_names_are_shown_literally(tmp_path: Path) -> None:
    wide = {"COLUMNS": "200"}  # no folding of long names in the Rich table
    table = runner.invoke(
        app, ["annotators", QUEUE_CSV, "--min-labels", "1", "--min-pool", "2"], env=wide
    )
    assert table.exit_code == 0, table.output
    assert "[bold]carol[/bold]" in table.stdout and "<script>alert(1)</script>" in table.stdout
    markdown = runner.invoke(app, ["annotators", QUEUE_CSV, "--format", "markdown"])
    assert markdown.exit_code == 0
    assert r"| \[bold\]carol\[/bold\] |" in markdown.stdout  # the one Markdown escaping
    escaped = tmp_path / "esc.csv"
    escaped.write_text("item,annotator,label\ni1,\x1b[31mred,a\ni1,b|c,a\n", encoding="utf-8")
    shown = runner.invoke(app, ["annotators", str(escaped), "--format", "markdown"])
    assert r"\\x1b\[31mred" in shown.stdout and "\x1b" not in shown.stdout
    assert "b\\|c" in shown.stdout


def test_adjudicate_writes_queue_and_label_studio_files(tmp_path: Path) -> None:
    out = tmp_path / "queue.jsonl"
    result = runner.invoke(
        app,
        ["adjudicate", QUEUE_CSV, "--method", "majority", "--threshold", "0.7", "--out", str(out),
         "--label-studio", "--ls-from-name", "sentiment", "--text-col", "text"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "4 of 6 items need adjudication (tie: 3, low confidence: 1)" in result.stdout
    entries = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [e["item"] for e in entries] == ["t4", "t1", "t5", "t2"]
    tasks = json.loads((tmp_path / "queue.label-studio.json").read_text(encoding="utf-8"))
    assert [t["data"]["item"] for t in tasks] == ["t4", "t1", "t5", "t2"]
    assert tasks[1]["data"]["text"] == "Great, really great"
    region = tasks[1]["predictions"][0]["result"][0]
    assert region["from_name"] == "sentiment" and region["to_name"] == "text"


def test_adjudicate_streams_jsonl_and_json_summary() -> None:
    result = runner.invoke(
        app, ["adjudicate", QUEUE_CSV, "--method", "majority", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [json.loads(line)["item"] for line in lines] == ["t4", "t1", "t5", "t2"]
    summary = json.loads(result.stderr)
    assert summary == {
        "method": "majority",
        "threshold": 0.7,
        "n_items": 6,
        "n_queued": 4,
        "by_reason": {"tie": 3, "low_confidence": 1},
        "out": None,
        "label_studio": None,
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--label-studio"], "--label-studio needs --out or --ls-out"),
        (["--threshold", "2"], "threshold must be a number in [0, 1]"),
        (["--label-studio", "--ls-out", "x.json", "--text-col", "body"], "no such data column"),
        (["--out", "/nonexistent/dir/q.jsonl"], "No such file or directory"),
    ],
)
def test_adjudicate_bad_input_exits_2(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["adjudicate", QUEUE_CSV, *args])
    assert result.exit_code == 2
    assert message in result.stderr


def test_annotators_methods_and_exclude_gold_options(clean_csv: str) -> None:
    result = runner.invoke(
        app,
        ["annotators", clean_csv, "--gold-col", "gold_label", "--method", "majority",
         "--method", "glad", "--exclude-gold", "--format", "json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["config"]["methods"] == ["majority", "glad"]
    assert document["config"]["exclude_gold"] is True
    assert set(document["gold"]["aggregators"]) == {"majority", "glad"}
    assert all(row["n_compared"] == 10 for row in document["annotators"])  # 30 - 20 gold items
    assert document["reasons"]["mace_spamming"] == "mace is not among the methods"
