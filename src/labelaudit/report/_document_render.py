"""Terminal, Markdown and HTML renderers of :class:`labelaudit.report.document.Document`."""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from labelaudit.report._format import fmt_value, text
from labelaudit.report._markdown import escape_markdown

if TYPE_CHECKING:
    import jinja2

    from labelaudit.report.document import DocTable, Document

__all__ = ["render_html", "render_markdown", "render_terminal"]

_STATUS = {"pass": "PASS", "fail": "FAIL", "info": ""}


def _fact(value: Any) -> str:
    if isinstance(value, float):
        return fmt_value(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return text(value)


def _untitled(table: DocTable, heading: str) -> DocTable:
    """The table without its title when the title only repeats the section's heading."""
    from dataclasses import replace

    return replace(table, title="") if table.title == heading else table


# ------------------------------------------------------------------------- terminal
def _widths(table: DocTable, width: int, columns: Sequence[int] | None = None) -> list[int] | None:
    """Widths of ``columns`` (default all) that keep every word whole (numbers and their
    headers whole), the room left shared by how much longer each column's cells are;
    ``None`` when even the longest words do not fit ``width`` (a SIMPLE_HEAD grid without
    edges: 2 cells of padding and 1 of rule per column)."""
    from rich.cells import cell_len

    low, high = [], []
    for index in range(len(table.columns)) if columns is None else columns:
        name = table.columns[index]
        cells = [table.short(row, index) for row in table.shown]
        if table.kind(index) == "number":  # numbers never wrap: the whole cell and header
            words = [name, *cells]
        else:
            words = [w for cell in [name, *cells] for w in cell.split()]
        low.append(max(cell_len(w) for w in [*words, "x"]))
        high.append(max(low[-1], *(cell_len(c) for c in [name, *cells])))
    room = width - (3 * len(low) - 1) - sum(low)
    if room < 0:
        return None
    slack = [h - lo for lo, h in zip(low, high, strict=True)]
    total = sum(slack)
    if total <= room:
        return high
    return [lo + room * extra // total for lo, extra in zip(low, slack, strict=True)]


def _terminal_table(table: DocTable, console: Any, width: int) -> None:
    from rich import box
    from rich.table import Table

    from labelaudit.report.document import terminal_text

    title = terminal_text(table.title) or "Rows"
    columns: Sequence[int] = range(len(table.columns))
    left_out: list[str] = []
    widths = _widths(table, width)
    if widths is None and table.details:  # the expansion columns go, with a note
        widths = _widths(table, width, table.main_columns)
        if widths is not None:
            columns = table.main_columns
            left_out = [table.columns[i] for i in table.detail_columns]
    if not table.rows:  # say so (and why, in the note) rather than draw an empty grid
        console.print(f"[bold]{title}[/bold]: none.")
    elif widths is not None:
        grid = Table(
            title=terminal_text(table.title) or None,
            expand=False,
            box=box.SIMPLE_HEAD,
            show_edge=False,
            title_justify="left",
        )
        for index, size in zip(columns, widths, strict=True):
            number = table.kind(index) == "number"
            grid.add_column(
                terminal_text(table.columns[index]),
                justify="right" if number else "left",
                overflow="fold",
                no_wrap=number,
                width=size,
            )
        for row in table.shown:
            grid.add_row(*(terminal_text(table.short(row, i)) for i in columns))
        console.print(grid)
    else:  # too wide for the screen: one block per row, no column dropped
        console.print(f"[bold]{title}[/bold] (one block per row to fit {width} columns)")
        for row in table.shown:
            for index, name in enumerate(table.columns):
                console.print(f"  {terminal_text(name)}: {terminal_text(table.short(row, index))}")
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
            paragraphs = section.text.split("\n\n") if section.text else []
            for index, paragraph in enumerate(paragraphs):
                console.print(("\n" if index else "") + terminal_text(paragraph))
            for name, value in section.facts:
                console.print(f"  {terminal_text(name)}: {terminal_text(_fact(value))}")
            for table in section.tables:
                _terminal_table(_untitled(table, section.title), console, width)
        if document.provenance.tool_version or document.provenance.files:
            console.print(f"\n{terminal_text(_provenance_line(document))}")
        return console.export_text()


# ------------------------------------------------------------------------- markdown
def _markdown_table(table: DocTable) -> list[str]:
    lines = [f"**{escape_markdown(table.title)}**", ""] if table.title else []
    if not table.rows:
        lines = [f"**{escape_markdown(table.title) or 'Rows'}**: none.", ""]
        return [*lines, *([f"*{escape_markdown(table.note)}*", ""] if table.note else [])]
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
        "| " + " | ".join(escape_markdown(table.short(row, i)) for i in width) + " |"
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
        for paragraph in section.text.split("\n\n") if section.text else ():
            lines += [escape_markdown(paragraph), ""]
        lines += [f"- {escape_markdown(n)}: {escape_markdown(_fact(v))}" for n, v in section.facts]
        if section.facts:
            lines.append("")
        for table in section.tables:
            lines += _markdown_table(_untitled(table, section.title))
    prov = document.provenance
    if prov.tool_version or prov.files:
        lines += ["", f"*{escape_markdown(_provenance_line(document, 64))}*"]
    if prov.config:
        lines += ["", "| Configuration | Value |", "|---|---|"]
        lines += [
            f"| {escape_markdown(k)} | {escape_markdown(_fact(v))} |"
            for k, v in prov.config.items()
        ]
    return "\n".join(lines).rstrip() + "\n"


def _provenance_line(document: Document, sha_chars: int = 12) -> str:
    """``labelaudit 0.1.0 · data/x.csv · sha256 0123456789ab`` (unescaped)."""
    prov = document.provenance
    parts = [f"labelaudit {prov.tool_version}".strip()]
    parts += [", ".join(prov.files)] if prov.files else []
    parts += [f"sha256 {prov.input_sha256[:sha_chars]}"] if prov.input_sha256 else []
    return " · ".join(parts)


# ----------------------------------------------------------------------------- html
@functools.cache
def _environment() -> jinja2.Environment:
    """The Jinja2 environment: package templates, autoescaping on, strict undefined."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("labelaudit.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_html(
    document: Document,
    *,
    environment: Any = None,
    template: str = "document.html.j2",
    **context: Any,
) -> str:
    """The document as one self-contained HTML page (base template + table partial);
    ``environment``, ``template`` and ``context`` render it through a template extending
    the base one (:func:`labelaudit.report.document.render_page`)."""
    from markupsafe import Markup

    from labelaudit.report.charts import is_inert_svg

    def svg(chart: Any) -> Markup:
        return Markup(chart.svg) if is_inert_svg(chart.svg) else Markup("")

    page = (environment or _environment()).get_template(template)
    return page.render(doc=document, fmt=_fact, svg=svg, untitled=_untitled, **context)
