"""The normal and Student t functions of :mod:`labelaudit.distributions` against mpmath.

The reference is mpmath at 50 significant digits (more where a complement cancels), so the
bound is on the real error, not on a peer's: scipy's ``stdtr`` itself is off by up to
1.6e-13 in the deep tail. Acceptance: relative error at most 1e-13 for the quantiles over
probabilities 1e-300 .. 1 - 1e-16 and df 1 .. 1e6 (integer or not), and for the CDFs over
x wherever the probability is at least 1e-300; agreement with scipy within 1e-12 where
scipy is accurate.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special

from labelaudit.distributions import (
    norm_cdf,
    norm_isf,
    norm_ppf,
    norm_sf,
    t_cdf,
    t_isf,
    t_ppf,
    t_sf,
)

TOL = 1e-13
DIGITS = 50
DFS = (1.0, 1.5, 2.0, 3.0, 4.5, 9.0, 29.0, 30.5, 49.0, 50.5, 99.0, 1000.0, 12345.6, 1e5, 1e6)
PROBS = (1e-300, 1e-150, 1e-40, 1e-12, 1e-4, 0.025, 0.2, 0.3, 0.4999, 0.5 + 1e-9, 0.975)


def _ibeta_series(a: mpmath.mpf, b: mpmath.mpf, x: mpmath.mpf) -> mpmath.mpf:
    """I_x(a, b) by its power series x^a (1-x)^b / (a B(a, b)) 2F1(a+b, 1; a+1; x), every
    term positive (Abramowitz & Stegun 26.5.4 with 15.1.1)."""
    log_front = a * mpmath.log(x) + b * mpmath.log1p(-x) - mpmath.log(a * mpmath.beta(a, b))
    total, term, n = mpmath.mpf(0), mpmath.mpf(1), 0
    eps = mpmath.mpf(10) ** (-mpmath.mp.dps - 5)
    while term >= total * eps or (a + b + n) / (a + 1 + n) * x >= 0.5:
        total += term
        term *= (a + b + n) / (a + 1 + n) * x
        n += 1
    return mpmath.exp(log_front) * total


def mp_t_lower(s: float, df: float) -> mpmath.mpf:
    """P(T <= -s) to 50 digits: mpmath's incomplete beta where its series converges (x not
    near 1, or small a), else 1 - I_y(1/2, a) by the positive series at the precision that
    the complement needs."""
    with mpmath.workdps(DIGITS):
        s_, nu = mpmath.mpf(s), mpmath.mpf(df)
        a, half = nu / 2, mpmath.mpf(1) / 2
        x = nu / (nu + s_ * s_)
        if x < 0.9 or a < 50:
            return mpmath.betainc(a, half, 0, x, regularized=True) / 2
    digits = DIGITS + 10
    while True:
        with mpmath.workdps(digits):
            s_, nu = mpmath.mpf(s), mpmath.mpf(df)
            y = s_ * s_ / (nu + s_ * s_)
            p = (1 - _ibeta_series(mpmath.mpf(1) / 2, nu / 2, y)) / 2
            lost = int(-mpmath.log10(p)) if p > 0 else digits
        if digits >= DIGITS + lost + 5:
            return p
        digits = DIGITS + lost + 10


def mp_t_density(s: float, df: float) -> mpmath.mpf:
    with mpmath.workdps(DIGITS):
        nu, s_ = mpmath.mpf(df), mpmath.mpf(s)
        log_k = mpmath.loggamma((nu + 1) / 2) - mpmath.loggamma(nu / 2)
        log_f = log_k - mpmath.log(nu * mpmath.pi) / 2 - (nu + 1) / 2 * mpmath.log1p(s_ * s_ / nu)
        return mpmath.exp(log_f)


def rel(got: float, ref: mpmath.mpf) -> float:
    return float(abs((mpmath.mpf(got) - ref) / ref))


def quantile_error(x: float, p: float, df: float) -> float:
    """Relative error of x as the p-quantile: |P(T <= x) - p| / (|x| f(x)), to first order
    (the second-order term is ~1e-26 here), with both sides at 50 digits."""
    s = abs(x)
    q = mpmath.mpf(min(p, 1.0 - p))  # 1 - p is exact for p >= 1/2
    with mpmath.workdps(DIGITS):
        return float(abs(mp_t_lower(s, df) - q) / (s * mp_t_density(s, df)))


# ---------------------------------------------------------------------------- normal


@pytest.mark.parametrize("x", [*np.linspace(-37.5, 9.0, 187).tolist(), -1e-8, 1e-300, 0.0])
def test_normal_cdf_is_exact_to_1e13(x: float) -> None:
    with mpmath.workdps(DIGITS):
        assert rel(norm_cdf(x), mpmath.ncdf(x)) <= TOL
        assert rel(norm_sf(-x), mpmath.ncdf(x)) <= TOL


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=-300.0, max_value=-1e-16), st.booleans())
def test_normal_quantile_is_exact_to_1e13(log10_p: float, upper: bool) -> None:
    p = 10.0**log10_p
    if upper:
        p = 1.0 - p
        if p == 1.0:
            return
    x = norm_ppf(p)
    with mpmath.workdps(DIGITS):
        q = mpmath.mpf(min(p, 1.0 - p))
        error = abs(mpmath.ncdf(-abs(x)) - q) / (abs(x) * mpmath.npdf(x))
    assert float(error) <= TOL, (p, x)
    assert norm_isf(p) == -x


def test_normal_edges_and_the_95_constant() -> None:
    assert norm_ppf(0.5) == 0.0
    assert norm_ppf([0.0, 1.0]).tolist() == [-math.inf, math.inf]
    assert math.isnan(norm_ppf(1.5)) and math.isnan(norm_sf(math.nan))
    assert norm_sf(math.inf) == 0.0 and norm_cdf(math.inf) == 1.0
    with mpmath.workdps(DIGITS):
        assert rel(norm_ppf(0.975), -mpmath.erfinv(-0.95) * mpmath.sqrt(2)) <= 1e-15


# ---------------------------------------------------------------------------- Student t


@pytest.mark.parametrize("df", DFS)
def test_t_quantile_grid_is_exact_to_1e13(df: float) -> None:
    for p in (*PROBS, *(1.0 - p for p in PROBS if 1.0 - p < 1.0), 1.0 - 1e-16):
        x = t_ppf(p, df)
        if not math.isfinite(x):  # beyond the largest double: df < 1 deep tails only
            assert df < 2.0 and p < 1e-150, (p, df)
            continue
        assert (x < 0) == (p < 0.5), (p, df, x)
        assert quantile_error(x, p, df) <= TOL, (p, df, x)


@settings(max_examples=120, deadline=None)
@given(
    st.floats(min_value=0.0, max_value=6.0),
    st.floats(min_value=-300.0, max_value=math.log10(0.5)),
    st.booleans(),
)
def test_t_quantile_is_exact_to_1e13(log10_df: float, log10_p: float, upper: bool) -> None:
    df, p = 10.0**log10_df, 10.0**log10_p
    if upper:
        p = 1.0 - p
    x = t_ppf(p, df)
    if math.isfinite(x) and x != 0.0:
        assert quantile_error(x, p, df) <= TOL, (p, df, x)
        assert t_isf(p, df) == -x


@settings(max_examples=150, deadline=None)
@given(st.floats(min_value=0.0, max_value=6.0), st.floats(min_value=-3.0, max_value=3.0))
def test_t_cdf_is_exact_to_1e13(log10_df: float, log10_x: float) -> None:
    df, s = 10.0**log10_df, 10.0**log10_x
    lower = t_cdf(-s, df)
    if lower < 1e-300:
        return
    ref = mp_t_lower(s, df)
    assert rel(lower, ref) <= TOL, (s, df)
    assert rel(t_sf(s, df), ref) <= TOL, (s, df)
    assert rel(t_cdf(s, df), 1 - ref) <= TOL, (s, df)


@pytest.mark.parametrize("df", DFS)
def test_t_deep_tail_is_exact_to_1e13(df: float) -> None:
    """Where a logarithm of the probability would be exponentiated (scipy's 1.6e-13)."""
    for p in (1e-300, 1e-200, 1e-100):
        s = -t_ppf(p, df)
        if math.isfinite(s):
            assert rel(t_sf(s, df), mp_t_lower(s, df)) <= TOL, (s, df)


def test_t_agrees_with_scipy_where_scipy_is_accurate() -> None:
    rng = np.random.default_rng(15)
    df = np.exp(rng.uniform(0.0, math.log(1e6), 400))
    x = np.exp(rng.uniform(math.log(1e-3), math.log(40.0), 400)) * rng.choice([-1, 1], 400)
    ours, theirs = t_sf(x, df), special.stdtr(df, -x)
    keep = theirs > 1e-100  # scipy's own error grows with -log p beyond
    np.testing.assert_allclose(ours[keep], theirs[keep], rtol=1e-12)
    p = np.exp(rng.uniform(math.log(1e-100), math.log(0.5), 400))
    np.testing.assert_allclose(t_ppf(p, df), special.stdtrit(df, p), rtol=1e-12)
    np.testing.assert_allclose(t_ppf(0.975, np.arange(1, 200)), special.stdtrit(
        np.arange(1, 200), 0.975), rtol=1e-12)  # fmt: skip


def test_t_shapes_and_edges() -> None:
    assert isinstance(t_ppf(0.975, 9), float)
    assert t_ppf([[0.025], [0.975]], [9, 10]).shape == (2, 2)
    assert t_ppf(0.5, 3) == 0.0 and t_sf(0.0, 3) == 0.5
    assert t_ppf([0.0, 1.0], 4).tolist() == [-math.inf, math.inf]
    assert t_sf([math.inf, -math.inf], 4).tolist() == [0.0, 1.0]
    assert all(math.isnan(v) for v in (t_ppf(0.3, 0.0), t_sf(1.0, -1.0), t_ppf(1.2, 3)))
    # closed forms: Cauchy (df = 1) and df = 2
    assert t_ppf(0.975, 1) == pytest.approx(math.tan(math.pi * 0.475), rel=1e-15)
    assert t_sf(2.0, 2) == pytest.approx(0.5 - 1.0 / math.sqrt(6.0), rel=1e-15)


@pytest.mark.parametrize("n", [1, 2, 10, 1000, 10**6])
def test_clopper_pearson_bound_is_the_exact_beta_quantile(n: int) -> None:
    """``ci95_exact`` at x = n of n: the 2.5% quantile of Beta(n, 1), whose closed form
    (0.025)^(1/n) needs no iterative inverse; checked against mpmath's incomplete beta."""
    from labelaudit.intervals import perfect_agreement

    low = perfect_agreement(1.0, 0.0, n)["ci95_exact"][0]
    with mpmath.workdps(DIGITS):
        cdf = mpmath.betainc(n, 1, 0, mpmath.mpf(low), regularized=True)
        density = n * mpmath.mpf(low) ** (n - 1)
        error = abs(cdf - mpmath.mpf("0.025")) / (low * density)  # relative, first order
    assert float(error) <= 1e-15
