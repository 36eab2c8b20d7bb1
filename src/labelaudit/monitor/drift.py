"""Drift monitoring built from the charts: one series, and every annotator against itself.

- :func:`monitor_series`: individuals + EWMA + CUSUM on one value per batch (agreement);
  a batch is out of control when any of the three says so.
- :func:`annotator_drift`: the same per annotator (e.g. agreement with the others per
  batch), each against its own baseline.
- :func:`annotator_error_drift`: a p-chart per annotator of gold errors / gold answers.

By default an annotator's baseline is its own first 20 batches with a value (an annotator
who joins late is judged against its own start, not against batches it never saw).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from labelaudit.exceptions import UsageError
from labelaudit.monitor.rules import RuleViolation
from labelaudit.monitor.spc import (
    BASELINE_SIZE,
    Baseline,
    Bounds,
    ControlChart,
    baseline_mask,
    cusum_chart,
    ewma_chart,
    individuals_chart,
    p_chart,
)

__all__ = [
    "AnnotatorDrift",
    "SeriesMonitor",
    "annotator_drift",
    "annotator_error_drift",
    "monitor_series",
]


@dataclass(frozen=True)
class SeriesMonitor:
    """Individuals, EWMA and CUSUM charts of one series."""

    individuals: ControlChart
    ewma: ControlChart
    cusum: ControlChart

    @property
    def out_of_control(self) -> np.ndarray:
        """Points out of control on any of the three charts, bool (n,)."""
        return (
            self.individuals.out_of_control | self.ewma.out_of_control | self.cusum.out_of_control
        )

    @property
    def warnings(self) -> tuple[RuleViolation, ...]:
        """Run-rule warnings of the individuals chart."""
        return self.individuals.warnings

    @property
    def provisional(self) -> bool:
        """Limits from fewer than 20 baseline points."""
        return self.individuals.provisional

    def to_dict(self) -> dict[str, Any]:
        """``{"out_of_control": [index], "provisional", "charts": {"individuals", "ewma",
        "cusum"}}`` (each chart as :meth:`ControlChart.to_dict`)."""
        return {
            "out_of_control": [int(i) for i in np.flatnonzero(self.out_of_control)],
            "provisional": self.provisional,
            "charts": {
                "individuals": self.individuals.to_dict(),
                "ewma": self.ewma.to_dict(),
                "cusum": self.cusum.to_dict(),
            },
        }


def monitor_series(
    values: Sequence[float] | np.ndarray,
    *,
    labels: Sequence[str] | None = None,
    baseline: Baseline = None,
    L: float = 3.0,
    ewma_lambda: float = 0.2,
    ewma_L: float = 3.0,
    cusum_k: float = 0.5,
    cusum_h: float = 5.0,
    rules: str = "western_electric",
    bounds: Bounds = None,
) -> SeriesMonitor:
    """Individuals, EWMA and CUSUM charts of one value per batch, same baseline.

    Parameters
    ----------
    values : array, shape (n,)
        One value per batch in time order; NaN = undefined (skipped).
    labels, baseline, L, rules
        See :func:`labelaudit.monitor.spc.individuals_chart`.
    ewma_lambda, ewma_L, cusum_k, cusum_h : float
        EWMA and CUSUM parameters (defaults 0.2, 3, 0.5, 5). EWMA and CUSUM use the
        individuals chart's baseline mean and sigma (mean moving range / d2).
    bounds : (lower, upper), optional
        The metric's range: individuals and EWMA limits are clipped to it
        (:func:`labelaudit.monitor.spc.metric_bounds`).

    Returns
    -------
    SeriesMonitor
    """
    individuals = individuals_chart(
        values, baseline=baseline, labels=labels, L=L, rules=rules, bounds=bounds
    )
    base = individuals.baseline
    ewma = ewma_chart(
        values, lam=ewma_lambda, L=ewma_L, baseline=base, labels=labels, bounds=bounds
    )
    return SeriesMonitor(
        individuals=individuals,
        ewma=ewma,
        cusum=cusum_chart(values, k=cusum_k, h=cusum_h, baseline=base, labels=labels),
    )


@dataclass(frozen=True)
class AnnotatorDrift:
    """One monitor per annotator; ``flagged`` lists who left their own limits, and when."""

    annotators: tuple[str, ...]
    monitors: tuple[SeriesMonitor | ControlChart, ...]
    labels: tuple[str, ...] | None = None

    @property
    def flagged(self) -> list[dict[str, Any]]:
        """``[{"annotator", "out_of_control": [index], "batches": [label]}]`` for each
        annotator with at least one out-of-control point."""
        out = []
        for name, monitor in zip(self.annotators, self.monitors, strict=True):
            points = np.flatnonzero(monitor.out_of_control)
            if points.size:
                batches = [self.labels[i] for i in points] if self.labels else None
                out.append(
                    {"annotator": name, "out_of_control": points.tolist(), "batches": batches}
                )
        return out

    def to_dict(self) -> dict[str, Any]:
        """``{"flagged": [...], "annotators": {name: monitor.to_dict()}}``."""
        return {
            "flagged": self.flagged,
            "annotators": {
                name: monitor.to_dict()
                for name, monitor in zip(self.annotators, self.monitors, strict=True)
            },
        }


def _own_baseline(
    defined: np.ndarray, baseline: Baseline, exclude: Sequence[int] | np.ndarray = ()
) -> np.ndarray:
    """The annotator's first 20 defined points other than ``exclude`` (the judged batch),
    unless a baseline was given (then that one, still without ``exclude``)."""
    if baseline is not None:
        return baseline_mask(defined.size, baseline, exclude=exclude)
    kept = baseline_mask(defined.size, defined.size, exclude=exclude) & defined
    mask = np.zeros(defined.size, dtype=bool)
    mask[np.flatnonzero(kept)[:BASELINE_SIZE]] = True
    return mask


def _check_matrix(matrix: np.ndarray, annotators: Sequence[str], what: str) -> None:
    if matrix.ndim != 2 or matrix.shape[1] != len(annotators):
        raise UsageError(
            f"{what} must be (n_batches, n_annotators) with {len(annotators)} columns; "
            f"got shape {matrix.shape}"
        )


def annotator_drift(
    values: np.ndarray,
    annotators: Sequence[str],
    *,
    labels: Sequence[str] | None = None,
    baseline: Baseline = None,
    exclude: Sequence[int] | np.ndarray = (),
    **options: Any,
) -> AnnotatorDrift:
    """Per-annotator drift of a value (e.g. agreement with the others), each on its own limits.

    Parameters
    ----------
    values : ndarray, shape (n_batches, n_annotators)
        One value per batch and annotator; NaN where the annotator has none.
    annotators : sequence of str
        Column names.
    labels, baseline
        Batch names; a shared baseline (default: each annotator's first 20 values).
    exclude : sequence of int
        Batches kept out of every baseline (the judged batch, Phase II).
    **options
        Passed to :func:`monitor_series` (L, ewma_lambda, ewma_L, cusum_k, cusum_h, rules).

    Returns
    -------
    AnnotatorDrift
    """
    matrix = np.asarray(values, dtype=np.float64)
    _check_matrix(matrix, annotators, "values")
    monitors = tuple(
        monitor_series(
            column,
            labels=labels,
            baseline=_own_baseline(np.isfinite(column), baseline, exclude),
            **options,
        )
        for column in matrix.T
    )
    names = tuple(str(a) for a in annotators)
    return AnnotatorDrift(names, monitors, tuple(labels) if labels is not None else None)


def annotator_error_drift(
    errors: np.ndarray,
    totals: np.ndarray,
    annotators: Sequence[str],
    *,
    labels: Sequence[str] | None = None,
    baseline: Baseline = None,
    L: float = 3.0,
    rules: str = "western_electric",
    exclude: Sequence[int] | np.ndarray = (),
) -> AnnotatorDrift:
    """Per-annotator p-chart of gold errors over gold answers, each on its own limits.

    Parameters
    ----------
    errors, totals : ndarray of int, shape (n_batches, n_annotators)
        Gold answers wrong, and gold answers given (0 = none that batch).
    annotators, labels, baseline, exclude
        As in :func:`annotator_drift`.
    L, rules
        As in :func:`labelaudit.monitor.spc.p_chart`.

    Returns
    -------
    AnnotatorDrift
    """
    wrong = np.asarray(errors)
    given = np.asarray(totals)
    _check_matrix(wrong, annotators, "errors")
    _check_matrix(given, annotators, "totals")
    monitors = tuple(
        p_chart(
            wrong[:, a],
            given[:, a],
            labels=labels,
            baseline=_own_baseline(given[:, a] > 0, baseline, exclude),
            L=L,
            rules=rules,
        )
        for a in range(len(annotators))
    )
    names = tuple(str(a) for a in annotators)
    return AnnotatorDrift(names, monitors, tuple(labels) if labels is not None else None)
