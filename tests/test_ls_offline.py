"""Label Studio pieces that need no server: pull planning, user maps, review tasks, ingest.

Inputs are the exports saved from a real Label Studio 1.23.2 (tests/data/label_studio_live).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from labelaudit.cli.app import app
from labelaudit.exceptions import InputError
from labelaudit.io import parse_label_config, read_export, read_users
from labelaudit.project.pull import plan_pull
from labelaudit.quality import adjudication_queue
from labelaudit.quality.label_studio_review import pick_control, review_tasks
from ls_seed import ANNOTATORS, SENTIMENT_CONFIG

LIVE = Path(__file__).parent / "data" / "label_studio_live"


def _snapshot() -> list[dict]:  # type: ignore[type-arg]
    return list(json.loads((LIVE / "sentiment_snapshot.json").read_text()))


def test_plan_pull_new_then_nothing_then_revision_and_deletion() -> None:
    tasks = _snapshot()
    first = plan_pull(tasks, {})
    assert first.counts["new"] == 49 and first.counts["cancelled"] == 1
    assert first.n_rows == 48
    known = {row[0]: (row[1], row[4], row[5]) for row in first.ledger}
    again = plan_pull(tasks, known)
    assert again.ledger == [] and again.n_rows == 0 and again.counts["unchanged"] == 49
    changed = json.loads(json.dumps(tasks))
    changed[0]["annotations"][0]["updated_at"] = "2099-01-01T00:00:00Z"
    removed = changed[1]["annotations"].pop()
    later = plan_pull(changed, known)
    assert later.counts == {
        "new": 0, "updated": 1, "unchanged": 47, "cancelled": 0, "deleted": 1,
    }  # fmt: skip
    assert (f"a{removed['id']}", 2, None, None, removed["updated_at"], "deleted") in later.ledger
    assert [len(t["annotations"]) for t in later.tasks] == [1]


def test_plan_pull_since_and_models() -> None:
    tasks = _snapshot()
    assert plan_pull(tasks, {}, since="2099-01-01").n_rows == 0
    with_models = plan_pull(tasks, {}, include_models=True)
    assert with_models.counts["new"] == 49 + 12


def test_user_map_errors_name_file_line_and_value(tmp_path: Path) -> None:
    assert read_users(LIVE / "users.csv")["5"] == ANNOTATORS[3]
    bad = tmp_path / "users.csv"
    bad.write_text("id,email\n1,a@x\n1,b@x\n")
    with pytest.raises(InputError, match=r"users.csv:3: id listed twice"):
        read_users(bad)
    bad.write_text("user,who\n1,a\n")
    with pytest.raises(InputError, match="expected columns id and one of name"):
        read_users(bad)


def _queue(name: str, **options):  # type: ignore[no-untyped-def]
    table, _ = read_export(LIVE / name, task_key="data.item", **options)
    return table, adjudication_queue(table, method="majority", threshold=0.99)


def test_review_tasks_refuse_a_label_the_config_lacks() -> None:
    table, queue = _queue("sentiment_snapshot.json", control="sentiment")
    config = parse_label_config(SENTIMENT_CONFIG.replace('<Choice value="neutral"/>', ""))
    with pytest.raises(InputError, match=r"label not in the label config.*'neutral'"):
        review_tasks(queue, table, config, pick_control(config, table.task, None))


def test_review_tasks_need_the_field_the_config_shows() -> None:
    table, queue = _queue("sentiment_snapshot.json", control="sentiment")
    config = parse_label_config(SENTIMENT_CONFIG.replace("$text", "$body"))
    with pytest.raises(InputError, match=r"data\.body"):
        review_tasks(queue, table, config, pick_control(config, table.task, "sentiment"))


def test_review_control_is_picked_by_type_or_refused_with_the_list() -> None:
    config = parse_label_config(SENTIMENT_CONFIG)
    assert pick_control(config, "categorical", None).name == "sentiment"
    with pytest.raises(InputError, match=r"sentiment \(choices\), comment \(textarea\)"):
        pick_control(config, "spans", None)


def test_ingest_reads_an_export_as_agreement_does(tmp_path: Path) -> None:
    runner = CliRunner()
    root = tmp_path / "p"
    assert runner.invoke(app, ["init", str(root)]).exit_code == 0
    args = [
        "ingest", str(LIVE / "sentiment_snapshot.json"), "--batch", "w1", "--project", str(root),
        "--control", "sentiment", "--task-key", "data.item",
    ]  # fmt: skip
    stored = runner.invoke(app, args)
    assert stored.exit_code == 0, stored.output
    words = " ".join(stored.output.split())  # the page wraps long lines
    assert "stored batch 'w1': 48 annotations, 12 items, 5 annotators" in words
    again = runner.invoke(app, args)
    assert "already ingested" in " ".join(again.output.split())
    missing = runner.invoke(app, args[:-4])
    assert missing.exit_code == 2
    assert "--item-col" not in missing.output
    assert "sentiment (choices), comment (textarea)" in missing.output
