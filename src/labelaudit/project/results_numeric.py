"""Per-batch consensus and annotator results for interval and ratio projects.

Categorical methods (majority vote, per-annotator confusion matrices) make no sense for
continuous ratings and do not scale with them (4,000 items x 5 raters of real-valued
scores have ~20,000 distinct values). At interval and ratio level the stored results
follow the level instead (agreement is already Krippendorff's alpha at that level and the
ICC forms):

- :func:`numeric_consensus_result` (kind ``consensus``): per-item median and mean
  (:mod:`labelaudit.consensus.numeric`); an item goes to the adjudication queue when the
  standard deviation of its ratings is more than :data:`SPREAD_FACTOR` times the batch's
  pooled within-item standard deviation ``sqrt(mean of the per-item variances)``.
- :func:`numeric_annotators_result` (kind ``annotators``): per annotator ``n_labels``,
  ``loo_agreement`` = Pearson r between the annotator's ratings and the mean of the other
  annotators' ratings of the same items, ``mae_to_consensus`` (mean absolute deviation
  from the item median) and ``bias`` (mean signed deviation from the others' mean).

Both are O(n_ratings) and keep the JSON keys the pipeline report reads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from labelaudit.results import clean_number
from labelaudit.table.table import AnnotationTable

if TYPE_CHECKING:
    from labelaudit.project.results import AnnotatorRow, BatchResult, MetricRow

__all__ = ["SPREAD_FACTOR", "numeric_annotators_result", "numeric_consensus_result"]

#: Items whose rating SD exceeds this multiple of the pooled within-item SD are queued.
SPREAD_FACTOR = 2.0
_EXAMPLES = 20
_NO_LOO = "fewer than 2 shared items or no variance"
_NO_SHARED = "no item rated by another annotator"
_NO_SHARE = "numeric labels: no vote share (see within_item_sd)"


def _values(table: AnnotationTable) -> np.ndarray:
    return np.asarray(table.category_values, dtype=np.float64)[table.label_codes]


def _item_moments(table: AnnotationTable) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per item: count, sum and sum of squares of its ratings."""
    x = _values(table)
    n = table.n_items
    count = np.bincount(table.item_codes, minlength=n).astype(np.float64)
    total = np.bincount(table.item_codes, weights=x, minlength=n)
    squares = np.bincount(table.item_codes, weights=x * x, minlength=n)
    return count, total, squares


def numeric_consensus_result(table: AnnotationTable, seed: int) -> BatchResult:
    """Median consensus of a numeric batch and the items whose ratings spread widely.

    Returns
    -------
    BatchResult
        kind ``consensus``; ``result``: ``{"method": "median", "threshold", "n_items",
        "n_tied": 0, "n_low_confidence", "n_queued", "mean_confidence": None,
        "within_item_sd", "mean_abs_deviation", "queue": [first 20 entries]}``; rows
        ``within_item_sd``, ``mean_abs_deviation``, ``adjudication_queue`` and
        ``mean_confidence`` (None, with the reason).
    """
    from labelaudit.consensus.numeric import MedianAggregator
    from labelaudit.project.results import BatchResult

    median = MedianAggregator().fit(table).values_
    count, total, squares = _item_moments(table)
    several = count >= 2
    variance = np.zeros(count.size)
    variance[several] = (squares[several] - total[several] ** 2 / count[several]) / (
        count[several] - 1
    )
    variance = np.maximum(variance, 0.0)
    pooled = float(np.sqrt(variance[several].mean())) if several.any() else None
    sd = np.sqrt(variance)
    queued = several & (sd > SPREAD_FACTOR * (pooled or 0.0)) if pooled else np.zeros_like(several)
    deviation = np.abs(_values(table) - median[table.item_codes])
    mad = float(deviation.mean()) if deviation.size else None
    codes = np.flatnonzero(queued)
    codes = codes[np.argsort(-sd[codes], kind="stable")][:_EXAMPLES]
    result = {
        "method": "median",
        "threshold": SPREAD_FACTOR,
        "n_items": table.n_items,
        "n_tied": 0,
        "n_low_confidence": int(queued.sum()),
        "n_queued": int(queued.sum()),
        "mean_confidence": None,
        "within_item_sd": clean_number(pooled),
        "mean_abs_deviation": clean_number(mad),
        "queue": _queue(table, codes, median, sd, pooled),
    }
    metrics: list[MetricRow] = [
        ("mean_confidence", None, None, None, None, _NO_SHARE),
        _row("within_item_sd", pooled, "no item with two ratings"),
        _row("mean_abs_deviation", mad, "no ratings"),
        ("adjudication_queue", float(queued.sum()), None, None, None, None),
    ]
    return BatchResult(kind="consensus", schema_version=1, result=result, metrics=metrics)


def _row(name: str, value: float | None, reason: str) -> MetricRow:
    number = clean_number(value)
    return (name, number, None, None, None, None if number is not None else reason)


def _queue(
    table: AnnotationTable,
    codes: np.ndarray,
    median: np.ndarray,
    sd: np.ndarray,
    pooled: float | None,
) -> list[dict[str, Any]]:
    """Queue entries in the shape of :func:`labelaudit.quality.adjudication_queue`."""
    if codes.size == 0:
        return []
    rows = np.flatnonzero(np.isin(table.item_codes, codes))
    labels = table.categories.astype(str)
    entries = []
    for code in codes.tolist():  # at most 20 queued items
        mine = rows[table.item_codes[rows] == code]
        entries.append(
            {
                "item": str(table.items[code]),
                "reason": f"spread: sd {sd[code]:.3g} > {SPREAD_FACTOR:g} x batch "
                f"within-item sd {pooled:.3g}",
                "consensus_label": f"{median[code]:.6g}",
                "confidence": None,
                "candidates": [
                    {"annotator": str(table.annotators[a]), "label": str(labels[c])}
                    for a, c in zip(
                        table.annotator_codes[mine].tolist(),
                        table.label_codes[mine].tolist(),
                        strict=True,
                    )
                ],
            }
        )
    return entries


def numeric_annotators_result(table: AnnotationTable) -> BatchResult:
    """Per-annotator figures of a numeric batch (no categorical model, no flags).

    Returns
    -------
    BatchResult
        kind ``annotators``; ``result``: ``{"annotators": [rows], "flags": [],
        "n_flagged": 0, "pools": {}, "reasons": {...}}``; per annotator rows
        ``n_labels``, ``loo_agreement`` (Pearson r with the others' item mean; n = labels
        with at least one other rating), ``mae_to_consensus`` and ``bias``.
    """
    from labelaudit.consensus.numeric import MedianAggregator
    from labelaudit.project.results import BatchResult

    x = _values(table)
    count, total, _ = _item_moments(table)
    item, who = table.item_codes, table.annotator_codes
    k = table.n_annotators
    shared = count[item] >= 2
    others = np.where(shared, (total[item] - x) / np.maximum(count[item] - 1, 1), np.nan)
    n_labels = np.bincount(who, minlength=k)
    n_shared = np.bincount(who, weights=shared, minlength=k)
    r = _pearson_by_group(x[shared], others[shared], who[shared], k)
    median = MedianAggregator().fit(table).values_
    mae = np.bincount(who, weights=np.abs(x - median[item]), minlength=k) / np.maximum(n_labels, 1)
    signed = np.where(shared, x - others, 0.0)
    bias = np.bincount(who, weights=signed, minlength=k) / np.maximum(n_shared, 1)
    rows: list[dict[str, Any]] = []
    annotators: list[AnnotatorRow] = []
    for a, name in enumerate(table.annotators.astype(str).tolist()):  # one row per annotator
        loo = clean_number(float(r[a]))
        why = (
            {} if loo is not None else {"loo_agreement": "fewer than 2 shared items or no variance"}
        )
        row = {
            "annotator": name,
            "n_labels": int(n_labels[a]),
            "n_compared": int(n_shared[a]),
            "loo_agreement": loo,
            "mae_to_consensus": clean_number(float(mae[a])),
            "bias": clean_number(float(bias[a])) if n_shared[a] else None,
            "flags": [],
            "reasons": why,
        }
        rows.append(row)
        annotators += [
            (name, "n_labels", float(n_labels[a]), int(n_labels[a]), None),
            (name, "loo_agreement", loo, int(n_shared[a]), why.get("loo_agreement")),
            (name, "mae_to_consensus", row["mae_to_consensus"], int(n_labels[a]), None),
            (
                name,
                "bias",
                row["bias"],
                int(n_shared[a]),
                None if n_shared[a] else "no shared item",
            ),
            (name, "n_flags", 0.0, int(n_labels[a]), None),
        ]
    result = {
        "annotators": rows,
        "flags": [],
        "n_flagged": 0,
        "pools": {},
        "reasons": {"method": "numeric labels: Pearson r with the others' item mean"},
    }
    metrics: list[MetricRow] = [
        ("n_flagged", 0.0, None, None, None, None),
        ("n_annotators", float(k), None, None, None, None),
    ]
    return BatchResult("annotators", 1, result, metrics=metrics, annotators=annotators)


def _pearson_by_group(x: np.ndarray, y: np.ndarray, group: np.ndarray, k: int) -> np.ndarray:
    """Pearson r of (x, y) within each group, NaN where undefined; vectorised."""
    n = np.bincount(group, minlength=k).astype(np.float64)
    sx, sy = (np.bincount(group, weights=v, minlength=k) for v in (x, y))
    sxx, syy, sxy = (np.bincount(group, weights=v, minlength=k) for v in (x * x, y * y, x * y))
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = sxy - sx * sy / n
        var = (sxx - sx**2 / n) * (syy - sy**2 / n)
        r = cov / np.sqrt(var)
    r[(n < 2) | ~(var > 0)] = np.nan
    return np.clip(r, -1.0, 1.0)
