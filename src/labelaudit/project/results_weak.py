"""The stored LF analysis of a batch whose annotators include labeling functions.

One entry of :data:`labelaudit.project.results.ANALYSES`: kind ``labeling_functions``,
the :func:`labelaudit.weak.lf_analysis` of the batch's ``function`` rows (coverage relative
to every item of the batch; accuracy against the project's gold when ``[gold]`` has some
for the batch). Headline rows: ``lf_label_coverage``, ``lf_label_overlap``,
``lf_label_conflict``; per LF: ``lf_coverage``, ``lf_empirical_accuracy`` (n = its votes
on gold items) and ``lf_estimated_accuracy`` (label model). Batches without LF votes
store nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from labelaudit.project.config import ProjectConfig
from labelaudit.results import clean_number
from labelaudit.table.table import AnnotationTable

if TYPE_CHECKING:
    from labelaudit.project.results import AnnotatorRow, BatchResult, MetricRow

__all__ = ["KIND", "labeling_functions_result"]

KIND = "labeling_functions"


def labeling_functions_result(table: AnnotationTable, config: ProjectConfig) -> BatchResult | None:
    """LF analysis of the batch's labeling-function votes (None when it has none)."""
    if "annotator_kind" not in table.data.column_names:
        return None  # every row a person's (before the imports: labelaudit.weak, .models)
    from labelaudit.models import annotator_kinds
    from labelaudit.project.results import BatchResult
    from labelaudit.project.results_quality import batch_gold
    from labelaudit.weak import lf_analysis

    if table.schema.is_structured:
        return None
    functions = np.flatnonzero(annotator_kinds(table) == "function")
    if functions.size == 0:
        return None
    votes = table.subset_annotators(functions)
    gold_labels, _ = batch_gold(table, config)
    gold = None
    if gold_labels is not None:
        names = table.categories[gold_labels.label_codes].astype(str)
        gold = dict(zip(gold_labels.items.astype(str), names, strict=True))
        gold = {item: label for item, label in gold.items() if item in set(votes.items)}
    result = lf_analysis(votes, gold=gold or None, n_records=table.n_items).to_dict()
    metrics: list[MetricRow] = [
        (f"lf_{name}", clean_number(result[name]), None, None, None, None)
        for name in ("label_coverage", "label_overlap", "label_conflict")
    ]
    annotators: list[AnnotatorRow] = []
    for lf in result["lfs"]:
        judged = (lf["correct"] or 0) + (lf["incorrect"] or 0)
        accuracy_reason = None if lf["empirical_accuracy"] is not None else "no vote on gold"
        estimated_reason = None if lf["estimated_accuracy"] is not None else "fewer than 3 LFs"
        annotators += [
            (lf["lf"], "lf_coverage", lf["coverage"], lf["n_votes"], None),
            (lf["lf"], "lf_empirical_accuracy", lf["empirical_accuracy"], judged, accuracy_reason),
            (lf["lf"], "lf_estimated_accuracy", lf["estimated_accuracy"], lf["n_votes"],
             estimated_reason),
        ]  # fmt: skip
    return BatchResult(KIND, 1, result, metrics=metrics, annotators=annotators)
