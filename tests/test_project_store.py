"""The DuckDB store: migrations, transactions, locking, hostile content, kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from labelaudit.cli.app import app
from labelaudit.exceptions import InputError, UsageError
from labelaudit.project import Store, StoreLockedError, find_project, ingest_batch, init_project
from labelaudit.project.store import MIGRATIONS, Migration

runner = CliRunner()
SRC = str(Path(__file__).resolve().parent.parent / "src")


def snapshot(store_path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted: equal snapshots = equal stores."""
    with Store.open(store_path, read_only=True) as store:
        tables = [
            row[0]
            for row in store.execute(
                "SELECT table_name FROM information_schema.tables ORDER BY table_name"
            ).fetchall()
        ]
        out = {}
        for table in tables:
            # table names come from the catalogue, not from user input
            rows = store.execute(f'SELECT * FROM "{table}"').fetchall()
            out[table] = sorted(rows, key=repr)
        return out


def write_batch(path: Path, n_items: int, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    items = np.repeat(np.arange(n_items), 3)
    annotators = np.tile(["a", "b", "c"], n_items)
    labels = rng.choice(["x", "y", "z"], size=items.size)
    pq.write_table(
        pa.table({"item": items.astype(str), "annotator": annotators, "label": labels}), path
    )
    return path


def test_migrations_recorded_and_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    with Store.open(path) as store:
        recorded = store.migrations()
        assert [m["version"] for m in recorded] == [m.version for m in MIGRATIONS]
        assert recorded[0]["name"] == MIGRATIONS[0].name and recorded[0]["tool_version"]
        assert store.migrate() == []
    with Store.open(path) as store:
        assert store.migrations() == recorded


def test_failed_migration_leaves_schema_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    Store.open(path).close()
    before = snapshot(path)
    version = max(m.version for m in MIGRATIONS) + 1
    broken = Migration(
        version, "add a table, then fail", ("CREATE TABLE extra (x INTEGER)", "NOPE")
    )
    with Store.open(path) as store, pytest.raises(Exception, match="NOPE"):
        store.migrate([*MIGRATIONS, broken])
    assert snapshot(path) == before


def test_store_from_a_newer_labelaudit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    newer = Migration(99, "from the future", ("CREATE TABLE future (x INTEGER)",))
    with Store.open(path) as store:
        store.migrate([*MIGRATIONS, newer])
    with pytest.raises(InputError, match="newer labelaudit"):
        Store.open(path)


def test_not_a_store(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(InputError, match="project store"):
        Store.open(path)


def test_transaction_rolls_back_on_error(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    Store.open(path).close()
    before = snapshot(path)
    with (
        Store.open(path) as store,
        pytest.raises(RuntimeError, match="boom"),
        store.transaction(),
    ):
        store.execute("INSERT INTO configs VALUES (?, ?, now())", ("h", "{}"))
        raise RuntimeError("boom")
    assert snapshot(path) == before


HOSTILE = [
    "'); DROP TABLE annotations; --",
    'say "hi" \\ back',
    "<script>alert(1)</script>",
    "multi\nline",
    "émoji 🙂 ü",
    "$1 ? %s {0}",
]


def test_hostile_strings_stored_verbatim(tmp_path: Path) -> None:
    project = init_project(tmp_path / "proj")
    n = len(HOSTILE)
    items = [f"{h} #{i}" for i, h in enumerate(HOSTILE)] * 2
    annotators = [HOSTILE[0]] * n + [HOSTILE[2]] * n
    labels = HOSTILE + HOSTILE[::-1]
    source = tmp_path / 'we\'ird "name"; --.parquet'
    pq.write_table(pa.table({"item": items, "annotator": annotators, "label": labels}), source)
    batch = HOSTILE[0] + " / " + HOSTILE[3]
    result = ingest_batch(project, source, batch=batch)
    assert result.outcome == "stored" and result.batch == batch
    with project.open_store(read_only=True) as store:
        (record,) = store.batches()
        stored = store.annotations(record.batch_id).to_pylist()
        tables = {r[0] for r in store.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        views = {r[0] for r in store.execute("SELECT view_name FROM duckdb_views()").fetchall()}
    stored_in = {"annotation_codes_plain", "annotation_codes_extra", "annotation_items"}
    assert stored_in | {"annotation_field_names"} <= tables
    assert {"annotations", "annotation_codes", "annotation_names"} <= views
    assert record.name == batch and record.source == str(source.resolve())
    got = sorted((r["item"], r["annotator"], r["label"]) for r in stored)
    assert got == sorted(zip(items, annotators, labels, strict=True))
    status = runner.invoke(app, ["status", "--project", str(project.root), "--format", "json"])
    assert json.loads(status.stdout)["batches"][0]["name"] == batch


def test_annotations_right_after_open_and_after_an_unread_result(tmp_path: Path) -> None:
    """DuckDB >= 2.0 refuses a relation while an execute() result is unread ("unfinished
    result"); opening runs one (check_schema), so annotations() must work first thing on
    a read-only store, and after a caller's fetchone() too."""
    project = init_project(tmp_path / "proj")
    source = tmp_path / "b.parquet"
    rows = {"item": ["a", "a", "b"], "annotator": ["x", "y", "x"], "label": ["1", "2", "1"]}
    pq.write_table(pa.table(rows), source)
    ingest_batch(project, source, batch="b1")
    for read_only in (True, False):
        with project.open_store(read_only=read_only) as store:
            assert store.annotations(1).num_rows == 3
            assert store.execute("SELECT count(*) FROM batches").fetchone() == (1,)
            assert store.annotations(1).column("item").to_pylist() == ["a", "a", "b"]


HOLDER = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {src!r})
    from pathlib import Path
    from labelaudit.project import Store
    store = Store.open(Path(sys.argv[1]))
    print("ready", flush=True)
    sys.stdin.read()
    store.close()
    """
)


def test_second_process_gets_a_clear_error(tmp_path: Path) -> None:
    project = init_project(tmp_path / "proj")
    started = time.monotonic()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER.format(src=SRC), str(project.store_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        with pytest.raises(StoreLockedError) as caught:
            Store.open(project.store_path, wait=0.3)
        assert time.monotonic() - started >= 0.3  # waited for the holder first
        message = str(caught.value)
        assert "in use by another process" in message and str(holder.pid) in message
        assert "Fix:" in message and isinstance(caught.value, UsageError)
        result = runner.invoke(
            app, ["status", "--project", str(project.root)], env={"LABELAUDIT_LOCK_WAIT": "0"}
        )
        assert result.exit_code == 2 and "in use by another process" in result.output
    finally:
        assert holder.stdin is not None and holder.stdout is not None
        holder.stdin.close()
        holder.wait(timeout=30)
        holder.stdout.close()
    with Store.open(project.store_path) as store:  # intact and usable afterwards
        assert store.migrations()


KILLED = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {src!r})
    from pathlib import Path
    from labelaudit.project import find_project, ingest_batch
    from labelaudit.project import store as store_module

    flag = Path(sys.argv[3])
    original = store_module.Store.insert_results

    def stalled(self, *args, **kwargs):
        original(self, *args, **kwargs)  # every row of the batch is written by now
        flag.write_text("inside the transaction")
        time.sleep(120)

    store_module.Store.insert_results = stalled
    ingest_batch(find_project(Path(sys.argv[1])), Path(sys.argv[2]), batch="killed")
    """
)


def test_kill_9_mid_ingest_leaves_store_unchanged(tmp_path: Path) -> None:
    project = init_project(tmp_path / "proj")
    ingest_batch(project, write_batch(tmp_path / "first.parquet", 50), batch="first")
    before = snapshot(project.store_path)
    big = write_batch(tmp_path / "big.parquet", 45_000, seed=1)  # 135k rows > 1 row group
    flag = tmp_path / "inside"
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED.format(src=SRC), str(project.root), str(big), str(flag)]
    )
    try:
        deadline = time.monotonic() + 120
        while not flag.exists():
            assert child.poll() is None, "the ingest ended before the kill"
            assert time.monotonic() < deadline, "the ingest never reached its transaction"
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    assert snapshot(project.store_path) == before
    again = ingest_batch(find_project(project.root), big, batch="killed")
    assert again.outcome == "stored" and again.n_annotations == 135_000


def test_a_failing_result_rolls_back_the_overlapped_insert(tmp_path: Path) -> None:
    """The annotations go in on a worker thread while the results are computed; a result
    that fails (here: a gold file with a label outside the categories) leaves the store
    exactly as it was, and the batch can be stored once the gold file is fixed."""
    project = init_project(tmp_path / "proj")
    ingest_batch(project, write_batch(tmp_path / "first.parquet", 50), batch="first")
    before = snapshot(project.store_path)
    gold = tmp_path / "proj" / "gold.csv"
    gold.write_text("item,label\n1,x\n2,not-a-category\n")
    config = project.config_path.read_text().replace('# file = "gold.csv"', 'file = "gold.csv"')
    project.config_path.write_text(config)
    batch = write_batch(tmp_path / "second.parquet", 20_000, seed=2)
    with pytest.raises(InputError, match="gold"):
        ingest_batch(find_project(project.root), batch, batch="second")
    assert snapshot(project.store_path) == before
    gold.write_text("item,label\n1,x\n2,y\n")
    again = ingest_batch(find_project(project.root), batch, batch="second")
    assert again.outcome == "stored" and again.n_annotations == 60_000


_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp")),
    min_size=1,
    max_size=12,
)


@settings(max_examples=10)
@given(st.lists(st.tuples(_TEXT, _TEXT, _TEXT), min_size=1, max_size=8))
def test_rows_round_trip_through_the_store(rows: list[tuple[str, str, str]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        project = init_project(Path(folder) / "proj")
        items = [f"{item}#{i}" for i, (item, _, _) in enumerate(rows)]
        table = pa.table(
            {
                "item": items,
                "annotator": [a for _, a, _ in rows],
                "label": [label for _, _, label in rows],
            }
        )
        pq.write_table(table, Path(folder) / "b.parquet")
        ingest_batch(project, Path(folder) / "b.parquet", batch=rows[0][0])
        with project.open_store(read_only=True) as store:
            (record,) = store.batches()
            stored = store.annotations(record.batch_id).to_pylist()
        assert record.name == rows[0][0]
        expected = sorted(zip(items, [a for _, a, _ in rows], [x for _, _, x in rows], strict=True))
        assert sorted((r["item"], r["annotator"], r["label"]) for r in stored) == expected
