"""Pilot sample sizes: how many items (and annotators) give a precise enough agreement.

The planning model is the common-correlation (latent-class) model: with probability kappa
an item is "clear" and every annotator gives the same category, drawn from the prevalence
pi; otherwise each annotator draws independently from pi. Under it Cohen's and Fleiss'
kappa (and, asymptotically, Krippendorff's nominal alpha) equal kappa, and the 2 x 2 table
of two annotators is the one of Bloch & Kraemer (1989) and Donner & Eliasziw (1992).

Closed forms (the expected 95% half-width is ``z sqrt(V / n)``, so ``n = z^2 V / w^2``):

- ``cohen`` (two annotators, any number of categories): V is the large-sample variance of
  Fleiss, Cohen & Everitt (1969) at the model's joint table, the approach of Flack,
  Afifi, Lachenbruch & Schouten (1988), computed by the project's own
  :func:`labelaudit.agreement.cohen.cohen_kappa`. For two categories it equals the closed
  form ``(1-k)[(1-k)(1-2k) + k(2-k) / (2 pi (1-pi))]`` of Bloch & Kraemer (1989) used by
  Donner & Eliasziw (1992).
- ``icc``: Bonett (2002), ``n = 8 z^2 (1-rho)^2 (1+(k-1) rho)^2 / (k (k-1) W^2) + 1`` with
  W the full width (2 w).

Simulation for ``fleiss`` and ``alpha`` (any number of annotators, missing ratings):
for each item count n a pool of max(2,000, 10 n) items is drawn from the model, and each
replicate data set draws n pool items with replacement, as a bootstrap does. The
coefficient is computed by the project's own vectorised code
(:func:`labelaudit.agreement.chance.family_values`,
:func:`labelaudit.agreement.alpha.alpha_from_counts`,
:func:`labelaudit.agreement.cohen.cohen_values`) with item weights, so one call computes a
whole chunk of replicates, at a cost of R x pool cells. The pool stands for the model's
population: the spread of an estimate over n draws from it is the population's spread up
to a relative error of order 1 / sqrt(pool) (1% at 10,000 items), of the order of the
Monte-Carlo error of 1,000 replicates (2.2%). The expected half-width is ``z`` times the standard
deviation of the replicate estimates, shown with its Monte-Carlo standard error
``z sd / sqrt(2 (R - 1))``.

References
----------
Bloch, D. A. & Kraemer, H. C. (1989). 2 x 2 kappa coefficients: measures of agreement or
association. Biometrics 45, 269-287.
Bonett, D. G. (2002). Sample size requirements for estimating intraclass correlations with
desired precision. Statistics in Medicine 21, 1331-1335.
Donner, A. & Eliasziw, M. (1992). A goodness-of-fit approach to inference procedures for
the kappa statistic. Statistics in Medicine 11, 1511-1519.
Flack, V. F., Afifi, A. A., Lachenbruch, P. A. & Schouten, H. J. A. (1988). Sample size
determinations for the two rater kappa statistic. Psychometrika 53, 321-325.
Fleiss, J. L., Cohen, J. & Everitt, B. S. (1969). Large sample standard errors of kappa
and weighted kappa. Psychological Bulletin 72, 323-327.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from labelaudit.distributions import norm_ppf
from labelaudit.exceptions import UsageError
from labelaudit.plans._result import PlanResult, records_frame

__all__ = [
    "METRICS",
    "PilotPlan",
    "cohen_variance",
    "default_item_grid",
    "icc_items",
    "joint_table",
    "plan_pilot",
    "simulate_half_widths",
]

METRICS = ("alpha", "fleiss", "cohen", "icc")
_CELLS = 4_000_000  # replicates x pool items per chunk of item weights
_POOL = 2_000  # smallest simulated item pool
_POOL_FACTOR = 10  # pool items per item of a replicate data set


def default_item_grid() -> np.ndarray:
    """20 item counts from 20 to 2,000, evenly spaced on a log scale."""
    return np.unique(np.round(np.geomspace(20, 2000, 20)).astype(np.int64))


def joint_table(kappa: float, prevalence: npt.ArrayLike) -> np.ndarray:
    """The two-annotator joint distribution (q, q) of the common-correlation model:
    ``p_kl = (1 - kappa) pi_k pi_l + kappa pi_k [k = l]``."""
    pi = np.asarray(prevalence, dtype=np.float64)
    return (1.0 - kappa) * np.outer(pi, pi) + kappa * np.diag(pi)


def cohen_variance(kappa: float, prevalence: npt.ArrayLike) -> float:
    """n Var(kappa-hat) of Cohen's kappa at the model table (Fleiss, Cohen & Everitt 1969),
    from :func:`labelaudit.agreement.cohen.cohen_kappa` (its SE scales as 1 / sqrt(n))."""
    from labelaudit.agreement.cohen import cohen_kappa

    scale = 1e6
    se = cohen_kappa(joint_table(kappa, prevalence) * scale).se
    if se is None or not np.isfinite(se):
        raise UsageError("Cohen's kappa has no large-sample variance for this prevalence")
    return float(se) ** 2 * scale


def icc_items(rho: float, annotators: int, half_width: float, z: float) -> int:
    """Bonett (2002): items for an expected ICC CI of half-width ``half_width``."""
    k = annotators
    width = 2.0 * half_width
    n = 8.0 * z**2 * (1 - rho) ** 2 * (1 + (k - 1) * rho) ** 2 / (k * (k - 1) * width**2) + 1
    return int(np.ceil(n - 1e-9))


def _icc_half_width(rho: float, annotators: int, items: np.ndarray, z: float) -> np.ndarray:
    k = annotators
    return np.sqrt(2.0 * z**2 * (1 - rho) ** 2 * (1 + (k - 1) * rho) ** 2 / (k * (k - 1)))[
        ()
    ] / np.sqrt(np.maximum(items - 1.0, 1e-12))


def _ratings(
    rng: np.random.Generator, rows: int, k: int, pi: np.ndarray, kappa: float, missing: float
) -> np.ndarray:
    """(rows, k) category codes of the model, -1 = missing."""
    cumulative = np.cumsum(pi)
    cumulative[-1] = 1.0
    truth = np.searchsorted(cumulative, rng.random(rows), side="right")
    ratings = np.searchsorted(cumulative, rng.random((rows, k)), side="right")
    ratings = np.where((rng.random(rows) < kappa)[:, None], truth[:, None], ratings)
    if missing > 0:
        ratings = np.where(rng.random((rows, k)) < missing, -1, ratings)
    return ratings


def _coefficient(metric: str, ratings: np.ndarray, q: int) -> Any:
    """A function of item weights (B, M) -> B coefficient values over the pool ``ratings``."""
    from labelaudit.agreement.alpha import alpha_from_counts
    from labelaudit.agreement.chance import family_values
    from labelaudit.agreement.cohen import cohen_values

    if metric == "cohen":
        both = (ratings[:, 0] >= 0) & (ratings[:, 1] >= 0)
        codes = np.where(both, ratings[:, 0] * q + ratings[:, 1], -1)
        return lambda w: cohen_values(codes, q, np.eye(q), w)["cohen_kappa"]
    counts = np.stack([(ratings == c).sum(axis=1) for c in range(q)], axis=1).astype(float)
    if metric == "fleiss":
        return lambda w: family_values(counts, np.eye(q), item_weights=w)["fleiss_kappa"]
    return lambda w: np.asarray(alpha_from_counts(counts, np.arange(q), item_weights=w))


def _draws(rng: np.random.Generator, b: int, n: int, pool: int) -> np.ndarray:
    """(b, pool) multiplicities: each row draws n items of the pool with replacement."""
    picks = rng.integers(0, pool, size=(b, n)) + (np.arange(b) * pool)[:, None]
    return np.bincount(picks.ravel(), minlength=b * pool).reshape(b, pool).astype(np.float64)


def simulate_half_widths(
    metric: str,
    kappa: float,
    prevalence: npt.ArrayLike,
    annotators: int,
    items: npt.ArrayLike,
    *,
    replicates: int = 1000,
    missing: float = 0.0,
    seed: int = 0,
    confidence: float = 0.95,
) -> list[dict[str, Any]]:
    """Simulated expected CI half-width of ``metric`` for each item count.

    Parameters
    ----------
    metric : {"fleiss", "alpha", "cohen"}
    kappa : float
        Agreement of the model, in [0, 1).
    prevalence : sequence of float
        Category prevalence pi (sums to 1).
    annotators : int
        Annotators per item (2 for ``cohen``).
    items : sequence of int
        Item counts to simulate.
    replicates, missing, seed, confidence
        Replicate data sets per item count, share of missing ratings, RNG seed, CI level.

    Returns
    -------
    list of dict
        ``{"annotators", "items", "half_width", "mc_error", "mean", "undefined"}`` per item
        count: z x SD of the estimates, its Monte-Carlo SE, their mean, and how many
        replicates gave an undefined coefficient (left out).
    """
    pi = np.asarray(prevalence, dtype=np.float64)
    q = pi.size
    z = float(norm_ppf(0.5 + confidence / 2.0))
    rng = np.random.default_rng(seed)
    out = []
    for n in np.asarray(items, dtype=np.int64).tolist():
        pool = max(_POOL, _POOL_FACTOR * n)
        ratings = _ratings(rng, pool, annotators, pi, kappa, missing)
        ratings = ratings[(ratings >= 0).any(axis=1)]  # an item nobody rated is not data
        pool = ratings.shape[0]
        coefficient = _coefficient(metric, ratings, q)
        b = max(1, min(replicates, _CELLS // pool))
        values = [
            coefficient(_draws(rng, min(b, replicates - lo), n, pool))
            for lo in range(0, replicates, b)
        ]
        estimates = np.concatenate(values)
        finite = estimates[np.isfinite(estimates)]
        sd = float(np.std(finite, ddof=1)) if finite.size > 1 else float("nan")
        out.append(
            {
                "annotators": annotators,
                "items": n,
                "half_width": z * sd,
                "mc_error": z * sd / np.sqrt(2.0 * max(finite.size - 1, 1)),
                "mean": float(finite.mean()) if finite.size else None,
                "undefined": int(estimates.size - finite.size),
            }
        )
    return out


@dataclass(frozen=True)
class PilotPlan(PlanResult):
    """Result of :func:`plan_pilot`.

    ``needed`` has one row per annotator count: ``{"annotators", "items", "method",
    "reference"}`` (items = None when the metric cannot use that many annotators);
    ``tradeoff`` one row per (annotators, items): ``{"annotators", "items",
    "half_width", "mc_error"}`` (mc_error None for closed forms).
    """

    metric: str
    expected: float
    half_width: float
    confidence: float
    prevalence: tuple[float, ...]
    missing: float
    replicates: int | None
    seed: int | None
    needed: list[dict[str, Any]] = field(default_factory=list)
    tradeoff: list[dict[str, Any]] = field(default_factory=list)
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """``{"metric", "expected", "half_width", "confidence", "prevalence", "missing",
        "replicates", "seed", "needed", "tradeoff", "notes"}``."""
        return {
            "metric": self.metric,
            "expected": self.expected,
            "half_width": self.half_width,
            "confidence": self.confidence,
            "prevalence": list(self.prevalence),
            "missing": self.missing,
            "replicates": self.replicates,
            "seed": self.seed,
            "needed": [dict(row) for row in self.needed],
            "tradeoff": [dict(row) for row in self.tradeoff],
            "notes": list(self.notes),
        }

    def to_pandas(self) -> Any:
        """The trade-off table (annotators x items -> expected half-width) as a DataFrame."""
        return records_frame(self.tradeoff)


_REFERENCES = {
    "cohen": "Flack et al. (1988) with the Fleiss-Cohen-Everitt (1969) variance",
    "icc": "Bonett (2002)",
    "fleiss": "simulation (Fleiss' kappa, labelaudit.agreement.chance)",
    "alpha": "simulation (Krippendorff's alpha, labelaudit.agreement.alpha)",
}


def _prevalence(prevalence: npt.ArrayLike | None, categories: int) -> np.ndarray:
    if prevalence is None:
        if categories < 2:
            raise UsageError(f"--categories must be at least 2; got {categories}")
        return np.full(categories, 1.0 / categories)
    pi = np.asarray(prevalence, dtype=np.float64)
    if pi.size < 2 or (pi <= 0).any() or not np.isfinite(pi).all():
        raise UsageError(f"--prevalence needs two or more positive shares; got {pi.tolist()}")
    if abs(pi.sum() - 1.0) > 1e-6:
        raise UsageError(f"--prevalence must sum to 1; got {pi.tolist()} (sum {pi.sum():.6g})")
    return pi


def _check_pilot(metric: str, expected: float, half_width: float, missing: float) -> None:
    if metric not in METRICS:
        raise UsageError(f"--metric must be one of {', '.join(METRICS)}; got {metric!r}")
    if not half_width > 0 or half_width >= 1:
        raise UsageError(f"--half-width must lie strictly between 0 and 1; got {half_width}")
    if not 0.0 <= expected < 1.0:
        raise UsageError(f"--expected must lie in [0, 1); got {expected}")
    if not 0.0 <= missing < 1.0:
        raise UsageError(f"--missing must lie in [0, 1); got {missing}")


def _closed_rows(
    metric: str,
    expected: float,
    pi: np.ndarray,
    ks: list[int],
    grid: np.ndarray,
    z: float,
    half_width: float,
    missing: float,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    needed, tradeoff = [], []
    for k in ks:
        keep = (1.0 - missing) ** k  # share of items every annotator rated
        if metric == "cohen" and k != 2:
            needed.append(
                {
                    "annotators": k,
                    "items": None,
                    "method": "closed form",
                    "reference": "Cohen's kappa compares exactly two annotators",
                }
            )
            continue
        if metric == "cohen":
            v = cohen_variance(expected, pi)
            complete = int(np.ceil(z**2 * v / half_width**2 - 1e-9))
            widths = z * np.sqrt(v / np.maximum(grid * keep, 1e-12))
        else:
            complete = icc_items(expected, k, half_width, z)
            widths = _icc_half_width(expected, k, grid * keep, z)
        items = int(np.ceil(complete / keep - 1e-9))
        needed.append(
            {
                "annotators": k,
                "items": items,
                "method": "closed form",
                "reference": _REFERENCES[metric],
            }
        )
        tradeoff += [
            {"annotators": k, "items": int(n), "half_width": float(w), "mc_error": None}
            for n, w in zip(grid, widths, strict=True)
        ]
    return needed, tradeoff


def plan_pilot(
    metric: str,
    expected: float,
    half_width: float,
    *,
    annotators: Sequence[int] = (2, 3, 4, 5, 6),
    categories: int = 2,
    prevalence: npt.ArrayLike | None = None,
    missing: float = 0.0,
    items: Sequence[int] | None = None,
    replicates: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> PilotPlan:
    """Items needed for an agreement CI of a target half-width, per number of annotators.

    Parameters
    ----------
    metric : {"alpha", "fleiss", "cohen", "icc"}
    expected : float
        Anticipated coefficient (kappa of the planning model, or the ICC).
    half_width : float
        Target half-width of the ``confidence`` CI.
    annotators : sequence of int
        Annotator counts to plan for (each >= 2).
    categories, prevalence : int, sequence of float
        Number of categories (uniform prevalence) or the prevalence itself (sums to 1).
    missing : float
        Expected share of missing ratings (each rating independently).
    items : sequence of int, optional
        Item counts of the trade-off table (default :func:`default_item_grid`).
    replicates, seed : int
        Monte-Carlo replicates per cell and RNG seed (simulated metrics).
    confidence : float
        CI level.

    Returns
    -------
    PilotPlan
        Closed forms for ``cohen`` and ``icc``, simulation for ``fleiss`` and ``alpha``;
        a simulated ``items`` is ``z^2 v / w^2`` with ``v = n sd^2`` at the largest grid
        size (the half-width falls as 1 / sqrt(n)); closed forms are inflated for
        missing ratings (by 1 / (1 - missing)^k, the share of complete items), simulations
        draw the missing ratings themselves.

    Raises
    ------
    UsageError
        Unknown metric, half-width outside (0, 1), prevalence not summing to 1, fewer than
        2 annotators or categories, missing share outside [0, 1).
    """
    _check_pilot(metric, expected, half_width, missing)
    pi = _prevalence(prevalence, categories) if metric != "icc" else np.ones(1)
    ks = sorted({int(k) for k in annotators})
    if not ks or ks[0] < 2:
        raise UsageError(f"--annotators must all be at least 2; got {list(annotators)}")
    grid = np.asarray(items if items is not None else default_item_grid(), dtype=np.int64)
    if grid.size == 0 or (grid < 2).any():
        raise UsageError("item counts must be at least 2")
    z = float(norm_ppf(0.5 + confidence / 2.0))
    simulated = metric in ("fleiss", "alpha")
    if simulated:
        needed, tradeoff = _simulated_rows(
            metric, expected, pi, ks, grid, z, half_width, missing, replicates, seed, confidence
        )
    else:
        needed, tradeoff = _closed_rows(metric, expected, pi, ks, grid, z, half_width, missing)
    return PilotPlan(
        metric=metric,
        expected=expected,
        half_width=half_width,
        confidence=confidence,
        prevalence=tuple(float(p) for p in pi) if metric != "icc" else (),
        missing=missing,
        replicates=replicates if simulated else None,
        seed=seed if simulated else None,
        needed=needed,
        tradeoff=tradeoff,
    )


def _simulated_rows(
    metric: str,
    expected: float,
    pi: np.ndarray,
    ks: list[int],
    grid: np.ndarray,
    z: float,
    half_width: float,
    missing: float,
    replicates: int,
    seed: int,
    confidence: float,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    needed, tradeoff = [], []
    for offset, k in enumerate(ks):
        rows = simulate_half_widths(
            metric,
            expected,
            pi,
            k,
            grid,
            replicates=replicates,
            missing=missing,
            seed=seed + offset,
            confidence=confidence,
        )
        tradeoff += [
            {key: row[key] for key in ("annotators", "items", "half_width", "mc_error")}
            for row in rows
        ]
        last = rows[-1]
        v = last["items"] * (last["half_width"] / z) ** 2
        n = int(np.ceil(z**2 * v / half_width**2 - 1e-9)) if np.isfinite(v) else None
        needed.append(
            {"annotators": k, "items": n, "method": "simulation", "reference": _REFERENCES[metric]}
        )
    return needed, tradeoff
