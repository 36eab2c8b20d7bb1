"""Inline SVG charts of the pipeline report (matplotlib, imported lazily).

They plot numbers the report dict already holds: the agreement individuals chart with its
control limits, the gold error p-chart, and the heat map of confused label pairs. The
figure, SVG export, label cleaning and safety check are those of the agreement report
(:mod:`labelaudit.report.charts`); a chart whose SVG fails :func:`is_inert_svg` is dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from labelaudit.report.charts import Chart, chart_label, draw_charts
from labelaudit.report.charts import new_figure as _figure

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["render_pipeline_charts"]


_MAX_TICKS = 25
_MAX_HEATMAP = 20


def render_pipeline_charts(report: Mapping[str, Any]) -> dict[str, Chart]:
    """Every chart the report has data for, by key (``agreement``, ``gold``, ``confusions``).

    Parameters
    ----------
    report : Mapping
        The pipeline report dict.

    Returns
    -------
    dict of str to Chart
    """
    charts = report.get("charts", {})
    drawers: tuple[tuple[str, str, Callable[[], Figure | None]], ...] = (
        (
            "agreement",
            f"{charts.get('metric', 'agreement')} per batch with control limits",
            lambda: _control_chart(charts.get("agreement"), charts, "individuals"),
        ),
        (
            "gold",
            "Gold error rate per batch (p-chart)",
            lambda: _p_chart(charts.get("gold"), charts),
        ),
        (
            "confusions",
            "Most confused label pairs (count of disagreeing annotator pairs)",
            lambda: _heatmap(report.get("confusions", {})),
        ),
    )
    charts_drawn = draw_charts(drawers, "labelaudit-pipeline")
    return {chart.key: chart for chart in charts_drawn}


def _nums(values: Sequence[Any]) -> list[float]:
    return [float("nan") if v is None else float(v) for v in values]


def _batch_axis(axes: Axes, points: Sequence[Mapping[str, Any]], charts: Mapping[str, Any]) -> None:
    """Batch names as x ticks (thinned beyond 25), the report's scope shaded."""
    n = len(points)
    step = max(1, -(-n // _MAX_TICKS))
    ticks = list(range(0, n, step))
    labels = [chart_label(points[i].get("label")) for i in ticks]
    axes.set_xticks(ticks, labels, parse_math=False, rotation=45, ha="right", fontsize=7)
    scope = [i for i in charts.get("in_scope", []) if i < n]
    if scope and len(scope) < n:
        axes.axvspan(min(scope) - 0.5, max(scope) + 0.5, color="#f0f4fa", zorder=0)
    axes.set_xlim(-0.5, n - 0.5)


def _limits(axes: Axes, x: list[int], points: Sequence[Mapping[str, Any]]) -> None:
    for key, style in (("center", "-"), ("lcl", "--"), ("ucl", "--")):
        axes.step(
            x,
            _nums([p.get(key) for p in points]),
            where="mid",
            linestyle=style,
            color="#888888",
            linewidth=1,
            label={"center": "center", "lcl": "control limits"}.get(key),
        )


def _control_chart(
    monitor: Mapping[str, Any] | None, charts: Mapping[str, Any], which: str
) -> Figure | None:
    """Values, center line, 3-sigma limits; out-of-control points (any chart) in red."""
    if not monitor:
        return None
    chart = monitor["charts"][which]
    points = chart["points"]
    if not any(p.get("value") is not None for p in points):
        return None
    figure = _figure(height_in=3.2)
    axes = figure.add_subplot()
    out = set(monitor.get("out_of_control", []))
    _series(axes, points, [i for i in range(len(points)) if i in out], "value")
    threshold = charts.get("threshold")
    if threshold is not None:
        axes.axhline(threshold, color="#c0392b", linestyle=":", linewidth=1, label="gate")
    _batch_axis(axes, points, charts)
    note = " (provisional limits)" if chart.get("provisional") else ""
    axes.set_ylabel(f"{charts.get('metric', 'value')}{note}", fontsize=8)
    axes.legend(fontsize=7, loc="lower left", frameon=False)
    return figure


def _series(axes: Any, points: list[Mapping[str, Any]], bad: list[int], label: str) -> None:
    """One control chart's values, its limits, and its out-of-control points in red."""
    x = list(range(len(points)))
    axes.plot(
        x, _nums([p["value"] for p in points]), "o-", color="#1f3b73", markersize=4, label=label
    )
    _limits(axes, x, points)
    if bad:
        axes.plot(
            bad,
            [points[i]["value"] for i in bad],
            "o",
            color="#c0392b",
            markersize=8,
            label="out of control",
        )


def _p_chart(chart: Mapping[str, Any] | None, charts: Mapping[str, Any]) -> Figure | None:
    if not chart:
        return None
    points = chart["points"]
    figure = _figure(height_in=3.0)
    axes = figure.add_subplot()
    _series(axes, points, list(chart.get("out_of_control", [])), "p")
    _batch_axis(axes, points, charts)
    axes.set_ylabel(
        "gold error rate" + (" (provisional)" if chart.get("provisional") else ""), fontsize=8
    )
    axes.legend(fontsize=7, loc="upper left", frameon=False)
    return figure


def _heatmap(confusions: Mapping[str, Any]) -> Figure | None:
    """Symmetric matrix of disagreement counts between the labels of the top pairs."""
    pairs = confusions.get("pairs") or []
    if not pairs:
        return None
    import numpy as np

    labels = list(dict.fromkeys(str(p[side]) for p in pairs for side in ("label_a", "label_b")))
    labels = labels[:_MAX_HEATMAP]
    index = {label: i for i, label in enumerate(labels)}
    matrix = np.zeros((len(labels), len(labels)))
    for pair in pairs:
        a, b = index.get(str(pair["label_a"])), index.get(str(pair["label_b"]))
        if a is not None and b is not None:
            matrix[a, b] = matrix[b, a] = pair["count"]
    side = min(7.0, 2.6 + 0.35 * len(labels))
    figure = _figure(height_in=side, width_in=side + 1.2)
    axes = figure.add_subplot()
    mesh = axes.pcolormesh(np.ma.masked_equal(matrix, 0), cmap="Reds", edgecolors="white")
    axes.set_facecolor("#f4f4f4")
    figure.colorbar(mesh, ax=axes, label="disagreeing pairs")
    ticks = [i + 0.5 for i in range(len(labels))]
    names = [chart_label(label) for label in labels]
    axes.set_xticks(ticks, names, parse_math=False, rotation=45, ha="right", fontsize=8)
    axes.set_yticks(ticks, names, parse_math=False, fontsize=8)
    axes.invert_yaxis()
    axes.set_aspect("equal")
    if len(labels) <= 12:
        for (i, j), value in np.ndenumerate(matrix):
            if value:
                axes.text(j + 0.5, i + 0.5, f"{int(value)}", ha="center", va="center", fontsize=7)
    return figure
