"""LangSmith feedback (built with the ``langsmith`` client's own types) -> verdict lines and
human labels -> ``judge audit``: agreement equal to a brute-force count and scikit-learn."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from labelaudit.cli.app import app
from labelaudit.judge.langsmith import read_langsmith_feedback

schemas = pytest.importorskip("langsmith.schemas")
runner = CliRunner()
NOW = dt.datetime(2026, 11, 2, 12, 0, tzinfo=dt.UTC)


def _feedback(run: uuid.UUID, value: str, source: Any, key: str = "correctness") -> Any:
    return schemas.Feedback(
        id=uuid.uuid4(),
        created_at=NOW,
        modified_at=NOW,
        run_id=run,
        trace_id=run,
        key=key,
        score=int(value == "correct"),
        value=value,
        comment="the answer matches the reference" if source.type == "model" else None,
        feedback_source=source,
    )


@pytest.fixture(scope="module")
def langsmith_data() -> dict[str, Any]:
    """Two experiments over 20 dataset examples: an LLM evaluator and two annotators
    (annotation queue, source "app") give ``correctness`` feedback on every run."""
    rng = np.random.default_rng(3)
    flip = {"correct": "incorrect", "incorrect": "correct"}
    runs, feedback, truth = [], [], {}
    examples = [uuid.UUID(int=1000 + i) for i in range(20)]
    for experiment in range(2):
        for i, example in enumerate(examples):
            run_id = uuid.UUID(int=experiment * 100 + i + 1)
            runs.append(
                schemas.Run(
                    id=run_id,
                    name="qa-target",
                    start_time=NOW,
                    run_type="chain",
                    trace_id=run_id,
                    reference_example_id=example,
                    inputs={"question": f"q{i}"},
                    outputs={"answer": f"a{i}"},
                )
            )
            right = "correct" if rng.random() < 0.6 else "incorrect"
            truth[str(run_id)] = right
            said = right if rng.random() < 0.8 else flip[right]
            model = schemas.FeedbackSourceBase(type="model", metadata={"evaluator": "qa-judge"})
            feedback.append(_feedback(run_id, said, model))
            for who in ("alice", "bob"):
                label = right if rng.random() < 0.9 else flip[right]
                person = schemas.FeedbackSourceBase(type="app", user_name=who, user_id=uuid.uuid4())
                feedback.append(_feedback(run_id, label, person))
            other = schemas.FeedbackSourceBase(type="model")
            feedback.append(_feedback(run_id, "correct", other, key="conciseness"))
    return {"runs": runs, "feedback": feedback}


def _dump(objects: list[Any]) -> list[dict[str, Any]]:
    return [o.model_dump(mode="json") for o in objects]


def test_json_jsonl_csv_and_objects_agree(langsmith_data: dict[str, Any], tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    records = _dump(langsmith_data["feedback"])
    as_json = tmp_path / "feedback.json"
    as_json.write_text(json.dumps(records))
    as_jsonl = tmp_path / "feedback.jsonl"
    as_jsonl.write_text("".join(json.dumps(r) + "\n" for r in records))
    as_csv = tmp_path / "feedback.csv"
    pd.json_normalize(records).to_csv(as_csv, index=False)
    results = [
        read_langsmith_feedback(source, key="correctness")
        for source in (langsmith_data["feedback"], as_json, as_jsonl, as_csv)
    ]
    first = results[0]
    assert len(first.verdicts) == 40 and first.humans.num_rows == 80
    assert {v.judge for v in first.verdicts} == {"langsmith:correctness"}
    for other in results[1:]:
        assert [(v.item, v.verdict, v.repeat) for v in other.verdicts] == [
            (v.item, v.verdict, v.repeat) for v in first.verdicts
        ]
        assert other.humans.equals(first.humans)


def test_runs_map_items_to_examples(langsmith_data: dict[str, Any]) -> None:
    result = read_langsmith_feedback(
        langsmith_data["feedback"], runs=langsmith_data["runs"], key="correctness"
    )
    items = {v.item for v in result.verdicts}
    assert items == {str(uuid.UUID(int=1000 + i)) for i in range(20)}
    assert sorted({v.repeat for v in result.verdicts}) == [0, 1]  # two experiments
    # one label per annotator and example: the second experiment's label is kept
    assert result.humans.num_rows == 40


def test_key_required_and_bad_records(langsmith_data: dict[str, Any], tmp_path: Path) -> None:
    with pytest.raises(
        Exception, match="several keys; pick one with --key: conciseness, correctness"
    ):
        read_langsmith_feedback(langsmith_data["feedback"])
    records = _dump(langsmith_data["feedback"][:3])
    records[1]["run_id"] = None
    path = tmp_path / "bad.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    result = runner.invoke(
        app, ["judge", "from-langsmith", str(path), "--out", str(tmp_path / "v")]
    )
    assert result.exit_code == 2
    assert "bad.jsonl:2" in result.output and "run_id" in result.output


def test_judge_audit_on_langsmith_feedback(langsmith_data: dict[str, Any], tmp_path: Path) -> None:
    from sklearn.metrics import cohen_kappa_score

    records = _dump(langsmith_data["feedback"])
    source = tmp_path / "feedback.json"
    source.write_text(json.dumps(records))
    verdicts, humans = tmp_path / "verdicts.jsonl", tmp_path / "humans.csv"
    args = ["judge", "from-langsmith", str(source), "--key", "correctness"]
    made = runner.invoke(app, [*args, "--out", str(verdicts), "--humans-out", str(humans)])
    assert made.exit_code == 0, made.output
    assert "40 verdicts by langsmith:correctness" in made.stdout
    audit = runner.invoke(
        app, ["judge", "audit", str(verdicts), "--humans", str(humans), "--format", "json"]
    )
    assert audit.exit_code == 0, audit.output
    report = json.loads(audit.stdout)
    judge = {
        r["run_id"]: r["value"]
        for r in records
        if r["key"] == "correctness" and r["feedback_source"]["type"] == "model"
    }
    for pair in report["agreement"]["with_humans"]:
        who = pair["b"]
        human = {
            r["run_id"]: r["value"]
            for r in records
            if r["key"] == "correctness" and r["feedback_source"].get("user_name") == who
        }
        runs = sorted(judge)
        same = sum(judge[r] == human[r] for r in runs)  # brute force
        assert pair["n_items"] == len(runs)
        assert pair["percent_agreement"]["value"] == pytest.approx(same / len(runs), abs=1e-12)
        kappa = cohen_kappa_score([judge[r] for r in runs], [human[r] for r in runs])
        assert pair["cohen_kappa"]["value"] == pytest.approx(kappa, abs=1e-9)
