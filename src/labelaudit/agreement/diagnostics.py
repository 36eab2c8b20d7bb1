"""Why do annotators disagree? Pairwise, per-category, confusion and worst-item diagnostics.

Pure, vectorised functions over an :class:`~labelaudit.table.AnnotationTable`. Every
diagnostic is built from *within-item rating pairs*: the unordered pairs of ratings of the
same item. Generating them costs O(sum_i m_i^2) time and memory, where m_i is the number of
ratings of item i; nothing loops over items or rows in Python, and no annotator x annotator
x q x q array is allocated unless it is small (at most max(2**20, 4 x rating pairs) cells).

Every function returns a list of JSON-ready dicts: floats are Python floats, and undefined
values are ``None`` (never NaN).

References
----------
Cohen, J. (1960). Educ. Psychol. Meas. 20(1). Cohen, J. (1968). Psychol. Bull. 70(4).
Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters. Psychol. Bull.
76(5), 378-382.
Uebersax, J. S. (1982). A design-independent method for measuring the reliability of
psychiatric diagnosis. J. Psychiatr. Res. 17(4), 335-342.
Krippendorff, K. (2011). Computing Krippendorff's Alpha-Reliability. Annenberg School for
Communication, University of Pennsylvania.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from labelaudit.exceptions import UsageError
from labelaudit.table.table import AnnotationTable

__all__ = ["confusions", "pairwise_agreement", "per_category_agreement", "top_disagreements"]

#: Largest number of marginal-count cells (pairs x q) held in memory at once.
_CELL_BUDGET = 1 << 20
#: Up to this many annotators, pair tables come from a dense item x annotator grid.
_DENSE_RATERS = 64
#: |1 - p_e| at or below this makes kappa undefined (as in :func:`cohen.cohen_kappa`).
_PE_ONE = 1e-12


# ------------------------------------------------------------------------------ kernels
def _number(value: float) -> float | None:
    """Python float, or ``None`` for NaN / inf."""
    return float(value) if math.isfinite(value) else None


def _group_pairs(groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions (left, right), left < right, of every pair inside a run of equal ``groups``.

    ``groups`` (n,) must be sorted. Output length is sum over runs of s (s - 1) / 2.
    """
    n = groups.size
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    sizes = np.diff(np.r_[starts, n])
    after = np.repeat(starts + sizes, sizes) - np.arange(n) - 1  # partners after each one
    left = np.repeat(np.arange(n), after)
    offset = np.arange(left.size) - np.repeat(np.cumsum(after) - after, after)
    return left, left + 1 + offset


def _label_entries(table: AnnotationTable) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nonzero cells of the item x category counts: (item, label, n_ik), sorted by item, label.

    The table's shared sparse cells (:meth:`AnnotationTable.item_category_cells`).
    """
    return table.item_category_cells()


def _count_keys(keys: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct ``keys`` in [0, size) (sorted) and their counts.

    A dense bincount when ``size`` is small next to the number of keys, else a sort.
    """
    if size <= max(4 * keys.size, _CELL_BUDGET):
        counts = np.bincount(keys, minlength=size)
        present = np.flatnonzero(counts)
        return present, counts[present]
    return np.unique(keys, return_counts=True)


def _pair_cells(
    table: AnnotationTable, multiplicity: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Nonzero cells of all pair tables: keys ((a r + b) q + label_a) q + label_b, counts.

    One key per within-item rating pair (a < b by code); sorted, so grouped by pair.
    Keys fit int64 while r q < 3e9 (r annotators, q categories). ``multiplicity``
    (n_items,): each item's pairs count that many times (item profiles).
    """
    r, q = table.n_annotators, table.n_categories
    if r * q >= 3_000_000_000:
        raise UsageError(f"too many annotators x categories for int64 keys: {r} x {q}")
    dense = r <= _DENSE_RATERS and table.n_items * r <= max(_CELL_BUDGET, 4 * table.n_ratings)
    if dense and multiplicity is None:
        return _dense_pair_cells(table)
    order = table.row_order  # (item, annotator) order, computed once per table
    items = table.item_codes[order]
    left, right = _group_pairs(items)
    annotators, labels = table.annotator_codes[order], table.label_codes[order]
    keys = annotators[left] * r
    keys += annotators[right]
    keys *= q
    keys += labels[left]
    keys *= q
    keys += labels[right]
    if multiplicity is not None:
        return _weighted_keys(keys, multiplicity[items[left]].astype(np.float64), r * r * q * q)
    return _count_keys(keys, r * r * q * q)


def _dense_pair_cells(table: AnnotationTable) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_pair_cells` for few annotators over a dense item x annotator grid.

    One row of label codes per annotator; each of the r (r - 1) / 2 annotator pairs counts
    its table with one bincount over the items: O(n_items r^2) work, no pair list, no sort.
    """
    r, q = table.n_annotators, table.n_categories
    # q marks "not rated": each pair's (q + 1) x (q + 1) table is one bincount, then the
    # row and column of q are dropped (no boolean masks over the items)
    dtype = np.int16 if (q + 1) ** 2 < 2**15 else np.int64
    grid = np.full((r, table.n_items), q, dtype=dtype)
    grid[table.annotator_codes, table.item_codes] = table.label_codes
    keep = (np.arange(q + 1)[:, None] < q) & (np.arange(q + 1)[None, :] < q)
    keys, counts = [], []
    for a in range(r):  # loops over annotator pairs (r <= 64), never over items
        scaled = grid[a] * dtype(q + 1)
        for b in range(a + 1, r):
            cells = np.bincount(scaled + grid[b], minlength=(q + 1) ** 2)
            cells = cells.reshape(q + 1, q + 1)[keep]
            present = np.flatnonzero(cells)
            keys.append((a * r + b) * q * q + present)
            counts.append(cells[present])
    if not keys:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(keys), np.concatenate(counts)


def _pair_statistics(
    pair_index: np.ndarray,
    cells: np.ndarray,
    counts: np.ndarray,
    n_pairs: int,
    weights: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shared items, weighted p_o and Cohen's kappa (NaN when p_e = 1) of each pair, (P,).

    ``pair_index`` (U,) sorted, ``cells`` (U,) = label_a q + label_b and ``counts`` (U,)
    are the nonzero table cells. p_e = sum_k (n_a W)_k n_b,k / n^2 uses the pairs'
    marginal counts, built in chunks of at most ``_CELL_BUDGET`` cells (pairs x q).
    """
    q = weights.shape[0]
    label_a, label_b = cells // q, cells % q
    n = np.bincount(pair_index, weights=counts, minlength=n_pairs)
    agreeing = np.bincount(
        pair_index, weights=counts * weights[label_a, label_b], minlength=n_pairs
    )
    p_e = np.empty(n_pairs)
    step = max(1, _CELL_BUDGET // max(q, 1))
    starts = np.arange(0, n_pairs, step)
    bounds = np.asarray(np.searchsorted(pair_index, np.r_[starts, n_pairs])).tolist()
    for chunk, start in enumerate(starts.tolist()):  # chunks of pairs, not items
        size, rows = min(step, n_pairs - start), slice(bounds[chunk], bounds[chunk + 1])
        local, weight = (pair_index[rows] - start) * q, counts[rows]
        margin_a = np.bincount(local + label_a[rows], weight, size * q).reshape(size, q)
        margin_b = np.bincount(local + label_b[rows], weight, size * q).reshape(size, q)
        p_e[start : start + size] = ((margin_a @ weights) * margin_b).sum(axis=1)
    p_o, p_e = agreeing / n, p_e / n**2
    defined = np.abs(1.0 - p_e) > _PE_ONE
    kappa = np.full(n_pairs, np.nan)
    kappa[defined] = (p_o[defined] - p_e[defined]) / (1.0 - p_e[defined])
    return n, p_o, kappa


# --------------------------------------------------------------------------- pairwise
def pairwise_agreement(
    table: AnnotationTable,
    weights: np.ndarray,
    *,
    min_shared: int = 1,
    multiplicity: np.ndarray | None = None,
) -> list[dict[str, Any]]:
    """Agreement of every annotator pair on the items both labelled.

    Parameters
    ----------
    table : AnnotationTable
        Validated annotations (one rating per item and annotator).
    weights : ndarray, shape (q, q)
        Agreement weights in category order (identity = unweighted).
    min_shared : int
        Report only pairs sharing at least this many items (>= 1).
    multiplicity : ndarray of int64, shape (n_items,), optional
        Items each item stands for (item profiles: every count is weighted by it).

    Returns
    -------
    list of dict
        One entry per pair ``a < b`` (by annotator code, so sorted by name) sharing
        ``n_items >= min_shared`` items: ``{"a", "b", "n_items", "percent_agreement",
        "cohen_kappa"}``. ``percent_agreement`` is the weighted observed agreement
        p_o = sum_kl w_kl p_kl over the shared items; ``cohen_kappa`` is
        (p_o - p_e) / (1 - p_e) with p_e = sum_kl w_kl p_k. p_.l (Cohen 1960, 1968), the
        value of :func:`labelaudit.agreement.cohen.cohen_kappa` on the pair's table, or
        ``None`` when p_e = 1. Pairs with no shared item never appear.

    Notes
    -----
    One pass over the within-item rating pairs counts the cells (a, b, label_a, label_b)
    of all pair tables at once (a bincount when r^2 q^2 is small, else a sort): O(sum_i
    m_i^2) time and memory, plus O(P q^2) BLAS flops on the marginals of the P pairs that
    co-occur, in chunks of at most ``2**20`` cells. No r x r x q x q array (unless small)
    and no q x q table per pair is allocated, so it scales to thousands of annotators with
    sparse overlap.
    """
    q, r = table.n_categories, table.n_annotators
    weights = np.asarray(weights, dtype=np.float64)
    if weights.shape != (q, q):
        raise UsageError(f"weights must be a {q} x {q} matrix; got shape {weights.shape}")
    if min_shared < 1:
        raise UsageError(f"min_shared must be at least 1; got {min_shared}")
    keys, counts = _pair_cells(table, multiplicity)
    pair_ids, cells = keys // (q * q), keys % (q * q)
    new_pair = np.diff(pair_ids, prepend=-1) != 0  # keys are sorted: runs of one pair
    first, pair_index = np.flatnonzero(new_pair), np.cumsum(new_pair) - 1
    shared, p_o, kappa = _pair_statistics(pair_index, cells, counts, first.size, weights)
    keep = np.flatnonzero(shared >= min_shared)
    names = table.annotators
    return [
        {
            "a": str(names[pair // r]),
            "b": str(names[pair % r]),
            "n_items": int(n),
            "percent_agreement": _number(po),
            "cohen_kappa": _number(k),
        }
        for pair, n, po, k in zip(
            pair_ids[first[keep]].tolist(),
            shared[keep].tolist(),
            p_o[keep].tolist(),
            kappa[keep].tolist(),
            strict=True,
        )
    ]


# ----------------------------------------------------------------------- per category
def per_category_agreement(
    table: AnnotationTable, multiplicity: np.ndarray | None = None
) -> list[dict[str, Any]]:
    """Agreement on each category: specific agreement and one-vs-rest kappa and alpha.

    Parameters
    ----------
    table : AnnotationTable
        Validated annotations; n_ik (n_items, q) is the item x category count matrix and
        m_i = sum_k n_ik.

    Returns
    -------
    list of dict
        One entry per category in declared order (unused categories included):
        ``{"category", "n", "specific_agreement", "kappa_1vr", "alpha_1vr"}`` where

        * ``n`` = sum_i n_ik, the ratings with label k;
        * ``specific_agreement`` = sum_i n_ik (n_ik - 1) / sum_i n_ik (m_i - 1): given one
          rating k of an item, the chance that another rating of the same item is k too
          (proportion of specific agreement generalised to many raters and missing data;
          Uebersax 1982, Fleiss 1971). Items with m_i < 2 add nothing to either sum;
        * ``kappa_1vr`` = Fleiss' kappa of the binary collapse "k vs rest", counts
          (n_items, 2) = [n_ik, m_i - n_ik], with the missing-data convention of
          :func:`labelaudit.agreement.chance.chance_corrected`;
        * ``alpha_1vr`` = nominal Krippendorff's alpha of the same collapse.

        Undefined values (an unused category, no item with two ratings, one value only)
        are ``None``. ``multiplicity`` (n_items,): each item counts that many times
        (item profiles); every sum over items is weighted by it.
    """
    counts = table.to_item_category_counts()
    m = table.ratings_per_item()
    # integer-valued sums: the same floats with unit weights as with plain sums
    mult = np.ones(table.n_items) if multiplicity is None else multiplicity.astype(np.float64)
    kappa, alpha = _one_vs_rest(counts, mult)
    totals = mult @ counts
    agreeing = mult @ (counts * (counts - 1))
    pairable = mult @ (counts * (m - 1)[:, None])
    with np.errstate(invalid="ignore", divide="ignore"):
        specific = np.where(pairable > 0, agreeing / np.maximum(pairable, 1), np.nan)
    return [
        {
            "category": str(name),
            "n": int(n),
            "specific_agreement": _number(sa),
            "kappa_1vr": _number(k),
            "alpha_1vr": _number(a),
        }
        for name, n, sa, k, a in zip(
            table.categories.tolist(),
            totals.tolist(),
            specific.tolist(),
            kappa.tolist(),
            alpha.tolist(),
            strict=True,
        )
    ]


def _one_vs_rest(
    counts: np.ndarray, mult: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Fleiss' kappa and nominal alpha of every "k vs rest" collapse at once, (q,) each.

    From the one item x category count matrix n_ik (m_i = sum_k n_ik), with the same
    conventions as :func:`labelaudit.agreement.chance.chance_corrected` and
    :func:`labelaudit.agreement.alpha.alpha_from_counts` on the (n_items, 2) collapse
    [n_ik, m_i - n_ik] (the tests check both, category by category):

    * kappa: p_a = mean over items with m_i >= 2 of (n_ik (n_ik - 1) + r_ik (r_ik - 1)) /
      (m_i (m_i - 1)), r_ik = m_i - n_ik; pi_k = mean over items of n_ik / m_i;
      p_e = pi_k^2 + (1 - pi_k)^2; kappa = (p_a - p_e) / (1 - p_e), NaN if p_e = 1 or
      nothing is pairable (Fleiss 1971);
    * alpha: over pairable items, D_o = sum_i 2 n_ik r_ik / (m_i - 1), n = sum_i m_i,
      N_k = sum_i n_ik; alpha = 1 - (n - 1) D_o / (2 N_k (n - N_k)), NaN if the
      denominator is 0 (Krippendorff 2011).

    Means and sums over items are weighted by ``mult`` (n_items,; default ones).
    """
    n = np.asarray(counts, dtype=np.float64)
    m = n.sum(axis=1)
    mult = np.ones(m.size) if mult is None else mult
    pair = m >= 2
    if not pair.any():
        nan = np.full(n.shape[1], np.nan)
        return nan, nan.copy()
    # Every per-category sum is a matrix-vector product with n or n^2 (BLAS, no (n, q)
    # temporaries but n^2): with r = m - n, n(n-1) + r(r-1) = 2n^2 - 2mn + m^2 - m and
    # 2 n r = 2mn - 2n^2.
    squares = n * n
    safe = np.where(pair, m, 2.0)
    w_agree = np.where(pair, mult / (safe * (safe - 1.0)), 0.0)
    agree = 2.0 * (w_agree @ squares) - 2.0 * ((w_agree * m) @ n) + w_agree @ (m * m - m)
    p_a = agree / mult[pair].sum()
    pi = (mult / m) @ n / mult.sum()
    p_e = pi**2 + (1.0 - pi) ** 2
    w_alpha = np.where(pair, mult / (safe - 1.0), 0.0)
    observed = 2.0 * ((w_alpha * m) @ n) - 2.0 * (w_alpha @ squares)
    total = float((mult * m)[pair].sum())
    marginal = np.where(pair, mult, 0.0) @ n
    expected = 2.0 * marginal * (total - marginal)
    with np.errstate(invalid="ignore", divide="ignore"):
        kappa = np.where(np.abs(1.0 - p_e) > _PE_ONE, (p_a - p_e) / (1.0 - p_e), np.nan)
        ratio = observed / np.where(expected > 0, expected, 1.0)
        alpha = np.where(expected > 0, 1.0 - (total - 1.0) * ratio, np.nan)
    return kappa, alpha


# ------------------------------------------------------------------------- confusions
def confusions(
    table: AnnotationTable,
    *,
    top: int = 20,
    examples: int = 5,
    multiplicity: np.ndarray | None = None,
) -> list[dict[str, Any]]:
    """The label pairs annotators confuse most, with example items.

    Parameters
    ----------
    table : AnnotationTable
        Validated annotations.
    top : int
        Number of label pairs to return.
    examples : int
        Number of example items per label pair.
    multiplicity : ndarray of int64, shape (n_items,), optional
        Items each item stands for (item profiles): weights the counts; the examples
        are ranked among the table's items.

    Returns
    -------
    list of dict
        ``{"label_a", "label_b", "count", "share", "example_items"}``, most frequent first
        (ties: category order). Every unordered pair of ratings of one item with labels
        x != y counts once for {x, y}, so ``count`` = sum_i n_ix n_iy; ``label_a`` comes
        before ``label_b`` in category order; ``share`` = count / all disagreeing rating
        pairs; ``example_items`` = up to ``examples`` item names with the most such pairs
        (ties: item order).

    Notes
    -----
    Works on the nonzero cells of the item x category counts, pairing the distinct labels
    of each item: O(sum_i d_i^2) with d_i <= m_i distinct labels of item i.
    """
    q = table.n_categories
    items, labels, n_ik = _label_entries(table)
    left, right = _group_pairs(items)
    label_pairs = labels[left] * q + labels[right]  # label[left] < label[right]
    pair_counts = n_ik[left] * n_ik[right]
    pair_items = items[left]
    weighted = pair_counts if multiplicity is None else pair_counts * multiplicity[pair_items]
    kinds, totals = _weighted_keys(label_pairs, weighted, q * q)
    grand_total = int(weighted.sum())
    chosen = np.lexsort((kinds, -totals))[: max(top, 0)]
    names, categories = table.items, table.categories
    return [
        {
            "label_a": str(categories[kinds[kind] // q]),
            "label_b": str(categories[kinds[kind] % q]),
            "count": int(totals[kind]),
            "share": int(totals[kind]) / grand_total,
            "example_items": [
                str(names[i])
                for i in _examples(label_pairs == kinds[kind], pair_items, pair_counts, examples)
            ],
        }
        for kind in chosen.tolist()  # loops over the top label pairs only
    ]


def _weighted_keys(
    keys: np.ndarray, weights: np.ndarray, size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct ``keys`` in [0, size) (sorted) and the int64 sum of ``weights`` (> 0) of each."""
    if size <= max(4 * keys.size, _CELL_BUDGET):
        sums = np.bincount(keys, weights=weights, minlength=size)
        present = np.flatnonzero(sums)
        return present, sums[present].astype(np.int64)
    kinds, index = np.unique(keys, return_inverse=True)
    return kinds, np.bincount(index, weights=weights, minlength=kinds.size).astype(np.int64)


def _examples(
    mask: np.ndarray, pair_items: np.ndarray, pair_counts: np.ndarray, examples: int
) -> list[int]:
    """Up to ``examples`` items among ``mask`` with the largest pair count (ties: item order).

    ``pair_items`` is sorted and holds each item once per label pair, so walking the
    distinct counts downwards (a few values) replaces a sort of all the pairs.
    """
    rows = np.flatnonzero(mask)
    counts = pair_counts[rows]
    picked: list[int] = []
    for value in np.flatnonzero(np.bincount(counts))[::-1].tolist():
        if len(picked) >= examples:
            break
        hits = rows[counts == value][: examples - len(picked)]
        picked.extend(pair_items[hits].tolist())
    return picked


# ------------------------------------------------------------------- worst items
def _smallest(first: np.ndarray, second: np.ndarray, third: np.ndarray, k: int) -> np.ndarray:
    """Positions of the k smallest by (first, second, third), in that order.

    A partition on ``first`` keeps the candidates (all ties of the k-th value), so the
    lexsort runs on them only, not on every item.
    """
    if k == 0 or first.size == 0:
        return np.zeros(0, dtype=np.int64)
    candidates = np.arange(first.size)
    if first.size > 4 * k:
        threshold = np.partition(first, k - 1)[k - 1]
        candidates = np.flatnonzero(first <= threshold)
    order = np.lexsort((third[candidates], second[candidates], first[candidates]))
    return candidates[order[:k]]


def top_disagreements(table: AnnotationTable, *, top: int = 20) -> list[dict[str, Any]]:
    """Items with the lowest observed agreement among their ratings.

    Parameters
    ----------
    table : AnnotationTable
        Validated annotations.
    top : int
        Number of items to return.

    Returns
    -------
    list of dict
        Items with m_i >= 2 ratings, ``{"item", "n_ratings", "observed_agreement",
        "labels"}``, where ``observed_agreement`` = sum_k n_ik (n_ik - 1) / (m_i (m_i - 1))
        (Fleiss' 1971 P_i: the share of agreeing rating pairs) and ``labels`` maps each
        label given to the item to its count (category order). Sorted by observed agreement
        ascending, then more ratings first, then item order.
    """
    items, labels, n_ik = _label_entries(table)
    m = table.ratings_per_item()
    agreeing = np.bincount(items, weights=n_ik * (n_ik - 1), minlength=table.n_items)
    eligible = np.flatnonzero(m >= 2)
    observed = agreeing[eligible] / (m[eligible] * (m[eligible] - 1))
    chosen = _smallest(observed, -m[eligible], eligible, max(top, 0))
    starts = np.searchsorted(items, eligible[chosen])
    ends = np.searchsorted(items, eligible[chosen], side="right")
    categories = table.categories
    return [
        {
            "item": str(table.items[eligible[c]]),
            "n_ratings": int(m[eligible[c]]),
            "observed_agreement": float(observed[c]),
            "labels": {
                str(categories[k]): int(n)
                for k, n in zip(labels[lo:hi].tolist(), n_ik[lo:hi].tolist(), strict=True)
            },
        }
        for c, lo, hi in zip(chosen.tolist(), starts.tolist(), ends.tolist(), strict=True)
    ]
