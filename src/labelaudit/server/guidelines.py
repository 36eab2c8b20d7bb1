"""The guideline pages of ``labelaudit serve`` and their JSON twins.

``/guidelines``: guideline versions with their batches, the rules most often disagreed on
(the pipeline report's ``guideline_rules``) and the calibration rounds; ``/guidelines/compare
?before=v1&after=v2``: the before/after comparison of a revision
(:func:`labelaudit.guidelines.compare.compare_versions`). ``/api/guidelines`` and
``/api/guidelines/compare`` return the same dicts.
"""

from __future__ import annotations

import itertools
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from labelaudit.report.document import DocTable, Document, Headline, Section
from labelaudit.server import views
from labelaudit.server.access import StoreAccess
from labelaudit.server.routes_api import Reader, cached_json
from labelaudit.server.routes_pages import User, _page

__all__ = ["compare_view", "guidelines_document", "guidelines_view", "router"]

router = APIRouter()
Version = Annotated[str, Query(min_length=1, max_length=200)]
#: Bootstrap replicates of the compare page (per period).
N_BOOT = 1000


def guidelines_view(access: StoreAccess) -> dict[str, Any]:
    """Versions (with their batches, newest last), rules most often disagreed on, rounds."""
    from labelaudit.guidelines.stored import batch_versions, calibration_history

    def compute() -> dict[str, Any]:
        with access.reading() as store:
            versions = batch_versions(store)
            rounds = calibration_history(store)
        periods: dict[str, list[str]] = {}
        for batch, version in versions.items():
            periods.setdefault(version, []).append(batch)
        report = views.pipeline(access) or {}
        named = [v for v in periods if v != "unversioned"]
        return {
            "guideline_file": access.project().config.guidelines.file,
            "versions": [{"version": v, "batches": b} for v, b in periods.items()],
            "comparisons": [{"before": a, "after": b} for a, b in itertools.pairwise(named)],
            "rules": report.get("guideline_rules"),
            "calibration": rounds,
        }

    return access.cached(("guidelines",), compute)


def compare_view(access: StoreAccess, before: str, after: str) -> dict[str, Any]:
    """The comparison of two guideline versions (cached per store version)."""
    from labelaudit.guidelines.compare import compare_versions

    def compute() -> dict[str, Any]:
        return access.call(
            lambda project: compare_versions(project, before, after, n_boot=N_BOOT).to_dict()
        )

    return access.cached(("guidelines-compare", before, after), compute)


def guidelines_document(data: dict[str, Any]) -> Document:
    """The ``/guidelines`` page."""
    from labelaudit.guidelines.documents import rules_section
    from labelaudit.server.pages import link

    versions = DocTable(
        "Versions",
        ("version", "batches"),
        tuple((v["version"], ", ".join(v["batches"])) for v in data["versions"]),
        key="versions",
    )
    comparisons = DocTable(
        "Revisions",
        ("before", "after", "comparison"),
        tuple(
            (
                c["before"],
                c["after"],
                (
                    "compare",
                    f"/guidelines/compare?before={_quote(c['before'])}&after={_quote(c['after'])}",
                ),
            )
            for c in data["comparisons"]
        ),
        ("text", "text", "href"),
    )
    rounds = DocTable(
        "Calibration scores",
        ("round", "annotator", "version", "items", "accuracy", "ci95 low", "ci95 high", "kappa"),
        tuple(
            (
                r["round"],
                link("annotators", r["annotator"]),
                r["guideline_version"] or "",
                r["n_items"],
                r["accuracy"],
                r["accuracy_low"],
                r["accuracy_high"],
                r["kappa"],
            )
            for r in data["calibration"]
        ),
        ("text", "href", "text", "number", "number", "number", "number", "number"),
        key="calibration",
    )
    sections = [Section("Guideline versions", tables=(versions, comparisons), key="versions")]
    rules = data.get("rules")
    if rules:
        sections.append(rules_section(rules["rules"], rules["version"]))
    sections.append(Section("Calibration rounds", tables=(rounds,), key="calibration"))
    file = data["guideline_file"] or "no [guidelines] file in labelaudit.toml"
    sentence = (
        f"Guideline: {file}; {len(data['versions'])} versions over the stored batches, "
        f"{len({r['round'] for r in data['calibration']})} calibration rounds scored."
    )
    return Document("Guidelines", Headline(sentence), tuple(sections))


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


@router.get("/guidelines", response_class=HTMLResponse, include_in_schema=False)
async def guidelines_page(request: Request, who: User) -> HTMLResponse:
    """Versions, revisions to compare, rules most often disagreed on, calibration rounds."""
    access = request.app.state.access
    return await _page(request, who, lambda: (guidelines_document(guidelines_view(access)), {}))


@router.get("/guidelines/compare", response_class=HTMLResponse, include_in_schema=False)
async def compare_page(
    request: Request, who: User, before: Version, after: Version
) -> HTMLResponse:
    """Agreement before and after a revision, with bootstrap intervals on the differences."""
    from labelaudit.guidelines.documents import compare_document

    access = request.app.state.access
    return await _page(
        request, who, lambda: (compare_document(compare_view(access, before, after)), {})
    )


@router.get("/api/guidelines", summary="Guideline versions, rules, calibration", tags=["api"])
async def guidelines_api(request: Request, _: Reader) -> Any:
    """The ``/guidelines`` page's data."""
    return await cached_json(request, lambda: guidelines_view(request.app.state.access))


@router.get("/api/guidelines/compare", summary="Before/after a guideline revision", tags=["api"])
async def compare_api(request: Request, _: Reader, before: Version, after: Version) -> Any:
    """Coefficient, category and annotator differences with bootstrap 95% intervals."""
    return await cached_json(request, lambda: compare_view(request.app.state.access, before, after))
