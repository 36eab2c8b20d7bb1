"""A stored batch's annotator table and adjudication queue as flat spreadsheet tables.

``labelaudit export-sheet`` writes them with :func:`labelaudit.sheets.write_sheet` (XLSX
or CSV, formula-safe). Nothing is recomputed but the queue, which is rebuilt from the
stored annotations by the rule ingest stores (:func:`labelaudit.project.decisions.batch_queue`;
the stored result keeps only its first 20 entries).

- ``annotators``: one row per annotator: ``batch``, ``ingested_at`` (ISO 8601 UTC), then
  every field of the stored annotator row (``n_labels``, ``loo_agreement``,
  ``gold_accuracy``, ``gold_ci95_low`` / ``_high``, ...), ``n_flags`` and ``flags`` (the
  flag reasons joined by ``"; "``).
- ``queue``: one row per queued item: ``batch``, ``item``, ``reason`` (``tie`` or
  ``low_confidence``), ``consensus_label``, ``confidence``, ``n_labels``, ``labels``
  (``annotator=label`` pairs joined by ``"; "``), and empty ``decision`` and ``note``
  columns for the adjudicator.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from labelaudit.exceptions import UsageError
from labelaudit.project.layout import Project
from labelaudit.project.store import BatchRecord, Store

__all__ = ["SHEET_TABLES", "annotator_sheet", "project_sheets", "queue_sheet"]

#: Tables ``export-sheet`` writes.
SHEET_TABLES = ("annotators", "queue")
_ANNOTATOR_FIRST = ("batch", "ingested_at", "annotator", "n_labels")
_QUEUE_COLUMNS = (
    "batch",
    "item",
    "reason",
    "consensus_label",
    "confidence",
    "n_labels",
    "labels",
    "decision",
    "note",
)


def _when(batch: BatchRecord) -> str:
    from labelaudit.sheets import flat_table

    return str(flat_table([{"t": batch.ingested_at}]).column("t")[0])


def annotator_sheet(store: Store, batch: BatchRecord) -> pa.Table:
    """The batch's stored annotator rows as a flat table (see the module docstring)."""
    from labelaudit.sheets import flat_table

    stored = store.result(batch.batch_id, "annotators")
    rows = json.loads(stored)["annotators"] if stored else []
    records = []
    for row in rows:
        flags = row.get("flags") or []
        record: dict[str, Any] = {"batch": batch.name, "ingested_at": _when(batch)}
        record.update({k: v for k, v in row.items() if k not in ("flags", "reasons")})
        record["n_flags"] = len(flags)
        record["flags"] = "; ".join(str(f.get("reason", f)) for f in flags)
        records.append(record)
    return flat_table(records, _ANNOTATOR_FIRST)


def queue_sheet(store: Store, batch: BatchRecord) -> pa.Table:
    """The batch's whole adjudication queue as a flat table (see the module docstring)."""
    from labelaudit.project.decisions import batch_queue, batch_table
    from labelaudit.sheets import flat_table

    queue = batch_queue(batch_table(store, batch))
    records = [
        {
            "batch": batch.name,
            "item": entry["item"],
            "reason": entry.get("reason"),
            "consensus_label": entry.get("consensus_label"),
            "confidence": entry.get("confidence"),
            "n_labels": len(entry.get("candidates") or []),
            "labels": "; ".join(
                f"{c['annotator']}={_label(c.get('label'))}" for c in entry.get("candidates") or []
            ),
            "decision": None,
            "note": None,
        }
        for entry in queue.entries
    ]
    table = flat_table(records, _QUEUE_COLUMNS)
    return table.select(list(_QUEUE_COLUMNS))


def _label(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def project_sheets(
    project: Project, *, batch: str | None = None, tables: Sequence[str] = SHEET_TABLES
) -> dict[str, pa.Table]:
    """The named flat tables of one stored batch (default: the latest).

    Parameters
    ----------
    project : Project
    batch : str, optional
        Batch name; the latest when omitted.
    tables : sequence of {"annotators", "queue"}

    Returns
    -------
    dict of str to pyarrow.Table
        In the order asked.

    Raises
    ------
    UsageError
        Empty store, unknown batch or table name.
    """
    unknown = [t for t in tables if t not in SHEET_TABLES]
    if unknown:
        raise UsageError(f"--table must be one of {', '.join(SHEET_TABLES)}; got {unknown[0]!r}")
    from labelaudit.project.check import _pick

    builders = {"annotators": annotator_sheet, "queue": queue_sheet}
    with project.open_store(read_only=True) as store:
        record, _ = _pick(store, batch)
        return {name: builders[name](store, record) for name in tables}
