"""Markdown escaping (the one Markdown escaping function), and the pre-document table type.

:class:`Column`, :class:`Table` and :func:`markdown_section` remain only for
``pipeline_report`` until the weekly report moves onto the document model
(:mod:`labelaudit.report.document`); nothing in ``report/`` uses them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Column", "Table", "escape_markdown", "markdown_section"]

_NEWLINES = re.compile(r"\r\n|\r|\n|\u2028|\u2029")
_SPECIALS = re.compile(r"([\\`*_\[\]|~$])")


def escape_markdown(value: str) -> str:
    """Make user content inert inside a GFM table cell or a line of Markdown text.

    ``&``, ``<`` and ``>`` become HTML entities (so no renderer sees markup), Markdown
    punctuation that could start emphasis, code, links, math or a new table cell gets a
    backslash, and line breaks become ``<br>``.

    Parameters
    ----------
    value : str
        Untrusted text (item id, annotator name, label, file name, reason).

    Returns
    -------
    str
        Text that renders as the original characters, on one line.

    Examples
    --------
    >>> escape_markdown("a|b <i>")
    'a\\\\|b &lt;i&gt;'
    """
    out = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    out = _SPECIALS.sub(r"\\\1", out)
    return _NEWLINES.sub("<br>", out)


@dataclass(frozen=True)
class Column:
    """A table column: its header and whether it holds numbers (right-aligned)."""

    name: str
    numeric: bool = False


@dataclass(frozen=True)
class Table:
    """A titled table of formatted, unescaped cells (``key`` is the HTML ``id``)."""

    key: str
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[str, ...], ...]
    description: str = ""
    note: str | None = None


def markdown_section(table: Table) -> list[str]:
    """Markdown lines of one section: heading, description, note and the GFM table."""
    lines = [f"## {table.title}", "", table.description, ""]
    if table.note:
        lines += [f"*{escape_markdown(table.note)}*", ""]
    if not table.rows:
        return [*lines, "No rows.", ""]
    lines.append("| " + " | ".join(c.name for c in table.columns) + " |")
    lines.append("|" + "|".join("---:" if c.numeric else "---" for c in table.columns) + "|")
    for row in table.rows:
        cells = (
            cell if column.numeric else escape_markdown(cell)
            for column, cell in zip(table.columns, row, strict=True)
        )
        lines.append("| " + " | ".join(cells) + " |")
    return [*lines, ""]
