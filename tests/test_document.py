"""The document model: verdict first, 80-column terminal, escaping, notebooks, the browser."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from labelaudit.agreement import agreement_report
from labelaudit.consensus.api import run_consensus
from labelaudit.datasets import dataset_path
from labelaudit.quality import adjudication_queue, annotator_report
from labelaudit.report import render_html
from labelaudit.report.builders import agreement_document
from labelaudit.report.document import (
    DocTable,
    Document,
    Figure,
    Headline,
    Section,
    render_document,
    short_path,
    terminal_text,
)
from labelaudit.table import read_annotations

HOSTILE = ["<script>alert(1)</script>", "\"quoted\" 'single'", "{{7*7}}", "[bold]x[/bold]"]
EMAILS = [f"annotator.number.{i}@very-long-company-domain.example.com" for i in range(4)]


def wide_document() -> Document:
    columns = ("annotator email address", "labels", "agreement with the others", "flag reason")
    rows = tuple(
        (EMAILS[i % 4] + HOSTILE[i % 4], 1000 + i, 0.5 + i / 100, "speed below floor " * 2)
        for i in range(60)
    )
    table = DocTable("Annotators", columns, rows, ("text", "number", "number", "text"), top_n=10)
    return Document(
        "Annotators of batch <b>w17</b>",
        Headline("alpha 0.50 [0.34, 0.66]: below the 0.667 gate", status="fail"),
        (
            Section(
                "People",
                facts=(("source", "\x1b]8;;http://evil\x07link\x1b]8;;\x07"),),
                tables=(table,),
            ),
        ),
    )


@pytest.fixture(scope="module")
def bluebirds() -> Any:
    return read_annotations(dataset_path("bluebirds"))


def test_figure_sentence_against_a_gate() -> None:
    figure = Figure("alpha", 0.5, (0.34, 0.66), 0.667)
    assert figure.sentence() == "alpha 0.50 [0.34, 0.66]: below the 0.667 gate"
    assert Figure("alpha", 0.7, None, 0.667).sentence() == "alpha 0.70: meets the 0.667 gate"


def test_agreement_verdict_names_the_weakest_annotator(bluebirds: Any) -> None:
    report = agreement_report(bluebirds).to_dict()
    document = agreement_document(report, gate=0.667)
    sentence = document.headline.sentence
    alpha = report["metrics"]["krippendorff_alpha"]
    assert sentence.startswith(f"Krippendorff's α {alpha['value']:.2f} [")
    assert ": below the 0.667 gate; annotator " in sentence and document.headline.status == "fail"
    # the named annotator really has the lowest mean pairwise agreement
    named = re.search(r"annotator (\S+) drives", sentence)[1]  # type: ignore[index]
    means: dict[str, list[float]] = {}
    for pair in report["pairwise"]:
        for who in (pair["a"], pair["b"]):
            means.setdefault(who, []).append(pair["percent_agreement"])
    lowest = min(means, key=lambda n: (sum(means[n]) / len(means[n]), n))
    assert named == lowest


def test_terminal_fits_80_columns_without_breaking_words() -> None:
    document = wide_document()
    out = render_document(document, "table", width=80)
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80
    for email in EMAILS:  # every long word is whole on one line
        assert any(email in line for line in lines), email
    for column in document.sections[0].tables[0].columns:  # no column dropped
        assert column in out
    assert "... and 50 more rows" in out
    assert "\x1b" not in out and "\x07" not in out and "[bold]x[/bold]" in out


def test_terminal_text_strips_escape_sequences() -> None:
    assert terminal_text("a\x1b[31mred\x1b[0m\x1b]0;title\x07b\x00c") == "aredbc"
    assert terminal_text("[bold]") == "\\[bold]"


def test_markdown_escapes_user_content() -> None:
    out = render_document(wide_document(), "markdown")
    assert "<script>" not in out and "&lt;script&gt;" in out and "<b>" not in out
    assert "… and 50 more rows" in out


def test_short_path_is_relative_by_default(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    assert short_path(tmp_path / "data" / "x.csv") == "data/x.csv"
    assert short_path("/elsewhere/y.csv") == "y.csv"
    assert short_path(tmp_path / "x.csv", full=True) == str(tmp_path / "x.csv")


def all_results(table: Any) -> list[Any]:
    _, consensus = run_consensus(table, "majority")
    return [
        agreement_report(table),
        consensus,
        annotator_report(table, methods=("majority",)),
        adjudication_queue(table, method="majority"),
    ]


def test_every_result_displays_in_a_notebook(bluebirds: Any) -> None:
    formatter = pytest.importorskip("IPython.core.formatters").HTMLFormatter()
    for result in all_results(bluebirds):
        html = formatter(result)  # what a notebook cell shows
        assert html is not None and html == result._repr_html_()
        assert 'id="headline"' in html and "<script" not in html
        frames = result.to_pandas()
        assert len(frames) >= 1
    report = agreement_report(bluebirds)
    assert render_html(report) == render_html(report.to_dict())
