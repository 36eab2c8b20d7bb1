"""Structured consensus: properties (identical annotations, annotator permutations), worked
examples per task, and the ``consensus`` command on structured files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from labelaudit.cli.app import app
from labelaudit.consensus import DawidSkene
from labelaudit.exceptions import UsageError
from labelaudit.structured.consensus import structured_consensus
from structured_helpers import structured_table

runner = CliRunner()

span = st.builds(
    lambda s, n, lab: {"start": s, "end": s + n, "label": lab},
    st.integers(0, 60),
    st.integers(1, 12),
    st.sampled_from(["PER", "ORG", "LOC"]),
)
box = st.builds(
    lambda x, y, w, h, lab: {"x": x, "y": y, "width": w, "height": h, "label": lab},
    st.integers(0, 90),
    st.integers(0, 90),
    st.integers(1, 40),
    st.integers(1, 40),
    st.sampled_from(["car", "dog"]),
)


def _distinct_spans(spans: list[dict]) -> list[dict]:
    """Spans without exact duplicates, sorted (the payload contract's order)."""
    keyed = {(s["start"], s["end"], s["label"]): s for s in spans}
    return [keyed[k] for k in sorted(keyed)]


def _non_overlapping(boxes: list[dict]) -> list[dict]:
    """Boxes on a grid so no two overlap (then identical annotations are one object each)."""
    out = []
    for k, b in enumerate(boxes):
        place = {"x": float(k * 200 + b["x"]), "y": float(b["y"])}
        out.append({**b, **place, "width": float(b["width"]), "height": float(b["height"])})
    return out


def _consensus(table) -> dict:
    return {e["item"]: e["consensus"] for e in structured_consensus(table).to_dict()["items"]}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(span, max_size=6), min_size=1, max_size=4), st.integers(1, 4))
def test_identical_span_annotations_are_their_own_consensus(docs, n_ann):
    docs = [_distinct_spans(d) for d in docs]
    records = [(f"d{i}", f"a{k}", d) for i, d in enumerate(docs) for k in range(n_ann)]
    got = _consensus(structured_table("spans", records))
    assert got == {f"d{i}": d for i, d in enumerate(docs)}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(box, max_size=5), min_size=1, max_size=4), st.integers(1, 4))
def test_identical_box_annotations_are_their_own_consensus(images, n_ann):
    images = [_non_overlapping(b) for b in images]
    records = [(f"i{i}", f"a{k}", b) for i, b in enumerate(images) for k in range(n_ann)]
    got = _consensus(structured_table("boxes", records))
    for i, boxes in enumerate(images):
        key = lambda b: (b["x"], b["y"])  # noqa: E731
        assert sorted(got[f"i{i}"], key=key) == sorted(boxes, key=key)  # integers: exact means


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.lists(st.sampled_from("abcde"), max_size=4), min_size=1, max_size=4),
    st.integers(1, 4),
)
def test_identical_sets_rankings_texts_are_their_own_consensus(sets, n_ann):
    multi = [(f"i{i}", f"a{k}", s) for i, s in enumerate(sets) for k in range(n_ann)]
    assert _consensus(structured_table("multilabel", multi)) == {
        f"i{i}": sorted(set(s)) for i, s in enumerate(sets)
    }
    ranks = [
        [{"id": obj, "rank": float(r + 1)} for r, obj in enumerate(dict.fromkeys(s))] or None
        for s in sets
    ]
    ranked = [(f"i{i}", f"a{k}", r) for i, r in enumerate(ranks) if r for k in range(n_ann)]
    if ranked:
        got = _consensus(structured_table("ranking", ranked))
        want = {f"i{i}": sorted(r, key=lambda e: e["id"]) for i, r in enumerate(ranks) if r}
        assert {k: sorted(v, key=lambda e: e["id"]) for k, v in got.items()} == want
    texts = [(f"i{i}", f"a{k}", " ".join(s)) for i, s in enumerate(sets) for k in range(n_ann)]
    assert _consensus(structured_table("text", texts)) == {
        f"i{i}": " ".join(s) for i, s in enumerate(sets)
    }


records_strategy = st.lists(
    st.tuples(st.sampled_from(["d1", "d2", "d3"]), st.lists(span, max_size=4)),
    min_size=2,
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(records_strategy, st.permutations(["a0", "a1", "a2", "a3"]))
def test_permuting_annotators_changes_nothing(rows, names):
    base = [(item, f"a{k % 4}", spans) for k, (item, spans) in enumerate(rows)]
    seen = set()
    base = [r for r in base if (r[0], r[1]) not in seen and not seen.add((r[0], r[1]))]
    renamed = {f"a{k}": names[k] for k in range(4)}
    moved = [(item, renamed[a], spans) for item, a, spans in reversed(base)]
    one = structured_consensus(structured_table("spans", base)).to_dict()
    two = structured_consensus(structured_table("spans", moved)).to_dict()
    assert one == two


def test_span_majority_and_confidence():
    text = "Ada Lovelace met Charles Babbage in London"
    marked = [
        ("d1", "a", [(0, 12, "PER"), (17, 32, "PER"), (36, 42, "LOC")]),
        ("d1", "b", [(4, 12, "PER"), (17, 32, "PER"), (36, 42, "ORG")]),
        ("d1", "c", [(0, 12, "PER"), (36, 42, "LOC")]),
    ]
    table = structured_table(
        "spans",
        [
            (i, a, [{"start": s, "end": e, "label": lab} for s, e, lab in spans])
            for i, a, spans in marked
        ],
        extra={"text": [text] * 3},
    )
    result = structured_consensus(table).to_dict()["items"][0]
    assert result["consensus"] == [
        {"start": 0, "end": 12, "label": "PER"},
        {"start": 17, "end": 32, "label": "PER"},
        {"start": 36, "end": 42, "label": "LOC"},
    ]
    # regions: Ada 3/3 kept, Charles 2/3 kept, London LOC 2/3 kept, London ORG 1/3 dropped
    assert result["confidence"] == pytest.approx((1 + 2 / 3 + 2 / 3 + 2 / 3) / 4)
    weighted = structured_consensus(
        table, method="weighted", weights={"a": 1.0, "b": 5.0, "c": 1.0}
    ).to_dict()["items"][0]["consensus"]
    assert {"start": 36, "end": 42, "label": "ORG"} in weighted
    assert {"start": 4, "end": 12, "label": "PER"} in weighted


def test_borda_and_medoid():
    ranks = structured_table(
        "ranking",
        [
            ("q", "a", [{"id": "x", "rank": 1}, {"id": "y", "rank": 2}, {"id": "z", "rank": 3}]),
            ("q", "b", [{"id": "y", "rank": 1}, {"id": "x", "rank": 2}, {"id": "z", "rank": 3}]),
            ("q", "c", [{"id": "x", "rank": 1}, {"id": "z", "rank": 2}, {"id": "y", "rank": 3}]),
        ],
    )
    got = structured_consensus(ranks).to_dict()["items"][0]
    # Borda points x: 2+1+2 = 5, y: 1+2+0 = 3, z: 0+0+1 = 1
    assert [e["id"] for e in sorted(got["consensus"], key=lambda e: e["rank"])] == ["x", "y", "z"]
    # Kendall's W: rank sums 4, 6, 8 -> S = 8; W = 12 * 8 / (9 * 24) = 4/9
    assert got["confidence"] == pytest.approx(4 / 9)
    texts = structured_table(
        "text", [("i", "a", "the cat sat"), ("i", "b", "the cat sat."), ("i", "c", "a dog")]
    )
    assert structured_consensus(texts).to_dict()["items"][0]["consensus"] == "the cat sat"


def test_categorical_methods_refuse_structured_tables():
    table = structured_table("spans", [("d", "a", []), ("d", "b", [])])
    with pytest.raises(UsageError, match="spans"):
        structured_consensus(table, method="dawid-skene")
    with pytest.raises(UsageError, match="structured voting"):
        DawidSkene().fit(table)


def _write_ner(path: Path) -> Path:
    rows = [
        ("d1", "a", [{"start": 0, "end": 12, "label": "PER"}]),
        (
            "d1",
            "b",
            [{"start": 0, "end": 12, "label": "PER"}, {"start": 20, "end": 25, "label": "LOC"}],
        ),
        ("d1", "c", [{"start": 0, "end": 11, "label": "PER"}]),
        ("d2", "a", []),
        ("d2", "b", []),
    ]
    path.write_text(
        "".join(json.dumps({"item": i, "annotator": a, "label": s}) + "\n" for i, a, s in rows)
    )
    return path


def test_cli_consensus_spans_writes_native_shape(tmp_path):
    source = _write_ner(tmp_path / "ner.jsonl")
    out = tmp_path / "consensus.jsonl"
    result = runner.invoke(
        app, ["consensus", str(source), "--task", "spans", "--out", str(out), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert lines[0] == {
        "item": "d1",
        "label": [{"start": 0, "end": 12, "label": "PER"}],
        "confidence": pytest.approx((1.0 + 2 / 3) / 2),
        "n_annotators": 3,
    }
    assert lines[1]["label"] == [] and lines[1]["confidence"] == 1.0
    summary = json.loads(result.stdout)
    assert summary["method"] == "majority" and summary["label_distribution"] == {
        "LOC": 0,
        "PER": 1,
    }
    csv_out = tmp_path / "consensus.csv"
    assert (
        runner.invoke(
            app, ["consensus", str(source), "--task", "spans", "--out", str(csv_out)]
        ).exit_code
        == 0
    )
    assert '""start"": 0' in csv_out.read_text()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--method", "dawid-skene"], "categorical"),
        (["--tie", "abstain"], "--tie"),
        (["--iou", "0.7"], "applies to boxes, polygons"),
        (["--method", "weighted"], "weights"),
    ],
)
def test_cli_consensus_refuses_what_does_not_apply(tmp_path, args, needle):
    source = _write_ner(tmp_path / "ner.jsonl")
    result = runner.invoke(app, ["consensus", str(source), "--task", "spans", *args])
    assert result.exit_code == 2
    assert needle in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("task", "label", "field"),
    [
        ("spans", [{"start": 5, "end": 2, "label": "PER"}], "label.end"),
        ("spans", [{"start": -1, "end": 6, "label": "PER"}], "label.start"),
        ("spans", [{"start": 0, "end": 2**31, "label": "PER"}], "label.end"),
        ("boxes", [{"x": 0, "y": 0, "width": -3, "height": 2, "label": "car"}], "label.width"),
        ("spans", "not a span list", "label"),
    ],
)
def test_cli_consensus_bad_payload_names_row_and_field(tmp_path, task, label, field):
    path = tmp_path / "bad.jsonl"
    path.write_text(
        json.dumps({"item": "i", "annotator": "a", "label": []})
        + "\n"
        + json.dumps({"item": "i", "annotator": "b", "label": label})
        + "\n"
    )
    result = runner.invoke(app, ["consensus", str(path), "--task", task])
    assert result.exit_code == 2
    assert "bad.jsonl row 2" in result.stderr and f"field '{field}'" in result.stderr
