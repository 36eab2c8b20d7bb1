"""Label Studio webhooks (``POST /webhooks/label-studio``) and the open batch they fill.

Label Studio does not sign its requests, so the route checks a shared secret in the
``X-Labelaudit-Secret`` header (set it as a custom header of the webhook in Label
Studio); without a configured secret every delivery is refused. Deliveries are stored
before the answer (201), so an acknowledged delivery is never lost; a replay answers 200
with ``stored: 0``. Deliveries arriving together are committed together
(:class:`~labelaudit.server.inbox.Inbox`). ``/api/webhook-batch`` shows the open batch;
writers close it.
"""

from __future__ import annotations

import hmac
import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse

from labelaudit.exceptions import InputError
from labelaudit.server.routes_api import Reader, Writer

__all__ = ["SECRET_HEADER", "router"]

SECRET_HEADER = "X-Labelaudit-Secret"
MAX_BODY = 10_000_000
router = APIRouter()


@router.post(
    "/webhooks/label-studio",
    summary="Receive a Label Studio webhook (shared-secret header, no token)",
    responses={201: {"description": "stored"}, 200: {"description": "replay or ignored"}},
)
async def label_studio(
    request: Request,
    payload: Annotated[dict[str, Any], Body(description="Label Studio's webhook JSON")],
) -> JSONResponse:
    """Store an ANNOTATION_CREATED / _UPDATED / _DELETED delivery in the open batch."""
    import asyncio

    from labelaudit.project.webhooks import delivery_rows

    expected = request.app.state.webhook_secret
    given = request.headers.get(SECRET_HEADER, "")
    if not expected or not hmac.compare_digest(expected.encode(), given.encode()):
        detail = "unknown webhook secret" if expected else "webhooks are off (no secret set)"
        return JSONResponse({"error": "forbidden", "detail": detail}, status_code=403)
    if len(json.dumps(payload)) > MAX_BODY:
        raise InputError("webhook payload over 10 MB", source="webhook")
    action, rows = delivery_rows(payload)
    stored = await asyncio.wrap_future(request.app.state.inbox.submit(rows)) if rows else 0
    return JSONResponse({"action": action, "stored": stored}, status_code=201 if stored else 200)


@router.get("/api/webhook-batch", summary="The open batch of webhook deliveries")
def open_state(request: Request, _: Reader) -> dict[str, Any]:
    """Annotations, deletions, tasks and deliveries not yet in a batch."""
    from labelaudit.project.webhooks import open_batch

    with request.app.state.access.reading() as store:
        return open_batch(store)


@router.post("/api/webhook-batch/close", summary="Close the open batch into a batch (writer)")
def close(
    request: Request,
    who: Writer,
    name: Annotated[str | None, Body(embed=True, max_length=100)] = None,
) -> dict[str, Any]:
    """Ingest the open batch as batch ``name`` (default: ``ls-`` and the UTC time)."""
    from labelaudit.project.webhooks import close_open_batch

    if not request.app.state.tokens.csrf_ok(who, request.headers.get("x-csrf-token")):
        from labelaudit.server.app import AuthError

        raise AuthError(403, "missing or wrong CSRF token; reload the page", page=False)
    access = request.app.state.access
    return access.call(lambda project: close_open_batch(project, name))
