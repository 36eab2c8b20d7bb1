"""Consensus of numeric labels: per-item mean, median and trimmed mean (vectorised)."""

from __future__ import annotations

import numpy as np

from labelaudit.consensus._base import Aggregator, Codes, Gold, check_number
from labelaudit.exceptions import InputError, UsageError
from labelaudit.table import AnnotationTable

__all__ = ["MeanAggregator", "MedianAggregator", "TrimmedMeanAggregator", "numeric_values"]


def numeric_values(table: AnnotationTable) -> np.ndarray:
    """Numeric value of every category, shape (q,); InputError if a label is not a number."""
    names = table.categories.astype(str)
    try:
        return np.asarray(names, dtype=np.float64)
    except ValueError:
        bad = next(name for name in names if not _is_number(name))
        raise InputError(
            "numeric consensus needs numeric labels",
            source=table.source,
            field="label",
            expected="numbers",
            actual=bad,
            hint="use a categorical method (majority, dawid-skene, ...) for these labels",
        ) from None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


class _NumericAggregator(Aggregator):
    """Shared part: values per label row sorted within each item; ``values_`` per item."""

    numeric = True
    values_: np.ndarray

    def _prepare(self, table: AnnotationTable) -> None:
        self._category_values = numeric_values(table)

    def _fit(self, codes: Codes, gold: Gold | None) -> None:
        values = self._category_values[codes.label]
        order = np.lexsort((values, codes.item))
        item, ordered = codes.item[order], values[order]
        counts = np.bincount(item, minlength=codes.n_items)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        self.values_ = self._combine(item, ordered, counts, starts)
        self.n_per_item_ = counts
        deviation = np.abs(values - self.values_[codes.item])
        totals = np.bincount(codes.annotator, weights=deviation, minlength=codes.n_annotators)
        self.annotator_mae_ = totals / codes.labels_per_annotator
        if gold is not None:
            self.values_[gold.items] = self._category_values[gold.labels]

    def _combine(
        self, item: np.ndarray, ordered: np.ndarray, counts: np.ndarray, starts: np.ndarray
    ) -> np.ndarray:
        raise NotImplementedError  # pragma: no cover - abstract

    def fit_predict(self, table: AnnotationTable, gold: dict[str, str] | None = None) -> np.ndarray:
        """Fit and return ``values_`` (one float per item)."""
        return self.fit(table, gold).values_


class MeanAggregator(_NumericAggregator):
    """Per-item arithmetic mean of the numeric labels.

    Attributes
    ----------
    values_ : ndarray, shape (n_items,)
        Consensus value of each item (gold items: their gold value).
    n_per_item_ : ndarray of int64, shape (n_items,)
        Labels per item.
    annotator_mae_ : ndarray, shape (n_annotators,)
        Mean absolute difference between an annotator's labels and the consensus.
    """

    cli_name = "mean"

    def _combine(
        self, item: np.ndarray, ordered: np.ndarray, counts: np.ndarray, starts: np.ndarray
    ) -> np.ndarray:
        return np.bincount(item, weights=ordered, minlength=counts.size) / counts


class MedianAggregator(_NumericAggregator):
    """Per-item median (mean of the two middle values for an even count).

    Attributes
    ----------
    values_, n_per_item_, annotator_mae_
        As in :class:`MeanAggregator`.
    """

    cli_name = "median"

    def _combine(
        self, item: np.ndarray, ordered: np.ndarray, counts: np.ndarray, starts: np.ndarray
    ) -> np.ndarray:
        low = ordered[starts + (counts - 1) // 2]
        high = ordered[starts + counts // 2]
        return 0.5 * (low + high)


class TrimmedMeanAggregator(_NumericAggregator):
    """Per-item trimmed mean, as ``scipy.stats.trim_mean(labels, proportion)``.

    ``floor(proportion * n)`` labels are cut from each end of an item's n sorted labels
    before averaging.

    Parameters
    ----------
    proportion : float
        Fraction cut from each end, 0 <= proportion < 0.5.

    Attributes
    ----------
    values_, n_per_item_, annotator_mae_
        As in :class:`MeanAggregator`.
    """

    cli_name = "trimmed-mean"

    def __init__(self, proportion: float = 0.1) -> None:
        self.proportion = proportion

    def _check_params(self) -> None:
        check_number(self, "proportion", self.proportion, low=0.0)
        if self.proportion >= 0.5:
            msg = (
                "The 'proportion' parameter of TrimmedMeanAggregator must be < 0.5. "
                f"Got {self.proportion!r} instead."
            )
            raise UsageError(msg)

    def _combine(
        self, item: np.ndarray, ordered: np.ndarray, counts: np.ndarray, starts: np.ndarray
    ) -> np.ndarray:
        cut = np.floor(self.proportion * counts).astype(np.int64)
        rank = np.arange(item.size) - starts[item]
        kept = (rank >= cut[item]) & (rank < (counts - cut)[item])
        sums = np.bincount(item, weights=np.where(kept, ordered, 0.0), minlength=counts.size)
        return sums / (counts - 2 * cut)
