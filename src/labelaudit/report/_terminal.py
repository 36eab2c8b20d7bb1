"""Render the agreement report dict to a terminal with Rich tables."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table as RichTable
from rich.text import Text

from labelaudit.report._format import DASH, visible_controls
from labelaudit.report._model import Table, provenance, summary, title
from labelaudit.report._tables import build_tables

__all__ = ["render_terminal"]


def _markup(value: str) -> str:
    """User text made literal inside a Rich markup string."""
    return escape(visible_controls(value))


def _cell(value: str, *, numeric: bool) -> Text:
    """A cell shown literally: no Rich markup, no ``:emoji:`` codes, no highlighting."""
    style = "dim" if value == DASH else ""
    return Text(visible_controls(value), style=style, justify="right" if numeric else "left")


def _rich_table(table: Table) -> RichTable:
    """A Rich table with the same columns and cells as the HTML and Markdown tables."""
    rich_table = RichTable(
        title=Text(table.title, style="bold"),
        caption=Text(visible_controls(table.note)) if table.note else None,
        title_justify="left",
        header_style="bold",
        show_lines=False,
    )
    for column in table.columns:
        rich_table.add_column(
            Text(column.name),
            justify="right" if column.numeric else "left",
            overflow="fold",
            no_wrap=column.numeric,
        )
    for row in table.rows:
        rich_table.add_row(
            *(
                _cell(cell, numeric=column.numeric)
                for column, cell in zip(table.columns, row, strict=True)
            )
        )
    return rich_table


def render_terminal(report: Mapping[str, Any], console: Console) -> None:
    """Print the agreement report as Rich tables.

    Parameters
    ----------
    report : Mapping
        The agreement report dict (the stable JSON contract); absent sections are skipped.
    console : rich.console.Console
        Where to print. User content is escaped (``rich.markup.escape``) or printed as
        plain :class:`rich.text.Text`, so ``[bold]`` or ``:smile:`` in a label shows
        literally.
    """
    console.print(f"[bold]{_markup(title(report))}[/bold]", emoji=False, highlight=False)
    facts = RichTable.grid(padding=(0, 2))
    facts.add_column(style="dim", no_wrap=True)
    facts.add_column(overflow="fold")
    for label, value in summary(report):
        facts.add_row(Text(label), Text(visible_controls(value)))
    console.print(facts)
    for table in build_tables(report):
        console.print()
        if table.rows:
            console.print(_rich_table(table), emoji=False)
        else:
            console.print(f"[bold]{_markup(table.title)}[/bold]: no rows.", emoji=False)
            if table.note:
                console.print(_markup(table.note), emoji=False, highlight=False)
    console.print()
    tool, _, sha = provenance(report)[:3]
    console.print(
        f"[dim]{_markup(tool[1])} · input SHA-256 {_markup(sha[1])}[/dim]",
        emoji=False,
        highlight=False,
    )
