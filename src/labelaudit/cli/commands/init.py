"""``labelaudit init``: create a project (labelaudit.toml + the DuckDB store)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from labelaudit.cli.app import app
from labelaudit.cli.commands.agreement import TaskOpt
from labelaudit.cli.common import CategoriesOpt, DebugOpt, Level, LevelOpt


@app.command("init")
def init_command(
    directory: Annotated[Path, typer.Argument(help="Project folder (created if missing).")] = Path(
        "."
    ),
    name: Annotated[str | None, typer.Option(help="Project name (default: folder name).")] = None,
    level: LevelOpt = Level.nominal,
    categories: CategoriesOpt = None,
    task: TaskOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Create a project: labelaudit.toml (task schema, gates, report options) and its store.

    Example: labelaudit init sentiment --categories negative,neutral,positive
    """
    from labelaudit.project import init_project
    from labelaudit.table import TaskSchema

    schema = TaskSchema.create(level.value, categories)
    project = init_project(
        directory,
        name=name,
        level=schema.level,
        categories=schema.categories,
        task=task.value if task else None,
    )
    typer.echo(f"Created project {project.config.name!r} in {project.root}")
    typer.echo(f"  config: {project.config_path}")
    typer.echo(f"  store:  {project.store_path}")
    typer.echo(f"Next: labelaudit ingest FILE --batch NAME --project {project.root}")
