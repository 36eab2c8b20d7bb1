"""Multi-rater chance-corrected coefficients from the item x category count matrix.

Percent agreement, Fleiss' kappa, Gwet's AC1/AC2 and Brennan-Prediger, with Gwet's (2014)
raw-ratings linearisation standard errors, exactly as R irrCAC (``pa.coeff.raw``,
``fleiss.kappa.raw``, ``gwet.ac1.raw``, ``bp.coeff.raw``) and Python irrCAC 0.4.4 compute
them.

Missing-data convention (Gwet 2014, ch. 5): observed agreement ``p_a`` is averaged over
the items with two or more ratings; category prevalence ``pi_k`` is averaged over all
items with at least one rating. Weights ``W`` (q, q) generalise every coefficient (AC1
with identity weights, AC2 otherwise).

Every ``*_value`` function also accepts ``item_weights`` of shape (B, n_items) - bootstrap
multiplicities - and then returns B values at once.

Asymmetric weights (two raters only): the count matrix forgets which rater gave which
label, so its per-item agreement uses the symmetric part (W + W')/2. The functions here
take ``pair_agreement`` (n_items,), w[label of rater 1, label of rater 2] per item, and use
it instead: the ordered definition of irrCAC's table functions (rows = rater 1), so every
coefficient of a report reads W the way Cohen's kappa does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from labelaudit.intervals import GWET_T, analytic_interval, perfect_agreement
from labelaudit.results import MetricResult

__all__ = ["GwetFamily", "ItemStats", "chance_corrected", "family_values", "item_stats"]

_PE_ONE = 1e-12


@dataclass(frozen=True)
class ItemStats:
    """Per-item sufficient statistics shared by the coefficients.

    Shapes: ``r`` (n,) ratings per item; ``pa_i`` (n,) weighted observed agreement of the
    item (0 when r < 2); ``pairable`` (n,) bool r >= 2; ``share`` (n, q) r_ik / r_i.
    """

    r: np.ndarray
    pa_i: np.ndarray
    pairable: np.ndarray
    share: np.ndarray


def item_stats(counts: np.ndarray, weights: np.ndarray) -> ItemStats:
    """Per-item statistics from counts (n, q) and weights (q, q); items need r_i >= 1."""
    given = counts
    counts = np.asarray(counts, dtype=np.float64)
    r = counts.sum(axis=1)
    weighted = counts @ weights.T  # r*_ik = sum_l w_kl r_il
    weighted -= 1.0  # in place: no (n, q) temporaries
    weighted *= counts
    agreeing = weighted.sum(axis=1)
    del weighted
    pairable = r >= 2
    denominator = np.where(pairable, r * (r - 1.0), 1.0)
    pa_i = np.where(pairable, agreeing / denominator, 0.0)
    if np.may_share_memory(counts, given):
        share = counts / r[:, None]
    else:  # the float copy is ours: divided in place
        share = np.divide(counts, r[:, None], out=counts)
    return ItemStats(r=r, pa_i=pa_i, pairable=pairable, share=share)


def ordered_stats(stats: ItemStats, pair_agreement: np.ndarray | None) -> ItemStats:
    """``stats`` with the per-item agreement of the ordered rating pair (two raters).

    ``pair_agreement`` (n_items,) holds w[k, l] for an item rated k by rater 1 (the
    table's rows) and l by rater 2; None keeps the symmetric count-matrix term.
    """
    if pair_agreement is None:
        return stats
    return replace(stats, pa_i=np.where(stats.pairable, pair_agreement, 0.0))


def _weighted_means(
    stats: ItemStats, item_weights: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """(p_a, pi) for each replicate: shapes (B,), (B, q); B = 1 without weights."""
    w = np.ones((1, stats.r.size)) if item_weights is None else np.atleast_2d(item_weights)
    with np.errstate(invalid="ignore", divide="ignore"):
        pa = (w @ stats.pa_i) / (w @ stats.pairable.astype(np.float64))
        pi = (w @ stats.share) / w.sum(axis=1)[:, None]
    return pa, pi


def _chance(name: str, pi: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Chance agreement p_e per replicate, pi of shape (B, q)."""
    q = weights.shape[0]
    if name == "percent_agreement":
        return np.zeros(pi.shape[0])
    if name == "fleiss_kappa":
        return np.einsum("bk,kl,bl->b", pi, weights, pi)
    if name == "gwet_ac":
        if q < 2:
            return np.full(pi.shape[0], np.nan)
        return weights.sum() * (pi * (1.0 - pi)).sum(axis=1) / (q * (q - 1.0))
    return np.full(pi.shape[0], weights.sum() / q**2)  # brennan_prediger


def family_values(
    counts: np.ndarray,
    weights: np.ndarray,
    item_weights: np.ndarray | None = None,
    *,
    pair_agreement: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Point values of the four coefficients, one per replicate.

    Returns ``{name: ndarray (B,)}`` for percent_agreement, fleiss_kappa, gwet_ac and
    brennan_prediger (NaN where undefined). B = 1 without ``item_weights``.
    ``pair_agreement``: see :func:`ordered_stats`.
    """
    stats = ordered_stats(item_stats(counts, weights), pair_agreement)
    pa, pi = _weighted_means(stats, item_weights)
    out = {}
    for name in GwetFamily.NAMES:
        pe = _chance(name, pi, weights)
        with np.errstate(invalid="ignore", divide="ignore"):
            value = np.where(np.abs(1.0 - pe) > _PE_ONE, (pa - pe) / (1.0 - pe), np.nan)
            value[~np.isfinite(pe)] = np.nan
        out[name] = value
    return out


class GwetFamily:
    """Names and references of the raw-ratings family computed here."""

    NAMES = ("percent_agreement", "fleiss_kappa", "gwet_ac", "brennan_prediger")


def _linearised_terms(
    name: str,
    stats: ItemStats,
    counts: np.ndarray,
    weights: np.ndarray,
    pi: np.ndarray,
    pe: float,
    value: float,
    sizes: tuple[float, float] | None = None,
) -> np.ndarray:
    """Gwet's per-item linearised terms whose spread gives the variance (irrCAC raw);
    ``sizes`` = (items, pairable items) when rows stand for several items (profiles)."""
    n, n2 = (stats.r.size, stats.pairable.sum()) if sizes is None else sizes
    q = weights.shape[0]
    if name == "percent_agreement":
        return (n / n2) * stats.pa_i
    base = (n / n2) * (stats.pa_i - pe * stats.pairable) / (1.0 - pe)
    if name == "brennan_prediger":
        return base
    if name == "fleiss_kappa":
        pi_w = (weights @ pi + weights.T @ pi) / 2.0
        pe_i = (counts @ pi_w) / stats.r
    else:  # gwet_ac
        pe_i = weights.sum() / (q * (q - 1.0)) * (counts @ (1.0 - pi)) / stats.r
    return base - 2.0 * (1.0 - value) * (pe_i - pe) / (1.0 - pe)


def chance_corrected(
    counts: np.ndarray,
    weights: np.ndarray,
    *,
    n_population: float = np.inf,
    pair_agreement: np.ndarray | None = None,
    stats: ItemStats | None = None,
    multiplicity: np.ndarray | None = None,
) -> dict[str, MetricResult]:
    """Percent agreement, Fleiss' kappa, Gwet's AC1/AC2, Brennan-Prediger with Gwet SEs.

    Parameters
    ----------
    counts : ndarray, shape (n_items, q)
        Ratings per item and category; every item has at least one rating.
    weights : ndarray, shape (q, q)
        Agreement weights (identity = unweighted).
    n_population : float
        Size of the item population for the finite-population correction (1 - n/N);
        infinite by default, as in irrCAC.
    pair_agreement : ndarray, shape (n_items,), optional
        Two raters with asymmetric weights: w[label of rater 1, label of rater 2] per
        item (:func:`ordered_stats`).
    stats : ItemStats, optional
        ``item_stats(counts, weights)`` when the caller already has it (shared with
        Conger's kappa by :func:`labelaudit.agreement.agreement_report`).
    multiplicity : ndarray, shape (n_items,), optional
        Items each row stands for (item profiles, :mod:`labelaudit.table.profiles`): every
        sum over items is weighted by it, so the result equals the one on the items
        spelled out. None: one item per row.

    Returns
    -------
    dict of MetricResult
        ``value``, ``se`` (linearisation, divisor n - 1), ``ci95`` (t with n-1 df,
        bounded to the coefficient's range: [0, 1] for percent agreement, at most 1 for
        the others), ``extra`` with ``p_a``, ``p_e``, ``p_value`` (t test of value = 0)
        and, at perfect agreement, ``ci95_exact`` and ``note``. Percent agreement adds
        ``p_value_vs_chance``: the test of p_a = p_e with Fleiss' chance agreement
        (``p_e_vs_chance``), i.e. of Fleiss' kappa = 0 (Gwet 2014, sec. 5). Undefined
        coefficients are null with a reason: no item with two ratings, or chance
        agreement equal to 1.

    References
    ----------
    Gwet, K. L. (2014). Handbook of Inter-Rater Reliability, 4th ed., ch. 5.
    Fleiss, J. L. (1971). Psychol. Bull. 76(5). Gwet, K. L. (2008). Br. J. Math. Stat.
    Psychol. 61. Brennan, R. L. & Prediger, D. J. (1981). Educ. Psychol. Meas. 41.
    """
    counts = np.asarray(counts, dtype=np.float64)
    n, q = counts.shape
    stats = ordered_stats(item_stats(counts, weights) if stats is None else stats, pair_agreement)
    if not stats.pairable.any():
        reason = "nothing pairable: no item has two or more ratings"
        return {name: MetricResult.undefined(reason) for name in GwetFamily.NAMES}
    sizes = None
    if multiplicity is not None:
        n = int(multiplicity.sum())
        sizes = (n, int(multiplicity @ stats.pairable))
    pa_arr, pi_arr = _weighted_means(stats, multiplicity)
    pa, pi = float(pa_arr[0]), pi_arr[0]
    out: dict[str, MetricResult] = {}
    for name in GwetFamily.NAMES:
        if name == "gwet_ac" and q < 2:
            out[name] = MetricResult.undefined("only one category: Gwet's AC needs q >= 2")
            continue
        pe = float(_chance(name, pi_arr, weights)[0])
        if abs(1.0 - pe) <= _PE_ONE:
            out[name] = MetricResult.undefined(
                "only one category used: chance agreement is 1", p_a=pa, p_e=pe
            )
            continue
        value = (pa - pe) / (1.0 - pe)
        terms = _linearised_terms(name, stats, counts, weights, pi, pe, value, sizes)
        lower = 0.0 if name == "percent_agreement" else -math.inf
        out[name] = _with_se(
            value,
            terms,
            (n, int(stats.pairable.sum()) if sizes is None else sizes[1]),
            n_population,
            pa,
            pe,
            lower=lower,
            multiplicity=multiplicity,
        )
    return _versus_chance(out)


def _versus_chance(out: dict[str, MetricResult]) -> dict[str, MetricResult]:
    """Percent agreement with the test of p_a = p_e (Fleiss' chance agreement)."""
    fleiss, percent = out.get("fleiss_kappa"), out["percent_agreement"]
    if percent.value is None or fleiss is None or fleiss.value is None:
        return out
    extra = dict(percent.extra)
    extra["p_value_vs_chance"] = fleiss.extra.get("p_value", float("nan"))
    extra["p_e_vs_chance"] = fleiss.extra["p_e"]
    out["percent_agreement"] = replace(percent, extra=extra)
    return out


def _with_se(
    value: float,
    terms: np.ndarray,
    sizes: tuple[int, int],
    n_population: float,
    pa: float,
    pe: float,
    *,
    lower: float = -math.inf,
    multiplicity: np.ndarray | None = None,
) -> MetricResult:
    """Gwet's (2014) variance sum (terms - value)^2 / (n (n - 1)) over the n items,
    t interval with n - 1 df; ``sizes`` = (n items, n pairable items); ``multiplicity``
    (rows,): items per row of ``terms`` (profiles), None = one."""
    n, n_pairable = sizes
    exact = perfect_agreement(pa, pe, n_pairable)
    if n < 2:
        extra = {"p_a": pa, "p_e": pe} | exact
        return MetricResult(value, reason="one item: no standard error", extra=extra)
    f = n / n_population
    spread = (terms - value) ** 2
    total = spread.sum() if multiplicity is None else multiplicity @ spread
    se = float(np.sqrt((1.0 - f) / (n * (n - 1.0)) * total))
    ci, method, p = analytic_interval(value, se, source=GWET_T, df=n - 1, lower=lower)
    extra = {"p_a": pa, "p_e": pe, "p_value": p} | exact
    return MetricResult(value, se=se, ci95=ci, ci_method=method, extra=extra)
