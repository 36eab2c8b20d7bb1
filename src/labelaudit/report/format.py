"""Formatting, escaping and writing helpers shared by every renderer in labelaudit.

The agreement report, the preference audit, the pipeline report and the CLI tables all
format numbers and user content the same way through these names.
"""

from __future__ import annotations

from labelaudit.report._format import (
    DASH,
    as_float,
    fmt_ci,
    fmt_count,
    fmt_p,
    fmt_value,
    text,
    visible_controls,
)
from labelaudit.report._markdown import escape_markdown
from labelaudit.report._write import atomic_write_text, emit_document, write_output_file

__all__ = [
    "DASH",
    "as_float",
    "atomic_write_text",
    "emit_document",
    "escape_markdown",
    "fmt_ci",
    "fmt_count",
    "fmt_p",
    "fmt_value",
    "text",
    "visible_controls",
    "write_output_file",
]
