"""Accumulate parsed annotations compactly, then build the canonical table once.

Every platform reader calls :meth:`Collector.begin` once per annotation (one annotator's
work on one item) and :meth:`Collector.add` once per labelling control it answered. Rows
are flushed to Arrow arrays every :data:`FLUSH` entries, so a large export costs Arrow
memory, not Python objects. :meth:`Collector.finish` picks one control, resolves its task
type, fills "no region" answers of span/box controls, and goes through the same
``encode`` boundary as every other reader.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from labelaudit.exceptions import InputError, UsageError
from labelaudit.io._payload import (
    PAIRWISE_CHOICES,
    REGION_KINDS,
    TOKENS,
    VALUE_TYPES,
    canonical_json,
)
from labelaudit.io._report import MAX_EXAMPLES, ReadReport, SkipExample
from labelaudit.table import Locator, RawColumns, encode
from labelaudit.table.schema import ANNOTATOR_KINDS, TaskSchema
from labelaudit.table.table import AnnotationTable

__all__ = ["FLUSH", "Collector", "Options"]

FLUSH = 65_536
_BASE_TYPES: dict[str, pa.DataType] = {
    "item": pa.string(),
    "annotator": pa.string(),
    "record": pa.int64(),
    "created_at": pa.string(),
    "duration_s": pa.float64(),
    "task_id": pa.string(),
    "annotation_id": pa.string(),
    "batch": pa.string(),
    "text": pa.string(),
    "tokens": TOKENS,
    "image_width": pa.float64(),
    "image_height": pa.float64(),
    "annotator_kind": pa.string(),
    "parent_prediction": pa.string(),
    "prelabel_model_version": pa.string(),
    "ground_truth": pa.bool_(),
    "task_row": pa.int64(),
}
_KEEP_FOR = {
    "text": ("spans",),
    "tokens": ("spans",),
    "image_width": ("boxes", "polygons", "keypoints"),
    "image_height": ("boxes", "polygons", "keypoints"),
}
_LIST_KINDS = {"choices", "multilabel", "spans", "boxes", "ranking", "polygons", "keypoints"}
_TASK_OF_KIND = {
    "label": "categorical",
    "rating": "categorical",
    "multilabel": "multilabel",
    "spans": "spans",
    "boxes": "boxes",
    "polygons": "polygons",
    "keypoints": "keypoints",
    "ranking": "ranking",
    "text": "text",
    "pairwise": "pairwise",
}


@dataclass
class Options:
    """What the caller asked for (all optional; inferred from the export otherwise)."""

    control: str | None = None
    task: str | None = None
    level: str | None = None
    categories: Any = None
    on_duplicate: str = "error"
    declared: dict[str, tuple[str, ...]] = field(default_factory=dict)
    multiple: set[str] = field(default_factory=set)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


class _TaskData:
    """Task ``data`` fields, one row per task, kept as Arrow chunks of strings.

    Annotations point at their task's row (``task_row``); :meth:`columns` returns each
    field as a dictionary-encoded column (per-annotation indices into the per-task
    values), so a text shared by three annotations is stored once.
    """

    def __init__(self) -> None:
        self.n = 0
        self._rows: list[dict[str, str | None]] = []
        self._chunks: list[pa.Table] = []

    def add(self, data: Any) -> int:
        row = {}
        if isinstance(data, dict):
            for key, value in data.items():
                text = value if isinstance(value, str) or value is None else _json(value)
                row[f"data.{key}"] = text
        self._rows.append(row)
        self.n += 1
        if len(self._rows) >= FLUSH:
            self._flush()
        return self.n - 1

    def _flush(self) -> None:
        if self._rows:
            names = list(dict.fromkeys(k for row in self._rows for k in row))
            columns = {n: pa.array([r.get(n) for r in self._rows], pa.string()) for n in names}
            # a column of nulls keeps the row count of tasks without data (dropped later)
            columns["data."] = pa.nulls(len(self._rows), pa.string())
            self._chunks.append(pa.table(columns))
            self._rows = []

    def columns(self, task_rows: pa.ChunkedArray) -> dict[str, pa.ChunkedArray]:
        """Each ``data.<field>`` column for the given per-row task rows (null = no task)."""
        self._flush()
        if not self._chunks:
            return {}
        tasks = pa.concat_tables(self._chunks, promote_options="default")
        indices = task_rows.combine_chunks() if task_rows.num_chunks else pa.array([], pa.int64())
        out = {}
        for name in tasks.column_names:
            values = tasks.column(name).combine_chunks()
            if values.null_count == len(values):
                continue
            array = pa.DictionaryArray.from_arrays(indices, values)
            out[name] = pa.chunked_array([array])
        return out


class _Mismatches:
    """Regions whose quoted ``text`` differs from the task text at their offsets."""

    def __init__(self) -> None:
        self.count = 0
        self.examples: list[dict[str, Any]] = []

    def add(self, record: int, control: str, detail: str) -> None:
        self.count += 1
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append({"record": record, "control": control, "detail": detail})


def _json(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, sort_keys=True)


class _Sink:
    """Values of one control: annotation indices, values and canonical labels, chunked."""

    def __init__(self, name: str, kind: str) -> None:
        self.name = name
        self.kind = kind
        self.count = 0
        self.rejected: list[int] = []
        self._ann: list[int] = []
        self._values: list[Any] = []
        self.ann_chunks: list[np.ndarray] = []
        self.value_chunks: list[pa.Array] = []
        self.label_chunks: list[pa.Array] = []

    def add(self, ann: int, value: Any) -> None:
        self._ann.append(ann)
        self._values.append(value)
        self.count += 1
        if len(self._ann) >= FLUSH:
            self.flush()

    def flush(self) -> None:
        if not self._ann:
            return
        values, kind = self._values, self.kind
        self.ann_chunks.append(np.asarray(self._ann, dtype=np.int64))
        self.value_chunks.append(pa.array(values, type=VALUE_TYPES[kind]))
        if kind not in ("label", "rating"):
            labels = [canonical_json(kind, value) for value in values]
            self.label_chunks.append(pa.array(labels, type=pa.string()))
        self._ann, self._values = [], []

    def arrays(self) -> tuple[np.ndarray, pa.ChunkedArray, pa.ChunkedArray | None]:
        self.flush()
        kind_type = VALUE_TYPES[self.kind]
        ann = np.concatenate(self.ann_chunks) if self.ann_chunks else np.zeros(0, np.int64)
        values = pa.chunked_array(self.value_chunks, type=kind_type)
        labels = (
            pa.chunked_array(self.label_chunks, type=pa.string()) if self.label_chunks else None
        )
        return ann, values, labels


class Collector:
    """Gathers annotations from a reader and builds ``(AnnotationTable, ReadReport)``."""

    def __init__(
        self,
        source: str,
        fmt: str,
        *,
        unit: str = "record",
        item_field: str = "item",
        annotator_field: str = "annotator",
    ) -> None:
        self.report = ReadReport(source=source, format=fmt, unit=unit)
        self.fields = {"item": item_field, "annotator": annotator_field}
        self.sinks: dict[str, _Sink] = {}
        self._base: dict[str, list[Any]] = {name: [] for name in _BASE_TYPES}
        self._base_chunks: list[pa.RecordBatch] = []
        self._n = 0
        self._skips: dict[str | None, Counter[str]] = {}
        self._examples: dict[str | None, list[SkipExample]] = {}
        self.unsupported: dict[str, str] = {}
        self._chosen = "label"
        self._pending: list[tuple[int, str, str]] = []
        self.seen: dict[str, str] = {}
        self._tasks = _TaskData()
        self.mismatches = _Mismatches()

    # ------------------------------------------------------------------ reader API
    def begin(self, record: int, item: Any, annotator: Any, **meta: Any) -> int:
        """Register one annotation; returns its index for :meth:`add` and :meth:`reject`."""
        base = self._base
        base["item"].append(_text(item))
        base["annotator"].append(_text(annotator))
        base["record"].append(record)
        base["created_at"].append(_text(meta.get("created_at")))
        base["duration_s"].append(_number(meta.get("duration_s")))
        base["task_id"].append(_text(meta.get("task_id")))
        base["annotation_id"].append(_text(meta.get("annotation_id")))
        base["batch"].append(_text(meta.get("batch")))
        base["text"].append(meta.get("text") if isinstance(meta.get("text"), str) else None)
        base["tokens"].append(meta.get("tokens"))
        base["image_width"].append(_number(meta.get("image_width")))
        base["image_height"].append(_number(meta.get("image_height")))
        base["annotator_kind"].append(meta.get("kind") or ANNOTATOR_KINDS[0])
        base["parent_prediction"].append(_text(meta.get("parent_prediction")))
        base["prelabel_model_version"].append(_text(meta.get("prelabel_model_version")))
        base["ground_truth"].append(True if meta.get("ground_truth") else None)
        base["task_row"].append(meta.get("task_row"))
        index = self._n
        self._n += 1
        self.report.n_annotations += 1
        if len(base["item"]) >= FLUSH:
            self._flush_base()
        return index

    def add(self, ann: int, control: str, kind: str, value: Any) -> None:
        """Record annotation ``ann``'s answer to ``control`` (a canonical value, see _payload)."""
        sink = self._sink(control, kind)
        if sink is not None:
            sink.add(ann, value)

    def reject(
        self, ann: int, control: str, kind: str, record: int, reason: str, detail: Any = ""
    ) -> None:
        """Skip annotation ``ann`` for ``control`` only (a record-level defect), counted."""
        sink = self._sink(control, kind)
        if sink is not None:
            sink.rejected.append(ann)
        self._note_skip(control, record, reason, detail)

    def add_empty(self, ann: int, control: str, default_kind: str) -> None:
        """An empty list answer whose kind (spans, multilabel, ...) the other answers decide."""
        self._pending.append((ann, control, default_kind))

    def skip(self, record: int, reason: str, detail: Any = "") -> None:
        """Skip a whole record or annotation (for every control), counted with a reason."""
        self._note_skip(None, record, reason, detail)

    def skip_control(self, control: str, record: int, reason: str, detail: Any = "") -> None:
        """Count a skip that concerns one control only (no annotation was begun for it)."""
        self._note_skip(control, record, reason, detail)

    def task_data(self, data: Any) -> int:
        """Keep one task's ``data`` fields (carried as ``data.<field>`` columns); its row."""
        return self._tasks.add(data)

    def saw_control(self, control: str, kind: str) -> None:
        """Remember a control that has results, with its platform type (for error lists)."""
        self.seen.setdefault(control, kind)

    def text_mismatch(self, record: int, control: str, detail: str) -> None:
        """A region whose quoted text differs from the task text at its offsets (kept)."""
        self.mismatches.add(record, control, detail)

    def unsupported_control(self, control: str, kind: str) -> None:
        """Remember a control whose type no reader maps (reported; an error if selected)."""
        self.unsupported.setdefault(control, kind)

    def note(self, text: str) -> None:
        """Add a note to the report once."""
        if text not in self.report.notes:
            self.report.notes.append(text)

    # ------------------------------------------------------------------ internals
    def _sink(self, control: str, kind: str) -> _Sink | None:
        sink = self.sinks.get(control)
        if sink is None:
            sink = self.sinks[control] = _Sink(control, kind)
        elif sink.kind != kind:
            if {sink.kind, kind} <= {"choices", "multilabel"}:
                return sink
            self.note(f"control {control!r} holds both {sink.kind} and {kind} values")
            return None
        return sink

    def _note_skip(self, control: str | None, record: int, reason: str, detail: Any) -> None:
        self._skips.setdefault(control, Counter())[reason] += 1
        examples = self._examples.setdefault(control, [])
        if len(examples) < MAX_EXAMPLES:
            text = detail if isinstance(detail, str) else repr(detail)
            examples.append(SkipExample(record, reason, text[:200], control))

    def _flush_base(self) -> None:
        if not self._base["item"]:
            return
        arrays = [pa.array(self._base[n], type=t) for n, t in _BASE_TYPES.items()]
        self._base_chunks.append(pa.RecordBatch.from_arrays(arrays, names=list(_BASE_TYPES)))
        self._base = {name: [] for name in _BASE_TYPES}

    # ------------------------------------------------------------------ finish
    def finish(self, options: Options, locator: Locator) -> tuple[AnnotationTable, ReadReport]:
        """Pick the control, resolve the task, validate and encode once."""
        self._flush_base()
        for ann_index, control, default_kind in self._pending:
            known = self.sinks.get(control)
            kind = known.kind if known is not None and known.kind in _LIST_KINDS else default_kind
            self.add(ann_index, control, kind, [])
        self._pending = []
        base = pa.Table.from_batches(self._base_chunks, schema=pa.schema(_BASE_TYPES))
        sink = self._choose(options)
        self._chosen = sink.name
        ann, values, labels = sink.arrays()
        if sink.kind in REGION_KINDS:
            ann, values, labels = _fill_regions(base.num_rows, sink, ann, values, labels)
        identity = ann.size == base.num_rows and bool((ann == np.arange(ann.size)).all())
        rows = base if identity else base.take(pa.array(ann, type=pa.int64()))
        task = self._resolve_task(sink, options, values)
        if task == "categorical" and sink.kind in ("choices", "multilabel"):
            rows, values = self._single_choices(sink, rows, values)
            labels = (
                pc.list_element(values, 0) if len(values) else pa.chunked_array([], pa.string())
            )
        elif task == "categorical":
            labels = values
        assert labels is not None
        if rows.num_rows == 0:
            raise self._empty_error(locator)
        schema = self._schema(sink, task, values, options)
        table = self._encode(rows, values, labels, task, schema, options, locator)
        self._fill_report(sink, task, schema, table)
        return table, self.report

    def _listing(self) -> str:
        """Every control with results as ``name (type)``, in order of appearance."""
        types = {n: s.kind for n, s in self.sinks.items()} | self.seen | self.unsupported
        return ", ".join(f"{name} ({kind})" for name, kind in types.items())

    def _choose(self, options: Options) -> _Sink:
        names = list(self.sinks)
        if options.control is not None:
            if options.control in self.unsupported:
                raise UsageError(
                    f"control {options.control!r} has type "
                    f"{self.unsupported[options.control]!r}, which labelaudit does not read"
                )
            if options.control not in self.sinks:
                raise InputError(
                    "no such labelling control",
                    source=self.report.source,
                    field="--control",
                    expected=f"one of {self._listing() or '(no control has results)'}",
                    actual=options.control,
                )
            return self.sinks[options.control]
        if len(names) == 1 and len(self.seen.keys() - self.sinks.keys()) == 0:
            return self.sinks[names[0]]
        if not names:
            raise self._empty_error(None)
        raise InputError(
            "several labelling controls in one export",
            source=self.report.source,
            field="--control",
            expected="the name of the control to analyse",
            actual=self._listing(),
            hint=f"pass --control {names[0]} (every command that reads an export takes it; "
            f"library: control={names[0]!r})",
        )

    def _resolve_task(self, sink: _Sink, options: Options, values: pa.ChunkedArray) -> str:
        if sink.kind in ("choices", "multilabel"):
            lengths = pc.list_value_length(values)
            longest = pc.max(lengths).as_py() if len(values) else 0
            multi = (
                sink.kind == "multilabel"
                or sink.name in options.multiple
                or (longest or 0) > 1
                or options.task == "multilabel"
            )
            inferred = "multilabel" if multi else "categorical"
            if options.task == "categorical" and multi and (longest or 0) > 1:
                raise UsageError(
                    f"control {sink.name!r} has annotations with several labels; "
                    "it cannot be read as a categorical task (use task='multilabel')"
                )
        else:
            inferred = _TASK_OF_KIND[sink.kind]
        if options.task is not None and options.task != inferred:
            raise UsageError(
                f"control {sink.name!r} holds {sink.kind} labels; task {options.task!r} "
                f"does not fit (it reads as {inferred!r})"
            )
        return inferred

    def _single_choices(
        self, sink: _Sink, rows: pa.Table, values: pa.ChunkedArray
    ) -> tuple[pa.Table, pa.ChunkedArray]:
        """Drop annotations that chose nothing (counted) from a single-choice control."""
        empty = pc.equal(pc.list_value_length(values), 0).to_numpy(zero_copy_only=False)
        if empty.any():
            records = rows.column("record").to_numpy()[empty]
            for record in records[:MAX_EXAMPLES]:
                self._note_skip(sink.name, int(record), "no choice selected", "")
            self._skips[sink.name]["no choice selected"] += int(empty.sum()) - min(
                int(empty.sum()), MAX_EXAMPLES
            )
            keep = pa.array(~empty)
            rows, values = rows.filter(keep), values.filter(keep)
        return rows, values

    def _schema(
        self, sink: _Sink, task: str, values: pa.ChunkedArray, options: Options
    ) -> TaskSchema:
        categories: Any = options.categories
        if categories is None:
            categories = options.declared.get(sink.name) or _vocabulary(task, values)
        level = options.level or ("ordinal" if sink.kind == "rating" else "nominal")
        return TaskSchema.create(level, categories or None, task)

    def _encode(
        self,
        rows: pa.Table,
        values: pa.ChunkedArray,
        labels: pa.ChunkedArray,
        task: str,
        schema: TaskSchema,
        options: Options,
        locator: Locator,
    ) -> AnnotationTable:
        extra: dict[str, pa.ChunkedArray] = {}
        if task != "categorical":
            extra["payload"] = values
        for name in ("created_at", "duration_s", "task_id", "annotation_id", "batch"):
            extra[name] = rows.column(name)
        extra["source_line"] = rows.column("record")
        for name, only in _KEEP_FOR.items():
            if task in only:
                extra[name] = rows.column(name)
        for name in ("annotator_kind", "parent_prediction", "prelabel_model_version"):
            extra[name] = rows.column(name)
        extra["ground_truth"] = rows.column("ground_truth")
        extra = {n: c for n, c in extra.items() if c.null_count < len(c) or n == "payload"}
        extra.update(self._tasks.columns(rows.column("task_row")))
        if "created_at" in extra:
            extra["created_at"] = self._timestamps(extra["created_at"])
        raw = RawColumns(
            item=rows.column("item"),
            annotator=rows.column("annotator"),
            label=labels,
            rows=rows.column("record").to_numpy() - 1,
            fields={**self.fields, "label": self._chosen},
            label_fields=None,
            extra=extra,
        )
        return encode(raw, schema, locator, on_duplicate=options.on_duplicate)

    def _timestamps(self, column: pa.ChunkedArray) -> pa.ChunkedArray:
        try:
            return pc.cast(column, pa.timestamp("us", tz="UTC"))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            self.note("created_at kept as text: not ISO 8601 timestamps")
            return column

    def _empty_error(self, locator: Locator | None) -> InputError:
        counts = Counter[str]()
        for skips in self._skips.values():
            counts.update(skips)
        summary = ", ".join(f"{reason}: {n}" for reason, n in counts.most_common()) or "none"
        return InputError(
            "no usable annotations",
            source=self.report.source,
            expected="at least one annotation with a label",
            actual=f"{self.report.n_records} {self.report.unit}s, skipped {summary}",
            hint="check the export format (--from) and the control (--control)",
        )

    def _fill_report(
        self, sink: _Sink, task: str, schema: TaskSchema, table: AnnotationTable
    ) -> None:
        report = self.report
        report.control = sink.name
        report.task = task
        report.schema = schema.to_dict()
        report.n_rows = table.n_ratings
        report.controls = {
            n: {"kind": s.kind, "annotations": s.count} for n, s in self.sinks.items()
        }
        for name, kind in self.unsupported.items():
            report.controls.setdefault(name, {"kind": f"unsupported ({kind})", "annotations": 0})
        skipped: Counter[str] = Counter()
        examples: list[SkipExample] = []
        for key in (None, sink.name):
            skipped.update(self._skips.get(key, Counter()))
            examples.extend(self._examples.get(key, []))
        report.skipped = dict(skipped)
        report.n_text_mismatches = self.mismatches.count
        report.text_mismatches = list(self.mismatches.examples)
        report.examples = sorted(examples, key=lambda e: e.record)[:MAX_EXAMPLES]
        duplicates = table.report.get("duplicates_replaced", 0)
        if duplicates:
            report.notes.append(f"{duplicates} repeated (item, annotator) rows replaced")


def _fill_regions(
    n_base: int,
    sink: _Sink,
    ann: np.ndarray,
    values: pa.ChunkedArray,
    labels: pa.ChunkedArray | None,
) -> tuple[np.ndarray, pa.ChunkedArray, pa.ChunkedArray]:
    """Annotations that marked no region of a span/box control answered "none" (empty list)."""
    covered = np.zeros(n_base, dtype=bool)
    covered[ann] = True
    if sink.rejected:
        covered[np.asarray(sink.rejected, dtype=np.int64)] = True
    missing = np.flatnonzero(~covered)
    kind_type = VALUE_TYPES[sink.kind]
    empty_values = pa.array([[]] * missing.size, type=kind_type)
    empty_labels = pa.array(["[]"] * missing.size, type=pa.string())
    all_ann = np.concatenate([ann, missing])
    order = np.argsort(all_ann, kind="stable")
    merged_values = pa.chunked_array([*values.chunks, empty_values], type=kind_type)
    label_chunks = [*(labels.chunks if labels is not None else []), empty_labels]
    merged_labels = pa.chunked_array(label_chunks, type=pa.string())
    take = pa.array(order, type=pa.int64())
    return all_ann[order], merged_values.take(take), merged_labels.take(take)


def _vocabulary(task: str, values: pa.ChunkedArray) -> tuple[str, ...] | None:
    """Labels inside the payload, sorted (categories of a structured task)."""
    if task == "pairwise":
        return PAIRWISE_CHOICES
    if task in ("categorical", "text") or len(values) == 0:
        return None
    flat = pc.list_flatten(values)
    if task in ("spans", "boxes", "polygons", "keypoints"):
        flat = pc.struct_field(flat, "label")
    elif task == "ranking":
        flat = pc.struct_field(flat, "id")
    unique = pc.unique(pc.drop_null(flat)).to_pylist()
    return tuple(sorted(str(u) for u in unique)) or None
