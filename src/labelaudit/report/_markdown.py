"""Render the agreement report dict as GitHub-flavoured Markdown."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from labelaudit.report._model import GUIDANCE, Table, provenance, summary, title
from labelaudit.report._tables import build_tables

__all__ = ["escape_markdown", "render_markdown"]

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


def render_markdown(report: Mapping[str, Any]) -> str:
    """Render the agreement report as GitHub-flavoured Markdown.

    Parameters
    ----------
    report : Mapping
        The agreement report dict (the stable JSON contract); absent sections are skipped.

    Returns
    -------
    str
        A Markdown document: header facts, coefficient, ICC, pairwise, per-category,
        confusion and disagreement tables, a "How to read this" section and the
        reproducibility facts. User content is escaped for tables; undefined numbers show
        as an em dash with the reason in the note column.
    """
    lines = [f"# {escape_markdown(title(report))}", ""]
    lines += [f"- **{label}:** {escape_markdown(value)}" for label, value in summary(report)]
    lines.append("")
    for table in build_tables(report):
        lines += markdown_section(table)
    lines += ["## How to read this", ""]
    for paragraph in GUIDANCE:
        lines += [paragraph, ""]
    lines += ["## Reproducibility", "", "| Field | Value |", "|---|---|"]
    lines += [f"| {escape_markdown(k)} | {escape_markdown(v)} |" for k, v in provenance(report)]
    return "\n".join(lines) + "\n"
