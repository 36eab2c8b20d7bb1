"""Small statistical kernels shared by the preference audits (vectorised numpy / scipy)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import stats

from labelaudit.intervals import bootstrap_item_weights, holm, percentile_ci

__all__ = [
    "binomial_p",
    "bootstrap_prompts",
    "holm",
    "logistic_fit",
    "percentile_ci",
]


def binomial_p(k: np.ndarray, n: np.ndarray, p: float = 0.5) -> np.ndarray:
    """Exact two-sided binomial test p-values (``scipy.stats.binomtest``), NaN where n = 0.

    One call per entry: ``k`` and ``n`` are per-annotator counts, not per-row arrays.
    """
    out = np.full(np.shape(k), np.nan)
    for index, (successes, trials) in enumerate(zip(np.ravel(k), np.ravel(n), strict=True)):
        if trials > 0:
            out.flat[index] = stats.binomtest(int(successes), int(trials), p).pvalue
    return out


def bootstrap_prompts(
    per_prompt: np.ndarray,
    n_boot: int,
    seed: int,
    statistic: Callable[[np.ndarray], np.ndarray],
) -> np.ndarray:
    """Bootstrap a statistic of summed per-prompt sufficient statistics, resampling prompts.

    Parameters
    ----------
    per_prompt : ndarray, shape (n_prompts, k)
        Additive sufficient statistics of each prompt (counts, pair tables...).
    n_boot, seed : int
        Replicates and seed (``labelaudit.intervals.bootstrap_item_weights``).
    statistic : callable
        Maps summed statistics of shape (b, k) to values of shape (b, ...).

    Returns
    -------
    ndarray, shape (n_boot, ...)
        The statistic on each replicate (prompts drawn with replacement).
    """
    chunks = [
        statistic(weights @ per_prompt)
        for weights in bootstrap_item_weights(per_prompt.shape[0], n_boot, seed)
    ]
    return np.concatenate(chunks, axis=0) if chunks else np.zeros((0,))


def logistic_fit(
    x: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    max_iter: int = 100,
    tol: float = 1e-10,
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Maximum-likelihood logistic regression by Newton-Raphson (IRLS), no penalty.

    Parameters
    ----------
    x : ndarray, shape (n, p)
        Design matrix (include a column of ones for an intercept).
    y : ndarray, shape (n,)
        Outcomes in [0, 1] (fractional outcomes such as 0.5 for a tie are allowed).
    weights : ndarray, shape (n,), optional
        Case weights (counts).

    Returns
    -------
    beta : ndarray, shape (p,)
    cov : ndarray, shape (p, p)
        Inverse observed information (the usual Wald covariance).
    converged : bool
        False when Newton did not converge or the estimates diverge (separation).
    """
    w = np.ones(y.shape[0]) if weights is None else np.asarray(weights, dtype=np.float64)
    beta = np.zeros(x.shape[1])
    failed = (beta, np.full((x.shape[1], x.shape[1]), np.nan), False)
    for _ in range(max_iter):
        grad, info = _score_information(x, y, w, beta)
        try:
            step = np.linalg.solve(info, grad)
        except np.linalg.LinAlgError:
            return failed
        beta = beta + step
        if np.max(np.abs(step), initial=0.0) < tol * (1.0 + np.max(np.abs(beta), initial=0.0)):
            break
    else:
        return beta, failed[1], False
    if np.max(np.abs(beta), initial=0.0) > 25.0:
        return beta, failed[1], False
    try:
        cov = np.linalg.inv(_score_information(x, y, w, beta)[1])
    except np.linalg.LinAlgError:
        return beta, failed[1], False
    return beta, cov, True


def _score_information(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, beta: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Gradient of the log-likelihood and the Fisher information at ``beta``."""
    prob = 1.0 / (1.0 + np.exp(-np.clip(x @ beta, -35.0, 35.0)))
    grad = x.T @ (w * (y - prob))
    info = (x * (w * prob * (1.0 - prob))[:, None]).T @ x
    return grad, info
