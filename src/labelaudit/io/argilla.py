"""Argilla 2.x records: ``records.to_json`` / ``to_list`` (nested or flattened) and HF exports.

Nested (``Record.to_dict``): ``responses: {question: [{"value", "user_id"}]}``; it drops
the response ``status``. Flattened (``to_list(flatten=True)``, ``to_datasets``, ``to_hub``):
``<q>.responses``, ``<q>.responses.users``, ``<q>.responses.status`` (``discarded`` and
``draft`` responses are skipped and counted). One annotation = one user's responses on one
record; each question is a control. Value kinds: a string -> categorical (pass
``task="text"`` for a TextQuestion), a number -> rating (ordinal), a list of strings ->
multilabel (pass ``task="ranking"`` for a RankingQuestion: the list is the order, best
first), a list of ``{start, end, label}`` -> spans, a list of ``{value, rank}`` -> ranking.
Shapes checked against argilla 2.8.0.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from labelaudit.io._collect import Collector, Options
from labelaudit.io._common import Reject, as_int, check_span, key_text, lookup
from labelaudit.io._payload import choices_value, ranking_value, spans_value, tied_ranking_value
from labelaudit.io._stream import iter_records

__all__ = ["read", "read_record"]

_SKIP_STATUS = {"discarded", "draft"}


def _value(value: Any, forced: str | None, text: str | None) -> tuple[str, Any]:
    if forced == "text":
        return "text", "" if value is None else str(value)
    if isinstance(value, bool):
        return "label", "true" if value else "false"
    if isinstance(value, str):
        return "label", value
    if isinstance(value, (int, float)):
        return "rating", str(as_int(value, "value"))
    if not isinstance(value, list):
        raise Reject("unsupported response value", repr(value)[:80])
    if value and all(isinstance(v, dict) and "start" in v for v in value):
        spans = []
        for span in value:
            start, end = as_int(span.get("start"), "start"), as_int(span.get("end"), "end")
            check_span(start, end, text)
            spans.append((start, end, str(span.get("label"))))
        return "spans", spans_value(spans)
    if value and all(isinstance(v, dict) and "value" in v for v in value):
        if all("rank" in v and v["rank"] is not None for v in value):
            return "ranking", tied_ranking_value((v["value"], v["rank"]) for v in value)
        return "ranking", ranking_value([v["value"] for v in value])
    if forced == "ranking":
        return "ranking", ranking_value(value)
    if not value:
        return "empty", []
    return "multilabel", choices_value(value)


def _responses(record: dict[str, Any]) -> dict[str, list[tuple[Any, Any, Any]]]:
    """question -> [(value, user, status)] from the nested or the flattened form."""
    found: dict[str, list[tuple[Any, Any, Any]]] = {}
    nested = record.get("responses")
    if isinstance(nested, dict):
        for question, answers in nested.items():
            for answer in answers or []:
                if isinstance(answer, dict):
                    entry = (answer.get("value"), answer.get("user_id"), answer.get("status"))
                    found.setdefault(question, []).append(entry)
    for key, values in record.items():
        if not key.endswith(".responses") or not isinstance(values, list):
            continue
        question = key[: -len(".responses")]
        users = record.get(f"{key}.users") or [None] * len(values)
        status = record.get(f"{key}.status") or [None] * len(values)
        found[question] = list(zip(values, users, status, strict=False))
    return found


def read_record(
    col: Collector, number: int, record: Any, task_key: str | None, options: Options
) -> None:
    """One Argilla record (nested or flattened dict) into the collector."""
    if not isinstance(record, dict):
        col.skip(number, "record is not an object", type(record).__name__)
        return
    item = key_text(lookup(record, task_key or "id"))
    if item is None:
        col.skip(number, "missing task key", task_key or "id")
        return
    fields: dict[str, Any] = record.get("fields") or {}
    if not isinstance(fields, dict) or not fields:
        fields = record
    text = next((v for k, v in fields.items() if k == "text" and isinstance(v, str)), None)
    by_user: dict[str, list[tuple[str, Any]]] = {}
    for question, answers in _responses(record).items():
        for value, user, status in answers:
            if status in _SKIP_STATUS:
                col.skip_control(question, number, f"response {status}", f"by {user}")
            elif user is None:
                col.skip_control(question, number, "response without user_id", "")
            else:
                by_user.setdefault(str(user), []).append((question, value))
    for user, given in by_user.items():
        ann = col.begin(number, item, user, task_id=record.get("id"), text=text)
        for question, value in given:
            forced = options.task if options.control in (None, question) else None
            try:
                kind, parsed = _value(value, forced, text)
            except Reject as reject:
                col.reject(ann, question, "label", number, reject.reason, reject.detail)
                continue
            if kind == "empty":
                col.add_empty(ann, question, forced or "multilabel")
            else:
                col.add(ann, question, kind, parsed)


def read(paths: list[Path], col: Collector, *, task_key: str | None, options: Options) -> None:
    """Read Argilla record exports (JSON array or JSONL, or a ``to_disk`` folder)."""
    for path in paths:
        target = path / "records.json" if path.is_dir() else path
        for entry in iter_records(target):
            col.report.n_records += 1
            read_record(col, entry.number, entry.value, task_key, options)
