"""Sample sizes for kappa studies (binary or 3-5 categories): hypothesis tests, CI limits.

Two families, each reproducing its reference implementation to the integer:

- **Goodness-of-fit approach** (Donner & Eliasziw 1992; extended to 2-6 raters by Altaye,
  Donner & Klar 2001, Donner & Rotondi 2010, Rotondi & Donner 2012; R package kappaSize
  1.2). Under the common-correlation model an item rated by ``m`` raters has ``j``
  positive ratings with probability ``P_j(k) = (1 - k) C(m, j) p^j (1 - p)^(m - j) +
  k p [j = m] + k (1 - p) [j = 0]``. The chi-square distance
  ``D(a, b) = sum_j (P_j(a) - P_j(b))^2 / P_j(b)`` of two kappas drives three questions:

  * :func:`power_items` (``PowerBinary``): items to reject kappa0 in favour of kappa1,
    ``n = lambda / D(kappa1, kappa0)`` with ``lambda`` the non-centrality that gives a
    1-df chi-square test of level alpha the wanted power.
  * :func:`ci_items` (``CIBinary``): the smallest n whose expected confidence limits reach
    ``kappa_lower`` (and ``kappa_upper``): ``n D(kappa0, limit) >= chi2_{1-2 alpha}(1)``
    one-sided, ``chi2_{1-alpha}(1)`` two-sided.
  * :func:`fixed_n_lower` (``FixedNBinary``): the expected lower limit for a given n.

  With 3-5 categories (a sequence of shares as the prevalence) the cells are "all raters
  chose category i" and "they disagree" (:func:`category_rating_probabilities`), as in
  kappaSize's ``Power3Cats`` ... ``FixedN5Cats``.

- **Asymptotic-variance approach** (Cantor 1996; R package irr, ``N.cohen.kappa``):
  :func:`cantor_items` for two raters with their own positive rates,
  ``n = ((z_{1-alpha/d} sqrt(Q0) + z_power sqrt(Q1)) / (kappa1 - kappa0))^2`` with Q the
  Fleiss-Cohen-Everitt large-sample variance of kappa under each hypothesis.

kappaSize's numerical details are kept so the integers agree: its search stops when the
statistic exceeds the critical value by 0.001 (``abs(stat - 0.001) < crit`` continues),
starts at n = 11, steps kappaL down by 0.001, and finds lambda by its bisection
(stopping when the chi-square CDF is within 1e-5 of 1 - power).

References
----------
Altaye, M., Donner, A. & Klar, N. (2001). Procedures for assessing interobserver agreement
among multiple raters. Biometrics 57, 584-588.
Bartfay, E. & Donner, A. (2001). Statistical inferences for interobserver agreement
studies with nominal outcome data. The Statistician 50, 135-146.
Cantor, A. B. (1996). Sample-size calculation for Cohen's kappa. Psychological Methods 1,
150-153.
Donner, A. & Eliasziw, M. (1992). A goodness-of-fit approach to inference procedures for
the kappa statistic: confidence interval construction, significance-testing and sample
size estimation. Statistics in Medicine 11, 1511-1519.
Donner, A. & Rotondi, M. A. (2010). Sample size requirements for interval estimation of
the kappa statistic for interobserver agreement studies with a binary outcome and multiple
raters. International Journal of Biostatistics 6, 31.
Rotondi, M. A. & Donner, A. (2012). A confidence interval approach to sample size
estimation for interobserver agreement studies with multiple raters and outcomes. Journal
of Clinical Epidemiology 65, 778-784.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import special, stats

from labelaudit.distributions import norm_ppf
from labelaudit.exceptions import UsageError
from labelaudit.plans._result import PlanResult, records_frame

__all__ = [
    "KAPPA_METHODS",
    "KappaPlan",
    "binary_rating_probabilities",
    "cantor_items",
    "category_rating_probabilities",
    "ci_items",
    "fixed_n_lower",
    "plan_kappa",
    "power_items",
]

KAPPA_METHODS = ("power", "ci", "fixed-n", "cantor")
_STEP = 0.001  # kappaSize's step of kappaL and its margin over the critical value
_RATERS = range(2, 7)
#: A binary trait's prevalence, or the shares of 3-5 categories (summing to 1).
Prevalence = float | Sequence[float] | np.ndarray


def binary_rating_probabilities(kappa: npt.ArrayLike, prevalence: float, raters: int) -> np.ndarray:
    """``P_j``, j = 0..raters: probability that ``j`` of ``raters`` ratings are positive
    under the common-correlation model (Altaye, Donner & Klar 2001, eq. 1), shape
    ``kappa.shape + (raters + 1,)``. For two raters: ``(1-p)^2 + k p (1-p), 2 (1-k) p
    (1-p), p^2 + k p (1-p)``.
    """
    k = np.asarray(kappa, dtype=np.float64)[..., None]
    j = np.arange(raters + 1)
    p = prevalence
    binomial = special.comb(raters, j) * p**j * (1.0 - p) ** (raters - j)
    clear = np.where(j == 0, 1.0 - p, 0.0) + np.where(j == raters, p, 0.0)
    return np.asarray((1.0 - k) * binomial + k * clear, dtype=np.float64)


def category_rating_probabilities(
    kappa: npt.ArrayLike, prevalence: npt.ArrayLike, raters: int
) -> np.ndarray:
    """Cells of the 3-5 category outcome (kappaSize's ``CI3Cats`` ... ``Power5Cats``):
    ``[1 - sum_i P_i, P_1, ..., P_q]`` with ``P_i`` the probability that all ``raters``
    ratings are category ``i``, ``P_i = p_i prod_{j=1}^{m-1} (p_i (1-k) + j k) /
    prod_{j=1}^{m-1} (1 + (j-1) k)`` (a Dirichlet-multinomial form of kappaSize's expanded
    polynomials, which cite Bartfay & Donner 2001; for two raters ``p_i (p_i + k (1 -
    p_i))``). Shape ``kappa.shape + (q + 1,)``.
    """
    k = np.asarray(kappa, dtype=np.float64)[..., None, None]
    pi = np.asarray(prevalence, dtype=np.float64)[:, None]
    j = np.arange(1, raters)
    numerator = np.prod(pi * (1.0 - k) + j * k, axis=-1)
    denominator = np.prod(1.0 + (j - 1) * k, axis=-1)
    agree = pi[:, 0] * numerator / denominator
    return np.concatenate([1.0 - agree.sum(axis=-1, keepdims=True), agree], axis=-1)


def _cells(kappa: npt.ArrayLike, prevalence: Prevalence, raters: int) -> np.ndarray:
    """Binary rating patterns for a scalar prevalence, 3-5 category cells otherwise."""
    if isinstance(prevalence, float):
        return binary_rating_probabilities(kappa, prevalence, raters)
    return category_rating_probabilities(kappa, prevalence, raters)


def _distance(a: float, b: float, prevalence: Prevalence, raters: int) -> float:
    """kappaSize's ``sum_j (P_j(a) - P_j(b))^2 / P_j(b)`` (per item; ``nan`` terms dropped)."""
    pa = _cells(a, prevalence, raters)
    pb = _cells(b, prevalence, raters)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = (pa - pb) ** 2 / pb
    return float(np.nansum(terms))


def _powchi(alpha: float, power: float) -> float:
    """kappaSize's ``.powchi(1, alpha, power)``: the non-centrality ``lambda`` with
    ``P(chi2_1(lambda) <= chi2_{1-alpha}(1)) = 1 - power``, by its bisection (tolerance
    1e-5 on the CDF, kept so sample sizes agree to the integer)."""
    crit = float(stats.chi2.ppf(1.0 - alpha, 1))
    target = 1.0 - power

    def cdf(nc: float) -> float:
        return float(stats.ncx2.cdf(crit, 1, nc))

    low, mid, high = crit, 2.0 * crit, 3.0 * crit
    while cdf(low) < target:
        low, mid, high = low / 4.0, low, high
    while cdf(high) > target:
        high, mid = high + crit, high
    while True:  # R's loop updates once before it tests the tolerance
        if cdf(mid) < target:
            mid, high = (low + mid) / 2.0, mid
        else:
            low, mid = mid, (mid + high) / 2.0
        if abs(cdf(mid) - target) <= 1e-5:
            return mid


def power_items(
    kappa0: float,
    kappa1: float,
    prevalence: Prevalence,
    *,
    raters: int = 2,
    alpha: float = 0.05,
    power: float = 0.8,
) -> int:
    """Items to test H0: kappa = kappa0 against kappa = kappa1 (two-sided level ``alpha``,
    ``power``) with ``raters`` raters and a binary trait of ``prevalence``.

    Donner & Eliasziw (1992) goodness-of-fit approach, ``n = lambda / D(kappa1, kappa0)``;
    kappaSize ``PowerBinary`` (which prints ``ceiling(N)``). Example: kappa0 = 0.4,
    kappa1 = 0.6, prevalence 0.3, alpha 0.05, power 0.8 -> 191 items.
    """
    prevalence = _check_design(kappa0, prevalence, raters, kappa1=kappa1, alpha=alpha, power=power)
    n = _powchi(alpha, power) / _distance(kappa1, kappa0, prevalence, raters)
    return int(np.ceil(n))


def _ci_one(kappa0: float, limit: float, prevalence: Prevalence, raters: int, crit: float) -> int:
    """Smallest n >= 11 with ``|n D(kappa0, limit) - 0.001| >= crit`` (kappaSize's loop):
    11 itself, or the integers next to ``(crit + 0.001) / D`` (the statistic is n D)."""
    d = _distance(kappa0, limit, prevalence, raters)
    if not d > 0:
        raise UsageError("the confidence limit equals kappa0: no sample size reaches it")
    first = max(11, int(np.floor((crit + _STEP) / d)) - 1)
    ns = np.r_[11.0, np.arange(first, first + 4, dtype=np.float64)]
    p0 = _cells(kappa0, prevalence, raters)
    p1 = _cells(limit, prevalence, raters)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = np.nansum((ns[:, None] * p0 - ns[:, None] * p1) ** 2 / (ns[:, None] * p1), axis=1)
    stat = np.where(np.isfinite(stat), stat, 0.0)
    return int(ns[np.argmax(np.abs(stat - _STEP) >= crit)])


def ci_items(
    kappa0: float,
    kappa_lower: float,
    prevalence: Prevalence,
    *,
    kappa_upper: float | None = None,
    raters: int = 2,
    alpha: float = 0.05,
) -> int:
    """Items for an expected ``1 - alpha`` confidence interval of kappa whose lower limit is
    at least ``kappa_lower`` (and, if given, whose upper limit is at most ``kappa_upper``).

    Donner & Eliasziw (1992) goodness-of-fit limits as sample-size targets (Donner &
    Rotondi 2010; Rotondi & Donner 2012); kappaSize ``CIBinary``. One-sided (no upper
    limit) uses ``chi2_{1-2 alpha}(1)``, two-sided ``chi2_{1-alpha}(1)``. Example: kappa0
    = 0.4, limits 0.3 and 0.5, prevalence 0.3 -> 397 items.
    """
    prevalence = _check_design(kappa0, prevalence, raters, alpha=alpha)
    _check_kappa("--lower", kappa_lower)
    if kappa_lower >= kappa0:
        raise UsageError(f"--lower must be below --kappa0; got {kappa_lower} >= {kappa0}")
    if kappa_upper is None:
        crit = float(stats.chi2.ppf(1.0 - 2.0 * alpha, 1))
        return _ci_one(kappa0, kappa_lower, prevalence, raters, crit)
    _check_kappa("--upper", kappa_upper)
    if kappa_upper <= kappa0:
        raise UsageError(f"--upper must be above --kappa0; got {kappa_upper} <= {kappa0}")
    crit = float(stats.chi2.ppf(1.0 - alpha, 1))
    return max(
        _ci_one(kappa0, kappa_lower, prevalence, raters, crit),
        _ci_one(kappa0, kappa_upper, prevalence, raters, crit),
    )


def fixed_n_lower(
    kappa0: float, items: int, prevalence: Prevalence, *, raters: int = 2, alpha: float = 0.05
) -> float | None:
    """Expected one-sided ``1 - alpha`` lower confidence limit of kappa with ``items`` items.

    kappaSize ``FixedNBinary``: kappaL steps down from kappa0 by 0.001 until ``items x
    D(kappa0, kappaL)`` exceeds ``chi2_{1-2 alpha}(1)`` (plus its 0.001 margin). Example:
    kappa0 = 0.7, 100 items, prevalence 0.5, 4 raters -> 0.61 (rounded to the
    0.001 step, as R prints it). None if no kappaL above
    -1 is far enough (the model has no such limit).
    """
    prevalence = _check_design(kappa0, prevalence, raters, alpha=alpha)
    if items <= 10:
        raise UsageError(f"--items must be more than 10; got {items}")
    crit = float(stats.chi2.ppf(1.0 - 2.0 * alpha, 1))
    steps = int(np.ceil((kappa0 + 1.0) / _STEP))
    path = np.subtract.accumulate(np.r_[kappa0, np.full(steps, _STEP)])[1:]  # as R subtracts
    p0 = _cells(kappa0, prevalence, raters)
    rows = _cells(path, prevalence, raters)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = np.nansum((items * p0 - items * rows) ** 2 / (items * rows), axis=1)
    reached = np.abs(stat - _STEP) >= crit
    return round(float(path[np.argmax(reached)]), 3) if reached.any() else None


def cantor_items(
    rate1: float,
    rate2: float,
    kappa1: float,
    kappa0: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    two_sided: bool = False,
) -> int:
    """Items to test H0: kappa = kappa0 against kappa = kappa1 for two raters whose
    positive rates are ``rate1`` and ``rate2`` (Cantor 1996; irr ``N.cohen.kappa``, same
    argument order).

    ``n = ((z_{1-alpha/d} sqrt(Q0) + z_power sqrt(Q1)) / (kappa1 - kappa0))^2``, d = 2 if
    ``two_sided``; Q is ``n Var(kappa-hat)`` (Fleiss, Cohen & Everitt 1969) at the 2 x 2
    table with the given margins and kappa. Example: ``cantor_items(0.5, 0.5, 0.7, 0.85)``
    -> 96 (irr's documented example).
    """
    for name, rate in (("--prevalence", rate1), ("--prevalence2", rate2)):
        _check_unit(name, rate)
    _check_kappa("--kappa0", kappa0)
    _check_kappa("--kappa1", kappa1)
    _check_unit("--alpha", alpha)
    _check_unit("--power", power)
    if kappa1 == kappa0:
        raise UsageError(f"--kappa1 must differ from --kappa0; both are {kappa0}")
    q0, q1 = _cantor_q(rate1, rate2, kappa0), _cantor_q(rate1, rate2, kappa1)
    za = float(norm_ppf(1.0 - alpha / (2.0 if two_sided else 1.0)))
    zb = float(norm_ppf(power))
    n = ((za * np.sqrt(q0) + zb * np.sqrt(q1)) / (kappa1 - kappa0)) ** 2
    return int(np.ceil(n))


def _cantor_q(rate1: float, rate2: float, kappa: float) -> float:
    """Cantor's Q: ``n Var(kappa-hat)`` at the 2 x 2 table with margins rate1, rate2."""
    q1, q2 = 1.0 - rate1, 1.0 - rate2
    pe = rate1 * rate2 + q1 * q2
    p0 = kappa * (1.0 - pe) + pe
    p22 = (p0 - rate1 + q2) / 2.0
    p11 = p0 - p22
    p12, p21 = rate1 - p11, rate2 - p11
    if min(p11, p22, p12, p21) < 0:
        raise UsageError(
            f"kappa {kappa} is impossible with positive rates {rate1} and {rate2} "
            "(a cell of the 2 x 2 table would be negative)"
        )
    q = (1.0 - pe) ** -4 * (
        p11 * (1.0 - pe - (rate2 + rate1) * (1.0 - p0)) ** 2
        + p22 * (1.0 - pe - (q2 + q1) * (1.0 - p0)) ** 2
        + (1.0 - p0) ** 2 * (p12 * (rate2 + q1) ** 2 + p21 * (q2 + rate1) ** 2)
        - (p0 * pe - 2.0 * pe + p0) ** 2
    )
    return float(q)


def _check_unit(name: str, value: float) -> None:
    if not 0.0 < value < 1.0:
        raise UsageError(f"{name} must lie strictly between 0 and 1; got {value}")


def _check_kappa(name: str, value: float) -> None:
    if not -1.0 < value < 1.0:
        raise UsageError(f"{name} must lie strictly between -1 and 1; got {value}")


def _shares(prevalence: Prevalence) -> float | np.ndarray:
    """A binary prevalence as a float (two shares: the first, as kappaSize), or 3-5 shares."""
    if np.ndim(prevalence) == 0:
        value = float(prevalence)  # type: ignore[arg-type]
        _check_unit("--prevalence", value)
        return value
    pi = np.asarray(prevalence, dtype=np.float64)
    if not 2 <= pi.size <= 5 or not ((pi > 0) & (pi < 1)).all():
        raise UsageError(f"--prevalence needs one share or 2-5 shares in (0, 1); got {pi.tolist()}")
    if abs(pi.sum() - 1.0) > 1e-6:
        raise UsageError(f"--prevalence must sum to 1; got {pi.tolist()} (sum {pi.sum():.6g})")
    return float(pi[0]) if pi.size == 2 else pi


def _check_design(
    kappa0: float,
    prevalence: Prevalence,
    raters: int,
    *,
    kappa1: float | None = None,
    alpha: float = 0.05,
    power: float | None = None,
) -> float | np.ndarray:
    """Inputs of the goodness-of-fit functions: kappas in (-1, 1) with a valid model,
    prevalence (one share, or 2-5 summing to 1), alpha and power in (0, 1), 2-6 raters,
    kappa1 != kappa0. Returns the prevalence as :func:`_cells` takes it."""
    shares = _shares(prevalence)
    _check_unit("--alpha", alpha)
    if power is not None:
        _check_unit("--power", power)
        if power <= alpha:
            raise UsageError(f"--power must exceed --alpha; got {power} <= {alpha}")
    if raters not in _RATERS:
        raise UsageError(f"--raters must be between 2 and 6; got {raters}")
    for name, kappa in (("--kappa0", kappa0), ("--kappa1", kappa1)):
        if kappa is None:
            continue
        _check_kappa(name, kappa)
        if (_cells(kappa, shares, raters) <= 0).any():
            raise UsageError(
                f"{name} {kappa} is impossible for {raters} raters at prevalence {prevalence} "
                "(a rating pattern would have probability <= 0)"
            )
    if kappa1 is not None and kappa1 == kappa0:
        raise UsageError(f"--kappa1 must differ from --kappa0; both are {kappa0}")
    return shares


@dataclass(frozen=True)
class KappaPlan(PlanResult):
    """Result of :func:`plan_kappa`: the answer for the raters asked, and the same question
    for 2-6 raters (``by_raters``; Cantor's method has two raters only)."""

    method: str
    inputs: dict[str, Any]
    items: int | None
    kappa_lower: float | None
    by_raters: list[dict[str, Any]]
    reference: str

    def to_dict(self) -> dict[str, Any]:
        """``{"method", "inputs", "items", "kappa_lower", "by_raters": [{"raters", "items",
        "kappa_lower"}], "reference"}`` (``items`` None for fixed-n, ``kappa_lower`` None
        otherwise)."""
        return {
            "method": self.method,
            "inputs": dict(self.inputs),
            "items": self.items,
            "kappa_lower": self.kappa_lower,
            "by_raters": [dict(row) for row in self.by_raters],
            "reference": self.reference,
        }

    def to_pandas(self) -> Any:
        """The answer per number of raters as a DataFrame."""
        return records_frame(self.by_raters)


def _answer(method: str, m: int, inputs: dict[str, Any], prevalence: Prevalence) -> dict[str, Any]:
    """One row of :func:`plan_kappa` for ``m`` raters from its echoed ``inputs``."""
    row: dict[str, Any] = {"raters": m, "items": None, "kappa_lower": None}
    k0, alpha = inputs["kappa0"], inputs["alpha"]
    if method == "power":
        row["items"] = power_items(
            k0, inputs["kappa1"], prevalence, raters=m, alpha=alpha, power=inputs["power"]
        )
    elif method == "ci":
        row["items"] = ci_items(
            k0, inputs["lower"], prevalence, kappa_upper=inputs["upper"], raters=m, alpha=alpha
        )
    elif method == "fixed-n":
        row["kappa_lower"] = fixed_n_lower(k0, inputs["items"], prevalence, raters=m, alpha=alpha)
    else:
        row["items"] = cantor_items(
            inputs["prevalence"],
            inputs["prevalence2"],
            inputs["kappa1"],
            k0,
            alpha=alpha,
            power=inputs["power"],
            two_sided=inputs["two_sided"],
        )
    return row


def _other(method: str, m: int, inputs: dict[str, Any], prevalence: Prevalence) -> dict[str, Any]:
    """The answer for ``m`` raters; an empty row when the model has no such design (a
    negative kappa impossible for that many raters)."""
    try:
        return _answer(method, m, inputs, prevalence)
    except UsageError:
        return {"raters": m, "items": None, "kappa_lower": None}


_KAPPA_REFERENCES = {
    "power": "Donner & Eliasziw (1992) goodness-of-fit test; kappaSize PowerBinary",
    "ci": "Donner & Eliasziw (1992) confidence limits; kappaSize CIBinary",
    "fixed-n": "Donner & Eliasziw (1992) expected lower limit; kappaSize FixedNBinary",
    "cantor": "Cantor (1996) asymptotic variance; irr N.cohen.kappa",
}


def _shown(prevalence: Prevalence) -> float | list[float]:
    """The prevalence as the JSON echoes it: a number, or the list of shares."""
    if np.ndim(prevalence) == 0:
        return float(prevalence)  # type: ignore[arg-type]
    return [float(p) for p in np.asarray(prevalence, dtype=np.float64)]


def plan_kappa(
    method: str,
    kappa0: float,
    prevalence: Prevalence,
    *,
    kappa1: float | None = None,
    lower: float | None = None,
    upper: float | None = None,
    items: int | None = None,
    raters: int = 2,
    alpha: float = 0.05,
    power: float = 0.8,
    prevalence2: float | None = None,
    two_sided: bool = False,
) -> KappaPlan:
    """Items needed for a kappa study with a binary outcome (or, for ``fixed-n``, the
    expected lower limit that ``items`` give).

    Parameters
    ----------
    method : {"power", "ci", "fixed-n", "cantor"}
        :func:`power_items`, :func:`ci_items`, :func:`fixed_n_lower` or :func:`cantor_items`.
    kappa0 : float
        Null (power, cantor) or anticipated (ci, fixed-n) kappa, in (-1, 1).
    prevalence : float or sequence of float
        Share of positive ratings (cantor: rater 1's positive rate), in (0, 1), or the
        shares of 3-5 categories summing to 1 (power, ci, fixed-n; kappaSize's
        ``Power3Cats`` ... ``FixedN5Cats``).
    kappa1, lower, upper, items
        Alternative kappa (power, cantor); limits of the interval (ci: lower required,
        upper for a two-sided interval); items available (fixed-n).
    raters : int
        2-6 (goodness-of-fit methods); cantor is for two raters.
    alpha, power, prevalence2, two_sided
        Type I error, power, rater 2's positive rate (cantor, default = prevalence) and
        whether cantor's test is two-sided (kappaSize's power test is two-sided).

    Raises
    ------
    UsageError
        Unknown method, a missing input of the method, or a value out of range.
    """
    if method not in KAPPA_METHODS:
        raise UsageError(f"--method must be one of {', '.join(KAPPA_METHODS)}; got {method!r}")
    needed = {"power": ("--kappa1", kappa1), "cantor": ("--kappa1", kappa1)}
    needed |= {"ci": ("--lower", lower), "fixed-n": ("--items", items)}
    name, value = needed[method]
    if value is None:
        raise UsageError(f"--method {method} needs {name}")
    shown = _shown(prevalence)
    inputs: dict[str, Any] = {"kappa0": kappa0, "prevalence": shown, "raters": raters}
    inputs["alpha"] = alpha
    if method == "cantor":
        if raters != 2:
            raise UsageError(f"--method cantor is for two raters; got --raters {raters}")
        if not isinstance(shown, float):
            raise UsageError(f"--method cantor takes one positive rate; got --prevalence {shown}")
        inputs |= {"kappa1": kappa1, "power": power, "two_sided": two_sided}
        inputs["prevalence2"] = shown if prevalence2 is None else prevalence2
    elif method == "power":
        inputs |= {"kappa1": kappa1, "power": power}
    elif method == "ci":
        inputs |= {"lower": lower, "upper": upper}
    else:
        inputs["items"] = items
    main = _answer(method, raters, inputs, prevalence)
    others = (
        [main]
        if method == "cantor"
        else [main if m == raters else _other(method, m, inputs, prevalence) for m in _RATERS]
    )
    return KappaPlan(
        method=method,
        inputs=inputs,
        items=main["items"],
        kappa_lower=main["kappa_lower"],
        by_raters=others,
        reference=_KAPPA_REFERENCES[method],
    )
