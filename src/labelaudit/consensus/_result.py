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

__all__ = ["ConsensusResult", "consensus_table", "summarise"]


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
    reasons: dict[str, str] = {}
    iterative = bool(estimator.log_likelihood_)
    if not iterative:
        reasons["n_iter"] = "one-pass method: no iterations"
        reasons["converged"] = reasons["n_iter"]
        reasons["log_likelihood"] = "not a likelihood model"
    common: dict[str, Any] = {
        "method": estimator.cli_name,
        "parameters": {k: _plain(v) for k, v in estimator.get_params().items()},
        "n_items": int(estimator.items_.size),
        "n_annotators": int(estimator.annotators_.size),
        "n_labels": int(estimator.n_labels_),
        "n_categories": int(estimator.categories_.size),
        "n_iter": int(estimator.n_iter_) if iterative else None,
        "converged": bool(estimator.converged_) if iterative else None,
        "log_likelihood": estimator.log_likelihood_[-1] if iterative else None,
    }
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
    if not bool(decided.any()):
        reasons["mean_confidence"] = "every item was abstained"
        reasons["min_confidence"] = reasons["mean_confidence"]
    return ConsensusResult(
        **common,
        n_abstained=int((~decided).sum()),
        label_distribution={
            str(name): int(count) for name, count in zip(estimator.categories_, counts, strict=True)
        },
        mean_confidence=float(confidence.mean()) if confidence.size else None,
        min_confidence=float(confidence.min()) if confidence.size else None,
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
        codes = estimator.labels_
        abstained = codes < 0
        dictionary = pa.array(table.categories.astype(object), type=pa.string())
        indices = pa.array(np.where(abstained, 0, codes).astype(np.int32), mask=abstained)
        label = pa.DictionaryArray.from_arrays(indices, dictionary).cast(pa.string())
        confidence = pa.array(estimator.confidence_, type=pa.float64())
    return pa.table({"item": items, "label": label, "confidence": confidence})
