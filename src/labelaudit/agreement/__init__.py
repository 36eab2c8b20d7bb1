"""Inter-annotator agreement: coefficients, uncertainty and diagnostics.

``agreement_report()`` is the entry point; the coefficient modules (``chance``, ``cohen``,
``conger``, ``alpha``, ``icc``) are pure functions over numpy arrays.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from labelaudit.results import MetricResult

__all__ = ["METRIC_ORDER", "AgreementReport", "MetricResult", "agreement_report"]


def __getattr__(name: str) -> Any:
    if name in ("METRIC_ORDER", "AgreementReport", "agreement_report"):
        return getattr(import_module("labelaudit.agreement.api"), name)
    raise AttributeError(f"module 'labelaudit.agreement' has no attribute {name!r}")
