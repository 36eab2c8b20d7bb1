"""``labelaudit pull`` against a real Label Studio 1.23.2 on 127.0.0.1 (tests/ls_harness.py).

Order matters: the first tests pull the seeded sentiment project; later ones change
annotations on the server and pull again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from labelaudit.cli.app import app
from labelaudit.guidelines.stored import batch_versions
from labelaudit.project import find_project
from ls_harness import LabelStudio, free_port
from ls_seed import ANNOTATORS, Seeded, choices_result

pytestmark = pytest.mark.label_studio


def run(args: list[str], token: str, **env: str) -> Any:
    """Invoke the CLI with the token in the environment (never on the command line)."""
    return CliRunner().invoke(app, args, env={"LABEL_STUDIO_API_KEY": token, **env})


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pulled") / "sentiment"
    result = CliRunner().invoke(
        app, ["init", str(root), "--categories", "positive,negative,neutral"]
    )
    assert result.exit_code == 0, result.output
    return root


def batches(root: Path) -> list[Any]:
    with find_project(root).open_store(read_only=True) as store:
        return store.batches()


def ledger(root: Path) -> list[tuple[Any, ...]]:
    with find_project(root).open_store(read_only=True) as store:
        return store.execute(
            "SELECT record_id, revision, annotator, status FROM label_studio_pulls "
            "ORDER BY record_id, revision"
        ).fetchall()


def pull_args(ls: LabelStudio, ls_project: int, root: Path, *extra: str) -> list[str]:
    return [
        "pull", "--ls-url", ls.url, "--ls-project", str(ls_project), "--project", str(root),
        "--control", "sentiment", "--task-key", "data.item", "--format", "json", *extra,
    ]  # fmt: skip


def test_pull_twice_adds_nothing_the_second_time(
    seeded_ls: tuple[LabelStudio, Seeded],
    project: Path,
) -> None:
    ls, seeded = seeded_ls
    first = run(
        pull_args(ls, seeded.sentiment, project, "--batch", "week1", "--guidelines-version", "v7"),
        ls.token,
    )
    assert first.exit_code == 0, first.output
    summary = json.loads(first.output)
    assert summary["outcome"] == "ingested"
    assert summary["counts"]["new"] == 49 and summary["counts"]["cancelled"] == 1
    [batch] = batches(project)
    assert (batch.name, batch.n_annotations, batch.n_items) == ("week1", 48, 12)
    with find_project(project).open_store(read_only=True) as store:
        assert batch_versions(store) == {"week1": "v7"}  # recorded in the batch's transaction
    second = run(pull_args(ls, seeded.sentiment, project), ls.token)
    assert second.exit_code == 0, second.output
    assert json.loads(second.output)["outcome"] == "up to date"
    assert len(batches(project)) == 1
    assert ("a" + str(_cancelled_id(ls, seeded)), 1, ANNOTATORS[3], "cancelled") in ledger(project)


def _user_id(who: Any) -> int:
    return int(who["id"] if isinstance(who, dict) else who)


def _cancelled_id(ls: LabelStudio, seeded: Seeded) -> int:
    task = ls.api("GET", f"/api/tasks/{seeded.sentiment_tasks[11]}")
    return next(int(a["id"]) for a in task["annotations"] if a["was_cancelled"])


def test_updated_annotation_is_a_revision_and_deleted_one_is_recorded(
    seeded_ls: tuple[LabelStudio, Seeded],
    project: Path,
) -> None:
    ls, seeded = seeded_ls
    task = ls.api("GET", f"/api/tasks/{seeded.sentiment_tasks[5]}")
    by = {_user_id(a["completed_by"]): a for a in task["annotations"]}
    changed = by[seeded.user_ids[ANNOTATORS[1]]]
    gone = by[seeded.user_ids[ANNOTATORS[2]]]
    ls.api(
        "PATCH",
        f"/api/annotations/{changed['id']}/",
        token=seeded.tokens[ANNOTATORS[1]],
        json={"result": choices_result("neutral")},
    )
    ls.api("DELETE", f"/api/annotations/{gone['id']}/")
    result = run(pull_args(ls, seeded.sentiment, project), ls.token)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["counts"]["updated"] == 1 and summary["counts"]["deleted"] == 1
    assert summary["n_rows"] == 1
    rows = ledger(project)
    assert (f"a{changed['id']}", 2, ANNOTATORS[1], "submitted") in rows
    assert (f"a{gone['id']}", 2, None, "deleted") in rows
    newest = batches(project)[-1]
    with find_project(project).open_store(read_only=True) as store:
        stored = store.execute(
            "SELECT item, annotator, label FROM annotations WHERE batch_id = ?",
            (newest.batch_id,),
        ).fetchall()
    assert stored == [("s05", ANNOTATORS[1], "neutral")]
    again = run(pull_args(ls, seeded.sentiment, project), ls.token)
    assert json.loads(again.output)["outcome"] == "up to date"


def test_refused_token_and_unreachable_server_are_one_line_and_store_nothing(
    seeded_ls: tuple[LabelStudio, Seeded],
    project: Path,
) -> None:
    ls, seeded = seeded_ls
    before = len(batches(project))
    refused = run(pull_args(ls, seeded.sentiment, project), "0" * 40)
    assert refused.exit_code == 2
    assert refused.output.count("\n") == 1
    assert "Label Studio refused the token" in refused.output and "HTTP 401" in refused.output
    dead = f"http://127.0.0.1:{free_port()}"
    args = pull_args(ls, seeded.sentiment, project)
    args[args.index(ls.url)] = dead
    unreachable = run(args, ls.token)
    assert unreachable.exit_code == 2
    assert unreachable.output.startswith(f"error: {dead}: cannot reach Label Studio")
    assert "Traceback" not in unreachable.output and ls.token not in unreachable.output
    assert len(batches(project)) == before


def test_personal_access_token_is_exchanged_and_works(
    seeded_ls: tuple[LabelStudio, Seeded],
    tmp_path: Path,
) -> None:
    ls, seeded = seeded_ls
    user = seeded.tokens[ANNOTATORS[0]]
    personal = ls.api("POST", "/api/token/", token=user)["token"]
    assert personal.count(".") == 2  # a JWT refresh token, not a legacy token
    token_file = tmp_path / "token"
    token_file.write_text(personal + "\n")
    out = tmp_path / "snapshot.json"
    args = ["pull", "--ls-url", ls.url, "--ls-project", str(seeded.ner), "--out", str(out)]
    result = run([*args, "--token-file", str(token_file)], "")
    assert result.exit_code == 0, result.output
    tasks = json.loads(out.read_text())
    assert len(tasks) == len(seeded.ner_tasks)
    emails = {a["completed_by"]["email"] for t in tasks for a in t["annotations"]}
    assert emails == set(ANNOTATORS[:3])
    assert personal not in out.read_text() and personal not in result.output
