"""Inline SVG charts of the pipeline report (matplotlib, imported lazily).

They plot numbers the report dict already holds: the agreement individuals chart with its
control limits, the gold error p-chart, and the heat map of confused label pairs. The
figure, SVG export, label wrapping and safety check are the shared ones of
:mod:`labelaudit.report.charts`; a chart whose SVG fails ``is_inert_svg`` is dropped.

Control charts read as Phase I / Phase II: the statement over the plot names the baseline
batches the limits come from and the judged batch (the last in scope, which is in no
baseline); the judged batch is shaded, out-of-control points ringed in red, every batch
that fails a gate on the charted metric crossed, each line labelled with its value at the
right edge, and the legend sits below the plot.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from labelaudit.report.charts import (
    Chart,
    add_key,
    chart_label,
    draw_charts,
    label_values,
    new_figure,
    outside_legend,
    set_labels,
    text_color,
)
from labelaudit.report.document import category_label

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["render_pipeline_charts"]


_MAX_TICKS = 25
_MAX_HEATMAP = 20
_VALUE = "#1f3b73"
_LIMIT = "#666666"
_SIGNAL = "#c0392b"
_GATE = "#d35400"
_JUDGED = "#fff3c4"
_METRIC_NAMES = {"krippendorff_alpha": "Krippendorff's α", "gold_error_rate": "gold error rate"}


def render_pipeline_charts(report: Mapping[str, Any]) -> dict[str, Chart]:
    """Every chart the report has data for, by key (``agreement``, ``gold``, ``confusions``,
    ``review``).

    Parameters
    ----------
    report : Mapping
        The pipeline report dict.

    Returns
    -------
    dict of str to Chart
    """
    charts = report.get("charts", {})
    metric = _METRIC_NAMES.get(str(charts.get("metric")), str(charts.get("metric", "agreement")))
    drawers: tuple[tuple[str, str, Callable[[], Figure | None]], ...] = (
        (
            "agreement",
            f"{metric} per batch with control limits (individuals chart)",
            lambda: _agreement_chart(charts),
        ),
        (
            "gold",
            "Gold error rate per batch (p-chart)",
            lambda: _gold_chart(charts),
        ),
        (
            "confusions",
            "Most confused label pairs (count of disagreeing annotator pairs)",
            lambda: _heatmap(report.get("confusions", {}), _meanings(report)),
        ),
        (
            "review",
            "OC curve of the review plan in force",
            lambda: _oc_chart(report.get("review")),
        ),
    )
    charts_drawn = draw_charts(drawers, "labelaudit-pipeline")
    return {chart.key: chart for chart in charts_drawn}


def _nums(values: Sequence[Any]) -> list[float]:
    return [float("nan") if v is None else float(v) for v in values]


def _batch_axis(axes: Axes, points: Sequence[Mapping[str, Any]], charts: Mapping[str, Any]) -> None:
    """Batch names as x ticks (thinned beyond 25), the report's scope shaded, the judged
    batch highlighted."""
    n = len(points)
    step = max(1, -(-n // _MAX_TICKS))
    ticks = list(range(0, n, step))
    key = set_labels(
        axes, "x", ticks, [points[i].get("label") for i in ticks], rotation=45, ha="right"
    )
    axes.tick_params(axis="x", labelsize=7)
    add_key(axes.get_figure(root=True), key)  # type: ignore[arg-type]
    scope = [i for i in charts.get("in_scope", []) if i < n]
    if scope and len(scope) < n:
        axes.axvspan(min(scope) - 0.5, max(scope) + 0.5, color="#f0f4fa", zorder=0)
    judged = charts.get("judged")
    if isinstance(judged, int) and 0 <= judged < n:
        axes.axvspan(judged - 0.5, judged + 0.5, color=_JUDGED, zorder=0, label="judged batch")
    axes.set_xlim(-0.5, n - 0.5)
    axes.set_xlabel("batch (in ingest order)", fontsize=8)


def _phase_statement(chart: Mapping[str, Any], charts: Mapping[str, Any]) -> str:
    """One sentence: which baseline the limits come from, and which batch they judge."""
    points = chart["points"]
    base = [p.get("label") for p in points if p.get("baseline")]
    if not base:
        reason = chart.get("reason") or "no baseline batch"
        return f"No control limits: {reason}."
    span = chart_label(base[0], 60) if len(base) == 1 else f"{base[0]} to {base[-1]}"
    plural = "batch" if len(base) == 1 else "batches"
    out = f"Phase I: limits from {len(base)} baseline {plural} ({span})"
    out += ", provisional (< 20)." if chart.get("provisional") else "."
    judged = charts.get("judged")
    if isinstance(judged, int) and 0 <= judged < len(points) and not points[judged]["baseline"]:
        out += f" Phase II: {points[judged].get('label')} judged against them."
    return "\n".join(textwrap.wrap(out, 110))


def _limit_lines(axes: Axes, points: Sequence[Mapping[str, Any]], at: int) -> list[Any]:
    """Center line and control limits as steps; their values at point ``at`` (labels)."""
    x = list(range(len(points)))
    marks = []
    for key, style, name, legend in (
        ("ucl", "--", "UCL", "control limits (3σ)"),
        ("center", "-", "CL", "center line"),
        ("lcl", "--", "LCL", None),
    ):
        values = _nums([p.get(key) for p in points])
        axes.step(x, values, where="mid", linestyle=style, color=_LIMIT, lw=1, label=legend)
        value = points[at].get(key) if 0 <= at < len(points) else None
        if value is not None:
            marks.append((float(value), f"{name} {value:.3f}", _LIMIT))
    return marks


def _gate_marks(
    axes: Axes, points: Sequence[Mapping[str, Any]], gates: Sequence[Mapping[str, Any]]
) -> list[Any]:
    """Each gate's threshold as a line, and its failing batches crossed."""
    marks = []
    for gate in gates:
        threshold = float(gate["threshold"])
        label = f"gate: {gate['op']} {threshold:g}"
        axes.axhline(threshold, color=_GATE, linestyle=":", linewidth=1.2, label=label)
        marks.append((threshold, f"gate {threshold:g}", _GATE))
        failed = [i for i in gate.get("failures", []) if points[i].get("value") is not None]
        if failed:
            axes.plot(
                failed,
                [points[i]["value"] for i in failed],
                "x",
                color=_GATE,
                markersize=9,
                markeredgewidth=2,
                zorder=5,
                label=f"fails the gate ({gate['op']} {threshold:g})",
            )
    return marks


def _control_chart(
    chart: Mapping[str, Any],
    charts: Mapping[str, Any],
    out: Sequence[int],
    gates: Sequence[Mapping[str, Any]],
    ylabel: str,
    gid: str,
) -> Figure:
    """Values, center line, 3-sigma limits, gates; out-of-control points ringed in red
    (the points' SVG group has the id ``gid``)."""
    points = chart["points"]
    figure = new_figure(height_in=3.6)
    axes = figure.add_subplot()
    x = list(range(len(points)))
    (series,) = axes.plot(
        x, _nums([p["value"] for p in points]), "o-", color=_VALUE, ms=4, label=ylabel
    )
    series.set_gid(gid)  # the SVG group of the points (labelaudit serve adds hover values)
    judged = charts.get("judged")
    at = judged if isinstance(judged, int) else len(points) - 1
    marks = _limit_lines(axes, points, at) + _gate_marks(axes, points, gates)
    bad = [i for i in out if points[i].get("value") is not None]
    if bad:
        axes.plot(
            bad,
            [points[i]["value"] for i in bad],
            "o",
            mfc="none",
            mec=_SIGNAL,
            mew=2,
            ms=11,
            label="out of control",
        )
    _batch_axis(axes, points, charts)
    axes.set_ylabel(ylabel, fontsize=8)
    axes.set_title(_phase_statement(chart, charts), fontsize=7.5, loc="left")
    label_values(axes, marks)
    outside_legend(figure, axes, ncols=4)
    return figure


def _agreement_chart(charts: Mapping[str, Any]) -> Figure | None:
    """The individuals chart of the agreement series (any of its charts' signals ringed)."""
    monitor = charts.get("agreement")
    if not monitor:
        return None
    chart = monitor["charts"]["individuals"]
    if not any(p.get("value") is not None for p in chart["points"]):
        return None
    gates = (charts.get("gates") or {}).get("agreement", [])
    metric = _METRIC_NAMES.get(str(charts.get("metric")), str(charts.get("metric", "value")))
    out = list(monitor.get("out_of_control", []))
    return _control_chart(chart, charts, out, gates, f"{metric} per batch", "series-agreement")


def _gold_chart(charts: Mapping[str, Any]) -> Figure | None:
    chart = charts.get("gold")
    if not chart:
        return None
    gates = (charts.get("gates") or {}).get("gold", [])
    out = list(chart.get("out_of_control", []))
    ylabel = "gold error rate (share of gold answers)"
    return _control_chart(chart, charts, out, gates, ylabel, "series-gold")


def _meanings(report: Mapping[str, Any]) -> dict[str, str]:
    """Category meanings (code -> text) when the report or its config declares them."""
    found = (report.get("confusions") or {}).get("meanings")
    if not isinstance(found, Mapping):
        config = (report.get("provenance") or {}).get("config") or {}
        found = config.get("categories") if isinstance(config, Mapping) else None
    if not isinstance(found, Mapping):
        return {}
    return {str(code): str(meaning) for code, meaning in found.items()}


def _heatmap_labels(confusions: Mapping[str, Any]) -> list[str]:
    """Categories in their declared order (the report's ``categories``), then any other
    label of a pair; numeric codes otherwise in numeric order."""
    pairs = confusions.get("pairs") or []
    seen = [str(p[side]) for p in pairs for side in ("label_a", "label_b")]
    declared = [str(c) for c in confusions.get("categories") or []]
    rest = sorted(set(seen) - set(declared), key=_natural)
    wanted = set(seen)
    return [c for c in declared if c in wanted or len(declared) <= _MAX_HEATMAP] + rest


def _natural(label: str) -> tuple[int, float, str]:
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label)


def _heatmap(confusions: Mapping[str, Any], meanings: Mapping[str, str]) -> Figure | None:
    """Symmetric matrix of disagreement counts between category pairs (zero-based scale)."""
    pairs = confusions.get("pairs") or []
    if not pairs:
        return None
    import numpy as np

    labels = _heatmap_labels(confusions)[:_MAX_HEATMAP]
    index = {label: i for i, label in enumerate(labels)}
    matrix = np.zeros((len(labels), len(labels)))
    for pair in pairs:
        a, b = index.get(str(pair["label_a"])), index.get(str(pair["label_b"]))
        if a is not None and b is not None:
            matrix[a, b] = matrix[b, a] = pair["count"]
    side = min(7.0, 3.0 + 0.35 * len(labels))
    figure = new_figure(height_in=side, width_in=side + 1.4)
    axes = figure.add_subplot()
    shown = np.ma.masked_where(np.eye(len(labels), dtype=bool), matrix)
    top = max(1.0, float(matrix.max()))
    mesh = axes.pcolormesh(shown, cmap="Reds", vmin=0.0, vmax=top)
    mesh.set_edgecolor("white")
    axes.set_facecolor("#e8e8e8")  # the diagonal: agreement, not a confusion
    figure.colorbar(mesh, ax=axes, label="disagreeing annotator pairs")
    ticks = [i + 0.5 for i in range(len(labels))]
    names = [category_label(c, meanings) for c in labels]
    key = set_labels(axes, "x", ticks, names, rotation=45, ha="right", fontsize=8)
    set_labels(axes, "y", ticks, names, fontsize=8)
    add_key(figure, key)
    axes.set_xlabel("annotator A label")
    axes.set_ylabel("annotator B label")
    axes.invert_yaxis()
    axes.set_aspect("equal")
    if len(labels) <= 12:
        for (i, j), value in np.ndenumerate(matrix):
            if i != j:
                color = text_color(mesh.cmap(float(value) / top))
                axes.text(j + 0.5, i + 0.5, f"{int(value)}", ha="center", va="center",
                          fontsize=7, color=color)  # fmt: skip
    return figure


def _oc_chart(review: Mapping[str, Any] | None) -> Figure | None:
    """P(accept) of the plan (n, c) against the lot error rate, with the reviewed batch's
    estimated error rate and its 95% CI marked."""
    if not review or not review.get("oc_curve"):
        return None
    curve = review["oc_curve"]
    plan = review["plan"]
    figure = new_figure(height_in=3.4)
    axes = figure.add_subplot()
    p = [point["p"] for point in curve]
    axes.plot(p, [point["p_accept"] for point in curve], "-", color=_VALUE, lw=1.6,
              label=f"plan n = {plan['n']}, c = {plan['c']}")  # fmt: skip
    low, high = review["ci95"]
    axes.axvspan(low, high, color=_JUDGED, zorder=0, label="95% CI of the batch's error rate")
    axes.axvline(review["error_rate"], color=_GATE, linestyle=":", lw=1.2,
                 label=f"{chart_label(review['batch'], 40)}: estimated error rate "
                 f"{review['error_rate']:.3f} ({review['decision']})")  # fmt: skip
    axes.set_xlim(0.0, max(p))
    axes.set_ylim(0.0, 1.02)
    axes.set_xlabel("share of wrong annotations in the batch", fontsize=8)
    axes.set_ylabel("probability of accepting the batch", fontsize=8)
    axes.set_title(
        f"Accept when at most {plan['c']} of {plan['n']} reviewed annotations are wrong "
        f"(lot of {review['batch_size']:,}).",
        fontsize=7.5,
        loc="left",
    )
    outside_legend(figure, axes, ncols=2)
    return figure
