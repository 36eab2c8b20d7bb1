"""Acceptance sampling for review batches: exact single and double plans and OC curves.

A batch of ``N`` annotations holds ``D`` wrong ones; a reviewer checks a random sample of
``n`` without replacement and accepts the batch when at most ``c`` are wrong. The number of
wrong ones in the sample is hypergeometric (``N``, ``D``, ``n``); for an unbounded stream
of items it is binomial (``n``, ``p``). At quality ``p`` the lot holds ``D = round(p N)``
wrong items, rounded half up.

The *single plan* for an AQL (producer's quality, accepted with probability at least
``1 - alpha``) and an LTPD (consumer's quality, accepted with probability at most
``beta``) is the one with the smallest ``n`` that meets both risks exactly, ties broken
by the largest ``c`` (Guenther 1969; Schilling & Neubauer 2017, ch. 4 and 6). The *double
plan* (n1 = n2, r1 = c2 + 1) is the one with the smallest first sample, then the smallest
average sample number at the AQL. Both are searched exhaustively with vectorised
``scipy.stats`` distributions, never approximated by Poisson nomographs.

References
----------
Guenther, W. C. (1969). Use of the binomial, hypergeometric and Poisson tables to obtain
sampling plans. J. Quality Technology 1(2), 105-109.
Schilling, E. G. & Neubauer, D. V. (2017). Acceptance Sampling in Quality Control, 3rd ed.
Kenett, R. S., Zacks, S. & Gedeck, P. (2023). Industrial Statistics: A Computer-Based
Approach with Python, ch. 11 (the N = 100 hypergeometric plans reproduced in the tests).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from labelaudit.exceptions import UsageError
from labelaudit.plans import milstd105e
from labelaudit.plans._result import PlanResult, records_frame

__all__ = [
    "DoublePlan",
    "ReviewPlan",
    "SinglePlan",
    "defectives",
    "double_accept_probability",
    "oc_curve",
    "oc_grid",
    "plan_review",
    "single_accept_probability",
]

_BLOCK = 128  # sample sizes searched per vectorised block
_OC_POINTS = 41


def defectives(p: Any, batch_size: int | None) -> np.ndarray:
    """Wrong items ``D = round(p N)`` in a lot of ``N`` (rounded half up); ``p`` itself
    (a fraction) when ``batch_size`` is None (binomial, unbounded stream)."""
    p = np.asarray(p, dtype=np.float64)
    if batch_size is None:
        return p
    return np.floor(p * batch_size + 0.5 + 1e-9).astype(np.int64)


def _cdf(c: Any, n: Any, p: Any, batch_size: int | None) -> np.ndarray:
    """P(X <= c) for the sample count X, broadcasting c, n and p (fractions)."""
    if batch_size is None:
        return np.asarray(stats.binom.cdf(c, n, p))
    return np.asarray(stats.hypergeom.cdf(c, batch_size, defectives(p, batch_size), n))


def single_accept_probability(
    n: int, c: int, p: Any, *, batch_size: int | None = None
) -> np.ndarray:
    """Probability of accepting a lot of quality ``p`` (fractions, any shape) with the single
    plan (n, c): hypergeometric with ``D = round(p N)`` or binomial when ``batch_size`` is
    None. Returns an array of the shape of ``p``."""
    return _cdf(c, n, p, batch_size)


def double_accept_probability(
    n1: int, c1: int, n2: int, c2: int, p: Any, *, batch_size: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Acceptance probability and average sample number of the double plan.

    First sample n1: accept when d1 <= c1, reject when d1 > c2; otherwise a second sample
    of n2 (drawn from the N - n1 remaining items, D - d1 of them wrong) and accept when
    d1 + d2 <= c2. Returns ``(p_accept, asn)`` with the shape of ``p``.
    """
    p = np.atleast_1d(np.asarray(p, dtype=np.float64))
    d1 = np.arange(c1 + 1, c2 + 1)
    out, second = np.empty(p.shape), np.empty(p.shape)
    for index, value in np.ndenumerate(p):
        first = _cdf(c1, n1, value, batch_size)
        if batch_size is None:
            pmf = stats.binom.pmf(d1, n1, value)
            cond = stats.binom.cdf(c2 - d1, n2, value)
        else:
            big_d = int(defectives(value, batch_size))
            pmf = stats.hypergeom.pmf(d1, batch_size, big_d, n1)
            cond = stats.hypergeom.cdf(c2 - d1, batch_size - n1, big_d - d1, n2)
        out[index] = float(first) + float(np.sum(pmf * np.nan_to_num(cond)))
        second[index] = float(np.sum(pmf))
    return out.reshape(p.shape), n1 + n2 * second.reshape(p.shape)


@dataclass(frozen=True)
class SinglePlan:
    """A single sampling plan: review ``n`` items, accept when at most ``c`` are wrong."""

    n: int
    c: int
    p_accept_at_aql: float
    p_accept_at_ltpd: float

    def to_dict(self) -> dict[str, Any]:
        """``{"n", "c", "r", "p_accept_at_aql", "p_accept_at_ltpd"}`` (r = c + 1 rejects)."""
        return {
            "n": self.n,
            "c": self.c,
            "r": self.c + 1,
            "p_accept_at_aql": self.p_accept_at_aql,
            "p_accept_at_ltpd": self.p_accept_at_ltpd,
        }


@dataclass(frozen=True)
class DoublePlan:
    """A double sampling plan (n1, c1, r1 = c2 + 1; n2, c2) with its risks and ASN."""

    n1: int
    c1: int
    n2: int
    c2: int
    p_accept_at_aql: float
    p_accept_at_ltpd: float
    asn_at_aql: float
    asn_at_ltpd: float

    def to_dict(self) -> dict[str, Any]:
        """``{"n1", "c1", "r1", "n2", "c2", "p_accept_at_aql", "p_accept_at_ltpd",
        "asn_at_aql", "asn_at_ltpd"}``."""
        return {
            "n1": self.n1,
            "c1": self.c1,
            "r1": self.c2 + 1,
            "n2": self.n2,
            "c2": self.c2,
            "p_accept_at_aql": self.p_accept_at_aql,
            "p_accept_at_ltpd": self.p_accept_at_ltpd,
            "asn_at_aql": self.asn_at_aql,
            "asn_at_ltpd": self.asn_at_ltpd,
        }


@dataclass(frozen=True)
class ReviewPlan(PlanResult):
    """Result of :func:`plan_review`: single, double and MIL-STD-105E plans and OC curve."""

    batch_size: int | None
    aql: float
    ltpd: float
    alpha: float
    beta: float
    single: SinglePlan | None
    double: DoublePlan | None
    mil_std: dict[str, Any] | None
    oc_curve: list[dict[str, Any]] = field(default_factory=list)
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """``{"batch_size", "aql", "ltpd", "alpha", "beta", "distribution", "single",
        "double", "mil_std_105e", "oc_curve": [{"p", "p_accept", "p_accept_double",
        "p_accept_mil_std"}], "notes"}``; a plan that does not exist is null."""
        return {
            "batch_size": self.batch_size,
            "aql": self.aql,
            "ltpd": self.ltpd,
            "alpha": self.alpha,
            "beta": self.beta,
            "distribution": "binomial" if self.batch_size is None else "hypergeometric",
            "single": None if self.single is None else self.single.to_dict(),
            "double": None if self.double is None else self.double.to_dict(),
            "mil_std_105e": self.mil_std,
            "oc_curve": [dict(row) for row in self.oc_curve],
            "notes": list(self.notes),
        }

    def to_pandas(self) -> Any:
        """The OC curve as a pandas DataFrame (one row per lot quality p)."""
        return records_frame(self.oc_curve)


def _check(batch_size: int | None, aql: float, ltpd: float, alpha: float, beta: float) -> None:
    if batch_size is not None and batch_size < 1:
        raise UsageError(f"--batch-size must be at least 1; got {batch_size}")
    if not 0.0 <= aql < 1.0 or not 0.0 < ltpd <= 1.0:
        raise UsageError(f"AQL and LTPD must be fractions in [0, 1); got {aql} and {ltpd}")
    if aql >= ltpd:
        raise UsageError(f"the AQL must be below the LTPD; got AQL {aql} >= LTPD {ltpd}")
    for name, value in (("alpha", alpha), ("beta", beta)):
        if not 0.0 < value < 1.0:
            raise UsageError(f"--{name} must lie strictly between 0 and 1; got {value}")


def _single(
    batch_size: int | None, aql: float, ltpd: float, alpha: float, beta: float
) -> SinglePlan | None:
    """Smallest n meeting both risks; for that n, the largest feasible c."""
    limit = batch_size if batch_size is not None else 100_000
    c_max = limit if batch_size is None else min(int(defectives(ltpd, batch_size)), limit)
    for lo in range(1, limit + 1, _BLOCK):
        n = np.arange(lo, min(lo + _BLOCK, limit + 1))[:, None]
        width = min(c_max, int(n[-1, 0])) + 1
        c = np.arange(width)[None, :]
        ok = (_cdf(c, n, aql, batch_size) >= 1.0 - alpha - 1e-12) & (
            _cdf(c, n, ltpd, batch_size) <= beta + 1e-12
        )
        ok &= c <= n
        rows = np.flatnonzero(ok.any(axis=1))
        if rows.size:
            best_n = int(n[rows[0], 0])
            best_c = int(np.flatnonzero(ok[rows[0]])[-1])
            return SinglePlan(
                best_n,
                best_c,
                float(_cdf(best_c, best_n, aql, batch_size)),
                float(_cdf(best_c, best_n, ltpd, batch_size)),
            )
    return None


def _double_tables(
    n1: int, p: float, batch_size: int | None, c_top: int
) -> tuple[np.ndarray, np.ndarray]:
    """For n2 = n1: P_accept[c1, c2] (c1 < c2 <= c_top, else NaN) and P(d1 <= c) (c_top+1,).

    P_accept = P(d1 <= c1) + sum_{d1 = c1+1}^{c2} P(d1) P(d2 <= c2 - d1 | d1).
    """
    d = np.arange(c_top + 1)
    gap = d[None, :] - d[:, None]  # [d1, c2]: c2 - d1
    if batch_size is None:
        pmf = stats.binom.pmf(d, n1, p)
        cond = stats.binom.cdf(gap, n1, p)
    else:
        big_d = int(defectives(p, batch_size))
        pmf = stats.hypergeom.pmf(d, batch_size, big_d, n1)
        cond = stats.hypergeom.cdf(gap, batch_size - n1, np.maximum(big_d - d[:, None], 0), n1)
    terms = np.where(gap >= 0, pmf[:, None] * np.nan_to_num(cond), 0.0)
    tail = np.cumsum(terms[::-1], axis=0)[::-1]  # tail[j, c2] = sum over d1 >= j
    above = np.vstack([tail[1:], np.zeros((1, c_top + 1))])  # sum over d1 >= c1 + 1
    first = np.cumsum(pmf)
    table = first[:, None] + above
    return np.where(gap > 0, table, np.nan), first


def _double(
    batch_size: int | None, aql: float, ltpd: float, alpha: float, beta: float, n_max: int
) -> DoublePlan | None:
    """Smallest n1 (= n2) with a feasible (c1, c2); then least ASN at the AQL, largest c2."""
    for n1 in range(1, n_max + 1):
        if batch_size is not None and 2 * n1 > batch_size:
            return None
        c_top = min(2 * n1, int(np.ceil(2 * n1 * ltpd)) + 1)
        if batch_size is not None:
            c_top = min(c_top, int(defectives(ltpd, batch_size)))
        if c_top < 1:
            continue
        good, first_good = _double_tables(n1, aql, batch_size, c_top)
        bad, first_bad = _double_tables(n1, ltpd, batch_size, c_top)
        with np.errstate(invalid="ignore"):
            ok = (good >= 1.0 - alpha - 1e-12) & (bad <= beta + 1e-12)
        if not ok.any():
            continue
        c1, c2 = np.nonzero(ok)
        asn = n1 + n1 * (first_good[c2] - first_good[c1])
        pick = np.lexsort((-c2, asn))[0]
        a, b = int(c1[pick]), int(c2[pick])
        return DoublePlan(
            n1=n1,
            c1=a,
            n2=n1,
            c2=b,
            p_accept_at_aql=float(good[a, b]),
            p_accept_at_ltpd=float(bad[a, b]),
            asn_at_aql=float(asn[pick]),
            asn_at_ltpd=float(n1 + n1 * (first_bad[b] - first_bad[a])),
        )
    return None


def oc_grid(aql: float, ltpd: float) -> np.ndarray:
    """Lot qualities of the OC table: 0 to min(1, 2 LTPD) in 40 steps, AQL and LTPD added."""
    grid = np.linspace(0.0, min(1.0, 2.0 * ltpd), _OC_POINTS)
    return np.unique(np.concatenate([grid, [aql, ltpd]]))


def oc_curve(n: int, c: int, p: Any, *, batch_size: int | None = None) -> list[dict[str, float]]:
    """``[{"p", "p_accept"}]`` of the single plan (n, c) at the lot qualities ``p``."""
    grid = np.asarray(p, dtype=np.float64)
    values = single_accept_probability(n, c, grid, batch_size=batch_size)
    return [{"p": float(a), "p_accept": float(b)} for a, b in zip(grid, values, strict=True)]


def plan_review(
    batch_size: int | None,
    aql: float,
    ltpd: float,
    *,
    alpha: float = 0.05,
    beta: float = 0.10,
    inspection_level: str = "II",
) -> ReviewPlan:
    """Exact single and double review plans for a batch, their OC curve, and MIL-STD-105E.

    Parameters
    ----------
    batch_size : int or None
        Items in the batch (hypergeometric); None for an unbounded stream (binomial).
    aql, ltpd : float
        Error rates (fractions) accepted with probability >= 1 - alpha, and with
        probability <= beta.
    alpha, beta : float
        Producer's and consumer's risks.
    inspection_level : str
        MIL-STD-105E general inspection level of the comparison column (I, II, III).

    Returns
    -------
    ReviewPlan
        ``single`` is None when no sample of at most the whole batch meets both risks.

    Raises
    ------
    UsageError
        AQL >= LTPD, risks outside (0, 1), or a batch size below 1.
    """
    _check(batch_size, aql, ltpd, alpha, beta)
    single = _single(batch_size, aql, ltpd, alpha, beta)
    notes: list[str] = []
    if single is None:
        notes.append("no single plan meets both risks: inspect the whole batch")
    n_max = single.n if single is not None else 0
    double = _double(batch_size, aql, ltpd, alpha, beta, n_max)
    mil = milstd105e.lookup(batch_size, aql, level=inspection_level) if batch_size else None
    grid = oc_grid(aql, ltpd)
    rows: list[dict[str, Any]] = [{"p": float(p)} for p in grid]
    columns: dict[str, np.ndarray | None] = {
        "p_accept": None
        if single is None
        else single_accept_probability(single.n, single.c, grid, batch_size=batch_size),
        "p_accept_double": None
        if double is None
        else double_accept_probability(
            double.n1, double.c1, double.n2, double.c2, grid, batch_size=batch_size
        )[0],
        "p_accept_mil_std": None
        if mil is None
        else single_accept_probability(mil["n"], mil["c"], grid, batch_size=batch_size),
    }
    for key, values in columns.items():
        for i, row in enumerate(rows):
            row[key] = None if values is None else float(values[i])
    return ReviewPlan(
        batch_size=batch_size,
        aql=aql,
        ltpd=ltpd,
        alpha=alpha,
        beta=beta,
        single=single,
        double=double,
        mil_std=mil,
        oc_curve=rows,
        notes=tuple(notes),
    )
