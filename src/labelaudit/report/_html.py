"""Render the agreement report dict as one self-contained HTML file (Jinja2, autoescaped)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from labelaudit.report._format import DASH
from labelaudit.report._model import GUIDANCE, provenance, summary, title
from labelaudit.report._tables import build_tables

if TYPE_CHECKING:
    import jinja2

__all__ = ["render_html"]

_TEMPLATE = "report.html.j2"
# Which table each chart follows.
_CHART_PLACES = {"coefficients": "metrics", "categories": "per-category", "pairwise": "pairwise"}


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


def _tool(report: Mapping[str, Any]) -> str:
    """``"labelaudit 0.1.0"`` from the report's ``tool`` entry."""
    tool = report.get("tool")
    if not isinstance(tool, Mapping):
        return "labelaudit"
    return f"{tool.get('name', 'labelaudit')} {tool.get('version', '')}".strip()


def render_html(report: Mapping[str, Any] | Any) -> str:
    """Render the agreement report as one self-contained HTML document.

    The page has inline CSS, inline SVG charts (coefficients with CIs, per-category specific
    agreement, pairwise Cohen's κ heatmap) and no script, external font or network request;
    a Content-Security-Policy forbids them too. All user content goes through Jinja2
    autoescaping; charts are embedded only after :func:`~labelaudit.report._charts.is_inert_svg`
    accepted them.

    Parameters
    ----------
    report : Mapping or AgreementReport
        The agreement report dict (the stable JSON contract), or the result object itself
        (its ``to_dict()`` is used); absent sections are skipped.

    Returns
    -------
    str
        The HTML document, with the tool version, input SHA-256 and configuration in its
        footer.
    """
    from markupsafe import Markup

    from labelaudit.report._charts import render_charts

    if not isinstance(report, Mapping) and hasattr(report, "to_dict"):
        report = report.to_dict()

    charts = {
        _CHART_PLACES[chart.key]: {
            "key": chart.key,
            "title": chart.title,
            "svg": Markup(chart.svg),  # safe: accepted by is_inert_svg
        }
        for chart in render_charts(report)
    }
    return (
        _environment()
        .get_template(_TEMPLATE)
        .render(
            title=title(report),
            tool=_tool(report),
            summary=summary(report),
            tables=build_tables(report),
            charts=charts,
            guidance=GUIDANCE,
            provenance=provenance(report),
            dash=DASH,
        )
    )
