"""The JSON twins of the pages under ``/api/`` (all need a token; deciding needs a writer).

Handlers are plain functions (FastAPI runs them in its thread pool): each asks a view for
its dict and returns it. ``GET /api/decisions?format=csv|jsonl`` exports the decisions
(CSV cells that a spreadsheet would run as formulas are neutralised).
"""

from __future__ import annotations

import io
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from labelaudit.server import views
from labelaudit.server.answers import CACHEABLE
from labelaudit.server.app import AuthError, identity_async, writer
from labelaudit.server.auth import Identity
from labelaudit.server.items import item_view

__all__ = ["DecisionIn", "decide", "reader_dep", "router", "writer_dep"]

router = APIRouter(prefix="/api", tags=["api"])
_bearer = HTTPBearer(auto_error=False, description="a labelaudit token")
_MAX = 2000  # longest item, label or filter accepted


async def reader_dep(
    request: Request,
    _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)] = None,
) -> Identity:
    """Any valid token (401 otherwise)."""
    return await identity_async(request)


async def writer_dep(request: Request, who: Annotated[Identity, Depends(reader_dep)]) -> Identity:
    """A writer token (403 for a reader)."""
    return writer(request, who)


Reader = Annotated[Identity, Depends(reader_dep)]
Writer = Annotated[Identity, Depends(writer_dep)]


class DecisionIn(BaseModel):
    """An adjudicator's decision: the item and the label chosen."""

    item: str = Field(min_length=1, max_length=_MAX)
    label: str = Field(min_length=1, max_length=_MAX)


def _access(request: Request) -> Any:
    return request.app.state.access


class JSONBody(Response):
    """A JSON answer serialised once and cached with the page data (same store version)."""

    media_type = "application/json"


async def cached_json(request: Request, build: Any) -> JSONBody:
    """``build()`` as JSON bytes, cached under the store version, the path and the query
    (a hit answers from the event loop; a miss computes in a worker thread)."""
    key = ("json", request.url.path, str(request.query_params))

    def encode() -> bytes:
        return json.dumps(build(), ensure_ascii=False, allow_nan=False).encode("utf-8")

    body = await _access(request).cached_async(key, encode)
    return JSONBody(body, headers={CACHEABLE: "1"})


@router.get(
    "/status", summary="Overview: gates, trends, open adjudications", response_class=JSONBody
)
async def status(request: Request, _: Reader) -> JSONBody:
    """The overview's data (``views.status_view``)."""
    return await cached_json(request, lambda: views.status_view(_access(request)))


@router.get("/batches", summary="Every batch with its headline values", response_class=JSONBody)
async def batches(request: Request, _: Reader) -> JSONBody:
    """Batches in history order."""
    return await cached_json(request, lambda: views.batches_view(_access(request)))


@router.get("/batches/{name:path}", summary="One batch", response_class=JSONBody)
async def batch(request: Request, name: str, _: Reader) -> JSONBody:
    """Gates, metrics with CIs, confusions, worst items and annotators of one batch."""
    return await cached_json(request, lambda: views.batch_view(_access(request), name))


@router.get("/annotators", summary="Every annotator over the history", response_class=JSONBody)
async def annotators(request: Request, _: Reader) -> JSONBody:
    """Pooled agreement and gold accuracy, flags and drift per annotator."""
    return await cached_json(request, lambda: views.annotators_view(_access(request)))


@router.get("/annotators/{annotator:path}", summary="One annotator", response_class=JSONBody)
async def annotator(request: Request, annotator: str, _: Reader) -> JSONBody:
    """Trends, flags with reasons and disagreements of one annotator."""
    return await cached_json(request, lambda: views.annotator_view(_access(request), annotator))


@router.get("/items/{item:path}", summary="One item", response_class=JSONBody)
async def item(request: Request, item: str, _: Reader) -> JSONBody:
    """Text, every label, consensus with confidence and decisions of one item."""
    return await cached_json(request, lambda: item_view(_access(request), item))


async def queue_filter(
    batch: Annotated[str | None, Query(max_length=_MAX)] = None,
    reason: Annotated[str | None, Query(pattern="^(tie|low_confidence)$")] = None,
    annotator: Annotated[str | None, Query(max_length=_MAX)] = None,
    label: Annotated[str | None, Query(max_length=_MAX)] = None,
    max_confidence: Annotated[float | None, Query(ge=0, le=1)] = None,
    status: Annotated[str, Query(pattern="^(open|decided|all)$")] = "open",
    sort: Annotated[str, Query(pattern="^(priority|confidence|item|batch)$")] = "priority",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> views.QueueFilter:
    """The queue's filters from the query string (empty strings mean no filter)."""
    return views.QueueFilter(
        batch=batch or None,
        reason=reason or None,
        annotator=annotator or None,
        label=label or None,
        max_confidence=max_confidence,
        status=status,
        sort=sort,
        limit=limit,
        offset=offset,
    )


@router.get("/queue", summary="The adjudication queue", response_class=JSONBody)
async def queue(
    request: Request,
    where: Annotated[views.QueueFilter, Depends(queue_filter)],
    _: Reader,
) -> JSONBody:
    """Queued items with every candidate label, filtered and sorted."""
    return await cached_json(request, lambda: views.queue_view(_access(request), where))


@router.get("/decisions", summary="Expert decisions (JSON, or export as CSV / JSONL)")
def decisions(
    request: Request,
    _: Reader,
    format: Annotated[str, Query(pattern="^(json|csv|jsonl)$")] = "json",
) -> Any:
    """Every decision, oldest first; ``format=csv`` or ``jsonl`` downloads them."""
    data = views.decisions_view(_access(request))
    if format == "json":
        return data
    rows = data["decisions"]
    if format == "jsonl":
        body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        return _download(body, "decisions.jsonl", "application/x-ndjson")
    return _download(_csv(rows), "decisions.csv", "text/csv")


def _csv(rows: list[dict[str, Any]]) -> str:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from labelaudit.csvio import neutralise_formulas

    columns = ("item", "label", "decided_by", "decided_at", "revision", "source")
    table = pa.table(
        {
            c: pa.array([r[c] for r in rows], type=pa.int64() if c == "revision" else pa.string())
            for c in columns
        }
    )
    sink = io.BytesIO()
    pacsv.write_csv(neutralise_formulas(table), sink)
    return sink.getvalue().decode("utf-8")


def _download(body: str, name: str, media: str) -> Response:
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(body, media_type=f"{media}; charset=utf-8", headers=headers)


def decide(request: Request, who: Identity, item: str, label: str, csrf: str | None) -> Any:
    """Record a decision by ``who`` (CSRF checked for cookie sessions)."""
    from labelaudit.project.decisions import record_decision

    if not request.app.state.tokens.csrf_ok(who, csrf):
        raise AuthError(403, "missing or wrong CSRF token; reload the page", page=False)
    access = _access(request)
    config = access.project().config
    with access.writing() as store:
        return record_decision(store, config, item, label, decided_by=who.name)


@router.post("/decisions", status_code=201, summary="Decide an item (writer token)")
def post_decision(request: Request, body: DecisionIn, who: Writer) -> dict[str, Any]:
    """Store the decision with who and when; the affected batches' figures are recomputed."""
    token = request.headers.get("x-csrf-token")
    return decide(request, who, body.item, body.label, token).to_dict()
