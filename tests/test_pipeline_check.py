"""Per-batch consensus/gold/annotator results, quality gates, ``labelaudit check`` and alerts."""

from __future__ import annotations

import csv
import http.server
import json
import operator
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from labelaudit.cli.app import app
from labelaudit.monitor import monitor_series, p_chart
from labelaudit.project import Gate, Project, ingest_batch, init_project
from labelaudit.project.alert import post_json
from labelaudit.project.check import check_project, evaluate_gates, send_alert
from labelaudit.project.config import toml_string
from labelaudit.project.demo import demo_batches
from labelaudit.quality import adjudication_queue, annotator_report, read_gold
from labelaudit.table import read_annotations

runner = CliRunner()


def with_gold(root: Path, gold: Path, extra: str = "") -> Project:
    config = root / "labelaudit.toml"
    text = config.read_text().replace('# file = "gold.csv"', f"file = {toml_string(str(gold))}")
    config.write_text(text + extra)
    return Project.load(root)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Project, Any]:
    """Six weekly PandaLM batches, the last one degraded, with honeypot gold."""
    folder = tmp_path_factory.mktemp("demo")
    data = demo_batches(folder / "batches")
    project = init_project(folder / "project", categories=("0", "1", "2"))
    project = with_gold(project.root, data.gold)
    for name, path in data.batches:
        ingest_batch(project, path, batch=name)
    return project, data


@pytest.fixture
def demo_copy(demo: tuple[Project, Any], tmp_path: Path) -> Project:
    project, _ = demo
    root = tmp_path / "copy"
    shutil.copytree(project.root, root)
    return Project.load(root)


def stored(project: Project, batch: str, kind: str) -> tuple[dict[str, Any], dict[str, Any]]:
    with project.open_store(read_only=True) as store:
        record = store.batch(name=batch)
        assert record is not None
        result = json.loads(store.result(record.batch_id, kind) or "null")
        rows = store.execute(
            "SELECT metric, value FROM batch_metrics WHERE batch_id = ? AND kind = ?",
            (record.batch_id, kind),
        ).fetchall()
    return result, dict(rows)


def read_batch(path: Path) -> Any:
    return read_annotations(path, categories=("0", "1", "2"))


# ----------------------------------------------------------------------------- results
def test_ingest_stores_every_kind(demo: tuple[Project, Any]) -> None:
    project, _ = demo
    with project.open_store(read_only=True) as store:
        kinds = store.execute("SELECT DISTINCT kind FROM batch_results ORDER BY kind").fetchall()
    assert [k for (k,) in kinds] == ["agreement", "annotators", "consensus", "gold"]


def test_consensus_matches_adjudication_queue(demo: tuple[Project, Any]) -> None:
    project, data = demo
    name, path = data.batches[2]
    table = read_batch(path)
    queue = adjudication_queue(table, method="majority", threshold=0.7)
    result, metrics = stored(project, name, "consensus")
    assert result["n_queued"] == len(queue.entries) == metrics["adjudication_queue"]
    assert result["queue"] == queue.entries[:20]
    # brute force: the winning vote share of each item (3 annotators, majority vote)
    counts = table.to_item_category_counts()
    share = counts.max(axis=1) / counts.sum(axis=1)
    assert metrics["mean_confidence"] == pytest.approx(share.mean(), abs=1e-12)
    assert result["n_low_confidence"] == int((share < 0.7).sum())


def test_gold_error_rate_by_brute_force(demo: tuple[Project, Any]) -> None:
    project, data = demo
    with data.gold.open(newline="") as handle:
        truth = {row["item"]: row["gold_label"] for row in csv.DictReader(handle)}
    for name, path in data.batches:
        answers = wrong = 0
        with path.open(newline="") as handle:
            for row in csv.DictReader(handle):  # brute force, one row at a time
                if row["item"] in truth:
                    answers += 1
                    wrong += row["label"] != truth[row["item"]]
        result, metrics = stored(project, name, "gold")
        assert (metrics["gold_answers"], metrics["gold_errors"]) == (answers, wrong)
        assert metrics["gold_error_rate"] == pytest.approx(wrong / answers)
        assert result["n_gold_answers"] == answers


def test_annotator_rows_match_annotator_report(demo: tuple[Project, Any]) -> None:
    project, data = demo
    name, path = data.batches[-1]
    table = read_batch(path)
    report = annotator_report(
        table, gold=read_gold(data.gold, table), methods=("majority",)
    ).to_dict()
    with project.open_store(read_only=True) as store:
        record = store.batch(name=name)
        assert record is not None
        rows = store.execute(
            "SELECT annotator, metric, value, n FROM annotator_metrics WHERE batch_id = ? "
            "AND kind = 'annotators'",
            (record.batch_id,),
        ).fetchall()
    values = {(a, m): (v, n) for a, m, v, n in rows}
    for row in report["annotators"]:
        assert values[(row["annotator"], "loo_agreement")] == (
            pytest.approx(row["loo_agreement"]),
            row["n_compared"],
        )
        assert values[(row["annotator"], "gold_accuracy")][0] == pytest.approx(row["gold_accuracy"])
    result, _ = stored(project, name, "annotators")
    assert result["flags"] == report["flags"]


def test_no_gold_source_stores_no_gold_kind(tmp_path: Path) -> None:
    project = init_project(tmp_path / "p", categories=("pos", "neg"))
    batch = tmp_path / "b.csv"
    batch.write_text("item,annotator,label\n1,a,pos\n1,b,pos\n2,a,neg\n2,b,pos\n")
    result = ingest_batch(project, batch, batch="w1")
    assert result.results == ("agreement", "consensus", "annotators")


def test_batch_without_gold_items_is_undefined_with_reason(tmp_path: Path) -> None:
    gold = tmp_path / "gold.csv"
    gold.write_text("item,gold_label\n99,pos\n")
    project = with_gold(init_project(tmp_path / "p", categories=("pos", "neg")).root, gold)
    batch = tmp_path / "b.csv"
    batch.write_text("item,annotator,label\n1,a,pos\n1,b,pos\n2,a,neg\n2,b,pos\n")
    ingest_batch(project, batch, batch="w1")
    result, metrics = stored(project, "w1", "gold")
    assert metrics["gold_error_rate"] is None and metrics["gold_answers"] == 0
    assert result["reason"] == "the batch holds no gold item"


# ----------------------------------------------------------------------------- gates
@given(
    value=st.one_of(st.none(), st.floats(-2, 2, allow_nan=False)),
    threshold=st.floats(-2, 2, allow_nan=False),
    op=st.sampled_from([">=", ">", "<=", "<", "==", "!="]),
    allow=st.booleans(),
)
def test_gate_verdicts_follow_the_operator(
    value: float | None, threshold: float, op: str, allow: bool
) -> None:
    python = {
        ">=": operator.ge,
        ">": operator.gt,
        "<=": operator.le,
        "<": operator.lt,
        "==": operator.eq,
        "!=": operator.ne,
    }
    gate = Gate(metric="m", op=op, threshold=threshold, name="g", allow_undefined=allow)
    (result,) = evaluate_gates([gate], {"m": (value, "why" if value is None else None)})
    if value is None:
        assert result.verdict == "undefined" and "why" in result.reason
        assert ("allowed" in result.reason) is allow
    else:
        assert result.verdict == ("pass" if python[op](value, threshold) else "fail")


def test_unknown_metric_is_undefined_and_names_the_known_ones() -> None:
    (result,) = evaluate_gates(
        [Gate(metric="krippendorf_alpha", op=">=", threshold=0.6, name="typo")],
        {"krippendorff_alpha": (0.8, None)},
    )
    assert result.verdict == "undefined"
    assert "no stored metric 'krippendorf_alpha'" in result.reason
    assert "krippendorff_alpha" in result.reason


def test_check_good_and_degraded_batches(demo: tuple[Project, Any]) -> None:
    project, data = demo
    good = check_project(project, batch=data.batches[4][0])
    assert good.passed and good.exit_code == 0
    bad = check_project(project)  # the latest batch: degraded
    assert bad.batch == data.degraded[0] and not bad.passed and bad.exit_code == 1
    verdicts = {g.name: g.verdict for g in bad.gates}
    assert verdicts == {"agreement": "fail", "in-control": "fail"}


def test_out_of_control_counts_the_history_charts(demo: tuple[Project, Any]) -> None:
    project, data = demo
    alphas, errors, answers = [], [], []
    for name, _ in data.batches:
        _, agreement = stored(project, name, "agreement")
        _, gold = stored(project, name, "gold")
        alphas.append(agreement["krippendorff_alpha"])
        errors.append(int(gold["gold_errors"]))
        answers.append(int(gold["gold_answers"]))
    signalled = 0
    for index, (name, _) in enumerate(data.batches):
        # a check of batch i sees the history up to i only: the charts of the prefix, with
        # batch i judged against a baseline of the batches before it (Phase II)
        before = np.arange(index + 1) < index
        prefix = monitor_series(np.array(alphas[: index + 1]), baseline=before, bounds=(-1, 1))
        prefix_gold = p_chart(errors[: index + 1], answers[: index + 1], baseline=before)
        expected = sum(
            int(c.out_of_control[index])
            for c in (prefix.individuals, prefix.ewma, prefix.cusum, prefix_gold)
        )
        result = check_project(project, batch=name)
        gate = next(g for g in result.gates if g.metric == "out_of_control")
        assert gate.value == expected
        signalled += expected
    assert signalled >= 1  # the degraded batch
    latest = check_project(project)
    gate = next(g for g in latest.gates if g.metric == "out_of_control")
    assert latest.batch == data.degraded[0] and gate.value is not None and gate.value >= 2
    assert "agreement individuals" in str(gate.reason)  # beyond its Phase II limit


def test_reference_period_from_config(demo_copy: Project) -> None:
    config = demo_copy.config_path
    text = config.read_text().replace(
        '# reference = ["2024-w01", "2024-w02"]', 'reference = ["2024-w01", "2024-w02", "nope"]'
    )
    config.write_text(text)
    project = Project.load(demo_copy.root)
    with pytest.raises(Exception, match="reference batch 'nope' is not in the history"):
        check_project(project)


# ----------------------------------------------------------------------------- CLI
def test_check_cli_exit_codes_and_json(demo: tuple[Project, Any]) -> None:
    project, data = demo
    root = ["--project", str(project.root)]
    good = runner.invoke(app, ["check", "--batch", data.batches[0][0], *root, "--format", "json"])
    assert good.exit_code == 0, good.output
    payload = json.loads(good.stdout)
    assert payload["passed"] is True and payload["batch"] == "2024-w01"
    keys = {"name", "metric", "op", "threshold", "value", "verdict", "reason"}
    assert all(set(gate) == keys for gate in payload["gates"])
    bad = runner.invoke(app, ["check", *root])
    assert bad.exit_code == 1
    lines = bad.stdout.splitlines()
    assert lines[0] == "Quality gates: batch 2024-w06" and max(map(len, lines)) <= 80
    verdict = " ".join(" ".join(lines[1:4]).split())
    assert verdict.startswith("FAIL: Batch 2024-w06 fails 2 of 2 gates: agreement: ")
    assert "krippendorff_alpha 0.587, needs >= 0.667 (short by 0.080)" in verdict
    assert "in-control: out_of_control 3, needs == 0 (off by 3)." in verdict
    markdown = runner.invoke(app, ["check", *root, "--format", "markdown"])
    assert (
        markdown.exit_code == 1
        and "\n| agreement | krippendorff\\_alpha | 0.587 |" in markdown.stdout
    )
    unknown = runner.invoke(app, ["check", "--batch", "nope", *root])
    assert unknown.exit_code == 2 and "no batch named 'nope'" in unknown.stderr


def test_check_cli_empty_store_exits_2(tmp_path: Path) -> None:
    init_project(tmp_path / "p")
    result = runner.invoke(app, ["check", "--project", str(tmp_path / "p")])
    assert result.exit_code == 2
    assert "holds no batch yet" in result.stderr


# ----------------------------------------------------------------------------- alerts
class Recorder(http.server.BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[str, dict[str, Any]]]] = []
    status = 204
    delay_s = 0.0

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        time.sleep(type(self).delay_s)
        type(self).received.append((self.headers["Content-Type"], json.loads(body)))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return


@pytest.fixture
def server() -> Iterator[tuple[str, type[Recorder]]]:
    handler = type("Handler", (Recorder,), {"received": [], "status": 204, "delay_s": 0.0})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/hook", handler
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def alert_project(project: Project, url: str, extra: str = "") -> Project:
    config = project.config_path
    text = config.read_text().replace(
        '# url = "https://example.org/hooks/labelaudit"', f"url = {toml_string(url)}\n{extra}"
    )
    config.write_text(text.replace("# [alert]", "[alert]"))
    return Project.load(project.root)


def test_alert_posts_the_check_json(demo_copy: Project, server: tuple[str, Any]) -> None:
    url, handler = server
    project = alert_project(demo_copy, url)
    result = runner.invoke(app, ["check", "--project", str(project.root), "--format", "json"])
    assert result.exit_code == 1
    printed = json.loads(result.stdout)
    ((content_type, body),) = handler.received
    assert content_type == "application/json; charset=utf-8"
    assert body == {**printed, "alert": None}
    assert printed["alert"] == {"url": url, "sent": True, "status": 204, "error": None}
    passing = runner.invoke(app, ["check", "--batch", "2024-w01", "--project", str(project.root)])
    assert passing.exit_code == 0 and len(handler.received) == 1  # on = "failure"


def test_alert_always(demo_copy: Project, server: tuple[str, Any]) -> None:
    url, handler = server
    project = alert_project(demo_copy, url, 'on = "always"')
    result = send_alert(project, check_project(project, batch="2024-w01"))
    assert result.passed and result.alert is not None and result.alert.sent
    assert handler.received[0][1]["passed"] is True


def test_alert_failures_are_reported_not_raised(
    demo_copy: Project, server: tuple[str, Any]
) -> None:
    url, handler = server
    handler.status = 500
    project = alert_project(demo_copy, url)
    result = runner.invoke(app, ["check", "--project", str(project.root)])
    assert result.exit_code == 1  # the gates decide the exit code, not the alert
    assert "warning: alert to" in result.stderr and "HTTP 500" in result.stderr
    handler.status, handler.delay_s = 204, 2.0
    slow = post_json(url, {"a": 1}, timeout_s=0.2)
    assert not slow.sent and slow.error is not None and "timed out" in slow.error.lower()


def test_alert_refused_and_bad_scheme() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    refused = post_json(f"http://127.0.0.1:{port}/x", {"a": 1}, timeout_s=2)
    assert not refused.sent and refused.status is None and "refused" in str(refused.error).lower()
    local = post_json("file:///etc/passwd", {"a": 1})
    assert not local.sent and local.error == "not an http(s) URL (scheme 'file')"
