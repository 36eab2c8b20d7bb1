"""Gold allocation: how many gold questions detect an annotator whose accuracy dropped.

Fixed sample (exact binomial): an annotator answers ``n`` gold questions and is flagged
when ``r`` or more are wrong. The plan is the smallest ``n`` with ``P(flag | accuracy) <=
alpha`` and ``P(flag | detect) >= power``; it is the single sampling plan of
:mod:`labelaudit.plans.acceptance` with AQL = 1 - accuracy, LTPD = 1 - detect and
beta = 1 - power on the binomial distribution.

Sequential (Wald 1947 SPRT): after each gold answer the log likelihood ratio of "accuracy
= detect" against "accuracy = accuracy" moves by ``log(detect / accuracy)`` (right) or
``log((1 - detect) / (1 - accuracy))`` (wrong); the annotator is flagged when it reaches
``log((1 - beta) / alpha)`` and cleared when it falls to ``log(beta / (1 - alpha))``. In
errors ``e`` after ``n`` answers: flag when ``e >= h1 + s n``, clear when ``e <= -h0 + s n``.
Expected numbers of gold items are Wald's approximations
``E[N] = (L a + (1 - L) b) / E[z]`` with the OC value L (1 - alpha under the good
accuracy, beta under the bad one).

References
----------
Wald, A. (1947). Sequential Analysis. Wiley, ch. 3 and 5.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from labelaudit.exceptions import UsageError
from labelaudit.plans._result import PlanResult, records_frame

__all__ = ["GoldPlan", "plan_gold"]


@dataclass(frozen=True)
class GoldPlan(PlanResult):
    """Result of :func:`plan_gold`."""

    accuracy: float
    detect: float
    power: float
    alpha: float
    periods: int
    fixed: dict[str, Any] | None
    sprt: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """``{"accuracy", "detect", "power", "alpha", "periods", "fixed": {"n",
        "flag_at_errors", "per_period", "false_flag_rate", "power"}, "sprt": {"slope",
        "h_flag", "h_clear", "expected_n_good", "expected_n_bad", "boundaries"}}``."""
        return {
            "accuracy": self.accuracy,
            "detect": self.detect,
            "power": self.power,
            "alpha": self.alpha,
            "periods": self.periods,
            "fixed": self.fixed,
            "sprt": self.sprt,
        }

    def to_pandas(self) -> Any:
        """The SPRT decision boundaries (errors that flag / clear after n answers)."""
        return records_frame(self.sprt["boundaries"])


def _sprt(accuracy: float, detect: float, alpha: float, beta: float) -> dict[str, Any]:
    right, wrong = np.log(detect / accuracy), np.log((1 - detect) / (1 - accuracy))
    upper, lower = np.log((1 - beta) / alpha), np.log(beta / (1 - alpha))
    gap = wrong - right
    slope, h_flag, h_clear = -right / gap, upper / gap, -lower / gap
    drift = {p: (p * right + (1 - p) * wrong) for p in (accuracy, detect)}
    good = ((1 - alpha) * lower + alpha * upper) / drift[accuracy]
    bad = (beta * lower + (1 - beta) * upper) / drift[detect]
    n = np.arange(1, int(np.ceil(max(good, bad) * 3)) + 1)
    flag = np.ceil(h_flag + slope * n - 1e-12)
    clear = np.floor(-h_clear + slope * n + 1e-12)
    rows = [
        {"n": int(a), "flag_at_errors": int(f), "clear_at_errors": int(c) if c >= 0 else None}
        for a, f, c in zip(n, flag, clear, strict=True)
        if f <= a
    ]
    return {
        "slope": float(slope),
        "h_flag": float(h_flag),
        "h_clear": float(h_clear),
        "expected_n_good": float(good),
        "expected_n_bad": float(bad),
        "boundaries": rows,
    }


def plan_gold(
    accuracy: float,
    detect: float,
    *,
    power: float = 0.9,
    alpha: float = 0.05,
    periods: int = 1,
) -> GoldPlan:
    """Gold questions per annotator to detect a drop from ``accuracy`` to ``detect``.

    Parameters
    ----------
    accuracy : float
        Accuracy of a good annotator (must rarely be flagged: at most ``alpha``).
    detect : float
        Lower accuracy to detect with probability ``power``.
    power, alpha : float
    periods : int
        Periods the gold questions are spread over (``per_period`` = ceil(n / periods)).

    Returns
    -------
    GoldPlan
        ``fixed`` (exact binomial plan; None if none up to 100,000 questions) and
        ``sprt`` (Wald's sequential test and its expected numbers of gold items).

    Raises
    ------
    UsageError
        ``detect >= accuracy``, values outside (0, 1), or periods < 1.
    """
    from labelaudit.plans.acceptance import plan_review

    for name, value in (("accuracy", accuracy), ("detect", detect), ("power", power)):
        if not 0.0 < value < 1.0:
            raise UsageError(f"--{name} must lie strictly between 0 and 1; got {value}")
    if detect >= accuracy:
        raise UsageError(f"--detect must be below --accuracy; got {detect} >= {accuracy}")
    if periods < 1:
        raise UsageError(f"--periods must be at least 1; got {periods}")
    review = plan_review(None, 1 - accuracy, 1 - detect, alpha=alpha, beta=1 - power)
    fixed = None
    if review.single is not None:
        s = review.single
        fixed = {
            "n": s.n,
            "flag_at_errors": s.c + 1,
            "per_period": int(np.ceil(s.n / periods)),
            "false_flag_rate": 1.0 - s.p_accept_at_aql,
            "power": 1.0 - s.p_accept_at_ltpd,
        }
    return GoldPlan(
        accuracy=accuracy,
        detect=detect,
        power=power,
        alpha=alpha,
        periods=periods,
        fixed=fixed,
        sprt=_sprt(accuracy, detect, alpha, 1 - power),
    )
