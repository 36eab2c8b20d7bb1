"""Snorkel-style label model: LF accuracies by matrix completion, in numpy/scipy (no torch).

Ratner, A., Hancock, B., Dunnmon, J., Sala, F., Pandey, S. & Ré, C. (2019). Training
complex models with multi-task weak supervision. *AAAI* 33, 4763-4771. arXiv:1810.02840.
The conditionally independent model of ``snorkel.labeling.model.LabelModel`` (0.10):

- one-hot votes ``L_ind`` (n, m k), column ``j k + y`` = [LF j voted y]; the overlap
  matrix O = L_ind' L_ind / n (m k, m k);
- parameters mu (m k, k), ``mu[j k + l, y]`` = P(LF j votes l | Y = y), P = diag(p) the
  class balance (given, else uniform);
- loss = ||(O - mu P mu') o M||_F^2 + ||mu p - diag(O)||^2 + ||l2 (mu - mu_init)||_F^2,
  M zeroing each LF's own k x k block; mu_init[j k + y, y] = clip(O[jk+y, jk+y] prec / p_y);
- after fitting, mu is clamped to [mu_eps, 1 - mu_eps] (mu_eps = min(0.01, 10^-ceil(log10
  n))) and its columns permuted (within classes of equal prior) to maximise
  sum_j sum_y P(LF j = y, Y = y) (Snorkel's symmetry breaking; Hungarian assignment);
- P(Y = y | votes) ∝ p_y prod over the votes (j, l) of mu[j k + l, y] (abstains ignored).

Snorkel takes 100 momentum-SGD steps (lr 0.01, momentum 0.9) from mu_init scaled by a
random factor, so its result depends on the seed; ``solver="lbfgs"`` (the default here)
minimises the same loss to convergence from mu_init (deterministic); ``solver="sgd"``
takes Snorkel's steps (``init_scale`` = the random factor, for comparisons).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from labelaudit.consensus._base import (
    Aggregator,
    Codes,
    Gold,
    break_ties,
    check_choice,
    check_number,
)
from labelaudit.consensus._result import ConsensusResult

if TYPE_CHECKING:
    import scipy.sparse as sp
from labelaudit.exceptions import InputError, UsageError
from labelaudit.table import AnnotationTable

__all__ = [
    "LabelModel",
    "class_balance_of",
    "fit_mu",
    "lbfgs",
    "lf_accuracies",
    "overlap_matrix",
    "pair_counts",
    "posterior",
]

SOLVERS = ("lbfgs", "sgd")
#: Iterations after which L-BFGS stops unconverged.
LBFGS_MAX_ITER = 10_000


def one_hot(L: np.ndarray, k: int) -> sp.csr_array:
    """Sparse one-hot votes (n, m k): entry (i, j k + L[i, j]) = 1 for each vote."""
    import scipy.sparse as sp  # here: importing the module needs no scipy

    n, m = L.shape
    voted = L >= 0
    rows, cols = np.nonzero(voted)  # row-major: already in CSR order
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(voted.sum(axis=1), out=indptr[1:])
    columns = cols * k + L[rows, cols].astype(np.int64)
    return sp.csr_array((np.ones(rows.size), columns, indptr), shape=(n, m * k))


def pair_counts(L: np.ndarray, k: int) -> np.ndarray:
    """L_ind' L_ind, shape (m k, m k), float64: entry (a k + l, b k + l') counts the rows
    where LF a voted l and LF b voted l' (one sparse product, O(sum_i votes_i^2))."""
    ind = one_hot(L, k)
    return np.asarray((ind.T @ ind).toarray(), dtype=np.float64)


def overlap_matrix(L: np.ndarray, k: int) -> np.ndarray:
    """O = L_ind' L_ind / n, shape (m k, m k), float64 (Snorkel's ``_generate_O``).

    Parameters
    ----------
    L : ndarray of int, shape (n, m)
        Votes in 0..k-1, -1 = abstain.
    k : int
        Number of classes.
    """
    return pair_counts(L, k) / max(L.shape[0], 1)


def _loss_grad(
    mu: np.ndarray,
    overlap: np.ndarray,
    mask: np.ndarray,
    p: np.ndarray,
    mu_init: np.ndarray,
    l2: float,
) -> tuple[float, np.ndarray]:
    """Snorkel's ``_loss_mu`` and its gradient with respect to mu (m k, k)."""
    residual = (mu * p) @ mu.T - overlap
    residual *= mask
    rows = mu @ p - np.diag(overlap)
    drift = mu - mu_init
    loss = float((residual**2).sum() + rows @ rows + l2 * l2 * (drift**2).sum())
    grad = 4.0 * (residual @ mu) * p + 2.0 * np.outer(rows, p) + 2.0 * l2 * l2 * drift
    return loss, grad


def _mu_init(overlap: np.ndarray, p: np.ndarray, prec: np.ndarray, k: int) -> np.ndarray:
    m = overlap.shape[0] // k
    lps = np.diag(overlap).reshape(m, k)
    mu_init = np.zeros((m * k, k))
    values = np.clip(lps * prec[:, None] / p[None, :], 0.0, 1.0)  # (m, k)
    for y in range(k):  # k is the number of classes: a handful
        mu_init[np.arange(m) * k + y, y] = values[:, y]
    return mu_init


def fit_mu(
    overlap: np.ndarray,
    p: np.ndarray,
    *,
    n: int,
    prec_init: float | np.ndarray = 0.7,
    l2: float = 0.0,
    solver: str = "lbfgs",
    n_epochs: int = 100,
    lr: float = 0.01,
    init_scale: float = 1.0,
    mu_eps: float | None = None,
) -> tuple[np.ndarray, int]:
    """Fit mu (m k, k) to the overlap matrix; returns (mu, iterations).

    Parameters
    ----------
    overlap : ndarray, shape (m k, m k)
        :func:`overlap_matrix`.
    p : ndarray, shape (k,)
        Class balance (positive, sums to 1).
    n : int
        Number of records behind overlap (sets the default ``mu_eps``).
    prec_init : float or ndarray of shape (m,)
        Prior precision of each LF (Snorkel's ``prec_init``).
    l2 : float
        Strength of the pull towards mu_init.
    solver : {"lbfgs", "sgd"}
        L-BFGS to convergence (:func:`lbfgs`), or Snorkel's ``n_epochs`` steps of SGD
        (momentum 0.9).
    init_scale : float
        Factor on mu_init at the start (Snorkel draws it uniformly in [0, 1)).
    mu_eps : float, optional
        Clamp bound (default min(0.01, 10^-ceil(log10 n))).
    """
    k = p.size
    m = overlap.shape[0] // k
    prec = np.broadcast_to(np.asarray(prec_init, dtype=np.float64), (m,))
    mu_init = _mu_init(overlap, p, prec, k)
    mask = 1.0 - np.kron(np.eye(m), np.ones((k, k)))
    mu = mu_init * init_scale
    if solver == "sgd":
        velocity = np.zeros_like(mu)
        for _ in range(n_epochs):
            _, grad = _loss_grad(mu, overlap, mask, p, mu_init, l2)
            velocity = 0.9 * velocity + grad
            mu = mu - lr * velocity
        iterations = n_epochs
    else:

        def objective(x: np.ndarray) -> tuple[float, np.ndarray]:
            loss, grad = _loss_grad(x.reshape(mu.shape), overlap, mask, p, mu_init, l2)
            return loss, grad.ravel()

        found, iterations = lbfgs(objective, mu.ravel())
        mu = found.reshape(mu.shape)
    eps = min(0.01, 1.0 / 10 ** np.ceil(np.log10(max(n, 1)))) if mu_eps is None else mu_eps
    return _break_symmetry(np.clip(mu, eps, 1.0 - eps), p), iterations


def lbfgs(
    objective: Any,
    x: np.ndarray,
    *,
    max_iter: int = LBFGS_MAX_ITER,
    history: int = 10,
    ftol: float = 1e-15,
    gtol: float = 1e-12,
) -> tuple[np.ndarray, int]:
    """Minimise ``objective(x) -> (value, gradient)`` by L-BFGS (Nocedal & Wright 2006,
    algorithm 7.4: two-loop recursion, ``history`` pairs) with a backtracking Armijo line
    search; stops when the relative change of the value is at most ``ftol`` or every
    gradient entry is below ``gtol``. Returns (x, iterations).

    In numpy on purpose: the problem has m k^2 variables (hundreds), where SciPy's
    L-BFGS-B spends its time in multi-threaded BLAS calls that crawl on a busy machine
    (measured 0.05 s single-threaded vs 2-4 s with two threads under load).
    """
    value, grad = objective(x)
    steps: list[tuple[np.ndarray, np.ndarray]] = []
    for iteration in range(1, max_iter + 1):
        direction = -_two_loop(grad, steps)
        slope = float(grad @ direction)
        if slope >= 0:  # not a descent direction: restart from the gradient
            direction, slope, steps = -grad, -float(grad @ grad), []
        step = 1.0
        while True:
            candidate = x + step * direction
            new_value, new_grad = objective(candidate)
            if new_value <= value + 1e-4 * step * slope or step < 1e-20:
                break
            step *= 0.5
        s, y = candidate - x, new_grad - grad
        if float(s @ y) > 1e-300:
            steps = [*steps[-(history - 1) :], (s, y)]
        done = abs(value - new_value) <= ftol * max(abs(value), abs(new_value), 1.0)
        x, value, grad = candidate, new_value, new_grad
        if done or float(np.abs(grad).max()) < gtol:
            return x, iteration
    return x, max_iter


def _two_loop(grad: np.ndarray, steps: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """H grad for the L-BFGS inverse-Hessian estimate of the stored (s, y) pairs."""
    q = grad.copy()
    alphas = []
    for s, y in reversed(steps):
        alpha = float(s @ q) / float(y @ s)
        alphas.append(alpha)
        q -= alpha * y
    if steps:
        s, y = steps[-1]
        q *= float(s @ y) / float(y @ y)
    for (s, y), alpha in zip(steps, reversed(alphas), strict=True):
        q += s * (alpha - float(y @ q) / float(y @ s))
    return q


def _break_symmetry(mu: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Permute mu's columns within groups of equal prior (to 3 decimals) to maximise
    sum_j sum_y P(LF j = y, Y = y) (Snorkel's ``_break_col_permutation_symmetry``)."""
    # imported here: scipy.optimize costs ~0.2 s to import, and every command that lists
    # the aggregators (e.g. majority vote at ingest) would pay it without fitting this model
    from scipy.optimize import linear_sum_assignment

    k = p.size
    probs_sum = mu.reshape(-1, k, k).sum(axis=0) * p  # (sum_j mu_j) @ P
    Z = np.zeros((k, k))
    rounded = np.around(p, 3)
    for value in np.unique(rounded):
        group = np.flatnonzero(rounded == value)
        rows, cols = linear_sum_assignment(-probs_sum[np.ix_(group, group)].T)
        Z[group[rows], group[cols]] = 1.0
    return mu @ Z


def posterior(L: np.ndarray, mu: np.ndarray, p: np.ndarray) -> np.ndarray:
    """P(Y | votes), shape (n, k): p_y prod_votes mu[j k + l, y], normalised per row.

    Rows without a vote get the class balance p.
    """
    k = p.size
    log_joint = one_hot(L, k) @ np.log(mu) + np.log(p)
    log_joint -= log_joint.max(axis=1, keepdims=True)
    probs = np.exp(log_joint)
    return np.asarray(probs / probs.sum(axis=1, keepdims=True))


def lf_accuracies(mu: np.ndarray, p: np.ndarray, coverage: np.ndarray) -> np.ndarray:
    """Estimated accuracy of each LF when it votes, shape (m,): sum_y P(LF = y, Y = y) /
    coverage, clipped to [1e-6, 1] (Snorkel's ``get_weights``); NaN where coverage is 0."""
    k = p.size
    joint = np.einsum("jyy->j", mu.reshape(-1, k, k) * p[None, None, :])
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(coverage > 0, np.clip(joint / coverage, 1e-6, 1.0), np.nan)


def class_balance_of(value: Any, k: int) -> np.ndarray:
    """A class balance as a length-k probability vector (UsageError when it is not one).

    Accepts a sequence or a comma-separated string of k positive numbers; they are
    normalised to sum to 1.
    """
    if isinstance(value, str):
        value = [v for v in value.split(",") if v.strip()]
    try:
        balance = np.asarray([float(v) for v in value], dtype=np.float64)
    except (TypeError, ValueError):
        raise UsageError(f"class balance must be {k} positive numbers; got {value!r}") from None
    if balance.size != k or not np.all(np.isfinite(balance)) or not np.all(balance > 0):
        raise UsageError(
            f"class balance must be {k} positive numbers (one per category, in category "
            f"order); got {value!r}"
        )
    return balance / balance.sum()


class LabelModel(Aggregator):
    """Snorkel-style label model (matrix completion, Ratner et al. 2019) as an aggregator.

    Works on an :class:`AnnotationTable` of LF votes (each LF an annotator; an abstain is
    an absent row), or scikit-learn style on a label matrix ``L`` (n, m) of ints with -1 =
    abstain: ``fit(L)``, ``predict_proba(L)``, ``fit_predict_proba(L)``.

    Parameters
    ----------
    class_balance : sequence of float or str, optional
        P(Y = y) in category order (normalised); default uniform (as Snorkel).
    cardinality : int, optional
        Number of classes of a label matrix (default: its largest vote + 1, at least 2);
        a table's categories otherwise.
    solver : {"lbfgs", "sgd"}
        See the module docstring.
    n_epochs, lr : int, float
        SGD steps and learning rate (``solver="sgd"``).
    l2 : float
        Pull towards the initial mu.
    prec_init : float
        Prior LF precision.
    mu_eps : float, optional
        Clamp of the conditional probabilities.
    fit_on : AnnotationTable, optional
        Learn mu from these votes (e.g. a train split) and label the table given to
        ``fit`` with it; LFs are matched by name, categories by name.
    n_records : int, optional
        Records the learning votes came from, counting those no LF voted on (they are
        absent from a vote table but part of O's denominator, as in Snorkel). Default:
        ``report["n_records"]`` of a table made by :func:`labelaudit.weak.apply_lfs`,
        else the items with a vote (then the fit conditions on "at least one vote",
        which is not Snorkel's model: on WRENCH YouTube test accuracy 0.856 vs 0.864).
    random_state : int
        Unused by the default solver; kept for the common interface.

    Attributes
    ----------
    mu_ : ndarray, shape (m k, k)
        P(LF j votes l | Y = y) at row j k + l, column y.
    class_balance_ : ndarray, shape (k,)
    skills_ : ndarray, shape (m,)
        Estimated accuracy of each LF when it votes (Snorkel's ``get_weights``).
    coverage_ : ndarray, shape (m,)
        Share of the fitted records each LF voted on.
    labels_, probas_, confidence_
        As every aggregator (on the table given to ``fit``).
    """

    cli_name = "label-model"
    lfs_: np.ndarray | None

    def __init__(
        self,
        class_balance: Any = None,
        cardinality: int | None = None,
        solver: str = "lbfgs",
        n_epochs: int = 100,
        lr: float = 0.01,
        l2: float = 0.0,
        prec_init: float = 0.7,
        mu_eps: float | None = None,
        fit_on: AnnotationTable | None = None,
        n_records: int | None = None,
        random_state: int = 0,
    ) -> None:
        self.class_balance = class_balance
        self.cardinality = cardinality
        self.solver = solver
        self.n_epochs = n_epochs
        self.lr = lr
        self.l2 = l2
        self.prec_init = prec_init
        self.mu_eps = mu_eps
        self.fit_on = fit_on
        self.n_records = n_records
        self.random_state = random_state

    def get_params(self) -> dict[str, Any]:
        """Constructor parameters (``fit_on`` as the name of its source)."""
        params = super().get_params()
        if self.fit_on is not None:
            params["fit_on"] = self.fit_on.source
        if self.class_balance is not None and not isinstance(self.class_balance, str):
            params["class_balance"] = [float(v) for v in self.class_balance]
        return params

    def _check_params(self) -> None:
        check_choice(self, "solver", self.solver, SOLVERS)
        check_number(self, "n_epochs", self.n_epochs, low=1, integer=True)
        check_number(self, "lr", self.lr, low=0.0)
        check_number(self, "l2", self.l2, low=0.0)
        check_number(self, "prec_init", self.prec_init, low=0.0)
        if self.mu_eps is not None:
            check_number(self, "mu_eps", self.mu_eps, low=0.0)
        if self.n_records is not None:
            check_number(self, "n_records", self.n_records, low=1, integer=True)

    # ------------------------------------------------------------- matrix interface
    def fit(self, table: Any, gold: dict[str, str] | None = None) -> LabelModel:
        """Fit on a vote table (then label its items) or on a label matrix (n, m).

        Raises
        ------
        UsageError
            Fewer than 3 LFs (as Snorkel), a bad class balance or parameter, ``fit_on``
            with LFs or categories the table does not share.
        """
        if isinstance(table, AnnotationTable):
            return super().fit(table, gold)
        self._check_params()
        L = _as_matrix(table)
        k = self.cardinality or max(int(L.max(initial=-1)) + 1, 2)
        self._learn(L, k, L.shape[0])
        return self

    def predict_proba(self, L: Any) -> np.ndarray:
        """P(Y | votes), shape (n, k), of a label matrix (or of a fitted table's items)."""
        if not hasattr(self, "mu_"):
            raise UsageError("This LabelModel instance is not fitted yet; call fit first.")
        if isinstance(L, AnnotationTable):
            return posterior(self._matrix_of(L), self.mu_, self.class_balance_)
        matrix = _as_matrix(L)
        if matrix.shape[1] * self.class_balance_.size != self.mu_.shape[0]:
            raise UsageError(
                f"the label matrix has {matrix.shape[1]} columns; the model was fitted on "
                f"{self.mu_.shape[0] // self.class_balance_.size} LFs"
            )
        return posterior(matrix, self.mu_, self.class_balance_)

    def fit_predict_proba(self, L: Any) -> np.ndarray:
        """``fit(L)`` then ``predict_proba(L)``."""
        return self.fit(L).predict_proba(L)

    def _learn(self, L: np.ndarray, k: int, n: int) -> None:
        if L.shape[1] < 3:
            raise UsageError(f"the label model needs at least 3 LFs; got {L.shape[1]}")
        if int(L.max(initial=-1)) >= k or int(L.min(initial=-1)) < -1:
            raise UsageError(f"votes must be -1 (abstain) or 0..{k - 1}")
        p = (
            np.full(k, 1.0 / k)
            if self.class_balance is None
            else class_balance_of(self.class_balance, k)
        )
        overlap = overlap_matrix(L, k) * (L.shape[0] / max(n, 1))
        self.mu_, self.n_iter_ = fit_mu(
            overlap, p, n=n, prec_init=self.prec_init, l2=self.l2, solver=self.solver,
            n_epochs=self.n_epochs, lr=self.lr, mu_eps=self.mu_eps,
        )  # fmt: skip
        self.class_balance_ = p
        self.coverage_ = (L >= 0).sum(axis=0) / max(n, 1)
        self.skills_ = lf_accuracies(self.mu_, p, self.coverage_)
        self.lfs_ = None

    # ---------------------------------------------------------------- table interface
    def _prepare(self, table: AnnotationTable) -> None:
        source = self.fit_on if self.fit_on is not None else table
        L = source.to_units_by_raters(codes=True)
        L = np.where(np.isnan(L), -1, L).astype(np.int64)
        if self.fit_on is not None:
            L = _recode(L, self.fit_on.categories, table.categories, self.fit_on.source)
        n = int(self.n_records or source.report.get("n_records") or source.n_items)
        if n < source.n_items:
            raise UsageError(
                f"n_records ({n}) is smaller than the {source.n_items} items with a vote"
            )
        self._learn(L, table.n_categories, n)
        self.lfs_ = source.annotators
        self._votes = self._matrix_of(table)

    def _matrix_of(self, table: AnnotationTable) -> np.ndarray:
        """The table's votes as columns in the fitted LF order (UsageError on an unknown LF)."""
        lfs = np.asarray(self.lfs_ if self.lfs_ is not None else table.annotators).astype(str)
        names = table.annotators.astype(str)
        position = {name: j for j, name in enumerate(lfs)}
        unknown = [str(name) for name in names if name not in position]
        if unknown:
            raise UsageError(
                f"annotator {unknown[0]!r} is not one of the labeling functions the model "
                f"was fitted on ({', '.join(lfs[:5])}{', ...' if lfs.size > 5 else ''})"
            )
        columns = np.array([position[name] for name in names], dtype=np.int64)
        L = np.full((table.n_items, lfs.size), -1, dtype=np.int64)
        L[table.item_codes, columns[table.annotator_codes]] = table.label_codes
        return L

    def summary(self) -> ConsensusResult:
        """As every aggregator's, with the solver's iterations (the loss is not a
        likelihood, so ``log_likelihood`` stays null with that reason)."""
        result = super().summary()
        reasons = {k: v for k, v in result.reasons.items() if k not in ("n_iter", "converged")}
        reasons["log_likelihood"] = "matrix-completion loss (Ratner et al. 2019), not a likelihood"
        converged = self.solver == "lbfgs" and self.n_iter_ < LBFGS_MAX_ITER
        return replace(result, n_iter=int(self.n_iter_), converged=converged, reasons=reasons)

    def _fit(self, codes: Codes, gold: Gold | None) -> None:
        self.probas_ = posterior(self._votes, self.mu_, self.class_balance_)
        rng = np.random.default_rng(self.random_state)
        self.labels_ = break_ties(self.probas_, "random", rng)
        del self._votes


def _as_matrix(L: Any) -> np.ndarray:
    matrix = np.asarray(L)
    if matrix.ndim != 2 or matrix.dtype.kind not in "iu":
        raise UsageError(
            "a label matrix is a 2-D array of ints (-1 = abstain); "
            f"got {matrix.dtype} {matrix.shape}"
        )
    return matrix.astype(np.int64)


def _recode(L: np.ndarray, fitted: np.ndarray, target: np.ndarray, source: str) -> np.ndarray:
    """Votes coded in ``fitted`` categories, re-coded in ``target`` order."""
    position = {str(name): y for y, name in enumerate(target)}
    missing = [str(c) for c in fitted if str(c) not in position]
    if missing or fitted.size != target.size:
        raise InputError(
            "--fit-on votes use other categories", source=source, field="label",
            expected=", ".join(map(str, target)), actual=", ".join(map(str, fitted)),
        )  # fmt: skip
    mapping = np.array([position[str(c)] for c in fitted] + [-1], dtype=np.int64)
    return mapping[L]
