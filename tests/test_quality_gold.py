"""Gold questions: reading and aligning gold labels, errors and warnings, accuracy on gold."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.proportion import proportion_confint

from labelaudit.datasets import dataset_path, load_bluebirds
from labelaudit.exceptions import InputError, UsageError
from labelaudit.quality import (
    GoldLabels,
    aggregator_gold_accuracy,
    annotator_report,
    gold_accuracy,
    gold_from_column,
    load_gold,
    read_gold,
    without_gold,
)
from labelaudit.quality.gold import align_gold
from labelaudit.table import AnnotationTable, read_annotations
from labelaudit.table._encode import Locator

ROWS = [
    ("i1", "ann", "pos"), ("i1", "bob", "pos"), ("i1", "cy", "neg"),
    ("i2", "ann", "neg"), ("i2", "bob", "pos"), ("i2", "cy", "neg"),
    ("i3", "ann", "pos"), ("i3", "bob", "pos"),
    ("i4", "cy", "neu"),
]  # fmt: skip


def table_of(rows: list[tuple[str, ...]], **columns: list[str]) -> AnnotationTable:
    data: dict[str, list[str]] = {
        name: [row[i] for row in rows] for i, name in enumerate(("item", "annotator", "label"))
    }
    data.update(columns)
    return read_annotations(pa.table(data))


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------------- reading
def test_read_gold_aligns_codes_and_renamed_columns(tmp_path: Path) -> None:
    table = table_of(ROWS)
    path = write(tmp_path / "g.csv", "id,truth\ni2,neg\ni1,pos\n")
    gold = read_gold(path, table, item_col="id", label_col="truth")
    assert gold.items.tolist() == ["i1", "i2"]
    assert table.categories[gold.label_codes].tolist() == ["pos", "neg"]
    assert gold.warnings == [] and gold.source == str(path)


def test_read_gold_jsonl_and_numbers_match_by_value(tmp_path: Path) -> None:
    table = table_of([("a", "x", "1"), ("a", "y", "0"), ("b", "x", "2.5")])
    path = write(
        tmp_path / "g.jsonl",
        '{"item": "a", "gold_label": 1.0}\n{"item": "b", "gold_label": "2.50"}\n',
    )
    gold = read_gold(path, table)
    assert table.categories[gold.label_codes].tolist() == ["1", "2.5"]


def test_gold_label_outside_categories_names_line_field_and_values(tmp_path: Path) -> None:
    path = write(tmp_path / "g.csv", "item,gold_label\ni1,pos\ni2,maybe\n")
    with pytest.raises(InputError) as caught:
        read_gold(path, table_of(ROWS))
    message = str(caught.value)
    assert f"{path}:3: gold label outside the categories" in message
    assert "field 'gold_label'" in message and "expected one of neg, neu, pos" in message
    assert "got 'maybe'" in message and "--categories" in message


def test_conflicting_duplicate_gold_rows_are_an_error(tmp_path: Path) -> None:
    path = write(tmp_path / "g.csv", "item,gold_label\ni1,pos\ni2,neg\ni1,neg\n")
    with pytest.raises(InputError) as caught:
        read_gold(path, table_of(ROWS))
    assert f"{path}:4: conflicting gold labels for one item" in str(caught.value)
    assert "(was pos at line 2)" in str(caught.value)


def test_absent_items_and_repeated_rows_are_counted_warnings(tmp_path: Path) -> None:
    text = "item,gold_label\ni1,pos\nzz,pos\ni1,pos\nyy,neg\ni3,pos\n"
    gold = read_gold(write(tmp_path / "g.csv", text), table_of(ROWS))
    assert gold.items.tolist() == ["i1", "i3"]
    codes = {w["code"]: w for w in gold.warnings}
    assert codes["gold_items_not_in_table"]["count"] == 2
    assert codes["gold_items_not_in_table"]["examples"] == ["zz", "yy"]
    assert codes["duplicate_gold_rows"]["count"] == 1
    assert codes["duplicate_gold_rows"]["examples"] == ["i1"]


def test_gold_that_matches_nothing_or_lacks_a_column_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no gold item is in the table"):
        read_gold(write(tmp_path / "a.csv", "item,gold_label\nq,pos\n"), table_of(ROWS))
    with pytest.raises(InputError, match="--gold-label-col"):
        read_gold(write(tmp_path / "b.csv", "item,truth\ni1,pos\n"), table_of(ROWS))
    with pytest.raises(InputError, match=r":3: missing gold value"):
        read_gold(write(tmp_path / "c.csv", "item,gold_label\ni1,pos\ni2,\n"), table_of(ROWS))
    with pytest.raises(UsageError, match="not both"):
        load_gold(table_of(ROWS), path=tmp_path / "a.csv", column="g")


def test_gold_from_a_table_column() -> None:
    gold_column = ["pos", "pos", "pos", "", "", "", None, None, "neu"]
    table = table_of(ROWS, gold=gold_column)
    gold = gold_from_column(table, "gold")
    assert gold.items.tolist() == ["i1", "i4"] and gold.warnings == []
    bad = ["pos", "neg", "", "", "", "", "", "", ""]
    with pytest.raises(InputError, match=r"record 2: conflicting gold labels"):
        gold_from_column(table_of(ROWS, gold=bad), "gold")
    with pytest.raises(InputError, match="no gold column"):
        gold_from_column(table, "nope")


def test_without_gold_drops_the_gold_items() -> None:
    table = table_of(ROWS, gold=["pos", "pos", "pos", "", "", "", "", "", ""])
    rest = without_gold(table, gold_from_column(table, "gold"))
    assert rest.items.tolist() == ["i2", "i3", "i4"] and rest.n_ratings == 6
    assert rest.categories.tolist() == table.categories.tolist()


# ---------------------------------------------------------------------- accuracy
@st.composite
def labelled(draw: st.DrawFn) -> tuple[list[tuple[str, str, str]], dict[str, str]]:
    rows = [
        (f"i{i}", f"a{a}", draw(st.sampled_from("xyz")))
        for i in range(draw(st.integers(1, 8)))
        for a in range(draw(st.integers(1, 4)))
        if draw(st.booleans()) or a == 0
    ]
    items = sorted({row[0] for row in rows})
    gold = {item: draw(st.sampled_from("xyz")) for item in items if draw(st.booleans())}
    if not gold:
        gold = {items[0]: "x"}
    return rows, gold


@settings(max_examples=150, deadline=None)
@given(data=labelled())
def test_gold_accuracy_matches_a_loop(
    data: tuple[list[tuple[str, str, str]], dict[str, str]],
) -> None:
    rows, truth = data
    table = read_annotations(
        pa.table({k: [r[i] for r in rows] for i, k in enumerate(("item", "annotator", "label"))}),
        categories="x,y,z",
    )
    gold = read_gold_dict(table, truth)
    report = gold_accuracy(table, gold)
    for a, name in enumerate(table.annotators):
        mine = [(r[2], truth[r[0]]) for r in rows if r[1] == name and r[0] in truth]
        correct = sum(label == true for label, true in mine)
        assert report.n_gold[a] == len(mine) and report.n_correct[a] == correct
        expected = np.zeros((3, 3), dtype=np.int64)
        for label, true in mine:
            expected["xyz".index(true), "xyz".index(label)] += 1
        np.testing.assert_array_equal(report.confusion[a], expected)
        if mine:
            low, high = proportion_confint(correct, len(mine), method="wilson")
            assert report.ci_low[a] == pytest.approx(low)
            assert report.ci_high[a] == pytest.approx(high)
            assert report.accuracy[a] == pytest.approx(correct / len(mine))
        else:
            assert np.isnan(report.accuracy[a])


def read_gold_dict(table: AnnotationTable, truth: dict[str, str]) -> GoldLabels:
    return align_gold(
        table,
        pa.array(list(truth)),
        pa.array(list(truth.values())),
        locator=Locator("<dict>", lambda row: row + 1, "entry"),
    )


def test_aggregator_accuracy_counts_abstentions() -> None:
    table = table_of(ROWS)
    gold = read_gold_dict(table, {"i1": "pos", "i2": "neg", "i3": "neg"})
    labels = np.array([2, -1, 2, 1])  # i1 pos (right), i2 abstained, i3 pos (wrong)
    result = aggregator_gold_accuracy(labels, gold)
    assert result.value == 0.5 and result.extra == {"n": 2, "n_correct": 1, "n_abstained": 1}
    assert result.ci_method == "wilson"
    none = aggregator_gold_accuracy(np.full(4, -1), gold)
    assert none.value is None and "abstained on every gold item" in (none.reason or "")


def test_bluebirds_accuracy_of_each_aggregator_on_gold() -> None:
    """Reported in docs/quality.md; MV, one-coin and GLAD equal crowd-kit's published runs."""
    table = load_bluebirds()
    gold = read_gold(dataset_path("bluebirds-truth"), table, item_col="task", label_col="truth")
    methods = ["majority", "wawa", "dawid-skene", "one-coin", "glad", "mace"]
    report = annotator_report(table, gold=gold, methods=methods)
    assert report.gold is not None
    result = {name: r.value for name, r in report.gold.aggregators.items()}
    print(json.dumps(result, indent=1))
    assert result["majority"] == pytest.approx(82 / 108)  # 0.7593, crowd-kit 0.7593
    assert result["one-coin"] == pytest.approx(0.5833, abs=1e-4)  # crowd-kit 0.5833
    assert result["glad"] == pytest.approx(0.7222, abs=1e-4)  # crowd-kit 0.7222
    assert 0.87 <= result["dawid-skene"] <= 0.91  # crowd-kit 0.8889, Zheng et al. 0.8796
    for value in report.gold.aggregators.values():
        assert value.ci95 is not None and value.ci95[0] <= value.value <= value.ci95[1]
        assert value.extra["n"] == 108
    # every worker labelled every image: 108 gold labels each, and the 39 confusions sum up
    assert report.gold.n_gold.tolist() == [108] * 39
    assert report.gold.confusion.sum() == 4212
    document = report.gold.to_dict()
    assert set(document) == {
        "source",
        "n_items",
        "warnings",
        "categories",
        "aggregators",
        "confusions",
    }
    assert document["confusions"]["39"] == report.gold.confusion[0].tolist()
