"""Render the preference audit dict as Markdown, self-contained HTML or Rich terminal tables.

Presentation only: every function takes the JSON-ready dict of
:meth:`~labelaudit.preferences.audit.PreferenceAudit.to_dict` and formats it. User content
(annotator, model and group names, reasons) is escaped for each format: Jinja2 autoescaping
in HTML (no script, no external resource), ``escape_markdown`` in Markdown, plain
:class:`rich.text.Text` in the terminal.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labelaudit.report.format import DASH, fmt_ci, fmt_count, fmt_p, fmt_value, text

if TYPE_CHECKING:
    import jinja2
    from rich.console import Console

__all__ = ["render_html", "render_markdown", "render_terminal", "sections", "write_output"]


@dataclass
class Table:
    """One rendered table: column names (numeric or not) and rows of strings."""

    title: str
    columns: list[tuple[str, bool]]
    rows: list[list[str]]


@dataclass
class Section:
    """A report section: title, plain-language lines, tables."""

    key: str
    title: str
    lines: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[Any] = field(default_factory=list)


def _pct(value: Any) -> str:
    shown = fmt_value(None if value is None else 100 * float(value), 1)
    return shown if shown == DASH else f"{shown}%"


def _pct_ci(ci: Any) -> str:
    if not isinstance(ci, Sequence) or len(ci) != 2 or None in ci:
        return DASH
    return f"[{_pct(ci[0])}, {_pct(ci[1])}]"


def _flag(value: Any) -> str:
    return DASH if value is None else ("FLAG" if value else "ok")


def _position(report: Mapping[str, Any]) -> Section | None:
    data = report.get("position_bias")
    if not data:
        return None
    section = Section("position-bias", "Position bias", [text(data["overall"]["verdict"])])
    rows = [
        [text(r["annotator"]), text(r["kind"]), fmt_count(r["n"]), _pct(r["first_slot_rate"]),
         _pct_ci(r["ci95"]), fmt_p(r["p_holm"]), _flag(r["flag"])]
        for r in data["by_annotator"]
    ]  # fmt: skip
    cols = [("Annotator", False), ("Kind", False), ("Decisive", True), ("First slot", True)]
    cols += [("95% CI", True), ("p (Holm)", True), ("Flag", False)]
    section.tables.append(Table("First-slot rate per annotator", cols, rows))
    if data["both_orders"]:
        rows = [
            [text(r["annotator"]), fmt_count(r["n_items"]), _pct(r["consistency"]),
             _pct_ci(r["ci95"]), _pct(r["biased_to_first"]), _pct(r["biased_to_second"]),
             _pct(r["other_inconsistent"]), _pct(r["error"])]
            for r in data["both_orders"]
        ]  # fmt: skip
        cols = [("Annotator", False), ("Items", True), ("Consistent", True), ("95% CI", True)]
        cols += [("First both times", True), ("Second both times", True), ("Other", True)]
        section.tables.append(Table("Items judged in both orders", [*cols, ("Error", True)], rows))
    return section


def _length(report: Mapping[str, Any]) -> Section | None:
    data = report.get("length_bias")
    if not data:
        return None
    section = Section("length-bias", "Length bias", [text(data["verdict"])])
    logit = data["logistic"]
    if logit.get("coef") is not None:
        section.lines.append(
            f"Logistic model: {fmt_value(logit['coef'])} log-odds per "
            f"{fmt_value(logit['scale_chars'], 0)} characters of length difference "
            f"(95% CI {fmt_ci(logit['ci95'])}, p {fmt_p(logit['p_value'])})."
        )
    elif logit.get("reason"):
        section.lines.append(f"Logistic model not fitted: {text(logit['reason'])}.")
    rows = [
        [text(r["annotator"]), text(r["kind"]), fmt_count(r["n"]), _pct(r["p_prefer_longer"]),
         _pct_ci(r["ci95"]), fmt_p(r["p_holm"]), _flag(r["flag"])]
        for r in data["by_annotator"]
    ]  # fmt: skip
    cols = [("Annotator", False), ("Kind", False), ("Pairs", True), ("P(longer wins)", True)]
    section.tables.append(
        Table("Per annotator", [*cols, ("95% CI", True), ("p (Holm)", True), ("Flag", False)], rows)
    )
    for group in data["length_controlled"]:
        rows = [
            [text(m["model"]), fmt_count(m["n"]), _pct(m["win_rate"]), _pct(m["lc_win_rate"]),
             _pct_ci(m["ci95"])]
            for m in group["models"]
        ]  # fmt: skip
        cols = [("Model", False), ("Votes", True), ("Win rate", True), ("LC win rate", True)]
        title = f"Length-controlled win rates ({text(group['raters'])})"
        section.tables.append(Table(title, [*cols, ("95% CI", True)], rows))
    return section


def _with_pairs(result: Mapping[str, Any]) -> str:
    return f"{_pct(result['agreement'])} ({fmt_count(result['n_pairs'])})"


def _agreement_tables(entries: Sequence[Mapping[str, Any]], title: str) -> list[Table]:
    rows = [
        [text(e["a"]), text(e["b"]), fmt_count(e["n_items"]), _with_pairs(e["with_ties"]),
         _pct_ci(e["with_ties"]["ci95"]), _with_pairs(e["without_ties"]),
         _pct_ci(e["without_ties"]["ci95"])]
        for e in entries
    ]  # fmt: skip
    cols = [("A", False), ("B", False), ("Items", True), ("With ties (pairs)", True)]
    cols += [("95% CI", True), ("Without ties (pairs)", True), ("95% CI", True)]
    kappa_rows = [
        [text(e["a"]), text(e["b"]), fmt_value(e["cohen_kappa"]["value"]),
         fmt_ci(e["cohen_kappa"]["ci95"]), fmt_value(e["krippendorff_alpha"]["value"]),
         fmt_ci(e["krippendorff_alpha"]["ci95"])]
        for e in entries
    ]  # fmt: skip
    kappa_cols = [("A", False), ("B", False), ("Cohen κ", True), ("95% CI", True)]
    kappa_cols += [("Krippendorff α", True), ("95% CI", True)]
    return [Table(title, cols, rows), Table(f"{title}: chance-corrected", kappa_cols, kappa_rows)]


def _agreement(report: Mapping[str, Any]) -> Section | None:
    entries = report.get("agreement") or []
    if not entries:
        return None
    section = Section("agreement", "Agreement", [text(e["verdict"]) for e in entries[:6]])
    section.lines.append("Chance: 33.3% with ties, 50% without (random votes).")
    section.tables += _agreement_tables(entries, "Agreement (MT-Bench definition)")
    return section


def _gold(report: Mapping[str, Any]) -> Section | None:
    entries = report.get("gold") or []
    if not entries:
        return None
    rows = [
        [text(e["annotator"]), fmt_count(e["n"]), _pct(e["accuracy"]), _pct_ci(e["ci95"]),
         _pct(e["accuracy_gold_first"]), _pct(e["accuracy_gold_second"]),
         _pct(e["both_correct"])]
        for e in entries
    ]  # fmt: skip
    cols = [("Annotator", False), ("Votes", True), ("Accuracy", True), ("95% CI", True)]
    cols += [("Gold in slot 1", True), ("Gold in slot 2", True), ("Right in both orders", True)]
    return Section("gold", "Accuracy against gold", [], [Table("Per annotator", cols, rows)])


def _groups(report: Mapping[str, Any]) -> Section | None:
    groups = report.get("groups") or []
    if not groups:
        return None
    section = Section("groups", f"By {text(report['config'].get('by'))}")
    rows = []
    for group in groups:
        position = group.get("position_bias") or {}
        consistency = {r["annotator"]: r for r in position.get("both_orders", [])}
        gold = {r["annotator"]: r for r in group.get("gold") or []}
        for r in position.get("by_annotator", []):
            both, acc = consistency.get(r["annotator"], {}), gold.get(r["annotator"], {})
            rows.append(
                [text(group["group"]), text(r["annotator"]), _pct(r["first_slot_rate"]),
                 _pct(both.get("consistency")), _pct(acc.get("accuracy"))]
            )  # fmt: skip
    if rows:
        cols = [("Group", False), ("Annotator", False), ("First slot", True)]
        cols += [("Consistent", True), ("Accuracy", True)]
        section.tables.append(Table("Position and accuracy per group", cols, rows))
    entries = [e | {"a": f"{g['group']}: {e['a']}"} for g in groups for e in g.get("agreement", [])]
    if entries:
        section.tables += _agreement_tables(entries, "Agreement per group")
    return section


def _extra_sections(report: Mapping[str, Any]) -> list[Section]:
    from labelaudit.preferences import _render_more

    return _render_more.sections(report)


def sections(report: Mapping[str, Any]) -> list[Section]:
    """The report's sections in reading order (absent audits are left out)."""
    builders = (_position, _length, _agreement, _gold)
    out = [s for s in (b(report) for b in builders) if s is not None]
    out += _extra_sections(report)
    grouped = _groups(report)
    if grouped is not None:
        out.append(grouped)
    skipped = report.get("skipped") or []
    if skipped:
        lines = [f"{text(s['audit'])}: {text(s['reason'])}" for s in skipped]
        out.append(Section("skipped", "Skipped audits", lines))
    return out


def facts(report: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Header facts: source, sizes, options."""
    data = report["input"]
    return [
        ("Source", text(data["source"])),
        ("Votes", fmt_count(data["n_votes"])),
        ("Prompts", fmt_count(data["n_prompts"])),
        ("Items", fmt_count(data["n_items"])),
        ("Annotators", fmt_count(data["n_annotators"])),
        ("Models", fmt_count(data["n_models"])),
        ("Votes with known order", fmt_count(data["order_known"])),
        ("Bootstrap", f"{report['config']['n_boot']} replicates, seed {report['config']['seed']}"),
        ("Input SHA-256", text(data.get("sha256"))),
        ("Tool", f"{text(report['tool']['name'])} {text(report['tool']['version'])}"),
    ]


# ---------------------------------------------------------------------------- formats
def render_markdown(report: Mapping[str, Any]) -> str:
    """The audit as GitHub-flavoured Markdown (user content escaped)."""
    from labelaudit.report.format import escape_markdown as esc

    lines = ["# Preference data audit", ""]
    lines += [f"- **{label}:** {esc(value)}" for label, value in facts(report)]
    lines += [f"- *{esc(text(note))}*" for note in report["input"].get("notes", [])]
    for section in sections(report):
        lines += ["", f"## {esc(section.title)}", ""]
        lines += [f"- {esc(line)}" for line in section.lines]
        for table in section.tables:
            lines += ["", f"**{esc(table.title)}**", ""]
            lines.append("| " + " | ".join(name for name, _ in table.columns) + " |")
            lines.append("|" + "|".join("---:" if num else "---" for _, num in table.columns) + "|")
            lines += ["| " + " | ".join(esc(cell) for cell in row) + " |" for row in table.rows]
    return "\n".join(lines) + "\n"


_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>{{ title }}</title><style>{{ css }}</style></head>
<body><header><h1>{{ title }}</h1><dl class="facts">
{% for label, value in facts %}<div><dt>{{ label }}</dt><dd>{{ value }}</dd></div>{% endfor %}
</dl>{% for note in notes %}<p class="note">{{ note }}</p>{% endfor %}</header><main>
{% for section in sections %}<section id="{{ section.key }}"><h2>{{ section.title }}</h2>
{% for line in section.lines %}<p>{{ line }}</p>{% endfor %}
{% for chart in section.charts %}<figure class="chart" id="chart-{{ chart.key }}">
<figcaption>{{ chart.title }}</figcaption>{{ chart.svg }}</figure>{% endfor %}
{% for table in section.tables %}<h3>{{ table.title }}</h3>
<div class="scroll"><table><thead><tr>
{% for name, num in table.columns %}
<th scope="col"{% if num %} class="num"{% endif %}>{{ name }}</th>{% endfor %}
</tr></thead><tbody>
{% for row in table.rows %}<tr>{% for cell in row %}
<td class="{{ 'num' if table.columns[loop.index0][1] else 'text' }}">{{ cell }}</td>
{% endfor %}</tr>{% endfor %}
</tbody></table></div>{% endfor %}
</section>{% endfor %}
</main><footer><p class="generator">Generated by {{ tool }}. This file is self-contained: it
loads nothing from the network.</p></footer></body></html>
"""


@functools.cache
def _template() -> jinja2.Template:
    import jinja2

    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return environment.from_string(_HTML)


def sections_page(
    title: str,
    facts: Sequence[tuple[str, str]],
    sections: Sequence[Section],
    tool: str,
    notes: Sequence[str] = (),
) -> str:
    """One self-contained HTML page of fact boxes and titled sections of tables.

    Inline CSS (the agreement report's), no script, a Content-Security-Policy that loads
    nothing, Jinja2 autoescaping of every value. Shared by the preference and judge audits.
    """
    from importlib.resources import files

    css = files("labelaudit.report").joinpath("templates/report.css").read_text("utf-8")
    return _template().render(
        title=title, css=css, facts=facts, notes=notes, sections=sections, tool=tool
    )


def with_charts(report: Mapping[str, Any], found: Sequence[Section]) -> list[Section]:
    """The sections with the audit's charts (Bradley-Terry, position and length bias)
    attached to the section of the same key, as inline SVG that passed ``is_inert_svg``."""
    from markupsafe import Markup

    from labelaudit.report.charts import audit_charts

    charts = audit_charts(report)
    for section in found:
        chart = charts.get(section.key)
        if chart is not None:  # Markup is safe: the SVG was accepted by is_inert_svg
            svg = Markup(chart.svg)
            section.charts.append({"key": chart.key, "title": chart.title, "svg": svg})
    return list(found)


def render_html(report: Mapping[str, Any]) -> str:
    """The audit as one self-contained HTML page (inline CSS, inline SVG charts, no script,
    autoescaped)."""
    tool = f"{report['tool']['name']} {report['tool']['version']}"
    notes = [text(note) for note in report["input"].get("notes", [])]
    found = with_charts(report, sections(report))
    return sections_page("Preference data audit", facts(report), found, tool, notes)


def sections_terminal(
    console: Console, title: str, facts: Sequence[tuple[str, str]], sections: Sequence[Section]
) -> None:
    """Print fact rows and titled sections of tables with Rich (user content literal).

    Shared by the preference and judge audits (the terminal twin of :func:`sections_page`).
    """
    from rich.table import Table as RichTable
    from rich.text import Text

    console.print(Text(title, style="bold"))
    grid = RichTable.grid(padding=(0, 2))
    grid.add_column(style="dim")
    grid.add_column(overflow="fold")
    for label, value in facts:
        grid.add_row(Text(label), Text(value))
    console.print(grid)
    for section in sections:
        console.print()
        console.print(Text(section.title, style="bold underline"))
        for line in section.lines:
            console.print(Text(f"• {line}"))
        for table in section.tables:
            rich_table = RichTable(title=Text(table.title), title_justify="left")
            for name, numeric in table.columns:
                rich_table.add_column(
                    Text(name),
                    justify="right" if numeric else "left",
                    overflow="fold",
                    min_width=8 if not numeric else None,
                )
            for row in table.rows:
                rich_table.add_row(*(Text(cell) for cell in row))
            console.print(rich_table)


def render_terminal(report: Mapping[str, Any], console: Console) -> None:
    """Print the audit as Rich tables (user content printed literally)."""
    sections_terminal(console, "Preference data audit", facts(report), sections(report))


def write_output(report: Mapping[str, Any], output: str, out: Path | None) -> None:
    """Render ``report`` as ``table``, ``json``, ``markdown`` or ``html``; print it or write
    it atomically to ``out``."""
    from labelaudit.report.format import emit_rendered

    emit_rendered(
        report, output, out, terminal=render_terminal, html=render_html, markdown=render_markdown
    )
