"""Document of the LF analysis (:class:`labelaudit.weak.LFAnalysis`): the LF table with
sparkline-sized bars, the most conflicted items, and the weekly-report section.

Builders only select, order and word numbers the analysis already holds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from labelaudit.report._charts import Chart, draw_charts, new_figure, rows_height, set_labels
from labelaudit.report._format import fmt_value
from labelaudit.report.document import DocTable, Document, Headline, Section

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["lf_analysis_document", "lf_chart", "lf_section"]

#: Columns of the LF chart: (key in each LF record, panel title).
_PANELS = (
    ("coverage", "coverage"),
    ("overlaps", "overlaps"),
    ("conflicts", "conflicts"),
    ("empirical_accuracy", "accuracy on gold"),
    ("estimated_accuracy", "label-model accuracy"),
)
#: LFs drawn in the chart (the table lists them all).
MAX_ROWS = 40


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def _draw(lfs: Sequence[Mapping[str, Any]]) -> Figure | None:
    panels = [(k, t) for k, t in _PANELS if any(lf.get(k) is not None for lf in lfs)]
    if not lfs or not panels:
        return None
    shown = list(lfs[:MAX_ROWS])
    names = [lf["lf"] for lf in shown]
    figure = new_figure(rows_height(names, base=0.7, per_line=0.13))
    axes = figure.subplots(1, len(panels), sharey=True)
    axes = list(axes) if len(panels) > 1 else [axes]
    positions = list(range(len(shown)))
    for index, (ax, (key, title)) in enumerate(zip(axes, panels, strict=True)):
        values = [_number(lf.get(key)) for lf in shown]
        ax.barh(positions, [v or 0.0 for v in values], color="#1f3b73", height=0.6)
        if key == "empirical_accuracy":
            for y, lf in enumerate(shown):
                ci = lf.get("empirical_accuracy_ci95")
                if ci:
                    ax.plot(ci, [y, y], color="#d35400", linewidth=1.2)
        ax.set_xlim(0.0, 1.0)
        ax.set_title(title, fontsize=8)
        ax.tick_params(axis="x", labelsize=7)
        if index == 0:  # the axes share y: label and flip it once
            set_labels(ax, "y", positions, names)
            ax.invert_yaxis()
    axes[len(axes) // 2].set_xlabel("share of records (accuracy: share of votes right)")
    return figure


def lf_chart(data: Mapping[str, Any]) -> Chart | None:
    """Small bars per LF (coverage, overlaps, conflicts, accuracies), or None."""
    lfs = data.get("lfs") or []
    charts = draw_charts(
        [("lf-table", "Labeling functions at a glance", lambda: _draw(lfs))], "labelaudit-weak"
    )
    return charts[0] if charts else None


def _lf_table(data: Mapping[str, Any]) -> DocTable:
    rows = tuple(
        (
            lf["lf"],
            ", ".join(lf["polarity"]),
            lf["coverage"],
            lf["overlaps"],
            lf["conflicts"],
            lf.get("correct"),
            lf.get("incorrect"),
            lf.get("empirical_accuracy"),
            _ci(lf.get("empirical_accuracy_ci95")),
            lf.get("estimated_accuracy"),
            lf.get("agreement_with_others"),
            lf.get("kappa_with_others"),
            lf.get("alpha_without"),
        )
        for lf in data["lfs"]
    )
    return DocTable(
        "Labeling functions",
        ("LF", "polarity", "coverage", "overlaps", "conflicts", "correct", "incorrect",
         "emp. acc.", "95% CI", "est. acc.", "agrees w/ others", "kappa w/ others",
         "alpha without"),
        rows,
        ("text", "text", "number", "number", "number", "number", "number", "number",
         "text", "number", "number", "number", "number"),
        note=f"alpha of all LFs: {fmt_value(data.get('alpha'), 3)}",
        key="lfs",
    )  # fmt: skip


def _ci(ci: Any) -> str:
    return "" if not ci else f"[{fmt_value(ci[0], 2)}, {fmt_value(ci[1], 2)}]"


def _conflict_table(data: Mapping[str, Any]) -> DocTable:
    rows = tuple(
        (
            c["item"],
            c["n_votes"],
            ", ".join(f"{k}: {v}" for k, v in c["votes"].items()),
            c["minority_share"],
        )
        for c in data.get("top_conflicts") or []
    )
    return DocTable(
        "Items where the LFs conflict most (adjudicate first)",
        ("item", "votes", "by label", "minority share"),
        rows,
        ("text", "number", "text", "number"),
    )


def lf_section(data: Mapping[str, Any], title: str = "Labeling functions") -> Section:
    """One section: the global shares, the LF chart and table, the most conflicted items."""
    facts = tuple(
        (name, data.get(name))
        for name in ("n_records", "n_lfs", "label_coverage", "label_overlap", "label_conflict",
                     "n_gold")
    )  # fmt: skip
    chart = lf_chart(data)
    tables = [_lf_table(data)]
    if data.get("top_conflicts"):
        tables.append(_conflict_table(data))
    reasons = data.get("reasons") or {}
    text = "\n\n".join(f"{k}: {v}." for k, v in reasons.items())
    return Section(
        title, facts=facts, tables=tuple(tables), charts=(chart,) if chart else (), text=text,
        key="labeling-functions",
    )  # fmt: skip


def lf_analysis_document(data: Mapping[str, Any]) -> Document:
    """The LF analysis: coverage and conflicts first, then the per-LF table."""
    lfs = data["lfs"]
    judged = [lf for lf in lfs if lf.get("empirical_accuracy") is not None]
    worst = min(judged, key=lambda lf: lf["empirical_accuracy"]) if judged else None
    sentence = (
        f"{data['n_lfs']} labeling functions on {data['n_records']:,} records: "
        f"{data['label_coverage']:.1%} have a vote, {data['label_overlap']:.1%} two or more, "
        f"{data['label_conflict']:.1%} conflicting votes"
        + (
            f"; least accurate on gold: {worst['lf']} ({worst['empirical_accuracy']:.2f})"
            if worst
            else ""
        )
        + "."
    )
    return Document("LF analysis", Headline(sentence), (lf_section(data),))
