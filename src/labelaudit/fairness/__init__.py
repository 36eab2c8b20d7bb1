"""Who labels shapes the label: agreement and label shifts by annotator group and data slice.

``slices_report(table, by=[...])`` is the entry point (``labelaudit slices``). Modules:
``attributes`` (annotator and item attributes, constancy checks, the unknown group),
``offsets`` (item-adjusted offsets, two-way cluster bootstrap, Holm), ``group_agreement``
(alpha within groups, cross-replication alpha between groups), ``metric_frame``
(fairlearn-style table against gold or leave-one-out consensus), ``perspectives``
(group-conditional soft labels per item), ``mixed`` (statsmodels MixedLM cross-check) and
``document`` (the report document).
"""

from __future__ import annotations

from labelaudit.fairness.api import reference_labels, slices_report
from labelaudit.fairness.attributes import (
    UNKNOWN,
    AttributeFile,
    Grouping,
    read_attribute_file,
    resolve_groupings,
)
from labelaudit.fairness.perspectives import perspectives_table, write_perspectives
from labelaudit.fairness.result import SlicesReport

__all__ = [
    "UNKNOWN",
    "AttributeFile",
    "Grouping",
    "SlicesReport",
    "perspectives_table",
    "read_attribute_file",
    "reference_labels",
    "resolve_groupings",
    "slices_report",
    "write_perspectives",
]
