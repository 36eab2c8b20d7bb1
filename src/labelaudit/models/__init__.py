"""Models next to humans: soft labels, training exports, label errors, predictions.

- :func:`soft_labels`: per-item label distributions (vote shares and the aggregator's
  posterior) with ambiguity scores.
- :func:`export_labels`: consensus, soft labels and every annotator's label as a Hugging
  Face dataset or Parquet, with a dataset card.
"""

from __future__ import annotations

from labelaudit.models.export import ExportResult, export_labels
from labelaudit.models.kinds import annotator_kinds, human_rows
from labelaudit.models.soft import SoftLabels, entropy_bits, soft_labels

__all__ = [
    "ExportResult",
    "SoftLabels",
    "annotator_kinds",
    "entropy_bits",
    "export_labels",
    "human_rows",
    "soft_labels",
]
