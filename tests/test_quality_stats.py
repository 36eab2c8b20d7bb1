"""Quality kernels against closed forms, peers (statsmodels, scipy) and brute-force loops."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import jensenshannon
from statsmodels.stats.proportion import proportion_confint

from labelaudit.intervals import wilson_interval
from labelaudit.quality._stats import (
    group_medians,
    js_divergence,
    longest_runs,
    robust_z,
    run_p_values,
    small_distinct_rows,
    vote_entropy,
)
from labelaudit.quality.annotators import (
    confusion_accuracy,
    label_divergence,
    label_runs,
    leave_one_out_agreement,
    leave_one_out_credit,
    speed,
)
from labelaudit.table import AnnotationTable, read_annotations

Row = tuple[str, str, str]
CATEGORIES = ["a", "b", "c", "d"]
ANNOTATORS = ["ann", "bob", "cy", "dee", "eve", "fay"]


def build(rows: list[Row], **extra: list[Any]) -> AnnotationTable:
    columns: dict[str, list[Any]] = {
        name: [row[i] for row in rows] for i, name in enumerate(("item", "annotator", "label"))
    }
    columns.update(extra)
    return read_annotations(pa.table(columns), categories=CATEGORIES)


@st.composite
def tables(draw: Any) -> list[Row]:
    """Rows with missing ratings, unused categories and single-label items."""
    n_annotators = draw(st.integers(1, 6))
    n_items = draw(st.integers(1, 10))
    cells = draw(
        st.lists(
            st.one_of(st.none(), st.sampled_from(CATEGORIES[:3])),
            min_size=n_items * n_annotators,
            max_size=n_items * n_annotators,
        )
    )
    if all(cell is None for cell in cells):
        cells[0] = "a"
    return [
        (f"i{i}", ANNOTATORS[j], cells[i * n_annotators + j])
        for i in range(n_items)
        for j in range(n_annotators)
        if cells[i * n_annotators + j] is not None
    ]


# ------------------------------------------------------------------------------- Wilson
def test_wilson_hand_value() -> None:
    # 8 of 10: p = 0.8, z^2 = 3.8415: centre 0.7167, half 0.2266 -> (0.4902, 0.9433)
    low, high = wilson_interval(np.array([8]), np.array([10]))
    z = 1.959963984540054
    centre = (0.8 + z * z / 20) / (1 + z * z / 10)
    half = z / (1 + z * z / 10) * math.sqrt(0.8 * 0.2 / 10 + z * z / 400)
    assert low[0] == pytest.approx(centre - half, abs=1e-15)
    assert high[0] == pytest.approx(centre + half, abs=1e-15)
    assert (round(low[0], 4), round(high[0], 4)) == (0.4902, 0.9433)


@settings(max_examples=200, deadline=None)
@given(n=st.integers(1, 500), data=st.data())
def test_wilson_equals_statsmodels(n: int, data: Any) -> None:
    x = data.draw(st.integers(0, n))
    low, high = wilson_interval(np.array([x]), np.array([n]))
    ref_low, ref_high = proportion_confint(x, n, alpha=0.05, method="wilson")
    assert low[0] == pytest.approx(ref_low, abs=1e-12)
    assert high[0] == pytest.approx(ref_high, abs=1e-12)
    assert 0.0 <= low[0] <= x / n <= high[0] <= 1.0


def test_wilson_undefined_without_trials() -> None:
    low, high = wilson_interval(np.array([0, 3]), np.array([0, 4]))
    assert np.isnan(low[0]) and np.isnan(high[0]) and np.isfinite(low[1])


# ---------------------------------------------------------------------------- robust z
def test_robust_z_hand_example() -> None:
    # median 0.86; |x - median| = 0.02, 0.01, 0, 0.02, 0.45 -> MAD 0.02, scale 0.029652
    values = np.array([0.84, 0.87, 0.86, 0.88, 0.41, np.nan])
    z, median, scale = robust_z(values, np.ones(6, dtype=bool))
    assert median == pytest.approx(0.86)
    assert scale == pytest.approx(1.4826 * 0.02)
    assert z[4] == pytest.approx((0.41 - 0.86) / (1.4826 * 0.02))
    assert z[4] == pytest.approx(-15.1760, abs=1e-4)
    assert np.isnan(z[5])


def test_robust_z_pool_and_zero_mad_fallbacks() -> None:
    values = np.array([1.0, 1.0, 1.0, 0.5, 0.0])
    # pool = first four: median 1, MAD 0 -> 1.253314 * mean |x - 1| = 1.253314 * 0.125
    z, median, scale = robust_z(values, np.array([True, True, True, True, False]))
    assert median == 1.0 and scale == pytest.approx(1.253314 * 0.125)
    assert z[4] == pytest.approx(-1.0 / scale)
    same, _, zero = robust_z(np.array([2.0, 2.0, 3.0]), np.array([True, True, False]))
    assert zero == 0.0 and same[0] == 0.0 and np.isnan(same[2])
    empty, m, s = robust_z(np.array([1.0]), np.array([False]))
    assert np.isnan(empty[0]) and np.isnan(m) and np.isnan(s)


# ------------------------------------------------------------------------ JS divergence
@settings(max_examples=200, deadline=None)
@given(
    p=st.lists(st.integers(0, 9), min_size=4, max_size=4).filter(any),
    q=st.lists(st.integers(0, 9), min_size=4, max_size=4).filter(any),
)
def test_js_divergence_is_squared_scipy_distance(p: list[int], q: list[int]) -> None:
    ours = js_divergence(np.array([p], dtype=float), np.array([q], dtype=float))[0]
    reference = jensenshannon(np.array(p, float), np.array(q, float), base=2) ** 2
    assert ours == pytest.approx(reference, abs=1e-12)
    assert 0.0 <= ours <= 1.0


def test_js_divergence_extremes() -> None:
    value = js_divergence(np.array([[1.0, 0.0], [2.0, 2.0]]), np.array([[0.0, 1.0], [1.0, 1.0]]))
    assert value.tolist() == [1.0, 0.0]


# --------------------------------------------------------------------- groups and runs
@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(
        st.tuples(st.integers(0, 3), st.one_of(st.floats(-5, 5), st.just(float("nan")))),
        max_size=30,
    )
)
def test_group_medians_brute_force(values: list[tuple[int, float]]) -> None:
    groups = np.array([g for g, _ in values], dtype=np.int64)
    numbers = np.array([v for _, v in values], dtype=np.float64)
    ours = group_medians(groups, numbers, 4)
    for g in range(4):
        finite = [v for h, v in values if h == g and not math.isnan(v)]
        if finite:
            assert ours[g] == pytest.approx(float(np.median(finite)))
        else:
            assert np.isnan(ours[g])


def brute_longest(sequence: list[int]) -> tuple[int, int]:
    best, label, run = 0, -1, 0
    for position, value in enumerate(sequence):
        run = run + 1 if position and sequence[position - 1] == value else 1
        if run > best:
            best, label = run, value
    return best, label


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 2)), max_size=40),
    shuffle=st.randoms(use_true_random=False),
)
def test_longest_runs_brute_force(rows: list[tuple[int, int]], shuffle: Any) -> None:
    keys = list(range(len(rows)))
    shuffle.shuffle(keys)  # the sequence order: by group, then by this key
    groups = np.array([g for g, _ in rows], dtype=np.int64)
    labels = np.array([lab for _, lab in rows], dtype=np.int64)
    order = np.lexsort((np.array(keys, dtype=np.int64), groups)) if rows else np.zeros(0, int)
    length, label = longest_runs(groups, labels, order, 4)
    for g in range(4):
        mine = sorted((i for i in range(len(rows)) if rows[i][0] == g), key=keys.__getitem__)
        sequence = [rows[i][1] for i in mine]
        assert (length[g], label[g]) == brute_longest(sequence)


@pytest.mark.parametrize(
    ("p", "n", "big_l"),
    [([0.7, 0.2, 0.1], 100, 20), ([0.5, 0.5], 200, 15), ([0.25] * 4, 300, 8), ([0.9, 0.1], 50, 30)],
)
def test_run_p_value_close_to_exact_when_small(p: list[float], n: int, big_l: int) -> None:
    exact = exact_run_probability(n, big_l, p)
    approx = run_p_values(np.array([big_l]), np.array([n]), np.array([p]))[0]
    assert exact < 0.15
    assert approx == pytest.approx(exact, rel=0.07)


def test_run_p_value_matches_exact_probability_for_long_runs() -> None:
    # P(some run >= L) by dynamic programming over (position, current run) for a fair coin
    n, big_l = 60, 12
    exact = exact_run_probability(n, big_l, [0.5, 0.5])
    approx = run_p_values(np.array([big_l]), np.array([n]), np.array([[0.5, 0.5]]))[0]
    assert approx == pytest.approx(exact, rel=0.02)
    assert run_p_values(np.array([1]), np.array([5]), np.array([[0.5, 0.5]]))[0] == pytest.approx(
        1.0
    )


def exact_run_probability(n: int, big_l: int, p: list[float]) -> float:
    """Chance that n i.i.d. draws from p contain a run of length >= big_l (exact DP)."""
    state: dict[tuple[int, int], float] = {(k, 1): pk for k, pk in enumerate(p)}
    hit = 0.0
    for _ in range(n - 1):
        nxt: dict[tuple[int, int], float] = {}
        for (k, r), mass in state.items():
            for j, pj in enumerate(p):
                key = (k, r + 1) if j == k else (j, 1)
                nxt[key] = nxt.get(key, 0.0) + mass * pj
        hit += sum(m for (k, r), m in nxt.items() if r >= big_l)
        state = {key: m for key, m in nxt.items() if key[1] < big_l}
    return hit


def test_vote_entropy() -> None:
    values = vote_entropy(np.array([[2, 2, 0], [4, 0, 0], [1, 1, 1], [0, 0, 0]]))
    assert values[:3] == pytest.approx([1.0, 0.0, math.log2(3)])
    assert np.isnan(values[3])


# ----------------------------------------------------------- leave-one-out agreement
def brute_credit(table: AnnotationTable) -> list[float]:
    counts = table.to_item_category_counts()
    out = []
    for item, label in zip(table.item_codes, table.label_codes, strict=True):
        others = counts[item].copy()
        others[label] -= 1
        if others.sum() == 0:
            out.append(float("nan"))
            continue
        winners = others == others.max()
        out.append(float(winners[label]) / float(winners.sum()))
    return out


@settings(max_examples=300, deadline=None)
@given(rows=tables())
def test_leave_one_out_credit_brute_force(rows: list[Row]) -> None:
    table = build(rows)
    np.testing.assert_allclose(leave_one_out_credit(table), brute_credit(table), equal_nan=True)
    agreement, n = leave_one_out_agreement(table)
    credit = np.array(brute_credit(table))
    for a in range(table.n_annotators):
        mine = credit[(table.annotator_codes == a) & np.isfinite(credit)]
        assert n[a] == mine.size
        if mine.size:
            assert agreement[a] == pytest.approx(mine.mean())
        else:
            assert np.isnan(agreement[a])


def test_leave_one_out_credit_with_many_categories() -> None:
    """Count vectors too wide for one integer each (14 categories): scored item by item,
    with the same credits."""
    rng = np.random.default_rng(3)
    labels = [f"c{k}" for k in range(14)]
    rows = pa.table(
        {
            "item": [f"i{i}" for i in range(40) for _ in range(3)],
            "annotator": ANNOTATORS[:3] * 40,
            "label": [labels[k] for k in rng.integers(0, 4, 120)],
        }
    )
    table = read_annotations(rows, categories=labels)
    assert small_distinct_rows(table.to_item_category_counts()) is None
    np.testing.assert_allclose(leave_one_out_credit(table), brute_credit(table), equal_nan=True)


@settings(max_examples=200, deadline=None)
@given(
    shape=st.tuples(st.integers(0, 40), st.integers(0, 6)),
    top=st.integers(0, 9),
    data=st.data(),
)
def test_small_distinct_rows_equal_numpy_unique(
    shape: tuple[int, int], top: int, data: Any
) -> None:
    values = data.draw(st.lists(st.integers(0, top), min_size=shape[0] * shape[1],
                                max_size=shape[0] * shape[1]))  # fmt: skip
    counts = np.array(values, dtype=np.int64).reshape(shape)
    found = small_distinct_rows(counts)
    if shape[1] == 0:
        assert found is None
        return
    base = int(counts.max(initial=0)) + 1
    assert (found is None) == (base ** shape[1] > 4 * shape[0] + 4096)
    if found is not None:
        rows, inverse = found
        expected, where = np.unique(counts, axis=0, return_inverse=True)
        assert np.array_equal(rows, expected) and np.array_equal(inverse, where.reshape(-1))


def test_leave_one_out_hand_example() -> None:
    rows = [
        ("x", "ann", "a"), ("x", "bob", "a"), ("x", "cy", "b"),  # ann: others a,b -> 1/2
        ("y", "ann", "a"), ("y", "bob", "a"), ("y", "cy", "a"),  # all 1
        ("z", "ann", "c"),  # alone: undefined
    ]  # fmt: skip
    credit = leave_one_out_credit(build(rows))
    np.testing.assert_allclose(credit, [0.5, 0.5, 0.0, 1, 1, 1, np.nan], equal_nan=True)
    agreement, n = leave_one_out_agreement(build(rows))
    assert agreement.tolist() == [0.75, 0.75, 0.5] and n.tolist() == [2, 2, 2]


# ------------------------------------------------------------------- other per-annotator
def test_label_divergence_uses_the_pool_of_others() -> None:
    rows = [("i1", "ann", "a"), ("i2", "ann", "a"), ("i1", "bob", "b"), ("i2", "bob", "a")]
    js = label_divergence(build(rows))
    ann = jensenshannon([2, 0, 0, 0], [1, 1, 0, 0], base=2) ** 2
    assert js == pytest.approx([ann, ann])


def test_speed_from_durations_and_timestamps() -> None:
    rows = [("i1", "ann", "a"), ("i2", "ann", "b"), ("i3", "ann", "a"), ("i1", "bob", "a")]
    table = build(rows)
    durations = np.array([3.0, 5.0, np.nan, 1.0])
    assert speed(table, durations=durations).tolist() == [4.0, 1.0]
    times = np.array([100.0, 10.0, 40.0, 7.0])  # ann sorted: 10, 40, 100 -> gaps 30, 60
    result = speed(table, times=times)
    assert result[0] == 45.0 and np.isnan(result[1])
    assert np.isnan(speed(table)).all()


def test_label_runs_follow_time_order() -> None:
    rows = [("i1", "ann", "a"), ("i2", "ann", "b"), ("i3", "ann", "a"), ("i1", "bob", "b")]
    table = build(rows)
    length, label, p_value = label_runs(table)
    assert length.tolist() == [1, 1] and label.tolist() == [0, 1]
    length, label, _ = label_runs(table, times=np.array([1.0, 3.0, 2.0, 0.0]))
    assert length.tolist() == [2, 1] and label.tolist() == [0, 1]
    assert np.all((p_value >= 0) & (p_value <= 1))


def test_confusion_accuracy() -> None:
    confusions = np.array([[[0.9, 0.1], [0.2, 0.8]], [[0.5, 0.5], [0.5, 0.5]]])
    assert confusion_accuracy(confusions, np.array([0.25, 0.75])) == pytest.approx(
        [0.25 * 0.9 + 0.75 * 0.8, 0.5]
    )


def test_quality_public_api_is_complete_and_importable() -> None:
    import labelaudit.quality as quality

    assert len(set(quality.__all__)) == len(quality.__all__)
    for name in quality.__all__:
        assert getattr(quality, name) is not None, name
