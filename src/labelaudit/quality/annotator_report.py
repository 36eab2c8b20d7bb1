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
import pyarrow as pa
import pyarrow.compute as pc

from labelaudit import __version__
from labelaudit.quality import _timing
from labelaudit.quality._methods import DEFAULT_METHODS, check_methods, fit_method
from labelaudit.quality.annotators import (
    AnnotatorMetrics,
    confusion_accuracy,
    label_divergence,
    label_runs,
    leave_one_out_agreement,
    speed,
)
from labelaudit.quality.gold import GoldLabels, without_gold
from labelaudit.quality.gold_scores import GoldReport, aggregator_gold_accuracy, gold_accuracy
from labelaudit.quality.outliers import Flag, OutlierRules, PoolStats, flag_annotators
from labelaudit.results import Displayable, clean_number
from labelaudit.table.table import AnnotationTable

if TYPE_CHECKING:
    from labelaudit.consensus import Aggregator

__all__ = ["AnnotatorReport", "annotator_report"]

#: Model-based columns and the method that gives each.
_MODELS = {"ds_accuracy": "dawid-skene", "ds_kappa": "dawid-skene", "mace_spamming": "mace"}

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


def _positions(table: AnnotationTable, sub: AnnotationTable) -> np.ndarray:
    """Code in ``table`` of each annotator of ``sub`` (a row subset of ``table``)."""
    names = pa.array(np.asarray(table.annotators, dtype=object).astype(str), type=pa.string())
    wanted = pa.array(np.asarray(sub.annotators, dtype=object).astype(str), type=pa.string())
    return np.asarray(pc.index_in(wanted, value_set=names).to_numpy(zero_copy_only=False))


def _model_columns(
    fits: dict[str, Aggregator], positions: np.ndarray, size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ds_accuracy, ds_kappa, mace_spamming) by annotator code of the full table."""
    nan = np.full(size, np.nan)
    ds_accuracy, ds_kappa, spamming = nan, nan.copy(), nan.copy()
    if "dawid-skene" in fits:
        model: Any = fits["dawid-skene"]  # DawidSkene: priors_, confusions_
        priors, confusions = model.priors_, model.confusions_
        accuracy = confusion_accuracy(confusions, priors)
        chance = np.einsum("k,aky,y->a", priors, confusions, priors)
        with np.errstate(invalid="ignore", divide="ignore"):
            kappa = np.where(chance < 1.0, (accuracy - chance) / (1.0 - chance), np.nan)
        ds_accuracy = _scatter(accuracy, positions, size)
        ds_kappa = _scatter(kappa, positions, size)
    if "mace" in fits:
        mace: Any = fits["mace"]
        spamming = _scatter(mace.spamming_, positions, size)
    return ds_accuracy, ds_kappa, spamming


def _timing_arrays(
    table: AnnotationTable, duration_col: str | None, time_col: str | None
) -> tuple[np.ndarray | None, np.ndarray | None, dict[str, str | None]]:
    duration_name = _timing.resolve_column(table, duration_col, _timing.DURATION_COL)
    time_name = _timing.resolve_column(table, time_col, _timing.TIME_COL)
    durations = _timing.duration_seconds(table, duration_name) if duration_name else None
    times = _timing.time_seconds(table, time_name) if time_name else None
    return durations, times, {"duration_col": duration_name, "time_col": time_name}


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
    """
    rules = rules if rules is not None else OutlierRules()
    names = check_methods(list(methods))
    given = fitted or {}
    fits = {n: given[n] if n in given else fit_method(n, table, seed=seed) for n in names}
    metrics, ds_kappa, gold_report, columns = _collect(
        table, gold, fits, exclude_gold=exclude_gold, seed=seed, timing=(duration_col, time_col)
    )
    flags, pools, notes = flag_annotators(metrics, rules, ds_kappa=ds_kappa)
    from labelaudit.table import content_sha256

    return AnnotatorReport(
        n_items=table.n_items,
        n_ratings=table.n_ratings,
        categories=[str(c) for c in table.categories],
        metrics=metrics,
        ds_kappa=ds_kappa,
        flags=flags,
        pools=pools,
        gold=gold_report,
        fits={name: model.summary().to_dict() for name, model in fits.items()},
        rules=rules,
        notes=notes,
        input={"source": table.source, "sha256": content_sha256(table)},
        config={
            "methods": list(names),
            "exclude_gold": exclude_gold,
            "gold": gold.source if gold is not None else None,
            "seed": seed,
            "rules": rules.to_dict(),
            **columns,
        },
    )


def _collect(
    table: AnnotationTable,
    gold: GoldLabels | None,
    fits: dict[str, Aggregator],
    *,
    exclude_gold: bool,
    seed: int,
    timing: tuple[str | None, str | None],
) -> tuple[AnnotatorMetrics, np.ndarray, GoldReport | None, dict[str, str | None]]:
    """Every per-annotator metric; model columns come from the analysis-table fits."""
    n = table.n_annotators
    analysis = without_gold(table, gold) if gold is not None and exclude_gold else table
    positions = _positions(table, analysis)
    model_fits = fits
    if analysis is not table:
        model_fits = {m: fit_method(m, analysis, seed=seed) for m in fits if m in _MODELS.values()}
    ds_accuracy, ds_kappa, spamming = _model_columns(model_fits, positions, n)
    reasons = {
        metric: f"{method} is not among the methods"
        for metric, method in _MODELS.items()
        if method not in fits
    }
    loo, n_compared = leave_one_out_agreement(analysis)
    durations, times, columns = _timing_arrays(table, *timing)
    if durations is None and times is None:
        reasons["median_seconds"] = "no duration (duration_s) or timestamp (created_at) column"
    run_length, run_label, run_p = label_runs(table, times=times)
    gold_report = gold_accuracy(table, gold) if gold is not None else None
    if gold is None or gold_report is None:
        reasons["gold_accuracy"] = "no gold labels given"
    else:
        for name, model in fits.items():
            gold_report.aggregators[name] = aggregator_gold_accuracy(model.labels_, gold)
    n_gold, n_correct, accuracy, ci_low, ci_high = _gold_columns(gold_report, n)
    metrics = AnnotatorMetrics(
        annotators=table.annotators,
        n_labels=np.bincount(table.annotator_codes, minlength=n),
        n_compared=_counts(n_compared, positions, n),
        loo_agreement=_scatter(loo, positions, n),
        n_gold=n_gold,
        gold_correct=n_correct,
        gold_accuracy=accuracy,
        gold_ci_low=ci_low,
        gold_ci_high=ci_high,
        ds_accuracy=ds_accuracy,
        mace_spamming=spamming,
        js_divergence=_scatter(label_divergence(analysis), positions, n),
        median_seconds=speed(table, durations=durations, times=times),
        longest_run=run_length,
        longest_run_label=np.where(
            run_label >= 0, table.categories[np.maximum(run_label, 0)], ""
        ).astype(object),
        longest_run_p=run_p,
        global_reasons=reasons,
    )
    return metrics, ds_kappa, gold_report, columns


def _gold_columns(
    report: GoldReport | None, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(n_gold, n_correct, accuracy, ci_low, ci_high); zeros and NaN without gold."""
    if report is None:
        zeros, nan = np.zeros(n, dtype=np.int64), np.full(n, np.nan)
        return zeros, zeros, nan, nan, nan
    return report.n_gold, report.n_correct, report.accuracy, report.ci_low, report.ci_high


def _counts(values: np.ndarray, positions: np.ndarray, size: int) -> np.ndarray:
    out = np.zeros(size, dtype=np.int64)
    out[positions] = values
    return out
