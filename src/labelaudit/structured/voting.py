"""Consensus of structured labels by voting.

``min_votes`` is the number of annotators that must agree; ``None`` means a strict
majority of the item's annotators (floor(m / 2) + 1).

* Multi-label (:func:`vote_multilabel`): a label is kept for an item when at least
  ``min_votes`` of its annotators chose it.
* Spans (:func:`vote_spans`): spans linked by the pairwise overlap matching of
  :mod:`labelaudit.structured.spans` (same label, one-to-one, greedy by largest overlap)
  form regions (connected components over all annotator pairs). A region is kept when
  at least ``min_votes`` distinct annotators have a span in it; its boundaries are the
  (start, end) marked most often in the region (ties: the longest, then the earliest).
* Boxes (:func:`vote_boxes`): boxes linked by the pairwise optimal IoU assignment of
  :mod:`labelaudit.structured.boxes` with IoU >= ``iou`` form regions; a region is kept
  when at least ``min_votes`` distinct annotators have a box in it; its box is the mean of
  the region's coordinates (x, y, width, height) and its label the most frequent label
  (ties: first in vocabulary order).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from labelaudit.exceptions import UsageError
from labelaudit.structured._payload import PAYLOAD_TYPES
from labelaudit.structured.boxes import box_data, box_matches
from labelaudit.structured.multilabel import label_sets
from labelaudit.structured.spans import span_data, span_matches
from labelaudit.table.table import AnnotationTable

__all__ = ["StructuredConsensus", "vote_boxes", "vote_multilabel", "vote_spans"]

I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class StructuredConsensus:
    """Consensus payload per item.

    Attributes
    ----------
    task : str
        ``multilabel``, ``spans`` or ``boxes``.
    items : ndarray of str, shape (n_items,)
        Item names (the table's item order).
    payload : pyarrow.Array, length n_items
        The consensus annotation of each item, in the contract's payload type.
    n_annotators : ndarray of int64, shape (n_items,)
        Annotators of each item.
    min_votes : int or None
        The threshold used (None: strict majority per item).
    """

    task: str
    items: npt.NDArray[np.object_]
    payload: pa.Array
    n_annotators: I64
    min_votes: int | None

    def to_table(self) -> pa.Table:
        """``item``, ``payload``, ``n_annotators`` columns."""
        return pa.table(
            {
                "item": pa.array(self.items.astype(str).tolist(), type=pa.string()),
                "payload": self.payload,
                "n_annotators": pa.array(self.n_annotators),
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """``{"task", "min_votes", "items": [{"item", "consensus", "n_annotators"}]}``."""
        return {
            "task": self.task,
            "min_votes": self.min_votes,
            "items": [
                {"item": str(i), "consensus": c, "n_annotators": int(n)}
                for i, c, n in zip(
                    self.items.tolist(),
                    self.payload.to_pylist(),
                    self.n_annotators.tolist(),
                    strict=True,
                )
            ],
        }


def _needed(table: AnnotationTable, min_votes: int | None) -> I64:
    """Votes needed per item, shape (n_items,)."""
    m = np.bincount(table.item_codes, minlength=table.n_items).astype(np.int64)
    if min_votes is None:
        return m // 2 + 1
    if min_votes < 1:
        raise UsageError(f"min_votes must be at least 1; got {min_votes}")
    return np.full(table.n_items, min_votes, dtype=np.int64)


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


def _kept_regions(
    region: I64, annotator: I64, item: I64, needed: I64, n_ann: int
) -> npt.NDArray[np.bool_]:
    """Per region: at least needed[item] distinct annotators."""
    distinct = np.unique(region * n_ann + annotator) // n_ann
    votes = np.bincount(distinct, minlength=int(region.max(initial=-1)) + 1)
    region_item = np.zeros(votes.size, dtype=np.int64)
    region_item[region] = item
    return votes >= needed[region_item]


def _consensus(
    table: AnnotationTable, task: str, item: I64, values: pa.Array, min_votes: int | None
) -> StructuredConsensus:
    order = np.argsort(item, kind="stable")
    return StructuredConsensus(
        task=task,
        items=table.items,
        payload=_lists(item[order], table.n_items, values.take(pa.array(order)), task),
        n_annotators=np.bincount(table.item_codes, minlength=table.n_items).astype(np.int64),
        min_votes=min_votes,
    )


def _modal_spans(region: I64, start: I64, end: I64) -> I64:
    """Index of one span per region with the most frequent (start, end); ties: longest, earliest."""
    order = np.lexsort((end, start, region))
    new = np.ones(order.size, dtype=bool)
    if order.size:
        new[1:] = (
            (region[order][1:] != region[order][:-1])
            | (start[order][1:] != start[order][:-1])
            | (end[order][1:] != end[order][:-1])
        )
    first = np.flatnonzero(new)
    votes = np.diff(np.append(first, order.size))
    cand = order[first]
    cand = cand[np.lexsort((start[cand], start[cand] - end[cand], -votes, region[cand]))]
    is_first = np.ones(cand.size, dtype=bool)
    is_first[1:] = region[cand][1:] != region[cand][:-1]
    return cand[is_first]


def vote_multilabel(table: AnnotationTable, *, min_votes: int | None = None) -> StructuredConsensus:
    """Labels chosen by at least ``min_votes`` annotators of the item (default: majority)."""
    sets = label_sets(table)
    n_labels = max(sets.labels.size, 1)
    keys, votes = np.unique(
        table.item_codes[sets.element_row] * n_labels + sets.element_label, return_counts=True
    )
    item, label = keys // n_labels, keys % n_labels
    keep = votes >= _needed(table, min_votes)[item]
    names = pa.array(sets.labels[label[keep]].astype(str).tolist(), type=pa.string())
    return _consensus(table, "multilabel", item[keep], names, min_votes)


def vote_spans(table: AnnotationTable, *, min_votes: int | None = None) -> StructuredConsensus:
    """Span regions marked by at least ``min_votes`` annotators (see the module docstring)."""
    d = span_data(table)
    m = span_matches(table, d)
    region = _components(d.row.size, m.a, m.b)
    kept = _kept_regions(region, d.annotator, d.item, _needed(table, min_votes), table.n_annotators)
    chosen = _modal_spans(region, d.start, d.end)
    chosen = chosen[kept[region[chosen]]]
    chosen = chosen[np.lexsort((d.label[chosen], d.end[chosen], d.start[chosen], d.item[chosen]))]
    values = pa.StructArray.from_arrays(
        [
            pa.array(d.start[chosen]),
            pa.array(d.end[chosen]),
            pa.array(d.labels[d.label[chosen]].astype(str).tolist(), type=pa.string()),
        ],
        names=["start", "end", "label"],
    )
    return _consensus(table, "spans", d.item[chosen], values, min_votes)


def vote_boxes(
    table: AnnotationTable, *, min_votes: int | None = None, iou: float = 0.5
) -> StructuredConsensus:
    """Box regions marked by at least ``min_votes`` annotators, coordinates averaged."""
    d = box_data(table)
    m = box_matches(table, d)
    link = m.iou >= iou - 1e-12
    region = _components(d.row.size, m.a[link], m.b[link])
    item = table.item_codes[d.row]
    annotator = table.annotator_codes[d.row]
    kept = _kept_regions(region, annotator, item, _needed(table, min_votes), table.n_annotators)
    n_regions = kept.size
    size = np.bincount(region, minlength=n_regions).astype(np.float64)
    coords = [
        np.bincount(region, c, minlength=n_regions) / np.maximum(size, 1)
        for c in (d.x, d.y, d.w, d.h)
    ]
    n_labels = max(d.labels.size, 1)
    label_votes = np.bincount(region * n_labels + d.label, minlength=n_regions * n_labels)
    label = label_votes.reshape(n_regions, n_labels).argmax(axis=1)
    region_item = np.zeros(n_regions, dtype=np.int64)
    region_item[region] = item
    chosen = np.flatnonzero(kept)
    chosen = chosen[np.lexsort((coords[0][chosen], coords[1][chosen], region_item[chosen]))]
    values = pa.StructArray.from_arrays(
        [pa.array(c[chosen]) for c in coords]
        + [pa.array(d.labels[label[chosen]].astype(str).tolist(), type=pa.string())],
        names=["x", "y", "width", "height", "label"],
    )
    return _consensus(table, "boxes", region_item[chosen], values, min_votes)
