"""The annotator table with outlier flags: :func:`annotator_report` and its result.

One call computes every per-annotator metric of :mod:`labelaudit.quality.annotators`, gold
accuracy (:mod:`labelaudit.quality.gold`), the Dawid-Skene accuracy and kappa and the
MACE spamming probability (when those methods run), then applies the outlier rules of
:mod:`labelaudit.quality.outliers`. ``AnnotatorReport.to_dict()`` is the JSON contract
documented in ``docs/quality.md``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from labelaudit import __version__
from labelaudit.quality._methods import DEFAULT_METHODS, check_methods
from labelaudit.quality.annotator_stats import (
    MODELS,
    AnnotatorStatistics,
    FittedModel,
    table_statistics,
)
from labelaudit.quality.annotators import AnnotatorMetrics, confusion_accuracy, run_chance
from labelaudit.quality.gold import GoldLabels
from labelaudit.quality.gold_scores import GoldReport, aggregator_gold_accuracy, gold_report_of
from labelaudit.quality.outliers import Flag, OutlierRules, PoolStats, flag_annotators
from labelaudit.results import Displayable, clean_number
from labelaudit.table.table import AnnotationTable

if TYPE_CHECKING:
    from labelaudit.consensus import Aggregator

__all__ = ["AnnotatorReport", "annotator_report", "finish_annotator_report"]

#: Why a value is missing for one annotator while the metric exists for others.
_ROW_REASONS = {
    "loo_agreement": "shares no item with another annotator",
    "gold_accuracy": "labelled no gold item",
    "ds_accuracy": "labelled only gold items, which were excluded from the models",
    "ds_kappa": "undefined: chance accuracy is 1 (the model gives one label only)",
    "mace_spamming": "labelled only gold items, which were excluded from the models",
    "js_divergence": "no other annotator's labels to compare with",
    "median_seconds": "fewer than 2 timed labels",
    "longest_run_p": "no other annotator's labels to give chance rates",
}
_COLUMNS = (
    "loo_agreement",
    "gold_accuracy",
    "ds_accuracy",
    "ds_kappa",
    "mace_spamming",
    "js_divergence",
    "median_seconds",
    "longest_run_p",
)


@dataclass(frozen=True)
class AnnotatorReport(Displayable):
    """Result of :func:`annotator_report`; ``to_dict()`` is the documented JSON contract.

    Attributes
    ----------
    metrics : AnnotatorMetrics
        One value per annotator for every metric (NaN = undefined).
    ds_kappa : ndarray, shape (n_annotators,)
        Dawid-Skene accuracy corrected for chance (NaN when DS did not run).
    flags : list of Flag
    pools : dict of str to PoolStats
    gold : GoldReport or None
        Per-annotator confusions against gold and each method's accuracy on gold.
    fits : dict of str to dict
        ``summary().to_dict()`` of every fitted method (on the whole table).
    """

    n_items: int
    n_ratings: int
    categories: list[str]
    metrics: AnnotatorMetrics
    ds_kappa: np.ndarray
    flags: list[Flag]
    pools: dict[str, PoolStats]
    gold: GoldReport | None
    fits: dict[str, dict[str, Any]]
    rules: OutlierRules
    notes: list[str] = field(default_factory=list)
    input: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def flagged(self) -> list[str]:
        """Annotators with at least one flag, in table order."""
        return list(dict.fromkeys(flag.annotator for flag in self.flags))

    def column(self, name: str) -> np.ndarray:
        """One metric as an array of shape (n_annotators,) (``ds_kappa`` included)."""
        return self.ds_kappa if name == "ds_kappa" else np.asarray(getattr(self.metrics, name))

    def rows(self) -> list[dict[str, Any]]:
        """One JSON-ready record per annotator (see ``docs/quality.md``)."""
        m = self.metrics
        flags: dict[str, list[str]] = {}
        for flag in self.flags:
            flags.setdefault(flag.annotator, []).append(flag.metric)
        values = {name: self.column(name) for name in _COLUMNS}
        out = []
        for a, name in enumerate(m.annotators.astype(str)):  # one record per annotator
            value = {key: clean_number(values[key][a]) for key in _COLUMNS}
            ci = (m.gold_ci_low[a], m.gold_ci_high[a])
            out.append(
                {
                    "annotator": str(name),
                    "n_labels": int(m.n_labels[a]),
                    "n_compared": int(m.n_compared[a]),
                    "loo_agreement": value["loo_agreement"],
                    "n_gold": int(m.n_gold[a]),
                    "gold_correct": int(m.gold_correct[a]),
                    "gold_accuracy": value["gold_accuracy"],
                    "gold_ci95": clean_number(list(ci)) if np.isfinite(ci[0]) else None,
                    "ds_accuracy": value["ds_accuracy"],
                    "ds_kappa": value["ds_kappa"],
                    "mace_spamming": value["mace_spamming"],
                    "js_divergence": value["js_divergence"],
                    "median_seconds": value["median_seconds"],
                    "longest_run": int(m.longest_run[a]),
                    "longest_run_label": str(m.longest_run_label[a]) or None,
                    "longest_run_p": value["longest_run_p"],
                    "flags": flags.get(name, []),
                    "reasons": {
                        key: m.global_reasons.get(key, _ROW_REASONS[key])
                        for key in _COLUMNS
                        if value[key] is None
                    },
                }
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: provenance, sizes, one row per annotator, flags, pools, gold."""
        return {
            "tool": {"name": "labelaudit", "version": __version__},
            "input": self.input,
            "config": self.config,
            "n_items": self.n_items,
            "n_annotators": self.metrics.n_annotators,
            "n_ratings": self.n_ratings,
            "categories": self.categories,
            "annotators": self.rows(),
            "flags": [flag.to_dict() for flag in self.flags],
            "n_flagged": len(self.flagged),
            "pools": {name: pool.to_dict() for name, pool in self.pools.items()},
            "gold": self.gold.to_dict() if self.gold is not None else None,
            "fits": self.fits,
            "reasons": dict(self.metrics.global_reasons),
            "notes": list(self.notes),
        }


def _scatter(values: np.ndarray, positions: np.ndarray, size: int) -> np.ndarray:
    out = np.full(size, np.nan)
    out[positions] = values
    return out


def _model_columns(
    fits: dict[str, FittedModel], positions: np.ndarray, size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ds_accuracy, ds_kappa, mace_spamming) by annotator code of the full table."""
    nan = np.full(size, np.nan)
    ds_accuracy, ds_kappa, spamming = nan, nan.copy(), nan.copy()
    model = fits.get("dawid-skene")
    if model is not None and model.priors is not None and model.confusions is not None:
        priors, confusions = model.priors, model.confusions
        accuracy = confusion_accuracy(confusions, priors)
        chance = np.einsum("k,aky,y->a", priors, confusions, priors)
        with np.errstate(invalid="ignore", divide="ignore"):
            kappa = np.where(chance < 1.0, (accuracy - chance) / (1.0 - chance), np.nan)
        ds_accuracy = _scatter(accuracy, positions, size)
        ds_kappa = _scatter(kappa, positions, size)
    mace = fits.get("mace")
    if mace is not None and mace.spamming is not None:
        spamming = _scatter(mace.spamming, positions, size)
    return ds_accuracy, ds_kappa, spamming


def annotator_report(
    table: AnnotationTable,
    *,
    gold: GoldLabels | None = None,
    methods: Sequence[str] = DEFAULT_METHODS,
    exclude_gold: bool = False,
    duration_col: str | None = None,
    time_col: str | None = None,
    rules: OutlierRules | None = None,
    seed: int = 0,
    fitted: Mapping[str, Aggregator] | None = None,
) -> AnnotatorReport:
    """Per-annotator quality, gold accuracy and outlier flags of one table.

    Parameters
    ----------
    table : AnnotationTable
        Categorical annotations.
    gold : GoldLabels, optional
        Gold labels aligned with ``table`` (:func:`~labelaudit.quality.read_gold` or
        :func:`~labelaudit.quality.gold_from_column`). Aggregators never see them: their
        accuracy on gold is an honest estimate.
    methods : sequence of str
        Aggregators to fit (``majority``, ``wawa``, ``dawid-skene``, ``one-coin``,
        ``glad``, ``mace``); ``dawid-skene`` gives ``ds_accuracy`` / ``ds_kappa``,
        ``mace`` gives ``mace_spamming``; each one's accuracy on gold is reported.
    exclude_gold : bool
        Compute agreement, divergence and the model columns without the gold items
        (label counts, gold accuracy, speed and runs always use every label).
    duration_col, time_col : str, optional
        Seconds per label / timestamp columns; default ``duration_s`` / ``created_at``
        when the table has them. Durations win over timestamps for speed; timestamps
        order each annotator's labels for the runs (else the row order).
    rules : OutlierRules, optional
        Flag thresholds (defaults: :class:`OutlierRules`).
    seed : int
        Seed of the random tie-break and of MACE's restarts.
    fitted : mapping of str to Aggregator, optional
        Methods already fitted on ``table`` without gold, by name, as this function fits
        them (``tie="random"``, ``seed``), e.g. shared with the item table; the others
        are fitted here.

    Returns
    -------
    AnnotatorReport
        The statistics step (:func:`~labelaudit.quality.annotator_stats.
        table_statistics`) finished by :func:`finish_annotator_report`.
    """
    names = check_methods(list(methods))
    statistics = table_statistics(
        table,
        gold,
        names,
        exclude_gold=exclude_gold,
        seed=seed,
        timing=(duration_col, time_col),
        fitted=fitted,
    )
    return finish_annotator_report(
        statistics, methods=names, exclude_gold=exclude_gold, rules=rules, seed=seed
    )


def finish_annotator_report(
    statistics: AnnotatorStatistics,
    *,
    methods: Sequence[str],
    exclude_gold: bool = False,
    rules: OutlierRules | None = None,
    seed: int = 0,
) -> AnnotatorReport:
    """The annotator report from its statistics (any engine): every per-annotator
    formula, the gold scores, the outlier flags. O(r q q + gold items) work."""
    rules = rules if rules is not None else OutlierRules()
    metrics, ds_kappa, gold_report = _metrics(statistics, methods)
    flags, pools, notes = flag_annotators(metrics, rules, ds_kappa=ds_kappa)
    gold = statistics.gold
    return AnnotatorReport(
        n_items=statistics.n_items,
        n_ratings=statistics.n_ratings,
        categories=[str(c) for c in statistics.categories],
        metrics=metrics,
        ds_kappa=ds_kappa,
        flags=flags,
        pools=pools,
        gold=gold_report,
        fits={name: statistics.fits[name].summary for name in methods},
        rules=rules,
        notes=[*statistics.notes, *notes],
        input={"source": statistics.source, "sha256": statistics.sha256},
        config={
            "methods": list(methods),
            "exclude_gold": exclude_gold,
            "gold": gold.source if gold is not None else None,
            "seed": seed,
            "rules": rules.to_dict(),
            **statistics.columns,
        },
    )


def _metrics(
    stats: AnnotatorStatistics, methods: Sequence[str]
) -> tuple[AnnotatorMetrics, np.ndarray, GoldReport | None]:
    """Every per-annotator metric from the statistics."""
    n = stats.annotators.shape[0]
    ds_accuracy, ds_kappa, spamming = _model_columns(stats.model_fits, stats.model_positions, n)
    reasons = {
        metric: f"{method} is not among the methods"
        for metric, method in MODELS.items()
        if method not in methods
    }
    loo, n_compared = stats.sums.loo_agreement()
    if stats.columns.get("duration_col") is None and stats.columns.get("time_col") is None:
        reasons["median_seconds"] = "no duration (duration_s) or timestamp (created_at) column"
    gold_report = None
    if stats.gold is None or stats.gold_cells is None:
        reasons["gold_accuracy"] = "no gold labels given"
    else:
        gold_report = gold_report_of(
            stats.gold_cells, stats.categories, stats.annotators, stats.gold
        )
        for name in methods:
            labels = stats.fits[name].gold_labels
            assert labels is not None  # fitted with the gold at hand
            gold_report.aggregators[name] = aggregator_gold_accuracy(
                labels, stats.gold, at_gold=True
            )
    n_gold, n_correct, accuracy, ci_low, ci_high = _gold_columns(gold_report, n)
    run_label = stats.run_label
    metrics = AnnotatorMetrics(
        annotators=stats.annotators,
        n_labels=stats.label_counts.sum(axis=1),
        n_compared=n_compared,
        loo_agreement=loo,
        n_gold=n_gold,
        gold_correct=n_correct,
        gold_accuracy=accuracy,
        gold_ci_low=ci_low,
        gold_ci_high=ci_high,
        ds_accuracy=ds_accuracy,
        mace_spamming=spamming,
        js_divergence=stats.sums.divergence(),
        median_seconds=stats.median_seconds,
        longest_run=stats.run_length,
        longest_run_label=np.where(
            run_label >= 0, stats.categories[np.maximum(run_label, 0)], ""
        ).astype(object),
        longest_run_p=run_chance(stats.run_length, stats.label_counts),
        global_reasons=reasons,
    )
    return metrics, ds_kappa, gold_report


def _gold_columns(
    report: GoldReport | None, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(n_gold, n_correct, accuracy, ci_low, ci_high); zeros and NaN without gold."""
    if report is None:
        zeros, nan = np.zeros(n, dtype=np.int64), np.full(n, np.nan)
        return zeros, zeros, nan, nan, nan
    return report.n_gold, report.n_correct, report.accuracy, report.ci_low, report.ci_high
