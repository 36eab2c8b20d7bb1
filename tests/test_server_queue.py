"""The queue's vectorised filters and orders equal a plain Python reading of the entries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server_helpers import make_project

pytest.importorskip("fastapi")

from labelaudit.server.access import StoreAccess
from labelaudit.server.queue import QueueFilter, queue_view

_ORDER = {
    "priority": lambda e, p: (e["reason"] != "tie", e["confidence"], p),
    "confidence": lambda e, p: (e["confidence"], p, e["item"]),
    "item": lambda e, p: (e["item"], p),
    "batch": lambda e, p: (p, e["reason"] != "tie", e["confidence"]),
}


@pytest.fixture(scope="module")
def access(tmp_path_factory: pytest.TempPathFactory) -> StoreAccess:
    root: Path = make_project(tmp_path_factory.mktemp("queue"))["root"]
    return StoreAccess(root)


def _reference(every: list[dict[str, Any]], where: QueueFilter) -> list[dict[str, Any]]:
    batches = list(dict.fromkeys(e["batch"] for e in every))

    def keep(e: dict[str, Any]) -> bool:
        return (
            (where.batch is None or e["batch"] == where.batch)
            and (where.reason is None or e["reason"] == where.reason)
            and (
                where.annotator is None
                or any(c["annotator"] == where.annotator for c in e["candidates"])
            )
            and (where.label is None or any(c["label"] == where.label for c in e["candidates"]))
            and (where.max_confidence is None or e["confidence"] <= where.max_confidence)
        )

    found = sorted(
        (e for e in every if keep(e)),
        key=lambda e: _ORDER[where.sort](e, batches.index(e["batch"])),
    )
    return found[where.offset : where.offset + where.limit]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    batch=st.sampled_from([None, "2024-w01", "2024-w02", "absent"]),
    reason=st.sampled_from([None, "tie", "low_confidence"]),
    annotator=st.sampled_from([None, "annotator1", "annotator2", "nobody"]),
    label=st.sampled_from([None, "0", "1", "2"]),
    max_confidence=st.sampled_from([None, 0.0, 0.5, 0.67, 1.0]),
    sort=st.sampled_from(QueueFilter.SORTS),
    limit=st.integers(1, 40),
    offset=st.integers(0, 60),
)
def test_vectorised_queue_equals_the_plain_reading(access: StoreAccess, **options: Any) -> None:
    every = queue_view(access, QueueFilter(status="all", sort="batch", limit=10_000))["items"]
    assert every
    where = QueueFilter(status="all", **options)
    assert queue_view(access, where)["items"] == _reference(every, where)
