"""Options and the one print-or-write path of commands whose output is a document.

``--format table|markdown|json|html`` (``table`` is terminal text that fits the terminal,
80 columns when written to a file), ``--out FILE`` (written atomically, ``wrote FILE`` on
stderr) and ``--provenance relative|full`` (file names relative to the working folder, or
absolute paths). JSON is always the command's ``to_dict()`` contract, never the document.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from labelaudit.report.document import Document

__all__ = [
    "OutOpt",
    "PageFormat",
    "PageFormatOpt",
    "ProvenanceMode",
    "ProvenanceOpt",
    "emit_document",
]

#: Width of terminal text written to a file (``--format table --out FILE``).
FILE_WIDTH = 80


class PageFormat(StrEnum):
    """How a document command prints its result."""

    table = "table"
    markdown = "markdown"
    json = "json"
    html = "html"


class ProvenanceMode(StrEnum):
    """How reports name files: relative to the working folder, or absolute."""

    relative = "relative"
    full = "full"


PageFormatOpt = Annotated[
    PageFormat, typer.Option("--format", help="table (terminal), markdown, json or html.")
]
OutOpt = Annotated[
    Path | None,
    typer.Option("--out", help="Write the output to this file (atomically) instead of stdout."),
]
ProvenanceOpt = Annotated[
    ProvenanceMode,
    typer.Option(
        "--provenance",
        help="relative: file names relative to the working folder; full: absolute paths.",
    ),
]


def emit_document(
    document: Document, data: Mapping[str, Any], output: PageFormat, out: Path | None
) -> None:
    """Print ``document`` (or write it to ``out``) in ``output``; JSON prints ``data``.

    Parameters
    ----------
    document : Document
        What people read (terminal text, Markdown, HTML).
    data : Mapping
        The command's ``to_dict()``: the ``--format json`` contract.
    output : PageFormat
    out : Path, optional
        File to write atomically (``wrote FILE`` on stderr); stdout when None.
    """
    import shutil

    from labelaudit.exceptions import UsageError
    from labelaudit.report.document import render_document
    from labelaudit.report.format import write_output_file

    if out is not None and not out.parent.is_dir():
        raise UsageError(f"--out {out}: the folder {out.parent} does not exist")
    if output == PageFormat.json:
        content = json.dumps(dict(data), indent=2, ensure_ascii=False) + "\n"
    else:
        width = FILE_WIDTH if out is not None else shutil.get_terminal_size((80, 24)).columns
        content = render_document(document, output.value, width=width)
    if out is None:
        typer.echo(content, nl=False)
    else:
        write_output_file(out, content)
