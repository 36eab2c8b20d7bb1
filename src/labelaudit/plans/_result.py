"""Shared base of the plan results: ``to_dict()`` is the JSON contract, ``to_pandas()`` a view."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["PlanResult", "records_frame"]


class PlanResult:
    """Base of every result of :mod:`labelaudit.plans` (each defines ``to_dict()``)."""

    def to_dict(self) -> dict[str, Any]:  # pragma: no cover - every subclass overrides
        """The JSON-ready result."""
        raise NotImplementedError

    def to_pandas(self) -> Any:
        """The result's main table as a pandas DataFrame (pandas must be installed)."""
        raise NotImplementedError  # pragma: no cover - every subclass overrides


def records_frame(rows: Sequence[dict[str, Any]]) -> Any:
    """A pandas DataFrame of ``rows`` (a list of flat dicts); pandas is imported lazily."""
    import pandas as pd

    return pd.DataFrame(list(rows))
