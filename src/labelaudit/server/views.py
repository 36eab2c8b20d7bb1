"""What each page shows, as JSON-ready dicts (the ``/api/`` twins return them as they are).

Every figure comes from the library over the store: the pipeline report
(:func:`labelaudit.pipeline_report.build_pipeline_report`) for gates, trends and
annotators, the stored per-batch results, the adjudication queue
(:func:`labelaudit.project.decisions.batch_queue`) and the decisions. Results are cached
under the store's version (:class:`~labelaudit.server.access.StoreAccess`); queues per
batch content hash (a stored batch never changes under its hash).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Hashable
from typing import Any

from labelaudit.exceptions import NotFoundError, UsageError
from labelaudit.project.store import BatchRecord, Store
from labelaudit.server.access import StoreAccess

__all__ = [
    "QueueFilter",
    "annotator_view",
    "annotators_view",
    "batch_view",
    "batches_view",
    "decisions_view",
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

    return access.cached(("pipeline", batch), compute)


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


def annotators_view(access: StoreAccess) -> dict[str, Any]:
    """Every annotator over the whole history (pooled figures, flags, drift)."""
    report = pipeline(access)
    return {"annotators": [] if report is None else report["annotators"]}


_TREND = (
    "SELECT b.name, a.kind, a.metric, a.value, a.n FROM annotator_metrics a "
    "JOIN batches b USING (batch_id) WHERE a.annotator = ? ORDER BY b.batch_id"
)
_DISAGREE = """
WITH mine AS (SELECT item, label, extra FROM annotations WHERE batch_id = ? AND annotator = ?),
votes AS (SELECT item, label, count(*) AS n FROM annotations
          WHERE batch_id = ? AND item IN (SELECT item FROM mine) GROUP BY item, label),
top AS (SELECT item, arg_max(label, n) AS label, max(n) AS n, sum(n) AS total
        FROM votes GROUP BY item)
SELECT m.item, m.label, t.label, t.n, t.total, m.extra FROM mine m JOIN top t USING (item)
WHERE m.label <> t.label ORDER BY m.item LIMIT ?
"""
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
            (latest.batch_id, annotator, latest.batch_id, DISAGREEMENTS),
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


# ------------------------------------------------------------------------- queue
class QueueFilter:
    """Filters and order of the queue (query parameters of ``/queue`` and ``/api/queue``)."""

    SORTS = ("priority", "confidence", "item", "batch")
    STATUSES = ("open", "decided", "all")

    def __init__(
        self,
        *,
        batch: str | None = None,
        reason: str | None = None,
        annotator: str | None = None,
        label: str | None = None,
        max_confidence: float | None = None,
        status: str = "open",
        sort: str = "priority",
        limit: int = 100,
        offset: int = 0,
    ) -> None:
        if sort not in self.SORTS:
            raise UsageError(f"sort must be one of {', '.join(self.SORTS)}; got {sort!r}")
        if status not in self.STATUSES:
            raise UsageError(f"status must be one of {', '.join(self.STATUSES)}; got {status!r}")
        self.batch, self.reason, self.annotator, self.label = batch, reason, annotator, label
        self.max_confidence, self.status, self.sort = max_confidence, status, sort
        self.limit, self.offset = limit, offset

    def keep(self, entry: dict[str, Any]) -> bool:
        """Whether ``entry`` passes every filter."""
        candidates = entry["candidates"]
        checks = (
            self.batch is None or entry["batch"] == self.batch,
            self.reason is None or entry["reason"] == self.reason,
            self.annotator is None or any(c["annotator"] == self.annotator for c in candidates),
            self.label is None or any(c["label"] == self.label for c in candidates),
            self.max_confidence is None or entry["confidence"] <= self.max_confidence,
            self.status == "all" or (entry["decided"] is None) == (self.status == "open"),
        )
        return all(checks)

    def order(self, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Entries in the requested order (priority: ties first, lowest confidence)."""
        keys = {
            "priority": lambda e: (e["reason"] != "tie", e["confidence"], e["batch_position"]),
            "confidence": lambda e: (e["confidence"], e["batch_position"], e["item"]),
            "item": lambda e: (e["item"], e["batch_position"]),
            "batch": lambda e: (e["batch_position"], e["reason"] != "tie", e["confidence"]),
        }
        return sorted(entries, key=keys[self.sort])


_QUEUES: dict[tuple[int, str], list[dict[str, Any]]] = {}
_QUEUES_LOCK = threading.Lock()


def _batch_entries(store: Store, batch: BatchRecord) -> list[dict[str, Any]]:
    """The batch's queue entries, computed once per batch content (sha256)."""
    from labelaudit.project.decisions import batch_queue, batch_table

    key = (batch.batch_id, batch.sha256)
    with _QUEUES_LOCK:
        if key in _QUEUES:
            return _QUEUES[key]
    if json.loads(batch.task_schema).get("level") in ("interval", "ratio"):
        entries: list[dict[str, Any]] = []
    else:
        entries = batch_queue(batch_table(store, batch)).entries
    with _QUEUES_LOCK:
        _QUEUES[key] = entries
    return entries


def queue_view(access: StoreAccess, where: QueueFilter) -> dict[str, Any]:
    """The adjudication queue of every batch, each entry with its decision (if any).

    Returns
    -------
    dict
        ``{"n_open", "n_decided", "n_matching", "offset", "limit", "categories",
        "items": [{"batch", "item", "reason", "consensus_label", "confidence",
        "candidates", "decided"}]}``.
    """
    from labelaudit.project.decisions import latest_decisions

    def compute(store: Store) -> tuple[list[dict[str, Any]], list[str]]:
        decided = latest_decisions(store)
        out: list[dict[str, Any]] = []
        categories: set[str] = set()
        for position, batch in enumerate(store.batches()):
            declared = json.loads(batch.task_schema).get("categories")
            for entry in _batch_entries(store, batch):
                labels = [c["label"] for c in entry["candidates"]]
                categories.update(declared or labels)
                out.append(
                    entry
                    | {
                        "batch": batch.name,
                        "batch_position": position,
                        "decided": decided.get(entry["item"]),
                    }
                )
        return out, sorted(categories)

    entries, categories = _read(access, "queue", compute)
    matching = where.order([e for e in entries if where.keep(e)])
    page = matching[where.offset : where.offset + where.limit]
    return {
        "n_open": sum(e["decided"] is None for e in entries),
        "n_decided": sum(e["decided"] is not None for e in entries),
        "n_matching": len(matching),
        "offset": where.offset,
        "limit": where.limit,
        "categories": categories,
        "items": [{k: v for k, v in e.items() if k != "batch_position"} for e in page],
    }
