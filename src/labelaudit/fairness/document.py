"""The slices report as a :class:`~labelaudit.report.document.Document` (one renderer each for
terminal, Markdown, HTML and JSON). Selects and orders numbers of ``SlicesReport.to_dict()``;
computes nothing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from labelaudit.report.document import DocTable, Document, Figure, Headline, Provenance, Section
from labelaudit.report.format import fmt_value

__all__ = ["shift_sections", "slices_document"]

_N = ("number",)


def _where(row: Mapping[str, Any]) -> str:
    return "all data" if row.get("slice_by") is None else f"{row['slice_by']}={row['slice']}"


def _ci(row: Mapping[str, Any], key: str = "ci95") -> tuple[Any, Any]:
    ci = row.get(key) or [None, None]
    return ci[0], ci[1]


def _headline(data: Mapping[str, Any], gate: float | None) -> Headline:
    overall = next(
        (a for a in data["agreement"] if a["kind"] == "all raters" and a["slice_by"] is None), None
    )
    figures = []
    if overall is not None:
        ci = tuple(overall["ci95"]) if overall.get("ci95") else None
        figures.append(Figure("alpha, all raters", overall["alpha"], ci))
    found = [c for c in data["contrasts"] if c["significant"] and c["slice_by"] is None]
    if found:
        parts = [
            f"{c['by']} {c['group']} {c['difference']:+.2f} "
            f"[{fmt_value(c['ci95'][0], 2)}, {fmt_value(c['ci95'][1], 2)}] vs {c['reference']}"
            for c in found[:3]
        ]
        sentence = "Groups rate differently (item-adjusted, Holm): " + "; ".join(parts)
    else:
        sentence = "No group rates differently from its reference group (item-adjusted, Holm)"
    gap = data.get("max_group_gap")
    status = "info"
    if gap is not None:
        figures.append(Figure("largest group offset gap", gap))
        if gate is not None:
            status = "pass" if gap <= gate else "fail"
            sentence += f"; largest gap {gap:.2f} {'within' if gap <= gate else 'beyond'} {gate:g}"
    return Headline(sentence + ".", tuple(figures), status)


def shift_sections(data: Mapping[str, Any]) -> list[Section]:
    """The "Groups" and "Label shifts" sections (groups, offsets, contrasts with the
    reference): what a batch's stored ``fairness`` result holds, for the weekly report and
    the dashboard."""
    groups = DocTable(
        "Groups",
        ("attribute", "group", "where", "raters", "items", "ratings", "note"),
        tuple(
            (
                r["by"],
                r["group"],
                _where(r),
                r["n_raters"],
                r["n_items"],
                r["n_ratings"],
                r["reason"] or ("no value" if r["missing_value"] else ""),
            )
            for r in data["groups"]
        ),
        ("text", "text", "text", *_N * 3, "text"),
    )
    offsets = DocTable(
        "Item-adjusted offsets (rating - item mean)",
        (
            "attribute",
            "group",
            "where",
            "raters",
            "offset",
            "ci low",
            "ci high",
            "SE",
            "SE unclustered",
            "p (Holm)",
        ),
        tuple(
            (
                r["by"],
                r["group"],
                _where(r),
                r["n_raters"],
                r["offset"],
                *_ci(r),
                r["se"],
                r["se_unclustered"],
                r["p_holm"],
            )
            for r in data["offsets"]
        ),
        ("text", "text", "text", *_N * 7),
        note="95% intervals: two-way (raters x items) cluster bootstrap; suppressed groups "
        "show no figures.",
    )
    contrasts = DocTable(
        "Contrasts with the reference group",
        (
            "attribute",
            "group",
            "where",
            "reference",
            "difference",
            "ci low",
            "ci high",
            "p (Holm)",
            "significant",
        ),
        tuple(
            (
                r["by"],
                r["group"],
                _where(r),
                r["reference"],
                r["difference"],
                *_ci(r),
                r["p_holm"],
                "yes" if r["significant"] else "no",
            )
            for r in data["contrasts"]
        ),
        ("text", "text", "text", "text", *_N * 4, "text"),
    )
    return [
        Section("Groups", tables=(groups,)),
        Section("Label shifts", tables=(offsets, contrasts)),
    ]


def _tables(data: Mapping[str, Any]) -> list[Section]:
    sections = shift_sections(data)
    agreement = DocTable(
        "Agreement within and between groups",
        (
            "attribute",
            "group",
            "with",
            "kind",
            "where",
            "alpha",
            "ci low",
            "ci high",
            "items",
            "note",
        ),
        tuple(
            (
                r["by"] or "",
                r["group"] or "",
                r["other"] or "",
                r["kind"],
                _where(r),
                r["alpha"],
                *_ci(r),
                r["n_items"],
                r["reason"] or "",
            )
            for r in data["agreement"]
        ),
        ("text", "text", "text", "text", "text", *_N * 4, "text"),
        note="within: Krippendorff's alpha among the group's raters; between: "
        "cross-replication alpha of cross-group pairs (Wong et al. 2021).",
    )
    sections.append(Section("Agreement", tables=(agreement,)))
    if data.get("mixed_model"):
        mixed = DocTable(
            "Mixed model (cross-check)",
            ("attribute", "group", "reference", "estimate", "ci low", "ci high", "p"),
            tuple(
                (r["by"], r["group"], r["reference"], r["estimate"], *_ci(r), r["p"])
                for r in data["mixed_model"]
            ),
            ("text", "text", "text", *_N * 4),
            note=data["mixed_model"][0]["model"] + "; ignores rater clustering (SEs too small).",
        )
        sections[1] = Section("Label shifts", tables=(*sections[1].tables, mixed))
    sections += _reference_sections(data)
    if data["slices"]:
        sections.append(Section("Data slices", tables=(_slices(data),)))
    return sections


def _reference_sections(data: Mapping[str, Any]) -> list[Section]:
    out = []
    for by in dict.fromkeys(r["by"] for r in data["reference_metrics"]):
        rows = [r for r in data["reference_metrics"] if r["by"] == by]
        names = list(rows[0]["by_group"])
        table = DocTable(
            f"{by}: against {rows[0]['reference']}",
            ("metric", "overall", *names, "difference", "ratio"),
            tuple(
                (
                    r["metric"],
                    r["overall"],
                    *(r["by_group"][n] for n in names),
                    r["difference"],
                    r["ratio"],
                )
                for r in rows
            ),
            ("text", *_N * (len(names) + 3)),
            note="fairlearn MetricFrame convention: difference = max - min over groups, "
            "ratio = min / max; empty = suppressed group.",
        )
        out.append(Section(f"Metrics by {by}", tables=(table,)))
    return out


def _slices(data: Mapping[str, Any]) -> DocTable:
    return DocTable(
        "Slices",
        ("attribute", "slice", "items", "raters", "ratings", "note"),
        tuple(
            (r["by"], r["slice"], r["n_items"], r["n_raters"], r["n_ratings"], r["reason"] or "")
            for r in data["slices"]
        ),
        ("text", "text", *_N * 3, "text"),
    )


def slices_document(data: Mapping[str, Any], *, gate: float | None = None) -> Document:
    """The document of a slices report dict; ``gate``: the largest allowed offset gap."""
    sections = _tables(data)
    if data["notes"]:
        sections.append(Section("Notes", text=" ".join(data["notes"])))
    source = (data.get("input") or {}).get("source")
    return Document(
        "Who labels shapes the label",
        _headline(data, gate),
        tuple(sections),
        Provenance(files=(str(source),) if source else (), config=dict(data.get("config") or {})),
    )
