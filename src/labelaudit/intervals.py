"""Intervals and resampling shared by every analysis: t, z and Wilson intervals, bootstrap
weights, percentile intervals of replicates and Holm's multiple-comparison adjustment.

One home for each: agreement coefficients, structured agreement, annotator quality and the
preference audits all import from here.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from scipy import stats

__all__ = [
    "Z95",
    "bootstrap_item_weights",
    "holm",
    "normal_interval",
    "percentile_ci",
    "t_interval",
    "wilson_interval",
]

#: Two-sided 95% standard normal quantile, Phi^-1(0.975).
Z95 = 1.959963984540054


def t_interval(value: float, se: float, df: int) -> tuple[tuple[float, float], float]:
    """Gwet's (2014) 95% CI and two-sided p: value +/- t_{.975, df} se, upper end clipped at 1.

    This is what R irrCAC and Python irrCAC 0.4.4 report for the raw-ratings coefficients.
    """
    if not np.isfinite(se) or df < 1:
        return (float("nan"), float("nan")), float("nan")
    quantile = float(stats.t.ppf(0.975, df))
    low, high = value - quantile * se, min(1.0, value + quantile * se)
    p = float(2.0 * stats.t.sf(abs(value / se), df)) if se > 0 else float("nan")
    return (low, high), p


def normal_interval(value: float, se: float) -> tuple[float, float]:
    """Large-sample 95% CI value +/- z_{.975} se (SAS PROC FREQ, R psych for kappa)."""
    return (value - Z95 * se, value + Z95 * se)


def wilson_interval(
    successes: np.ndarray | int, n: np.ndarray | int, z: float = Z95
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of binomial proportions (Wilson 1927).

    Parameters
    ----------
    successes, n : ndarray of int, same shape
        Successes and trials of each proportion.
    z : float
        Normal quantile (1.96 for a 95% interval).

    Returns
    -------
    low, high : ndarray of float64
        Bounds in [0, 1]; NaN where ``n == 0``. With p = x / n:
        (p + z^2 / 2n -/+ z sqrt(p (1 - p) / n + z^2 / 4n^2)) / (1 + z^2 / n).
        The ends are exact: the lower bound is 0 at x = 0 and the upper bound 1 at x = n
        (the formula gives them only up to rounding). Elsewhere the same as
        ``scipy.stats.binomtest(x, n).proportion_ci(method="wilson")`` (no continuity
        correction).
    """
    x = np.asarray(successes, dtype=np.float64)
    trials = np.asarray(n, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / trials
        denominator = 1.0 + z * z / trials
        centre = (p + z * z / (2.0 * trials)) / denominator
        half = z * np.sqrt(p * (1.0 - p) / trials + z * z / (4.0 * trials * trials)) / denominator
    # exact ends: the bound is 0 at x = 0 and 1 at x = n (no rounding below 1)
    low = np.where(x == 0, 0.0, np.clip(centre - half, 0.0, 1.0))
    high = np.where(x == trials, 1.0, np.clip(centre + half, 0.0, 1.0))
    low = np.where(trials > 0, low, np.nan)
    high = np.where(trials > 0, high, np.nan)
    return low, high


def bootstrap_item_weights(
    n_items: int, n_boot: int, seed: int, *, max_cells: int = 5_000_000
) -> Iterator[np.ndarray]:
    """Yield chunks of bootstrap multiplicities, each of shape (b, n_items), float64.

    Row r of a chunk counts how often each item was drawn when n_items items are drawn
    with replacement: resampling items (Hayes & Krippendorff 2007) is a re-weighting of
    per-item sufficient statistics, so every coefficient is computed for all replicates
    of a chunk at once. Chunks keep memory at about ``max_cells`` cells.
    """
    rng = np.random.default_rng(seed)
    per_chunk = max(1, min(n_boot, max_cells // max(n_items, 1)))
    done = 0
    while done < n_boot:
        b = min(per_chunk, n_boot - done)
        draws = rng.integers(0, n_items, size=(b, n_items))
        draws += (np.arange(b) * n_items)[:, None]
        counts = np.bincount(draws.ravel(), minlength=b * n_items)
        yield counts.reshape(b, n_items).astype(np.float64)
        done += b


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm (1979) step-down adjusted p-values; NaN entries are not tested and stay NaN."""
    p = np.asarray(p_values, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    tested = np.flatnonzero(np.isfinite(p))
    m = tested.size
    if m == 0:
        return out
    order = tested[np.argsort(p[tested], kind="stable")]
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    out[order] = np.maximum.accumulate(scaled)
    return out


def percentile_ci(replicates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """2.5% and 97.5% percentiles over axis 0, ignoring NaN replicates."""
    reps = np.asarray(replicates, dtype=np.float64)
    if reps.size == 0 or reps.shape[0] == 0:
        nan = np.full(reps.shape[1:], np.nan)
        return nan, nan
    with np.errstate(all="ignore"):
        finite = np.isfinite(reps).any(axis=0)
        safe = np.where(np.isfinite(reps), reps, np.nan)
        if not np.all(finite):
            safe[:, ~finite] = 0.0
        low = np.nanpercentile(safe, 2.5, axis=0)
        high = np.nanpercentile(safe, 97.5, axis=0)
    return np.where(finite, low, np.nan), np.where(finite, high, np.nan)
