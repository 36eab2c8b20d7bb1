"""Everything a person sees: documents (:mod:`.document`), their builders and renderers.

Analyses build a :class:`~labelaudit.report.document.Document`
(:mod:`labelaudit.report.builders`); one renderer per format turns any document into
terminal text, Markdown, HTML or JSON. The functions here render the agreement report
dict (the stable JSON contract) or its result object:

- :func:`render_markdown` -- GitHub-flavoured Markdown.
- :func:`render_html` -- one self-contained HTML file with inline CSS and SVG charts.
- :func:`render_terminal` -- terminal text printed to a Rich console (fits its width).
- :func:`write_reports` -- ``{stem}.html``, ``{stem}.md`` and ``{stem}.json``, atomically.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from labelaudit.report._write import write_reports

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["render_html", "render_markdown", "render_terminal", "write_reports"]


def _document(report: Mapping[str, Any] | Any, options: Mapping[str, Any]) -> Any:
    from labelaudit.report.builders import agreement_document

    data = report.to_dict() if not isinstance(report, Mapping) else report
    return agreement_document(data, **options)


def render_html(report: Mapping[str, Any] | Any, **options: Any) -> str:
    """The agreement report (dict or ``AgreementReport``) as one self-contained HTML page:
    inline CSS and SVG charts, no script, every user string escaped. ``options`` go to
    :func:`~labelaudit.report.builders.agreement_document` (``gate``, ``details``,
    ``category_names``, ``full_paths``)."""
    from labelaudit.report.document import render_document

    return render_document(_document(report, options), "html")


def render_markdown(report: Mapping[str, Any] | Any, **options: Any) -> str:
    """The agreement report as GitHub-flavoured Markdown (user content escaped)."""
    from labelaudit.report.document import render_document

    return render_document(_document(report, options), "markdown")


def render_terminal(report: Mapping[str, Any] | Any, console: Console, **options: Any) -> None:
    """Print the agreement report on ``console`` as text that fits its width (words whole,
    no column dropped, control sequences stripped, Rich markup shown literally)."""
    from rich.text import Text

    from labelaudit.report.document import render_document

    out = render_document(_document(report, options), "table", width=console.width)
    console.print(Text(out), end="", soft_wrap=True)
