"""Annotator quality, gold questions, the item table and the adjudication queue.

Entry points:

- :func:`annotator_report`: per-annotator metrics (agreement with the others, gold
  accuracy with Wilson intervals, Dawid-Skene accuracy, MACE spamming, label divergence,
  speed, runs) and outlier flags (:class:`Flag` records, rules in
  :mod:`labelaudit.quality.outliers`).
- :func:`read_gold` / :func:`gold_from_column`: gold labels aligned with a table;
  :func:`without_gold` drops the gold items from a table.
- :func:`item_report`: consensus, confidence, vote entropy and disagreement per item.
- :func:`adjudication_queue`: tied and low-confidence items with every candidate label;
  :func:`write_jsonl` and, for Label Studio, :func:`label_studio_tasks` /
  :func:`write_label_studio` / :func:`label_config`.
"""

from __future__ import annotations

from labelaudit.quality._methods import (
    DEFAULT_METHODS,
    METHOD_NAMES,
    check_methods,
    fit_method,
    make_method,
)
from labelaudit.quality.adjudicate import (
    AdjudicationQueue,
    adjudication_queue,
    queue_of,
    with_label_errors,
    write_jsonl,
    write_queue,
)
from labelaudit.quality.annotator_report import AnnotatorReport, annotator_report
from labelaudit.quality.annotators import AnnotatorMetrics
from labelaudit.quality.gold import (
    GoldLabels,
    gold_from_column,
    ground_truth_gold,
    load_gold,
    read_gold,
    without_gold,
)
from labelaudit.quality.gold_scores import GoldReport, aggregator_gold_accuracy, gold_accuracy
from labelaudit.quality.items import ItemReport, item_details, item_report
from labelaudit.quality.label_studio import (
    item_fields,
    label_config,
    label_studio_tasks,
    write_label_studio,
)
from labelaudit.quality.outliers import Flag, OutlierRules, PoolStats

__all__ = [
    "DEFAULT_METHODS",
    "METHOD_NAMES",
    "AdjudicationQueue",
    "AnnotatorMetrics",
    "AnnotatorReport",
    "Flag",
    "GoldLabels",
    "GoldReport",
    "ItemReport",
    "OutlierRules",
    "PoolStats",
    "adjudication_queue",
    "aggregator_gold_accuracy",
    "annotator_report",
    "check_methods",
    "fit_method",
    "gold_accuracy",
    "gold_from_column",
    "ground_truth_gold",
    "item_details",
    "item_fields",
    "item_report",
    "label_config",
    "label_studio_tasks",
    "load_gold",
    "make_method",
    "queue_of",
    "read_gold",
    "with_label_errors",
    "without_gold",
    "write_jsonl",
    "write_label_studio",
    "write_queue",
]
