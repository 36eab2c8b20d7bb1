"""``labelaudit demo``: the pilot study on bundled real data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from labelaudit.cli.app import app


@app.command("demo")
def demo_command(
    out_dir: Annotated[Path, typer.Option(help="Folder for pilot.html, pilot.md, pilot.json.")] = (
        Path("demo-output")
    ),
) -> None:
    """Run the pilot study on bundled real data (PandaLM test set: 999 items, 3 annotators)."""
    from rich.console import Console

    from labelaudit.agreement import agreement_report
    from labelaudit.datasets import load_pandalm
    from labelaudit.report import render_terminal, write_reports

    result = agreement_report(load_pandalm(), ci="analytic").to_dict()
    render_terminal(result, Console())
    paths = write_reports(result, out_dir, stem="pilot")
    typer.echo("")
    for kind, path in paths.items():
        typer.echo(f"{kind:>8}: {path.resolve()}")
    typer.echo(f"Report written to {paths['html'].resolve()}")
