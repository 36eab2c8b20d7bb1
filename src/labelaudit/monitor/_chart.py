"""The chart result type, baselines and labels shared by every chart in :mod:`.spc`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from labelaudit.exceptions import UsageError
from labelaudit.monitor.rules import RuleViolation
from labelaudit.results import clean_number

__all__ = [
    "BASELINE_SIZE",
    "Baseline",
    "ControlChart",
    "baseline_mask",
    "chart_labels",
    "clamp_limits",
    "metric_bounds",
    "reference_mask",
]

#: Batches in the default baseline, and the count below which limits are provisional.
BASELINE_SIZE = 20

Baseline = int | Sequence[int] | Sequence[bool] | np.ndarray | None
#: The range a charted metric can take: (lower, upper), None = unbounded on that side.
Bounds = tuple[float | None, float | None] | None

#: Chance-corrected coefficients lie in [-1, 1] (their upper bound 1 is perfect agreement).
_COEFFICIENTS = (
    "krippendorff_alpha",
    "fleiss_kappa",
    "cohen_kappa",
    "conger_kappa",
    "scott_pi",
    "gwet_ac1",
    "gwet_ac2",
    "brennan_prediger",
)
#: Proportions lie in [0, 1] (loo_agreement: mean leave-one-out credit, each in [0, 1]).
_PROPORTIONS = (
    "percent_agreement",
    "gold_error_rate",
    "accuracy",
    "mean_confidence",
    "loo_agreement",
)
#: Structured-label metrics (:mod:`labelaudit.project.results_structured` names): F1,
#: IoU, shares and normalised distances lie in [0, 1] (Kendall's W too, Kendall 1948);
#: alpha with a MASI / Jaccard / edit distance is at most 1 with no fixed lower bound
#: (Krippendorff 2011: its minimum depends on the data); tau-b and the per-label and
#: token kappa / nominal alpha are chance-corrected coefficients in [-1, 1].
_STRUCTURED_BOUNDS: dict[str, tuple[float | None, float | None]] = {
    "span_f1_exact": (0.0, 1.0),
    "span_f1_overlap": (0.0, 1.0),
    "box_f1_50": (0.0, 1.0),
    "box_f1_50_95": (0.0, 1.0),
    "polygon_f1_50": (0.0, 1.0),
    "polygon_f1_50_95": (0.0, 1.0),
    "cuboid_f1_50": (0.0, 1.0),
    "cuboid_f1_50_95": (0.0, 1.0),
    "keypoint_f1_50": (0.0, 1.0),
    "keypoint_f1_50_95": (0.0, 1.0),
    "mean_iou": (0.0, 1.0),
    "box_label_agreement": (0.0, 1.0),
    "polygon_label_agreement": (0.0, 1.0),
    "cuboid_label_agreement": (0.0, 1.0),
    "keypoint_label_agreement": (0.0, 1.0),
    "mean_oks": (0.0, 1.0),
    "exact_set_agreement": (0.0, 1.0),
    "normalized_exact_agreement": (0.0, 1.0),
    "mean_edit_distance": (0.0, 1.0),
    "kendall_w": (0.0, 1.0),
    "masi_alpha": (None, 1.0),
    "jaccard_alpha": (None, 1.0),
    "text_alpha": (None, 1.0),
    "kendall_tau": (-1.0, 1.0),
    "token_alpha": (-1.0, 1.0),
    "token_kappa": (-1.0, 1.0),
    "per_label_kappa": (-1.0, 1.0),
    "per_label_alpha": (-1.0, 1.0),
}


@dataclass(frozen=True)
class ControlChart:
    """One control chart over a sequence of batches.

    Attributes
    ----------
    chart : str
        ``"p"``, ``"individuals"``, ``"ewma"`` or ``"cusum"``.
    values : ndarray, shape (n,)
        The plotted statistic (p_i, x_i, z_t or C+_t); NaN = no point.
    center, lcl, ucl : ndarray, shape (n,)
        Center line and control limits per point (NaN when undefined).
    out_of_control : ndarray of bool, shape (n,)
        Beyond a limit (p, individuals), or an EWMA / CUSUM signal.
    baseline : ndarray of bool, shape (n,)
        Points the limits were estimated from.
    provisional : bool
        Fewer than 20 baseline points.
    parameters : dict
        Estimated and chosen constants (p_bar, sigma, lambda, L, k, h, ...).
    warnings : tuple of RuleViolation
        Run-rule warnings.
    extra : dict of str to ndarray
        Further per-point columns (``z``, ``n``, ``limit_method``, ``moving_range``,
        ``c_minus``, ``x``, ...).
    labels : tuple of str, optional
        A name per point (batch names).
    reason : str or None
        Why limits are undefined or degenerate.
    """

    chart: str
    values: np.ndarray
    center: np.ndarray
    lcl: np.ndarray
    ucl: np.ndarray
    out_of_control: np.ndarray
    baseline: np.ndarray
    provisional: bool
    parameters: dict[str, Any]
    warnings: tuple[RuleViolation, ...] = ()
    extra: dict[str, np.ndarray] = field(default_factory=dict)
    labels: tuple[str, ...] | None = None
    reason: str | None = None

    @property
    def signals(self) -> list[int]:
        """Indices of the out-of-control points."""
        return [int(i) for i in np.flatnonzero(self.out_of_control)]

    def to_dict(self) -> dict[str, Any]:
        """``{"chart", "parameters", "n_baseline", "provisional", "reason",
        "out_of_control": [index], "warnings": [{"rule", "index", "description"}],
        "points": [{"index", "label", "value", "center", "lcl", "ucl", "out_of_control",
        "baseline", ...extra}]}``; NaN as null."""
        columns = {
            "value": self.values,
            "center": self.center,
            "lcl": self.lcl,
            "ucl": self.ucl,
            "out_of_control": self.out_of_control,
            "baseline": self.baseline,
            **self.extra,
        }
        lists = {key: _plain_list(column) for key, column in columns.items()}
        points = [
            {"index": i, "label": self.labels[i] if self.labels else None}
            | {key: column[i] for key, column in lists.items()}
            for i in range(self.values.size)
        ]
        return {
            "chart": self.chart,
            "parameters": {k: clean_number(v) for k, v in self.parameters.items()},
            "n_baseline": int(self.baseline.sum()),
            "provisional": self.provisional,
            "reason": self.reason,
            "out_of_control": self.signals,
            "warnings": [w.to_dict() for w in self.warnings],
            "points": points,
        }


def _plain_list(column: np.ndarray) -> list[Any]:
    if column.dtype == bool:
        return [bool(v) for v in column]
    if column.dtype.kind in "iu":
        return [int(v) for v in column]
    if column.dtype.kind == "f":
        return [clean_number(v) for v in column.tolist()]
    return [None if v is None else str(v) for v in column.tolist()]


# ----------------------------------------------------------------------------- baseline
def baseline_mask(
    n: int, baseline: Baseline = None, *, exclude: Sequence[int] | np.ndarray = ()
) -> np.ndarray:
    """Boolean mask of the baseline (Phase I) points among ``n``.

    Parameters
    ----------
    n : int
        Number of points.
    baseline : None, int, bool mask or index sequence
        None: the first ``min(20, n)``; an int k >= 1: the first ``min(k, n)``; a boolean
        mask of length n; or point indices.
    exclude : sequence of int
        Points never in the baseline, whatever ``baseline`` says: the batch being judged
        (Phase II), so that it cannot pull its own limits towards itself. Negative
        indices count from the end (``exclude=[-1]``: the latest batch).

    Returns
    -------
    ndarray of bool, shape (n,)
    """
    mask = _baseline_mask(n, baseline)
    dropped = np.asarray(exclude, dtype=np.int64).reshape(-1)
    if dropped.size and (dropped.min() < -n or dropped.max() >= n):
        raise UsageError(f"excluded points must be indices in [-{n}, {n}); got {list(exclude)}")
    mask[dropped] = False
    return mask


def _baseline_mask(n: int, baseline: Baseline) -> np.ndarray:
    if baseline is None:
        baseline = BASELINE_SIZE
    if isinstance(baseline, (int, np.integer)) and not isinstance(baseline, bool):
        if baseline < 1:
            raise UsageError(f"baseline must be at least 1 point; got {baseline}")
        mask = np.zeros(n, dtype=bool)
        mask[: min(int(baseline), n)] = True
        return mask
    chosen = np.asarray(baseline)
    if chosen.dtype == bool:
        if chosen.shape != (n,):
            raise UsageError(f"a baseline mask needs {n} entries; got shape {chosen.shape}")
        return chosen.copy()
    if chosen.size and (chosen.dtype.kind not in "iu" or chosen.min() < 0 or chosen.max() >= n):
        raise UsageError(f"baseline indices must be integers in [0, {n}); got {baseline!r}")
    mask = np.zeros(n, dtype=bool)
    mask[chosen.astype(np.int64)] = True
    return mask


def reference_mask(labels: Sequence[str], reference: Sequence[str]) -> np.ndarray:
    """Baseline mask of a named reference period (batch names -> their positions).

    Raises
    ------
    UsageError
        A reference name that is not among ``labels``.
    """
    names = np.asarray(list(labels), dtype=object).astype(str)
    wanted = np.asarray(list(reference), dtype=object).astype(str)
    missing = wanted[~np.isin(wanted, names)]
    if missing.size:
        raise UsageError(
            f"reference batch {str(missing[0])!r} is not in the history; "
            "fix [monitor] reference in labelaudit.toml"
        )
    return np.isin(names, wanted)


def chart_labels(labels: Sequence[str] | None, n: int) -> tuple[str, ...] | None:
    if labels is None:
        return None
    out = tuple(str(label) for label in labels)
    if len(out) != n:
        raise UsageError(f"labels must name each of the {n} points; got {len(out)}")
    return out


def metric_bounds(metric: str) -> Bounds:
    """The range of a charted metric, to clamp its control limits to.

    Parameters
    ----------
    metric : str
        A stored metric name (``krippendorff_alpha``, ``gold_error_rate``,
        ``span_f1_exact``, ``span_f1_exact:PER``, ...; a ``:LABEL`` suffix keeps the
        range of its metric).

    Returns
    -------
    (lower, upper) or None
        ``(-1, 1)`` for the chance-corrected coefficients (Cohen 1960, Krippendorff 2019:
        1 is perfect agreement; -1 bounds them below), ``(0, 1)`` for proportions and
        rates (any name ending in ``_rate``); for structured labels ``(0, 1)`` for span
        and box F1, IoU, shares and Kendall's W, ``(None, 1)`` for ``masi_alpha``,
        ``jaccard_alpha`` and ``text_alpha`` (at most 1, no fixed minimum); None for a
        metric with no known range.
    """
    metric = metric.split(":", 1)[0]
    if metric in _STRUCTURED_BOUNDS:
        return _STRUCTURED_BOUNDS[metric]
    if metric in _COEFFICIENTS:
        return (-1.0, 1.0)
    if metric in _PROPORTIONS or metric.endswith("_rate"):
        return (0.0, 1.0)
    return None


def clamp_limits(lcl: np.ndarray, ucl: np.ndarray, bounds: Bounds) -> tuple[np.ndarray, np.ndarray]:
    """Control limits clipped to the metric's range (NaN stays NaN).

    A limit beyond the range cannot be crossed, so clipping changes no signal of a value
    inside the range; it keeps a chart from drawing an upper limit of 1.07 for alpha.
    The unclipped limits stay recoverable from the chart's ``parameters``.
    """
    if bounds is None:
        return lcl, ucl
    low = -np.inf if bounds[0] is None else bounds[0]
    high = np.inf if bounds[1] is None else bounds[1]
    return np.clip(lcl, low, high), np.clip(ucl, low, high)
