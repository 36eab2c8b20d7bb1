"""Render the agreement report dict as HTML, Markdown, JSON files or Rich terminal tables.

This is a presentation layer only: every function takes the report dict (the stable JSON
contract produced by the library) and formats it; none computes a metric. User content
(item ids, annotator names, labels, file names) is escaped for each output format.

- :func:`render_markdown` -- GitHub-flavoured Markdown.
- :func:`render_html` -- one self-contained HTML file with inline CSS and SVG charts.
- :func:`render_terminal` -- Rich tables printed to a console.
- :func:`write_reports` -- ``{stem}.html``, ``{stem}.md`` and ``{stem}.json``, atomically.
"""

from __future__ import annotations

from labelaudit.report._html import render_html
from labelaudit.report._markdown import render_markdown
from labelaudit.report._terminal import render_terminal
from labelaudit.report._write import write_reports

__all__ = ["render_html", "render_markdown", "render_terminal", "write_reports"]
