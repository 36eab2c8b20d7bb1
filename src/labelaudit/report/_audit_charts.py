"""Charts of the preference and judge audits: Bradley-Terry ratings, position and length bias.

Pure functions of the JSON-ready dicts of :mod:`labelaudit.preferences` (the judge audit
reuses them): each returns one inline ``<svg>`` as text, drawn in the shared style by
:func:`labelaudit.report._charts.draw_charts` (so it passes ``is_inert_svg``), or None when
the dict holds nothing to draw. Model, annotator and judge names reach the SVG only as
matplotlib text, which the SVG backend escapes; labels wrap, never cut. Every chart has
an axis title on both axes and its legend outside the data area.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from labelaudit.report._charts import (
    Chart,
    add_key,
    draw_charts,
    new_figure,
    outside_legend,
    rows_height,
    set_labels,
)
from labelaudit.report._format import as_float

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["audit_charts", "bradley_terry_chart", "length_bias_chart", "position_bias_chart"]

#: Rows of a per-annotator chart (the annotators with the most decisive votes).
MAX_ROWS = 40
_COLORS = ("#1f3b73", "#d35400", "#2e8b57", "#8e44ad", "#7f8c8d", "#b8860b")
_FLAG = "#c0392b"
_POOLED = "all votes (pooled)"


def _data(source: Any) -> Mapping[str, Any] | None:
    """The dict of a result object (``to_dict()``) or the dict itself."""
    if source is None:
        return None
    if hasattr(source, "to_dict"):
        source = source.to_dict()
    return source if isinstance(source, Mapping) else None


def _svg(key: str, caption: str, draw: Callable[[], Figure | None]) -> str | None:
    charts = draw_charts([(key, caption, draw)], "labelaudit-audit")
    return charts[0].svg if charts else None


def _interval(ci: Any) -> tuple[float, float] | None:
    if not isinstance(ci, Sequence) or isinstance(ci, str) or len(ci) != 2:
        return None
    low, high = as_float(ci[0]), as_float(ci[1])
    return None if low is None or high is None else (low, high)


def _dot_ci(
    axes: Axes, y: float, value: float, ci: Any, color: str, label: str | None = None
) -> None:
    """A dot with its 95% interval as a horizontal line."""
    bounds = _interval(ci)
    if bounds is not None:
        axes.hlines(y, bounds[0], bounds[1], color=color, linewidth=2, alpha=0.8)
    axes.plot([value], [y], "o", color=color, markersize=5, label=label)


# ----------------------------------------------------------------------- Bradley-Terry
def bradley_terry_chart(ratings: Any) -> str | None:
    """Bradley-Terry (Elo-scale) ratings per model with 95% bootstrap intervals.

    Parameters
    ----------
    ratings : Mapping or result object
        The audit's ``bradley_terry`` section, ``{"groups": [{"raters", "models":
        [{"model", "rating", "ci95", ...}], ...}], "rank_agreement"}``, or one group.

    Returns
    -------
    str or None
        One ``<svg>``: a row per model (ordered by the first group's rating), one dot and
        interval per rater group (humans pooled, each judge); None without ratings.
    """
    data = _data(ratings)
    if data is None:
        return None
    groups = data.get("groups") if "groups" in data else [data]
    groups = [g for g in groups or [] if isinstance(g, Mapping) and g.get("models")]
    if not groups:
        return None
    return _svg("bradley-terry", "Bradley-Terry ratings", lambda: _bt_figure(groups))


def _bt_figure(groups: Sequence[Mapping[str, Any]]) -> Figure:
    models = list(dict.fromkeys(str(m["model"]) for g in groups for m in g["models"]))
    models = models[:MAX_ROWS]
    row = {name: i for i, name in enumerate(models)}
    figure = new_figure(height_in=rows_height(models) + 0.6)
    axes = figure.add_subplot()
    width = 0.6 / max(1, len(groups))
    for g, group in enumerate(groups):
        color = _COLORS[g % len(_COLORS)]
        offset = (g - (len(groups) - 1) / 2) * width
        label = f"{group.get('raters')} ({group.get('n_votes')} votes)"
        for m, entry in enumerate(e for e in group["models"] if str(e["model"]) in row):
            value = as_float(entry.get("rating"))
            if value is not None:
                y = row[str(entry["model"])] + offset
                _dot_ci(axes, y, value, entry.get("ci95"), color, label if m == 0 else None)
    add_key(figure, set_labels(axes, "y", range(len(models)), models))
    axes.set_ylim(len(models) - 0.5, -0.5)
    axes.axvline(1000.0, color="#999999", linewidth=0.8, linestyle=":", label="1000 (mean)")
    axes.grid(axis="x", color="#e5e5e5")
    axes.set_xlabel("rating (Elo scale; dot = estimate, line = 95% bootstrap interval)")
    axes.set_ylabel("model")
    outside_legend(figure, axes, ncols=2)
    return figure


# ----------------------------------------------------------------------- position bias
def position_bias_chart(position: Any) -> str | None:
    """First-slot win rate per annotator or judge with 95% Wilson intervals.

    Parameters
    ----------
    position : Mapping or PositionBias
        The audit's ``position_bias`` section: ``{"overall", "by_annotator": [{"annotator",
        "kind", "n", "first_slot_rate", "ci95", "flag"}], ...}``.

    Returns
    -------
    str or None
        One ``<svg>``: the pooled rate on top, then each annotator (flagged ones in red;
        the 40 with most decisive votes), and the no-bias line at 0.5.
    """
    data = _data(position)
    if data is None:
        return None
    rows = _rate_rows(data, "first_slot_rate")
    if not rows:
        return None
    return _svg(
        "position-bias",
        "Position bias",
        lambda: _rate_figure(rows, "first slot won (share of decisive verdicts, 95% CI)"),
    )


def _rate_rows(data: Mapping[str, Any], rate: str) -> list[tuple[str, float, Any, bool]]:
    """(label, rate, ci95, flagged) for the pooled rate and each annotator with one."""
    overall = data.get("overall", data)
    rows = []
    pooled = as_float(overall.get(rate)) if isinstance(overall, Mapping) else None
    if pooled is not None:
        rows.append((_POOLED, pooled, overall.get("ci95"), bool(overall.get("flag"))))
    people = [r for r in data.get("by_annotator") or [] if as_float(r.get(rate)) is not None]
    people.sort(key=lambda r: -int(r.get("n") or 0))
    for r in people[:MAX_ROWS]:
        name = f"{r.get('annotator')} ({r.get('kind')})" if r.get("kind") else r.get("annotator")
        rows.append((str(name), float(r[rate]), r.get("ci95"), bool(r.get("flag"))))
    return rows


def _rate_figure(rows: Sequence[tuple[str, float, Any, bool]], xlabel: str) -> Figure:
    labels = [label for label, *_ in rows]
    figure = new_figure(height_in=rows_height(labels) + 0.5)
    axes = figure.add_subplot()
    seen: set[str] = set()
    for y, (label, value, ci, flag) in enumerate(rows):
        name = "flagged (p < α; per annotator Holm-adjusted)" if flag else "not flagged"
        color = _FLAG if flag else ("#555555" if label == _POOLED else _COLORS[0])
        _dot_ci(axes, y, value, ci, color, None if name in seen else name)
        seen.add(name)
    axes.axvline(0.5, color="#999999", linewidth=1, linestyle=":", label="no bias (0.5)")
    add_key(figure, set_labels(axes, "y", range(len(rows)), labels))
    axes.set_ylim(len(rows) - 0.5, -0.5)
    axes.set_xlim(0.0, 1.0)
    axes.grid(axis="x", color="#e5e5e5")
    axes.set_xlabel(xlabel)
    axes.set_ylabel("annotator or judge")
    outside_legend(figure, axes, ncols=3)
    return figure


# ------------------------------------------------------------------------- length bias
def length_bias_chart(length: Any) -> str | None:
    """The length-bias curve: P(prefer longer) per bin of the length difference.

    Parameters
    ----------
    length : Mapping or LengthBias
        The audit's ``length_bias`` section with ``by_length_difference`` bins
        (``{"min_chars", "max_chars", "n", "p_prefer_longer", "ci95"}``).

    Returns
    -------
    str or None
        One ``<svg>``: a dot and 95% Wilson interval per bin, the pooled rate as a band,
        the no-bias line at 0.5; None without bins.
    """
    data = _data(length)
    if data is None:
        return None
    bins = [b for b in data.get("by_length_difference") or [] if b.get("n")]
    if not bins:
        return None
    return _svg("length-bias", "Length bias", lambda: _length_figure(bins, data))


def _length_figure(bins: Sequence[Mapping[str, Any]], data: Mapping[str, Any]) -> Figure:
    figure = new_figure(height_in=3.4)
    axes = figure.add_subplot()
    x = list(range(len(bins)))
    pooled, band = as_float(data.get("p_prefer_longer")), _interval(data.get("ci95"))
    if pooled is not None:
        axes.axhline(pooled, color="#555555", linewidth=1, label=f"all votes: {pooled:.3f}")
    if band is not None:
        axes.axhspan(band[0], band[1], color="#dddddd", alpha=0.6, label="its 95% CI")
    values = [float(b["p_prefer_longer"]) for b in bins]
    for i, b in enumerate(bins):
        bounds = _interval(b.get("ci95"))
        if bounds is not None:
            axes.vlines(i, bounds[0], bounds[1], color=_COLORS[0], linewidth=2)
    axes.plot(x, values, "o-", color=_COLORS[0], markersize=5, label="per bin, 95% CI")
    axes.axhline(0.5, color="#999999", linestyle=":", linewidth=1, label="no bias (0.5)")
    names = [f"{b['min_chars']}–{b['max_chars']}\n(n = {b['n']})" for b in bins]
    axes.set_xticks(x, names, fontsize=7)
    axes.set_xlim(-0.5, len(bins) - 0.5)
    axes.set_ylim(0.0, 1.0)
    axes.set_xlabel("length difference between the two responses (characters)")
    axes.set_ylabel("P(longer response preferred)")
    axes.grid(axis="y", color="#e5e5e5")
    outside_legend(figure, axes, ncols=4)
    return figure


# ----------------------------------------------------------------------------- wiring
def audit_charts(report: Mapping[str, Any]) -> dict[str, Chart]:
    """The charts of a preference or judge audit dict, by its section key
    (``position-bias``, ``length-bias``, ``bradley-terry``); absent ones left out."""
    drawers = (
        ("position-bias", "Position bias", position_bias_chart, "position_bias"),
        ("length-bias", "Length bias", length_bias_chart, "length_bias"),
        ("bradley-terry", "Bradley-Terry ratings", bradley_terry_chart, "bradley_terry"),
    )
    out = {}
    for key, caption, draw, field in drawers:
        svg = draw(report.get(field))
        if svg is not None:
            out[key] = Chart(key=key, title=caption, svg=svg)
    return out
