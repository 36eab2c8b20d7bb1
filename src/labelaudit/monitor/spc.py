"""Control charts for batch-by-batch quality: p, individuals (X-mR), EWMA and CUSUM.

Pure numpy functions over one value (or one count) per batch, in time order. Formulas
follow Montgomery, *Introduction to Statistical Quality Control* (8th ed., 2019),
chapters 7 and 9; the notes' part B has the same definitions.

- **Baseline (Phase I).** Limits are estimated on a baseline: by default the first
  ``min(20, n)`` batches, or any chosen set (``baseline=k`` for the first k, a boolean
  mask, or indices, e.g. a named reference period via :func:`reference_mask`). Limits
  from fewer than 20 baseline batches are marked ``provisional``. Phase II: the batch
  being judged is left out of the baseline (``baseline_mask(..., exclude=[judged])``),
  so a degraded batch cannot widen its own limits.
- **Range.** Limits are clipped to the metric's range (``bounds``, e.g. ``(-1, 1)`` for
  alpha and kappa from :func:`metric_bounds`; the p-chart's [0, 1] always): a limit
  beyond the range can never be crossed, and the chart must not draw alpha's UCL at 1.07.
- **p-chart** (gold error rate, varying batch sizes): ``p_bar = sum d / sum n`` over the
  baseline (not the mean of the p_i); ``sigma_i = sqrt(p_bar (1 - p_bar) / n_i)``;
  limits ``p_bar -/+ L sigma_i`` clamped to [0, 1]. Where ``n_i p_bar < 5`` the normal
  approximation fails and the limits are exact binomial probability limits instead:
  ``UCL_i = c/n_i`` with c the smallest count such that ``P(Bin(n_i, p_bar) > c) <= alpha``
  and ``LCL_i = c/n_i`` with c the largest count such that ``P(Bin < c) <= alpha``, where
  ``alpha = P(N(0,1) > L)`` (0.00135 for L = 3).
- **Individuals (X-mR)**: center = baseline mean; ``sigma = mean moving range / d2``,
  ``d2 = 2/sqrt(pi) = 1.128``; limits center -/+ L sigma (2.66 mean MR for L = 3). The
  moving-range chart's limit ``D4 * mean MR`` (``D4 = 3.267``) gives warnings.
- **EWMA** (Roberts 1959; Lucas & Saccucci 1990): ``z_t = lambda x_t + (1 - lambda)
  z_{t-1}``, ``z_0 = mu0``; exact time-varying limits ``mu0 -/+ L sigma sqrt(lambda /
  (2 - lambda) (1 - (1 - lambda)^(2t)))``. Defaults lambda = 0.2, L = 3.
- **Tabular CUSUM** (Page 1954): ``C+_t = max(0, x_t - (mu0 + K) + C+_{t-1})``,
  ``C-_t = max(0, (mu0 - K) - x_t + C-_{t-1})``, ``K = k sigma``, ``H = h sigma``,
  signal when ``C > H``. Defaults k = 0.5, h = 5 (in-control ARL about 465).

A point is out of control when it lies beyond a limit (p, individuals) or when the EWMA or
CUSUM signals. Western Electric / Nelson run rules (:mod:`labelaudit.monitor.rules`) are
warnings. NaN values (an undefined coefficient) are skipped: no point, no signal.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from labelaudit.exceptions import UsageError
from labelaudit.monitor._chart import (
    BASELINE_SIZE,
    Baseline,
    Bounds,
    ControlChart,
    baseline_mask,
    chart_labels,
    clamp_limits,
    metric_bounds,
    reference_mask,
)
from labelaudit.monitor.rules import RuleViolation, run_rules

__all__ = [
    "BASELINE_SIZE",
    "D2",
    "D4",
    "Baseline",
    "Bounds",
    "ControlChart",
    "baseline_mask",
    "clamp_limits",
    "cusum_chart",
    "ewma_chart",
    "individuals_chart",
    "metric_bounds",
    "p_chart",
    "reference_mask",
]

#: Bias constants of the moving range of two observations: d2 = E[R]/sigma, D4 = 1 + 3 d3/d2.
D2 = 2.0 / math.sqrt(math.pi)
D4 = 1.0 + 3.0 * math.sqrt(2.0 - 4.0 / math.pi) / D2


# ----------------------------------------------------------------------------- p-chart
def _binomial_limits(
    sizes: np.ndarray, p_bar: float, alpha: float
) -> tuple[np.ndarray, np.ndarray]:
    """Exact probability limits (counts) of Bin(n_i, p_bar): P(X > c_U) <= alpha and
    P(X < c_L) <= alpha, c_U smallest and c_L largest such count."""
    from scipy.stats import binom

    upper = binom.ppf(1.0 - alpha, sizes, p_bar)
    lower = binom.ppf(alpha, sizes, p_bar)
    lower = lower + (binom.cdf(lower, sizes, p_bar) <= alpha)
    return lower, upper


def p_chart(
    defects: Sequence[int] | np.ndarray,
    sizes: Sequence[int] | np.ndarray,
    *,
    baseline: Baseline = None,
    labels: Sequence[str] | None = None,
    L: float = 3.0,
    rules: str = "western_electric",
) -> ControlChart:
    """p-chart with varying batch sizes (e.g. gold questions answered wrong per batch).

    Parameters
    ----------
    defects : array of int, shape (n,)
        d_i, nonconforming units in batch i (gold errors).
    sizes : array of int, shape (n,)
        n_i, units inspected in batch i (gold answers); 0 = no point.
    baseline, labels
        See :func:`baseline_mask`; one name per batch.
    L : float
        Limit width in sigmas (3).
    rules : str
        Run rules applied to the standardised ``z_i = (p_i - p_bar) / sigma_i``.

    Returns
    -------
    ControlChart
        ``extra``: ``n``, ``defects``, ``z``, ``limit_method`` (``"normal"`` or
        ``"exact"``, the latter where ``n_i p_bar < 5``).
    """
    d = np.asarray(defects, dtype=np.float64)
    n = np.asarray(sizes, dtype=np.float64)
    if d.shape != n.shape or d.ndim != 1:
        raise UsageError(f"defects and sizes need one equal length; got {d.shape}, {n.shape}")
    if np.any(n < 0) or np.any(d < 0) or np.any(d > n) or np.any(d % 1) or np.any(n % 1):
        raise UsageError("defects and sizes must be integer counts with 0 <= defects <= sizes")
    defined = n > 0
    base = baseline_mask(n.size, baseline) & defined
    total = n[base].sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(defined, d / np.where(defined, n, 1.0), np.nan)
    if total == 0:
        return _undefined_chart("p", p, base, labels, "no inspected units in the baseline")
    p_bar = float(d[base].sum() / total)
    with np.errstate(invalid="ignore", divide="ignore"):
        sigma = np.where(
            defined, np.sqrt(p_bar * (1.0 - p_bar) / np.where(defined, n, 1.0)), np.nan
        )
        z = np.where(sigma > 0, (p - p_bar) / sigma, np.nan)
    lcl = np.clip(p_bar - L * sigma, 0.0, 1.0)
    ucl = np.clip(p_bar + L * sigma, 0.0, 1.0)
    exact = defined & (n * p_bar < 5.0)
    if exact.any():
        from labelaudit.distributions import norm_sf

        low, high = _binomial_limits(n[exact], p_bar, float(norm_sf(L)))
        lcl[exact], ucl[exact] = low / n[exact], high / n[exact]
    out = defined & ((p > ucl) | (p < lcl))
    method = np.full(n.size, None, dtype=object)
    method[defined] = "normal"
    method[exact] = "exact"
    reason = None
    if p_bar in (0.0, 1.0):
        reason = f"p_bar = {p_bar:g} in the baseline: any other rate is out of control"
    return ControlChart(
        chart="p",
        values=p,
        center=np.where(defined, p_bar, np.nan),
        lcl=np.where(defined, lcl, np.nan),
        ucl=np.where(defined, ucl, np.nan),
        out_of_control=out,
        baseline=base,
        provisional=int(base.sum()) < BASELINE_SIZE,
        parameters={"p_bar": p_bar, "L": L, "n_baseline_units": int(total), "rules": rules},
        warnings=tuple(run_rules(z, rules)),
        extra={
            "n": n.astype(np.int64),
            "defects": d.astype(np.int64),
            "z": z,
            "limit_method": method,
        },
        labels=chart_labels(labels, n.size),
        reason=reason,
    )


def _undefined_chart(
    chart: str, values: np.ndarray, base: np.ndarray, labels: Sequence[str] | None, reason: str
) -> ControlChart:
    nan = np.full(values.size, np.nan)
    return ControlChart(
        chart=chart,
        values=values,
        center=nan,
        lcl=nan,
        ucl=nan,
        out_of_control=np.zeros(values.size, dtype=bool),
        baseline=base,
        provisional=True,
        parameters={},
        labels=chart_labels(labels, values.size),
        reason=reason,
    )


# ------------------------------------------------------------------ variables charts
def _estimate(x: np.ndarray, base: np.ndarray) -> tuple[float, float, float]:
    """Baseline mean, mean moving range and sigma = MR_bar / d2.

    Moving ranges join consecutive *defined* points and count when both are baseline.
    """
    defined = np.flatnonzero(np.isfinite(x))
    values = x[defined]
    in_base = base[defined]
    ranges = np.abs(np.diff(values))[in_base[1:] & in_base[:-1]]
    mean = float(values[in_base].mean()) if in_base.any() else math.nan
    mr_bar = float(ranges.mean()) if ranges.size else math.nan
    return mean, mr_bar, mr_bar / D2


def _prepare(
    values: Sequence[float] | np.ndarray, baseline: Baseline
) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 1:
        raise UsageError(f"values must be one-dimensional; got shape {x.shape}")
    return x, baseline_mask(x.size, baseline) & np.isfinite(x)


def individuals_chart(
    values: Sequence[float] | np.ndarray,
    *,
    baseline: Baseline = None,
    labels: Sequence[str] | None = None,
    L: float = 3.0,
    rules: str = "western_electric",
    bounds: Bounds = None,
) -> ControlChart:
    """Individuals (X-mR) chart: one value per batch (e.g. Krippendorff's alpha).

    Parameters
    ----------
    values : array, shape (n,)
        One value per batch, NaN = undefined (skipped).
    baseline, labels, L, rules
        As in :func:`p_chart`.
    bounds : (lower, upper), optional
        The metric's range (:func:`metric_bounds`); limits are clipped to it.

    Returns
    -------
    ControlChart
        ``parameters``: mean, mr_bar, sigma (= mr_bar / d2), mr_ucl (= D4 mr_bar),
        lower_bound, upper_bound (the clip; unclipped limits are mean -/+ L sigma).
        ``extra``: ``moving_range`` (to the previous defined point), ``z``. A moving range
        above ``mr_ucl`` is an ``"MR"`` warning.
    """
    x, base = _prepare(values, baseline)
    mean, mr_bar, sigma = _estimate(x, base)
    defined = np.isfinite(x)
    ranges = np.full(x.size, np.nan)
    positions = np.flatnonzero(defined)
    ranges[positions[1:]] = np.abs(np.diff(x[positions]))
    if not math.isfinite(sigma):
        return _undefined_chart(
            "individuals", x, base, labels, "need at least 2 consecutive defined baseline values"
        )
    lcl, ucl = clamp_limits(np.asarray(mean - L * sigma), np.asarray(mean + L * sigma), bounds)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (x - mean) / sigma if sigma > 0 else np.full(x.size, np.nan)
    warnings = run_rules(z, rules)
    warnings += [
        RuleViolation("MR", int(i), "moving range above its upper limit (D4 x mean MR)")
        for i in np.flatnonzero(ranges > D4 * mr_bar)
    ]
    return ControlChart(
        chart="individuals",
        values=x,
        center=np.where(defined, mean, np.nan),
        lcl=np.where(defined, lcl, np.nan),
        ucl=np.where(defined, ucl, np.nan),
        out_of_control=defined & ((x > ucl) | (x < lcl)),
        baseline=base,
        provisional=int(base.sum()) < BASELINE_SIZE,
        parameters={
            "mean": mean,
            "mr_bar": mr_bar,
            "sigma": sigma,
            "mr_ucl": D4 * mr_bar,
            "L": L,
            "rules": rules,
            **_bound_parameters(bounds),
        },
        warnings=tuple(sorted(warnings, key=lambda w: (w.index, w.rule))),
        extra={"moving_range": ranges, "z": z},
        labels=chart_labels(labels, x.size),
        reason="no variation in the baseline" if sigma == 0 else None,
    )


def _bound_parameters(bounds: Bounds) -> dict[str, float | None]:
    """``lower_bound`` / ``upper_bound`` parameters of a clipped chart (None = no clip)."""
    low, high = bounds if bounds is not None else (None, None)
    return {"lower_bound": low, "upper_bound": high}


def _in_control_parameters(
    x: np.ndarray, base: np.ndarray, mu0: float | None, sigma: float | None
) -> tuple[float, float]:
    mean, _, estimated = _estimate(x, base)
    return (mean if mu0 is None else float(mu0)), (estimated if sigma is None else float(sigma))


def ewma_chart(
    values: Sequence[float] | np.ndarray,
    *,
    lam: float = 0.2,
    L: float = 3.0,
    baseline: Baseline = None,
    labels: Sequence[str] | None = None,
    mu0: float | None = None,
    sigma: float | None = None,
    bounds: Bounds = None,
) -> ControlChart:
    """EWMA chart with exact time-varying limits.

    Parameters
    ----------
    values : array, shape (n,)
        One value per batch, NaN = skipped (the statistic carries over).
    lam : float
        Weight of the newest value, 0 < lam <= 1 (0.2).
    L : float
        Limit width in sigmas of the EWMA statistic (3).
    baseline, labels
        As in :func:`p_chart`.
    mu0, sigma : float, optional
        In-control mean and sigma; default: baseline mean and mean moving range / d2.
    bounds : (lower, upper), optional
        The metric's range; limits are clipped to it (z_t is an average of values in it).

    Returns
    -------
    ControlChart
        ``values`` = z_t; ``extra["x"]`` = the input values.
    """
    if not 0.0 < lam <= 1.0:
        raise UsageError(f"lam must be in (0, 1]; got {lam}")
    x, base = _prepare(values, baseline)
    mu, sd = _in_control_parameters(x, base, mu0, sigma)
    if not (math.isfinite(mu) and math.isfinite(sd)):
        return _undefined_chart("ewma", x, base, labels, "need at least 2 baseline values")
    from scipy.signal import lfilter

    positions = np.flatnonzero(np.isfinite(x))
    z = np.full(x.size, np.nan)
    z[positions] = lfilter([lam], [1.0, lam - 1.0], x[positions], zi=[(1.0 - lam) * mu])[0]
    t = np.arange(1, positions.size + 1)
    width = np.full(x.size, np.nan)
    width[positions] = L * sd * np.sqrt(lam / (2.0 - lam) * (1.0 - (1.0 - lam) ** (2 * t)))
    lcl, ucl = clamp_limits(mu - width, mu + width, bounds)
    return ControlChart(
        chart="ewma",
        values=z,
        center=np.where(np.isfinite(x), mu, np.nan),
        lcl=lcl,
        ucl=ucl,
        out_of_control=np.isfinite(z) & ((z > ucl) | (z < lcl)),
        baseline=base,
        provisional=int(base.sum()) < BASELINE_SIZE,
        parameters={"mu0": mu, "sigma": sd, "lambda": lam, "L": L, **_bound_parameters(bounds)},
        extra={"x": x},
        labels=chart_labels(labels, x.size),
        reason="no variation in the baseline" if sd == 0 else None,
    )


def _upper_cusum(steps: np.ndarray, head_start: float) -> np.ndarray:
    """C_t = max(0, C_{t-1} + y_t), C_0 = head_start, as S_t - min(-C_0, min_j<=t S_j)."""
    if steps.size == 0:
        return steps
    total = np.cumsum(steps)
    return total - np.minimum(-head_start, np.minimum.accumulate(total))


def _periods_since_zero(c: np.ndarray) -> np.ndarray:
    """N_t: points since the statistic was last zero (estimates when a shift began)."""
    index = np.arange(1, c.size + 1)
    last_zero = np.maximum.accumulate(np.where(c == 0, index, 0))
    return index - last_zero


def cusum_chart(
    values: Sequence[float] | np.ndarray,
    *,
    k: float = 0.5,
    h: float = 5.0,
    baseline: Baseline = None,
    labels: Sequence[str] | None = None,
    mu0: float | None = None,
    sigma: float | None = None,
    head_start: float = 0.0,
) -> ControlChart:
    """Tabular (two-sided) CUSUM for small persistent drifts.

    Parameters
    ----------
    values : array, shape (n,)
        One value per batch, NaN = skipped.
    k, h : float
        Reference value and decision interval in sigmas (0.5, 5).
    baseline, labels, mu0, sigma
        As in :func:`ewma_chart`.
    head_start : float
        Fast initial response C_0, in sigmas (0 = none; h/2 is the usual FIR).

    Returns
    -------
    ControlChart
        ``values`` = C+_t, ``ucl`` = H, ``lcl`` = 0; ``extra``: ``c_minus`` (C-_t),
        ``n_plus``, ``n_minus`` (points since each statistic was last zero), ``x``.
        Out of control where C+ > H or C- > H.
    """
    x, base = _prepare(values, baseline)
    mu, sd = _in_control_parameters(x, base, mu0, sigma)
    if not (math.isfinite(mu) and math.isfinite(sd)):
        return _undefined_chart("cusum", x, base, labels, "need at least 2 baseline values")
    big_k, big_h = k * sd, h * sd
    positions = np.flatnonzero(np.isfinite(x))
    defined = x[positions]
    columns = {name: np.full(x.size, np.nan) for name in ("c_plus", "c_minus")}
    counts = {name: np.zeros(x.size, dtype=np.int64) for name in ("n_plus", "n_minus")}
    columns["c_plus"][positions] = _upper_cusum(defined - mu - big_k, head_start * sd)
    columns["c_minus"][positions] = _upper_cusum(mu - big_k - defined, head_start * sd)
    counts["n_plus"][positions] = _periods_since_zero(columns["c_plus"][positions])
    counts["n_minus"][positions] = _periods_since_zero(columns["c_minus"][positions])
    finite = np.isfinite(x)
    out = finite & ((columns["c_plus"] > big_h) | (columns["c_minus"] > big_h))
    return ControlChart(
        chart="cusum",
        values=columns["c_plus"],
        center=np.where(finite, 0.0, np.nan),
        lcl=np.where(finite, 0.0, np.nan),
        ucl=np.where(finite, big_h, np.nan),
        out_of_control=out,
        baseline=base,
        provisional=int(base.sum()) < BASELINE_SIZE,
        parameters={"mu0": mu, "sigma": sd, "k": k, "h": h, "K": big_k, "H": big_h},
        extra={"c_minus": columns["c_minus"], **counts, "x": x},
        labels=chart_labels(labels, x.size),
        reason="no variation in the baseline" if sd == 0 else None,
    )
