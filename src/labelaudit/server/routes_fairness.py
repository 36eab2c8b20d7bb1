"""Annotator groups on the dashboard: ``/fairness`` and its JSON twin ``/api/fairness``.

When ingest stores group figures (a ``[fairness]`` section in ``labelaudit.toml``: the
annotator attributes of ``labelaudit slices``), the page shows what the weekly report's
section shows (:func:`labelaudit.pipeline_report.fairness_section`): the largest
cross-group offset gap per batch and the latest batch's groups, offsets and contrasts,
read from the stored results (nothing is recomputed).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from labelaudit.report.document import Document, Headline
from labelaudit.server import views
from labelaudit.server.access import StoreAccess
from labelaudit.server.routes_api import JSONBody, Reader, cached_json
from labelaudit.server.routes_pages import User, render_page

__all__ = ["fairness_document", "fairness_view", "router"]

router = APIRouter()


def fairness_view(access: StoreAccess) -> dict[str, Any]:
    """``{"fairness": the weekly report's fairness dict over every batch, or null}`` (null
    when no batch has stored group figures)."""
    report = views.pipeline(access)
    return {"fairness": None if report is None else report.get("fairness")}


def fairness_document(data: dict[str, Any]) -> Document:
    """The page: the report's annotator-group section, or how to turn it on."""
    from labelaudit.pipeline_report import fairness_section

    found = data["fairness"]
    if found is None:
        sentence = (
            'No group figures stored: add a [fairness] section (by = ["vendor", ...]) to '
            "labelaudit.toml; the next ingested batches get them."
        )
        return Document("Annotator groups", Headline(sentence))
    gaps = [g["value"] for g in found["max_group_gap"] if g["batch"] == found["batch"]]
    gap = gaps[0] if gaps else None
    shown = "no gap (fewer than two groups with figures)" if gap is None else f"{gap:.3g}"
    sentence = f"Batch {found['batch']}: largest cross-group offset gap {shown}."
    return Document("Annotator groups", Headline(sentence), (fairness_section(found),))


@router.get("/api/fairness", summary="Annotator groups: offsets and gaps", response_class=JSONBody)
async def fairness_api(request: Request, _: Reader) -> JSONBody:
    """Cross-group offset gap per batch and the latest batch's group figures (or null)."""
    return await cached_json(request, lambda: fairness_view(request.app.state.access))


@router.get("/fairness", response_class=HTMLResponse, include_in_schema=False)
async def fairness_page(request: Request, who: User) -> HTMLResponse:
    """The annotator-group page."""
    access = request.app.state.access
    return await render_page(request, who, lambda: (fairness_document(fairness_view(access)), {}))
