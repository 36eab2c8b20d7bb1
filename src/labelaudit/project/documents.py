"""Documents of the project commands: ``check``, ``status`` and ``ingest``, verdict first.

Each builder takes the command's ``to_dict()`` (the ``--format json`` contract, unchanged)
and returns a :class:`~labelaudit.report.document.Document` that the shared renderers turn
into terminal text (80 columns), Markdown or HTML. The verdict sentence names every gate
that failed and by how much (the distance from the value to the threshold); nothing else
is computed. File and folder paths are relative to the working directory unless
``full_paths`` (``--provenance full``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from labelaudit.report.document import (
    DocTable,
    Document,
    Headline,
    Provenance,
    Section,
    short_path,
)
from labelaudit.report.format import fmt_value, text

__all__ = [
    "check_document",
    "gate_margin",
    "gates_sentence",
    "gates_table",
    "ingest_document",
    "status_document",
]

#: Gate metrics that are counts (shown without decimals).
COUNT_METRICS = frozenset(
    {
        "out_of_control",
        "drifting_annotators",
        "adjudication_queue",
        "n_flagged",
        "gold_errors",
        "review_errors",
        "review_accepted",
    }
)


def _number(metric: str, value: Any) -> str:
    if value is None:
        return "undefined"
    if metric in COUNT_METRICS and float(value).is_integer():
        return f"{int(value):,}"
    return fmt_value(value)


def gate_margin(gate: Mapping[str, Any]) -> float | None:
    """How far a gate's value is from its threshold (``|value - threshold|``); None when
    the value is undefined."""
    value = gate.get("value")
    return None if value is None else abs(float(value) - float(gate["threshold"]))


def _failure(gate: Mapping[str, Any]) -> str:
    """``"agreement: krippendorff_alpha 0.587, needs >= 0.667 (short by 0.080)"``."""
    metric = str(gate["metric"])
    rule = f"{gate['op']} {gate['threshold']:g}"
    if gate.get("value") is None:
        return f"{text(gate['name'])}: {text(metric)} is undefined, needs {rule}"
    margin = gate_margin(gate) or 0.0
    word = {">=": "short by", ">": "short by", "<=": "over by", "<": "over by"}.get(
        str(gate["op"]), "off by"
    )
    return (
        f"{text(gate['name'])}: {text(metric)} {_number(metric, gate['value'])}, needs {rule} "
        f"({word} {_number(metric, margin)})"
    )


def gates_sentence(check: Mapping[str, Any]) -> str:
    """The verdict of a check result dict in one sentence: which gates failed, by how much.

    ``"Batch 2024-w06 fails 2 of 2 gates: agreement: krippendorff_alpha 0.587, needs >=
    0.667 (short by 0.080); in-control: out_of_control 1, needs == 0 (off by 1)."``
    """
    gates = list(check.get("gates") or [])
    failed = [g for g in gates if g["verdict"] != "pass"]
    if check.get("passed"):
        allowed = [g for g in failed if g["verdict"] == "undefined"]
        extra = f" ({len(allowed)} undefined, allowed)" if allowed else ""
        return f"Batch {text(check['batch'])} passes all {len(gates)} gates{extra}."
    from labelaudit.project.check import gate_failed  # here: check loads the charts' models

    failing = [g for g in failed if gate_failed(g)]
    failing = failing or failed
    return (
        f"Batch {text(check['batch'])} fails {len(failing)} of {len(gates)} gates: "
        + "; ".join(_failure(g) for g in failing)
        + "."
    )


def gates_table(check: Mapping[str, Any]) -> DocTable:
    """One row per gate: gate, metric, value, rule, verdict, reason."""
    rows = tuple(
        (
            g["name"],
            g["metric"],
            _number(str(g["metric"]), g["value"]) if g["value"] is not None else None,
            f"{g['op']} {g['threshold']:g}",
            str(g["verdict"]).upper(),
            g["reason"],
        )
        for g in check.get("gates") or []
    )
    notes = "; ".join(text(n) for n in check.get("notes") or [])
    return DocTable(
        "Quality gates",
        ("gate", "metric", "value", "rule", "verdict", "reason"),
        rows,
        ("text", "text", "number", "text", "text", "text"),
        note=notes,
        key="gates-of-batch",
    )


def check_document(check: Mapping[str, Any]) -> Document:
    """The ``check`` result as a document: the verdict sentence, then the gate table."""
    status = "pass" if check.get("passed") else "fail"
    sections = [Section("Gates", tables=(gates_table(check),), key="gates")]
    alert = check.get("alert")
    if alert is not None:
        sent = (
            f"sent (HTTP {alert.get('status')})"
            if alert.get("sent")
            else f"failed: {alert.get('error')}"
        )
        sections.append(Section("Alert", facts=(("url", alert.get("url")), ("alert", sent))))
    return Document(
        f"Quality gates: batch {text(check['batch'])}",
        Headline(gates_sentence(check), status=status),
        tuple(sections),
    )


def status_document(status: Mapping[str, Any], *, full_paths: bool = False) -> Document:
    """The project's batches and rejected rows, with a one-sentence summary."""
    project = status.get("project") or {}
    batches = list(status.get("batches") or [])
    name = text(project.get("name", "project"))
    if batches:
        latest = batches[-1]
        sentence = (
            f"{name}: {len(batches):,} batches, {status.get('n_annotations', 0):,} annotations; "
            f"latest {text(latest['name'])} ingested "
            f"{str(latest['ingested_at'])[:16].replace('T', ' ')} UTC; "
            f"{status.get('rejected_rows', 0):,} rejected rows kept in the store."
        )
    else:
        sentence = f"{name}: no batch yet (labelaudit ingest FILE --batch NAME)."
    table = DocTable(
        "Batches",
        ("batch", "annotations", "items", "annotators", "rejected", "ingested (UTC)", "sha256"),
        tuple(
            (
                b["name"],
                b["n_annotations"],
                b["n_items"],
                b["n_annotators"],
                b["n_rejected"],
                str(b["ingested_at"])[:19].replace("T", " "),
                str(b["sha256"])[:12],
            )
            for b in batches
        ),
        ("text", "number", "number", "number", "number", "text", "text"),
        key="batches",
        details=("sha256",),
    )
    sections = [Section("Batches", tables=(table,), key="batches")]
    rejects = _rejects_table(status.get("rejects") or [])
    if rejects.rows:
        sections.append(Section("Rejected rows", tables=(rejects,), key="rejects"))
    root = project.get("root")
    files = (short_path(root, full=full_paths),) if isinstance(root, str) else ()
    facts = (
        ("project folder", files[0] if files else None),
        ("config sha256", project.get("config_sha256")),
        ("store schema version", project.get("schema_version")),
    )
    sections.append(Section("Project", facts=facts, key="project"))
    return Document(
        f"Status of {name}",
        Headline(sentence),
        tuple(sections),
        Provenance(files=files),
    )


def _rejects_table(
    rejects: Sequence[Mapping[str, Any]], title: str = "First rejected rows"
) -> DocTable:
    return DocTable(
        title,
        ("batch", "line", "field", "problem", "expected", "actual"),
        tuple(
            (
                r.get("batch"),
                r.get("line"),
                r.get("field"),
                r.get("problem"),
                r.get("expected"),
                r.get("actual"),
            )
            for r in rejects
        ),
        ("text", "number", "text", "text", "text", "text"),
        key="rejects",
    )


def ingest_document(result: Mapping[str, Any], *, full_paths: bool = False) -> Document:
    """The ``ingest`` result: stored, replaced or a duplicate, and the rejected rows."""
    source = short_path(result["source"], full=full_paths)
    batch = text(result["batch"])
    if result["outcome"] == "duplicate":
        sentence = (
            f"{source}: already ingested as batch '{batch}' (same content, sha256 "
            f"{str(result['sha256'])[:12]}); nothing to do."
        )
    else:
        verb = "replaced" if result["outcome"] == "replaced" else "stored"
        sentence = (
            f"{source}: {verb} batch '{batch}': {result['n_annotations']:,} annotations, "
            f"{result['n_items']:,} items, {result['n_annotators']:,} annotators"
            + (
                f"; {result['n_rejected']:,} rejected rows kept in the store"
                if result.get("n_rejected")
                else ""
            )
            + "."
        )
    facts = (
        ("outcome", result["outcome"]),
        ("batch", result["batch"]),
        ("requested name", result["requested"]),
        ("content sha256", result["sha256"]),
        ("results stored", ", ".join(result.get("results") or []) or None),
    )
    sections = [Section("Batch", facts=facts, key="batch")]
    rejects = _rejects_table(
        [{**r, "batch": result["batch"]} for r in result.get("rejects") or []],
        title="Rejected rows (first 20)",
    )
    if rejects.rows:
        sections.append(Section("Rejected rows", tables=(rejects,), key="rejects"))
    return Document(
        f"Ingest of batch {batch}",
        Headline(sentence),
        tuple(sections),
        Provenance(files=(source,), input_sha256=result.get("sha256")),
    )
