"""The tables of the pipeline report, as formatted unescaped cells (each renderer escapes).

They only select and format what the report dict holds (the agreement report's
:class:`~labelaudit.report._model.Table` and its number formatting).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from labelaudit.report.format import DASH, Column, Table, fmt_count, fmt_value, text

__all__ = ["COUNT_METRICS", "build_tables", "summary_facts"]

#: Gate metrics that are counts (shown without decimals).
COUNT_METRICS = frozenset(
    {"out_of_control", "drifting_annotators", "adjudication_queue", "n_flagged", "gold_errors"}
)


def summary_facts(report: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, value) facts of the header."""
    s = report["summary"]
    scope = report["scope"]
    window = {
        "since": f"batches ingested in the last {scope['since']}",
        "batch": f"batch {text(scope['batch'])}",
        "all": "all batches",
    }[scope["mode"]]
    return [
        ("Project", text(report["project"]["name"])),
        ("Scope", window),
        ("Quality gates", "PASSED" if s["passed"] else "FAILED"),
        ("Latest batch", text(s["latest_batch"])),
        ("Batches", fmt_count(s["n_batches"])),
        ("Annotations", fmt_count(s["n_annotations"])),
        ("Items", fmt_count(s["n_items"])),
        ("Annotators", fmt_count(s["n_annotators"])),
        ("Out-of-control batches", ", ".join(map(text, s["out_of_control_batches"])) or "none"),
        ("Adjudication queue", fmt_count(s["adjudication_queue"])),
    ]


def _gates(report: Mapping[str, Any]) -> Table:
    gates = report["gates"]
    rows = tuple(
        (
            text(g["name"]),
            text(g["metric"]),
            fmt_count(g["value"]) if g["metric"] in COUNT_METRICS else fmt_value(g["value"]),
            f"{g['op']} {g['threshold']:g}",
            g["verdict"].upper(),
            text(g["reason"]),
        )
        for g in gates["gates"]
    )
    notes = "; ".join([f"batch {text(gates['batch'])}", *map(text, gates.get("notes", []))])
    return Table(
        key="gates",
        title="Quality gates",
        columns=(
            Column("gate"),
            Column("metric"),
            Column("value", True),
            Column("rule"),
            Column("verdict"),
            Column("reason"),
        ),
        rows=rows,
        description="Each gate of labelaudit.toml on the latest batch in scope; an undefined "
        "value fails its gate unless the gate allows it.",
        note=notes,
    )


def _batches(report: Mapping[str, Any]) -> Table:
    rows = tuple(
        (
            text(b["name"]),
            b["ingested_at"][:16].replace("T", " "),
            fmt_count(b["n_annotations"]),
            fmt_count(b["n_items"]),
            fmt_value(b[b.get("tracked_metric", "krippendorff_alpha")]),
            fmt_value(b["gold_error_rate"]),
            fmt_value(b["mean_confidence"]),
            fmt_count(b["adjudication_queue"]),
            fmt_count(b["n_flagged"]),
            ", ".join(b["signals"]) or "in control",
        )
        for b in report["batches"]
    )
    return Table(
        key="batches",
        title="Batches",
        columns=(
            Column("batch"),
            Column("ingested (UTC)"),
            Column("annotations", True),
            Column("items", True),
            Column(_tracked_title(report), True),
            Column("gold error rate", True),
            Column("mean confidence", True),
            Column("queue", True),
            Column("flagged", True),
            Column("control charts"),
        ),
        rows=rows,
        description="Per-batch values stored at ingest; the control-chart column names the "
        "charts that signal at the batch.",
    )


def _annotators(report: Mapping[str, Any]) -> Table:
    rows = []
    for a in report["annotators"]:
        reasons = [f"{text(f['batch'])}: {text(f['reason'])}" for f in a["flags"]]
        reasons += [
            f"{text(d['batch'])}: {d['chart']} left the annotator's own control limits"
            for d in a["drift"]
        ]
        rows.append(
            (
                text(a["annotator"]),
                fmt_count(a["n_labels"]),
                fmt_value(a["loo_agreement"]),
                fmt_value(a["gold_accuracy"]),
                fmt_count(a["n_gold"]),
                "; ".join(reasons) or DASH,
            )
        )
    return Table(
        key="annotators",
        title="Annotator leaderboard",
        columns=(
            Column("annotator"),
            Column("labels", True),
            Column("agreement with others", True),
            Column("gold accuracy", True),
            Column("gold answers", True),
            Column("flags and reasons"),
        ),
        rows=tuple(rows),
        description="Flagged annotators first, then by agreement with the others (pooled "
        "over the batches, weighted by labels compared); gold accuracy = correct / answers.",
    )


def _confusions(report: Mapping[str, Any]) -> Table:
    rows = []
    for pair in report["confusions"]["pairs"]:
        examples = [
            f"{text(e['item'])} ({text(e['batch'])})"
            + (f": {text(e['text'])}" if e.get("text") else "")
            for e in pair["examples"]
        ]
        rows.append(
            (
                text(pair["label_a"]),
                text(pair["label_b"]),
                fmt_count(pair["count"]),
                fmt_value(pair["share"]),
                " | ".join(examples) or DASH,
            )
        )
    return Table(
        key="confusions",
        title="Most confused label pairs",
        columns=(
            Column("label"),
            Column("confused with"),
            Column("count", True),
            Column("share", True),
            Column("example items"),
        ),
        rows=tuple(rows),
        description="Pairs of annotators on one item who gave these two labels, summed over "
        "each batch's stored top pairs; example items with their text when the file had one.",
    )


def _queue(report: Mapping[str, Any]) -> Table:
    queue = report["adjudication"]
    rows = tuple(
        (
            text(e["item"]),
            text(e["reason"]),
            text(e["consensus_label"]),
            fmt_value(e["confidence"]),
            ", ".join(f"{text(c['annotator'])}: {text(c['label'])}" for c in e["candidates"]),
        )
        for e in queue["latest_examples"]
    )
    sizes = ", ".join(f"{text(b['batch'])}: {b['n_queued']}" for b in queue["by_batch"])
    return Table(
        key="adjudication",
        title=f"Adjudication queue: {queue['n_queued']:,} items",
        columns=(
            Column("item"),
            Column("reason"),
            Column("consensus"),
            Column("confidence", True),
            Column("labels"),
        ),
        rows=rows,
        description="Tied items and items whose majority share is below the threshold; the "
        "first queued items of the latest batch.",
        note=f"Per batch: {sizes}" if sizes else None,
    )


def build_tables(report: Mapping[str, Any]) -> list[Table]:
    """Gates, batches, annotator leaderboard, confusions and the adjudication queue."""
    return [
        _gates(report),
        _batches(report),
        _annotators(report),
        _confusions(report),
        _queue(report),
    ]


def _tracked_title(report: Mapping[str, Any]) -> str:
    """The batches table's agreement column: Krippendorff's alpha, or a structured
    project's own metric (e.g. ``span_f1_exact``)."""
    metric = report["charts"].get("metric", "krippendorff_alpha")
    return "Krippendorff's α" if metric == "krippendorff_alpha" else str(metric)
