"""Incremental project statistics: windows of batches from the stored profiles equal a
full recomputation over the batches' annotations (items keyed by batch)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine_helpers import assert_same, generated
from labelaudit import AnnotationTable, read_annotations
from labelaudit.agreement import agreement_report
from labelaudit.agreement.diagnostics import per_category_agreement
from labelaudit.pipeline_report import Scope, build_pipeline_report
from labelaudit.project import Project, ingest_batch, init_project
from labelaudit.project.statistics import (
    schema_of,
    window_figures,
    window_metrics,
    window_profiles,
)
from labelaudit.project.store import Store
from labelaudit.quality import annotator_report
from labelaudit.table.profiles import ItemProfiles

CATEGORIES = ("L0", "L1", "L2", "L3")


@pytest.fixture
def project(tmp_path: Path) -> tuple[Project, list[pa.Table]]:
    """A project with four generated batches (ids overlap between batches on purpose)."""
    found = init_project(tmp_path / "proj", categories=CATEGORIES)
    batches = []
    for week in range(4):
        rows = generated(10 + week, n_items=150 + 40 * week, n_annotators=3 + week % 2, q=4)
        path = tmp_path / f"w{week}.csv"
        pacsv.write_csv(rows, path)
        ingest_batch(found, path, batch=f"w{week}")
        batches.append(rows)
    return found, batches


def recomputed(batches: list[pa.Table], weights: str = "identity") -> dict:
    """Agreement over the concatenated batches, each item keyed by its batch."""
    return recomputed_report(batches, weights)["metrics"]


def keyed_table(batches: list[pa.Table]) -> AnnotationTable:
    """The concatenated batches as one table, each item keyed by its batch."""
    keyed = [
        rows.set_column(0, "item", pa.array([f"{b}:{i}" for i in rows.column("item").to_pylist()]))
        for b, rows in enumerate(batches)
    ]
    return read_annotations(pa.concat_tables(keyed), categories=CATEGORIES)


def recomputed_report(batches: list[pa.Table], weights: str = "identity") -> dict:
    """The whole agreement report over the concatenated batches (items keyed by batch)."""
    table = keyed_table(batches)
    return agreement_report(table, weights=weights).to_dict()


@pytest.mark.parametrize("window", [(0, 1, 2, 3), (2, 3), (1,)])
def test_window_figures_equal_a_full_recomputation(
    project: tuple[Project, list[pa.Table]], window: tuple[int, ...]
) -> None:
    found, batches = project
    with Store.open(found.store_path) as store:
        records = store.batches()
        schema = schema_of(records[0].task_schema)
        ids = [records[i].batch_id for i in window]
        metrics = window_metrics(store, ids, schema)
        profiles = window_profiles(store, ids, schema)
    assert profiles is not None
    assert profiles.n_items == sum(read_annotations(batches[i]).n_items for i in window)
    assert profiles.table.n_items < profiles.n_items  # folded: fewer rows than items
    expected = recomputed_report([batches[i] for i in window])
    assert_same({k: v.to_dict() for k, v in metrics.items()}, expected["metrics"])
    with Store.open(found.store_path) as store:
        figures = window_figures(store, ids, schema)
    assert figures is not None
    assert figures.metrics == metrics  # one finish, two entry points
    assert (figures.n_items, figures.n_ratings) == (profiles.n_items, expected["n_ratings"])
    assert_same(figures.to_dict()["per_category"], expected["per_category"])


def test_replacing_a_batch_replaces_its_profiles(
    project: tuple[Project, list[pa.Table]], tmp_path: Path
) -> None:
    found, batches = project
    other = generated(99, n_items=120, n_annotators=2, q=4)
    path = tmp_path / "other.csv"
    pacsv.write_csv(other, path)
    ingest_batch(found, path, batch="w1", replace_batch=True)
    with Store.open(found.store_path) as store:
        records = store.batches()
        metrics = window_metrics(
            store, [r.batch_id for r in records], schema_of(records[0].task_schema)
        )
        rows = store.execute("SELECT sum(items) FROM batch_profiles").fetchone()[0]
        totals = running_totals(store)
        summed = store.execute(
            "SELECT profile, sum(items)::BIGINT FROM batch_profiles GROUP BY profile "
            "ORDER BY profile"
        ).fetchall()
    batches[1] = other
    assert rows == sum(read_annotations(b).n_items for b in batches)
    assert_same({k: v.to_dict() for k, v in metrics.items()}, recomputed(batches))
    # the replaced batch's profiles left the running totals; profiles only it had are gone
    assert [(text, items) for text, _, _, items in totals] == summed
    assert all(items > 0 for *_, items in totals)


def running_totals(store: Store) -> list[tuple]:
    """``project_profiles`` rows in profile order."""
    return store.execute("SELECT * FROM project_profiles ORDER BY profile").fetchall()


def test_running_totals_follow_every_ingest(project: tuple[Project, list[pa.Table]]) -> None:
    found, batches = project
    with Store.open(found.store_path) as store:
        totals = running_totals(store)
        summed = store.execute(
            "SELECT profile, sum(items)::BIGINT FROM batch_profiles GROUP BY profile "
            "ORDER BY profile"
        ).fetchall()
    assert [(text, items) for text, _, _, items in totals] == summed
    for text, annotators, labels, _ in totals:  # the lists are the text's ratings
        assert json.loads(text) == [list(pair) for pair in zip(annotators, labels, strict=True)]
    assert sum(items for *_, items in totals) == sum(read_annotations(b).n_items for b in batches)


def test_all_batches_from_the_totals_equal_the_grouped_rows(
    project: tuple[Project, list[pa.Table]],
) -> None:
    """The totals (every batch) and the GROUP BY path (a window) give the same bits."""
    found, _ = project
    with Store.open(found.store_path) as store:
        records = store.batches()
        schema = schema_of(records[0].task_schema)
        ids = [r.batch_id for r in records]
        from_totals = window_metrics(store, ids, schema)
        # one more batch, holding no profile: the same four batches are now a window
        store.execute(
            "INSERT INTO batches SELECT 99, 'empty', 'x', source, 'x', 'x', 0, 0, 0, 0, "
            "task_schema, ingested_at, run_id FROM batches WHERE batch_id = ?",
            (ids[0],),
        )
        grouped = window_metrics(store, ids, schema)
    assert {k: v.to_dict() for k, v in from_totals.items()} == {
        k: v.to_dict() for k, v in grouped.items()
    }


def test_migration_10_rebuilds_the_running_totals(
    project: tuple[Project, list[pa.Table]],
) -> None:
    found, _ = project
    with Store.open(found.store_path) as store:
        before = running_totals(store)
        store.execute("DROP TABLE project_profiles")
        store.execute("DELETE FROM schema_migrations WHERE version = 10")
        store.migrate()
        after = running_totals(store)
    assert after == before and len(after) > 0


def test_migration_8_backfills_existing_batches(
    project: tuple[Project, list[pa.Table]],
) -> None:
    found, batches = project
    with Store.open(found.store_path) as store:
        before = store.execute("SELECT * FROM batch_profiles ORDER BY ALL").fetchall()
        store.execute("DROP TABLE batch_profiles")
        store.execute("DELETE FROM schema_migrations WHERE version = 8")
        store.migrate()
        after = store.execute("SELECT * FROM batch_profiles ORDER BY ALL").fetchall()
    assert after == before and len(after) > 0
    assert np.sum([r[2] for r in after]) == sum(read_annotations(b).n_items for b in batches)


def test_pooled_annotator_table_equals_a_full_recomputation(
    project: tuple[Project, list[pa.Table]],
) -> None:
    """The report's annotator table over every batch, pooled from the stored per-batch
    rows (labels summed, leave-one-out agreement weighted by labels compared), equals
    :func:`annotator_report` on the concatenated batches (items keyed by batch)."""
    found, batches = project
    report = build_pipeline_report(found, Scope(mode="all"))
    table = keyed_table(batches)
    full = annotator_report(table, methods=("majority",)).to_dict()["annotators"]
    pooled = {row["annotator"]: row for row in report["annotators"]}
    assert sorted(pooled) == sorted(row["annotator"] for row in full)
    for row in full:
        got = pooled[row["annotator"]]
        assert got["n_labels"] == row["n_labels"]
        assert_same(got["loo_agreement"], row["loo_agreement"])


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n_items=st.integers(10, 60),
    n_annotators=st.integers(1, 4),
    q=st.integers(2, 4),
)
def test_weighted_per_category_equals_the_expanded_table(
    seed: int, n_items: int, n_annotators: int, q: int
) -> None:
    """Per-category agreement weighted by profile multiplicities equals the figures of
    the table the profiles stand for (every item once)."""
    table = read_annotations(generated(seed, n_items=n_items, n_annotators=n_annotators, q=q))
    profiles = ItemProfiles.of_table(table, keep=1).compact()
    got = per_category_agreement(profiles.table, multiplicity=profiles.multiplicity)
    assert_same(got, per_category_agreement(table))


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n_items=st.integers(10, 80),
    n_annotators=st.sampled_from([2, 5, 30]),
    q=st.integers(2, 5),
)
def test_profile_rows_equal_the_compacted_profiles(
    seed: int, n_items: int, n_annotators: int, q: int
) -> None:
    """The stored profile rows (one integer per item's ratings when they fit, else the
    general sort; 30 annotators do not fit) equal those of ``ItemProfiles.compact``, row
    for row."""
    from labelaudit.project.statistics import batch_profile_rows, profile_rows

    table = read_annotations(generated(seed, n_items=n_items, n_annotators=n_annotators, q=q))
    compacted = ItemProfiles.of_table(table, keep=1).compact()
    assert batch_profile_rows(table).equals(profile_rows(compacted))
