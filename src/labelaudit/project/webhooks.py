"""Label Studio webhook deliveries kept in the store, and the open batch they form.

Label Studio posts ``ANNOTATION_CREATED`` / ``ANNOTATION_UPDATED`` with the annotation and
its task, and ``ANNOTATIONS_DELETED`` (or ``ANNOTATION_DELETED``) with the deleted ids.
:func:`record_delivery` keeps one row per distinct (annotation id, ``updated_at``,
deleted) in ``webhook_annotations``, so a replayed or duplicated delivery changes nothing.
Rows not yet in a batch form the *open batch*; :func:`close_open_batch` writes each
annotation's latest state (a deletion wins) as a Label Studio JSON export under
``ROOT/webhooks/`` and ingests it like any export (:func:`~labelaudit.project.ingest_batch`),
then marks the rows with the batch name. Closing twice ingests nothing twice: ingest
recognises the same export (its content hash), and marked rows are not open any more.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from labelaudit.exceptions import InputError, UsageError
from labelaudit.project.layout import Project
from labelaudit.project.store import Store, utc_now

__all__ = [
    "ACTIONS",
    "close_open_batch",
    "delivery_rows",
    "open_batch",
    "record_delivery",
    "store_deliveries",
]

#: The actions stored; any other action is acknowledged and ignored.
ACTIONS = ("ANNOTATION_CREATED", "ANNOTATION_UPDATED", "ANNOTATION_DELETED", "ANNOTATIONS_DELETED")
#: ``updated_at`` of a deletion: sorts after every timestamp, so a deletion is final.
DELETED_AT = "~deleted"
_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}")
_LATEST = (
    "SELECT annotation_id, task_id, annotator, deleted, annotation, task FROM ("
    "SELECT *, row_number() OVER (PARTITION BY annotation_id ORDER BY updated_at DESC, "
    "deleted DESC) AS k FROM webhook_annotations WHERE batch_name IS NULL) WHERE k = 1 "
    "ORDER BY task_id, annotation_id"
)


def _bad(field: str, expected: str, actual: Any) -> InputError:
    return InputError(
        "invalid Label Studio webhook",
        source="webhook",
        field=field,
        expected=expected,
        actual=str(actual)[:80],
    )


def _int(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**62:
        raise _bad(field, "a non-negative integer id", value)
    return value


def _annotator(annotation: Mapping[str, Any]) -> str:
    who = annotation.get("completed_by")
    if isinstance(who, Mapping):
        who = who.get("email") or who.get("id")
    if who is None or isinstance(who, (list, dict)):
        raise _bad("annotation.completed_by", "a user id or email", who)
    return str(who)


def delivery_rows(payload: Any) -> tuple[str, list[tuple[Any, ...]]]:
    """Validate one delivery: ``(action, rows)`` for ``webhook_annotations`` (no rows for
    an action that is not stored).

    Raises
    ------
    InputError
        The payload is not a Label Studio annotation webhook of a known shape.
    """
    if not isinstance(payload, Mapping) or not isinstance(payload.get("action"), str):
        raise _bad("action", "a JSON object with an action", type(payload).__name__)
    action = payload["action"]
    if action not in ACTIONS:
        return action, []
    now = utc_now()
    if action.endswith("_DELETED"):
        found = payload.get("annotations") or [payload.get("annotation")]
        if not isinstance(found, list) or not all(isinstance(a, Mapping) for a in found):
            raise _bad("annotations", "a list of annotations with ids", found)
        ids = [_int(a.get("id"), "annotation.id") for a in found]
        return action, [(i, -1, "", DELETED_AT, True, "{}", "{}", now) for i in ids]
    annotation, task = payload.get("annotation"), payload.get("task")
    if not isinstance(annotation, Mapping) or not isinstance(task, Mapping):
        raise _bad("annotation", "the annotation and its task (objects)", annotation)
    if not isinstance(annotation.get("result", []), list):
        raise _bad("annotation.result", "a list of regions", annotation.get("result"))
    if not isinstance(task.get("data"), Mapping):
        raise _bad("task.data", "an object", task.get("data"))
    updated = annotation.get("updated_at") or annotation.get("created_at") or ""
    row = (
        _int(annotation.get("id"), "annotation.id"),
        _int(task.get("id"), "task.id"),
        _annotator(annotation),
        str(updated),
        False,
        json.dumps(annotation, ensure_ascii=False),
        json.dumps(task, ensure_ascii=False),
        now,
    )
    return action, [row]


def store_deliveries(store: Store, deliveries: list[list[tuple[Any, ...]]]) -> list[int]:
    """Store the rows of several deliveries in one transaction (a group commit); returns
    how many rows of each were new (0 for a replay)."""
    stored = []
    with store.transaction():
        for rows in deliveries:
            new = 0
            for row in rows:
                seen = store.execute(
                    "SELECT count(*) FROM webhook_annotations WHERE annotation_id = ? "
                    "AND updated_at = ? AND deleted = ?",
                    (row[0], row[3], row[4]),
                ).fetchone()[0]
                if not seen:
                    store.execute(
                        "INSERT INTO webhook_annotations VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                        row,
                    )
                    new += 1
            stored.append(new)
    return stored


def record_delivery(store: Store, payload: Any) -> dict[str, Any]:
    """Validate and store one delivery; returns ``{"action", "stored"}`` (``stored``: rows
    new to the store, 0 for a replay or an ignored action)."""
    action, rows = delivery_rows(payload)
    return {"action": action, "stored": store_deliveries(store, [rows])[0] if rows else 0}


def open_batch(store: Store) -> dict[str, Any]:
    """The open batch: ``{"n_annotations", "n_deleted", "n_tasks", "n_deliveries"}``
    (latest state of each annotation not yet in a batch)."""
    rows = store.execute(_LATEST).fetchall()
    live = [r for r in rows if not r[3]]
    deliveries = store.execute(
        "SELECT count(*) FROM webhook_annotations WHERE batch_name IS NULL"
    ).fetchone()[0]
    return {
        "n_annotations": len(live),
        "n_deleted": len(rows) - len(live),
        "n_tasks": len({r[1] for r in live}),
        "n_deliveries": int(deliveries),
    }


def _export(rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """Label Studio's JSON export of the latest annotations, one task per task id."""
    tasks: dict[int, dict[str, Any]] = {}
    for _, task_id, _, deleted, annotation, task in rows:
        if deleted:
            continue
        entry = tasks.setdefault(task_id, {**json.loads(task), "annotations": []})
        entry["annotations"].append(json.loads(annotation))
    return list(tasks.values())


def close_open_batch(project: Project, name: str | None = None) -> dict[str, Any]:
    """Ingest the open batch as batch ``name`` (default ``ls-YYYYMMDDTHHMMSS``).

    Returns
    -------
    dict
        ``{"batch", "outcome", "n_annotations", "file"}``; outcome ``"empty"`` when no
        annotation was open (nothing stored), else the ingest outcome.
    """
    from labelaudit.project.ingest import ingest_batch

    chosen = name is not None
    name = name or "ls-" + utc_now().strftime("%Y%m%dT%H%M%S")
    if not _NAME.fullmatch(name):
        raise UsageError(
            f"a webhook batch name is 1-100 letters, digits, '.', '_' or '-' (not starting "
            f"with '.'); got {name!r}"
        )
    with project.open_store(read_only=True) as store:
        rows = store.execute(_LATEST).fetchall()
        taken = {b.name for b in store.batches()}
    if name in taken and chosen:
        raise UsageError(f"a batch named {name!r} exists already; pick another name")
    base, number = name, 1
    while name in taken:  # two scheduled closes within one second
        number += 1
        name = f"{base}-{number}"
    tasks = _export(rows)
    if not rows:
        return {"batch": None, "outcome": "empty", "n_annotations": 0, "file": None}
    folder = project.root / "webhooks"
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps(tasks, ensure_ascii=False, indent=1), encoding="utf-8")
    result = ingest_batch(project, path, batch=name) if tasks else None
    with project.open_store() as store, store.transaction():
        ids = [r[0] for r in rows]
        store.execute(
            "UPDATE webhook_annotations SET batch_name = ? WHERE batch_name IS NULL "
            "AND list_contains(?::BIGINT[], annotation_id)",
            (name, ids),
        )
    return {
        "batch": name if result is not None else None,
        "outcome": result.outcome if result is not None else "deleted-only",
        "n_annotations": sum(len(t["annotations"]) for t in tasks),
        "file": str(path.relative_to(project.root)),
    }
