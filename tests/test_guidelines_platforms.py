"""From guideline to platforms: a judge TOML from the guideline, and the Label Studio config
and calibration tasks against a real Label Studio (annotate, export, score)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from labelaudit.cli.app import app
from labelaudit.guidelines import label_studio_config, parse_guideline, read_guideline
from labelaudit.guidelines.calibration import CalibrationRound, write_round
from labelaudit.guidelines.judge import judge_from_guideline
from labelaudit.judge.definition import load_judge
from labelaudit.judge.prompt import PromptBuilder, template_fields

V2 = Path(__file__).resolve().parents[1] / "src/labelaudit/guidelines/examples/pandalm-v2.md"
runner = CliRunner()


def test_judge_init_carries_definitions_and_rules(tmp_path: Path) -> None:
    out = tmp_path / "judge.toml"
    args = ["judge", "init", "--from-guidelines", str(V2), "--out", str(out)]
    result = runner.invoke(app, [*args, "--field", "instruction", "--field", "response1"])
    assert result.exit_code == 0, result.output
    judge = load_judge(out)
    assert judge.mode == "label" and judge.categories == ("0", "1", "2")
    assert template_fields(judge) == {"instruction", "response1"}
    messages = PromptBuilder(judge).messages({"instruction": "Say hi", "response1": "hi"})
    prompt = messages[-1]["content"]
    guide = read_guideline(V2)
    for label in guide.labels:
        assert label.definition in prompt
    for section in guide.sections:
        assert f"[{section.id}] {section.title}" in prompt
    assert "Say hi" in prompt


def test_guideline_text_is_never_template_code(tmp_path: Path) -> None:
    text = V2.read_text(encoding="utf-8").replace(
        "Choose `0` (tie) when", "Choose {{ secret }} {% endraw %} {% if x %} `0` (tie) when"
    )
    guide = parse_guideline(text, source="g.md")
    path = tmp_path / "judge.toml"
    path.write_text(judge_from_guideline(guide, model="m", base_url="http://x/v1"), "utf-8")
    judge = load_judge(path)
    assert template_fields(judge) == {"text"}
    prompt = PromptBuilder(judge).messages({"text": "item"})[-1]["content"]
    assert "Choose {{ secret }}" in prompt


@pytest.mark.label_studio
def test_label_config_and_round_tasks_in_label_studio(label_studio: Any, tmp_path: Path) -> None:
    ls = label_studio
    guide = read_guideline(V2)
    project = ls.create_project("calibration", label_studio_config(guide))
    stored = ls.api("GET", f"/api/projects/{project}")
    assert "hint=" in stored["label_config"]
    round_ = CalibrationRound(
        "r1",
        "gold",
        0,
        "none",
        "v2",
        tuple(
            {"item": f"i{n}", "expected": e, "text": f"Item {n}", "batch": "b"}
            for n, e in enumerate(["0", "1", "2", "1"])
        ),
    )
    write_round(round_, tmp_path / "r1")
    tasks = json.loads((tmp_path / "r1" / "tasks.json").read_text(encoding="utf-8"))
    ids = ls.import_tasks(project, tasks)
    token = ls.add_user("calibrator@example.com")
    answers = ["0", "1", "1", "1"]  # one miss: i2 expected 2
    for task, label in zip(ids, answers, strict=True):
        result = [
            {"from_name": "label", "to_name": "text", "type": "choices",
             "value": {"choices": [label]}}
        ]  # fmt: skip
        ls.annotate(task, result, token)
    export = tmp_path / "export.json"
    export.write_bytes(ls.export(project, "JSON"))
    scored = runner.invoke(
        app,
        [
            "calibration", "score", str(tmp_path / "r1"), str(export), "--task-key", "data.item",
            "--no-store", "--guidelines", str(V2), "--format", "json",
        ],
    )  # fmt: skip
    assert scored.exit_code == 0, scored.output
    data = json.loads(scored.stdout)
    (row,) = data["annotators"]
    assert (row["n_items"], row["n_correct"]) == (4, 3)
    assert [(m["item"], m["answer"], m["expected"]) for m in data["misses"]] == [("i2", "1", "2")]
