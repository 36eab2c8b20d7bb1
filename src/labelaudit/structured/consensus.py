"""One entry point for structured consensus: :func:`structured_consensus`, by task.

* multi-label, spans, boxes: (weighted) voting of :mod:`labelaudit.structured.voting`;
* polygons, cuboids, keypoints: the same voting over regions linked like boxes, the
  region's annotation a medoid / mean / median (:mod:`labelaudit.structured.shapes`);
* ranking (:func:`vote_rankings`): Borda count (de Borda 1781; Emerson 2013, *The
  original Borda count and partial voting*): per item, every annotator gives each
  object n - r points (r its average rank among the n objects every annotator ranked),
  times the annotator's weight; the consensus ranks objects by total points, ties sharing
  the average rank. Confidence: the item's Kendall's W (1.0 with one annotator);
* text (:func:`text_medoid`): the medoid of the item's texts under the normalised
  Levenshtein distance of :mod:`labelaudit.structured.text` (the text with the smallest
  weighted sum of distances to the item's other texts; ties: the smallest normalised,
  then raw text). Confidence: 1 - the weighted mean distance of the medoid to the others.

:func:`consensus_summary` gives the :class:`~labelaudit.consensus.ConsensusResult`
shape the ``consensus`` command prints for categorical methods.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from labelaudit.exceptions import UsageError
from labelaudit.structured._explode import code_strings, group_runs, pairs_within_groups
from labelaudit.structured._payload import PAYLOAD_TYPES, payload_of
from labelaudit.structured.shapes import SHAPES, vote_shapes
from labelaudit.structured.voting import (
    StructuredConsensus,
    Votes,
    vote_boxes,
    vote_multilabel,
    vote_spans,
    vote_weights,
)
from labelaudit.table.table import AnnotationTable

__all__ = [
    "STRUCTURED_METHODS",
    "consensus_summary",
    "structured_consensus",
    "text_medoid",
    "vote_rankings",
]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

#: ``--method`` names that apply to structured tasks (voting, optionally weighted).
STRUCTURED_METHODS = ("majority", "weighted")


def structured_consensus(
    table: AnnotationTable,
    *,
    method: str = "majority",
    weights: Mapping[str, float] | None = None,
    min_votes: float | None = None,
    iou: float | None = None,
) -> StructuredConsensus:
    """Consensus annotation of every item of a structured table, in its payload shape.

    Parameters
    ----------
    table : AnnotationTable
        A ``multilabel``, ``spans``, ``boxes``, ``ranking`` or ``text`` table.
    method : {"majority", "weighted"}
        ``weighted`` needs ``weights`` (annotator name -> weight >= 0).
    min_votes : float, optional
        Vote weight a label / span / box needs (default: strict majority of the item's
        weight); voting tasks only.
    iou : float, optional
        IoU (OKS for keypoints) that links boxes / shapes into one object (default 0.5).

    Raises
    ------
    UsageError
        Not a structured task, an unknown method, or an option that does not apply.
    """
    task = table.task
    if method not in STRUCTURED_METHODS:
        raise UsageError(
            f"--method {method} works on categorical labels; {task} labels take "
            f"--method {' or '.join(STRUCTURED_METHODS)}"
        )
    if method == "weighted" and weights is None:
        raise UsageError("--method weighted needs annotator weights (--weights-file)")
    if iou is not None and task not in ("boxes", *SHAPES):
        raise UsageError(f"--iou applies to boxes, polygons, cuboids and keypoints, not to {task}")
    if min_votes is not None and task in ("ranking", "text"):
        raise UsageError(f"--min-votes applies to voting tasks, not to {task}")
    if task == "multilabel":
        return vote_multilabel(table, min_votes=min_votes, weights=weights)
    if task == "spans":
        return vote_spans(table, min_votes=min_votes, weights=weights)
    if task == "boxes":
        return vote_boxes(table, min_votes=min_votes, weights=weights, iou=iou or 0.5)
    if task in SHAPES:
        return vote_shapes(table, min_votes=min_votes, weights=weights, iou=iou or 0.5)
    if task == "ranking":
        return vote_rankings(table, weights=weights)
    if task == "text":
        return text_medoid(table, weights=weights)
    raise UsageError(f"no structured consensus for task {task!r}")


def vote_rankings(
    table: AnnotationTable, *, weights: Mapping[str, float] | None = None
) -> StructuredConsensus:
    """Borda consensus ranking per item (see the module docstring)."""
    from labelaudit.structured.rankings import _average_ranks, kendall_w_per_item, rankings

    votes = vote_weights(table, weights)
    data = rankings(table)
    item = table.item_codes[data.row]
    n = data.row_size[data.row].astype(np.float64)
    n_obj = int(data.obj.max()) + 1 if data.obj.size else 1
    keys, inverse = np.unique(item * n_obj + data.obj, return_inverse=True)
    points = np.asarray(
        np.bincount(inverse, votes.row[data.row] * (n - data.rank), minlength=keys.size),
        dtype=np.float64,
    )
    key_item, key_obj = keys // n_obj, keys % n_obj
    rank = _average_ranks(key_item, -points) if keys.size else points
    order = np.lexsort((key_obj, rank, key_item))
    names = data.names if data.names is not None else np.zeros(0, dtype=object)
    values = pa.StructArray.from_arrays(
        [
            pa.array(names[key_obj[order]].astype(str).tolist(), type=pa.string()),
            pa.array(rank[order], type=pa.float64()),
        ],
        names=["id", "rank"],
    )
    confidence = np.full(table.n_items, np.nan)
    m = np.bincount(table.item_codes[data.row_size > 0], minlength=table.n_items)
    confidence[m == 1] = 1.0
    w_items, w, _, _ = kendall_w_per_item(table, data)
    confidence[w_items] = w
    return _assemble(table, "ranking", key_item[order], values, votes, confidence, "borda")


def text_medoid(
    table: AnnotationTable, *, weights: Mapping[str, float] | None = None
) -> StructuredConsensus:
    """The medoid text of every item (see the module docstring); null when no text."""
    from labelaudit.structured.text import EditDistance, normalize_text

    votes = vote_weights(table, weights)
    raw = payload_of(table)
    valid = np.asarray(pc.is_valid(raw).to_numpy(zero_copy_only=False), dtype=bool)
    rows = np.flatnonzero(valid)
    rows = rows[np.argsort(table.item_codes[rows], kind="stable")]
    texts = raw.take(pa.array(rows))
    norm_names, norm = code_strings(normalize_text(texts))
    _, raw_code = code_strings(pc.fill_null(texts, ""))
    item = table.item_codes[rows]
    starts, sizes = group_runs(item)
    first, second = pairs_within_groups(starts, sizes)
    distance = EditDistance([str(v) for v in norm_names.tolist()]).pairs(norm[first], norm[second])
    weight = votes.row[rows]
    cost = np.bincount(first, weight[second] * distance, minlength=rows.size)
    cost += np.bincount(second, weight[first] * distance, minlength=rows.size)
    order = np.lexsort((raw_code, norm, cost, item))
    head = np.ones(order.size, dtype=bool)
    head[1:] = item[order][1:] != item[order][:-1]
    best = order[head]
    others = votes.total[item[best]] - weight[best]
    mean_d = np.divide(cost[best], others, out=np.zeros(best.size), where=others > 0)
    confidence = np.full(table.n_items, np.nan)
    confidence[item[best]] = 1.0 - mean_d
    chosen = np.full(table.n_items, -1, dtype=np.int64)
    chosen[item[best]] = rows[best]
    missing = chosen < 0
    payload = raw.take(pa.array(np.maximum(chosen, 0), mask=missing))
    return StructuredConsensus(
        task="text",
        items=table.items,
        payload=payload.cast(PAYLOAD_TYPES["text"]),
        n_annotators=np.bincount(table.item_codes, minlength=table.n_items).astype(np.int64),
        min_votes=None,
        confidence=confidence,
        method="medoid",
    )


def _assemble(
    table: AnnotationTable,
    task: str,
    item: I64,
    values: pa.Array,
    votes: Votes,
    confidence: F64,
    method: str,
) -> StructuredConsensus:
    counts = np.bincount(item, minlength=table.n_items)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    payload = pa.ListArray.from_arrays(pa.array(offsets), values).cast(PAYLOAD_TYPES[task])
    weighted = not np.all(votes.row == 1.0)
    return StructuredConsensus(
        task=task,
        items=table.items,
        payload=payload,
        n_annotators=np.bincount(table.item_codes, minlength=table.n_items).astype(np.int64),
        min_votes=None,
        confidence=confidence,
        method=f"{method}-weighted" if weighted else method,
    )


def consensus_summary(result: StructuredConsensus, table: AnnotationTable) -> Any:
    """The :class:`~labelaudit.consensus.ConsensusResult` of a structured consensus.

    ``n_labels`` counts annotations, ``n_categories`` the labels used inside them,
    ``label_distribution`` the consensus regions per label (multi-label labels, spans,
    boxes; None for rankings and text), ``n_abstained`` the items left without a
    consensus (text items without any text).
    """
    from labelaudit.consensus import ConsensusResult

    reasons = {
        "n_iter": "one-pass method: no iterations",
        "converged": "one-pass method: no iterations",
        "log_likelihood": "not a likelihood model",
    }
    distribution: dict[str, int] | None = None
    n_categories = 0
    if result.task in ("multilabel", "spans", "boxes"):
        from labelaudit.structured._explode import explode, strings
        from labelaudit.structured.api import payload_vocabulary

        vocabulary = payload_vocabulary(table)
        _, values = explode(result.payload)
        labels = strings(values) if result.task == "multilabel" else strings(values, "label")
        names, codes = code_strings(labels, vocabulary)
        counts = np.bincount(codes, minlength=names.size)
        distribution = {
            str(k): int(c) for k, c in zip(names.tolist(), counts.tolist(), strict=True)
        }
        n_categories = len(names)
    else:
        reasons["label_distribution"] = f"{result.task} consensus: no label categories"
    confidence = result.confidence if result.confidence is not None else np.zeros(0)
    finite = confidence[np.isfinite(confidence)]
    if finite.size == 0:
        reasons["mean_confidence"] = "no item with a defined confidence"
        reasons["min_confidence"] = reasons["mean_confidence"]
    return ConsensusResult(
        method=result.method,
        parameters={"task": result.task, "min_votes": result.min_votes},
        n_items=table.n_items,
        n_annotators=table.n_annotators,
        n_labels=table.n_ratings,
        n_categories=n_categories,
        n_abstained=int(pc.sum(pc.is_null(result.payload)).as_py() or 0),
        n_iter=None,
        converged=None,
        log_likelihood=None,
        label_distribution=distribution,
        mean_confidence=float(finite.mean()) if finite.size else None,
        min_confidence=float(finite.min()) if finite.size else None,
        reasons=reasons,
    )
