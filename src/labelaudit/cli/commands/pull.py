"""``labelaudit pull``: read a running Label Studio project through its API."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from labelaudit.cli.app import app
from labelaudit.cli.common import (
    ControlOpt,
    DebugOpt,
    FormatOpt,
    GuidelinesVersionOpt,
    IncludeModelsOpt,
    LabelConfigOpt,
    LsProjectOpt,
    LsUrlOpt,
    OutputFormat,
    TaskKeyOpt,
    TokenFileOpt,
    export_options,
    server_target,
)


@app.command("pull")
def pull_command(
    ls_url: LsUrlOpt = None,
    ls_project: LsProjectOpt = None,
    token_file: TokenFileOpt = None,
    project: Annotated[
        Path | None,
        typer.Option(help="labelaudit project folder (default: nearest labelaudit.toml)."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="No project: write the snapshot here as a Label Studio JSON export."),
    ] = None,
    batch: Annotated[
        str | None, typer.Option(help="Batch name (default: ls<ID>-<pull time>).")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Only annotations updated after this ISO-8601 time.")
    ] = None,
    as_decisions: Annotated[
        bool,
        typer.Option(help="A review project: store its annotations as expert decisions."),
    ] = False,
    control: ControlOpt = None,
    task_key: TaskKeyOpt = None,
    label_config: LabelConfigOpt = None,
    include_models: IncludeModelsOpt = False,
    guidelines_version: GuidelinesVersionOpt = None,
    output: FormatOpt = OutputFormat.table,
    debug: DebugOpt = False,
) -> None:
    """Pull what is new in a Label Studio project since the last pull, as one batch.

    Idempotent: pulling twice adds nothing. Updated annotations are stored as revisions,
    cancelled and deleted ones recorded. The batch records the guideline version it was
    labelled under (--guidelines-version, else the project's guideline file's version). The
    token is read from $LABEL_STUDIO_API_KEY or --token-file and never written anywhere.

    Example: labelaudit pull --ls-url http://localhost:8080 --ls-project 3 --control sentiment
    """
    from labelaudit.guidelines.project import version_recorder
    from labelaudit.io.label_studio_api import LabelStudioAPI, load_token
    from labelaudit.project import find_project
    from labelaudit.project.pull import pull_label_studio

    url, ls_id = server_target(ls_url, ls_project)
    found = find_project(project) if out is None else None
    options = export_options(control, task_key, label_config, include_models)
    record_version = None if found is None else version_recorder(found, guidelines_version)
    with LabelStudioAPI(url, load_token(token_file)) as api:
        result = pull_label_studio(
            api,
            ls_id,
            project=found,
            out=out,
            export=options,
            batch=batch,
            since=since,
            as_decisions=as_decisions,
            record_version=record_version,
        )
    if output == OutputFormat.json:
        import json

        typer.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False, default=str))
    else:
        typer.echo(result.message())
