"""What the CLI says: help text shown as written, errors that name the real flag, escaping."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from labelaudit.cli.app import app
from labelaudit.project.documents import status_document
from labelaudit.report.document import render_document

runner = CliRunner()


def test_help_keeps_square_brackets() -> None:
    result = runner.invoke(app, ["check", "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0
    assert "[[gates]]" in result.stdout and "[alert]" in result.stdout
    assert "[]" not in result.stdout.replace("[[gates]]", "")
    ingest = runner.invoke(app, ["ingest", "--help"], env={"COLUMNS": "200"})
    assert "(default: [input] layout)" in ingest.stdout


def test_wrong_file_type_names_the_from_flag(tmp_path: Path) -> None:
    path = tmp_path / "labels.xyz"
    path.write_text("item,annotator,label\n1,a,x\n")
    result = runner.invoke(app, ["agreement", str(path), "--from", "csv"])
    assert result.exit_code == 0, result.output  # --from names the format
    result = runner.invoke(app, ["consensus", str(path)])
    assert result.exit_code == 2
    assert "--from" in result.stderr and "--format" not in result.stderr


def test_status_markdown_escapes_html() -> None:
    batch = {
        "name": "<script>alert(1)</script>|x",
        "n_annotations": 1,
        "n_items": 1,
        "n_annotators": 1,
        "n_rejected": 0,
        "ingested_at": "2024-01-01T00:00:00",
        "sha256": "0" * 64,
    }
    text = render_document(status_document({"batches": [batch], "rejected_rows": 0}), "markdown")
    assert "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "\\|x" in text
