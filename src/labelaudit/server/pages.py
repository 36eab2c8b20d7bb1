"""The pages: documents (:mod:`labelaudit.report.document`) built from the views' dicts.

Each page is a :class:`~labelaudit.report.document.Document` rendered through
``page.html.j2``, which extends the one base template of the reports and adds the
navigation, the CSRF meta tag and, on the queue and item pages, a partial with the forms
(all data autoescaped by Jinja2). Links are ``href`` table cells built from
percent-encoded names, so no data can become markup or a ``javascript:`` URL.
"""

from __future__ import annotations

import functools
from typing import Any
from urllib.parse import quote

from labelaudit.report.document import DocTable, Document, Figure, Headline, Section

__all__ = [
    "annotator_document",
    "annotators_document",
    "batch_document",
    "batches_document",
    "decisions_document",
    "item_document",
    "message_document",
    "overview_document",
    "queue_document",
    "render",
]


@functools.cache
def _environment() -> Any:
    import jinja2

    loader = jinja2.ChoiceLoader(
        [
            jinja2.PackageLoader("labelaudit.server", "templates"),
            jinja2.PackageLoader("labelaudit.report", "templates"),
        ]
    )
    return jinja2.Environment(
        loader=loader,
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(document: Document, **context: Any) -> str:
    """The page of ``document``; ``context``: ``user``, ``csrf``, ``extra`` (a partial),
    ``scripts`` and the partial's data."""
    from labelaudit.report.document import render_page

    context.setdefault("user", None)
    context.setdefault("csrf", "")
    context.setdefault("extra", None)
    context.setdefault("scripts", ())
    return render_page(document, _environment(), "page.html.j2", **context)


def link(kind: str, name: str) -> tuple[str, str]:
    """``(name, "/kind/NAME")`` with the name percent-encoded (an ``href`` cell)."""
    return (name, f"/{kind}/{quote(name, safe='')}")


def _gates_table(gates: list[dict[str, Any]]) -> DocTable:
    return DocTable(
        "Gates",
        ("gate", "metric", "rule", "value", "verdict", "reason"),
        tuple(
            (
                g["name"],
                g["metric"],
                f"{g['op']} {g['threshold']:g}",
                g["value"],
                g["verdict"],
                g.get("reason") or "",
            )
            for g in gates
        ),
        ("text", "text", "text", "number", "text", "text"),
    )


def _status(passed: bool | None) -> str:
    return "info" if passed is None else ("pass" if passed else "fail")


def overview_document(status: dict[str, Any], charts: tuple[Any, ...]) -> Document:
    """Gate status of the latest batch, trends with control limits, open adjudications and
    the annotators needing attention."""
    name = status["project"]["name"]
    if not status["n_batches"]:
        return message_document(
            f"{name}: overview", "No batch yet: ingest one (labelaudit ingest FILE --batch NAME)."
        )
    latest = status["latest_batch"]
    verdict = "every gate passed" if status["passed"] else "a gate failed"
    sentence = (
        f"Latest batch {latest}: {verdict}; {status['open_adjudications']:,} open "
        f"adjudications; {len(status['attention'])} annotators need attention."
    )
    attention = DocTable(
        "Annotators needing attention",
        ("annotator", "agreement", "gold accuracy", "why"),
        tuple(
            (
                link("annotators", a["annotator"]),
                a["loo_agreement"],
                a["gold_accuracy"],
                "; ".join(
                    [f"{f['batch']}: {f['reason']}" for f in a["flags"]]
                    + [f"{d['batch']}: {d['chart']} chart signals" for d in a["drift"]]
                ),
            )
            for a in status["attention"]
        ),
        ("href", "number", "number", "text"),
    )
    trends = status["trends"]
    trend = DocTable(
        "Per batch",
        ("batch", "alpha", "gold error rate", "signals"),
        tuple(
            (link("batches", b), a, g, ", ".join(s))
            for b, a, g, s in zip(
                trends["batches"],
                trends["krippendorff_alpha"],
                trends["gold_error_rate"],
                trends["signals"],
                strict=True,
            )
        ),
        ("href", "number", "number", "text"),
    )
    facts = (
        ("batches", status["n_batches"]),
        ("annotations", status["summary"]["n_annotations"]),
        ("open adjudications", status["open_adjudications"]),
        ("decided items (expert decisions)", status["decided_items"]),
    )
    return Document(
        f"{name}: overview",
        Headline(sentence, status=_status(status["passed"])),
        (
            Section(f"Gates of {latest}", tables=(_gates_table(status["gates"]),)),
            Section("Trends", charts=charts, tables=(trend,)),
            Section("Adjudication", facts=facts),
            Section("Annotators", tables=(attention,)),
        ),
    )


def batches_document(data: dict[str, Any]) -> Document:
    """Every batch with its headline values."""
    rows = data["batches"]
    table = DocTable(
        "Batches",
        ("batch", "annotations", "items", "alpha", "gold error", "open adjudications", "signals"),
        tuple(
            (
                link("batches", r["name"]),
                r["n_annotations"],
                r["n_items"],
                r["krippendorff_alpha"],
                r["gold_error_rate"],
                r["open_adjudications"],
                ", ".join(r["signals"]),
            )
            for r in rows
        ),
        ("href", "number", "number", "number", "number", "number", "text"),
    )
    return Document("Batches", Headline(f"{len(rows)} batches."), (Section("", tables=(table,)),))


def batch_document(data: dict[str, Any]) -> Document:
    """One batch: gates, coefficients with CIs, confusions, worst items, annotators."""
    from labelaudit.report.builders import agreement_document

    batch = data["batch"]
    gates = data["gates"]
    agreement = agreement_document(data["agreement"]) if data["agreement"] else None
    verdict = "every gate passed" if gates["passed"] else "a gate failed"
    figures: tuple[Figure, ...] = agreement.headline.figures if agreement else ()
    sentence = f"Batch {batch['name']}: {verdict}." + (
        f" {agreement.headline.sentence}" if agreement else ""
    )
    pairs = DocTable(
        "Most confused label pairs",
        ("label a", "label b", "count", "share", "example items"),
        tuple(
            (
                p["label_a"],
                p["label_b"],
                p["count"],
                p["share"],
                ", ".join(e["item"] for e in p["examples"]),
            )
            for p in data["confusions"]["pairs"]
        ),
        ("text", "text", "number", "number", "text"),
    )
    worst = DocTable(
        "Worst items",
        ("item", "ratings", "agreement"),
        tuple(
            (link("items", str(w["item"])), w["n_ratings"], w["observed_agreement"])
            for w in data["worst_items"]
        ),
        ("href", "number", "number"),
    )
    facts = tuple(
        (k, batch.get(k))
        for k in ("n_annotations", "n_items", "n_annotators", "n_rejected", "ingested_at")
    )
    sections = [
        Section("Gates", tables=(_gates_table(gates["gates"]),)),
        Section("Data", facts=facts),
    ]
    if agreement is not None:
        sections += [s for s in agreement.sections if s.title == "Agreement"]
    sections += [
        Section("Confusions", tables=(pairs,)),
        Section("Disagreement", tables=(worst,)),
        Section("Annotators", tables=(_annotator_table(data["annotators"]),)),
    ]
    return Document(
        f"Batch {batch['name']}",
        Headline(sentence, figures, _status(gates["passed"])),
        tuple(sections),
    )


def _annotator_table(rows: list[dict[str, Any]]) -> DocTable:
    return DocTable(
        "Annotators",
        ("annotator", "labels", "agreement", "gold answers", "gold accuracy", "flags"),
        tuple(
            (
                link("annotators", a["annotator"]),
                a["n_labels"],
                a["loo_agreement"],
                a["n_gold"],
                a["gold_accuracy"],
                "; ".join(f"{f['batch']}: {f['reason']}" for f in a["flags"]),
            )
            for a in rows
        ),
        ("href", "number", "number", "number", "number", "text"),
    )


def annotators_document(data: dict[str, Any]) -> Document:
    """Every annotator over the history (flagged first)."""
    rows = data["annotators"]
    flagged = sum(bool(a["flags"]) for a in rows)
    return Document(
        "Annotators",
        Headline(f"{len(rows)} annotators; {flagged} flagged in some batch."),
        (Section("", tables=(_annotator_table(rows),)),),
    )


def annotator_document(data: dict[str, Any]) -> Document:
    """One annotator: trends, flags with reasons, disagreements with the item text."""
    name = data["annotator"]
    keys = sorted({k for row in data["trend"] for k in row if k != "batch"})
    trend = DocTable(
        "Per batch",
        ("batch", *keys),
        tuple((link("batches", r["batch"]), *(r.get(k) for k in keys)) for r in data["trend"]),
        ("href", *("number",) * len(keys)),
    )
    flags = DocTable(
        "Flags",
        ("batch", "metric", "value", "reason"),
        tuple((f["batch"], f["metric"], f.get("value"), f["reason"]) for f in data["flags"]),
        ("text", "text", "number", "text"),
    )
    disagreements = DocTable(
        f"Disagreements in {data['disagreements_batch']}",
        ("item", "their label", "most common label", "votes", "text"),
        tuple(
            (
                link("items", d["item"]),
                d["label"],
                d["most_common"],
                f"{d['n_most_common']} of {d['n_labels']}",
                d["text"] or "",
            )
            for d in data["disagreements"]
        ),
        ("href", "text", "text", "text", "text"),
    )
    sentence = (
        f"{name}: {len(data['trend'])} batches, {len(data['flags'])} flags; "
        f"{len(data['disagreements'])} disagreements with the most common label in "
        f"{data['disagreements_batch']}."
    )
    calibration: tuple[Section, ...] = ()
    if data.get("calibration"):
        from labelaudit.guidelines.documents import calibration_section

        calibration = (calibration_section(data["calibration"]),)
    return Document(
        f"Annotator {name}",
        Headline(sentence, status="fail" if data["flags"] else "info"),
        (
            Section("Trends", tables=(trend,)),
            *calibration,
            Section("Flags", tables=(flags,)),
            Section("Disagreements", tables=(disagreements,)),
        ),
    )


def item_document(data: dict[str, Any]) -> Document:
    """One item: its labels per batch, consensus with confidence, decisions."""
    sections = []
    for entry in data["batches"]:
        c = entry["consensus"]
        label = "tie" if c["tied"] else c["label"]
        labels = DocTable(
            f"Labels in {entry['batch']}",
            ("annotator", "label"),
            tuple((link("annotators", x["annotator"]), x["label"]) for x in entry["labels"]),
            ("href", "text"),
        )
        facts = (("consensus (majority)", label), ("confidence", c["confidence"]))
        sections.append(Section(f"Batch {entry['batch']}", facts=facts, tables=(labels,)))
    history = DocTable(
        "Decisions",
        ("label", "decided by", "decided at", "revision", "source"),
        tuple(
            (d["label"], d["decided_by"], d["decided_at"], d["revision"], d["source"])
            for d in data["decisions"]
        ),
        ("text", "text", "text", "number", "text"),
    )
    sections.append(Section("Decision history", tables=(history,)))
    decided = data["decision"]
    sentence = f"Item {data['item']}: " + (
        f"decided {decided}." if decided is not None else "no expert decision yet."
    )
    if data["text"]:
        sections.insert(0, Section("Text", text=data["text"]))
    return Document(f"Item {data['item']}", Headline(sentence), tuple(sections))


def queue_document(data: dict[str, Any]) -> Document:
    """The adjudication queue's counts (the entries and their forms are the page's partial)."""
    facts = (
        ("open", data["n_open"]),
        ("decided", data["n_decided"]),
        ("matching the filter", data["n_matching"]),
    )
    sentence = (
        f"{data['n_open']:,} items to adjudicate, {data['n_decided']:,} decided. Keys: j/k "
        "move, 1-9 decide with the n-th label."
    )
    return Document("Adjudication queue", Headline(sentence), (Section("Counts", facts=facts),))


def decisions_document(data: dict[str, Any]) -> Document:
    """The decision history, newest last."""
    table = DocTable(
        "Decisions",
        ("item", "label", "decided by", "decided at", "revision", "source"),
        tuple(
            (
                link("items", d["item"]),
                d["label"],
                d["decided_by"],
                d["decided_at"],
                d["revision"],
                d["source"],
            )
            for d in data["decisions"]
        ),
        ("href", "text", "text", "text", "number", "text"),
    )
    sentence = f"{data['decided_items']:,} items decided ({data['n_decisions']:,} decisions)."
    return Document("Expert decisions", Headline(sentence), (Section("", tables=(table,)),))


def message_document(title: str, sentence: str, status: str = "info") -> Document:
    """A page that only says one thing (an error, an empty project, the login)."""
    return Document(title, Headline(sentence, status=status))
