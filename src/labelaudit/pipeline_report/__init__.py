"""The weekly quality report of a project: one dict read from the store, three renderings.

- :func:`build_pipeline_report` -- the report dict (the ``--format json`` contract) of the
  batches in a :class:`Scope`; reads stored results, never recomputes agreement.
- :func:`pipeline_document` -- the report as a :class:`~labelaudit.report.document.Document`
  (verdict on the latest batch first), drawn by the shared renderers.
- :func:`render_pipeline_html` -- one self-contained HTML file (the shared base template,
  inline SVG charts drawn with matplotlib, no script, no network).
- :func:`render_pipeline_markdown` -- GitHub-flavoured Markdown.
- :func:`write_pipeline_report` -- render and write one of them atomically.
- :func:`render_pipeline_charts` -- the report's control and confusion charts (inline SVG),
  for other pages that show them (``labelaudit serve``); :func:`item_text` an item's text;
  :func:`fairness_section` the annotator-group section (also the dashboard's page).
"""

from __future__ import annotations

from labelaudit.pipeline_report._charts import render_pipeline_charts
from labelaudit.pipeline_report._model import Scope, build_pipeline_report, parse_period
from labelaudit.pipeline_report._queries import TEXT_COLUMNS, item_text
from labelaudit.pipeline_report.document import fairness_section, pipeline_document
from labelaudit.pipeline_report.render import (
    render_pipeline_html,
    render_pipeline_markdown,
    write_pipeline_report,
)

__all__ = [
    "TEXT_COLUMNS",
    "Scope",
    "build_pipeline_report",
    "fairness_section",
    "item_text",
    "parse_period",
    "pipeline_document",
    "render_pipeline_charts",
    "render_pipeline_html",
    "render_pipeline_markdown",
    "write_pipeline_report",
]
