"""Review samples: a reproducible stratified draw and its unbiased error-rate estimate.

:func:`draw_review_sample` picks annotations to review: strata (by annotator, label or
confidence quartile) get proportional allocation (largest remainders, at least one per
stratum when the sample allows), and a simple random sample without replacement inside
each. Each row carries its inclusion probability ``pi_h = n_h / N_h`` and weight 1 / pi_h.

:func:`score_review` joins reviewers' decisions and estimates the batch error rate with the
Horvitz-Thompson (stratified) estimator ``p = sum_h N_h p_h / N`` (unbiased under the
design), its variance ``sum_h (N_h / N)^2 (1 - n_h / N_h) s_h^2 / n_h`` (Cochran 1977,
eq. 5.6), and a Wilson interval on the effective sample size ``p (1 - p) / var`` (Korn &
Graubard 1998). The accept/reject decision applies the plan (n, c) to the count of wrong
annotations in the sample.

References
----------
Cochran, W. G. (1977). Sampling Techniques, 3rd ed., ch. 5.
Horvitz, D. G. & Thompson, D. J. (1952). JASA 47, 663-685.
Korn, E. L. & Graubard, B. I. (1998). Confidence intervals for proportions with small
expected number of positive counts estimated from survey data. Survey Methodology 24.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from labelaudit.exceptions import UsageError
from labelaudit.intervals import Z95
from labelaudit.plans._result import PlanResult, records_frame

__all__ = ["STRATA", "ReviewScore", "allocate", "draw_review_sample", "score_review"]

STRATA = ("none", "annotator", "label", "confidence")


def allocate(sizes: np.ndarray, total: int) -> np.ndarray:
    """Proportional allocation of ``total`` over strata of ``sizes`` (largest remainders),
    at least one per stratum when ``total`` allows, never more than a stratum holds."""
    sizes = np.asarray(sizes, dtype=np.int64)
    total = int(min(total, sizes.sum()))
    floor_one = total >= sizes.size
    share = sizes * total / sizes.sum()
    alloc = np.floor(share).astype(np.int64)
    if floor_one:
        alloc = np.maximum(alloc, 1)
    alloc = np.minimum(alloc, sizes)
    while alloc.sum() > total:  # the floor of one overshot: take from the largest
        alloc[np.argmax(alloc - share)] -= 1
    order = np.argsort(-(share - alloc), kind="stable")
    for index in order:
        if alloc.sum() >= total:
            break
        if alloc[index] < sizes[index]:
            alloc[index] += 1
    return alloc


def _strata_keys(rows: list[dict[str, Any]], stratify: str) -> np.ndarray:
    if stratify == "none":
        return np.zeros(len(rows), dtype=object)
    if stratify in ("annotator", "label"):
        return np.array([str(r[stratify]) for r in rows], dtype=object)
    values = []
    for r in rows:
        raw = (r.get("extra") or {}).get("confidence")
        try:
            values.append(float(raw))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise UsageError(
                f"--stratify confidence needs a numeric 'confidence' field on every "
                f"annotation; item {r['item']!r} has {raw!r}"
            ) from None
    edges = np.quantile(values, [0.25, 0.5, 0.75])
    quartile = np.searchsorted(edges, values, side="right") + 1
    return np.array([f"Q{q}" for q in quartile], dtype=object)


def draw_review_sample(
    rows: list[dict[str, Any]], size: int, *, stratify: str = "none", seed: int = 0
) -> list[dict[str, Any]]:
    """Draw ``size`` annotations to review, reproducibly.

    Parameters
    ----------
    rows : list of dict
        The batch's annotations: ``item``, ``annotator``, ``label`` (and ``extra``).
    size : int
        Sample size (capped at the batch size).
    stratify : {"none", "annotator", "label", "confidence"}
    seed : int

    Returns
    -------
    list of dict
        ``{"item", "annotator", "label", "stratum", "stratum_size", "stratum_sample",
        "inclusion_probability", "weight"}`` in batch order.
    """
    if stratify not in STRATA:
        raise UsageError(f"--stratify must be one of {', '.join(STRATA)}; got {stratify!r}")
    if size < 1:
        raise UsageError(f"--size must be at least 1; got {size}")
    if not rows:
        raise UsageError("the batch holds no annotation to sample")
    keys = _strata_keys(rows, stratify)
    names, codes, sizes = np.unique(keys.astype(str), return_inverse=True, return_counts=True)
    alloc = allocate(sizes, size)
    rng = np.random.default_rng(seed)
    keys_random = rng.random(len(rows))  # rank inside the stratum: SRS without replacement
    order = np.lexsort((keys_random, codes))
    rank = np.empty(len(rows), dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rank[order] = np.arange(len(rows)) - np.repeat(starts, sizes)
    chosen = np.flatnonzero(rank < alloc[codes])
    out = []
    for i in chosen:
        h = codes[i]
        prob = alloc[h] / sizes[h]
        out.append(
            {
                "item": rows[i]["item"],
                "annotator": rows[i]["annotator"],
                "label": rows[i]["label"],
                "stratum": str(names[h]),
                "stratum_size": int(sizes[h]),
                "stratum_sample": int(alloc[h]),
                "inclusion_probability": float(prob),
                "weight": float(1.0 / prob),
            }
        )
    return out


@dataclass(frozen=True)
class ReviewScore(PlanResult):
    """Result of :func:`score_review`."""

    reviewed: int
    errors: int
    error_rate: float
    se: float
    ci95: tuple[float, float]
    plan_n: int
    plan_c: int
    accepted: bool
    strata: list[dict[str, Any]] = field(default_factory=list)
    notes: tuple[str, ...] = ()

    @property
    def exit_code(self) -> int:
        """0 when the batch is accepted, 1 when rejected (a failed gate)."""
        return 0 if self.accepted else 1

    def to_dict(self) -> dict[str, Any]:
        """``{"reviewed", "errors", "error_rate", "se", "ci95", "plan": {"n", "c"},
        "decision", "accepted", "strata", "notes"}``."""
        return {
            "reviewed": self.reviewed,
            "errors": self.errors,
            "error_rate": self.error_rate,
            "se": self.se,
            "ci95": list(self.ci95),
            "plan": {"n": self.plan_n, "c": self.plan_c},
            "decision": "accept" if self.accepted else "reject",
            "accepted": self.accepted,
            "strata": [dict(s) for s in self.strata],
            "notes": list(self.notes),
        }

    def to_pandas(self) -> Any:
        """Per-stratum counts and error rates as a DataFrame."""
        return records_frame(self.strata)


def _wilson(p: float, n_eff: float, z: float) -> tuple[float, float]:
    centre = (p + z**2 / (2 * n_eff)) / (1 + z**2 / n_eff)
    half = z * np.sqrt(p * (1 - p) / n_eff + z**2 / (4 * n_eff**2)) / (1 + z**2 / n_eff)
    return (max(0.0, float(centre - half)), min(1.0, float(centre + half)))


def score_review(
    sample: list[dict[str, Any]], wrong: np.ndarray, *, plan_n: int, plan_c: int
) -> ReviewScore:
    """Error-rate estimate, 95% CI and decision from a reviewed sample.

    Parameters
    ----------
    sample : list of dict
        Rows of :func:`draw_review_sample` (``stratum``, ``stratum_size``).
    wrong : ndarray of bool, shape (len(sample),)
        The reviewer's verdict per row: True = the annotation is wrong.
    plan_n, plan_c : int
        The plan: accept when at most ``plan_c`` of the reviewed annotations are wrong.

    Returns
    -------
    ReviewScore
    """
    if plan_n < 1 or plan_c < 0:
        raise UsageError(f"--plan-n must be >= 1 and --plan-c >= 0; got {plan_n}, {plan_c}")
    wrong = np.asarray(wrong, dtype=bool)
    names = np.array([str(r["stratum"]) for r in sample], dtype=object).astype(str)
    strata, codes = np.unique(names, return_inverse=True)
    big_n = np.array([next(r["stratum_size"] for r in sample if r["stratum"] == s) for s in strata])
    n_h = np.bincount(codes, minlength=strata.size)
    e_h = np.bincount(codes, weights=wrong.astype(float), minlength=strata.size)
    p_h = e_h / n_h
    total = big_n.sum()
    rate = float((big_n * p_h).sum() / total)
    s2 = np.where(n_h > 1, p_h * (1 - p_h) * n_h / np.maximum(n_h - 1, 1), 0.0)
    var = float(((big_n / total) ** 2 * (1 - n_h / big_n) * s2 / n_h).sum())
    z = Z95
    n_eff = rate * (1 - rate) / var if var > 0 else float(n_h.sum())
    notes = []
    if len(sample) != plan_n:
        notes.append(f"{len(sample)} annotations reviewed, the plan says {plan_n}")
    rows = [
        {
            "stratum": str(s),
            "size": int(N),
            "reviewed": int(n),
            "errors": int(e),
            "error_rate": float(p),
        }
        for s, N, n, e, p in zip(strata, big_n, n_h, e_h, p_h, strict=True)
    ]
    errors = int(wrong.sum())
    return ReviewScore(
        reviewed=len(sample),
        errors=errors,
        error_rate=rate,
        se=float(np.sqrt(var)),
        ci95=_wilson(rate, max(n_eff, 1.0), z),
        plan_n=plan_n,
        plan_c=plan_c,
        accepted=errors <= plan_c,
        strata=rows,
        notes=tuple(notes),
    )
