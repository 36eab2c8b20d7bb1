"""Small vectorised kernels of the quality analyses: robust scores, groups, runs.

The Wilson interval lives in :mod:`labelaudit.intervals`.

Every function works on whole arrays (no Python loop over rows); undefined entries are
NaN here and become ``None`` with a reason in the result objects.

References
----------
Iglewicz, B., Hoaglin, D. C. (1993). How to Detect and Handle Outliers. ASQC Quality Press
(the modified z-score, cut-off 3.5).
Lin, J. (1991). Divergence measures based on the Shannon entropy. IEEE Trans. Inf. Theory
37(1), 145-151.
"""

from __future__ import annotations

import numpy as np

from labelaudit.table import narrow_codes

__all__ = [
    "MAD_SCALE",
    "MEAN_AD_SCALE",
    "group_medians",
    "js_divergence",
    "longest_runs",
    "robust_z",
    "run_p_values",
    "vote_entropy",
]

#: MAD -> standard deviation of a normal distribution (1 / Phi^-1(0.75), rounded).
MAD_SCALE = 1.4826
#: Mean absolute deviation -> standard deviation of a normal distribution (sqrt(pi / 2)).
MEAN_AD_SCALE = 1.253314


def robust_z(values: np.ndarray, pool: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Modified z-scores (x - median) / (1.4826 MAD) against a pool (Iglewicz & Hoaglin 1993).

    Parameters
    ----------
    values : ndarray of float, shape (n,)
        One value per annotator; NaN = undefined.
    pool : ndarray of bool, shape (n,)
        Which annotators form the reference pool (NaN values are left out).

    Returns
    -------
    z : ndarray of float64, shape (n,)
        Scores; NaN where the value is undefined or the pool is empty. When the MAD is 0
        the scale falls back to 1.253314 x the mean absolute deviation; when that is 0 too
        (every pool value equal) scores are 0 at the median and NaN elsewhere.
    median, scale : float
        The pool median and the scale used (NaN for an empty pool).
    """
    x = np.asarray(values, dtype=np.float64)
    reference = x[np.asarray(pool, dtype=bool) & np.isfinite(x)]
    if reference.size == 0:
        return np.full(x.shape, np.nan), float("nan"), float("nan")
    median = float(np.median(reference))
    deviation = np.abs(reference - median)
    scale = MAD_SCALE * float(np.median(deviation))
    if scale == 0.0:
        scale = MEAN_AD_SCALE * float(deviation.mean())
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (x - median) / scale if scale > 0.0 else np.where(x == median, 0.0, np.nan)
    return z, median, scale


def js_divergence(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Jensen-Shannon divergence in bits (Lin 1991), row by row.

    Parameters
    ----------
    p, q : ndarray of float, shape (n, k)
        Non-negative rows; each is normalised to sum to 1 (an all-zero row gives NaN).

    Returns
    -------
    ndarray of float64, shape (n,)
        JS(p, q) = H((p + q) / 2) - (H(p) + H(q)) / 2 with base-2 logarithms, in [0, 1].
        ``scipy.spatial.distance.jensenshannon(p, q, base=2)`` is its square root.
    """
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = p / p.sum(axis=1, keepdims=True)
        q = q / q.sum(axis=1, keepdims=True)
        m = 0.5 * (p + q)
        value = 0.5 * (_kl_bits(p, m) + _kl_bits(q, m))
    return np.clip(value, 0.0, 1.0)


def _kl_bits(p: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Row-wise KL(p || m) in bits with 0 log 0 = 0."""
    terms = np.where(p > 0, p * np.log2(np.where(p > 0, p, 1.0) / np.where(m > 0, m, 1.0)), 0.0)
    out: np.ndarray = terms.sum(axis=1)
    out[~np.isfinite(p).all(axis=1)] = np.nan
    return out


def small_distinct_rows(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Distinct rows of a non-negative integer matrix and the index of each row among
    them, by counting (no sort), when its rows fit few integers; else None.

    Parameters
    ----------
    counts : ndarray of int, shape (n, k)

    Returns
    -------
    (rows, inverse) or None
        ``rows`` (m, k) int64 in lexicographic order, ``inverse`` (n,) with
        ``rows[inverse] == counts``; None when the rows, read as numbers in base
        ``max + 1``, range over more than ``4 n + 4096`` values. O(n k).
    """
    n, k = counts.shape
    base = int(counts.max(initial=0)) + 1
    if k == 0 or k * np.log2(base) >= 62 or base**k > 4 * n + 4096:
        return None
    key = np.zeros(n, dtype=np.int64)
    for column in counts.T:  # a loop over the (few) columns
        key = key * base + column
    present = np.zeros(base**k, dtype=bool)
    present[key] = True
    values = np.flatnonzero(present)
    rows = (values[:, None] // base ** np.arange(k - 1, -1, -1)) % base
    return rows.astype(np.int64), (np.cumsum(present) - 1)[key]


def vote_entropy(counts: np.ndarray) -> np.ndarray:
    """Shannon entropy in bits of each row of a count matrix, shape (n, k) -> (n,)."""
    counts = np.asarray(counts, dtype=np.float64)
    totals = counts.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        shares = counts / totals
        terms = np.where(shares > 0, -shares * np.log2(np.where(shares > 0, shares, 1.0)), 0.0)
    out: np.ndarray = terms.sum(axis=1)
    out[totals[:, 0] == 0] = np.nan
    return out + 0.0  # no negative zero


def group_medians(groups: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """Median of ``values`` within each group; NaN values are ignored.

    Parameters
    ----------
    groups : ndarray of int, shape (n,)
        Group code of each value, in [0, n_groups).
    values : ndarray of float, shape (n,)
    n_groups : int

    Returns
    -------
    ndarray of float64, shape (n_groups,)
        NaN for groups without a finite value. One sort, O(n log n).
    """
    keep = np.isfinite(values)
    g, v = groups[keep], values[keep]
    order = np.lexsort((v, g))
    g, v = g[order], v[order]
    out = np.full(n_groups, np.nan)
    if g.size == 0:
        return out
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    sizes = np.diff(np.r_[starts, g.size])
    low = starts + (sizes - 1) // 2
    high = starts + sizes // 2
    out[g[starts]] = 0.5 * (v[low] + v[high])
    return out


def longest_runs(
    groups: np.ndarray, labels: np.ndarray, order: np.ndarray, n_groups: int
) -> tuple[np.ndarray, np.ndarray]:
    """Longest run of identical consecutive labels within each group.

    Parameters
    ----------
    groups, labels : ndarray of int, shape (n,)
        Group (annotator) code and label code of each row.
    order : ndarray of int, shape (n,)
        A permutation giving the sequence: rows sorted by group, then by time / row.
    n_groups : int

    Returns
    -------
    length : ndarray of int64, shape (n_groups,)
        Longest run length (0 for a group without rows).
    label : ndarray of int64, shape (n_groups,)
        Label of that run (the earliest one when several runs are equally long); -1 if none.
    """
    length = np.zeros(n_groups, dtype=np.int64)
    label = np.full(n_groups, -1, dtype=np.int64)
    if order.size == 0:
        return length, label
    g = narrow_codes(groups, n_groups)[order]  # narrow codes: a gather of 1-byte codes
    lab = narrow_codes(labels, int(labels.max()) + 1)[order]
    starts = np.empty(g.size, dtype=bool)
    starts[0] = True
    np.not_equal(g[1:], g[:-1], out=starts[1:])
    starts[1:] |= lab[1:] != lab[:-1]
    starts = np.flatnonzero(starts)
    sizes = np.diff(starts, append=g.size)
    run_group = g[starts]  # runs are in (group, position) order: no sort needed
    group_start = np.flatnonzero(np.r_[True, run_group[1:] != run_group[:-1]])
    longest = np.maximum.reduceat(sizes, group_start)
    best = np.flatnonzero(sizes == np.repeat(longest, np.diff(np.r_[group_start, sizes.size])))
    winners = best[np.r_[True, run_group[best][1:] != run_group[best][:-1]]]  # earliest
    length[run_group[winners]] = sizes[winners]
    label[run_group[winners]] = lab[starts[winners]]
    return length, label


def run_p_values(length: np.ndarray, n: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Chance of a run at least this long among ``n`` independent labels (Poisson approximation).

    Parameters
    ----------
    length : ndarray of int, shape (m,)
        Observed longest run L of each annotator.
    n : ndarray of int, shape (m,)
        Number of labels of each annotator.
    shares : ndarray of float, shape (m, k)
        Probability of each category for that annotator's labels under independence
        (the pool's label distribution).

    Returns
    -------
    ndarray of float64, shape (m,)
        1 - exp(-lambda) with lambda = sum_k p_k^L (1 + (n - L)(1 - p_k)): the expected
        number of runs of length >= L of any category (the first can start at position 1,
        later ones right after a different label). In [0, 1]; 1 for L <= 1 (certain);
        NaN where n == 0. Accurate for the small values that matter (see the tests).
    """
    big_l = np.asarray(length, dtype=np.float64)[:, None]
    count = np.asarray(n, dtype=np.float64)[:, None]
    p = np.asarray(shares, dtype=np.float64)
    lam = (p**big_l * (1.0 + np.maximum(count - big_l, 0.0) * (1.0 - p))).sum(axis=1)
    value = np.where(big_l[:, 0] <= 1, 1.0, -np.expm1(-lam))
    return np.where(count[:, 0] > 0, np.clip(value, 0.0, 1.0), np.nan)
