"""Means of ratio statistics over groups, with item-level uncertainty.

Most structured coefficients are a mean over G groups (annotator pairs, or one pooled
group) of a ratio of totals over items, ``R_g = sum_i num_ig / sum_i den_ig``: pairwise F1
(num = 2 TP, den = |A| + |B|), mean IoU (num = IoU, den = 1 per match), a mean of
per-item values (num = value, den = 1). Items are the sampling units:

* analytic: first-order (delta-method) linearisation over items, the influence of item i
  being ``z_i = (1/G) sum_g (num_ig - R_g den_ig) / D_g``, so
  ``SE^2 = n / (n - 1) sum_i z_i^2`` (n items that contribute), with a t-based 95% CI
  (n - 1 df, upper end clipped at 1, as for the categorical coefficients);
* bootstrap: items resampled with replacement (Hayes & Krippendorff 2007), each replicate
  recomputing every group total by a sparse product with the item multiplicities;
  percentile 95% CI, SE = replicate SD.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from labelaudit.intervals import bootstrap_item_weights, t_interval
from labelaudit.results import MetricResult

__all__ = [
    "Contributions",
    "compress",
    "identical_agreement",
    "mean_of_ratios",
    "percentile_result",
    "strip_ci",
]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Contributions:
    """Additive contributions ``(item, group, num, den)``; keys may repeat (they are summed)."""

    item: I64
    group: I64
    num: F64
    den: F64

    def select(self, mask: npt.NDArray[np.bool_]) -> Contributions:
        """The contributions where ``mask`` is true."""
        return Contributions(self.item[mask], self.group[mask], self.num[mask], self.den[mask])

    @staticmethod
    def concat(parts: list[Contributions]) -> Contributions:
        """All contributions of ``parts`` in one object."""
        return Contributions(
            np.concatenate([p.item for p in parts], dtype=np.int64),
            np.concatenate([p.group for p in parts], dtype=np.int64),
            np.concatenate([p.num for p in parts], dtype=np.float64),
            np.concatenate([p.den for p in parts], dtype=np.float64),
        )


def compress(codes: I64) -> tuple[I64, I64]:
    """Sorted distinct codes and the index of each code among them (``np.unique`` with
    ``return_inverse``; a bincount when the codes are small non-negative integers)."""
    if codes.size == 0:
        return codes.astype(np.int64), codes.astype(np.int64)
    top = int(codes.max())
    if codes.min() < 0 or top > 4 * codes.size + 1_000_000:
        distinct, inverse = np.unique(codes, return_inverse=True)
        return distinct.astype(np.int64), inverse.astype(np.int64)
    present = np.bincount(codes, minlength=top + 1) > 0
    position = np.cumsum(present) - 1
    return np.flatnonzero(present).astype(np.int64), position[codes].astype(np.int64)


def mean_of_ratios(
    c: Contributions,
    *,
    ci: str = "analytic",
    n_boot: int = 1000,
    seed: int = 0,
    undefined: str = "nothing to compare",
    extra: dict[str, Any] | None = None,
) -> MetricResult:
    """Mean over groups of ``sum num / sum den``, with an item-level SE and 95% CI.

    Parameters
    ----------
    c : Contributions
        Arrays of one length: item code, group code, numerator, denominator.
    ci : {"analytic", "bootstrap", "none"}
        Uncertainty method (see the module docstring).
    n_boot, seed : int
        Bootstrap replicates and seed (items resampled).
    undefined : str
        Reason given when no group has a positive denominator.
    extra : dict, optional
        Extra JSON fields of the result.

    Returns
    -------
    MetricResult
        ``value`` = mean of the defined group ratios (groups with sum den > 0); ``extra``
        holds ``n_groups`` and ``n_items`` (items that contribute) besides ``extra``.
    """
    info = dict(extra or {})
    groups, g = compress(c.group)
    den_total = np.bincount(g, c.den, minlength=groups.size)
    defined = den_total > 0
    if not defined.any():
        return MetricResult.undefined(undefined, **info)
    num_total = np.bincount(g, c.num, minlength=groups.size)
    ratio = np.divide(num_total, den_total, out=np.zeros_like(num_total), where=defined)
    value = float(ratio[defined].mean())
    use = defined[g] & ((c.den != 0) | (c.num != 0))
    items, item_index = compress(c.item[use])
    info |= {"n_groups": int(defined.sum()), "n_items": int(items.size)}
    if ci == "none":
        return MetricResult(value=value, extra=info)
    gu = g[use]
    if ci == "bootstrap":
        return _bootstrap(value, info, item_index, gu, c.num[use], c.den[use], n_boot, seed)
    n = items.size
    if n < 2:
        return MetricResult(value=value, reason="one item: no standard error", extra=info)
    influence = (c.num[use] - ratio[gu] * c.den[use]) / den_total[gu] / float(defined.sum())
    z = np.bincount(item_index, influence, minlength=n)
    se = float(np.sqrt(n / (n - 1.0) * float(((z - z.mean()) ** 2).sum())))
    interval, _ = t_interval(value, se, n - 1)
    return MetricResult(value=value, se=se, ci95=interval, ci_method="analytic", extra=info)


def _bootstrap(
    value: float,
    info: dict[str, Any],
    item: I64,
    group: I64,
    num: F64,
    den: F64,
    n_boot: int,
    seed: int,
) -> MetricResult:
    """Percentile bootstrap over items; each replicate recomputes every group total."""
    from scipy import sparse

    n_items = int(item.max()) + 1 if item.size else 0
    n_groups = int(group.max()) + 1 if group.size else 0
    shape = (n_groups, n_items)
    num_m = sparse.csr_matrix((num, (group, item)), shape=shape)
    den_m = sparse.csr_matrix((den, (group, item)), shape=shape)
    draws = []
    for weights in bootstrap_item_weights(n_items, n_boot, seed):
        n_w = np.asarray(num_m @ weights.T).T
        d_w = np.asarray(den_m @ weights.T).T
        ok = d_w > 0
        ratio = np.divide(n_w, d_w, out=np.zeros_like(n_w), where=ok)
        count = ok.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            draws.append(np.where(count > 0, (ratio * ok).sum(axis=1) / count, np.nan))
    return _percentile(value, info, np.concatenate(draws) if draws else np.zeros(0))


def _percentile(value: float, info: dict[str, Any], draws: F64) -> MetricResult:
    finite = draws[np.isfinite(draws)]
    if finite.size < 2:
        return MetricResult(
            value=value,
            ci_method="bootstrap",
            reason="bootstrap replicates were undefined",
            extra=info,
        )
    low, high = np.percentile(finite, [2.5, 97.5])
    return MetricResult(
        value=value,
        se=float(finite.std(ddof=1)),
        ci95=(float(low), float(high)),
        ci_method="bootstrap",
        extra=info | {"n_boot_defined": int(finite.size)},
    )


def percentile_result(value: float, info: dict[str, Any], draws: F64) -> MetricResult:
    """A bootstrap MetricResult from replicate values (NaN replicates are dropped)."""
    return _percentile(value, info, draws)


def strip_ci(result: MetricResult) -> MetricResult:
    """The same value without SE and CI (``ci="none"``)."""
    return MetricResult(value=result.value, reason=result.reason, extra=result.extra)


def identical_agreement(
    item: I64,
    code: I64,
    *,
    ci: str = "analytic",
    n_boot: int = 1000,
    seed: int = 0,
    extra: dict[str, Any] | None = None,
) -> MetricResult:
    """Share of annotator pairs of an item whose values are identical, averaged over items.

    Per item with m >= 2 ratings: sum_c n_c (n_c - 1) / (m (m - 1)) over its distinct
    value codes c (the observed agreement of percent agreement, Gwet 2014); the mean over
    such items, computed from sparse (item, code) counts.
    """
    item = np.asarray(item, dtype=np.int64)
    code = np.asarray(code, dtype=np.int64)
    width = int(code.max()) + 1 if code.size else 1
    keys, counts = np.unique(item * width + code, return_counts=True)
    cell_item = keys // width
    m = np.bincount(item)
    same = np.bincount(cell_item, counts * (counts - 1.0), minlength=m.size)
    pairable = np.flatnonzero(m >= 2)
    per_item = same[pairable] / (m[pairable] * (m[pairable] - 1.0))
    contributions = Contributions(
        pairable.astype(np.int64),
        np.zeros(pairable.size, np.int64),
        per_item,
        np.ones_like(per_item),
    )
    return mean_of_ratios(
        contributions,
        ci=ci,
        n_boot=n_boot,
        seed=seed,
        undefined="nothing pairable: no item has two or more annotations",
        extra=extra,
    )
