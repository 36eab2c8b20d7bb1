"""Audits of pairwise preference data (RLHF / DPO) and LLM-judge verdicts.

Read votes with :func:`read_preferences` (or build them with :func:`from_columns`), then
run :func:`audit_preferences` for every audit the data supports. The audit modules
(``position``, ``length``, ``agreement``, ``consistency``, ``bradley_terry``,
``self_preference``, ``hygiene``) are pure functions over a :class:`PreferenceTable`.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "PreferenceTable": "labelaudit.preferences.records",
    "from_columns": "labelaudit.preferences.columns",
    "read_preferences": "labelaudit.preferences.readers",
    "SOURCES": "labelaudit.preferences.readers",
    "PreferenceAudit": "labelaudit.preferences.audit",
    "audit_preferences": "labelaudit.preferences.audit",
}

__all__ = sorted(_EXPORTS, key=str.lower)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'labelaudit.preferences' has no attribute {name!r}")


def __dir__() -> list[str]:
    return list(__all__)
