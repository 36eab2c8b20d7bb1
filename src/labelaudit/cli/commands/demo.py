"""``labelaudit demo``: the batch pipeline on weekly batches cut from bundled real data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from labelaudit.cli.app import app


@app.command("demo")
def demo_command(
    out_dir: Annotated[
        Path, typer.Option(help="Folder for the demo project, its batches and report.html.")
    ] = Path("demo-output"),
    debug: Annotated[bool, typer.Option(help="Show tracebacks.")] = False,
) -> None:
    """Run the pilot study and the quality pipeline on the bundled PandaLM test set.

    The pilot: agreement with CIs and disagreement diagnostics on all 999 items x 3
    annotators, written to OUT_DIR/pilot.html, pilot.md and pilot.json. The pipeline: cuts
    the set into 6 weekly batches, degrades the last one on purpose (one annotator's labels
    partly randomised), ingests them into OUT_DIR/project, runs `check` on each batch (exit
    1 on the degraded one is expected) and writes OUT_DIR/report.html.
    """
    import shlex

    from labelaudit.agreement import agreement_report
    from labelaudit.datasets import PANDALM_CATEGORY_NAMES, load_pandalm, pandalm_texts
    from labelaudit.project.demo import run_demo
    from labelaudit.quality import item_details
    from labelaudit.report import write_reports

    result = run_demo(out_dir, echo=typer.echo)
    typer.echo("$ labelaudit agreement testset-v1.json --layout wide ... --report pilot")
    table = load_pandalm()
    report = agreement_report(table).to_dict()
    details = item_details(table, [d["item"] for d in report["top_disagreements"]])
    texts = pandalm_texts()
    for item, detail in details.items():
        detail["text"] = texts.get(item)
    pilot = write_reports(
        report, out_dir, stem="pilot", details=details, category_names=PANDALM_CATEGORY_NAMES
    )
    typer.echo("  pilot study: " + ", ".join(str(p.resolve()) for p in pilot.values()))
    failed = [name for name, code in result.checks if code]
    typer.echo(f"\nProject: {result.project}")
    typer.echo(
        f"Batches failing a gate (expected: the degraded one): {', '.join(failed) or 'none'}"
    )
    serve = f"labelaudit serve --project {shlex.quote(str(result.project))}"
    typer.echo(f"Serve the dashboard: {serve}")
    typer.echo(f"Report written to {result.report}")
