"""Agreement and consensus for structured labels: multi-label sets, spans, boxes, polygons,
cuboids, keypoints, rankings, text.

``structured_metrics(table)`` routes on ``table.task`` (see the structured-label contract
in :class:`labelaudit.table.AnnotationTable`); ``labelaudit.agreement.agreement_report``
calls it for every structured table. Voting consensus lives in
:mod:`labelaudit.structured.voting`.
"""

from __future__ import annotations

from labelaudit.structured._payload import payload_of
from labelaudit.structured.api import (
    payload_vocabulary,
    structured_analysis,
    structured_diagnostics,
    structured_metrics,
)
from labelaudit.structured.shapes import vote_shapes
from labelaudit.structured.voting import (
    StructuredConsensus,
    vote_boxes,
    vote_multilabel,
    vote_spans,
)

__all__ = [
    "StructuredConsensus",
    "payload_of",
    "payload_vocabulary",
    "structured_analysis",
    "structured_diagnostics",
    "structured_metrics",
    "vote_boxes",
    "vote_multilabel",
    "vote_shapes",
    "vote_spans",
]
