"""Length (verbosity) bias: does the longer response win more often than it should?

Length = characters of the final response.

- **P(prefer longer)** (AlpacaEval's evaluator leaderboard): among decisive votes on two
  responses of different length, the share won by the longer one; Wilson 95% interval and
  an exact two-sided binomial test against 0.5, overall and per annotator (Holm-adjusted).
- **Logistic regression** of the slot-1 win on the standardised length difference
  ``z = (len_first - len_second) / s`` over decisive votes with known lengths, where ``s``
  is the root mean square of the difference (so the scale does not depend on which
  response the source put first)::

      logit P(first wins) = a * [order known] + b * z

  ``b`` is the log-odds change per standard length difference (Wald SE and CI from the
  observed information, Newton-IRLS); ``a`` absorbs position bias on votes with a known
  order and is dropped where the orientation is only the source's (DPO chosen/rejected).
- **By length difference** (the length-bias curve): decisive votes on responses of
  different length, cut into up to five bins of the absolute difference at its quintiles;
  per bin the characters it spans, P(prefer longer) and its Wilson 95% interval.
- **Length-controlled win rate** per model, in the way of AlpacaEval 2 (Dubois et al.
  2024, ``glm_winrate.py``) but without its instruction-difficulty term and ridge
  penalty: for model m over all its votes against other models (tie = 1/2),
  ``logit P(m wins) = theta + phi * tanh(delta / sd(delta))``, ``delta = len_m -
  len_other``; the LC win rate is the prediction at zero length difference,
  ``sigmoid(theta)``, with a Wald interval on ``theta``. Computed per rater group (all
  humans pooled; each judge).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from labelaudit.distributions import norm_sf
from labelaudit.intervals import Z95, wilson_interval
from labelaudit.preferences._stats import binomial_p, holm, logistic_fit
from labelaudit.preferences.position import fmt_p, pct
from labelaudit.preferences.records import FIRST, SECOND, PreferenceTable
from labelaudit.results import clean_number

__all__ = [
    "LengthBias",
    "length_bias",
    "length_by_difference",
    "length_controlled_win_rates",
    "length_logit",
]

#: Bins of the length-bias curve (quintiles of the absolute length difference).
CURVE_BINS = 5


def _sigmoid(x: float) -> float:
    return float(1.0 / (1.0 + np.exp(-x)))


@dataclass(frozen=True)
class LengthBias:
    """P(prefer longer), the logistic length coefficient and LC win rates."""

    p_prefer_longer: float | None
    ci95: tuple[float, float] | None
    n: int
    n_longer: int
    p_value: float | None
    flag: bool | None
    verdict: str
    by_annotator: list[dict[str, Any]] = field(default_factory=list)
    logistic: dict[str, Any] = field(default_factory=dict)
    length_controlled: list[dict[str, Any]] = field(default_factory=list)
    by_length_difference: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The contract's ``length_bias`` section."""
        return {
            "p_prefer_longer": clean_number(self.p_prefer_longer),
            "ci95": clean_number(list(self.ci95)) if self.ci95 else None,
            "n": self.n,
            "n_longer": self.n_longer,
            "p_value": clean_number(self.p_value),
            "flag": self.flag,
            "verdict": self.verdict,
            "by_annotator": [clean_number(r) for r in self.by_annotator],
            "logistic": clean_number(self.logistic),
            "length_controlled": [clean_number(r) for r in self.length_controlled],
            "by_length_difference": [clean_number(r) for r in self.by_length_difference],
        }


def _lengths(table: PreferenceTable) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lengths of the first and second response per vote, and the decisive-and-known mask."""
    first = table.response_length[table.first_codes]
    second = table.response_length[table.second_codes]
    decisive = (table.choice == FIRST) | (table.choice == SECOND)
    return first, second, decisive & (first >= 0) & (second >= 0)


def length_bias(
    table: PreferenceTable, *, alpha: float = 0.01, rater_groups: bool = True
) -> LengthBias:
    """P(prefer longer) overall and per annotator, the logistic model and LC win rates.

    Parameters
    ----------
    table : PreferenceTable
        Votes; responses need texts (lengths).
    alpha : float, default 0.01
        Level of the flags (Holm across annotators for the per-annotator flags).
    rater_groups : bool, default True
        Also compute LC win rates per rater group when models are known.
    """
    first, second, usable = _lengths(table)
    unequal = usable & (first != second)
    longer = unequal & (((table.choice == FIRST) & (first > second)) | (
        (table.choice == SECOND) & (second > first)
    ))  # fmt: skip
    who, size = table.annotator_codes, table.n_annotators
    n_a = np.bincount(who[unequal], minlength=size)
    k_a = np.bincount(who[longer], minlength=size)
    p_a = binomial_p(k_a, n_a)
    adjusted = holm(p_a)
    low_a, high_a = wilson_interval(k_a, n_a)
    rows = [
        {
            "annotator": str(table.annotators[a]),
            "kind": str(table.annotator_kind[a]),
            "n": int(n_a[a]),
            "p_prefer_longer": k_a[a] / n_a[a],
            "ci95": [low_a[a], high_a[a]],
            "p_value": p_a[a],
            "p_holm": adjusted[a],
            "flag": bool(adjusted[a] < alpha),
        }
        for a in np.flatnonzero(n_a > 0)
    ]
    n, k = int(unequal.sum()), int(longer.sum())
    lc = length_controlled_win_rates(table) if rater_groups and table.has_models else []
    logistic = length_logit(table)
    if n == 0:
        reason = "no decisive vote on two responses of different known length"
        return LengthBias(None, None, 0, 0, None, None, reason, rows, logistic, lc)
    curve = length_by_difference(np.abs(first - second)[unequal], longer[unequal])
    p_value = float(binomial_p(np.array([k]), np.array([n]))[0])
    low, high = (float(v) for v in wilson_interval(k, n))
    flag = p_value < alpha
    verdict = (
        f"the longer response won {pct(k / n)} of {n} decisive votes on responses of "
        f"different length (95% CI {pct(low)}-{pct(high)}, {fmt_p(p_value)}): "
        + ("a length preference" if flag else "no detectable length preference")
    )
    return LengthBias(k / n, (low, high), n, k, p_value, flag, verdict, rows, logistic, lc, curve)


def length_by_difference(
    difference: np.ndarray, longer_won: np.ndarray, bins: int = CURVE_BINS
) -> list[dict[str, Any]]:
    """P(prefer longer) per bin of the absolute length difference (the length-bias curve).

    Parameters
    ----------
    difference : ndarray of int, shape (n,)
        ``|len_first - len_second|`` in characters of each decisive vote on responses of
        different length (all > 0).
    longer_won : ndarray of bool, shape (n,)
        Whether the longer response won that vote.
    bins : int
        At most this many bins, cut at the quantiles ``k / bins`` of ``difference``
        (repeated cut points merged, so every bin holds votes).

    Returns
    -------
    list of dict
        In increasing difference: ``{"min_chars", "max_chars", "n", "n_longer",
        "p_prefer_longer", "ci95"}`` (the characters are the smallest and largest
        difference in the bin; Wilson 95% interval). O(n log n).
    """
    d = np.asarray(difference, dtype=np.int64)
    if d.size == 0:
        return []
    cuts = np.unique(np.quantile(d, np.arange(1, bins) / bins, method="higher"))
    which = np.searchsorted(cuts, d, side="left")
    size = cuts.size + 1
    n = np.bincount(which, minlength=size)
    k = np.bincount(which, weights=np.asarray(longer_won, dtype=np.float64), minlength=size)
    low_d = np.full(size, np.iinfo(np.int64).max)
    high_d = np.zeros(size, dtype=np.int64)
    np.minimum.at(low_d, which, d)
    np.maximum.at(high_d, which, d)
    low, high = wilson_interval(k, n)
    return [
        {
            "min_chars": int(low_d[b]),
            "max_chars": int(high_d[b]),
            "n": int(n[b]),
            "n_longer": int(k[b]),
            "p_prefer_longer": float(k[b] / n[b]),
            "ci95": [float(low[b]), float(high[b])],
        }
        for b in np.flatnonzero(n > 0)
    ]


def length_logit(table: PreferenceTable) -> dict[str, Any]:
    """Logistic regression of the slot-1 win on the standardised length difference.

    Returns
    -------
    dict
        ``coef`` (log-odds per standard difference), ``se``, ``ci95``, ``p_value``,
        ``odds_ratio``, ``scale_chars`` (s), ``intercept`` and ``intercept_se`` (position
        log-odds; None without known orders), ``n``, ``reason`` (None when fitted).
    """
    first, second, usable = _lengths(table)
    diff = (first - second)[usable].astype(np.float64)
    out: dict[str, Any] = {"n": int(diff.size), "coef": None, "se": None, "ci95": None}
    out.update(p_value=None, odds_ratio=None, scale_chars=None, intercept=None)
    out.update(intercept_se=None, reason=None)
    scale = float(np.sqrt(np.mean(diff**2))) if diff.size else 0.0
    if diff.size < 10 or scale == 0.0:
        out["reason"] = "fewer than 10 decisive votes with known lengths, or no length difference"
        return out
    known = table.order_known[usable].astype(np.float64)
    y = (table.choice[usable] == FIRST).astype(np.float64)
    columns = [diff / scale] if not known.any() else [known, diff / scale]
    beta, cov, ok = logistic_fit(np.column_stack(columns), y)
    if not ok:
        out["reason"] = "the logistic fit did not converge (a perfect separation by length?)"
        return out
    coef, se = float(beta[-1]), float(np.sqrt(cov[-1, -1]))
    out.update(coef=coef, se=se, ci95=[coef - Z95 * se, coef + Z95 * se])
    out.update(p_value=float(2.0 * norm_sf(abs(coef / se))), odds_ratio=np.exp(coef))
    out["scale_chars"] = scale
    if known.any():
        out.update(intercept=float(beta[0]), intercept_se=float(np.sqrt(cov[0, 0])))
    return out


def length_controlled_win_rates(table: PreferenceTable) -> list[dict[str, Any]]:
    """AlpacaEval-2-style length-controlled win rate of every model, per rater group.

    Returns
    -------
    list of dict
        ``{"raters", "models": [{"model", "n", "win_rate", "lc_win_rate", "ci95",
        "length_coef", "reason"}]}`` per rater group.
    """
    model_first = table.response_model[table.first_codes]
    model_second = table.response_model[table.second_codes]
    first, second, _ = _lengths(table)
    usable = (model_first >= 0) & (model_second >= 0) & (model_first != model_second)
    usable &= (table.choice >= 0) & (first >= 0) & (second >= 0)
    score_first = np.select([table.choice == FIRST, table.choice == SECOND], [1.0, 0.0], 0.5)
    out = []
    for raters, mask in table.rater_groups():
        rows = usable & mask
        models = [
            _lc_model(str(table.models[m]), m, rows, model_first, model_second,
                      score_first, first - second)
            for m in range(table.models.size)
        ]  # fmt: skip
        out.append({"raters": raters, "models": [m for m in models if m["n"] > 0]})
    return out


def _lc_model(
    name: str,
    model: int,
    rows: np.ndarray,
    model_first: np.ndarray,
    model_second: np.ndarray,
    score_first: np.ndarray,
    diff: np.ndarray,
) -> dict[str, Any]:
    """LC win rate of one model from the votes ``rows``."""
    as_first, as_second = rows & (model_first == model), rows & (model_second == model)
    score = np.concatenate([score_first[as_first], 1.0 - score_first[as_second]])
    delta = np.concatenate([diff[as_first], -diff[as_second]]).astype(np.float64)
    out: dict[str, Any] = {"model": name, "n": int(score.size), "win_rate": None}
    out.update(lc_win_rate=None, ci95=None, length_coef=None, reason=None)
    if score.size == 0:
        return out
    out["win_rate"] = float(score.mean())
    sd = float(delta.std())
    x = np.column_stack([np.ones(score.size), np.tanh(delta / sd)]) if sd > 0 else (
        np.ones((score.size, 1))
    )  # fmt: skip
    beta, cov, ok = logistic_fit(x, score)
    if not ok or score.size < 10:
        out["reason"] = "too few votes, or all won or all lost (the GLM has no finite fit)"
        return out
    theta, se = float(beta[0]), float(np.sqrt(cov[0, 0]))
    out.update(lc_win_rate=_sigmoid(theta), length_coef=float(beta[1]) if sd > 0 else None)
    out["ci95"] = [_sigmoid(theta - Z95 * se), _sigmoid(theta + Z95 * se)]
    return out
