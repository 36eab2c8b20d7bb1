"""Position bias: how often the first slot wins, and what happens when the order is swapped.

- **First-slot rate** = first-slot picks / decisive verdicts (ties, both-bad and missing
  excluded) among votes whose display order is known; exact two-sided binomial test
  against 0.5 (``scipy.stats.binomtest``), Wilson 95% interval. Per annotator the p-values
  are Holm-adjusted across annotators and ``flag`` is set when the adjusted p < ``alpha``
  (default 1%).
- **Both orders** (Zheng et al. 2023, Table 2; LLMBar's positional agreement): for an
  item the same annotator judged once in each order, *consistency* = same verdict after
  mapping back to the responses (tie = tie), *biased to first* / *to second* = the slot-1
  (slot-2) response chosen both times, *other* = a tie in one order only, *error* = a
  missing verdict in either order. The five shares sum to 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from labelaudit.intervals import wilson_interval
from labelaudit.preferences._stats import binomial_p, holm
from labelaudit.preferences.records import FIRST, SECOND, PreferenceTable
from labelaudit.results import clean_number

__all__ = ["BothOrders", "PositionBias", "SlotRate", "both_orders", "position_bias"]


def pct(value: float | None) -> str:
    """``0.605`` -> ``"60.5%"``; None -> ``"n/a"``."""
    return "n/a" if value is None or not np.isfinite(value) else f"{100 * value:.1f}%"


def fmt_p(value: float | None) -> str:
    """A p-value for a sentence: ``p < 0.0001`` or ``p = 0.0123``."""
    if value is None or not np.isfinite(value):
        return "p n/a"
    return "p < 0.0001" if value < 1e-4 else f"p = {value:.4f}"


@dataclass(frozen=True)
class SlotRate:
    """First-slot rate of one annotator (or of all votes, ``annotator=None``)."""

    annotator: str | None
    kind: str | None
    n: int
    n_first: int
    first_slot_rate: float | None
    ci95: tuple[float, float] | None
    p_value: float | None
    p_holm: float | None
    flag: bool | None
    reason: str | None
    verdict: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the contract's ``overall`` / ``by_annotator`` entries)."""
        out = {
            "annotator": self.annotator,
            "kind": self.kind,
            "n": self.n,
            "n_first": self.n_first,
            "first_slot_rate": clean_number(self.first_slot_rate),
            "ci95": clean_number(list(self.ci95)) if self.ci95 else None,
            "p_value": clean_number(self.p_value),
            "p_holm": clean_number(self.p_holm),
            "flag": self.flag,
            "reason": self.reason,
            "verdict": self.verdict,
        }
        if self.annotator is None:
            del out["annotator"], out["kind"], out["p_holm"]
        return out


@dataclass(frozen=True)
class BothOrders:
    """Outcome of the items one annotator judged in both presentation orders."""

    annotator: str
    kind: str
    n_items: int
    consistency: float | None
    ci95: tuple[float, float] | None
    biased_to_first: float | None
    biased_to_second: float | None
    other_inconsistent: float | None
    error: float | None
    verdict: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the contract's ``both_orders`` entries)."""
        return {
            "annotator": self.annotator,
            "kind": self.kind,
            "n_items": self.n_items,
            "consistency": clean_number(self.consistency),
            "ci95": clean_number(list(self.ci95)) if self.ci95 else None,
            "biased_to_first": clean_number(self.biased_to_first),
            "biased_to_second": clean_number(self.biased_to_second),
            "other_inconsistent": clean_number(self.other_inconsistent),
            "error": clean_number(self.error),
            "verdict": self.verdict,
        }


@dataclass(frozen=True)
class PositionBias:
    """First-slot rates overall and per annotator, and the both-orders breakdown."""

    overall: SlotRate
    by_annotator: list[SlotRate]
    both_orders: list[BothOrders]
    alpha: float

    def to_dict(self) -> dict[str, Any]:
        """``{"overall", "by_annotator", "both_orders", "alpha", "correction"}``."""
        return {
            "overall": self.overall.to_dict(),
            "by_annotator": [r.to_dict() for r in self.by_annotator],
            "both_orders": [r.to_dict() for r in self.both_orders],
            "alpha": self.alpha,
            "correction": "holm",
        }


def _slot_verdict(who: str, k: int, n: int, low: float, high: float, p: float, flag: bool) -> str:
    rate = k / n
    if not flag:
        return (
            f"{who}: no detectable position bias; the first slot won {pct(rate)} of {n} "
            f"decisive verdicts (95% CI {pct(low)}-{pct(high)})"
        )
    side = "first" if rate > 0.5 else "second"
    return (
        f"{who}: position bias toward the {side} slot; the first slot won {pct(rate)} of "
        f"{n} decisive verdicts (95% CI {pct(low)}-{pct(high)}, {fmt_p(p)})"
    )


def _slot_rate(
    name: str | None, kind: str | None, k: int, n: int, p: float, p_holm: float, alpha: float
) -> SlotRate:
    if n == 0:
        reason = "no decisive verdict with a known display order"
        return SlotRate(name, kind, 0, 0, None, None, None, None, None, reason, reason)
    low, high = (float(v) for v in wilson_interval(k, n))
    tested = p_holm if name is not None else p
    flag = bool(tested < alpha)
    verdict = _slot_verdict(name or "all votes", k, n, low, high, tested, flag)
    return SlotRate(name, kind, n, k, k / n, (low, high), p, p_holm, flag, None, verdict)


def position_bias(table: PreferenceTable, *, alpha: float = 0.01) -> PositionBias:
    """First-slot rates (overall, per annotator with Holm correction) and both-orders rates.

    Parameters
    ----------
    table : PreferenceTable
        Votes; only those with ``order_known`` count.
    alpha : float, default 0.01
        Family-wise level of the per-annotator flags (Holm across annotators); the overall
        flag uses the same level on its own test.

    Returns
    -------
    PositionBias
    """
    decisive = table.order_known & ((table.choice == FIRST) | (table.choice == SECOND))
    n_ann = table.n_annotators
    n = np.bincount(table.annotator_codes[decisive], minlength=n_ann)
    k = np.bincount(table.annotator_codes[decisive & (table.choice == FIRST)], minlength=n_ann)
    p = binomial_p(k, n)
    adjusted = holm(p)
    total_n, total_k = int(n.sum()), int(k.sum())
    total_p = float(binomial_p(np.array([total_k]), np.array([total_n]))[0])
    overall = _slot_rate(None, None, total_k, total_n, total_p, float("nan"), alpha)
    rows = [
        _slot_rate(
            str(table.annotators[a]),
            str(table.annotator_kind[a]),
            int(k[a]),
            int(n[a]),
            float(p[a]),
            float(adjusted[a]),
            alpha,
        )
        for a in np.flatnonzero(n > 0)
    ]
    return PositionBias(overall, rows, both_orders(table), alpha)


def swap_pairs(table: PreferenceTable, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of votes by one annotator on one item, one in each display order.

    Parameters
    ----------
    rows : ndarray of int
        Candidate vote indices.

    Returns
    -------
    (straight, swapped) : ndarrays of int, same length
        Vote indices with ``lo`` shown first and with ``hi`` shown first; the first vote
        of each orientation is used when an annotator repeated one.
    """
    key = table.annotator_codes[rows] * table.n_items + table.item_codes[rows]
    oriented = key * 2 + table.swapped[rows]
    unique, first = np.unique(oriented, return_index=True)
    pair = (unique[:-1] // 2 == unique[1:] // 2) & (unique[:-1] % 2 == 0)
    starts = np.flatnonzero(pair)
    return rows[first[starts]], rows[first[starts + 1]]


def both_orders(table: PreferenceTable) -> list[BothOrders]:
    """Consistency and biased-to-first/second rates per annotator (Zheng et al. 2023).

    Returns one entry per annotator with at least one item judged in both orders.
    """
    rows = np.flatnonzero(table.order_known & (table.first_codes != table.second_codes))
    straight, swapped = swap_pairs(table, rows)
    outcome, choice = table.outcome, table.choice
    error = (outcome[straight] < 0) | (outcome[swapped] < 0)
    same = ~error & (outcome[straight] == outcome[swapped])
    first = (choice[straight] == FIRST) & (choice[swapped] == FIRST)
    second = (choice[straight] == SECOND) & (choice[swapped] == SECOND)
    other = ~(error | same | first | second)
    who = table.annotator_codes[straight]
    size = table.n_annotators
    counts = np.stack(
        [np.bincount(who[m], minlength=size) for m in (same, first, second, other, error)]
    )
    totals = counts.sum(axis=0)
    out = []
    for a in np.flatnonzero(totals > 0):
        total = int(totals[a])
        shares = counts[:, a] / total
        low, high = (float(v) for v in wilson_interval(counts[0, a], total))
        name = str(table.annotators[a])
        verdict = (
            f"{name}: same verdict in both orders on {pct(shares[0])} of {total} items; "
            f"picked the first slot both times on {pct(shares[1])}, the second on "
            f"{pct(shares[2])}"
        )
        out.append(
            BothOrders(
                name,
                str(table.annotator_kind[a]),
                total,
                float(shares[0]),
                (low, high),
                float(shares[1]),
                float(shares[2]),
                float(shares[3]),
                float(shares[4]),
                verdict,
            )
        )
    return out
