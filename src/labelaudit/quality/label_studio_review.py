"""Review tasks for a Label Studio project, built against its labelling config.

:func:`review_tasks` turns an :class:`AdjudicationQueue` into tasks Label Studio accepts
and displays (verified against label-studio 1.23.2, ``tests/test_ls_roundtrip.py``):

- ``from_name``, ``to_name`` and the region type come from the config's control; every
  label is checked against the control's declared labels (an unknown label is an error,
  not a file Label Studio accepts and never shows);
- the task ``data`` holds every ``data.*`` field the export carried (Label Studio refuses a
  task without the field its object tag shows: HTTP 400), the item key
  (``labelaudit_item``, read back by ``pull --as-decisions``) and ``labelaudit_reason``,
  ``labelaudit_confidence``, ``labelaudit_consensus``, so the Data Manager can sort and
  filter by them;
- each annotator's answer is a prediction whose ``model_version`` is the annotator;
  spans become native ``labels`` regions (offsets in code points, as the 1.23.2 editor
  counts them), boxes ``rectanglelabels`` and polygons ``polygonlabels`` regions (percent
  of the image size).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from labelaudit.exceptions import InputError, UsageError
from labelaudit.io import LabelConfig
from labelaudit.quality.adjudicate import AdjudicationQueue
from labelaudit.quality.label_studio import item_fields
from labelaudit.table.table import AnnotationTable

__all__ = ["pick_control", "review_tasks"]

#: Control types a review task can hold, by the table's task type.
_TYPES = {
    "categorical": ("choices", "rating"),
    "multilabel": ("choices", "taxonomy"),
    "spans": ("labels",),
    "boxes": ("rectanglelabels",),
    "polygons": ("polygonlabels",),
    "text": ("textarea",),
}


def pick_control(config: LabelConfig, task: str, name: str | None) -> Any:
    """The control review predictions are written for.

    Parameters
    ----------
    config : LabelConfig
    task : str
        The table's task type.
    name : str, optional
        The control's name (``--control``); default: the one control fitting ``task``.

    Raises
    ------
    InputError
        No such control, one whose type does not fit the task, or several that fit.
    """
    fitting = [c for c in config.controls.values() if c.type in _TYPES.get(task, ())]
    listing = ", ".join(f"{c.name} ({c.type})" for c in config.controls.values())
    if name is not None:
        control = config.controls.get(name)
        if control is None or control not in fitting:
            raise InputError(
                "no control for the review predictions",
                source="--label-config",
                field="--control",
                expected=f"a {' or '.join(_TYPES.get(task, ('?',)))} control among {listing}",
                actual=name,
            )
        return control
    if len(fitting) != 1:
        raise InputError(
            "cannot tell which control the review predictions are for",
            source="--label-config",
            field="--control",
            expected=f"exactly one {' or '.join(_TYPES.get(task, ('?',)))} control",
            actual=listing or "no controls",
            hint="pass --control NAME",
        )
    return fitting[0]


def _regions(label: str, task: str, control: Any, row: dict[str, Any]) -> list[dict[str, Any]]:
    """The result regions of one candidate label (canonical form) for ``control``."""
    base = {"from_name": control.name, "to_name": control.to_name[0], "type": control.type}
    if task == "categorical" and control.type == "rating":
        return [{**base, "value": {"rating": int(float(label))}}]
    if task == "categorical":
        return [{**base, "value": {"choices": [label]}}]
    value = json.loads(label)
    if task == "multilabel":
        if control.type == "taxonomy":
            paths = [path.split(control.path_separator) for path in value]
            return [{**base, "value": {"taxonomy": paths}}]
        return [{**base, "value": {"choices": list(value)}}]
    if task == "text":
        return [{**base, "value": {"text": [value]}}]
    if task == "spans":
        text = row.get("_text") or ""
        return [
            {**base, "id": f"r{k}", "value": {
                "start": s["start"], "end": s["end"],
                "text": text[s["start"]:s["end"]], "labels": [s["label"]]}}
            for k, s in enumerate(value)
        ]  # fmt: skip
    width, height = row.get("_width"), row.get("_height")
    if not width or not height:
        raise InputError(
            f"{task} without the image size", source="review tasks",
            expected="image_width and image_height columns", actual="none",
        )  # fmt: skip
    if task == "polygons":
        return [
            {**base, "id": f"r{k}", "original_width": width, "original_height": height,
             "image_rotation": 0, "value": {
                 "points": [[x * 100 / width, y * 100 / height] for x, y in p["points"]],
                 "closed": True, "polygonlabels": [p["label"]]}}
            for k, p in enumerate(value)
        ]  # fmt: skip
    return [
        {**base, "id": f"r{k}", "original_width": width, "original_height": height,
         "image_rotation": 0, "value": {
             "x": b["x"] * 100 / width, "y": b["y"] * 100 / height,
             "width": b["width"] * 100 / width, "height": b["height"] * 100 / height,
             "rotation": 0, "rectanglelabels": [b["label"]]}}
        for k, b in enumerate(value)
    ]  # fmt: skip


def _labels_used(label: str, task: str) -> list[str]:
    if task == "categorical":
        return [label]
    value = json.loads(label)
    if task == "multilabel":
        return [str(v) for v in value]
    if task in ("spans", "boxes", "polygons"):
        return [str(v["label"]) for v in value]
    return []


def _check_labels(queue: AdjudicationQueue, task: str, control: Any) -> None:
    if not control.labels:
        return
    for entry in queue.entries:
        for candidate in entry["candidates"]:
            unknown = [x for x in _labels_used(candidate["label"], task) if x not in control.labels]
            if unknown:
                raise InputError(
                    "label not in the label config",
                    source="--label-config",
                    field=control.name,
                    expected=f"one of {', '.join(control.labels)}",
                    actual=f"{unknown[0]!r} (item {entry['item']}, {candidate['annotator']})",
                )


def _task_rows(table: AnnotationTable, config: LabelConfig, control: Any) -> list[dict[str, Any]]:
    """Per item (code order): the task data fields and what regions need (text, size)."""
    names = [n for n in table.data.column_names if n.startswith("data.")]
    extra = [n for n in ("text", "image_width", "image_height") if n in table.data.column_names]
    rows = item_fields(table, names + extra).to_pylist() if names or extra else []
    field_name = config.data_field(control.to_name[0]) or control.to_name[0]
    out = []
    for row in rows or [{} for _ in range(table.n_items)]:
        data = {name[5:]: row[name] for name in names if row.get(name) is not None}
        out.append({
            "data": data,
            "_text": data.get(field_name) if isinstance(data.get(field_name), str)
            else row.get("text"),
            "_width": row.get("image_width"), "_height": row.get("image_height"),
        })  # fmt: skip
    if any(field_name not in row["data"] for row in out):
        raise InputError(
            "task data lacks the field the label config shows",
            source=table.source,
            field=f"data.{field_name}",
            expected=f"each task's data.{field_name} (object {control.to_name[0]!r})",
            actual="absent: read the Label Studio export itself (it keeps data.*)",
        )
    return out


def review_tasks(
    queue: AdjudicationQueue, table: AnnotationTable, config: LabelConfig, control: Any
) -> list[dict[str, Any]]:
    """Label Studio review tasks for ``queue``, validated against the label config.

    Parameters
    ----------
    queue : AdjudicationQueue
        The items to review, with every annotator's answer.
    table : AnnotationTable
        The table the queue was built from (its ``data.*`` columns become task data).
    config : LabelConfig
        The review project's labelling config (:func:`labelaudit.io.parse_label_config`).
    control : Control
        The control the predictions answer (:func:`pick_control`).

    Returns
    -------
    list of dict
        JSON-ready tasks ``{"data", "predictions"}`` for ``POST /api/projects/{id}/import``.

    Raises
    ------
    InputError
        A label outside the control's labels, or task data without the shown field.
    UsageError
        A task type review tasks cannot hold.
    """
    if table.task not in _TYPES:
        raise UsageError(f"review tasks for {table.task} labels are not supported")
    _check_labels(queue, table.task, control)
    rows = _task_rows(table, config, control)
    codes = np.asarray(queue.item_codes, dtype=np.int64)
    tasks = []
    for index, entry in enumerate(queue.entries):  # serialisation: one task per queued item
        row = rows[int(codes[index])]
        data = {
            **row["data"],
            "labelaudit_item": entry["item"],
            "labelaudit_reason": entry["reason"],
            "labelaudit_confidence": entry["confidence"],
            "labelaudit_consensus": entry["consensus_label"],
        }
        predictions = [
            {
                "model_version": candidate["annotator"],
                "result": _regions(candidate["label"], table.task, control, row),
            }
            for candidate in entry["candidates"]
        ]
        tasks.append({"data": data, "predictions": predictions})
    return tasks
