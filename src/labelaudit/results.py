"""Typed results of agreement coefficients; ``to_dict()`` is the stable JSON contract."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Displayable", "MetricResult", "clean_number"]


def clean_number(value: Any) -> Any:
    """Python float for numpy scalars; ``None`` for NaN/inf (JSON has no NaN).

    Text is never a number: names such as ``"007"``, ``"1e3"`` or ``"inf"`` stay strings.
    """
    if value is None or isinstance(value, (str, bytes)):
        return value
    if isinstance(value, (list, tuple)):
        return [clean_number(v) for v in value]
    if isinstance(value, dict):
        return {k: clean_number(v) for k, v in value.items()}
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return value
    if hasattr(value, "dtype") and getattr(value.dtype, "kind", "f") in "iu":
        return int(value)
    return number if math.isfinite(number) else None


@dataclass(frozen=True)
class MetricResult:
    """One coefficient with its uncertainty.

    Attributes
    ----------
    value : float or None
        The coefficient; ``None`` when undefined (then ``reason`` says why).
    se : float or None
        Standard error (analytic or bootstrap SD, per ``ci_method``).
    ci95 : (float, float) or None
        95% confidence interval.
    ci_method : str
        ``"analytic: SOURCE"`` (plus ``"; bounded ..."`` when the interval was moved
        into the coefficient's range; docs/agreement.md), ``"bootstrap"``, ``"f-test"``,
        ``"wilson"`` or ``"none"``; other analyses may say ``"analytic"`` alone.
    reason : str or None
        Why the value (or its SE) is missing, in plain words.
    extra : dict
        Coefficient-specific fields added to the JSON (e.g. ``se_h0``, ``z``, ``p``,
        ``p_e``).
    """

    value: float | None
    se: float | None = None
    ci95: tuple[float, float] | None = None
    ci_method: str = "none"
    reason: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def undefined(cls, reason: str, **extra: Any) -> MetricResult:
        """A null coefficient with the reason it is undefined."""
        return cls(value=None, reason=reason, extra=extra)

    def to_dict(self) -> dict[str, Any]:
        """``{"value", "se", "ci95", "ci_method", "reason", **extra}``, NaN as null."""
        out: dict[str, Any] = {
            "value": clean_number(self.value),
            "se": clean_number(self.se),
            "ci95": clean_number(list(self.ci95)) if self.ci95 is not None else None,
            "ci_method": self.ci_method,
            "reason": self.reason,
        }
        out.update({k: clean_number(v) for k, v in self.extra.items()})
        return out


class Displayable:
    """Notebook and DataFrame views of a result with a ``to_dict()`` (mixed into every result).

    ``_repr_html_`` renders the result's document (:mod:`labelaudit.report.builders`)
    through the one HTML renderer; ``to_pandas`` gives a dict of DataFrames: ``"summary"``
    (one row of the scalar fields) and one frame per list of records.
    """

    def to_document(self) -> Any:
        """The result as a :class:`labelaudit.report.document.Document`."""
        from labelaudit.report.builders import build_document

        return build_document(self)

    def _repr_html_(self) -> str:
        from labelaudit.report.document import render_document

        return render_document(self.to_document(), "html")

    def to_pandas(self) -> Any:
        """``{"summary": DataFrame, <list field>: DataFrame, ...}`` from ``to_dict()``."""
        import pandas as pd

        data: dict[str, Any] = self.to_dict()  # type: ignore[attr-defined]
        scalars = {k: v for k, v in data.items() if v is None or isinstance(v, (str, int, float))}
        frames = {"summary": pd.DataFrame([scalars])}
        for key, value in data.items():
            if isinstance(value, list) and value and all(isinstance(r, dict) for r in value):
                frames[key] = pd.DataFrame(value)
        return frames
