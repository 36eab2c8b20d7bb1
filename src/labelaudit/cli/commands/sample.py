"""``labelaudit sample``: draw a batch's review sample reproducibly (stratified, weighted)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from labelaudit.cli.app import app
from labelaudit.cli.common import DebugOpt, fail


@app.command("sample")
def sample_command(
    batch: Annotated[str, typer.Option(help="Stored batch name.")],
    size: Annotated[int, typer.Option(help="Annotations to review (e.g. the plan's n).")],
    out: Annotated[Path, typer.Option(help="Review sample to write (JSONL).")],
    stratify: Annotated[str, typer.Option(help="none, annotator, label or confidence.")] = "none",
    seed: Annotated[int, typer.Option(help="Seed of the draw.")] = 0,
    project: Annotated[Path | None, typer.Option(help="Project folder.")] = None,
    debug: DebugOpt = False,
) -> None:
    """Write a stratified review sample with inclusion weights (one JSON object a line).

    Example: labelaudit sample --batch 2024-w17 --size 131 --stratify annotator --seed 1
    --out review.jsonl
    """
    import json

    from labelaudit.exceptions import LabelAuditError
    from labelaudit.plans import draw_review_sample
    from labelaudit.plans.store import batch_rows
    from labelaudit.project import find_project
    from labelaudit.report.format import atomic_write_text

    try:
        rows = batch_rows(find_project(project), batch)
        sample = draw_review_sample(rows, size, stratify=stratify, seed=seed)
    except LabelAuditError as error:
        raise fail(error, debug) from None
    text = "".join(json.dumps({"batch": batch, **row}, ensure_ascii=False) + "\n" for row in sample)
    atomic_write_text(out, text)
    typer.echo(f"{len(sample)} of {len(rows)} annotations written to {out}")
