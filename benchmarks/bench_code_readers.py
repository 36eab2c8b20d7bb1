"""The SQL readers on ``annotation_codes`` against the same queries over the ``annotations``
view (store migration 11), on a real project store.

Build the store once (4,499,520 rows: 1M items x 5 annotators)::

    OPENBLAS_NUM_THREADS=1 .venv/bin/labelaudit init /tmp/rdproj
    OPENBLAS_NUM_THREADS=1 .venv/bin/labelaudit ingest /tmp/e2eq/e2e.parquet \
        --project /tmp/rdproj --batch b1

then::

    .venv/bin/python benchmarks/bench_code_readers.py /tmp/rdproj/labelaudit.duckdb

Both versions of each query (``VIEW`` and ``CODES`` of ``tests/test_project_code_readers.py``,
where they are checked equal) run in this one process on the first batch, best of 3 wall
times; 50 items (or 5,000) drawn by hash; 1,000 decisions are inserted in a transaction that
is rolled back (the store is left as it was). Prints both times, the ratio and whether the
rows are equal.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
from labelaudit.project.store import Store
from test_project_code_readers import CODES, UNORDERED, VIEW

#: The disagreements query as written over the view before (ties: whichever came first).
AS_SHIPPED = VIEW["disagree"].replace("arg_min(label, (-n, label))", "arg_max(label, n)")


def best(store: Store, sql: str, parameters: tuple[Any, ...]) -> tuple[float, list[Any]]:
    """Best of 3 wall times (s) of one query and its rows."""
    times, rows = [], []
    for _ in range(3):
        start = time.perf_counter()
        rows = store.execute(sql, parameters).fetchall()
        times.append(time.perf_counter() - start)
    return min(times), rows


def names(store: Store, field: str, limit: int, salt: str = "") -> list[str]:
    """``limit`` names of a field of batch 1, in a hash order."""
    rows = store.execute(
        "SELECT name FROM annotation_names WHERE batch_id = 1 AND field = ? "
        "ORDER BY hash(name || ?) LIMIT ?",
        (field, salt, limit),
    ).fetchall()
    return [row[0] for row in rows]


def main(path: Path) -> None:
    """Time every reader both ways on the store at ``path``."""
    with Store.open(path) as store:
        (annotator,) = names(store, "annotator", 1)
        labels = names(store, "label", 100)
        items, many = names(store, "item", 50), names(store, "item", 5000)
        store.execute("BEGIN TRANSACTION")
        store.connection.executemany(
            "INSERT INTO decisions VALUES (?, ?, 'bench', 'bench', ?, 1, '', now())",
            [
                (i, labels[k % len(labels)], i)
                for k, i in enumerate(names(store, "item", 1000, "d"))
            ],
        )
        one = (1, annotator, 1)
        cases = [
            ("disagree", (*one, 50), (*one, 1, 50)),
            ("report_texts", ("b1", items), ("b1", items)),
            ("report_texts", ("b1", many), ("b1", many)),
            ("calibration_stored", (items,), (items,)),
            ("calibration_texts", (items,), (items,)),
            ("calibration_texts", (many,), (many,)),
            ("item_batches", (items[0],), (items[0],)),
            ("items_batches", (items,), (items,)),
            ("agreement", ([1],), ([1],)),
            ("decided_rows", ([1],), ([1],)),
        ]
        for key, view, codes in cases:
            old, old_rows = best(store, VIEW[key], view)
            new, new_rows = best(store, CODES[key], codes)
            if key in UNORDERED:
                old_rows, new_rows = sorted(old_rows, key=repr), sorted(new_rows, key=repr)
            print(
                f"{key:18s} {len(view[-1]) if isinstance(view[-1], list) else '':>5} "
                f"view {old * 1000:8.1f} ms  codes {new * 1000:8.1f} ms  "
                f"x{old / new:5.2f}  rows {len(new_rows):>5} equal={old_rows == new_rows}"
            )
        shipped, _ = best(store, AS_SHIPPED, (*one, 50))
        print(f"disagree as it was over the view (ties arbitrary): {shipped * 1000:.1f} ms")
        every, _ = best(store, "SELECT DISTINCT item FROM annotations", ())
        print(f"calibration_stored as it was (every stored item): {every * 1000:.1f} ms")
        store.execute("ROLLBACK")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
