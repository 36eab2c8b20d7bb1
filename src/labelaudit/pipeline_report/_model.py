"""The weekly quality report as one JSON-ready dict, read from the project store.

:func:`build_pipeline_report` selects the batches in scope (``since`` a duration such as
``7d``, one ``batch``, or ``all``), then reads what ingest stored: headline values
(``batch_metrics``), per-annotator figures (``annotator_metrics``), the flags and
confusions in the stored JSON results, and the control charts over the history
(:func:`labelaudit.project.history.load_history`). Nothing is recomputed from the
annotations; per-annotator figures over several batches are pooled from the stored
counts (agreement weighted by the labels compared, gold accuracy = correct / answers).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from labelaudit.exceptions import UsageError
from labelaudit.pipeline_report import _queries
from labelaudit.project.layout import Project
from labelaudit.project.periods import parse_period
from labelaudit.project.store import BatchRecord, utc_now
from labelaudit.results import clean_number

__all__ = ["Scope", "build_pipeline_report", "parse_period"]

#: Batch-level headline values shown per batch: (kind, metric).
BATCH_VALUES = (
    ("agreement", "krippendorff_alpha"),
    ("agreement", "fleiss_kappa"),
    ("gold", "gold_error_rate"),
    ("consensus", "mean_confidence"),
    ("consensus", "adjudication_queue"),
    ("annotators", "n_flagged"),
)


@dataclass(frozen=True)
class Scope:
    """Which batches a report covers: ``mode`` is ``since``, ``batch`` or ``all``."""

    mode: str = "since"
    since: str | None = None
    batch: str | None = None


def _select(batches: list[BatchRecord], scope: Scope, default_period: str) -> list[int]:
    """Positions (history order) of the batches in scope."""
    if not batches:
        raise UsageError(
            "the project store holds no batch yet; ingest one first "
            "(labelaudit ingest FILE --batch NAME)"
        )
    if scope.mode == "all":
        return list(range(len(batches)))
    if scope.mode == "batch":
        found = [i for i, b in enumerate(batches) if b.name == scope.batch]
        if not found:
            listed = ", ".join(repr(b.name) for b in batches[-5:])
            raise UsageError(f"no batch named {scope.batch!r}; the latest batches are {listed}")
        return found
    start = utc_now() - parse_period(scope.since or default_period)
    chosen = [i for i, b in enumerate(batches) if b.ingested_at >= start]
    if not chosen:
        raise UsageError(
            f"no batch was ingested in the last {scope.since or default_period}; "
            "pass --all or --batch NAME"
        )
    return chosen


def build_pipeline_report(project: Project, scope: Scope | None = None) -> dict[str, Any]:
    """The report dict of the batches in ``scope`` (default: ``[report] period``).

    Parameters
    ----------
    project : Project
    scope : Scope, optional

    Returns
    -------
    dict
        ``{"tool", "title", "project", "generated_at", "scope", "summary", "gates",
        "batches", "charts": {"agreement", "gold"}, "annotators", "confusions",
        "guideline_rules" (None without a ``[guidelines]`` file),
        "adjudication", "labeling_functions", "fairness", "provenance"}``; documented in
        ``docs/pipeline.md`` (``labeling_functions``: the LF analysis of the latest batch
        with labeling-function votes, or null; ``fairness`` is null unless ingest stored
        group offsets: a ``[fairness]`` section).

    Raises
    ------
    UsageError
        Empty store, unknown batch, an empty window or a malformed ``--since``.
    """
    from labelaudit import __version__
    from labelaudit.guidelines.rules import project_rules
    from labelaudit.project.check import check_store
    from labelaudit.project.history import load_history

    config = project.config
    scope = scope or Scope()
    with project.open_store(read_only=True) as store:
        batches = store.batches()
        positions = _select(batches, scope, config.report.period)
        chosen = [batches[i] for i in positions]
        ids = [b.batch_id for b in chosen]
        metric = config.task.tracked_metric
        history = load_history(store, config.monitor, upto=positions[-1] + 1, metric=metric)
        gates = check_store(store, config, batch=chosen[-1].name, history=history)
        values = _queries.batch_values(store, ids)
        annotators = _queries.leaderboard(store, ids, config.report.max_annotators)
        confusions = _queries.confusions(store, chosen, config.report.top_confusions)
        _queries.attach_text(store, confusions, config.report.examples)
        rules = project_rules(project, confusions, examples=config.report.examples)
        adjudication = _queries.adjudication(store, chosen)
        alpha_ci = _queries.intervals(store, ids, "krippendorff_alpha")
        weakest = _queries.weakest_annotator(store, chosen[-1])
        review = _review(_queries.review(store, chosen))
        functions = _queries.labeling_functions(store, chosen)
        fairness = _queries.fairness(store, ids)
        schema = max(m["version"] for m in store.migrations())
    drift = _drift(history, positions)
    for row in annotators:
        row["drift"] = drift.get(row["annotator"], [])
    rows = [
        _batch_row(b, values.get(b.batch_id, {}), history, p, metric)
        | {"krippendorff_alpha_ci95": alpha_ci.get(b.batch_id)}
        for b, p in zip(chosen, positions, strict=True)
    ]
    charts = history.to_dict()
    check = gates.to_dict()
    return {
        "tool": {"name": "labelaudit", "version": __version__},
        "title": config.report.title,
        "project": {"name": config.name, "root": str(project.root)},
        "generated_at": utc_now().isoformat(timespec="seconds") + "Z",
        "scope": {
            "mode": scope.mode,
            "since": scope.since or config.report.period if scope.mode == "since" else None,
            "batch": scope.batch,
            "batches": [b.name for b in chosen],
        },
        "summary": _summary(rows, check, adjudication, len(annotators)),
        "gates": check,
        "batches": rows,
        "charts": {
            "agreement": charts["agreement"],
            "gold": charts["gold"],
            "metric": charts["metric"],
            "in_scope": positions,
            "threshold": _alpha_threshold(config.gates, metric),
            "judged": positions[-1],
            "gates": _chart_gates(config.gates, charts),
        },
        "annotators": annotators,
        "confusions": confusions,
        "guideline_rules": rules,
        "adjudication": adjudication,
        "weakest_annotator": weakest,
        "review": review,
        "labeling_functions": functions,
        "fairness": fairness,
        "provenance": {
            "inputs": [_input(b) for b in chosen],
            "config_sha256": config.sha256,
            "config": config.to_dict(),
            "tool_version": __version__,
            "store": str(project.store_path),
            "schema_version": schema,
        },
    }


def _batch_row(
    batch: BatchRecord,
    values: dict[str, tuple[Any, Any]],
    history: Any,
    position: int,
    metric: str = "krippendorff_alpha",
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "name": batch.name,
        "ingested_at": batch.ingested_at.isoformat(timespec="seconds") + "Z",
        "n_annotations": batch.n_annotations,
        "n_items": batch.n_items,
        "n_annotators": batch.n_annotators,
        "n_rejected": batch.n_rejected,
    }
    for kind, name in BATCH_VALUES:
        value, _ = values.get(f"{kind}.{name}", (None, None))
        row[name] = clean_number(value)
    if metric not in row:  # a structured project's own agreement metric
        row[metric] = clean_number(values.get(f"agreement.{metric}", (None, None))[0])
    row["tracked_metric"] = metric
    row["signals"] = history.signals(position)
    return row


def _drift(history: Any, positions: list[int]) -> dict[str, list[dict[str, str]]]:
    """Per annotator: the in-scope batches where their own chart signals."""
    out: dict[str, list[dict[str, str]]] = {}
    for position in positions:
        for found in history.drifting(position):
            entry = {"batch": history.batches[position], "chart": found["chart"]}
            out.setdefault(found["annotator"], []).append(entry)
    return out


def _summary(
    rows: list[dict[str, Any]], check: dict[str, Any], adjudication: dict[str, Any], n: int
) -> dict[str, Any]:
    return {
        "n_batches": len(rows),
        "n_annotations": sum(r["n_annotations"] for r in rows),
        "n_items": sum(r["n_items"] for r in rows),
        "n_annotators": n,
        "latest_batch": rows[-1]["name"],
        "passed": check["passed"],
        "out_of_control_batches": [r["name"] for r in rows if r["signals"]],
        "adjudication_queue": adjudication["n_queued"],
    }


def _chart_gates(gates: Any, charts: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Per chart (``agreement``, ``gold``), the gates on its metric and the batches (point
    indices) that fail each: ``{"name", "metric", "op", "threshold", "failures"}``."""
    from labelaudit.project.check import gate_failures

    individuals = (charts.get("agreement") or {}).get("charts", {}).get("individuals", {})
    series = {
        "agreement": (charts["metric"], individuals.get("points", [])),
        "gold": ("gold_error_rate", (charts.get("gold") or {}).get("points", [])),
    }
    out: dict[str, list[dict[str, Any]]] = {}
    for key, (metric, points) in series.items():
        values = [p.get("value") for p in points]
        out[key] = [
            {"name": g.name, "metric": g.metric, "op": g.op, "threshold": g.threshold}
            | {"failures": gate_failures(g, values)}
            for g in gates
            if g.metric == metric and points
        ]
    return out


def _review(found: dict[str, Any] | None) -> dict[str, Any] | None:
    """The recorded review with the OC curve of its plan (n, c) on a lot of the batch's
    size: P(accept) at lot error rates from 0 to where it falls below 0.5%."""
    if found is None:
        return None
    import numpy as np

    from labelaudit.plans import oc_curve, single_accept_probability

    n, c, lot = int(found["plan"]["n"]), int(found["plan"]["c"]), int(found["batch_size"])
    size = lot if lot >= n else None  # a sample larger than the batch: binomial
    fine = np.linspace(0.0, 1.0, 1001)
    accept = single_accept_probability(n, c, fine, batch_size=size)
    beyond = np.flatnonzero(accept < 0.005)
    top = float(fine[beyond[0]]) if beyond.size else 1.0
    top = min(1.0, max(top, 1.25 * float(found["ci95"][1]), 0.02))
    curve = oc_curve(n, c, np.linspace(0.0, top, 61), batch_size=size)
    kind = "binomial" if size is None else "hypergeometric"
    return found | {"oc_curve": curve, "distribution": kind}


def _alpha_threshold(gates: Any, metric: str = "krippendorff_alpha") -> float | None:
    for gate in gates:
        if gate.metric == metric:
            return float(gate.threshold)
    return None


def _input(batch: BatchRecord) -> dict[str, Any]:
    return {
        "batch": batch.name,
        "source": batch.source,
        "sha256": batch.sha256,
        "input_sha256": batch.input_sha256,
        "ingested_at": batch.ingested_at.isoformat(timespec="seconds") + "Z",
    }
