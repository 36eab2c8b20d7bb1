"""Render the judge audit dict as Rich terminal tables or one self-contained HTML page.

Presentation only: every function takes :meth:`JudgeAudit.to_dict` output. The pairwise
sections (position, length, agreement, gold, self-preference) are the preference audit's
own sections (:func:`labelaudit.preferences.render.sections`); user content (judge,
annotator and item names, labels) is escaped by Jinja2 autoescaping in HTML and printed
as plain :class:`rich.text.Text` in the terminal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labelaudit.preferences.render import (
    Section,
    Table,
    sections_page,
    sections_terminal,
    with_charts,
)
from labelaudit.preferences.render import sections as preference_sections
from labelaudit.report.format import (
    DASH,
    fmt_ci,
    fmt_count,
    fmt_value,
    text,
)

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["render_html", "render_terminal", "sections", "write_output"]

_TRIAGE_ROWS = 20
_AGREEMENT_GROUPS = (
    ("pooled", "Judge vs all human votes"),
    ("with_consensus", "Judge vs the human consensus"),
    ("with_humans", "Judge vs each human"),
    ("between_humans", "Humans among themselves (baseline)"),
)


def _pct(value: Any) -> str:
    return DASH if value is None else f"{fmt_value(100 * float(value), 1)}%"


def _verdicts(report: Mapping[str, Any]) -> Section:
    rows = [
        [
            text(v["judge"]),
            fmt_count(v["n_verdicts"]),
            fmt_count(v["n_items"]),
            fmt_count(v["n_failed"]),
            _pct(v["failed_rate"]),
            fmt_count(v["repeats"]),
        ]
        for v in report["verdicts"]
    ]
    cols = [("Judge", False), ("Verdicts", True), ("Items", True), ("Failed", True)]
    cols += [("Failed share", True), ("Repetitions", True)]
    return Section("verdicts", "Verdicts", [], [Table("Per judge", cols, rows)])


def _metric(entry: Mapping[str, Any] | None) -> tuple[str, str]:
    if not entry:
        return fmt_value(None), fmt_ci(None)
    return fmt_value(entry.get("value")), fmt_ci(entry.get("ci95"))


def _pointwise_agreement(data: Mapping[str, Any]) -> Section | None:
    entries = [*data.get("with_consensus", []), *data.get("with_humans", [])]
    if not entries:
        return None
    rows = []
    for e in entries:
        cells = [text(e["a"]), text(e["b"]), fmt_count(e["n_items"])]
        for name in ("percent_agreement", "cohen_kappa", "krippendorff_alpha"):
            cells += list(_metric(e.get(name)))
        rows.append(cells)
    cols = [("Judge", False), ("Against", False), ("Items", True), ("Agreement", True)]
    cols += [("95% CI", True), ("Cohen κ", True), ("95% CI", True), ("Krippendorff α", True)]
    lines = [text(e["verdict"]) for e in entries[:6]]
    if data.get("n_tied_items"):
        lines.append(f"{data['n_tied_items']} items with a tied human vote have no consensus.")
    overall = []
    for key, title in (("humans_only", "humans only"), ("all_annotators", "with the judge")):
        alpha = (data.get(key) or {}).get("krippendorff_alpha")
        if alpha:
            overall.append(
                f"Krippendorff's α {title}: {fmt_value(alpha.get('value'))} "
                f"(95% CI {fmt_ci(alpha.get('ci95'))})."
            )
    table = Table("Per comparison", [*cols, ("95% CI", True)], rows)
    return Section("agreement", "Agreement with humans", lines + overall, [table])


def _pairwise_agreement(data: Mapping[str, Any]) -> list[Section]:
    out = []
    for key, title in _AGREEMENT_GROUPS:
        for section in preference_sections({"agreement": data.get(key) or []}):
            section.key, section.title = f"agreement-{key}", title
            out.append(section)
    return out


def _gold_pointwise(data: Mapping[str, Any]) -> Section:
    rows = [
        [text(a["annotator"]), fmt_count(a["n"]), _pct(a["accuracy"]), fmt_ci(a["ci95"])]
        for a in data["accuracy"]
    ]
    cols = [("Annotator", False), ("Gold items", True), ("Accuracy", True), ("95% CI", True)]
    section = Section("gold", "Accuracy against gold", [], [Table("Per annotator", cols, rows)])
    categories = [text(c) for c in data["categories"]]
    for judge in data.get("judge_errors") or {}:
        section.lines.append(f"{text(judge)}: {data['judge_errors'][judge]} failed verdicts.")
    for name, matrix in data["confusions"].items():
        table_rows = [[c, *map(fmt_count, row)] for c, row in zip(categories, matrix, strict=True)]
        columns = [("Gold \\ label", False), *((c, True) for c in categories)]
        section.tables.append(Table(f"Confusion of {text(name)}", columns, table_rows))
    return section


def _confusion(entries: Sequence[Mapping[str, Any]]) -> Section | None:
    if not entries:
        return None
    section = Section("confusion", "Confusion against gold")
    for entry in entries:
        rows = [
            [text(name), *map(fmt_count, counts)]
            for name, counts in zip(entry["rows"], entry["counts"], strict=True)
        ]
        columns = [("Gold \\ verdict", False), *((text(c), True) for c in entry["columns"])]
        title = f"{text(entry['judge'])}: accuracy {_pct(entry['accuracy'])} of {entry['n']}"
        section.tables.append(Table(title, columns, rows))
    return section


def _repetition(entries: Sequence[Mapping[str, Any]]) -> Section | None:
    if not entries:
        return None
    rows = [
        [
            text(e["judge"]),
            fmt_count(e["n_groups"]),
            fmt_value(e["mean_repeats"], 1),
            fmt_value(e["stability"]),
            _pct(e["unanimous"]),
            fmt_count(e["n_failed"]),
        ]
        for e in entries
    ]
    cols = [("Judge", False), ("Requests", True), ("Repetitions", True), ("Stability", True)]
    cols += [("Unanimous", True), ("Failed", True)]
    lines = ["Stability = mean share of the modal verdict over repetitions (1 = always same)."]
    return Section("repetition", "Repetition stability", lines, [Table("Per judge", cols, rows)])


def _triage(data: Mapping[str, Any] | None) -> Section | None:
    if not data:
        return None
    reasons = ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in data["by_reason"].items())
    lines = [f"{data['n_queued']} (judge, item) pairs queued for adjudication ({reasons})."]
    rows = [
        [
            text(e["item"]),
            text(e["judge"]),
            text(e["reason"]),
            text(e["judge_label"]),
            text(e["consensus_label"]),
            _pct(e["confidence"]),
        ]
        for e in data["items"][:_TRIAGE_ROWS]
    ]
    cols = [("Item", False), ("Judge", False), ("Reason", False), ("Judge said", False)]
    cols += [("Reference", False), ("Human share", True)]
    title = f"First {min(_TRIAGE_ROWS, len(data['items']))} items"
    return Section("triage", "Disagreement triage", lines, [Table(title, cols, rows)])


def sections(report: Mapping[str, Any]) -> list[Section]:
    """The audit's sections in reading order (absent ones left out)."""
    out = [_verdicts(report)]
    if report["mode"] == "pairwise":
        pref = {k: report.get(k) for k in ("position_bias", "length_bias", "gold")}
        out += preference_sections(pref)
        out += _pairwise_agreement(report.get("agreement") or {})
        out += preference_sections({"self_preference": report.get("self_preference") or []})
    else:
        agreement = _pointwise_agreement(report.get("agreement") or {})
        out += [agreement] if agreement else []
        out += [_gold_pointwise(report["gold"])] if report.get("gold") else []
    more = (
        _confusion(report.get("confusion") or []),
        _repetition(report["repetition_stability"]),
        _triage(report["triage"]),
    )
    out += [s for s in more if s is not None]
    if report["skipped"]:
        lines = [f"{text(s['audit'])}: {text(s['reason'])}" for s in report["skipped"]]
        out.append(Section("skipped", "Skipped audits", lines))
    return out


def facts(report: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Header facts: inputs, mode and options."""
    data, config = report["input"], report["config"]
    out = [("Mode", report["mode"]), ("Verdicts", text(data["verdicts"]))]
    out += [(k.capitalize(), text(data[k])) for k in ("humans", "gold", "data") if data.get(k)]
    out.append(("Bootstrap", f"{config['n_boot']} replicates, seed {config['seed']}"))
    out.append(("Tool", f"{text(report['tool']['name'])} {text(report['tool']['version'])}"))
    return out


def render_html(report: Mapping[str, Any]) -> str:
    """The audit as one self-contained HTML page (inline CSS, no script, autoescaped)."""
    tool = f"{report['tool']['name']} {report['tool']['version']}"
    found = with_charts(report, sections(report))
    return sections_page("LLM judge audit", facts(report), found, tool)


def render_terminal(report: Mapping[str, Any], console: Console) -> None:
    """Print the audit as Rich tables (user content printed literally)."""
    sections_terminal(console, "LLM judge audit", facts(report), sections(report))


def write_output(report: Mapping[str, Any], output: str, out: Path | None) -> None:
    """Render ``report`` as ``table``, ``json`` or ``html``; print it or write it to ``out``."""
    from labelaudit.report.format import emit_rendered

    emit_rendered(report, output, out, terminal=render_terminal, html=render_html)
