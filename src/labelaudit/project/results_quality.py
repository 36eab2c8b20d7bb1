"""Per-batch consensus, gold and annotator results (kinds ``consensus``, ``gold``, ``annotators``).

Each function maps one validated batch to a :class:`~labelaudit.project.results.BatchResult`
and is one entry of :data:`labelaudit.project.results.ANALYSES`. They use cheap methods
only (majority vote, counts), so ingest stays linear in the number of annotations:

- :func:`consensus_result`: majority vote with ties kept visible
  (:func:`labelaudit.quality.item_report`); headline rows ``mean_confidence``,
  ``tie_rate``, ``low_confidence_rate`` and ``adjudication_queue`` (tied items plus items
  whose winning vote share is below :data:`QUEUE_THRESHOLD`, the rule of
  :func:`labelaudit.quality.adjudication_queue`).
- :func:`gold_result`: gold error rate (wrong gold answers / gold answers, the p-chart's
  d_i / n_i) and per-annotator gold errors, when ``[gold]`` names a file or a column;
  None (no result stored) otherwise.
- At interval and ratio level, consensus and annotator results follow the level
  (:mod:`labelaudit.project.results_numeric`: median consensus, spread-based queue,
  Pearson r with the others' mean).
- :func:`annotators_result`: :func:`labelaudit.quality.annotator_report` with majority vote
  only (no EM model); per-annotator ``loo_agreement``, ``gold_accuracy``, ``n_labels``,
  ``js_divergence`` and ``n_flags`` rows, the flags with their reasons in the JSON.
"""

from __future__ import annotations

import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from labelaudit.project.config import ProjectConfig
from labelaudit.results import clean_number
from labelaudit.table.table import AnnotationTable

if TYPE_CHECKING:
    from labelaudit.consensus import MajorityVote
    from labelaudit.project.results import AnnotatorRow, BatchResult, MetricRow
    from labelaudit.quality import GoldLabels

__all__ = [
    "NO_GOLD_CONFIG",
    "QUEUE_THRESHOLD",
    "annotators_result",
    "batch_gold",
    "consensus_result",
    "fairness_result",
    "gold_labels",
    "gold_result",
    "majority_fit",
]

#: Items whose consensus confidence is below this go to the adjudication queue.
QUEUE_THRESHOLD = 0.7
#: Queue entries kept in the stored JSON (the count covers every item).
QUEUE_EXAMPLES = 20


def majority_fit(table: AnnotationTable, seed: int) -> MajorityVote:
    """Majority vote of the batch (random ties drawn with ``seed``), fitted once per table
    and seed and shared by the consensus, gold and annotator results (each used to fit
    its own: the one fit they share gives the same figures)."""
    fits = _MAJORITY.setdefault(table, {})
    if seed not in fits:
        from labelaudit.quality import fit_method

        fits[seed] = cast("MajorityVote", fit_method("majority", table, seed=seed))
    return fits[seed]


_MAJORITY: weakref.WeakKeyDictionary[AnnotationTable, dict[int, MajorityVote]] = (
    weakref.WeakKeyDictionary()
)


def _metric(name: str, value: Any, reason: str | None = None) -> MetricRow:
    number = clean_number(None if value is None else float(value))
    return (name, number, None, None, None, reason if number is None else None)


def consensus_result(table: AnnotationTable, config: ProjectConfig) -> BatchResult:
    """Majority-vote consensus of the batch, its confidence and the adjudication queue size.

    Parameters
    ----------
    table : AnnotationTable
        The validated batch.
    config : ProjectConfig
        Gives the seed (``[agreement] seed``).

    Returns
    -------
    BatchResult
        kind ``consensus``; ``result``: ``{"method", "threshold", "n_items", "n_tied",
        "n_low_confidence", "n_queued", "mean_confidence", "queue": [first 20 entries]}``.
        Confidence is the winning vote share (1 = unanimous). O(n_ratings + n_items q).
    """
    from labelaudit.project.results import BatchResult
    from labelaudit.quality import adjudication_queue

    if table.schema.is_structured:
        from labelaudit.project.results_structured import structured_consensus_result

        return structured_consensus_result(table, QUEUE_THRESHOLD)
    if table.schema.is_quantitative:
        from labelaudit.project.results_numeric import numeric_consensus_result

        return numeric_consensus_result(table, config.agreement.seed)
    model = majority_fit(table, config.agreement.seed)
    # the items item_report finds tied (consensus_ties), from the vote itself
    tied = np.asarray(model.tied_)
    confidence = np.asarray(model.confidence_, dtype=np.float64)
    low = ~tied & (confidence < QUEUE_THRESHOLD)
    n_queued = int((tied | low).sum())
    mean_confidence = float(np.mean(confidence)) if table.n_items else None
    head = _queue_head(table, tied, confidence)
    queue = adjudication_queue(head, threshold=QUEUE_THRESHOLD, method="majority")
    n = max(table.n_items, 1)
    result = {
        "method": "majority",
        "threshold": QUEUE_THRESHOLD,
        "n_items": table.n_items,
        "n_tied": int(tied.sum()),
        "n_low_confidence": int(low.sum()),
        "n_queued": n_queued,
        "mean_confidence": clean_number(mean_confidence),
        "queue": queue.entries[:QUEUE_EXAMPLES],
    }
    metrics = [
        _metric("mean_confidence", mean_confidence, "no items"),
        _metric("tie_rate", tied.sum() / n),
        _metric("low_confidence_rate", low.sum() / n),
        _metric("adjudication_queue", n_queued),
    ]
    return BatchResult(kind="consensus", schema_version=1, result=result, metrics=metrics)


def _queue_head(
    table: AnnotationTable, tied: np.ndarray, confidence: np.ndarray
) -> AnnotationTable:
    """The rows of the first queued items (ties first, then lowest confidence, then item
    code), so that the stored examples come from :func:`adjudication_queue` without
    building every entry; found without sorting the queue or passing over every row."""
    low = np.flatnonzero(~tied & (confidence < QUEUE_THRESHOLD))
    first = _first_by(np.flatnonzero(tied), confidence, QUEUE_EXAMPLES)
    head = np.concatenate([first, _first_by(low, confidence, QUEUE_EXAMPLES - first.size)])
    if not head.size:
        head = np.zeros(1, dtype=np.int64)  # an empty queue: any one item gives the same answer
    return table.take_items(head)


def _first_by(codes: np.ndarray, values: np.ndarray, k: int) -> np.ndarray:
    """The first ``k`` of ``codes`` (ascending) in (``values[code]``, code) order, as a
    lexsort would give them, from one partition instead of a sort of every code."""
    if k <= 0 or not codes.size:
        return codes[:0]
    keys = values[codes]
    if codes.size > k:
        kth = np.partition(keys, k - 1)[k - 1]
        below = keys < kth
        keep = np.concatenate([np.flatnonzero(below), np.flatnonzero(keys == kth)])[:k]
        codes, keys = codes[keep], keys[keep]
    return codes[np.argsort(keys, kind="stable")]


def gold_labels(table: AnnotationTable, config: ProjectConfig) -> GoldLabels | None:
    """Gold labels of the batch from ``[gold] file`` (relative to the project folder) or
    ``[gold] column``; None when neither is configured."""
    from labelaudit.quality import load_gold

    gold = config.gold
    if gold.file is None and gold.column is None:
        return None
    path = None
    if gold.file is not None:
        path = Path(gold.file)
        if not path.is_absolute():
            path = Path(config.source).resolve().parent / path
    return load_gold(table, path=path, column=gold.column, label_col=_gold_label_col(path))


def _gold_label_col(path: Path | None) -> str:
    """``gold_label`` when the gold file has it, else ``label`` (both documented)."""
    if path is None or not path.is_file():
        return "gold_label"
    from labelaudit.table import load_source

    raw, _ = load_source(path, None)
    return "gold_label" if "gold_label" in raw.column_names else "label"


def gold_result(table: AnnotationTable, config: ProjectConfig) -> BatchResult | None:
    """Gold error rate of the batch and per-annotator gold errors (None without ``[gold]``).

    Returns
    -------
    BatchResult or None
        kind ``gold``; rows ``gold_errors`` (d_i), ``gold_answers`` (n_i),
        ``gold_error_rate`` (d_i / n_i), ``gold_accuracy`` (1 - rate) and
        ``consensus_gold_accuracy`` (majority vote on the gold items); per annotator
        ``gold_errors`` and ``gold_accuracy`` with n = that annotator's gold answers.
        A batch without any gold item gets None values with a reason.
    """
    from labelaudit.project.results import BatchResult
    from labelaudit.quality import aggregator_gold_accuracy, gold_accuracy

    if table.schema.is_structured:
        if config.gold.file is None and config.gold.column is None:
            return None
        note = f"gold answers of {table.task} labels are scored by `labelaudit annotators --gold`"
        none = [_metric(m, None, note) for m in ("gold_error_rate", "gold_accuracy")]
        return BatchResult("gold", 1, {"n_gold_answers": 0, "reason": note}, metrics=none)
    gold, reason = batch_gold(table, config)
    if gold is None and reason == NO_GOLD_CONFIG:
        return None
    if gold is None:
        rows = [_metric(m, None, reason) for m in ("gold_error_rate", "gold_accuracy")]
        rows += [(m, 0.0, None, None, None, None) for m in ("gold_errors", "gold_answers")]
        return BatchResult("gold", 1, {"n_gold_answers": 0, "reason": reason}, metrics=rows)
    report = gold_accuracy(table, gold)
    answers, correct = int(report.n_gold.sum()), int(report.n_correct.sum())
    consensus_value: float | None
    consensus_reason: str | None
    if table.schema.is_quantitative:  # no vote over continuous values
        consensus_value, consensus_reason = None, "numeric labels: no majority vote"
    else:
        consensus = aggregator_gold_accuracy(majority_fit(table, 0).labels_, gold)
        consensus_value, consensus_reason = consensus.value, consensus.reason
    rate = (answers - correct) / answers if answers else None
    metrics = [
        ("gold_errors", float(answers - correct), None, None, None, None),
        ("gold_answers", float(answers), None, None, None, None),
        _metric("gold_error_rate", rate, "no gold answers"),
        _metric("gold_accuracy", None if rate is None else 1.0 - rate, "no gold answers"),
        _metric("consensus_gold_accuracy", consensus_value, consensus_reason),
    ]
    annotators: list[AnnotatorRow] = []
    for a, name in enumerate(report.annotators):
        n_gold = int(report.n_gold[a])
        why = None if n_gold else "labelled no gold item"
        accuracy = clean_number(float(report.accuracy[a])) if n_gold else None
        annotators.append((name, "gold_errors", float(n_gold - report.n_correct[a]), n_gold, None))
        annotators.append((name, "gold_accuracy", accuracy, n_gold, why))
    result = {**report.to_dict(), "n_gold_answers": answers, "n_gold_errors": answers - correct}
    return BatchResult("gold", 1, result, metrics=metrics, annotators=annotators)


#: Per-annotator columns of the annotator report stored as typed rows, with their n.
_ANNOTATOR_ROWS = (
    ("loo_agreement", "n_compared"),
    ("gold_accuracy", "n_gold"),
    ("js_divergence", "n_labels"),
    ("n_labels", "n_labels"),
)


def annotators_result(table: AnnotationTable, config: ProjectConfig) -> BatchResult:
    """Annotator figures and outlier flags (:func:`labelaudit.quality.annotator_report`,
    majority vote only).

    Returns
    -------
    BatchResult
        kind ``annotators``; ``result``: ``{"annotators": [rows], "flags": [{"annotator",
        "metric", "value", "score", "rule", "reason"}], "n_flagged", "pools", "reasons"}``;
        batch rows ``n_flagged`` and ``n_annotators``; per annotator ``loo_agreement``
        (n = labels compared), ``gold_accuracy`` (n = gold answers), ``js_divergence``,
        ``n_labels`` and ``n_flags``.
    """
    from labelaudit.project.results import BatchResult
    from labelaudit.quality import annotator_report

    if table.schema.is_structured:
        from labelaudit.project.results_structured import structured_annotators_result

        return structured_annotators_result(table)
    if table.schema.is_quantitative:
        from labelaudit.project.results_numeric import numeric_annotators_result

        return numeric_annotators_result(table)
    gold, _ = batch_gold(table, config)
    seed = config.agreement.seed
    fitted = {"majority": majority_fit(table, seed)}
    report = annotator_report(table, gold=gold, methods=("majority",), seed=seed, fitted=fitted)
    full = report.to_dict()
    rows = full["annotators"]
    annotators: list[AnnotatorRow] = []
    for row in rows:
        name = row["annotator"]
        for metric, n_key in _ANNOTATOR_ROWS:
            value = row[metric]
            reason = row["reasons"].get(metric) if value is None else None
            annotators.append((name, metric, _float(value), int(row[n_key]), reason))
        annotators.append((name, "n_flags", float(len(row["flags"])), int(row["n_labels"]), None))
    result = {key: full[key] for key in ("annotators", "flags", "n_flagged", "pools", "reasons")}
    metrics: list[MetricRow] = [
        ("n_flagged", float(full["n_flagged"]), None, None, None, None),
        ("n_annotators", float(full["n_annotators"]), None, None, None, None),
    ]
    return BatchResult("annotators", 1, result, metrics=metrics, annotators=annotators)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


NO_GOLD_CONFIG = "no gold source: [gold] names no file or column"


def batch_gold(table: AnnotationTable, config: ProjectConfig) -> tuple[GoldLabels | None, str]:
    """(gold labels, "") of the batch, or (None, why): no gold configured, or no gold item
    in this batch. Any other gold problem (a bad gold label, a missing file) raises."""
    from labelaudit.exceptions import InputError

    if config.gold.file is None and config.gold.column is None:
        return None, NO_GOLD_CONFIG
    try:
        return gold_labels(table, config), ""
    except InputError as error:
        if "no gold item" in str(error) or "no gold label" in str(error):
            return None, "the batch holds no gold item"
        raise


def fairness_result(table: AnnotationTable, config: ProjectConfig) -> BatchResult | None:
    """Group offsets of the batch (:func:`labelaudit.fairness.slices_report`, options from
    ``[fairness]``); headline row ``max_group_gap`` (largest minus smallest shown group
    offset over the ``by`` attributes). None when ``[fairness] by`` is unset."""
    options = config.fairness
    if not options.by:
        return None  # before the imports: labelaudit.fairness loads scipy.stats
    from labelaudit.fairness import read_attribute_file, slices_report
    from labelaudit.project.results import BatchResult

    meta = None
    if options.annotators_meta is not None:
        path = Path(config.source).parent / options.annotators_meta
        meta = read_attribute_file(path, "annotator")
    report = slices_report(
        table,
        options.by,
        annotators=meta,
        min_raters=options.min_raters,
        n_boot=options.n_boot,
        seed=options.seed,
    )
    gap = report.max_group_gap
    reason = None if gap is not None else "fewer than two groups with figures"
    rows: list[MetricRow] = [("max_group_gap", gap, None, None, None, reason)]
    data = report.to_dict()
    result = {k: data[k] for k in ("groupings", "groups", "offsets", "contrasts", "gaps")}
    return BatchResult(kind="fairness", schema_version=1, result=result, metrics=rows)
