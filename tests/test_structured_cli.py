"""``labelaudit agreement`` end to end on structured JSONL and Parquet files: the JSON keys
fixed by issue 5, the renderers on the new metric shapes, errors with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from rich.console import Console
from typer.testing import CliRunner

from labelaudit.cli.app import app
from labelaudit.report import render_html, render_markdown, render_terminal
from labelaudit.structured._payload import PAYLOAD_TYPES
from structured_helpers import canonical

runner = CliRunner()
METRIC_KEYS = {"value", "se", "ci95", "ci_method", "reason"}
TEXT = "Ada Lovelace met Charles Babbage in London"


def span(s: int, e: int, label: str) -> dict[str, Any]:
    return {"start": s, "end": e, "label": label}


def box(x: float, y: float, w: float, h: float, label: str) -> dict[str, Any]:
    return {"x": x, "y": y, "width": w, "height": h, "label": label}


def rank(ids: str) -> list[dict[str, Any]]:
    return [{"id": i, "rank": float(k + 1)} for k, i in enumerate(ids)]


ROWS: dict[str, list[tuple[str, str, Any]]] = {
    "multilabel": [
        ("i1", "a", ["sports", "politics"]),
        ("i1", "b", ["sports"]),
        ("i2", "a", ["tech"]),
        ("i2", "b", ["tech"]),
        ("i3", "a", ["politics"]),
        ("i3", "b", ["tech", "politics"]),
    ],
    "spans": [
        ("d1", "a", [span(0, 12, "PER"), span(17, 32, "PER"), span(36, 42, "LOC")]),
        ("d1", "b", [span(4, 12, "PER"), span(17, 32, "PER"), span(36, 42, "ORG")]),
        ("d2", "a", [span(0, 3, "PER")]),
        ("d2", "b", [span(0, 3, "PER")]),
    ],
    "boxes": [
        ("img1", "a", [box(0, 0, 10, 10, "car"), box(20, 20, 10, 10, "dog")]),
        ("img1", "b", [box(1, 0, 10, 10, "car"), box(21, 20, 10, 10, "cat")]),
        ("img2", "a", [box(5, 5, 20, 20, "car")]),
        ("img2", "b", [box(5, 5, 20, 20, "car"), box(60, 60, 5, 5, "dog")]),
    ],
    "ranking": [
        ("q1", "a", rank("xyz")),
        ("q1", "b", rank("xzy")),
        ("q1", "c", rank("yxz")),
        ("q2", "a", rank("uvw")),
        ("q2", "b", rank("uvw")),
    ],
    "text": [
        ("u1", "a", "New York"),
        ("u1", "b", "new york"),
        ("u2", "a", "hello"),
        ("u2", "b", "help"),
        ("u3", "a", "abc"),
        ("u3", "b", "abd"),
    ],
}


def write_jsonl(path: Path, task: str) -> Path:
    lines = []
    for item, annotator, label in ROWS[task]:
        record: dict[str, Any] = {"item": item, "annotator": annotator, "label": label}
        if task == "spans":
            record["text"] = TEXT
        lines.append(json.dumps(record))
    path.write_text("\n".join(lines) + "\n")
    return path


def run(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["agreement", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def metric(node: Any) -> None:
    assert set(node) >= METRIC_KEYS, node


@pytest.mark.parametrize("task", sorted(ROWS))
def test_jsonl_end_to_end(tmp_path: Path, task: str) -> None:
    report = run(str(write_jsonl(tmp_path / f"{task}.jsonl", task)), "--task", task)
    assert report["config"]["task"] == task
    metrics = report["metrics"]
    metric(metrics["percent_agreement"])
    assert "fleiss_kappa" not in metrics and report["pairwise"] == []
    if task == "spans":
        for kind in ("exact", "overlap"):
            metric(metrics["span_f1"][kind]["micro"])
            assert set(metrics["span_f1"][kind]["per_label"]) == {"PER", "LOC", "ORG"}
            for value in metrics["span_f1"][kind]["per_label"].values():
                metric(value)
        # |A| = |B| = 4; exact: PER 17-32 and d2's PER; overlap adds PER 0-12 ~ 4-12
        assert metrics["span_f1"]["exact"]["micro"]["value"] == pytest.approx(0.5)
        assert metrics["span_f1"]["overlap"]["micro"]["value"] == pytest.approx(0.75)
        assert report["confusions"][0]["label_a"] == "LOC"
        assert (
            report["structured"]["boundary_disagreements"][0]["examples"][0]["text_b"] == "Lovelace"
        )
        metric(metrics["token_alpha"])
        assert report["categories"] == ["LOC", "ORG", "PER"]
    if task == "boxes":
        metric(metrics["box_f1"]["iou50"])
        metric(metrics["box_f1"]["iou50_95"])
        metric(metrics["mean_iou"])
        assert metrics["box_f1"]["iou50"]["value"] == pytest.approx(2 * 3 / 7)
    if task == "ranking":
        metric(metrics["kendall_w"])
        assert -1 <= metrics["kendall_tau"]["value"] <= 1
    if task == "multilabel":
        metric(metrics["masi_alpha"])
        assert {r["category"] for r in report["per_category"]} == {"politics", "sports", "tech"}
    if task == "text":
        assert metrics["text_alpha"]["approximate"] is False


def test_parquet_with_native_payload(tmp_path: Path) -> None:
    rows = ROWS["spans"]
    table = pa.table(
        {
            "item": [r[0] for r in rows],
            "annotator": [r[1] for r in rows],
            "label": [canonical(r[2]) for r in rows],
            "payload": pa.array([r[2] for r in rows], type=PAYLOAD_TYPES["spans"]),
            "text": [TEXT] * len(rows),
        }
    )
    path = tmp_path / "spans.parquet"
    pq.write_table(table, path)
    report = run(str(path), "--task", "spans", "--categories", "PER,ORG,LOC,MISC")
    per_label = report["metrics"]["span_f1"]["overlap"]["per_label"]
    assert list(per_label) == ["PER", "ORG", "LOC", "MISC"]
    assert per_label["MISC"]["value"] is None and per_label["MISC"]["reason"]
    jsonl = run(str(write_jsonl(tmp_path / "spans.jsonl", "spans")), "--task", "spans")
    assert (
        report["metrics"]["span_f1"]["overlap"]["micro"]
        == jsonl["metrics"]["span_f1"]["overlap"]["micro"]
    )


def test_bootstrap_from_the_cli(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "boxes.jsonl", "boxes")
    report = run(str(path), "--task", "boxes", "--ci", "bootstrap", "--n-boot", "50")
    assert report["metrics"]["mean_iou"]["ci_method"] == "bootstrap"


@pytest.mark.parametrize("task", sorted(ROWS))
def test_renderers_accept_structured_reports(tmp_path: Path, task: str) -> None:
    report = run(str(write_jsonl(tmp_path / f"{task}.jsonl", task)), "--task", task)
    markdown = render_markdown(report)
    html = render_html(report)
    console = Console(record=True, width=160)
    render_terminal(report, console)
    if task == "spans":
        assert "span\\_f1 · overlap · micro" in markdown  # Markdown escapes "_"
        assert "span_f1 · exact · per_label · PER" in console.export_text()
    assert "<html" in html.lower()
    result = runner.invoke(app, ["agreement", str(tmp_path / f"{task}.jsonl"), "--task", task])
    assert result.exit_code == 0, result.output


def test_bad_structured_label_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"item": "d", "annotator": "a", "label": "PER at 0-4"}\n')
    result = runner.invoke(app, ["agreement", str(path), "--task", "spans"])
    assert result.exit_code == 2
    assert "label is not a spans annotation" in result.output and "Traceback" not in result.output
