"""Per-annotator structured agreement: every annotator against the others, pairwise.

:func:`pair_scores` scores every annotator pair of every item (rows r, s) with the
task's own pairwise measures, each a ratio of additive parts (numerator, denominator)
so that pooling over pairs and items is exact:

==========  =====================================================================
task        measures (num / den per row pair)
==========  =====================================================================
spans       ``span_f1_exact``, ``span_f1_overlap``: 2 TP / (|A| + |B|), matching as
            in :mod:`labelaudit.structured.spans`
boxes       ``box_f1_50``: 2 TP(IoU >= 0.5) / (|A| + |B|); ``box_f1_50_95``: the mean
            over IoU 0.50:0.95; ``mean_iou``: IoU of matched boxes / matches
polygons,   the same with the type's similarity (:mod:`labelaudit.structured.shapes`):
cuboids,    ``polygon_f1_50``, ``cuboid_f1_50``, ... ``mean_iou``; keypoints
keypoints   ``keypoint_f1_50`` / ``keypoint_f1_50_95`` at OKS thresholds, ``mean_oks``
multilabel  ``masi_agreement``: 1 - MASI distance of the two sets / 1
ranking     ``kendall_tau``: tau-b of the common ids / 1
text        ``text_similarity``: 1 - normalised Levenshtein distance / 1
==========  =====================================================================

and counts each side's regions and errors against the partner (``missed``: the
partner's regions this side has no match for; ``extra``: own regions the partner has no
match for; ``boundary_errors``: overlap matches with other boundaries (spans) and
``label_confusions``: same boundaries (spans) or IoU >= 0.5 (boxes) with another label).

:func:`per_annotator` pools, for every annotator k, the pairs that involve k
(``sum num / sum den``) and, for comparison, the pairs that do not (the others with each
other: the leave-one-out reference). Items are the sampling units of the 95% interval
(delta method, t with n - 1 df, as :mod:`labelaudit.structured._ratio`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from labelaudit.distributions import t_ppf
from labelaudit.structured._explode import (
    group_runs,
    order_by,
    pack,
    pairs_within_groups,
    row_pairs,
)
from labelaudit.table.table import AnnotationTable

__all__ = [
    "PRIMARY",
    "AnnotatorScores",
    "PairScores",
    "against_consensus",
    "against_reference",
    "pair_scores",
    "per_annotator",
    "side_totals",
]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

#: The headline pairwise measure of each task (ranks annotators, drives the flags).
PRIMARY = {
    "spans": "span_f1_exact",
    "boxes": "box_f1_50",
    "polygons": "polygon_f1_50",
    "cuboids": "cuboid_f1_50",
    "keypoints": "keypoint_f1_50",
    "multilabel": "masi_agreement",
    "ranking": "kendall_tau",
    "text": "text_similarity",
}


@dataclass(frozen=True)
class PairScores:
    """Scores of every annotator pair of an item.

    ``pair_r``/``pair_s`` (P,) are the rows; ``measures[name] = (num, den)`` (P,) each;
    ``counts[name] = (count_r, count_s)`` (P,) each, the side's count against its partner;
    ``regions`` (n_rows,) the regions of each row; ``shared`` the parsed payload and
    matchings (``data``, ``matches``) for spans and boxes, so that voting can reuse them.
    """

    pair_r: I64
    pair_s: I64
    measures: dict[str, tuple[F64, F64]]
    counts: dict[str, tuple[F64, F64]] = field(default_factory=dict)
    regions: F64 = field(default_factory=lambda: np.zeros(0))
    shared: dict[str, Any] = field(default_factory=dict)


def pair_scores(table: AnnotationTable) -> PairScores:
    """The task's pairwise measures and error counts (see the module docstring)."""
    handler = {
        "spans": _spans,
        "boxes": _boxes,
        "polygons": _boxes,
        "cuboids": _boxes,
        "keypoints": _boxes,
        "multilabel": _multilabel,
        "ranking": _ranking,
        "text": _text,
    }[table.task]
    return handler(table)


def _spans(table: AnnotationTable) -> PairScores:
    from labelaudit.structured.spans import _row_pair_index, span_data, span_matches

    d = span_data(table)
    m = span_matches(table, d)
    n_pairs = m.pair_r.size
    regions = np.bincount(d.row, minlength=table.n_ratings).astype(np.float64)
    size = regions[m.pair_r] + regions[m.pair_s]
    tp_exact = np.bincount(m.exact_pair, minlength=n_pairs).astype(np.float64)
    tp = np.bincount(m.pair, minlength=n_pairs).astype(np.float64)
    moved = (d.start[m.a] != d.start[m.b]) | (d.end[m.a] != d.end[m.b])
    boundary = np.bincount(m.pair[moved], minlength=n_pairs).astype(np.float64)
    # label confusions: spans of two rows with the same boundaries and other labels
    bounds = pack(d.start, d.end)
    order = order_by(d.item, bounds)
    item_o, bounds_o = d.item[order], bounds[order]
    new = np.ones(order.size, dtype=bool)
    new[1:] = (item_o[1:] != item_o[:-1]) | (bounds_o[1:] != bounds_o[:-1])
    first, second = pairs_within_groups(*group_runs(np.cumsum(new)))
    i, j = order[first], order[second]
    keep = (d.row[i] != d.row[j]) & (d.label[i] != d.label[j])
    i, j = i[keep], j[keep]
    swap = d.annotator[i] > d.annotator[j]
    lo, hi = np.where(swap, j, i), np.where(swap, i, j)
    where = _row_pair_index(m.pair_r, m.pair_s, d.row[lo], d.row[hi], d.n_rows)
    confused = np.bincount(where, minlength=n_pairs).astype(np.float64)
    return PairScores(
        m.pair_r,
        m.pair_s,
        {"span_f1_exact": (2.0 * tp_exact, size), "span_f1_overlap": (2.0 * tp, size)},
        {
            "missed": (regions[m.pair_s] - tp, regions[m.pair_r] - tp),
            "extra": (regions[m.pair_r] - tp, regions[m.pair_s] - tp),
            "boundary_errors": (boundary, boundary),
            "label_confusions": (confused, confused),
        },
        regions,
        {"data": d, "matches": m},
    )


def _boxes(table: AnnotationTable) -> PairScores:
    """Boxes and the shapes matched like them (polygons, cuboids, keypoints)."""
    from labelaudit.structured.boxes import THRESHOLDS, box_matches
    from labelaudit.structured.shapes import KINDS, region_data

    kind = KINDS[table.task]
    d = region_data(table)
    m = box_matches(table, d)
    n_pairs = m.pair_r.size
    regions = d.row_size.astype(np.float64)
    size = regions[m.pair_r] + regions[m.pair_s]

    def tp_at(threshold: float) -> F64:
        hit = m.iou >= threshold - 1e-12
        return np.bincount(m.pair[hit], minlength=n_pairs).astype(np.float64)

    tp50 = tp_at(0.5)
    tp_mean = np.mean([tp_at(t) for t in THRESHOLDS], axis=0) if n_pairs else tp50
    at50 = m.iou >= 0.5 - 1e-12
    other_label = at50 & (d.label[m.a] != d.label[m.b])
    confused = np.bincount(m.pair[other_label], minlength=n_pairs).astype(np.float64)
    matched = np.bincount(m.pair, minlength=n_pairs).astype(np.float64)
    return PairScores(
        m.pair_r,
        m.pair_s,
        {
            f"{kind.noun}_f1_50": (2.0 * tp50, size),
            f"{kind.noun}_f1_50_95": (2.0 * tp_mean, size),
            f"mean_{kind.measure}": (
                np.asarray(np.bincount(m.pair, m.iou, minlength=n_pairs), np.float64),
                matched,
            ),
        },
        {
            "missed": (regions[m.pair_s] - tp50, regions[m.pair_r] - tp50),
            "extra": (regions[m.pair_r] - tp50, regions[m.pair_s] - tp50),
            "label_confusions": (confused, confused),
        },
        regions,
        {"data": d, "matches": m},
    )


def _multilabel(table: AnnotationTable) -> PairScores:
    from labelaudit.structured.multilabel import _popcount, _set_distance, label_sets

    sets = label_sets(table)
    r, s = row_pairs(table.item_codes, table.annotator_codes)
    a, b = sets.set_code[r], sets.set_code[s]
    inter = _popcount(sets.bits[a] & sets.bits[b]).sum(axis=1)
    size_a, size_b = sets.sizes[a], sets.sizes[b]
    agreement = 1.0 - _set_distance(inter, size_a, size_b, "masi")
    regions = sets.sizes[sets.set_code].astype(np.float64)
    return PairScores(
        r,
        s,
        {"masi_agreement": (agreement, np.ones(r.size))},
        {
            "missed": ((size_b - inter).astype(np.float64), (size_a - inter).astype(np.float64)),
            "extra": ((size_a - inter).astype(np.float64), (size_b - inter).astype(np.float64)),
        },
        regions,
    )


def _ranking(table: AnnotationTable) -> PairScores:
    from labelaudit.structured.rankings import _pair_tau, rankings

    data = rankings(table)
    r, s, tau = _pair_tau(table, data)
    return PairScores(
        r, s, {"kendall_tau": (tau, np.ones(r.size))}, {}, data.row_size.astype(np.float64)
    )


def _text(table: AnnotationTable) -> PairScores:
    import pyarrow.compute as pc

    from labelaudit.structured._explode import code_strings
    from labelaudit.structured._payload import payload_of
    from labelaudit.structured.text import EditDistance, normalize_text

    payload = payload_of(table)
    valid = np.asarray(pc.is_valid(payload).to_numpy(zero_copy_only=False), dtype=bool)
    names, codes = code_strings(normalize_text(pc.fill_null(payload, "")))
    r, s = row_pairs(table.item_codes, table.annotator_codes)
    both = valid[r] & valid[s]
    r, s = r[both], s[both]
    distance = EditDistance([str(v) for v in names.tolist()]).pairs(codes[r], codes[s])
    return PairScores(
        r, s, {"text_similarity": (1.0 - distance, np.ones(r.size))}, {}, valid.astype(np.float64)
    )


@dataclass(frozen=True)
class AnnotatorScores:
    """One measure per annotator (shape (n_annotators,) each; NaN = undefined).

    ``value`` pools the pairs involving the annotator; ``low``/``high`` its 95% interval;
    ``others`` pools the pairs of the other annotators with each other; ``n_items`` the
    items behind ``value``.
    """

    value: F64
    low: F64
    high: F64
    others: F64
    n_items: I64


def per_annotator(
    table: AnnotationTable, scores: PairScores, name: str, *, one_sided: bool = False
) -> AnnotatorScores:
    """Pool measure ``name`` per annotator, with a delta-method 95% interval over items.

    ``one_sided``: only the ``pair_r`` side is an annotator (scores against a reference,
    from :func:`against_reference`); ``others`` is then NaN.
    """
    num, den = scores.measures[name]
    n_ann, n_items = table.n_annotators, table.n_items
    a_r = table.annotator_codes[scores.pair_r]
    a_s = table.annotator_codes[scores.pair_s]
    item = table.item_codes[scores.pair_r]
    sides = 1 if one_sided else 2
    who = a_r if one_sided else np.concatenate([a_r, a_s])
    num2, den2, item2 = np.tile(num, sides), np.tile(den, sides), np.tile(item, sides)
    n_k = np.bincount(who, num2, minlength=n_ann)
    d_k = np.bincount(who, den2, minlength=n_ann)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(d_k > 0, n_k / d_k, np.nan)
    n_out, d_out = float(num.sum()) - n_k, float(den.sum()) - d_k
    with np.errstate(invalid="ignore", divide="ignore"):
        others = np.where((d_out > 0) & (not one_sided), n_out / d_out, np.nan)
    keys, inverse = np.unique(who * n_items + item2, return_inverse=True)
    n_ki = np.bincount(inverse, num2, minlength=keys.size)
    d_ki = np.bincount(inverse, den2, minlength=keys.size)
    k = keys // n_items
    contributes = (n_ki != 0) | (d_ki != 0)
    ratio = np.nan_to_num(value)[k]
    z = np.where(contributes, (n_ki - ratio * d_ki) / np.where(d_k[k] > 0, d_k[k], 1.0), 0.0)
    count = np.bincount(k, contributes, minlength=n_ann).astype(np.float64)
    z2 = np.bincount(k, z**2, minlength=n_ann)
    with np.errstate(invalid="ignore", divide="ignore"):
        se = np.sqrt(count / (count - 1.0) * z2)
        half = t_ppf(0.975, np.maximum(count - 1.0, 1.0)) * se
    ok = np.isfinite(value) & (count >= 2)
    low = np.where(ok, value - half, np.nan)
    high = np.where(ok, np.minimum(value + half, 1.0), np.nan)
    return AnnotatorScores(value, low, high, others, count.astype(np.int64))


def side_totals(table: AnnotationTable, scores: PairScores, name: str) -> F64:
    """Count ``name`` summed per annotator over its pairs, shape (n_annotators,)."""
    count_r, count_s = scores.counts[name]
    a_r = table.annotator_codes[scores.pair_r]
    a_s = table.annotator_codes[scores.pair_s]
    n = table.n_annotators
    return np.asarray(
        np.bincount(a_r, count_r, minlength=n) + np.bincount(a_s, count_s, minlength=n),
        dtype=np.float64,
    )


def against_reference(table: AnnotationTable, reference: pa.Array) -> PairScores:
    """Every annotation scored against the reference annotation of its item.

    Parameters
    ----------
    table : AnnotationTable
        A structured table.
    reference : pyarrow.Array, length n_items
        One payload per item (the consensus, or gold; null = no reference for the item).

    Returns
    -------
    PairScores
        ``pair_r`` = ``pair_s`` = the row of each annotation with a reference, scored
        against it (each annotation and its reference are matched on their own, so the
        cost is one pair per annotation); use ``per_annotator(..., one_sided=True)``.
    """
    from dataclasses import replace

    from labelaudit.structured._payload import PAYLOAD_TYPES, payload_of

    kind = PAYLOAD_TYPES[table.task]
    has = np.asarray(reference.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    rows = np.flatnonzero(has[table.item_codes]).astype(np.int64)
    n = rows.size
    payload = pa.concat_arrays(
        [
            payload_of(table).cast(kind).take(pa.array(rows)),
            reference.cast(kind).take(pa.array(table.item_codes[rows])),
        ]
    )
    unit = np.arange(n, dtype=np.int64)
    names = pa.array(unit.astype(str), type=pa.string())
    joined = replace(
        table,
        data=pa.table(
            {
                "item": pa.concat_arrays([names, names]),
                "annotator": pa.array(np.repeat(["annotation", "reference"], n).tolist()),
                "payload": payload,
            }
        ),
        items=unit.astype(str).astype(object),
        annotators=np.array(["annotation", "reference"], dtype=object),
        item_codes=np.concatenate([unit, unit]),
        annotator_codes=np.repeat(np.arange(2, dtype=np.int64), n),
        label_codes=np.zeros(2 * n, dtype=np.int64),
    )
    scores = pair_scores(joined)
    original = rows[scores.pair_r]
    return PairScores(
        original,
        original,
        scores.measures,
        {k: (a, a) for k, (a, _) in scores.counts.items()},
        scores.regions[:n],
    )


def against_consensus(table: AnnotationTable, scores: PairScores, vote: Any) -> PairScores:
    """Every span / box annotation scored against the vote, reusing the pairwise matches.

    :func:`against_reference` would match every annotation against the consensus again;
    the pairwise matches behind ``scores`` already link every region to the consensus
    region it formed (:class:`labelaudit.structured.voting.VoteRegions`), so:

    * spans: a span *hits* the consensus region it belongs to when that region was kept
      (exact F1: its boundaries are the consensus span's; overlap F1: they overlap). An
      annotation with several spans in one region hits it once; the others, and the spans
      of dropped regions, are extra.
    * boxes: each box is matched one-to-one (maximum total IoU per annotation) to the kept
      consensus boxes of its own region and of the regions of the boxes it was matched
      with, and the IoU thresholded as for the pairwise F1.

    F1 = 2 hits / (own regions + the item's consensus regions), as :func:`against_reference`
    (the benchmark inputs and the tests give the same numbers as matching again).

    Parameters
    ----------
    table : AnnotationTable
        A ``spans`` or ``boxes`` table.
    scores : PairScores
        :func:`pair_scores` of the table (its ``shared`` data and matches).
    vote : VoteRegions
        ``span_votes`` / ``box_votes`` run on those matches.

    Returns
    -------
    PairScores
        One-sided (``pair_r`` = ``pair_s`` = every row); use
        ``per_annotator(..., one_sided=True)``.
    """
    d = scores.shared["data"]
    region, kept = vote.element_region, vote.kept
    n_rows = table.n_ratings
    rows = np.arange(n_rows, dtype=np.int64)
    region_item = np.zeros(kept.size, dtype=np.int64)
    region_item[region] = table.item_codes[d.row]
    kept_per_item = np.bincount(region_item[kept], minlength=table.n_items)
    size = scores.regions + kept_per_item[table.item_codes].astype(np.float64)
    ref = vote.reference
    inside = kept[region]
    if table.task == "spans":
        start, end = ref["start"][region], ref["end"][region]
        overlap = np.minimum(d.end, end) - np.maximum(d.start, start)
        exact = inside & (d.start == start) & (d.end == end)
        # per (row, region): 2 = an exact span, 1 = an overlapping one, 0 = none
        owner, best = _best(d.row, region, np.where(exact, 2.0, (inside & (overlap > 0)) * 1.0))
        measures = {
            "span_f1_exact": (2.0 * _count(owner[best == 2.0], n_rows), size),
            "span_f1_overlap": (2.0 * _count(owner[best > 0], n_rows), size),
        }
    else:
        from labelaudit.structured.boxes import THRESHOLDS

        owner, best = _box_hits(table, scores, vote)
        tp = [_count(owner[best >= t - 1e-12], n_rows) for t in THRESHOLDS]
        hit = best > 0
        measures = {
            "box_f1_50": (2.0 * tp[0], size),
            "box_f1_50_95": (2.0 * np.mean(tp, axis=0), size),
            "mean_iou": (
                np.asarray(np.bincount(owner[hit], best[hit], minlength=n_rows), np.float64),
                _count(owner[hit], n_rows),
            ),
        }
    return PairScores(rows, rows, measures, {}, scores.regions)


def _box_hits(table: AnnotationTable, scores: PairScores, vote: Any) -> tuple[I64, F64]:
    """Rows and IoUs of the optimal one-to-one matching of every annotation's boxes to the
    kept consensus boxes of its item, over the candidates the pairwise matches give.

    A box's candidates are the consensus box of its own region and those of the regions of
    the boxes it was matched with (any positive IoU); the IoU with each is computed and
    the positive ones matched by maximum total IoU per annotation
    (:func:`labelaudit.structured._assign.sparse_assignment`).
    """
    from labelaudit.structured._assign import sparse_assignment
    from labelaudit.structured.boxes import iou

    d, m = scores.shared["data"], scores.shared["matches"]
    region, kept, ref = vote.element_region, vote.kept, vote.reference
    # own region of every box, then the (rare) other regions its partners are in
    other = np.concatenate([m.a, m.b]), np.concatenate([region[m.b], region[m.a]])
    foreign = (other[1] != region[other[0]]) & kept[other[1]]
    n_regions = max(kept.size, 1)
    extra = np.unique(other[0][foreign] * n_regions + other[1][foreign])
    own = np.flatnonzero(kept[region])
    box = np.concatenate([own, extra // n_regions])
    target = np.concatenate([region[own], extra % n_regions])
    value = iou(
        d.x[box],
        d.y[box],
        d.w[box],
        d.h[box],
        *(ref[k][target] for k in ("x", "y", "width", "height")),
    )
    positive = value > 0
    box, target, value = box[positive], target[positive], value[positive]
    who = table.annotator_codes[d.row[box]]
    chosen = sparse_assignment(box, target * max(table.n_annotators, 1) + who, value)
    return d.row[box[chosen]], value[chosen]


def _count(rows: I64, n_rows: int) -> F64:
    return np.bincount(rows, minlength=n_rows).astype(np.float64)


def _best(row: I64, region: I64, value: F64) -> tuple[I64, F64]:
    """Per distinct (row, region) of the elements: its row and the elements' largest value.

    A region counts once per row, with the best of the row's elements in it.
    """
    n_regions = max(int(region.max(initial=-1)) + 1, 1)
    key = row * n_regions + region
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    head = np.ones(order.size, dtype=bool)
    head[1:] = ordered[1:] != ordered[:-1]
    heads = np.flatnonzero(head)
    if heads.size == 0:
        return heads.astype(np.int64), np.zeros(0)
    return row[order[heads]], np.maximum.reduceat(value[order], heads)
