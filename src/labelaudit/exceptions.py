"""Exceptions raised by labelaudit.

The hierarchy::

    LabelAuditError            base of every error labelaudit raises on purpose
    + InputError (ValueError)  bad or unreadable input: names file, line, field,
    |                          expected and actual value, and a fix
    + UsageError (ValueError)  an option or argument that cannot be honoured

Quality findings are *results*, never exceptions: exceptions are for misuse, bad input and I/O.
"""

from __future__ import annotations

from typing import Any

__all__ = ["InputError", "LabelAuditError", "UsageError"]


class LabelAuditError(Exception):
    """Base class of every error labelaudit raises on purpose."""


class UsageError(LabelAuditError, ValueError):
    """An option or argument that cannot be honoured (CLI exit code 2)."""


class InputError(LabelAuditError, ValueError):
    """Bad input, located precisely.

    Attributes
    ----------
    source : str or None
        File name (or ``"<DataFrame>"``) the bad value came from.
    line : int or None
        1-based line (CSV, TSV, JSONL) or record number (JSON array, Parquet, DataFrame).
    unit : str
        What ``line`` counts: ``"line"`` or ``"record"`` / ``"row"``.
    field : str or None
        Column or JSON field name.
    expected, actual : str or None
        What was expected and what was found.
    hint : str or None
        How to fix it.
    """

    def __init__(
        self,
        problem: str,
        *,
        source: str | None = None,
        line: int | None = None,
        field: str | None = None,
        expected: str | None = None,
        actual: Any = None,
        hint: str | None = None,
        unit: str = "line",
    ) -> None:
        self.problem = problem
        self.unit = unit
        self.source = source
        self.line = line
        self.field = field
        self.expected = expected
        self.actual = actual
        self.hint = hint
        super().__init__(self._format())

    def _format(self) -> str:
        where = self.source or "<input>"
        if self.line is not None:
            where += f":{self.line}" if self.unit == "line" else f" {self.unit} {self.line}"
        parts = [f"{where}: {self.problem}"]
        if self.field is not None:
            parts.append(f"field '{self.field}'")
        if self.expected is not None:
            parts.append(f"expected {self.expected}")
        if self.actual is not None:
            parts.append(f"got {self.actual!r}")
        message = "; ".join(parts)
        if self.hint:
            message += f". Fix: {self.hint}"
        return message
