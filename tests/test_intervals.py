"""The one Wilson interval: exact at the edges, equal to scipy elsewhere."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from labelaudit.intervals import Z95, normal_interval, wilson_interval


def test_z95_is_the_normal_quantile() -> None:
    assert pytest.approx(float(stats.norm.ppf(0.975)), abs=1e-15) == Z95
    low, high = normal_interval(0.5, 0.1)
    assert (low, high) == pytest.approx((0.5 - Z95 * 0.1, 0.5 + Z95 * 0.1), abs=1e-15)


@pytest.mark.parametrize("n", [1, 2, 5, 37, 1000, 10**7])
def test_wilson_edges_are_exact(n: int) -> None:
    # the closed form gives 0 and 1 at x = 0 and x = n only up to rounding; the interval
    # must state them exactly (a rate of 0/n or n/n is never "above 0" or "below 1")
    low, high = wilson_interval(np.array([0, n]), np.array([n, n]))
    assert low[0] == 0.0 and high[1] == 1.0
    assert 0.0 < high[0] < 1.0 and 0.0 < low[1] < 1.0
    ref0 = stats.binomtest(0, n).proportion_ci(method="wilson")
    ref1 = stats.binomtest(n, n).proportion_ci(method="wilson")
    assert high[0] == pytest.approx(ref0.high, abs=1e-12)
    assert low[1] == pytest.approx(ref1.low, abs=1e-12)


def test_wilson_scalars_and_no_trials() -> None:
    low, high = wilson_interval(3, 10)
    ref = stats.binomtest(3, 10).proportion_ci(method="wilson")
    assert float(low) == pytest.approx(ref.low, abs=1e-12)
    assert float(high) == pytest.approx(ref.high, abs=1e-12)
    low, high = wilson_interval(np.array([0]), np.array([0]))
    assert np.isnan(low[0]) and np.isnan(high[0])


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 5000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_equals_scipy(case: tuple[int, int]) -> None:
    x, n = case
    low, high = wilson_interval(x, n)
    ref = stats.binomtest(x, n).proportion_ci(method="wilson")
    assert float(low) == pytest.approx(ref.low, abs=1e-12)
    assert float(high) == pytest.approx(ref.high, abs=1e-12)
    assert 0.0 <= float(low) <= x / n <= float(high) <= 1.0
