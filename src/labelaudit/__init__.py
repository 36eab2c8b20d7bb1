"""labelaudit: quality control for AI training and evaluation data.

The public API is re-exported here; heavy modules load on first use so that the CLI
starts fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    # the canonical table
    "AnnotationTable": "labelaudit.table",
    "TaskSchema": "labelaudit.table",
    "read_annotations": "labelaudit.table",
    "from_dataframe": "labelaudit.table",
    "read_export": "labelaudit.io",
    "write_table": "labelaudit.io",
    # agreement
    "agreement_report": "labelaudit.agreement",
    "AgreementReport": "labelaudit.agreement",
    "MetricResult": "labelaudit.agreement",
    # consensus and annotator quality
    "MajorityVote": "labelaudit.consensus",
    "WeightedMajorityVote": "labelaudit.consensus",
    "Wawa": "labelaudit.consensus",
    "DawidSkene": "labelaudit.consensus",
    "OneCoinDawidSkene": "labelaudit.consensus",
    "GLAD": "labelaudit.consensus",
    "MACE": "labelaudit.consensus",
    "annotator_report": "labelaudit.quality",
    "adjudication_queue": "labelaudit.quality",
    "read_gold": "labelaudit.quality",
    # preference data
    "read_preferences": "labelaudit.preferences",
    "audit_preferences": "labelaudit.preferences",
    # projects
    "init_project": "labelaudit.project",
    "ingest_batch": "labelaudit.project",
    # errors
    "InputError": "labelaudit.exceptions",
    "LabelAuditError": "labelaudit.exceptions",
    "UsageError": "labelaudit.exceptions",
}

__all__ = sorted([*_EXPORTS, "__version__"], key=str.lower)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'labelaudit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return list(__all__)
