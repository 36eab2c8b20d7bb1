"""write_table / read back round trips, and the ``convert`` and ``agreement`` CLI on exports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from labelaudit.cli.app import app
from labelaudit.io import detect_format, read_export, write_table

DATA = Path(__file__).parent / "data" / "formats"
ALL = DATA / "label_studio" / "ls_all_types.json"
CONFIG = DATA / "label_studio" / "ls_config.xml"
runner = CliRunner()
CASES = {
    "categorical": (ALL, {"control": "sentiment", "label_config": CONFIG}),
    "ordinal": (ALL, {"control": "quality", "label_config": CONFIG}),
    "multilabel": (ALL, {"control": "topics", "label_config": CONFIG}),
    "spans": (ALL, {"control": "ner"}),
    "boxes": (ALL, {"control": "objects"}),
    "text": (ALL, {"control": "comment"}),
    "pairwise": (ALL, {"control": "pw", "label_config": CONFIG}),
    "ranking": (
        DATA / "argilla" / "records_flat.json",
        {"control": "preference", "task": "ranking"},
    ),
    "prodigy-tokens": (DATA / "doccano" / "sequence_labeling_export_example.jsonl", {}),
}


def content(table: Any) -> dict[str, list[Any]]:
    return {name: table.data.column(name).to_pylist() for name in table.data.column_names}


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".parquet"])
@pytest.mark.parametrize("case", list(CASES))
def test_round_trip(tmp_path: Path, case: str, suffix: str) -> None:
    source, options = CASES[case]
    table, _ = read_export(source, **options)
    out = write_table(table, tmp_path / f"table{suffix}")
    assert detect_format(out) == "canonical"
    back, report = read_export(out)
    assert report.format == "canonical" and back.task == table.task
    assert content(back) == content(table)
    if suffix == ".parquet":  # CSV/JSONL keep the task type, not level and declared order
        assert back.level == table.level
        assert back.schema == table.schema
        assert back.payload is None or back.payload.type == table.payload.type


def test_csv_holds_payload_as_json(tmp_path: Path) -> None:
    table, _ = read_export(ALL, control="ner")
    out = write_table(table, tmp_path / "spans.csv")
    header, first = out.read_text().splitlines()[:2]
    assert "payload" in header and "task_type" in header
    assert '[{""end"":5,""label"":""ORG"",""start"":0}' in first


def test_unknown_output_extension(tmp_path: Path) -> None:
    from labelaudit.exceptions import UsageError

    table, _ = read_export(ALL, control="sentiment")
    with pytest.raises(UsageError, match="extension"):
        write_table(table, tmp_path / "x.xlsx")


def _export(tmp_path: Path) -> Path:
    labels = {1: ["pos", "pos", "neg"], 2: ["pos", "neg", "neg"], 3: ["neu", "neu", "neu"]}
    tasks = [
        {
            "id": task,
            "data": {"text": f"t{task}"},
            "annotations": [
                {
                    "completed_by": user + 1,
                    "result": [
                        {
                            "from_name": "sentiment",
                            "to_name": "text",
                            "type": "choices",
                            "value": {"choices": [label]},
                        }
                    ],
                }
                for user, label in enumerate(choices)
            ],
        }
        for task, choices in labels.items()
    ]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(tasks))
    return path


def test_cli_convert_prints_report(tmp_path: Path) -> None:
    out = tmp_path / "ner.parquet"
    result = runner.invoke(
        app,
        ["convert", str(ALL), "--out", str(out), "--control", "ner", "--label-config", str(CONFIG)],
    )
    assert result.exit_code == 0, result.output
    assert "task: spans (control 'ner')" in result.output
    assert "skipped 5: cancelled: 1, missing result: 1, span end before start: 1" in result.output
    assert "record 2: span end before start" in result.output
    assert out.is_file()


def test_cli_convert_merges_projects(tmp_path: Path) -> None:
    one = _export(tmp_path)
    two = tmp_path / "two.json"
    two.write_text(one.read_text().replace('"completed_by": ', '"completed_by": 1'))
    out = tmp_path / "merged.jsonl"
    args = ["convert", str(one), str(two), "--out", str(out), "--task-key", "data.text"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert len(out.read_text().splitlines()) == 18


def test_cli_agreement_on_label_studio_export(tmp_path: Path) -> None:
    result = runner.invoke(app, ["agreement", str(_export(tmp_path)), "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["n_items"] == 3 and report["n_annotators"] == 3
    assert report["metrics"]["percent_agreement"]["value"] == pytest.approx((1 / 3 + 1 / 3 + 1) / 3)
    named = runner.invoke(
        app, ["agreement", str(_export(tmp_path)), "--from", "label-studio", "--format", "json"]
    )
    assert named.exit_code == 0 and json.loads(named.stdout)["n_ratings"] == 9


def test_cli_agreement_on_converted_structured_table(tmp_path: Path) -> None:
    out = tmp_path / "spans.parquet"
    assert (
        runner.invoke(app, ["convert", str(ALL), "--out", str(out), "--control", "ner"]).exit_code
        == 0
    )
    result = runner.invoke(app, ["agreement", str(out), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["n_items"] == 3


def test_cli_exit_2_on_truncated_file(tmp_path: Path) -> None:
    path = _export(tmp_path)
    path.write_bytes(path.read_bytes()[:-40])
    for command in (
        ["agreement", str(path)],
        ["convert", str(path), "--out", str(tmp_path / "x.csv")],
    ):
        result = runner.invoke(app, command)
        assert result.exit_code == 2
        assert "truncated file" in result.output and "Traceback" not in result.output


def test_cli_exit_2_on_several_controls(tmp_path: Path) -> None:
    result = runner.invoke(app, ["agreement", str(ALL)])
    assert result.exit_code == 2 and "several labelling controls" in result.output
