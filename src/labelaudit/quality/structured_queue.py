"""The adjudication queue of structured labels: low-agreement items with every region.

:func:`structured_adjudication_queue` queues the items whose voting-consensus confidence
(:mod:`labelaudit.structured.voting`: the mean support of the item's regions' outcomes)
is below ``threshold``, lowest first. It returns the categorical queue's type
(:class:`~labelaudit.quality.AdjudicationQueue`, reason ``low_confidence``) with entries
that keep the categorical keys (``consensus_label`` and each candidate's ``label`` are
the canonical JSON text of the annotation) and add the native regions:

``{"item", "reason", "consensus_label", "confidence", "candidates": [{"annotator",
"label", "regions"}], "task", "consensus", "agreement"}``

``regions`` and ``consensus`` are payloads in the contract's shape (spans ``{"start",
"end", "label"}``, boxes ``{"x", "y", "width", "height", "label"}``, label lists,
rankings, text); ``agreement`` is the item's primary pairwise measure (pooled over its
annotator pairs; e.g. exact span F1), null when undefined. This is the data a Label
Studio writer turns into native ``labels`` / ``rectanglelabels`` regions.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pyarrow as pa

from labelaudit.exceptions import UsageError
from labelaudit.quality.adjudicate import AdjudicationQueue
from labelaudit.table.table import AnnotationTable

__all__ = ["structured_adjudication_queue"]


def structured_adjudication_queue(
    table: AnnotationTable, *, threshold: float = 0.7, consensus: Any = None
) -> AdjudicationQueue:
    """Items with low structured agreement, each annotator's regions attached.

    Parameters
    ----------
    table : AnnotationTable
        A structured table (spans, boxes, polygons, cuboids, keypoints, multi-label, ranking,
        text).
    threshold : float
        Items whose consensus confidence is strictly below it are queued.
    consensus : StructuredConsensus, optional
        A precomputed :func:`~labelaudit.structured.consensus.structured_consensus`.

    Returns
    -------
    AdjudicationQueue
        ``method`` is the consensus method (``majority``, ``borda``, ``medoid``).
    """
    from labelaudit.structured import payload_of
    from labelaudit.structured.annotators import PRIMARY, pair_scores
    from labelaudit.structured.consensus import structured_consensus

    if isinstance(threshold, bool) or not 0.0 <= float(threshold) <= 1.0:
        raise UsageError(f"threshold must be a number in [0, 1]; got {threshold!r}")
    if not table.schema.is_structured:
        raise UsageError("structured_adjudication_queue needs a structured table")
    consensus = structured_consensus(table) if consensus is None else consensus
    confidence = np.asarray(consensus.confidence, dtype=np.float64)
    queued = np.flatnonzero(np.isfinite(confidence) & (confidence < threshold))
    codes = queued[np.lexsort((queued, confidence[queued]))]
    scores = pair_scores(table)
    num, den = scores.measures[PRIMARY[table.task]]
    item = table.item_codes[scores.pair_r]
    n_sum = np.bincount(item, num, minlength=table.n_items)
    d_sum = np.bincount(item, den, minlength=table.n_items)
    with np.errstate(invalid="ignore", divide="ignore"):
        agreement = np.where(d_sum > 0, n_sum / d_sum, np.nan)
    native = consensus.payload.take(pa.array(codes)).to_pylist()
    entries = [
        {
            "item": str(table.items[code]),
            "reason": "low_confidence",
            "consensus_label": _canonical(value),
            "confidence": float(confidence[code]),
            "candidates": candidates,
            "task": table.task,
            "consensus": value,
            "agreement": float(agreement[code]) if np.isfinite(agreement[code]) else None,
        }
        for code, value, candidates in zip(
            codes.tolist(), native, _candidates(table, codes, payload_of(table)), strict=True
        )
    ]
    return AdjudicationQueue(
        method=consensus.method,
        threshold=float(threshold),
        n_items=table.n_items,
        entries=entries,
        item_codes=codes,
        reasons=np.full(codes.size, "low_confidence", dtype=object),
    )


def _canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _candidates(
    table: AnnotationTable, codes: np.ndarray, payload: pa.Array
) -> list[list[dict[str, object]]]:
    """Per queued item, every annotator's annotation (annotator order)."""
    position = np.full(table.n_items, -1, dtype=np.int64)
    position[codes] = np.arange(codes.size)
    rows = np.flatnonzero(position[table.item_codes] >= 0)
    slot = position[table.item_codes[rows]]
    order = np.lexsort((table.annotator_codes[rows], slot))
    rows, slot = rows[order], slot[order]
    names = np.asarray(table.annotators, dtype=object)[table.annotator_codes[rows]].tolist()
    regions = payload.take(pa.array(rows)).to_pylist()
    out: list[list[dict[str, object]]] = [[] for _ in range(codes.size)]
    for s, name, value in zip(slot.tolist(), names, regions, strict=True):
        out[s].append({"annotator": str(name), "label": _canonical(value), "regions": value})
    return out
