"""Scale AI delivered tasks: task exports (``get_tasks``, ``Task.as_dict()``) and callbacks.

Fields used, as Scale's API reference documents the task object and the callback body
(``{"task": {...}, "response": {...}, "task_id": "..."}``, POSTed to ``callback_url``):

- ``task_id``: the task; the item unless ``task_key`` names another field (e.g.
  ``metadata.item_id``, the customer's own id set at task creation, so the delivery lines
  up with the project's gold);
- ``type``: only ``categorization`` is read; ``response.category`` is the label (a string;
  a list of strings when the task allowed several, read as multilabel). Other task types
  are skipped and counted (``unsupported task type``);
- ``status``: only ``completed`` tasks are read (``pending``, ``canceled``, ``error`` are
  skipped and counted);
- ``params.attachment`` (with ``params.attachment_type = "text"``): the item's text;
- ``params.categories`` (strings) of the first task that has them: the declared categories
  (so a category nobody chose still counts, in the task's order);
- ``completed_at``: the annotation time (``created_at`` column);
- ``metadata``: kept only as the source of ``task_key``.

Scale exposes no per-worker answers to customers, so every task is one annotation by the
annotator ``scale``: audit the delivery against the project's own gold
(``annotators --gold``, ``check``), not by inter-annotator agreement.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from labelaudit.io._collect import Collector, Options
from labelaudit.io._common import key_text, lookup
from labelaudit.io._payload import choices_value
from labelaudit.io._stream import iter_records

__all__ = ["ANNOTATOR", "is_scale_task", "read", "read_record"]

#: The one annotator of a vendor delivery.
ANNOTATOR = "scale"
_CONTROL = "category"


def is_scale_task(record: Any) -> bool:
    """True for a Scale task object or a callback body (``task`` holding one)."""
    if not isinstance(record, dict):
        return False
    inner = record.get("task")
    task: dict[str, Any] = inner if isinstance(inner, dict) else record
    return "task_id" in task and "response" in task and ("type" in task or "params" in task)


def read_record(
    col: Collector, number: int, record: Any, task_key: str | None, options: Options
) -> None:
    """One Scale task (or callback body) into the collector."""
    if not is_scale_task(record):
        col.skip(number, "not a Scale task", type(record).__name__)
        return
    task = record["task"] if isinstance(record.get("task"), dict) else record
    if task.get("status") != "completed":
        col.skip(number, "task not completed", f"status {task.get('status')!r}")
        return
    if task.get("type") != "categorization":
        col.skip(number, "unsupported task type", f"type {task.get('type')!r}")
        return
    item = key_text(lookup(task, task_key or "task_id"))
    if item is None:
        col.skip(number, "missing task key", task_key or "task_id")
        return
    params = task.get("params") if isinstance(task.get("params"), dict) else {}
    declared = params.get("categories")
    if isinstance(declared, list) and declared and all(isinstance(c, str) for c in declared):
        options.declared.setdefault(_CONTROL, tuple(declared))
    text = params.get("attachment") if params.get("attachment_type") == "text" else None
    response = task.get("response") or record.get("response")
    category = response.get("category") if isinstance(response, dict) else None
    ann = col.begin(
        number,
        item,
        ANNOTATOR,
        task_id=task.get("task_id"),
        created_at=task.get("completed_at"),
        text=text,
    )
    if isinstance(category, str) and category:
        col.add(ann, _CONTROL, "label", category)
    elif isinstance(category, list) and all(isinstance(c, str) for c in category):
        if category:
            col.add(ann, _CONTROL, "multilabel", choices_value(category))
        else:
            col.add_empty(ann, _CONTROL, "multilabel")
    else:
        col.reject(ann, _CONTROL, "label", number, "no response.category", repr(category)[:80])


def read(paths: list[Path], col: Collector, *, task_key: str | None, options: Options) -> None:
    """Read Scale task exports (JSON array or JSONL of tasks or callback bodies)."""
    for path in paths:
        for entry in iter_records(path):
            col.report.n_records += 1
            read_record(col, entry.number, entry.value, task_key, options)
