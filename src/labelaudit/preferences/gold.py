"""Accuracy against gold verdicts (LLMBar-style), per annotator and by the gold's slot.

accuracy = votes equal to the gold verdict / votes on items with a gold verdict (a missing
verdict counts as wrong, as an unparseable judge output would). When items were judged in
both orders, ``both_correct`` is the share of such items right in both (LLMBar's
``correct_both``); the average accuracy of the two orders is ``accuracy`` itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from labelaudit.intervals import wilson_interval
from labelaudit.preferences.position import pct, swap_pairs
from labelaudit.preferences.records import FIRST, SECOND, PreferenceTable
from labelaudit.results import clean_number

__all__ = ["GoldAccuracy", "gold_accuracy"]


@dataclass(frozen=True)
class GoldAccuracy:
    """One annotator's accuracy against the gold verdicts."""

    annotator: str
    kind: str
    n: int
    accuracy: float
    ci95: tuple[float, float]
    accuracy_gold_first: float | None
    accuracy_gold_second: float | None
    n_both_orders: int
    both_correct: float | None
    n_missing: int
    verdict: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "annotator": self.annotator,
            "kind": self.kind,
            "n": self.n,
            "accuracy": clean_number(self.accuracy),
            "ci95": clean_number(list(self.ci95)),
            "accuracy_gold_first": clean_number(self.accuracy_gold_first),
            "accuracy_gold_second": clean_number(self.accuracy_gold_second),
            "n_both_orders": self.n_both_orders,
            "both_correct": clean_number(self.both_correct),
            "n_missing": self.n_missing,
            "verdict": self.verdict,
        }


def _share(hits: np.ndarray, mask: np.ndarray, who: np.ndarray, size: int) -> np.ndarray:
    """Per annotator: hits / rows among ``mask`` (NaN where no row)."""
    n = np.bincount(who[mask], minlength=size).astype(np.float64)
    k = np.bincount(who[mask & hits], minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, k / n, np.nan)


def gold_accuracy(table: PreferenceTable) -> list[GoldAccuracy]:
    """Accuracy of each annotator on the votes that have a gold verdict.

    Returns
    -------
    list of GoldAccuracy
        One entry per annotator with gold-labelled votes; empty without gold.
    """
    if table.gold is None:
        return []
    gold, choice, who = table.gold, table.choice, table.annotator_codes
    size = table.n_annotators
    has = gold >= 0
    correct = has & (choice == gold)
    n = np.bincount(who[has], minlength=size)
    k = np.bincount(who[correct], minlength=size)
    missing = np.bincount(who[has & (choice < 0)], minlength=size)
    by_first = _share(correct, has & (gold == FIRST), who, size)
    by_second = _share(correct, has & (gold == SECOND), who, size)
    straight, swapped = swap_pairs(table, np.flatnonzero(has & table.order_known))
    both = correct[straight] & correct[swapped]
    n_pairs = np.bincount(who[straight], minlength=size)
    k_pairs = np.bincount(who[straight][both], minlength=size)
    low, high = wilson_interval(k, n)
    out = []
    for a in np.flatnonzero(n > 0):
        name = str(table.annotators[a])
        accuracy = float(k[a] / n[a])
        out.append(
            GoldAccuracy(
                name,
                str(table.annotator_kind[a]),
                int(n[a]),
                accuracy,
                (float(low[a]), float(high[a])),
                None if np.isnan(by_first[a]) else float(by_first[a]),
                None if np.isnan(by_second[a]) else float(by_second[a]),
                int(n_pairs[a]),
                float(k_pairs[a] / n_pairs[a]) if n_pairs[a] else None,
                int(missing[a]),
                f"{name}: agrees with the gold verdict on {pct(accuracy)} of {int(n[a])} votes "
                f"(95% CI {pct(float(low[a]))}-{pct(float(high[a]))})",
            )
        )
    return out
