"""Annotations stored as integer codes plus each batch's names (store migrations 11-13).

``annotation_codes`` holds a batch's rows as codes (since migration 12 a view over
``annotation_codes_plain``, batches without extra columns, and ``annotation_codes_extra``;
since migration 13 also over ``annotation_items``, batches stored one row per item),
``annotation_names`` its names (since migration 13 a view over ``annotation_field_names``
and ``annotation_items``), and the ``annotations`` view joins them back into the old
columns. :meth:`Store.annotations` and every SQL reader see what the old string table
held, row for row.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import given, settings
from hypothesis import strategies as st

from labelaudit.project import Store, ingest_batch, init_project
from labelaudit.project._item_rows import MAX_PACKED, rows_per_item
from labelaudit.project._migrations import CODED_ANNOTATIONS, CODES_VIEW, MIGRATIONS
from labelaudit.project.ingest import _stored_rows
from labelaudit.table import read_annotations

OLD_TABLE = next(s for s in MIGRATIONS[0].statements if s.startswith("CREATE TABLE annotations"))
#: What the SQL readers ask of ``annotations`` (server, decisions, calibration, reports).
VIEW_QUERIES = (
    "SELECT * FROM annotations ORDER BY ALL",
    "SELECT batch_id, item, count(*), any_value(extra) FROM annotations GROUP BY ALL ORDER BY ALL",
    "SELECT DISTINCT label FROM annotations WHERE batch_id = 1 ORDER BY label",
    "SELECT b.name, a.annotator, a.label, a.extra FROM annotations a JOIN batches b "
    "USING (batch_id) WHERE a.item = '2' ORDER BY ALL",
)


def old_rows(table: Any) -> pa.Table:
    """What the string table (before migration 11) held for ``table``: ingest's rows with
    the dictionaries decoded."""
    rows = _stored_rows(table)
    return pa.table(
        {name: rows.column(name).cast(pa.string()) for name in rows.column_names if name != "extra"}
    )


def stored_tables(store: Store) -> set[str]:
    return {r[0] for r in store.execute("SELECT table_name FROM duckdb_tables()").fetchall()}


def back_to_version_12(store: Store) -> None:
    """Rewrite a current store as version 12 held it: the batches stored one row per item
    back in ``annotation_codes_plain`` (same order), their item names in the one names
    table ``annotation_names``."""
    store.execute(
        "INSERT INTO annotation_codes_plain SELECT batch_id, item, annotator, label "
        "FROM annotation_codes WHERE batch_id IN (SELECT batch_id FROM annotation_items)"
    )
    store.execute("CREATE TABLE names_12 AS SELECT * FROM annotation_names")
    store.execute("DROP VIEW annotation_codes")
    store.execute(CODES_VIEW)
    store.execute("DROP VIEW annotation_names")
    store.execute("DROP TABLE annotation_items")
    store.execute("DROP TABLE annotation_field_names")
    store.execute("ALTER TABLE names_12 RENAME TO annotation_names")
    store.execute("DELETE FROM schema_migrations WHERE version = 13")


def back_to_version_10(store: Store, shuffle: np.random.Generator) -> dict[int, pa.Table]:
    """Rewrite a current store as version 10 held it (one string table), each batch's rows
    in a shuffled stored order (older stores kept the file's order); returns those rows."""
    back_to_version_12(store)
    held = {}
    for record in store.batches():
        rows = store.annotations(record.batch_id)
        held[record.batch_id] = rows.take(pa.array(shuffle.permutation(rows.num_rows)))
    store.execute("DROP VIEW annotations")
    store.execute("DROP VIEW annotation_codes")
    store.execute("DROP TABLE annotation_codes_plain")
    store.execute("DROP TABLE annotation_codes_extra")
    store.execute("DROP TABLE annotation_names")
    store.execute(OLD_TABLE)
    for batch_id, rows in held.items():
        store.connection.register("old_rows", rows)
        store.execute(
            "INSERT INTO annotations SELECT ?, item, annotator, label, extra FROM old_rows",
            (batch_id,),
        )
        store.connection.unregister("old_rows")
    store.execute("DELETE FROM schema_migrations WHERE version >= ?", (CODED_ANNOTATIONS,))
    return held


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_migration_11_keeps_every_batch_and_every_query(tmp_path: Path) -> None:
    project = init_project(tmp_path / "p")
    ingest_batch(
        project,
        write_csv(tmp_path / "a.csv", "item,annotator,label,note\n1,ann,x,n1\n1,bé,y,\n"
                  "2,ann,x,n3\n2,bé,x,n4\n3,ann,y,🙂\n"),
        batch="w1",
    )  # fmt: skip
    ingest_batch(
        project,
        write_csv(tmp_path / "b.csv", "item,annotator,label\n2,ann,y\n2,zoé,y\n9,zoé,x\n"),
        batch="w2",
    )
    with Store.open(project.store_path) as store:
        held = back_to_version_10(store, np.random.default_rng(3))
        assert "annotations" in stored_tables(store)
        before = [store.execute(q).fetchall() for q in VIEW_QUERIES]
    with Store.open(project.store_path) as store:  # opening migrates
        assert [m["version"] for m in store.migrations()][-3:] == [CODED_ANNOTATIONS, 12, 13]
        assert "annotations" not in stored_tables(store)
        for batch_id, rows in held.items():
            assert store.annotations(batch_id).equals(rows)  # the shuffled order kept
        assert [store.execute(q).fetchall() for q in VIEW_QUERIES] == before
    assert ingest_batch(project, tmp_path / "b.csv", batch="again").outcome == "duplicate"


def test_old_migrations_read_the_old_table(tmp_path: Path) -> None:
    """A store that misses migration 4 and 11: migration 4 rehashes from the string table."""
    project = init_project(tmp_path / "p")
    path = write_csv(tmp_path / "a.csv", "item,annotator,label\n1,a,x\n1,b,y\n2,a,x\n2,b,x\n")
    stored = ingest_batch(project, path, batch="w1")
    with Store.open(project.store_path) as store:
        back_to_version_10(store, np.random.default_rng(0))
        store.execute("UPDATE batches SET sha256 = 'v1-hash'")
        store.execute("DELETE FROM schema_migrations WHERE version = 4")
    with Store.open(project.store_path) as store:
        (batch,) = store.batches()
    assert batch.sha256 == stored.sha256


def test_round_trip_extra_columns_integer_ids_and_unicode(tmp_path: Path) -> None:
    path = tmp_path / "b.parquet"
    pq.write_table(
        pa.table(
            {
                "item": [10, 10, 7, 7, 300, 300],
                "annotator": ["ännа", "李", "ännа", "李", "ännа", "🙂"],
                "label": ["oui", "non", "non", "non", "peut-être", "oui"],
                "note": ["a", None, "c", "d", "e", "f"],
                "score": [1.5, 2.0, None, 4.0, 5.25, 6.0],
            }
        ),
        path,
    )
    project = init_project(tmp_path / "p")
    ingest_batch(project, path, batch="w1")
    table = read_annotations(path)
    expected = old_rows(table)
    with project.open_store(read_only=True) as store:
        (batch,) = store.batches()
        got = store.annotations(batch.batch_id)
        through_view = store.execute(
            "SELECT item, annotator, label, extra FROM annotations ORDER BY ALL"
        ).fetchall()
    assert got.select(["item", "annotator", "label"]).equals(expected)
    assert got.schema.field("item").type == pa.string()
    extras = [dict(m) for m in got.column("extra").to_pylist()]
    assert extras == [dict(m) for m in _stored_rows(table).column("extra").to_pylist()]
    assert sorted(map(tuple, through_view)) == sorted(
        (r["item"], r["annotator"], r["label"], dict(r["extra"])) for r in got.to_pylist()
    )
    assert sorted(got.column("item").to_pylist()) == ["10", "10", "300", "300", "7", "7"]


def test_round_trip_structured_labels(tmp_path: Path) -> None:
    spans = [
        [{"start": 0, "end": 5, "label": "PER"}],
        [{"start": 0, "end": 5, "label": "PER"}, {"start": 9, "end": 12, "label": "LOC"}],
        [],
    ]
    path = tmp_path / "spans.jsonl"
    path.write_text(
        "".join(
            json.dumps({"item": f"doc{i % 2}", "annotator": f"a{i // 2}", "label": spans[i % 3]})
            + "\n"
            for i in range(6)
        )
    )
    project = init_project(tmp_path / "p", task="spans")
    assert ingest_batch(project, path, batch="s1").outcome == "stored"
    with project.open_store(read_only=True) as store:
        (batch,) = store.batches()
        got = store.annotations(batch.batch_id)
        table = read_annotations(path, task="spans")
    assert got.select(["item", "annotator", "label"]).equals(old_rows(table))
    canonical = {json.dumps(json.loads(text), sort_keys=True) for text in got["label"].to_pylist()}
    assert canonical == {json.dumps(s, sort_keys=True) for s in spans}


def test_replace_leaves_no_orphan_codes_or_names(tmp_path: Path) -> None:
    project = init_project(tmp_path / "p")
    first = write_csv(tmp_path / "a.csv", "item,annotator,label\n1,a,x\n1,b,y\n2,a,x\n2,c,z\n")
    second = write_csv(tmp_path / "b.csv", "item,annotator,label\n5,d,q\n5,e,q\n")
    other = write_csv(tmp_path / "c.csv", "item,annotator,label\n1,a,x\n1,b,x\n")
    ingest_batch(project, first, batch="w1")
    ingest_batch(project, other, batch="w2")
    assert ingest_batch(project, second, batch="w1", replace_batch=True).outcome == "replaced"
    with project.open_store(read_only=True) as store:
        w1 = store.batch(name="w1")
        assert w1 is not None
        per_batch = store.execute(
            "SELECT batch_id, field, count(*) FROM annotation_names GROUP BY ALL ORDER BY ALL"
        ).fetchall()
        codes = store.execute(
            "SELECT batch_id, count(*) FROM annotation_codes GROUP BY ALL ORDER BY ALL"
        ).fetchall()
        got = store.annotations(w1.batch_id).to_pylist()
    w2 = 2
    assert per_batch == [
        (w1.batch_id, "annotator", 2), (w1.batch_id, "item", 1), (w1.batch_id, "label", 1),
        (w2, "annotator", 2), (w2, "item", 1), (w2, "label", 1),
    ]  # fmt: skip
    assert codes == [(w1.batch_id, 2), (w2, 2)]
    assert [(r["item"], r["annotator"], r["label"]) for r in got] == [
        ("5", "d", "q"),
        ("5", "e", "q"),
    ]


def back_to_version_11(store: Store) -> None:
    """Rewrite a current store as version 11 held it: every batch's codes in one table
    ``annotation_codes`` with its ``extra`` column (empty for batches without one)."""
    back_to_version_12(store)
    store.execute("CREATE TABLE codes_11 AS SELECT * FROM annotation_codes ORDER BY batch_id")
    store.execute("DROP VIEW annotation_codes")
    store.execute("DROP TABLE annotation_codes_plain")
    store.execute("DROP TABLE annotation_codes_extra")
    store.execute("ALTER TABLE codes_11 RENAME TO annotation_codes")
    store.execute("DELETE FROM schema_migrations WHERE version = 12")


def rolled_back(
    tmp_path: Path, back_to: Callable[[Store], None]
) -> tuple[Any, dict[int, pa.Table], list[Any], set[str]]:
    """A project with a batch with extra columns (w1) and one without (w2), rewritten by
    ``back_to`` as an older version held it; returns the project, each batch's stored
    rows and the answers of :data:`VIEW_QUERIES` before the rewrite, and the tables after
    it (opening the store again migrates it)."""
    project = init_project(tmp_path / "p")
    noted = write_csv(tmp_path / "a.csv", "item,annotator,label,note\n1,a,x,n1\n1,b,y,\n"
                      "2,a,x,🙂\n")  # fmt: skip
    plain = write_csv(tmp_path / "b.csv", "item,annotator,label\n2,b,y\n2,c,y\n9,c,x\n")
    ingest_batch(project, noted, batch="w1")
    ingest_batch(project, plain, batch="w2")
    with Store.open(project.store_path) as store:
        held = {b.batch_id: store.annotations(b.batch_id) for b in store.batches()}
        before = [store.execute(q).fetchall() for q in VIEW_QUERIES]
        back_to(store)
        return project, held, before, stored_tables(store)


def test_migration_12_keeps_rows_and_queries_and_splits_new_batches(tmp_path: Path) -> None:
    project, held, before, tables = rolled_back(tmp_path, back_to_version_11)
    assert "annotation_codes" in tables
    with Store.open(project.store_path) as store:  # opening migrates
        assert [m["version"] for m in store.migrations()][-2:] == [12, 13]
        assert {"annotation_codes_plain", "annotation_codes_extra"} <= stored_tables(store)
        assert "annotation_codes" not in stored_tables(store)  # a view now
        for batch_id, rows in held.items():
            assert store.annotations(batch_id).equals(rows)
        assert [store.execute(q).fetchall() for q in VIEW_QUERIES] == before
    third = write_csv(tmp_path / "c.csv", "item,annotator,label\n7,a,x\n7,b,x\n")
    ingest_batch(project, third, batch="w3")  # no extra column: one row per item
    renoted = write_csv(tmp_path / "d.csv", "item,annotator,label,note\n4,a,x,n1\n4,b,y,\n")
    ingest_batch(project, renoted, batch="w2", replace_batch=True)  # rows leave the old table
    with project.open_store(read_only=True) as store:
        counts = {
            table: store.execute(
                f"SELECT batch_id, count(*) FROM {table} GROUP BY ALL ORDER BY ALL"
            ).fetchall()
            for table in ("annotation_codes_plain", "annotation_codes_extra", "annotation_items")
        }
        replaced = store.annotations(2).to_pylist()
    assert counts == {
        "annotation_codes_plain": [],  # w2's rows left with it
        "annotation_codes_extra": [(1, 3), (2, 2)],  # the old rows (w2's replaced)
        "annotation_items": [(3, 1)],  # the new batch without extra columns: item 7
    }
    assert [r["extra"] for r in replaced] == [[("note", "n1")], [("note", None)]]


names = st.text(min_size=0, max_size=6)


def grouped_by_item(rows: pa.Table) -> pa.Table:
    """``rows`` reordered so that each item's rows are together (in the order of the item
    codes, as ingest writes them), each item's rows in their order."""
    item = rows.column("item").combine_chunks()
    codes = item.indices if pa.types.is_dictionary(item.type) else item.dictionary_encode().indices
    return rows.take(pa.array(np.argsort(codes.to_numpy(), kind="stable")))


@st.composite
def small_tables(draw: st.DrawFn) -> tuple[pa.Table, bool]:
    """Rows of strings (empty, unicode, repeated), some columns dictionary-encoded, with or
    without an ``extra`` map, some grouped by item (stored one row per item)."""
    n = draw(st.integers(0, 25))
    columns: dict[str, pa.Array] = {}
    for name in ("item", "annotator", "label"):
        pool = draw(st.lists(names, min_size=1, max_size=5))
        values = pa.array(
            draw(st.lists(st.sampled_from(pool), min_size=n, max_size=n)), pa.string()
        )
        columns[name] = values.dictionary_encode() if draw(st.booleans()) else values
    extra = draw(st.booleans())
    if extra:
        entries = draw(
            st.lists(st.dictionaries(names, st.none() | names, max_size=2), min_size=n, max_size=n)
        )
        columns["extra"] = pa.array(
            [list(e.items()) for e in entries], pa.map_(pa.string(), pa.string())
        )
    table = pa.table(columns)
    return (grouped_by_item(table) if draw(st.booleans()) else table), extra


def rows_per_item_possible(rows: pa.Table) -> bool:
    """Whether the rows' items are grouped (each item's rows together, items in code order)."""
    return grouped_by_item(rows).equals(rows)


@settings(max_examples=60, deadline=None)
@given(tables=st.lists(small_tables(), min_size=1, max_size=3))
def test_stored_annotations_equal_the_rows(tables: list[tuple[pa.Table, bool]]) -> None:
    store = Store(duckdb.connect(), Path(":memory:"), read_only=False)
    store.migrate()
    with store:
        for batch_id, (rows, _) in enumerate(tables, start=1):
            store.insert_annotations(batch_id, rows)
        for batch_id, (rows, extra) in enumerate(tables, start=1):
            got = store.annotations(batch_id)
            for name in ("item", "annotator", "label"):
                want = rows.column(name).cast(pa.string())
                assert got.column(name).to_pylist() == want.to_pylist()
            maps = got.column("extra").to_pylist()
            if extra:
                assert maps == rows.column("extra").to_pylist()
            else:
                assert maps == [None] * rows.num_rows
            (per_item,) = store.execute(
                "SELECT count(*) FROM annotation_items WHERE batch_id = ?", (batch_id,)
            ).fetchone()
            if extra or rows.num_rows == 0:
                assert per_item == 0
            elif rows_per_item_possible(rows):
                assert per_item == len(set(rows.column("item").to_pylist()))
            view = store.execute(
                "SELECT item, annotator, label FROM annotations WHERE batch_id = ?", (batch_id,)
            ).fetchall()
            assert sorted(view) == sorted(
                zip(
                    *(
                        rows.column(n).cast(pa.string()).to_pylist()
                        for n in ("item", "annotator", "label")
                    ),
                    strict=True,
                )
            )


def test_labels_seen_are_the_distinct_labels_of_the_view(tmp_path: Path) -> None:
    """Declared categories never used are names of the batch, not labels seen."""
    project = init_project(tmp_path / "p", categories=("x", "y", "z", "unused"))
    ingest_batch(
        project,
        write_csv(tmp_path / "a.csv", "item,annotator,label\n1,a,z\n1,b,x\n2,a,x\n"),
        batch="w1",
    )
    with project.open_store(read_only=True) as store:
        (batch,) = store.batches()
        view = store.execute(
            "SELECT DISTINCT label FROM annotations WHERE batch_id = ? ORDER BY label",
            (batch.batch_id,),
        ).fetchall()
        names = store.execute(
            "SELECT count(*) FROM annotation_names WHERE field = 'label'"
        ).fetchall()
        assert store.labels_seen(batch.batch_id) == [row[0] for row in view] == ["x", "z"]
    assert names == [(4,)]


def coded(item: list[int], annotator: list[int], label: list[int], sizes: tuple[int, ...]) -> dict:
    """Dictionary arrays of the given codes, the names ``"<field><code>"``."""
    return {
        field: pa.DictionaryArray.from_arrays(
            pa.array(codes, pa.int32()), pa.array([f"{field}{i}" for i in range(size)])
        )
        for field, codes, size in zip(
            ("item", "annotator", "label"), (item, annotator, label), sizes, strict=True
        )
    }


def test_rows_per_item_packs_each_items_rows_in_order() -> None:
    got = rows_per_item(coded([0, 0, 0, 2, 2], [1, 0, 2, 0, 1], [2, 0, 1, 1, 1], (3, 3, 3)))
    assert got is not None
    table, label_bits = got
    assert label_bits == 2  # label codes 0 .. 2
    assert table.column("item").to_pylist() == [0, 1, 2]
    assert table.column("name").to_pylist() == ["item0", "item1", "item2"]  # item1: no rows
    # annotator << 2 | label: (1, 2) -> 6, (0, 0) -> 0, (2, 1) -> 9; (0, 1) -> 1, (1, 1) -> 5
    assert table.column("pairs").to_pylist() == [[6, 0, 9], [], [1, 5]]


def test_rows_per_item_refuses_what_it_cannot_keep() -> None:
    assert rows_per_item(coded([1, 0], [0, 0], [0, 0], (2, 1, 1))) is None  # not grouped
    side = 1 << 16  # annotator << 16 | label would pass 2**31 - 1
    assert side * side > MAX_PACKED
    assert rows_per_item(coded([0, 0], [0, side - 1], [0, side - 1], (1, side, side))) is None
    half = side // 2  # the largest code, (half - 1) << 16 | (side - 1), is 2**31 - 1
    fits = rows_per_item(coded([0, 0], [0, half - 1], [0, side - 1], (1, half, side)))
    assert fits is not None
    assert fits[0].column("pairs").to_pylist() == [[0, MAX_PACKED]]
    missing = coded([0, 0], [0, 1], [0, 0], (1, 2, 1))
    missing["label"] = pa.DictionaryArray.from_arrays(pa.array([0, None]), pa.array(["x"]))
    assert rows_per_item(missing) is None


def test_migration_13_keeps_batches_and_stores_new_ones_per_item(tmp_path: Path) -> None:
    project, held, before, tables = rolled_back(tmp_path, back_to_version_12)
    assert "annotation_names" in tables
    with Store.open(project.store_path) as store:  # opening migrates
        assert [m["version"] for m in store.migrations()][-1] == 13
        assert {"annotation_items", "annotation_field_names"} <= stored_tables(store)
        assert "annotation_names" not in stored_tables(store)  # a view now
        assert store.execute("SELECT count(*) FROM annotation_items").fetchone() == (0,)
        for batch_id, rows in held.items():
            assert store.annotations(batch_id).equals(rows)
        assert [store.execute(q).fetchall() for q in VIEW_QUERIES] == before
    assert ingest_batch(project, tmp_path / "b.csv", batch="again").outcome == "duplicate"
    third = write_csv(tmp_path / "c.csv", "item,annotator,label\n7,b,x\n7,a,y\n8,a,x\n")
    fourth = write_csv(tmp_path / "d.csv", "item,annotator,label\n5,c,z\n")
    ingest_batch(project, third, batch="w3")
    ingest_batch(project, fourth, batch="w2", replace_batch=True)  # leaves the plain table
    with project.open_store(read_only=True) as store:
        items = store.execute(
            "SELECT batch_id, item, name, label_bits, pairs FROM annotation_items ORDER BY ALL"
        ).fetchall()
        plain_rows = store.execute("SELECT count(*) FROM annotation_codes_plain").fetchone()
        item_names = store.execute(
            "SELECT batch_id, count(*) FROM annotation_field_names WHERE field = 'item' "
            "GROUP BY ALL"
        ).fetchall()
        got = [store.annotations(b).to_pylist() for b in (2, 3)]
    # w3: items 7 and 8, annotators a (0) and b (1), labels x (0) and y (1): one label
    # bit; each item's rows in annotator order (as ingest stores them): 7 a y = 0 << 1 | 1,
    # 7 b x = 1 << 1 | 0. w2 now: one label, no label bit.
    assert items == [(2, 0, "5", 0, [0]), (3, 0, "7", 1, [1, 2]), (3, 1, "8", 1, [0])]
    assert plain_rows == (0,)
    assert item_names == [(1, 2)]  # w1's (extra columns: one row per annotation)
    assert [[(r["item"], r["annotator"], r["label"]) for r in rows] for rows in got] == [
        [("5", "c", "z")],
        [("7", "a", "y"), ("7", "b", "x"), ("8", "a", "x")],
    ]
