"""Guideline versions of batches and calibration scores in the project store (migration 7).

Every statement is a constant string with ``?`` parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from labelaudit.project.store import Store, utc_now

__all__ = [
    "UNVERSIONED",
    "batch_versions",
    "calibration_history",
    "record_batch_version",
    "store_calibration",
]

#: The name of the period of batches ingested without a guideline version.
UNVERSIONED = "unversioned"


def record_batch_version(
    store: Store, batch: str, version: str, guideline_file: str | None = None
) -> None:
    """Record that batch ``batch`` (already stored) was labelled under ``version``."""
    record = store.batch(name=batch)
    if record is None:
        return
    store.execute("DELETE FROM batch_guidelines WHERE batch_id = ?", (record.batch_id,))
    store.execute(
        "INSERT INTO batch_guidelines VALUES (?, ?, ?, ?)",
        (record.batch_id, version, guideline_file, utc_now()),
    )


def batch_versions(store: Store) -> dict[str, str]:
    """Batch name -> guideline version, every stored batch (``unversioned`` when none)."""
    rows = store.execute(
        "SELECT b.name, g.version FROM batches b LEFT JOIN batch_guidelines g "
        "ON g.batch_id = b.batch_id ORDER BY b.batch_id"
    ).fetchall()
    return {
        str(name): (str(version) if version is not None else UNVERSIONED) for name, version in rows
    }


def store_calibration(
    store: Store, round_name: str, version: str | None, rows: Sequence[dict[str, Any]]
) -> None:
    """Store (replace) one round's per-annotator scores in one transaction."""
    now = utc_now()
    with store.transaction():
        store.execute("DELETE FROM calibration_scores WHERE round = ?", (round_name,))
        for row in rows:
            low, high = row["accuracy_ci95"] or (None, None)
            store.execute(
                "INSERT INTO calibration_scores VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    round_name,
                    row["annotator"],
                    version,
                    row["n_items"],
                    row["n_correct"],
                    row["accuracy"],
                    low,
                    high,
                    row["kappa"],
                    now,
                ),
            )


def calibration_history(store: Store, annotator: str | None = None) -> list[dict[str, Any]]:
    """Stored calibration scores, oldest round first (one annotator's when given)."""
    rows = store.execute(
        "SELECT round, annotator, guideline_version, n_items, n_correct, accuracy, "
        "accuracy_low, accuracy_high, kappa, scored_at FROM calibration_scores "
        "WHERE ? IS NULL OR annotator = ? ORDER BY scored_at, round, annotator",
        (annotator, annotator),
    ).fetchall()
    keys = (
        "round",
        "annotator",
        "guideline_version",
        "n_items",
        "n_correct",
        "accuracy",
        "accuracy_low",
        "accuracy_high",
        "kappa",
        "scored_at",
    )
    out = [dict(zip(keys, row, strict=True)) for row in rows]
    for row in out:
        row["scored_at"] = row["scored_at"].isoformat() + "Z"
    return out
