"""Agreement on bounding boxes: IoU matching across annotators, F1, mean IoU, labels.

For every pair of annotators of an image (rows r, s with annotator(r) < annotator(s)) the
IoU of every box of r with every box of s is computed at once for all images (pixels,
top-left origin; IoU = intersection area / union area, 0 when the union is empty). Boxes
are then matched one-to-one by the assignment that maximises the total IoU
(Kuhn 1955 / Munkres 1957, ``scipy.optimize.linear_sum_assignment``), class-agnostic;
pairs with IoU 0 are never matches. The optimum is found for all image pairs at once by
:func:`labelaudit.structured._assign.sparse_assignment` (the positive-IoU graph split into
connected components, small components solved by exact enumeration in numpy, large ones
by the solver).

* ``box_f1.iou50``: F1 = 2 TP / (|A| + |B|) with TP the matches of IoU >= 0.5, per
  annotator pair over the images both annotated, averaged over annotator pairs.
* ``box_f1.iou50_95``: the same F1 averaged over the IoU thresholds 0.50, 0.55, ...,
  0.95 (COCO's range; one assignment, thresholded).
* ``mean_iou``: mean IoU of all matched boxes (IoU > 0), pooled over pairs and images.
* ``box_label_agreement``: share of the IoU >= 0.5 matches whose two labels are equal.
* :func:`box_annotator_counts`: per annotator, boxes, ``extra`` (own boxes another
  annotator did not mark, summed over partners) and ``missed`` (partners' boxes this
  annotator did not mark) at IoU 0.5.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from labelaudit.structured._assign import sparse_assignment
from labelaudit.structured._explode import (
    code_strings,
    explode,
    numbers,
    row_pairs,
    run_offsets,
    strings,
)
from labelaudit.structured._payload import payload_of
from labelaudit.structured._ratio import Contributions, mean_of_ratios
from labelaudit.table.table import AnnotationTable

__all__ = [
    "THRESHOLDS",
    "BoxData",
    "BoxMatches",
    "RegionData",
    "RegionKind",
    "box_annotator_counts",
    "box_data",
    "box_matches",
    "box_metrics",
    "iou",
]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

#: IoU thresholds of ``iou50_95``.
THRESHOLDS = np.round(np.arange(0.5, 0.951, 0.05), 2)


@dataclass(frozen=True)
class BoxData:
    """Boxes in row order: x, y, width, height (pixels) and label codes; rows index them."""

    row: I64
    x: F64
    y: F64
    w: F64
    h: F64
    label: I64
    labels: npt.NDArray[np.object_]
    row_start: I64
    row_size: I64

    @property
    def envelope(self) -> F64:
        """Corners (E, 4): x0, y0, x1, y1 (candidate pairs overlap here)."""
        return np.stack([self.x, self.y, self.x + self.w, self.y + self.h], axis=1)

    def similarity(self, i: I64, j: I64) -> F64:
        """IoU of boxes i and j, elementwise."""
        return iou(
            self.x[i], self.y[i], self.w[i], self.h[i], self.x[j], self.y[j], self.w[j], self.h[j]
        )


class RegionData(Protocol):
    """What the matching needs of any region type (boxes, polygons, cuboids, keypoints).

    ``row`` (E,) the row of every region, ``label`` (E,) its label code into ``labels``,
    ``row_start``/``row_size`` (n_rows,) where each row's regions are; ``envelope`` (E, 4)
    an axis-aligned rectangle x0, y0, x1, y1 outside which the similarity is 0 (None: any
    two regions may be similar); ``similarity(i, j)`` the IoU / OKS of regions i and j.
    """

    @property
    def row(self) -> I64: ...

    @property
    def label(self) -> I64: ...

    @property
    def labels(self) -> npt.NDArray[np.object_]: ...

    @property
    def row_start(self) -> I64: ...

    @property
    def row_size(self) -> I64: ...

    @property
    def envelope(self) -> F64 | None: ...

    def similarity(self, i: I64, j: I64) -> F64: ...


def box_data(table: AnnotationTable) -> BoxData:
    """Explode the boxes payload (boxes with a missing coordinate are dropped)."""
    parent, values = explode(payload_of(table))
    labels, label = code_strings(strings(values, "label"), table.schema.categories)
    cols = [numbers(values, name) for name in ("x", "y", "width", "height")]
    ok = np.all([np.isfinite(c) for c in cols], axis=0) if parent.size else np.zeros(0, bool)
    parent = parent[ok]
    size = np.bincount(parent, minlength=table.n_ratings).astype(np.int64)
    x, y, w, h = (c[ok] for c in cols)
    return BoxData(parent, x, y, w, h, label[ok], labels, np.cumsum(size) - size, size)


def iou(ax: F64, ay: F64, aw: F64, ah: F64, bx: F64, by: F64, bw: F64, bh: F64) -> F64:
    """Intersection over union of boxes (x, y, width, height), elementwise; 0 if no union."""
    iw = np.clip(np.minimum(ax + aw, bx + bw) - np.maximum(ax, bx), 0.0, None)
    ih = np.clip(np.minimum(ay + ah, by + bh) - np.maximum(ay, by), 0.0, None)
    inter = iw * ih
    union = aw * ah + bw * bh - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


@dataclass(frozen=True)
class BoxMatches:
    """Row pairs (P,) and the matched boxes: indices into :class:`BoxData`, pair, IoU."""

    pair_r: I64
    pair_s: I64
    a: I64
    b: I64
    pair: I64
    iou: F64


#: Largest boxes per annotation for the dense IoU path (its cost is K^2 per row pair).
DENSE_MAX = 64
_DENSE_CHUNK = 1 << 22  # IoU cells per chunk of row pairs


def _dense_overlaps(d: RegionData, pair_r: I64, pair_s: I64) -> tuple[I64, I64, F64]:
    """Region pairs with a positive similarity, from every region of r against every one of s.

    The regions of each row are padded to K (the most regions in a row), so every chunk of
    row pairs is one (P, K, K) broadcast over contiguous arrays: with around ten boxes per
    row that is several times faster than gathering the candidates of a sweep. Pairs whose
    envelopes do not overlap are not candidates (no envelope: every pair is).
    """
    size = d.row_size
    if d.row.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    k = int(size.max())
    corners = d.envelope
    lane = np.arange(k, dtype=np.int64)
    found_a, found_b = [], []
    step = max(1, _DENSE_CHUNK // (k * k))
    for lo in range(0, pair_r.size, step):  # chunks of row pairs, for memory only
        r, s = pair_r[lo : lo + step], pair_s[lo : lo + step]
        in_a, in_b = lane < size[r][:, None], lane < size[s][:, None]
        ia = np.where(in_a, d.row_start[r][:, None] + lane, 0)
        ib = np.where(in_b, d.row_start[s][:, None] + lane, 0)
        hit = in_a[:, :, None] & in_b[:, None, :]
        if corners is not None:
            a, b = corners[ia][:, :, None, :], corners[ib][:, None, :, :]
            iw = np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0])
            ih = np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1])
            hit &= (iw > 0) & (ih > 0)
        pair, x, y = np.nonzero(hit)
        found_a.append(ia[pair, x])
        found_b.append(ib[pair, y])
    i = np.concatenate(found_a) if found_a else np.zeros(0, dtype=np.int64)
    j = np.concatenate(found_b) if found_b else np.zeros(0, dtype=np.int64)
    value = d.similarity(i, j)
    positive = value > 0
    return i[positive], j[positive], value[positive]


def _overlaps(d: RegionData, item: I64, corners: F64 | None = None) -> tuple[I64, I64, F64]:
    """Region pairs (i, j) of one item and two rows with a positive similarity, and it.

    Sorted by (item, x), the boxes that intersect box i's x range and start at or after it
    are the run of boxes starting before x_i + w_i, so the candidates are the pairs whose
    x ranges intersect, not the square of an image's box count. x and x + w are replaced
    by exact integer ranks (the number of box left edges strictly below them: one sort of
    x, one of x + w), so that one integer key sorts by (item, x) and searches within each
    item. The IoU is computed on the boxes laid out in that order (the two boxes of a
    candidate are close in memory), then the pairs are mapped back to box indices.
    """
    n = d.row.size
    corners = d.envelope if corners is None else corners
    if corners is None:
        raise ValueError("the sweep needs envelopes")
    start_rank, end_rank = _left_edge_ranks(corners[:, 0], corners[:, 2])
    shift = max(n, 1).bit_length()
    start_key = (item << np.int64(shift)) | start_rank
    end_key = (item << np.int64(shift)) | end_rank
    order = np.argsort(start_key, kind="stable").astype(np.int64)
    stop = np.searchsorted(start_key[order], end_key[order], side="left")
    count = np.maximum(stop - np.arange(n) - 1, 0)
    p = np.repeat(np.arange(n, dtype=np.int64), count)
    q = p + 1 + run_offsets(count)
    row = d.row[order]
    keep = row[p] != row[q]
    p, q = p[keep], q[keep]
    value = d.similarity(order[p], order[q])
    positive = value > 0
    return order[p[positive]], order[q[positive]], value[positive]


def _left_edge_ranks(x: F64, right: F64) -> tuple[I64, I64]:
    """For every box, the number of left edges strictly below its left and its right edge.

    ``x_j < right_i`` exactly when ``rank(x_j) < rank(right_i)`` with rank(v) = #{x < v},
    so comparisons of the integer ranks are the float comparisons, without ties broken.
    """
    n = x.size
    order = np.argsort(x, kind="stable")
    ordered = x[order]
    new = np.ones(n, dtype=bool)
    if n:
        np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    start = np.empty(n, dtype=np.int64)
    start[order] = np.maximum.accumulate(np.where(new, np.arange(n, dtype=np.int64), 0))
    by_right = np.argsort(right, kind="stable")
    end = np.empty(n, dtype=np.int64)
    end[by_right] = np.searchsorted(ordered, right[by_right], side="left")
    return start, end


def box_matches(table: AnnotationTable, d: RegionData | None = None) -> BoxMatches:
    """Optimal one-to-one IoU matches of every annotator pair of every image.

    Any :class:`RegionData` (boxes by default; polygons, cuboids, keypoints from
    :mod:`labelaudit.structured.shapes`) is matched the same way, by its own similarity.
    Candidate pairs come from every region of r against every region of s when no
    annotation has more than :data:`DENSE_MAX` regions or there is no envelope
    (:func:`_dense_overlaps`), else from a sweep over the envelopes' x (:func:`_overlaps`);
    their similarity is computed at once, and the positive pairs of all image pairs are
    matched together by :func:`labelaudit.structured._assign.sparse_assignment`. Matches
    are ordered by (row pair, region a, region b).
    """
    from labelaudit.structured.spans import _row_pair_index

    d = box_data(table) if d is None else d
    pair_r, pair_s = row_pairs(table.item_codes, table.annotator_codes)
    who = table.annotator_codes[d.row]
    corners = d.envelope if int(d.row_size.max(initial=0)) > DENSE_MAX else None
    if corners is None:
        i, j, value = _dense_overlaps(d, pair_r, pair_s)
    else:
        i, j, value = _overlaps(d, table.item_codes[d.row], corners)
    swap = who[i] > who[j]
    a, b = np.where(swap, j, i), np.where(swap, i, j)
    n_ann = max(table.n_annotators, 1)
    chosen = sparse_assignment(a * n_ann + who[b], b * n_ann + who[a], value)
    a, b, value = a[chosen], b[chosen], value[chosen]
    pair = _row_pair_index(pair_r, pair_s, d.row[a], d.row[b], table.n_ratings)
    order = np.lexsort((b, a, pair))
    return BoxMatches(pair_r, pair_s, a[order], b[order], pair[order], value[order])


def _pair_tp(m: BoxMatches, threshold: float) -> F64:
    hit = m.iou >= threshold - 1e-12
    return np.bincount(m.pair[hit], minlength=m.pair_r.size).astype(np.float64)


@dataclass(frozen=True)
class RegionKind:
    """Names of a region type's measures: ``noun`` (``box``) and ``measure`` (``iou``)."""

    noun: str = "box"
    measure: str = "iou"

    @property
    def plural(self) -> str:
        """The noun in messages (``boxes``, ``polygons``, ``keypoint sets``...)."""
        return {"box": "boxes", "keypoint": "keypoint sets"}.get(self.noun, f"{self.noun}s")


BOX = RegionKind()


def box_metrics(
    table: AnnotationTable,
    *,
    ci: str = "analytic",
    n_boot: int = 1000,
    seed: int = 0,
    data: RegionData | None = None,
    matches: BoxMatches | None = None,
    kind: RegionKind = BOX,
) -> dict[str, Any]:
    """Box F1 at IoU 0.5 and 0.5:0.95, mean IoU and label agreement of matched boxes.

    Any region type's ``data`` and ``kind`` give the same metrics under its own names
    (polygons: ``polygon_f1``, ``mean_iou``, ``polygon_label_agreement``; keypoints:
    ``keypoint_f1`` with ``oks50``/``oks50_95``, ``mean_oks``, ...).

    Returns
    -------
    dict
        ``box_f1`` = ``{"iou50": MetricResult, "iou50_95": MetricResult}``, ``mean_iou``,
        ``box_label_agreement`` (MetricResult). Items (images) are the resampling units.
    """
    d = box_data(table) if data is None else data
    m = box_matches(table, d) if matches is None else matches
    n_ann = table.n_annotators
    group = table.annotator_codes[m.pair_r] * n_ann + table.annotator_codes[m.pair_s]
    item = table.item_codes[m.pair_r]
    den = (d.row_size[m.pair_r] + d.row_size[m.pair_s]).astype(np.float64)
    tp50 = _pair_tp(m, 0.5)
    tp_mean = np.mean([_pair_tp(m, t) for t in THRESHOLDS], axis=0) if group.size else tp50
    options: dict[str, Any] = {"ci": ci, "n_boot": n_boot, "seed": seed}
    noun, what = kind.noun, kind.measure
    none = f"no annotator pair marked any {noun if noun != 'keypoint' else 'keypoint set'}"
    no_boxes = f"{none} on the images they share"
    f1 = {
        f"{what}50": mean_of_ratios(
            Contributions(item, group, 2.0 * tp50, den),
            undefined=no_boxes,
            extra={what: 0.5},
            **options,
        ),
        f"{what}50_95": mean_of_ratios(
            Contributions(item, group, 2.0 * tp_mean, den),
            undefined=no_boxes,
            extra={what: [0.5, 0.95, 0.05]},
            **options,
        ),
    }
    matched_item = item[m.pair]
    zeros = np.zeros_like(matched_item)
    at50 = m.iou >= 0.5 - 1e-12
    same = (d.label[m.a] == d.label[m.b]).astype(np.float64)
    plural, upper = kind.plural, what.upper()
    return {
        f"{noun}_f1": f1,
        f"mean_{what}": mean_of_ratios(
            Contributions(matched_item, zeros, m.iou, np.ones(m.iou.size)),
            undefined=f"no matched {plural} (no two annotators' {plural} overlap)",
            extra={"n_matches": int(m.iou.size)},
            **options,
        ),
        f"{noun}_label_agreement": mean_of_ratios(
            Contributions(matched_item[at50], zeros[at50], same[at50], np.ones(int(at50.sum()))),
            undefined=f"no {plural} matched at {upper} >= 0.5",
            extra={what: 0.5, "n_matches": int(at50.sum())},
            **options,
        ),
    }


def box_annotator_counts(
    table: AnnotationTable,
    d: RegionData | None = None,
    m: BoxMatches | None = None,
    kind: RegionKind = BOX,
) -> list[dict[str, Any]]:
    """Per annotator: boxes, matched, extra and missed boxes against every partner at IoU 0.5.

    ``extra``: own boxes left unmatched by a partner (summed over partners and images);
    ``missed``: partners' boxes this annotator left unmatched; rates divide by the boxes
    compared (own, resp. partners').
    """
    d = box_data(table) if d is None else d
    m = box_matches(table, d) if m is None else m
    tp = _pair_tp(m, 0.5)
    n_r = d.row_size[m.pair_r].astype(np.float64)
    n_s = d.row_size[m.pair_s].astype(np.float64)
    a_r, a_s = table.annotator_codes[m.pair_r], table.annotator_codes[m.pair_s]
    size = table.n_annotators

    def total(who: I64, weights: F64) -> F64:
        return np.asarray(np.bincount(who, weights, minlength=size), dtype=np.float64)

    own = total(a_r, n_r) + total(a_s, n_s)
    other = total(a_r, n_s) + total(a_s, n_r)
    extra = total(a_r, n_r - tp) + total(a_s, n_s - tp)
    missed = total(a_r, n_s - tp) + total(a_s, n_r - tp)
    boxes = np.bincount(table.annotator_codes[d.row], minlength=size)
    return [
        {
            "annotator": str(table.annotators[k]),
            f"n_{kind.noun}{'es' if kind.noun == 'box' else 's'}": int(boxes[k]),
            "extra": int(extra[k]),
            "missed": int(missed[k]),
            "extra_rate": float(extra[k] / own[k]) if own[k] else None,
            "missed_rate": float(missed[k] / other[k]) if other[k] else None,
        }
        for k in range(size)
    ]
