"""Build structured AnnotationTables from Python records, through the readers' boundary.

``structured_table(task, records)`` takes ``(item, annotator, payload)`` tuples (payload in
the contract's Python shape: a list of labels, of span/box/rank dicts, or a string) and
returns what ``labelaudit.table._encode.encode`` makes of them, so the tests do not depend
on the platform readers.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from labelaudit.structured._payload import PAYLOAD_TYPES
from labelaudit.table import AnnotationTable, TaskSchema
from labelaudit.table._encode import Locator, RawColumns, encode


def canonical(value: Any) -> str:
    """The canonical JSON of a payload (the label column of structured tables)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _normalise(task: str, payload: Any) -> Any:
    if task == "multilabel":
        return sorted(set(payload))
    if task == "spans":
        return sorted(payload, key=lambda s: (s["start"], s["end"], s["label"]))
    return payload


def structured_table(
    task: str,
    records: Sequence[tuple[Any, Any, Any]],
    *,
    categories: Sequence[str] | None = None,
    extra: dict[str, Sequence[Any]] | None = None,
    normalise: bool = True,
) -> AnnotationTable:
    """A structured table from (item, annotator, payload) records.

    ``extra`` adds per-row columns (e.g. ``text``, ``tokens``, ``image_width``), one value
    per record. ``normalise=False`` keeps the payload order as given (to test that span
    order never matters).
    """
    payloads = [_normalise(task, p) if normalise else p for _, _, p in records]
    columns: dict[str, pa.ChunkedArray] = {
        "payload": pa.chunked_array([pa.array(payloads, type=PAYLOAD_TYPES[task])])
    }
    for name, values in (extra or {}).items():
        columns[name] = pa.chunked_array([pa.array(list(values))])
    raw = RawColumns(
        item=pa.chunked_array([pa.array([str(r[0]) for r in records], type=pa.string())]),
        annotator=pa.chunked_array([pa.array([str(r[1]) for r in records], type=pa.string())]),
        label=pa.chunked_array(
            [pa.array([canonical(_normalise(task, p)) for p in payloads], type=pa.string())]
        ),
        rows=np.arange(len(records)),
        fields={"item": "item", "annotator": "annotator", "label": "label"},
        label_fields=None,
        extra=columns,
    )
    schema = TaskSchema(task=task, categories=tuple(categories) if categories else None)
    return encode(raw, schema, Locator("<records>", lambda row: row + 1, "record"))
