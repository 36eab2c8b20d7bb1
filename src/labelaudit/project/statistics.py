"""Incremental project statistics: each batch's item profiles stored, windows summed in SQL.

At ingest the store keeps, per batch, its distinct item profiles (the sorted
(annotator, label) ratings of an item, as JSON text) and how many items have each one
(``batch_profiles``, migration 8; :mod:`labelaudit.table.profiles`), and adds them to the
project's running totals (``project_profiles``, migration 10: one row per distinct profile
of the project, its ratings as two lists and its items over all batches; a replaced
batch's profiles are subtracted). "All batches" is then one read of the totals, whatever
the history's length; any other window (a rolling window, a period) is one ``GROUP BY``
over its batches' rows. The finish step runs on the distinct profiles
(:func:`labelaudit.agreement.api.profile_metrics`): no annotation is re-read, and the cost
depends on the number of distinct profiles, not on the annotations.

Conventions, exact: a window's figure equals :func:`labelaudit.agreement_report` on the
concatenated batches with each item keyed by (batch, item): a batch is a set of units,
and an item labelled again in a later batch is a new unit. Exact-incremental: every
coefficient with its analytic SE and CI, and the per-category agreement (specific
agreement, one-vs-rest kappa and alpha). Not incremental (recomputed from the stored
annotations when wanted): bootstrap CIs (they resample items) and the lists naming items.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from labelaudit.table import AnnotationTable, Locator, RawColumns, TaskSchema, encode
from labelaudit.table.profiles import ItemProfiles

if TYPE_CHECKING:
    from labelaudit.project.store import Store
    from labelaudit.results import MetricResult

__all__ = [
    "WindowFigures",
    "backfill_profiles",
    "batch_profile_rows",
    "profile_rows",
    "rebuild_profile_totals",
    "schema_of",
    "store_profiles",
    "window_figures",
    "window_metrics",
    "window_profiles",
]


def batch_profile_rows(table: AnnotationTable) -> pa.Table:
    """A batch's distinct profiles: ``profile`` (JSON text of the sorted [annotator, label]
    pairs), ``annotators`` and ``labels`` (the same ratings as two lists) and ``items``;
    empty for structured or continuous tables.

    Loops over the distinct profiles only (the items' grouping is vectorised).
    """
    if table.schema.is_structured or table.is_continuous or table.n_ratings == 0:
        return pa.table(
            {
                "profile": pa.array([], pa.string()),
                "annotators": pa.array([], pa.list_(pa.string())),
                "labels": pa.array([], pa.list_(pa.string())),
                "items": pa.array([], pa.int64()),
            }
        )
    return profile_rows(_distinct_profiles(table))


def profile_rows(profiles: ItemProfiles) -> pa.Table:
    """The columns of :func:`batch_profile_rows` of compacted profiles (one named item
    per distinct profile, ``keep=1``), one row per profile in their order."""
    t = profiles.table
    order = np.lexsort((t.annotator_codes, t.item_codes))
    items = t.item_codes[order]
    bounds = np.searchsorted(items, np.arange(t.n_items + 1))
    names, labels = t.annotators[t.annotator_codes[order]], t.categories[t.label_codes[order]]
    annotators, categories = _strings(names), _strings(labels)
    text = [
        json.dumps(
            [list(pair) for pair in zip(annotators[lo:hi], categories[lo:hi], strict=True)],
            ensure_ascii=False,
        )
        for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)
    ]
    offsets = pa.array(bounds, pa.int32())
    return pa.table(
        {
            "profile": pa.array(text, pa.string()),
            "annotators": pa.ListArray.from_arrays(offsets, pa.array(annotators, pa.string())),
            "labels": pa.ListArray.from_arrays(offsets, pa.array(categories, pa.string())),
            "items": pa.array(profiles.multiplicity, pa.int64()),
        }
    )


def _distinct_profiles(table: AnnotationTable) -> ItemProfiles:
    """``ItemProfiles.of_table(table, keep=1).compact()``: the first item of each distinct
    profile (item order) with its profile's item count.

    When every (item, annotator) cell holds at most one rating and an item's ratings fit
    one integer (``(q + 1) ** n_annotators < 2**62``), an item's profile is the integer
    whose digit ``a`` (base q + 1) is its annotator ``a``'s label + 1 (0 = no rating): one
    scatter into the item x annotator grid (a byte per cell), then the distinct integers
    by counting (or one sort of n_items integers), O(n_items r). Otherwise (repeated
    cells, wide vocabularies, sparse grids) :meth:`ItemProfiles.compact`.
    """
    n_items, r, base = table.n_items, table.n_annotators, table.n_categories + 1
    if r * np.log2(base) >= 62 or n_items * r > 4 * max(table.n_ratings, 1):
        return ItemProfiles.of_table(table, keep=1).compact()
    small = base <= 127
    grid = np.zeros((n_items, r), dtype=np.int8 if small else np.int64)
    cells = table.item_codes * r
    cells += table.annotator_codes
    digits = table.label_codes.astype(np.int8) if small else table.label_codes.copy()
    digits += 1
    grid.reshape(-1)[cells] = digits
    if np.count_nonzero(grid) < table.n_ratings:  # two ratings in one cell
        return ItemProfiles.of_table(table, keep=1).compact()
    key = np.zeros(n_items, dtype=np.int64)
    for a in range(r):  # a loop over the (few) annotators
        key *= base
        key += grid[:, a]
    first, counts = _first_and_counts(key, base**r)
    order = np.argsort(first)  # profiles by their first item, as compact() lists them
    kept = table.take_items(first)  # the few first items' rows: no pass over every row
    return ItemProfiles(kept, counts[order].astype(np.int64), keep=1)


def _first_and_counts(key: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """First position and count of each distinct value of ``key`` (values in 0 .. size-1),
    in value order: what ``np.unique(key, return_index=True, return_counts=True)`` gives,
    by counting instead of sorting when the value range is small."""
    if size > 4 * key.size + 4096:
        _, first, counts = np.unique(key, return_index=True, return_counts=True)
        return first, counts
    counts = np.bincount(key, minlength=size)
    first = np.full(size, key.size, dtype=np.int64)
    np.minimum.at(first, key, np.arange(key.size))
    present = counts > 0
    return first[present], counts[present]


def _strings(values: np.ndarray) -> list[str]:
    """Names as text (the canonical ``str`` of each)."""
    return [str(value) for value in values.tolist()]


def store_profiles(
    store: Store, batch_id: int, table: AnnotationTable, rows: pa.Table | None = None
) -> None:
    """Insert a batch's profile rows and add them to the project's running totals (inside
    the caller's transaction; :meth:`Store.delete_batch_content` subtracts them again).

    ``rows`` are the table's :func:`batch_profile_rows` when already computed (ingest
    computes them beside its other per-batch results, off the writing thread)."""
    _insert_profiles(store, batch_id, table, totals=True, rows=rows)


def _insert_profiles(
    store: Store,
    batch_id: int,
    table: AnnotationTable,
    *,
    totals: bool,
    rows: pa.Table | None = None,
) -> None:
    rows = batch_profile_rows(table) if rows is None else rows
    if not rows.num_rows:
        return
    with store.registered("incoming_profiles", rows):
        store.execute(
            "INSERT INTO batch_profiles SELECT ?, profile, items FROM incoming_profiles",
            (batch_id,),
        )
        if totals:
            for statement in _ADD_TOTALS:
                store.execute(statement)


#: Upsert of the registered ``incoming_profiles`` into the running totals (no index on
#: ``project_profiles``: the single writer keeps one row per profile).
_ADD_TOTALS = (
    "UPDATE project_profiles SET items = project_profiles.items + n.items "
    "FROM incoming_profiles n WHERE n.profile = project_profiles.profile",
    "INSERT INTO project_profiles SELECT n.profile, n.annotators, n.labels, n.items "
    "FROM incoming_profiles n WHERE NOT EXISTS "
    "(SELECT 1 FROM project_profiles p WHERE p.profile = n.profile)",
)
#: The profiles of some batches (ids as a list parameter), with their ratings' lists.
_WINDOW = (
    "SELECT p.annotators, p.labels, w.items FROM (SELECT profile, sum(items)::BIGINT AS items "
    "FROM batch_profiles WHERE list_contains(?::BIGINT[], batch_id) GROUP BY profile) w "
    "JOIN project_profiles p USING (profile) ORDER BY profile"
)
_ALL = "SELECT annotators, labels, items FROM project_profiles ORDER BY profile"


def window_profiles(
    store: Store, batch_ids: Sequence[int], schema: TaskSchema
) -> ItemProfiles | None:
    """The summed profiles of these batches (None when they hold none), validated and
    coded as one table of the project's ``schema`` (one named item per profile).

    Every stored batch: one read of the running totals (O(distinct profiles), whatever
    the history); otherwise a ``GROUP BY`` over the window's batches' profile rows. Both
    list the profiles in the same order (their text), so equal windows give equal bits.
    """
    ids = sorted({int(b) for b in batch_ids})
    if not ids:
        return None
    stored = store.execute("SELECT list(batch_id ORDER BY batch_id) FROM batches").fetchall()
    every = set(ids) >= set(stored[0][0] or ())
    rows = store.arrow(_ALL) if every else store.arrow(_WINDOW, (ids,))
    if not rows.num_rows:
        return None
    annotators, labels = rows.column("annotators"), rows.column("labels")
    sizes = pc.list_value_length(annotators).to_numpy(zero_copy_only=False).astype(np.int64)
    width = len(str(rows.num_rows))
    names = np.char.add("p", np.char.zfill(np.arange(rows.num_rows).astype(str), width))
    profile = np.repeat(np.arange(rows.num_rows), sizes)  # profile of each rating
    raw = RawColumns(
        item=pa.chunked_array([pa.array(names, pa.string()).take(pa.array(profile))]),
        annotator=pa.chunked_array([pc.list_flatten(annotators).combine_chunks()]),
        label=pa.chunked_array([pc.list_flatten(labels).combine_chunks()]),
        rows=np.arange(int(sizes.sum())),
        fields={"item": "item", "annotator": "annotator", "label": "label"},
        label_fields=None,
        extra={},
    )
    table = encode(raw, schema, Locator("<batch profiles>", lambda row: row + 1, "row"))
    items = rows.column("items").to_numpy().astype(np.int64)
    multiplicity = np.zeros(table.n_items, dtype=np.int64)
    multiplicity[table.item_codes] = items[profile]
    return ItemProfiles(table, multiplicity, keep=1)


def window_metrics(
    store: Store, batch_ids: Sequence[int], schema: TaskSchema, *, weights: str = "identity"
) -> dict[str, MetricResult]:
    """Every agreement coefficient with analytic SE and CI over these batches, from the
    stored profiles (see the module docstring for the exact convention); {} when none."""
    from labelaudit.agreement.api import profile_metrics

    profiles = window_profiles(store, batch_ids, schema)
    return {} if profiles is None else profile_metrics(profiles, weights=weights)


@dataclass(frozen=True)
class WindowFigures:
    """The agreement figures of a window of batches, combined from the stored profiles.

    Attributes
    ----------
    n_items, n_ratings : int
        Items (each keyed by its batch) and ratings of the window.
    metrics : dict of str to MetricResult
        Every coefficient with its analytic SE and CI (:func:`window_metrics`).
    per_category : list of dict
        Specific agreement and one-vs-rest kappa and alpha per declared category, as
        :func:`labelaudit.agreement.diagnostics.per_category_agreement` on the window.
    """

    n_items: int
    n_ratings: int
    metrics: dict[str, MetricResult]
    per_category: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        """``{"n_items", "n_ratings", "metrics": {name: MetricResult.to_dict()},
        "per_category": [...]}``."""
        return {
            "n_items": self.n_items,
            "n_ratings": self.n_ratings,
            "metrics": {name: metric.to_dict() for name, metric in self.metrics.items()},
            "per_category": self.per_category,
        }


def window_figures(
    store: Store, batch_ids: Sequence[int], schema: TaskSchema, *, weights: str = "identity"
) -> WindowFigures | None:
    """Every stored-statistics figure of a window (one read of its profiles): the
    coefficients with CIs and the per-category agreement; None when it holds no profile.
    Equal to :func:`labelaudit.agreement_report` on the window's annotations (items keyed
    by batch) to float rounding of the sums' order (tested to 1e-12)."""
    from labelaudit.agreement.api import profile_metrics
    from labelaudit.agreement.diagnostics import per_category_agreement

    profiles = window_profiles(store, batch_ids, schema)
    if profiles is None:
        return None
    return WindowFigures(
        n_items=profiles.n_items,
        n_ratings=profiles.n_ratings,
        metrics=profile_metrics(profiles, weights=weights),
        per_category=per_category_agreement(profiles.table, multiplicity=profiles.multiplicity),
    )


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
        _insert_profiles(store, record.batch_id, table, totals=False)  # totals: migration 10


def rebuild_profile_totals(store: Store) -> None:
    """Migration 10: the running totals (``project_profiles``) summed again from every
    batch's stored profile rows (their ratings' lists parsed from the profile text once)."""
    rows = store.execute(
        "SELECT profile, sum(items)::BIGINT FROM batch_profiles GROUP BY profile ORDER BY profile"
    ).fetchall()
    store.execute("DELETE FROM project_profiles")
    if not rows:
        return
    pairs = [json.loads(text) for text, _ in rows]  # loops over distinct profiles only
    totals = pa.table(
        {
            "profile": pa.array([text for text, _ in rows], pa.string()),
            "annotators": pa.array([[a for a, _ in p] for p in pairs], pa.list_(pa.string())),
            "labels": pa.array([[b for _, b in p] for p in pairs], pa.list_(pa.string())),
            "items": pa.array([n for _, n in rows], pa.int64()),
        }
    )
    with store.registered("incoming_profiles", totals):
        store.execute("INSERT INTO project_profiles SELECT * FROM incoming_profiles")
