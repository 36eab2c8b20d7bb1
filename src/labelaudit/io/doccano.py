"""doccano JSONL exports (one file per project member, or 1.x exports with user ids).

A non-collaborative project exports a zip of ``<username>.jsonl``: the file name is the
annotator. Accepted sources: that zip, a directory of ``.jsonl`` files, one or several
files. Record shapes: text classification ``label: ["pos"]``; sequence labelling
``label: [[start, end, "ORG"], ...]`` (end exclusive); relation extraction ``entities``
(``start_offset``/``end_offset``; relations ignored); intent ``cats``; doccano 1.x
``annotations: [{"label", "start_offset", "end_offset", "user"}]`` (annotator = user id).
Items are keyed by ``id`` (same across members' files), else by the text.
"""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path
from typing import Any

from labelaudit.io._collect import Collector, Options
from labelaudit.io._common import MISSING, Reject, as_int, check_span, key_text, lookup
from labelaudit.io._payload import choices_value, spans_value
from labelaudit.io._stream import iter_records
from labelaudit.table.source import current_limits, read_zip_member

__all__ = ["read"]


def _files(paths: list[Path], scratch: Path) -> list[Path]:
    """The per-user files; zip members are extracted under the decompressed-size limit."""
    files: list[Path] = []
    budget = [current_limits().max_decompressed_bytes]
    for path in paths:
        if path.is_dir():
            files.extend(sorted(path.glob("*.jsonl")) or sorted(path.glob("*.json")))
        elif zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                for member in archive.infolist():
                    name = Path(member.filename).name
                    if name.endswith((".jsonl", ".json")) and not member.is_dir():
                        target = scratch / name
                        target.write_bytes(read_zip_member(archive, member, str(path), budget))
                        files.append(target)
        else:
            files.append(path)
    return files


def _span(entry: Any, text: str | None) -> tuple[int, int, str]:
    if isinstance(entry, (list, tuple)) and len(entry) == 3:
        start, end, label = entry
    elif isinstance(entry, dict):
        start, end, label = entry.get("start_offset"), entry.get("end_offset"), entry.get("label")
    else:
        raise Reject("malformed span", repr(entry)[:80])
    if label is None:
        raise Reject("span without label", repr(entry)[:80])
    start, end = as_int(start, "start_offset"), as_int(end, "end_offset")
    check_span(start, end, text)
    return start, end, str(label)


def _value(labels: Any, text: str | None) -> tuple[str | None, Any]:
    """(kind, value) of a label list; kind None for an empty list (decided per file)."""
    if not isinstance(labels, list):
        raise Reject("malformed label", repr(labels)[:80])
    if not labels:
        return None, []
    if all(isinstance(x, (list, tuple, dict)) for x in labels):
        return "spans", spans_value(_span(x, text) for x in labels)
    if any(isinstance(x, (list, tuple, dict)) for x in labels):
        raise Reject("mixed labels and spans", repr(labels)[:80])
    return "choices", choices_value(labels)


def _key(record: dict[str, Any], task_key: str | None) -> str | None:
    if task_key:
        return key_text(lookup(record, task_key))
    value = record.get("id", MISSING)
    return key_text(value if value is not MISSING else record.get("text", MISSING))


def _emit(col: Collector, line: int, ann: int, control: str, labels: Any, text: str | None) -> None:
    try:
        kind, value = _value(labels, text)
    except Reject as reject:
        col.reject(ann, control, "spans", line, reject.reason, reject.detail)
        return
    if kind is None:
        col.add_empty(ann, control, "choices")
    else:
        col.add(ann, control, kind, value)


def _record(
    col: Collector, line: int, record: Any, annotator: str, task_key: str | None, batch: str
) -> None:
    if not isinstance(record, dict):
        col.skip(line, "record is not an object", type(record).__name__)
        return
    item = _key(record, task_key)
    if item is None:
        col.skip(line, "missing task key", task_key or "id")
        return
    text = record.get("text") if isinstance(record.get("text"), str) else None
    users = record.get("annotations")
    if isinstance(users, list) and all(isinstance(a, dict) and "user" in a for a in users):
        by_user: dict[str, list[Any]] = {}
        for entry in users:
            by_user.setdefault(str(entry["user"]), []).append(entry)
        for user, entries in by_user.items():
            ann = col.begin(line, item, user, task_id=record.get("id"), batch=batch, text=text)
            spans = any("start_offset" in e for e in entries)
            labels = entries if spans else [e.get("label") for e in entries]
            _emit(col, line, ann, "label", labels, text)
        return
    ann = col.begin(line, item, annotator, task_id=record.get("id"), batch=batch, text=text)
    for control in ("label", "labels", "entities", "cats"):
        if control in record:
            name = "label" if control in ("label", "labels", "entities") else control
            _emit(col, line, ann, name, record[control], text)


def read(paths: list[Path], col: Collector, *, task_key: str | None, options: Options) -> None:
    """Read doccano per-user files (zip, directory or files) into the collector."""
    with tempfile.TemporaryDirectory(prefix="labelaudit-doccano-") as scratch:
        for path in _files(paths, Path(scratch)):
            annotator = path.stem
            if annotator == "all":
                col.note("all.jsonl is a collaborative export: annotator identity is lost")
            for entry in iter_records(path):
                col.report.n_records += 1
                _record(col, entry.line, entry.value, annotator, task_key, path.name)
