"""A project's history logged to an experiment tracker: MLflow or Weights & Biases.

:func:`tracker_payload` reads the store (nothing recomputed but the gates, evaluated per
batch by :func:`labelaudit.project.check.check_store`): for each batch, in history order
(``step`` = 0-based position, timestamp = ingest time),

- every stored headline value as ``KIND/METRIC`` (``agreement/krippendorff_alpha``,
  ``gold/gold_error_rate``, ...) with its interval as ``KIND/METRIC/ci_low`` and
  ``/ci_high`` when stored;
- each gate as ``gate/NAME`` (1 pass, 0 fail or undefined-and-failing; an undefined value
  allowed by ``allow_undefined`` is not logged) and ``gates/passed`` (1 or 0);

plus the annotator table of every batch (:func:`labelaudit.project.sheets.annotator_sheet`,
one row per batch and annotator) and the weekly report as one HTML page
(:func:`labelaudit.pipeline_report.render_pipeline_html`, all batches).

:func:`export_metrics` logs the payload as one run. The target is the tracker's own
configuration: MLflow reads ``MLFLOW_TRACKING_URI`` (e.g. ``sqlite:///mlflow.db`` or a
tracking server) and ``MLFLOW_EXPERIMENT_NAME`` (default: the project name); W&B reads
``WANDB_MODE`` (``offline`` writes the run under ``WANDB_DIR``), ``WANDB_PROJECT``
(default: the project name) and ``WANDB_API_KEY``. Names that a tracker refuses
(characters outside letters, digits, ``_ - . /`` and space) are logged with ``_`` instead.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from labelaudit.exceptions import UsageError
from labelaudit.project.layout import Project

__all__ = [
    "TRACKERS",
    "BatchMetrics",
    "ExportResult",
    "TrackerPayload",
    "export_metrics",
    "metric_key",
    "tracker_payload",
]

#: Trackers :func:`export_metrics` logs to.
TRACKERS = ("mlflow", "wandb")
_UNSAFE = re.compile(r"[^A-Za-z0-9_\-. /]")
#: Metrics per MLflow ``log_batch`` call (its limit is 1,000).
_MLFLOW_CHUNK = 900


def metric_key(*parts: str) -> str:
    """``parts`` joined by ``/`` with characters trackers refuse replaced by ``_``."""
    return "/".join(_UNSAFE.sub("_", str(p)) for p in parts)


@dataclass(frozen=True)
class BatchMetrics:
    """One batch's logged values: ``metrics`` by key (finite numbers only)."""

    batch: str
    step: int
    timestamp_ms: int
    metrics: dict[str, float]
    passed: bool

    def to_dict(self) -> dict[str, Any]:
        """``{"batch", "step", "timestamp_ms", "metrics", "passed"}``."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class TrackerPayload:
    """What one run logs: the batches' values, the annotator table, the report page."""

    project: str
    batches: tuple[BatchMetrics, ...]
    annotators: pa.Table
    report_html: str
    params: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """``{"project", "params", "batches": [...], "annotator_rows", "report_bytes"}``."""
        return {
            "project": self.project,
            "params": dict(self.params),
            "batches": [b.to_dict() for b in self.batches],
            "annotator_rows": self.annotators.num_rows,
            "report_bytes": len(self.report_html.encode("utf-8")),
        }


@dataclass(frozen=True)
class ExportResult:
    """Where the run went. ``to_dict()`` is the ``export-metrics --format json`` contract."""

    tracker: str
    run_id: str
    run_name: str
    target: str
    n_batches: int
    n_values: int
    n_annotator_rows: int
    artifacts: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """``{"tracker", "run_id", "run_name", "target", "n_batches", "n_values",
        "n_annotator_rows", "artifacts"}``."""
        out = dict(self.__dict__)
        out["artifacts"] = list(self.artifacts)
        return out


def _batch_values(store: Any, batch_id: int) -> dict[str, float]:
    import math

    rows = store.execute(
        "SELECT kind, metric, value, ci_low, ci_high FROM batch_metrics WHERE batch_id = ? "
        "ORDER BY kind, metric",
        (batch_id,),
    ).fetchall()
    values: dict[str, float] = {}
    for kind, metric, value, low, high in rows:
        for key, number in (
            (metric_key(kind, metric), value),
            (metric_key(kind, metric, "ci_low"), low),
            (metric_key(kind, metric, "ci_high"), high),
        ):
            if number is not None and math.isfinite(number):
                values[key] = float(number)
    return values


def tracker_payload(project: Project) -> TrackerPayload:
    """Read everything one tracker run logs (see the module docstring).

    Raises
    ------
    UsageError
        The store holds no batch.
    """
    from labelaudit import __version__
    from labelaudit.pipeline_report import Scope, build_pipeline_report, render_pipeline_html
    from labelaudit.project.check import check_store, gate_failed
    from labelaudit.project.sheets import annotator_sheet

    config = project.config
    batches: list[BatchMetrics] = []
    tables: list[pa.Table] = []
    with project.open_store(read_only=True) as store:
        records = store.batches()
        if not records:
            raise UsageError("the project store holds no batch yet; ingest one first")
        for step, record in enumerate(records):
            values = _batch_values(store, record.batch_id)
            check = check_store(store, config, batch=record.name)
            for gate in check.to_dict()["gates"]:
                if gate["verdict"] != "undefined" or gate_failed(gate):
                    values[metric_key("gate", gate["name"])] = float(gate["verdict"] == "pass")
            values["gates/passed"] = float(check.passed)
            when = int(record.ingested_at.timestamp() * 1000)
            batches.append(BatchMetrics(record.name, step, when, values, check.passed))
            tables.append(annotator_sheet(store, record))
    html = render_pipeline_html(build_pipeline_report(project, Scope(mode="all")))
    params = {"labelaudit_version": __version__, "n_batches": str(len(batches))}
    annotators = pa.concat_tables(tables, promote_options="permissive")
    return TrackerPayload(config.name, tuple(batches), annotators, html, params)


def _run_name(payload: TrackerPayload, run_name: str | None) -> str:
    return run_name or f"labelaudit {payload.batches[-1].batch}"


def _log_mlflow(payload: TrackerPayload, run_name: str) -> ExportResult:
    """One MLflow run: metrics per step, params, tags, the table and the HTML artefacts."""
    try:
        import mlflow
        from mlflow.entities import Metric, Param, RunTag
    except ImportError:
        raise UsageError(
            "export to MLflow needs mlflow: pip install 'labelaudit[mlflow]'"
        ) from None
    if not os.environ.get("MLFLOW_EXPERIMENT_NAME") and not os.environ.get("MLFLOW_EXPERIMENT_ID"):
        mlflow.set_experiment(payload.project)
    metrics = [
        Metric(key, value, batch.timestamp_ms, batch.step)
        for batch in payload.batches
        for key, value in batch.metrics.items()
    ]
    latest = payload.batches[-1]
    with mlflow.start_run(run_name=run_name) as run:
        client = mlflow.MlflowClient()
        run_id = run.info.run_id
        tags = [
            RunTag("labelaudit.project", payload.project),
            RunTag("labelaudit.batch", latest.batch),
        ]
        params = [Param(k, v) for k, v in payload.params.items()]
        client.log_batch(run_id, params=params, tags=tags)
        for start in range(0, len(metrics), _MLFLOW_CHUNK):
            client.log_batch(run_id, metrics=metrics[start : start + _MLFLOW_CHUNK])
        mlflow.log_table(payload.annotators.to_pandas(), artifact_file="annotators.json")
        client.log_text(run_id, payload.report_html, "labelaudit-report.html")
    artifacts = ("annotators.json", "labelaudit-report.html")
    return _result(
        "mlflow", run_id, run_name, mlflow.get_tracking_uri(), payload, metrics, artifacts
    )


def _log_wandb(payload: TrackerPayload, run_name: str) -> ExportResult:
    """One W&B run: a history row per batch, the annotator table, the report artifact."""
    try:
        import wandb
    except ImportError:
        raise UsageError("export to W&B needs wandb: pip install 'labelaudit[wandb]'") from None
    mode = os.environ.get("WANDB_MODE")
    if not mode and not os.environ.get("WANDB_API_KEY"):
        raise UsageError(
            "W&B needs a target: set WANDB_MODE=offline (runs written under WANDB_DIR, "
            "wandb sync later) or WANDB_API_KEY for online runs"
        )
    import tempfile
    from pathlib import Path

    run = wandb.init(
        project=os.environ.get("WANDB_PROJECT") or metric_key(payload.project),
        name=run_name,
        job_type="labelaudit",
        config=dict(payload.params),
    )
    try:
        for batch in payload.batches:
            run.log({**batch.metrics, "batch": batch.batch}, step=batch.step)
        rows = [list(r.values()) for r in payload.annotators.to_pylist()]
        table = wandb.Table(columns=payload.annotators.column_names, data=rows)
        run.log({"annotators": table}, step=payload.batches[-1].step)
        run.summary["passed"] = payload.batches[-1].passed
        with tempfile.TemporaryDirectory() as folder:
            page = Path(folder) / "labelaudit-report.html"
            page.write_text(payload.report_html, encoding="utf-8")
            artifact_name = re.sub(r"[^A-Za-z0-9_\-.]", "-", f"{payload.project}-report")
            artifact = wandb.Artifact(artifact_name, type="report")
            artifact.add_file(str(page))
            run.log_artifact(artifact)
            run_id, target = run.id, run.dir
            run.finish()
    except BaseException:
        run.finish(exit_code=1)
        raise
    values = [v for b in payload.batches for v in b.metrics]
    return _result(
        "wandb",
        run_id,
        run_name,
        str(target),
        payload,
        values,
        ("annotators", "labelaudit-report.html"),
    )


def _result(
    tracker: str,
    run_id: str,
    run_name: str,
    target: str,
    payload: TrackerPayload,
    values: list[Any],
    artifacts: tuple[str, ...],
) -> ExportResult:
    return ExportResult(
        tracker,
        run_id,
        run_name,
        target,
        len(payload.batches),
        len(values),
        payload.annotators.num_rows,
        artifacts,
    )


def export_metrics(project: Project, *, to: str, run_name: str | None = None) -> ExportResult:
    """Log the project's batches, gates, annotator table and report as one tracker run.

    Parameters
    ----------
    project : Project
    to : {"mlflow", "wandb"}
        The tracker; its target comes from its own environment variables (module
        docstring).
    run_name : str, optional
        Default ``"labelaudit BATCH"`` (the latest batch).

    Returns
    -------
    ExportResult

    Raises
    ------
    UsageError
        Unknown tracker, tracker not installed, no W&B target, or an empty store.
    """
    if to not in TRACKERS:
        raise UsageError(f"--to must be one of {', '.join(TRACKERS)}; got {to!r}")
    payload = tracker_payload(project)
    name = _run_name(payload, run_name)
    return _log_mlflow(payload, name) if to == "mlflow" else _log_wandb(payload, name)
