"""End-to-end tests of ``labelaudit consensus``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from labelaudit.cli.app import app
from labelaudit.cli.common import CategoricalMethod, ConsensusMethod
from labelaudit.consensus.api import METHODS
from labelaudit.datasets import dataset_path
from labelaudit.methods import CONSENSUS_METHODS
from labelaudit.quality import METHOD_NAMES
from labelaudit.table import read_annotations

runner = CliRunner()
BLUEBIRDS = str(dataset_path("bluebirds"))
DUCKS = str(Path(__file__).parent / "data" / "consensus" / "ducks" / "answers.csv")


def run(*args: str) -> Any:
    return runner.invoke(app, ["consensus", *args])


def test_cli_methods_match_the_library() -> None:
    # one list of names: the CLI choices, the library's classes and the quality methods
    assert [str(m) for m in ConsensusMethod] == list(METHODS) == list(CONSENSUS_METHODS)
    assert [cls.cli_name for cls in METHODS.values()] == list(CONSENSUS_METHODS)
    assert [str(m) for m in CategoricalMethod] == list(METHOD_NAMES)
    assert set(METHOD_NAMES) <= set(CONSENSUS_METHODS)


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_writes_labels_by_extension(tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"labels{suffix}"
    result = run(DUCKS, "--method", "majority", "--tie", "abstain", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "wrote 240 rows" in result.stderr
    if suffix == ".csv":
        table = pacsv.read_csv(out, convert_options=pacsv.ConvertOptions(strings_can_be_null=True))
    elif suffix == ".parquet":
        table = pq.read_table(out)
    else:
        rows = [json.loads(line) for line in out.read_text().splitlines()]
        table = pa.Table.from_pylist(rows)
    assert table.column_names == ["item", "label", "confidence"]
    assert table.num_rows == 240
    assert table.column("label").null_count == 6  # the tied items, left for adjudication


def test_json_summary_contract() -> None:
    result = run(BLUEBIRDS, "--method", "dawid-skene", "--format", "json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert list(summary) == [
        "method",
        "parameters",
        "n_items",
        "n_annotators",
        "n_labels",
        "n_categories",
        "n_abstained",
        "n_iter",
        "converged",
        "log_likelihood",
        "label_distribution",
        "mean_confidence",
        "min_confidence",
        "values",
        "reasons",
    ]
    assert summary["method"] == "dawid-skene" and summary["converged"] is True
    assert summary["n_items"] == 108 and summary["n_labels"] == 4212
    assert summary["label_distribution"] == {"0": 61, "1": 47}
    assert summary["parameters"]["max_iter"] == 100


@pytest.mark.parametrize("method", [m for m in CONSENSUS_METHODS if m != "weighted"])
def test_every_method_runs(method: str) -> None:
    options = ["--max-iter", "3"] if method in ("glad", "mace") else []
    result = run(BLUEBIRDS, "--method", method, "--format", "json", *options)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["method"] == method


def test_table_and_markdown_output() -> None:
    result = run(BLUEBIRDS, "--method", "mace", "--max-iter", "5", "--seed", "3")
    assert result.exit_code == 0, result.output
    assert "n_items" in result.stdout and "Label distribution" in result.stdout
    assert result.stdout.startswith("Consensus (mace)\nmace: 108 items from 4,212 labels")
    markdown = run(BLUEBIRDS, "--method", "median", "--format", "markdown")
    assert markdown.exit_code == 0 and "- median:" in markdown.stdout
    majority = run(BLUEBIRDS, "--method", "majority")
    assert "one-pass method" in majority.stdout


def test_weights_file(tmp_path: Path) -> None:
    weights = tmp_path / "weights.csv"
    names = read_annotations(BLUEBIRDS).annotators
    lines = ["annotator,weight"] + [f"{a},{1 + i % 3}" for i, a in enumerate(names)]
    weights.write_text("\n".join(lines) + "\n")
    out = tmp_path / "labels.csv"
    args = [BLUEBIRDS, "--method", "weighted", "--weights-file", str(weights), "--out", str(out)]
    result = run(*args)
    assert result.exit_code == 0, result.output
    assert pacsv.read_csv(out).num_rows == 108


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--method", "weighted"], "needs weights"),
        (["--method", "majority", "--max-iter", "3"], "does not apply to method 'majority'"),
        (["--out", "labels.xlsx"], "cannot tell the output format"),
        (["--method", "mean", "--layout", "wide"], "error:"),
        (["--method", "dawid-skene", "--tol", "-1"], "'tol' parameter of DawidSkene"),
    ],
)
def test_bad_input_exits_2_with_one_line(args: list[str], message: str) -> None:
    result = run(BLUEBIRDS, *args)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]


def test_bad_weights_file_names_the_line(tmp_path: Path) -> None:
    weights = tmp_path / "weights.csv"
    weights.write_text("annotator,weight\n1,0.5\n2,heavy\n")
    result = run(BLUEBIRDS, "--method", "weighted", "--weights-file", str(weights))
    assert result.exit_code == 2
    assert f"{weights}:3: invalid weight; field 'weight'" in result.stderr
    assert "got 'heavy'" in result.stderr


def test_numeric_labels_needed_for_mean(tmp_path: Path) -> None:
    data = tmp_path / "words.csv"
    data.write_text("item,annotator,label\na,x,good\na,y,bad\n")
    result = run(str(data), "--method", "mean")
    assert result.exit_code == 2
    assert "numeric consensus needs numeric labels" in result.stderr
    assert "field 'label'" in result.stderr
