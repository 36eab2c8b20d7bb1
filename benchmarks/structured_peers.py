"""Peers of the structured benchmark: the libraries people use for the same jobs.

Each peer loops over items in Python (that is how these libraries are called), so it is
timed on the first ``n`` items of the same generated table and its time scaled linearly
to the full table; the benchmark prints that scale. Inputs are converted to each
library's own layout before the clock starts.

* Box consensus: ``ensemble_boxes.weighted_boxes_fusion`` (Solovyev et al. 2021), one
  call per image with every annotator as one "model" (score 1), IoU threshold 0.5.
* Box pairwise matching (the core of the box annotator report): per image and annotator
  pair, ``pycocotools.mask.iou`` for the IoU matrix (COCO's own IoU) and
  ``scipy.optimize.linear_sum_assignment(maximize=True)`` for the optimal one-to-one
  matching, TP at IoU 0.5. Same definition as labelaudit's ``box_f1_50``, so the pooled
  F1 of every annotator pair is checked against labelaudit's.
* Span pairwise F1 (the core of the span annotator report): ``nervaluate.Evaluator`` per
  annotator pair (one annotator as "true", the other as "pred"), strict F1 (same
  boundaries and label), checked against labelaudit's exact span F1 per pair.
* Shape pairwise matching (:func:`shape_pairs_peer`): per image and annotator pair the
  similarity matrix from the reference library - polygons: shapely (GEOS) intersection
  area over union; cuboids: shapely intersection of the bird's-eye-view rectangles times
  the overlap of the height ranges over the union volume; keypoints: pycocotools'
  ``COCOeval.computeOks`` (every keypoint visible, equal areas: the symmetric OKS is
  COCO's) - then ``linear_sum_assignment(maximize=True)``, TP at 0.5.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from labelaudit.table import AnnotationTable

__all__ = ["box_pairs_peer", "nervaluate_peer", "shape_pairs_peer", "wbf_peer"]


def _rows_by_item(table: AnnotationTable, n: int) -> list[list[tuple[int, list[dict[str, Any]]]]]:
    """The first ``n`` items' (annotator code, payload) rows, annotators in code order."""
    payload = table.data.column("payload").to_pylist()
    out: list[list[tuple[int, list[dict[str, Any]]]]] = [[] for _ in range(n)]
    for row in np.flatnonzero(table.item_codes < n).tolist():
        out[int(table.item_codes[row])].append(
            (int(table.annotator_codes[row]), payload[row] or [])
        )
    for rows in out:
        rows.sort(key=lambda r: r[0])
    return out


def _timed(call: Callable[[], Any]) -> tuple[float, float, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = call()
    return time.perf_counter() - wall, time.process_time() - cpu, out


def wbf_peer(table: AnnotationTable, n: int, labels: tuple[str, ...]) -> dict[str, Any]:
    """Weighted boxes fusion on the first ``n`` images (coordinates / 1000 px)."""
    from ensemble_boxes import weighted_boxes_fusion

    code = {name: k for k, name in enumerate(labels)}
    images = []
    for rows in _rows_by_item(table, n):
        boxes, scores, classes = [], [], []
        for _, payload in rows:
            xyxy = np.array(
                [[b["x"], b["y"], b["x"] + b["width"], b["y"] + b["height"]] for b in payload]
            ).reshape(-1, 4)
            boxes.append(np.clip(xyxy / 1000.0, 0.0, 1.0).tolist())
            scores.append([1.0] * len(payload))
            classes.append([code[b["label"]] for b in payload])
        images.append((boxes, scores, classes))

    def run() -> int:
        fused = 0
        for boxes, scores, classes in images:
            out, _, _ = weighted_boxes_fusion(boxes, scores, classes, iou_thr=0.5)
            fused += len(out)
        return fused

    wall, cpu, fused = _timed(run)
    return {"wall_s": wall, "cpu_s": cpu, "n": n, "fused_boxes": fused}


def box_pairs_peer(table: AnnotationTable, n: int) -> dict[str, Any]:
    """COCO IoU + optimal assignment per image and annotator pair; pooled F1@0.5 per pair."""
    from pycocotools import mask
    from scipy.optimize import linear_sum_assignment

    images = []
    for rows in _rows_by_item(table, n):
        arrays = [
            (k, np.array([[b["x"], b["y"], b["width"], b["height"]] for b in p]).reshape(-1, 4))
            for k, p in rows
        ]
        images.append(arrays)

    def run() -> dict[tuple[int, int], list[float]]:
        totals: dict[tuple[int, int], list[float]] = {}
        for arrays in images:
            for i, (ka, a) in enumerate(arrays):
                for kb, b in arrays[i + 1 :]:
                    tp = 0
                    if len(a) and len(b):
                        matrix = np.asarray(mask.iou(a, b, [0] * len(b)))
                        r, c = linear_sum_assignment(matrix, maximize=True)
                        tp = int(np.sum(matrix[r, c] >= 0.5 - 1e-12))
                    total = totals.setdefault((ka, kb), [0.0, 0.0])
                    total[0] += 2.0 * tp
                    total[1] += len(a) + len(b)
        return totals

    wall, cpu, totals = _timed(run)
    f1 = {pair: num / den for pair, (num, den) in totals.items() if den}
    return {"wall_s": wall, "cpu_s": cpu, "n": n, "f1_50": f1}


def nervaluate_peer(table: AnnotationTable, n: int, labels: tuple[str, ...]) -> dict[str, Any]:
    """nervaluate strict F1 per annotator pair on the first ``n`` documents."""
    from nervaluate import Evaluator

    by_annotator: dict[int, list[list[dict[str, Any]]]] = {}
    for rows in _rows_by_item(table, n):
        for k, payload in rows:
            # nervaluate's offsets are inclusive: end - 1
            spans = [
                {"label": s["label"], "start": s["start"], "end": s["end"] - 1} for s in payload
            ]
            by_annotator.setdefault(k, []).append(spans)
    codes = sorted(by_annotator)

    def run() -> dict[tuple[int, int], float]:
        f1 = {}
        for i, a in enumerate(codes):
            for b in codes[i + 1 :]:
                result = Evaluator(by_annotator[a], by_annotator[b], tags=list(labels)).evaluate()
                f1[(a, b)] = float(result["overall"]["strict"].f1)
        return f1

    wall, cpu, f1 = _timed(run)
    return {"wall_s": wall, "cpu_s": cpu, "n": n, "f1_exact": f1}


def _polygon_matrix(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> np.ndarray:
    import shapely

    pa_ = np.array([shapely.Polygon(p["points"]) for p in a])
    pb = np.array([shapely.Polygon(p["points"]) for p in b])
    inter = shapely.area(shapely.intersection(pa_[:, None], pb[None, :]))
    union = shapely.area(pa_)[:, None] + shapely.area(pb)[None, :] - inter
    return np.asarray(inter / union)


def _cuboid_matrix(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> np.ndarray:
    import shapely

    def footprint(c: dict[str, Any]) -> Any:
        cos, sin = np.cos(c["yaw"]), np.sin(c["yaw"])
        u = np.array([1, -1, -1, 1]) * c["length"] / 2
        v = np.array([1, 1, -1, -1]) * c["width"] / 2
        return shapely.Polygon(
            np.column_stack([c["x"] + u * cos - v * sin, c["y"] + u * sin + v * cos])
        )

    fa, fb = np.array([footprint(c) for c in a]), np.array([footprint(c) for c in b])
    bev = shapely.area(shapely.intersection(fa[:, None], fb[None, :]))
    za = np.array([[c["z"] - c["height"] / 2, c["z"] + c["height"] / 2] for c in a])
    zb = np.array([[c["z"] - c["height"] / 2, c["z"] + c["height"] / 2] for c in b])
    dz = np.clip(
        np.minimum(za[:, None, 1], zb[None, :, 1]) - np.maximum(za[:, None, 0], zb[None, :, 0]),
        0,
        None,
    )
    inter = bev * dz
    va = np.array([c["length"] * c["width"] * c["height"] for c in a])
    vb = np.array([c["length"] * c["width"] * c["height"] for c in b])
    return np.asarray(inter / (va[:, None] + vb[None, :] - inter))


def _oks_matrix(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> np.ndarray:
    from pycocotools.cocoeval import COCOeval

    evaluator = COCOeval(iouType="keypoints")
    gts = [{"keypoints": p["keypoints"], "area": p["area"], "bbox": [0, 0, 1, 1]} for p in b]
    dts = [{"keypoints": p["keypoints"], "score": 1.0} for p in a]
    evaluator._gts, evaluator._dts = {(0, 0): gts}, {(0, 0): dts}
    evaluator.params.maxDets = [len(dts)]
    return np.asarray(evaluator.computeOks(0, 0))


def shape_pairs_peer(table: AnnotationTable, n: int) -> dict[str, Any]:
    """Reference similarity + optimal assignment per image and annotator pair; pooled
    F1@0.5 per annotator pair (polygons, cuboids or keypoints)."""
    from scipy.optimize import linear_sum_assignment

    matrix_of, name = {
        "polygons": (_polygon_matrix, "shapely polygon IoU + linear_sum_assignment"),
        "cuboids": (_cuboid_matrix, "shapely BEV x height IoU + linear_sum_assignment"),
        "keypoints": (_oks_matrix, "pycocotools computeOks + linear_sum_assignment"),
    }[table.task]
    images = _rows_by_item(table, n)

    def run() -> dict[tuple[int, int], list[float]]:
        totals: dict[tuple[int, int], list[float]] = {}
        for rows in images:
            for i, (ka, a) in enumerate(rows):
                for kb, b in rows[i + 1 :]:
                    tp = 0
                    if len(a) and len(b):
                        matrix = matrix_of(a, b)
                        r, c = linear_sum_assignment(matrix, maximize=True)
                        tp = int(np.sum(matrix[r, c] >= 0.5 - 1e-12))
                    total = totals.setdefault((ka, kb), [0.0, 0.0])
                    total[0] += 2.0 * tp
                    total[1] += len(a) + len(b)
        return totals

    wall, cpu, totals = _timed(run)
    f1 = {pair: num / den for pair, (num, den) in totals.items() if den}
    return {"wall_s": wall, "cpu_s": cpu, "n": n, "f1_50": f1, "name": name}
