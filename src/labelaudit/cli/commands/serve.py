"""``labelaudit serve`` and ``labelaudit token create``: the team's dashboard and its tokens."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from labelaudit.cli.app import app
from labelaudit.cli.common import DebugOpt

ProjectOpt = Annotated[
    Path | None,
    typer.Option(help="Project folder (default: nearest parent holding labelaudit.toml)."),
]
#: Environment variable holding the Label Studio webhook secret.
SECRET_ENV = "LABELAUDIT_WEBHOOK_SECRET"

token_app = typer.Typer(help="Access tokens of labelaudit serve.", no_args_is_help=True)
app.add_typer(token_app, name="token")


@app.command("serve")
def serve_command(
    project: ProjectOpt = None,
    host: Annotated[str, typer.Option(help="Address to bind (loopback by default).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="TCP port.", min=0, max=65535)] = 8765,
    close_every: Annotated[
        float | None,
        typer.Option(help="Close the open Label Studio webhook batch every N seconds.", min=1),
    ] = None,
    debug: DebugOpt = False,
) -> None:
    """Serve the project's quality dashboard, adjudication queue and REST API.

    Every page and /api/ route needs a token: create one with `labelaudit token create`
    (--writer to decide). Without a stored token a temporary writer token is printed.
    Label Studio webhooks are accepted when LABELAUDIT_WEBHOOK_SECRET is set (send it in
    the X-Labelaudit-Secret header); their open batch closes on demand
    (POST /api/webhook-batch/close) and every --close-every seconds.

    Example: labelaudit serve --project my-project --port 8765
    """
    from labelaudit.exceptions import UsageError
    from labelaudit.project import find_project
    from labelaudit.project.tokens import new_token, stored_tokens
    from labelaudit.server import is_loopback

    found = find_project(project)
    with found.open_store() as store:  # creates / migrates the store before serving
        n_tokens = len(stored_tokens(store))
    if not is_loopback(host) and n_tokens == 0:
        raise UsageError(
            f"refusing to serve on {host} (not loopback) without a stored token. "
            "Fix: create one with `labelaudit token create` (or bind to 127.0.0.1)"
        )
    try:
        import uvicorn

        from labelaudit.server import create_app
    except ImportError as error:
        raise UsageError(
            f"labelaudit serve needs the server extra ({error.name} is missing). "
            "Fix: pip install 'labelaudit[server]'"
        ) from None
    temporary = None if n_tokens else new_token()
    application = create_app(
        found.root,
        temporary_token=temporary,
        webhook_secret=os.environ.get(SECRET_ENV),
        close_every=close_every,
    )
    shown = f"[{host}]" if ":" in host else host
    typer.echo(f"Serving {found.config.name} at http://{shown}:{port}/ (Ctrl+C stops)")
    if temporary is not None:
        typer.echo(f"Temporary writer token (valid until the server stops): {temporary}")
    uvicorn.run(application, host=host, port=port, log_level="warning")


@token_app.command("create")
def token_create(
    project: ProjectOpt = None,
    writer: Annotated[
        bool, typer.Option("--writer", help="May decide adjudications and close batches.")
    ] = False,
    name: Annotated[
        str | None, typer.Option(help="Who holds it (shown with their decisions).")
    ] = None,
    debug: DebugOpt = False,
) -> None:
    """Create an access token for labelaudit serve; it is printed once, stored hashed.

    Example: labelaudit token create --writer --name alice
    """
    from labelaudit.project import find_project
    from labelaudit.project.tokens import create_token

    found = find_project(project)
    role = "writer" if writer else "reader"
    with found.open_store() as store:
        token = create_token(store, role=role, name=name)
    typer.echo(f"Created a {role} token (shown once; the store keeps only its hash):")
    typer.echo(token)
