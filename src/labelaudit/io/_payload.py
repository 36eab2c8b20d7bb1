"""Structured-label payloads: Arrow types, canonical values and their canonical JSON.

Readers hand the collector plain Python values in these canonical forms:

========== ============================================== ==================================
kind       Python value                                   task (payload type)
========== ============================================== ==================================
label      ``str``                                        categorical (no payload)
rating     ``str`` of an integer                          categorical, ordinal level
choices    ``list[str]`` sorted, unique                   categorical or multilabel
multilabel ``list[str]`` sorted, unique                   multilabel ``list<string>``
spans      ``list[(start, end, label)]`` sorted, unique   spans (end exclusive)
boxes      ``list[(x, y, width, height, label)]`` sorted  boxes (pixels, top-left origin)
polygons   ``list[{"points": [[x, y], ...], "label"}]``   polygons (pixels, top-left origin)
keypoints  ``list[{"keypoints": [x, y, v] * K, "area",    keypoints (COCO shape, pixels)
           "label"}]``
ranking    ``list[(id, rank)]`` sorted by (rank, id)      ranking (1 = best, ties averaged)
text       ``str``                                        text
pairwise   ``(first, second, choice)``                    pairwise
========== ============================================== ==================================
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import pyarrow as pa

__all__ = [
    "KINDS",
    "PAIRWISE_CHOICES",
    "PAYLOAD_TYPES",
    "REGION_KINDS",
    "TOKENS",
    "VALUE_TYPES",
    "boxes_value",
    "canonical_json",
    "choices_value",
    "polygons_value",
    "ranking_value",
    "spans_value",
]

SPAN = pa.struct([("start", pa.int64()), ("end", pa.int64()), ("label", pa.string())])
BOX = pa.struct(
    [
        ("x", pa.float64()),
        ("y", pa.float64()),
        ("width", pa.float64()),
        ("height", pa.float64()),
        ("label", pa.string()),
    ]
)
RANK = pa.struct([("id", pa.string()), ("rank", pa.float64())])
POLYGON = pa.struct([("points", pa.list_(pa.list_(pa.float64()))), ("label", pa.string())])
KEYPOINTS = pa.struct(
    [("keypoints", pa.list_(pa.float64())), ("area", pa.float64()), ("label", pa.string())]
)
PAIR = pa.struct([("first", pa.string()), ("second", pa.string()), ("choice", pa.string())])
TOKENS = pa.list_(pa.struct([("start", pa.int64()), ("end", pa.int64())]))

#: Payload type of each structured task (the contract of ``AnnotationTable.payload``).
PAYLOAD_TYPES: dict[str, pa.DataType] = {
    "multilabel": pa.list_(pa.string()),
    "spans": pa.list_(SPAN),
    "boxes": pa.list_(BOX),
    "ranking": pa.list_(RANK),
    "text": pa.string(),
    "pairwise": PAIR,
    "polygons": pa.list_(POLYGON),
    "keypoints": pa.list_(KEYPOINTS),
}
#: Arrow type the collector stores each value kind in.
VALUE_TYPES: dict[str, pa.DataType] = {
    "label": pa.string(),
    "rating": pa.string(),
    "choices": pa.list_(pa.string()),
    **PAYLOAD_TYPES,
}
KINDS = tuple(VALUE_TYPES)
#: Kinds where "no region" is an answer (an empty list), not a missing annotation.
REGION_KINDS = frozenset({"spans", "boxes", "polygons", "keypoints"})
PAIRWISE_CHOICES = ("first", "second", "tie", "both_bad")

_encode = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


def canonical_json(kind: str, value: Any) -> str:
    """The canonical JSON string of a value (what the ``label`` column holds)."""
    if kind == "spans":
        return _encode([{"end": e, "label": lab, "start": s} for s, e, lab in value])
    if kind == "boxes":
        return _encode(
            [{"height": h, "label": lab, "width": w, "x": x, "y": y} for x, y, w, h, lab in value]
        )
    if kind == "ranking":
        return _encode([{"id": i, "rank": r} for i, r in value])
    if kind == "pairwise":
        first, second, choice = value
        return _encode({"choice": choice, "first": first, "second": second})
    return _encode(value)


def choices_value(labels: Iterable[Any]) -> list[str]:
    """Sorted unique label strings."""
    return sorted({str(label) for label in labels})


def spans_value(spans: Iterable[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Sorted unique (start, end, label) triples."""
    return sorted(set(spans))


def polygons_value(
    polygons: Iterable[tuple[list[list[float]], str]],
) -> list[dict[str, Any]]:
    """Polygons ``{"points", "label"}`` sorted by (points, label)."""
    return [{"points": p, "label": lab} for p, lab in sorted(polygons)]


def boxes_value(
    boxes: Iterable[tuple[float, float, float, float, str]],
) -> list[tuple[float, float, float, float, str]]:
    """Boxes sorted by (x, y, width, height, label)."""
    return sorted(boxes)


def ranking_value(order: Sequence[Any]) -> list[tuple[str, float]]:
    """Ranks from an ordered list: position 1 = best. Sorted by (rank, id)."""
    return [(str(name), float(position)) for position, name in enumerate(order, start=1)]


def tied_ranking_value(pairs: Iterable[tuple[Any, Any]]) -> list[tuple[str, float]]:
    """Ranks from (id, rank) pairs that may tie: tied ids share the average of their places."""
    ordered = sorted(((float(rank), str(name)) for name, rank in pairs))
    result: list[tuple[str, float]] = []
    start = 0
    while start < len(ordered):
        stop = start
        while stop + 1 < len(ordered) and ordered[stop + 1][0] == ordered[start][0]:
            stop += 1
        average = (start + stop) / 2 + 1
        result.extend((name, average) for _, name in ordered[start : stop + 1])
        start = stop + 1
    return result
