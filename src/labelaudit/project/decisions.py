"""Expert decisions on adjudicated items, kept apart from honeypot gold.

A decision is an adjudicator's label for an item (``decisions`` table: who, when, which
revision). Decisions are a biased sample (the disputed items), so they never enter gold
accuracy; each batch holding a decided item gets a stored result of kind ``decisions``
instead, recomputed whenever one of its items is decided:

- batch rows ``decided_items`` (items of the batch with a decision), ``queued_items``
  (the batch's adjudication queue, :func:`batch_queue`), ``open_adjudications`` (queued
  and not decided) and ``decision_agreement`` (share of the batch's labels on decided items
  that equal the decision, with its Wilson interval);
- per annotator ``decision_agreement`` (n = their labels on decided items).

The latest revision of an item's decision counts (an item decided twice keeps both rows:
the history). Every statement is constant SQL with parameters.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from labelaudit.exceptions import NotFoundError, UsageError
from labelaudit.intervals import wilson_interval
from labelaudit.project.store import ROWS_OF_ITEMS, BatchRecord, Store, names_join, utc_now
from labelaudit.results import clean_number

if TYPE_CHECKING:
    from labelaudit.project.config import ProjectConfig
    from labelaudit.quality import AdjudicationQueue
    from labelaudit.table.table import AnnotationTable

__all__ = [
    "SOURCE",
    "Decision",
    "batch_queue",
    "batch_table",
    "item_batches",
    "latest_decisions",
    "list_decisions",
    "record_decision",
    "refresh_decision_results",
]

#: ``decisions.source`` of the decisions made in ``labelaudit serve``.
SOURCE = "labelaudit serve"
_LATEST = (
    "SELECT item, label FROM (SELECT item, label, row_number() OVER (PARTITION BY item "
    "ORDER BY pulled_at DESC, revision DESC) AS k FROM decisions) WHERE k = 1"
)


@dataclass(frozen=True)
class Decision:
    """One stored decision: ``revision`` counts the item's decisions from 1."""

    item: str
    label: str
    decided_by: str
    decided_at: str
    revision: int
    source: str = SOURCE
    batches: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """``{"item", "label", "decided_by", "decided_at", "revision", "source", "batches"}``."""
        return {
            "item": self.item,
            "label": self.label,
            "decided_by": self.decided_by,
            "decided_at": self.decided_at,
            "revision": self.revision,
            "source": self.source,
            "batches": list(self.batches),
        }


def batch_table(store: Store, batch: BatchRecord) -> AnnotationTable:
    """The stored annotations of ``batch`` as a validated table (its stored task schema)."""
    from labelaudit.table import read_annotations

    schema = json.loads(batch.task_schema)
    rows = store.annotations(batch.batch_id).select(["item", "annotator", "label"])
    return read_annotations(
        rows,
        level=schema.get("level", "nominal"),
        categories=schema.get("categories"),
        task=schema.get("task", "categorical"),
    )


def batch_queue(table: AnnotationTable) -> AdjudicationQueue:
    """The batch's adjudication queue by the rule ingest stores (majority vote, ties and
    confidence below :data:`~labelaudit.project.results_quality.QUEUE_THRESHOLD`)."""
    from labelaudit.project.results_quality import QUEUE_THRESHOLD
    from labelaudit.quality import adjudication_queue

    if table.schema.is_structured:  # spans, boxes, ...: the structured voting queue
        from labelaudit.quality.structured_queue import structured_adjudication_queue

        return structured_adjudication_queue(table, threshold=QUEUE_THRESHOLD)

    return adjudication_queue(table, method="majority", threshold=QUEUE_THRESHOLD)


def item_batches(store: Store, item: str) -> list[BatchRecord]:
    """The batches holding ``item``, in history order."""
    ids = {row[0] for row in store.execute(_ITEM_BATCHES, (item,)).fetchall()}
    return [b for b in store.batches() if b.batch_id in ids]


def latest_decisions(store: Store) -> dict[str, str]:
    """``{item: label}`` of the latest decision on each decided item."""
    return dict(store.execute(_LATEST).fetchall())


def list_decisions(store: Store, *, item: str | None = None) -> list[Decision]:
    """Every stored decision (or one item's), oldest first."""
    rows = store.execute(
        "SELECT item, label, coalesce(decided_by, ''), coalesce(decided_at, ''), revision, "
        "source FROM decisions WHERE ? IS NULL OR item = ? ORDER BY pulled_at, item, revision",
        (item, item),
    ).fetchall()
    return [Decision(*row) for row in rows]


def _allowed_labels(store: Store, batches: list[BatchRecord]) -> set[str]:
    """Declared categories of the item's batches, else the labels seen in those batches."""
    labels: set[str] = set()
    for batch in batches:
        declared = json.loads(batch.task_schema).get("categories")
        if declared:
            labels.update(map(str, declared))
        else:
            labels.update(store.labels_seen(batch.batch_id))
    return labels


def record_decision(
    store: Store, config: ProjectConfig, item: str, label: str, *, decided_by: str
) -> Decision:
    """Store a decision on ``item`` and recompute the ``decisions`` result of every batch
    holding it, in one transaction.

    Raises
    ------
    NotFoundError
        ``item`` is in no batch.
    UsageError
        ``label`` is not a label of the item's batches.
    """
    batches = item_batches(store, item)
    if not batches:
        raise NotFoundError(f"no item {item!r} in the project store")
    allowed = _allowed_labels(store, batches)
    if label not in allowed:
        listed = ", ".join(sorted(allowed)[:20])
        raise UsageError(
            f"label {label!r} is not a label of item {item!r}; expected one of {listed}"
        )
    now = utc_now()
    decided_at = now.isoformat(timespec="seconds") + "Z"
    with store.transaction():
        row = store.execute(
            "SELECT coalesce(max(revision), 0) + 1 FROM decisions WHERE source = ? "
            "AND record_id = ?",
            (SOURCE, item),
        ).fetchone()
        revision = int(row[0])
        store.execute(
            "INSERT INTO decisions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (item, label, decided_by, SOURCE, item, revision, decided_at, now),
        )
        run_id = store.record_run(
            "decide",
            started_at=now,
            config_sha256=config.sha256,
            config_json=json.dumps(config.to_dict(), ensure_ascii=False),
            outcome="decided",
            batch_name=batches[-1].name,
            details_json=json.dumps({"item": item, "label": label, "by": decided_by}),
        )
        _store_decision_results(store, batches, run_id)
    names = tuple(b.name for b in batches)
    return Decision(item, label, decided_by, decided_at, revision, SOURCE, names)


def refresh_decision_results(
    store: Store, config: ProjectConfig, items: list[str], *, source: str
) -> tuple[str, ...]:
    """Recompute the ``decisions`` result of every batch holding one of ``items`` (inside
    the caller's transaction), after decisions arrived from ``source`` (e.g. ``labelaudit
    pull --as-decisions``). Returns the names of the recomputed batches, history order."""
    wanted = sorted(set(items))
    if not wanted:
        return ()
    ids = {row[0] for row in store.execute(_ITEMS_BATCHES, (wanted,)).fetchall()}
    batches = [b for b in store.batches() if b.batch_id in ids]
    if not batches:
        return ()
    run_id = store.record_run(
        "decide",
        started_at=utc_now(),
        config_sha256=config.sha256,
        config_json=json.dumps(config.to_dict(), ensure_ascii=False),
        outcome="decided",
        batch_name=batches[-1].name,
        details_json=json.dumps({"source": source, "n_items": len(wanted)}),
    )
    _store_decision_results(store, batches, run_id)
    return tuple(b.name for b in batches)


# The rows of the latest decisions' items in these batches, on the codes (the decided item
# names first), with the decided label.
_DECIDED = (
    "WITH d AS (" + _LATEST + "), r AS (SELECT c.batch_id, c.item, c.annotator, c.label, "
    "i.name AS item_name, d.label AS decided FROM annotation_codes c"
    + names_join("i", "item", "c.batch_id", "c.item")
    + "JOIN d ON d.item = i.name WHERE list_contains(?::BIGINT[], c.batch_id)) "
)
_AGREEMENT = (
    _DECIDED + "SELECT r.batch_id, a.name AS annotator, count(*) AS n, "
    "count(*) FILTER (WHERE l.name = r.decided) AS agreed FROM r"
    + names_join("a", "annotator", "r.batch_id", "r.annotator")
    + names_join("l", "label", "r.batch_id", "r.label")
    + "GROUP BY r.batch_id, a.name ORDER BY r.batch_id, a.name"
)
# The labels of the decided items of these batches (the only rows whose queue status the
# decisions result needs: a queue entry depends on its own item's labels only).
_DECIDED_ROWS = (
    _DECIDED
    + "SELECT r.batch_id, r.item_name AS item, a.name AS annotator, l.name AS label FROM r"
    + names_join("a", "annotator", "r.batch_id", "r.annotator")
    + names_join("l", "label", "r.batch_id", "r.label")
    + "ORDER BY r.batch_id, r.item_name, a.name"
)
# The batches holding one item (one name), or any of a list of names.
_ITEM_BATCHES = (
    "SELECT DISTINCT c.batch_id FROM annotation_codes c"
    + names_join("i", "item", "c.batch_id", "c.item")
    + "WHERE i.name = ?"
)
_ITEMS_BATCHES = "SELECT DISTINCT c.batch_id " + ROWS_OF_ITEMS
_PREVIOUS = (
    "SELECT batch_id, result FROM batch_results WHERE kind = 'decisions' "
    "AND list_contains(?::BIGINT[], batch_id)"
)
# The queue size ingest stored (categorical batches: majority vote, the same rule).
_INGESTED = (
    "SELECT batch_id, CAST(json_extract(result, '$.n_queued') AS BIGINT) FROM batch_results "
    "WHERE kind = 'consensus' AND list_contains(?::BIGINT[], batch_id)"
)


def _queued(batch: BatchRecord, table: Any) -> set[str]:
    """Items of ``table`` (rows of ``batch``) that the batch's queue rule queues."""
    from labelaudit.table import read_annotations

    schema = json.loads(batch.task_schema)
    if schema.get("level") in ("interval", "ratio") or table.num_rows == 0:
        return set()
    rows = read_annotations(
        table.select(["item", "annotator", "label"]),
        level=schema.get("level", "nominal"),
        categories=schema.get("categories"),
        task=schema.get("task", "categorical"),
    )
    return {e["item"] for e in batch_queue(rows).entries}


def _categorical(batch: BatchRecord) -> bool:
    """Whether the batch is categorical (its stored consensus queue is :func:`batch_queue`'s:
    majority vote, ties and low confidence)."""
    schema = json.loads(batch.task_schema)
    return schema.get("task", "categorical") == "categorical" and schema.get("level") not in (
        "interval",
        "ratio",
    )


def _queued_decided(batches: list[BatchRecord], rows: Any) -> dict[int, set[str]]:
    """``{batch_id: queued items}`` among ``rows`` (batch_id, item, annotator, label),
    voted once per task schema: an item is keyed by its batch and name (a queue entry
    depends on its own labels only)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    out: dict[int, set[str]] = {}
    groups: dict[str, list[BatchRecord]] = {}
    for batch in batches:
        groups.setdefault(batch.task_schema, []).append(batch)
    for group in groups.values():
        ids = pa.array([b.batch_id for b in group], type=pa.int64())
        sub = rows.filter(pc.is_in(rows["batch_id"], value_set=ids))
        keys = pc.binary_join_element_wise(
            pc.cast(sub["batch_id"], pa.string()), sub["item"], _SEPARATOR
        )
        table = pa.table({"item": keys, "annotator": sub["annotator"], "label": sub["label"]})
        for key in _queued(group[0], table):
            batch_id, item = key.split(_SEPARATOR, 1)
            out.setdefault(int(batch_id), set()).add(item)
    return out


def _store_decision_results(store: Store, batches: list[BatchRecord], run_id: int) -> None:
    """Replace the ``decisions`` result of ``batches`` (inside the caller's transaction).

    Incremental: the batch's queue size is kept from its previous ``decisions`` result (a
    stored batch never changes), so only the decided items' labels are read and voted on;
    the first result of a categorical batch takes the queue size ingest stored (same rule),
    of other batches computes the whole queue once. Four statements read every batch at
    once; the per-batch work is a loop over batches, not rows.
    """
    ids = [b.batch_id for b in batches]
    agreement: dict[int, list[tuple[str, int, int]]] = {i: [] for i in ids}
    for batch_id, annotator, n, agreed in store.execute(_AGREEMENT, (ids,)).fetchall():
        agreement[batch_id].append((annotator, int(n), int(agreed)))
    relation = store.connection.sql(_DECIDED_ROWS, params=[ids])
    decided = (getattr(relation, "to_arrow_table", None) or relation.arrow)()
    previous = {b: json.loads(r) for b, r in store.execute(_PREVIOUS, (ids,)).fetchall()}
    queued = _queued_decided(batches, decided)
    ingested = dict(store.execute(_INGESTED, (ids,)).fetchall())
    items: dict[int, set[str]] = {i: set() for i in ids}
    for batch_id, item in zip(
        decided["batch_id"].to_pylist(), decided["item"].to_pylist(), strict=True
    ):
        items[batch_id].add(item)
    results = []
    for batch in batches:
        known = previous.get(batch.batch_id, {}).get("n_queued")
        if known is None and _categorical(batch):
            known = ingested.get(batch.batch_id)
        n_queued = (
            int(known)
            if known is not None
            else len(_queued(batch, store.annotations(batch.batch_id)))
        )
        open_items = n_queued - len(queued.get(batch.batch_id, ()))
        results.append(
            _decision_result(agreement[batch.batch_id], items[batch.batch_id], n_queued, open_items)
        )
    _replace_results(store, ids, results, run_id)


def _decision_result(
    rows: list[tuple[str, int, int]],
    decided: set[str],
    n_queued: int,
    open_items: int,
) -> tuple[dict[str, Any], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The batch's result JSON, its headline rows and its per-annotator rows."""
    names = [row[0] for row in rows]
    n = np.array([row[1] for row in rows], dtype=np.int64)
    agreed = np.array([row[2] for row in rows], dtype=np.int64)
    low, high = wilson_interval(agreed, n)
    total_low, total_high = wilson_interval(int(agreed.sum()), int(n.sum()))
    overall = agreed.sum() / n.sum() if n.sum() else None
    result = {
        "source": "decisions",
        "n_decided": len(decided),
        "n_queued": n_queued,
        "open_adjudications": open_items,
        "decision_agreement": clean_number(overall),
        "annotators": {
            name: {
                "n": int(n[i]),
                "agreed": int(agreed[i]),
                "agreement": clean_number(agreed[i] / n[i]),
                "ci95": clean_number([low[i], high[i]]),
            }
            for i, name in enumerate(names)
        },
    }
    metrics = [
        ("decided_items", float(len(decided)), None, None, None, None),
        ("queued_items", float(n_queued), None, None, None, None),
        ("open_adjudications", float(open_items), None, None, None, None),
        (
            "decision_agreement",
            clean_number(overall),
            None,
            clean_number(float(total_low)),
            clean_number(float(total_high)),
            None if overall is not None else "no decided item in the batch",
        ),
    ]
    annotators = [
        (name, "decision_agreement", clean_number(agreed[i] / n[i]), int(n[i]), None)
        for i, name in enumerate(names)
    ]
    return result, metrics, annotators


def _replace_results(
    store: Store,
    ids: list[int],
    results: list[tuple[dict[str, Any], list[tuple[Any, ...]], list[tuple[Any, ...]]]],
    run_id: int,
) -> None:
    """Delete the batches' ``decisions`` rows and insert the new ones: one statement per
    table (rows go in as Arrow tables; DuckDB's ``executemany`` is a statement per row)."""
    import pyarrow as pa

    for table in ("batch_results", "batch_metrics", "annotator_metrics"):
        store.execute(_CLEAR[table], (ids,))
    pairs = list(zip(ids, results, strict=True))
    now = utc_now()
    text = [json.dumps(r[0], ensure_ascii=False, allow_nan=False) for _, r in pairs]
    number, string = pa.float64(), pa.string()
    incoming = {
        "batch_results": (
            ("batch_id", "result", "computed_at", "run_id"),
            (pa.int64(), string, pa.timestamp("us"), pa.int64()),
            [(i, t, now, run_id) for (i, _), t in zip(pairs, text, strict=True)],
        ),
        "batch_metrics": (
            ("batch_id", "metric", "value", "se", "ci_low", "ci_high", "reason"),
            (pa.int64(), string, number, number, number, number, string),
            [(i, *row) for i, r in pairs for row in r[1]],
        ),
        "annotator_metrics": (
            ("batch_id", "annotator", "metric", "value", "n", "reason"),
            (pa.int64(), string, string, number, pa.int64(), string),
            [(i, *row) for i, r in pairs for row in r[2]],
        ),
    }
    for table, (names, types, rows) in incoming.items():
        if not rows:
            continue
        columns = list(zip(*rows, strict=True))
        arrays = {k: pa.array(c, type=t) for k, c, t in zip(names, columns, types, strict=True)}
        with store.registered("incoming_decisions", pa.table(arrays)):
            store.execute(_INSERT[table])


#: Joins a batch id and an item name into one queue key (never in a batch id).
_SEPARATOR = "\x1f"
# Constant statements (table names from this module only).
_CLEAR = {
    name: f"DELETE FROM {name} WHERE list_contains(?::BIGINT[], batch_id) AND kind = 'decisions'"
    for name in ("batch_results", "batch_metrics", "annotator_metrics")
}
_INSERT = {
    "batch_results": "INSERT INTO batch_results SELECT batch_id, 'decisions', 1, result, "
    "computed_at, run_id FROM incoming_decisions",
    "batch_metrics": "INSERT INTO batch_metrics SELECT batch_id, 'decisions', metric, value, "
    "se, ci_low, ci_high, reason FROM incoming_decisions",
    "annotator_metrics": "INSERT INTO annotator_metrics SELECT batch_id, 'decisions', "
    "annotator, metric, value, n, reason FROM incoming_decisions",
}
