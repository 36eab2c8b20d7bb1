"""LLM-as-judge: a rubric judge run against any OpenAI-compatible endpoint, audited like an
annotator.

- :func:`load_judge` reads a judge file (TOML); :func:`run_judge` runs it on DATA with a
  persistent, resumable :class:`JudgeCache` and a :class:`PriceTable`
  (:func:`run_judge_files` does both from file names, as ``labelaudit judge run``);
- :func:`audit_judge` audits verdict files against human labels and gold (``labelaudit
  judge audit``).

The HTTP client needs httpx (``pip install 'labelaudit[judge]'``); it is imported only when
a run starts. See ``docs/judge.md``.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "ChatClient": "labelaudit.judge.client",
    "JudgeAudit": "labelaudit.judge.audit",
    "JudgeCache": "labelaudit.judge.cache",
    "JudgeDefinition": "labelaudit.judge.definition",
    "JudgeRun": "labelaudit.judge.verdicts",
    "PriceTable": "labelaudit.judge.prices",
    "RunOptions": "labelaudit.judge.run",
    "audit_judge": "labelaudit.judge.audit",
    "load_judge": "labelaudit.judge.definition",
    "load_prices": "labelaudit.judge.prices",
    "open_cache": "labelaudit.judge.cache",
    "read_verdicts": "labelaudit.judge.verdicts",
    "run_judge": "labelaudit.judge.run",
    "run_judge_files": "labelaudit.judge.api",
}

__all__ = sorted(_EXPORTS, key=str.lower)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'labelaudit.judge' has no attribute {name!r}")


def __dir__() -> list[str]:
    return list(__all__)
