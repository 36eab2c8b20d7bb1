"""The project's preference and LLM-judge audits: pages and their JSON twins.

Audits are stored by ``labelaudit preferences ... --project DIR`` and ``labelaudit judge
audit ... --project DIR`` (:mod:`labelaudit.project.audits`); a page shows the stored
document through the same builders as the command's own HTML report
(:func:`~labelaudit.report.builders_audit.preferences_document`,
:func:`~labelaudit.report.builders_judge.judge_document`), so nothing is recomputed.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse

from labelaudit.project.audits import AUDIT_KINDS, list_audits, read_audit
from labelaudit.report.document import DocTable, Document, Headline, Section
from labelaudit.server.access import StoreAccess
from labelaudit.server.routes_api import JSONBody, Reader, cached_json
from labelaudit.server.routes_pages import User, render_page

__all__ = ["audit_document", "audit_view", "audits_document", "audits_view", "router"]

router = APIRouter()
Kind = Annotated[str, Path(pattern="^(preferences|judge)$", description="preferences or judge")]
AuditId = Annotated[int, Path(ge=1, le=2**62)]


def audits_view(access: StoreAccess) -> dict[str, Any]:
    """Every stored audit per kind, newest first: ``{"preferences": [...], "judge": [...]}``."""
    with access.reading() as store:
        return {kind: [a.to_dict() for a in list_audits(store, kind)] for kind in AUDIT_KINDS}


def audit_view(access: StoreAccess, kind: str, audit_id: int) -> dict[str, Any]:
    """One stored audit: ``{"audit": {"audit_id", "kind", "name", ...}, "result": the
    audit's to_dict() as stored}``."""
    with access.reading() as store:
        audit, document = read_audit(store, kind, audit_id)
    return {"audit": audit.to_dict(), "result": document}


def audits_document(data: dict[str, Any]) -> Document:
    """The list of stored audits, a table per kind with links to each."""
    titles = {"preferences": "Preference audits", "judge": "LLM-judge audits"}
    sections = tuple(
        Section(
            titles[kind],
            tables=(
                DocTable(
                    titles[kind],
                    ("audit", "input", "stored at", "input SHA-256"),
                    tuple(
                        (
                            (f"#{a['audit_id']}", f"/audits/{kind}/{a['audit_id']}"),
                            a["name"],
                            a["stored_at"],
                            (a["input_sha256"] or "")[:12],
                        )
                        for a in data[kind]
                    ),
                    ("href", "text", "text", "text"),
                ),
            ),
        )
        for kind in AUDIT_KINDS
    )
    n = {kind: len(data[kind]) for kind in AUDIT_KINDS}
    sentence = (
        f"{n['preferences']} preference audits and {n['judge']} LLM-judge audits stored "
        "(labelaudit preferences / judge audit ... --project DIR)."
    )
    return Document("Audits", Headline(sentence), sections)


def audit_document(data: dict[str, Any]) -> Document:
    """One stored audit, drawn by the builder of its command's report."""
    from labelaudit.report.builders_audit import preferences_document
    from labelaudit.report.builders_judge import judge_document

    build = preferences_document if data["audit"]["kind"] == "preferences" else judge_document
    return build(data["result"])


@router.get("/api/audits", summary="Stored preference and judge audits", response_class=JSONBody)
async def audits_api(request: Request, _: Reader) -> JSONBody:
    """Every stored audit per kind (id, name, input hash, when), newest first."""
    return await cached_json(request, lambda: audits_view(request.app.state.access))


@router.get("/api/audits/{kind}/{audit_id}", summary="One stored audit", response_class=JSONBody)
async def audit_api(request: Request, kind: Kind, audit_id: AuditId, _: Reader) -> JSONBody:
    """The stored audit document (the command's ``--format json`` output)."""
    return await cached_json(request, lambda: audit_view(request.app.state.access, kind, audit_id))


@router.get("/audits", response_class=HTMLResponse, include_in_schema=False)
async def audits_page(request: Request, who: User) -> HTMLResponse:
    """The list of stored audits."""
    access = request.app.state.access
    return await render_page(request, who, lambda: (audits_document(audits_view(access)), {}))


@router.get("/audits/{kind}/{audit_id}", response_class=HTMLResponse, include_in_schema=False)
async def audit_page(request: Request, kind: Kind, audit_id: AuditId, who: User) -> HTMLResponse:
    """One stored audit as its command's report shows it."""
    access = request.app.state.access
    return await render_page(
        request, who, lambda: (audit_document(audit_view(access, kind, audit_id)), {})
    )
