"""Pre-label acceptance and anchoring (Label Studio ``parent_prediction``), and label errors
joining the adjudication queue.

The Label Studio fixture is the real snapshot export of the live harness
(``tests/data/label_studio_live/sentiment_snapshot.json``, Label Studio 1.23: every
annotation carries ``parent_prediction: null`` and the shown ``prediction`` object); the
tests set ``parent_prediction`` to the task's prediction id where an annotator started from
the pre-label, the field Label Studio fills when an annotation is created from a prediction.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.csv as pacsv
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from labelaudit.cli.app import app
from labelaudit.exceptions import UsageError
from labelaudit.io import read_export
from labelaudit.models import PrelabelRules, prelabel_acceptance
from labelaudit.quality import AdjudicationQueue, adjudication_queue, with_label_errors
from labelaudit.table import read_annotations
from ls_seed import ANNOTATORS, MODEL

runner = CliRunner()
LIVE = Path(__file__).parent / "data" / "label_studio_live"
SNAPSHOT = ["--control", "sentiment", "--task-key", "data.item"]
Edit = Callable[[dict[str, Any], dict[str, Any], dict[str, Any]], None]


def _export(tmp_path: Path, edit: Edit) -> Path:
    """The real snapshot with ``edit(task, annotation, prediction)`` applied to each annotation."""
    tasks = json.loads((LIVE / "sentiment_snapshot.json").read_text(encoding="utf-8"))
    for task in tasks:
        for annotation in task["annotations"]:
            edit(task, annotation, task["predictions"][0])
    path = tmp_path / "prelabelled.json"
    path.write_text(json.dumps(tasks), encoding="utf-8")
    return path


def _accept(task: dict[str, Any], annotation: dict[str, Any], prediction: dict[str, Any]) -> None:
    """ann1 always keeps the pre-label; ann2 starts from it on odd tasks and keeps its answer."""
    who = annotation["completed_by"]["email"]
    if who == ANNOTATORS[0]:
        annotation["parent_prediction"] = prediction["id"]
        annotation["result"] = copy.deepcopy(prediction["result"])
    elif who == ANNOTATORS[1] and task["id"] % 2:
        annotation["parent_prediction"] = prediction["id"]


def _choice(result: list[dict[str, Any]]) -> str:
    return str(result[0]["value"]["choices"][0])


def test_reader_keeps_parent_prediction_and_model_version(tmp_path: Path) -> None:
    table, _ = read_export(_export(tmp_path, _accept), control="sentiment", task_key="data.item")
    columns = table.data.column_names
    assert {"parent_prediction", "prelabel_model_version"} <= set(columns)
    rows = table.data.to_pylist()
    started = [r for r in rows if r["parent_prediction"] is not None]
    assert {r["annotator"] for r in started} == set(ANNOTATORS[:2])
    assert {r["prelabel_model_version"] for r in started} == {MODEL}
    assert all(r["prelabel_model_version"] is None for r in rows if r not in started)
    # the untouched real export records none: no column, and prelabels says why (exit 2)
    plain, _ = read_export(LIVE / "sentiment_snapshot.json", control="sentiment",
                           task_key="data.item")  # fmt: skip
    assert "parent_prediction" not in plain.data.column_names
    result = runner.invoke(app, ["prelabels", str(LIVE / "sentiment_snapshot.json"), *SNAPSHOT])
    assert result.exit_code == 2
    assert "sentiment_snapshot.json" in result.output and "parent_prediction" in result.output


def test_acceptance_per_annotator_label_and_version(tmp_path: Path) -> None:
    path = _export(tmp_path, _accept)
    tasks = json.loads(path.read_text(encoding="utf-8"))
    out = runner.invoke(app, ["prelabels", str(path), *SNAPSHOT, "--format", "json"])
    assert out.exit_code == 0, out.output
    found = json.loads(out.stdout)
    by = {a["annotator"]: a for a in found["annotators"]}
    assert by[ANNOTATORS[0]]["acceptance"] == 1.0 and by[ANNOTATORS[0]]["n_prelabelled"] == 12
    # ann2: expected from the export itself
    mine = [
        (_choice(t["predictions"][0]["result"]), _choice(a["result"]))
        for t in tasks for a in t["annotations"]
        if a["completed_by"]["email"] == ANNOTATORS[1] and a["parent_prediction"] is not None
    ]  # fmt: skip
    kept = sum(p == f for p, f in mine)
    assert by[ANNOTATORS[1]]["n_prelabelled"] == len(mine) == 6
    assert by[ANNOTATORS[1]]["acceptance"] == pytest.approx(kept / len(mine), abs=1e-12)
    assert set(by) == set(ANNOTATORS[:2])
    assert [v["name"] for v in found["versions"]] == [MODEL]
    assert found["versions"][0]["n_prelabelled"] == 18
    changes = {(c["prelabel"], c["final"]): c["count"] for c in found["changes"]}
    for pre, final in set(mine):
        assert changes[(pre, final)] >= sum(1 for m in mine if m == (pre, final))
    assert sum(changes.values()) == 18
    low, high = by[ANNOTATORS[0]]["ci95"]
    assert high == 1.0 and low == pytest.approx(12 / (12 + 1.959963984540054**2), abs=1e-9)
    for fmt in ("table", "markdown"):
        assert (
            runner.invoke(app, ["prelabels", str(path), *SNAPSHOT, "--format", fmt]).exit_code == 0
        )


def _anchoring_table(seed: int) -> Any:
    """Gold on 80 items; a model right on 60; 'anchor' keeps every pre-label on the first
    40 items (pre-labelled) and is right on the other 40; 'careful' is always right."""
    rng = np.random.default_rng(seed)
    n = 80
    truth = rng.choice(["a", "b", "c"], n)
    model = truth.copy()
    wrong = rng.permutation(n)[:20]
    model[wrong] = np.where(truth[wrong] == "a", "b", "a")
    items = [f"i{i:02d}" for i in range(n)]
    pre = np.arange(n) < 40
    rows: dict[str, list[Any]] = {k: [] for k in ("item", "annotator", "label", "annotator_kind",
                                                  "prelabel_model_version")}  # fmt: skip
    for name, labels, marked, kind in (
        ("m1", model, np.zeros(n, bool), "model"),
        ("anchor", np.where(pre, model, truth), pre, "human"),
        ("careful", truth, pre, "human"),
    ):
        rows["item"] += items
        rows["annotator"] += [name] * n
        rows["label"] += list(labels)
        rows["annotator_kind"] += [kind] * n
        rows["prelabel_model_version"] += [("m1" if m else None) for m in marked]
    import pyarrow as pa

    gold = tmp_gold = pa.table({"item": items, "gold_label": list(truth)})
    return pa.table(rows), gold, tmp_gold


def test_anchoring_flags_the_annotator_who_keeps_wrong_prelabels(tmp_path: Path) -> None:
    rows, gold, _ = _anchoring_table(0)
    pacsv.write_csv(rows, tmp_path / "rows.csv")
    pacsv.write_csv(gold, tmp_path / "gold.csv")
    out = runner.invoke(
        app,
        [
            "prelabels",
            str(tmp_path / "rows.csv"),
            "--gold",
            str(tmp_path / "gold.csv"),
            "--min-wrong",
            "1",
            "--format",
            "json",
        ],
    )
    assert out.exit_code == 0, out.output
    found = json.loads(out.stdout)
    assert found["reference"] == "gold"
    by = {a["annotator"]: a for a in found["annotators"]}
    anchor = by["anchor"]
    assert anchor["acceptance"] == 1.0 and anchor["wrong_kept"] == 1.0
    assert anchor["accuracy"]["other"] == 1.0 and anchor["accuracy"]["prelabelled"] < 1.0
    assert by["careful"]["wrong_kept"] == 0.0
    assert anchor["right_kept"] == by["careful"]["right_kept"] == 1.0
    assert anchor["n_wrong_prelabels"] + anchor["n_right_prelabels"] == 40
    # model agreement: 1 on pre-labelled vs the model's accuracy elsewhere; interval holds it
    diff = anchor["model_agreement"]
    assert diff["prelabelled"] == 1.0
    assert diff["ci95"][0] <= diff["difference"] <= diff["ci95"][1]
    reasons = [f["reason"] for f in found["flags"] if f["annotator"] == "anchor"]
    assert len(reasons) == 2 and "accepts 100%" in reasons[0] and "wrong pre-labels" in reasons[1]
    assert not [f for f in found["flags"] if f["annotator"] == "careful"]
    # a stricter threshold silences the acceptance flag
    strict = prelabel_acceptance(read_annotations(rows), rules=PrelabelRules(accept=1.0))
    assert all("accepts" not in f["reason"] for f in strict.flags)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(4, 30), st.booleans())
def test_never_edits_is_one_always_changes_is_zero(seed: int, n: int, edits: bool) -> None:
    """An annotator who keeps every pre-label has acceptance 1; one who changes every
    pre-label has 0 and a change matrix with an empty diagonal."""
    rng = np.random.default_rng(seed)
    model = rng.choice(["a", "b", "c"], n)
    final = np.where(model == "a", "b", np.where(model == "b", "c", "a")) if edits else model
    import pyarrow as pa

    rows = pa.table({
        "item": [f"i{i}" for i in range(n)] * 2,
        "annotator": ["m"] * n + ["h"] * n,
        "label": [*model, *final],
        "annotator_kind": ["model"] * n + ["human"] * n,
        "prelabel_model_version": [None] * n + ["m"] * n,
    })  # fmt: skip
    result = prelabel_acceptance(read_annotations(rows)).to_dict()
    (record,) = result["annotators"]
    assert record["acceptance"] == (0.0 if edits else 1.0)
    assert record["n_changed"] == (n if edits else 0)
    assert all((c["prelabel"] == c["final"]) != edits for c in result["changes"])
    assert sum(label["n_prelabelled"] for label in result["labels"]) == n


def test_missing_model_rows_is_a_usage_error() -> None:
    import pyarrow as pa

    rows = pa.table({"item": ["i1", "i2"], "annotator": ["h", "h"], "label": ["a", "b"],
                     "prelabel_model_version": ["v9", None]})  # fmt: skip
    with pytest.raises(UsageError, match=r"v9.*--include-models"):
        prelabel_acceptance(read_annotations(rows))


def test_label_errors_join_the_queue() -> None:
    import pyarrow as pa

    rows = pa.table(
        {
            "item": ["i1", "i1", "i2", "i2", "i3", "i3"],
            "annotator": ["x", "y"] * 3,
            "label": ["a", "b", "a", "a", "b", "b"],
        }
    )
    table = read_annotations(rows)
    queue = adjudication_queue(table, method="majority", threshold=0.7)
    assert [e["item"] for e in queue.entries] == ["i1"]
    issues = [
        {"item": "i3", "given": "b", "suggested": "a", "quality": 0.1, "rank": 1},
        {"item": "i1", "given": "a", "suggested": "b", "quality": 0.2, "rank": 2},
    ]
    joined = with_label_errors(queue, table, issues)
    assert [e["item"] for e in joined.entries] == ["i1", "i3"]  # i1 keeps its tie entry
    entry = joined.entries[1]
    assert entry["reason"] == "label_error" and entry["suggested"] == "a"
    assert entry["candidates"] == [{"annotator": "x", "label": "b"},
                                   {"annotator": "y", "label": "b"}]  # fmt: skip
    assert joined.by_reason == {"tie": 1, "low_confidence": 0, "label_error": 1}
    assert queue.by_reason == {"tie": 1, "low_confidence": 0}
    assert isinstance(joined, AdjudicationQueue)


def test_label_errors_queue_file_and_adjudicate_take_them(tmp_path: Path) -> None:
    """label-errors --queue writes queue entries; adjudicate --label-errors adds them."""
    pytest.importorskip("cleanlab")
    pytest.importorskip("sklearn")
    from label_error_data import crowd_rows, planted

    data = planted(n=200, seed=0)
    _, probs = data.write(tmp_path)
    crowd = tmp_path / "crowd.csv"
    pacsv.write_csv(crowd_rows(data), crowd)
    found = tmp_path / "errors.json"
    queue = tmp_path / "queue.jsonl"
    args = ["label-errors", str(crowd), "--probs", str(probs), "--method", "majority"]
    result = runner.invoke(app, [*args, "--out", str(found), "--queue", str(queue)])
    assert result.exit_code == 0, result.output
    issues = json.loads(found.read_text(encoding="utf-8"))["issues"]
    lines = [json.loads(line) for line in queue.read_text(encoding="utf-8").splitlines()]
    assert issues and [e["item"] for e in lines] == [i["item"] for i in issues]
    assert {e["reason"] for e in lines} == {"label_error"}
    assert all(len(e["candidates"]) == 3 for e in lines)  # every annotator's label
    plain = runner.invoke(
        app,
        [
            "adjudicate",
            str(crowd),
            "--method",
            "majority",
            "--out",
            str(tmp_path / "q0.jsonl"),
            "--format",
            "json",
        ],
    )
    both = runner.invoke(
        app,
        [
            "adjudicate",
            str(crowd),
            "--method",
            "majority",
            "--label-errors",
            str(found),
            "--out",
            str(tmp_path / "q1.jsonl"),
            "--format",
            "json",
        ],
    )
    assert plain.exit_code == 0 and both.exit_code == 0, both.output
    before = [json.loads(x) for x in (tmp_path / "q0.jsonl").read_text().splitlines()]
    after = [json.loads(x) for x in (tmp_path / "q1.jsonl").read_text().splitlines()]
    already = {e["item"] for e in before}
    assert after[: len(before)] == before
    assert [e["item"] for e in after[len(before):]] == [
        i["item"] for i in issues if i["item"] not in already
    ]  # fmt: skip
    bad = tmp_path / "bad.json"
    bad.write_text('{"issues": [{"item": "x"}]}', encoding="utf-8")
    broken = runner.invoke(app, ["adjudicate", str(crowd), "--label-errors", str(bad)])
    assert broken.exit_code == 2 and "bad.json" in broken.output and "issues" in broken.output


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 40), st.integers(1, 40), st.data())
def test_anchoring_interval_is_newcombe_as_statsmodels(n1: int, n2: int, data: Any) -> None:
    """The difference's interval equals statsmodels' Newcombe (hybrid score) to 1e-9."""
    sm = pytest.importorskip("statsmodels.stats.proportion")
    k1, k2 = data.draw(st.integers(0, n1)), data.draw(st.integers(0, n2))
    n = n1 + n2
    import pyarrow as pa

    # the model says "a" everywhere; the human agrees on k1 of n1 pre-labelled, k2 of n2 other
    human = ["a"] * k1 + ["b"] * (n1 - k1) + ["a"] * k2 + ["b"] * (n2 - k2)
    rows = pa.table({
        "item": [f"i{i}" for i in range(n)] * 2, "annotator": ["m"] * n + ["h"] * n,
        "label": ["a"] * n + human, "annotator_kind": ["model"] * n + ["human"] * n,
        "prelabel_model_version": [None] * n + ["m"] * n1 + [None] * n2,
    })  # fmt: skip
    (record,) = prelabel_acceptance(read_annotations(rows)).to_dict()["annotators"]
    found = record["model_agreement"]
    low, high = sm.confint_proportions_2indep(k1, n1, k2, n2, method="newcomb", compare="diff")
    assert found["difference"] == pytest.approx(k1 / n1 - k2 / n2, abs=1e-12)
    assert found["ci95"] == pytest.approx([low, high], abs=1e-9)


@pytest.mark.label_studio
def test_live_label_studio_records_parent_prediction(label_studio: Any, tmp_path: Path) -> None:
    """A real Label Studio: predictions imported as pre-labels, annotations created from
    them (``parent_prediction``), its snapshot export read by ``prelabels``."""
    from ls_seed import SENTIMENT_CONFIG, TEXTS, TRUTH, choices_result

    ls = label_studio
    tokens = {name: ls.add_user(f"{name}@prelabels.example.com") for name in ("keep", "fix")}
    project = ls.create_project("prelabels", SENTIMENT_CONFIG)
    model = ["neutral" if i % 3 == 0 else t for i, t in enumerate(TRUTH)]  # wrong on 4 items
    ids = ls.import_tasks(project, [
        {"data": {"item": f"p{i:02d}", "text": text},
         "predictions": [{"model_version": "pre-v2", "result": choices_result(model[i])}]}
        for i, text in enumerate(TEXTS)
    ])  # fmt: skip
    for i, task in enumerate(ids):
        (prediction,) = ls.api("GET", "/api/predictions/", params={"task": task})
        started = {"parent_prediction": prediction["id"]}
        ls.annotate(task, choices_result(model[i]), tokens["keep"], **started)
        fix_started = started if i % 2 == 0 else {}
        ls.annotate(task, choices_result(TRUTH[i]), tokens["fix"], **fix_started)
    path = tmp_path / "snapshot.json"
    path.write_bytes(ls.snapshot(project))
    out = runner.invoke(app, ["prelabels", str(path), *SNAPSHOT, "--format", "json"])
    assert out.exit_code == 0, out.output
    found = json.loads(out.stdout)
    by = {a["annotator"].split("@")[0]: a for a in found["annotators"]}
    assert by["keep"]["n_prelabelled"] == len(ids) and by["keep"]["acceptance"] == 1.0
    fixed = [i for i in range(len(ids)) if i % 2 == 0]
    assert by["fix"]["n_prelabelled"] == len(fixed)
    kept = sum(model[i] == TRUTH[i] for i in fixed)
    assert by["fix"]["n_accepted"] == kept and by["fix"]["n_changed"] == len(fixed) - kept
    assert [v["name"] for v in found["versions"]] == ["pre-v2"]
