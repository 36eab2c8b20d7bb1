"""Terminal, Markdown and HTML renderers of :class:`labelaudit.report.document.Document`."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from labelaudit.report._format import fmt_value, text
from labelaudit.report._markdown import escape_markdown

if TYPE_CHECKING:
    from labelaudit.report.document import DocTable, Document

__all__ = ["render_html", "render_markdown", "render_terminal"]

_STATUS = {"pass": "PASS", "fail": "FAIL", "info": ""}


def _fact(value: Any) -> str:
    if isinstance(value, float):
        return fmt_value(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return text(value)


# ------------------------------------------------------------------------- terminal
def _longest_word(table: DocTable, index: int) -> int:
    """Length of the longest word of column ``index`` (its name included)."""
    words = [w for row in table.shown for w in table.cell(row, index).split()]
    return max(len(w) for w in [*table.columns[index].split(), *words, "x"])


def _fits(table: DocTable, width: int, columns: Sequence[int] | None = None) -> bool:
    """Whether the columns fit with their longest word unbroken (3 cells of padding each)."""
    chosen = range(len(table.columns)) if columns is None else columns
    return sum(_longest_word(table, i) + 3 for i in chosen) + 1 <= width


def _widths(table: DocTable, columns: Sequence[int], width: int) -> list[int]:
    """Column widths that keep every word whole: each column gets its longest word, the
    rest of the screen goes to the columns in proportion to how much more they could use."""
    need = [_longest_word(table, i) for i in columns]
    full = [
        max([len(table.columns[i]), *(len(table.cell(r, i)) for r in table.shown), need[k]])
        for k, i in enumerate(columns)
    ]
    spare = width - (3 * len(columns) + 1) - sum(need)
    wants = [f - n for f, n in zip(full, need, strict=True)]
    if sum(wants) <= spare:
        return full
    extra = [spare * w // max(1, sum(wants)) for w in wants]
    return [n + e for n, e in zip(need, extra, strict=True)]


def _terminal_table(table: DocTable, console: Any, width: int) -> None:
    from rich.table import Table

    from labelaudit.report.document import terminal_text

    columns: Sequence[int] = range(len(table.columns))
    left_out: list[str] = []
    if not _fits(table, width) and table.details and _fits(table, width, table.main_columns):
        columns = table.main_columns  # the expansion columns go, with a note
        left_out = [table.columns[i] for i in table.detail_columns]
    if _fits(table, width, columns):
        grid = Table(title=terminal_text(table.title), expand=False)
        for index, size in zip(columns, _widths(table, columns, width), strict=True):
            number = table.kind(index) == "number"
            grid.add_column(
                terminal_text(table.columns[index]),
                justify="right" if number else "left",
                overflow="fold",
                no_wrap=number,
                width=size,
            )
        for row in table.shown:
            grid.add_row(*(terminal_text(table.cell(row, i)) for i in columns))
        console.print(grid)
    else:  # too wide for the screen: one block per row, no column dropped
        console.print(
            f"[bold]{terminal_text(table.title)}[/bold] (one block per row to fit {width} columns)"
        )
        for row in table.shown:
            for index, name in enumerate(table.columns):
                console.print(f"  {terminal_text(name)}: {terminal_text(table.cell(row, index))}")
            console.print("")
    if left_out:
        console.print(
            f"Not shown at {width} columns: {terminal_text(', '.join(left_out))} "
            "(every column is in the Markdown, HTML and JSON outputs)."
        )
    if table.n_more:
        console.print(f"... and {table.n_more:,} more rows (all rows are in the JSON output)")
    if table.note:
        console.print(terminal_text(table.note))


def render_terminal(document: Document, *, width: int = 80) -> str:
    """The document as terminal text of at most ``width`` columns (Rich, words kept whole)."""
    from rich.console import Console

    from labelaudit.report.document import terminal_text

    with open(os.devnull, "w") as sink:
        console = Console(
            width=width,
            file=sink,
            record=True,
            color_system=None,
            soft_wrap=False,
            emoji=False,
            highlight=False,
        )
        console.print(f"[bold]{terminal_text(document.title)}[/bold]")
        status = _STATUS.get(document.headline.status, "")
        console.print((f"{status}: " if status else "") + terminal_text(document.headline.sentence))
        for figure in document.headline.figures:
            console.print(f"  {terminal_text(figure.sentence())}")
        for section in document.sections:
            console.print(f"\n[bold]{terminal_text(section.title)}[/bold]")
            if section.text:
                console.print(terminal_text(section.text))
            for name, value in section.facts:
                console.print(f"  {terminal_text(name)}: {terminal_text(_fact(value))}")
            for table in section.tables:
                _terminal_table(table, console, width)
        return console.export_text()


# ------------------------------------------------------------------------- markdown
def _markdown_table(table: DocTable) -> list[str]:
    lines = [f"**{escape_markdown(table.title)}**", ""]
    lines.append("| " + " | ".join(escape_markdown(c) for c in table.columns) + " |")
    lines.append(
        "|"
        + "|".join(
            "---:" if table.kind(i) == "number" else "---" for i in range(len(table.columns))
        )
        + "|"
    )
    width = range(len(table.columns))
    lines.extend(
        "| " + " | ".join(escape_markdown(table.cell(row, i)) for i in width) + " |"
        for row in table.shown
    )
    if table.n_more:
        lines.append(f"\n… and {table.n_more:,} more rows (all rows are in the JSON output).")
    if table.note:
        lines.append(f"\n*{escape_markdown(table.note)}*")
    return [*lines, ""]


def render_markdown(document: Document) -> str:
    """The document as GitHub-flavoured Markdown, every user string escaped."""
    lines = [f"# {escape_markdown(document.title)}", ""]
    status = _STATUS.get(document.headline.status, "")
    lines.append(
        f"**{status + ': ' if status else ''}{escape_markdown(document.headline.sentence)}**"
    )
    lines.append("")
    lines += [f"- {escape_markdown(f.sentence())}" for f in document.headline.figures]
    for section in document.sections:
        lines += ["", f"## {escape_markdown(section.title)}", ""]
        if section.text:
            lines += [escape_markdown(section.text), ""]
        lines += [f"- {escape_markdown(n)}: {escape_markdown(_fact(v))}" for n, v in section.facts]
        if section.facts:
            lines.append("")
        for table in section.tables:
            lines += _markdown_table(table)
    prov = document.provenance
    if prov.tool_version or prov.files:
        files = ", ".join(escape_markdown(f) for f in prov.files)
        lines += [
            "",
            f"*labelaudit {escape_markdown(prov.tool_version)}"
            + (f" · {files}" if files else "")
            + "*",
        ]
    return "\n".join(lines).rstrip() + "\n"


# ----------------------------------------------------------------------------- html
def render_html(document: Document) -> str:
    """The document as one self-contained HTML page (base template + table partial)."""
    from markupsafe import Markup

    from labelaudit.report._html import _environment
    from labelaudit.report.charts import is_inert_svg

    def svg(chart: Any) -> Markup:
        return Markup(chart.svg) if is_inert_svg(chart.svg) else Markup("")

    template = _environment().get_template("document.html.j2")
    return template.render(doc=document, fmt=_fact, svg=svg)
