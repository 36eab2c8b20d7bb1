"""The agreement report as a document: categorical and structured (spans, sets, boxes, ...).

Builders only select, order and word what the report dict already holds; the one summary
formed here is which annotator has the lowest mean pairwise agreement (a mean of the
reported pairwise values). Item text and the label of each annotator come from
``details`` (:func:`labelaudit.quality.item_details`), category meanings from
``category_names`` (the ``[categories]`` table of ``labelaudit.toml``, or given).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from labelaudit.report._format import fmt_ci, fmt_count, fmt_p, fmt_value, text
from labelaudit.report._metrics import flat_metrics, get_path, metric_label, metric_names
from labelaudit.report.builders_common import category_label, provenance, who_chose
from labelaudit.report.builders_glossary import how_to_read
from labelaudit.report.document import DocTable, Document, Figure, Headline, Section

__all__ = ["agreement_document"]

#: The coefficient the headline quotes, first defined one wins (flattened names).
PREFERRED = (
    "krippendorff_alpha",
    "fleiss_kappa",
    "cohen_kappa",
    "gwet_ac",
    "span_f1 · exact · micro",
    "masi_alpha",
    "box_f1 · iou50",
    "polygon_f1 · iou50",
    "cuboid_f1 · iou50",
    "keypoint_f1 · oks50",
    "kendall_w",
    "text_alpha",
    "percent_agreement",
)
_NOTE_KEYS = ("n_items", "se_h0", "z", "p")
_MAX_EXAMPLES = 5


def _weakest_annotator(
    pairwise: Sequence[Mapping[str, Any]], key: str
) -> tuple[str, float, float] | None:
    """(annotator, its mean pairwise value, the mean of all pairs) for the lowest annotator."""
    sums: dict[str, list[float]] = {}
    values = [p[key] for p in pairwise if isinstance(p.get(key), (int, float))]
    if len(values) < 3:
        return None
    for pair in pairwise:
        value = pair.get(key)
        if isinstance(value, (int, float)):
            for name in (pair["a"], pair["b"]):
                sums.setdefault(str(name), []).append(float(value))
    means = {name: sum(v) / len(v) for name, v in sums.items()}
    name = min(means, key=lambda n: (means[n], n))
    return name, means[name], sum(values) / len(values)


def _headline(data: Mapping[str, Any], gate: float | None) -> Headline:
    """The coefficient to quote with its CI against the gate, and who drives disagreement."""
    metrics = flat_metrics(data.get("metrics") or {})
    key = next((k for k in PREFERRED if (metrics.get(k) or {}).get("value") is not None), None)
    if key is None:
        return Headline("No coefficient is defined for this table.")
    entry = metrics[key]
    ci = tuple(entry["ci95"]) if entry.get("ci95") and None not in entry["ci95"] else None
    figure = Figure(metric_label(key, data), entry["value"], ci, gate)
    sentence = figure.sentence()
    status = "info" if figure.passed is None else ("pass" if figure.passed else "fail")
    weakest = _weakest_annotator(list(data.get("pairwise") or []), "percent_agreement")
    if weakest is not None and round(weakest[1], 2) < round(weakest[2], 2):
        sentence += (
            f"; annotator {weakest[0]} drives most disagreement (mean pairwise agreement "
            f"{fmt_value(weakest[1], 2)} vs {fmt_value(weakest[2], 2)} over all pairs)"
        )
    return Headline(sentence + ".", (figure,), status)


def _extra_note(name: str, value: Any) -> str:
    """One coefficient-specific extra field, e.g. ``"z = 40.1200"`` or ``"p < 0.0001"``."""
    if name == "p":
        shown = fmt_p(value)
        return f"p < {shown[1:]}" if shown.startswith("<") else f"p = {shown}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"{name} = {text(value)}"
    return f"{name} = {value:,}" if isinstance(value, int) else f"{name} = {fmt_value(value, 4)}"


def _coefficients(data: Mapping[str, Any], charts: Mapping[str, Any]) -> Section | None:
    metrics = flat_metrics(data.get("metrics"))
    if not isinstance(metrics, Mapping):
        return None
    rows = []
    for name in metric_names(metrics):
        m = metrics[name]
        if not isinstance(m, Mapping):
            continue
        notes = [text(m["reason"])] if m.get("reason") else []
        notes += [
            _extra_note(k, m[k])
            for k in _NOTE_KEYS
            if m.get(k) is not None and not isinstance(m[k], Mapping | list)
        ]
        if isinstance(m.get("ci95_exact"), list):  # perfect agreement (docs/agreement.md)
            notes.append(f"exact 95% CI (Clopper-Pearson) {fmt_ci(m['ci95_exact'])}")
        rows.append(
            (
                metric_label(name, data),
                fmt_value(m.get("value")),
                fmt_ci(m.get("ci95")),
                fmt_value(m.get("se"), 4),
                text(m.get("ci_method") or "—"),
                "; ".join(notes),
            )
        )
    if not rows:
        return None
    table = DocTable(
        "Agreement coefficients",
        ("Coefficient", "Value", "95% CI", "SE", "CI method", "Note"),
        tuple(rows),
        ("text", "number", "number", "number", "text", "text"),
        key="metrics",
    )
    text_ = "Each coefficient with its standard error and 95% confidence interval."
    chart = (charts["coefficients"],) if "coefficients" in charts else ()
    return Section(
        "Agreement coefficients", tables=(table,), charts=chart, text=text_, key="metrics"
    )


def _icc(data: Mapping[str, Any]) -> Section | None:
    icc = get_path(data, "metrics", "icc")
    if not isinstance(icc, Mapping):
        return None
    forms: Mapping[str, Any] = icc["forms"] if isinstance(icc.get("forms"), Mapping) else {}
    rows = tuple(
        (
            text(form),
            fmt_value(v.get("value")),
            fmt_ci(v.get("ci95")),
            fmt_value(v.get("F"), 3),
            fmt_count(v.get("df1")),
            fmt_count(v.get("df2")),
            fmt_p(v.get("p")),
        )
        for form, v in forms.items()
        if isinstance(v, Mapping)
    )
    note = f"{fmt_count(icc.get('n_items_used'))} items used, {fmt_count(icc.get('n_raters'))} "
    note += "raters." + (f" {text(icc['reason'])}" if icc.get("reason") else "")
    table = DocTable(
        "Intraclass correlation (ICC)",
        ("Form", "Value", "95% CI", "F", "df1", "df2", "p"),
        rows,
        ("text", *("number",) * 6),
        note=note,
        key="icc",
    )
    text_ = "Shrout & Fleiss forms with the F test against zero and 95% CIs."
    return Section("Intraclass correlation", tables=(table,), text=text_, key="icc")


def _pairwise(data: Mapping[str, Any], charts: Mapping[str, Any]) -> Section | None:
    records = [r for r in data.get("pairwise") or [] if isinstance(r, Mapping)]
    if not records:
        return None
    table = DocTable(
        "Pairwise agreement",
        ("Annotator A", "Annotator B", "Items", "Agreement", "Cohen's κ"),
        tuple(
            (
                text(r.get("a")),
                text(r.get("b")),
                fmt_count(r.get("n_items")),
                fmt_value(r.get("percent_agreement")),
                fmt_value(r.get("cohen_kappa")),
            )
            for r in records
        ),
        ("text", "text", "number", "number", "number"),
        key="pairwise",
    )
    text_ = "Raw agreement and Cohen's κ on the items both annotators rated."
    chart = (charts["pairwise"],) if "pairwise" in charts else ()
    return Section("Pairwise agreement", tables=(table,), charts=chart, text=text_, key="pairwise")


def _categories(
    data: Mapping[str, Any], charts: Mapping[str, Any], names: Mapping[str, str]
) -> Section | None:
    records = [r for r in data.get("per_category") or [] if isinstance(r, Mapping)]
    if not records:
        return None
    table = DocTable(
        "Per-category agreement",
        ("Category", "Ratings", "Specific agreement", "κ (1 vs rest)", "α (1 vs rest)"),
        tuple(
            (
                category_label(r.get("category"), names),
                fmt_count(r.get("n")),
                fmt_value(r.get("specific_agreement")),
                fmt_value(r.get("kappa_1vr")),
                fmt_value(r.get("alpha_1vr")),
            )
            for r in records
        ),
        ("text", *("number",) * 4),
        key="per-category",
    )
    text_ = (
        "Specific agreement: of the rating pairs that involve a category, the share where both "
        "ratings are that category. κ and α treat the category against all others."
    )
    chart = (charts["categories"],) if "categories" in charts else ()
    return Section(
        "Per-category agreement", tables=(table,), charts=chart, text=text_, key="per-category"
    )


def _examples(items: Any) -> str:
    """Up to five example item ids, then how many more there are."""
    if not isinstance(items, Sequence) or isinstance(items, str):
        return text(items)
    shown = ", ".join(text(i) for i in items[:_MAX_EXAMPLES])
    extra = len(items) - _MAX_EXAMPLES
    return f"{shown} (+{extra} more)" if extra > 0 else shown


def _confusions(data: Mapping[str, Any], names: Mapping[str, str]) -> Section | None:
    records = [r for r in data.get("confusions") or [] if isinstance(r, Mapping)]
    if not records:
        return None
    table = DocTable(
        "Most frequent confusions",
        ("Label A", "Label B", "Count", "Share", "Example items"),
        tuple(
            (
                category_label(r.get("label_a"), names),
                category_label(r.get("label_b"), names),
                fmt_count(r.get("count")),
                fmt_value(r.get("share")),
                _examples(r.get("example_items")),
            )
            for r in records
        ),
        ("text", "text", "number", "number", "text"),
        key="confusions",
    )
    text_ = "Pairs of labels that different annotators gave to the same item."
    if data.get("structured"):
        text_ = "Label pairs on identical span boundaries (the same text, two labels)."
    return Section("Most frequent confusions", tables=(table,), text=text_, key="confusions")


def _boundaries(data: Mapping[str, Any], details: Mapping[str, Any]) -> Section | None:
    """Span boundary disagreements: same label, overlapping spans, different boundaries."""
    records = get_path(data, "structured", "boundary_disagreements") or []
    rows = [
        (
            text(r.get("label")),
            text(e.get("item")),
            text((details.get(str(e.get("item"))) or {}).get("text") or ""),
            f"{text(e.get('a'))}: “{text(e.get('text_a'))}” {_span(e.get('span_a'))}",
            f"{text(e.get('b'))}: “{text(e.get('text_b'))}” {_span(e.get('span_b'))}",
        )
        for r in records
        if isinstance(r, Mapping)
        for e in r.get("examples") or []
        if isinstance(e, Mapping)
    ]
    if not rows:
        return None
    counts = "; ".join(
        f"{text(r.get('label'))}: {fmt_count(r.get('count'))} ({fmt_value(r.get('share'), 2)} "
        "of its matched spans)"
        for r in records
        if isinstance(r, Mapping)
    )
    with_text = any(row[2] for row in rows)
    columns = ("Label", "Item", *(("Text",) if with_text else ()), "One annotator", "The other")
    table = DocTable(
        "Examples",
        columns,
        tuple(row if with_text else (*row[:2], *row[3:]) for row in rows),
        ("text", "text", *(("snippet",) if with_text else ()), "text", "text"),
        key="boundaries",
    )
    text_ = (
        "Spans with the same label that overlap but start or end at different characters "
        f"(exact F1 counts them as misses, overlap F1 as matches). {counts}."
    )
    return Section("Boundary disagreements", tables=(table,), text=text_, key="boundaries")


def _span(value: Any) -> str:
    return f"[{value[0]}, {value[1]})" if isinstance(value, Sequence) and len(value) == 2 else ""


def _disagreements(
    data: Mapping[str, Any], details: Mapping[str, Any], names: Mapping[str, str]
) -> Section | None:
    records = [r for r in data.get("top_disagreements") or [] if isinstance(r, Mapping)]
    if not records:
        return None
    found = [details.get(str(r.get("item"))) or {} for r in records]
    with_text = any(d.get("text") for d in found)
    with_labels = any(d.get("labels") for d in found)
    rows = []
    for record, detail in zip(records, found, strict=True):
        counts: Mapping[str, Any] = (
            record["labels"] if isinstance(record.get("labels"), Mapping) else {}
        )
        row: list[Any] = [text(record.get("item"))]
        row += [text(detail.get("text") or "")] if with_text else []
        row += [
            who_chose(detail.get("labels") or {}, names)
            if with_labels
            else ", ".join(f"{category_label(k, names)}: {v}" for k, v in counts.items())
        ]
        row += [fmt_count(record.get("n_ratings")), fmt_value(record.get("observed_agreement"))]
        rows.append(tuple(row))
    columns = (
        "Item",
        *(("Text",) if with_text else ()),
        "Who chose what" if with_labels else "Labels (count)",
        "Ratings",
        "Agreement",
    )
    kinds = ("text", *(("snippet",) if with_text else ()), "text", "number", "number")
    table = DocTable(
        "Items with most disagreement", columns, tuple(rows), kinds, key="disagreements"
    )
    text_ = "Items whose ratings agree least (observed pairwise agreement): adjudicate these first."
    return Section("Items with most disagreement", tables=(table,), text=text_, key="disagreements")


def _data_facts(data: Mapping[str, Any], names: Mapping[str, str], source: str) -> Section:
    categories = data.get("categories")
    listed = "—"
    if isinstance(categories, Sequence) and not isinstance(categories, str):
        listed = f"{len(categories)}: " + ", ".join(
            category_label(c, names) for c in categories[:20]
        )
        listed += ", …" if len(categories) > 20 else ""
    task = get_path(data, "config", "task")
    facts: list[tuple[str, Any]] = [("Source", source)]
    facts += [("Task", text(task))] if task and task != "categorical" else []
    facts += [
        ("Items", data.get("n_items")),
        ("Annotators", data.get("n_annotators")),
        ("Ratings", data.get("n_ratings")),
        ("Level", text(data.get("level"))),
    ]
    facts += [("Weights", text(data.get("weights")))] if not data.get("structured") else []
    facts.append(("Categories" if not data.get("structured") else "Labels", listed))
    return Section("Data", facts=tuple(facts), key="data")


def agreement_document(
    data: Mapping[str, Any],
    *,
    gate: float | None = None,
    full_paths: bool = False,
    details: Mapping[str, Any] | None = None,
    category_names: Mapping[str, str] | None = None,
    charts: bool = True,
) -> Document:
    """The agreement report (categorical or structured) as a document.

    Parameters
    ----------
    data : Mapping
        ``AgreementReport.to_dict()`` (the JSON contract; not changed here).
    gate : float, optional
        Target the headline coefficient is compared with.
    full_paths : bool
        Show the input's absolute path instead of a relative one.
    details : Mapping, optional
        ``{item: {"text", "labels": {annotator: label}}}`` for the disagreement tables
        (:func:`labelaudit.quality.item_details`).
    category_names : Mapping, optional
        Meaning of each category code (``{"0": "tie"}``), shown wherever codes appear.
    charts : bool
        Draw the charts (matplotlib). Only the HTML page shows them: the terminal and
        Markdown renderings are the same without, for a fraction of the time.

    Returns
    -------
    Document
        Headline (coefficient with CI against the gate, who drives disagreement), data,
        coefficients with their chart, ICC, pairwise, per-category, confusions, boundary
        disagreements (spans), items with most disagreement, and "How to read this" for the
        coefficients shown; sections without rows are left out.
    """
    from labelaudit.report._charts import render_charts

    names = {str(k): str(v) for k, v in (category_names or {}).items()}
    details = details or {}
    drawn = {chart.key: chart for chart in render_charts(data)} if charts else {}
    prov = provenance(data, full=full_paths)
    builders: list[Callable[[], Section | None]] = [
        lambda: _data_facts(data, names, prov.files[0] if prov.files else "—"),
        lambda: _coefficients(data, drawn),
        lambda: _icc(data),
        lambda: _pairwise(data, drawn),
        lambda: _categories(data, drawn, names),
        lambda: _confusions(data, names),
        lambda: _boundaries(data, details),
        lambda: _disagreements(data, details, names),
        lambda: how_to_read(data),
    ]
    sections = tuple(s for build in builders if (s := build()) is not None)
    source = prov.files[0] if prov.files else ""
    title = f"Agreement report: {source.rsplit('/', 1)[-1]}" if source else "Agreement report"
    return Document(title, _headline(data, gate), sections, prov)
