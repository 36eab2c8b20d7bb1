"""Consensus of structured labels by (weighted) voting.

Every annotator has a vote weight (1 by default; ``weights`` maps annotator names to
weights >= 0, as for ``labelaudit consensus --method weighted``). ``min_votes`` is the
total weight that must agree; ``None`` means a strict majority of the weight of the
item's annotators (with unit weights: floor(m / 2) + 1 of m annotators).

* Multi-label (:func:`vote_multilabel`): a label is kept for an item when the annotators
  who chose it carry at least ``min_votes``.
* Spans (:func:`vote_spans`): spans linked by the pairwise overlap matching of
  :mod:`labelaudit.structured.spans` (same label, one-to-one, greedy by largest overlap)
  form regions (connected components over all annotator pairs). A region is kept when
  the distinct annotators with a span in it carry at least ``min_votes``; its boundaries
  are the (start, end) with the most weight in the region (ties: the longest, then the
  earliest).
* Boxes (:func:`vote_boxes`): boxes linked by the pairwise optimal IoU assignment of
  :mod:`labelaudit.structured.boxes` with IoU >= ``iou`` form regions; a region is kept
  when its distinct annotators carry at least ``min_votes``; its box is the weighted mean
  of the region's coordinates (x, y, width, height; weighted box fusion with annotator
  weights as the scores, Solovyev et al. 2021) and its label the label with the most
  weight (ties: first in vocabulary order).

**Confidence** of an item: every region (label, span region or box region) any annotator
marked is a decision; its support s is the share of the item's vote weight behind it.
A kept region is right with share s, a dropped one with 1 - s; the item's confidence is
the mean over its regions (1.0 when nobody marked anything: everybody agrees).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from labelaudit.exceptions import UsageError
from labelaudit.structured._explode import order_by, pack
from labelaudit.structured._payload import PAYLOAD_TYPES
from labelaudit.structured.boxes import BoxData, BoxMatches, RegionData, box_data, box_matches
from labelaudit.structured.multilabel import label_sets
from labelaudit.structured.spans import SpanData, SpanMatches, span_data, span_matches
from labelaudit.table.table import AnnotationTable

__all__ = [
    "LinkedRegions",
    "StructuredConsensus",
    "VoteRegions",
    "Votes",
    "box_votes",
    "link_regions",
    "span_votes",
    "vote_boxes",
    "vote_multilabel",
    "vote_spans",
    "vote_weights",
]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
_EPS = 1e-9


@dataclass(frozen=True)
class StructuredConsensus:
    """Consensus payload per item.

    Attributes
    ----------
    task : str
        ``multilabel``, ``spans``, ``boxes``, ``ranking`` or ``text``.
    items : ndarray of str, shape (n_items,)
        Item names (the table's item order).
    payload : pyarrow.Array, length n_items
        The consensus annotation of each item, in the contract's payload type.
    n_annotators : ndarray of int64, shape (n_items,)
        Annotators of each item.
    min_votes : float or None
        The threshold used (None: strict majority of the item's vote weight).
    confidence : ndarray of float64, shape (n_items,), or None
        Per item, in [0, 1] (see the module docstring; NaN = undefined).
    method : str
        ``majority`` or ``weighted`` (spans, boxes, multi-label), ``borda`` (ranking),
        ``medoid`` (text).
    """

    task: str
    items: npt.NDArray[np.object_]
    payload: pa.Array
    n_annotators: I64
    min_votes: float | None
    confidence: F64 | None = None
    method: str = "majority"

    def to_table(self) -> pa.Table:
        """``item``, ``payload``, ``n_annotators`` (and ``confidence``) columns."""
        columns: dict[str, Any] = {
            "item": pa.array(self.items.astype(str).tolist(), type=pa.string()),
            "payload": self.payload,
            "n_annotators": pa.array(self.n_annotators),
        }
        if self.confidence is not None:
            columns["confidence"] = pa.array(self.confidence, from_pandas=True)
        return pa.table(columns)

    def records(self) -> pa.Table:
        """The output file's columns: ``item``, ``label`` (native payload), ``confidence``,
        ``n_annotators`` - the shape the readers produce, so the file reads back."""
        confidence = (
            self.confidence if self.confidence is not None else np.full(self.items.size, np.nan)
        )
        return pa.table(
            {
                "item": pa.array(self.items.astype(str).tolist(), type=pa.string()),
                "label": self.payload,
                "confidence": pa.array(confidence, from_pandas=True),
                "n_annotators": pa.array(self.n_annotators),
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """``{"task", "method", "min_votes", "items": [{"item", "consensus", "confidence",
        "n_annotators"}]}``."""
        confidence = self.records().column("confidence").to_pylist()
        return {
            "task": self.task,
            "method": self.method,
            "min_votes": self.min_votes,
            "items": [
                {"item": str(i), "consensus": c, "confidence": p, "n_annotators": int(n)}
                for i, c, p, n in zip(
                    self.items.tolist(),
                    self.payload.to_pylist(),
                    confidence,
                    self.n_annotators.tolist(),
                    strict=True,
                )
            ],
        }


@dataclass(frozen=True)
class Votes:
    """Vote weight of every row and the total weight and threshold of every item."""

    row: F64
    total: F64
    min_votes: float | None

    def kept(self, votes: F64, item: I64) -> npt.NDArray[np.bool_]:
        """Whether ``votes`` (of decisions of ``item``) pass the threshold."""
        if self.min_votes is None:
            return np.asarray(votes > self.total[item] / 2.0 + _EPS)
        return np.asarray(votes >= self.min_votes - _EPS)

    def confidence(self, votes: F64, item: I64, n_items: int) -> F64:
        """Mean over each item's decisions of the support of the outcome (1.0 without any)."""
        votes = np.asarray(votes, dtype=np.float64)
        share = np.divide(
            votes, self.total[item], out=np.zeros_like(votes), where=self.total[item] > 0
        )
        right = np.where(self.kept(votes, item), share, 1.0 - share)
        order = np.lexsort((right, item))  # a canonical summation order: exact under relabelling
        count = np.bincount(item, minlength=n_items).astype(np.float64)
        summed = np.bincount(item[order], right[order], minlength=n_items)
        return np.divide(summed, count, out=np.ones(n_items), where=count > 0)


def vote_weights(
    table: AnnotationTable,
    weights: Mapping[str, float] | None = None,
    min_votes: float | None = None,
) -> Votes:
    """Row vote weights (annotator weights, default 1) and the item totals.

    Raises
    ------
    UsageError
        ``min_votes`` is not positive.
    InputError
        An annotator of the table has no weight, or a weight is negative.
    """
    if min_votes is not None and not min_votes > 0:
        raise UsageError(f"min_votes must be positive; got {min_votes}")
    if weights is None:
        by_annotator = np.ones(table.n_annotators)
    else:
        from labelaudit.consensus.majority import annotator_weights

        by_annotator = annotator_weights(table.annotators, dict(weights))
    row = by_annotator[table.annotator_codes].astype(np.float64)
    total = np.asarray(np.bincount(table.item_codes, row, minlength=table.n_items), np.float64)
    return Votes(row, total, min_votes)


def _lists(item: I64, n_items: int, values: pa.Array, task: str) -> pa.Array:
    """One list per item from elements sorted by item."""
    counts = np.bincount(item, minlength=n_items)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), values).cast(PAYLOAD_TYPES[task])


def _components(n_nodes: int, a: I64, b: I64) -> I64:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(a.size), (a, b)), shape=(n_nodes, n_nodes))
    _, labels = connected_components(graph, directed=False)
    return labels.astype(np.int64)


def _region_votes(
    region: I64, annotator: I64, item: I64, row_weight: F64, n_ann: int
) -> tuple[F64, I64]:
    """Per region: the weight of its distinct annotators, and its item."""
    n_regions = int(region.max(initial=-1)) + 1
    keys, first = np.unique(region * n_ann + annotator, return_index=True)
    votes = np.bincount(keys // n_ann, row_weight[first], minlength=n_regions).astype(np.float64)
    region_item = np.zeros(n_regions, dtype=np.int64)
    region_item[region] = item
    return votes, region_item


def _consensus(
    table: AnnotationTable,
    task: str,
    item: I64,
    values: pa.Array,
    votes: Votes,
    confidence: F64,
) -> StructuredConsensus:
    order = np.argsort(item, kind="stable")
    return StructuredConsensus(
        task=task,
        items=table.items,
        payload=_lists(item[order], table.n_items, values.take(pa.array(order)), task),
        n_annotators=np.bincount(table.item_codes, minlength=table.n_items).astype(np.int64),
        min_votes=votes.min_votes,
        confidence=confidence,
        method="majority" if np.all(votes.row == 1.0) else "weighted",
    )


def _modal_spans(region: I64, start: I64, end: I64, weight: F64) -> I64:
    """Index of one span per region with the most weighted (start, end); ties: longest, earliest.

    One sort by (region, start, end), then per-region maxima by ``reduceat`` (linear).
    """
    if region.size == 0:
        return region
    bounds = pack(start, end)
    order = order_by(region, bounds)
    r, se = region[order], bounds[order]
    new = np.ones(order.size, dtype=bool)
    new[1:] = (r[1:] != r[:-1]) | (se[1:] != se[:-1])
    first = np.flatnonzero(new)
    votes = np.add.reduceat(weight[order], first)
    cand = order[first]
    cand_region = r[first]
    head = np.ones(cand.size, dtype=bool)
    head[1:] = cand_region[1:] != cand_region[:-1]
    heads = np.flatnonzero(head)
    sizes = np.diff(np.append(heads, cand.size))
    best = np.repeat(np.maximum.reduceat(votes, heads), sizes)
    length = np.where(votes >= best - _EPS, end[cand] - start[cand], -1)
    longest = np.repeat(np.maximum.reduceat(length, heads), sizes)
    position = np.where(length == longest, np.arange(cand.size), cand.size)
    return cand[np.minimum.reduceat(position, heads)]  # candidates are sorted by start


def _names(labels: npt.NDArray[np.object_], codes: I64) -> pa.Array:
    """Label names of ``codes`` as a string array (one take, no Python list)."""
    return pa.array(labels.astype(str), type=pa.string()).take(pa.array(codes))


def vote_multilabel(
    table: AnnotationTable,
    *,
    min_votes: float | None = None,
    weights: Mapping[str, float] | None = None,
) -> StructuredConsensus:
    """Labels chosen by annotators carrying at least ``min_votes`` (default: majority)."""
    votes = vote_weights(table, weights, min_votes)
    sets = label_sets(table)
    n_labels = max(sets.labels.size, 1)
    key = table.item_codes[sets.element_row] * n_labels + sets.element_label
    keys, inverse = np.unique(key, return_inverse=True)
    support = np.asarray(
        np.bincount(inverse, votes.row[sets.element_row], minlength=keys.size), np.float64
    )
    item, label = keys // n_labels, keys % n_labels
    keep = votes.kept(support, item)
    names = _names(sets.labels, label[keep])
    confidence = votes.confidence(support, item, table.n_items)
    return _consensus(table, "multilabel", item[keep], names, votes, confidence)


@dataclass(frozen=True)
class VoteRegions:
    """A span or box vote with its regions, so that annotations can be scored against it.

    Attributes
    ----------
    consensus : StructuredConsensus
        The vote's result.
    element_region : ndarray of int64, shape (E,)
        Region of every span / box of :class:`SpanData` / :class:`BoxData`.
    kept : ndarray of bool, shape (R,)
        Whether each region is in the consensus.
    reference : dict of str to ndarray, each shape (R,)
        Every region's consensus coordinates: ``start``, ``end`` (spans) or ``x``,
        ``y``, ``width``, ``height`` (boxes).
    """

    consensus: StructuredConsensus
    element_region: I64
    kept: npt.NDArray[np.bool_]
    reference: dict[str, Any]


def vote_spans(
    table: AnnotationTable,
    *,
    min_votes: float | None = None,
    weights: Mapping[str, float] | None = None,
    data: SpanData | None = None,
    matches: SpanMatches | None = None,
) -> StructuredConsensus:
    """Span regions whose annotators carry at least ``min_votes`` (see the module docstring)."""
    return span_votes(
        table, min_votes=min_votes, weights=weights, data=data, matches=matches
    ).consensus


def span_votes(
    table: AnnotationTable,
    *,
    min_votes: float | None = None,
    weights: Mapping[str, float] | None = None,
    data: SpanData | None = None,
    matches: SpanMatches | None = None,
) -> VoteRegions:
    """:func:`vote_spans` with its regions (:class:`VoteRegions`)."""
    votes = vote_weights(table, weights, min_votes)
    d = span_data(table) if data is None else data
    m = span_matches(table, d) if matches is None else matches
    region = _components(d.row.size, m.a, m.b)
    weight = votes.row[d.row]
    support, region_item = _region_votes(region, d.annotator, d.item, weight, table.n_annotators)
    kept = votes.kept(support, region_item)
    modal = _modal_spans(region, d.start, d.end, weight)  # one per region, in region order
    chosen = modal[kept[region[modal]]]
    bounds = (d.start[chosen] << np.int64(32)) | d.end[chosen]
    chosen = chosen[np.lexsort((d.label[chosen], bounds, d.item[chosen]))]
    values = pa.StructArray.from_arrays(
        [pa.array(d.start[chosen]), pa.array(d.end[chosen]), _names(d.labels, d.label[chosen])],
        names=["start", "end", "label"],
    )
    confidence = votes.confidence(support, region_item, table.n_items)
    result = _consensus(table, "spans", d.item[chosen], values, votes, confidence)
    reference = {"start": d.start[modal], "end": d.end[modal]}
    return VoteRegions(result, region, kept, reference)


def vote_boxes(
    table: AnnotationTable,
    *,
    min_votes: float | None = None,
    iou: float = 0.5,
    weights: Mapping[str, float] | None = None,
    data: BoxData | None = None,
    matches: BoxMatches | None = None,
) -> StructuredConsensus:
    """Box regions whose annotators carry at least ``min_votes``, coordinates averaged."""
    return box_votes(
        table, min_votes=min_votes, iou=iou, weights=weights, data=data, matches=matches
    ).consensus


def box_votes(
    table: AnnotationTable,
    *,
    min_votes: float | None = None,
    iou: float = 0.5,
    weights: Mapping[str, float] | None = None,
    data: BoxData | None = None,
    matches: BoxMatches | None = None,
) -> VoteRegions:
    """:func:`vote_boxes` with its regions (:class:`VoteRegions`)."""
    votes = vote_weights(table, weights, min_votes)
    d = box_data(table) if data is None else data
    m = box_matches(table, d) if matches is None else matches
    linked = link_regions(table, d, m, votes, iou)
    region, region_item, kept, weight = linked.region, linked.item, linked.kept, linked.weight
    n_regions = kept.size
    size = np.bincount(region, weight, minlength=n_regions)
    coords = [
        np.bincount(region, c * weight, minlength=n_regions) / size for c in (d.x, d.y, d.w, d.h)
    ]
    chosen = np.flatnonzero(kept)
    chosen = chosen[np.lexsort((coords[0][chosen], coords[1][chosen], region_item[chosen]))]
    names = ["x", "y", "width", "height"]
    values = pa.StructArray.from_arrays(
        [pa.array(c[chosen]) for c in coords] + [_names(d.labels, linked.label[chosen])],
        names=[*names, "label"],
    )
    confidence = votes.confidence(linked.support, region_item, table.n_items)
    result = _consensus(table, "boxes", region_item[chosen], values, votes, confidence)
    return VoteRegions(result, region, kept, dict(zip(names, coords, strict=True)))


@dataclass(frozen=True)
class LinkedRegions:
    """Regions (objects) formed by linking matched regions, with their vote.

    ``region`` (E,) of every element; per region (R,): ``item``, ``support`` (weight of its
    distinct annotators), ``kept`` and ``label`` (the label code with the most weight;
    ties: first in vocabulary order); ``weight`` (E,) the elements' vote weights (plain 1
    inside regions whose annotators all weigh 0, so that means stay defined).
    """

    region: I64
    item: I64
    support: F64
    kept: npt.NDArray[np.bool_]
    label: I64
    weight: F64


def link_regions(
    table: AnnotationTable, d: RegionData, m: BoxMatches, votes: Votes, iou: float
) -> LinkedRegions:
    """Regions of any region type: matches with similarity >= ``iou`` linked into
    connected components over all annotator pairs, kept by ``votes``."""
    if not 0.0 < iou <= 1.0:
        raise UsageError(f"iou must be in (0, 1]; got {iou}")
    link = m.iou >= iou - 1e-12
    region = _components(d.row.size, m.a[link], m.b[link])
    item = table.item_codes[d.row]
    weight = votes.row[d.row]
    annotator = table.annotator_codes[d.row]
    support, region_item = _region_votes(region, annotator, item, weight, table.n_annotators)
    kept = votes.kept(support, region_item)
    n_regions = kept.size
    size = np.bincount(region, weight, minlength=n_regions)
    if np.any(size <= 0):  # regions of zero-weight annotators only: plain means
        weight = np.where(size[region] > 0, weight, 1.0)
    n_labels = max(d.labels.size, 1)
    label_votes = np.bincount(region * n_labels + d.label, weight, minlength=n_regions * n_labels)
    label = label_votes.reshape(n_regions, n_labels).argmax(axis=1)
    return LinkedRegions(region, region_item, support, kept, label.astype(np.int64), weight)
