"""One entry point for shells: build an aggregator by method name, fit it, write the labels."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from labelaudit.consensus._base import Aggregator
from labelaudit.consensus._io import (
    output_format,
    read_weights_file,
    write_consensus,
    write_consensus_parts,
)
from labelaudit.consensus._result import (
    ConsensusResult,
    categorical_result,
    consensus_table,
    label_table,
    summary_fields,
)
from labelaudit.consensus.dawid_skene import DawidSkene, OneCoinDawidSkene
from labelaudit.consensus.glad import GLAD
from labelaudit.consensus.label_model import LabelModel
from labelaudit.consensus.mace import MACE
from labelaudit.consensus.majority import MajorityVote, WeightedMajorityVote
from labelaudit.consensus.numeric import MeanAggregator, MedianAggregator, TrimmedMeanAggregator
from labelaudit.consensus.wawa import Wawa
from labelaudit.exceptions import UsageError
from labelaudit.methods import CONSENSUS_METHODS
from labelaudit.table import AnnotationTable

__all__ = [
    "METHODS",
    "categorical_result",
    "label_table",
    "make_aggregator",
    "output_format",
    "read_weights_file",
    "run_consensus",
    "run_structured_consensus",
    "summary_fields",
    "write_consensus",
    "write_consensus_parts",
]

_CLASSES: tuple[type[Aggregator], ...] = (
    MajorityVote,
    WeightedMajorityVote,
    Wawa,
    DawidSkene,
    OneCoinDawidSkene,
    GLAD,
    MACE,
    LabelModel,
    MeanAggregator,
    MedianAggregator,
    TrimmedMeanAggregator,
)
_BY_NAME = {cls.cli_name: cls for cls in _CLASSES}
#: ``--method`` name -> aggregator class, in the order of :data:`CONSENSUS_METHODS` (a name
#: without a class fails at import, so the one list and the classes cannot drift apart).
METHODS: dict[str, type[Aggregator]] = {name: _BY_NAME[name] for name in CONSENSUS_METHODS}


def make_aggregator(
    method: str,
    *,
    seed: int = 0,
    max_iter: int | None = None,
    tol: float | None = None,
    tie: str | None = None,
    weights: dict[str, float] | None = None,
    proportion: float | None = None,
    class_balance: Any = None,
    fit_on: AnnotationTable | None = None,
    n_records: int | None = None,
) -> Aggregator:
    """An aggregator by ``--method`` name; options left as None keep the class defaults.

    ``class_balance``, ``fit_on`` (votes to learn from, labelling the fitted table) and
    ``n_records`` (records those votes came from) apply to ``label-model``.

    Raises
    ------
    UsageError
        Unknown method, or an option given that the method does not take (for example
        ``max_iter`` with ``majority``).
    """
    if method not in METHODS:
        msg = f"unknown method {method!r}; use one of {', '.join(METHODS)}"
        raise UsageError(msg)
    cls = METHODS[method]
    accepted = inspect.signature(cls.__init__).parameters
    given: dict[str, Any] = {
        "max_iter": max_iter,
        "tol": tol,
        "tie": tie,
        "weights": weights,
        "proportion": proportion,
        "class_balance": class_balance,
        "fit_on": fit_on,
        "n_records": n_records,
    }
    for name, value in given.items():
        if value is not None and name not in accepted:
            flag = "--weights-file" if name == "weights" else "--" + name.replace("_", "-")
            msg = f"option {name!r} ({flag}) does not apply to method {method!r}"
            raise UsageError(msg)
    options = {name: value for name, value in given.items() if value is not None}
    if "random_state" in accepted:
        options["random_state"] = seed
    return cls(**options)


def run_consensus(
    table: AnnotationTable,
    method: str,
    *,
    out: str | Path | None = None,
    raw_csv: bool = False,
    gold: dict[str, str] | None = None,
    **options: Any,
) -> tuple[Aggregator, ConsensusResult]:
    """Fit the named aggregator, optionally write the per-item labels, return the summary.

    Parameters
    ----------
    table : AnnotationTable
    method : str
        A key of :data:`METHODS`.
    out : path, optional
        Where to write ``item, label, confidence`` (CSV, JSONL or Parquet by extension).
    raw_csv : bool, default False
        Write CSV cells unchanged (no formula-injection quote prefix).
    gold : dict of str to str, optional
        Known labels, clamped (see :meth:`Aggregator.fit`).
    **options
        ``seed``, ``max_iter``, ``tol``, ``tie``, ``weights``, ``proportion``,
        ``class_balance``, ``fit_on``, ``n_records`` for :func:`make_aggregator`.

    Returns
    -------
    (Aggregator, ConsensusResult)
        The fitted estimator and its summary.
    """
    estimator = make_aggregator(method, **options)
    if out is not None:
        output_format(out)  # fail on a bad extension before a long fit, not after it
    estimator.fit(table, gold)
    if out is not None:
        write_consensus(consensus_table(table, estimator), out, raw_csv=raw_csv)
    return estimator, estimator.summary()


def run_structured_consensus(
    table: AnnotationTable,
    method: str = "majority",
    *,
    out: str | Path | None = None,
    weights: dict[str, float] | None = None,
    min_votes: float | None = None,
    iou: float | None = None,
    raw_csv: bool = False,
) -> tuple[Any, ConsensusResult]:
    """Consensus of a structured table by voting, optionally written, with its summary.

    Parameters
    ----------
    table : AnnotationTable
        Multi-label, spans, boxes, ranking or text annotations.
    method : {"majority", "weighted"}
        See :func:`labelaudit.structured.consensus.structured_consensus`.
    out : path, optional
        Where to write one record per item, ``item, label, confidence, n_annotators``,
        ``label`` in the task's payload shape (the shape the readers produce): nested in
        JSONL / Parquet, JSON text in CSV.
    weights, min_votes, iou
        Passed to ``structured_consensus``.
    raw_csv : bool
        As for :func:`run_consensus`.

    Returns
    -------
    (StructuredConsensus, ConsensusResult)
    """
    from labelaudit.structured.consensus import consensus_summary, structured_consensus

    if out is not None:
        output_format(out)
    result = structured_consensus(
        table, method=method, weights=weights, min_votes=min_votes, iou=iou
    )
    if out is not None:
        write_consensus(result.records(), out, raw_csv=raw_csv)
    return result, consensus_summary(result, table)
