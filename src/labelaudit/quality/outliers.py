"""Outlier annotators: explicit, documented rules that turn metrics into flag records.

Every rule looks only at annotators with at least ``min_labels`` labels ("eligible"); the
reference pool of a metric is the eligible annotators with a defined value, and needs at
least ``min_pool`` members. Robust z-scores are modified z-scores (Iglewicz & Hoaglin
1993): z = (x - median) / (1.4826 MAD) over the pool (1.253314 x mean absolute deviation
when the MAD is 0). The rules (defaults in :class:`OutlierRules`):

===============  ==============================  =====================================
metric           score                           flagged when
===============  ==============================  =====================================
gold_accuracy    robust z                        z <= -z_threshold, n_gold >= min_gold,
                                                 and the Wilson 95% upper bound < median
loo_agreement    robust z                        z <= -z_threshold
ds_accuracy      robust z                        z <= -z_threshold
js_divergence    robust z                        z >= z_threshold
median_seconds   robust z of log10(max(s, 0.1))  z <= -z_threshold (too fast)
longest_run      chance p-value of the run       p <= run_alpha and robust z of
                                                 -log10 p >= z_threshold
spammer          Dawid-Skene kappa               kappa <= kappa_max and MACE spamming
                                                 >= spam_threshold (either alone when
                                                 only one of the two models ran)
===============  ==============================  =====================================

Dawid-Skene kappa is the annotator's accuracy under the Dawid-Skene model, corrected for
the accuracy their own label frequencies would reach by chance:
(acc - chance) / (1 - chance), chance = sum_k prior_k * P(label k). A spammer's labels are
independent of the true class, so kappa is near 0 and MACE's spamming probability near 1.
Flags are records (:class:`Flag`), never exceptions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from labelaudit.exceptions import UsageError
from labelaudit.quality._stats import robust_z
from labelaudit.quality.annotators import SPEED_FLOOR, AnnotatorMetrics
from labelaudit.results import clean_number

__all__ = ["FLAG_METRICS", "Flag", "OutlierRules", "PoolStats", "flag_annotators"]

#: Metrics that can be flagged, in the order flags are listed for one annotator.
FLAG_METRICS: tuple[str, ...] = (
    "gold_accuracy",
    "loo_agreement",
    "ds_accuracy",
    "js_divergence",
    "median_seconds",
    "longest_run",
    "spammer",
)


@dataclass(frozen=True)
class OutlierRules:
    """Thresholds of the outlier rules (see the module docstring for the rules).

    Parameters
    ----------
    min_labels : int
        Labels an annotator needs before any flag (default 20).
    min_gold : int
        Gold labels an annotator needs before a gold-accuracy flag (default 10).
    min_pool : int
        Eligible annotators with a value needed to form a robust-z pool (default 5).
    z_threshold : float
        |robust z| at or beyond which a value is an outlier (default 3.5, Iglewicz &
        Hoaglin 1993).
    run_alpha : float
        Largest chance p-value of a run of identical labels that may be flagged (1e-4).
    kappa_max : float
        Largest Dawid-Skene kappa of a spammer (default 0.1).
    spam_threshold : float
        Smallest MACE spamming probability of a spammer (default 0.9).
    """

    min_labels: int = 20
    min_gold: int = 10
    min_pool: int = 5
    z_threshold: float = 3.5
    run_alpha: float = 1e-4
    kappa_max: float = 0.1
    spam_threshold: float = 0.9

    def __post_init__(self) -> None:
        for name in ("min_labels", "min_gold", "min_pool"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UsageError(f"{name} must be an integer >= 1; got {value!r}")
        checks = {
            "z_threshold": (0.0, np.inf),
            "run_alpha": (0.0, 1.0),
            "kappa_max": (-1.0, 1.0),
            "spam_threshold": (0.0, 1.0),
        }
        for name, (low, high) in checks.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise UsageError(f"{name} must be a number; got {value!r}")
            if not low <= float(value) <= high or (name == "z_threshold" and value <= 0):
                raise UsageError(f"{name} must be in [{low}, {high}]; got {value!r}")

    def to_dict(self) -> dict[str, Any]:
        """The thresholds, by name."""
        return {
            "min_labels": self.min_labels,
            "min_gold": self.min_gold,
            "min_pool": self.min_pool,
            "z_threshold": self.z_threshold,
            "run_alpha": self.run_alpha,
            "kappa_max": self.kappa_max,
            "spam_threshold": self.spam_threshold,
        }


@dataclass(frozen=True)
class Flag:
    """One outlier finding: who, which metric, how far out, and why in words.

    Attributes
    ----------
    annotator : str
    metric : str
        ``gold_accuracy``, ``loo_agreement``, ``ds_accuracy``, ``js_divergence``,
        ``median_seconds``, ``longest_run`` or ``spammer``.
    value : float or None
        The annotator's value of the metric (for ``spammer``: the Dawid-Skene kappa, or
        the MACE spamming probability when Dawid-Skene did not run).
    score : float or None
        What the rule compared with its threshold: robust z, run p-value, or (spammer)
        the MACE spamming probability when both models ran.
    rule : str
        The rule that fired, with its thresholds.
    reason : str
        Plain-language explanation with the numbers.
    """

    annotator: str
    metric: str
    value: float | None
    score: float | None
    rule: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """``{"annotator", "metric", "value", "score", "rule", "reason"}``."""
        return {
            "annotator": self.annotator,
            "metric": self.metric,
            "value": clean_number(self.value),
            "score": clean_number(self.score),
            "rule": self.rule,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class PoolStats:
    """The reference pool of one robust-z metric: median, scale and size."""

    median: float | None
    scale: float | None
    n: int
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """``{"median", "scale", "n", "reason"}``."""
        return {
            "median": clean_number(self.median),
            "scale": clean_number(self.scale),
            "n": self.n,
            "reason": self.reason,
        }


@dataclass
class _Context:
    metrics: AnnotatorMetrics
    rules: OutlierRules
    eligible: np.ndarray
    flags: list[Flag] = field(default_factory=list)
    pools: dict[str, PoolStats] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _fmt(value: float) -> str:
    return f"{value:.2f}"


def _robust(
    ctx: _Context, metric: str, values: np.ndarray, eligible: np.ndarray
) -> tuple[np.ndarray, float]:
    """Robust z of ``values`` against the eligible pool; NaN scores when the pool is small."""
    if metric in ctx.metrics.global_reasons:
        ctx.pools[metric] = PoolStats(None, None, 0, ctx.metrics.global_reasons[metric])
        return np.full(values.shape, np.nan), float("nan")
    pool = eligible & np.isfinite(values)
    n = int(pool.sum())
    if n < ctx.rules.min_pool:
        reason = f"{n} eligible annotators with a value; the rule needs {ctx.rules.min_pool}"
        ctx.pools[metric] = PoolStats(None, None, n, reason)
        return np.full(values.shape, np.nan), float("nan")
    z, median, scale = robust_z(values, pool)
    ctx.pools[metric] = PoolStats(median, scale, n)
    return np.where(eligible, z, np.nan), median


def _low_high_rules(ctx: _Context) -> None:
    m, z_cut = ctx.metrics, ctx.rules.z_threshold
    specs = (
        ("loo_agreement", m.loo_agreement, -1, "agreement with the other annotators' majority"),
        ("ds_accuracy", m.ds_accuracy, -1, "Dawid-Skene accuracy"),
        ("js_divergence", m.js_divergence, 1, "label-distribution divergence (JS, bits)"),
    )
    for metric, values, side, words in specs:
        z, median = _robust(ctx, metric, values, ctx.eligible)
        hits = np.flatnonzero(side * np.nan_to_num(z) >= z_cut)
        for a in hits:
            ctx.flags.append(
                Flag(
                    annotator=str(m.annotators[a]),
                    metric=metric,
                    value=float(values[a]),
                    score=float(z[a]),
                    rule=f"robust z {'<=' if side < 0 else '>='} {side * z_cut:g}",
                    reason=f"{words} {_fmt(values[a])} vs pool median {_fmt(median)} "
                    f"(robust z {z[a]:.1f})",
                )
            )


def _gold_rule(ctx: _Context) -> None:
    m, rules = ctx.metrics, ctx.rules
    eligible = ctx.eligible & (m.n_gold >= rules.min_gold)
    z, median = _robust(ctx, "gold_accuracy", m.gold_accuracy, eligible)
    hits = np.flatnonzero((np.nan_to_num(z) <= -rules.z_threshold) & (m.gold_ci_high < median))
    for a in hits:
        ctx.flags.append(
            Flag(
                annotator=str(m.annotators[a]),
                metric="gold_accuracy",
                value=float(m.gold_accuracy[a]),
                score=float(z[a]),
                rule=f"robust z <= {-rules.z_threshold:g} and 95% CI upper bound < pool median",
                reason=f"gold accuracy {_fmt(m.gold_accuracy[a])} (95% CI "
                f"{_fmt(m.gold_ci_low[a])}-{_fmt(m.gold_ci_high[a])}, {m.gold_correct[a]}"
                f"/{m.n_gold[a]}) vs pool median {_fmt(median)}",
            )
        )


def _speed_rule(ctx: _Context) -> None:
    m = ctx.metrics
    with np.errstate(invalid="ignore"):
        logged = np.log10(np.maximum(m.median_seconds, SPEED_FLOOR))
    z, median = _robust(ctx, "median_seconds", logged, ctx.eligible)
    for a in np.flatnonzero(np.nan_to_num(z) <= -ctx.rules.z_threshold):
        ctx.flags.append(
            Flag(
                annotator=str(m.annotators[a]),
                metric="median_seconds",
                value=float(m.median_seconds[a]),
                score=float(z[a]),
                rule=f"robust z of log10(seconds) <= {-ctx.rules.z_threshold:g}",
                reason=f"median {m.median_seconds[a]:.1f} s per label vs pool median "
                f"{10**median:.1f} s (robust z {z[a]:.1f}, log scale)",
            )
        )


def _run_rule(ctx: _Context) -> None:
    m, rules = ctx.metrics, ctx.rules
    with np.errstate(divide="ignore"):
        surprise = -np.log10(np.maximum(m.longest_run_p, 1e-300))
    z, _ = _robust(ctx, "longest_run", surprise, ctx.eligible)
    hits = np.flatnonzero(
        (np.nan_to_num(m.longest_run_p, nan=1.0) <= rules.run_alpha)
        & (np.nan_to_num(z) >= rules.z_threshold)
    )
    for a in hits:
        ctx.flags.append(
            Flag(
                annotator=str(m.annotators[a]),
                metric="longest_run",
                value=float(m.longest_run[a]),
                score=float(m.longest_run_p[a]),
                rule=f"p <= {rules.run_alpha:g} and robust z of -log10 p >= {rules.z_threshold:g}",
                reason=f"{m.longest_run[a]} identical labels "
                f"({m.longest_run_label[a]!s}) in a row out of {m.n_labels[a]}; chance "
                f"p = {m.longest_run_p[a]:.1e} at the pool's label rates",
            )
        )


def _spammer_rule(ctx: _Context, ds_kappa: np.ndarray) -> None:
    m, rules = ctx.metrics, ctx.rules
    has_ds = bool(np.isfinite(ds_kappa).any())
    has_mace = bool(np.isfinite(m.mace_spamming).any())
    if not (has_ds or has_mace):
        ctx.notes.append("spammer rule skipped: it needs dawid-skene or mace among the methods")
        return
    low_kappa = np.nan_to_num(ds_kappa, nan=np.inf) <= rules.kappa_max
    spamming = np.nan_to_num(m.mace_spamming, nan=-np.inf) >= rules.spam_threshold
    if has_ds and has_mace:
        hit, rule = (
            low_kappa & spamming,
            (
                f"Dawid-Skene kappa <= {rules.kappa_max:g} and MACE spamming >= "
                f"{rules.spam_threshold:g}"
            ),
        )
    elif has_ds:
        hit, rule = low_kappa, f"Dawid-Skene kappa <= {rules.kappa_max:g}"
    else:
        hit, rule = spamming, f"MACE spamming >= {rules.spam_threshold:g}"
    for a in np.flatnonzero(hit & ctx.eligible):
        parts = []
        if has_ds:
            parts.append(f"Dawid-Skene kappa {ds_kappa[a]:.2f} (accuracy {_fmt(m.ds_accuracy[a])})")
        if has_mace:
            parts.append(f"MACE spamming probability {_fmt(m.mace_spamming[a])}")
        ctx.flags.append(
            Flag(
                annotator=str(m.annotators[a]),
                metric="spammer",
                value=float(ds_kappa[a] if has_ds else m.mace_spamming[a]),
                score=float(m.mace_spamming[a]) if has_ds and has_mace else None,
                rule=rule,
                reason="labels no better than chance: "
                + "; ".join(parts)
                + f" ({m.n_labels[a]} labels)",
            )
        )


def flag_annotators(
    metrics: AnnotatorMetrics, rules: OutlierRules, *, ds_kappa: np.ndarray | None = None
) -> tuple[list[Flag], dict[str, PoolStats], list[str]]:
    """Apply every outlier rule to the per-annotator metrics.

    Parameters
    ----------
    metrics : AnnotatorMetrics
        One value per annotator (NaN = undefined: never flagged).
    rules : OutlierRules
        Thresholds.
    ds_kappa : ndarray, shape (n_annotators,), optional
        Dawid-Skene kappa (chance-corrected accuracy); NaN / None when DS did not run.

    Returns
    -------
    flags : list of Flag
        Ordered by annotator, then rule (as in the module docstring table).
    pools : dict of str to PoolStats
        The pool of each robust-z metric.
    notes : list of str
        Rules that could not run and annotators not assessed, in words.
    """
    eligible = metrics.n_labels >= rules.min_labels
    ctx = _Context(metrics, rules, eligible)
    small = int((~eligible).sum())
    if small:
        ctx.notes.append(
            f"{small} annotator(s) with fewer than {rules.min_labels} labels were not assessed"
        )
    kappa = np.full(metrics.n_annotators, np.nan) if ds_kappa is None else ds_kappa
    _gold_rule(ctx)
    _low_high_rules(ctx)
    _speed_rule(ctx)
    _run_rule(ctx)
    _spammer_rule(ctx, kappa)
    order = {name: i for i, name in enumerate(metrics.annotators.astype(str))}
    rank = {name: i for i, name in enumerate(FLAG_METRICS)}
    flags = sorted(ctx.flags, key=lambda f: (order[f.annotator], rank[f.metric]))
    return flags, ctx.pools, ctx.notes
