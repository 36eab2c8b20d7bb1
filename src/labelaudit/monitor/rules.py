"""Western Electric and Nelson run rules on standardised chart values, vectorised.

The rules look for non-random patterns among points that are still inside the 3-sigma
limits. They are reported as *warnings*: applying all four Western Electric rules cuts
the in-control average run length from 370 to about 92 (Champ & Woodall 1987), so they
flag, they do not stop. Rule 1 (a point beyond 3 sigma) is the out-of-control test of the
chart itself and is not repeated here.

Input is ``z = (value - center) / sigma`` per point (for a p-chart with varying batch
sizes, the standardised ``(p_i - p_bar) / sigma_i``); NaN points are skipped and the
rules run on the remaining points in order. A violation is reported at the point that
completes the pattern.

Western Electric (1956): WE2 two of three consecutive points beyond 2 sigma on the same
side; WE3 four of five beyond 1 sigma on the same side; WE4 eight in a row on one side of
the center line.

Nelson (1984): N2 nine in a row on one side; N3 six in a row steadily increasing or
decreasing; N4 fourteen in a row alternating up and down; N5 = WE2; N6 = WE3; N7 fifteen
in a row within 1 sigma (stratification); N8 eight in a row beyond 1 sigma with points
on both sides (mixture).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from labelaudit.exceptions import UsageError

__all__ = ["RULE_SETS", "RuleViolation", "run_rules"]


@dataclass(frozen=True)
class RuleViolation:
    """One run-rule warning: ``rule`` (e.g. ``"WE2"``) completed at point ``index``."""

    rule: str
    index: int
    description: str

    def to_dict(self) -> dict[str, Any]:
        """``{"rule", "index", "description"}``."""
        return {"rule": self.rule, "index": self.index, "description": self.description}


def _window_sums(mask: np.ndarray, width: int) -> np.ndarray:
    """Number of true values in each window of ``width``; entry j covers j .. j+width-1."""
    if mask.size < width:
        return np.zeros(0, dtype=np.int64)
    counts = np.concatenate(([0], np.cumsum(mask, dtype=np.int64)))
    return counts[width:] - counts[:-width]


def _k_of_n(z: np.ndarray, k: int, n: int, beyond: float) -> np.ndarray:
    """Window ends where at least k of n consecutive points lie beyond ``beyond`` on one side."""
    upper = _window_sums(z > beyond, n) >= k
    lower = _window_sums(z < -beyond, n) >= k
    return np.flatnonzero(upper | lower) + n - 1


def _run(mask: np.ndarray, n: int) -> np.ndarray:
    """Window ends of n consecutive points where ``mask`` holds."""
    return np.flatnonzero(_window_sums(mask, n) == n) + n - 1


def _same_side(z: np.ndarray, n: int) -> np.ndarray:
    return np.union1d(_run(z > 0, n), _run(z < 0, n))


def _trend(z: np.ndarray, n: int) -> np.ndarray:
    """n points in a row steadily increasing or decreasing (n - 1 same-sign steps)."""
    step = np.diff(z)
    return np.union1d(_run(step > 0, n - 1), _run(step < 0, n - 1)) + 1


def _alternating(z: np.ndarray, n: int) -> np.ndarray:
    """n points in a row alternating up and down (n - 2 sign changes between steps)."""
    step = np.sign(np.diff(z))
    flips = step[1:] * step[:-1] < 0
    return _run(flips, n - 2) + 2


def _mixture(z: np.ndarray, n: int) -> np.ndarray:
    """n in a row beyond 1 sigma, with points on both sides."""
    outside = _run(np.abs(z) > 1, n)
    above = _window_sums(z > 1, n) > 0
    below = _window_sums(z < -1, n) > 0
    both = np.flatnonzero(above & below) + n - 1
    return np.intersect1d(outside, both)


_Rule = tuple[str, str, Callable[[np.ndarray], np.ndarray]]
_WE2: _Rule = ("WE2", "2 of 3 points beyond 2 sigma, same side", lambda z: _k_of_n(z, 2, 3, 2))
_WE3: _Rule = ("WE3", "4 of 5 points beyond 1 sigma, same side", lambda z: _k_of_n(z, 4, 5, 1))
RULE_SETS: dict[str, tuple[_Rule, ...]] = {
    "western_electric": (
        _WE2,
        _WE3,
        ("WE4", "8 points in a row on one side of the center line", lambda z: _same_side(z, 8)),
    ),
    "nelson": (
        ("N2", "9 points in a row on one side of the center line", lambda z: _same_side(z, 9)),
        ("N3", "6 points in a row steadily increasing or decreasing", lambda z: _trend(z, 6)),
        ("N4", "14 points in a row alternating up and down", lambda z: _alternating(z, 14)),
        ("N5", _WE2[1], _WE2[2]),
        ("N6", _WE3[1], _WE3[2]),
        ("N7", "15 points in a row within 1 sigma", lambda z: _run(np.abs(z) < 1, 15)),
        ("N8", "8 points in a row beyond 1 sigma, both sides", lambda z: _mixture(z, 8)),
    ),
    "none": (),
}


def run_rules(z: np.ndarray, rules: str = "western_electric") -> list[RuleViolation]:
    """Run-rule warnings for standardised values.

    Parameters
    ----------
    z : ndarray, shape (n_points,)
        Standardised values ``(x - center) / sigma``; NaN points are skipped.
    rules : {"western_electric", "nelson", "none"}
        Which rule set.

    Returns
    -------
    list of RuleViolation
        Sorted by point index, then rule.
    """
    if rules not in RULE_SETS:
        raise UsageError(f"rules must be one of {', '.join(RULE_SETS)}; got {rules!r}")
    z = np.asarray(z, dtype=np.float64)
    positions = np.flatnonzero(np.isfinite(z))
    finite = z[positions]
    found = [
        RuleViolation(rule=name, index=int(positions[end]), description=text)
        for name, text, detect in RULE_SETS[rules]
        for end in detect(finite)
    ]
    return sorted(found, key=lambda v: (v.index, v.rule))
