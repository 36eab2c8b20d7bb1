"""Structured annotator quality: the sloppy NER annotator (a Label Studio export read by the
platform reader), per-task keys, the rules that cannot run, gold, and self-agreement."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from labelaudit.cli.app import app
from labelaudit.io import read_any
from labelaudit.quality.structured import StructuredRules, structured_annotator_report
from labelaudit.structured.annotators import pair_scores, per_annotator
from ner_fixture import gold_spans, write_export
from structured_helpers import structured_table

runner = CliRunner()


@pytest.fixture(scope="module")
def ner_export(tmp_path_factory):
    return write_export(tmp_path_factory.mktemp("ner") / "ner_export.json")


def test_sloppy_annotator_is_last_and_flagged(ner_export):
    table, _ = read_any(ner_export)
    assert table.task == "spans" and table.n_annotators == 4
    report = structured_annotator_report(table).to_dict()
    rows = report["annotators"]
    assert [r["annotator"] for r in rows][-1] == "4"
    last = rows[-1]
    assert last["span_f1_exact"] < 0.45 < min(r["span_f1_exact"] for r in rows[:-1])
    assert [f["rule"] for f in last["flags"]] == ["below_others"]
    assert "below (margin 0.15)" in last["flags"][0]["reason"]
    assert all(not r["flags"] for r in rows[:-1])
    assert last["missed"] > 3 * max(r["missed"] for r in rows[:-1])
    for key in ("annotator", "span_f1_exact", "span_f1_overlap", "n_regions", "flags"):
        assert key in last
    assert report["rules_not_run"] == [{"rule": "below_gold", "reason": "no gold given"}]


def test_cli_annotators_on_the_export_with_gold(ner_export, tmp_path):
    gold = tmp_path / "gold.jsonl"
    gold.write_text(
        "".join(
            json.dumps({"item": item, "gold_label": json.dumps(spans)}) + "\n"
            for item, spans in gold_spans().items()
        )
    )
    result = runner.invoke(
        app, ["annotators", str(ner_export), "--gold", str(gold), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    by_name = {r["annotator"]: r for r in report["annotators"]}
    assert by_name["1"]["vs_gold"]["span_f1_exact"] > 0.85
    assert {f["rule"] for f in by_name["4"]["flags"]} == {"below_others", "below_gold"}
    flagged = runner.invoke(app, ["annotators", str(ner_export), "--fail-on-flag"])
    assert flagged.exit_code == 1 and "below_others" in flagged.stdout


def _two_annotators():
    span = {"start": 0, "end": 3, "label": "PER"}
    return structured_table("spans", [("d1", "a", [span]), ("d1", "b", [span])])


@pytest.mark.parametrize("output", ["table", "markdown", "json"])
def test_rules_that_cannot_run_are_in_every_output(tmp_path, output):
    path = tmp_path / "two.jsonl"
    span = [{"start": 0, "end": 3, "label": "PER"}]
    path.write_text(
        "".join(json.dumps({"item": "d", "annotator": a, "label": span}) + "\n" for a in "ab")
    )
    result = runner.invoke(app, ["annotators", str(path), "--task", "spans", "--format", output])
    assert result.exit_code == 0, result.output
    assert "needs 3 or more annotators" in result.stdout
    shown = result.stdout.replace("\\_", "_")  # Markdown escapes the underscore
    assert "fewer than min_regions 20" in shown


def test_box_keys_and_counts():
    def box(x, label="car"):
        return {"x": x, "y": 0.0, "width": 10.0, "height": 10.0, "label": label}

    table = structured_table(
        "boxes",
        [("i", "a", [box(0), box(50)]), ("i", "b", [box(1)]), ("i", "c", [box(0, "bus")])],
    )
    rows = {r["annotator"]: r for r in structured_annotator_report(table).to_dict()["annotators"]}
    assert {"box_f1_50", "box_f1_50_95", "mean_iou", "missed", "extra"} <= set(rows["a"])
    # a vs b: 1 match of 3 boxes; a vs c: 1 match -> 2 * 2 / (3 + 3)
    assert rows["a"]["box_f1_50"] == pytest.approx(4 / 6)
    assert rows["a"]["extra"] == 2 and rows["b"]["missed"] == 1
    assert rows["c"]["label_confusions"] == 2


spans_st = st.lists(
    st.builds(
        lambda s, n, lab: {"start": s, "end": s + n, "label": lab},
        st.integers(0, 50),
        st.integers(1, 9),
        st.sampled_from("AB"),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=40, deadline=None)
@given(st.lists(spans_st, min_size=1, max_size=4))
def test_a_region_set_against_itself_scores_one(docs):
    records = [(f"d{i}", a, d) for i, d in enumerate(docs) for a in ("x", "y")]
    table = structured_table("spans", records)
    scores = pair_scores(table)
    for name in ("span_f1_exact", "span_f1_overlap"):
        assert np.allclose(per_annotator(table, scores, name).value, 1.0)
    boxes = [
        (i, a, [{"x": float(s["start"]), "y": 0.0, "width": 3.0, "height": 3.0, "label": "c"}])
        for i, a, d in [(r[0], r[1], r[2]) for r in records]
        for s in d[:1]
    ]
    box_table = structured_table("boxes", boxes)
    box_scores = pair_scores(box_table)
    for name in ("box_f1_50", "box_f1_50_95", "mean_iou"):
        assert np.allclose(per_annotator(box_table, box_scores, name).value, 1.0)


def test_rules_validate():
    with pytest.raises(Exception, match="margin"):
        StructuredRules(margin=2.0)


def _reused_and_again(task, records):
    """Per-annotator vs-consensus measures through the vote's regions and by re-matching."""
    from labelaudit.structured.annotators import against_consensus, against_reference
    from labelaudit.structured.voting import box_votes, span_votes

    table = structured_table(task, records)
    scores = pair_scores(table)
    vote = (span_votes if task == "spans" else box_votes)(table, **scores.shared)
    reused = against_consensus(table, scores, vote)
    again = against_reference(table, vote.consensus.payload)
    return (
        {n: per_annotator(table, reused, n, one_sided=True).value for n in reused.measures},
        {n: per_annotator(table, again, n, one_sided=True).value for n in again.measures},
    )


@pytest.mark.parametrize("seed", [0, 1])
def test_vs_consensus_reuses_the_vote_and_equals_rematching_on_spans(seed):
    """Spans: scoring each annotation by the region it formed gives what matching every
    annotation against the consensus again gives (jittered, relabelled, missed spans)."""
    rng = np.random.default_rng(seed)
    records = []
    for doc in range(60):
        truth = [(20 * k + int(rng.integers(0, 6)), int(rng.integers(2, 9))) for k in range(6)]
        for ann in ("a", "b", "c", "d"):
            spans = []
            for start, length in truth:
                if rng.random() < 0.15:
                    continue  # missed
                shift = int(rng.integers(-2, 3)) if rng.random() < 0.3 else 0
                label = "PER" if rng.random() < 0.9 else "ORG"
                spans.append(
                    {"start": max(start + shift, 0), "end": start + length, "label": label}
                )
            records.append((f"d{doc}", ann, spans))
    reused, again = _reused_and_again("spans", records)
    for name in ("span_f1_exact", "span_f1_overlap"):
        assert np.allclose(reused[name], again[name], rtol=0, atol=1e-12)


def test_vs_consensus_boxes_equals_rematching_on_separated_objects():
    """Boxes: objects far apart (no box overlaps another object), jitter, misses, extras."""
    rng = np.random.default_rng(3)
    records = []
    for image in range(50):
        for ann in ("a", "b", "c"):
            boxes = []
            for k in range(8):
                if rng.random() < 0.1:
                    continue
                x, y = 200.0 * k + rng.uniform(-6, 6), 50.0 + rng.uniform(-6, 6)
                w, h = 60.0 + rng.uniform(-10, 10), 40.0 + rng.uniform(-10, 10)
                boxes.append({"x": x, "y": y, "width": w, "height": h, "label": "car"})
            if rng.random() < 0.2:  # an extra box nobody else drew
                boxes.append({"x": 5000.0, "y": 0.0, "width": 9.0, "height": 9.0, "label": "car"})
            records.append((f"i{image}", ann, boxes))
    reused, again = _reused_and_again("boxes", records)
    for name in ("box_f1_50", "box_f1_50_95", "mean_iou"):
        assert np.allclose(reused[name], again[name], rtol=0, atol=1e-12)


def test_vs_consensus_counts_a_region_once_per_annotator():
    """An annotator with two spans in one region (a chain a1-b-a2) hits it once."""
    from labelaudit.structured.annotators import against_consensus
    from labelaudit.structured.voting import span_votes

    records = [
        ("d", "a", [{"start": 0, "end": 5, "label": "X"}, {"start": 6, "end": 12, "label": "X"}]),
        ("d", "b", [{"start": 0, "end": 12, "label": "X"}]),
        ("d", "c", [{"start": 0, "end": 5, "label": "X"}]),
    ]
    table = structured_table("spans", records)
    scores = pair_scores(table)
    vote = span_votes(table, **scores.shared)
    assert vote.consensus.payload.to_pylist() == [[{"start": 0, "end": 5, "label": "X"}]]
    reused = against_consensus(table, scores, vote)
    num, den = reused.measures["span_f1_exact"]
    rows = {str(table.annotators[table.annotator_codes[r]]): r for r in range(3)}
    assert (num[rows["a"]], den[rows["a"]]) == (2.0, 3.0)  # one hit of 2 spans + 1 consensus
    assert (num[rows["b"]], den[rows["b"]]) == (0.0, 2.0)
    assert reused.measures["span_f1_overlap"][0][rows["b"]] == 2.0
