"""The whole loop against a real Label Studio 1.23.2: annotate, pull, agreement, push review
tasks, adjudicate in Label Studio, pull the decisions, annotator agreement with them.

Run for the choices project (with a second TextArea control) and for the NER project.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from labelaudit.cli.app import app
from ls_harness import LabelStudio
from ls_seed import (
    ADJUDICATOR,
    ANNOTATORS,
    NER_CONFIG,
    NER_GOLD,
    NER_TEXTS,
    SENTIMENT_CONFIG,
    TRUTH,
    Seeded,
    choices_result,
    spans_result,
)

pytestmark = pytest.mark.label_studio


def run(args: list[str], token: str) -> Any:
    result = CliRunner().invoke(app, args, env={"LABEL_STUDIO_API_KEY": token})
    assert result.exit_code == 0, result.output
    return result


def _pull(ls: LabelStudio, project: int, root: Path, *extra: str) -> dict[str, Any]:
    args = ["pull", "--ls-url", ls.url, "--ls-project", str(project), "--project", str(root)]
    return dict(json.loads(run([*args, "--format", "json", *extra], ls.token).output))


def _review_tasks(ls: LabelStudio, project: int) -> list[dict[str, Any]]:
    listed = ls.api("GET", "/api/tasks/", params={"project": project, "fields": "all"})
    tasks = listed["tasks"] if isinstance(listed, dict) else listed
    return [ls.api("GET", f"/api/tasks/{task['id']}") for task in tasks]


def _loop(
    ls: LabelStudio,
    seeded: Seeded,
    tmp_path: Path,
    spec: dict[str, Any],
) -> tuple[Path, dict[str, Any], list[dict[str, Any]]]:
    """Pull twice, agreement, adjudicate --push, annotate the review tasks, pull decisions."""
    root = tmp_path / "project"
    run(["init", str(root), *spec["init"]], ls.token)
    first = _pull(ls, spec["project"], root, *spec["read"], "--batch", "b1")
    assert first["outcome"] == "ingested" and first["n_rows"] == spec["rows"]
    assert _pull(ls, spec["project"], root, *spec["read"])["outcome"] == "up to date"
    pulled = first["file"]
    agreement = run(["agreement", pulled, *spec["read"], "--format", "json"], ls.token)
    assert json.loads(agreement.output)["n_items"] == spec["items"]
    review = ls.create_project(f"review {spec['name']}", spec["config"])
    ls_file = tmp_path / "review.json"
    push = [
        "adjudicate", pulled, *spec["read"], "--method", "majority", "--threshold", "0.99",
        "--out", str(tmp_path / "queue.jsonl"), "--label-studio", "--ls-out", str(ls_file),
        "--push", "--ls-url", ls.url, "--ls-project", str(review), "--format", "json",
    ]  # fmt: skip
    summary = json.loads(run(push, ls.token).stdout)  # "pushed ..." goes to stderr
    assert summary["pushed"]["n_tasks"] == summary["n_queued"] > 0
    tasks = _review_tasks(ls, review)
    assert len(tasks) == summary["n_queued"]
    lead = seeded.tokens[ADJUDICATOR]
    for task in tasks:
        ls.annotate(task["id"], spec["decide"](task["data"]), lead)
    decisions = _pull(ls, review, root, "--as-decisions", *spec["read"][:2])
    assert decisions["outcome"] == "decisions"
    assert decisions["n_decisions"] == len(tasks)
    assert decisions["recomputed"] == ["b1"]  # the batch holding the decided items
    from labelaudit.project import find_project

    with find_project(root).open_store() as store:
        decided = store.execute(
            "SELECT value FROM batch_metrics WHERE kind = 'decisions' AND metric = ?",
            ("decided_items",),
        ).fetchall()
    assert decided == [(float(len({t["data"]["labelaudit_item"] for t in tasks})),)]
    report = run(
        ["annotators", pulled, *spec["read"], "--decisions", str(root), "--format", "json"],
        ls.token,
    )
    return root, json.loads(report.output)["decisions"], tasks


def _sentiment_project(ls: LabelStudio, seeded: Seeded) -> tuple[int, dict[tuple[str, str], str]]:
    """A fresh sentiment project annotated by three annotators (one dissent per item)."""
    sentiment = ls.create_project("sentiment again", SENTIMENT_CONFIG)
    items = ls.import_tasks(
        sentiment,
        [{"data": {"item": f"s{i:02d}", "text": f"text {i}"}} for i in range(len(TRUTH))],
    )
    labels = {}
    for index, task in enumerate(items):
        for k, email in enumerate(ANNOTATORS[:3]):
            wrong = (index + k) % 4 == 0  # every item has at most one dissenter
            other = "neutral" if TRUTH[index] != "neutral" else "positive"
            labels[(f"s{index:02d}", email)] = other if wrong else TRUTH[index]
            comment = "unsure" if wrong else None
            ls.annotate(task, choices_result(labels[(f"s{index:02d}", email)], comment),
                        seeded.tokens[email])  # fmt: skip
    return sentiment, labels


def _readme_blocks() -> list[str]:
    """The two sh blocks of the README's 'Label Studio, live' section."""
    import re

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Label Studio, live", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, re.DOTALL)


def test_readme_loop_runs_as_written(
    seeded_ls: tuple[LabelStudio, Seeded],
    tmp_path: Path,
) -> None:
    import os
    import subprocess
    import sys

    ls, seeded = seeded_ls
    sentiment, _ = _sentiment_project(ls, seeded)
    review = ls.create_project("review (README)", SENTIMENT_CONFIG)
    first, second = _readme_blocks()
    env = {
        **os.environ, "LS_URL": ls.url, "LS_PROJECT": str(sentiment), "LS_REVIEW": str(review),
        "LABEL_STUDIO_API_KEY": ls.token,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }  # fmt: skip

    def shell(script: str) -> str:
        done = subprocess.run(
            ["bash", "-c", "set -euo pipefail\n" + script], cwd=tmp_path, env=env,
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout + done.stderr

    output = shell(first)
    assert "nothing new since the last pull" in output
    tasks = _review_tasks(ls, review)
    assert tasks, output
    for task in tasks:
        item = task["data"]["labelaudit_item"]
        ls.annotate(task["id"], choices_result(TRUTH[int(item[1:])]), seeded.tokens[ADJUDICATOR])
    output = shell("cd sentiment-qa\n" + second)
    assert f"stored {len(tasks)} decisions" in output
    assert "agreement with adjudicators' decisions" in output


def test_choices_project_with_a_comment_control_round_trip(
    seeded_ls: tuple[LabelStudio, Seeded],
    tmp_path: Path,
) -> None:
    ls, seeded = seeded_ls
    sentiment, labels = _sentiment_project(ls, seeded)
    spec = {
        "name": "sentiment",
        "project": sentiment,
        "config": SENTIMENT_CONFIG,
        "init": ["--categories", "positive,negative,neutral"],
        "read": ["--control", "sentiment", "--task-key", "data.item"],
        "rows": 36,
        "items": 12,
        "decide": lambda data: choices_result(TRUTH[int(data["labelaudit_item"][1:])]),
    }
    _, decisions, tasks = _loop(ls, seeded, tmp_path, spec)
    for task in tasks:
        assert "text" in task["data"] and "labelaudit_reason" in task["data"]
        assert {p["model_version"] for p in task["predictions"]} == set(ANNOTATORS[:3])
        for prediction in task["predictions"]:
            [region] = prediction["result"]
            assert (region["from_name"], region["to_name"], region["type"]) == (
                "sentiment", "text", "choices",
            )  # fmt: skip
    decided = {t["data"]["labelaudit_item"] for t in tasks}
    for email in ANNOTATORS[:3]:
        agreed = sum(labels[(i, email)] == TRUTH[int(i[1:])] for i in decided)
        row = decisions["annotators"][email]
        assert (row["n"], row["agreed"]) == (len(decided), agreed)


def test_ner_project_round_trip(
    seeded_ls: tuple[LabelStudio, Seeded],
    tmp_path: Path,
) -> None:
    ls, seeded = seeded_ls
    spec = {
        "name": "ner",
        "project": seeded.ner,
        "config": NER_CONFIG,
        "init": ["--task", "spans"],
        "read": ["--control", "ner", "--task-key", "data.item"],
        "rows": 12,
        "items": 4,
        "decide": lambda data: spans_result(
            data["text"], list(NER_GOLD[int(data["labelaudit_item"][1:])])
        ),
    }
    _, decisions, tasks = _loop(ls, seeded, tmp_path, spec)
    by_item = {t["data"]["labelaudit_item"]: t for t in tasks}
    emoji = by_item["n2"]
    assert emoji["data"]["text"] == NER_TEXTS[2]
    for prediction in emoji["predictions"]:
        for region in prediction["result"]:
            assert (region["from_name"], region["to_name"], region["type"]) == (
                "ner", "text", "labels",
            )  # fmt: skip
            start, end = region["value"]["start"], region["value"]["end"]
            assert NER_TEXTS[2][start:end] == region["value"]["text"]  # code points
    # ann1 marked every gold span (agrees with each decision); ann3 always missed one
    assert decisions["annotators"][ANNOTATORS[0]]["agreed"] == len(tasks)
    assert decisions["annotators"][ANNOTATORS[2]]["agreed"] == 0
