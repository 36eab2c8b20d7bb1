"""Scores on gold questions: per-annotator accuracy and confusion, aggregator accuracy.

Accuracies come with a Wilson (1927) 95% interval; the confusion against gold has rows =
gold category and columns = the annotator's label.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from labelaudit.intervals import wilson_interval
from labelaudit.quality.gold import GoldLabels
from labelaudit.results import Displayable, MetricResult, clean_number
from labelaudit.table.table import AnnotationTable

__all__ = [
    "GoldReport",
    "aggregator_gold_accuracy",
    "decision_agreement",
    "gold_accuracy",
    "gold_report_of",
]


@dataclass(frozen=True)
class GoldReport(Displayable):
    """Per-annotator accuracy on gold items and confusion against gold.

    Attributes
    ----------
    categories, annotators : list of str
    n_gold, n_correct : ndarray of int64, shape (n_annotators,)
        Gold items each annotator labelled, and how many of them correctly.
    accuracy, ci_low, ci_high : ndarray of float64, shape (n_annotators,)
        ``n_correct / n_gold`` and its Wilson 95% interval; NaN when ``n_gold == 0``.
    confusion : ndarray of int64, shape (n_annotators, q, q)
        ``confusion[a, g, k]``: items with gold category g that annotator a labelled k.
    aggregators : dict of str to MetricResult
        Accuracy of each aggregator's consensus on the gold items (``extra``: ``n``,
        ``n_correct``, ``n_abstained``).
    gold : GoldLabels
    """

    categories: list[str]
    annotators: list[str]
    n_gold: np.ndarray
    n_correct: np.ndarray
    accuracy: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    confusion: np.ndarray
    gold: GoldLabels
    aggregators: dict[str, MetricResult] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """``{"source", "n_items", "warnings", "categories", "aggregators", "confusions"}``.

        ``confusions`` maps each annotator with gold labels to its q x q count matrix
        (rows = gold category, columns = the annotator's label).
        """
        labelled = np.flatnonzero(self.n_gold > 0)
        return {
            **self.gold.to_dict(),
            "categories": self.categories,
            "aggregators": {name: r.to_dict() for name, r in self.aggregators.items()},
            "confusions": {
                self.annotators[a]: clean_number(self.confusion[a].tolist()) for a in labelled
            },
        }


def gold_accuracy(table: AnnotationTable, gold: GoldLabels) -> GoldReport:
    """Accuracy of every annotator on the gold items, with Wilson 95% intervals.

    Parameters
    ----------
    table : AnnotationTable
        The table ``gold`` was aligned with.
    gold : GoldLabels

    Returns
    -------
    GoldReport
        O(n_ratings + n_annotators q^2) time and memory.
    """
    q, n_annotators = table.n_categories, table.n_annotators
    truth = gold.item_lookup(table.n_items)[table.item_codes]
    on_gold = truth >= 0
    annotator = table.annotator_codes[on_gold]
    given, expected = table.label_codes[on_gold], truth[on_gold]
    cells = np.bincount(
        (annotator * q + expected) * q + given, minlength=n_annotators * q * q
    ).reshape(n_annotators, q, q)
    return gold_report_of(cells, table.categories, table.annotators, gold)


def gold_report_of(
    cells: np.ndarray, categories: np.ndarray, annotators: np.ndarray, gold: GoldLabels
) -> GoldReport:
    """The :class:`GoldReport` from its sufficient statistics, the confusion counts.

    Parameters
    ----------
    cells : ndarray of int64, shape (n_annotators, q, q)
        ``cells[a, g, k]``: labels k of annotator a on items with gold category g (sums
        over any partition of the ratings).
    categories, annotators : ndarray of str, shapes (q,), (n_annotators,)
    gold : GoldLabels
    """
    cells = np.asarray(cells, dtype=np.int64)
    n_gold = cells.sum(axis=(1, 2))
    n_correct = np.trace(cells, axis1=1, axis2=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        accuracy = np.where(n_gold > 0, n_correct / np.maximum(n_gold, 1), np.nan)
    low, high = wilson_interval(n_correct, n_gold)
    return GoldReport(
        categories=[str(c) for c in categories],
        annotators=[str(a) for a in annotators],
        n_gold=n_gold,
        n_correct=n_correct,
        accuracy=accuracy,
        ci_low=low,
        ci_high=high,
        confusion=cells,
        gold=gold,
    )


def aggregator_gold_accuracy(
    labels: np.ndarray, gold: GoldLabels, *, at_gold: bool = False
) -> MetricResult:
    """Accuracy of consensus labels on the gold items, with a Wilson 95% interval.

    Parameters
    ----------
    labels : ndarray of int, shape (n_items,)
        An aggregator's ``labels_`` on the table ``gold`` was aligned with; -1 = abstained.
        With ``at_gold``: shape (g,), the labels of the gold items only, in
        ``gold.item_codes`` order (what an engine that keeps the labels distributed
        brings back).
    gold : GoldLabels

    Returns
    -------
    MetricResult
        ``value`` = correct / decided gold items (abstentions are left out and counted in
        ``extra["n_abstained"]``); ``None`` with a reason when every gold item abstained.
    """
    predicted = np.asarray(labels) if at_gold else np.asarray(labels)[gold.item_codes]
    decided = predicted >= 0
    n = int(decided.sum())
    n_correct = int((predicted[decided] == gold.label_codes[decided]).sum())
    extra = {"n": n, "n_correct": n_correct, "n_abstained": int((~decided).sum())}
    if n == 0:
        return MetricResult.undefined("the aggregator abstained on every gold item", **extra)
    low, high = wilson_interval(np.array([n_correct]), np.array([n]))
    return MetricResult(
        value=n_correct / n,
        ci95=(float(low[0]), float(high[0])),
        ci_method="wilson",
        extra=extra,
    )


def decision_agreement(
    table: AnnotationTable, items: Sequence[str], labels: Sequence[str], source: str
) -> dict[str, Any]:
    """How often each annotator agreed with the adjudicators' decisions.

    Decisions (``labelaudit pull --as-decisions``) are expert answers on the *disputed*
    items, a biased sample, so this is reported as its own figure, never mixed with gold
    accuracy on honeypots. Labels are compared in canonical form (the ``label`` column:
    a category, or the canonical JSON of a structured label), so a decision nobody gave
    (e.g. a span set the adjudicator drew) simply agrees with nobody.

    Parameters
    ----------
    table : AnnotationTable
    items, labels : sequence of str, shape (d,)
        One decision per item (items absent from ``table`` are ignored).
    source : str
        Where the decisions came from (for the report).

    Returns
    -------
    dict
        ``{"source", "n_items", "annotators": {name: {"n", "agreed", "agreement",
        "ci95"}}}`` for every annotator who labelled a decided item (Wilson intervals).
    """
    names = np.asarray(table.items, dtype=object)
    wanted = np.asarray(list(items), dtype=object)
    position = np.searchsorted(names, wanted) if names.size else np.zeros(0, np.int64)
    position = np.minimum(position, max(names.size - 1, 0))
    found = names.size > 0 and wanted.size > 0
    hit = (names[position] == wanted) if found else np.zeros(wanted.size, bool)
    decision = np.full(table.n_items, None, dtype=object)
    decision[position[hit]] = np.asarray(list(labels), dtype=object)[hit]
    row_decision = decision[table.item_codes]
    decided = row_decision != None  # noqa: E711 - elementwise on an object array
    given = np.asarray(table.data.column("label").to_pylist(), dtype=object)
    annotator = table.annotator_codes[decided]
    n = np.bincount(annotator, minlength=table.n_annotators)
    agreed_rows = given[decided] == row_decision[decided]
    agreed = np.bincount(annotator[agreed_rows], minlength=table.n_annotators)
    low, high = wilson_interval(agreed, n)
    return {
        "source": source,
        "n_items": int(hit.sum()),
        "annotators": {
            str(table.annotators[a]): {
                "n": int(n[a]),
                "agreed": int(agreed[a]),
                "agreement": float(agreed[a] / n[a]),
                "ci95": clean_number([low[a], high[a]]),
            }
            for a in np.flatnonzero(n > 0)
        },
    }
