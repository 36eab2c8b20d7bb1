"""Exceptions raised by labelaudit.

The hierarchy::

    LabelAuditError              base of every error labelaudit raises on purpose
    + InputError (ValueError)    bad or unreadable input: names file, line, field,
    | |                          expected and actual value, and a fix
    | + RejectedRowsError        a batch with more invalid rows than allowed
    + UsageError (ValueError)    an option or argument that cannot be honoured
      + StoreLockedError         the project store is open in another process
      + StoreOutdatedError       the store's schema is older than this labelaudit's

    RecordRejected               internal: one platform-export record is skipped (never
                                 leaves :mod:`labelaudit.io`; counted in the read report)

Every exception class of the package is defined here. The CLI turns a
:class:`LabelAuditError` or an :class:`OSError` into one ``error:`` line and exit code 2
in one place (:func:`labelaudit.cli.app.guarded`).

Quality findings are *results*, never exceptions: exceptions are for misuse, bad input and I/O.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from labelaudit.project.validate import Validation

__all__ = [
    "InputError",
    "LabelAuditError",
    "NotFoundError",
    "RecordRejected",
    "RejectedRowsError",
    "StoreLockedError",
    "StoreOutdatedError",
    "UsageError",
]


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


class RejectedRowsError(InputError):
    """A batch with more invalid rows than allowed; lists the first 20 problems."""

    def __init__(self, validation: Validation, source: str, max_rejects: int) -> None:
        self.validation = validation
        self.rejects = validation.first()
        self.n_rejected = validation.n_rejected
        n_valid = validation.n_entries - validation.n_rejected
        hint = (
            f"correct the rows, or pass --max-rejects {self.n_rejected} to store the "
            f"{n_valid} valid rows and keep the rejected ones (with their reasons) in the store"
        )
        super().__init__(
            f"{self.n_rejected} of {validation.n_entries} rows are invalid "
            f"(at most {max_rejects} allowed)",
            source=source,
            hint=hint,
        )

    def _format(self) -> str:
        lines = [super()._format()]
        lines.extend(f"  {reject}" for reject in self.rejects)
        more = self.validation.rejects.num_rows - len(self.rejects)
        if more > 0:
            lines.append(f"  ... and {more} more problems")
        return "\n".join(lines)


class StoreLockedError(UsageError):
    """The store is open in another process (DuckDB's file lock): wait and retry."""


class NotFoundError(UsageError):
    """A named batch, item or annotator is not in the project store."""


class StoreOutdatedError(UsageError):
    """The store's schema is older than this labelaudit's: open it for writing to migrate."""


class RecordRejected(Exception):
    """A record-level defect in a platform export: the annotation is skipped and counted.

    Internal control flow of :mod:`labelaudit.io`; never reaches a caller.
    """

    def __init__(self, reason: str, detail: Any = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail
