"""Agreement within and between groups of raters, and label distributions by group.

*Within* a group: Krippendorff's alpha among the group's raters only (the table's level;
Gwet's analytic SE and t interval, as ``labelaudit agreement``).

*Between* two groups A and B: cross-replication reliability (Wong, Paritosh & Aroyo 2021,
"Cross-replication reliability - an empirical approach to interpreting inter-rater
reliability", ACL 2021), the alpha of cross-group pairs only::

    kappa_x = 1 - d_o / d_e
    d_o = sum_u sum_{a in A_u, b in B_u} d(a, b) / sum_u |A_u| |B_u|
    d_e = sum_{a in A, b in B} d(a, b) / (|A| |B|)

over the items rated by both groups (A, B: all their ratings on those items), with
Krippendorff's difference function d of the level. It is comparable to the within-group
alphas: 1 - (disagreement observed) / (disagreement by chance). The 95% interval is the
percentile interval of an item bootstrap, vectorised as item re-weighting
(:func:`labelaudit.intervals.bootstrap_item_weights`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from labelaudit.agreement.alpha import (
    distance_matrix,
    krippendorff_alpha,
    krippendorff_alpha_continuous,
)
from labelaudit.intervals import bootstrap_item_weights, percentile_ci
from labelaudit.results import MetricResult
from labelaudit.table import AnnotationTable

__all__ = ["CrossAgreement", "cross_group_alphas", "group_counts", "within_alpha"]

#: Category counts above which agreement uses the continuous (interval/ratio) closed forms.
MAX_CATEGORIES = 100


@dataclass(frozen=True)
class CrossAgreement:
    """Cross-replication alpha of two groups with its bootstrap interval."""

    value: float | None
    ci95: tuple[float, float] | None
    n_items: int
    n_pairs: int
    reason: str | None = None


def group_counts(table: AnnotationTable, mask: np.ndarray) -> np.ndarray:
    """Item x category counts of the rows in ``mask``, shape (n_items, q), float64."""
    q = table.n_categories
    flat = np.bincount(
        table.item_codes[mask] * q + table.label_codes[mask], minlength=table.n_items * q
    )
    return flat.reshape(table.n_items, q).astype(np.float64)


def within_alpha(table: AnnotationTable, mask: np.ndarray) -> MetricResult:
    """Krippendorff's alpha of the rows in ``mask`` (one group's raters, or one slice).

    Uses the item x category counts when the table has at most ``MAX_CATEGORIES``
    categories, else the exact continuous closed form (interval, ratio levels).
    """
    level = table.level
    if table.n_categories <= MAX_CATEGORIES:
        return krippendorff_alpha(group_counts(table, mask), table.category_values, level=level)
    if level not in ("interval", "ratio"):
        return MetricResult.undefined(f"more than {MAX_CATEGORIES} categories at the {level} level")
    return krippendorff_alpha_continuous(
        table.item_codes[mask], table.values[mask], table.n_items, level=level
    )


def cross_group_alphas(
    table: AnnotationTable,
    masks: list[np.ndarray],
    *,
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[tuple[int, int], CrossAgreement]:
    """Cross-replication alpha of every pair of groups (a < b) among ``masks``.

    Parameters
    ----------
    table : AnnotationTable
    masks : list of ndarray of bool, each shape (n_ratings,)
        The groups' ratings (disjoint sets of raters).
    n_boot, seed : int
        Item-bootstrap replicates for the percentile intervals (< 2: no interval); one set
        of replicate weights serves every pair.

    Returns
    -------
    dict of (a, b) to CrossAgreement
        ``value`` None with a reason when no item is rated by both groups or the pooled
        ratings do not vary.
    """
    if table.n_categories > MAX_CATEGORIES and table.level != "interval":
        reason = f"more than {MAX_CATEGORIES} distinct values at the {table.level} level"
        return {
            (a, b): CrossAgreement(None, None, 0, 0, reason)
            for a in range(len(masks))
            for b in range(a + 1, len(masks))
        }
    rows = [_rows(table, mask) for mask in masks]
    totals = [_totals(table, r) for r in rows]
    pairs = [(a, b) for a in range(len(masks)) for b in range(a + 1, len(masks))]
    out: dict[tuple[int, int], CrossAgreement] = {}
    live = []
    for a, b in pairs:
        both = (totals[a] > 0) & (totals[b] > 0)
        if not both.any():
            out[(a, b)] = CrossAgreement(None, None, 0, 0, "no item is rated by both groups")
            continue
        term = _PairTerms(table, (rows[a], rows[b]), (totals[a], totals[b]), both)
        value = float(term.kappa(both[None, :].astype(np.float64))[0])
        if not np.isfinite(value):
            reason = "the ratings do not vary"
            out[(a, b)] = CrossAgreement(None, None, term.n_items, term.n_pairs, reason)
            continue
        out[(a, b)] = CrossAgreement(value, None, term.n_items, term.n_pairs)
        live.append(((a, b), term))
    if n_boot > 1 and live:
        reps: list[list[np.ndarray]] = [[] for _ in live]
        for w in bootstrap_item_weights(table.n_items, n_boot, seed):
            for index, (_, term) in enumerate(live):
                reps[index].append(term.kappa(w * term.both))
        for (key, _), rep in zip(live, reps, strict=True):
            low, high = percentile_ci(np.concatenate(rep)[:, None])
            found = out[key]
            out[key] = CrossAgreement(
                found.value, (float(low[0]), float(high[0])), found.n_items, found.n_pairs
            )
    return out


class _PairTerms:
    """Sufficient statistics of one pair of groups on the items both rated."""

    def __init__(
        self,
        table: AnnotationTable,
        rows: tuple[np.ndarray, np.ndarray],
        totals: tuple[np.ndarray, np.ndarray],
        both: np.ndarray,
    ) -> None:
        rows_a, rows_b = rows
        self.rows_a, self.rows_b, self.both = rows_a, rows_b, both.astype(np.float64)
        self.d: np.ndarray | None = None
        if table.n_categories <= MAX_CATEGORIES:
            marginals = rows_a[both].sum(axis=0) + rows_b[both].sum(axis=0)
            self.d = distance_matrix(table.category_values, table.level, marginals)
        self.obs = _observed(rows_a, rows_b, self.d)
        self.pairs = totals[0] * totals[1]
        self.n_items = int(both.sum())
        self.n_pairs = int(self.pairs[both].sum())

    def kappa(self, weights: np.ndarray) -> np.ndarray:
        """kappa_x for each row of item ``weights`` (B, n_items), zero off the shared items."""
        return _kappa(weights, self.obs, self.pairs, self.rows_a, self.rows_b, self.d)


def _totals(table: AnnotationTable, rows: np.ndarray) -> np.ndarray:
    """Ratings per item from a group's per-item statistics."""
    out: np.ndarray = rows[:, 0] if table.n_categories > MAX_CATEGORIES else rows.sum(axis=1)
    return out


def _rows(table: AnnotationTable, mask: np.ndarray) -> np.ndarray:
    """Per-item statistics of one group: category counts (n_items, q), or for continuous
    interval ratings the moments (n, sum, sum of squares), shape (n_items, 3)."""
    if table.n_categories <= MAX_CATEGORIES:
        return group_counts(table, mask)
    codes, x = table.item_codes[mask], table.values[mask]
    return np.stack(
        [
            np.bincount(codes, minlength=table.n_items).astype(np.float64),
            np.bincount(codes, x, minlength=table.n_items),
            np.bincount(codes, x * x, minlength=table.n_items),
        ],
        axis=1,
    )


def _observed(rows_a: np.ndarray, rows_b: np.ndarray, d: np.ndarray | None) -> np.ndarray:
    """Per item: the summed distance over all (a, b) cross pairs, shape (n_items,)."""
    if d is None:  # interval moments: sum (x_a - x_b)^2 = nB SA2 + nA SB2 - 2 SA SB
        return (
            rows_b[:, 0] * rows_a[:, 2]
            + rows_a[:, 0] * rows_b[:, 2]
            - 2 * rows_a[:, 1] * rows_b[:, 1]
        )
    out: np.ndarray = ((rows_a @ d) * rows_b).sum(axis=1)
    return out


def _kappa(
    weights: np.ndarray,
    obs: np.ndarray,
    pairs: np.ndarray,
    rows_a: np.ndarray,
    rows_b: np.ndarray,
    d: np.ndarray | None,
) -> np.ndarray:
    """kappa_x for each row of item ``weights`` (B, n_items): 1 - d_o / d_e."""
    tot_a, tot_b = weights @ rows_a, weights @ rows_b  # (B, q) or (B, 3) moments
    if d is None:
        expected_sum = (
            tot_b[:, 0] * tot_a[:, 2] + tot_a[:, 0] * tot_b[:, 2] - 2 * tot_a[:, 1] * tot_b[:, 1]
        )
        n_a, n_b = tot_a[:, 0], tot_b[:, 0]
    else:
        expected_sum = np.einsum("bi,ij,bj->b", tot_a, d, tot_b)
        n_a, n_b = tot_a.sum(axis=1), tot_b.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        d_o = (weights @ obs) / (weights @ pairs)
        d_e = expected_sum / (n_a * n_b)
        out: np.ndarray = np.where(d_e > 0, 1.0 - d_o / d_e, np.nan)
    return out
