"""What each page shows, as JSON-ready dicts (the ``/api/`` twins return them as they are).

Every figure comes from the library over the store: the pipeline report
(:func:`labelaudit.pipeline_report.build_pipeline_report`) for gates, trends and
annotators, the stored per-batch results, the adjudication queue
(:mod:`labelaudit.server.queue`) and the decisions. Results are cached with the parts of
the store they read (:class:`~labelaudit.server.access.StoreAccess`): a decision keeps the
pipeline report and its charts.
"""

from __future__ import annotations

import json
from collections.abc import Hashable
from typing import Any

from labelaudit.exceptions import NotFoundError
from labelaudit.project.store import BatchRecord, Store, names_join
from labelaudit.server.access import StoreAccess
from labelaudit.server.queue import QueueFilter, queue_view

__all__ = [
    "QueueFilter",
    "agreement_document",
    "annotator_view",
    "annotators_view",
    "batch_view",
    "batches_view",
    "decisions_view",
    "pipeline",
    "pipeline_charts",
    "queue_view",
    "status_view",
]

_OPEN = (
    "SELECT b.name, coalesce(d.value, c.value) FROM batches b "
    "LEFT JOIN batch_metrics d ON d.batch_id = b.batch_id AND d.kind = 'decisions' "
    "AND d.metric = 'open_adjudications' "
    "LEFT JOIN batch_metrics c ON c.batch_id = b.batch_id AND c.kind = 'consensus' "
    "AND c.metric = 'adjudication_queue' ORDER BY b.batch_id"
)


def pipeline(access: StoreAccess, batch: str | None = None) -> dict[str, Any] | None:
    """The pipeline report of every batch (or one); None for an empty store."""
    from labelaudit.pipeline_report import Scope, build_pipeline_report

    scope = Scope(mode="all") if batch is None else Scope(mode="batch", batch=batch)

    def compute() -> dict[str, Any] | None:
        with access.reading() as store:
            if not store.batches():
                return None
        return access.call(lambda project: build_pipeline_report(project, scope))

    return access.cached(("pipeline", batch), compute, ("results", "config"))


def pipeline_charts(access: StoreAccess) -> dict[str, Any]:
    """The pipeline report's charts over every batch (inline SVG), drawn once per change
    of the batches (a decision does not redraw them)."""

    def compute() -> dict[str, Any]:
        import dataclasses

        from labelaudit.pipeline_report import render_pipeline_charts
        from labelaudit.server.overlays import hover_points

        report = pipeline(access)
        if report is None:
            return {}
        drawn = render_pipeline_charts(report)
        charts = report["charts"]
        for key in ("agreement", "gold"):
            chart = charts.get(key) or {}
            if key == "agreement" and chart:
                chart = chart["charts"]["individuals"]
            points = chart.get("points", [])
            if key in drawn and points:
                labels = [str(p.get("label", k)) for k, p in enumerate(points)]
                svg = hover_points(
                    drawn[key].svg, f"series-{key}", labels, [p.get("value") for p in points]
                )
                drawn[key] = dataclasses.replace(drawn[key], svg=svg)
        return drawn

    return access.cached("charts", compute, ("results", "config"))


def _read(access: StoreAccess, key: Hashable, function: Any) -> Any:
    """``function(store)`` on a short read-only connection, cached under ``key``."""

    def compute() -> Any:
        with access.reading() as store:
            return function(store)

    return access.cached(key, compute)


def _open_counts(store: Store) -> dict[str, int]:
    return {name: int(value or 0) for name, value in store.execute(_OPEN).fetchall()}


def _n_decisions(store: Store) -> int:
    return int(store.execute("SELECT count(DISTINCT item) FROM decisions").fetchone()[0])


def status_view(access: StoreAccess) -> dict[str, Any]:
    """The overview: latest batch's gates, trends, open adjudications, annotators to watch.

    Returns
    -------
    dict
        ``{"project", "n_batches", "latest_batch", "passed", "gates", "summary",
        "open_adjudications", "decided_items", "attention", "trends"}``.
    """
    project = access.project()
    report = pipeline(access)
    counts = _read(access, "open", lambda s: (_open_counts(s), _n_decisions(s)))
    base: dict[str, Any] = {"project": {"name": project.config.name}}
    if report is None:
        return base | {
            "n_batches": 0,
            "latest_batch": None,
            "passed": None,
            "gates": [],
            "summary": None,
            "open_adjudications": 0,
            "decided_items": 0,
            "attention": [],
            "trends": {"batches": [], "krippendorff_alpha": [], "gold_error_rate": []},
        }
    rows = report["batches"]
    attention = [
        {
            "annotator": a["annotator"],
            "flags": a["flags"],
            "drift": a["drift"],
            "loo_agreement": a["loo_agreement"],
            "gold_accuracy": a["gold_accuracy"],
        }
        for a in report["annotators"]
        if a["flags"] or a["drift"]
    ]
    return base | {
        "n_batches": len(rows),
        "latest_batch": report["summary"]["latest_batch"],
        "passed": report["gates"]["passed"],
        "gates": report["gates"]["gates"],
        "summary": report["summary"],
        "open_adjudications": sum(counts[0].values()),
        "decided_items": counts[1],
        "attention": attention,
        "trends": {
            "batches": [r["name"] for r in rows],
            "krippendorff_alpha": [r["krippendorff_alpha"] for r in rows],
            "gold_error_rate": [r["gold_error_rate"] for r in rows],
            "signals": [r["signals"] for r in rows],
        },
    }


def batches_view(access: StoreAccess) -> dict[str, Any]:
    """Every batch with its headline values, signals and open adjudications."""
    report = pipeline(access)
    counts = _read(access, "open", lambda s: (_open_counts(s), _n_decisions(s)))[0]
    rows = [] if report is None else report["batches"]
    return {"batches": [r | {"open_adjudications": counts.get(r["name"], 0)} for r in rows]}


def _batch_record(store: Store, name: str) -> BatchRecord:
    record = store.batch(name=name)
    if record is None:
        raise NotFoundError(f"no batch named {name!r} in the project store")
    return record


def batch_view(access: StoreAccess, name: str) -> dict[str, Any]:
    """One batch: gates, agreement metrics with CIs, confusions, worst items, annotators."""

    def stored(store: Store) -> dict[str, Any]:
        record = _batch_record(store, name)
        out: dict[str, Any] = {"batch": record.to_dict()}
        for kind in ("agreement", "consensus", "gold", "decisions"):
            text = store.result(record.batch_id, kind)
            out[kind] = json.loads(text) if text is not None else None
        return out

    data = _read(access, ("batch", name), stored)
    report = pipeline(access, name)
    assert report is not None  # the batch exists
    agreement = data["agreement"] or {}
    return {
        "batch": data["batch"] | {k: v for k, v in report["batches"][0].items() if k != "name"},
        "gates": report["gates"],
        "metrics": agreement.get("metrics", {}),
        "confusions": report["confusions"],
        "worst_items": agreement.get("top_disagreements", []),
        "annotators": report["annotators"],
        "adjudication": report["adjudication"],
        "decisions": data["decisions"],
        "agreement": agreement,
    }


def agreement_document(access: StoreAccess, name: str, data: dict[str, Any]) -> Any:
    """The batch's agreement document (its charts drawn with matplotlib), built once per
    change of the batches' results (a decision does not redraw it); None without one."""
    from labelaudit.report.builders import agreement_document as build

    if not data["agreement"]:
        return None
    return access.cached(
        ("agreement-document", name), lambda: build(data["agreement"]), ("results", "config")
    )


def annotators_view(access: StoreAccess) -> dict[str, Any]:
    """Every annotator over the whole history (pooled figures, flags, drift)."""
    report = pipeline(access)
    return {"annotators": [] if report is None else report["annotators"]}


_TREND = (
    "SELECT b.name, a.kind, a.metric, a.value, a.n FROM annotator_metrics a "
    "JOIN batches b USING (batch_id) WHERE a.annotator = ? ORDER BY b.batch_id"
)
# The annotator's rows of the batch whose label is not their item's most common one (ties:
# the smallest label name), first by item: on the codes, decoding only the rows returned.
# Parameters: batch_id, annotator, batch_id (twice), limit. ``tie`` ranks the batch's labels
# (the smallest name highest), so one integer orders votes then names.
_DISAGREE = (
    "WITH mine AS (SELECT c.batch_id, c.item, c.label, c.extra FROM annotation_codes c"
    + names_join("a", "annotator", "c.batch_id", "c.annotator")
    + "WHERE c.batch_id = ? AND a.name = ?), "
    "ranks AS (SELECT code, count(*) OVER () AS size, count(*) OVER () - rank() OVER "
    "(ORDER BY name) AS tie FROM annotation_names WHERE batch_id = ? AND field = 'label'), "
    "votes AS (SELECT item, label, count(*) AS n FROM annotation_codes WHERE batch_id = ? "
    "AND item IN (SELECT item FROM mine) GROUP BY item, label), "
    "top AS (SELECT v.item, arg_max(v.label, v.n * r.size + r.tie) AS label, max(v.n) AS n, "
    "sum(v.n) AS total FROM votes v JOIN ranks r ON r.code = v.label GROUP BY v.item) "
    "SELECT i.name, ml.name, tl.name, t.n, t.total, m.extra FROM mine m JOIN top t USING (item)"
    + names_join("i", "item", "m.batch_id", "m.item")
    + names_join("ml", "label", "m.batch_id", "m.label")
    + names_join("tl", "label", "m.batch_id", "t.label")
    + "WHERE m.label <> t.label ORDER BY i.name LIMIT ?"
)
DISAGREEMENTS = 50


def annotator_view(access: StoreAccess, annotator: str) -> dict[str, Any]:
    """One annotator: per-batch trends, flags with reasons, their disagreements (with text)."""
    from labelaudit.pipeline_report import item_text

    def compute(store: Store) -> dict[str, Any]:
        rows = store.execute(_TREND, (annotator,)).fetchall()
        if not rows:
            raise NotFoundError(f"no annotator {annotator!r} in the project store")
        trend: dict[str, dict[str, Any]] = {}
        for batch, kind, metric, value, n in rows:
            entry = trend.setdefault(batch, {"batch": batch})
            entry[f"{kind}.{metric}"] = value
            if metric in ("loo_agreement", "gold_accuracy", "decision_agreement"):
                entry[f"{kind}.{metric}.n"] = n
        latest = _batch_record(store, rows[-1][0])
        found = store.execute(
            _DISAGREE,
            (latest.batch_id, annotator, latest.batch_id, latest.batch_id, DISAGREEMENTS),
        ).fetchall()
        flags = []
        for batch, result in store.execute(
            "SELECT b.name, r.result FROM batch_results r JOIN batches b USING (batch_id) "
            "WHERE r.kind = 'annotators' ORDER BY r.batch_id"
        ).fetchall():
            flags += [
                {"batch": batch} | f
                for f in json.loads(result).get("flags", [])
                if f.get("annotator") == annotator
            ]
        from labelaudit.guidelines.stored import calibration_history

        return {
            "annotator": annotator,
            "trend": list(trend.values()),
            "calibration": calibration_history(store, annotator),
            "flags": flags,
            "disagreements_batch": latest.name,
            "disagreements": [
                {
                    "item": item,
                    "label": label,
                    "most_common": common,
                    "n_most_common": int(n),
                    "n_labels": int(total),
                    "text": item_text(extra),
                }
                for item, label, common, n, total, extra in found
            ],
        }

    return _read(access, ("annotator", annotator), compute)


def decisions_view(access: StoreAccess) -> dict[str, Any]:
    """Every decision (the history: oldest first) and how many items are decided."""
    from labelaudit.project.decisions import list_decisions

    def compute(store: Store) -> dict[str, Any]:
        decisions = [d.to_dict() for d in list_decisions(store)]
        return {"n_decisions": len(decisions), "decided_items": _n_decisions(store)} | {
            "decisions": decisions
        }

    return _read(access, "decisions", compute)
