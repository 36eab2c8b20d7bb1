"""Control charts over a project's batch history, read from the stored per-batch results.

:func:`load_history` reads the stored values (never recomputes a batch) and runs the
charts of :mod:`labelaudit.monitor` with the ``[monitor]`` settings:

- agreement (``krippendorff_alpha`` of kind ``agreement``): individuals, EWMA and CUSUM
  (:func:`~labelaudit.monitor.monitor_series`);
- gold error rate: a p-chart with varying batch sizes (``gold_errors`` over
  ``gold_answers`` of kind ``gold``), when any batch has gold answers;
- per annotator: agreement with the others (``loo_agreement``) and gold errors, each
  against the annotator's own baseline (:func:`~labelaudit.monitor.annotator_drift`,
  :func:`~labelaudit.monitor.annotator_error_drift`).

Phase I / Phase II: the charts judge the latest batch they see (a check or a report of
batch k charts batches 1..k), so that batch is left out of every baseline: its limits come
from the batches before it, and a degraded batch cannot widen its own limits. Limits are
clipped to the metric's range (alpha at most 1, rates in [0, 1]).

A batch is *out of control* when the agreement or the gold chart signals at it (beyond a
3-sigma limit, or an EWMA or CUSUM signal). Annotator drift is reported separately
(:meth:`HistoryMonitor.drifting`); run rules are warnings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from labelaudit.monitor import (
    AnnotatorDrift,
    ControlChart,
    SeriesMonitor,
    annotator_drift,
    annotator_error_drift,
    baseline_mask,
    metric_bounds,
    monitor_series,
    p_chart,
    reference_mask,
)
from labelaudit.project.config import MonitorConfig
from labelaudit.project.store import Store

__all__ = ["MONITORED_METRIC", "HistoryMonitor", "load_history"]

#: The agreement coefficient charted over the history.
MONITORED_METRIC = "krippendorff_alpha"


@dataclass(frozen=True)
class HistoryMonitor:
    """The control charts of a batch history (``None`` where there is nothing to chart).

    Attributes
    ----------
    batches : tuple of str
        Batch names in history order (the charts' points).
    agreement : SeriesMonitor
        Individuals, EWMA and CUSUM of :data:`MONITORED_METRIC`.
    gold : ControlChart or None
        p-chart of the gold error rate; None when no batch has gold answers.
    annotator_agreement, annotator_gold : AnnotatorDrift or None
        Per-annotator drift of ``loo_agreement`` and of gold errors.
    """

    batches: tuple[str, ...]
    agreement: SeriesMonitor
    gold: ControlChart | None
    annotator_agreement: AnnotatorDrift | None
    annotator_gold: AnnotatorDrift | None
    metric: str = MONITORED_METRIC

    def signals(self, index: int) -> list[str]:
        """The charts that signal at batch ``index``: e.g. ``["agreement individuals"]``."""
        charts: list[tuple[str, Any]] = [
            ("agreement individuals", self.agreement.individuals),
            ("agreement EWMA", self.agreement.ewma),
            ("agreement CUSUM", self.agreement.cusum),
        ]
        if self.gold is not None:
            charts.append(("gold error p-chart", self.gold))
        return [name for name, chart in charts if bool(chart.out_of_control[index])]

    def drifting(self, index: int) -> list[dict[str, str]]:
        """Annotators whose agreement or gold errors leave their own limits at ``index``:
        ``[{"annotator", "chart"}]``."""
        out = []
        for chart, drift in (
            ("agreement", self.annotator_agreement),
            ("gold", self.annotator_gold),
        ):
            if drift is None:
                continue
            for name, monitor in zip(drift.annotators, drift.monitors, strict=True):
                if bool(monitor.out_of_control[index]):
                    out.append({"annotator": name, "chart": chart})
        return out

    def limits_note(self) -> str | None:
        """Why the agreement limits are provisional or undefined, or None."""
        chart = self.agreement.individuals
        if chart.reason:
            return f"agreement limits undefined: {chart.reason}"
        if chart.provisional:
            return f"provisional limits ({int(chart.baseline.sum())} baseline batches, < 20)"
        return None

    def to_dict(self) -> dict[str, Any]:
        """``{"batches", "metric", "agreement", "gold", "annotator_agreement",
        "annotator_gold"}`` (each chart as its ``to_dict()``, absent ones null)."""
        return {
            "batches": list(self.batches),
            "metric": self.metric,
            "agreement": self.agreement.to_dict(),
            "gold": self.gold.to_dict() if self.gold is not None else None,
            "annotator_agreement": _drift_dict(self.annotator_agreement),
            "annotator_gold": _drift_dict(self.annotator_gold),
        }


def _drift_dict(drift: AnnotatorDrift | None) -> dict[str, Any] | None:
    return drift.to_dict() if drift is not None else None


def load_history(
    store: Store,
    monitor: MonitorConfig,
    *,
    upto: int | None = None,
    metric: str = MONITORED_METRIC,
) -> HistoryMonitor:
    """Control charts of the stored history (optionally of its first ``upto`` batches).

    Parameters
    ----------
    store : Store
        An open project store.
    monitor : MonitorConfig
        Baseline (``reference`` names or the first ``baseline_batches``) and chart options.
    upto : int, optional
        Chart only the first ``upto`` batches (a report or check of an earlier batch does
        not see later ones). The last batch charted is the judged one: it is in no
        baseline (Phase II).
    metric : str
        The agreement metric charted (kind ``agreement``): the project's tracked metric
        (``[task]``'s, e.g. ``span_f1_exact`` for spans; default Krippendorff's alpha).

    Returns
    -------
    HistoryMonitor
        O(n_batches x n_annotators) beyond the store queries.
    """
    names = [name for name, _ in store.metric_history("agreement", metric)]
    names = names[:upto] if upto is not None else names
    n = len(names)
    judged = [n - 1] if n else []
    baseline = baseline_mask(n, _baseline(names, monitor), exclude=judged)
    options: dict[str, Any] = {
        "ewma_lambda": monitor.ewma_lambda,
        "ewma_L": monitor.ewma_L,
        "cusum_k": monitor.cusum_k,
        "cusum_h": monitor.cusum_h,
        "rules": monitor.run_rules,
    }
    alpha = _series(store, "agreement", metric, n)
    agreement = monitor_series(
        alpha, labels=names, baseline=baseline, bounds=metric_bounds(metric), **options
    )
    errors = _series(store, "gold", "gold_errors", n)
    answers = _series(store, "gold", "gold_answers", n)
    gold = None
    if np.nansum(answers) > 0:
        d, size = np.nan_to_num(errors).astype(np.int64), np.nan_to_num(answers).astype(np.int64)
        gold = p_chart(d, size, labels=names, baseline=baseline, rules=monitor.run_rules)
    people, loo, _ = _annotator_matrix(store, "annotators", "loo_agreement", n)
    annotator_agreement = None
    if people:
        annotator_agreement = annotator_drift(
            loo,
            people,
            labels=names,
            exclude=judged,
            bounds=metric_bounds("loo_agreement"),
            **options,
        )
    gold_people, wrong, given = _annotator_matrix(store, "gold", "gold_errors", n)
    annotator_gold = None
    if gold_people and np.nansum(given) > 0:
        annotator_gold = annotator_error_drift(
            np.nan_to_num(wrong).astype(np.int64),
            np.nan_to_num(given).astype(np.int64),
            gold_people,
            labels=names,
            rules=monitor.run_rules,
            exclude=judged,
        )
    return HistoryMonitor(
        tuple(names), agreement, gold, annotator_agreement, annotator_gold, metric
    )


def _baseline(names: list[str], monitor: MonitorConfig) -> Any:
    if monitor.reference is not None:
        return reference_mask(names, monitor.reference)
    return monitor.baseline_batches


def _series(store: Store, kind: str, metric: str, n: int) -> np.ndarray:
    """One stored metric per batch in history order (NaN where absent or undefined)."""
    values = [value for _, value in store.metric_history(kind, metric)][:n]
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def _annotator_matrix(
    store: Store, kind: str, metric: str, n: int
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(annotators, values, n) as (n_batches, n_annotators) matrices; NaN / 0 where absent."""
    rows = store.execute(
        "SELECT r.position, a.annotator, a.value, a.n FROM annotator_metrics a JOIN "
        "(SELECT batch_id, row_number() OVER (ORDER BY batch_id) - 1 AS position "
        "FROM batches) r USING (batch_id) WHERE a.kind = ? AND a.metric = ? AND r.position < ?",
        (kind, metric, n),
    ).fetchall()
    people = sorted({row[1] for row in rows})
    column = {name: i for i, name in enumerate(people)}
    values = np.full((n, len(people)), np.nan)
    counts = np.zeros((n, len(people)))
    for position, annotator, value, count in rows:  # one row per (batch, annotator)
        values[position, column[annotator]] = np.nan if value is None else value
        counts[position, column[annotator]] = count or 0
    return people, values, counts
