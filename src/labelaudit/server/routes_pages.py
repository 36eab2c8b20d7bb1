"""The HTML pages (documents through the shared template), the login and the queue form.

Pages are left out of the OpenAPI schema (their JSON twins are in it). Forms carry the
session's CSRF token; the login form a double-submit token of its own.
"""

from __future__ import annotations

import secrets
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from labelaudit.server import pages, views
from labelaudit.server.answers import CACHEABLE
from labelaudit.server.app import AuthError, identity_async
from labelaudit.server.auth import COOKIE, LOGIN_COOKIE, Identity
from labelaudit.server.items import item_view
from labelaudit.server.overlays import image_origin
from labelaudit.server.routes_api import decide, queue_filter

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


async def page_user(request: Request) -> Identity:
    """The logged-in caller (pages redirect to the login without one)."""
    return await identity_async(request)


User = Annotated[Identity, Depends(page_user)]


async def _page(request: Request, who: Identity, build: Any) -> HTMLResponse:
    """The page ``build()`` gives as ``(document, context)``, rendered once per store
    version, path, query and caller (the page holds the caller's name and CSRF token)."""
    tokens = request.app.state.tokens
    key = ("page", request.url.path, str(request.query_params), who.digest)

    def render() -> str:
        document, context = build()
        return pages.render(document, user=who, csrf=tokens.csrf(who), **context)

    body = await _access(request).cached_async(key, render)
    return HTMLResponse(body, headers={CACHEABLE: "1"})


#: The page renderer for the other page modules (audits, fairness): ``build()`` gives
#: ``(document, context)``; rendered once per store change, path, query and caller.
render_page = _page


def _access(request: Request) -> Any:
    return request.app.state.access


@router.get("/", response_class=HTMLResponse)
async def overview(request: Request, who: User) -> HTMLResponse:
    """Gate status, trends with control limits, open adjudications, annotators to watch."""
    access = _access(request)

    def build() -> tuple[Any, dict[str, Any]]:
        status = views.status_view(access)
        charts: tuple[Any, ...] = ()
        if status["n_batches"]:
            drawn = views.pipeline_charts(access)
            charts = tuple(drawn[k] for k in ("agreement", "gold") if k in drawn)
        return pages.overview_document(status, charts), {"scripts": ("hover.js",)}

    return await _page(request, who, build)


@router.get("/batches", response_class=HTMLResponse)
async def batches(request: Request, who: User) -> HTMLResponse:
    """Every batch."""
    return await _page(
        request, who, lambda: (pages.batches_document(views.batches_view(_access(request))), {})
    )


@router.get("/batches/{name:path}", response_class=HTMLResponse)
async def batch(request: Request, name: str, who: User) -> HTMLResponse:
    """One batch."""
    access = _access(request)

    def build() -> tuple[Any, dict[str, Any]]:
        data = views.batch_view(access, name)
        return pages.batch_document(data, views.agreement_document(access, name, data)), {}

    return await _page(request, who, build)


@router.get("/annotators", response_class=HTMLResponse)
async def annotators(request: Request, who: User) -> HTMLResponse:
    """Every annotator."""
    return await _page(
        request,
        who,
        lambda: (pages.annotators_document(views.annotators_view(_access(request))), {}),
    )


@router.get("/annotators/{annotator:path}", response_class=HTMLResponse)
async def annotator(request: Request, annotator: str, who: User) -> HTMLResponse:
    """One annotator."""
    return await _page(
        request,
        who,
        lambda: (pages.annotator_document(views.annotator_view(_access(request), annotator)), {}),
    )


@router.get("/items/{item:path}", response_class=HTMLResponse)
async def item(request: Request, item: str, who: User) -> HTMLResponse:
    """One item, with its spans drawn and, for writers, the decision buttons."""

    def build() -> tuple[Any, dict[str, Any]]:
        data = item_view(_access(request), item)
        labels = sorted({x["label"] for b in data["batches"] for x in b["labels"]})
        context = {
            "extra": "_item.html.j2",
            "item": data,
            "labels": labels if all(len(x) < 100 for x in labels) else [],
            "can_write": who.can_write,
            "scripts": ("hover.js",),
            "image_origin": image_origin(data["image"]),
        }
        return pages.item_document(data), context

    return await _page(request, who, build)


@router.get("/queue", response_class=HTMLResponse)
async def queue(
    request: Request,
    who: User,
    where: Annotated[views.QueueFilter, Depends(queue_filter)],
) -> HTMLResponse:
    """The adjudication queue with filters, decide buttons and keyboard shortcuts."""

    def build() -> tuple[Any, dict[str, Any]]:
        data = views.queue_view(_access(request), where)
        context = {
            "extra": "_queue.html.j2",
            "queue": data,
            "where": where,
            "can_write": who.can_write,
            "scripts": ("queue.js",),
        }
        return pages.queue_document(data), context

    return await _page(request, who, build)


@router.post("/queue/decide")
def decide_form(
    request: Request,
    who: User,
    item: Annotated[str, Form(max_length=2000)],
    label: Annotated[str, Form(max_length=2000)],
    csrf: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=20)] = "queue",
) -> Response:
    """The queue's and the item page's decide form (without JavaScript)."""
    if not who.can_write:
        raise AuthError(403, "this token can only read; deciding needs a writer token", page=True)
    decide(request, who, item, label, csrf)
    target = "/queue" if next != "item" else pages.link("items", item)[1]
    return RedirectResponse(target, status_code=303)


@router.get("/decisions", response_class=HTMLResponse)
async def decisions(request: Request, who: User) -> HTMLResponse:
    """The decision history."""
    return await _page(
        request,
        who,
        lambda: (pages.decisions_document(views.decisions_view(_access(request))), {}),
    )


# ------------------------------------------------------------------------ login
def _safe_next(target: str) -> str:
    """Only a path on this server (no scheme, no ``//host``, no backslash)."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: Annotated[str, Query(max_length=2000)] = "/") -> Response:
    """The login form (takes a token, sets the session cookie)."""
    token = secrets.token_urlsafe(24)
    document = pages.message_document("Log in", "This dashboard needs a labelaudit token.")
    body = pages.render(document, extra="_login.html.j2", login_csrf=token, next=_safe_next(next))
    response = HTMLResponse(body)
    response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict", path="/login")
    return response


@router.post("/login")
def login(
    request: Request,
    token: Annotated[str, Form(max_length=200)],
    csrf: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Check the token; on success set the ``HttpOnly`` session cookie and go on."""
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not secrets.compare_digest(expected, csrf):
        raise AuthError(403, "the login form expired; reload the login page", page=True)
    if request.app.state.tokens.identify(token, via_cookie=True) is None:
        document = pages.message_document("Log in", "Unknown token.", "fail")
        body = pages.render(document, extra="_login.html.j2", login_csrf=expected, next=next)
        return HTMLResponse(body, status_code=401)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/")
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(
    request: Request, who: User, csrf: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    """Forget the session cookie."""
    if not request.app.state.tokens.csrf_ok(who, csrf):
        raise AuthError(403, "missing or wrong CSRF token; reload the page", page=True)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/static/hover.js")
def hover_script() -> Response:
    """Hover values on charts and image boxes (shipped with labelaudit; no CDN, no build)."""
    text = resources.files("labelaudit.server").joinpath("static/hover.js").read_text("utf-8")
    return Response(text, media_type="text/javascript; charset=utf-8")


@router.get("/static/queue.js")
def script() -> Response:
    """The queue page's keyboard script (shipped with labelaudit; no CDN, no build)."""
    text = resources.files("labelaudit.server").joinpath("static/queue.js").read_text("utf-8")
    return Response(text, media_type="text/javascript; charset=utf-8")
