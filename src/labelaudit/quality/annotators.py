"""Per-annotator quality metrics, computed once over integer codes.

Each metric is a vectorised function of an :class:`~labelaudit.table.AnnotationTable`
returning one value per annotator (NaN = undefined; the report turns it into ``None``
with a reason):

- :func:`leave_one_out_agreement`: agreement with the majority vote of the *other*
  annotators on each item (per-item category counts minus the annotator's own vote).
- :func:`label_divergence`: Jensen-Shannon divergence (bits) between the annotator's label
  distribution and the pool of everybody else's labels.
- :func:`speed`: median seconds per label, from a duration column or from the gaps between
  the annotator's consecutive timestamps.
- :func:`label_runs`: longest run of identical labels in the annotator's time (or row)
  order, and the chance of a run that long if labels were drawn independently from the
  pool's distribution.
- :func:`confusion_accuracy`: accuracy implied by a confusion-matrix model (Dawid & Skene
  1979): sum_k prior_k * confusion[a, k, k].
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from labelaudit.quality._stats import (
    group_medians,
    js_divergence,
    longest_runs,
    run_p_values,
    small_distinct_rows,
)
from labelaudit.table.table import AnnotationTable, narrow_codes

__all__ = [
    "SPEED_FLOOR",
    "AnnotatorMetrics",
    "AnnotatorSums",
    "annotator_sums",
    "confusion_accuracy",
    "credit_of",
    "label_counts",
    "label_divergence",
    "label_runs",
    "leave_one_out_agreement",
    "leave_one_out_credit",
    "longest_label_runs",
    "pool_shares",
    "run_chance",
    "speed",
    "table_sums",
]

#: Durations below this many seconds count as this value on the log scale of the speed rule.
SPEED_FLOOR = 0.1


def leave_one_out_credit(table: AnnotationTable) -> np.ndarray:
    """Agreement credit of every label with the majority vote of the item's other labels.

    Parameters
    ----------
    table : AnnotationTable

    Returns
    -------
    ndarray of float64, shape (n_ratings,)
        1 if the label is the unique most frequent label among the *other* annotators of
        the item, 1 / t if it is one of t tied most frequent labels (the expected
        agreement under a uniformly random tie-break), 0 otherwise; NaN when nobody else
        labelled the item. O(n_items q + n_ratings) (:func:`credit_of`).
    """
    return credit_of(table.to_item_category_counts(), table.item_codes, table.label_codes)


def credit_of(counts: np.ndarray, item: np.ndarray, label: np.ndarray) -> np.ndarray:
    """Leave-one-out credit of each label from its item's category counts.

    Parameters
    ----------
    counts : ndarray of int, shape (n_items, q)
        Item x category counts.
    item, label : ndarray of int, shape (n,)
        Item and category code of each label.

    Returns
    -------
    ndarray of float64, shape (n,)
        As :func:`leave_one_out_credit`: with m1 > m2 the item's two largest distinct
        counts and t1, t2 how many categories reach them, the other annotators' counts
        are the item's counts minus the own vote, so only the own category's count drops
        by one.
    """
    cells, index = _credit_table(counts)
    rows = item if index is None else index[item]
    return cells[rows * counts.shape[1] + label]


def _credit_table(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """The credits of :func:`credit_of` as a flat table and each item's row in it:
    (credit of row r and category k at ``r * q + k``, row of each item), the row index
    None when each item has its own row. Items with equal counts get equal credits, so
    each distinct count vector is scored once (:func:`small_distinct_rows`) when few."""
    distinct = small_distinct_rows(counts)
    if distinct is None:
        return _cell_credit(counts).reshape(-1), None
    rows, inverse = distinct  # narrow, in a type that holds row * q + category too
    return _cell_credit(rows).reshape(-1), narrow_codes(inverse, rows.shape[0] * counts.shape[1])


def _cell_credit(counts: np.ndarray) -> np.ndarray:
    """Credit of a label of category k on an item with category counts ``counts[i]``, for
    every cell (i, k) at once, shape (n, q), float64 (see :func:`leave_one_out_credit`)."""
    q = counts.shape[1]
    top = counts.max(axis=1, keepdims=True)
    n_top = (counts == top).sum(axis=1, keepdims=True)
    below = np.where(counts < top, counts, -1)
    second = below.max(axis=1, keepdims=True) if q > 1 else np.full(top.shape, -1)
    n_second = (counts == second).sum(axis=1, keepdims=True)
    leader = (counts == top) & (n_top == 1)
    cell = np.where(leader & (second < top - 1), 1.0, 0.0)
    tied = leader & (second == top - 1)
    np.divide(1.0, 1.0 + n_second, out=cell, where=tied)
    cell[counts.sum(axis=1) == 1] = np.nan
    return cell


@dataclass(frozen=True)
class AnnotatorSums:
    """Per-annotator sums over the items of one part of a table; parts with disjoint items
    add (``a + b``), so any engine sums them partition by partition (the local engine is
    the one-part case).

    Attributes
    ----------
    label_counts : ndarray of int64, shape (n_annotators, q)
        Labels of each category given by each annotator.
    credit : ndarray of float64, shape (n_annotators,)
        Sum of the leave-one-out credits (:func:`credit_of`) of the annotator's labels on
        items somebody else labelled too.
    n_compared : ndarray of int64, shape (n_annotators,)
        How many such labels.
    """

    label_counts: np.ndarray
    credit: np.ndarray
    n_compared: np.ndarray

    def __add__(self, other: AnnotatorSums) -> AnnotatorSums:
        return AnnotatorSums(
            self.label_counts + other.label_counts,
            self.credit + other.credit,
            self.n_compared + other.n_compared,
        )

    def loo_agreement(self) -> tuple[np.ndarray, np.ndarray]:
        """(agreement, n_compared) as :func:`leave_one_out_agreement`."""
        n = self.n_compared
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(n > 0, self.credit / np.maximum(n, 1), np.nan), n

    def divergence(self) -> np.ndarray:
        """:func:`label_divergence` from the label counts, shape (n_annotators,)."""
        own = self.label_counts
        return js_divergence(own.astype(np.float64), pool_shares(own))


def annotator_sums(
    item: np.ndarray,
    annotator: np.ndarray,
    label: np.ndarray,
    *,
    n_items: int,
    n_annotators: int,
    n_categories: int,
    counts: np.ndarray | None = None,
) -> AnnotatorSums:
    """:class:`AnnotatorSums` of labels given as codes (every label of each item present).

    Parameters
    ----------
    item, annotator, label : ndarray of int, shape (n,)
        Item code (in [0, n_items)), annotator code and category code of each label.
    n_items, n_annotators, n_categories : int
    counts : ndarray, shape (n_items, q), optional
        The item x category counts when already built (a table's).
    """
    q, r = n_categories, n_annotators
    if counts is None:
        counts = np.bincount(item * q + label, minlength=n_items * q).reshape(n_items, q)
    cells, index = _credit_table(counts)
    flat = np.zeros(r * q, dtype=np.int64)
    credit: np.ndarray = np.zeros(r)
    alone = np.zeros(r, dtype=np.int64)  # labels nobody else gave on their item
    seed = np.arange(r)
    for start in range(0, label.shape[0], SUM_BLOCK):  # a loop over blocks, not rows
        part = slice(start, start + SUM_BLOCK)
        a, k = annotator[part], label[part]
        rows = item[part] if index is None else index[item[part]]
        value = cells[rows * q + k]
        shared = np.isfinite(value)
        flat += np.bincount(a * q + k, minlength=r * q)
        # the running sums enter first: each annotator's credits are added one by one in
        # row order, as one bincount of every row adds them (the same float sums)
        credit = np.bincount(
            np.concatenate([seed, a[shared]]),
            weights=np.concatenate([credit, value[shared]]),
            minlength=r,
        )
        alone += np.bincount(a[~shared], minlength=r)
    counts_by_annotator = flat.reshape(r, q)
    compared = counts_by_annotator.sum(axis=1) - alone
    return AnnotatorSums(label_counts=counts_by_annotator, credit=credit, n_compared=compared)


#: Rows per block of :func:`annotator_sums` (its temporaries stay a few MB however many
#: rows the table has).
SUM_BLOCK = 1 << 18


def table_sums(table: AnnotationTable) -> AnnotatorSums:
    """:class:`AnnotatorSums` of a whole table (the one-part case)."""
    return annotator_sums(
        table.item_codes,
        table.annotator_codes,
        table.label_codes,
        n_items=table.n_items,
        n_annotators=table.n_annotators,
        n_categories=table.n_categories,
        counts=table.to_item_category_counts(narrow=True),
    )


def leave_one_out_agreement(table: AnnotationTable) -> tuple[np.ndarray, np.ndarray]:
    """Mean leave-one-out credit per annotator (see :func:`leave_one_out_credit`).

    Returns
    -------
    agreement : ndarray of float64, shape (n_annotators,)
        NaN for an annotator who shares no item with anybody.
    n_compared : ndarray of int64, shape (n_annotators,)
        Labels on items that somebody else labelled too.
    """
    return table_sums(table).loo_agreement()


def label_counts(table: AnnotationTable) -> np.ndarray:
    """Annotator x category label counts, shape (n_annotators, q), int64."""
    q = table.n_categories
    flat = np.bincount(
        table.annotator_codes * q + table.label_codes, minlength=table.n_annotators * q
    )
    return flat.reshape(table.n_annotators, q)


def pool_shares(own: np.ndarray) -> np.ndarray:
    """Label distribution of everybody else, per annotator: (total - own) normalised.

    Parameters
    ----------
    own : ndarray, shape (n_annotators, q)
        Label counts (:func:`label_counts`).

    Returns
    -------
    ndarray of float64, shape (n_annotators, q)
        NaN rows where nobody else labelled anything.
    """
    others = own.sum(axis=0, keepdims=True) - own
    totals = others.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, others / np.maximum(totals, 1), np.nan)


def label_divergence(table: AnnotationTable) -> np.ndarray:
    """Jensen-Shannon divergence (bits, in [0, 1]) of each annotator's labels from the pool.

    The pool is every *other* annotator's labels, so a prolific annotator does not pull
    the reference towards itself. Shape (n_annotators,); NaN without other labels.
    """
    own = label_counts(table)
    return AnnotatorSums(own, np.zeros(0), np.zeros(0)).divergence()


def speed(
    table: AnnotationTable,
    *,
    durations: np.ndarray | None = None,
    times: np.ndarray | None = None,
) -> np.ndarray:
    """Median seconds per label of each annotator, shape (n_annotators,).

    Parameters
    ----------
    table : AnnotationTable
    durations : ndarray of float, shape (n_ratings,), optional
        Seconds spent on each label (NaN = missing); used when given.
    times : ndarray of float, shape (n_ratings,), optional
        Timestamps in seconds; otherwise the gaps between an annotator's consecutive
        timestamps (sorted by time) are the per-label times. The first label of each
        annotator has no gap; breaks inflate the mean but hardly the median.

    Returns
    -------
    ndarray of float64
        NaN where nothing is known (no column, or fewer than 2 timestamps).
    """
    n = table.n_annotators
    annotator = table.annotator_codes
    if durations is not None:
        return group_medians(annotator, durations, n)
    if times is None:
        return np.full(n, np.nan)
    keep = np.isfinite(times)
    order = np.lexsort((times[keep], annotator[keep]))
    g, t = annotator[keep][order], times[keep][order]
    same = g[1:] == g[:-1]
    return group_medians(g[1:][same], (t[1:] - t[:-1])[same], n)


def label_runs(
    table: AnnotationTable, *, times: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Longest run of identical labels per annotator, its label and its chance p-value.

    Parameters
    ----------
    table : AnnotationTable
    times : ndarray of float, shape (n_ratings,), optional
        Order each annotator's labels by time (missing times last, then by row); without
        it, the row order of the table is the annotator's order.

    Returns
    -------
    length : ndarray of int64, shape (n_annotators,)
    label : ndarray of int64, shape (n_annotators,)
        Category code of the run (-1 for an annotator without labels).
    p_value : ndarray of float64, shape (n_annotators,)
        Chance of a run at least this long of any category among the annotator's n
        labels if each were drawn independently from the pool's label distribution
        (:func:`labelaudit.quality._stats.run_p_values`); NaN without a pool.
    """
    length, label = longest_label_runs(table, times=times)
    return length, label, run_chance(length, label_counts(table))


#: Up to this many annotators, :func:`longest_label_runs` takes each one's labels with
#: one pass over the annotator codes (a loop over annotators) instead of a sort of every row.
FEW_ANNOTATORS = 8


def longest_label_runs(
    table: AnnotationTable, *, times: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(length, label) of :func:`label_runs`, without its p-value (for a caller that has
    the label counts already): each shape (n_annotators,), int64."""
    annotator, r = table.annotator_codes, table.n_annotators
    if times is None and r <= FEW_ANNOTATORS:
        return _runs_by_annotator(table)
    if times is None:  # by annotator, then row: a stable sort (radix on small codes)
        order = np.argsort(narrow_codes(annotator, r), kind="stable")
    else:
        rows = np.arange(table.n_ratings)
        order = np.lexsort((rows, np.where(np.isfinite(times), times, np.inf), annotator))
    return longest_runs(annotator, table.label_codes, order, r)


def _runs_by_annotator(table: AnnotationTable) -> tuple[np.ndarray, np.ndarray]:
    """The longest runs in row order as :func:`longest_runs` finds them (the earliest of
    the longest), annotator by annotator: a loop over the few annotators, each one's
    labels gathered at its rows (narrow codes; no sort, no array over every run)."""
    r = table.n_annotators
    annotator = narrow_codes(table.annotator_codes, r)
    labels = narrow_codes(table.label_codes, table.n_categories)
    length, label = np.zeros(r, dtype=np.int64), np.full(r, -1, dtype=np.int64)
    for code in range(r):
        sequence = labels[np.flatnonzero(annotator == code)]  # faster than a mask's take
        if not sequence.size:
            continue
        changes = np.flatnonzero(sequence[1:] != sequence[:-1]) + 1
        bounds = np.concatenate([[0], changes, [sequence.size]])
        runs = np.diff(bounds)
        longest = int(np.argmax(runs))  # the first of the longest: the earliest run
        length[code], label[code] = runs[longest], sequence[bounds[longest]]
    return length, label


def run_chance(length: np.ndarray, own: np.ndarray) -> np.ndarray:
    """P-value of each annotator's longest run (:func:`label_runs`), shape (n_annotators,).

    Parameters
    ----------
    length : ndarray of int, shape (n_annotators,)
        Longest run of each annotator.
    own : ndarray of int, shape (n_annotators, q)
        Label counts (:func:`label_counts`): the run's n and the pool's shares.
    """
    shares = pool_shares(own)
    p_value = run_p_values(length, own.sum(axis=1), np.nan_to_num(shares))
    p_value[~np.isfinite(shares).all(axis=1)] = np.nan
    return p_value


def confusion_accuracy(confusions: np.ndarray, priors: np.ndarray) -> np.ndarray:
    """Prior-weighted diagonal of each confusion matrix: sum_k prior_k * confusion[a, k, k].

    Parameters
    ----------
    confusions : ndarray, shape (n_annotators, q, q)
        Rows = true class, rows sum to 1 (Dawid & Skene 1979).
    priors : ndarray, shape (q,)
        Class prior.

    Returns
    -------
    ndarray of float64, shape (n_annotators,)
        The annotator's expected accuracy on an item drawn from the prior.
    """
    diagonal = np.diagonal(np.asarray(confusions, dtype=np.float64), axis1=1, axis2=2)
    return np.asarray(diagonal @ np.asarray(priors, dtype=np.float64), dtype=np.float64)


@dataclass(frozen=True)
class AnnotatorMetrics:
    """One value per annotator for every metric (arrays of shape (n_annotators,)).

    NaN marks an undefined value; ``global_reasons[metric]`` says why a metric is missing
    for everybody (e.g. no gold labels). ``longest_run_label`` holds category names ("" for
    an annotator without labels).
    """

    annotators: np.ndarray
    n_labels: np.ndarray
    n_compared: np.ndarray
    loo_agreement: np.ndarray
    n_gold: np.ndarray
    gold_correct: np.ndarray
    gold_accuracy: np.ndarray
    gold_ci_low: np.ndarray
    gold_ci_high: np.ndarray
    ds_accuracy: np.ndarray
    mace_spamming: np.ndarray
    js_divergence: np.ndarray
    median_seconds: np.ndarray
    longest_run: np.ndarray
    longest_run_label: np.ndarray
    longest_run_p: np.ndarray
    global_reasons: dict[str, str] = field(default_factory=dict)

    @property
    def n_annotators(self) -> int:
        """Number of annotators."""
        return int(self.annotators.shape[0])
