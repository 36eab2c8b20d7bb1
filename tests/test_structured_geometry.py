"""Shape similarity against reference implementations: convex polygon IoU and yaw-only
cuboid IoU against shapely (GEOS), OKS against pycocotools' ``COCOeval.computeOks``."""

from __future__ import annotations

import numpy as np
import pytest

from labelaudit.exceptions import UsageError
from labelaudit.structured.geometry import (
    COCO_PERSON_SIGMAS,
    convex_polygon_iou,
    intersection_area,
    oks,
    yaw_cuboid_iou,
    yaw_rectangles,
)


def _hulls(rng: np.random.Generator, p: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """p random convex polygons (hulls of k random points), padded to k vertices."""
    from scipy.spatial import ConvexHull

    xy = np.zeros((p, k, 2))
    n = np.zeros(p, dtype=np.int64)
    for i in range(p):
        points = rng.uniform(0, 10, size=(k, 2)) + rng.uniform(-4, 4, size=2)
        hull = points[ConvexHull(points).vertices]
        if rng.random() < 0.5:
            hull = hull[::-1]  # clockwise half of the time
        xy[i, : len(hull)] = hull
        n[i] = len(hull)
    return xy, n


def _shapely_iou(a, a_n, b, b_n):
    from shapely.geometry import Polygon

    out = []
    for i in range(len(a_n)):
        pa, pb = Polygon(a[i, : a_n[i]]), Polygon(b[i, : b_n[i]])
        inter = pa.intersection(pb).area
        out.append(inter / (pa.area + pb.area - inter))
    return np.array(out)


def test_convex_polygon_iou_matches_shapely():
    rng = np.random.default_rng(0)
    a, a_n = _hulls(rng, 400, 9)
    b, b_n = _hulls(rng, 400, 7)
    ours = convex_polygon_iou(a, a_n, b, b_n)
    assert np.allclose(ours, _shapely_iou(a, a_n, b, b_n), rtol=0, atol=1e-9)
    assert (ours > 0).sum() > 100 and (ours == 0).sum() > 10  # both cases exercised


def test_polygon_self_containment_and_refusals():
    square = np.array([[[0, 0], [4, 0], [4, 4], [0, 4]]], dtype=float)
    inner = np.array([[[1, 1], [2, 1], [2, 2], [1, 2]]], dtype=float)
    four = np.array([4])
    assert convex_polygon_iou(square, four, square, four)[0] == pytest.approx(1.0, abs=1e-12)
    assert intersection_area(square, four, inner, four)[0] == pytest.approx(1.0, abs=1e-12)
    assert convex_polygon_iou(square, four, inner, four)[0] == pytest.approx(1 / 16, abs=1e-12)
    dart = np.array([[[0, 0], [4, 0], [1, 1], [0, 4]]], dtype=float)
    with pytest.raises(UsageError, match="convex"):
        convex_polygon_iou(dart, four, square, four)


def test_yaw_cuboid_iou_matches_shapely_bev_times_height():
    from shapely.geometry import Polygon

    rng = np.random.default_rng(1)
    p = 300

    def cuboids():
        return {
            "x": rng.uniform(-2, 2, p),
            "y": rng.uniform(-2, 2, p),
            "z": rng.uniform(0, 1, p),
            "length": rng.uniform(2, 5, p),
            "width": rng.uniform(1, 2.5, p),
            "height": rng.uniform(1, 2, p),
            "yaw": rng.uniform(-np.pi, np.pi, p),
        }

    a, b = cuboids(), cuboids()
    ours = yaw_cuboid_iou(a, b)
    ra = yaw_rectangles(a["x"], a["y"], a["length"], a["width"], a["yaw"])
    rb = yaw_rectangles(b["x"], b["y"], b["length"], b["width"], b["yaw"])
    expected = []
    for i in range(p):
        bev = Polygon(ra[i]).intersection(Polygon(rb[i])).area
        dz = min(a["z"][i] + a["height"][i] / 2, b["z"][i] + b["height"][i] / 2) - max(
            a["z"][i] - a["height"][i] / 2, b["z"][i] - b["height"][i] / 2
        )
        inter = bev * max(dz, 0.0)
        va = a["length"][i] * a["width"][i] * a["height"][i]
        vb = b["length"][i] * b["width"][i] * b["height"][i]
        expected.append(inter / (va + vb - inter))
    assert np.allclose(ours, expected, rtol=0, atol=1e-9)
    assert np.allclose(yaw_cuboid_iou(a, a), 1.0, atol=1e-12)
    turned = dict(a, yaw=a["yaw"] + np.pi)  # a cuboid turned half-way is the same cuboid
    assert np.allclose(yaw_cuboid_iou(a, turned), 1.0, atol=1e-9)


def test_oks_matches_pycocotools():
    from pycocotools import coco, cocoeval

    rng = np.random.default_rng(2)
    n_gt, n_dt = 6, 5
    gts, dts = [], []
    for g in range(n_gt):
        xy = rng.uniform(0, 200, size=(17, 2))
        v = rng.choice([0, 1, 2], size=17, p=[0.2, 0.3, 0.5])
        kp = np.column_stack([xy, v]).ravel().tolist()
        area = float(rng.uniform(500, 5000))
        gts.append(
            {
                "id": g + 1,
                "image_id": 1,
                "category_id": 1,
                "keypoints": kp,
                "num_keypoints": int((v > 0).sum()),
                "area": area,
                "iscrowd": 0,
                "bbox": [0.0, 0.0, 200.0, 200.0],
            }
        )
    for d in range(n_dt):
        base = np.array(gts[d % n_gt]["keypoints"]).reshape(17, 3)[:, :2]
        xy = base + rng.normal(0, 8, size=(17, 2))
        kp = np.column_stack([xy, np.full(17, 2)]).ravel().tolist()
        dts.append({"image_id": 1, "category_id": 1, "keypoints": kp, "score": 1.0 - d / 10})
    ground = coco.COCO()
    ground.dataset = {
        "images": [{"id": 1}],
        "categories": [{"id": 1, "name": "person"}],
        "annotations": gts,
    }
    ground.createIndex()
    detections = ground.loadRes(dts)
    evaluation = cocoeval.COCOeval(ground, detections, iouType="keypoints")
    evaluation.params.imgIds = [1]
    evaluation._prepare()
    matrix = np.asarray(evaluation.computeOks(1, 1))  # (detections by score, ground truths)
    order = np.argsort([-d["score"] for d in dts], kind="mergesort")
    for row, d in enumerate(order):
        det = np.array(dts[d]["keypoints"]).reshape(17, 3)[:, :2]
        for col, g in enumerate(gts):
            ref = np.array(g["keypoints"]).reshape(17, 3)
            ours = oks(
                det[None],
                ref[None, :, :2],
                ref[None, :, 2],
                np.array([g["area"]]),
                COCO_PERSON_SIGMAS,
            )[0]
            assert ours == pytest.approx(matrix[row, col], abs=1e-12)


def test_oks_without_labelled_keypoints_is_undefined():
    xy = np.zeros((1, 17, 2))
    assert np.isnan(oks(xy, xy, np.zeros((1, 17)), np.array([100.0]), COCO_PERSON_SIGMAS))[0]
    assert oks(xy, xy, np.ones((1, 17)), np.array([100.0]), COCO_PERSON_SIGMAS)[0] == 1.0
