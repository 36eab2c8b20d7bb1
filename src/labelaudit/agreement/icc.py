"""Intraclass correlation coefficients: the six Shrout-Fleiss / McGraw-Wong forms.

All six forms come from four mean squares of the items x raters table, computed directly
in O(n k) (no ANOVA library, no loop over items). F tests and 95% confidence intervals
follow R ``psych::ICC`` (lmer=FALSE) and pingouin >= 0.6 ``intraclass_corr`` exactly,
including the Satterthwaite degrees of freedom for the ICC(A,.) intervals. Only complete
items are used (listwise deletion), as in both peers (notes/agreement.md, section 5.11).

References
----------
Shrout, P. E. & Fleiss, J. L. (1979). Intraclass correlations: uses in assessing rater
reliability. Psychological Bulletin 86(2), 420-428.
McGraw, K. O. & Wong, S. P. (1996). Forming inferences about some intraclass correlation
coefficients. Psychological Methods 1(1), 30-46.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from labelaudit.exceptions import InputError
from labelaudit.results import clean_number

__all__ = ["ICC_FORMS", "IccResult", "icc"]

ICC_FORMS: tuple[str, ...] = (
    "ICC(1,1)", "ICC(A,1)", "ICC(C,1)", "ICC(1,k)", "ICC(A,k)", "ICC(C,k)"
)  # fmt: skip
"""Form keys in output order (McGraw & Wong names; Shrout-Fleiss ICC(2,.) = ICC(A,.),
ICC(3,.) = ICC(C,.))."""

_ALPHA = 0.05
# Rounding noise: sums of squares below (_ULPS eps max|x|)^2 per cell, denominators below
# _ULPS eps times the scale of their terms, count as exact zeros (0/0 -> null, not garbage).
_ULPS = 64.0
_EPS = float(np.finfo(np.float64).eps)


@dataclass(frozen=True)
class IccResult:
    """The six ICC forms of one items x raters table.

    Attributes
    ----------
    forms : dict
        ``{key: {"value", "F", "df1", "df2", "p", "ci95"}}`` for every key of
        :data:`ICC_FORMS`, in that order. Undefined numbers are ``None`` (``reason`` says
        why); ``ci95`` is a ``(lower, upper)`` pair, ``df1``/``df2`` are ints.
    n_items_used : int
        Items rated by every rater (the others are dropped, listwise deletion).
    n_raters : int
        Number of raters (columns), k.
    reason : str or None
        Why some or all values are null, in plain words; ``None`` when all are defined.
    mean_squares : dict
        ``{"BMS", "WMS", "JMS", "EMS"}`` (between items, within items, between raters,
        residual); empty when fewer than 2 items or raters. Not part of ``to_dict()``.
    """

    forms: dict[str, dict[str, Any]]
    n_items_used: int
    n_raters: int
    reason: str | None = None
    mean_squares: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """``{"n_items_used", "n_raters", "reason", "forms"}``; NaN/inf become null.

        Each form is ``{"value", "F", "df1", "df2", "p", "ci95": [lower, upper]}``.
        """
        forms = {
            key: {name: clean_number(list(v) if name == "ci95" else v) for name, v in form.items()}
            for key, form in self.forms.items()
        }
        return {
            "n_items_used": self.n_items_used,
            "n_raters": self.n_raters,
            "reason": self.reason,
            "forms": forms,
        }


def icc(ratings: np.ndarray) -> IccResult:
    """Six intraclass correlations with F tests and 95% CIs.

    Parameters
    ----------
    ratings : ndarray, shape (n_items, n_raters)
        Numeric ratings, ``NaN`` = missing. Items with any missing rating are dropped.

    Returns
    -------
    IccResult
        With n complete items, k raters and the mean squares BMS (between items), WMS
        (within items, (SS_raters + SS_error) / (n (k-1))), JMS (between raters) and EMS
        (residual):

        * ICC(1,1) = (BMS - WMS) / (BMS + (k-1) WMS); ICC(1,k) = (BMS - WMS) / BMS;
          F = BMS / WMS on (n-1, n(k-1)) df.
        * ICC(C,1) = (BMS - EMS) / (BMS + (k-1) EMS); ICC(C,k) = (BMS - EMS) / BMS.
        * ICC(A,1) = (BMS - EMS) / (BMS + (k-1) EMS + k (JMS - EMS) / n);
          ICC(A,k) = (BMS - EMS) / (BMS + (JMS - EMS) / n).
        * ICC(A,.) and ICC(C,.): F = BMS / EMS on (n-1, (n-1)(k-1)) df.

        p is the upper-tail F probability. CIs are the F-based intervals of Shrout &
        Fleiss (1979) and McGraw & Wong (1996) (Satterthwaite df for ICC(A,.)).
        Fewer than 2 complete items or 2 raters make every form null; a 0/0 (e.g. all
        ratings equal) makes the affected numbers null; ``reason`` explains both.

    Raises
    ------
    InputError
        If ``ratings`` is not a 2-D numeric array or contains +-inf.

    References
    ----------
    Shrout & Fleiss (1979), Psychol. Bull. 86(2); McGraw & Wong (1996), Psychol.
    Methods 1(1).
    """
    x = _as_matrix(ratings)
    missing = np.isnan(x @ np.ones(x.shape[1])) if x.size else np.zeros(x.shape[0], bool)
    complete = x[~missing] if missing.any() else x
    n, k = complete.shape[0], x.shape[1]
    if k < 2:
        return _all_null(n, k, f"ICC needs at least 2 raters; got {k}")
    if n < 2:
        return _all_null(
            n,
            k,
            f"ICC needs at least 2 items rated by every rater; got {n} complete item(s) of "
            f"{x.shape[0]} (items with a missing rating are dropped)",
        )
    ms = _mean_squares(complete)
    forms = _forms(ms, n, k)
    return IccResult(forms, n, k, _reason(ms, forms), ms)


def _as_matrix(ratings: np.ndarray) -> np.ndarray:
    try:
        x = np.asarray(ratings, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError("ratings must be numeric", expected="floats, NaN = missing") from exc
    if x.ndim != 2:
        raise InputError(
            "ratings must be a 2-D array", expected="shape (n_items, n_raters)", actual=x.shape
        )
    if x.size and not np.isfinite(x.sum()) and np.isinf(x).any():
        raise InputError("ratings contain +-inf", hint="use NaN for a missing rating")
    return x


def _all_null(n: int, k: int, reason: str) -> IccResult:
    empty = {"value": None, "F": None, "df1": None, "df2": None, "p": None}
    forms = {key: {**empty, "ci95": (None, None)} for key in ICC_FORMS}
    return IccResult(forms, n, k, reason)


def _mean_squares(x: np.ndarray) -> dict[str, float]:
    """BMS, WMS, JMS, EMS of a complete (n, k) table; rounding noise snapped to 0.

    Row and column sums go through BLAS matrix-vector products and the residual is built
    in place (two passes over the table), so 100,000 x 5 takes a few milliseconds.
    """
    n, k = x.shape
    shift = x[0, 0]  # centring on any value keeps the sums of squares exact enough
    row = (x @ np.ones(k)) / k - shift
    col = (np.ones(n) @ x) / n - shift
    grand = float(row.mean())
    resid = x - (row + shift)[:, None]  # x - row mean
    resid -= (col - grand)[None, :]  # ... - column effect = residual
    peak = max(abs(float(x.max())), abs(float(x.min())))
    noise = x.size * (_ULPS * _EPS * peak) ** 2
    ss_items, ss_raters, ss_error = (
        s if s > noise else 0.0
        for s in (
            k * float(np.dot(row - grand, row - grand)),
            n * float(np.dot(col - grand, col - grand)),
            float(np.dot(resid.ravel(), resid.ravel())),
        )
    )
    return {
        "BMS": ss_items / (n - 1),
        "WMS": (ss_raters + ss_error) / (n * (k - 1)),
        "JMS": ss_raters / (k - 1),
        "EMS": ss_error / ((n - 1) * (k - 1)),
    }


def _div(num: float, den: float, scale: float) -> float:
    """``num / den``, NaN when ``den`` is 0 up to rounding relative to ``scale``."""
    return num / den if abs(den) > _ULPS * _EPS * scale else float("nan")


def _forms(ms: dict[str, float], n: int, k: int) -> dict[str, dict[str, Any]]:
    bms, wms, jms, ems = ms["BMS"], ms["WMS"], ms["JMS"], ms["EMS"]
    scale = bms + wms + jms + ems
    a1 = _div(bms - ems, bms + (k - 1) * ems + k * (jms - ems) / n, scale)
    values = {
        "ICC(1,1)": _div(bms - wms, bms + (k - 1) * wms, scale),
        "ICC(A,1)": a1,
        "ICC(C,1)": _div(bms - ems, bms + (k - 1) * ems, scale),
        "ICC(1,k)": _div(bms - wms, bms, scale),
        "ICC(A,k)": _div(bms - ems, bms + (jms - ems) / n, scale),
        "ICC(C,k)": _div(bms - ems, bms, scale),
    }
    f_one, f_two = _div(bms, wms, scale), _div(bms, ems, scale)
    df_one, df_two = (n - 1, n * (k - 1)), (n - 1, (n - 1) * (k - 1))
    ci_one, ci_one_k = _f_ci(f_one, *df_one, k)
    ci_cons, ci_cons_k = _f_ci(f_two, *df_two, k)
    ci_agree, ci_agree_k = _agreement_ci(ms, n, k, a1)
    tests = {"1": (f_one, df_one), "A": (f_two, df_two), "C": (f_two, df_two)}
    cis = {
        "ICC(1,1)": ci_one, "ICC(A,1)": ci_agree, "ICC(C,1)": ci_cons,
        "ICC(1,k)": ci_one_k, "ICC(A,k)": ci_agree_k, "ICC(C,k)": ci_cons_k,
    }  # fmt: skip
    forms: dict[str, dict[str, Any]] = {}
    for key in ICC_FORMS:
        f_obs, (df1, df2) = tests[key[4]]
        p = float(stats.f.sf(f_obs, df1, df2)) if np.isfinite(f_obs) else None
        forms[key] = {
            "value": clean_number(values[key]),
            "F": clean_number(f_obs),
            "df1": df1,
            "df2": df2,
            "p": p,
            "ci95": tuple(clean_number(float(b)) for b in cis[key]),
        }
    return forms


def _f_ci(f_obs: float, df1: int, df2: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Single- and average-measure CIs from an exact F interval (ICC(1,.), ICC(C,.))."""
    if not np.isfinite(f_obs):
        return np.full(2, np.nan), np.full(2, np.nan)
    upper_q = 1.0 - _ALPHA / 2.0
    bounds = f_obs * np.array(
        [1.0 / stats.f.ppf(upper_q, df1, df2), stats.f.ppf(upper_q, df2, df1)]
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        return (bounds - 1.0) / (bounds + (k - 1)), 1.0 - 1.0 / bounds


def _agreement_ci(
    ms: dict[str, float], n: int, k: int, icc_a1: float
) -> tuple[np.ndarray, np.ndarray]:
    """ICC(A,1) and ICC(A,k) CIs with Satterthwaite df (McGraw & Wong 1996, table 7)."""
    bms, jms, ems = ms["BMS"], ms["JMS"], ms["EMS"]
    nan2 = np.full(2, np.nan)
    # The Satterthwaite numerator (a fj + b)^2 is proportional to BMS^2: df 0 when BMS = 0.
    if bms <= 0.0 or ems <= 0.0 or not np.isfinite(icc_a1):
        return nan2, nan2
    fj = jms / ems
    a = k * icc_a1
    b = n * (1.0 + (k - 1) * icc_a1) - a
    v = (n - 1) * (k - 1) * (a * fj + b) ** 2 / ((n - 1) * a**2 * fj**2 + b**2)
    upper_q = 1.0 - _ALPHA / 2.0
    # psych's limits with numerator and denominator divided by the F quantile, so that
    # the huge quantiles of a small v (up to 1e305) cannot overflow.
    inv_up = 1.0 / float(stats.f.ppf(upper_q, n - 1, v))
    inv_lo = 1.0 / float(stats.f.ppf(upper_q, v, n - 1))
    c = k * jms + (k * n - k - n) * ems
    lower = n * (bms * inv_up - ems) / (c + n * bms * inv_up)
    single = np.array([lower, n * (bms - ems * inv_lo) / (c * inv_lo + n * bms)])
    average_den = 1.0 + single * (k - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        average = single * k / average_den
    return single, np.where(np.abs(average_den) > _ULPS * _EPS * k, average, np.nan)


def _reason(ms: dict[str, float], forms: dict[str, dict[str, Any]]) -> str | None:
    """Plain-language reason for the null numbers in ``forms`` (``None`` if there are none)."""
    bms, wms, ems = ms["BMS"], ms["WMS"], ms["EMS"]
    if bms == 0.0 and wms == 0.0:
        return "all ratings are equal: every mean square is 0, so every ICC is 0/0 (undefined)"
    notes = []
    if wms == 0.0:
        notes.append(
            "every rater gave each item the same rating (within-item mean square is 0): the "
            "ICCs are 1, but the F statistics are infinite, so F, p and the 95% CIs are null"
        )
    elif ems == 0.0:
        notes.append(
            "raters differ only by constant offsets (residual mean square is 0), so F = "
            "BMS/EMS is not finite and the F, p and CIs of ICC(A,.) and ICC(C,.) are null"
        )
    if bms == 0.0:
        notes.append(
            "every item has the same mean rating (between-item mean square is 0): the "
            "ICC(A,.) CIs have 0 Satterthwaite df, and the forms and limits that divide by "
            "it are 0/0 or infinite (null)"
        )
    has_null = any(
        v is None for form in forms.values() for value in form.values()
        for v in (value if isinstance(value, tuple) else (value,))
    )  # fmt: skip
    if has_null and not notes:
        notes.append("some F-test or confidence-limit terms are 0/0 for these data (null)")
    return "; ".join(notes) if notes else None
