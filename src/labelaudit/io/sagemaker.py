"""SageMaker Ground Truth: output manifests and per-worker response files.

Worker responses (``annotations/worker-response/iteration-N/<object>/<time>.json``,
``{"answers": [{"workerId", "answerContent", "submissionTime", "timeSpentInSeconds",
"workerMetadata"}]}``) hold every worker's answer: the item is the data-object directory
name (``<object>``), the annotator the ``workerId``. ``answerContent`` shapes read:
``{"<tag>": {"label": x}}`` (classification), ``{"<tag>": {"labels": [...]}}``
(multi-select), ``{"boundingBox": {"boundingBoxes": [{label, left, top, width, height}],
"inputImageProperties": {width, height}}}`` (pixels), ``{"<tag>": {"entities":
[{startOffset, endOffset, label}]}}`` (end exclusive).

An output manifest line holds the consolidated label per label attribute (``<attr>`` +
``<attr>-metadata``): its annotator is the job name, so two jobs (or a job and a model)
can be compared. Custom jobs without consolidation keep ``annotationsFromAllWorkers``,
which are read per worker.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from labelaudit.io._collect import Collector, Options
from labelaudit.io._common import Reject, as_int, as_number, check_box, check_span, key_text, lookup
from labelaudit.io._payload import boxes_value, choices_value, spans_value
from labelaudit.io._stream import iter_records

__all__ = ["read"]


def _content(content: Any, size: tuple[Any, Any], text: str | None) -> list[tuple[str, str, Any]]:
    """(control, kind, value) triples of one worker's answerContent."""
    if not isinstance(content, dict):
        raise Reject("malformed answerContent", type(content).__name__)
    found: list[tuple[str, str, Any]] = []
    for name, answer in content.items():
        if not isinstance(answer, dict):
            continue
        if "boundingBoxes" in answer:
            props = answer.get("inputImageProperties") or {}
            image = (props.get("width", size[0]), props.get("height", size[1]))
            boxes = []
            for box in answer["boundingBoxes"] or []:
                left, top, w, h = (
                    as_number(box.get(k), k) for k in ("left", "top", "width", "height")
                )
                check_box(left, top, w, h, image)
                boxes.append((left, top, w, h, str(box.get("label"))))
            found.append((name, "boxes", boxes_value(boxes)))
        elif "entities" in answer:
            spans = []
            for entity in answer["entities"] or []:
                start = as_int(entity.get("startOffset"), "startOffset")
                end = as_int(entity.get("endOffset"), "endOffset")
                check_span(start, end, text)
                spans.append((start, end, str(entity.get("label"))))
            found.append((name, "spans", spans_value(spans)))
        elif isinstance(answer.get("labels"), list):
            found.append((name, "multilabel", choices_value(answer["labels"])))
        elif "label" in answer:
            found.append((name, "label", str(answer["label"])))
    return found


def _answers(col: Collector, line: int, item: str, answers: Any, meta: dict[str, Any]) -> None:
    for answer in answers if isinstance(answers, list) else []:
        if not isinstance(answer, dict) or not answer.get("workerId"):
            col.skip(line, "answer without workerId", repr(answer)[:80])
            continue
        content = answer.get("answerContent", (answer.get("annotationData") or {}).get("content"))
        if isinstance(content, str):
            try:
                content = json.loads(content)
            except json.JSONDecodeError:
                col.skip(line, "answer content is not JSON", content[:80])
                continue
        ann = col.begin(
            line,
            item,
            answer["workerId"],
            created_at=answer.get("submissionTime"),
            duration_s=answer.get("timeSpentInSeconds"),
            **meta,
        )
        try:
            values = _content(content, (None, None), meta.get("text"))
        except Reject as reject:
            col.skip(line, reject.reason, reject.detail)
            continue
        for control, kind, value in values:
            col.add(ann, control, kind, value)


def _manifest_kind(value: Any, meta: dict[str, Any]) -> str:
    kind = str(meta.get("type", ""))
    if "object-detection" in kind or (isinstance(value, dict) and "image_size" in value):
        return "boxes"
    if "text-span" in kind or "named-entity" in kind:
        return "spans"
    return "multilabel" if "multilabel" in kind else "label"


def _manifest_label(value: Any, meta: dict[str, Any]) -> tuple[str, Any]:
    kind = str(meta.get("type", ""))
    class_map = meta.get("class-map") or {}
    if _manifest_kind(value, meta) == "boxes":
        sizes = value.get("image_size") or [{}]
        image = (sizes[0].get("width"), sizes[0].get("height"))
        boxes = []
        for box in value.get("annotations") or []:
            left, top, w, h = (as_number(box.get(k), k) for k in ("left", "top", "width", "height"))
            check_box(left, top, w, h, image)
            boxes.append(
                (left, top, w, h, str(class_map.get(str(box.get("class_id")), box.get("class_id"))))
            )
        return "boxes", boxes_value(boxes)
    if "text-span" in kind or "named-entity" in kind:
        entities = ((value or {}).get("annotations") or {}).get("entities") or []
        return "spans", spans_value(
            (
                as_int(e.get("startOffset"), "startOffset"),
                as_int(e.get("endOffset"), "endOffset"),
                str(e.get("label")),
            )
            for e in entities
        )
    if "multilabel" in kind:
        return "multilabel", choices_value(class_map.get(str(v), v) for v in value or [])
    if "class-name" in meta:
        return "label", str(meta["class-name"])
    raise Reject("unsupported label type", kind or repr(value)[:60])


def _manifest_line(col: Collector, line: int, record: Any, task_key: str | None) -> None:
    if not isinstance(record, dict):
        col.skip(line, "record is not an object", type(record).__name__)
        return
    item = (
        key_text(lookup(record, task_key))
        if task_key
        else key_text(record.get("source-ref", record.get("source")))
    )
    if item is None:
        col.skip(line, "missing task key", task_key or "source-ref")
        return
    text = record.get("source") if isinstance(record.get("source"), str) else None
    for attribute in [k for k in record if f"{k}-metadata" in record]:
        meta, value = record[f"{attribute}-metadata"] or {}, record[attribute]
        if isinstance(value, dict) and "annotationsFromAllWorkers" in value:
            _answers(
                col,
                line,
                item,
                value["annotationsFromAllWorkers"],
                {"batch": attribute, "text": text},
            )
            continue
        job = str(meta.get("job-name") or attribute)
        ann = col.begin(
            line, item, job, created_at=meta.get("creation-date"), batch=attribute, text=text
        )
        try:
            kind, label = _manifest_label(value, meta)
        except Reject as reject:
            kind = _manifest_kind(value, meta)
            col.reject(ann, attribute, kind, line, reject.reason, reject.detail)
            continue
        col.add(ann, attribute, kind, label)


def _response_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.rglob("*.json")) if path.is_dir() else [path])
    return files


def read(paths: list[Path], col: Collector, *, task_key: str | None, options: Options) -> None:
    """Read Ground Truth output manifests or worker-response files into the collector."""
    for path in _response_files(paths):
        for entry in iter_records(path):
            col.report.n_records += 1
            record = entry.value
            if isinstance(record, dict) and "answers" in record:
                item = key_text(lookup(record, task_key)) if task_key else path.parent.name
                _answers(
                    col,
                    entry.line,
                    item or path.parent.name,
                    record["answers"],
                    {"batch": path.parent.parent.name},
                )
            else:
                _manifest_line(col, entry.line, record, task_key)
