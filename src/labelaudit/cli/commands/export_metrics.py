"""``labelaudit export-metrics``: the project's batches, gates, annotator table and report
as one MLflow or Weights & Biases run."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from labelaudit.cli.app import app
from labelaudit.cli.common import DebugOpt


class Tracker(StrEnum):
    """Experiment trackers."""

    mlflow = "mlflow"
    wandb = "wandb"


@app.command("export-metrics")
def export_metrics_command(
    to: Annotated[Tracker, typer.Option("--to", help="mlflow or wandb.")],
    run: Annotated[
        str | None, typer.Option("--run", help="Run name (default: 'labelaudit LATEST-BATCH').")
    ] = None,
    project: Annotated[
        Path | None,
        typer.Option(help="Project folder (default: nearest parent holding labelaudit.toml)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    debug: DebugOpt = False,
) -> None:
    """Log every batch's metrics (with CI bounds) and gate results as steps of one run, the
    annotator table as a table and the weekly report HTML as an artefact. The target is
    the tracker's own environment: MLFLOW_TRACKING_URI (and MLFLOW_EXPERIMENT_NAME), or
    WANDB_MODE=offline / WANDB_API_KEY (and WANDB_PROJECT).

    Example: MLFLOW_TRACKING_URI=sqlite:///mlflow.db labelaudit export-metrics --to mlflow
    """
    from labelaudit.project import find_project
    from labelaudit.project.trackers import export_metrics

    result = export_metrics(find_project(project), to=to.value, run_name=run)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
        return
    typer.echo(
        f"logged {result.n_batches} batches ({result.n_values} values), the annotator table "
        f"({result.n_annotator_rows} rows) and the report to {result.tracker} run "
        f"{result.run_id!r} ({result.run_name}) at {result.target}"
    )
