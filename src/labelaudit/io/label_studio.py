"""Label Studio exports: JSON (one object per task) and JSON_MIN (one object per annotation).

Result types read: ``choices`` (single and multiple), ``labels`` (character spans, end
exclusive), ``rectanglelabels`` and ``polygonlabels`` (``points`` [[x, y], ...]; both in
percent of the original size -> pixels), ``keypointlabels`` (one set per annotation, see
``_ls_regions.keypoint_set``), ``rating``, ``pairwise``, ``taxonomy`` (each selected
path as ``A/B``), ``textarea`` and ``ranker``.
Cancelled annotations (``was_cancelled``) are skipped and counted. ``completed_by`` may be
an int (Community) or an object (Enterprise: its ``email``, else its ``id``). Shapes checked
against label-studio-sdk 2.x (``label_interface.control_tags``, ``converter``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from labelaudit.io._collect import Collector
from labelaudit.io._common import (
    MISSING,
    Reject,
    as_int,
    as_number,
    check_box,
    check_span,
    key_text,
    lookup,
)
from labelaudit.io._ls_config import Control, LabelConfig
from labelaudit.io._ls_regions import keypoint_set, labels_of, polygons
from labelaudit.io._payload import (
    boxes_value,
    choices_value,
    ranking_value,
    spans_value,
)
from labelaudit.io._stream import iter_records

__all__ = ["read_label_studio"]

_KIND = {
    "choices": "choices",
    "labels": "spans",
    "rectanglelabels": "boxes",
    "polygonlabels": "polygons",
    "keypointlabels": "keypoints",
    "rating": "rating",
    "pairwise": "pairwise",
    "taxonomy": "multilabel",
    "textarea": "text",
    "ranker": "ranking",
}
#: JSON_MIN drops the region ``type``: the value's label attribute tells it (SDK order).
_ATTRIBUTE_TYPES = (
    ("rectanglelabels", "rectanglelabels"),
    ("polygonlabels", "polygonlabels"),
    ("keypointlabels", "keypointlabels"),
    ("labels", "labels"),
    ("choices", "choices"),
    ("rating", "rating"),
    ("selected", "pairwise"),
    ("taxonomy", "taxonomy"),
    ("ranker", "ranker"),
    ("text", "textarea"),
)
_MIN_META = {"id", "annotator", "annotation_id", "created_at", "updated_at", "lead_time"}
_MIN_META |= {"agreement", "history", "drafts", "predictions"}


@dataclass
class _Context:
    config: LabelConfig | None
    task_key: str | None
    batch: str
    minimal: bool
    control: str | None
    include_models: bool = False
    users: dict[str, str] | None = None
    n_predictions: int = 0
    n_utf16: int = 0

    def declared(self, name: str) -> Control | None:
        return self.config.controls.get(name) if self.config else None

    def item(self, task: dict[str, Any]) -> str | None:
        key = self.task_key or "id"
        if self.minimal and key.startswith("data."):
            key = key[5:]
        return key_text(lookup(task, key))

    def text(self, data: Any) -> str | None:
        """The text spans point into: the Labels control's object field, else data.text."""
        if not isinstance(data, dict):
            return None
        if self.config:
            for control in self.config.controls.values():
                if control.type == "labels" and control.to_name:
                    field = self.config.data_field(control.to_name[0])
                    if field and isinstance(data.get(field), str):
                        return str(data[field])
        value = data.get("text")
        return value if isinstance(value, str) else None


# ---------------------------------------------------------------- region values
def _choices(regions: list[dict[str, Any]], control: Control | None, _: Any) -> Any:
    chosen: list[str] = []
    for region in regions:
        chosen.extend(labels_of(region["value"], "choices", control))
    return choices_value(chosen)


def _spans(
    regions: list[dict[str, Any]], control: Control | None, text: Any, issues: list[str]
) -> Any:
    """Span regions as ``(start, end, label)``; quoted-text problems appended to ``issues``.

    Each issue is ``"utf16"`` (offsets were UTF-16 code units, converted) or a mismatch
    description (offsets kept as exported).
    """
    spans: list[tuple[int, int, str]] = []
    length = len(text) if isinstance(text, str) else None
    for region in regions:
        value = region["value"]
        start, end = value.get("start"), value.get("end")
        if type(start) is not int or type(end) is not int:
            start, end = as_int(start, "start"), as_int(end, "end")
        quoted = value.get("text")
        if length is not None and isinstance(quoted, str) and text[start:end] != quoted:
            converted = _utf16_offsets(text, start, end, quoted)
            if converted is None:
                issues.append(
                    f"start={start}, end={end}: region text {quoted!r}, task text there "
                    f"{text[start:end]!r}"
                )
            else:
                start, end = converted
                issues.append("utf16")
        if not (0 <= start < end and (length is None or end <= length)):
            check_span(start, end, text)
        labels = value.get("labels")
        if control is not None or type(labels) is not list or not labels:
            labels = labels_of(value, "labels", control)
        spans.extend((start, end, str(label)) for label in labels)
    return spans_value(spans)


def _utf16_offsets(text: str, start: int, end: int, quoted: str) -> tuple[int, int] | None:
    """Code-point offsets when ``start``/``end`` are UTF-16 code units around ``quoted``.

    Label Studio 1.23.2's editor writes code-point offsets (verified in Chromium,
    ``tests/test_report_browser.py``); exports from editors that counted JavaScript string
    units (UTF-16) run ahead after a character outside the Basic Multilingual Plane (most
    emoji). Returns the converted offsets when the quoted text sits at the UTF-16
    offsets, else ``None``.
    """
    units = np.fromiter((2 if ord(c) > 0xFFFF else 1 for c in text), np.int64, len(text))
    ends = np.cumsum(units)
    first = int(np.searchsorted(ends - units, start))
    last = int(np.searchsorted(ends, end))
    if first >= len(text) or last >= len(text):
        return None
    if ends[first] - units[first] != start or ends[last] != end:
        return None
    return (first, last + 1) if text[first : last + 1] == quoted else None


def _boxes(regions: list[dict[str, Any]], control: Control | None, _: Any) -> Any:
    boxes: list[tuple[float, float, float, float, str]] = []
    for region in regions:
        value = region["value"]
        if region.get("original_width") is None or region.get("original_height") is None:
            raise Reject("box without original_width/original_height", region.get("id", ""))
        width_px = as_number(region.get("original_width"), "original_width")
        height_px = as_number(region.get("original_height"), "original_height")
        if as_number(value.get("rotation", 0) or 0, "rotation") != 0:
            raise Reject("rotated box", f"rotation={value.get('rotation')}")
        x, y, w, h = (as_number(value.get(k), k) for k in ("x", "y", "width", "height"))
        check_box(x, y, w, h, (100.0, 100.0))
        pixels = (x * width_px / 100, y * height_px / 100, w * width_px / 100, h * height_px / 100)
        labels = labels_of(value, "rectanglelabels", control)
        boxes.extend((*pixels, label) for label in labels)
    return boxes_value(boxes)


def _rating(regions: list[dict[str, Any]], control: Control | None, _: Any) -> Any:
    rating = as_int(regions[-1]["value"].get("rating"), "rating")
    maximum = control.max_rating if control is not None else None
    if maximum is not None and not 1 <= rating <= maximum:
        raise Reject("unknown label", f"rating {rating} outside 1..{maximum}")
    return str(rating)


def _taxonomy(regions: list[dict[str, Any]], control: Control | None, _: Any) -> Any:
    sep = control.path_separator if control else "/"
    paths: list[str] = []
    for region in regions:
        selected = region["value"].get("taxonomy")
        if not isinstance(selected, list) or not all(isinstance(p, list) for p in selected):
            raise Reject("malformed taxonomy value", repr(selected))
        paths.extend(sep.join(str(step) for step in path) for path in selected)
    if control is not None and control.labels:
        unknown = [path for path in paths if path not in control.labels]
        if unknown:
            raise Reject("unknown label", f"{unknown[0]!r} not in the label config")
    return choices_value(paths)


def _textarea(regions: list[dict[str, Any]], control: Control | None, _: Any) -> Any:
    lines: list[str] = []
    for region in regions:
        text = region["value"].get("text")
        if isinstance(text, str):
            text = [text]
        if not isinstance(text, list):
            raise Reject("malformed textarea value", repr(text))
        lines.extend(str(line) for line in text)
    return "\n".join(lines)


def _ranker(regions: list[dict[str, Any]], control: Control | None, _: Any) -> Any:
    ranker = regions[-1]["value"].get("ranker")
    if not isinstance(ranker, dict) or not ranker:
        raise Reject("malformed ranker value", repr(ranker))
    name = regions[-1].get("from_name")
    if len(ranker) > 1 and name not in ranker:
        raise Reject("bucketed ranking (several buckets)", ", ".join(map(str, ranker)))
    order = ranker[name] if name in ranker else next(iter(ranker.values()))
    if not isinstance(order, list):
        raise Reject("malformed ranker value", repr(order))
    return ranking_value(order)


_VALUES: dict[str, Callable[[list[dict[str, Any]], Control | None, Any], Any]] = {
    "choices": _choices,
    "rectanglelabels": _boxes,
    "polygonlabels": polygons,
    "keypointlabels": keypoint_set,
    "rating": _rating,
    "taxonomy": _taxonomy,
    "textarea": _textarea,
    "ranker": _ranker,
}


def _pairwise(
    regions: list[dict[str, Any]], control: Control | None, ctx: _Context, data: Any
) -> Any:
    selected = regions[-1]["value"].get("selected")
    if selected not in ("left", "right"):
        raise Reject("unknown label", f"pairwise selected={selected!r}")
    first, second = "left", "right"
    names = control.to_name if control else tuple(str(regions[-1].get("to_name", "")).split(","))
    if len(names) == 2 and isinstance(data, dict):
        fields = [(ctx.config.data_field(n) if ctx.config else n) or n for n in names]
        shown = [data.get(field) for field in fields]
        if all(isinstance(s, str) for s in shown):
            first, second = str(shown[0]), str(shown[1])
    return (first, second, "first" if selected == "left" else "second")


# ---------------------------------------------------------------- annotations
def _annotator(
    annotation: dict[str, Any], col: Collector, record: int, ctx: _Context
) -> str | None:
    who = annotation.get("completed_by", MISSING)
    if isinstance(who, dict):
        who = who.get("email") or who.get("id", MISSING)
    if who is MISSING or who is None:
        who = annotation.get("last_created_by", MISSING)
        if who is MISSING or who is None:
            col.skip(record, "missing completed_by", f"annotation {annotation.get('id')}")
            return None
        col.note("completed_by missing: annotator taken from last_created_by")
    name = key_text(who)
    if ctx.users is not None and name is not None:
        return ctx.users.get(name, name)
    return name


def _group(result: list[Any]) -> tuple[dict[str, list[dict[str, Any]]], tuple[Any, Any]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    size: tuple[Any, Any] = (None, None)
    for region in result:
        if not isinstance(region, dict) or not isinstance(region.get("value"), dict):
            raise Reject("malformed result region", repr(region)[:80])
        groups.setdefault(str(region.get("from_name")), []).append(region)
        if size[0] is None and "original_width" in region:
            size = (region.get("original_width"), region.get("original_height"))
    return groups, size


def _region_type(regions: list[dict[str, Any]], control: Control | None) -> str:
    kind = regions[0].get("type")
    if isinstance(kind, str):
        return kind.lower()
    if control is not None:
        return control.type
    value = regions[0]["value"]
    for attribute, name in _ATTRIBUTE_TYPES:
        if attribute in value:
            return name
    return next((k for k in value if k.endswith("labels")), "unknown")


@dataclass
class _Task:
    """The task an annotation belongs to: its record number, object and data row."""

    record: int
    value: dict[str, Any]
    row: int


def _annotation(col: Collector, task: _Task, annotation: Any, ctx: _Context) -> None:
    record = task.record
    if not isinstance(annotation, dict):
        col.skip(record, "malformed annotation", type(annotation).__name__)
        return
    if annotation.get("was_cancelled") or annotation.get("skipped"):
        col.skip(record, "cancelled", f"annotation {annotation.get('id')}")
        return
    result = annotation.get("result", MISSING)
    if result is MISSING or result is None:
        col.skip(record, "missing result", f"annotation {annotation.get('id')}")
        return
    if not isinstance(result, list):
        col.skip(record, "result is not a list", type(result).__name__)
        return
    try:
        groups, size = _group(result)
    except Reject as reject:
        col.skip(record, reject.reason, reject.detail)
        return
    _emit(col, task, annotation, groups, size, ctx)


def _prediction(col: Collector, task: _Task, prediction: Any, ctx: _Context) -> None:
    """A prediction as the annotation of a model annotator named by its model_version."""
    if not isinstance(prediction, dict):
        col.note(
            "predictions exported as ids only were left out: use a snapshot export or "
            "labelaudit pull for their results"
        )
        return
    version = prediction.get("model_version") or "prediction"
    annotation = {
        "id": f"prediction-{prediction.get('id', '')}",
        "completed_by": str(version),
        "created_at": prediction.get("created_at"),
        "result": prediction.get("result"),
        "kind": "model",
    }
    users, ctx.users = ctx.users, None
    try:
        _annotation(col, task, annotation, ctx)
    finally:
        ctx.users = users


def _emit(
    col: Collector,
    task: _Task,
    annotation: dict[str, Any],
    groups: dict[str, list[dict[str, Any]]],
    size: tuple[Any, Any],
    ctx: _Context,
) -> None:
    record = task.record
    annotator = _annotator(annotation, col, record, ctx)
    item = ctx.item(task.value)
    if annotator is None:
        return
    if item is None:
        col.skip(record, "missing task key", ctx.task_key or "id")
        return
    data = task.value.get("data", task.value)
    text = ctx.text(data)
    ann = col.begin(
        record,
        item,
        annotator,
        created_at=annotation.get("created_at"),
        duration_s=annotation.get("lead_time"),
        task_id=task.value.get("id"),
        annotation_id=annotation.get("id"),
        batch=ctx.batch,
        text=text,
        image_width=size[0],
        image_height=size[1],
        kind=annotation.get("kind", "human"),
        ground_truth=annotation.get("ground_truth"),
        task_row=task.row,
        **_prelabel(task.value, annotation),
    )
    for name, regions in groups.items():
        control = ctx.declared(name)
        kind_name = _region_type(regions, control)
        kind = _KIND.get(kind_name)
        if kind is None:
            col.unsupported_control(name, kind_name)
            continue
        col.saw_control(name, kind_name)
        if ctx.control is not None and name != ctx.control:
            continue
        try:
            value = _value(kind_name, regions, control, ctx, data, text, col, record, name)
        except Reject as reject:
            col.reject(ann, name, kind, record, reject.reason, reject.detail)
            continue
        col.add(ann, name, kind, value)


def _prelabel(task: dict[str, Any], annotation: dict[str, Any]) -> dict[str, Any]:
    """The prediction an annotation started from: ``parent_prediction`` id, model version.

    Label Studio records the id in the annotation's ``parent_prediction`` (null when the
    annotator started from an empty form); the version is the ``model_version`` of that
    prediction in the task's ``predictions`` list, else of the annotation's ``prediction``
    object (the prediction shown when the annotation was made).
    """
    parent = annotation.get("parent_prediction")
    if isinstance(parent, dict):  # an expanded prediction object
        parent = parent.get("id")
    if parent is None or isinstance(parent, bool):
        return {}
    version = None
    for prediction in task.get("predictions") or ():
        if isinstance(prediction, dict) and str(prediction.get("id")) == str(parent):
            version = prediction.get("model_version")
            break
    shown = annotation.get("prediction")
    if version is None and isinstance(shown, dict):
        version = shown.get("model_version")
    return {"parent_prediction": parent, "prelabel_model_version": version or "prediction"}


def _value(
    kind_name: str,
    regions: list[dict[str, Any]],
    control: Control | None,
    ctx: _Context,
    data: Any,
    text: Any,
    col: Collector,
    record: int,
    name: str,
) -> Any:
    if kind_name == "pairwise":
        return _pairwise(regions, control, ctx, data)
    if kind_name != "labels":
        return _VALUES[kind_name](regions, control, text)
    issues: list[str] = []
    value = _spans(regions, control, text, issues)
    for issue in issues:
        if issue == "utf16":
            ctx.n_utf16 += 1
        else:
            col.text_mismatch(record, name, issue)
    return value


def _minimal(col: Collector, record: int, row: dict[str, Any], ctx: _Context) -> None:
    """One JSON_MIN row: task data, one key per control, annotator and timing fields."""
    annotation = {
        "id": row.get("annotation_id"),
        "completed_by": row.get("annotator"),
        "created_at": row.get("created_at"),
        "lead_time": row.get("lead_time"),
    }
    groups: dict[str, list[dict[str, Any]]] = {}
    size: tuple[Any, Any] = (None, None)
    data: dict[str, Any] = {}
    for key, value in row.items():
        control = ctx.declared(key)
        if key in _MIN_META or (ctx.config is not None and control is None):
            if key not in _MIN_META:
                data[key] = value
            continue
        regions = _min_regions(key, value, control, ctx)
        if regions:
            groups[key] = regions
            if size[0] is None and "original_width" in regions[0]:
                size = (regions[0]["original_width"], regions[0].get("original_height"))
        else:
            data[key] = value
    task = _Task(record, row, col.task_data(data))
    _emit(col, task, annotation, groups, size, ctx)


def _min_regions(
    key: str, value: Any, control: Control | None, ctx: _Context
) -> list[dict[str, Any]]:
    if isinstance(value, str) and (control is not None or key == ctx.control):
        attribute = "text" if control is not None and control.type == "textarea" else "choices"
        kind = "textarea" if attribute == "text" else "choices"
        return [{"from_name": key, "type": kind, "value": {attribute: [value]}}]
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value):
        return []
    regions = []
    for entry in value:
        region: dict[str, Any] = {"from_name": key, "value": entry}
        for extra in ("original_width", "original_height"):
            if extra in entry:
                region[extra] = entry[extra]
        regions.append(region)
    if control is None and _region_type(regions, None) == "unknown":
        return []
    return regions


def read_label_studio(
    paths: list[Path],
    col: Collector,
    *,
    minimal: bool,
    task_key: str | None,
    config: LabelConfig | None,
    control: str | None,
    include_models: bool = False,
    users: dict[str, str] | None = None,
) -> None:
    """Stream Label Studio JSON (``minimal=False``) or JSON_MIN files into the collector.

    Several files are merged on ``task_key`` (a dotted path such as ``data.text``); each
    file's name goes to the ``batch`` column. Each task's ``data`` fields are kept
    (``data.<field>`` columns). With ``include_models``, each prediction becomes the
    annotation of a model annotator named by its ``model_version`` (``annotator_kind``
    ``model``); otherwise predictions are counted in a note. ``users`` maps exported ids
    (``completed_by``) to names.
    """
    ctx = _Context(config, task_key, "", minimal, control, include_models, users)
    for path in paths:
        ctx.batch = path.name
        for entry in iter_records(path):
            col.report.n_records += 1
            task = entry.value
            if not isinstance(task, dict):
                col.skip(entry.number, "record is not an object", type(task).__name__)
                continue
            if minimal:
                _minimal(col, entry.number, task, ctx)
                continue
            _task(col, _Task(entry.number, task, col.task_data(task.get("data"))), ctx)
    _notes(col, ctx)


def _task(col: Collector, task: _Task, ctx: _Context) -> None:
    annotations = task.value.get("annotations", task.value.get("completions", MISSING))
    if not isinstance(annotations, list):
        reason = "missing annotations" if annotations is MISSING else "malformed annotations"
        col.skip(task.record, reason, f"task {task.value.get('id')}")
        return
    for annotation in annotations:
        _annotation(col, task, annotation, ctx)
    predictions = task.value.get("predictions")
    if isinstance(predictions, list) and predictions:
        ctx.n_predictions += len(predictions)
        if ctx.include_models:
            for prediction in predictions:
                _prediction(col, task, prediction, ctx)


def _notes(col: Collector, ctx: _Context) -> None:
    if ctx.n_predictions and not ctx.include_models:
        col.note(
            f"{ctx.n_predictions} predictions left out (model annotators; pass "
            "--include-models to read them)"
        )
    if ctx.n_utf16:
        col.note(
            f"{ctx.n_utf16} span(s) had offsets in UTF-16 code units (written by an "
            "editor that counted JavaScript string units); converted to code points"
        )
