"""The review plan in the project pipeline: sample a stored batch, record its review.

A review score recorded for a batch becomes ``batch_metrics`` rows of kind ``review``
(``review_accepted`` 1/0, ``review_error_rate`` with its CI, ``review_errors``), so a
``[[gates]]`` entry ``metric = "review_accepted", op = "==", threshold = 1`` requires the
batch's review sample to pass its plan.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from labelaudit.exceptions import UsageError

if TYPE_CHECKING:
    from labelaudit.plans.review import ReviewScore
    from labelaudit.project.layout import Project

__all__ = ["batch_rows", "record_review"]


def batch_rows(project: Project, batch: str) -> list[dict[str, Any]]:
    """The stored annotations of ``batch`` as ``{"item", "annotator", "label", "extra"}``."""
    with project.open_store(read_only=True) as store:
        record = next((b for b in store.batches() if b.name == batch), None)
        if record is None:
            raise UsageError(f"no batch named {batch!r} in the project store")
        table = store.annotations(record.batch_id).to_pylist()
    for row in table:
        row["extra"] = dict(row["extra"] or {})
    return table


def record_review(project: Project, batch: str, score: ReviewScore) -> None:
    """Store ``score`` as the ``review`` result of ``batch`` (replacing an earlier one)."""
    from labelaudit.project.store import utc_now

    config = project.config
    with project.open_store() as store:
        record = next((b for b in store.batches() if b.name == batch), None)
        if record is None:
            raise UsageError(f"no batch named {batch!r} in the project store")
        with store.transaction():
            store.execute(
                "DELETE FROM batch_metrics WHERE batch_id = ? AND kind = 'review'",
                (record.batch_id,),
            )
            store.execute(
                "DELETE FROM batch_results WHERE batch_id = ? AND kind = 'review'",
                (record.batch_id,),
            )
            run_id = store.record_run(
                "review-score",
                started_at=utc_now(),
                config_sha256=config.sha256,
                config_json=json.dumps(config.to_dict(), sort_keys=True),
                outcome="accept" if score.accepted else "reject",
                batch_name=batch,
            )
            low, high = score.ci95
            metrics = [
                ("review_accepted", 1.0 if score.accepted else 0.0, None, None, None, None),
                ("review_error_rate", score.error_rate, score.se, low, high, None),
                ("review_errors", float(score.errors), None, None, None, None),
            ]
            result = json.dumps(score.to_dict(), allow_nan=False)
            store.insert_result(record.batch_id, "review", result, metrics, run_id=run_id)
