"""MACE: Multi-Annotator Competence Estimation, with spammer probabilities.

Hovy, D., Berg-Kirkpatrick, T., Vaswani, A. & Hovy, E. (2013). Learning whom to trust with
MACE. *NAACL-HLT 2013*, 1120-1130. https://aclanthology.org/N13-1132

Model: the true class T_i is uniform over the q categories. For each label, annotator a
spams with probability 1 - theta_a (then draws the label from a "strategy" xi_a), else
copies T_i. So P(y | T = k) = theta_a [y = k] + (1 - theta_a) xi_a[y].

Training (crowd-kit's settings by default): ``n_restarts`` random starts (theta, xi drawn
from U(1, 2 + default_noise), normalised), each ``max_iter`` EM or variational-Bayes
iterations; the restart with the highest log marginal likelihood wins. VB uses
Beta(alpha, beta) priors on the spam/knowing split and symmetric Dirichlet
(``strategy_prior``) priors on xi, and plugs exp(digamma) expectations into the E-step;
EM adds ``smoothing / q`` to every expected count. Unlike crowd-kit, the E-step runs in
log space (no underflow with many labels per item) and each restart really starts from a
new random point (crowd-kit reseeds every restart with the same seed). crowd-kit 1.4.2 also
assigns strategy counts in sorted-name order to workers in first-appearance order; fed
names on which the two orders agree, it gave the same labels as this class on all
200,000 items of the 1M-label benchmark (``docs/benchmarks-consensus.md``).

Per iteration: one sparse product (O(n_labels * q)) and two bincounts (O(n_labels)).
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass

import numpy as np

from labelaudit.consensus._base import (
    EPS,
    Aggregator,
    Codes,
    Gold,
    check_choice,
    check_number,
    normalise_log,
    relative_change,
)
from labelaudit.exceptions import UsageError

__all__ = ["MACE", "SPAMMER_THRESHOLD", "MaceCounts", "MaceState", "competence_shares"]

METHODS: tuple[str, ...] = ("vb", "em")

#: ``spamming_ >= SPAMMER_THRESHOLD`` flags a spammer. On the generated crowds of
#: :mod:`labelaudit.consensus.synthetic` (seed 0; 100k and 1M labels, default MACE) it finds
#: every planted spammer with no false positive: planted spammers score >= 0.93, the
#: others (mediocre and biased annotators included) <= 0.85. Annotators with fewer than
#: about 100 labels are not reliably separated.
SPAMMER_THRESHOLD = 0.9


@dataclass
class _State:
    """Parameters of one restart: P(spam), P(knowing) per annotator and strategies xi."""

    spam: np.ndarray
    knowing: np.ndarray
    strategy: np.ndarray


@dataclass
class _Counts:
    """Expected counts of one E-step."""

    spam: np.ndarray
    knowing: np.ndarray
    strategy: np.ndarray


def competence_shares(knowing: np.ndarray, spam: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(theta, spamming) per annotator from :meth:`MACE.competence`'s knowing and
    spamming weights: theta = knowing / (knowing + spam), spamming = 1 - theta."""
    thetas = knowing / (knowing + spam)
    return thetas, 1.0 - thetas


#: Public names of one restart's parameters and expected counts (for other engines).
MaceState = _State
MaceCounts = _Counts


@dataclass
class _Run:
    posterior: np.ndarray
    counts: _Counts
    state: _State
    history: list[float]
    converged: bool


class MACE(Aggregator):
    """MACE: who is trustworthy, who is spamming, and what the true labels are.

    Parameters
    ----------
    n_restarts : int
        Random restarts; the best by log marginal likelihood is kept (crowd-kit: 10).
    max_iter : int
        Maximum iterations per restart (crowd-kit: 50).
    method : {"vb", "em"}
        Variational Bayes with priors (crowd-kit's default) or plain EM with smoothing.
    smoothing : float
        EM only: ``smoothing / q`` is added to every expected count (MACE and crowd-kit).
    alpha, beta : float
        VB only: Beta prior pseudo-counts of spamming and of knowing (crowd-kit: 0.5).
    strategy_prior : float
        VB only: symmetric Dirichlet pseudo-count of the spam strategies (crowd-kit: 10).
    default_noise : float
        Spread of the random starting points (crowd-kit: 0.5).
    tol : float
        A restart stops early when the relative change of its log marginal likelihood is
        below ``tol`` (0 = always run ``max_iter``, as crowd-kit).
    random_state : int
        Seed of the restarts.

    Attributes
    ----------
    labels_, probas_, confidence_
        Most probable class, posterior (n_items, q), maximum posterior.
    thetas_ : ndarray, shape (n_annotators,)
        Competence theta_a: probability of copying the true class (posterior mean in VB).
    spamming_ : ndarray, shape (n_annotators,)
        1 - thetas_: probability that a label of the annotator is spam.
    strategies_ : ndarray, shape (n_annotators, q)
        Label distribution when spamming (posterior mean in VB).
    theta_beta_ : ndarray, shape (n_annotators, 2)
        VB posterior Beta(knowing, spamming) parameters of theta_a (expected counts plus
        priors); the expected counts alone in EM mode.
    skills_ : ndarray, shape (n_annotators,)
        Expected accuracy theta_a + (1 - theta_a) * sum_k p_k xi_a[k], p = mean posterior.
    confusions_ : ndarray, shape (n_annotators, q, q)
        theta_a I + (1 - theta_a) 1 xi_a^T (row = true class, column = label).
    priors_ : ndarray, shape (q,)
        Uniform (MACE's assumption).
    n_iter_, converged_, log_likelihood_
        Of the winning restart.
    restart_log_likelihoods_ : ndarray, shape (n_restarts,)
        Final log marginal likelihood of every restart.
    """

    cli_name = "mace"

    def __init__(
        self,
        n_restarts: int = 10,
        max_iter: int = 50,
        method: str = "vb",
        smoothing: float = 0.01,
        alpha: float = 0.5,
        beta: float = 0.5,
        strategy_prior: float = 10.0,
        default_noise: float = 0.5,
        tol: float = 1e-5,
        random_state: int = 0,
    ) -> None:
        self.n_restarts = n_restarts
        self.max_iter = max_iter
        self.method = method
        self.smoothing = smoothing
        self.alpha = alpha
        self.beta = beta
        self.strategy_prior = strategy_prior
        self.default_noise = default_noise
        self.tol = tol
        self.random_state = random_state

    def _check_params(self) -> None:
        check_number(self, "n_restarts", self.n_restarts, low=1, integer=True)
        check_number(self, "max_iter", self.max_iter, low=1, integer=True)
        check_choice(self, "method", self.method, METHODS)
        for name in ("smoothing", "alpha", "beta", "strategy_prior", "default_noise", "tol"):
            check_number(self, name, getattr(self, name), low=0.0)
        for name in ("alpha", "beta", "strategy_prior"):
            if self.method == "vb" and getattr(self, name) == 0:
                msg = (
                    f"The {name!r} parameter of MACE must be > 0 with method='vb' "
                    "(a Beta/Dirichlet pseudo-count). Got 0 instead."
                )
                raise UsageError(msg)

    # ------------------------------------------------------------------------- fit
    def _fit(self, codes: Codes, gold: Gold | None) -> None:
        best: _Run | None = None
        finals = np.empty(self.n_restarts)
        states = self.initial_states(codes.n_annotators, codes.n_categories)
        for restart, state in enumerate(states):
            run = self._run(codes, gold, state)
            finals[restart] = run.history[-1]
            if best is None or run.history[-1] > best.history[-1]:
                best = run
        assert best is not None
        self.restart_log_likelihoods_ = finals
        self._store(codes, best)

    def initial_states(self, n_annotators: int, q: int) -> list[MaceState]:
        """The random starting point of every restart, drawn from ``random_state`` in
        restart order."""
        rng = np.random.default_rng(self.random_state)
        high = 2.0 + self.default_noise
        states = []
        for _ in range(self.n_restarts):  # loops over restarts
            split = rng.uniform(1.0, high, size=(n_annotators, 2))
            split /= split.sum(axis=1, keepdims=True)
            strategy = rng.uniform(1.0, high, size=(n_annotators, q))
            strategy /= strategy.sum(axis=1, keepdims=True)
            states.append(_State(spam=split[:, 0], knowing=split[:, 1], strategy=strategy))
        return states

    def restart_steps(
        self, state: MaceState
    ) -> Generator[MaceState, tuple[float, MaceCounts], tuple[list[float], bool]]:
        """One restart's iterations as a generator: it yields the state whose E-step it
        needs and is sent back (log-likelihood, expected counts); it returns (history,
        converged). Any engine drives it (:mod:`labelaudit.spark.annotators` runs the
        E-steps of every restart in one Spark pass)."""
        log_likelihood, counts = yield state
        history = [log_likelihood]
        converged = False
        for _ in range(self.max_iter):
            state = self._m_step(counts)
            log_likelihood, counts = yield state
            history.append(log_likelihood)
            if relative_change(history) < self.tol:
                converged = True
                break
        return history[1:], converged

    def _run(self, codes: Codes, gold: Gold | None, state: _State) -> _Run:
        steps = self.restart_steps(state)
        state = next(steps)
        while True:  # EM iterations
            posterior, log_likelihood, counts = self._e_step(codes, gold, state)
            try:
                next_state = steps.send((log_likelihood, counts))
            except StopIteration as stop:
                history, converged = stop.value
                return _Run(posterior, counts, state, history, converged)
            state = next_state

    def e_step(self, codes: Codes, state: MaceState) -> tuple[np.ndarray, float, MaceCounts]:
        """(posterior (n_items, q), log-likelihood, expected counts) of ``state`` on
        ``codes``: every output but the posterior adds over disjoint sets of items."""
        return self._e_step(codes, None, state)

    def _e_step(
        self, codes: Codes, gold: Gold | None, state: _State
    ) -> tuple[np.ndarray, float, _Counts]:
        n_annotators, q = codes.n_annotators, codes.n_categories
        spam_part = state.spam[:, None] * state.strategy  # (n_annotators, q): given label y
        # table[a * q + y, k] = log(spam_a xi_a[y] + knowing_a [y = k])
        table = np.repeat(spam_part.reshape(-1, 1), q, axis=1)
        table.reshape(n_annotators, q, q)[:, np.arange(q), np.arange(q)] += state.knowing[:, None]
        log_joint = codes.incidence @ np.log(table) - np.log(q)
        posterior, log_likelihood = normalise_log(log_joint, gold)
        # a label y is "knowing" only if T = y, with probability knowing / (spam xi_y + knowing)
        knowing_share = state.knowing[:, None] / (spam_part + state.knowing[:, None])
        size = n_annotators * q
        right = np.bincount(codes.pair, weights=posterior[codes.item, codes.label], minlength=size)
        given = np.bincount(codes.pair, minlength=size).reshape(n_annotators, q)
        knowing_pairs = knowing_share * right.reshape(n_annotators, q)
        strategy = given - knowing_pairs
        counts = _Counts(strategy.sum(axis=1), knowing_pairs.sum(axis=1), strategy)
        return posterior, log_likelihood, counts

    def competence(
        self, counts: MaceCounts, state: MaceState
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(knowing, spamming, strategies) of the winning restart from its last E-step's
        counts (VB: posterior Beta / Dirichlet parameters) or its state (EM);
        ``spamming_ = spamming / (knowing + spamming)``."""
        if self.method == "vb":
            strategy = counts.strategy + self.strategy_prior
            return (
                counts.knowing + self.beta,
                counts.spam + self.alpha,
                strategy / strategy.sum(axis=1, keepdims=True),
            )
        return state.knowing, state.spam, state.strategy

    def _m_step(self, counts: _Counts) -> _State:
        q = counts.strategy.shape[1]
        if self.method == "vb":
            from scipy.special import digamma  # here: importing the module needs no scipy

            total = digamma(counts.spam + counts.knowing + self.alpha + self.beta)
            strategy_total = digamma(counts.strategy.sum(axis=1) + q * self.strategy_prior)
            return _State(
                spam=np.exp(digamma(counts.spam + self.alpha) - total),
                knowing=np.exp(digamma(counts.knowing + self.beta) - total),
                strategy=np.exp(
                    digamma(counts.strategy + self.strategy_prior) - strategy_total[:, None]
                ),
            )
        cell = self.smoothing / q  # floored like Dawid-Skene's counts: every log stays finite
        spam, knowing = np.maximum(counts.spam + cell, EPS), np.maximum(counts.knowing + cell, EPS)
        strategy = np.maximum(counts.strategy + cell, EPS)
        return _State(
            spam=spam / (spam + knowing),
            knowing=knowing / (spam + knowing),
            strategy=strategy / strategy.sum(axis=1, keepdims=True),
        )

    def _store(self, codes: Codes, run: _Run) -> None:
        knowing, spam, self.strategies_ = self.competence(run.counts, run.state)
        q = codes.n_categories
        self.theta_beta_ = np.column_stack([knowing, spam])
        self.thetas_, self.spamming_ = competence_shares(knowing, spam)
        self.probas_ = run.posterior
        self.labels_ = np.argmax(run.posterior, axis=1).astype(np.int64)
        self.priors_ = np.full(q, 1.0 / q)
        class_share = run.posterior.mean(axis=0)
        theta = self.thetas_[:, None, None]
        self.confusions_ = (1.0 - theta) * self.strategies_[:, None, :] + theta * np.eye(q)
        self.skills_ = self.thetas_ + self.spamming_ * (self.strategies_ @ class_share)
        self.n_iter_, self.converged_ = len(run.history), run.converged
        self.log_likelihood_ = run.history
