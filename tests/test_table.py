"""The canonical table: readers, column resolution, wide layout, validation messages."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelaudit.exceptions import InputError, UsageError
from labelaudit.table import read_annotations

ROWS = [("i1", "ann", "pos"), ("i1", "bob", "neg"), ("i2", "ann", "pos"), ("i2", "bob", "pos")]


def write_csv(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "a.csv", "item,annotator,label", [",".join(r) for r in ROWS])


def same_content(table_a, table_b) -> bool:  # type: ignore[no-untyped-def]
    return (
        np.array_equal(
            table_a.to_units_by_raters(codes=True),
            table_b.to_units_by_raters(codes=True),
            equal_nan=True,
        )
        and list(table_a.items) == list(table_b.items)
        and list(table_a.annotators) == list(table_b.annotators)
        and list(table_a.categories) == list(table_b.categories)
    )


def test_every_format_reads_the_same_table(tmp_path: Path, csv_file: Path) -> None:
    base = read_annotations(csv_file)
    tsv = write_csv(tmp_path / "a.tsv", "item\tannotator\tlabel", ["\t".join(r) for r in ROWS])
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_text(
        "\n".join(
            json.dumps(dict(zip(("item", "annotator", "label"), r, strict=True))) for r in ROWS
        )
        + "\n\n"
    )
    array = tmp_path / "a.json"
    array.write_text(
        json.dumps([dict(zip(("item", "annotator", "label"), r, strict=True)) for r in ROWS])
    )
    parquet = tmp_path / "a.parquet"
    pq.write_table(
        pa.table(
            {
                "item": [r[0] for r in ROWS],
                "annotator": [r[1] for r in ROWS],
                "label": [r[2] for r in ROWS],
            }
        ),
        parquet,
    )
    for path in (tsv, jsonl, array, parquet):
        assert same_content(base, read_annotations(path)), path
    pandas = pytest.importorskip("pandas")
    polars = pytest.importorskip("polars")
    frame = pandas.DataFrame(ROWS, columns=["item", "annotator", "label"])
    assert same_content(base, read_annotations(frame))
    assert same_content(base, read_annotations(polars.from_pandas(frame)))
    assert base.n_ratings == 4 and base.n_items == 2 and base.n_annotators == 2
    assert list(base.categories) == ["neg", "pos"]


def test_aliases_and_explicit_columns(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "w.csv", "task,worker,label,batch", ["t1,w1,1,b1", "t1,w2,0,b1"])
    table = read_annotations(path)
    assert table.data.column_names == ["item", "annotator", "label", "batch"]
    both = write_csv(tmp_path / "both.csv", "item_id,task,rater,label", ["1,2,r,1"])
    with pytest.raises(InputError, match="ambiguous item column") as error:
        read_annotations(both)
    assert "item_id, task" in str(error.value)
    assert read_annotations(both, item_col="task").items[0] == "2"
    with pytest.raises(InputError, match="no annotator column"):
        read_annotations(write_csv(tmp_path / "x.csv", "item,who,label", ["1,a,1"]))


def test_wide_layout(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "wide.csv", "id,r1,r2,r3", ["a,1,1,", "b,2,,3", "c,,,1"])
    table = read_annotations(path, layout="wide", item_col="id")
    assert table.n_ratings == 5 and list(table.annotators) == ["r1", "r2", "r3"]
    matrix = table.to_units_by_raters()
    assert np.array_equal(
        matrix, [[1, 1, np.nan], [2, np.nan, 3], [np.nan, np.nan, 1]], equal_nan=True
    )
    subset = read_annotations(path, layout="wide", item_col="id", annotator_cols="r1,r3")
    assert list(subset.annotators) == ["r1", "r3"]


def test_declared_categories_order_and_values(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "o.csv", "item,annotator,label", ["1,a,low", "1,b,high", "2,a,mid"])
    with pytest.raises(InputError, match="ordinal string labels need a declared"):
        read_annotations(path, level="ordinal")
    table = read_annotations(path, level="ordinal", categories="low,mid,high,extreme")
    assert list(table.categories) == ["low", "mid", "high", "extreme"]
    assert list(table.category_values) == [1, 2, 3, 4]
    assert table.to_item_category_counts().tolist() == [[1, 0, 1, 0], [0, 1, 0, 0]]
    numbers = write_csv(tmp_path / "n.csv", "item,annotator,label", ["1,a,2.0", "1,b,10"])
    numeric = read_annotations(numbers, categories="1,2,10")
    assert list(numeric.categories) == ["1", "2", "10"]
    assert list(numeric.category_values) == [1.0, 2.0, 10.0]
    assert numeric.label_codes.tolist() == [1, 2]


@pytest.mark.parametrize(
    ("rows", "options", "message"),
    [
        (["1,a,x", "2,,y"], {}, r"b\.csv:3: missing annotator; field 'annotator'"),
        (["1,a,x", ",b,y"], {}, r"b\.csv:3: missing item"),
        (["1,a,", "2,b,y"], {}, r"b\.csv:2: missing label"),
        (
            ["1,a,x", "1,b,z"],
            {"categories": "x,y"},
            r"b\.csv:3: invalid label; field 'label'; expected one of the declared categories "
            r"\(x, y\); got 'z'",
        ),
        (
            ["1,a,3", "1,b,high"],
            {"level": "interval"},
            r"b\.csv:3: invalid label; field 'label'; expected a number \(interval level\); "
            r"got 'high'",
        ),
        (
            ["1,a,x", "2,a,y", "1,a,y"],
            {},
            r"b\.csv:4: duplicate \(item, annotator\) pair; field 'item,annotator'; .*"
            r"first at line 2",
        ),
        (["1,a,x", "2,a,y,extra"], {}, r"b\.csv:3: malformed row; expected 3 fields"),
    ],
)
def test_validation_errors_name_file_line_field(
    tmp_path: Path, rows: list[str], options: dict[str, str], message: str
) -> None:
    path = write_csv(tmp_path / "b.csv", "item,annotator,label", rows)
    with pytest.raises(InputError, match=message):
        read_annotations(path, **options)  # type: ignore[arg-type]


def test_quoted_newlines_keep_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text('item,annotator,label\n"multi\nline",a,x\n2,,y\n')
    with pytest.raises(InputError, match=r"q\.csv:4: missing annotator"):
        read_annotations(path)


def test_duplicates_keep_last(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "d.csv", "item,annotator,label", ["1,a,x", "1,b,x", "1,a,y"])
    table = read_annotations(path, on_duplicate="keep-last")
    assert table.n_ratings == 2 and table.report["duplicates_replaced"] == 1
    assert table.to_units_by_raters(codes=True).tolist() == [[1.0, 0.0]]


def test_empty_and_malformed_inputs(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="empty input"):
        read_annotations(write_csv(tmp_path / "e.csv", "item,annotator,label", []))
    (tmp_path / "z.csv").write_text("")
    with pytest.raises(InputError, match="empty input"):
        read_annotations(tmp_path / "z.csv")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"item": 1, "annotator": "a", "label": 1}\n\n{"item": 2, "annot\n')
    with pytest.raises(InputError, match=r"bad\.jsonl:3: malformed JSON line"):
        read_annotations(bad)
    array = tmp_path / "r.json"
    array.write_text('[{"item": 1, "annotator": "a", "label": 1}, 5]')
    with pytest.raises(InputError, match=r"r\.json record 2: not a JSON object"):
        read_annotations(array)
    with pytest.raises(InputError, match="file not found"):
        read_annotations(tmp_path / "missing.csv")
    with pytest.raises(InputError, match="unknown file format"):
        read_annotations(write_csv(tmp_path / "x.txt", "a", ["1"]))
    with pytest.raises(UsageError, match="level must be one of"):
        read_annotations(tmp_path / "r.json", level="nominl")


def test_dataframe_errors_name_rows() -> None:
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame({"item": ["1", "2"], "annotator": ["a", None], "label": [1, 2]})
    with pytest.raises(InputError, match=r"<DataFrame> row 2: missing annotator"):
        read_annotations(frame)


def test_integer_and_float_labels_are_one_category(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    path.write_text(
        '{"item": 1, "annotator": "a", "label": 1}\n{"item": 1, "annotator": "b", "label": 1.0}\n'
    )
    table = read_annotations(path)
    assert list(table.categories) == ["1"] and table.label_codes.tolist() == [0, 0]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text(min_size=1, max_size=5).filter(lambda s: s.strip() == s),
            st.sampled_from(["a", "b", "c"]),
            st.integers(0, 4),
        ),
        min_size=1,
        max_size=40,
        unique_by=lambda t: (t[0], t[1]),
    )
)
def test_round_trip_and_order_invariance(rows: list[tuple[str, str, int]]) -> None:
    """Reading rows in any order gives the same codes; converters agree with the rows."""
    columns = {
        "item": [r[0] for r in rows],
        "annotator": [r[1] for r in rows],
        "label": [r[2] for r in rows],
    }
    table = read_annotations(pa.table(columns))
    reversed_table = read_annotations(pa.table({k: v[::-1] for k, v in columns.items()}))
    assert same_content(table, reversed_table)
    matrix = table.to_units_by_raters()
    for item, annotator, label in rows:
        i = list(table.items).index(item)
        g = list(table.annotators).index(annotator)
        assert matrix[i, g] == label
    assert table.to_item_category_counts().sum() == len(rows)


_CELLS = st.one_of(st.none(), st.sampled_from(["", " ", "\t", "\u3000", "a", " b ", "NA"]))


@settings(max_examples=60, deadline=None)
@given(
    items=st.lists(_CELLS, min_size=1, max_size=12),
    numbers=st.lists(st.one_of(st.none(), st.floats(allow_infinity=False)), min_size=1),
)
def test_missing_cells_counted_as_the_text_reads_them(
    items: list[str | None], numbers: list[float | None]
) -> None:
    """raw_columns counts a cell missing exactly when its text (as_text) is null or empty:
    strings that are empty or whitespace only, nulls, float NaN; never an integer."""
    from labelaudit.table import Locator, as_text, raw_columns

    n = min(len(items), len(numbers))
    table = pa.table(
        {
            "item": pa.array(items[:n], pa.string()),
            "annotator": pa.array(range(n), pa.int64()),
            "label": pa.array(numbers[:n], pa.float64()),
        }
    )
    _, missing = raw_columns(table, Locator("<t>", lambda row: row + 1))
    expected = sum(
        cell is None or cell == ""
        for name in ("item", "annotator", "label")
        for cell in as_text(table.column(name)).to_pylist()
    )
    assert missing == expected
