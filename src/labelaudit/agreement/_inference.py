"""Shared inference helpers: t- and z-based intervals, p-values, bootstrap weights."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

# scipy.special, not scipy.stats: the same kernels (t.ppf = stdtrit, t.sf(x) = stdtr(df, -x),
# norm.ppf = ndtri; bit-identical) for a fraction of scipy.stats' import time.
from scipy import special

__all__ = ["bootstrap_item_weights", "normal_interval", "t_interval"]


def t_interval(value: float, se: float, df: int) -> tuple[tuple[float, float], float]:
    """Gwet's (2014) 95% CI and two-sided p: value +/- t_{.975, df} se, upper end clipped at 1.

    This is what R irrCAC and Python irrCAC 0.4.4 report for the raw-ratings coefficients.
    """
    if not np.isfinite(se) or df < 1:
        return (float("nan"), float("nan")), float("nan")
    quantile = float(special.stdtrit(df, 0.975))
    low, high = value - quantile * se, min(1.0, value + quantile * se)
    p = float(2.0 * special.stdtr(df, -abs(value / se))) if se > 0 else float("nan")
    return (low, high), p


def normal_interval(value: float, se: float) -> tuple[float, float]:
    """Large-sample 95% CI value +/- z_{.975} se (SAS PROC FREQ, R psych for kappa)."""
    z = float(special.ndtri(0.975))
    return (value - z * se, value + z * se)


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
