"""Charts that read right: limits, Phase II, gates, heat maps, labels, audit charts.

The SVGs are drawn by the real renderers from real results (the hostile pipeline project,
the bundled PandaLM preference votes); hand-built dicts are only used where a name must
be hostile or a label must be long.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import binomtest

from labelaudit.datasets import dataset_path
from labelaudit.pipeline_report import Scope, build_pipeline_report
from labelaudit.pipeline_report._charts import _heatmap, _heatmap_labels, render_pipeline_charts
from labelaudit.preferences import audit_preferences, read_preferences
from labelaudit.preferences.length import length_by_difference
from labelaudit.project import Project
from labelaudit.project.check import gate_failures
from labelaudit.project.config import Gate
from labelaudit.report.charts import (
    bradley_terry_chart,
    fit_labels,
    is_inert_svg,
    length_bias_chart,
    position_bias_chart,
    text_color,
)
from test_pipeline_report import SCRIPT, hostile  # noqa: F401  (module fixture)

HOSTILE = '<script>alert(1)</script> "q" {{7*7}}'
NER_LABEL = "span_f1 · exact · per_label · LOC"


def svg_text(svg: str) -> str:
    """Every text node of an SVG, joined (matplotlib writes one <text> per line)."""
    return " ".join(re.findall(r"<text[^>]*>(.*?)</text>", svg, flags=re.DOTALL))


# ----------------------------------------------------------------------- pipeline charts
@pytest.fixture(scope="module")
def pipeline(hostile: Project) -> dict[str, Any]:  # noqa: F811
    return build_pipeline_report(hostile, Scope(mode="all"))


def test_agreement_chart_states_phases_and_labels_limits(pipeline: dict[str, Any]) -> None:
    charts = pipeline["charts"]
    individuals = charts["agreement"]["charts"]["individuals"]
    judged = charts["judged"]
    assert judged == len(individuals["points"]) - 1
    assert individuals["points"][judged]["baseline"] is False  # Phase II
    assert all(p["ucl"] is None or p["ucl"] <= 1.0 for p in individuals["points"])
    svg = render_pipeline_charts(pipeline)["agreement"].svg
    assert is_inert_svg(svg)
    words = svg_text(svg)
    base = sum(p["baseline"] for p in individuals["points"])
    assert f"Phase I: limits from {base} baseline batches" in words
    assert "Phase II: &lt;b&gt;2024-w04&lt;/b&gt; judged against them." in words
    point = individuals["points"][judged]
    for name in ("UCL", "LCL"):
        assert f"{point[name.lower()]:.3f}" in words and name in words
    assert f"CL {point['center']:.3f}" in words or "CL, " in words
    assert "batch (in ingest order)" in words and "Krippendorff" in words  # axis titles
    assert "<b>" not in svg


def test_every_gate_failure_is_marked(pipeline: dict[str, Any]) -> None:
    gates = pipeline["charts"]["gates"]["agreement"]
    assert [g["metric"] for g in gates] == ["krippendorff_alpha"]
    points = pipeline["charts"]["agreement"]["charts"]["individuals"]["points"]
    expected = [i for i, p in enumerate(points) if p["value"] is None or p["value"] < 0.667]
    assert gates[0]["failures"] == expected and expected  # the noisy week fails
    words = svg_text(render_pipeline_charts(pipeline)["agreement"].svg)
    assert "fails the gate (&gt;= 0.667)" in words and "gate 0.667" in words


def test_gate_failures_follow_the_gate_rules() -> None:
    gate = Gate("krippendorff_alpha", ">=", 0.667)
    assert gate_failures(gate, [0.9, 0.667, 0.5, None]) == [2, 3]
    lenient = Gate("krippendorff_alpha", ">=", 0.667, allow_undefined=True)
    assert gate_failures(lenient, [0.9, None, 0.1]) == [2]
    assert gate_failures(Gate("gold_error_rate", "<", 0.1), [0.05, 0.1]) == [1]


def test_heatmap_zero_based_contrasting_titled_in_declared_order(
    pipeline: dict[str, Any],
) -> None:
    confusions = pipeline["confusions"]
    assert _heatmap_labels(confusions)[:3] == ["ok", SCRIPT, "bad"]  # declared order
    figure = _heatmap(confusions, {})
    assert figure is not None
    axes = figure.axes[0]
    mesh = axes.collections[0]
    assert mesh.norm.vmin == 0.0
    assert axes.get_xlabel() == "annotator A label" and axes.get_ylabel() == "annotator B label"
    colors = np.asarray(mesh.to_rgba(mesh.get_array())).reshape(-1, 4)
    assert axes.texts
    for label in axes.texts:
        row, col = int(label.get_position()[1]), int(label.get_position()[0])
        cell = colors[row * len(axes.get_xticks()) + col]
        assert label.get_color() == text_color(cell)
    darkest = max(axes.texts, key=lambda t: int(t.get_text()))
    assert darkest.get_color() == "white"  # not black on dark red
    svg = render_pipeline_charts(pipeline)["confusions"].svg
    assert "&lt;script&gt;" in svg and "<script" not in svg


def test_heatmap_numeric_codes_in_natural_order_with_meanings() -> None:
    pairs = [{"label_a": "1", "label_b": "2", "count": 5}, {"label_a": "0", "label_b": "1"}]
    pairs[1]["count"] = 3
    assert _heatmap_labels({"pairs": pairs}) == ["0", "1", "2"]
    figure = _heatmap({"pairs": pairs}, {"0": "tie", "1": "response 1"})
    assert figure is not None
    ticks = [t.get_text() for t in figure.axes[0].get_xticklabels()]
    assert ticks == ["0 (tie)", "1 (response\n1)", "2"] or ticks == [
        "0 (tie)",
        "1 (response 1)",
        "2",
    ]


def test_text_color_contrasts() -> None:
    assert text_color((0.4, 0.0, 0.05, 1.0)) == "white"  # dark red
    assert text_color((1.0, 0.96, 0.94, 1.0)) == "black"  # the palest red


# ------------------------------------------------------------------------------ labels
def test_labels_wrap_and_are_never_cut() -> None:
    shown, key = fit_labels([NER_LABEL, "short", "x" * 10 + " y" * 60])
    assert shown[0].replace("\n", " ") == NER_LABEL and "…" not in shown[0]
    assert shown[1] == "short"
    assert shown[2].endswith("[1]") and key == ["[1] " + "x" * 10 + " y" * 60]


# ------------------------------------------------------------------------ audit charts
@pytest.fixture(scope="module")
def pandalm() -> dict[str, Any]:
    table = read_preferences(dataset_path("pandalm"), format="pandalm")
    return audit_preferences(table, n_boot=50).to_dict()


def test_audit_charts_from_real_results(pandalm: dict[str, Any]) -> None:
    position = position_bias_chart(pandalm["position_bias"])
    length = length_bias_chart(pandalm["length_bias"])
    ratings = bradley_terry_chart(pandalm["bradley_terry"])
    titles = {
        "position": (position, "first slot won", "annotator or judge"),
        "length": (length, "length difference between the two responses", "P(longer"),
        "ratings": (ratings, "rating (Elo scale", "model"),
    }
    for svg, x_title, y_title in titles.values():
        assert svg is not None and is_inert_svg(svg)
        words = svg_text(svg)
        assert x_title in words and y_title in words
    assert position is not None and "all votes (pooled)" in svg_text(position)
    assert ratings is not None
    for model in pandalm["bradley_terry"]["groups"][0]["models"]:
        assert model["model"] in svg_text(ratings)
    bins = pandalm["length_bias"]["by_length_difference"]
    assert sum(b["n"] for b in bins) == pandalm["length_bias"]["n"]


def test_audit_charts_escape_hostile_names_and_never_cut_them() -> None:
    long_name = "a-very-long-model-name " * 5
    ratings = {
        "groups": [
            {"raters": HOSTILE, "n_votes": 9, "models": [
                {"model": HOSTILE, "rating": 1010.0, "ci95": [990.0, 1030.0]},
                {"model": long_name, "rating": 990.0, "ci95": None},
            ]},
        ]
    }  # fmt: skip
    position = {
        "overall": {"first_slot_rate": 0.6, "ci95": [0.5, 0.7], "flag": True},
        "by_annotator": [
            {"annotator": HOSTILE, "kind": "human", "n": 40, "first_slot_rate": 0.55,
             "ci95": [0.4, 0.7], "flag": False},
        ],
    }  # fmt: skip
    for svg in (bradley_terry_chart(ratings), position_bias_chart(position)):
        assert svg is not None and is_inert_svg(svg)
        assert "<script" not in svg and "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
        assert "&quot;q&quot;" in svg or "&#34;q&#34;" in svg or '"q"' in svg_text(svg)
        assert "{{7*7}}" in svg and "49" not in svg_text(svg)
    text = svg_text(bradley_terry_chart(ratings) or "")
    assert text.count("a-very-long-model-name") == 5  # wrapped or keyed, every word kept


def test_audit_charts_need_data() -> None:
    assert bradley_terry_chart({"groups": []}) is None
    assert position_bias_chart(None) is None
    assert length_bias_chart({"by_length_difference": []}) is None


# ------------------------------------------------------------------ length-bias curve
@given(
    st.lists(st.tuples(st.integers(1, 400), st.booleans()), min_size=1, max_size=200),
    st.integers(1, 6),
)
def test_length_curve_bins_match_brute_force(votes: list[tuple[int, bool]], bins: int) -> None:
    difference = np.array([d for d, _ in votes])
    won = np.array([w for _, w in votes])
    curve = length_by_difference(difference, won, bins=bins)
    assert sum(b["n"] for b in curve) == len(votes) and len(curve) <= bins
    previous = 0
    for entry in curve:
        inside = (difference >= entry["min_chars"]) & (difference <= entry["max_chars"])
        assert entry["min_chars"] > previous  # disjoint, increasing
        previous = entry["max_chars"]
        assert entry["n"] == int(inside.sum()) and entry["n_longer"] == int(won[inside].sum())
        assert entry["p_prefer_longer"] == pytest.approx(entry["n_longer"] / entry["n"])
        ci = binomtest(entry["n_longer"], entry["n"]).proportion_ci(method="wilson")
        assert entry["ci95"] == pytest.approx([ci.low, ci.high], abs=1e-9)
