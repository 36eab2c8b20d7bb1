"""Control charts against Montgomery's worked examples, hand computation and brute force."""

from __future__ import annotations

import json
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import binom

from labelaudit.exceptions import UsageError
from labelaudit.monitor import (
    annotator_drift,
    annotator_error_drift,
    baseline_mask,
    cusum_chart,
    ewma_chart,
    individuals_chart,
    monitor_series,
    p_chart,
    reference_mask,
    run_rules,
)
from labelaudit.monitor.spc import D2, D4

# Montgomery (2019), Introduction to Statistical Quality Control, 8th ed., Table 7.1:
# nonconforming orange-juice cans in 30 samples of n = 50.
CANS = [12, 15, 8, 10, 4, 7, 16, 9, 14, 10, 5, 6, 17, 12, 22]
CANS += [8, 10, 5, 13, 11, 20, 18, 24, 15, 9, 12, 7, 13, 9, 6]
# Montgomery Table 9.1: 20 observations from N(10, 1), then 10 from N(11, 1).
SHIFT = [9.45, 7.99, 9.29, 11.66, 12.16, 10.18, 8.04, 11.46, 9.20, 10.34]
SHIFT += [9.03, 11.47, 10.51, 9.40, 10.08, 9.37, 10.62, 10.31, 8.52, 10.84]
SHIFT += [10.90, 9.33, 12.29, 11.50, 10.60, 11.08, 10.38, 11.62, 11.31, 10.52]
# Montgomery Table 9.2: the upper CUSUM C+_i of SHIFT with mu0 = 10, K = 0.5, H = 5.
C_PLUS = [0, 0, 0, 1.16, 2.82, 2.50, 0.04, 1.00, 0, 0, 0, 0.97, 0.98, 0, 0]
C_PLUS += [0, 0.12, 0, 0, 0.34, 0.74, 0, 1.79, 2.79, 2.89, 3.47, 3.35, 4.47, 5.28, 5.30]
ALPHA = 0.00134989803163  # P(N(0,1) > 3)


# ----------------------------------------------------------------------------- p-chart
def test_p_chart_montgomery_orange_juice_cans() -> None:
    chart = p_chart(CANS, [50] * 30, baseline=30)
    assert chart.parameters["p_bar"] == pytest.approx(347 / 1500)
    assert chart.lcl[0] == pytest.approx(0.0524, abs=5e-5)
    assert chart.ucl[0] == pytest.approx(0.4102, abs=5e-5)
    assert chart.signals == [14, 22]  # samples 15 and 23 in the book
    assert not chart.provisional and set(chart.extra["limit_method"]) == {"normal"}


def test_p_bar_is_pooled_not_the_mean_of_rates() -> None:
    chart = p_chart([1, 30], [10, 1000])
    assert chart.parameters["p_bar"] == pytest.approx(31 / 1010)
    assert chart.parameters["p_bar"] != pytest.approx((0.1 + 0.03) / 2)


def _brute_p_limits(d: list[int], n: list[int], base: int) -> tuple[list[float], list[float]]:
    p_bar = sum(d[:base]) / sum(n[:base])
    low, high = [], []
    for size in n:
        if size * p_bar < 5:
            pmf = [
                math.comb(size, c) * p_bar**c * (1 - p_bar) ** (size - c) for c in range(size + 1)
            ]
            tail_above = [sum(pmf[c + 1 :]) for c in range(size + 1)]
            tail_below = [sum(pmf[:c]) for c in range(size + 1)]
            c_up = min(c for c in range(size + 1) if tail_above[c] <= ALPHA)
            c_low = max(c for c in range(size + 1) if tail_below[c] <= ALPHA)
            low.append(c_low / size)
            high.append(c_up / size)
        else:
            sigma = math.sqrt(p_bar * (1 - p_bar) / size)
            low.append(max(0.0, p_bar - 3 * sigma))
            high.append(min(1.0, p_bar + 3 * sigma))
    return low, high


@given(
    st.lists(st.tuples(st.integers(1, 120), st.floats(0.0, 1.0)), min_size=2, max_size=25).map(
        lambda pairs: ([round(s * f) for s, f in pairs], [s for s, _ in pairs])
    )
)
def test_p_chart_matches_brute_force(data: tuple[list[int], list[int]]) -> None:
    d, n = data
    chart = p_chart(d, n)
    if sum(n[:20]) == 0 or sum(d[:20]) == 0 or sum(d[:20]) == sum(n[:20]):
        return  # degenerate p_bar is covered by its own test
    low, high = _brute_p_limits(d, n, 20)
    np.testing.assert_allclose(chart.lcl, low, atol=1e-9)
    np.testing.assert_allclose(chart.ucl, high, atol=1e-9)
    assert np.all((chart.lcl >= 0) & (chart.ucl <= 1))
    p = np.asarray(d) / np.asarray(n)
    np.testing.assert_array_equal(chart.out_of_control, (p > chart.ucl) | (p < chart.lcl))


def test_exact_binomial_limits_when_n_p_bar_below_5() -> None:
    sizes = np.array([20, 40, 400, 20])
    chart = p_chart([1, 2, 20, 9], sizes, baseline=3)
    p_bar = 23 / 460
    assert chart.parameters["p_bar"] == pytest.approx(p_bar)
    assert list(chart.extra["limit_method"]) == ["exact", "exact", "normal", "exact"]
    exact = np.array([0, 1, 3])
    np.testing.assert_allclose(
        chart.ucl[exact], binom.ppf(1 - ALPHA, sizes[exact], p_bar) / sizes[exact]
    )
    assert chart.signals == [3]  # 9 of 20 wrong when 1 in 20 is usual


def test_exact_limits_agree_with_fractions() -> None:
    """Independent check of one exact limit with rational arithmetic."""
    n, p = 30, Fraction(1, 20)
    pmf = [math.comb(n, c) * p**c * (1 - p) ** (n - c) for c in range(n + 1)]
    alpha = Fraction(ALPHA)
    c_up = min(c for c in range(n + 1) if sum(pmf[c + 1 :]) <= alpha)
    chart = p_chart([3, 0], [60, 30], baseline=1)
    assert chart.ucl[1] * n == c_up and chart.lcl[1] == 0.0


@given(
    st.lists(st.integers(1, 500), min_size=3, max_size=30),
    st.floats(0.01, 0.99),
)
def test_p_limits_clamped_and_symmetric_where_normal(sizes: list[int], rate: float) -> None:
    defects = [round(s * rate) for s in sizes]
    chart = p_chart(defects, sizes)
    p_bar = chart.parameters["p_bar"]
    assert np.all(chart.lcl >= 0) and np.all(chart.ucl <= 1) and np.all(chart.lcl <= chart.ucl)
    normal = (chart.extra["limit_method"] == "normal") & (chart.lcl > 0) & (chart.ucl < 1)
    np.testing.assert_allclose(
        (chart.ucl - p_bar)[normal], (p_bar - chart.lcl)[normal], rtol=1e-12, atol=1e-15
    )


def test_p_chart_zero_baseline_rate_and_missing_batches() -> None:
    chart = p_chart([0, 0, 0, 1, 0], [50, 50, 0, 50, 50], baseline=3)
    assert chart.parameters["p_bar"] == 0.0 and chart.reason is not None
    assert chart.signals == [3] and math.isnan(chart.values[2])
    assert chart.to_dict()["points"][2]["value"] is None


def test_p_chart_rejects_bad_counts() -> None:
    with pytest.raises(UsageError, match="0 <= defects <= sizes"):
        p_chart([5], [4])


# -------------------------------------------------------------------- individuals
def test_individuals_chart_by_hand() -> None:
    x = [1.0, 2.0, 3.0, 2.0, 1.0]
    chart = individuals_chart(x)
    sigma = 1.0 / D2  # moving ranges 1, 1, 1, 1
    d2, d4 = D2, D4
    assert d2 == pytest.approx(1.128, abs=5e-4) and d4 == pytest.approx(3.267, abs=5e-4)
    assert chart.parameters["mean"] == pytest.approx(1.8)
    assert chart.parameters["mr_bar"] == pytest.approx(1.0)
    assert chart.ucl[0] == pytest.approx(1.8 + 3 * sigma)
    assert chart.lcl[0] == pytest.approx(1.8 - 3 * sigma)
    width = 3 / d2
    assert width == pytest.approx(2.66, abs=2e-3)  # the textbook's 2.66 MR_bar
    assert chart.provisional and chart.signals == []


def test_individuals_chart_signal_after_baseline() -> None:
    x = np.r_[np.tile([0.80, 0.81, 0.79, 0.80, 0.82], 5), 0.6]
    chart = individuals_chart(x)
    assert chart.signals == [25] and not chart.provisional
    assert chart.baseline[:20].all() and not chart.baseline[20:].any()


def test_individuals_chart_skips_undefined_values() -> None:
    chart = individuals_chart([0.8, np.nan, 0.82, 0.79, 0.81])
    assert chart.parameters["mr_bar"] == pytest.approx((0.02 + 0.03 + 0.02) / 3)
    assert not chart.out_of_control[1] and chart.to_dict()["points"][1]["value"] is None


def test_individuals_chart_undefined_with_one_value() -> None:
    chart = individuals_chart([0.8])
    assert chart.reason is not None and chart.signals == []


# ----------------------------------------------------------------------------- EWMA
def _brute_ewma(x: list[float], lam: float, mu: float) -> list[float]:
    z, out = mu, []
    for value in x:
        z = lam * value + (1 - lam) * z
        out.append(z)
    return out


def test_ewma_montgomery_example() -> None:
    chart = ewma_chart(SHIFT, lam=0.1, L=2.7, mu0=10.0, sigma=1.0)
    assert chart.values[0] == pytest.approx(9.945)
    assert chart.ucl[0] == pytest.approx(10.27, abs=5e-3)
    assert chart.lcl[0] == pytest.approx(9.73, abs=5e-3)
    steady = 2.7 * math.sqrt(0.1 / 1.9)  # the limits widen towards 10 +- 0.62
    assert 10 + steady - 1e-3 < chart.ucl[-1] < 10 + steady
    assert np.all(np.diff(chart.ucl) > 0)
    np.testing.assert_allclose(chart.values, _brute_ewma(SHIFT, 0.1, 10.0), rtol=1e-12)
    assert chart.signals[0] >= 20  # no false alarm on the in-control part


@given(
    st.lists(st.floats(-5, 5), min_size=2, max_size=40),
    st.floats(0.05, 1.0),
)
def test_ewma_matches_brute_force(x: list[float], lam: float) -> None:
    chart = ewma_chart(x, lam=lam, mu0=0.0, sigma=1.0)
    np.testing.assert_allclose(chart.values, _brute_ewma(x, lam, 0.0), rtol=1e-9, atol=1e-12)
    t = np.arange(1, len(x) + 1)
    width = 3 * np.sqrt(lam / (2 - lam) * (1 - (1 - lam) ** (2 * t)))
    np.testing.assert_allclose(chart.ucl, width, rtol=1e-12)
    np.testing.assert_allclose(chart.lcl, -width, rtol=1e-12)  # symmetric about mu0


def test_ewma_carries_over_undefined_points() -> None:
    chart = ewma_chart([1.0, np.nan, 1.0], lam=0.5, mu0=0.0, sigma=1.0)
    assert chart.values[0] == 0.5 and math.isnan(chart.values[1]) and chart.values[2] == 0.75


# ----------------------------------------------------------------------------- CUSUM
def test_cusum_montgomery_table_9_2() -> None:
    chart = cusum_chart(SHIFT, mu0=10.0, sigma=1.0)
    np.testing.assert_allclose(chart.values, C_PLUS, atol=5e-3)
    assert chart.signals == [28, 29]  # first signal at sample 29
    assert chart.extra["n_plus"][28] == 7  # the shift began after sample 22
    assert chart.parameters["H"] == 5.0 and chart.parameters["K"] == 0.5


def _brute_cusum(x: list[float], k: float, start: float) -> tuple[list[float], list[float]]:
    up, down, ups, downs = start, start, [], []
    for value in x:
        up = max(0.0, value - k + up)
        down = max(0.0, -k - value + down)
        ups.append(up)
        downs.append(down)
    return ups, downs


@given(st.lists(st.floats(-4, 4), min_size=1, max_size=50), st.floats(0, 2.5))
def test_cusum_matches_brute_force(x: list[float], head_start: float) -> None:
    chart = cusum_chart(x, mu0=0.0, sigma=1.0, head_start=head_start)
    ups, downs = _brute_cusum(x, 0.5, head_start)
    np.testing.assert_allclose(chart.values, ups, atol=1e-9)
    np.testing.assert_allclose(chart.extra["c_minus"], downs, atol=1e-9)
    expected = (np.asarray(ups) > 5) | (np.asarray(downs) > 5)
    np.testing.assert_array_equal(chart.out_of_control, expected)


# ------------------------------------------------------------------------- run rules
def _naive_rules(z: list[float]) -> set[tuple[str, int]]:
    """Direct transcription of the rule texts, one window at a time."""
    found = set()
    for i in range(len(z)):
        w3, w5, w8 = z[max(0, i - 2) : i + 1], z[max(0, i - 4) : i + 1], z[max(0, i - 7) : i + 1]
        if len(w3) == 3 and (sum(v > 2 for v in w3) >= 2 or sum(v < -2 for v in w3) >= 2):
            found.add(("WE2", i))
        if len(w5) == 5 and (sum(v > 1 for v in w5) >= 4 or sum(v < -1 for v in w5) >= 4):
            found.add(("WE3", i))
        if len(w8) == 8 and (all(v > 0 for v in w8) or all(v < 0 for v in w8)):
            found.add(("WE4", i))
    return found


@given(st.lists(st.floats(-3.5, 3.5), max_size=60))
def test_western_electric_matches_naive(z: list[float]) -> None:
    found = {(v.rule, v.index) for v in run_rules(np.asarray(z))}
    assert found == _naive_rules(z)


@pytest.mark.parametrize(
    ("rule", "z", "index"),
    [
        ("N2", [0.5] * 9, 8),
        ("N3", [-1.0, -0.5, 0.0, 0.2, 0.4, 0.9], 5),
        ("N4", [0.5, -0.5] * 7, 13),
        ("N5", [0.0, 2.5, 2.2], 2),
        ("N6", [1.5, 1.2, 0.0, 1.1, 1.3], 4),
        ("N7", [0.5, -0.5] * 7 + [0.1], 14),
        ("N8", [1.5, -1.5, 1.2, -1.2, 1.3, 1.4, -1.1, -1.6], 7),
    ],
)
def test_nelson_rules_on_constructed_sequences(rule: str, z: list[float], index: int) -> None:
    found = [(v.rule, v.index) for v in run_rules(np.asarray(z), "nelson")]
    assert (rule, index) in found
    assert all(i >= index for r, i in found if r == rule)  # not before the pattern completes


def test_run_rules_skip_nan_and_reject_unknown_set() -> None:
    z = np.array([2.5, np.nan, 0.0, 2.5])
    assert [(v.rule, v.index) for v in run_rules(z)] == [("WE2", 3)]
    with pytest.raises(UsageError, match="rules must be one of"):
        run_rules(z, "shewhart")


def test_clean_in_control_sequence_has_no_we_warning() -> None:
    z = np.array([0.3, -0.4, 0.9, -1.2, 0.1, -0.2, 0.5, -0.8, 1.1, -0.3])
    assert run_rules(z) == []


# --------------------------------------------------------------------- baseline etc.
def test_baseline_default_first_20_and_provisional_flag() -> None:
    assert baseline_mask(30).sum() == 20 and baseline_mask(5).sum() == 5
    assert individuals_chart(np.arange(19.0) % 3).provisional
    assert not individuals_chart(np.arange(25.0) % 3).provisional
    assert baseline_mask(4, [1, 3]).tolist() == [False, True, False, True]
    with pytest.raises(UsageError):
        baseline_mask(4, [7])


def test_named_reference_period() -> None:
    names = ["w1", "w2", "w3", "w4"]
    assert reference_mask(names, ["w2", "w3"]).tolist() == [False, True, True, False]
    with pytest.raises(UsageError, match="'w9' is not in the history"):
        reference_mask(names, ["w9"])
    chart = p_chart([1, 2, 3, 4], [10] * 4, baseline=reference_mask(names, ["w2", "w3"]))
    assert chart.parameters["p_bar"] == pytest.approx(0.25)


def test_monitor_series_json_contract_and_labels() -> None:
    rng = np.random.default_rng(7)
    alpha = np.r_[0.8 + 0.02 * rng.standard_normal(22), 0.55]
    names = [f"w{i}" for i in range(alpha.size)]
    monitor = monitor_series(alpha, labels=names)
    document = json.loads(json.dumps(monitor.to_dict(), allow_nan=False))
    assert document["out_of_control"][-1] == 22
    point = document["charts"]["individuals"]["points"][22]
    assert point["label"] == "w22" and point["out_of_control"] is True
    assert set(document["charts"]) == {"individuals", "ewma", "cusum"}
    assert document["charts"]["ewma"]["parameters"]["lambda"] == 0.2


def test_annotator_drift_flags_only_the_drifting_annotator() -> None:
    pattern = np.array([0.80, 0.81, 0.79, 0.80, 0.82, 0.78])
    values = np.column_stack([np.resize(pattern, 30), np.resize(pattern[::-1], 30)] * 2)[:, :3]
    values[25:, 1] -= 0.3
    values[:5, 2] = np.nan  # joins late: judged on its own first 20 batches
    drift = annotator_drift(values, ["ann", "bob", "cy"], labels=[f"b{i}" for i in range(30)])
    assert [f["annotator"] for f in drift.flagged] == ["bob"]
    assert drift.flagged[0]["batches"][0] == "b25"
    json.dumps(drift.to_dict(), allow_nan=False)


def test_annotator_error_drift_p_charts() -> None:
    totals = np.full((25, 2), 40)
    errors = np.full((25, 2), 2)
    errors[24, 0] = 20
    drift = annotator_error_drift(errors, totals, ["a", "b"])
    assert drift.flagged == [{"annotator": "a", "out_of_control": [24], "batches": None}]


# ------------------------------------------------------ Phase II baseline and clamping
# The demo's weekly alpha (PandaLM, five good weeks, then the degraded one).
WEEKS = [0.9082809224318659, 0.7848589904354454, 0.8216424185288047]
WEEKS += [0.8154017580784945, 0.8721687269921392, 0.5868247165565381]


def test_baseline_excludes_the_judged_batch() -> None:
    assert baseline_mask(6, exclude=[5]).tolist() == [True] * 5 + [False]
    assert baseline_mask(6, exclude=[-1]).tolist() == [True] * 5 + [False]
    assert baseline_mask(4, [1, 3], exclude=[3]).tolist() == [False, True, False, False]
    assert baseline_mask(25, exclude=[24]).sum() == 20  # beyond the baseline: no change
    with pytest.raises(UsageError, match="excluded points"):
        baseline_mask(4, exclude=[4])


def test_judged_batch_out_of_its_own_limits_only_in_phase_two() -> None:
    # Phase I with the degraded week in the baseline: it widens its own limits.
    pooled = individuals_chart(WEEKS)
    assert pooled.signals == []
    # Phase II: limits from weeks 1-5 only, by hand from the X-mR formulas.
    chart = individuals_chart(WEEKS, baseline=baseline_mask(6, exclude=[5]), bounds=(-1, 1))
    base = np.array(WEEKS[:5])
    mean, mr_bar = base.mean(), np.abs(np.diff(base)).mean()
    assert chart.parameters["mean"] == pytest.approx(mean, abs=1e-12)
    assert chart.parameters["mr_bar"] == pytest.approx(mr_bar, abs=1e-12)
    assert chart.lcl[5] == pytest.approx(mean - 3 * mr_bar / D2, abs=1e-12)
    assert chart.ucl[5] == pytest.approx(mean + 3 * mr_bar / D2, abs=1e-12)  # 0.989 < 1
    assert chart.signals == [5] and not chart.baseline[5]
    document = chart.to_dict()
    assert document["n_baseline"] == 5 and document["points"][5]["baseline"] is False
    assert document["parameters"]["upper_bound"] == 1.0


def test_clamp_keeps_the_unclipped_formula_and_no_bounds_is_unchanged() -> None:
    free = individuals_chart(WEEKS)
    clipped = individuals_chart(WEEKS, bounds=(-1.0, 1.0))
    assert free.ucl[0] == pytest.approx(1.0686143993615242, abs=1e-12)  # the 1.07
    assert clipped.ucl[0] == 1.0 and clipped.lcl[0] == free.lcl[0]
    assert free.parameters["upper_bound"] is None
    ewma = ewma_chart([0.99, 0.97, 1.0, 0.98, 0.5], bounds=(-1.0, 1.0))
    assert np.nanmax(ewma.ucl) <= 1.0


@given(
    st.lists(st.floats(-1.0, 1.0, allow_nan=False), min_size=3, max_size=40),
    st.floats(0.5, 4.0),
)
def test_clamping_changes_no_signal_of_a_value_in_range(x: list[float], width: float) -> None:
    free = individuals_chart(x, L=width)
    clipped = individuals_chart(x, L=width, bounds=(-1.0, 1.0))
    defined = np.isfinite(clipped.ucl)
    assert (clipped.ucl[defined] <= 1.0).all() and (clipped.lcl[defined] >= -1.0).all()
    assert clipped.signals == free.signals


def test_metric_bounds() -> None:
    from labelaudit.monitor import clamp_limits, metric_bounds

    assert metric_bounds("krippendorff_alpha") == (-1.0, 1.0)
    assert metric_bounds("fleiss_kappa") == (-1.0, 1.0)
    assert metric_bounds("gold_error_rate") == (0.0, 1.0)
    assert metric_bounds("tie_rate") == (0.0, 1.0)
    assert metric_bounds("n_flagged") is None
    for name in ("span_f1_exact", "span_f1_overlap", "span_f1_exact:PER", "box_f1_50"):
        assert metric_bounds(name) == (0.0, 1.0)
    assert metric_bounds("box_f1_50_95") == metric_bounds("mean_iou") == (0.0, 1.0)
    assert metric_bounds("kendall_w") == (0.0, 1.0)
    assert metric_bounds("masi_alpha") == (None, 1.0)
    assert metric_bounds("per_label_kappa:sports") == (-1.0, 1.0)
    low, high = clamp_limits(np.array([-0.3]), np.array([1.2]), metric_bounds("masi_alpha"))
    assert low[0] == -0.3 and high[0] == 1.0
    low, high = clamp_limits(np.array([-0.2, np.nan]), np.array([1.3, np.nan]), (0.0, 1.0))
    assert low[0] == 0.0 and high[0] == 1.0 and np.isnan(low[1]) and np.isnan(high[1])


def test_annotator_drift_excludes_the_judged_batch() -> None:
    values = np.resize(np.array([0.80, 0.81, 0.79, 0.80, 0.82, 0.78]), (8, 1)).astype(float)
    values[7, 0] = 0.2
    pooled = annotator_drift(values, ["a"])
    judged = annotator_drift(values, ["a"], exclude=[7])
    assert not judged.monitors[0].individuals.baseline[7]
    assert pooled.monitors[0].individuals.baseline[7]
    assert 7 in judged.flagged[0]["out_of_control"]
