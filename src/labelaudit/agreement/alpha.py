"""Krippendorff's alpha, exact and fast: count matrices, continuous ratings, bootstrap, SE.

Only *pairable* values count: the ratings of units with m_u >= 2 ratings (Krippendorff
2011, *Computing Krippendorff's Alpha-Reliability*). With the coincidences
o_ck = sum_u (ordered c-k pairs in u) / (m_u - 1), n_c = sum_k o_ck and n = sum_c n_c::

    alpha = 1 - (n - 1) * sum_ck o_ck d_ck / sum_ck n_c n_k d_ck

All from per-unit sufficient statistics (numerator sum_u Q_u / (m_u - 1), Q_u = n_u' D n_u):
a count matrix costs a few matrix products (no n x q x q tensor), interval alpha on
continuous values is O(n), and resampling units (bootstrap, Hayes & Krippendorff 2007,
Commun. Methods Meas. 1(1)) re-weights the statistics: ``item_weights`` (B, n_items) gives
B replicates at once, each equal to alpha on the resampled data. Undefined alpha is NaN
(array functions) or ``value=None`` with a ``reason``; negative values are legitimate.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from labelaudit.exceptions import UsageError
from labelaudit.intervals import GWET_T, analytic_interval, perfect_agreement
from labelaudit.results import MetricResult

__all__ = [
    "REASON_NOTHING_PAIRABLE",
    "REASON_NO_VARIATION",
    "alpha_continuous",
    "alpha_from_counts",
    "coincidences",
    "distance_matrix",
    "krippendorff_alpha",
    "krippendorff_alpha_continuous",
]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

REASON_NOTHING_PAIRABLE = "nothing pairable: no unit has 2 or more ratings"
REASON_NO_VARIATION = "only one category used: expected disagreement is 0"
REASON_SE_UNITS = "analytic SE needs at least 2 pairable units"
_LEVELS = ("nominal", "ordinal", "interval", "ratio")
_BLOCK = 1 << 22  # elements of one temporary block (32 MiB of float64)
_CACHE_BLOCK = 1 << 18  # elements of a cache-sized block for elementwise chains


# --------------------------------------------------------------------------- distances
def _as_level(level: str, allowed: tuple[str, ...] = _LEVELS) -> str:
    if level not in allowed:
        raise UsageError(f"unknown level {level!r}; expected one of: {', '.join(allowed)}")
    return level


def _as_values(category_values: npt.ArrayLike, q: int | None = None) -> F64:
    values = np.asarray(category_values, dtype=np.float64)
    if values.ndim != 1 or (q is not None and values.size != q):
        raise UsageError(f"category_values must have shape ({q},); got {values.shape}")
    if not np.isfinite(values).all():
        raise UsageError("category_values must be finite numbers")
    return values


def _ratio_d(a: F64, b: F64) -> F64:
    """((a - b) / (a + b))^2 elementwise, 0/0 := 0 (a, b >= 0)."""
    num, den = np.broadcast_arrays((a - b) ** 2, (a + b) ** 2)
    out: F64 = np.divide(num, den, out=np.zeros(num.shape), where=den > 0)
    return out


def _ordinal_d(values: F64, marginals: F64) -> F64:
    """Krippendorff's ordinal metric on ranks of ``values``; batched over leading axes.

    d_ck = (sum_{g=c..k} n_g - (n_c + n_k) / 2)^2 = (S_k - S_c + (n_c - n_k) / 2)^2 in rank
    order, S the cumulative marginals (c > k gives the same square).
    """
    order = np.argsort(values, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    g = marginals[..., order]
    s = np.cumsum(g, axis=-1)
    d = (s[..., None, :] - s[..., :, None] + (g[..., :, None] - g[..., None, :]) / 2) ** 2
    out: F64 = d[..., rank[:, None], rank[None, :]]
    return out


def distance_matrix(
    category_values: np.ndarray, level: str, pairable_marginals: np.ndarray | None = None
) -> np.ndarray:
    """Krippendorff's difference function d_ck for every pair of categories, shape (q, q).

    * ``nominal``: 0 if c == k else 1;
    * ``ordinal``: (sum_{g between c and k} n_g - (n_c + n_k) / 2)^2, g running over the
      categories ordered by value and n_g the marginals of *pairable* values
      (``pairable_marginals``, required); unused categories (n_g = 0) do not change it;
    * ``interval``: (c - k)^2 on the category values;
    * ``ratio``: ((c - k) / (c + k))^2 with 0/0 := 0; values must be >= 0.

    Reference: Krippendorff (2011), *Computing Krippendorff's Alpha-Reliability*, sec. D.
    """
    values = _as_values(category_values)
    lvl = _as_level(level)
    if lvl == "nominal":
        return 1.0 - np.eye(values.size)
    if lvl == "interval":
        return (values[:, None] - values[None, :]) ** 2
    if lvl == "ratio":
        if (values < 0).any():
            raise UsageError("the ratio level needs non-negative category values")
        return _ratio_d(values[:, None], values[None, :])
    if pairable_marginals is None:
        raise UsageError("the ordinal metric needs the marginals of the pairable values")
    marginals = np.asarray(pairable_marginals, dtype=np.float64)
    if marginals.shape != values.shape or not np.isfinite(marginals).all():
        raise UsageError(f"pairable_marginals must be finite with shape {values.shape}")
    return _ordinal_d(_distinct(values), marginals)


def _distinct(values: F64) -> F64:
    if np.unique(values).size != values.size:
        raise UsageError("the ordinal level needs distinct category values")
    return values


def _fixed_distance(values: F64, level: str, distance: npt.ArrayLike | None) -> F64 | None:
    """The user's distance (validated) or the level's; None for ordinal (data-dependent)."""
    if _as_level(level) == "ordinal" and distance is None:
        _distinct(values)
        return None
    if distance is None:
        return distance_matrix(values, level)
    d = np.asarray(distance, dtype=np.float64)
    q = values.size
    if d.shape != (q, q) or not np.isfinite(d).all() or (d < 0).any():
        raise UsageError(f"distance must be a finite non-negative ({q}, {q}) matrix")
    if (np.diag(d) != 0).any() or not np.allclose(d, d.T, rtol=1e-12, atol=0.0):
        raise UsageError("distance must be symmetric with a zero diagonal")
    out: F64 = (d + d.T) / 2
    return out


# --------------------------------------------------------------------------- count matrices
def _as_counts(counts: npt.ArrayLike) -> F64:
    arr = np.asarray(counts)
    if arr.ndim != 2 or arr.dtype.kind not in "biuf":
        raise UsageError(f"counts must be a numeric (n_items, q) matrix; got shape {arr.shape}")
    n = arr.astype(np.float64, copy=False)
    if arr.dtype.kind == "f" and not (np.isfinite(n).all() and (n == np.round(n)).all()):
        raise UsageError("counts must be whole numbers")
    if n.size and arr.min() < 0:
        raise UsageError("counts must be non-negative")
    return n


def _pairable(n: F64) -> tuple[F64, F64]:
    """Per unit: m_u and 1 / (m_u - 1) for pairable units (m_u >= 2), 0 elsewhere."""
    m = n @ np.ones(n.shape[1])  # BLAS row sums: much faster than sum(axis=1) on (n, q)
    inv: F64 = np.divide(1.0, m - 1.0, out=np.zeros_like(m), where=m >= 2)
    return m, inv


def _quad_rows(n: F64, d: F64) -> F64:
    """Q_u = n_u' D n_u per row: sum of d over ordered pairs of ratings (diag(D) = 0)."""
    rows = n @ d
    rows *= n  # in place: one (n, q) temporary
    out: F64 = rows @ np.ones(n.shape[1])
    return out


def coincidences(counts: np.ndarray) -> np.ndarray:
    """Krippendorff's coincidence matrix o_ck over pairable units, shape (q, q).

    ``counts`` is (n_items, q): ratings of category k on item i. With m_u the ratings of
    unit u, o = sum_{u: m_u >= 2} (n_u n_u' - diag(n_u)) / (m_u - 1), built as one
    (q x n)(n x q) product (no n x q x q tensor). Row sums are the pairable marginals n_c.
    Reference: Krippendorff (2011), sec. C.
    """
    n = _as_counts(counts)
    _, inv = _pairable(n)
    scaled = n * inv[:, None]
    return scaled.T @ n - np.diag(scaled.sum(axis=0))


def _alpha(n_tot: F64, do_num: F64, de_num: F64) -> F64:
    """1 - (n - 1) * do_num / de_num, NaN where de_num == 0 (no warnings)."""
    ok = de_num > 0
    ratio = np.divide(do_num, de_num, out=np.zeros_like(de_num), where=ok)
    out: F64 = np.where(ok, 1.0 - (n_tot - 1.0) * ratio, np.nan)
    return out


def _weight_blocks(item_weights: npt.ArrayLike, n_items: int, row_cost: int) -> Iterator[F64]:
    """(rows, n_items) float blocks of the weights; a 1-D vector is one block of one row."""
    w = np.asarray(item_weights)
    if w.ndim not in (1, 2) or w.shape[-1] != n_items or w.dtype.kind not in "biuf":
        raise UsageError(f"item_weights must have shape ({n_items},) or (B, {n_items})")
    w2 = w.reshape(1, -1) if w.ndim == 1 else w
    rows = max(1, _BLOCK // max(row_cost, 1))
    for lo in range(0, w2.shape[0], rows):
        block = np.asarray(w2[lo : lo + rows], dtype=np.float64)
        if not (np.isfinite(block).all() and (block >= 0).all()):
            raise UsageError("item_weights must be finite and non-negative")
        yield block


def _finish(parts: list[F64], item_weights: npt.ArrayLike | None) -> float | F64:
    out = np.concatenate(parts) if parts else np.empty(0)
    return out if item_weights is not None and np.ndim(item_weights) == 2 else float(out[0])


def _ordinal_block(n: F64, inv: F64, values: F64, wb: F64) -> F64:
    """Ordinal alpha for a block of replicates; the metric follows each replicate's marginals."""
    pair = (inv > 0).astype(np.float64)
    marg = wb @ (n * pair[:, None])
    if wb.shape[0] == 1:
        d = _ordinal_d(values, marg[0])
        do_num = wb @ (_quad_rows(n, d) * inv)
        return _alpha(marg.sum(axis=1), do_num, marg[0] @ d @ marg[0, :, None])
    iu, ju = np.triu_indices(values.size, 1)
    paired = np.zeros((wb.shape[0], iu.size))
    step = max(1, _BLOCK // max(iu.size, 1))
    for lo in range(0, n.shape[0], step):  # chunks of units bound the (units x pairs) block
        sub = n[lo : lo + step]
        paired += wb[:, lo : lo + step] @ (sub[:, iu] * sub[:, ju] * inv[lo : lo + step, None])
    d = _ordinal_d(values, marg)
    de_num = np.einsum("bi,bij,bj->b", marg, d, marg)
    return _alpha(marg.sum(axis=1), 2.0 * (paired * d[:, iu, ju]).sum(axis=1), de_num)


def alpha_from_counts(
    counts: npt.ArrayLike,
    category_values: npt.ArrayLike,
    *,
    level: str = "nominal",
    distance: np.ndarray | None = None,
    item_weights: npt.ArrayLike | None = None,
) -> float | np.ndarray:
    """Krippendorff's alpha from an item x category count matrix.

    ``counts``: (n_items, q) ratings of category k on item i; ``category_values``: (q,)
    numeric value of each category (order for ordinal). ``distance`` (q, q), symmetric with
    a zero diagonal, overrides ``level``. ``item_weights``: (n_items,) or (B, n_items)
    multiplicities (bootstrap replicates resampling units, Hayes & Krippendorff 2007); with
    (B, n_items) the result is an array of B values.

    alpha = 1 - (n - 1) sum_u w_u Q_u / (m_u - 1) / sum_ck n_c n_k d_ck, Q_u = n_u' D n_u,
    over pairable units (Krippendorff 2011). Cost O(n_items q^2) per call plus
    O(B n_items q) for replicates (O(B n_items q^2) for ordinal, whose metric is recomputed
    from each replicate's marginals). Unused categories do not change alpha. Returns NaN
    when undefined (nothing pairable, or D_e = 0).
    """
    n = _as_counts(counts)
    values = _as_values(category_values, n.shape[1])
    _, inv = _pairable(n)
    weights = np.ones(n.shape[0]) if item_weights is None else item_weights
    d = _fixed_distance(values, level, distance)
    if d is None:
        blocks = _weight_blocks(weights, n.shape[0], n.shape[0])
        return _finish([_ordinal_block(n, inv, values, wb) for wb in blocks], item_weights)
    parts: list[F64] = []
    observed = _quad_rows(n, d) * inv  # per-unit observed disagreement sum / (m_u - 1)
    pairable = (inv > 0).astype(np.float64)
    for wb in _weight_blocks(weights, n.shape[0], n.shape[0]):
        marg = (wb * pairable) @ n  # (B, q) pairable marginals n_c of each replicate
        do_num = wb @ observed
        parts.append(_alpha(marg.sum(axis=1), do_num, np.einsum("bi,ij,bj->b", marg, d, marg)))
    return _finish(parts, item_weights)


# --------------------------------------------------------------------------- continuous
def _as_continuous(
    item_codes: npt.ArrayLike, values: npt.ArrayLike, n_items: int
) -> tuple[I64, F64, F64, int]:
    """Ratings of pairable units: codes, values, m_u (0 if unpairable), units rated."""
    codes = np.asarray(item_codes)
    x = np.asarray(values, dtype=np.float64)
    if codes.ndim != 1 or x.shape != codes.shape or codes.dtype.kind not in "iu":
        raise UsageError("item_codes (integers) and values must be 1-D arrays of one length")
    if codes.size and (codes.min() < 0 or codes.max() >= n_items):
        raise UsageError(f"item_codes must lie in [0, {n_items})")
    if not np.isfinite(x).all():
        raise UsageError("values must be finite (drop missing ratings first)")
    m = np.bincount(codes, minlength=n_items).astype(np.float64)
    keep = m[codes] >= 2
    n_rated = int(np.count_nonzero(m))
    if not keep.all():
        codes, x = codes[keep], x[keep]
    return codes.astype(np.int64, copy=False), x, np.where(m >= 2, m, 0.0), n_rated


def _group_sum(codes: I64, weights: F64, size: int) -> F64:
    """Sum of ``weights`` per code (bincount), as float64."""
    return np.bincount(codes, weights, minlength=size).astype(np.float64, copy=False)


def _interval_units(codes: I64, x: F64, m: F64) -> tuple[F64, F64, F64]:
    """Per unit: centred sum, mean and within-unit sum of squares SS_u (centre: pooled mean)."""
    xc = x - (x.mean() if x.size else 0.0)
    s1 = _group_sum(codes, xc, m.size)
    mu: F64 = np.divide(s1, m, out=np.zeros_like(m), where=m > 0)
    xc -= mu[codes]
    ss = _group_sum(codes, np.square(xc, out=xc), m.size)
    return s1, mu, ss


def _unit_values(codes: I64, x: F64, size: int) -> tuple[F64, npt.NDArray[np.bool_]]:
    """One value per unit (``ref``) and whether the unit holds more than one distinct value."""
    ref = np.zeros(size)
    ref[codes] = x
    varied = np.bincount(codes, x != ref[codes], minlength=size) > 0
    return ref, varied


def _degenerate(wb: F64, ref: F64, varied: npt.NDArray[np.bool_], m: F64) -> npt.NDArray[np.bool_]:
    """Exactly: does each replicate see a single distinct value (D_e = 0)?"""
    out: npt.NDArray[np.bool_] = wb @ (varied & (m > 0)).astype(np.float64) == 0
    rows = np.flatnonzero(out)  # no unit with two distinct values: compare the units' values
    if rows.size:
        active = (wb[rows] > 0) & (m > 0)
        hi = np.where(active, ref, -np.inf).max(axis=1)
        out[rows] = hi <= np.where(active, ref, np.inf).min(axis=1)
    return out


def _within_ratio(codes: I64, x: F64, m: F64) -> F64:
    """Q_u = sum of ratio d over ordered pairs within each unit; O(sum m_u^2), chunked."""
    order = np.argsort(codes, kind="stable")
    codes, x = codes[order], x[order]
    start = np.cumsum(m) - m  # first position of each unit in the sorted ratings
    reps = m[codes].astype(np.int64)  # partners of each rating (itself included, d = 0)
    ends = np.cumsum(reps)
    q_u = np.zeros(m.size)
    lo = 0
    while lo < x.size:
        base = ends[lo] - reps[lo]
        hi = max(lo + 1, int(np.searchsorted(ends, base + _BLOCK // 4, side="right")))
        r = reps[lo:hi]
        elem = np.repeat(np.arange(lo, hi), r)
        shift = start[codes[lo:hi]].astype(np.int64) - (ends[lo:hi] - r - base)
        partner = np.repeat(shift, r) + np.arange(int(r.sum()))
        q_u += _group_sum(codes[elem], _ratio_d(x[elem], x[partner]), m.size)
        lo = hi
    return q_u


def _ratio_matvec(vals: F64, mat: F64) -> F64:
    """D @ mat for the ratio distances among distinct ``vals`` (V,) >= 0, mat (V, k).

    Exact O(V^2 k / 2): upper-triangle row blocks of ~2 MiB (cache-sized), each used for
    both triangles; O(V k) memory besides the block.
    """
    out = np.zeros_like(mat)
    zero = np.flatnonzero(vals == 0)  # at most one: the only place where 0/0 can occur
    rows = max(1, _CACHE_BLOCK // max(vals.size, 1))
    for lo in range(0, vals.size, rows):
        hi = min(vals.size, lo + rows)
        den = vals[lo:hi, None] + vals[None, lo:]
        d = vals[lo:hi, None] - vals[None, lo:]
        if zero.size and lo <= zero[0] < hi:
            den[zero[0] - lo, zero[0] - lo] = 1.0  # 0/0 := 0
        np.divide(d, den, out=d)
        np.multiply(d, d, out=d)
        out[lo:hi] += d @ mat[lo:]
        out[hi:] += d[:, hi - lo :].T @ mat[lo:hi]
    return out


def _ratio_expected(wb: F64, codes: I64, vals: F64, inv_v: I64) -> F64:
    """sum_vv' n_v n_v' d_vv' per replicate, n_v the weighted counts of each distinct value."""
    order = np.argsort(inv_v, kind="stable")
    starts = np.searchsorted(inv_v[order], np.arange(vals.size))
    cnt = np.add.reduceat(wb[:, codes[order]], starts, axis=1) if vals.size else wb[:, :0]
    out: F64 = (cnt * _ratio_matvec(vals, cnt.T).T).sum(axis=1)
    return out


def alpha_continuous(
    item_codes: npt.ArrayLike,
    values: npt.ArrayLike,
    n_items: int,
    *,
    level: str = "interval",
    item_weights: npt.ArrayLike | None = None,
) -> float | np.ndarray:
    """Krippendorff's alpha for continuous ratings (one rating per row), interval or ratio.

    ``item_codes`` int (n,) in [0, n_items), ``values`` float (n,); ``item_weights``
    (n_items,) or (B, n_items) as in :func:`alpha_from_counts` (B values returned).

    * interval, O(n): alpha = 1 - (n-1)/n * sum_u m_u SS_u/(m_u-1) / SS_tot, SS_u the
      within-unit and SS_tot the pooled sum of squares of pairable values;
    * ratio: D_o by exact enumeration of within-unit pairs, O(sum m_u^2) time and bounded
      memory; D_e = sum_vv' n_v n_v' d_vv' over the V distinct pairable values, exact in
      O(V^2 / 2) time in cache-sized blocks (O(V) memory): ~1e9 value pairs per second,
      V = 1e5 takes ~5 s; bin the values beyond that. Replicates multiply the D_e cost by B.

    Reference: Krippendorff (2011); Hayes & Krippendorff (2007). NaN when undefined.
    """
    lvl = _as_level(level, ("interval", "ratio"))
    codes, x, m, _ = _as_continuous(item_codes, values, n_items)
    inv: F64 = np.divide(1.0, m - 1.0, out=np.zeros_like(m), where=m >= 2)
    weights = np.ones(n_items) if item_weights is None else item_weights
    parts: list[F64] = []
    if lvl == "interval":
        s1, mu, ss = _interval_units(codes, x, m)
        stats = np.column_stack([m, s1, ss + m * mu**2, 2.0 * m * ss * inv])
        ref, varied = _unit_values(codes, x, n_items)
        for wb in _weight_blocks(weights, n_items, n_items):
            n_b, t1, t2, do_num = (wb @ stats).T
            de_num = np.maximum(2.0 * (n_b * t2 - t1**2), 0.0)
            de_num[_degenerate(wb, ref, varied, m)] = 0.0
            parts.append(_alpha(n_b, do_num, de_num))
        return _finish(parts, item_weights)
    if x.size and x.min() < 0:
        raise UsageError("the ratio level needs non-negative values")
    vals, inv_v = np.unique(x, return_inverse=True)
    stats = np.column_stack([m, _within_ratio(codes, x, m) * inv])
    for wb in _weight_blocks(weights, n_items, max(n_items, x.size)):
        n_b, do_num = (wb @ stats).T
        parts.append(_alpha(n_b, do_num, _ratio_expected(wb, codes, vals, inv_v.ravel())))
    return _finish(parts, item_weights)


# --------------------------------------------------------------------------- analytic SE
@dataclass(frozen=True)
class _Terms:
    """Per pairable unit: m_u, Q_u = n_u' D n_u, G_u = n_u' D pi; E = pi' D pi; max(D)."""

    m: F64
    q: F64
    g: F64
    e_bar: float
    d_max: float
    n_rated: int
    w: F64 | None = None  # items each unit stands for (item profiles); None = one


def _sum(x: F64, w: F64 | None) -> float:
    """sum(x), or sum(w * x) when units carry multiplicities."""
    return float(x.sum() if w is None else w @ x)


def _result(t: _Terms, level: str, se: bool, n_population: float) -> MetricResult:
    """Alpha and Gwet's (2014) linearisation SE, t-based 95% CI (df = units - 1)."""
    n_units = t.m.size if t.w is None else int(t.w.sum())
    n_vals = _sum(t.m, t.w)
    info = {"level": level, "n_pairable_units": n_units, "n_pairable_values": int(n_vals)}
    if n_units == 0:
        return MetricResult.undefined(REASON_NOTHING_PAIRABLE, **info)
    if not t.e_bar > 0:
        return MetricResult.undefined(REASON_NO_VARIATION, **info)
    do_p = _sum(t.q / (t.m - 1.0), t.w) / n_vals  # observed disagreement D_o
    dis = (1.0 - 1.0 / n_vals) * do_p  # 1 - p_a in distance units
    value = 1.0 - dis / t.e_bar
    p_a, p_e = 1.0 - dis / t.d_max, 1.0 - t.e_bar / t.d_max
    info |= {"p_a": p_a, "p_e": p_e, "D_o": do_p, "D_e": t.e_bar * n_vals / (n_vals - 1.0)}
    info |= perfect_agreement(p_a, p_e, n_units)
    if not se:
        return MetricResult(value=value, extra=info)
    if n_units < 2:
        return MetricResult(value=value, reason=REASON_SE_UNITS, extra=info)
    if not n_population > 0:
        raise UsageError("n_population must be positive")
    rbar = n_vals / n_units
    alpha_p = 1.0 - do_p / t.e_bar
    k_i = 1.0 - (t.q / (rbar * (t.m - 1.0)) - dis * (t.m - rbar) / rbar) / t.e_bar
    k_x = k_i - 2.0 * (1.0 - alpha_p) * (t.e_bar * t.m - t.g) / (rbar * t.e_bar)
    f = min(1.0, t.n_rated / n_population)
    spread = _sum((k_x - alpha_p) ** 2, t.w)
    std = math.sqrt((1.0 - f) / (n_units * (n_units - 1.0)) * spread)
    ci, method, p_value = analytic_interval(value, std, source=GWET_T, df=n_units - 1)
    info = {"p_value": p_value} | info
    return MetricResult(value=value, se=std, ci95=ci, ci_method=method, extra=info)


def krippendorff_alpha(
    counts: npt.ArrayLike,
    category_values: npt.ArrayLike,
    *,
    level: str = "nominal",
    distance: np.ndarray | None = None,
    se: bool = True,
    n_population: float = math.inf,
    multiplicity: np.ndarray | None = None,
) -> MetricResult:
    """Krippendorff's alpha with Gwet's analytic SE, from a (n_items, q) count matrix.

    Value as :func:`alpha_from_counts` (Krippendorff 2011). SE: Gwet (2014), *Handbook of
    Inter-Rater Reliability*, 4th ed., linearisation for raw ratings as in R irrCAC
    ``krippen.alpha.raw`` / Python irrCAC 0.4.4 ``CAC.krippendorff()``, with weights
    W = 1 - d / max(d) (identity for nominal, quadratic for interval, ratio weights for
    ratio); 95% CI t-based with (pairable units - 1) df, upper limit bounded at 1;
    finite-population factor 1 - n_rated / n_population (n_rated: units with a rating).
    ``extra``: ``p_value`` (t test of alpha = 0), ``p_a``, ``p_e`` (Gwet's pa, pe),
    ``D_o`` and ``D_e`` (Krippendorff's observed and expected disagreement, alpha =
    1 - D_o / D_e), ``level``, pairable unit/value counts; at perfect agreement
    ``ci95_exact`` and ``note`` (:func:`labelaudit.intervals.perfect_agreement`).
    For ordinal the metric (built on the observed marginals) is held fixed in the SE.
    ``value`` is None with a ``reason`` when undefined. O(n_items q^2).
    ``multiplicity`` (n_items,): items each row stands for (item profiles,
    :mod:`labelaudit.table.profiles`); every sum over units is weighted by it.
    """
    n = _as_counts(counts)
    values = _as_values(category_values, n.shape[1])
    m, inv = _pairable(n)
    pair = inv > 0
    units = n if pair.all() else n[pair]  # the pairable rows, copied once (or not at all)
    w = None if multiplicity is None else np.asarray(multiplicity, dtype=np.float64)
    marg = units.sum(axis=0) if w is None else w[pair] @ units
    d = _fixed_distance(values, level, distance)
    d = _ordinal_d(values, marg) if d is None else d
    pi = marg / max(float(marg.sum()), 1.0)
    q_u, g_u, d_max = _quad_rows(units, d), units @ (d @ pi), float(d.max()) if d.size else 0.0
    rated = int(np.count_nonzero(m)) if w is None else int(w @ (m > 0))
    e_bar = float(pi @ d @ pi)
    terms = _Terms(m[pair], q_u, g_u, e_bar, d_max, rated, None if w is None else w[pair])
    return _result(terms, "custom" if distance is not None else level, se, n_population)


def krippendorff_alpha_continuous(
    item_codes: npt.ArrayLike,
    values: npt.ArrayLike,
    n_items: int,
    *,
    level: str = "interval",
    se: bool = True,
    n_population: float = math.inf,
) -> MetricResult:
    """Krippendorff's alpha with Gwet's (2014) analytic SE for continuous ratings.

    Inputs and value as :func:`alpha_continuous`; the SE is the same linearisation as
    :func:`krippendorff_alpha` with the distinct values as categories, evaluated exactly in
    closed form: O(n) for interval (G_u = SS_u + m_u (mean_u - mu)^2 + m_u sigma^2), and
    O(sum m_u^2 + V^2) for ratio (V distinct pairable values).
    """
    lvl = _as_level(level, ("interval", "ratio"))
    codes, x, m, n_rated = _as_continuous(item_codes, values, n_items)
    terms = (_interval_terms if lvl == "interval" else _ratio_terms)(codes, x, m, n_rated)
    return _result(terms, lvl, se, n_population)


def _interval_terms(codes: I64, x: F64, m: F64, n_rated: int) -> _Terms:
    """Exact O(n) SE terms for d = (x - y)^2: Q_u = 2 m_u SS_u, E = 2 sigma^2."""
    pair = m >= 2
    n_vals = max(float(m.sum()), 1.0)
    s1, mu, ss = _interval_units(codes, x, m)
    spread = ss + m * (mu - float(s1.sum()) / n_vals) ** 2
    sigma2 = float(spread.sum()) / n_vals
    d_max = float(np.ptp(x)) ** 2 if x.size else 0.0  # 0 exactly iff all values are equal
    e_bar = 2.0 * sigma2 if d_max > 0 else 0.0
    return _Terms(m[pair], (2.0 * m * ss)[pair], (spread + m * sigma2)[pair], e_bar, d_max, n_rated)


def _ratio_terms(codes: I64, x: F64, m: F64, n_rated: int) -> _Terms:
    """Exact SE terms for the ratio metric: O(sum m_u^2 + V^2) (V distinct values)."""
    if x.size and x.min() < 0:
        raise UsageError("the ratio level needs non-negative values")
    pair = m >= 2
    vals, inv_v = np.unique(x, return_inverse=True)
    pi = np.bincount(inv_v.ravel(), minlength=vals.size) / max(float(m.sum()), 1.0)
    dpi = _ratio_matvec(vals, pi[:, None])[:, 0]
    g_u = _group_sum(codes, dpi[inv_v.ravel()], m.size)[pair]
    q_u = _within_ratio(codes, x, m)[pair]
    d_max = float(_ratio_d(vals[:1], vals[-1:])[0]) if vals.size else 0.0
    return _Terms(m[pair], q_u, g_u, float(pi @ dpi), d_max, n_rated)
