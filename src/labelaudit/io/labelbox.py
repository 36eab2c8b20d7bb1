"""Labelbox export v2 NDJSON: one line per data row, labels nested per project.

Each label is one annotation; its annotator is ``label_details.created_by`` (present only
when the export asked for ``label_details``). Objects: ``ImageBoundingBox`` (pixels:
top/left/width/height) -> control ``boxes``; ``TextEntity`` (``location.end`` is
INCLUSIVE, converted to exclusive) -> control ``spans``. Classifications become one control
per classification name: ``radio_answer`` -> categorical, ``checklist_answers`` ->
multilabel, ``text_answer`` -> text. Skipped labels (``performance_details.skipped``) are
counted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from labelaudit.io._collect import Collector, Options
from labelaudit.io._common import (
    Reject,
    as_int,
    as_number,
    check_box,
    check_span,
    key_text,
    lookup,
)
from labelaudit.io._payload import boxes_value, choices_value, spans_value
from labelaudit.io._stream import iter_records

__all__ = ["read"]

_OBJECTS = {"ImageBoundingBox": ("boxes", "boxes"), "TextEntity": ("spans", "spans")}


def _name(entry: dict[str, Any]) -> str:
    return str(entry.get("name") or entry.get("value") or "")


def _objects(objects: list[Any], size: tuple[Any, Any], text: str | None) -> dict[str, Any]:
    """Boxes and spans of one label, by control; Reject on the first bad object."""
    found: dict[str, list[Any]] = {}
    for obj in objects:
        kind = obj.get("annotation_kind") if isinstance(obj, dict) else None
        if kind == "ImageBoundingBox":
            box = obj.get("bounding_box") or {}
            left, top, w, h = (as_number(box.get(k), k) for k in ("left", "top", "width", "height"))
            check_box(left, top, w, h, size)
            found.setdefault("boxes", []).append((left, top, w, h, _name(obj)))
        elif kind == "TextEntity":
            location = obj.get("location") or {}
            start = as_int(location.get("start"), "location.start")
            end = as_int(location.get("end"), "location.end") + 1  # inclusive -> exclusive
            check_span(start, end, text)
            found.setdefault("spans", []).append((start, end, _name(obj)))
    return {
        name: (boxes_value(v) if name == "boxes" else spans_value(v)) for name, v in found.items()
    }


def _classification(entry: dict[str, Any]) -> tuple[str, Any] | None:
    if isinstance(entry.get("radio_answer"), dict):
        return "label", _name(entry["radio_answer"])
    if isinstance(entry.get("checklist_answers"), list):
        return "multilabel", choices_value(_name(a) for a in entry["checklist_answers"])
    if isinstance(entry.get("text_answer"), dict):
        return "text", str(entry["text_answer"].get("content", ""))
    return None


def _label(
    col: Collector, line: int, row: dict[str, Any], label: dict[str, Any], ctx: dict[str, Any]
) -> None:
    performance = label.get("performance_details") or {}
    if performance.get("skipped"):
        col.skip(line, "skipped", f"label {label.get('id')}")
        return
    details = label.get("label_details") or {}
    annotator: Any = details.get("created_by")
    if not annotator:
        annotator = "<unknown>"
        col.note("no label_details.created_by (export without label_details): annotator <unknown>")
    annotations = label.get("annotations")
    if not isinstance(annotations, dict):
        col.skip(line, "missing annotations", f"label {label.get('id')}")
        return
    ann = col.begin(
        line,
        ctx["item"],
        annotator,
        created_at=details.get("created_at"),
        duration_s=performance.get("seconds_to_create"),
        task_id=lookup(row, "data_row.id"),
        annotation_id=label.get("id"),
        batch=ctx["project"],
        text=ctx["text"],
        image_width=ctx["size"][0],
        image_height=ctx["size"][1],
    )
    objects = annotations.get("objects") or []
    kinds = {o.get("annotation_kind") for o in objects if isinstance(o, dict)}
    try:
        values = _objects(objects, ctx["size"], ctx["text"])
    except Reject as reject:
        values = {}
        for control, kind in (_OBJECTS[k] for k in kinds if k in _OBJECTS):
            col.reject(ann, control, kind, line, reject.reason, reject.detail)
    for name, value in values.items():
        col.add(ann, name, name, value)
    for other in kinds - set(_OBJECTS) - {None}:
        col.unsupported_control(str(other), str(other))
    for entry in annotations.get("classifications") or []:
        parsed = _classification(entry) if isinstance(entry, dict) else None
        if parsed is None:
            continue
        col.add(ann, _name(entry), parsed[0], parsed[1])


def read(paths: list[Path], col: Collector, *, task_key: str | None, options: Options) -> None:
    """Stream Labelbox export-v2 NDJSON files into the collector."""
    for path in paths:
        for entry in iter_records(path):
            col.report.n_records += 1
            row = entry.value
            if not isinstance(row, dict) or not isinstance(row.get("projects"), dict):
                col.skip(entry.line, "missing projects", type(row).__name__)
                continue
            item = key_text(lookup(row, task_key)) if task_key else None
            if item is None and not task_key:
                item = key_text(lookup(row, "data_row.global_key")) or key_text(
                    lookup(row, "data_row.id")
                )
            if item is None:
                col.skip(entry.line, "missing task key", task_key or "data_row.id")
                continue
            media = row.get("media_attributes") or {}
            row_data = lookup(row, "data_row.row_data")
            text = row_data if isinstance(row_data, str) and "://" not in row_data[:12] else None
            for project_id, project in row["projects"].items():
                ctx = {
                    "item": item,
                    "project": (project or {}).get("name") or project_id,
                    "text": text,
                    "size": (media.get("width"), media.get("height")),
                }
                for label in (project or {}).get("labels") or []:
                    if isinstance(label, dict):
                        _label(col, entry.line, row, label, ctx)
