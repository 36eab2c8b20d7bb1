"""The preference audit as a document: verdict first, charts, then every audit's tables.

Presentation only: every figure comes from ``PreferenceAudit.to_dict()`` (its JSON
contract is not changed here). The sections are shared with the judge audit
(:mod:`labelaudit.report.builders_judge`); the charts are
:func:`labelaudit.report.charts.audit_charts`. The one sentence formed here reconciles an
overall flag with per-annotator rows (the pooled test has more power than each
annotator's Holm-corrected test).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from labelaudit.report._format import DASH, fmt_ci, fmt_count, fmt_p, fmt_value, text
from labelaudit.report.builders_common import provenance
from labelaudit.report.document import DocTable, Document, Figure, Headline, Section

__all__ = ["Part", "audit_sections", "pct", "pct_ci", "preferences_document", "table_of"]


def table_of(
    title: str, columns: Sequence[tuple[str, bool]], rows: Sequence[Sequence[str]]
) -> DocTable:
    """A document table from (name, numeric) columns and formatted rows."""
    return DocTable(
        title,
        tuple(name for name, _ in columns),
        tuple(tuple(row) for row in rows),
        tuple("number" if numeric else "text" for _, numeric in columns),
    )


@dataclass
class Part:
    """A section being built: key, title, plain-language lines, tables, charts."""

    key: str
    title: str
    lines: list[str] = field(default_factory=list)
    tables: list[DocTable] = field(default_factory=list)
    charts: list[Any] = field(default_factory=list)

    def section(self) -> Section:
        """The finished document section (lines become paragraphs)."""
        return Section(
            self.title,
            tables=tuple(self.tables),
            charts=tuple(self.charts),
            text="\n\n".join(self.lines),
            key=self.key,
        )


def pct(value: Any) -> str:
    shown = fmt_value(None if value is None else 100 * float(value), 1)
    return shown if shown == DASH else f"{shown}%"


def pct_ci(ci: Any) -> str:
    if not isinstance(ci, Sequence) or len(ci) != 2 or None in ci:
        return DASH
    return f"[{pct(ci[0])}, {pct(ci[1])}]"


def reconcile(data: Mapping[str, Any], rate: str, bias: str) -> str:
    """One sentence reconciling the pooled flag with the per-annotator flags, or ``""``.

    The pooled test uses every decisive vote; each annotator's test uses only that
    annotator's votes and is Holm-corrected for the number of annotators, so a small bias
    shared by everyone can be flagged pooled and by no single row (and a strong bias of
    one annotator can be diluted in the pool).
    """
    overall = data.get("overall") or {}
    rows = [r for r in data.get("by_annotator") or [] if r.get("flag") is not None]
    if not rows or overall.get("flag") is None:
        return ""
    flagged = [r for r in rows if r["flag"]]
    pooled = fmt_count(overall.get("n"))
    if overall["flag"] and not flagged:
        rates = [r[rate] for r in rows if r.get(rate) is not None]
        side = (
            "lean the same way as the pooled rate"
            if rates and (all(v < 0.5 for v in rates) or all(v > 0.5 for v in rates))
            else "point different ways"
        )
        return (
            f"The pooled test over all {pooled} decisive votes flags {bias} while no annotator "
            f"row does: each annotator's test has only their own votes (wider intervals) and "
            f"is Holm-corrected for {len(rows)} tests, so it has less power; the per-annotator "
            f"rates ({pct(min(rates, default=None))} to {pct(max(rates, default=None))}) {side}."
        )
    if flagged and not overall["flag"]:
        names = ", ".join(text(r["annotator"]) for r in flagged)
        return (
            f"{names} {'is' if len(flagged) == 1 else 'are'} flagged for {bias} although the "
            f"pooled test over all {pooled} decisive votes is not: a bias of some annotators "
            "is diluted by the others' votes in the pool."
        )
    return ""


def _flag(value: Any) -> str:
    return DASH if value is None else ("FLAG" if value else "ok")


def _position(report: Mapping[str, Any]) -> Part | None:
    data = report.get("position_bias")
    if not data:
        return None
    section = Part("position-bias", "Position bias", [text(data["overall"]["verdict"])])
    section.lines += [reconcile(data, "first_slot_rate", "position bias")]
    rows = [
        [text(r["annotator"]), text(r["kind"]), fmt_count(r["n"]), pct(r["first_slot_rate"]),
         pct_ci(r["ci95"]), fmt_p(r["p_holm"]), _flag(r["flag"])]
        for r in data["by_annotator"]
    ]  # fmt: skip
    cols = [("Annotator", False), ("Kind", False), ("Decisive", True), ("First slot", True)]
    cols += [("95% CI", True), ("p (Holm)", True), ("Flag", False)]
    section.tables.append(table_of("First-slot rate per annotator", cols, rows))
    if data["both_orders"]:
        rows = [
            [text(r["annotator"]), fmt_count(r["n_items"]), pct(r["consistency"]),
             pct_ci(r["ci95"]), pct(r["biased_to_first"]), pct(r["biased_to_second"]),
             pct(r["other_inconsistent"]), pct(r["error"])]
            for r in data["both_orders"]
        ]  # fmt: skip
        cols = [("Annotator", False), ("Items", True), ("Consistent", True), ("95% CI", True)]
        cols += [("First both times", True), ("Second both times", True), ("Other", True)]
        section.tables.append(
            table_of("Items judged in both orders", [*cols, ("Error", True)], rows)
        )
    return section


def _length(report: Mapping[str, Any]) -> Part | None:
    data = report.get("length_bias")
    if not data:
        return None
    section = Part("length-bias", "Length bias", [text(data["verdict"])])
    section.lines += [reconcile({"overall": data, **data}, "p_prefer_longer", "length bias")]
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
        [text(r["annotator"]), text(r["kind"]), fmt_count(r["n"]), pct(r["p_prefer_longer"]),
         pct_ci(r["ci95"]), fmt_p(r["p_holm"]), _flag(r["flag"])]
        for r in data["by_annotator"]
    ]  # fmt: skip
    cols = [("Annotator", False), ("Kind", False), ("Pairs", True), ("P(longer wins)", True)]
    section.tables.append(
        table_of(
            "Per annotator", [*cols, ("95% CI", True), ("p (Holm)", True), ("Flag", False)], rows
        )
    )
    for group in data["length_controlled"]:
        rows = [
            [text(m["model"]), fmt_count(m["n"]), pct(m["win_rate"]), pct(m["lc_win_rate"]),
             pct_ci(m["ci95"])]
            for m in group["models"]
        ]  # fmt: skip
        cols = [("Model", False), ("Votes", True), ("Win rate", True), ("LC win rate", True)]
        title = f"Length-controlled win rates ({text(group['raters'])})"
        section.tables.append(table_of(title, [*cols, ("95% CI", True)], rows))
    return section


def _with_pairs(result: Mapping[str, Any]) -> str:
    return f"{pct(result['agreement'])} ({fmt_count(result['n_pairs'])})"


def _agreement_tables(entries: Sequence[Mapping[str, Any]], title: str) -> list[DocTable]:
    rows = [
        [text(e["a"]), text(e["b"]), fmt_count(e["n_items"]), _with_pairs(e["with_ties"]),
         pct_ci(e["with_ties"]["ci95"]), _with_pairs(e["without_ties"]),
         pct_ci(e["without_ties"]["ci95"])]
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
    return [
        table_of(title, cols, rows),
        table_of(f"{title}: chance-corrected", kappa_cols, kappa_rows),
    ]


def _agreement(report: Mapping[str, Any]) -> Part | None:
    entries = report.get("agreement") or []
    if not entries:
        return None
    section = Part("agreement", "Agreement", [text(e["verdict"]) for e in entries[:6]])
    section.lines.append("Chance: 33.3% with ties, 50% without (random votes).")
    section.tables += _agreement_tables(entries, "Agreement (MT-Bench definition)")
    return section


def _gold(report: Mapping[str, Any]) -> Part | None:
    entries = report.get("gold") or []
    if not entries:
        return None
    rows = [
        [text(e["annotator"]), fmt_count(e["n"]), pct(e["accuracy"]), pct_ci(e["ci95"]),
         pct(e["accuracy_gold_first"]), pct(e["accuracy_gold_second"]),
         pct(e["both_correct"])]
        for e in entries
    ]  # fmt: skip
    cols = [("Annotator", False), ("Votes", True), ("Accuracy", True), ("95% CI", True)]
    cols += [("Gold in slot 1", True), ("Gold in slot 2", True), ("Right in both orders", True)]
    return Part("gold", "Accuracy against gold", [], [table_of("Per annotator", cols, rows)])


def _groups(report: Mapping[str, Any]) -> Part | None:
    groups = report.get("groups") or []
    if not groups:
        return None
    section = Part("groups", f"By {text(report['config'].get('by'))}")
    rows = []
    for group in groups:
        position = group.get("position_bias") or {}
        consistency = {r["annotator"]: r for r in position.get("both_orders", [])}
        gold = {r["annotator"]: r for r in group.get("gold") or []}
        for r in position.get("by_annotator", []):
            both, acc = consistency.get(r["annotator"], {}), gold.get(r["annotator"], {})
            rows.append(
                [text(group["group"]), text(r["annotator"]), pct(r["first_slot_rate"]),
                 pct(both.get("consistency")), pct(acc.get("accuracy"))]
            )  # fmt: skip
    if rows:
        cols = [("Group", False), ("Annotator", False), ("First slot", True)]
        cols += [("Consistent", True), ("Accuracy", True)]
        section.tables.append(table_of("Position and accuracy per group", cols, rows))
    entries = [e | {"a": f"{g['group']}: {e['a']}"} for g in groups for e in g.get("agreement", [])]
    if entries:
        section.tables += _agreement_tables(entries, "Agreement per group")
    return section


def audit_sections(report: Mapping[str, Any]) -> list[Part]:
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
        out.append(Part("skipped", "Skipped audits", lines))
    return out


def _consistency(data: Mapping[str, Any]) -> Part:
    section = Part("consistency", "Consistency", [text(n) for n in data.get("notes", [])])
    if data["repeats"]:
        rows = [
            [text(r["annotator"]), fmt_count(r["n_items"]),
             fmt_count(r["same_order"]["n_pairs"]), pct(r["same_order"]["agreement"]),
             fmt_count(r["swapped"]["n_pairs"]), pct(r["swapped"]["agreement"]),
             pct_ci(r["swapped"]["ci95"])]
            for r in data["repeats"]
        ]  # fmt: skip
        cols = [("Annotator", False), ("Repeated items", True), ("Same-order pairs", True)]
        cols += [("Agree", True), ("Swapped pairs", True), ("Agree", True), ("95% CI", True)]
        section.tables.append(table_of("Self-agreement on repeated items", cols, rows))
    if data["transitivity"]:
        rows = [
            [text(r["annotator"]), fmt_count(r["n_tournaments"]), fmt_count(r["n_triads"]),
             fmt_count(r["n_decisive"]), fmt_count(r["n_circular"]), pct(r["circular_rate"]),
             pct_ci(r["ci95"]), fmt_count(r["n_complete"]), fmt_value(r["mean_zeta"])]
            for r in data["transitivity"]
        ]  # fmt: skip
        cols = [("Annotator", False), ("Prompts", True), ("Triads", True), ("Decisive", True)]
        cols += [("Circular", True), ("Rate", True), ("95% CI", True), ("Complete", True)]
        section.tables.append(
            table_of("Transitivity (circular triads, Kendall's ζ)", [*cols, ("Mean ζ", True)], rows)
        )
    return section


def _ratings(data: Mapping[str, Any]) -> Part:
    section = Part("bradley-terry", "Bradley-Terry ratings")
    for group in data["groups"]:
        rows = [
            [text(m["model"]), fmt_value(m["rating"], 0), fmt_value(m["median"], 0),
             "—" if m["ci95"] is None else f"[{m['ci95'][0]:.0f}, {m['ci95'][1]:.0f}]",
             fmt_count(m["n_votes"])]
            for m in group["models"]
        ]  # fmt: skip
        cols = [("Model", False), ("Rating", True), ("Median", True), ("95% CI", True)]
        title = f"{text(group['raters'])} ({group['n_votes']} votes, {group['n_boot']} bootstraps)"
        section.tables.append(table_of(title, [*cols, ("Votes", True)], rows))
        if group.get("reason"):
            section.lines.append(f"{text(group['raters'])}: {text(group['reason'])}")
    section.lines += [
        f"Spearman rank correlation {text(p['a'])} vs {text(p['b'])}: {fmt_value(p['spearman'])} "
        f"over {p['n_models']} models"
        for p in data["rank_agreement"]
    ]
    return section


def _self_preference(entries: list[Mapping[str, Any]]) -> Part:
    section = Part("self-preference", "Self-preference", [text(e["verdict"]) for e in entries])
    for entry in entries:
        rows = [
            [text(m["model"]), fmt_count(m["n_items"]), pct(m["judge_win_rate"]),
             pct(m["human_win_rate"]), _delta(m["delta"])]
            for m in entry["by_model"]
        ]  # fmt: skip
        cols = [("Model", False), ("Items", True), ("Judge win rate", True)]
        cols += [("Human win rate", True), ("Difference", True)]
        section.tables.append(table_of(f"{text(entry['judge'])}: every model", cols, rows))
    return section


def report_unit(data: Mapping[str, Any]) -> str:
    """``line`` or ``record``: what the hygiene examples count."""
    return str(data.get("unit", "line"))


def _delta(value: Any) -> str:
    return "—" if value is None else f"{100 * float(value):+.1f} pts"


def _hygiene(data: Mapping[str, Any]) -> Part:
    section = Part(
        "hygiene", "Hygiene (flagged, never dropped)", [text(n) for n in data.get("notes", [])]
    )
    rows = [
        [text(c["check"]), fmt_count(c["n"]), pct(c["rate"]),
         fmt_count(c.get("preferred")) if "preferred" in c else "—",
         fmt_count(c.get("other")) if "other" in c else "—",
         ", ".join(str(x) for x in c["examples"])]
        for c in data["checks"]
    ]  # fmt: skip
    cols = [("Check", False), ("Votes", True), ("Rate", True), ("Preferred", True)]
    where = "First records" if report_unit(data) == "record" else "First lines"
    section.tables.append(table_of("Checks", [*cols, ("Other", True), (where, False)], rows))
    rows = [
        [text(t["annotator"]), text(t["kind"]), fmt_count(t["n"]), pct(t["tie_rate"]),
         pct(t["missing_rate"])]
        for t in data["tie_rates"]
    ]  # fmt: skip
    cols = [("Annotator", False), ("Kind", False), ("Votes", True), ("Ties", True)]
    section.tables.append(table_of("Ties and missing verdicts", [*cols, ("Missing", True)], rows))
    if data["near_duplicates"]:
        rows = [[text(n["a"]), text(n["b"]), fmt_value(n["jaccard"], 2)]
                for n in data["near_duplicates"]]  # fmt: skip
        cols = [("Prompt", False), ("Near-duplicate", False), ("Jaccard (est.)", True)]
        section.tables.append(table_of("Most similar prompts", cols, rows))
    return section


def _extra_sections(report: Mapping[str, Any]) -> list[Part]:
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


def facts(report: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    """Header facts: sizes, order, bootstrap and notes of the input."""
    data = report["input"]
    out: list[tuple[str, Any]] = [
        ("Votes", data["n_votes"]),
        ("Prompts", data["n_prompts"]),
        ("Items", data["n_items"]),
        ("Annotators", data["n_annotators"]),
        ("Models", data["n_models"]),
        ("Votes with known order", data["order_known"]),
        ("Bootstrap", f"{report['config']['n_boot']} replicates, seed {report['config']['seed']}"),
    ]
    out += [("Note", text(note)) for note in data.get("notes", [])]
    return tuple(out)


def _findings(report: Mapping[str, Any]) -> tuple[list[str], list[Figure]]:
    """The flagged biases (verdict sentences) and the pooled rates with their intervals."""
    position = (report.get("position_bias") or {}).get("overall") or {}
    length = report.get("length_bias") or {}
    flagged = [text(d["verdict"]) for d in (position, length) if d.get("flag")]
    figures = [
        Figure(name, d[key], tuple(d["ci95"]) if d.get("ci95") else None)
        for name, d, key in (
            ("first-slot win rate (pooled)", position, "first_slot_rate"),
            ("P(longer response preferred)", length, "p_prefer_longer"),
        )
        if d.get(key) is not None
    ]
    return flagged, figures


def with_charts(report: Mapping[str, Any], parts: Sequence[Part]) -> list[Section]:
    """The finished sections, each with the audit chart of the same key
    (:func:`labelaudit.report.charts.audit_charts`)."""
    from labelaudit.report.charts import audit_charts

    charts = audit_charts(report)
    for part in parts:
        if part.key in charts:
            part.charts.append(charts[part.key])
    return [part.section() for part in parts]


def preferences_document(report: Mapping[str, Any], *, full_paths: bool = False) -> Document:
    """The preference audit (``PreferenceAudit.to_dict()``) as a document.

    The headline names the flagged biases (position, length) with the pooled rates and
    their 95% intervals; the sections are every audit the data supported, with the
    Bradley-Terry, position-bias and length-bias charts, and a sentence reconciling a
    pooled flag with the per-annotator rows.
    """
    flagged, figures = _findings(report)
    sentence = (
        f"{len(flagged)} bias flag{'s' if len(flagged) != 1 else ''}: " + "; ".join(flagged) + "."
        if flagged
        else "No position or length bias flagged."
    )
    headline = Headline(sentence, tuple(figures), "fail" if flagged else "pass")
    sections = [Section("Data", facts=facts(report), key="data")]
    sections += with_charts(report, audit_sections(report))
    return Document(
        "Preference data audit", headline, tuple(sections), provenance(report, full=full_paths)
    )
