"""Model-style metrics by rater group against a reference label (gold or consensus).

Each rating is read as a prediction (``y_pred`` = the rater's label) of a reference
(``y_true``): a gold label of its item, or the leave-one-out consensus - the plurality
label of the item's *other* raters (undefined on a tie or with no other rater; such
ratings are left out and counted). With ``positive`` labels the ratings and references
are made binary first (positive / negative), and the selection rate, false-positive and
false-negative rates join the agreement rate.

The table follows fairlearn's ``MetricFrame`` (``overall``, ``by_group``,
``difference(method="between_groups")`` = max - min over groups, ``ratio`` = min / max)
so that its readers recognise it; fairlearn is not needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from labelaudit.exceptions import UsageError
from labelaudit.fairness.attributes import Grouping
from labelaudit.intervals import wilson_interval
from labelaudit.table import AnnotationTable

__all__ = [
    "METRICS",
    "ReferenceLabels",
    "leave_one_out_consensus",
    "metric_table",
    "reference_labels",
    "reference_rows",
]

#: Metric names in the order shown; the last three need ``positive`` labels.
METRICS = ("agreement", "selection_rate", "false_positive_rate", "false_negative_rate")


@dataclass(frozen=True)
class ReferenceLabels:
    """Per rating: the rater's (possibly binarised) label and its reference, -1 = none.

    Attributes
    ----------
    y_pred, y_true : ndarray of int64, shape (n_ratings,)
        Label codes (or 1 = positive, 0 = negative when ``binary``); ``y_true`` -1 where
        the rating has no reference.
    kind : str
        ``"gold"`` or ``"leave-one-out consensus"``.
    binary : bool
    """

    y_pred: np.ndarray
    y_true: np.ndarray
    kind: str
    binary: bool

    @property
    def n_without(self) -> int:
        """Ratings without a reference (tie, single rater, or item without gold)."""
        return int((self.y_true < 0).sum())


def leave_one_out_consensus(item_codes: np.ndarray, labels: np.ndarray, q: int) -> np.ndarray:
    """Plurality label of each rating's item over the item's *other* ratings.

    Parameters
    ----------
    item_codes : ndarray of int64, shape (n,)
    labels : ndarray of int64, shape (n,)
        Label codes 0..q-1.
    q : int

    Returns
    -------
    ndarray of int64, shape (n,)
        The unique most frequent label among the other ratings of the item; -1 on a tie
        or when the item has no other rating. O(n q) memory and time.
    """
    n_items = int(item_codes.max()) + 1 if item_codes.size else 0
    counts = np.bincount(item_codes * q + labels, minlength=n_items * q).reshape(n_items, q)
    others = counts[item_codes]
    others[np.arange(labels.size), labels] -= 1
    best = others.max(axis=1)
    winner = others.argmax(axis=1)
    unique = (others == best[:, None]).sum(axis=1) == 1
    return np.where(unique & (best > 0), winner, -1).astype(np.int64)


def _rates(pred: np.ndarray, true: np.ndarray, group: np.ndarray, n_groups: int) -> dict:
    """Per metric: (numerator, denominator) arrays of shape (n_groups + 1,), last = overall."""

    def count(mask: np.ndarray) -> np.ndarray:
        per = np.bincount(group[mask], minlength=n_groups).astype(np.float64)
        return np.append(per, per.sum())

    out = {"agreement": (count(pred == true), count(np.ones_like(pred, dtype=bool)))}
    out["selection_rate"] = (count(pred == 1), out["agreement"][1])
    out["false_positive_rate"] = (count((pred == 1) & (true == 0)), count(true == 0))
    out["false_negative_rate"] = (count((pred == 0) & (true == 1)), count(true == 1))
    return out


def metric_table(
    reference: ReferenceLabels,
    rater_group: np.ndarray,
    rater_codes: np.ndarray,
    *,
    n_groups: int,
    shown: np.ndarray,
) -> dict[str, dict[str, np.ndarray | float | None]]:
    """MetricFrame-style figures by group.

    Parameters
    ----------
    reference : ReferenceLabels
    rater_group : ndarray of int64, shape (n_raters,)
    rater_codes : ndarray of int64, shape (n_ratings,)
    n_groups : int
    shown : ndarray of bool, shape (n_groups,)
        Groups whose figures may be shown (difference and ratio run over these only).

    Returns
    -------
    dict
        Per metric: ``by_group`` (rate per group, NaN when hidden or empty), ``n``,
        ``successes`` (per group), ``overall``, ``difference`` (max - min over shown
        groups), ``ratio`` (min / max), and Wilson 95% bounds ``ci_low``/``ci_high`` per
        group (ratings taken as independent).
    """
    has = reference.y_true >= 0
    group = rater_group[rater_codes[has]]
    rates = _rates(reference.y_pred[has], reference.y_true[has], group, n_groups)
    names = METRICS if reference.binary else METRICS[:1]
    out: dict[str, dict[str, np.ndarray | float | None]] = {}
    for name in names:
        num, den = rates[name]
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
        low, high = wilson_interval(num.astype(np.int64), den.astype(np.int64))
        by_group = np.where(shown, rate[:-1], np.nan)
        finite = by_group[np.isfinite(by_group)]
        hi = float(finite.max()) if finite.size else None
        lo = float(finite.min()) if finite.size else None
        out[name] = {
            "by_group": by_group,
            "n": den[:-1],
            "successes": num[:-1],
            "ci_low": np.where(shown, low[:-1], np.nan),
            "ci_high": np.where(shown, high[:-1], np.nan),
            "overall": float(rate[-1]) if np.isfinite(rate[-1]) else None,
            "difference": hi - lo if hi is not None and lo is not None else None,
            "ratio": lo / hi if hi and lo is not None else None,
        }
    return out


def reference_labels(
    table: AnnotationTable,
    *,
    gold: Any = None,
    positive: Sequence[str] | None = None,
) -> ReferenceLabels:
    """Per-rating reference: the gold label of the item (``gold``: a
    :class:`~labelaudit.quality.gold.GoldLabels`), else the leave-one-out consensus.

    ``positive``: labels counted as positive; ratings and references become binary.
    """
    labels = table.label_codes
    binary = positive is not None
    if binary:
        unknown = [p for p in positive or () if p not in set(table.categories.tolist())]
        if unknown:
            raise UsageError(
                f"--positive {', '.join(unknown)}: not a label of the table; labels: "
                + ", ".join(map(str, table.categories[:20]))
            )
        is_positive = np.isin(table.categories, list(positive or ())).astype(np.int64)
        labels = is_positive[labels]
    if gold is not None:
        truth = gold.item_lookup(table.n_items)[table.item_codes]
        if binary:
            truth = np.where(truth >= 0, is_positive[np.maximum(truth, 0)], -1)
        return ReferenceLabels(labels, truth, "gold", binary)
    q = 2 if binary else table.n_categories
    truth = leave_one_out_consensus(table.item_codes, labels, q)
    return ReferenceLabels(labels, truth, "leave-one-out consensus", binary)


def reference_rows(
    table: AnnotationTable,
    people: list[Grouping],
    reference: ReferenceLabels,
    *,
    min_raters: int = 5,
    show_small_groups: bool = False,
) -> list[dict[str, Any]]:
    """MetricFrame-style JSON rows ``{"by", "metric", "reference", "overall", "by_group",
    "n_by_group", "difference", "ratio", "n_without_reference"}`` per annotator attribute;
    groups under ``min_raters`` raters get null rates unless ``show_small_groups``."""
    out = []
    for grouping in people:
        n_raters = grouping.units_per_group()
        shown = (n_raters >= min_raters) | (show_small_groups & (n_raters > 0))
        frame = metric_table(
            reference,
            grouping.codes,
            table.annotator_codes,
            n_groups=grouping.n_groups,
            shown=shown,
        )
        for metric, figures in frame.items():
            by_group = {
                name: figures["by_group"][code]  # type: ignore[index]
                for code, name in enumerate(grouping.names)
                if n_raters[code] > 0
            }
            out.append(
                {
                    "by": grouping.by,
                    "metric": metric,
                    "reference": reference.kind,
                    "overall": figures["overall"],
                    "by_group": by_group,
                    "n_by_group": {
                        name: int(figures["n"][code])  # type: ignore[index]
                        for code, name in enumerate(grouping.names)
                        if n_raters[code] > 0
                    },
                    "difference": figures["difference"],
                    "ratio": figures["ratio"],
                    "n_without_reference": reference.n_without,
                }
            )
    return out
