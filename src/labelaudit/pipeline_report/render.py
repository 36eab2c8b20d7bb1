"""Render the pipeline report dict as HTML, Markdown or JSON through the shared renderers.

The report becomes a :class:`~labelaudit.report.document.Document`
(:func:`~labelaudit.pipeline_report.document.pipeline_document`); the one HTML base
template (autoescaping, inline SVG charts that passed ``is_inert_svg``, a
Content-Security-Policy that forbids scripts and network requests) and the one Markdown
renderer draw it. JSON is the report dict itself, unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from labelaudit.pipeline_report.document import pipeline_document
from labelaudit.report.document import render_document
from labelaudit.report.format import atomic_write_text

__all__ = ["render_pipeline_html", "render_pipeline_markdown", "write_pipeline_report"]

FORMATS = ("html", "markdown", "json")


def render_pipeline_html(report: Mapping[str, Any], *, full_paths: bool = False) -> str:
    """The report as one self-contained HTML document (no script, no network).

    Parameters
    ----------
    report : Mapping
        The pipeline report dict.
    full_paths : bool
        Absolute paths in the provenance (default: relative names).

    Returns
    -------
    str
    """
    return render_document(pipeline_document(report, full_paths=full_paths), "html")


def render_pipeline_markdown(report: Mapping[str, Any], *, full_paths: bool = False) -> str:
    """The report as GitHub-flavoured Markdown (user content escaped; no charts)."""
    return render_document(pipeline_document(report, full_paths=full_paths), "markdown")


def write_pipeline_report(
    report: Mapping[str, Any], out: Path, *, format: str = "html", full_paths: bool = False
) -> Path:
    """Render the report in ``format`` (html, markdown, json) and write it to ``out``
    atomically (folder created); returns the path."""
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}; got {format!r}")
    if format == "html":
        content = render_pipeline_html(report, full_paths=full_paths)
    elif format == "markdown":
        content = render_pipeline_markdown(report, full_paths=full_paths)
    else:
        content = json.dumps(dict(report), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, content)
    return out
