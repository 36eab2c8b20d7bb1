"""Bradley-Terry ratings of models from pairwise votes, as Chatbot Arena computes them.

Following FastChat's ``rating_systems.py`` (Chiang et al. 2024, arXiv:2403.04132): votes
between responses of two different models are collapsed to unique (model i, model j,
outcome) rows with counts, outcome 1 / 0.5 / 0 (a tie -- or both-bad -- is half a win),
and the log-likelihood ``sum w [y log s(t_i - t_j) + (1 - y) log s(t_j - t_i)]`` is
maximised (Newton's method; s the logistic function). Ratings are Elo-scaled,
``R = 1000 + (400 / ln 10) t``, so ``P(i beats j) = 1 / (1 + 10^((R_j - R_i) / 400))``;
they average 1000 unless ``anchor`` (FastChat: ``mixtral-8x7b-instruct-v0.1`` = 1114, the
default when that model is present) fixes one model. Intervals: bootstrap by multinomial
resampling of the collapsed counts (= resampling votes), refitting each replicate, 2.5% /
97.5% quantiles; the median is reported too. When one model wins (or loses) every
comparison the MLE does not exist: the fit then adds a small ridge (``1e-3 * votes``) and
says so. Rater groups (all humans pooled; each judge) get separate ratings and their
Spearman rank correlations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from labelaudit.preferences.records import PreferenceTable
from labelaudit.results import clean_number

__all__ = ["BradleyTerry", "bradley_terry", "fit_bradley_terry", "ratings_by_raters"]

SCALE = 400.0 / math.log(10.0)
DEFAULT_ANCHOR = ("mixtral-8x7b-instruct-v0.1", 1114.0)


@dataclass(frozen=True)
class BradleyTerry:
    """Ratings of one rater group."""

    raters: str
    models: list[dict[str, Any]]
    n_votes: int
    n_boot: int
    mle_exists: bool
    reason: str | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; ``models`` sorted by rating, highest first."""
        return {
            "raters": self.raters,
            "n_votes": self.n_votes,
            "n_boot": self.n_boot,
            "mle_exists": self.mle_exists,
            "reason": self.reason,
            "models": [clean_number(m) for m in self.models],
        }


def _collapse(i: np.ndarray, j: np.ndarray, y: np.ndarray, p: int) -> tuple[np.ndarray, ...]:
    """Unique (i, j, outcome) rows with counts, i < j (orientation flips the outcome)."""
    flip = i > j
    a, b = np.where(flip, j, i), np.where(flip, i, j)
    outcome = np.where(flip, 1.0 - y, y)
    key = (a * p + b) * 3 + np.rint(outcome * 2).astype(np.int64)
    unique, counts = np.unique(key, return_counts=True)
    return unique // 3 // p, unique // 3 % p, (unique % 3) / 2.0, counts.astype(np.float64)


def _newton(
    a: np.ndarray,
    b: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    p: int,
    ridge: float,
    start: np.ndarray | None = None,
) -> tuple[np.ndarray, bool]:
    """Maximise the BT log-likelihood (natural-log strengths, sum zero) by Newton steps."""
    theta = np.zeros(p) if start is None else start.copy()
    centre = np.full((p, p), 1.0 / p)
    for _ in range(100):
        prob = 1.0 / (1.0 + np.exp(-(theta[a] - theta[b])))
        residual = w * (y - prob)
        grad: np.ndarray = np.bincount(a, residual, minlength=p) - np.bincount(b, residual, p)
        grad = grad - ridge * theta
        curvature = w * prob * (1.0 - prob)
        hessian = -np.bincount(a * p + b, curvature, p * p).reshape(p, p)
        hessian += hessian.T
        hessian[np.diag_indices(p)] = -hessian.sum(axis=1) + ridge
        try:
            step = np.linalg.solve(hessian + centre, grad)
        except np.linalg.LinAlgError:
            return theta, False
        theta += step
        theta -= theta.mean()
        if np.max(np.abs(step)) < 1e-10:
            return theta, bool(np.max(np.abs(theta)) < 20.0)
        if np.max(np.abs(theta)) > 30.0:
            return theta, False
    return theta, False


def fit_bradley_terry(
    first: np.ndarray, second: np.ndarray, outcome: np.ndarray, n_models: int
) -> tuple[np.ndarray, bool]:
    """Bradley-Terry strengths (natural-log scale, mean zero) from votes.

    Parameters
    ----------
    first, second : ndarray of int, shape (n,)
        Model codes of the two responses of each vote.
    outcome : ndarray of float, shape (n,)
        1 if ``first`` won, 0 if ``second`` won, 0.5 for a tie.
    n_models : int

    Returns
    -------
    strengths : ndarray, shape (n_models,)
    mle_exists : bool
        False when the unpenalised MLE diverges (then a ridge of 1e-3 per vote is used).
    """
    a, b, y, w = _collapse(first, second, outcome, n_models)
    theta, ok = _newton(a, b, y, w, n_models, 0.0)
    if ok:
        return theta, True
    return _newton(a, b, y, w, n_models, 1e-3 * float(w.sum()))[0], False


def _bootstrap(
    a: np.ndarray, b: np.ndarray, y: np.ndarray, w: np.ndarray, p: int, start: np.ndarray,
    n_boot: int, seed: int, ridge: float,
) -> np.ndarray:  # fmt: skip
    """Strengths of each replicate, shape (n_boot, p): multinomial resampling of counts."""
    rng = np.random.default_rng(seed)
    total = int(w.sum())
    draws = rng.multinomial(total, w / w.sum(), size=n_boot).astype(np.float64)
    out = np.empty((n_boot, p))
    for r in range(n_boot):
        theta, ok = _newton(a, b, y, draws[r], p, ridge, start)
        if not ok and ridge == 0.0:
            theta, _ = _newton(a, b, y, draws[r], p, 1e-3 * total, start)
        out[r] = theta
    return out


def bradley_terry(
    table: PreferenceTable,
    votes: np.ndarray | None = None,
    *,
    raters: str = "all",
    n_boot: int = 200,
    seed: int = 0,
    anchor: tuple[str, float] | None = None,
) -> BradleyTerry:
    """Elo-scaled Bradley-Terry ratings with bootstrap intervals (Chatbot Arena's method).

    Parameters
    ----------
    table : PreferenceTable
    votes : ndarray of bool, shape (n,), optional
        The votes to use (default all).
    raters : str
        Name of the rater group, for the result.
    n_boot, seed : int
        Bootstrap replicates (multinomial resampling of the vote counts) and seed.
    anchor : (model, rating), optional
        Shift ratings so that this model has this rating; default FastChat's
        ``mixtral-8x7b-instruct-v0.1`` = 1114 when present, else the mean is 1000.
    """
    m_first = table.response_model[table.first_codes]
    m_second = table.response_model[table.second_codes]
    use = (m_first >= 0) & (m_second >= 0) & (m_first != m_second) & (table.choice >= 0)
    if votes is not None:
        use &= votes
    y = np.select([table.choice == 0, table.choice == 1], [1.0, 0.0], 0.5)[use]
    p = table.models.size
    a, b, yy, w = _collapse(m_first[use], m_second[use], y, p)
    present = np.zeros(p, dtype=bool)
    present[a], present[b] = True, True
    theta, exists = fit_bradley_terry(m_first[use], m_second[use], y, p)
    ridge = 0.0 if exists else 1e-3 * float(w.sum())
    boot = _bootstrap(a, b, yy, w, p, theta, n_boot, seed, ridge) if n_boot else np.zeros((0, p))
    shift = _shift(table, theta, anchor)
    ratings, boot_ratings = 1000.0 + SCALE * theta + shift, 1000.0 + SCALE * boot + shift
    models = _model_rows(table, ratings, boot_ratings, present, m_first[use], m_second[use])
    reason = None if exists else "a model won or lost every comparison: ridge-penalised fit"
    return BradleyTerry(raters, models, int(use.sum()), n_boot, exists, reason)


def _shift(table: PreferenceTable, theta: np.ndarray, anchor: tuple[str, float] | None) -> float:
    names = list(map(str, table.models))
    model, rating = anchor or DEFAULT_ANCHOR
    if model not in names:
        return 0.0
    return rating - (1000.0 + SCALE * float(theta[names.index(model)]))


def _model_rows(
    table: PreferenceTable,
    ratings: np.ndarray,
    boot: np.ndarray,
    present: np.ndarray,
    first: np.ndarray,
    second: np.ndarray,
) -> list[dict[str, Any]]:
    votes = np.bincount(first, minlength=ratings.size) + np.bincount(second, minlength=ratings.size)
    has_boot = boot.shape[0] > 0
    low, median, high = (
        np.quantile(boot, [0.025, 0.5, 0.975], axis=0) if has_boot else (None, None, None)
    )  # fmt: skip
    rows = [
        {
            "model": str(table.models[m]),
            "rating": float(ratings[m]),
            "ci95": [float(low[m]), float(high[m])] if has_boot else None,  # type: ignore[index]
            "median": float(median[m]) if has_boot else None,  # type: ignore[index]
            "n_votes": int(votes[m]),
        }
        for m in np.flatnonzero(present)
    ]
    return sorted(rows, key=lambda r: -r["rating"])


def ratings_by_raters(
    table: PreferenceTable, *, n_boot: int = 200, seed: int = 0
) -> dict[str, Any]:
    """Ratings per rater group (humans pooled; each judge) and their rank correlations.

    Returns
    -------
    dict
        ``{"groups": [BradleyTerry dicts], "rank_agreement": [{"a", "b", "spearman",
        "n_models"}]}``.
    """
    results = [
        bradley_terry(table, mask, raters=name, n_boot=n_boot, seed=seed)
        for name, mask in table.rater_groups()
    ]
    results = [r for r in results if r.models]
    pairs = []
    for index, one in enumerate(results):
        for two in results[index + 1 :]:
            left = {m["model"]: m["rating"] for m in one.models}
            right = {m["model"]: m["rating"] for m in two.models}
            shared = sorted(set(left) & set(right))
            rho = (
                float(stats.spearmanr([left[m] for m in shared], [right[m] for m in shared])[0])
                if len(shared) >= 3
                else None
            )
            pairs.append({"a": one.raters, "b": two.raters, "spearman": rho,
                          "n_models": len(shared)})  # fmt: skip
    return {"groups": [r.to_dict() for r in results], "rank_agreement": pairs}


@dataclass(frozen=True)
class Ratings:
    """The ``bradley_terry`` section of the audit."""

    data: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """``{"groups", "rank_agreement"}``."""
        return self.data
