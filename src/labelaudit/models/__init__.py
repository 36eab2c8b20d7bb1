"""Models next to humans: soft labels, training exports, label errors, predictions.

- :func:`soft_labels`: per-item label distributions (vote shares and the aggregator's
  posterior) with ambiguity scores.
- :func:`export_labels`: consensus, soft labels and every annotator's label as a Hugging
  Face dataset or Parquet, with a dataset card.
- :func:`find_label_errors`: items whose given label is likely wrong (confident learning,
  cleanlab; CROWDLAB with several annotators), from :func:`read_probabilities`.
- :func:`model_agreement`: each model annotator (``annotator_kind`` model, from Label
  Studio predictions or :func:`read_predictions`) against each human and the consensus.
- :func:`prelabel_acceptance`: how often annotators keep the pre-label they started from,
  and whether they anchor on it.
"""

from __future__ import annotations

from labelaudit.models.export import ExportResult, export_labels
from labelaudit.models.kinds import annotator_kinds, human_rows
from labelaudit.models.label_errors import (
    GivenLabels,
    LabelErrors,
    consensus_labels,
    find_label_errors,
    read_given_labels,
)
from labelaudit.models.predictions import (
    ModelAgreement,
    model_agreement,
    read_predictions,
    with_predictions,
)
from labelaudit.models.prelabels import PrelabelAcceptance, PrelabelRules, prelabel_acceptance
from labelaudit.models.probs import Probabilities, read_probabilities
from labelaudit.models.soft import SoftLabels, entropy_bits, soft_labels

__all__ = [
    "ExportResult",
    "GivenLabels",
    "LabelErrors",
    "ModelAgreement",
    "PrelabelAcceptance",
    "PrelabelRules",
    "Probabilities",
    "SoftLabels",
    "annotator_kinds",
    "consensus_labels",
    "entropy_bits",
    "export_labels",
    "find_label_errors",
    "human_rows",
    "model_agreement",
    "prelabel_acceptance",
    "read_given_labels",
    "read_predictions",
    "read_probabilities",
    "soft_labels",
    "with_predictions",
]
