"""Report sections of the consistency, rating, self-preference and hygiene audits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from labelaudit.preferences.render import Section, Table, _pct, _pct_ci
from labelaudit.report.format import fmt_count, fmt_value, text

__all__ = ["sections"]


def _consistency(data: Mapping[str, Any]) -> Section:
    section = Section("consistency", "Consistency", [text(n) for n in data.get("notes", [])])
    if data["repeats"]:
        rows = [
            [text(r["annotator"]), fmt_count(r["n_items"]),
             fmt_count(r["same_order"]["n_pairs"]), _pct(r["same_order"]["agreement"]),
             fmt_count(r["swapped"]["n_pairs"]), _pct(r["swapped"]["agreement"]),
             _pct_ci(r["swapped"]["ci95"])]
            for r in data["repeats"]
        ]  # fmt: skip
        cols = [("Annotator", False), ("Repeated items", True), ("Same-order pairs", True)]
        cols += [("Agree", True), ("Swapped pairs", True), ("Agree", True), ("95% CI", True)]
        section.tables.append(Table("Self-agreement on repeated items", cols, rows))
    if data["transitivity"]:
        rows = [
            [text(r["annotator"]), fmt_count(r["n_tournaments"]), fmt_count(r["n_triads"]),
             fmt_count(r["n_decisive"]), fmt_count(r["n_circular"]), _pct(r["circular_rate"]),
             _pct_ci(r["ci95"]), fmt_count(r["n_complete"]), fmt_value(r["mean_zeta"])]
            for r in data["transitivity"]
        ]  # fmt: skip
        cols = [("Annotator", False), ("Prompts", True), ("Triads", True), ("Decisive", True)]
        cols += [("Circular", True), ("Rate", True), ("95% CI", True), ("Complete", True)]
        section.tables.append(
            Table("Transitivity (circular triads, Kendall's ζ)", [*cols, ("Mean ζ", True)], rows)
        )
    return section


def _ratings(data: Mapping[str, Any]) -> Section:
    section = Section("bradley-terry", "Bradley-Terry ratings")
    for group in data["groups"]:
        rows = [
            [text(m["model"]), fmt_value(m["rating"], 0), fmt_value(m["median"], 0),
             "—" if m["ci95"] is None else f"[{m['ci95'][0]:.0f}, {m['ci95'][1]:.0f}]",
             fmt_count(m["n_votes"])]
            for m in group["models"]
        ]  # fmt: skip
        cols = [("Model", False), ("Rating", True), ("Median", True), ("95% CI", True)]
        title = f"{text(group['raters'])} ({group['n_votes']} votes, {group['n_boot']} bootstraps)"
        section.tables.append(Table(title, [*cols, ("Votes", True)], rows))
        if group.get("reason"):
            section.lines.append(f"{text(group['raters'])}: {text(group['reason'])}")
    section.lines += [
        f"Spearman rank correlation {text(p['a'])} vs {text(p['b'])}: {fmt_value(p['spearman'])} "
        f"over {p['n_models']} models"
        for p in data["rank_agreement"]
    ]
    return section


def _self_preference(entries: list[Mapping[str, Any]]) -> Section:
    section = Section("self-preference", "Self-preference", [text(e["verdict"]) for e in entries])
    for entry in entries:
        rows = [
            [text(m["model"]), fmt_count(m["n_items"]), _pct(m["judge_win_rate"]),
             _pct(m["human_win_rate"]), _delta(m["delta"])]
            for m in entry["by_model"]
        ]  # fmt: skip
        cols = [("Model", False), ("Items", True), ("Judge win rate", True)]
        cols += [("Human win rate", True), ("Difference", True)]
        section.tables.append(Table(f"{text(entry['judge'])}: every model", cols, rows))
    return section


def report_unit(data: Mapping[str, Any]) -> str:
    """``line`` or ``record``: what the hygiene examples count."""
    return str(data.get("unit", "line"))


def _delta(value: Any) -> str:
    return "—" if value is None else f"{100 * float(value):+.1f} pts"


def _hygiene(data: Mapping[str, Any]) -> Section:
    section = Section(
        "hygiene", "Hygiene (flagged, never dropped)", [text(n) for n in data.get("notes", [])]
    )
    rows = [
        [text(c["check"]), fmt_count(c["n"]), _pct(c["rate"]),
         fmt_count(c.get("preferred")) if "preferred" in c else "—",
         fmt_count(c.get("other")) if "other" in c else "—",
         ", ".join(str(x) for x in c["examples"])]
        for c in data["checks"]
    ]  # fmt: skip
    cols = [("Check", False), ("Votes", True), ("Rate", True), ("Preferred", True)]
    where = "First records" if report_unit(data) == "record" else "First lines"
    section.tables.append(Table("Checks", [*cols, ("Other", True), (where, False)], rows))
    rows = [
        [text(t["annotator"]), text(t["kind"]), fmt_count(t["n"]), _pct(t["tie_rate"]),
         _pct(t["missing_rate"])]
        for t in data["tie_rates"]
    ]  # fmt: skip
    cols = [("Annotator", False), ("Kind", False), ("Votes", True), ("Ties", True)]
    section.tables.append(Table("Ties and missing verdicts", [*cols, ("Missing", True)], rows))
    if data["near_duplicates"]:
        rows = [[text(n["a"]), text(n["b"]), fmt_value(n["jaccard"], 2)]
                for n in data["near_duplicates"]]  # fmt: skip
        cols = [("Prompt", False), ("Near-duplicate", False), ("Jaccard (est.)", True)]
        section.tables.append(Table("Most similar prompts", cols, rows))
    return section


def sections(report: Mapping[str, Any]) -> list[Section]:
    """Sections for ``consistency``, ``bradley_terry``, ``self_preference``, ``hygiene``."""
    out = []
    if report.get("consistency"):
        out.append(_consistency(report["consistency"]))
    if report.get("bradley_terry"):
        out.append(_ratings(report["bradley_terry"]))
    if report.get("self_preference"):
        out.append(_self_preference(report["self_preference"]))
    if report.get("hygiene"):
        out.append(_hygiene(report["hygiene"]))
    return out
