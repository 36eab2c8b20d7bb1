"""Monitoring batch quality over time: control charts, run rules and drift.

:mod:`~labelaudit.monitor.spc` has the charts (p with varying batch sizes, individuals,
EWMA, CUSUM) as pure numpy functions returning :class:`ControlChart`;
:mod:`~labelaudit.monitor.rules` the Western Electric and Nelson run rules;
:mod:`~labelaudit.monitor.drift` combines them for one series and per annotator.
"""

from __future__ import annotations

from labelaudit.monitor.drift import (
    AnnotatorDrift,
    SeriesMonitor,
    annotator_drift,
    annotator_error_drift,
    monitor_series,
)
from labelaudit.monitor.rules import RuleViolation, run_rules
from labelaudit.monitor.spc import (
    ControlChart,
    baseline_mask,
    clamp_limits,
    cusum_chart,
    ewma_chart,
    individuals_chart,
    metric_bounds,
    p_chart,
    reference_mask,
)

__all__ = [
    "AnnotatorDrift",
    "ControlChart",
    "RuleViolation",
    "SeriesMonitor",
    "annotator_drift",
    "annotator_error_drift",
    "baseline_mask",
    "clamp_limits",
    "cusum_chart",
    "ewma_chart",
    "individuals_chart",
    "metric_bounds",
    "monitor_series",
    "p_chart",
    "reference_mask",
    "run_rules",
]
