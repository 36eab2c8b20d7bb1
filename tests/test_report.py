"""Report rendering: Markdown, HTML, Rich terminal output and the written files.

The sample report dicts below follow the agreement report contract; the renderers only
present them, so every number asserted here is one that the dict already holds.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from markupsafe import escape as html_escape
from rich.console import Console

from labelaudit.report import render_html, render_markdown, render_terminal, write_reports
from labelaudit.report._charts import is_inert_svg
from labelaudit.report._format import fmt_ci, fmt_count, fmt_p, fmt_value
from labelaudit.report._markdown import escape_markdown

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
AMP = "R&D"
PIPE = "left|right"
BOLD = "[bold]loud[/bold]"
EMOJI = ":warning:"
ESC = "\x1b[31mred"
DOLLAR = "$x^2$"
NEWLINE = "line1\nline2"
UNICODE = "Zoë 注釈者 👩‍🔬"
LONG = "long-" * 60

UNDEFINED_REASON = (
    "only one category was used: expected agreement is 1, so chance correction divides by zero"
)


def metric(
    value: float | None,
    se: float | None = None,
    ci95: list[float] | None = None,
    *,
    ci_method: str = "analytic",
    reason: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One coefficient entry as the library emits it."""
    return {
        "value": value,
        "se": se,
        "ci95": ci95,
        "ci_method": ci_method,
        "reason": reason,
        **extra,
    }


def base_report(annotators: list[str], categories: list[str]) -> dict[str, Any]:
    """Header fields shared by the samples."""
    return {
        "tool": {"name": "labelaudit", "version": "0.1.0"},
        "input": {"source": "testset-v1.json", "sha256": "ab12" * 16},
        "config": {
            "level": "nominal",
            "weights": "identity",
            "ci": "analytic",
            "n_boot": 1000,
            "seed": 0,
        },
        "n_items": 999,
        "n_annotators": len(annotators),
        "n_ratings": 999 * len(annotators),
        "level": "nominal",
        "weights": "identity",
        "categories": categories,
    }


def common_metrics() -> dict[str, dict[str, Any]]:
    """The coefficients reported for any number of annotators."""
    return {
        "percent_agreement": metric(0.9312, 0.0061, [0.9192, 0.9432]),
        "krippendorff_alpha": metric(0.8571, 0.0112, [0.8351, 0.8791]),
        "fleiss_kappa": metric(0.8566, 0.0113, [0.8345, 0.8787]),
        "gwet_ac": metric(0.8934, 0.0091, [0.8756, 0.9112], p_e=0.3512),
        "conger_kappa": metric(0.8569, 0.0113, [0.8348, 0.879]),
        "brennan_prediger": metric(0.8968, 0.0092, [0.8788, 0.9148]),
    }


def per_category(categories: list[str]) -> list[dict[str, Any]]:
    """Per-category rows with distinct, recognisable numbers."""
    return [
        {
            "category": category,
            "n": 1000 + 11 * i,
            "specific_agreement": round(0.95 - 0.07 * i, 4),
            "kappa_1vr": round(0.9 - 0.08 * i, 4),
            "alpha_1vr": round(0.9 - 0.08 * i, 4) + 0.0001,
        }
        for i, category in enumerate(categories)
    ]


def two_annotator_report() -> dict[str, Any]:
    """Two annotators: Cohen's κ (with se_h0, z, p) and Scott's π are present."""
    report = base_report(["annotator1", "annotator2"], ["0", "1", "2"])
    report["metrics"] = {
        **common_metrics(),
        "cohen_kappa": metric(0.8521, 0.0118, [0.8290, 0.8752], se_h0=0.0187, z=45.57, p=0.0),
        "scott_pi": metric(0.8519, 0.0118, [0.8288, 0.875]),
    }
    report["pairwise"] = [
        {
            "a": "annotator1",
            "b": "annotator2",
            "n_items": 999,
            "percent_agreement": 0.9312,
            "cohen_kappa": 0.8521,
        }
    ]
    report["per_category"] = per_category(["0", "1", "2"])
    report["confusions"] = [
        {"label_a": "1", "label_b": "2", "count": 40, "share": 0.5, "example_items": ["17", "42"]},
        {"label_a": "0", "label_b": "1", "count": 24, "share": 0.3, "example_items": ["3"]},
    ]
    report["top_disagreements"] = [
        {"item": "17", "n_ratings": 2, "observed_agreement": 0.0, "labels": {"1": 1, "2": 1}},
    ]
    return report


def three_annotator_report(
    annotators: tuple[str, str, str] = ("annotator1", "annotator2", "annotator3"),
    categories: tuple[str, ...] = ("0", "1", "2"),
    items: tuple[str, ...] = ("17", "42", "108"),
) -> dict[str, Any]:
    """Three annotators; names, categories and items can be replaced by hostile strings."""
    report = base_report(list(annotators), list(categories))
    report["n_ratings"] = 2997
    report["metrics"] = common_metrics()
    kappas = (0.8521, 0.8134, 0.7911)
    pairs = [(0, 1), (0, 2), (1, 2)]
    report["pairwise"] = [
        {
            "a": annotators[i],
            "b": annotators[j],
            "n_items": 999,
            "percent_agreement": round(kappa + 0.07, 4),
            "cohen_kappa": kappa,
        }
        for (i, j), kappa in zip(pairs, kappas, strict=True)
    ]
    report["per_category"] = per_category(list(categories))
    report["confusions"] = [
        {
            "label_a": categories[k],
            "label_b": categories[(k + 1) % len(categories)],
            "count": 40 - 5 * k,
            "share": round(0.5 / (k + 1), 4),
            "example_items": list(items),
        }
        for k in range(len(categories))
    ]
    report["top_disagreements"] = [
        {
            "item": item,
            "n_ratings": 3,
            "observed_agreement": 0.0,
            "labels": dict.fromkeys(categories[:3], 1),
        }
        for item in items
    ]
    return report


def hostile_report() -> dict[str, Any]:
    """Three annotators whose names, labels, item ids and file name are hostile."""
    report = three_annotator_report(
        annotators=(SCRIPT, IMG, BOLD),
        categories=(SCRIPT, AMP, PIPE, IMG, BOLD, EMOJI, DOLLAR, UNICODE, LONG),
        items=(SCRIPT, IMG, NEWLINE, ESC, EMOJI),
    )
    report["input"]["source"] = f"{SCRIPT}&{PIPE}.json"
    report["config"]["annotator_filter"] = IMG
    return report


def interval_report() -> dict[str, Any]:
    """Interval level with the six ICC forms."""
    report = three_annotator_report()
    report.update(level="interval", weights="quadratic")
    report["config"].update(level="interval", weights="quadratic")
    forms = ["ICC(1,1)", "ICC(2,1)", "ICC(3,1)", "ICC(1,k)", "ICC(2,k)", "ICC(3,k)"]
    report["metrics"]["icc"] = {
        "n_items_used": 20,
        "n_raters": 3,
        "reason": None,
        "forms": {
            form: {
                "value": 0.7121 + 0.02 * k,
                "F": 8.4312 + k,
                "df1": 19,
                "df2": 40 if k % 3 else 38,
                "p": 1.2e-07 if k else 0.0123,
                "ci95": [0.5012 + 0.02 * k, 0.8634 + 0.02 * k],
            }
            for k, form in enumerate(forms)
        },
    }
    return report


def undefined_report() -> dict[str, Any]:
    """Every rating in one category: chance-corrected coefficients are undefined."""
    report = three_annotator_report(categories=("only",))
    metrics = report["metrics"]
    for name in ("krippendorff_alpha", "fleiss_kappa", "conger_kappa"):
        metrics[name] = metric(None, ci_method="none", reason=UNDEFINED_REASON)
    metrics["percent_agreement"] = metric(1.0, None, None, ci_method="none", reason="no variance")
    for row in report["pairwise"]:
        row["cohen_kappa"] = None
    report["per_category"][0].update(kappa_1vr=None, alpha_1vr=None)
    return report


class _TagCollector(HTMLParser):
    """Every start tag and attribute name the browser's parser would see."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += attrs


def parse_tags(html: str) -> _TagCollector:
    collector = _TagCollector()
    collector.feed(html)
    collector.close()
    return collector


def svgs(html: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", html, flags=re.DOTALL)


def chart_svg(html: str, key: str) -> str:
    """The inline SVG of the chart figure ``chart-{key}``."""
    figure = html.split(f'<figure class="chart" id="chart-{key}">', 1)[1].split("</figure>", 1)[0]
    (svg,) = svgs(figure)
    return svg


def table_rows(markdown: str, heading: str) -> list[str]:
    """The data rows of the Markdown table under ``## heading``."""
    section = markdown.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    return rows[2:]


def cell_count(row: str) -> int:
    """Cells in a GFM table row: unescaped pipes minus one."""
    return len(re.findall(r"(?<!\\)\|", row)) - 1


# --- formatting -----------------------------------------------------------------------------


def test_number_formatting() -> None:
    assert fmt_value(0.86) == "0.860"
    assert fmt_value(-0.00004) == "0.000"
    assert fmt_value(None) == "—"
    assert fmt_value(float("nan")) == "—"
    assert fmt_value(0.01234, 4) == "0.0123"
    assert fmt_ci([0.84, 0.88]) == "[0.840, 0.880]"
    assert fmt_ci(None) == "—"
    assert fmt_ci([None, 0.3]) == "—"
    assert fmt_p(0.0) == "<0.0001"
    assert fmt_p(0.01234) == "0.0123"
    assert fmt_count(2997) == "2,997"
    assert fmt_count(19.0) == "19"


def test_escape_markdown() -> None:
    assert escape_markdown(PIPE) == r"left\|right"
    assert escape_markdown(SCRIPT) == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert escape_markdown(BOLD) == r"\[bold\]loud\[/bold\]"
    assert escape_markdown(AMP) == "R&amp;D"
    assert escape_markdown("a\r\nb\nc") == "a<br>b<br>c"
    assert escape_markdown("*x* `y` _z_ $m$") == r"\*x\* \`y\` \_z\_ \$m\$"


# --- markdown -------------------------------------------------------------------------------


def test_markdown_two_annotators() -> None:
    markdown = render_markdown(two_annotator_report())
    assert markdown.startswith("# Agreement report: testset-v1.json\n")
    for fact in ("- Items: 999", "- Annotators: 2", "- Ratings: 1,998", "- Level: nominal"):
        assert fact in markdown
    assert "- Weights: identity" in markdown
    # the verdict first: the coefficient to quote with its interval
    assert markdown.split("\n")[2] == r"**Krippendorff's α 0.86 \[0.84, 0.88\].**"
    rows = table_rows(markdown, "Agreement coefficients")
    assert len(rows) == 8
    assert r"| Fleiss' κ | 0.857 | \[0.835, 0.879\] | 0.0113 | analytic |  |" in rows
    cohen = next(row for row in rows if row.startswith("| Cohen's κ |"))
    assert r"0.852 | \[0.829, 0.875\] | 0.0118" in cohen
    assert r"se\_h0 = 0.0187; z = 45.5700; p &lt; 0.0001" in cohen
    assert any(row.startswith("| Scott's π | 0.852 |") for row in rows)
    assert any(row.startswith("| Gwet's AC1 | 0.893 |") for row in rows)
    assert table_rows(markdown, "Pairwise agreement") == [
        "| annotator1 | annotator2 | 999 | 0.931 | 0.852 |"
    ]
    assert (
        table_rows(markdown, "Per-category agreement")[0] == "| 0 | 1,000 | 0.950 | 0.900 | 0.900 |"
    )
    assert table_rows(markdown, "Most frequent confusions")[0] == "| 1 | 2 | 40 | 0.500 | 17, 42 |"
    assert table_rows(markdown, "Items with most disagreement") == [
        "| 17 | 1: 1, 2: 1 | 2 | 0.000 |"
    ]
    assert "## How to read this" in markdown
    assert "Landis &amp; Koch" in markdown and "rough guide" in markdown
    assert "Intraclass" not in markdown


def test_markdown_icc_and_reproducibility() -> None:
    markdown = render_markdown(interval_report())
    rows = table_rows(markdown, "Intraclass correlation")
    assert [row.split(" | ")[0] for row in rows] == [
        "| ICC(1,1)",
        "| ICC(2,1)",
        "| ICC(3,1)",
        "| ICC(1,k)",
        "| ICC(2,k)",
        "| ICC(3,k)",
    ]
    assert rows[0] == r"| ICC(1,1) | 0.712 | \[0.501, 0.863\] | 8.431 | 19 | 38 | 0.0123 |"
    assert rows[1].endswith("| 19 | 40 | &lt;0.0001 |")
    assert "*20 items used, 3 raters.*" in markdown
    assert "Gwet's AC2" in markdown
    assert "*labelaudit 0.1.0 · " in markdown and "sha256 " + "ab12" * 16 + "*" in markdown
    assert r"| n\_boot | 1,000 |" in markdown


def test_markdown_undefined_metrics_show_dash_and_reason() -> None:
    markdown = render_markdown(undefined_report())
    rows = table_rows(markdown, "Agreement coefficients")
    alpha = next(row for row in rows if row.startswith("| Krippendorff's α |"))
    assert alpha == f"| Krippendorff's α | — | — | — | none | {UNDEFINED_REASON} |"
    percent = next(row for row in rows if row.startswith("| Percent agreement |"))
    assert percent == "| Percent agreement | 1.000 | — | — | none | no variance |"
    assert table_rows(markdown, "Pairwise agreement")[0].endswith("| 0.922 | — |")


def test_markdown_escapes_hostile_content() -> None:
    markdown = render_markdown(hostile_report())
    assert "<script" not in markdown
    assert "<img" not in markdown
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in markdown
    assert r"left\|right" in markdown
    assert r"\[bold\]loud\[/bold\]" in markdown
    assert "R&amp;D" in markdown
    assert "line1<br>line2" in markdown
    assert "\x1b" not in markdown and r"\\x1b\[31mred" in markdown
    headings = (
        "Agreement coefficients",
        "Pairwise agreement",
        "Per-category agreement",
        "Most frequent confusions",
        "Items with most disagreement",
    )
    widths = {"Agreement coefficients": 6, "Items with most disagreement": 4}
    for heading in headings:
        rows = table_rows(markdown, heading)
        assert rows, heading
        assert {cell_count(row) for row in rows} == {widths.get(heading, 5)}, heading
    assert markdown.startswith("# Agreement report: script&gt;&amp;left")  # file name only


def test_renderers_accept_a_minimal_report() -> None:
    assert "## Agreement coefficients" not in render_markdown({})
    assert "<title>Agreement report</title>" in render_html({})
    console = Console(record=True, width=120)
    render_terminal({}, console)
    assert "Agreement report" in console.export_text()


# --- html -----------------------------------------------------------------------------------


def test_html_two_annotators_values_and_structure() -> None:
    report = two_annotator_report()
    html = render_html(report)
    assert html.startswith("<!doctype html>")
    assert "<title>Agreement report: testset-v1.json</title>" in html
    for value in ("0.857", "[0.835, 0.879]", "0.0113", "0.852", "45.5700", "p &lt; 0.0001"):
        assert value in html
    assert html.count('<section id="metrics">') == 1
    body = html.split('id="metrics-table"', 1)[1].split("<tbody>", 1)[1].split("</tbody>")[0]
    assert body.count("<tr>") == 8
    for key in ("pairwise", "per-category", "confusions", "disagreements", "how-to-read"):
        assert f'<section id="{key}">' in html
    assert 'id="icc"' not in html
    assert len(svgs(html)) == 3
    assert 'id="chart-pairwise"' in html
    assert "ab12" * 16 in html
    assert "<dt>n_boot</dt><dd><code>1,000</code></dd>" in html
    assert "labelaudit 0.1.0" in html


def test_html_icc_table_and_chart() -> None:
    html = render_html(interval_report())
    section = html.split('<section id="icc">', 1)[1].split("</section>", 1)[0]
    assert section.count("<tr>") == 7
    assert "ICC(2,k)" in section and "&lt;0.0001" in section
    assert "20 items used, 3 raters." in section
    coefficients = chart_svg(html, "coefficients")
    assert "ICC(3,k)" in coefficients and "Krippendorff" in coefficients


def test_html_undefined_metrics() -> None:
    html = render_html(undefined_report())
    assert str(html_escape(UNDEFINED_REASON)) in html
    assert 'class="num undefined">—</td>' in html
    assert "no variance" in html
    # no pair has a defined kappa: no heatmap; the coefficient chart skips undefined values
    assert len(svgs(html)) == 2
    assert 'id="chart-pairwise"' not in html
    coefficients = chart_svg(html, "coefficients")
    assert "Fleiss" not in coefficients
    assert "3 undefined, not plotted" in coefficients


def test_html_escapes_hostile_content_everywhere() -> None:
    html = render_html(hostile_report())
    parsed = parse_tags(html)
    assert not {"script", "img", "iframe", "object", "embed", "link", "a"} & set(parsed.tags)
    assert not [name for name, _ in parsed.attributes if name.startswith("on")]
    assert "<script" not in html.lower()
    assert "<img" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    assert "R&amp;D" in html and "R&D" not in html
    assert "[bold]loud[/bold]" in html
    assert "\x1b" not in html and "\\x1b[31mred" in html
    charts = svgs(html)
    assert len(charts) == 3
    for chart in charts:
        assert is_inert_svg(chart)
        assert "<script" not in chart
    # user strings really are inside the SVG text, escaped by matplotlib
    categories, heatmap = chart_svg(html, "categories"), chart_svg(html, "pairwise")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in categories
    assert "$x^2$" in categories  # mathtext is off: dollars stay literal
    assert "R&amp;D" in categories
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in heatmap
    # the long name wraps at its space (labels are never cut): both lines, escaped
    assert "&gt;&lt;img src=x" in heatmap and "onerror=alert(1)&gt;" in heatmap


def test_html_has_no_external_resources() -> None:
    html = render_html(hostile_report())
    lowered = html.lower()
    for needle in ('src="http', "src='http", 'href="http', "href='http", "url(http", "@import"):
        assert needle not in lowered
    assert "<link" not in lowered
    # the only URLs are XML namespace names of the inline SVG, which are never fetched
    without_namespaces = re.sub(r'xmlns(:\w+)?="http[^"]*"', "", lowered)
    assert "http://" not in without_namespaces and "https://" not in without_namespaces
    assert "default-src 'none'" in html


def test_html_is_deterministic() -> None:
    report = interval_report()
    assert render_html(report) == render_html(copy.deepcopy(report))


def test_heatmap_skipped_above_40_annotators() -> None:
    names = [f"ann{i:02d}" for i in range(41)]
    report = three_annotator_report()
    report["n_annotators"] = len(names)
    report["pairwise"] = [
        {"a": a, "b": b, "n_items": 10, "percent_agreement": 0.9, "cohen_kappa": 0.8}
        for i, a in enumerate(names)
        for b in names[i + 1 :]
    ]
    html = render_html(report)
    assert 'id="chart-pairwise"' not in html
    assert html.count("<svg") == 2
    report["pairwise"] = [row for row in report["pairwise"] if row["b"] != "ann40"]
    assert 'id="chart-pairwise"' in render_html(report)


@pytest.mark.parametrize(
    "svg",
    [
        '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        '<svg xmlns="http://www.w3.org/2000/svg"><rect onload="alert(1)"/></svg>',
        '<svg xmlns="http://www.w3.org/2000/svg"><foreignObject/></svg>',
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink">'
        '<use x:href="http://example.org/a.svg#x"/></svg>',
        '<svg xmlns="http://www.w3.org/2000/svg"><rect style="fill: url(http://e.org/x)"/></svg>',
        "<svg><unclosed></svg>",
    ],
)
def test_is_inert_svg_rejects_active_content(svg: str) -> None:
    assert not is_inert_svg(svg)


def test_is_inert_svg_accepts_fragment_references() -> None:
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
        '<defs><path id="m" d="M0 0"/></defs><use xlink:href="#m"/>'
        '<g clip-path="url(#c)"><text>&lt;script&gt;</text></g></svg>'
    )
    assert is_inert_svg(svg)


# --- terminal -------------------------------------------------------------------------------


def test_terminal_tables_show_values() -> None:
    console = Console(record=True, width=120)
    render_terminal(two_annotator_report(), console)
    output = console.export_text()
    for title in (
        "Agreement coefficients",
        "Pairwise agreement",
        "Per-category agreement",
        "Most frequent confusions",
        "Items with most disagreement",
    ):
        assert title in output
    assert "Fleiss' κ" in output and "0.857" in output and "[0.835, 0.879]" in output
    assert "annotator1" in output and "annotator2" in output
    assert "sha256 " + "ab12" * 3 in output


def test_terminal_shows_hostile_content_literally() -> None:
    console = Console(record=True, width=120)
    render_terminal(hostile_report(), console)
    output = console.export_text()
    assert BOLD in output
    assert SCRIPT in output
    assert EMOJI in output and "⚠" not in output
    assert "\x1b" not in output
    assert "\\x1b[31mred" in output
    assert "R&D" in output


def test_terminal_undefined_reason() -> None:
    console = Console(record=True, width=200)
    render_terminal(undefined_report(), console)
    output = console.export_text()
    assert "—" in output
    assert UNDEFINED_REASON in output


# --- files ----------------------------------------------------------------------------------


def test_write_reports(tmp_path: Path) -> None:
    report = hostile_report()
    out_dir = tmp_path / "out" / "nested"
    paths = write_reports(report, out_dir, stem="batch-7")
    assert paths == {
        "html": out_dir / "batch-7.html",
        "markdown": out_dir / "batch-7.md",
        "json": out_dir / "batch-7.json",
    }
    assert sorted(p.name for p in out_dir.iterdir()) == [
        "batch-7.html",
        "batch-7.json",
        "batch-7.md",
    ]
    assert json.loads(paths["json"].read_text(encoding="utf-8")) == report
    assert UNICODE in paths["json"].read_text(encoding="utf-8")  # ensure_ascii=False
    assert paths["html"].read_text(encoding="utf-8") == render_html(report)
    assert paths["markdown"].read_text(encoding="utf-8") == render_markdown(report)
    # a second run replaces the files in place
    write_reports(two_annotator_report(), out_dir, stem="batch-7")
    assert json.loads(paths["json"].read_text(encoding="utf-8")) == two_annotator_report()
    assert len(list(out_dir.iterdir())) == 3


def test_write_reports_default_stem(tmp_path: Path) -> None:
    paths = write_reports(two_annotator_report(), tmp_path)
    assert {p.name for p in paths.values()} == {"pilot.html", "pilot.md", "pilot.json"}


def test_write_reports_nan_leaves_folder_untouched(tmp_path: Path) -> None:
    write_reports(two_annotator_report(), tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    report = two_annotator_report()
    report["metrics"]["fleiss_kappa"]["value"] = float("nan")
    with pytest.raises(ValueError, match="JSON compliant"):
        write_reports(report, tmp_path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


@pytest.mark.parametrize("stem", ["", "a/b", "..", "."])
def test_write_reports_rejects_path_stems(tmp_path: Path, stem: str) -> None:
    with pytest.raises(ValueError, match="plain file name"):
        write_reports(two_annotator_report(), tmp_path, stem=stem)


def test_import_is_light() -> None:
    code = (
        "import sys, labelaudit.report; "
        "heavy = [m for m in ('matplotlib', 'jinja2') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_public_api() -> None:
    import labelaudit.report as report_package

    assert report_package.__all__ == sorted(report_package.__all__)
    assert report_package.__all__ == [
        "render_html",
        "render_markdown",
        "render_terminal",
        "write_reports",
    ]
