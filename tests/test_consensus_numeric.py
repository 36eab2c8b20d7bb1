"""Numeric consensus (mean, median, trimmed mean) against numpy / scipy per item."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import trim_mean

from labelaudit.consensus import (
    MeanAggregator,
    MedianAggregator,
    TrimmedMeanAggregator,
    consensus_table,
)
from labelaudit.exceptions import InputError, UsageError
from labelaudit.table import AnnotationTable, read_annotations


def numeric_table(rng: np.random.Generator, n_items: int = 60) -> AnnotationTable:
    items, annotators, labels = [], [], []
    for i in range(n_items):
        count = int(rng.integers(1, 9))
        for a in rng.choice(12, size=count, replace=False):
            items.append(f"item{i:03d}")
            annotators.append(f"r{a:02d}")
            labels.append(str(round(float(rng.normal(3.0, 2.0)), 2)))
    frame = pa.table({"item": items, "annotator": annotators, "label": labels})
    return read_annotations(frame, level="interval")


def per_item(table: AnnotationTable) -> list[np.ndarray]:
    return [table.values[table.item_codes == i] for i in range(table.n_items)]


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), proportion=st.sampled_from([0.0, 0.1, 0.2, 0.25, 0.4]))
def test_numeric_aggregators_match_numpy_and_scipy(seed: int, proportion: float) -> None:
    table = numeric_table(np.random.default_rng(seed))
    groups = per_item(table)
    mean = MeanAggregator().fit(table).values_
    median = MedianAggregator().fit(table).values_
    trimmed = TrimmedMeanAggregator(proportion=proportion).fit(table).values_
    np.testing.assert_allclose(mean, [np.mean(g) for g in groups], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(median, [np.median(g) for g in groups], rtol=1e-12, atol=1e-12)
    expected = [trim_mean(g, proportion) for g in groups]
    np.testing.assert_allclose(trimmed, expected, rtol=1e-12, atol=1e-12)


def test_numeric_outputs_and_order_invariance() -> None:
    table = numeric_table(np.random.default_rng(5))
    model = MedianAggregator().fit(table)
    assert model.n_per_item_.sum() == table.n_ratings
    np.testing.assert_array_equal(model.fit_predict(table), model.values_)
    order = np.random.default_rng(0).permutation(table.n_ratings)
    shuffled = read_annotations(table.data.take(order), level="interval")
    np.testing.assert_array_equal(MedianAggregator().fit(shuffled).values_, model.values_)
    output = consensus_table(table, model)
    assert output.column("label").type == pa.float64()
    assert output.column("confidence").null_count == table.n_items
    summary = model.summary().to_dict()
    assert (
        summary["label_distribution"] is None
        and summary["values"]["min"] <= summary["values"]["max"]
    )
    assert summary["reasons"]["mean_confidence"].startswith("numeric labels")


def test_numeric_needs_numbers_and_valid_proportion() -> None:
    strings = read_annotations(
        pa.table({"item": ["a", "a"], "annotator": ["x", "y"], "label": ["good", "bad"]})
    )
    with pytest.raises(InputError, match="numeric consensus needs numeric labels"):
        MeanAggregator().fit(strings)
    table = numeric_table(np.random.default_rng(1))
    with pytest.raises(UsageError, match=r"must be < 0\.5"):
        TrimmedMeanAggregator(proportion=0.5).fit(table)


def test_numeric_gold_is_clamped() -> None:
    table = numeric_table(np.random.default_rng(2))
    value = str(table.categories[0])
    model = MeanAggregator().fit(table, gold={"item000": value})
    assert model.values_[0] == float(value)
