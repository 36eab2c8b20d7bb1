"""Parquet input: low-cardinality string columns read as Arrow dictionaries (from the file's
own dictionary pages), every page layout giving the same table as CSV."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from labelaudit.agreement import agreement_report
from labelaudit.exceptions import InputError
from labelaudit.table import load_source, read_annotations

N_ITEMS = 600


def long_table(seed: int = 3, n_items: int = N_ITEMS) -> pa.Table:
    """Items ``doc-<n>`` (high cardinality), 4 annotators with names of unequal length,
    labels from 3 categories; every item rated by 2 to 4 annotators, rows shuffled."""
    rng = np.random.default_rng(seed)
    names = np.array(["ann", "bob", "carol-long-name", "Zed"], dtype=object)
    rated = rng.random((n_items, names.size)) < 0.75
    rated[:, :2] = True
    items, raters = np.nonzero(rated)
    order = rng.permutation(items.size)
    items, raters = items[order], raters[order]
    labels = np.array(["pos", "neg", "mixed"], dtype=object)[rng.integers(0, 3, items.size)]
    return pa.table(
        {
            "item": pa.array([f"doc-{i}" for i in items]),
            "annotator": pa.array(names[raters].tolist()),
            "label": pa.array(labels.tolist()),
        }
    )


def same_tables(a, b) -> None:  # type: ignore[no-untyped-def]
    """Every code, name and canonical column of two tables agree."""
    assert list(a.items) == list(b.items)
    assert list(a.annotators) == list(b.annotators)
    assert list(a.categories) == list(b.categories)
    for name in ("item_codes", "annotator_codes", "label_codes"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    for column in ("item", "annotator", "label"):
        assert a.data.column(column).type == pa.string()
        assert a.data.column(column).to_pylist() == b.data.column(column).to_pylist()
    assert a.content_sha256 == b.content_sha256


def csv_twin(table: pa.Table, path: Path) -> Path:
    pacsv.write_csv(table, path)
    return path


def test_low_cardinality_columns_come_as_dictionaries(tmp_path: Path) -> None:
    table = long_table()
    path = tmp_path / "dict.parquet"
    pq.write_table(table, path)  # Arrow's default: dictionary pages
    loaded, _ = load_source(path, None, dictionary={"item", "annotator", "label"})
    assert pa.types.is_dictionary(loaded.column("annotator").type)
    assert pa.types.is_dictionary(loaded.column("label").type)
    # 600 distinct items of ~7 bytes: more than 2 bytes a value, read as plain strings
    assert loaded.column("item").type == pa.string()
    # only the columns asked for; without a request nothing changes
    assert load_source(path, None)[0].schema == table.schema
    asked, _ = load_source(path, None, dictionary={"label"})
    assert asked.column("annotator").type == pa.string()
    same_tables(read_annotations(path), read_annotations(csv_twin(table, tmp_path / "a.csv")))


def test_plain_encoded_file_reads_the_same(tmp_path: Path) -> None:
    table = long_table()
    path = tmp_path / "plain.parquet"
    pq.write_table(table, path, use_dictionary=False)  # as other writers may do
    loaded, _ = load_source(path, None, dictionary={"annotator", "label"})
    assert loaded.schema == table.schema  # no dictionary page: strings
    dictionary = tmp_path / "dict.parquet"
    pq.write_table(table, dictionary)
    same_tables(read_annotations(path), read_annotations(dictionary))


def test_row_groups_with_differing_dictionaries(tmp_path: Path) -> None:
    """Each row group has its own dictionary (other annotators, other order, a value
    with surrounding spaces): unified, trimmed and sorted as the CSV reader does."""
    parts = []
    for group, names in enumerate((["bob", "ann"], ["Zed", " ann ", "émile"], ["ann"])):
        rows = 400
        items = [f"doc-{(group * 97 + k) % 500}" for k in range(rows)]
        parts.append(
            pa.table(
                {
                    "item": items,
                    "annotator": [names[k % len(names)] for k in range(rows)],
                    "label": [("a", "b", "c")[(k * 7 + group) % 3] for k in range(rows)],
                }
            )
        )
    path = tmp_path / "groups.parquet"
    with pq.ParquetWriter(path, parts[0].schema) as writer:
        for part in parts:
            writer.write_table(part)
    assert pq.ParquetFile(path).metadata.num_row_groups == 3
    loaded, _ = load_source(path, None, dictionary={"annotator"})
    column = loaded.column("annotator")
    assert pa.types.is_dictionary(column.type) and column.num_chunks == 3
    dictionaries = [chunk.dictionary.to_pylist() for chunk in column.chunks]
    assert len({tuple(d) for d in dictionaries}) == 3  # really different dictionaries
    merged = pa.concat_tables(parts)
    table = read_annotations(path, on_duplicate="keep-last")
    same_tables(
        table, read_annotations(csv_twin(merged, tmp_path / "g.csv"), on_duplicate="keep-last")
    )
    assert list(table.annotators) == ["Zed", "ann", "bob", "émile"]  # UTF-8 byte order


def test_nulls_in_a_dictionary_column_name_the_row(tmp_path: Path) -> None:
    table = long_table()
    annotators = table.column("annotator").to_pylist()
    annotators[1234] = None
    path = tmp_path / "nulls.parquet"
    pq.write_table(table.set_column(1, "annotator", pa.array(annotators)), path)
    assert pa.types.is_dictionary(
        load_source(path, None, dictionary={"annotator"})[0].column("annotator").type
    )
    with pytest.raises(InputError, match="missing annotator") as error:
        read_annotations(path)
    assert error.value.line == 1235  # rows count from 1
    labels = table.column("label").to_pylist()
    labels[7] = " "  # blank after trimming: missing too
    blank = tmp_path / "blank.parquet"
    pq.write_table(table.set_column(2, "label", pa.array(labels)), blank)
    with pytest.raises(InputError, match="missing label") as error:
        read_annotations(blank)
    assert error.value.line == 8


def test_na_values_apply_to_dictionary_columns(tmp_path: Path) -> None:
    table = long_table()
    labels = table.column("label").to_pylist()
    labels = ["NA" if k % 50 == 0 else v for k, v in enumerate(labels)]
    path = tmp_path / "na.parquet"
    pq.write_table(table.set_column(2, "label", pa.array(labels)), path)
    assert "NA" in read_annotations(path).categories
    with pytest.raises(InputError, match="missing label"):
        read_annotations(path, na_values="NA")


def test_non_string_ids_and_labels(tmp_path: Path) -> None:
    """Integer items and annotators, integer and float labels: read as their text, the
    same as from CSV (low-cardinality integers stay integers: only strings are dictionaries)."""
    rng = np.random.default_rng(5)
    n = 3000
    table = pa.table(
        {
            "item": pa.array(rng.integers(0, 800, n) * 3 + 7),
            "annotator": pa.array(rng.integers(1, 6, n).astype(np.int32)),
            "label": pa.array(rng.integers(0, 4, n).astype(np.float64)),
        }
    )
    path = tmp_path / "ints.parquet"
    pq.write_table(table, path)
    loaded, _ = load_source(path, None, dictionary={"item", "annotator", "label"})
    assert loaded.schema == table.schema
    parquet = read_annotations(path, on_duplicate="keep-last", level="ordinal")
    csv = read_annotations(
        csv_twin(table, tmp_path / "i.csv"), on_duplicate="keep-last", level="ordinal"
    )
    same_tables(parquet, csv)
    assert list(parquet.categories) == ["0", "1", "2", "3"]


def test_an_unused_alias_keeps_its_strings(tmp_path: Path) -> None:
    table = long_table().append_column(
        "task", pa.array(["t1", "t2"] * (long_table().num_rows // 2))
    )
    path = tmp_path / "alias.parquet"
    pq.write_table(table, path)
    read = read_annotations(path)  # "item" wins over the alias "task", carried along
    assert read.data.column("task").type == pa.string()
    assert read.data.column("task").to_pylist()[:2] == ["t1", "t2"]


def test_report_identical_from_dictionary_and_plain_parquet(tmp_path: Path) -> None:
    table = long_table(seed=11, n_items=2000)
    dictionary, plain = tmp_path / "d.parquet", tmp_path / "p.parquet"
    pq.write_table(table, dictionary, row_group_size=1500)
    pq.write_table(table, plain, use_dictionary=False)
    a = agreement_report(read_annotations(dictionary)).to_dict()
    b = agreement_report(read_annotations(plain)).to_dict()
    a["input"].pop("source"), b["input"].pop("source")
    assert a == b


def test_large_string_columns_stay_as_read(tmp_path: Path) -> None:
    table = long_table()
    large = table.set_column(1, "annotator", table.column("annotator").cast(pa.large_string()))
    path = tmp_path / "large.parquet"
    pq.write_table(large, path)
    loaded, _ = load_source(path, None, dictionary={"annotator", "label"})
    assert loaded.column("annotator").type == pa.large_string()
    assert pa.types.is_dictionary(loaded.column("label").type)
    same = tmp_path / "same.parquet"
    pq.write_table(table, same)
    assert list(read_annotations(path).annotators) == list(read_annotations(same).annotators)


def test_few_items_come_as_a_dictionary_too(tmp_path: Path) -> None:
    """30 items x 40 annotators: every column is a dictionary; the item names are then
    sorted from the dictionary (no 64-bit keys) and the table is the CSV one."""
    items = [f"q{i:02d}" for i in range(30) for _ in range(40)]
    table = pa.table(
        {
            "item": items,
            "annotator": [f"rater {a}" for _ in range(30) for a in range(40)],
            "label": [str((i * 7 + a) % 5) for i in range(30) for a in range(40)],
        }
    )
    path = tmp_path / "few.parquet"
    pq.write_table(table, path)
    loaded, _ = load_source(path, None, dictionary={"item", "annotator", "label"})
    assert all(pa.types.is_dictionary(column.type) for column in loaded.columns)
    same_tables(read_annotations(path), read_annotations(csv_twin(table, tmp_path / "f.csv")))
