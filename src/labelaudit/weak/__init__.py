"""Weak supervision: labeling functions as annotators, their analysis, a label model.

- :func:`labeling_function` / :class:`LabelingFunction`: heuristics that label a record
  (or a batch, ``vectorized=True``) or abstain.
- :func:`apply_lfs`: run LFs over a DataFrame, Arrow table, list of dicts or file; the
  votes are a canonical :class:`~labelaudit.table.AnnotationTable` (annotator kind
  ``function``, an abstain is an absent row), so agreement, consensus and reports work on
  them unchanged.
- :func:`lf_analysis`: Snorkel's ``LFAnalysis`` numbers (polarity, coverage, overlaps,
  conflicts, correct / incorrect, empirical accuracy with Wilson intervals), each LF's
  agreement with the others, its label-model accuracy, the most conflicted items.
- :func:`lf_conflict_queue`: the items the LFs conflict on as an adjudication queue
  (reason ``lf_conflict``; ``lf analyze --queue-out``).
- :class:`LabelModel`: Snorkel-style matrix-completion label model (numpy/scipy); also
  ``labelaudit consensus --method label-model``.
"""

from __future__ import annotations

from labelaudit.consensus.label_model import LabelModel
from labelaudit.weak.analysis import LFAnalysis, lf_analysis, lf_analysis_matrix
from labelaudit.weak.apply import apply_lfs, lf_run_summary, load_lfs, records_frame, votes_table
from labelaudit.weak.lf import ABSTAIN, LabelingFunction, Record, labeling_function
from labelaudit.weak.queue import LF_CONFLICT, lf_conflict_queue

__all__ = [
    "ABSTAIN",
    "LF_CONFLICT",
    "LFAnalysis",
    "LabelModel",
    "LabelingFunction",
    "Record",
    "apply_lfs",
    "labeling_function",
    "lf_analysis",
    "lf_analysis_matrix",
    "lf_conflict_queue",
    "lf_run_summary",
    "load_lfs",
    "records_frame",
    "votes_table",
]
