"""Inline SVG charts of the agreement report, drawn with matplotlib (imported lazily).

Charts plot numbers the report dict already holds. User strings (categories, annotator
names) reach the SVG only as matplotlib text, which the SVG backend escapes; every chart is
also checked by :func:`is_inert_svg` before it is embedded, and dropped if the check fails.
Labels are never cut: they wrap (:func:`chart_label`), and a label too long to wrap into
three lines is abbreviated with a numbered key printed under the chart (:func:`fit_labels`).
"""

from __future__ import annotations

import io
import logging
import math
import re
import textwrap
import unicodedata
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from labelaudit.report._format import DASH, as_float, text
from labelaudit.report._metrics import flat_metrics, metric_label, metric_names

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "MAX_HEATMAP_ANNOTATORS",
    "Chart",
    "add_key",
    "chart_label",
    "draw_charts",
    "fit_labels",
    "is_inert_svg",
    "label_values",
    "new_figure",
    "outside_legend",
    "render_charts",
    "rows_height",
    "set_labels",
    "text_color",
]

logger = logging.getLogger(__name__)

MAX_HEATMAP_ANNOTATORS = 40
MAX_CATEGORY_BARS = 40
_LABEL_CHARS = 28
_LABEL_LINES = 3
_WIDTH_IN = 7.0
_QUIET = (r"Glyph .* missing from font", r"Matplotlib currently does not support")
_STYLE: dict[Any, Any] = {  # matplotlib types rcParams keys as literals
    "svg.fonttype": "none",
    "text.parse_math": False,
    "font.family": "sans-serif",
    "font.size": 9.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
_FORBIDDEN_TAGS = frozenset({"script", "foreignobject", "iframe", "object", "embed", "a"})
_SAFE_HREF = ("#", "data:image/png;base64,")


@dataclass(frozen=True)
class Chart:
    """One rendered chart: a stable key, a caption and the inline ``<svg>`` markup."""

    key: str
    title: str
    svg: str


def _clean(value: Any) -> str:
    """User text without control or bidi-override characters (they would garble the SVG)."""
    raw = "".join(" " if unicodedata.category(ch) in {"Cc", "Cs"} else ch for ch in text(value))
    return _BIDI_CONTROLS.sub("", raw)


def chart_label(value: Any, width: int = _LABEL_CHARS) -> str:
    """User text made fit for a tick label: no control characters, wrapped onto lines of at
    most ``width`` characters (at spaces, so ``"a · b · c"`` breaks between parts), never cut."""
    raw = _clean(value)
    if len(raw) <= width:
        return raw
    return "\n".join(textwrap.wrap(raw, width, break_on_hyphens=False)) or raw


def fit_labels(
    values: Sequence[Any], width: int = _LABEL_CHARS, max_lines: int = _LABEL_LINES
) -> tuple[list[str], list[str]]:
    """Tick labels that are never truncated, and the key of the abbreviated ones.

    Parameters
    ----------
    values : sequence
        The labels (user text).
    width, max_lines : int
        A label that wraps onto at most ``max_lines`` lines of ``width`` characters is
        shown wrapped; a longer one is shown as its first line and a key ``[k]``.

    Returns
    -------
    shown : list of str
        One tick label per value.
    key : list of str
        ``"[k] full label"`` for each abbreviated label (print it with :func:`add_key`).
    """
    shown: list[str] = []
    key: list[str] = []
    for value in values:
        label = chart_label(value, width)
        lines = label.split("\n")
        if len(lines) <= max_lines:
            shown.append(label)
            continue
        key.append(f"[{len(key) + 1}] {_clean(value)}")
        shown.append(f"{lines[0]} … [{len(key)}]")
    return shown, key


def add_key(figure: Figure, key: Sequence[str]) -> None:
    """Print the key of abbreviated labels under the chart, wrapped to its width."""
    if not key:
        return
    width_chars = int(figure.get_figwidth() * 15)
    lines = [part for entry in key for part in textwrap.wrap(entry, width_chars)]
    figure.supxlabel("\n".join(lines), fontsize=7, ha="left", x=0.01)


def text_color(rgba: Any) -> str:
    """Black or white, whichever contrasts more with a cell of colour ``rgba`` (WCAG
    relative luminance: white text below 0.179, the point of equal contrast)."""
    channels = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgba[:3]]
    luminance = 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]
    return "black" if luminance > 0.179 else "white"


def outside_legend(figure: Figure, axes: Axes, ncols: int = 3) -> None:
    """The axes' legend below the plot, outside the data area (constrained layout)."""
    handles, labels = axes.get_legend_handles_labels()
    if handles:
        figure.legend(
            handles, labels, loc="outside lower center", ncols=ncols, frameon=False, fontsize=7
        )


def label_values(
    axes: Axes, marks: Sequence[tuple[float, str, str]], min_gap: float = 0.075
) -> None:
    """Write each ``(y, "NAME value", colour)`` at the right edge of the axes, outside the
    data, level with its line; lines at one value and colour share a label, and labels
    closer than ``min_gap`` (axes fraction) are spread apart. Call after the y limits are
    final."""
    low, high = axes.get_ylim()
    span = (high - low) or 1.0
    merged: dict[tuple[float, str], list[str]] = {}
    for y, label, color in marks:  # lines at one value share one label: "UCL, LCL 0.000"
        name, _, shown = label.rpartition(" ")
        merged.setdefault((round(y, 12), color), []).append(name or label)
        merged[(round(y, 12), color)].append(shown)
    marks = [(y, ", ".join(parts[0::2]) + " " + parts[1], c) for (y, c), parts in merged.items()]
    placed = sorted(((y - low) / span, y, label, color) for y, label, color in marks)
    positions: list[float] = []
    for fraction, *_ in placed:
        positions.append(max(fraction, positions[-1] + min_gap) if positions else fraction)
    overflow = max(0.0, (positions[-1] if positions else 0.0) - 1.0)
    for position, (_, y, label, color) in zip(positions, placed, strict=True):
        axes.annotate(
            label,
            xy=(1.0, (y - low) / span),
            xycoords="axes fraction",
            xytext=(1.015, position - overflow),
            textcoords="axes fraction",
            va="center",
            fontsize=7,
            color=color,
            arrowprops={"arrowstyle": "-", "color": color, "linewidth": 0.5},
            annotation_clip=False,
        )


def is_inert_svg(svg: str) -> bool:
    """Whether an SVG document can carry no script, event handler or external reference.

    Parameters
    ----------
    svg : str
        An ``<svg>`` element as text.

    Returns
    -------
    bool
        ``False`` when it does not parse, holds a ``script``/``foreignObject``/``a``-like
        element, an ``on*`` attribute, an ``href`` other than a fragment or an inline PNG,
        or a CSS ``url(...)`` other than a fragment.
    """
    try:
        root = ET.fromstring(svg)
    except ET.ParseError:
        return False
    for element in root.iter():
        if element.tag.rsplit("}", 1)[-1].lower() in _FORBIDDEN_TAGS:
            return False
        for name, value in element.attrib.items():
            local = name.rsplit("}", 1)[-1].lower()
            if local.startswith("on"):
                return False
            if local == "href" and not value.startswith(_SAFE_HREF):
                return False
            if re.search(r"url\(\s*(?!['\"]?#)", value, flags=re.IGNORECASE):
                return False
    return True


def render_charts(report: Mapping[str, Any]) -> list[Chart]:
    """Draw every chart the report has data for.

    Parameters
    ----------
    report : Mapping
        The agreement report dict.

    Returns
    -------
    list of Chart
        Coefficients with CIs, per-category specific agreement and the pairwise Cohen's κ
        heatmap (skipped above 40 annotators), each as inline SVG.
    """
    drawers = (
        ("coefficients", "Coefficients with 95% confidence intervals", _coefficient_chart),
        ("categories", "Specific agreement per category", _category_chart),
        ("pairwise", "Pairwise Cohen's κ between annotators", _heatmap_chart),
    )
    return draw_charts(
        [(key, caption, partial(draw, report)) for key, caption, draw in drawers], "labelaudit"
    )


def draw_charts(
    drawers: Sequence[tuple[str, str, Callable[[], Figure | None]]], salt: str
) -> list[Chart]:
    """Draw each ``(key, caption, draw)`` in the reports' shared style, as inline SVG.

    ``draw`` returns a figure, or None when the report has no data for the chart (then it
    is skipped). Each SVG gets the hash salt ``f"{salt}-{key}"`` (stable ids) and must
    pass :func:`is_inert_svg`, else it is dropped with a warning. Matplotlib's glyph and
    math warnings about user text are silenced.
    """
    import matplotlib as mpl

    charts = []
    with mpl.rc_context(_STYLE), warnings.catch_warnings():
        for message in _QUIET:
            warnings.filterwarnings("ignore", message=message, category=UserWarning)
        for key, caption, draw in drawers:
            figure = draw()
            if figure is None:
                continue
            svg = _to_svg(figure, salt=f"{salt}-{key}")
            if is_inert_svg(svg):
                charts.append(Chart(key=key, title=caption, svg=svg))
            else:
                logger.warning("chart %r dropped: its SVG failed the safety check", key)
    return charts


def new_figure(height_in: float, width_in: float = _WIDTH_IN) -> Figure:
    """A new figure on an Agg canvas (no pyplot, no global state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width_in, height_in), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _to_svg(figure: Figure, salt: str) -> str:
    """The figure as a bare ``<svg>`` element (no XML prolog, no date: reproducible)."""
    import matplotlib as mpl

    buffer = io.StringIO()
    with mpl.rc_context({"svg.hashsalt": salt}):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    svg = buffer.getvalue()
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, count=1, flags=re.DOTALL)
    return svg[svg.index("<svg") :].strip()


def set_labels(
    axes: Axes, axis: str, positions: Sequence[float], labels: Sequence[Any], **options: Any
) -> list[str]:
    """Tick labels from user text (wrapped, never cut; mathtext off, so ``$`` stays
    literal); returns the key of abbreviated labels, for :func:`add_key`."""
    shown, key = fit_labels(labels)
    setter = axes.set_yticks if axis == "y" else axes.set_xticks
    setter(list(positions), shown, parse_math=False, **options)
    return key


def rows_height(labels: Sequence[Any], base: float = 0.9, per_line: float = 0.16) -> float:
    """Figure height (inches) for one row per label, each as tall as its wrapped label."""
    shown, _ = fit_labels(labels)
    return base + sum(0.18 + per_line * (label.count("\n") + 1) for label in shown)


def _coefficient_points(report: Mapping[str, Any]) -> list[tuple[str, float, Any]]:
    """(label, value, ci95) of every defined coefficient, ICC forms last."""
    metrics = flat_metrics(report.get("metrics"))
    if not isinstance(metrics, Mapping):
        return []
    names = metric_names(metrics)
    entries = [(metric_label(n, report), metrics[n]) for n in names]
    forms = metrics.get("icc", {}).get("forms") if isinstance(metrics.get("icc"), Mapping) else None
    if isinstance(forms, Mapping):
        entries += [(str(form), values) for form, values in forms.items()]
    return [
        (label, value, entry.get("ci95"))
        for label, entry in entries
        if isinstance(entry, Mapping) and (value := as_float(entry.get("value"))) is not None
    ]


def _undefined_count(report: Mapping[str, Any]) -> int:
    """How many coefficients (ICC forms included) have no value."""
    metrics = flat_metrics(report.get("metrics"))
    if not isinstance(metrics, Mapping):
        return 0
    entries = [m for n, m in metrics.items() if n != "icc"]
    icc = metrics.get("icc")
    if isinstance(icc, Mapping) and isinstance(icc.get("forms"), Mapping):
        entries += list(icc["forms"].values())
    return sum(isinstance(e, Mapping) and as_float(e.get("value")) is None for e in entries)


def _ci_bounds(ci: Any, value: float) -> tuple[float, float] | None:
    """Finite (lo, hi) of a CI that contains ``value``, else ``None``."""
    if not isinstance(ci, Sequence) or isinstance(ci, str) or len(ci) != 2:
        return None
    lo, hi = as_float(ci[0]), as_float(ci[1])
    if lo is None or hi is None:
        return None
    return min(lo, value), max(hi, value)


def _coefficient_chart(report: Mapping[str, Any]) -> Figure | None:
    """Dot-and-whisker plot of the coefficients with their 95% CIs."""
    points = _coefficient_points(report)
    if not points:
        return None
    figure = new_figure(height_in=rows_height([label for label, _, _ in points]))
    axes = figure.add_subplot()
    lows = []
    for row, (_, value, ci) in enumerate(points):
        bounds = _ci_bounds(ci, value)
        if bounds is not None:
            axes.hlines(row, bounds[0], bounds[1], color="#4c72b0", linewidth=2)
            lows.append(bounds[0])
        axes.plot([value], [row], "o", color="#1f3b73", markersize=6)
    axes.axvline(0.0, color="#999999", linewidth=0.8)
    axes.set_xlim(min(0.0, *lows, *(v for _, v, _ in points)) - 0.05, 1.02)
    add_key(figure, set_labels(axes, "y", range(len(points)), [label for label, _, _ in points]))
    axes.set_ylim(len(points) - 0.5, -0.5)
    skipped = _undefined_count(report)
    note = f"; {skipped} undefined, not plotted" if skipped else ""
    axes.set_xlabel(f"coefficient value (dot) and 95% CI (line){note}")
    axes.set_ylabel("coefficient")
    axes.grid(axis="x", color="#e5e5e5")
    return figure


def _category_chart(report: Mapping[str, Any]) -> Figure | None:
    """Horizontal bars of the specific agreement of each category (first 40)."""
    rows = report.get("per_category")
    if not isinstance(rows, Sequence) or isinstance(rows, str) or not rows:
        return None
    shown = [row for row in rows if isinstance(row, Mapping)][:MAX_CATEGORY_BARS]
    values = [as_float(row.get("specific_agreement")) for row in shown]
    names = [row.get("category") for row in shown]
    figure = new_figure(height_in=rows_height(names, per_line=0.14))
    axes = figure.add_subplot()
    positions = range(len(shown))
    axes.barh(positions, [v if v is not None else 0.0 for v in values], color="#55a868")
    for row, value in zip(positions, values, strict=True):
        label = DASH if value is None else f"{value:.3f}"
        axes.text((value or 0.0) + 0.01, row, label, va="center", fontsize=8)
    add_key(figure, set_labels(axes, "y", positions, names))
    axes.set_xlim(0.0, 1.12)
    axes.set_ylim(len(shown) - 0.5, -0.5)
    note = f" (first {MAX_CATEGORY_BARS} of {len(rows)})" if len(rows) > len(shown) else ""
    axes.set_xlabel("specific agreement" + note)
    axes.set_ylabel("category")
    return figure


def _kappa_matrix(report: Mapping[str, Any]) -> tuple[list[str], list[list[float]]] | None:
    """Annotators in order of appearance and the symmetric matrix of pairwise κ (NaN = none)."""
    rows = report.get("pairwise")
    if not isinstance(rows, Sequence) or isinstance(rows, str):
        return None
    pairs = [row for row in rows if isinstance(row, Mapping)]
    names = list(dict.fromkeys(str(row.get(side)) for row in pairs for side in ("a", "b")))
    if not 2 <= len(names) <= MAX_HEATMAP_ANNOTATORS:
        return None
    index = {name: i for i, name in enumerate(names)}
    matrix = [[math.nan] * len(names) for _ in names]
    for row in pairs:
        kappa = as_float(row.get("cohen_kappa"))
        i, j = index[str(row.get("a"))], index[str(row.get("b"))]
        matrix[i][j] = matrix[j][i] = math.nan if kappa is None else kappa
    return names, matrix


def _heatmap_chart(report: Mapping[str, Any]) -> Figure | None:
    """Heatmap of pairwise Cohen's κ; cells annotated up to 12 annotators."""
    found = _kappa_matrix(report)
    if found is None:
        return None
    import numpy as np

    names, matrix = found
    data = np.ma.masked_invalid(np.array(matrix, dtype=float))
    if not data.count():
        return None  # no pair has a defined κ: nothing to draw
    side = min(_WIDTH_IN, 2.4 + 0.3 * len(names))
    figure = new_figure(height_in=side, width_in=side + 1.2)
    axes = figure.add_subplot()
    low = min(0.0, float(data.min()))
    mesh = axes.pcolormesh(data, cmap="viridis", vmin=low, vmax=1.0, edgecolors="white")
    axes.set_facecolor("#eeeeee")
    figure.colorbar(mesh, ax=axes, label="Cohen's κ")
    ticks = [i + 0.5 for i in range(len(names))]
    size = 8 if len(names) <= 20 else 6
    key = set_labels(axes, "x", ticks, names, fontsize=size, rotation=45, ha="right")
    set_labels(axes, "y", ticks, names, fontsize=size)
    add_key(figure, key)
    axes.set_xlabel("annotator")
    axes.set_ylabel("annotator")
    axes.invert_yaxis()
    axes.set_aspect("equal")
    if len(names) <= 12:
        for (i, j), value in np.ndenumerate(data.filled(np.nan)):
            if not math.isnan(value):
                color = text_color(mesh.cmap(mesh.norm(value)))
                axes.text(
                    j + 0.5,
                    i + 0.5,
                    f"{value:.2f}",
                    ha="center",
                    va="center",
                    color=color,
                    fontsize=7,
                )
    return figure
