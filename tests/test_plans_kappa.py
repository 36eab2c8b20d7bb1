"""Kappa study sample sizes (labelaudit.plans.kappa) against irr and kappaSize, properties,
and the ``plan kappa`` command."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize, stats
from typer.testing import CliRunner

from labelaudit.cli.app import app
from labelaudit.exceptions import UsageError
from labelaudit.plans import (
    cantor_items,
    ci_items,
    fixed_n_lower,
    plan_kappa,
    power_items,
)
from labelaudit.plans.kappa import (
    _powchi,
    binary_rating_probabilities,
    category_rating_probabilities,
)

runner = CliRunner()

# Peer values: the R sources of kappaSize 1.2 (PowerBinary, CIBinary, FixedNBinary) and irr
# 0.84.1 (N.cohen.kappa), sourced into R 4.2.2 and run on 20 random designs (set.seed(1)).
# Columns: raters, prevalence, kappa0, kappa1 (also the two-sided upper limit), kappaL,
# alpha, power, n (FixedN), PowerBinary ceiling(N), CIBinary one-sided n, CIBinary
# two-sided n (kappaL, kappa1), FixedNBinary kappaL, N.cohen.kappa(p, min(0.9, p + 0.05),
# kappa1, kappa0, alpha, power, twosided = row number is even) (None: the alternative's
# 2 x 2 table has a negative cell, where irr returns a number and labelaudit refuses).
R_PEER = [
    (2, 0.4, 0.54, 0.82, 0.44, 0.01, 0.8, 318, 110, 452, 555, 0.419, 77),
    (3, 0.26, 0.31, 0.53, 0.16, 0.01, 0.9, 457, 182, 122, 150, 0.228, 305),
    (3, 0.72, 0.76, 0.86, 0.55, 0.01, 0.8, 236, 388, 63, 140, 0.66, 496),
    (6, 0.8, 0.4, 0.57, 0.2, 0.01, 0.9, 482, 221, 51, 90, 0.331, 670),
    (2, 0.74, 0.26, 0.49, 0.11, 0.05, 0.9, 130, 222, 132, 187, 0.109, 181),
    (5, 0.52, 0.67, 0.73, 0.5, 0.01, 0.8, 89, 790, 54, 398, 0.539, 1712),
    (2, 0.45, 0.35, 0.42, 0.28, 0.05, 0.9, 58, 1897, 513, 728, 0.135, 1478),
    (4, 0.33, 0.48, 0.61, 0.27, 0.05, 0.9, 64, 236, 23, 77, 0.353, 478),
    (3, 0.8, 0.4, 0.66, 0.26, 0.1, 0.8, 123, 67, 59, 97, 0.301, 81),
    (5, 0.45, 0.63, 0.78, 0.5, 0.01, 0.9, 32, 173, 92, 113, 0.41, 346),
    (2, 0.21, 0.34, 0.4, 0.13, 0.1, 0.8, 160, 2102, 45, 893, 0.227, 1429),
    (5, 0.75, 0.56, 0.77, 0.42, 0.01, 0.8, 168, 100, 112, 137, 0.446, 231),
    (2, 0.58, 0.79, 0.95, 0.65, 0.05, 0.9, 365, 159, 82, 117, 0.73, None),
    (4, 0.46, 0.58, 0.88, 0.41, 0.1, 0.8, 335, 22, 19, 31, 0.54, 34),
    (4, 0.51, 0.32, 0.43, 0.12, 0.1, 0.8, 301, 161, 11, 74, 0.279, 320),
    (3, 0.58, 0.54, 0.72, 0.24, 0.01, 0.9, 314, 191, 27, 63, 0.452, 299),
    (6, 0.46, 0.31, 0.55, 0.23, 0.1, 0.9, 182, 36, 53, 87, 0.265, 90),
    (4, 0.46, 0.5, 0.6, 0.32, 0.05, 0.9, 135, 341, 27, 116, 0.418, 733),
    (2, 0.82, 0.47, 0.71, 0.2, 0.1, 0.9, 346, 186, 30, 50, 0.39, 136),
    (4, 0.77, 0.71, 0.86, 0.56, 0.05, 0.9, 265, 167, 56, 79, 0.645, None),
]

# The same for kappaSize's 3-5 category functions (Power3Cats ... FixedN5Cats, chosen by
# the number of shares), set.seed(3): raters, kappa0, kappa1 (two-sided upper limit),
# kappaL, alpha, power, n, Power n, CI one-sided n, CI two-sided n, FixedN kappaL, shares.
R_PEER_CATEGORIES = [
    (5, 0.56, 0.64, 0.44, 0.1, 0.9, 295, 258, 23, 82, 0.526, [0.466, 0.28, 0.254]),
    (
        6,
        0.74,
        0.86,
        0.63,
        0.01,
        0.8,
        184,
        87,
        60,
        73,
        0.678,
        [0.207, 0.213, 0.295, 0.28500000000000003],
    ),
    (3, 0.42, 0.51, 0.26, 0.05, 0.9, 454, 399, 31, 147, 0.376, [0.301, 0.411, 0.28800000000000003]),
    (
        6,
        0.45,
        0.57,
        0.39,
        0.1,
        0.8,
        266,
        68,
        80,
        131,
        0.416,
        [0.187, 0.217, 0.423, 0.17300000000000004],
    ),
    (4, 0.48, 0.59, 0.4, 0.05, 0.8, 211, 131, 89, 126, 0.427, [0.118, 0.287, 0.317, 0.278]),
    (
        6,
        0.26,
        0.5,
        0.05,
        0.01,
        0.8,
        190,
        20,
        11,
        34,
        0.192,
        [0.095, 0.272, 0.149, 0.273, 0.21099999999999997],
    ),
    (
        5,
        0.43,
        0.48,
        0.14,
        0.05,
        0.8,
        480,
        586,
        11,
        320,
        0.397,
        [0.119, 0.297, 0.287, 0.29700000000000004],
    ),
    (
        3,
        0.38,
        0.48,
        0.16,
        0.1,
        0.8,
        413,
        165,
        11,
        78,
        0.346,
        [0.152, 0.201, 0.317, 0.32999999999999996],
    ),
    (5, 0.4, 0.47, 0.31, 0.05, 0.8, 474, 295, 59, 171, 0.366, [0.358, 0.247, 0.122, 0.273]),
    (6, 0.46, 0.67, 0.3, 0.01, 0.8, 133, 33, 26, 32, 0.38, [0.109, 0.166, 0.225, 0.25, 0.25]),
    (2, 0.52, 0.69, 0.39, 0.1, 0.8, 241, 116, 59, 97, 0.457, [0.487, 0.356, 0.15700000000000003]),
    (6, 0.28, 0.55, 0.15, 0.1, 0.8, 368, 11, 13, 20, 0.251, [0.308, 0.389, 0.30299999999999994]),
]


def test_documented_examples() -> None:
    # irr's Rd example, its documented output "[1] 96" (argument order as in the Rd).
    assert cantor_items(0.5, 0.5, 0.7, 0.85) == 96
    # kappaSize 1.2 Rd examples, the integers their print methods show in R.
    assert power_items(0.4, 0.6, 0.30, alpha=0.05, power=0.80) == 191
    assert ci_items(0.4, 0.3, 0.30, kappa_upper=0.5, alpha=0.05) == 397
    assert fixed_n_lower(0.7, 100, 0.50, raters=4, alpha=0.05) == 0.61
    # kappaSize's 3-5 category Rd examples, as R prints them.
    assert ci_items(0.4, 0.3, [0.30, 0.2, 0.5], kappa_upper=0.6, raters=3) == 125
    assert ci_items(0.4, 0.3, [0.30, 0.2, 0.2, 0.3], kappa_upper=0.5) == 174
    assert ci_items(0.4, 0.3, [0.13, 0.17, 0.2, 0.2, 0.3], kappa_upper=0.5) == 153
    assert power_items(0.4, 0.6, [0.30, 0.60, 0.10]) == 135
    assert power_items(0.4, 0.6, [0.30, 0.30, 0.30, 0.10]) == 92
    assert power_items(0.4, 0.6, [0.30, 0.20, 0.10, 0.30, 0.10]) == 83
    assert fixed_n_lower(0.7, 80, [0.33, 0.34, 0.33], raters=5) == 0.623


@pytest.mark.parametrize("row", R_PEER_CATEGORIES)
def test_matches_kappasize_categories(row: tuple) -> None:
    m, k0, k1, kl, alpha, power, n, n_power, n_ci1, n_ci2, lower, shares = row
    assert power_items(k0, k1, shares, raters=m, alpha=alpha, power=power) == n_power
    assert ci_items(k0, kl, shares, raters=m, alpha=alpha) == n_ci1
    assert ci_items(k0, kl, shares, kappa_upper=k1, raters=m, alpha=alpha) == n_ci2
    assert fixed_n_lower(k0, n, shares, raters=m, alpha=alpha) == pytest.approx(lower, abs=1e-12)


@pytest.mark.parametrize("row", R_PEER)
def test_matches_kappasize_and_irr(row: tuple) -> None:
    m, p, k0, k1, kl, alpha, power, n, n_power, n_ci1, n_ci2, lower, n_cantor = row
    assert power_items(k0, k1, p, raters=m, alpha=alpha, power=power) == n_power
    assert ci_items(k0, kl, p, raters=m, alpha=alpha) == n_ci1
    assert ci_items(k0, kl, p, kappa_upper=k1, raters=m, alpha=alpha) == n_ci2
    assert fixed_n_lower(k0, n, p, raters=m, alpha=alpha) == pytest.approx(lower, abs=1e-12)
    two_sided = R_PEER.index(row) % 2 == 1
    p2 = round(min(0.9, p + 0.05), 2)
    if n_cantor is None:
        with pytest.raises(UsageError, match="negative"):
            cantor_items(p, p2, k1, k0, alpha=alpha, power=power, two_sided=two_sided)
    else:
        got = cantor_items(p, p2, k1, k0, alpha=alpha, power=power, two_sided=two_sided)
        assert got == n_cantor


def test_rating_probabilities_equal_kappasize_polynomials() -> None:
    """The generic model equals the expanded polynomials written out in kappaSize."""
    for r, p in [(0.3, 0.2), (0.7, 0.55), (-0.1, 0.4)]:
        two = [(1 - p) ** 2 + r * p * (1 - p), 2 * (1 - r) * p * (1 - p), p**2 + r * p * (1 - p)]
        three = [
            (1 - p) ** 3 + p * r * ((1 - p) ** 2 + (1 - p)),
            3 * p * (1 - r) * (1 - p) ** 2,
            3 * p**2 * (1 - p) * (1 - r),
            p**3 + r * p * (1 - p**2),
        ]
        four = [
            p**4
            - r * p**4
            - 4 * p**3
            + 4 * r * p**3
            + 6 * p**2
            - 6 * r * p**2
            - 4 * p
            + 3 * r * p
            + 1,
            4 * (1 - 3 * p - r + 3 * r * p + 3 * p**2 - 3 * r * p**2 - p**3 + r * p**3) * p,
            -(6 * (-1 + r + 2 * p - 2 * r * p - p**2 + r * p**2)) * p**2,
            4 * (1 - r - p + r * p) * p**3,
            -(-(p**3) - r + r * p**3) * p,
        ]
        six_ends = [
            p**6
            - r * p**6
            + 6 * r * p**5
            - 6 * p**5
            - 15 * r * p**4
            + 15 * p**4
            + 20 * r * p**3
            - 20 * p**3
            - 15 * r * p**2
            + 15 * p**2
            + 5 * r * p
            - 6 * p
            + 1,
            -(-(p**5) - r + r * p**5) * p,
        ]
        np.testing.assert_allclose(binary_rating_probabilities(r, p, 2), two, atol=1e-14)
        np.testing.assert_allclose(binary_rating_probabilities(r, p, 3), three, atol=1e-14)
        np.testing.assert_allclose(binary_rating_probabilities(r, p, 4), four, atol=1e-14)
        six = binary_rating_probabilities(r, p, 6)
        np.testing.assert_allclose([six[0], six[6]], six_ends, atol=1e-14)
        assert binary_rating_probabilities(r, p, 5).sum() == pytest.approx(1.0, abs=1e-14)


def test_category_cells_equal_kappasize_polynomials() -> None:
    """The Dirichlet-multinomial product equals kappaSize's expanded P_i (5 and 6 raters)."""
    k, pi = 0.37, np.array([0.2, 0.3, 0.5])
    five = (
        pi
        * (
            pi**4
            + 10 * k * pi**3
            - 4 * k * pi**4
            + 35 * k**2 * pi**2
            - 30 * k**2 * pi**3
            + 6 * k**2 * pi**4
            + 50 * k**3 * pi
            - 70 * k**3 * pi**2
            + 30 * k**3 * pi**3
            - 4 * k**3 * pi**4
            + 24 * k**4
            - 50 * k**4 * pi
            + 35 * k**4 * pi**2
            - 10 * k**4 * pi**3
            + k**4 * pi**4
        )
        / ((1 + k) * (1 + 2 * k) * (1 + 3 * k))
    )
    cells = category_rating_probabilities(k, pi, 5)
    np.testing.assert_allclose(cells[1:], five, atol=1e-14)
    assert cells[0] == pytest.approx(1 - five.sum(), abs=1e-14)
    two = category_rating_probabilities(k, pi, 2)[1:]
    np.testing.assert_allclose(two, pi**2 * (-(-pi - k + k * pi) / pi), atol=1e-14)


def test_noncentrality_bisection_is_close_to_the_exact_root() -> None:
    for alpha, power in [(0.05, 0.8), (0.01, 0.9), (0.1, 0.5)]:
        crit = stats.chi2.ppf(1 - alpha, 1)

        def gap(nc: float, crit: float = crit, power: float = power) -> float:
            return float(stats.ncx2.cdf(crit, 1, nc) - (1 - power))

        exact = optimize.brentq(gap, 1e-6, 100)
        assert _powchi(alpha, power) == pytest.approx(exact, rel=1e-3)
    # alpha 0.05, power 0.8: the classic 7.85 of the 1-df non-central chi-square
    assert _powchi(0.05, 0.8) == pytest.approx(7.849, abs=2e-3)


kappas = st.floats(0.05, 0.9)
prevalences = st.floats(0.05, 0.95)


@settings(max_examples=60, deadline=None)
@given(kappas, st.floats(0.02, 0.3), st.floats(0.01, 0.3), prevalences, st.integers(2, 6))
def test_power_items_fall_as_the_difference_grows(
    k0: float, gap: float, more: float, p: float, m: int
) -> None:
    k1 = min(k0 + gap, 0.97)
    k2 = min(k1 + more, 0.98)
    if k2 <= k1:
        return
    assert power_items(k0, k2, p, raters=m) <= power_items(k0, k1, p, raters=m)


@settings(max_examples=60, deadline=None)
@given(kappas, st.floats(0.05, 0.5), prevalences, st.integers(2, 6), st.floats(0.5, 0.95))
def test_items_rise_with_power(k0: float, gap: float, p: float, m: int, power: float) -> None:
    k1 = min(k0 + gap, 0.97)
    more = min(power + 0.04, 0.99)
    assert power_items(k0, k1, p, raters=m, power=power) <= power_items(
        k0, k1, p, raters=m, power=more
    )
    assert cantor_items(p, p, k0 * 0.5, k0, power=power) <= cantor_items(
        p, p, k0 * 0.5, k0, power=more
    )


@settings(max_examples=60, deadline=None)
@given(st.floats(0.3, 0.9), st.floats(0.02, 0.2), st.floats(0.01, 0.2), prevalences)
def test_ci_items_fall_as_the_interval_widens(k0: float, w: float, more: float, p: float) -> None:
    narrow = ci_items(k0, k0 - w, p, kappa_upper=min(k0 + w, 0.99))
    wide = ci_items(k0, max(k0 - w - more, 0.001), p, kappa_upper=min(k0 + w + more, 0.995))
    assert wide <= narrow
    assert ci_items(k0, k0 - w - more, p) <= ci_items(k0, k0 - w, p)


@settings(max_examples=30, deadline=None)
@given(st.floats(0.3, 0.9), prevalences, st.integers(11, 400), st.integers(1, 400))
def test_fixed_n_lower_limit_rises_with_items(k0: float, p: float, n: int, extra: int) -> None:
    small, large = fixed_n_lower(k0, n, p), fixed_n_lower(k0, n + extra, p)
    assert small is not None and large is not None
    assert small <= large < k0


def test_bad_input_is_refused() -> None:
    with pytest.raises(UsageError, match="--kappa1 must differ"):
        power_items(0.4, 0.4, 0.3)
    with pytest.raises(UsageError, match="--kappa0 must lie strictly between -1 and 1"):
        cantor_items(0.5, 0.5, 0.5, 1.0)
    with pytest.raises(UsageError, match="--prevalence must lie"):
        ci_items(0.4, 0.3, 1.0)
    with pytest.raises(UsageError, match="--power must lie"):
        power_items(0.4, 0.6, 0.3, power=1.0)
    with pytest.raises(UsageError, match="--alpha must lie"):
        fixed_n_lower(0.4, 50, 0.3, alpha=0.0)
    with pytest.raises(UsageError, match="--power must exceed --alpha"):
        power_items(0.4, 0.6, 0.3, alpha=0.2, power=0.1)
    with pytest.raises(UsageError, match="--raters must be between 2 and 6"):
        power_items(0.4, 0.6, 0.3, raters=7)
    with pytest.raises(UsageError, match="--lower must be below"):
        ci_items(0.4, 0.5, 0.3)
    with pytest.raises(UsageError, match="impossible"):
        power_items(-0.9, 0.6, 0.3, raters=3)
    with pytest.raises(UsageError, match="--prevalence must sum to 1"):
        power_items(0.4, 0.6, [0.3, 0.3, 0.3])
    with pytest.raises(UsageError, match="2-5 shares"):
        power_items(0.4, 0.6, [0.1, 0.1, 0.2, 0.2, 0.2, 0.2])
    with pytest.raises(UsageError, match="cantor takes one positive rate"):
        plan_kappa("cantor", 0.4, [0.3, 0.3, 0.4], kappa1=0.6)
    with pytest.raises(UsageError, match="needs --kappa1"):
        plan_kappa("power", 0.4, 0.3)
    with pytest.raises(UsageError, match="--method must be one of"):
        plan_kappa("exact", 0.4, 0.3, kappa1=0.6)


def test_plan_kappa_result_and_raters_table() -> None:
    plan = plan_kappa("power", 0.4, 0.3, kappa1=0.6, raters=3)
    data = plan.to_dict()
    assert set(data) == {"method", "inputs", "items", "kappa_lower", "by_raters", "reference"}
    assert data["items"] == power_items(0.4, 0.6, 0.3, raters=3)
    assert [r["raters"] for r in data["by_raters"]] == [2, 3, 4, 5, 6]
    assert data["by_raters"][0]["items"] == 191
    items = [r["items"] for r in data["by_raters"]]
    assert items == sorted(items, reverse=True)  # more raters per item, fewer items
    # a kappa impossible for more raters leaves those rows empty instead of failing
    negative = plan_kappa("power", -0.2, 0.5, kappa1=0.3).to_dict()["by_raters"]
    assert negative[0]["items"] is not None and negative[-1]["items"] is None


def test_cli_plan_kappa_formats_and_exit_2() -> None:
    args = ["plan", "kappa", "--kappa0", "0.4", "--kappa1", "0.6", "--prevalence", "0.3"]
    table = runner.invoke(app, args)
    assert table.exit_code == 0, table.output
    assert "191 items are required with 2 raters" in table.output
    assert "kappa1: 0.600" in table.output
    data = json.loads(runner.invoke(app, [*args, "--format", "json"]).output)
    assert data["items"] == 191 and data["inputs"]["kappa1"] == 0.6
    md = runner.invoke(
        app,
        [*args, "--method", "cantor", "--kappa0", "0.85", "--kappa1", "0.7", "--prevalence", "0.5"],
    )
    assert "96 items are required" in md.output
    ci = ["plan", "kappa", "--method", "ci", "--kappa0", "0.4", "--lower", "0.3"]
    markdown = runner.invoke(
        app, [*ci, "--upper", "0.5", "--prevalence", "0.3", "--format", "markdown"]
    )
    assert "**397 items are required with 2 raters" in markdown.output
    assert "| 2 | 397 |" in markdown.output
    html = runner.invoke(app, [*args, "--format", "html"])
    assert html.output.startswith("<!doctype html>") and "191 items are required" in html.output
    shares = runner.invoke(app, [*args[:-1], "0.3,0.6,0.1", "--format", "json"])
    assert json.loads(shares.output)["items"] == 135  # kappaSize Power3Cats' example
    fixed = ["plan", "kappa", "--method", "fixed-n", "--kappa0", "0.7", "--items", "100"]
    out = runner.invoke(app, [*fixed, "--prevalence", "0.5", "--raters", "4"])
    assert "100 items give an expected lower limit of kappa of 0.610" in out.output
    for bad, message in [
        (["--kappa1", "0.4"], "--kappa1 must differ from --kappa0"),
        (["--kappa0", "1.2"], "--kappa0 must lie strictly between -1 and 1; got 1.2"),
        (["--prevalence", "0"], "--prevalence must lie strictly between 0 and 1; got 0.0"),
        (["--alpha", "1.5"], "--alpha must lie strictly between 0 and 1; got 1.5"),
        (["--power", "0"], "--power must lie strictly between 0 and 1; got 0.0"),
        (["--prevalence", "0.5,0.6,0.2"], "--prevalence must sum to 1"),
    ]:
        result = runner.invoke(app, [*args, *bad])
        assert result.exit_code == 2
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0] == f"error: {lines[0][7:]}" and message in lines[0]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(0.1, 1.0), min_size=3, max_size=5),
    st.floats(0.2, 0.8),
    st.floats(0.05, 0.15),
    st.floats(0.01, 0.1),
    st.integers(2, 6),
)
def test_category_items_monotone(
    weights: list[float], k0: float, gap: float, more: float, m: int
) -> None:
    shares = np.asarray(weights) / np.sum(weights)
    assert power_items(k0, k0 + gap + more, shares, raters=m) <= power_items(
        k0, k0 + gap, shares, raters=m
    )
    assert power_items(k0, k0 + gap, shares, raters=m, power=0.8) <= power_items(
        k0, k0 + gap, shares, raters=m, power=0.9
    )
    assert ci_items(k0, k0 - gap - more, shares, raters=m) <= ci_items(
        k0, k0 - gap, shares, raters=m
    )
