"""The structured payload of a table: the ``payload`` column, or parsed from the labels.

Platform readers fill the ``payload`` column (see :class:`AnnotationTable.payload`). A
generic file read with ``task=...`` has no payload: its label column then holds the
structured label as JSON (a list of strings for multi-label, a list of
``{"start", "end", "label"}`` objects for spans - or Label Studio's own region shape
``{"start", "end", "text", "labels": [...]}``, one span per label -, ...; plain text for
the text task; an empty cell of a list-valued task is ``[]``, no regions), and
it is parsed here once per *distinct* label, then expanded to the rows with ``take``.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pyarrow as pa

from labelaudit.exceptions import InputError
from labelaudit.table.table import AnnotationTable

__all__ = ["PAYLOAD_TYPES", "identity_codes", "payload_of"]

_SPAN = pa.struct([("start", pa.int64()), ("end", pa.int64()), ("label", pa.string())])
_BOX = pa.struct(
    [
        ("x", pa.float64()),
        ("y", pa.float64()),
        ("width", pa.float64()),
        ("height", pa.float64()),
        ("label", pa.string()),
    ]
)
_RANK = pa.struct([("id", pa.string()), ("rank", pa.float64())])
_POLYGON = pa.struct([("points", pa.list_(pa.list_(pa.float64()))), ("label", pa.string())])
#: Cuboid fields: centre (x, y, z), size along / across the heading and vertical, yaw.
CUBOID_FIELDS = ("x", "y", "z", "length", "width", "height", "yaw")
_CUBOID = pa.struct([*((k, pa.float64()) for k in CUBOID_FIELDS), ("label", pa.string())])
_KEYPOINTS = pa.struct(
    [("keypoints", pa.list_(pa.float64())), ("area", pa.float64()), ("label", pa.string())]
)

#: The payload type of each structured task (the structured-label contract).
PAYLOAD_TYPES: dict[str, pa.DataType] = {
    "multilabel": pa.list_(pa.string()),
    "spans": pa.list_(_SPAN),
    "boxes": pa.list_(_BOX),
    "ranking": pa.list_(_RANK),
    "text": pa.string(),
    "polygons": pa.list_(_POLYGON),
    "cuboids": pa.list_(_CUBOID),
    "keypoints": pa.list_(_KEYPOINTS),
}
_EXAMPLES = {
    "multilabel": '["label_a", "label_b"]',
    "spans": '[{"start": 0, "end": 5, "label": "PER"}]',
    "boxes": '[{"x": 10, "y": 20, "width": 30, "height": 40, "label": "car"}]',
    "ranking": '[{"id": "a", "rank": 1}, {"id": "b", "rank": 2}] or ["a", "b"]',
    "polygons": '[{"points": [[10, 20], [40, 20], [25, 50]], "label": "car"}]',
    "cuboids": '[{"x": 1, "y": 2, "z": 0.5, "length": 4, "width": 2, "height": 1.5, '
    '"yaw": 0.3, "label": "car"}]',
    "keypoints": '[{"keypoints": [x1, y1, v1, x2, y2, v2, ...], "label": "person"}]',
}


def payload_of(table: AnnotationTable) -> pa.Array:
    """The payload of a structured table as one array of the contract type.

    Parameters
    ----------
    table : AnnotationTable
        A table whose ``task`` is one of :data:`PAYLOAD_TYPES`.

    Returns
    -------
    pyarrow.Array, length n_ratings

    Raises
    ------
    InputError
        The payload column has the wrong type, a label cannot be parsed, a span ends
        before it starts, or a box has a negative width or height (the first bad row is
        named).
    """
    return _checked(_payload(table), table)


def _payload(table: AnnotationTable) -> pa.Array:
    task = table.task
    expected = PAYLOAD_TYPES[task]
    column = table.payload
    if column is not None:
        array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        if array.type == expected:
            return array
        try:
            return array.cast(expected)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise InputError(
                "payload column of the wrong type",
                source=table.source,
                field="payload",
                expected=f"{expected} for task {task}",
                actual=str(array.type),
                hint="read the file with its platform reader, or fix the payload column",
            ) from None
    names = [str(c) for c in table.categories]
    if task == "text":
        distinct = pa.array(names, type=pa.string())
    else:
        distinct = pa.array([_parse(task, n, table) for n in names], type=expected)
    return distinct.take(pa.array(table.label_codes))


#: task -> (first field, second field, what a valid element satisfies)
_BAD = {
    "spans": ("start", "end", "0 <= start <= end < 2**31"),
    "boxes": ("width", "height", "width >= 0 and height >= 0"),
}


def _checked(array: pa.Array, table: AnnotationTable) -> pa.Array:
    """``array`` unless an element is impossible (a span ending before its start, a box
    of negative size): then an InputError naming the first such row and field."""
    if table.task in _SHAPE_CHECKS:
        return _SHAPE_CHECKS[table.task](array, table)
    if table.task not in _BAD:
        return array
    import pyarrow.compute as pc

    first, second, expected = _BAD[table.task]
    values = pc.list_flatten(array)
    a = pc.struct_field(values, first)
    b = pc.struct_field(values, second)
    if table.task == "spans":  # offsets are packed into 64-bit keys: 0 <= start, end < 2**31
        bad_a = pc.fill_null(pc.less(a, 0), False)
        bad_b = pc.fill_null(pc.or_(pc.less(b, a), pc.greater_equal(b, 2**31)), False)
        bad = pc.or_(bad_a, bad_b)
    else:
        bad_a = pc.fill_null(pc.less(a, 0), False)
        bad = pc.or_(bad_a, pc.fill_null(pc.less(b, 0), False))
        field = "width" if pc.any(bad_a).as_py() else "height"
    if not pc.any(bad).as_py():
        return array
    element = int(np.flatnonzero(bad.to_numpy(zero_copy_only=False))[0])
    row = int(pc.list_parent_indices(array).to_numpy(zero_copy_only=False)[element])
    if table.task == "boxes":
        field = "width" if bad_a[element].as_py() else "height"
    else:
        field = "start" if bad_a[element].as_py() else "end"
    actual = {k: values[element].as_py()[k] for k in (first, second)}
    noun = "span" if table.task == "spans" else "box"
    raise InputError(
        f"impossible {noun} in the label",
        source=table.source,
        line=row + 1,
        unit="row",
        field=f"label.{field}",
        expected=expected,
        actual=", ".join(f"{k}={v}" for k, v in actual.items()),
        hint=f"fix the {noun} or drop it from the export",
    )


def _refuse(
    array: pa.Array, table: AnnotationTable, bad: np.ndarray, field: str, expected: str, noun: str
) -> None:
    """InputError at the row of the first element flagged in ``bad`` (elements of the
    flattened list payload), naming ``label.{field}`` and the element as it is."""
    import pyarrow.compute as pc

    if not bad.any():
        return
    element = int(np.flatnonzero(bad)[0])
    row = int(pc.list_parent_indices(array).to_numpy(zero_copy_only=False)[element])
    value = pc.list_flatten(array)[element].as_py()
    shown = {k: v for k, v in value.items() if k != "label"} if isinstance(value, dict) else value
    raise InputError(
        f"impossible {noun} in the label",
        source=table.source,
        line=row + 1,
        unit="row",
        field=f"label.{field}",
        expected=expected,
        actual=json.dumps(shown)[:80],
        hint=f"fix the {noun} or drop it from the export",
    )


def _numbers(values: pa.Array) -> np.ndarray:
    import pyarrow.compute as pc

    return np.asarray(
        pc.fill_null(pc.cast(values, pa.float64()), np.nan).to_numpy(zero_copy_only=False),
        dtype=np.float64,
    )


def _check_polygons(array: pa.Array, table: AnnotationTable) -> pa.Array:
    """Every polygon has >= 3 points, each two finite numbers."""
    import pyarrow.compute as pc

    points = pc.struct_field(pc.list_flatten(array), "points")
    n_points = np.asarray(pc.fill_null(pc.list_value_length(points), 0), dtype=np.int64)
    flat = pc.list_flatten(points)
    width = np.asarray(pc.fill_null(pc.list_value_length(flat), 0), dtype=np.int64)
    finite = np.isfinite(_numbers(pc.list_flatten(flat)))
    coords_ok = np.ones(len(flat), dtype=bool)
    if width.size:  # a point is bad when it is not two finite numbers
        owner = np.repeat(np.arange(width.size), width)
        coords_ok = (width == 2) & (np.bincount(owner, ~finite, minlength=width.size) == 0)
    point_owner = np.repeat(np.arange(n_points.size), n_points)
    bad_point = np.bincount(point_owner, ~coords_ok, minlength=n_points.size) > 0
    _refuse(array, table, n_points < 3, "points", "at least 3 points [x, y]", "polygon")
    _refuse(array, table, bad_point, "points", "points as [x, y] finite numbers", "polygon")
    return array


def _check_cuboids(array: pa.Array, table: AnnotationTable) -> pa.Array:
    """Every cuboid has finite coordinates and a non-negative size."""
    import pyarrow.compute as pc

    values = pc.list_flatten(array)
    for name in CUBOID_FIELDS:
        v = _numbers(pc.struct_field(values, name))
        if name in ("length", "width", "height"):
            _refuse(array, table, ~(v >= 0) | ~np.isfinite(v), name, f"{name} >= 0", "cuboid")
        _refuse(array, table, ~np.isfinite(v), name, f"{name} a finite number", "cuboid")
    return array


def _check_keypoints(array: pa.Array, table: AnnotationTable) -> pa.Array:
    """Every keypoint list is [x, y, v] * K with the table's one K (the first list's)."""
    import pyarrow.compute as pc

    values = pc.list_flatten(array)
    length = np.asarray(
        pc.fill_null(pc.list_value_length(pc.struct_field(values, "keypoints")), 0), np.int64
    )
    k = int(length[0]) if length.size else 0
    expected = f"a list [x1, y1, v1, x2, y2, v2, ...] of length {k} (3 per keypoint, "
    expected += "the same in every annotation)"
    _refuse(
        array,
        table,
        (length != k) | (length % 3 != 0) | (length == 0),
        "keypoints",
        expected,
        "keypoint set",
    )
    flat = _numbers(pc.list_flatten(pc.struct_field(values, "keypoints")))
    owner = np.repeat(np.arange(length.size), length)
    bad = np.bincount(owner, ~np.isfinite(flat), minlength=length.size) > 0
    _refuse(array, table, bad, "keypoints", "finite numbers", "keypoint set")
    area = _numbers(pc.struct_field(values, "area"))
    _refuse(array, table, area < 0, "area", "area >= 0 (or absent)", "keypoint set")
    return array


_SHAPE_CHECKS = {
    "polygons": _check_polygons,
    "cuboids": _check_cuboids,
    "keypoints": _check_keypoints,
}


def identity_codes(table: AnnotationTable) -> np.ndarray:
    """Row codes equal exactly when two annotations are identical, shape (n_ratings,).

    The label codes (canonical JSON) for tables with a payload column; for generic files,
    distinct labels are parsed and grouped by the canonical JSON of their normalised
    value (so ``["b", "a"]`` and ``["a","b"]`` are the same multi-label annotation).
    """
    if table.payload is not None or table.task == "text":
        return table.label_codes
    keys = [
        json.dumps(_parse(table.task, str(n), table), sort_keys=True, separators=(",", ":"))
        for n in table.categories.tolist()
    ]
    _, remap = np.unique(np.asarray(keys, dtype=object).astype(str), return_inverse=True)
    return np.asarray(remap, dtype=np.int64)[table.label_codes]


def _parse(task: str, text: str, table: AnnotationTable) -> Any:
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = None
    parsed = _shape(task, value) if isinstance(value, list) else None
    if parsed is None:
        row = int(np.flatnonzero(table.categories[table.label_codes] == text)[0])
        raise InputError(
            f"label is not a {task} annotation",
            source=table.source,
            line=row + 1,
            unit="row",
            field="label",
            expected=f"JSON like {_EXAMPLES[task]}",
            actual=text[:80],
            hint=f"write the label as JSON, or drop --task {task}",
        )
    return parsed


#: Label Studio's label lists of region values, by control tag.
_LS_LABELS = ("labels", "polygonlabels", "keypointlabels", "rectanglelabels")


def _labels(region: dict[str, Any]) -> list[str]:
    """A region's labels: ``label``, or Label Studio's ``labels`` list (one span per label,
    its ``text`` ignored; ``polygonlabels`` likewise); KeyError/TypeError when none holds
    a label."""
    if "label" in region:
        return [str(region["label"])]
    key = next((k for k in _LS_LABELS if k in region), "labels")
    labels = region[key]
    if not isinstance(labels, list) or not labels:
        raise TypeError("labels must be a non-empty list")
    return [str(label) for label in labels]


def _shape(task: str, value: list[Any]) -> list[Any] | None:
    """The JSON value in the contract's shape, or None when it does not fit."""
    try:
        if task == "multilabel":
            if not all(isinstance(v, str | int | float) for v in value):
                return None
            return sorted({str(v) for v in value})
        if task == "ranking" and all(isinstance(v, str) for v in value):
            return [{"id": v, "rank": float(i + 1)} for i, v in enumerate(value)]
        if not all(isinstance(v, dict) for v in value):
            return None
        if task == "spans":
            spans = [(int(v["start"]), int(v["end"]), lab) for v in value for lab in _labels(v)]
            return [{"start": s, "end": e, "label": lab} for s, e, lab in sorted(spans)]
        if task == "boxes":
            keys = ("x", "y", "width", "height")
            return [{**{k: float(v[k]) for k in keys}, "label": str(v["label"])} for v in value]
        if task in _SHAPES:
            return [shaped for v in value for shaped in _SHAPES[task](v)]
        return [{"id": str(v["id"]), "rank": float(v["rank"])} for v in value]
    except (KeyError, TypeError, ValueError):
        return None


def _polygon(v: dict[str, Any]) -> list[dict[str, Any]]:
    """``{"points": [[x, y], ...], "label"}`` (or Label Studio's ``polygonlabels``)."""
    points = [[float(c) for c in point] for point in v["points"]]
    return [{"points": points, "label": label} for label in _labels(v)]


#: Short names of the cuboid size fields accepted on input (``l``, ``w``, ``h``).
_CUBOID_ALIASES = {"length": "l", "width": "w", "height": "h"}


def _cuboid(v: dict[str, Any]) -> list[dict[str, Any]]:
    """``{"x", "y", "z", "length"|"l", "width"|"w", "height"|"h", "yaw", "label"}``."""
    out = {k: float(v[k] if k in v else v[_CUBOID_ALIASES[k]]) for k in CUBOID_FIELDS}
    return [{**out, "label": label} for label in _labels(v)]


def _keypoints(v: dict[str, Any]) -> list[dict[str, Any]]:
    """A COCO keypoint annotation: ``{"keypoints": [x, y, v, ...], "area"?, "label"}``
    (``category_id`` stands for the label when there is none)."""
    points = [float(c) for c in v["keypoints"]]
    area = None if v.get("area") is None else float(v["area"])
    label = v if "label" in v or any(k in v for k in _LS_LABELS) else {"label": v["category_id"]}
    return [{"keypoints": points, "area": area, "label": lab} for lab in _labels(label)]


_SHAPES = {"polygons": _polygon, "cuboids": _cuboid, "keypoints": _keypoints}
