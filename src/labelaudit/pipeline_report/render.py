"""Render the pipeline report dict as self-contained HTML, Markdown or JSON, and write it.

Presentation only: every figure comes from the report dict. HTML goes through Jinja2 with
autoescaping (the agreement report's CSS is included inline); charts are inline SVG that
passed :func:`labelaudit.report._charts.is_inert_svg`; a Content-Security-Policy forbids
scripts and network requests.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labelaudit.pipeline_report._tables import build_tables, summary_facts
from labelaudit.report.format import (
    DASH,
    atomic_write_text,
    escape_markdown,
    markdown_section,
    text,
)

if TYPE_CHECKING:
    import jinja2

__all__ = ["render_pipeline_html", "render_pipeline_markdown", "write_pipeline_report"]

FORMATS = ("html", "markdown", "json")
#: Which table each chart follows.
_CHART_PLACES = {"agreement": "batches", "gold": "batches", "confusions": "confusions"}


@functools.cache
def _environment() -> jinja2.Environment:
    import jinja2

    loader = jinja2.ChoiceLoader(
        [
            jinja2.PackageLoader("labelaudit.pipeline_report", "templates"),
            jinja2.PackageLoader("labelaudit.report", "templates"),  # report.css
        ]
    )
    return jinja2.Environment(
        loader=loader,
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def provenance_facts(report: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Tool, store, configuration hash and settings, and every input with its hashes."""
    p = report["provenance"]
    facts = [
        ("Tool", f"labelaudit {text(p['tool_version'])}"),
        ("Generated (UTC)", text(report["generated_at"])),
        ("Store", text(p["store"])),
        ("Store schema version", str(p["schema_version"])),
        ("Config SHA-256", text(p["config_sha256"])),
        ("Config", json.dumps(p["config"], ensure_ascii=False, sort_keys=True)),
    ]
    facts.extend(
        (
            f"Batch {text(entry['batch'])}",
            f"{text(entry['source'])}; content sha256 {entry['sha256']}; "
            f"file sha256 {entry['input_sha256']}; ingested {entry['ingested_at']}",
        )
        for entry in p["inputs"]
    )
    return facts


def render_pipeline_html(report: Mapping[str, Any]) -> str:
    """The report as one self-contained HTML document (no script, no network).

    Parameters
    ----------
    report : Mapping
        The pipeline report dict.

    Returns
    -------
    str
    """
    from markupsafe import Markup

    from labelaudit.pipeline_report._charts import render_pipeline_charts

    charts: dict[str, list[dict[str, Any]]] = {}
    for key, chart in render_pipeline_charts(report).items():
        charts.setdefault(_CHART_PLACES[key], []).append(
            {"key": key, "title": chart.title, "svg": Markup(chart.svg)}  # safe: is_inert_svg
        )
    return (
        _environment()
        .get_template("pipeline.html.j2")
        .render(
            title=report["title"],
            tool=f"labelaudit {report['tool']['version']}",
            passed=report["summary"]["passed"],
            summary=summary_facts(report),
            tables=build_tables(report),
            charts=charts,
            gold_reason=_gold_reason(report),
            provenance=provenance_facts(report),
            dash=DASH,
        )
    )


def _gold_reason(report: Mapping[str, Any]) -> str | None:
    if report["charts"].get("gold") is not None:
        return None
    return (
        "No gold error chart: no batch in the history has gold answers ([gold] in labelaudit.toml)."
    )


def render_pipeline_markdown(report: Mapping[str, Any]) -> str:
    """The report as GitHub-flavoured Markdown (user content escaped; no charts)."""

    lines = [f"# {escape_markdown(text(report['title']))}", ""]
    lines += [f"- **{label}:** {escape_markdown(value)}" for label, value in summary_facts(report)]
    lines.append("")
    for table in build_tables(report):
        lines += markdown_section(table)
    lines += ["## Provenance", "", "| Field | Value |", "|---|---|"]
    lines += [
        f"| {escape_markdown(k)} | {escape_markdown(v)} |" for k, v in provenance_facts(report)
    ]
    return "\n".join(lines) + "\n"


def write_pipeline_report(report: Mapping[str, Any], out: Path, *, format: str = "html") -> Path:
    """Render the report in ``format`` (html, markdown, json) and write it to ``out``
    atomically (folder created); returns the path."""
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}; got {format!r}")
    if format == "html":
        content = render_pipeline_html(report)
    elif format == "markdown":
        content = render_pipeline_markdown(report)
    else:
        content = json.dumps(dict(report), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, content)
    return out
