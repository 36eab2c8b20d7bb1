"""Similarity of shapes beyond axis-aligned boxes, vectorised over many pairs at once.

* :func:`convex_polygon_iou`: IoU of convex polygons by exact Sutherland-Hodgman clipping
  (Sutherland & Hodgman 1974) and the shoelace area, for P polygon pairs at once (the
  loop runs over the clip polygon's edges, at most its vertex count, never over pairs).
  Non-convex polygons are refused (their clipping needs another algorithm).
* :func:`polygon_iou`: IoU of simple polygons, convex or not, exactly. Sutherland-Hodgman
  clips any subject polygon by a convex one (a non-convex subject only gains zero-area
  bridges between its pieces, which add no area), so where one polygon of a pair is
  convex it clips the other once. Otherwise the other polygon is split into its fan
  triangles (a_0, a_i, a_i+1), whose indicators, signed by each triangle's orientation
  relative to the polygon's, sum to the polygon's indicator (the decomposition behind
  the shoelace formula): area(A n B) = sum_j s_j area(A n T_j), one clip per triangle.
  All pairs at once; self-intersecting outlines get the winding-number area.
* :func:`yaw_cuboid_iou`: 3D IoU of cuboids rotated about the vertical axis only (LiDAR
  boxes: centre, size, yaw): the bird's-eye-view intersection of the two rotated
  rectangles (convex clipping, exact) times the overlap of their height ranges, over the
  union volume. This is the yaw-only case of the oriented 3D IoU used by the KITTI 3D
  object benchmark (Geiger, Lenz & Urtasun 2012) and exact for it.
* :func:`oks`: COCO object keypoint similarity (Lin et al. 2014; ``cocoeval.computeOks``):
  ``OKS = mean over labelled keypoints i of exp(-d_i^2 / (2 s^2 k_i^2))`` with
  ``k_i = 2 sigma_i``, ``s^2`` the object's area, ``d_i`` the distance of the two
  annotators' keypoint i; only keypoints the reference marked visible (v > 0) count.
  :data:`COCO_PERSON_SIGMAS` are COCO's 17 person-keypoint sigmas.

These are the similarity kernels of the ``polygons``, ``keypoints`` and ``cuboids`` task
types (:mod:`labelaudit.structured.shapes`).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from labelaudit.exceptions import UsageError

__all__ = [
    "COCO_PERSON_SIGMAS",
    "convex_polygon_iou",
    "intersection_area",
    "oks",
    "polygon_area",
    "polygon_intersection_area",
    "polygon_iou",
    "yaw_cuboid_iou",
    "yaw_rectangles",
]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

#: COCO person keypoint sigmas (nose, eyes, ears, shoulders, elbows, wrists, hips, knees,
#: ankles; pycocotools ``COCOeval`` ``Params.kpt_oks_sigmas``).
COCO_PERSON_SIGMAS = (
    np.array([26, 25, 25, 35, 35, 79, 79, 72, 72, 62, 62, 107, 107, 87, 87, 89, 89]) / 1000.0
)


def polygon_area(xy: F64, n: I64) -> F64:
    """Signed shoelace area of P polygons: ``xy`` (P, K, 2) padded, ``n`` (P,) vertices used.

    Positive for counter-clockwise vertex order (x right, y up).
    """
    k = xy.shape[1]
    lane = np.arange(k)
    nxt = np.where(lane[None, :] + 1 < n[:, None], lane[None, :] + 1, 0)
    x, y = xy[..., 0], xy[..., 1]
    x2 = np.take_along_axis(x, nxt, axis=1)
    y2 = np.take_along_axis(y, nxt, axis=1)
    cross = np.where(lane[None, :] < n[:, None], x * y2 - x2 * y, 0.0)
    return np.asarray(cross.sum(axis=1) / 2.0, dtype=np.float64)


def _ccw(xy: F64, n: I64) -> F64:
    """The polygons with their valid vertices in counter-clockwise order."""
    k = xy.shape[1]
    lane = np.arange(k)
    reverse = polygon_area(xy, n) < 0
    flipped = np.where(lane[None, :] < n[:, None], n[:, None] - 1 - lane[None, :], lane[None, :])
    index = np.where(reverse[:, None], flipped, lane[None, :])
    return np.take_along_axis(xy, index[..., None], axis=1)


def _is_convex(xy: F64, n: I64) -> npt.NDArray[np.bool_]:
    """Counter-clockwise polygons whose every turn is a left turn (or straight)."""
    k = xy.shape[1]
    lane = np.arange(k)
    i1 = np.where(lane[None, :] + 1 < n[:, None], lane[None, :] + 1, lane[None, :] + 1 - n[:, None])
    i2 = np.where(i1 + 1 < n[:, None], i1 + 1, i1 + 1 - n[:, None])
    p0 = xy
    p1 = np.take_along_axis(xy, np.clip(i1, 0, k - 1)[..., None], axis=1)
    p2 = np.take_along_axis(xy, np.clip(i2, 0, k - 1)[..., None], axis=1)
    turn = (p1[..., 0] - p0[..., 0]) * (p2[..., 1] - p1[..., 1]) - (p1[..., 1] - p0[..., 1]) * (
        p2[..., 0] - p1[..., 0]
    )
    scale = np.abs(xy).max(axis=(1, 2), initial=1.0) ** 2
    ok = (turn >= -1e-12 * scale[:, None]) | (lane[None, :] >= n[:, None])
    return np.asarray(ok.all(axis=1))


def _clip_edge(
    subject: F64, count: I64, a: F64, b: F64, active: npt.NDArray[np.bool_]
) -> tuple[F64, I64]:
    """Clip every subject polygon by the half-plane left of edge a -> b (Sutherland-Hodgman).

    ``subject`` (P, K, 2) with ``count`` (P,) vertices; pairs not ``active`` are unchanged.
    Returns the clipped polygons, (P, 2K, 2), and their vertex counts.
    """
    p, k = subject.shape[:2]
    lane = np.arange(k)
    valid = lane[None, :] < count[:, None]
    rows = np.flatnonzero(count > 0)
    last = count[rows] - 1
    edge = b - a
    rel = subject - a[:, None, :]
    ds = edge[:, None, 0] * rel[..., 1] - edge[:, None, 1] * rel[..., 0]
    # the next vertex (valid vertices are packed at the front: a roll, wrapped at count - 1)
    e = np.roll(subject, -1, axis=1)
    e[rows, last] = subject[rows, 0]
    de = np.roll(ds, -1, axis=1)
    de[rows, last] = ds[rows, 0]
    s_in, e_in = ds >= 0, de >= 0
    crosses = s_in != e_in
    denom = ds - de
    t = np.divide(ds, denom, out=np.zeros_like(ds), where=crosses & (denom != 0))
    cross_point = subject + t[..., None] * (e - subject)
    # per subject edge s -> e: emit the crossing point when the edge crosses, then e if inside
    first = np.where(crosses[..., None], cross_point, e)
    first_ok = valid & (crosses | e_in)
    second_ok = valid & crosses & e_in
    out = np.stack([first, e], axis=2).reshape(p, 2 * k, 2)
    ok = np.stack([first_ok, second_ok], axis=2).reshape(p, 2 * k)
    slot = np.cumsum(ok, axis=1) - 1  # kept vertices packed to the front, in order
    pair_of, lane_of = np.nonzero(ok)
    clipped = np.zeros_like(out)
    clipped[pair_of, slot[pair_of, lane_of]] = out[pair_of, lane_of]
    new_count = ok.sum(axis=1)
    if active.all():
        return clipped, new_count
    keep = active[:, None, None]
    padded = np.concatenate([subject, np.zeros_like(subject)], axis=1)
    return np.where(keep, clipped, padded), np.where(active, new_count, count)


def intersection_area(a: F64, a_n: I64, b: F64, b_n: I64) -> F64:
    """Area of the intersection of P pairs of convex polygons (vertices in any order).

    The subject ``a`` may be non-convex too (Sutherland-Hodgman then leaves zero-area
    bridges between the pieces, which the shoelace area does not count); ``b`` clips and
    must be convex.

    Parameters
    ----------
    a, b : ndarray, shape (P, K, 2) and (P, M, 2)
        Vertices, padded past ``a_n`` / ``b_n`` (ignored there).
    a_n, b_n : ndarray of int, shape (P,)
        Vertices of each polygon (>= 3).
    """
    a_n, b_n = np.asarray(a_n, dtype=np.int64), np.asarray(b_n, dtype=np.int64)
    subject, count = _ccw(np.asarray(a, np.float64), a_n), a_n.copy()
    clip = _ccw(np.asarray(b, np.float64), b_n)
    rows = np.arange(subject.shape[0])
    for j in range(clip.shape[1]):  # the clip polygon's edges, not the pairs
        active = (j < b_n) & (count > 0)
        nxt = np.where(j + 1 < b_n, j + 1, 0)
        subject, count = _clip_edge(subject, count, clip[:, j], clip[rows, nxt], active)
        subject = subject[:, : max(int(count.max(initial=0)), 1)]  # every valid vertex
    return np.maximum(polygon_area(subject, count), 0.0)


def convex_polygon_iou(a: F64, a_n: I64, b: F64, b_n: I64) -> F64:
    """IoU of P pairs of convex polygons (see :func:`intersection_area`); 0 if no union.

    Raises
    ------
    UsageError
        A polygon is not convex or has fewer than 3 vertices.
    """
    a_n, b_n = np.asarray(a_n, dtype=np.int64), np.asarray(b_n, dtype=np.int64)
    if np.any(a_n < 3) or np.any(b_n < 3):
        raise UsageError("a polygon needs at least 3 vertices")
    a_ccw, b_ccw = _ccw(np.asarray(a, np.float64), a_n), _ccw(np.asarray(b, np.float64), b_n)
    if not (_is_convex(a_ccw, a_n).all() and _is_convex(b_ccw, b_n).all()):
        raise UsageError("convex_polygon_iou needs convex polygons")
    inter = intersection_area(a_ccw, a_n, b_ccw, b_n)
    union = np.abs(polygon_area(a_ccw, a_n)) + np.abs(polygon_area(b_ccw, b_n)) - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def _fan(xy: F64, n: I64) -> tuple[F64, F64, I64]:
    """Fan triangles (a_0, a_i, a_i+1), i = 1 .. n - 2, of P polygons padded to K vertices.

    Returns the triangles (P, K - 2, 3, 2), the sign of each one's orientation relative to
    its polygon's (P, K - 2; 0 for the padding and degenerate triangles) and their owner.
    """
    p, k = xy.shape[:2]
    lane = np.arange(1, max(k - 1, 1))
    first = np.broadcast_to(xy[:, :1, :], (p, lane.size, 2))
    tri = np.stack([first, xy[:, lane, :], xy[:, np.minimum(lane + 1, k - 1), :]], axis=2)
    three = np.full(p * lane.size, 3, dtype=np.int64)
    sign = np.sign(polygon_area(tri.reshape(-1, 3, 2), three)).reshape(p, lane.size)
    sign = np.where(lane[None, :] < n[:, None] - 1, sign, 0.0)
    sign *= np.sign(polygon_area(xy, n))[:, None]  # clockwise outlines: the same indicator
    return tri, sign, np.repeat(np.arange(p, dtype=np.int64), lane.size)


def polygon_intersection_area(a: F64, a_n: I64, b: F64, b_n: I64) -> F64:
    """Area of the intersection of P pairs of simple polygons (convex or not), exact.

    Parameters as :func:`intersection_area`. Where one polygon of a pair is convex, the
    other is clipped by it once (Sutherland-Hodgman clips any subject polygon by a
    convex one; a non-convex subject only gains zero-area bridges, which add no area).
    Otherwise the subject is clipped by each fan triangle of the other polygon and the
    areas summed with the triangles' signs (see the module docstring); triangles whose
    bounding box misses the subject's are skipped.
    """
    a, b = (
        _ccw(np.asarray(a, np.float64), np.asarray(a_n)),
        _ccw(np.asarray(b, np.float64), np.asarray(b_n)),
    )
    a_n, b_n = np.asarray(a_n, dtype=np.int64), np.asarray(b_n, dtype=np.int64)
    out = np.zeros(a_n.size)
    convex_a, convex_b = _is_convex(a, a_n), _is_convex(b, b_n)
    if convex_a.any() or convex_b.any():
        # the convex one clips: b where b is convex, else a
        use_b = convex_b
        direct = np.flatnonzero(convex_a | convex_b)
        flip = ~use_b[direct]
        k = max(a.shape[1], b.shape[1])
        sub, clip = _pad(a, k)[direct], _pad(b, k)[direct]
        sub_n, clip_n = a_n[direct], b_n[direct]
        sub[flip], clip[flip] = clip[flip], sub[flip].copy()
        sub_n, clip_n = np.where(flip, clip_n, sub_n), np.where(flip, sub_n, clip_n)
        out[direct] = intersection_area(sub, sub_n, clip, clip_n)
    rest = np.flatnonzero(~(convex_a | convex_b))
    if rest.size == 0:
        return out
    subject, subject_n = a[rest], a_n[rest]
    tri, sign, _ = _fan(b[rest], b_n[rest])
    valid = np.arange(subject.shape[1])[None, :] < subject_n[:, None]
    lo = np.where(valid[..., None], subject, np.inf).min(axis=1)
    hi = np.where(valid[..., None], subject, -np.inf).max(axis=1)
    pair, j = np.nonzero(sign != 0)
    t = tri[pair, j]
    near = np.all((t.min(axis=1) < hi[pair]) & (lo[pair] < t.max(axis=1)), axis=1)
    pair, j, t = pair[near], j[near], t[near]
    three = np.full(pair.size, 3, dtype=np.int64)
    part = intersection_area(subject[pair], subject_n[pair], t, three) * sign[pair, j]
    out[rest] = np.bincount(pair, part, minlength=rest.size)
    return out


def _pad(xy: F64, k: int) -> F64:
    """Vertices padded with zeros to k columns."""
    extra = k - xy.shape[1]
    return (
        np.concatenate([xy, np.zeros((xy.shape[0], extra, 2))], axis=1) if extra > 0 else xy.copy()
    )


def polygon_iou(a: F64, a_n: I64, b: F64, b_n: I64) -> F64:
    """IoU of P pairs of simple polygons, convex or not (see the module docstring).

    Parameters
    ----------
    a, b : ndarray, shape (P, K, 2) and (P, M, 2)
        Vertices in either orientation, padded past ``a_n`` / ``b_n``.
    a_n, b_n : ndarray of int, shape (P,)
        Vertices of each polygon (>= 3).

    Returns
    -------
    ndarray, shape (P,)
        Intersection area / union area (0 when the union is empty).
    """
    a_n, b_n = np.asarray(a_n, dtype=np.int64), np.asarray(b_n, dtype=np.int64)
    if np.any(a_n < 3) or np.any(b_n < 3):
        raise UsageError("a polygon needs at least 3 vertices")
    inter = polygon_intersection_area(a, a_n, b, b_n)
    union = np.abs(polygon_area(a, a_n)) + np.abs(polygon_area(b, b_n)) - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def yaw_rectangles(cx: F64, cy: F64, length: F64, width: F64, yaw: F64) -> F64:
    """Corners (P, 4, 2), counter-clockwise, of rectangles centred at (cx, cy), ``length``
    along the heading ``yaw`` (radians from the x axis) and ``width`` across it."""
    c, s = np.cos(yaw), np.sin(yaw)
    dx = np.array([1, -1, -1, 1])[None, :] * (length / 2.0)[:, None]
    dy = np.array([1, 1, -1, -1])[None, :] * (width / 2.0)[:, None]
    x = cx[:, None] + dx * c[:, None] - dy * s[:, None]
    y = cy[:, None] + dx * s[:, None] + dy * c[:, None]
    return np.stack([x, y], axis=2)


def yaw_cuboid_iou(a: dict[str, F64], b: dict[str, F64]) -> F64:
    """3D IoU of P pairs of yaw-only cuboids.

    ``a`` and ``b`` map ``x``, ``y``, ``z`` (centre), ``length``, ``width``, ``height``
    and ``yaw`` (radians about the vertical z axis) to arrays of shape (P,).
    """
    four = np.full(np.asarray(a["x"]).shape[0], 4, dtype=np.int64)
    rect_a = yaw_rectangles(a["x"], a["y"], a["length"], a["width"], a["yaw"])
    rect_b = yaw_rectangles(b["x"], b["y"], b["length"], b["width"], b["yaw"])
    bev = intersection_area(rect_a, four, rect_b, four)
    top = np.minimum(a["z"] + a["height"] / 2.0, b["z"] + b["height"] / 2.0)
    bottom = np.maximum(a["z"] - a["height"] / 2.0, b["z"] - b["height"] / 2.0)
    inter = bev * np.clip(top - bottom, 0.0, None)
    volume_a = a["length"] * a["width"] * a["height"]
    volume_b = b["length"] * b["width"] * b["height"]
    union = volume_a + volume_b - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def oks(xy: F64, reference_xy: F64, visible: npt.ArrayLike, area: F64, sigmas: F64) -> F64:
    """COCO object keypoint similarity of P keypoint sets against their references.

    Parameters
    ----------
    xy, reference_xy : ndarray, shape (P, K, 2)
        Keypoints (pixels) of the annotation and of the reference.
    visible : array, shape (P, K)
        The reference's visibility flags (COCO v: 0 = not labelled, 1, 2 = labelled).
    area : ndarray, shape (P,)
        The reference object's area (s^2, pixels^2).
    sigmas : ndarray, shape (K,)
        Per-keypoint sigmas (:data:`COCO_PERSON_SIGMAS` for COCO persons).

    Returns
    -------
    ndarray, shape (P,)
        OKS in [0, 1]; NaN where the reference labels no keypoint (COCO then falls back
        to a box distance, which needs the detection's box: not defined here).
    """
    variances = (2.0 * np.asarray(sigmas, dtype=np.float64)) ** 2
    d2 = ((np.asarray(xy) - np.asarray(reference_xy)) ** 2).sum(axis=2)
    e = d2 / variances[None, :] / (np.asarray(area)[:, None] + np.spacing(1)) / 2.0
    labelled = np.asarray(visible) > 0
    count = labelled.sum(axis=1)
    total = np.where(labelled, np.exp(-e), 0.0).sum(axis=1)
    return np.divide(total, count, out=np.full(count.shape, np.nan), where=count > 0)
