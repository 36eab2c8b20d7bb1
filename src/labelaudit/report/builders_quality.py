"""Documents of the annotator table and the adjudication queue: who needs attention, and why.

Presentation only: every figure comes from ``AnnotatorReport.to_dict()`` or
``AdjudicationQueue.to_dict()`` (their JSON contracts are not changed here). Item text
comes from ``details`` (:func:`labelaudit.quality.item_details`), category meanings from
``category_names``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from labelaudit.report._format import DASH, fmt_count, fmt_value, text
from labelaudit.report.builders_common import category_label, provenance, who_chose
from labelaudit.report.document import DocTable, Document, Headline, Section

__all__ = ["adjudication_document", "annotators_document", "structured_annotators_document"]

#: Plain names of the flagged metrics.
FLAG_NAMES = {
    "loo_agreement": "agreement with the others",
    "gold_accuracy": "gold accuracy",
    "ds_accuracy": "Dawid-Skene accuracy",
    "js_divergence": "unusual label distribution",
    "median_seconds": "labelling speed",
    "longest_run": "long runs of one label",
    "spammer": "random-looking answers",
}
#: (header, key, numeric) of the annotator table.
_COLUMNS = (
    ("annotator", "annotator", False),
    ("labels", "n_labels", True),
    ("LOO", "loo_agreement", True),
    ("gold (95% CI)", "gold", True),
    ("DS", "ds_accuracy", True),
    ("DS κ", "ds_kappa", True),
    ("spam", "mace_spamming", True),
    ("JS", "js_divergence", True),
    ("s/label", "median_seconds", True),
    ("run", "longest_run", True),
    ("flags", "flags", False),
)
_LEGEND = (
    "LOO: agreement with the others' majority; DS: Dawid-Skene accuracy; DS κ: its kappa; "
    "spam: MACE spamming probability; JS: label-distribution divergence from the pool (bits); "
    "s/label: median seconds per label; run: longest run of one label."
)
_NAMED = 5


def _cell(row: Mapping[str, Any], key: str) -> str:
    value = row.get(key)
    if key == "gold":
        if row.get("gold_accuracy") is None:
            return DASH
        low, high = row["gold_ci95"]
        return f"{row['gold_accuracy']:.2f} ({low:.2f}-{high:.2f})"
    if key == "flags":
        return ", ".join(text(f) for f in row.get("flags") or [])
    if value is None:
        return DASH
    if isinstance(value, float):
        return f"{value:.1f}" if key == "median_seconds" else f"{value:.2f}"
    return text(value)


def _attention(report: Mapping[str, Any]) -> Headline:
    """Who needs attention and why (the flagged metrics of each flagged annotator)."""
    flags = report.get("flags") or []
    n = report.get("n_annotators", len(report.get("annotators") or []))
    if not flags:
        return Headline(f"No annotator flagged among {fmt_count(n)}.", status="pass")
    why: dict[str, list[str]] = {}
    for flag in flags:
        name = FLAG_NAMES.get(flag["metric"], text(flag["metric"]))
        why.setdefault(text(flag["annotator"]), []).append(name)
    named = [f"{who} ({', '.join(dict.fromkeys(reasons))})" for who, reasons in why.items()]
    more = len(named) - _NAMED
    listed = "; ".join(named[:_NAMED]) + (f"; and {more} more" if more > 0 else "")
    count = report.get("n_flagged", len(why))
    return Headline(
        f"{fmt_count(count)} of {fmt_count(n)} annotators need attention: {listed}. "
        "The reasons are in the Flags table.",
        status="fail",
    )


def _gold(report: Mapping[str, Any]) -> Section | None:
    gold = report.get("gold") or {}
    aggregators = gold.get("aggregators") or {}
    if not aggregators:
        return None
    rows = tuple(
        (
            text(name),
            fmt_value(m.get("value")),
            "—" if not m.get("ci95") else f"[{m['ci95'][0]:.3f}, {m['ci95'][1]:.3f}]",
            fmt_count(m.get("n")),
            text(m.get("reason") or ""),
        )
        for name, m in aggregators.items()
        if isinstance(m, Mapping)
    )
    table = DocTable(
        "Consensus accuracy against gold",
        ("method", "accuracy", "95% CI (Wilson)", "gold items", "note"),
        rows,
        ("text", "number", "number", "number", "text"),
        key="gold",
    )
    return Section("Gold", tables=(table,), key="gold")


def annotators_document(report: Mapping[str, Any], *, full_paths: bool = False) -> Document:
    """The annotator report (``AnnotatorReport.to_dict()``) as a document.

    The headline says who needs attention and why (the flagged metrics, named plainly);
    then the flags with their reasons, the annotator table (columns empty for everybody
    left out, with a note), gold accuracy of each aggregator, and notes.
    """
    people = report.get("annotators") or []
    cells = [[_cell(row, key) for _, key, _ in _COLUMNS] for row in people]
    keep = [j for j in range(len(_COLUMNS)) if any(row[j] not in (DASH, "") for row in cells)]
    dropped = [_COLUMNS[j][0] for j in range(len(_COLUMNS)) if j not in keep and people]
    note = _LEGEND + (f" Not shown (no values): {', '.join(dropped)}." if dropped else "")
    table = DocTable(
        "Annotators",
        tuple(_COLUMNS[j][0] for j in keep),
        tuple(tuple(row[j] for j in keep) for row in cells),
        tuple("number" if _COLUMNS[j][2] else "text" for j in keep),
        note=note,
        key="annotators",
    )
    flags = DocTable(
        "Flags",
        ("annotator", "what", "reason"),
        tuple(
            (
                text(f["annotator"]),
                FLAG_NAMES.get(f["metric"], text(f["metric"])),
                text(f["reason"]),
            )
            for f in report.get("flags") or []
        ),
        key="flags",
    )
    sections = [
        Section(
            "Data",
            facts=(
                ("Items", report.get("n_items")),
                ("Annotators", report.get("n_annotators")),
                ("Labels", report.get("n_ratings")),
            ),
            key="data",
        )
    ]
    if flags.rows:
        sections.append(Section("Who needs attention", tables=(flags,), key="attention"))
    sections.append(Section("Annotators", tables=(table,), key="table"))
    gold = _gold(report)
    sections += [gold] if gold is not None else []
    notes = [*report.get("notes", []), *(f"{k}: {v}" for k, v in report.get("reasons", {}).items())]
    if notes:
        sections.append(Section("Notes", text="\n\n".join(text(n) for n in notes), key="notes"))
    source = (report.get("input") or {}).get("source")
    title = f"Annotators of {text(source).rsplit('/', 1)[-1]}" if source else "Annotators"
    return Document(title, _attention(report), tuple(sections), provenance(report, full=full_paths))


def adjudication_document(
    queue: Mapping[str, Any],
    *,
    details: Mapping[str, Any] | None = None,
    category_names: Mapping[str, str] | None = None,
    files: Sequence[str] = (),
) -> Document:
    """The adjudication queue (``AdjudicationQueue.to_dict()``) as a document.

    The headline counts the queued items by reason; the table lists each queued item
    with its text (when ``details`` has it), who chose what, the consensus label and its
    confidence. ``files`` names where the queue was written.
    """
    details = details or {}
    names = {str(k): str(v) for k, v in (category_names or {}).items()}
    reasons = ", ".join(
        f"{k.replace('_', ' ')}: {fmt_count(v)}" for k, v in (queue.get("by_reason") or {}).items()
    )
    sentence = (
        f"{fmt_count(queue['n_queued'])} of {fmt_count(queue['n_items'])} items need "
        f"adjudication ({reasons}); consensus by {text(queue['method'])}, confidence "
        f"threshold {queue['threshold']:g}."
    )
    items = queue.get("items") or []
    with_text = any((details.get(str(e["item"])) or {}).get("text") for e in items)
    rows = []
    for entry in items:
        labels = {c["annotator"]: c["label"] for c in entry.get("candidates") or []}
        row: list[Any] = [text(entry["item"])]
        row += (
            [text((details.get(str(entry["item"])) or {}).get("text") or "")] if with_text else []
        )
        row += [
            text(entry["reason"]).replace("_", " "),
            who_chose(labels, names),
            DASH
            if entry.get("consensus_label") is None
            else category_label(entry["consensus_label"], names),
            fmt_value(entry.get("confidence")),
        ]
        rows.append(tuple(row))
    columns = (
        "item",
        *(("text",) if with_text else ()),
        "reason",
        "who chose what",
        "consensus",
        "confidence",
    )
    kinds = ("text", *(("snippet",) if with_text else ()), "text", "text", "text", "number")
    table = DocTable("Queued items", columns, tuple(rows), kinds, key="queue")
    sections = [Section("Queue", tables=(table,), key="queue")]
    if files:
        sections.append(Section("Files", facts=tuple(("written", f) for f in files)))
    return Document(
        "Adjudication queue",
        Headline(sentence),
        tuple(sections),
    )


#: Short column names of the structured annotator measures.
_SHORT = {
    "span_f1_exact": "F1 exact",
    "span_f1_overlap": "F1 overlap",
    "box_f1_50": "F1@.5",
    "box_f1_50_95": "F1@.5:.95",
    "polygon_f1_50": "F1@.5",
    "polygon_f1_50_95": "F1@.5:.95",
    "cuboid_f1_50": "F1@.5",
    "cuboid_f1_50_95": "F1@.5:.95",
    "keypoint_f1_50": "F1@OKS.5",
    "keypoint_f1_50_95": "F1@OKS.5:.95",
    "mean_iou": "IoU",
    "mean_oks": "OKS",
    "masi_agreement": "MASI",
    "kendall_tau": "tau",
    "text_similarity": "similarity",
    "boundary_errors": "boundary",
    "label_confusions": "label conf.",
}


def _structured_rows(report: Mapping[str, Any]) -> DocTable:
    primary = report["primary_metric"]
    rows = report["annotators"]
    measures = [k for k in rows[0] if f"{k}_ci95" in rows[0]] if rows else [primary]
    counts = [k for k in ("missed", "extra", *list(_SHORT)[-2:]) if rows and k in rows[0]]

    def cell(row: Mapping[str, Any], key: str) -> str:
        interval = row.get(f"{key}_ci95") if key == primary else None
        shown = fmt_value(row[key], 2)
        return f"{shown} ({interval[0]:.2f}-{interval[1]:.2f})" if interval else shown

    columns = (
        "annotator",
        "regions",
        *(_SHORT.get(m, m) for m in measures),
        "others",
        "vs cons.",
        *(_SHORT.get(c, c) for c in counts),
        "flags",
    )
    body = tuple(
        (
            text(row["annotator"]),
            fmt_count(row["n_regions"]),
            *(cell(row, m) for m in measures),
            fmt_value(row[f"others_{primary}"], 2),
            fmt_value(row["vs_consensus"].get(primary), 2),
            *(fmt_count(row[c]) for c in counts),
            ", ".join(text(f["rule"]) for f in row["flags"]),
        )
        for row in rows
    )
    kinds = ("text", *("number",) * (len(columns) - 2), "text")
    note = "others: the other annotators with each other; 95% CI over items."
    return DocTable("Annotators", columns, body, kinds, note=note, key="annotators")


def structured_annotators_document(report: Mapping[str, Any]) -> Document:
    """The structured annotator report (spans, boxes, sets, rankings, text) as a document:
    who needs attention and why, then each annotator's measures against the others, the
    consensus and gold, and the rules that could not run."""
    flags = report.get("flags") or []
    primary = text(report["primary_metric"])
    if flags:
        who: dict[str, list[str]] = {}
        for flag in flags:
            who.setdefault(text(flag["annotator"]), []).append(text(flag["rule"]))
        named = "; ".join(f"{k} ({', '.join(dict.fromkeys(v))})" for k, v in who.items())
        headline = Headline(
            f"{len(who)} of {len(report['annotators'])} annotators need attention: {named}.",
            status="fail",
        )
    else:
        headline = Headline(f"No annotator flagged ({primary} against the others).", status="pass")
    lines = [f"{text(f['annotator'])}: {text(f['rule'])}: {text(f['reason'])}" for f in flags]
    lines += [
        f"not run: {text(n['rule'])}"
        + (f" for {text(n['annotator'])}" if "annotator" in n else "")
        + f": {text(n['reason'])}"
        for n in report.get("rules_not_run") or []
    ]
    sections = [Section("Annotators", tables=(_structured_rows(report),), key="table")]
    if lines:
        sections.append(Section("Flags and rules not run", text="\n\n".join(lines), key="flags"))
    title = f"Annotators ({text(report['task'])}, best first by {primary} with the others)"
    return Document(title, headline, tuple(sections), provenance(report))
