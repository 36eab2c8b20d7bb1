"""What a platform reader read, skipped and inferred: the :class:`ReadReport`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["MAX_EXAMPLES", "ReadReport", "SkipExample"]

#: How many skipped records a report keeps as examples (the counts cover all of them).
MAX_EXAMPLES = 20


@dataclass(frozen=True)
class SkipExample:
    """One skipped record: where it is, why it was skipped, and the offending value."""

    record: int
    reason: str
    detail: str = ""
    control: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form: ``{"record": int, "reason": str, "detail": str, "control": str|null}``."""
        return {
            "record": self.record,
            "reason": self.reason,
            "detail": self.detail,
            "control": self.control,
        }


@dataclass
class ReadReport:
    """Summary of one read: counts, skips by reason, the inferred task schema.

    Attributes
    ----------
    source : str
        File name(s) or ``"<Dataset>"``.
    format : str
        The reader used (``label-studio``, ``prodigy``, ...).
    unit : str
        What record numbers count: ``"record"`` (JSON array element, file) or ``"line"``.
    n_records : int
        Records (tasks, lines, data rows, files) read.
    n_annotations : int
        Annotations found (before the per-control skips), cancelled ones excluded.
    n_rows : int
        Rows of the resulting table (one per item and annotator).
    skipped : dict of str to int
        Skipped records or annotations by reason (``cancelled`` included).
    examples : list of SkipExample
        The first :data:`MAX_EXAMPLES` skips, in file order.
    controls : dict of str to dict
        Every labelling control seen (name -> ``{"kind": str, "annotations": int}``).
    control : str or None
        The control the table was built from.
    task : str
        Inferred task type (see ``labelaudit.table.schema.TASKS``).
    schema : dict
        ``TaskSchema.to_dict()`` of the table.
    files : list of str
        The files read (several when projects were merged on a task key).
    notes : list of str
        Anything else a user should know (fallbacks taken, fields ignored).
    n_text_mismatches : int
        Span regions whose quoted ``text`` is not the task text at their offsets (the
        rows are kept; offsets may be wrong in the export).
    text_mismatches : list of dict
        The first :data:`MAX_EXAMPLES` of them: ``{"record", "control", "detail"}`` with
        the offsets, the quoted text and the text found there.
    """

    source: str
    format: str
    unit: str = "record"
    n_records: int = 0
    n_annotations: int = 0
    n_rows: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    examples: list[SkipExample] = field(default_factory=list)
    controls: dict[str, dict[str, Any]] = field(default_factory=dict)
    control: str | None = None
    task: str = "categorical"
    schema: dict[str, Any] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    n_text_mismatches: int = 0
    text_mismatches: list[dict[str, Any]] = field(default_factory=list)

    @property
    def n_skipped(self) -> int:
        """Total number of skips over all reasons."""
        return sum(self.skipped.values())

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON form (keys as in the attribute list, plus ``n_skipped``)."""
        return {
            "source": self.source,
            "format": self.format,
            "unit": self.unit,
            "n_records": self.n_records,
            "n_annotations": self.n_annotations,
            "n_rows": self.n_rows,
            "n_skipped": self.n_skipped,
            "skipped": dict(sorted(self.skipped.items())),
            "examples": [example.to_dict() for example in self.examples],
            "controls": self.controls,
            "control": self.control,
            "task": self.task,
            "schema": self.schema,
            "files": list(self.files),
            "notes": list(self.notes),
            "n_text_mismatches": self.n_text_mismatches,
            "text_mismatches": list(self.text_mismatches),
        }

    def to_text(self) -> str:
        """A short human-readable summary (what ``labelaudit convert`` prints)."""
        lines = [
            f"read {self.source} as {self.format}: {self.n_records} {self.unit}s, "
            f"{self.n_annotations} annotations -> {self.n_rows} rows",
            f"task: {self.task}"
            + (f" (control {self.control!r})" if self.control else "")
            + (
                f"; categories: {', '.join(self.schema['categories'][:20])}"
                if self.schema.get("categories")
                else ""
            ),
        ]
        if len(self.controls) > 1:
            seen = ", ".join(f"{name} ({c['kind']})" for name, c in self.controls.items())
            lines.append(f"controls in the export: {seen}")
        if self.skipped:
            counts = ", ".join(f"{reason}: {n}" for reason, n in sorted(self.skipped.items()))
            lines.append(f"skipped {self.n_skipped}: {counts}")
            for example in self.examples:
                detail = f" ({example.detail})" if example.detail else ""
                lines.append(f"  {self.unit} {example.record}: {example.reason}{detail}")
        if self.n_text_mismatches:
            lines.append(
                f"{self.n_text_mismatches} span(s) whose text differs from the task text "
                "at their offsets (kept as exported):"
            )
            lines.extend(
                f"  {self.unit} {m['record']}: {m['control']}: {m['detail']}"
                for m in self.text_mismatches
            )
        lines.extend(f"note: {note}" for note in self.notes)
        return "\n".join(lines)
