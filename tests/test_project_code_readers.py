"""The SQL readers that scan many rows work on ``annotation_codes`` (filter, group and join
on the integer codes, decode only the rows returned): each one returns what the same query
over the ``annotations`` view returns, row for row, on stores of several batches whose
equal names have different codes (unicode names, integer item ids).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import given, settings
from hypothesis import strategies as st

from labelaudit.guidelines import calibration
from labelaudit.pipeline_report import _queries as report_queries
from labelaudit.project import Store, decisions, ingest_batch, init_project
from labelaudit.project.store import BatchRecord
from labelaudit.server import views

# The readers as they were written over the view (the disagreements' ties made explicit:
# the most common label, then the smallest name).
_DECIDED_LATEST = decisions._LATEST
VIEW = {
    "disagree": """
WITH mine AS (SELECT item, label, extra FROM annotations WHERE batch_id = ? AND annotator = ?),
votes AS (SELECT item, label, count(*) AS n FROM annotations
          WHERE batch_id = ? AND item IN (SELECT item FROM mine) GROUP BY item, label),
top AS (SELECT item, arg_min(label, (-n, label)) AS label, max(n) AS n, sum(n) AS total
        FROM votes GROUP BY item)
SELECT m.item, m.label, t.label, t.n, t.total, m.extra FROM mine m JOIN top t USING (item)
WHERE m.label <> t.label ORDER BY m.item LIMIT ?""",
    "report_texts": "SELECT a.item, any_value(a.extra) FROM annotations a JOIN batches b USING "
    "(batch_id) WHERE b.name = ? AND list_contains(?::VARCHAR[], a.item) GROUP BY a.item",
    "calibration_stored": "SELECT DISTINCT item FROM annotations "
    "WHERE list_contains(?::VARCHAR[], item)",
    "calibration_texts": "SELECT item, batch_id, any_value(extra) FROM annotations "
    "WHERE list_contains(?::VARCHAR[], item) GROUP BY item, batch_id ORDER BY batch_id",
    "item_batches": "SELECT DISTINCT batch_id FROM annotations WHERE item = ?",
    "items_batches": "SELECT DISTINCT batch_id FROM annotations WHERE list_contains(?, item)",
    "agreement": "WITH d AS (" + _DECIDED_LATEST + ") SELECT a.batch_id, a.annotator, "
    "count(*) AS n, count(*) FILTER (WHERE a.label = d.label) AS agreed FROM annotations a "
    "JOIN d USING (item) WHERE list_contains(?::BIGINT[], a.batch_id) GROUP BY a.batch_id, "
    "a.annotator ORDER BY a.batch_id, a.annotator",
    "decided_rows": "WITH d AS (" + _DECIDED_LATEST + ") SELECT a.batch_id, a.item, "
    "a.annotator, a.label FROM annotations a JOIN d USING (item) "
    "WHERE list_contains(?::BIGINT[], a.batch_id) ORDER BY a.batch_id, a.item, a.annotator",
}
CODES = {
    "disagree": views._DISAGREE,
    "report_texts": report_queries._TEXTS,
    "calibration_stored": calibration._STORED,
    "calibration_texts": calibration._TEXTS,
    "item_batches": decisions._ITEM_BATCHES,
    "items_batches": decisions._ITEMS_BATCHES,
    "agreement": decisions._AGREEMENT,
    "decided_rows": decisions._DECIDED_ROWS,
}
UNORDERED = {
    "report_texts",
    "calibration_stored",
    "calibration_texts",
    "item_batches",
    "items_batches",
}  # no ORDER BY: the callers make sets or dicts of them


def both(store: Store, key: str, view: tuple[Any, ...], codes: tuple[Any, ...]) -> tuple:
    """The rows of the view query and of the codes query, with their column types."""
    found = []
    for sql, parameters in ((VIEW[key], view), (CODES[key], codes)):
        result = store.execute(sql, parameters)
        rows = result.fetchall()
        types = [str(d[1]) for d in result.description]
        if key in UNORDERED:
            rows = sorted(rows, key=repr)
        if key == "calibration_texts":  # ORDER BY batch_id only: order items within one
            rows = sorted(rows, key=lambda r: (r[1], repr(r)))
        found.append((rows, types))
    return found[0], found[1]


def check_readers(store: Store, annotators: list[str], items: list[str]) -> int:
    """Every rewritten reader equals its view query; returns how many rows were compared."""
    batches = [(b.batch_id, b.name) for b in store.batches()]
    ids = [b for b, _ in batches]
    compared = 0
    cases: list[tuple[str, tuple[Any, ...], tuple[Any, ...]]] = [
        ("calibration_stored", (items,), (items,)),
        ("calibration_texts", (items,), (items,)),
        ("items_batches", (items,), (items,)),
        ("agreement", (ids,), (ids,)),
        ("decided_rows", (ids,), (ids,)),
        *(("item_batches", (i,), (i,)) for i in items),
    ]
    for batch_id, name in batches:
        cases.append(("report_texts", (name, items), (name, items)))
        cases += [
            ("disagree", (batch_id, a, batch_id, n), (batch_id, a, batch_id, batch_id, n))
            for a in annotators
            for n in (1, 2, 1000)
        ]
    for key, view, codes in cases:
        old, new = both(store, key, view, codes)
        assert new == old, key
        compared += len(new[0])
    return compared


def add_decisions(store: Store, decided: list[tuple[str, str]]) -> None:
    """Decisions in this order (an item decided twice: the later one counts)."""
    for k, (item, label) in enumerate(decided):
        store.execute(
            "INSERT INTO decisions VALUES (?, ?, 'me', 'test', ?, ?, '', ?)",
            (item, label, item, 1 + k, datetime(2026, 1, 1 + k)),
        )


def test_readers_on_ingested_batches_with_integer_ids(tmp_path: Path) -> None:
    """Two ingested files: item ids are integers, equal names have different codes."""
    project = init_project(tmp_path / "p")
    files = {
        "w1": {
            "item": [10, 10, 10, 7, 7, 300, 300, 300],
            "annotator": ["ännа", "李", "🙂", "ännа", "李", "ännа", "李", "🙂"],
            "label": ["oui", "non", "non", "non", "peut-être", "oui", "non", "peut-être"],
        },
        "w2": {
            "item": [7, 7, 7, 2, 2, 10, 10],
            "annotator": ["zoé", "李", "ännа", "zoé", "李", "zoé", "ännа"],
            "label": ["peut-être", "non", "non", "oui", "oui", "ab", "oui"],
        },
    }
    for name, columns in files.items():
        columns["text"] = [f"{name} text of {i}" for i in columns["item"]]
        pq.write_table(pa.table(columns), tmp_path / f"{name}.parquet")
        assert ingest_batch(project, tmp_path / f"{name}.parquet", batch=name).outcome == "stored"
    with Store.open(project.store_path) as store:
        codes = store.execute(
            "SELECT field, name, list(code ORDER BY batch_id) FROM annotation_names "
            "GROUP BY ALL HAVING count(*) = 2 AND min(code) <> max(code)"
        ).fetchall()
        assert {row[0] for row in codes} == {"item", "annotator", "label"}
        add_decisions(store, [("7", "oui"), ("7", "non"), ("10", "oui"), ("300", "nope")])
        annotators = ["ännа", "李", "🙂", "zoé", "nobody"]
        assert check_readers(store, annotators, ["10", "7", "2", "300", "99"]) > 30


names = st.text(min_size=0, max_size=4) | st.integers(0, 40).map(str)


@st.composite
def batches(draw: st.DrawFn) -> list[pa.Table]:
    """Batches drawn from shared pools of names, one row per (item, annotator); each
    batch's dictionaries in a drawn order (so equal names get different codes)."""
    sizes = {"i": 8, "a": 4, "l": 3}
    pools = {
        f: draw(st.lists(names, min_size=1, max_size=k, unique=True)) for f, k in sizes.items()
    }
    tables = []
    for b in range(draw(st.integers(1, 3))):
        pairs = draw(
            st.lists(
                st.tuples(st.sampled_from(pools["i"]), st.sampled_from(pools["a"])),
                unique=True,
                max_size=30,
            )
        )
        labels = draw(st.lists(st.sampled_from(pools["l"]), min_size=len(pairs)))
        columns = {"item": [p[0] for p in pairs], "annotator": [p[1] for p in pairs]}
        columns["label"] = labels[: len(pairs)]
        arrays = {}
        for name, values in columns.items():
            vocabulary = draw(st.permutations(sorted(set(values)))) if values else []
            index = {v: k for k, v in enumerate(vocabulary)}
            arrays[name] = pa.DictionaryArray.from_arrays(
                pa.array([index[v] for v in values], pa.int32()), pa.array(vocabulary, pa.string())
            )
        text = [[("text", f"{b}:{i}")] for i in columns["item"]]
        arrays["extra"] = pa.array(text, pa.map_(pa.string(), pa.string()))
        tables.append(pa.table(arrays))
    return tables


@settings(max_examples=25, deadline=None)
@given(tables=batches(), decided=st.lists(st.tuples(names, names), max_size=4))
def test_readers_equal_the_view_queries(
    tables: list[pa.Table], decided: list[tuple[str, str]]
) -> None:
    store = Store(duckdb.connect(), Path(":memory:"), read_only=False)
    store.migrate()
    with store:
        for batch_id, rows in enumerate(tables, start=1):
            store.insert_batch(
                BatchRecord(
                    batch_id, f"b{batch_id}", f"s{batch_id}", "t", "", "", rows.num_rows, 0, 0,
                    0, "{}", datetime(2026, 1, 1), 1,
                )
            )  # fmt: skip
            store.insert_annotations(batch_id, rows)
        stored = {f: set() for f in ("item", "annotator", "label")}
        for rows in tables:
            for f in stored:
                stored[f].update(rows.column(f).cast(pa.string()).to_pylist())
        labels = sorted(stored["label"])
        items = sorted(stored["item"])
        decided += [(i, labels[k % len(labels)]) for k, i in enumerate(items[:3]) if labels]
        add_decisions(store, decided)
        wanted = items[::2] + [i for i, _ in decided]
        check_readers(store, [*sorted(stored["annotator"]), "nobody"], sorted(set(wanted)))
