"""Prodigy ``db-out`` JSONL: one line per (annotator, example).

Annotator: ``_annotator_id``, else ``_session_id``. ``ignore`` answers are skipped and
counted. Views: binary (``classification``, ``ner``, ...: the ``answer`` accept/reject is
the label, items keyed by ``_task_hash`` because each label is its own question),
``choice`` (the ``accept`` list of option ids; rejected examples skipped), manual span
views (``ner_manual``, ``spans_manual``: character spans, end exclusive; when a span has
only token indices, ``token_end`` is INCLUSIVE and is converted) and ``image_manual``
(pixel boxes). ``compare``/A-B views are not read (counted as unsupported).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from labelaudit.io._collect import Collector, Options
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
from labelaudit.io._payload import boxes_value, choices_value, spans_value
from labelaudit.io._stream import iter_records

__all__ = ["read"]

_MANUAL = {"ner_manual", "spans_manual", "pos_manual", "relations"}
_UNSUPPORTED = {"compare", "diff", "pages", "blocks"}


def _view(record: dict[str, Any]) -> str:
    view = record.get("_view_id")
    if isinstance(view, str):
        return view
    if "options" in record:
        return "choice"
    if "tokens" in record:
        return "ner_manual"
    if "image" in record and "spans" in record:
        return "image_manual"
    return "classification"


def _token_offsets(tokens: Any) -> list[tuple[int, int]] | None:
    if not isinstance(tokens, list):
        return None
    try:
        return [(as_int(t["start"], "token start"), as_int(t["end"], "token end")) for t in tokens]
    except (Reject, KeyError, TypeError):
        return None


def _span(
    span: Any, tokens: list[tuple[int, int]] | None, text: str | None
) -> tuple[int, int, str]:
    if not isinstance(span, dict) or not isinstance(span.get("label"), str):
        raise Reject("span without label", repr(span)[:80])
    if "start" in span and "end" in span:
        start, end = as_int(span["start"], "start"), as_int(span["end"], "end")
    elif tokens is not None and "token_start" in span and "token_end" in span:
        first, last = (
            as_int(span["token_start"], "token_start"),
            as_int(span["token_end"], "token_end"),
        )
        if last < first:
            raise Reject("span end before start", f"token_start={first}, token_end={last}")
        if first < 0 or last >= len(tokens):
            raise Reject("span outside the text", f"token_end={last}, {len(tokens)} tokens")
        start, end = tokens[first][0], tokens[last][1]  # token_end is inclusive
    else:
        raise Reject("span without offsets", repr(span)[:80])
    check_span(start, end, text)
    return start, end, str(span["label"])


def _spans(record: dict[str, Any]) -> Any:
    text = record.get("text") if isinstance(record.get("text"), str) else None
    tokens = _token_offsets(record.get("tokens"))
    spans = record.get("spans") or []
    if not isinstance(spans, list):
        raise Reject("malformed spans", type(spans).__name__)
    return spans_value(_span(span, tokens, text) for span in spans)


def _boxes(record: dict[str, Any]) -> Any:
    size = (record.get("width"), record.get("height"))
    size_ok = tuple(s if isinstance(s, (int, float)) else None for s in size)
    boxes = []
    for span in record.get("spans") or []:
        if not isinstance(span, dict) or not isinstance(span.get("label"), str):
            raise Reject("box without label", repr(span)[:80])
        if span.get("type", "rect") != "rect":
            raise Reject("non-rectangular shape", str(span.get("type")))
        x, y, w, h = (as_number(span.get(k), k) for k in ("x", "y", "width", "height"))
        check_box(x, y, w, h, size_ok)
        boxes.append((x, y, w, h, str(span["label"])))
    return boxes_value(boxes)


def _choice(record: dict[str, Any]) -> Any:
    accepted = record.get("accept")
    if not isinstance(accepted, list):
        raise Reject("missing accept list", repr(accepted)[:80])
    options = record.get("options")
    if isinstance(options, list):
        known = {str(o.get("id")) for o in options if isinstance(o, dict)}
        unknown = [a for a in accepted if str(a) not in known]
        if unknown:
            raise Reject("unknown label", f"{unknown[0]!r} is not an option id")
    return choices_value(accepted)


def _line(col: Collector, line: int, record: Any, task_key: str | None) -> None:
    if not isinstance(record, dict):
        col.skip(line, "record is not an object", type(record).__name__)
        return
    answer = record.get("answer")
    if answer == "ignore":
        col.skip(line, "answer ignore")
        return
    if answer not in ("accept", "reject"):
        col.skip(line, "missing answer", repr(answer))
        return
    annotator = record.get("_annotator_id") or record.get("_session_id")
    if not annotator:
        col.skip(line, "missing _annotator_id", "")
        return
    view = _view(record)
    if view in _UNSUPPORTED:
        col.unsupported_control(view, view)
        col.skip(line, f"unsupported view {view}")
        return
    binary = view not in _MANUAL and view not in ("choice", "image_manual")
    default_key = "_task_hash" if binary else "_input_hash"
    item = key_text(lookup(record, task_key or default_key))
    if item is None:
        item = key_text(record.get("text", MISSING))
        if item is None:
            col.skip(line, "missing task key", task_key or default_key)
            return
    if not binary and answer == "reject":
        col.skip(line, "answer reject", view)
        return
    timestamp = record.get("_timestamp")
    created = (
        datetime.fromtimestamp(timestamp, UTC).isoformat()
        if isinstance(timestamp, (int, float))
        else None
    )
    meta = {"created_at": created, "task_id": record.get("_task_hash"), "batch": view}
    if view == "image_manual":
        meta |= {"image_width": record.get("width"), "image_height": record.get("height")}
    else:
        meta |= {"text": record.get("text"), "tokens": _token_offsets(record.get("tokens"))}
    ann = col.begin(line, item, annotator, **meta)
    kind, control, reader = {
        "choice": ("choices", "accept", _choice),
        "image_manual": ("boxes", "spans", _boxes),
    }.get(view, ("spans", "spans", _spans) if not binary else ("label", "answer", None))
    try:
        value = answer if reader is None else reader(record)
    except Reject as reject:
        col.reject(ann, control, kind, line, reject.reason, reject.detail)
        return
    col.add(ann, control, kind, value)


def read(paths: list[Path], col: Collector, *, task_key: str | None, options: Options) -> None:
    """Stream Prodigy JSONL files into the collector."""
    for path in paths:
        for entry in iter_records(path):
            col.report.n_records += 1
            _line(col, entry.line, entry.value, task_key)
    if options.control is None and "answer" in col.sinks and len(col.sinks) > 1:
        col.note("binary and manual views in one file: pass control= to pick one")
