"""The weekly quality report as a :class:`~labelaudit.report.document.Document`.

:func:`pipeline_document` selects and orders what the report dict
(:func:`~labelaudit.pipeline_report.build_pipeline_report`) holds: the verdict on the
latest batch first (gate status, Krippendorff's alpha with its CI against the gate, the
annotator driving disagreement), then the gates, the batches with their control charts,
the review plan's OC curve, the annotator leaderboard, the confused label pairs, the
adjudication queue and the provenance. Category codes are shown with their meaning from
``[categories]`` in ``labelaudit.toml``. Nothing is computed here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from labelaudit.pipeline_report._charts import render_pipeline_charts
from labelaudit.project.documents import gates_sentence, gates_table
from labelaudit.report.document import (
    DocTable,
    Document,
    Figure,
    Headline,
    Provenance,
    Section,
    category_label,
    short_path,
)
from labelaudit.report.format import DASH, fmt_value, text

__all__ = ["category_meanings", "pipeline_document"]

_ALPHA = "Krippendorff's α"


def category_meanings(report: Mapping[str, Any]) -> dict[str, str]:
    """Code -> meaning from the configuration the report was made with (``[categories]``)."""
    config = (report.get("provenance") or {}).get("config") or {}
    found = config.get("categories") if isinstance(config, Mapping) else None
    if not isinstance(found, Mapping):
        return {}
    return {str(code): str(meaning) for code, meaning in found.items()}


def pipeline_document(report: Mapping[str, Any], *, full_paths: bool = False) -> Document:
    """The weekly report as a document.

    Parameters
    ----------
    report : Mapping
        The pipeline report dict.
    full_paths : bool
        Absolute paths for the store and the input files (default: relative to the
        working folder, or the bare file name outside it).

    Returns
    -------
    Document
    """
    charts = render_pipeline_charts(report)
    meanings = category_meanings(report)
    sections = [
        _scope(report),
        Section(
            "Quality gates",
            tables=(gates_table(report["gates"]),),
            text="Each gate of labelaudit.toml on the latest batch in scope; an undefined "
            "value fails its gate unless the gate allows it.",
            key="gates",
        ),
        _batches(report, charts),
    ]
    if report.get("review") is not None:
        sections.append(_review(report["review"], charts))
    sections.append(_annotators(report))
    if report.get("labeling_functions"):
        sections.append(_labeling_functions(report["labeling_functions"]))
    sections += [
        _confusions(report, charts, meanings),
        *_rules(report),
        _queue(report, meanings),
        _provenance(report, full_paths),
    ]
    files = tuple(
        short_path(entry["source"], full=full_paths)
        for entry in report["provenance"]["inputs"]
        if entry.get("source")
    )
    return Document(
        text(report["title"]),
        _headline(report),
        tuple(sections),
        Provenance(tool_version=str(report["tool"]["version"]), files=files),
    )


def _headline(report: Mapping[str, Any]) -> Headline:
    """The verdict on the latest batch: gates, alpha with its CI against the gate, and the
    annotator with the lowest agreement with the others."""
    gates = report["gates"]
    sentence = gates_sentence(gates)
    latest = report["batches"][-1]
    threshold = report["charts"].get("threshold")
    ci = latest.get("krippendorff_alpha_ci95")
    figures = []
    metric = latest.get("tracked_metric", "krippendorff_alpha")
    if latest.get(metric) is not None:
        ci = ci if metric == "krippendorff_alpha" else None
        figures.append(
            Figure(_tracked_title(report), latest[metric], tuple(ci) if ci else None, threshold)
        )
    weakest = report.get("weakest_annotator")
    if weakest is not None:
        sentence += (
            f" Annotator {text(weakest['annotator'])} drives most disagreement: agreement with "
            f"the others {fmt_value(weakest['loo_agreement'], 2)} vs "
            f"{fmt_value(weakest['mean_loo_agreement'], 2)} on average over "
            f"{weakest['n_annotators']} annotators."
        )
    out = report["summary"]["out_of_control_batches"]
    if out:
        sentence += f" Out of control: {', '.join(map(text, out))}."
    return Headline(sentence, tuple(figures), "pass" if gates["passed"] else "fail")


def _scope(report: Mapping[str, Any]) -> Section:
    s = report["summary"]
    scope = report["scope"]
    window = {
        "since": f"batches ingested in the last {scope['since']}",
        "batch": f"batch {text(scope['batch'])}",
        "all": "all batches",
    }[scope["mode"]]
    facts = (
        ("project", report["project"]["name"]),
        ("scope", window),
        ("latest batch", s["latest_batch"]),
        ("batches", s["n_batches"]),
        ("annotations", s["n_annotations"]),
        ("items", s["n_items"]),
        ("annotators", s["n_annotators"]),
        ("adjudication queue", s["adjudication_queue"]),
    )
    return Section("Scope", facts=facts, key="scope")


def _batches(report: Mapping[str, Any], charts: Mapping[str, Any]) -> Section:
    rows = tuple(
        (
            b["name"],
            b["ingested_at"][:16].replace("T", " "),
            b.get(b.get("tracked_metric", "krippendorff_alpha")),
            _ci(b.get("krippendorff_alpha_ci95")),
            b["gold_error_rate"],
            _count(b["adjudication_queue"]),
            ", ".join(b["signals"]) or "in control",
            b["n_annotations"],
            b["n_items"],
            b["n_annotators"],
            b["n_rejected"],
            b["fleiss_kappa"],
            b["mean_confidence"],
            _count(b["n_flagged"]),
        )
        for b in report["batches"]
    )
    table = DocTable(
        "Batches",
        (
            "batch",
            "ingested (UTC)",
            _tracked_title(report),
            "95% CI",
            "gold error rate",
            "queue",
            "control charts",
            "annotations",
            "items",
            "annotators",
            "rejected rows",
            "Fleiss' κ",
            "mean confidence",
            "flagged annotators",
        ),
        rows,
        ("text", "text", "number", "text", "number", "number", "text", *("number",) * 7),
        key="batches",
        details=(
            "annotations",
            "items",
            "annotators",
            "rejected rows",
            "Fleiss' κ",
            "mean confidence",
            "flagged annotators",
        ),
    )
    shown = tuple(charts[k] for k in ("agreement", "gold") if k in charts)
    note = (
        ""
        if report["charts"].get("gold") is not None
        else " No gold error chart: no batch in the history has gold answers ([gold] in "
        "labelaudit.toml)."
    )
    return Section(
        "Batches",
        tables=(table,),
        charts=shown,
        text="Per-batch values stored at ingest: agreement is Krippendorff's α with its 95% "
        "CI; the control-chart column names the charts that signal at the batch." + note,
        key="batches",
    )


def _count(value: Any) -> Any:
    """A stored count (a float in ``batch_metrics``) as an int; None stays None."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _ci(ci: Any) -> str:
    return f"[{fmt_value(ci[0])}, {fmt_value(ci[1])}]" if ci else DASH


def _review(review: Mapping[str, Any], charts: Mapping[str, Any]) -> Section:
    plan = review["plan"]
    low, high = review["ci95"]
    facts = (
        ("batch", review["batch"]),
        ("plan", f"review n = {plan['n']}, accept at most c = {plan['c']} wrong"),
        (
            "decision",
            f"{str(review['decision']).upper()}: {review['errors']} wrong of "
            f"{review['reviewed']} reviewed",
        ),
        ("error rate", f"{fmt_value(review['error_rate'])} [{fmt_value(low)}, {fmt_value(high)}]"),
        ("lot size", review["batch_size"]),
    )
    return Section(
        "Review plan",
        facts=facts,
        charts=(charts["review"],) if "review" in charts else (),
        text="The operating characteristic (OC) curve: the probability that the plan in "
        "force accepts a batch, against the batch's true share of wrong annotations "
        f"({review['distribution']}).",
        key="review",
    )


def _annotators(report: Mapping[str, Any]) -> Section:
    rows = []
    for a in report["annotators"]:
        reasons = [f"{text(f['batch'])}: {text(f['reason'])}" for f in a["flags"]]
        reasons += [
            f"{text(d['batch'])}: {d['chart']} left the annotator's own control limits"
            for d in a["drift"]
        ]
        rows.append(
            (
                a["annotator"],
                a["n_labels"],
                a["loo_agreement"],
                a["gold_accuracy"],
                a["n_gold"],
                "; ".join(reasons) or DASH,
            )
        )
    table = DocTable(
        "Annotator leaderboard",
        (
            "annotator",
            "labels",
            "agreement with others",
            "gold accuracy",
            "gold answers",
            "flags and reasons",
        ),
        tuple(rows),
        ("text", "number", "number", "number", "number", "text"),
        key="annotators",
    )
    return Section(
        "Annotators",
        tables=(table,),
        text="Flagged annotators first, then by agreement with the others (pooled over the "
        "batches, weighted by labels compared); gold accuracy = correct / answers.",
        key="annotators",
    )


def _confusions(
    report: Mapping[str, Any], charts: Mapping[str, Any], meanings: Mapping[str, str]
) -> Section:
    rows = []
    for pair in report["confusions"]["pairs"]:
        examples = [
            f"{text(e['item'])} ({text(e['batch'])})"
            + (f": {text(e['text'])}" if e.get("text") else "")
            for e in pair["examples"]
        ]
        rows.append(
            (
                category_label(pair["label_a"], meanings),
                category_label(pair["label_b"], meanings),
                pair["count"],
                pair["share"],
                " | ".join(examples) or DASH,
            )
        )
    table = DocTable(
        "Most confused label pairs",
        ("label", "confused with", "count", "share", "example items"),
        tuple(rows),
        ("text", "text", "number", "number", "text"),
        key="confusions",
        details=("example items",),
    )
    return Section(
        "Confusions",
        tables=(table,),
        charts=(charts["confusions"],) if "confusions" in charts else (),
        text="Pairs of annotators on one item who gave these two labels, summed over each "
        "batch's stored top pairs; example items with their text when the file had one.",
        key="confusions",
    )


def _rules(report: Mapping[str, Any]) -> tuple[Section, ...]:
    """ "Rules most often disagreed on" when the project names a guideline file."""
    found = report.get("guideline_rules")
    if not found:
        return ()
    from labelaudit.guidelines.documents import rules_section

    return (rules_section(found["rules"], found["version"]),)


def _queue(report: Mapping[str, Any], meanings: Mapping[str, str]) -> Section:
    queue = report["adjudication"]
    rows = tuple(
        (
            e["item"],
            e["reason"],
            category_label(e["consensus_label"], meanings)
            if e["consensus_label"] is not None
            else None,
            e["confidence"],
            "; ".join(
                f"{text(c['annotator'])}: {category_label(c['label'], meanings)}"
                for c in e["candidates"]
            ),
        )
        for e in queue["latest_examples"]
    )
    sizes = ", ".join(f"{text(b['batch'])}: {b['n_queued']:,}" for b in queue["by_batch"])
    table = DocTable(
        f"Adjudication queue: {queue['n_queued']:,} items",
        ("item", "reason", "consensus", "confidence", "who chose what"),
        rows,
        ("text", "text", "text", "number", "text"),
        note=f"Per batch: {sizes}" if sizes else "",
        key="adjudication",
    )
    return Section(
        "Adjudication queue",
        tables=(table,),
        text="Tied items and items whose majority share is below the threshold; the first "
        "queued items of the latest batch.",
        key="adjudication",
    )


def _provenance(report: Mapping[str, Any], full_paths: bool) -> Section:
    p = report["provenance"]
    facts = (
        ("tool", f"labelaudit {text(p['tool_version'])}"),
        ("generated (UTC)", report["generated_at"]),
        ("store", short_path(p["store"], full=full_paths)),
        ("store schema version", p["schema_version"]),
        ("config sha256", p["config_sha256"]),
        ("config", json.dumps(p["config"], ensure_ascii=False, sort_keys=True)),
    )
    inputs = DocTable(
        "Inputs",
        ("batch", "file", "ingested (UTC)", "content sha256", "file sha256"),
        tuple(
            (
                e["batch"],
                short_path(e["source"], full=full_paths) if e.get("source") else None,
                str(e["ingested_at"])[:16].replace("T", " "),
                e["sha256"],
                e["input_sha256"],
            )
            for e in p["inputs"]
        ),
        key="inputs",
        details=("content sha256", "file sha256"),
    )
    return Section(
        "Provenance",
        facts=facts,
        tables=(inputs,),
        text="Generated from the results stored at ingest; this file is self-contained and "
        "loads nothing from the network.",
        key="provenance",
    )


def _labeling_functions(found: Mapping[str, Any]) -> Section:
    """The LF table of the latest batch with labeling-function votes."""
    from labelaudit.report.builders_weak import lf_section

    return lf_section(found, f"Labeling functions (batch {text(found['batch'])})")


def _tracked_title(report: Mapping[str, Any]) -> str:
    """The tracked agreement figure's name: Krippendorff's alpha, or a structured
    project's own metric (e.g. ``span_f1_exact``)."""
    metric = report["charts"].get("metric", "krippendorff_alpha")
    return _ALPHA if metric == "krippendorff_alpha" else str(metric)
