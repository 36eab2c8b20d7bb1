"""Label Studio region values shared by the reader: labels, polygons, keypoint sets.

Coordinates of image regions are percent of ``original_width`` / ``original_height``;
they become pixels here.
"""

from __future__ import annotations

from typing import Any

from labelaudit.io._common import Reject, as_number
from labelaudit.io._ls_config import Control
from labelaudit.io._payload import polygons_value

__all__ = ["keypoint_set", "labels_of", "polygons"]


def labels_of(value: dict[str, Any], attribute: str, control: Control | None) -> list[str]:
    """The region's labels under ``attribute``, checked against the control's labels."""
    labels = value.get(attribute)
    if not isinstance(labels, list) or not labels:
        raise Reject("region without label", f"{attribute}={labels!r}")
    if control is not None and control.labels:
        unknown = [label for label in labels if label not in control.labels]
        if unknown:
            raise Reject("unknown label", f"{unknown[0]!r} not in the label config")
    return [str(label) for label in labels]


def polygons(regions: list[dict[str, Any]], control: Control | None, _: Any) -> Any:
    """Polygon regions: ``points`` in percent of the original image size -> pixels."""
    polygons: list[tuple[list[list[float]], str]] = []
    for region in regions:
        value = region["value"]
        if region.get("original_width") is None or region.get("original_height") is None:
            raise Reject("polygon without original_width/original_height", region.get("id", ""))
        width_px = as_number(region.get("original_width"), "original_width")
        height_px = as_number(region.get("original_height"), "original_height")
        points = value.get("points")
        if not isinstance(points, list) or len(points) < 3:
            raise Reject("polygon with fewer than 3 points", repr(points)[:80])
        if not all(isinstance(p, list) and len(p) == 2 for p in points):
            raise Reject("malformed polygon point", repr(points)[:80])
        pixels = [
            [as_number(x, "points") * width_px / 100, as_number(y, "points") * height_px / 100]
            for x, y in points
        ]
        labels = labels_of(value, "polygonlabels", control)
        polygons.extend((pixels, label) for label in labels)
    return polygons_value(polygons)


def keypoint_set(regions: list[dict[str, Any]], control: Control | None, _: Any) -> Any:
    """One keypoint set per annotation from Label Studio's one-point regions.

    Label Studio has no person instances: every ``keypointlabels`` region of an annotation
    is one named point, so the annotation becomes one COCO-style set
    ``{"keypoints": [x, y, v] * K, "area": None, "label": control name}``, keypoint i being
    the i-th label of the KeyPointLabels control (config order: the label config is
    needed), v = 2 for a marked point and 0, 0, 0 for a name not marked.
    """
    if control is None or not control.labels:
        raise Reject(
            "keypoints without the label config",
            "pass --label-config: the KeyPointLabels label order is the keypoint order",
        )
    triples = [0.0] * (3 * len(control.labels))
    for region in regions:
        value = region["value"]
        if region.get("original_width") is None or region.get("original_height") is None:
            raise Reject("keypoint without original_width/original_height", region.get("id", ""))
        width_px = as_number(region.get("original_width"), "original_width")
        height_px = as_number(region.get("original_height"), "original_height")
        for label in labels_of(value, "keypointlabels", control):
            k = control.labels.index(label)
            if triples[3 * k + 2]:
                raise Reject("keypoint marked twice", label)
            x, y = as_number(value.get("x"), "x"), as_number(value.get("y"), "y")
            triples[3 * k : 3 * k + 3] = [x * width_px / 100, y * height_px / 100, 2.0]
    return [{"keypoints": triples, "area": None, "label": control.name}]
