"""Decisions results refreshed incrementally equal a full recompute from the annotations."""

from __future__ import annotations

import json
from pathlib import Path

from labelaudit.project.decisions import (
    batch_queue,
    batch_table,
    latest_decisions,
    record_decision,
    refresh_decision_results,
)
from labelaudit.project.demo import demo_batches
from labelaudit.project.ingest import ingest_batch
from labelaudit.project.layout import Project, init_project


def _project(root: Path) -> Project:
    data = demo_batches(root / "batches", n_batches=3, degraded=(2,))
    init_project(root / "project", name="decisions", categories=("0", "1", "2"))
    project = Project.load(root / "project")
    for name, path in data.batches:
        ingest_batch(project, path, batch=name)
    return project


def _stored(project: Project) -> dict[str, dict]:
    with project.open_store(read_only=True) as store:
        return {
            b.name: json.loads(store.result(b.batch_id, "decisions") or "null")
            for b in store.batches()
        }


def test_incremental_refresh_equals_a_full_recompute(tmp_path: Path) -> None:
    project = _project(tmp_path)
    with project.open_store() as store:
        batches = store.batches()
        queued = {
            b.name: {e["item"] for e in batch_queue(batch_table(store, b)).entries} for b in batches
        }
        picks = sorted(queued[batches[0].name])[:3] + sorted(queued[batches[-1].name])[-2:]
        for k, item in enumerate(picks):
            labels = sorted(
                r[0]
                for r in store.execute(
                    "SELECT DISTINCT label FROM annotations WHERE item = ?", (item,)
                ).fetchall()
            )
            record_decision(store, project.config, item, labels[k % len(labels)], decided_by="t")
        # a second decision on one item: the latest counts
        record_decision(store, project.config, picks[0], labels[0], decided_by="t")
        decided = set(latest_decisions(store))
    incremental = _stored(project)
    assert sum(r is not None for r in incremental.values()) >= 2
    for name, result in incremental.items():
        if result is None:  # no decided item in this batch
            continue
        assert result["n_queued"] == len(queued[name])
        assert result["open_adjudications"] == len(queued[name] - decided)
    with project.open_store() as store, store.transaction():
        store.execute("DELETE FROM batch_results WHERE kind = 'decisions'")
        refresh_decision_results(store, project.config, sorted(decided), source="test")
    assert _stored(project) == incremental
