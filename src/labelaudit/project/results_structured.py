"""Per-batch results of structured projects (``[task] task = "spans"``, boxes, ...).

A structured batch is scored with its type's own measures, never with a nominal alpha over
the payload text:

- agreement: :func:`labelaudit.agreement_report` (which routes structured tables to
  :mod:`labelaudit.structured`), its nested metrics flattened to headline rows:
  ``span_f1_exact`` / ``span_f1_overlap`` (micro), per label ``span_f1_exact:PER``;
  ``box_f1_50`` / ``box_f1_50_95``; ``masi_alpha``; ``kendall_w``; ``text_alpha``; ...
  (:data:`labelaudit.project.config.TRACKED_METRICS` names the charted one);
- consensus: structured voting (:func:`labelaudit.structured.consensus.structured_consensus`):
  ``mean_confidence``, ``low_confidence_rate`` and ``adjudication_queue`` (items whose
  confidence is below the queue threshold);
- annotators: :func:`labelaudit.quality.structured.structured_annotator_report`: per
  annotator the primary pairwise measure with the others (stored as ``loo_agreement``
  too, so the per-annotator drift chart follows it), ``n_regions`` and ``n_flags``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from labelaudit.results import clean_number
from labelaudit.table.table import AnnotationTable

if TYPE_CHECKING:
    from labelaudit.project.results import AnnotatorRow, BatchResult, MetricRow

__all__ = ["structured_annotators_result", "structured_consensus_result", "structured_rows"]

#: Path parts renamed in the flattened metric names.
_RENAME = {"iou50": "50", "iou50_95": "50_95", "oks50": "50", "oks50_95": "50_95"}


def structured_rows(metrics: dict[str, Any]) -> list[MetricRow]:
    """Headline rows of a structured agreement report's ``metrics`` (nested dicts flattened).

    ``span_f1 -> exact -> micro`` becomes ``span_f1_exact``; ``per_label`` entries become
    ``span_f1_exact:LABEL`` (like ``icc:FORM``); ``box_f1 -> iou50`` becomes ``box_f1_50``.
    """
    rows: list[MetricRow] = []

    def walk(name: str, value: Any, suffix: str) -> None:
        if isinstance(value, dict) and "value" in value and "ci95" in value:
            low, high = value["ci95"] or (None, None)
            key = name + (f":{suffix}" if suffix else "")
            rows.append((key, value["value"], value["se"], low, high, value["reason"]))
            return
        if not isinstance(value, dict):
            return
        for part, inner in value.items():
            if part == "micro":
                walk(name, inner, suffix)
            elif part in ("per_label", "per_category"):
                for label, entry in inner.items():
                    walk(name, entry, str(label))
            elif name in ("per_label_kappa", "per_label_alpha"):
                walk(name, inner, str(part))
            else:
                walk(f"{name}_{_RENAME.get(part, part)}", inner, suffix)

    for name, metric in metrics.items():
        walk(name, metric, "")
    return rows


def structured_consensus_result(table: AnnotationTable, threshold: float) -> BatchResult:
    """Voting consensus of a structured batch: confidence and the adjudication queue
    (:func:`labelaudit.quality.structured_queue.structured_adjudication_queue`)."""
    from labelaudit.project.results import BatchResult
    from labelaudit.project.results_quality import QUEUE_EXAMPLES, _metric
    from labelaudit.quality.structured_queue import structured_adjudication_queue
    from labelaudit.structured.consensus import structured_consensus

    consensus = structured_consensus(table)
    queue = structured_adjudication_queue(table, threshold=threshold, consensus=consensus)
    confidence = consensus.confidence if consensus.confidence is not None else np.zeros(0)
    finite = confidence[np.isfinite(confidence)]
    n_queued = len(queue.entries)
    mean = float(finite.mean()) if finite.size else None
    result = {
        "method": consensus.method,
        "task": table.task,
        "threshold": threshold,
        "n_items": table.n_items,
        "n_tied": 0,
        "n_low_confidence": n_queued,
        "n_queued": n_queued,
        "mean_confidence": clean_number(mean),
        "queue": queue.entries[:QUEUE_EXAMPLES],
    }
    metrics = [
        _metric("mean_confidence", mean, "no item with a defined confidence"),
        _metric("tie_rate", 0.0),
        _metric("low_confidence_rate", n_queued / max(table.n_items, 1)),
        _metric("adjudication_queue", n_queued),
    ]
    return BatchResult(kind="consensus", schema_version=1, result=result, metrics=metrics)


def structured_annotators_result(table: AnnotationTable) -> BatchResult:
    """Structured annotator quality of the batch (see the module docstring)."""
    from labelaudit.project.results import BatchResult
    from labelaudit.quality.structured import structured_annotator_report

    full = structured_annotator_report(table).to_dict()
    primary = full["primary_metric"]
    annotators: list[AnnotatorRow] = []
    for row in full["annotators"]:
        name, n = row["annotator"], int(row["n_regions"])
        value = row[primary]
        why = "shares no item with another annotator" if value is None else None
        annotators.append((name, primary, value, n, why))
        annotators.append((name, "loo_agreement", value, n, why))
        annotators.append((name, "n_regions", float(n), n, None))
        annotators.append((name, "n_flags", float(len(row["flags"])), n, None))
    result = {
        key: full[key]
        for key in ("task", "primary_metric", "annotators", "flags", "n_flagged", "rules_not_run")
    }
    metrics: list[MetricRow] = [
        ("n_flagged", float(full["n_flagged"]), None, None, None, None),
        ("n_annotators", float(full["n_annotators"]), None, None, None, None),
    ]
    return BatchResult("annotators", 1, result, metrics=metrics, annotators=annotators)
