"""Every analysis command's terminal output at 80 columns, and every result in a notebook.

The terminal check runs each command twice through the real CLI: ``--format markdown``
gives every table cell and header of the document (unescaped here), ``--format table``
with ``COLUMNS=80`` must keep each of their words whole on one line, name every column
(or say it moved the table to one block per row) and never exceed 80 characters.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from analysis_pages import analysis_commands
from labelaudit.cli.app import app

runner = CliRunner()
_ESCAPED = re.compile(r"\\([\\`*_\[\]|~$])")


def markdown_tables(markdown: str) -> list[list[list[str]]]:
    """The GFM tables of a page: rows of unescaped cells, header row first."""
    tables: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in [*markdown.splitlines(), ""]:
        if line.startswith("| ") or line.startswith("|---") or line.startswith("|-"):
            if not re.fullmatch(r"\|[-:|]+\|", line):
                cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
                current.append([html.unescape(_ESCAPED.sub(r"\1", c.strip())) for c in cells])
        elif current:
            tables.append(current)
            current = []
    return tables


COMMANDS = ["agreement", "pilot", "spans", "annotators", "adjudicate", "consensus"]


@pytest.mark.parametrize("name", [*COMMANDS, "preferences", "judge"])
def test_table_output_fits_80_columns_with_words_whole(name: str, tmp_path: Path) -> None:
    args = analysis_commands(tmp_path)[name]
    markdown = runner.invoke(app, [*args, "--format", "markdown"])
    table = runner.invoke(app, [*args, "--format", "table"], env={"COLUMNS": "80"})
    assert markdown.exit_code == 0 and table.exit_code == 0, (markdown.output, table.output)
    lines = table.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    tables = markdown_tables(markdown.stdout)
    assert tables, name
    for rows in tables:
        header, body = rows[0], rows[1:]
        if header == ["Configuration", "Value"]:
            continue  # the Markdown footer (provenance), not a table of the document
        blocks = "one block per row" in table.stdout
        for column in header:  # no column dropped (a wide table moves to blocks, and says so)
            assert all(any(w in line for line in lines) for w in column.split()) or (
                blocks and any(f"{column}:" in line for line in lines)
            ), (name, column)
        for word in {w for row in body for cell in row for w in cell.split()}:
            assert any(word in line for line in lines), (name, word)


def notebook_results(folder: Path) -> list[Any]:
    """One result object of every analysis, on the bundled data."""
    from labelaudit.agreement import agreement_report
    from labelaudit.consensus.api import run_consensus
    from labelaudit.datasets import dataset_path, load_bluebirds
    from labelaudit.judge.audit import audit_judge
    from labelaudit.preferences import audit_preferences, read_preferences
    from labelaudit.quality import adjudication_queue, annotator_report, item_report
    from labelaudit.structured.api import as_task
    from labelaudit.table import read_annotations

    table = load_bluebirds()
    analysis_commands(folder)  # writes ner.jsonl
    judge = Path(__file__).parent / "data" / "judge"
    return [
        agreement_report(table),
        agreement_report(as_task(read_annotations(folder / "ner.jsonl"), "spans")),
        run_consensus(table, "majority")[1],
        annotator_report(table, methods=("majority",)),
        adjudication_queue(table, method="majority"),
        item_report(table, method="majority"),
        audit_preferences(read_preferences(dataset_path("pandalm"), format="pandalm"), n_boot=20),
        audit_judge(
            judge / "llmbar_natural_verdicts.jsonl",
            gold=judge / "llmbar_natural_gold.jsonl",
            n_boot=20,
        ),
    ]


def test_every_result_renders_in_a_notebook(tmp_path: Path) -> None:
    """IPython's HTML formatter (what a notebook cell shows) renders each result's
    document: the verdict first, no script, the same page as ``_repr_html_``."""
    formatter = pytest.importorskip("IPython.core.formatters").HTMLFormatter()
    for result in notebook_results(tmp_path):
        shown = formatter(result)
        assert shown is not None and shown == result._repr_html_(), type(result).__name__
        assert 'id="headline"' in shown and "<script" not in shown
        assert result.to_document().title in html.unescape(shown)
        frames = result.to_pandas()
        assert frames and all(hasattr(f, "columns") for f in frames.values())
