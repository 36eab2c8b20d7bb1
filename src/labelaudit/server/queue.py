"""The adjudication queue of every batch, filtered and sorted as arrays.

Each batch's queue (:func:`labelaudit.project.decisions.batch_queue`) is computed once per
batch content hash (a stored batch never changes under it) and kept as columns: the batch
position, item, reason, confidence and the candidates flattened to (entry, annotator,
label). The columns of all batches are joined once per change of the batches, the decided
labels once per change of the decisions; a request's filter is then a few boolean masks
and its order one ``numpy.lexsort``. Only the page of entries shown is turned into dicts.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from labelaudit.exceptions import UsageError
from labelaudit.project.store import BatchRecord, Store
from labelaudit.server.access import StoreAccess

__all__ = ["QueueColumns", "QueueFilter", "queue_view"]


class QueueFilter:
    """Filters and order of the queue (query parameters of ``/queue`` and ``/api/queue``)."""

    SORTS = ("priority", "confidence", "item", "batch")
    STATUSES = ("open", "decided", "all")

    def __init__(
        self,
        *,
        batch: str | None = None,
        reason: str | None = None,
        annotator: str | None = None,
        label: str | None = None,
        max_confidence: float | None = None,
        status: str = "open",
        sort: str = "priority",
        limit: int = 100,
        offset: int = 0,
    ) -> None:
        if sort not in self.SORTS:
            raise UsageError(f"sort must be one of {', '.join(self.SORTS)}; got {sort!r}")
        if status not in self.STATUSES:
            raise UsageError(f"status must be one of {', '.join(self.STATUSES)}; got {status!r}")
        self.batch, self.reason, self.annotator, self.label = batch, reason, annotator, label
        self.max_confidence, self.status, self.sort = max_confidence, status, sort
        self.limit, self.offset = limit, offset

    def mask(self, columns: QueueColumns, decided: np.ndarray) -> np.ndarray:
        """Boolean mask of the entries passing every filter (``decided``: bool per entry)."""
        keep = np.ones(columns.n, dtype=bool)
        if self.batch is not None:
            keep &= columns.batch_names[columns.position] == self.batch
        if self.reason is not None:
            keep &= columns.tie == (self.reason == "tie")
        for wanted, values in ((self.annotator, columns.annotator), (self.label, columns.label)):
            if wanted is not None:
                hit = np.zeros(columns.n, dtype=bool)
                hit[columns.entry[values == wanted]] = True
                keep &= hit
        if self.max_confidence is not None:
            keep &= columns.confidence <= self.max_confidence
        if self.status != "all":
            keep &= decided == (self.status == "decided")
        return keep

    def order(self, columns: QueueColumns, rows: np.ndarray) -> np.ndarray:
        """``rows`` (entry indices) in the requested order (priority: ties first, lowest
        confidence); stable, so equal keys keep the batches' queue order."""
        c = columns
        keys = {
            "priority": (c.position, c.confidence, ~c.tie),
            "confidence": (c.item_rank, c.position, c.confidence),
            "item": (c.position, c.item_rank),
            "batch": (c.confidence, ~c.tie, c.position),
        }[self.sort]
        return rows[np.lexsort(tuple(k[rows] for k in keys))]


@dataclass(frozen=True)
class QueueColumns:
    """Every batch's queue entries as columns (``entries`` keeps the dicts to show)."""

    entries: list[dict[str, Any]]
    batch_names: np.ndarray  # names of the batches, history order
    position: np.ndarray  # int, the entry's batch (index into batch_names)
    items: np.ndarray  # object, the item names
    item_rank: np.ndarray  # int, rank of the item name (sorting by name)
    tie: np.ndarray  # bool, reason == "tie"
    confidence: np.ndarray  # float
    entry: np.ndarray  # int, the entry of each flattened candidate
    annotator: np.ndarray  # object, each candidate's annotator
    label: np.ndarray  # object, each candidate's label
    categories: list[str]

    @property
    def n(self) -> int:
        """Number of entries."""
        return len(self.entries)


_QUEUES: dict[tuple[int, str], Any] = {}
_QUEUES_LOCK = threading.Lock()


def _batch_entries(store: Store, batch: BatchRecord) -> Any:
    """The batch's queue entries as an Arrow table, computed once per batch content."""
    import pyarrow as pa

    from labelaudit.project.decisions import batch_queue, batch_table

    key = (batch.batch_id, batch.sha256)
    with _QUEUES_LOCK:
        if key in _QUEUES:
            return _QUEUES[key]
    entries: list[dict[str, Any]] = []
    if json.loads(batch.task_schema).get("level") not in ("interval", "ratio"):
        entries = batch_queue(batch_table(store, batch)).entries
    candidate = pa.struct([("annotator", pa.string()), ("label", pa.string())])
    schema = pa.schema(
        [
            ("item", pa.string()),
            ("reason", pa.string()),
            ("consensus_label", pa.string()),
            ("confidence", pa.float64()),
            ("candidates", pa.list_(candidate)),
        ]
    )
    table = (pa.Table.from_pylist(entries, schema=schema), entries)
    with _QUEUES_LOCK:
        _QUEUES[key] = table
    return table


def queue_columns(store: Store) -> QueueColumns:
    """The columns of every batch's queue (each batch's queue computed once per content)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    batches = store.batches()
    parts = [_batch_entries(store, b) for b in batches]
    tables = [t for t, _ in parts]
    joined = pa.concat_tables(tables) if tables else None
    sizes = np.array([t.num_rows for t in tables], dtype=np.int64)
    position = np.repeat(np.arange(len(batches)), sizes)
    if joined is None or joined.num_rows == 0:
        empty = np.array([], dtype=object)
        flat_entry = np.array([], dtype=np.int64)
        items, tie, confidence, annotator, label = (
            empty,
            np.array([], bool),
            np.array([]),
            empty,
            empty,
        )
    else:
        candidates = joined["candidates"].combine_chunks()
        flat = pc.list_flatten(candidates)
        flat_entry = pc.list_parent_indices(candidates).to_numpy()
        annotator = pc.struct_field(flat, "annotator").to_numpy(zero_copy_only=False)
        label = pc.struct_field(flat, "label").to_numpy(zero_copy_only=False)
        items = joined["item"].to_numpy().astype(object)
        tie = pc.equal(joined["reason"], "tie").to_numpy(zero_copy_only=False)
        confidence = joined["confidence"].to_numpy()
    categories: set[str] = set(label.tolist())
    for batch in batches:
        categories.update(map(str, json.loads(batch.task_schema).get("categories") or ()))
    return QueueColumns(
        entries=[e for _, entries in parts for e in entries],
        batch_names=np.asarray([b.name for b in batches], dtype=object),
        position=position,
        items=items,
        item_rank=np.unique(items, return_inverse=True)[1] if items.size else position,
        tie=tie,
        confidence=confidence,
        entry=flat_entry,
        annotator=annotator,
        label=label,
        categories=sorted(categories),
    )


def _decided(store: Store, columns: QueueColumns) -> np.ndarray:
    """The latest decision's label of each entry's item (None when undecided)."""
    from labelaudit.project.decisions import latest_decisions

    latest = latest_decisions(store)
    out = np.full(columns.n, None, dtype=object)
    if latest and columns.n:
        names = np.asarray(list(latest), dtype=object)
        labels = np.asarray(list(latest.values()), dtype=object)
        order = np.argsort(names)
        found = np.searchsorted(names[order], columns.items)
        found = np.minimum(found, len(names) - 1)
        hit = names[order][found] == columns.items
        out[hit] = labels[order][found[hit]]
    return out


def queue_view(access: StoreAccess, where: QueueFilter) -> dict[str, Any]:
    """The adjudication queue of every batch, each entry with its decision (if any).

    Returns
    -------
    dict
        ``{"n_open", "n_decided", "n_matching", "offset", "limit", "categories",
        "items": [{"item", "reason", "consensus_label", "confidence", "candidates",
        "batch", "decided"}]}``.
    """

    def read(function: Any) -> Any:
        with access.reading() as store:
            return function(store)

    columns = access.cached("queue", lambda: read(queue_columns), ("results",))
    decided = access.cached(
        "queue-decided", lambda: read(lambda s: _decided(s, columns)), ("results", "decisions")
    )
    is_decided = decided != None  # noqa: E711 (element-wise on an object array)
    rows = where.order(columns, np.flatnonzero(where.mask(columns, is_decided)))
    page = rows[where.offset : where.offset + where.limit]
    return {
        "n_open": int(columns.n - is_decided.sum()),
        "n_decided": int(is_decided.sum()),
        "n_matching": int(rows.size),
        "offset": where.offset,
        "limit": where.limit,
        "categories": columns.categories,
        "items": [
            columns.entries[i]
            | {"batch": columns.batch_names[columns.position[i]], "decided": decided[i]}
            for i in page
        ],
    }
