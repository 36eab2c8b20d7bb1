"""Incremental project statistics: each batch's item profiles stored, windows summed in SQL.

At ingest the store keeps, per batch, its distinct item profiles (the sorted
(annotator, label) ratings of an item, as JSON text) and how many items have each one
(``batch_profiles``, migration 8; :mod:`labelaudit.table.profiles`). The agreement of
any set of batches (all of them, a rolling window, a period) is then one ``GROUP BY``
over those rows and the finish step on the distinct profiles
(:func:`labelaudit.agreement.api.profile_metrics`): no annotation is re-read, and the cost
depends on the number of distinct profiles, not on the annotations.

Conventions, exact: a window's figure equals :func:`labelaudit.agreement_report` on the
concatenated batches with each item keyed by (batch, item): a batch is a set of units,
and an item labelled again in a later batch is a new unit. Exact-incremental: every
coefficient with its analytic SE and CI. Not incremental (recomputed from the stored
annotations when wanted): bootstrap CIs (they resample items) and the lists naming items.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from labelaudit.table import AnnotationTable, Locator, RawColumns, TaskSchema, encode
from labelaudit.table.profiles import ItemProfiles

if TYPE_CHECKING:
    from labelaudit.project.store import Store
    from labelaudit.results import MetricResult

__all__ = [
    "backfill_profiles",
    "batch_profile_rows",
    "schema_of",
    "store_profiles",
    "window_metrics",
    "window_profiles",
]


def batch_profile_rows(table: AnnotationTable) -> pa.Table:
    """A batch's (profile JSON text, items) rows; empty for structured or continuous tables.

    Loops over the distinct profiles only (the items' grouping is vectorised).
    """
    if table.schema.is_structured or table.is_continuous or table.n_ratings == 0:
        return pa.table({"profile": pa.array([], pa.string()), "items": pa.array([], pa.int64())})
    profiles = ItemProfiles.of_table(table, keep=1).compact()
    t = profiles.table
    order = np.lexsort((t.annotator_codes, t.item_codes))
    items = t.item_codes[order]
    bounds = np.searchsorted(items, np.arange(t.n_items + 1))
    names, labels = t.annotators[t.annotator_codes[order]], t.categories[t.label_codes[order]]
    text = [
        json.dumps(
            [[str(a), str(b)] for a, b in zip(names[lo:hi], labels[lo:hi], strict=True)],
            ensure_ascii=False,
        )
        for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)
    ]
    return pa.table({"profile": text, "items": pa.array(profiles.multiplicity, pa.int64())})


def store_profiles(store: Store, batch_id: int, table: AnnotationTable) -> None:
    """Insert a batch's profile rows (inside the caller's transaction)."""
    rows = batch_profile_rows(table)
    if not rows.num_rows:
        return
    store.connection.register("incoming_profiles", rows)
    try:
        store.execute(
            "INSERT INTO batch_profiles SELECT ?, profile, items FROM incoming_profiles",
            (batch_id,),
        )
    finally:
        store.connection.unregister("incoming_profiles")


def window_profiles(
    store: Store, batch_ids: Sequence[int], schema: TaskSchema
) -> ItemProfiles | None:
    """The summed profiles of these batches (None when they hold none), validated and
    coded as one table of the project's ``schema`` (one named item per profile)."""
    ids = [int(b) for b in batch_ids]
    if not ids:
        return None
    marks = ", ".join("?" for _ in ids)
    rows = store.execute(
        f"SELECT profile, sum(items) FROM batch_profiles WHERE batch_id IN ({marks}) "
        "GROUP BY profile ORDER BY profile",
        ids,
    ).fetchall()
    if not rows:
        return None
    decoded = [json.loads(text) for text, _ in rows]
    sizes = np.array([len(pairs) for pairs in decoded])
    width = len(str(len(rows)))
    item = np.repeat([f"p{i:0{width}d}" for i in range(len(rows))], sizes)
    pairs = [pair for profile in decoded for pair in profile]
    raw = RawColumns(
        item=pa.chunked_array([pa.array(item, pa.string())]),
        annotator=pa.chunked_array([pa.array([a for a, _ in pairs], pa.string())]),
        label=pa.chunked_array([pa.array([b for _, b in pairs], pa.string())]),
        rows=np.arange(sizes.sum()),
        fields={"item": "item", "annotator": "annotator", "label": "label"},
        label_fields=None,
        extra={},
    )
    table = encode(raw, schema, Locator("<batch profiles>", lambda row: row + 1, "row"))
    items = np.array([count for _, count in rows], dtype=np.int64)
    multiplicity = np.zeros(table.n_items, dtype=np.int64)
    multiplicity[table.item_codes] = items[np.repeat(np.arange(len(rows)), sizes)]
    return ItemProfiles(table, multiplicity, keep=1)


def window_metrics(
    store: Store, batch_ids: Sequence[int], schema: TaskSchema, *, weights: str = "identity"
) -> dict[str, MetricResult]:
    """Every agreement coefficient with analytic SE and CI over these batches, from the
    stored profiles (see the module docstring for the exact convention); {} when none."""
    from labelaudit.agreement.api import profile_metrics

    profiles = window_profiles(store, batch_ids, schema)
    return {} if profiles is None else profile_metrics(profiles, weights=weights)


def schema_of(task_schema: str) -> TaskSchema:
    """The :class:`TaskSchema` of a stored ``batches.task_schema`` JSON text."""
    found: dict[str, Any] = json.loads(task_schema)
    return TaskSchema.create(
        found.get("level", "nominal"), found.get("categories"), found.get("task", "categorical")
    )


def backfill_profiles(store: Store) -> None:
    """Migration 8: the profiles of every stored categorical batch."""
    from labelaudit.exceptions import LabelAuditError
    from labelaudit.project.stored import stored_table

    for record in store.batches():  # loops over batches, not rows
        try:
            table = stored_table(store, record.batch_id, record.task_schema)
        except LabelAuditError:  # rows today's reader refuses: no profiles, never a block
            continue
        store_profiles(store, record.batch_id, table)
