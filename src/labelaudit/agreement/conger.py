"""Conger's (1980) kappa: the multi-rater generalisation of Cohen's kappa.

Chance agreement uses each rater's own marginal distribution (not the pooled one, as
Fleiss' kappa does). Missing data and weights follow Gwet (2014) and R irrCAC
``conger.kappa.raw``; the standard error is Gwet's linearisation, computed here in
O(n_ratings) instead of the reference implementation's q^2 passes over an n x r matrix.
"""

from __future__ import annotations

import numpy as np

from labelaudit.agreement.chance import ItemStats, _with_se, item_stats, ordered_stats
from labelaudit.results import MetricResult

__all__ = ["conger_kappa", "conger_values"]


def _rater_category_shares(
    annotator_codes: np.ndarray,
    label_codes: np.ndarray,
    n_raters: int,
    q: int,
    rating_weights: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(p_gk (r, q) share of rater g's ratings in category k, n_g (r,) ratings per rater)."""
    table = np.bincount(
        annotator_codes * q + label_codes, weights=rating_weights, minlength=n_raters * q
    ).reshape(n_raters, q)
    per_rater = table.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return table / per_rater[:, None], per_rater


def _conger_chance(shares: np.ndarray, weights: np.ndarray) -> float:
    """p_e = sum_kl w_kl (pbar_k pbar_l - s2_kl / r) with s2 the between-rater covariance."""
    r = shares.shape[0]
    mean = shares.mean(axis=0)
    s2 = (shares.T @ shares - r * np.outer(mean, mean)) / (r - 1.0)
    return float((weights * (np.outer(mean, mean) - s2 / r)).sum())


def conger_kappa(
    counts: np.ndarray,
    item_codes: np.ndarray,
    annotator_codes: np.ndarray,
    label_codes: np.ndarray,
    n_raters: int,
    weights: np.ndarray,
    *,
    n_population: float = np.inf,
    pair_agreement: np.ndarray | None = None,
    stats: ItemStats | None = None,
    multiplicity: np.ndarray | None = None,
) -> MetricResult:
    """Conger's kappa with Gwet's (2014) SE and t-based 95% CI.

    Parameters
    ----------
    counts : ndarray, shape (n_items, q)
        Item x category counts (for observed agreement).
    item_codes, annotator_codes, label_codes : ndarray, shape (n_ratings,)
        The canonical table's codes.
    n_raters : int
        Number of raters r (columns of the units x raters matrix).
    weights : ndarray, shape (q, q)
    pair_agreement : ndarray, shape (n_items,), optional
        Two raters with asymmetric weights: the ordered per-item agreement
        (:func:`labelaudit.agreement.chance.ordered_stats`).
    stats : ItemStats, optional
        ``item_stats(counts, weights)`` when the caller already has it.
    multiplicity : ndarray, shape (n_items,), optional
        Items each row stands for (item profiles); sums over items are weighted by it.

    Returns
    -------
    MetricResult
        Null with a reason for fewer than 2 raters, nothing pairable, or p_e = 1.

    References
    ----------
    Conger, A. J. (1980). Integration and generalization of kappas for multiple raters.
    Psychol. Bull. 88(2). Gwet, K. L. (2014). Handbook of Inter-Rater Reliability, 4th ed.
    """
    n, q = counts.shape
    if n_raters < 2:
        return MetricResult.undefined("a single annotator: nothing to compare")
    stats = ordered_stats(item_stats(counts, weights) if stats is None else stats, pair_agreement)
    if not stats.pairable.any():
        return MetricResult.undefined("nothing pairable: no item has two or more ratings")
    mult = multiplicity
    if mult is None:
        pa = float(stats.pa_i[stats.pairable].mean())
        n_items, n2 = n, int(stats.pairable.sum())
    else:
        n_items, n2 = int(mult.sum()), int(mult @ stats.pairable)
        pa = float(mult @ stats.pa_i) / n2
    rating_weights = None if mult is None else mult[item_codes].astype(np.float64)
    shares, per_rater = _rater_category_shares(
        annotator_codes, label_codes, n_raters, q, rating_weights
    )
    pe = _conger_chance(shares, weights)
    if abs(1.0 - pe) <= 1e-12:
        return MetricResult.undefined(
            "only one category used: chance agreement is 1", p_a=pa, p_e=pe
        )
    value = (pa - pe) / (1.0 - pe)
    pe_i = _item_chance_terms(
        item_codes, annotator_codes, label_codes, (n_items, n), shares, per_rater, weights
    )
    terms = (n_items / n2) * (stats.pa_i - pe * stats.pairable) / (1.0 - pe)
    terms = terms - 2.0 * (1.0 - value) * (pe_i - pe) / (1.0 - pe)
    return _with_se(value, terms, (n_items, n2), n_population, pa, pe, multiplicity=mult)


def _item_chance_terms(
    item_codes: np.ndarray,
    annotator_codes: np.ndarray,
    label_codes: np.ndarray,
    sizes: tuple[int, int],
    shares: np.ndarray,
    per_rater: np.ndarray,
    weights: np.ndarray,
) -> np.ndarray:
    """Gwet's per-item chance terms pe_i = sum_g lambda_ig / (r (r - 1)); ``sizes`` =
    (items n, rows of the count matrix: fewer than n for item profiles).

    With C = r pbar - p_g. (r, q) and s_g = sum_k (p_g. W^T)_k C_gk, irrCAC's lambda is
    s_g for an unrated cell and s_g + (n / n_g) ((C W)[g, c] - s_g) for a rating of
    category c, so the sum over raters needs one pass over the ratings.
    """
    n, rows = sizes
    r = shares.shape[0]
    centred = r * shares.mean(axis=0)[None, :] - shares
    s = ((shares @ weights.T) * centred).sum(axis=1)
    by_category = centred @ weights
    per_rating = (n / per_rater[annotator_codes]) * (
        by_category[annotator_codes, label_codes] - s[annotator_codes]
    )
    lam = s.sum() + np.bincount(item_codes, weights=per_rating, minlength=rows)
    return lam / (r * (r - 1.0))


def conger_values(
    counts: np.ndarray,
    item_codes: np.ndarray,
    annotator_codes: np.ndarray,
    label_codes: np.ndarray,
    n_raters: int,
    weights: np.ndarray,
    item_weights: np.ndarray,
    *,
    pair_agreement: np.ndarray | None = None,
) -> np.ndarray:
    """Conger's kappa for each bootstrap replicate; ``item_weights`` shape (B, n_items).

    The rater x category table of a replicate is ``item_weights @ D`` with D the sparse
    (n_items, r q) one-hot of ratings, so all B tables come from one sparse product.
    """
    from scipy import sparse  # bootstrap only: keeps the analytic path's start-up fast

    n, q = counts.shape
    stats = ordered_stats(item_stats(counts, weights), pair_agreement)
    w = np.atleast_2d(item_weights)
    with np.errstate(invalid="ignore", divide="ignore"):
        pa = (w @ stats.pa_i) / (w @ stats.pairable.astype(np.float64))
    onehot = sparse.csr_matrix(
        (np.ones(item_codes.size), (item_codes, annotator_codes * q + label_codes)),
        shape=(n, n_raters * q),
    )
    tables = np.asarray((onehot.T @ w.T).T).reshape(-1, n_raters, q)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = tables / tables.sum(axis=2, keepdims=True)
        mean = shares.mean(axis=1)
        s2 = (
            np.einsum("bgk,bgl->bkl", shares, shares)
            - n_raters * np.einsum("bk,bl->bkl", mean, mean)
        ) / (n_raters - 1.0)
        pe = np.einsum("kl,bkl->b", weights, np.einsum("bk,bl->bkl", mean, mean) - s2 / n_raters)
        return np.where(np.abs(1.0 - pe) > 1e-12, (pa - pe) / (1.0 - pe), np.nan)
