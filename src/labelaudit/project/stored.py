"""Stored batches as tables: the content rehash (store migration 4) and what differs.

Batches ingested before content hash version 2 (:mod:`labelaudit.table.content`) carry a
version-1 ``sha256`` (``item\\tannotator\\tlabel`` rows joined without escaping, extra
columns not covered). The migration rebuilds each batch's table from its stored rows -
the canonical columns and the ``extra`` map - under the batch's own task schema, and
writes the version-2 hash to ``batches.sha256`` and to the stored agreement result's
``input.sha256``, inside the migration's transaction.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    from labelaudit.project.store import Store

__all__ = ["describe_difference", "rehash_batches", "stored_table"]


def _extra_columns(extra: pa.ChunkedArray) -> dict[str, pa.Array]:
    """The ``extra`` map column (key -> text per row, as ingest writes it) as columns.

    One take per key (a row without that key gets null); no loop over rows.
    """
    maps = extra.combine_chunks()
    if len(maps) == 0 or maps.null_count == len(maps):
        return {}
    maps = pc.fill_null(maps, pa.scalar([], maps.type))
    keys = maps.keys.to_numpy(zero_copy_only=False).astype(object)
    lengths = np.diff(maps.offsets.to_numpy(zero_copy_only=False))
    rows = np.repeat(np.arange(len(maps)), lengths)
    out = {}
    for name in dict.fromkeys(keys.tolist()):  # loops over column names, not rows
        where = np.flatnonzero(keys == name)
        index = np.full(len(maps), -1, dtype=np.int64)
        index[rows[where]] = where
        out[str(name)] = maps.items.take(pa.array(index, mask=index < 0))
    return out


def stored_table(store: Store, batch_id: int, task_schema: str) -> Any:
    """A stored batch as an :class:`~labelaudit.table.AnnotationTable` (its schema, its rows)."""
    from labelaudit.table import read_annotations

    rows = store.annotations(batch_id)
    schema = json.loads(task_schema)
    columns: dict[str, Any] = {n: rows.column(n) for n in ("item", "annotator", "label")}
    columns.update(_extra_columns(rows.column("extra")))
    return read_annotations(
        pa.table(columns),
        level=schema.get("level", "nominal"),
        categories=schema.get("categories"),
        task=schema.get("task", "categorical"),
    )


def rehash_batches(store: Store) -> int:
    """Write the version-2 content hash of every batch; returns the number rehashed.

    A batch whose stored rows today's reader refuses keeps its old hash (the migration
    never blocks the store; a re-ingest of its file still matches by file hash).
    """
    from labelaudit.exceptions import LabelAuditError
    from labelaudit.table import content_sha256

    batches = store.execute("SELECT batch_id, task_schema FROM batches ORDER BY batch_id")
    done = 0
    for batch_id, task_schema in batches.fetchall():  # loops over batches, not rows
        try:
            sha = content_sha256(stored_table(store, batch_id, task_schema))
        except LabelAuditError:  # rows today's reader refuses: keep the old hash, never
            continue  # block the store (a re-ingest still matches by file hash)
        store.execute("UPDATE batches SET sha256 = ? WHERE batch_id = ?", (sha, batch_id))
        store.execute(
            "UPDATE batch_results SET result = json_merge_patch(result, json_object("
            "'input', json_object('sha256', ?))) WHERE batch_id = ? AND kind = 'agreement' "
            "AND json_extract(result, '$.input') IS NOT NULL",
            (sha, batch_id),
        )
        done += 1
    return done


def describe_difference(store: Store, batch_id: int, task_schema: str, table: Any) -> str:
    """What differs between a stored batch and a new table, in one phrase (error path).

    Sizes first, then the set of columns, then, when the annotations are the same, which
    extra columns differ and in how many rows (rows matched by (item, annotator)).
    """
    from dataclasses import replace

    from labelaudit.table import as_text, content_sha256

    old = stored_table(store, batch_id, task_schema)
    sizes = [
        f"{what} {new:,} (stored {before:,})"
        for what, new, before in (
            ("annotations", table.n_ratings, old.n_ratings),
            ("items", table.n_items, old.n_items),
            ("annotators", table.n_annotators, old.n_annotators),
        )
        if new != before
    ]
    if sizes:
        return ", ".join(sizes)
    canonical = ["item", "annotator", "label"]
    new_extra = [n for n in table.data.column_names if n not in canonical and n != "payload"]
    old_extra = [n for n in old.data.column_names if n not in canonical]
    if set(new_extra) != set(old_extra):
        added, removed = (
            sorted(set(new_extra) - set(old_extra)),
            sorted(set(old_extra) - set(new_extra)),
        )
        return "; ".join(
            part
            for part in (
                f"new column(s) {', '.join(added)}" if added else "",
                f"column(s) no longer present: {', '.join(removed)}" if removed else "",
            )
            if part
        )
    same = content_sha256(replace(table, data=table.data.select(canonical))) == content_sha256(
        replace(old, data=old.data.select(canonical))
    )
    if not same:
        return "the labels differ"
    counts = []
    for name in new_extra:  # loops over columns, not rows
        a = as_text(table.data.column(name)).take(pa.array(table.row_order))
        b = as_text(old.data.column(name)).take(pa.array(old.row_order))
        differ = pc.invert(pc.fill_null(pc.equal(a, b), False))
        both_null = pc.and_(pc.is_null(a), pc.is_null(b))
        n = int(pc.sum(pc.and_(differ, pc.invert(both_null))).as_py() or 0)
        if n:
            counts.append(f"{name} ({n:,} rows)")
    return (
        "same annotations; column " + ", ".join(counts) + " differ" if counts else "no difference"
    )
