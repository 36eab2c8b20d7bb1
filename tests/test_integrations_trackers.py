"""``export-metrics --to mlflow|wandb``: a real MLflow run in a local SQLite store read back
with MlflowClient, and a real W&B offline run read back from its own run file."""

from __future__ import annotations

import base64
import glob
import hashlib
import json
import struct
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from integration_helpers import build_project
from labelaudit.cli.app import app
from labelaudit.project import Project
from labelaudit.project.check import check_project
from labelaudit.project.sheets import annotator_sheet
from labelaudit.project.trackers import export_metrics, metric_key, tracker_payload

runner = CliRunner()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Project, Any]:
    return build_project(tmp_path_factory.mktemp("trackers"))


def stored_series(project: Project, kind: str, metric: str) -> list[tuple[float, Any, Any]]:
    """(value, ci_low, ci_high) per batch, read straight from the store."""
    with project.open_store(read_only=True) as store:
        return [
            tuple(
                store.execute(
                    "SELECT value, ci_low, ci_high FROM batch_metrics "
                    "WHERE batch_id = ? AND kind = ? AND metric = ?",
                    (b.batch_id, kind, metric),
                ).fetchall()[0]
            )
            for b in store.batches()
        ]


def test_payload_values_and_gates(demo: tuple[Project, Any]) -> None:
    project, data = demo
    payload = tracker_payload(project)
    assert [b.batch for b in payload.batches] == [name for name, _ in data.batches]
    alpha = stored_series(project, "agreement", "krippendorff_alpha")
    for batch, (value, low, high) in zip(payload.batches, alpha, strict=True):
        assert batch.metrics["agreement/krippendorff_alpha"] == value
        assert batch.metrics["agreement/krippendorff_alpha/ci_low"] == low
        assert batch.metrics["agreement/krippendorff_alpha/ci_high"] == high
        check = check_project(project, batch=batch.batch)
        assert batch.passed == check.passed
        assert batch.metrics["gate/agreement"] == float(check.gates[0].verdict == "pass")
        # the allowed undefined gate is not logged; its name is made tracker-safe
        assert metric_key("gate", 'fairness <gap> & "quotes"') not in batch.metrics
    assert payload.batches[-1].passed is False and payload.batches[0].passed is True
    assert payload.annotators.num_rows == 3 * len(data.batches)
    assert payload.report_html.lower().startswith("<!doctype html>")
    assert all(name in payload.report_html for name, _ in data.batches)
    assert metric_key("gate", "a<b>&c") == "gate/a_b__c"


def test_mlflow_sqlite_run_reads_back(
    demo: tuple[Project, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mlflow = pytest.importorskip("mlflow")
    project, data = demo
    monkeypatch.chdir(tmp_path)  # artefacts go to ./mlruns beside the SQLite store
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
    result = runner.invoke(
        app, ["export-metrics", "--project", str(project.root), "--to", "mlflow", "--json"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout[result.stdout.index("{") :])
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    run = client.get_run(summary["run_id"])
    assert run.info.run_name == "labelaudit 2024-w04" and run.data.params["n_batches"] == "4"
    assert run.data.tags["labelaudit.batch"] == "2024-w04"
    history = client.get_metric_history(run.info.run_id, "agreement/krippendorff_alpha")
    stored = stored_series(project, "agreement", "krippendorff_alpha")
    assert [(m.step, m.value) for m in sorted(history, key=lambda m: m.step)] == [
        (i, v[0]) for i, v in enumerate(stored)
    ]
    lows = client.get_metric_history(run.info.run_id, "agreement/krippendorff_alpha/ci_low")
    assert sorted(m.value for m in lows) == sorted(v[1] for v in stored)
    gates = client.get_metric_history(run.info.run_id, "gates/passed")
    assert [m.value for m in sorted(gates, key=lambda m: m.step)] == [1.0, 1.0, 1.0, 0.0]
    names = {f.path for f in client.list_artifacts(run.info.run_id)}
    assert names == {"annotators.json", "labelaudit-report.html"}
    folder = Path(client.download_artifacts(run.info.run_id, "", str(tmp_path / "dl")))
    table = json.loads((folder / "annotators.json").read_text())
    assert table["columns"][:3] == ["batch", "ingested_at", "annotator"]
    assert len(table["data"]) == 3 * len(data.batches)
    html = (folder / "labelaudit-report.html").read_text()
    assert html.startswith("<!doctype html>") and "2024-w04" in html


def iter_wandb_records(path: Path) -> Iterator[bytes]:
    """The records of a W&B run file (its LevelDB-log framing: 7-byte file header, 32 KiB
    blocks of records with a 7-byte header: CRC-32, length, type full/first/middle/last)."""
    data = path.read_bytes()
    ident, magic, _ = struct.unpack("<4sHB", data[:7])
    assert ident == b":W&B" and magic == 0xBEE1
    pos, pending, block = 7, b"", 32768
    while pos + 7 <= len(data):
        left = block - pos % block
        if left < 7:
            pos += left
            continue
        _, length, kind = struct.unpack("<IHB", data[pos : pos + 7])
        if kind == 0:
            pos += left
            continue
        if pos + 7 + length > len(data):
            return  # a record still being written
        chunk = data[pos + 7 : pos + 7 + length]
        pos += 7 + length
        if kind == 1:
            yield chunk
        elif kind == 2:
            pending = chunk
        elif kind == 3:
            pending += chunk
        else:
            yield pending + chunk
            pending = b""


def read_wandb_run(
    path: Path, pb: Any
) -> tuple[str | None, dict[int, dict[str, Any]], dict[str, Any]]:
    """(run display name, history rows by step, artifacts by type) of a W&B run file."""
    history: dict[int, dict[str, Any]] = {}
    artifacts: dict[str, Any] = {}
    run_name = None
    for raw in iter_wandb_records(path):
        record = pb.Record()
        record.ParseFromString(raw)
        kind = record.WhichOneof("record_type")
        if kind == "history":
            row = {
                i.key or "/".join(i.nested_key): json.loads(i.value_json)
                for i in record.history.item
            }
            history.setdefault(int(row["_step"]), {}).update(row)
        elif kind == "artifact":
            artifacts[record.artifact.type] = record.artifact
        elif kind == "run":
            run_name = record.run.display_name
    return run_name, history, artifacts


def test_wandb_offline_run_reads_back(
    demo: tuple[Project, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("wandb")
    from wandb.proto import wandb_internal_pb2 as pb

    project, data = demo
    for name, sub in (("WANDB_DIR", ""), ("WANDB_DATA_DIR", "data"), ("WANDB_CACHE_DIR", "c")):
        (tmp_path / sub).mkdir(exist_ok=True)
        monkeypatch.setenv(name, str(tmp_path / sub))
    monkeypatch.setenv("WANDB_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.delenv("WANDB_PROJECT", raising=False)
    result = export_metrics(project, to="wandb", run_name="weekly")
    (run_file,) = glob.glob(str(tmp_path / "wandb" / f"offline-run-*-{result.run_id}" / "*.wandb"))
    # wandb's service process writes the file; under load it can still be flushing when
    # finish() has returned (the CLI's exit waits for it), so read until it is whole
    deadline = time.monotonic() + 60
    while True:
        run_name, history, artifacts = read_wandb_run(Path(run_file), pb)
        if (run_name and len(history) == 4 and "report" in artifacts) or (
            time.monotonic() > deadline
        ):
            break
        time.sleep(0.2)
    assert run_name == "weekly" and sorted(history) == [0, 1, 2, 3]
    stored = stored_series(project, "agreement", "krippendorff_alpha")
    assert [history[i]["agreement/krippendorff_alpha"] for i in range(4)] == [v[0] for v in stored]
    assert [history[i]["gates/passed"] for i in range(4)] == [1, 1, 1, 0]
    assert [history[i]["batch"] for i in range(4)] == [n for n, _ in data.batches]
    # the annotator table: its file in the run's files folder, as logged
    files = Path(run_file).parent / "files"
    assert history[3]["annotators/_type"] == "table-file"
    table = json.loads((files / history[3]["annotators/path"]).read_text())
    with project.open_store(read_only=True) as store:
        latest = annotator_sheet(store, store.batches()[-1])
    assert table["columns"] == latest.column_names
    assert len(table["data"]) == 3 * len(data.batches)
    # the report page: the artefact's manifest digest is the MD5 of the HTML
    (entry,) = artifacts["report"].manifest.contents
    html = Path(entry.local_path).read_bytes()  # the staged copy wandb uploads on sync
    assert entry.path == "labelaudit-report.html" and html.startswith(b"<!doctype html>")
    assert entry.digest == base64.b64encode(hashlib.md5(html).digest()).decode()


def test_wandb_needs_a_target(demo: tuple[Project, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("wandb")
    project, _ = demo
    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    result = runner.invoke(app, ["export-metrics", "--project", str(project.root), "--to", "wandb"])
    assert result.exit_code == 2 and "WANDB_MODE=offline" in result.output
