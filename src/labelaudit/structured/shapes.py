"""Polygons, 3D cuboids and keypoints as region types, matched and voted like boxes.

Each type parses its payload into a :class:`ShapeData` (a
:class:`labelaudit.structured.boxes.RegionData`: rows, labels, an envelope and a
similarity), and everything else is the box machinery: optimal one-to-one matching per
annotator pair (:func:`labelaudit.structured.boxes.box_matches`), F1 at 0.5 and
0.5:0.95, mean similarity and label agreement (``box_metrics`` with the type's
:class:`~labelaudit.structured.boxes.RegionKind`), and voting by linked regions
(:func:`labelaudit.structured.voting.link_regions`).

==========  ======================================  =======================================
task        similarity                              consensus of a kept region
==========  ======================================  =======================================
polygons    exact polygon IoU (simple polygons,     the medoid: the member with the highest
            convex or not;                          weighted mean IoU to the region's other
            :func:`~.geometry.polygon_iou`)         members (ties: larger weight, larger
                                                    area, then smaller x, y of its envelope)
cuboids     exact 3D IoU of yaw-only cuboids        weighted mean centre and size, circular
            (:func:`~.geometry.yaw_cuboid_iou`)     weighted mean of yaw (atan2 of the
                                                    weighted sums of sin and cos)
keypoints   symmetric OKS (below)                   per keypoint: labelled when members
                                                    carrying more than half the weight
                                                    labelled it, then the median x and y of
                                                    those members; v = 2 when most of them
                                                    marked it visible, else 1; area: mean
==========  ======================================  =======================================

**Symmetric OKS** of two keypoint sets a, b (COCO's OKS, Lin et al. 2014,
``cocoeval.computeOks``, with neither side the ground truth): ``sum over keypoints
labelled (v > 0) in both of exp(-d_i^2 / (2 s^2 k_i^2))`` divided by the keypoints
labelled in either, ``k_i = 2 sigma_i``, ``s^2`` the mean of the two objects' areas
(``area`` of the record; when absent, the area of the bounding box of the labelled
keypoints). When both label the same keypoints with the same area this is exactly
``computeOks`` of one against the other. Sigmas: COCO's 17 person sigmas when there are
17 keypoints, else every keypoint gets their mean (0.0669); ``keypoint_data(...,
sigmas=)`` takes others.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from labelaudit.structured._explode import (
    code_strings,
    explode,
    group_runs,
    numbers,
    pairs_within_groups,
    run_offsets,
    strings,
)
from labelaudit.structured._payload import CUBOID_FIELDS, payload_of
from labelaudit.structured.boxes import BoxMatches, RegionKind, box_data, box_matches
from labelaudit.structured.geometry import (
    COCO_PERSON_SIGMAS,
    polygon_area,
    polygon_iou,
    yaw_cuboid_iou,
    yaw_rectangles,
)
from labelaudit.structured.voting import (
    VoteRegions,
    _consensus,
    _names,
    link_regions,
    vote_weights,
)
from labelaudit.table.table import AnnotationTable

__all__ = [
    "KINDS",
    "SHAPES",
    "ShapeData",
    "keypoint_oks",
    "region_data",
    "shape_data",
    "shape_votes",
    "vote_shapes",
]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

#: The region types matched like boxes, with their measure names.
KINDS = {
    "boxes": RegionKind("box", "iou"),
    "polygons": RegionKind("polygon", "iou"),
    "cuboids": RegionKind("cuboid", "iou"),
    "keypoints": RegionKind("keypoint", "oks"),
}
#: The region types of this module.
SHAPES = ("polygons", "cuboids", "keypoints")
_CELLS = 1 << 21  # triangle pairs per chunk of polygon pairs


@dataclass(frozen=True)
class ShapeData:
    """Regions of one shape type in row order (a ``RegionData``).

    ``fields`` holds the coordinates: polygons ``xy`` (E, K, 2) padded and ``n`` (E,);
    cuboids one (E,) array per field of ``CUBOID_FIELDS``; keypoints ``xy`` (E, K, 2),
    ``v`` (E, K), ``area`` (E,) (NaN: not given) and ``sigmas`` (K,).
    """

    task: str
    row: I64
    label: I64
    labels: npt.NDArray[np.object_]
    row_start: I64
    row_size: I64
    envelope: F64 | None
    fields: dict[str, Any]

    def similarity(self, i: I64, j: I64) -> F64:
        """IoU (polygons, cuboids) or symmetric OKS (keypoints) of regions i and j."""
        f = self.fields
        if self.task == "cuboids":
            return yaw_cuboid_iou(
                {k: f[k][i] for k in CUBOID_FIELDS}, {k: f[k][j] for k in CUBOID_FIELDS}
            )
        if self.task == "keypoints":
            return keypoint_oks(f, i, j)
        out = np.zeros(i.size)
        k = max(int(f["xy"].shape[1]) - 2, 1)
        step = max(1, _CELLS // (k * k))
        for lo in range(0, i.size, step):  # chunks of pairs, for memory only
            a, b = i[lo : lo + step], j[lo : lo + step]
            out[lo : lo + step] = polygon_iou(f["xy"][a], f["n"][a], f["xy"][b], f["n"][b])
        return out


def keypoint_oks(f: Mapping[str, Any], i: I64, j: I64) -> F64:
    """Symmetric OKS of keypoint sets i and j (see the module docstring), shape (P,)."""
    xy, v, area, sigmas = f["xy"], f["v"], f["area"], f["sigmas"]
    both = (v[i] > 0) & (v[j] > 0)
    either = (v[i] > 0) | (v[j] > 0)
    s2 = (area[i] + area[j]) / 2.0
    variances = (2.0 * sigmas) ** 2
    d2 = ((xy[i] - xy[j]) ** 2).sum(axis=2)
    e = d2 / variances[None, :] / (s2[:, None] + np.spacing(1)) / 2.0
    total = np.where(both, np.exp(-e), 0.0).sum(axis=1)
    count = either.sum(axis=1)
    return np.divide(total, count, out=np.zeros(count.shape), where=count > 0)


def _padded(flat: F64, counts: I64, width: int) -> tuple[F64, I64, I64]:
    """Values of E variable-length groups padded into (E, K, width); K the longest group."""
    n = counts.astype(np.int64)
    k = int(n.max(initial=0))
    out = np.zeros((n.size, max(k, 1), width))
    owner = np.repeat(np.arange(n.size), n)
    out[owner, run_offsets(n)] = flat.reshape(-1, width)
    return out, n, owner


def _common(table: AnnotationTable, parent: I64, values: pa.Array) -> dict[str, Any]:
    labels, label = code_strings(strings(values, "label"), table.schema.categories)
    size = np.bincount(parent, minlength=table.n_ratings).astype(np.int64)
    return {
        "row": parent,
        "label": label,
        "labels": labels,
        "row_start": np.cumsum(size) - size,
        "row_size": size,
    }


def _flat(array: pa.Array) -> F64:
    return np.asarray(
        pc.fill_null(pc.cast(pc.list_flatten(array), pa.float64()), np.nan).to_numpy(
            zero_copy_only=False
        ),
        dtype=np.float64,
    )


def shape_data(table: AnnotationTable, sigmas: F64 | None = None) -> ShapeData:
    """Parse a ``polygons``, ``cuboids`` or ``keypoints`` table's payload (validated by
    :func:`labelaudit.structured.payload_of`: bad input is an InputError naming the row).

    ``sigmas`` (K,): per-keypoint OKS sigmas (keypoints only; default in the module
    docstring).
    """
    task = table.task
    parent, values = explode(payload_of(table))
    common = _common(table, parent, values)
    if task == "polygons":
        points = pc.struct_field(values, "points")
        counts = np.asarray(pc.list_value_length(points).to_numpy(zero_copy_only=False), np.int64)
        xy, n, owner = _padded(_flat(pc.list_flatten(points)), counts, 2)
        lo = np.full((n.size, 2), np.inf)
        hi = np.full((n.size, 2), -np.inf)
        coords = xy[owner, run_offsets(n)]
        np.minimum.at(lo, owner, coords)
        np.maximum.at(hi, owner, coords)
        envelope = np.concatenate([lo, hi], axis=1)
        return ShapeData(task, **common, envelope=envelope, fields={"xy": xy, "n": n})
    if task == "cuboids":
        fields = {k: numbers(values, k) for k in CUBOID_FIELDS}
        corners = yaw_rectangles(
            fields["x"], fields["y"], fields["length"], fields["width"], fields["yaw"]
        )
        envelope = np.concatenate([corners.min(axis=1), corners.max(axis=1)], axis=1)
        return ShapeData(task, **common, envelope=envelope, fields=fields)
    return ShapeData(task, **common, envelope=None, fields=_keypoint_fields(values, sigmas))


def _keypoint_fields(values: pa.Array, sigmas: F64 | None) -> dict[str, Any]:
    points = pc.struct_field(values, "keypoints")
    counts = np.asarray(pc.list_value_length(points).to_numpy(zero_copy_only=False), np.int64)
    triples, _, _ = _padded(_flat(points), counts // 3, 3)
    xy, v = triples[..., :2], triples[..., 2]
    k = xy.shape[1]
    if sigmas is None:
        sigmas = COCO_PERSON_SIGMAS if k == 17 else np.full(k, COCO_PERSON_SIGMAS.mean())
    area = numbers(values, "area")
    labelled = v > 0
    big, small = (
        np.where(labelled[..., None], xy, -np.inf),
        np.where(labelled[..., None], xy, np.inf),
    )
    extent = np.clip(big.max(axis=1, initial=-np.inf) - small.min(axis=1, initial=np.inf), 0, None)
    box_area = np.where(labelled.any(axis=1), extent[:, 0] * extent[:, 1], 0.0)
    given = ~np.isnan(area)
    return {
        "xy": xy,
        "v": v,
        "area": np.where(given, area, box_area),
        "area_given": given,
        "sigmas": np.asarray(sigmas, np.float64),
    }


def region_data(table: AnnotationTable) -> Any:
    """The region data of a boxes, polygons, cuboids or keypoints table."""
    return box_data(table) if table.task == "boxes" else shape_data(table)


def vote_shapes(
    table: AnnotationTable,
    *,
    min_votes: float | None = None,
    iou: float = 0.5,
    weights: Mapping[str, float] | None = None,
) -> Any:
    """Consensus of a polygons, cuboids or keypoints table (see the module docstring);
    a :class:`~labelaudit.structured.voting.StructuredConsensus`."""
    return shape_votes(table, min_votes=min_votes, iou=iou, weights=weights).consensus


def shape_votes(
    table: AnnotationTable,
    *,
    min_votes: float | None = None,
    iou: float = 0.5,
    weights: Mapping[str, float] | None = None,
    data: ShapeData | None = None,
    matches: BoxMatches | None = None,
) -> VoteRegions:
    """:func:`vote_shapes` with its regions; ``reference["member"]`` is, for polygons,
    the medoid element of each region."""
    votes = vote_weights(table, weights, min_votes)
    d = shape_data(table) if data is None else data
    m = box_matches(table, d) if matches is None else matches
    linked = link_regions(table, d, m, votes, iou)
    kept_regions = np.flatnonzero(linked.kept)
    build = {"polygons": _medoids, "cuboids": _cuboid_means, "keypoints": _keypoint_medians}
    columns, names, reference, sort_key = build[d.task](d, linked, m)
    chosen = kept_regions[np.lexsort((sort_key[kept_regions], linked.item[kept_regions]))]
    values = pa.StructArray.from_arrays(
        [c(chosen) for c in columns] + [_names(d.labels, linked.label[chosen])],
        names=[*names, "label"],
    )
    confidence = votes.confidence(linked.support, linked.item, table.n_items)
    result = _consensus(table, d.task, linked.item[chosen], values, votes, confidence)
    return VoteRegions(result, linked.region, linked.kept, reference)


def _by_region(linked: Any) -> tuple[I64, I64, I64]:
    """Elements sorted by region, the runs' starts and sizes."""
    order = np.argsort(linked.region, kind="stable").astype(np.int64)
    starts, sizes = group_runs(linked.region[order])
    return order, starts, sizes


def _known_similarity(d: ShapeData, m: BoxMatches, i: I64, j: I64) -> F64:
    """Similarity of element pairs (i, j): the matched pairs' from the matching, the rest
    (members linked through a chain, or of one annotator) computed."""
    n = max(d.row.size, 1)
    key = np.minimum(m.a, m.b) * n + np.maximum(m.a, m.b)
    order = np.argsort(key, kind="stable")
    want = np.minimum(i, j) * n + np.maximum(i, j)
    at = np.minimum(np.searchsorted(key[order], want), max(key.size - 1, 0))
    found = key[order][at] == want if key.size else np.zeros(want.size, dtype=bool)
    value = np.zeros(want.size)
    value[found] = m.iou[order][at[found]]
    missing = np.flatnonzero(~found)
    if missing.size:
        value[missing] = d.similarity(i[missing], j[missing])
    return value


def _medoids(
    d: ShapeData, linked: Any, matches: BoxMatches
) -> tuple[list[Any], list[str], dict[str, Any], F64]:
    """Per region, the member with the highest weighted mean IoU to the other members."""
    order, starts, sizes = _by_region(linked)
    first, second = pairs_within_groups(starts, sizes)
    i, j = order[first], order[second]
    kept = linked.kept[linked.region[i]]  # dropped regions need no medoid
    i, j = i[kept], j[kept]
    value = _known_similarity(d, matches, i, j)
    w = linked.weight
    n = d.row.size
    score = np.bincount(i, value * w[j], minlength=n) + np.bincount(j, value * w[i], minlength=n)
    region = linked.region
    others = np.bincount(region, w, minlength=linked.kept.size)[region] - w
    mean = np.divide(score, others, out=np.ones(n), where=others > 0)
    area = np.abs(polygon_area(d.fields["xy"], d.fields["n"]))
    env = d.envelope if d.envelope is not None else np.zeros((n, 4))
    pick = np.lexsort((env[:, 1], env[:, 0], -area, -w, -mean, region))
    head = np.ones(pick.size, dtype=bool)
    head[1:] = region[pick][1:] != region[pick][:-1]
    member = np.zeros(linked.kept.size, dtype=np.int64)
    member[region[pick[head]]] = pick[head]
    xy, count = d.fields["xy"], d.fields["n"]

    def points(chosen: I64) -> pa.Array:
        e = member[chosen]
        flat = xy[e][np.arange(xy.shape[1])[None, :] < count[e][:, None]]
        inner = pa.FixedSizeListArray.from_arrays(pa.array(flat.reshape(-1)), 2).cast(
            pa.list_(pa.float64())
        )
        offsets = np.concatenate([[0], np.cumsum(count[e])]).astype(np.int32)
        return pa.ListArray.from_arrays(pa.array(offsets), inner)

    return [points], ["points"], {"member": member}, env[member, 0]


def _cuboid_means(
    d: ShapeData, linked: Any, _: BoxMatches
) -> tuple[list[Any], list[str], dict[str, Any], F64]:
    """Weighted means of centre and size; the circular weighted mean of yaw."""
    region, w, r = linked.region, linked.weight, linked.kept.size
    f = d.fields
    mean = {k: _weighted_mean(region, f[k], w, r) for k in CUBOID_FIELDS if k != "yaw"}
    first = _first_member(region, r)
    turn = f["yaw"] - f["yaw"][first][region]  # about the first member: exact when all agree
    sin = np.bincount(region, np.sin(turn) * w, minlength=r)
    cos = np.bincount(region, np.cos(turn) * w, minlength=r)
    mean["yaw"] = f["yaw"][first] + np.arctan2(sin, cos)
    columns = [(lambda chosen, k=k: pa.array(mean[k][chosen])) for k in CUBOID_FIELDS]
    return columns, list(CUBOID_FIELDS), mean, mean["x"]


def _first_member(region: I64, n_regions: int) -> I64:
    """The first element of every region, shape (R,)."""
    first = np.zeros(n_regions, dtype=np.int64)
    first[region[::-1]] = np.arange(region.size - 1, -1, -1)
    return first


def _weighted_mean(region: I64, value: F64, w: F64, n_regions: int) -> F64:
    """Weighted mean per region, taken about the region's first member's value (so a
    region whose members agree gets that value exactly, not a rounded sum / weight)."""
    base = value[_first_member(region, n_regions)]
    total = np.bincount(region, w, minlength=n_regions)
    shift = np.bincount(region, (value - base[region]) * w, minlength=n_regions)
    return np.asarray(base + shift / total, dtype=np.float64)


def _keypoint_medians(
    d: ShapeData, linked: Any, _: BoxMatches
) -> tuple[list[Any], list[str], dict[str, Any], F64]:
    """Per region and keypoint: majority-labelled, median coordinates of its labellers."""
    region, w, r = linked.region, linked.weight, linked.kept.size
    xy, v = d.fields["xy"], d.fields["v"]
    e, k = v.shape
    labelled = v > 0
    weight = np.broadcast_to(w[:, None], (e, k))
    key = np.broadcast_to(region[:, None] * k + np.arange(k)[None, :], (e, k))
    total = np.bincount(region, w, minlength=r)
    marked = np.bincount(key[labelled], weight[labelled], minlength=r * k)
    visible = np.bincount(key[v == 2], weight[v == 2], minlength=r * k)
    on = marked > total.repeat(k) / 2.0 + 1e-9
    coords = np.stack([_median(key[labelled], xy[..., c][labelled], r * k) for c in (0, 1)], 1)
    flag = np.where(on, np.where(visible > marked / 2.0, 2.0, 1.0), 0.0)
    triples = np.where(on[:, None], coords, 0.0)
    out = np.concatenate([triples, flag[:, None]], axis=1).reshape(r, 3 * k)
    given = d.fields["area_given"]
    area = np.where(given, d.fields["area"], 0.0)
    weight_given = np.bincount(region, w * given, minlength=r)
    base = area[_first_member(region, r)]
    shift = np.bincount(region, (area - base[region]) * w * given, minlength=r)
    mean_area = np.where(weight_given > 0, base + shift / np.maximum(weight_given, 1e-300), np.nan)

    def keypoints(chosen: I64) -> pa.Array:
        offsets = (np.arange(chosen.size + 1) * 3 * k).astype(np.int32)
        return pa.ListArray.from_arrays(pa.array(offsets), pa.array(out[chosen].reshape(-1)))

    columns = [keypoints, lambda chosen: pa.array(mean_area[chosen], from_pandas=True)]
    return columns, ["keypoints", "area"], {"keypoints": out}, out[:, 0]


def _median(group: I64, value: F64, n_groups: int) -> F64:
    """Median of ``value`` per group (NaN for empty groups); one sort."""
    out = np.full(n_groups, np.nan)
    if group.size == 0:
        return out
    order = np.lexsort((value, group))
    g, x = group[order], value[order]
    starts, sizes = group_runs(g)
    low = x[starts + (sizes - 1) // 2]
    high = x[starts + sizes // 2]
    out[g[starts]] = (low + high) / 2.0
    return out
