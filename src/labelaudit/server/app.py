"""The ASGI application of ``labelaudit serve``: :func:`create_app` wires access, tokens,
routes and error answers.

Errors become one clear answer each: 401 (no or unknown token; pages redirect to the
login), 403 (a reader token on a writer route, or a missing CSRF token), 404 (unknown
batch, annotator or item), 422 (a bad parameter or label), 503 with ``Retry-After``
(the store stayed busy). A library error never becomes a 500.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from labelaudit.exceptions import InputError, NotFoundError, UsageError
from labelaudit.server.access import StoreAccess, StoreBusy
from labelaudit.server.answers import AnswerCache, credential
from labelaudit.server.auth import Identity, TokenBook
from labelaudit.server.inbox import Inbox

__all__ = ["AuthError", "create_app", "identity", "identity_async", "writer"]

#: Headers on every answer.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Content-Security-Policy": "frame-ancestors 'none'",
}


class AuthError(Exception):
    """401 or 403; ``page`` requests get the login page (401) or an HTML answer."""

    def __init__(self, status: int, detail: str, *, page: bool) -> None:
        super().__init__(detail)
        self.status, self.detail, self.page = status, detail, page


def _is_page(path: str) -> bool:
    return not path.startswith(("/api/", "/webhooks/"))


def identity(request: Any) -> Identity:
    """The caller's identity from ``Authorization: Bearer`` or the login cookie (401 if none)."""
    token, via_cookie = credential(request.headers, request.cookies)
    who = request.app.state.tokens.identify(token, via_cookie=via_cookie)
    if who is None:
        detail = "a valid token is needed (Authorization: Bearer TOKEN, or log in)"
        raise AuthError(401, detail, page=_is_page(request.url.path))
    return who


async def identity_async(request: Any) -> Identity:
    """:func:`identity` from the event loop: reading the stored tokens (after a store
    change) happens in a worker thread, so a locked store never blocks the loop."""
    import asyncio

    from labelaudit.server.access import MISSING

    if request.app.state.access.peek("tokens") is MISSING:
        return await asyncio.to_thread(identity, request)
    return identity(request)


def writer(request: Any, who: Identity) -> Identity:
    """``who`` if it may write (403 otherwise)."""
    if not who.can_write:
        detail = "this token can only read; deciding needs a writer token"
        raise AuthError(403, detail, page=_is_page(request.url.path))
    return who


def create_app(
    project_root: Path,
    *,
    temporary_token: str | None = None,
    webhook_secret: str | None = None,
    retry_seconds: float | None = None,
    close_every: float | None = None,
) -> Any:
    """The FastAPI application serving one project.

    Parameters
    ----------
    project_root : Path
        The project folder (``labelaudit.toml`` and the store).
    temporary_token : str, optional
        A writer token valid for this process only (``serve`` without stored tokens).
    webhook_secret : str, optional
        The shared secret Label Studio sends in ``X-Labelaudit-Secret``; without it the
        webhook route refuses every delivery.
    retry_seconds : float, optional
        How long a request waits for a store locked by another process.
    close_every : float, optional
        Close the open webhook batch every this many seconds (when it holds annotations).

    Returns
    -------
    fastapi.FastAPI
    """
    from fastapi import FastAPI

    from labelaudit import __version__
    from labelaudit.server import (
        guidelines,
        routes_api,
        routes_audits,
        routes_fairness,
        routes_pages,
        routes_webhooks,
    )

    access = (
        StoreAccess(project_root)
        if retry_seconds is None
        else StoreAccess(project_root, retry_seconds=retry_seconds)
    )
    access.project()  # fail now on a missing or invalid project
    app = FastAPI(
        title="labelaudit",
        version=__version__,
        description="The team's annotation-quality dashboard: pages and their JSON twins.",
        docs_url=None,
        redoc_url=None,
        lifespan=_schedule(access, close_every) if close_every else None,
    )
    app.state.access = access
    app.state.tokens = TokenBook(access, temporary_token)
    app.state.webhook_secret = webhook_secret
    app.state.inbox = Inbox(access)
    _errors(app)
    app.include_router(guidelines.router)
    app.include_router(routes_api.router)
    app.include_router(routes_webhooks.router)
    app.include_router(routes_audits.router)
    app.include_router(routes_fairness.router)
    app.include_router(routes_pages.router)

    app.add_middleware(AnswerCache, access=access)  # inside: its answers get the headers
    app.add_middleware(_SecurityHeaders)
    return app


class _SecurityHeaders:
    """Adds :data:`SECURITY_HEADERS` to every answer (plain ASGI: no per-request task or
    body copy, unlike ``@app.middleware``)."""

    _HEADERS = tuple((k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items())

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in self._HEADERS if k not in present]
                message = message | {"headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _schedule(access: StoreAccess, every: float) -> Any:
    """A lifespan that closes the open webhook batch every ``every`` seconds."""
    import contextlib
    import sys
    import threading

    from labelaudit.project.webhooks import close_open_batch, open_batch

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> Any:
        stop = threading.Event()

        def loop() -> None:
            while not stop.wait(every):
                try:
                    with access.reading() as store:
                        waiting = open_batch(store)["n_deliveries"]
                    if waiting:
                        done = access.call(close_open_batch)
                        print(f"closed webhook batch {done['batch']}: {done['outcome']}")
                except Exception as error:  # keep serving; say why this round failed
                    print(f"webhook batch not closed: {error}", file=sys.stderr)

        thread = threading.Thread(target=loop, name="close-webhook-batch", daemon=True)
        thread.start()
        app.state.scheduler = thread
        try:
            yield
        finally:
            stop.set()
            thread.join(timeout=30)

    return lifespan


def _errors(app: Any) -> None:
    from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

    from labelaudit.server.pages import message_document, render

    def answer(request: Any, status: int, detail: str, **headers: str) -> Any:
        if _is_page(request.url.path):
            title = {404: "Not found", 503: "Busy", 403: "Forbidden"}.get(status, "Error")
            page = render(message_document(title, detail, "fail"))
            return HTMLResponse(page, status_code=status, headers=headers)
        error = {401: "unauthorized", 403: "forbidden", 404: "not_found", 503: "busy"}
        body = {"error": error.get(status, "invalid"), "detail": detail}
        return JSONResponse(body, status_code=status, headers=headers)

    @app.exception_handler(AuthError)
    async def auth(request: Any, error: AuthError) -> Any:
        if error.status == 401 and error.page:
            target = quote(request.url.path, safe="/")
            return RedirectResponse(f"/login?next={target}", status_code=303)
        extra = {"WWW-Authenticate": "Bearer"} if error.status == 401 else {}
        return answer(request, error.status, error.detail, **extra)

    @app.exception_handler(NotFoundError)
    async def missing(request: Any, error: NotFoundError) -> Any:
        return answer(request, 404, str(error))

    @app.exception_handler(StoreBusy)
    async def busy(request: Any, error: StoreBusy) -> Any:
        return answer(request, 503, str(error), **{"Retry-After": "1"})

    @app.exception_handler(UsageError)
    @app.exception_handler(InputError)
    async def invalid(request: Any, error: Exception) -> Any:
        return answer(request, 422, str(error).splitlines()[0] if str(error) else "invalid")
