"""Documents (terminal, Markdown, HTML) of the guideline commands, over their ``to_dict()``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from labelaudit.guidelines.check import DIFF_KEYS
from labelaudit.report.document import DocTable, Document, Figure, Headline, Section

__all__ = ["calibration_section", "check_document", "compare_document", "rules_section"]


def check_document(data: Mapping[str, Any]) -> Document:
    """``guidelines check``: the verdict, the findings with their lines, the diff summary."""
    findings = data["findings"]
    sentence = (
        f"{data['source']} ({data['version']}): {data['n_labels']} labels, "
        f"{data['n_sections']} sections, "
        + ("no problem found" if not findings else f"{len(findings)} problems")
    )
    sections = [
        Section(
            "Findings",
            facts=(("checked", ", ".join(data["checked"])),),
            tables=(
                DocTable(
                    "Findings",
                    ("kind", "line", "message"),
                    tuple((f["kind"], f["line"], f["message"]) for f in findings),
                    ("text", "number", "text"),
                ),
            )
            if findings
            else (),
        )
    ]
    diff = data.get("diff")
    if diff is not None:
        rows = tuple(
            (
                key.replace("_", " "),
                ", ".join("->".join(v) if isinstance(v, list) else v for v in diff[key]),
            )
            for key in DIFF_KEYS
            if diff[key]
        )
        sections.append(
            Section(
                "Changes from the previous version",
                text=diff["summary"],
                tables=(DocTable("Changes", ("what", "ids"), rows),) if rows else (),
            )
        )
    status = "pass" if not findings else "fail"
    return Document("Guideline check", Headline(sentence, status=status), tuple(sections))


def rules_section(rules: list[Mapping[str, Any]], version: str) -> Section:
    """ "Rules most often disagreed on": one row per deciding section, with example items."""
    rows = tuple(
        (
            r["section"] or "(none)",
            r["title"],
            r["count"],
            ", ".join(r["pairs"]),
            " | ".join(
                e["item"] + (f": {e['text']}" if e.get("text") else "") for e in r["examples"]
            ),
        )
        for r in rules
    )
    return Section(
        "Rules most often disagreed on",
        text=(
            f"Confused label pairs mapped to the sections of guideline {version} that decide "
            "them ([[confusions]] table, else sections mentioning both labels); count = "
            "disagreeing pairs of annotations."
        ),
        tables=(
            DocTable(
                "Rules most often disagreed on",
                ("section", "title", "disagreements", "label pairs", "example items"),
                rows,
                ("text", "text", "number", "text", "text"),
                key="guideline-rules",
                details=("example items",),
            ),
        ),
        key="guideline-rules",
    )


_HEAD = ("before", "after", "difference", "ci95 low", "ci95 high")
_KINDS = ("text", "number", "number", "number", "number", "number")


def _difference_table(
    title: str, first: str, entries: list[Mapping[str, Any]], key: str, table_key: str
) -> DocTable:
    """Before, after, difference and its interval, one row per entry."""
    rows = tuple(
        (e[key], e["before"], e["after"], e["difference"], *(e["ci95"] or (None, None)))
        for e in entries
    )
    return DocTable(title, (first, *_HEAD), rows, _KINDS, key=table_key)


def compare_document(data: Mapping[str, Any]) -> Document:
    """``compare``: the verdict, coefficient and per-category differences with their CIs,
    per-annotator changes."""
    figures = tuple(
        Figure(f"Δ {row['metric']}", row["difference"], _ci(row))
        for row in data["coefficients"][:3]
    )
    status = {"helped": "pass", "hurt": "fail"}.get(data["verdict"], "info")
    annotators = DocTable(
        "Annotators",
        ("annotator", "before", "after", "difference", "items before", "items after"),
        tuple(
            (a["annotator"], a["before"], a["after"], a["difference"], a["n_before"], a["n_after"])
            for a in data["annotators"]
        ),
        ("text", "number", "number", "number", "number", "number"),
    )
    periods = tuple(
        (
            name,
            f"{p['n_items']} items, {p['n_annotations']} annotations: " + ", ".join(p["batches"]),
        )
        for name, p in data["periods"].items()
    )
    coefficients = _difference_table(
        "Coefficients", "metric", data["coefficients"], "metric", "compare-coefficients"
    )
    categories = _difference_table(
        "Per category (specific agreement)",
        "category",
        data["categories"],
        "category",
        "compare-categories",
    )
    sections = (
        Section("Periods", facts=periods, text=data["method"]),
        Section("Agreement coefficients", tables=(coefficients,), key="compare-coefficients"),
        Section("Per-category agreement", tables=(categories,)),
        Section(
            "Per annotator",
            text="Agreement of each annotator with the others on the items of each period.",
            tables=(annotators,),
        ),
    )
    title = f"Guideline revision {data['before']} → {data['after']}"
    return Document(title, Headline(data["sentence"], figures, status), sections)


def _ci(row: Mapping[str, Any]) -> tuple[float, float] | None:
    ci = row.get("ci95")
    return None if ci is None else (ci[0], ci[1])


def calibration_section(rows: list[Mapping[str, Any]]) -> Section:
    """One annotator's calibration scores round by round (oldest first): the trend."""
    table = DocTable(
        "Calibration rounds",
        ("round", "guideline", "items", "right", "accuracy", "ci95 low", "ci95 high", "kappa"),
        tuple(
            (
                r["round"],
                r["guideline_version"] or "",
                r["n_items"],
                r["n_correct"],
                r["accuracy"],
                r["accuracy_low"],
                r["accuracy_high"],
                r["kappa"],
            )
            for r in rows
        ),
        ("text", "text", "number", "number", "number", "number", "number", "number"),
        key="calibration",
    )
    first, last = rows[0], rows[-1]
    trend = (
        f"Accuracy against the expert went from {first['accuracy']:.2f} ({first['round']}) "
        f"to {last['accuracy']:.2f} ({last['round']})."
        if len(rows) > 1
        else f"Accuracy against the expert in {last['round']}: {last['accuracy']:.2f}."
    )
    return Section("Calibration", tables=(table,), text=trend, key="calibration")
