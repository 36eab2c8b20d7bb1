"""labelaudit: quality control for AI training and evaluation data.

The public API is re-exported here; heavy modules load on first use so that the CLI
starts fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "AnnotationTable": "labelaudit.table",
    "TaskSchema": "labelaudit.table",
    "read_annotations": "labelaudit.table",
    "from_dataframe": "labelaudit.table",
    "agreement_report": "labelaudit.agreement",
    "AgreementReport": "labelaudit.agreement",
    "MetricResult": "labelaudit.agreement",
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
