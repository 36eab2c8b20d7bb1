"""Dawid-Skene EM (full confusion matrices) and its one-coin variant, in log space.

Dawid, A. P. & Skene, A. M. (1979). Maximum likelihood estimation of observer error-rates
using the EM algorithm. *Applied Statistics* 28(1), 20-28. doi:10.2307/2346806.

Model: item i has a true class z_i ~ Categorical(pi); annotator a, seeing class k, gives
label y with probability C_a[k, y]. EM alternates

- M-step: pi_k = (sum_i T_ik + s) / (n_items + q s) and
  C_a[k, y] = (sum over a's labels y of T_ik + s) / (row total), floored at 1e-10 before
  normalising (as crowd-kit), where T is the posterior and s = ``smoothing`` (Dirichlet
  pseudo-counts; the fit is then the MAP estimate);
- E-step: log T_ik = log pi_k + sum_{labels (a, y) of i} log C_a[k, y] - log normaliser.

Both steps are one sparse product each with the item x (annotator, label) incidence
matrix, O(n_labels * q). EM starts from the majority-vote shares (as crowd-kit) and stops
when the relative change of the log-likelihood falls below ``tol``.
"""

from __future__ import annotations

import numpy as np

from labelaudit.consensus._base import (
    EPS,
    Aggregator,
    Codes,
    Gold,
    check_number,
    normalise_log,
    relative_change,
    vote_counts,
)

__all__ = [
    "DawidSkene",
    "OneCoinDawidSkene",
    "confusion_log_joint",
    "log_tables",
    "majority_shares",
    "relative_change",  # the EM stopping rule, shared with labelaudit.spark.consensus
]


def majority_shares(codes: Codes) -> np.ndarray:
    """Vote shares per item, shape (n_items, q): the usual EM starting posterior."""
    counts = vote_counts(codes)
    return counts / counts.sum(axis=1, keepdims=True)


def confusion_log_joint(codes: Codes, priors: np.ndarray, confusions: np.ndarray) -> np.ndarray:
    """log p(item's labels, z = k) for every item and class, shape (n_items, q).

    Parameters
    ----------
    codes : Codes
    priors : ndarray, shape (q,)
        Class prior.
    confusions : ndarray, shape (n_annotators, q, q)
        ``confusions[a, k, y]`` = P(annotator a says y | true class k), all > 0.
    """
    table, log_priors = log_tables(priors, confusions)
    log_joint: np.ndarray = codes.incidence @ table  # sums the table over each item's labels
    log_joint += log_priors
    return log_joint


def log_tables(priors: np.ndarray, confusions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The E-step's tables: ``table[a * q + y, k] = log C_a[k, y]`` (n_annotators q, q) and
    the log prior (q,); an item's log joint is the prior plus its labels' table rows."""
    n_annotators, q = confusions.shape[0], confusions.shape[1]
    table = np.log(confusions).transpose(0, 2, 1).reshape(n_annotators * q, q)
    return table, np.log(np.maximum(priors, np.finfo(float).tiny))


class _ConfusionEM(Aggregator):
    """EM loop shared by the Dawid-Skene family; subclasses supply the M-step."""

    def __init__(
        self,
        max_iter: int = 100,
        tol: float = 1e-5,
        smoothing: float = 0.0,
        random_state: int = 0,
    ) -> None:
        self.max_iter = max_iter
        self.tol = tol
        self.smoothing = smoothing
        self.random_state = random_state

    def _check_params(self) -> None:
        check_number(self, "max_iter", self.max_iter, low=1, integer=True)
        check_number(self, "tol", self.tol, low=0.0)
        check_number(self, "smoothing", self.smoothing, low=0.0)

    def _m_step(self, codes: Codes, posterior: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError  # pragma: no cover - abstract

    def _log_prior(self, priors: np.ndarray, confusions: np.ndarray) -> float:
        """Log density of the Dirichlet pseudo-counts (up to a constant); 0 without smoothing."""
        if self.smoothing == 0:
            return 0.0
        return float(self.smoothing * (np.log(confusions).sum() + np.log(priors).sum()))

    def _priors(self, posterior: np.ndarray) -> np.ndarray:
        return self.priors_from(posterior.sum(axis=0), posterior.shape[0])

    def priors_from(self, mass: np.ndarray, n_items: int) -> np.ndarray:
        """Class prior from the posterior mass of each class (q,) over ``n_items`` items."""
        return (mass + self.smoothing) / (n_items + mass.size * self.smoothing)

    def _fit(self, codes: Codes, gold: Gold | None) -> None:
        posterior = majority_shares(codes)
        if gold is not None:
            gold.clamp(posterior)
        history: list[float] = []
        converged = False
        for _ in range(self.max_iter):
            priors, confusions = self._m_step(codes, posterior)
            log_joint = confusion_log_joint(codes, priors, confusions)
            posterior, log_likelihood = normalise_log(log_joint, gold)
            history.append(log_likelihood + self._log_prior(priors, confusions))
            if relative_change(history) < self.tol:
                converged = True
                break
        self.priors_, self.confusions_, self.probas_ = priors, confusions, posterior
        self.labels_ = np.argmax(posterior, axis=1).astype(np.int64)
        self.n_iter_, self.converged_, self.log_likelihood_ = len(history), converged, history


class DawidSkene(_ConfusionEM):
    """Dawid-Skene: one full confusion matrix per annotator, fitted by EM in log space.

    Parameters
    ----------
    max_iter : int
        Maximum number of EM iterations (one M-step + one E-step each).
    tol : float
        Stop when |L_t - L_{t-1}| / |L_{t-1}| < tol, L = log-likelihood (log posterior up
        to a constant when ``smoothing`` > 0).
    smoothing : float
        Dirichlet pseudo-count added to every class-prior and confusion cell (0 = maximum
        likelihood, as the paper and crowd-kit).
    random_state : int
        Unused (the fit is deterministic: EM starts from the majority-vote shares); kept
        so that every aggregator takes a seed.

    Attributes
    ----------
    labels_ : ndarray of int64, shape (n_items,)
        Most probable class (lowest code on an exact tie).
    probas_ : ndarray, shape (n_items, q)
        Posterior of the true class.
    confidence_ : ndarray, shape (n_items,)
        Maximum posterior.
    priors_ : ndarray, shape (q,)
        Class prior.
    confusions_ : ndarray, shape (n_annotators, q, q)
        Row = true class, column = given label; rows sum to 1.
    skills_ : ndarray, shape (n_annotators,)
        Expected accuracy sum_k priors_[k] * confusions_[a, k, k].
    n_iter_, converged_, log_likelihood_
        Iterations run, whether ``tol`` was reached, the objective after each iteration.
    """

    cli_name = "dawid-skene"

    def _m_step(self, codes: Codes, posterior: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # counts[a * q + y, k] = posterior mass of class k on the items a labelled y
        counts = codes.incidence_t @ posterior
        return self._priors(posterior), self.confusions_from(counts, codes.n_annotators)

    def confusions_from(self, counts: np.ndarray, n_annotators: int) -> np.ndarray:
        """M-step confusions from ``counts[a * q + y, k]``, the posterior mass of class k
        on the items annotator a labelled y (n_annotators q, q): the sufficient statistics
        any engine sums (:mod:`labelaudit.spark.consensus`)."""
        q = counts.shape[1]
        counts = counts.reshape(n_annotators, q, q).transpose(0, 2, 1) + self.smoothing
        np.maximum(counts, EPS, out=counts)
        confusions: np.ndarray = counts / counts.sum(axis=2, keepdims=True)
        return confusions

    def _fit(self, codes: Codes, gold: Gold | None) -> None:
        super()._fit(codes, gold)
        self.skills_ = np.einsum("k,akk->a", self.priors_, self.confusions_)


class OneCoinDawidSkene(_ConfusionEM):
    """One-coin Dawid-Skene: one accuracy per annotator, errors spread evenly.

    C_a[k, y] = s_a if y = k, else (1 - s_a) / (q - 1). M-step:
    s_a = (sum over a's labels of T[i, y] + smoothing) / (n_a + 2 smoothing), clipped to
    [1e-10, 1 - 1e-10] (as crowd-kit's ``OneCoinDawidSkene``).

    Parameters
    ----------
    max_iter, tol, smoothing, random_state
        As in :class:`DawidSkene` (``smoothing`` is a Beta pseudo-count on s_a).

    Attributes
    ----------
    skills_ : ndarray, shape (n_annotators,)
        s_a, the probability of a correct label.
    labels_, probas_, confidence_, priors_, confusions_, n_iter_, converged_, log_likelihood_
        As in :class:`DawidSkene` (``confusions_`` built from ``skills_``).
    """

    cli_name = "one-coin"

    def _m_step(self, codes: Codes, posterior: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        q = codes.n_categories
        correct = np.bincount(
            codes.annotator,
            weights=posterior[codes.item, codes.label],
            minlength=codes.n_annotators,
        )
        skills = (correct + self.smoothing) / (codes.labels_per_annotator + 2 * self.smoothing)
        skills = np.clip(skills, EPS, 1 - EPS)
        self._skills = skills
        return self._priors(posterior), one_coin_confusions(skills, q)

    def _log_prior(self, priors: np.ndarray, confusions: np.ndarray) -> float:
        if self.smoothing == 0:
            return 0.0
        skills = self._skills
        terms = np.log(skills).sum() + np.log1p(-skills).sum() + np.log(priors).sum()
        return float(self.smoothing * terms)

    def _fit(self, codes: Codes, gold: Gold | None) -> None:
        super()._fit(codes, gold)
        self.skills_ = self._skills


def one_coin_confusions(skills: np.ndarray, q: int) -> np.ndarray:
    """Confusion matrices of one-coin annotators, shape (n_annotators, q, q)."""
    wrong = (1.0 - skills) / max(q - 1, 1)
    confusions = np.repeat(wrong[:, None, None], q, axis=1).repeat(q, axis=2)
    diagonal = np.arange(q)
    confusions[:, diagonal, diagonal] = skills[:, None] if q > 1 else 1.0
    return confusions
