"""Two-rater coefficients from a q x q contingency table: Cohen's kappa and Scott's pi.

Both use only the items that both raters labelled (complete pairs). Weights (q, q) give
weighted kappa (Cohen 1968) and weighted pi.
"""

from __future__ import annotations

import numpy as np

from labelaudit.intervals import FCE_NORMAL, GWET_T, analytic_interval, perfect_agreement
from labelaudit.results import MetricResult

__all__ = ["cohen_kappa", "cohen_values", "pair_table", "scott_pi"]


def pair_table(
    item_codes: np.ndarray,
    annotator_codes: np.ndarray,
    label_codes: np.ndarray,
    a: int,
    b: int,
    n_items: int,
    q: int,
    item_weights: np.ndarray | None = None,
) -> np.ndarray:
    """Contingency table (q, q) of annotator ``a`` (rows) vs ``b`` (columns) on shared items;
    ``item_weights`` (n_items,): items each item code stands for (profiles), else one."""
    label_a = np.full(n_items, -1)
    label_b = np.full(n_items, -1)
    mask_a, mask_b = annotator_codes == a, annotator_codes == b
    label_a[item_codes[mask_a]] = label_codes[mask_a]
    label_b[item_codes[mask_b]] = label_codes[mask_b]
    both = (label_a >= 0) & (label_b >= 0)
    weights = None if item_weights is None else item_weights[both]
    cells = np.bincount(label_a[both] * q + label_b[both], weights=weights, minlength=q * q)
    return cells.reshape(q, q)


def _proportions(table: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    n = float(table.sum())
    p = table / n
    return p, p.sum(axis=1), p.sum(axis=0), n


def cohen_kappa(table: np.ndarray, weights: np.ndarray | None = None) -> MetricResult:
    """Cohen's (weighted) kappa with the Fleiss-Cohen-Everitt large-sample SE.

    Parameters
    ----------
    table : ndarray, shape (q, q)
        Counts, rows = rater A, columns = rater B.
    weights : ndarray, shape (q, q), optional
        Agreement weights; identity (unweighted kappa) by default.

    Returns
    -------
    MetricResult
        ``se`` = ASE of Fleiss, Cohen & Everitt (1969) (what SAS PROC FREQ and R psych
        report; divisor n), ``ci95`` = kappa +/- 1.96 ASE with the upper end bounded at
        1, and in ``extra``: ``se_h0`` (ASE under kappa = 0), ``z`` = kappa / se_h0,
        two-sided normal ``p`` and the same as ``p_value``, ``p_o`` and the same as
        ``p_a``, ``p_e``, ``n_items``; at perfect agreement ``ci95_exact`` and ``note``.
        A weight matrix is read as given: w[k, l] for rows (rater A) k, columns l.

    References
    ----------
    Cohen, J. (1960) Educ. Psychol. Meas. 20; Cohen, J. (1968) Psychol. Bull. 70(4);
    Fleiss, J. L., Cohen, J. & Everitt, B. S. (1969) Psychol. Bull. 72(5).
    """
    table = np.asarray(table, dtype=np.float64)
    q = table.shape[0]
    w = np.eye(q) if weights is None else weights
    if table.sum() == 0:
        return MetricResult.undefined("nothing pairable: the two annotators share no item")
    p, rows, cols, n = _proportions(table)
    p_o = float((w * p).sum())
    p_e = float((w * np.outer(rows, cols)).sum())
    if abs(1.0 - p_e) <= 1e-12:
        return MetricResult.undefined(
            "only one category used: chance agreement is 1", p_o=p_o, p_e=p_e, n_items=int(n)
        )
    kappa = (p_o - p_e) / (1.0 - p_e)
    row_w = w @ cols  # wbar_i. = sum_j p_.j w_ij
    col_w = w.T @ rows  # wbar_.j = sum_i p_i. w_ij
    spread = w - (row_w[:, None] + col_w[None, :]) * (1.0 - kappa)
    var = ((p * spread**2).sum() - (kappa - p_e * (1.0 - kappa)) ** 2) / (n * (1 - p_e) ** 2)
    spread0 = w - (row_w[:, None] + col_w[None, :])
    var0 = ((np.outer(rows, cols) * spread0**2).sum() - p_e**2) / (n * (1 - p_e) ** 2)
    se, se0 = float(np.sqrt(max(var, 0.0))), float(np.sqrt(max(var0, 0.0)))
    ci, method, _ = analytic_interval(kappa, se, source=FCE_NORMAL)
    _, _, p_value = analytic_interval(kappa, se0, source=FCE_NORMAL)  # z test under H0
    z = kappa / se0 if se0 > 0 else float("nan")
    extra = {"se_h0": se0, "z": z, "p": p_value, "p_value": p_value, "p_o": p_o, "p_a": p_o}
    extra |= {"p_e": p_e, "n_items": int(n)} | perfect_agreement(p_o, p_e, int(n))
    return MetricResult(kappa, se=se, ci95=ci, ci_method=method, extra=extra)


def scott_pi(table: np.ndarray, weights: np.ndarray | None = None) -> MetricResult:
    """Scott's (weighted) pi with Gwet's (2014) SE and t-based CI (R irrCAC ``scott2.table``).

    Chance agreement uses the pooled marginals pi_k = (p_k. + p_.k) / 2. The SE divides
    by n (the table formula); the 95% CI is t with n - 1 df, upper end bounded at 1.
    ``extra``: ``p_value``, ``p_o`` and the same as ``p_a``, ``p_e``, ``n_items``; at
    perfect agreement ``ci95_exact`` and ``note``.

    References
    ----------
    Scott, W. A. (1955). Public Opinion Quarterly 19(3). Gwet, K. L. (2014), ch. 4.
    """
    table = np.asarray(table, dtype=np.float64)
    q = table.shape[0]
    w = np.eye(q) if weights is None else weights
    if table.sum() == 0:
        return MetricResult.undefined("nothing pairable: the two annotators share no item")
    p, rows, cols, n = _proportions(table)
    pooled = (rows + cols) / 2.0
    p_o = float((w * p).sum())
    p_e = float((w * np.outer(pooled, pooled)).sum())
    if abs(1.0 - p_e) <= 1e-12:
        return MetricResult.undefined(
            "only one category used: chance agreement is 1", p_o=p_o, p_e=p_e, n_items=int(n)
        )
    value = (p_o - p_e) / (1.0 - p_e)
    pooled_w = (w @ pooled + w.T @ pooled) / 2.0
    spread = w - (1.0 - value) * (pooled_w[:, None] + pooled_w[None, :])
    var = ((p * spread**2).sum() - (p_o - 2.0 * (1.0 - value) * p_e) ** 2) / (n * (1.0 - p_e) ** 2)
    se = float(np.sqrt(max(var, 0.0)))
    ci, method, p_value = analytic_interval(value, se, source=GWET_T, df=int(n) - 1)
    extra = {"p_value": p_value, "p_o": p_o, "p_a": p_o, "p_e": p_e, "n_items": int(n)}
    extra |= perfect_agreement(p_o, p_e, int(n))
    return MetricResult(value, se=se, ci95=ci, ci_method=method, extra=extra)


def cohen_values(
    pair_codes: np.ndarray, q: int, weights: np.ndarray, item_weights: np.ndarray
) -> dict[str, np.ndarray]:
    """Cohen's kappa and Scott's pi for each bootstrap replicate.

    Parameters
    ----------
    pair_codes : ndarray, shape (n_items,)
        ``label_a * q + label_b`` for each item both raters labelled, -1 otherwise.
    item_weights : ndarray, shape (B, n_items)

    Returns
    -------
    dict with ``cohen_kappa`` and ``scott_pi``, each shape (B,).
    """
    from scipy import sparse

    both = np.flatnonzero(pair_codes >= 0)
    onehot = sparse.csr_matrix(
        (np.ones(both.size), (both, pair_codes[both])), shape=(pair_codes.size, q * q)
    )
    tables = np.asarray((onehot.T @ np.atleast_2d(item_weights).T).T).reshape(-1, q, q)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = tables / tables.sum(axis=(1, 2), keepdims=True)
        rows, cols = p.sum(axis=2), p.sum(axis=1)
        p_o = np.einsum("kl,bkl->b", weights, p)
        pe_cohen = np.einsum("kl,bk,bl->b", weights, rows, cols)
        pooled = (rows + cols) / 2.0
        pe_scott = np.einsum("kl,bk,bl->b", weights, pooled, pooled)
        return {
            "cohen_kappa": np.where(
                np.abs(1 - pe_cohen) > 1e-12, (p_o - pe_cohen) / (1 - pe_cohen), np.nan
            ),
            "scott_pi": np.where(
                np.abs(1 - pe_scott) > 1e-12, (p_o - pe_scott) / (1 - pe_scott), np.nan
            ),
        }
