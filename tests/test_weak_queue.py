"""The LF-conflict adjudication queue: ``lf_conflict_queue`` and ``lf analyze --queue-out``."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from labelaudit.cli.app import app
from labelaudit.exceptions import UsageError
from labelaudit.quality import adjudication_queue
from labelaudit.table import read_annotations
from labelaudit.weak import lf_analysis, lf_conflict_queue
from test_weak_cli import files  # noqa: F401  (the fixture)

runner = CliRunner()

# a: 2-2 tie over 4 votes; b: 1-1 over 2; c: 2-1; d: agreed; e: one vote.
VOTES = [
    ("a", "lf1", "A"), ("a", "lf2", "A"), ("a", "lf3", "B"), ("a", "lf4", "B"),
    ("b", "lf1", "A"), ("b", "lf2", "B"),
    ("c", "lf1", "B"), ("c", "lf2", "A"), ("c", "lf3", "A"),
    ("d", "lf1", "A"), ("d", "lf3", "A"),
    ("e", "lf4", "B"),
]  # fmt: skip


def votes_table():  # type: ignore[no-untyped-def]
    item, annotator, label = map(list, zip(*VOTES, strict=True))
    return read_annotations(pa.table({"item": item, "annotator": annotator, "label": label}))


def test_queue_is_the_conflicted_items_most_conflicted_first() -> None:
    table = votes_table()
    queue = lf_conflict_queue(table)
    assert [e["item"] for e in queue.entries] == ["a", "b", "c"]
    assert {e["reason"] for e in queue.entries} == {"lf_conflict"}
    assert queue.by_reason == {"tie": 0, "low_confidence": 0, "lf_conflict": 3}
    a, _, c = queue.entries
    assert a["consensus_label"] is None and a["confidence"] == pytest.approx(0.5)
    assert c["consensus_label"] == "A" and c["confidence"] == pytest.approx(2 / 3)
    assert c["candidates"] == [
        {"annotator": "lf1", "label": "B"},
        {"annotator": "lf2", "label": "A"},
        {"annotator": "lf3", "label": "A"},
    ]
    # the same items and order as the analysis's top conflicts
    top = [row["item"] for row in lf_analysis(table).top_conflicts]
    assert top == [e["item"] for e in queue.entries]
    assert [e["item"] for e in lf_conflict_queue(table, top=2).entries] == ["a", "b"]
    # the entry shape of `adjudicate` (same keys, same candidate shape)
    plain = adjudication_queue(table, method="majority", threshold=0.7)
    assert set(plain.entries[0]) == set(a) and plain.by_reason == {"tie": 2, "low_confidence": 1}


def test_no_conflict_is_an_empty_queue_and_top_is_checked() -> None:
    table = read_annotations(pa.table({"item": ["x", "x"], "annotator": ["p", "q"],
                                       "label": ["A", "A"]}))  # fmt: skip
    assert lf_conflict_queue(table).entries == []
    with pytest.raises(UsageError, match="top must be a positive"):
        lf_conflict_queue(table, top=0)


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_analyze_queue_out(files: dict[str, Path], suffix: str) -> None:  # noqa: F811
    votes = files["dir"] / "votes.csv"
    args = ["lf", "apply", str(files["lfs"]), str(files["data"]), "--id-col", "id"]
    assert runner.invoke(app, [*args, "--out", str(votes)]).exit_code == 0
    queue = files["dir"] / f"queue{suffix}"
    result = runner.invoke(
        app, ["lf", "analyze", str(votes), "--queue-out", str(queue), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["top_conflicts"][0]["item"] == "c3"
    assert "queued 1 conflicted items in" in result.stderr
    if suffix == ".jsonl":
        (entry,) = [json.loads(line) for line in queue.read_text().splitlines()]
    else:  # one row per item, the candidates as JSON text (the `adjudicate` CSV)
        with queue.open(newline="", encoding="utf-8") as handle:
            (entry,) = list(csv.DictReader(handle))
        entry["confidence"] = float(entry["confidence"])
        entry["candidates"] = json.loads(entry["candidates"])
    assert entry["item"] == "c3" and entry["reason"] == "lf_conflict"
    assert entry["consensus_label"] == "SPAM"
    assert entry["confidence"] == pytest.approx(2 / 3)
    assert {c["annotator"]: c["label"] for c in entry["candidates"]} == {
        "check_out": "SPAM", "has_link": "SPAM", "song": "HAM"}  # fmt: skip


def test_queue_top_needs_queue_out(files: dict[str, Path]) -> None:  # noqa: F811
    votes = files["dir"] / "votes.csv"
    args = ["lf", "apply", str(files["lfs"]), str(files["data"]), "--id-col", "id"]
    assert runner.invoke(app, [*args, "--out", str(votes)]).exit_code == 0
    result = runner.invoke(app, ["lf", "analyze", str(votes), "--queue-top", "3"])
    assert result.exit_code == 2 and "--queue-top applies to --queue-out" in result.output
    assert "Traceback" not in result.output
