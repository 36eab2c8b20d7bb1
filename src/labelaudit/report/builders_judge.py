"""The LLM-judge audit as a document: verdict first, then every audit's tables and charts.

Presentation only: every figure comes from ``JudgeAudit.to_dict()`` (its JSON contract is
not changed here). The pairwise sections (position, length, agreement, gold,
self-preference) are the preference audit's own (:mod:`labelaudit.report.builders_audit`),
with the same charts and the same sentence reconciling pooled and per-judge flags.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from labelaudit.report._format import fmt_ci, fmt_count, fmt_value, text
from labelaudit.report.builders_audit import (
    Part,
    audit_sections,
    pct,
    table_of,
    with_charts,
)
from labelaudit.report.builders_common import provenance
from labelaudit.report.document import Document, Figure, Headline, Section

__all__ = ["judge_document"]

_TRIAGE_ROWS = 20
_AGREEMENT_GROUPS = (
    ("pooled", "Judge vs all human votes"),
    ("with_consensus", "Judge vs the human consensus"),
    ("with_humans", "Judge vs each human"),
    ("between_humans", "Humans among themselves (baseline)"),
)


def _verdicts(report: Mapping[str, Any]) -> Part:
    rows = [
        [
            text(v["judge"]),
            fmt_count(v["n_verdicts"]),
            fmt_count(v["n_items"]),
            fmt_count(v["n_failed"]),
            pct(v["failed_rate"]),
            fmt_count(v["repeats"]),
        ]
        for v in report["verdicts"]
    ]
    cols = [("Judge", False), ("Verdicts", True), ("Items", True), ("Failed", True)]
    cols += [("Failed share", True), ("Repetitions", True)]
    return Part("verdicts", "Verdicts", [], [table_of("Per judge", cols, rows)])


def _metric(entry: Mapping[str, Any] | None) -> tuple[str, str]:
    if not entry:
        return fmt_value(None), fmt_ci(None)
    return fmt_value(entry.get("value")), fmt_ci(entry.get("ci95"))


def _pointwise_agreement(data: Mapping[str, Any]) -> Part | None:
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
    table = table_of("Per comparison", [*cols, ("95% CI", True)], rows)
    return Part("agreement", "Agreement with humans", lines + overall, [table])


def _pairwise_agreement(data: Mapping[str, Any]) -> list[Part]:
    out = []
    for key, title in _AGREEMENT_GROUPS:
        for section in audit_sections({"agreement": data.get(key) or []}):
            section.key, section.title = f"agreement-{key}", title
            out.append(section)
    return out


def _gold_pointwise(data: Mapping[str, Any]) -> Part:
    rows = [
        [text(a["annotator"]), fmt_count(a["n"]), pct(a["accuracy"]), fmt_ci(a["ci95"])]
        for a in data["accuracy"]
    ]
    cols = [("Annotator", False), ("Gold items", True), ("Accuracy", True), ("95% CI", True)]
    section = Part("gold", "Accuracy against gold", [], [table_of("Per annotator", cols, rows)])
    categories = [text(c) for c in data["categories"]]
    for judge in data.get("judge_errors") or {}:
        section.lines.append(f"{text(judge)}: {data['judge_errors'][judge]} failed verdicts.")
    for name, matrix in data["confusions"].items():
        table_rows = [[c, *map(fmt_count, row)] for c, row in zip(categories, matrix, strict=True)]
        columns = [("Gold \\ label", False), *((c, True) for c in categories)]
        section.tables.append(table_of(f"Confusion of {text(name)}", columns, table_rows))
    return section


def _confusion(entries: Sequence[Mapping[str, Any]]) -> Part | None:
    if not entries:
        return None
    section = Part("confusion", "Confusion against gold")
    for entry in entries:
        rows = [
            [text(name), *map(fmt_count, counts)]
            for name, counts in zip(entry["rows"], entry["counts"], strict=True)
        ]
        columns = [("Gold \\ verdict", False), *((text(c), True) for c in entry["columns"])]
        title = f"{text(entry['judge'])}: accuracy {pct(entry['accuracy'])} of {entry['n']}"
        section.tables.append(table_of(title, columns, rows))
    return section


def _repetition(entries: Sequence[Mapping[str, Any]]) -> Part | None:
    if not entries:
        return None
    rows = [
        [
            text(e["judge"]),
            fmt_count(e["n_groups"]),
            fmt_value(e["mean_repeats"], 1),
            fmt_value(e["stability"]),
            pct(e["unanimous"]),
            fmt_count(e["n_failed"]),
        ]
        for e in entries
    ]
    cols = [("Judge", False), ("Requests", True), ("Repetitions", True), ("Stability", True)]
    cols += [("Unanimous", True), ("Failed", True)]
    lines = ["Stability = mean share of the modal verdict over repetitions (1 = always same)."]
    return Part("repetition", "Repetition stability", lines, [table_of("Per judge", cols, rows)])


def _triage(data: Mapping[str, Any] | None) -> Part | None:
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
            pct(e["confidence"]),
        ]
        for e in data["items"][:_TRIAGE_ROWS]
    ]
    cols = [("Item", False), ("Judge", False), ("Reason", False), ("Judge said", False)]
    cols += [("Reference", False), ("Human share", True)]
    title = f"First {min(_TRIAGE_ROWS, len(data['items']))} items"
    return Part("triage", "Disagreement triage", lines, [table_of(title, cols, rows)])


def judge_sections(report: Mapping[str, Any]) -> list[Part]:
    """The audit's sections in reading order (absent ones left out)."""
    out = [_verdicts(report)]
    if report["mode"] == "pairwise":
        pref = {k: report.get(k) for k in ("position_bias", "length_bias", "gold")}
        out += audit_sections(pref)
        out += _pairwise_agreement(report.get("agreement") or {})
        out += audit_sections({"self_preference": report.get("self_preference") or []})
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
        out.append(Part("skipped", "Skipped audits", lines))
    return out


def _facts(report: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    """Header facts: inputs, mode and options."""
    data, config = report["input"], report["config"]
    out: list[tuple[str, Any]] = [("Mode", report["mode"]), ("Verdicts", text(data["verdicts"]))]
    out += [(k.capitalize(), text(data[k])) for k in ("humans", "gold", "data") if data.get(k)]
    out.append(("Bootstrap", f"{config['n_boot']} replicates, seed {config['seed']}"))
    return tuple(out)


def _headline(report: Mapping[str, Any]) -> Headline:
    """Failed verdicts, the flagged biases and agreement with the human consensus."""
    verdicts = report.get("verdicts") or []
    n_verdicts = sum(v["n_verdicts"] for v in verdicts)
    n_failed = sum(v["n_failed"] for v in verdicts)
    judges = f"{len(verdicts)} judge{'s' if len(verdicts) != 1 else ''}"
    parts = [f"{fmt_count(n_verdicts)} verdicts by {judges}, {fmt_count(n_failed)} failed"]
    position = (report.get("position_bias") or {}).get("overall") or {}
    length = report.get("length_bias") or {}
    flagged = [text(d["verdict"]) for d in (position, length) if d.get("flag")]
    parts += flagged
    figures = []
    agreement = report.get("agreement") or {}
    for entry in (agreement.get("with_consensus") or [])[:2]:
        if isinstance(entry, Mapping) and entry.get("verdict"):
            parts.append(text(entry["verdict"]))
        alpha = entry.get("krippendorff_alpha") if isinstance(entry, Mapping) else None
        if isinstance(alpha, Mapping) and alpha.get("value") is not None:
            ci = tuple(alpha["ci95"]) if alpha.get("ci95") and None not in alpha["ci95"] else None
            figures.append(
                Figure(f"{text(entry['a'])} vs {text(entry['b'])} α", alpha["value"], ci)
            )
    status = "fail" if flagged or n_failed else "info"
    return Headline("; ".join(parts) + ".", tuple(figures), status)


def judge_document(report: Mapping[str, Any]) -> Document:
    """The judge audit (``JudgeAudit.to_dict()``) as a document: the headline (failed
    verdicts, flagged biases, agreement with the human consensus), then verdicts,
    agreement, bias (with the audit charts), gold, confusion, repetition and triage."""
    sections = [Section("Inputs", facts=_facts(report), key="data")]
    sections += with_charts(report, judge_sections(report))
    return Document("LLM judge audit", _headline(report), tuple(sections), provenance(report))
