"""Typed summary of a consensus fit and the per-item output table."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from labelaudit.results import Displayable, clean_number

if TYPE_CHECKING:
    from labelaudit.consensus._base import Aggregator
    from labelaudit.table import AnnotationTable

__all__ = [
    "ConsensusResult",
    "categorical_result",
    "consensus_table",
    "label_table",
    "summarise",
    "summary_fields",
]


@dataclass(frozen=True)
class ConsensusResult(Displayable):
    """What a consensus fit produced, in numbers; ``to_dict()`` is the JSON contract.

    Attributes
    ----------
    method : str
        CLI name of the method (``majority``, ``dawid-skene``, ...).
    parameters : dict
        The estimator's constructor parameters.
    n_items, n_annotators, n_labels, n_categories : int
        Sizes of the fitted table.
    n_abstained : int
        Items left without a label (ties under ``tie="abstain"``): send them to
        adjudication.
    n_iter : int or None
        EM iterations run (summed over restarts for MACE); None for one-pass methods.
    converged : bool or None
        Whether the relative change of the log-likelihood fell below ``tol``.
    log_likelihood : float or None
        Final value of the objective (see each method); None for one-pass methods.
    label_distribution : dict of str to int, or None
        Items per consensus category (abstained items excluded); None for numeric methods.
    mean_confidence, min_confidence : float or None
        Over labelled items; None for numeric methods.
    values : dict or None
        ``{"min", "median", "max"}`` of the consensus values (numeric methods only).
    reasons : dict of str to str
        Why a field is null.
    """

    method: str
    parameters: dict[str, Any]
    n_items: int
    n_annotators: int
    n_labels: int
    n_categories: int
    n_abstained: int
    n_iter: int | None
    converged: bool | None
    log_likelihood: float | None
    label_distribution: dict[str, int] | None
    mean_confidence: float | None
    min_confidence: float | None
    values: dict[str, float | None] | None = None
    reasons: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with the fields above, in order; NaN becomes null."""
        return {
            "method": self.method,
            "parameters": {k: clean_number(v) for k, v in self.parameters.items()},
            "n_items": self.n_items,
            "n_annotators": self.n_annotators,
            "n_labels": self.n_labels,
            "n_categories": self.n_categories,
            "n_abstained": self.n_abstained,
            "n_iter": self.n_iter,
            "converged": self.converged,
            "log_likelihood": clean_number(self.log_likelihood),
            "label_distribution": self.label_distribution,
            "mean_confidence": clean_number(self.mean_confidence),
            "min_confidence": clean_number(self.min_confidence),
            "values": clean_number(self.values),
            "reasons": dict(self.reasons),
        }


def summarise(estimator: Aggregator) -> ConsensusResult:
    """Build the :class:`ConsensusResult` of a fitted aggregator."""
    iterative = bool(estimator.log_likelihood_)
    common, reasons = summary_fields(
        estimator,
        (
            int(estimator.items_.size),
            int(estimator.annotators_.size),
            int(estimator.n_labels_),
            int(estimator.categories_.size),
        ),
        (int(estimator.n_iter_), bool(estimator.converged_), estimator.log_likelihood_[-1])
        if iterative
        else None,
    )
    if estimator.numeric:
        values = np.asarray(estimator.values_, dtype=np.float64)
        reasons["label_distribution"] = "numeric labels: see values"
        reasons["mean_confidence"] = "numeric labels: no posterior"
        reasons["min_confidence"] = reasons["mean_confidence"]
        return ConsensusResult(
            **common,
            n_abstained=0,
            label_distribution=None,
            mean_confidence=None,
            min_confidence=None,
            values={
                "min": float(values.min()),
                "median": float(np.median(values)),
                "max": float(values.max()),
            },
            reasons=reasons,
        )
    labels = estimator.labels_
    decided = labels >= 0
    counts = np.bincount(labels[decided], minlength=estimator.categories_.size)
    confidence = estimator.confidence_[decided]
    return categorical_result(
        common,
        estimator.categories_,
        counts,
        int((~decided).sum()),
        (float(confidence.mean()), float(confidence.min())) if confidence.size else None,
        reasons,
    )


def summary_fields(
    estimator: Aggregator,
    sizes: tuple[int, int, int, int],
    iterations: tuple[int, bool, float] | None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """The fields every :class:`ConsensusResult` has, and the reasons for its nulls.

    ``estimator`` gives the method and parameters (fitted or not); ``sizes`` = (items,
    annotators, labels, categories); ``iterations`` = (n_iter, converged, final
    log-likelihood), None for a one-pass method.
    """
    reasons: dict[str, str] = {}
    if iterations is None:
        reasons["n_iter"] = "one-pass method: no iterations"
        reasons["converged"] = reasons["n_iter"]
        reasons["log_likelihood"] = "not a likelihood model"
    n_iter, converged, log_likelihood = iterations or (None, None, None)
    common: dict[str, Any] = {
        "method": estimator.cli_name,
        "parameters": {k: _plain(v) for k, v in estimator.get_params().items()},
        "n_items": sizes[0],
        "n_annotators": sizes[1],
        "n_labels": sizes[2],
        "n_categories": sizes[3],
        "n_iter": n_iter,
        "converged": converged,
        "log_likelihood": log_likelihood,
    }
    return common, reasons


def categorical_result(
    common: dict[str, Any],
    categories: np.ndarray,
    counts: np.ndarray,
    n_abstained: int,
    confidence: tuple[float, float] | None,
    reasons: dict[str, str],
) -> ConsensusResult:
    """The :class:`ConsensusResult` of categorical consensus from its label statistics:
    ``counts`` (q,) items per category, the abstained items, (mean, min) confidence of the
    labelled items (None: every item abstained). ``common``: the fields every method has
    (method, parameters, sizes, iterations), as :func:`summarise` builds them."""
    if confidence is None:
        reasons["mean_confidence"] = "every item was abstained"
        reasons["min_confidence"] = reasons["mean_confidence"]
    return ConsensusResult(
        **common,
        n_abstained=n_abstained,
        label_distribution={
            str(name): int(count) for name, count in zip(categories, counts, strict=True)
        },
        mean_confidence=confidence[0] if confidence else None,
        min_confidence=confidence[1] if confidence else None,
        reasons=reasons,
    )


def _plain(value: Any) -> Any:
    """Parameters as JSON-ready values (dict weights are reported by size only)."""
    if isinstance(value, dict):
        return f"<{len(value)} entries>"
    return value


def consensus_table(table: AnnotationTable, estimator: Aggregator) -> pa.Table:
    """One row per item: ``item``, ``label`` (null for an abstained tie), ``confidence``.

    Parameters
    ----------
    table : AnnotationTable
        The table the estimator was fitted on (gives the item names).
    estimator : Aggregator
        A fitted aggregator.

    Returns
    -------
    pyarrow.Table
        ``item`` (string), ``label`` (string category name; float64 value for numeric
        methods), ``confidence`` (float64: the winning posterior or vote share; null for
        numeric methods).
    """
    estimator._check_fitted()
    items = pa.array(table.items.astype(object), type=pa.string())
    if estimator.numeric:
        values = np.asarray(estimator.values_, dtype=np.float64)
        label = pa.array(values, type=pa.float64())
        confidence = pa.nulls(len(values), type=pa.float64())
    else:
        return label_table(items, table.categories, estimator.labels_, estimator.confidence_)
    return pa.table({"item": items, "label": label, "confidence": confidence})


def label_table(
    items: pa.Array, categories: np.ndarray, codes: np.ndarray, confidence: np.ndarray
) -> pa.Table:
    """``item, label, confidence`` of categorical consensus: ``codes`` (n,) index
    ``categories`` (q,), -1 = abstained (null label); ``confidence`` (n,) float64."""
    abstained = codes < 0
    dictionary = pa.array(categories.astype(object), type=pa.string())
    indices = pa.array(np.where(abstained, 0, codes).astype(np.int32), mask=abstained)
    label = pa.DictionaryArray.from_arrays(indices, dictionary).cast(pa.string())
    confidence_array = pa.array(confidence, type=pa.float64())
    return pa.table({"item": items, "label": label, "confidence": confidence_array})
