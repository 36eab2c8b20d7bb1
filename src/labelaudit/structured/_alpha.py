"""Krippendorff's alpha over distinct values with any distance, from sparse (unit, value) pairs.

Used for set-valued labels (MASI, Jaccard), free text (normalised edit distance) and
token labels. Values are integer codes 0..V-1 of distinct values; the distance is given
as a :class:`Distance` (vectorised over pairs of codes, or a block of a distance matrix).
With the ratings of pairable units only (m_u >= 2; Krippendorff 2011)::

    alpha = 1 - (n - 1) O / E
    O = sum_u (1 / (m_u - 1)) sum_{ordered r != s in u} d(v_r, v_s)
    E = sum_{c, k} N_c N_k d(c, k)          (N_c: pairable values equal to c, n = sum N_c)

O is exact and costs O(sum_u d_u^2) distance evaluations (d_u distinct values in unit u).
E is exact over the distinct values (blocks of the V x V distance matrix, never all of it
at once) when V <= ``exact_limit``; otherwise it is estimated from ``n_pairs`` pairs of
distinct pairable value instances drawn with ``np.random.default_rng(seed)``, and the
result carries ``"approximate": true`` (the mean sampled distance times n (n - 1)).

Uncertainty resamples units (items). Analytic: delta-method linearisation of alpha as a
function of the unit totals (m_u, o_u and, through E, the unit's values), influence
``z_u = -(O/E) m_u - ((n-1)/E) o_u + 2 (n-1) O G_u / E^2`` with ``G_u = sum_{r in u}
g(v_r)``, ``g = D N``; SE^2 = n_u/(n_u - 1) sum (z_u - mean z)^2, t-based CI. On the
approximate path g is unknown and E is held fixed (``"se_note"`` says so). Bootstrap:
replicates re-weight the units; E is recomputed exactly per replicate when V <=
``BOOT_EXACT_LIMIT``, else held at its full-sample value (noted).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from labelaudit.agreement.alpha import REASON_NO_VARIATION, REASON_NOTHING_PAIRABLE
from labelaudit.intervals import bootstrap_item_weights, t_interval
from labelaudit.results import MetricResult
from labelaudit.structured._explode import group_runs, pairs_within_groups
from labelaudit.structured._ratio import percentile_result

__all__ = ["BOOT_EXACT_LIMIT", "EXACT_LIMIT", "N_PAIRS", "Distance", "alpha_distinct"]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

#: Distinct values up to which the expected disagreement is exact.
EXACT_LIMIT = 5_000
#: Value pairs drawn for the expected disagreement above ``EXACT_LIMIT``.
N_PAIRS = 1_000_000
#: Distinct values up to which bootstrap replicates recompute E exactly (V x V matrix kept).
BOOT_EXACT_LIMIT = 2_000
_BLOCK_CELLS = 1 << 22


class Distance(Protocol):
    """A distance between value codes, symmetric, zero on the diagonal."""

    def pairs(self, a: I64, b: I64) -> F64:
        """d(a[i], b[i]) for every i."""
        ...

    def matrix(self, rows: I64, cols: I64) -> F64:
        """The block d(rows[i], cols[j]), shape (len(rows), len(cols))."""
        ...


@dataclass(frozen=True)
class _Units:
    """Sparse per-unit counts of pairable units: entries (unit, value, count), sorted."""

    unit: I64
    value: I64
    count: F64
    m: F64  # ratings per pairable unit (compressed unit index)
    o: F64  # observed-disagreement total per unit


def _units(unit: I64, value: I64, n_values: int, distance: Distance) -> _Units | None:
    m_all = np.bincount(unit)
    keep = m_all[unit] >= 2
    if not keep.any():
        return None
    _, u = np.unique(unit[keep], return_inverse=True)
    key = u.astype(np.int64) * n_values + value[keep]
    keys, counts = np.unique(key, return_counts=True)
    su, sv, cnt = keys // n_values, keys % n_values, counts.astype(np.float64)
    m = np.asarray(np.bincount(su, cnt), dtype=np.float64)
    starts, sizes = group_runs(su)
    first, second = pairs_within_groups(starts, sizes)
    d = distance.pairs(sv[first], sv[second]) if first.size else np.zeros(0)
    contrib = 2.0 * cnt[first] * cnt[second] * d / (m[su[first]] - 1.0)
    o = np.asarray(np.bincount(su[first], contrib, minlength=m.size), dtype=np.float64)
    return _Units(su, sv, cnt, m, o)


def _expected_exact(used: I64, n_used: F64, distance: Distance) -> F64:
    """g = D N over the used values (block by block), shape (len(used),)."""
    g = np.zeros(used.size)
    step = max(1, _BLOCK_CELLS // max(used.size, 1))
    for lo in range(0, used.size, step):
        g[lo : lo + step] = distance.matrix(used[lo : lo + step], used) @ n_used
    return g


def _expected_sampled(used: I64, n_used: F64, distance: Distance, n_pairs: int, seed: int) -> float:
    """n (n - 1) x the mean distance of ``n_pairs`` random pairs of distinct instances."""
    instances = np.repeat(used, n_used.astype(np.int64))
    n = instances.size
    rng = np.random.default_rng(seed)
    i = rng.integers(0, n, size=n_pairs)
    j = (i + 1 + rng.integers(0, n - 1, size=n_pairs)) % n
    return float(distance.pairs(instances[i], instances[j]).mean()) * n * (n - 1.0)


def alpha_distinct(
    unit: I64,
    value: I64,
    n_values: int,
    distance: Distance,
    *,
    ci: str = "analytic",
    n_boot: int = 1000,
    seed: int = 0,
    exact_limit: int = EXACT_LIMIT,
    n_pairs: int = N_PAIRS,
    extra: dict[str, Any] | None = None,
) -> MetricResult:
    """Krippendorff's alpha of coded values with a custom distance.

    Parameters
    ----------
    unit, value : ndarray of int64, shape (n_ratings,)
        Unit (item) and value code of every rating.
    n_values : int
        Number of value codes V (codes lie in [0, V)).
    distance : Distance
        Distance between value codes.
    ci : {"analytic", "bootstrap", "none"}
        Uncertainty (see the module docstring).
    n_boot, seed : int
        Bootstrap replicates; ``seed`` also seeds the pair sample of the approximate path.
    exact_limit, n_pairs : int
        Exact expected disagreement up to ``exact_limit`` distinct pairable values, else a
        sample of ``n_pairs`` value pairs (``"approximate": true``).
    extra : dict, optional
        Extra JSON fields.

    Returns
    -------
    MetricResult
        ``extra``: ``approximate``, ``n_pairable_units``, ``n_pairable_values``,
        ``n_distinct_values`` (and ``n_sampled_pairs`` when approximate).
    """
    info = dict(extra or {})
    units = _units(np.asarray(unit, np.int64), np.asarray(value, np.int64), n_values, distance)
    if units is None:
        return MetricResult.undefined(REASON_NOTHING_PAIRABLE, **info)
    counts_by_value = np.asarray(
        np.bincount(units.value, units.count, minlength=n_values), dtype=np.float64
    )
    used = np.flatnonzero(counts_by_value)
    n = float(units.m.sum())
    exact = used.size <= exact_limit
    info |= {
        "approximate": not exact,
        "n_pairable_units": int(units.m.size),
        "n_pairable_values": int(n),
        "n_distinct_values": int(used.size),
    }
    if used.size < 2:
        return MetricResult.undefined(REASON_NO_VARIATION, **info)
    g_full = None
    if exact:
        g = _expected_exact(used, counts_by_value[used], distance)
        e_total = float(counts_by_value[used] @ g)
        g_full = np.zeros(n_values)
        g_full[used] = g
    else:
        e_total = _expected_sampled(used, counts_by_value[used], distance, n_pairs, seed)
        info["n_sampled_pairs"] = int(n_pairs)
    if not e_total > 0:
        return MetricResult.undefined(REASON_NO_VARIATION, **info)
    o_total = float(units.o.sum())
    value_ = 1.0 - (n - 1.0) * o_total / e_total
    if ci == "none":
        return MetricResult(value=value_, extra=info)
    if ci == "bootstrap":
        draws = _bootstrap(units, used, distance, e_total, n_boot, seed, info)
        return percentile_result(value_, info, draws)
    return _analytic(value_, units, g_full, n, o_total, e_total, info)


def _analytic(
    value: float,
    units: _Units,
    g_full: F64 | None,
    n: float,
    o_total: float,
    e_total: float,
    info: dict[str, Any],
) -> MetricResult:
    n_units = units.m.size
    if n_units < 2:
        return MetricResult(value=value, reason="one pairable unit: no standard error", extra=info)
    z = -(o_total / e_total) * units.m - ((n - 1.0) / e_total) * units.o
    if g_full is not None:
        g_u = np.bincount(units.unit, units.count * g_full[units.value], minlength=n_units)
        z = z + 2.0 * (n - 1.0) * o_total * g_u / e_total**2
    else:
        info = info | {"se_note": "expected disagreement held fixed (approximate path)"}
    se = float(np.sqrt(n_units / (n_units - 1.0) * float(((z - z.mean()) ** 2).sum())))
    interval, _ = t_interval(value, se, n_units - 1)
    return MetricResult(value=value, se=se, ci95=interval, ci_method="analytic", extra=info)


def _bootstrap(
    units: _Units,
    used: I64,
    distance: Distance,
    e_total: float,
    n_boot: int,
    seed: int,
    info: dict[str, Any],
) -> F64:
    from scipy import sparse

    n_units = units.m.size
    recompute = used.size <= BOOT_EXACT_LIMIT and not info["approximate"]
    if recompute:
        position = np.searchsorted(used, units.value)
        counts = sparse.csr_matrix(
            (units.count, (position, units.unit)), shape=(used.size, n_units)
        )
        d = distance.matrix(used, used)
    else:
        info["bootstrap_note"] = "expected disagreement held at its full-sample value"
    draws = []
    for weights in bootstrap_item_weights(n_units, n_boot, seed):
        o_w = weights @ units.o
        n_w = weights @ units.m
        if recompute:
            n_vals = np.asarray(counts @ weights.T).T  # (b, V)
            e_w = np.einsum("bi,bi->b", n_vals @ d, n_vals)
        else:
            e_w = np.full(weights.shape[0], e_total)
        with np.errstate(invalid="ignore", divide="ignore"):
            draws.append(np.where(e_w > 0, 1.0 - (n_w - 1.0) * o_w / e_w, np.nan))
    return np.concatenate(draws) if draws else np.zeros(0)
