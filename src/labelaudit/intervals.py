"""Intervals and resampling shared by every analysis: t, z and Wilson intervals, bootstrap
weights, percentile intervals of replicates and Holm's multiple-comparison adjustment.

One home for each: agreement coefficients, structured agreement, annotator quality and the
preference audits all import from here.

The agreement coefficients' analytic intervals follow one stated convention
(docs/agreement.md, :func:`analytic_interval`): ``ci95`` is the coefficient's source
interval (Gwet's t interval, Fleiss-Cohen-Everitt's normal interval) bounded to the
coefficient's range, and ``ci_method`` names the source and whether a bound was applied.
At perfect observed agreement the exact Clopper-Pearson (1934) bound is reported beside
it (:func:`perfect_agreement`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import numpy as np

from labelaudit._typing import MAX_BOOT
from labelaudit.distributions import norm_sf, t_ppf, t_sf
from labelaudit.exceptions import UsageError

__all__ = [
    "FCE_NORMAL",
    "GWET_T",
    "MAX_BOOT",
    "Z95",
    "analytic_interval",
    "bootstrap_item_weights",
    "check_n_boot",
    "holm",
    "normal_interval",
    "percentile_ci",
    "perfect_agreement",
    "t_interval",
    "wilson_interval",
]

#: Two-sided 95% standard normal quantile, Phi^-1(0.975).
Z95 = 1.959963984540054
#: Sources named in ``ci_method`` (the first word stays ``analytic``).
GWET_T = "Gwet 2014 t(n-1)"
FCE_NORMAL = "Fleiss-Cohen-Everitt 1969 normal"
_PERFECT = 1e-12


def check_n_boot(n_boot: int, *, minimum: int = 2, limit: int = MAX_BOOT) -> int:
    """``n_boot`` if minimum <= n_boot <= limit, else :class:`UsageError` with the reason."""
    if n_boot < minimum:
        raise UsageError(f"n_boot must be at least {minimum}; got {n_boot}")
    if n_boot > limit:
        raise UsageError(
            f"n_boot must be at most {limit:,}; got {n_boot:,}. More replicates do not make "
            f"a 95% percentile interval more accurate (Monte Carlo error 0.0005 at "
            f"{limit:,}) and cost 8 bytes per replicate and coefficient; use --n-boot {limit}"
        )
    return n_boot


def t_interval(value: float, se: float, df: int) -> tuple[tuple[float, float], float]:
    """Gwet's (2014) 95% CI and two-sided p: value +/- t_{.975, df} se, upper end clipped at 1.

    This is what R irrCAC and Python irrCAC 0.4.4 report for the raw-ratings coefficients.
    """
    if not np.isfinite(se) or df < 1:
        return (float("nan"), float("nan")), float("nan")
    quantile = _t975(df)
    low, high = value - quantile * se, min(1.0, value + quantile * se)
    p = 2.0 * t_sf(abs(value / se), df) if se > 0 else float("nan")
    return (low, high), p


@lru_cache(maxsize=64)
def _t975(df: float) -> float:
    """t_{.975, df}: every coefficient of a report asks for the same few."""
    return float(t_ppf(0.975, df))


def normal_interval(value: float, se: float) -> tuple[float, float]:
    """Large-sample 95% CI value +/- z_{.975} se (SAS PROC FREQ, R psych for kappa)."""
    return (value - Z95 * se, value + Z95 * se)


def analytic_interval(
    value: float,
    se: float,
    *,
    source: str,
    df: int | None = None,
    lower: float = -math.inf,
    upper: float = 1.0,
) -> tuple[tuple[float, float], str, float]:
    """A coefficient's source 95% interval bounded to its range, its label and t/z p-value.

    Parameters
    ----------
    value, se : float
        Estimate and its standard error.
    source : str
        What the interval is (:data:`GWET_T`, :data:`FCE_NORMAL`); named in the label.
    df : int, optional
        Degrees of freedom of the t quantile (Gwet 2014: items - 1); normal when None.
    lower, upper : float
        The coefficient's range: [0, 1] for percent agreement, (-inf, 1] for the
        chance-corrected coefficients (their lower end depends on chance agreement).

    Returns
    -------
    ci95 : (float, float)
        value +/- q se, each end moved inside [lower, upper] when it falls outside.
    ci_method : str
        ``"analytic: SOURCE"``, plus ``"; bounded to [lower, upper]"`` (or ``"; bounded
        at 1"``) when a bound moved an end (irrCAC's own ``min(1, upper)`` counts).
    p_value : float
        Two-sided p of value = 0 against the same t (or normal) reference.
    """
    if df is not None:
        quantile = _t975(df)
        p = 2.0 * t_sf(abs(value / se), df) if se > 0 else float("nan")
    else:
        quantile = Z95
        p = 2.0 * norm_sf(abs(value / se)) if se > 0 else float("nan")
    raw = (value - quantile * se, value + quantile * se)
    ci = (max(lower, raw[0]), min(upper, raw[1]))
    method = f"analytic: {source}"
    if raw[0] < lower or raw[1] > upper:
        low = "" if lower == -math.inf else f"{lower:g}"
        method += f"; bounded to [{low}, {upper:g}]" if low else f"; bounded at {upper:g}"
    return ci, method, p


def perfect_agreement(p_a: float, p_e: float, n_trials: int) -> dict[str, Any]:
    """``ci95_exact`` and ``note`` when every pairable item agrees (p_a = 1), else ``{}``.

    The linearised SE is 0 there (every item's term equals the estimate), so the
    formula's interval has zero width however few items there are. With x = n agreeing
    items of n, the exact two-sided 95% Clopper-Pearson interval of the agreement rate is
    [(0.025)^(1/n), 1] (the Beta(n, 1) quantile); carried to a coefficient
    (p_a - p_e) / (1 - p_e) with p_e held at its estimate it is
    [((0.025)^(1/n) - p_e) / (1 - p_e), 1]. n = 10 items give [0.692, 1] for percent
    agreement.

    References
    ----------
    Clopper, C. J. & Pearson, E. S. (1934). The use of confidence or fiducial limits
    illustrated in the case of the binomial. Biometrika 26(4), 404-413.
    """
    if not (n_trials >= 1 and p_a >= 1.0 - _PERFECT and p_e < 1.0):
        return {}
    low_rate = 0.025 ** (1.0 / n_trials)
    return {
        "ci95_exact": ((low_rate - p_e) / (1.0 - p_e), 1.0),
        "note": (
            f"perfect agreement on {n_trials:,} items: the formula's SE and interval "
            "understate the uncertainty; ci95_exact is the exact Clopper-Pearson (1934) 95% "
            f"interval of the agreement rate ({low_rate:.4f} to 1), carried to the "
            "coefficient with chance agreement held at its estimate"
        ),
    }


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
    of a chunk at once. Chunks keep memory at about ``max_cells`` cells. ``n_boot`` is
    checked against :data:`MAX_BOOT` before anything is drawn.
    """
    check_n_boot(n_boot, minimum=0)
    return _weight_chunks(n_items, n_boot, seed, max_cells)


def _weight_chunks(n_items: int, n_boot: int, seed: int, max_cells: int) -> Iterator[np.ndarray]:
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
