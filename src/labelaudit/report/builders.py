"""Documents of the analyses: the verdict first, then the facts (:mod:`.document`).

:func:`build_document` picks the builder of a result (by its ``to_dict()`` contract) and
falls back to :func:`~labelaudit.report.document.document_from_dict`. Builders only select
and order numbers the result already holds; the one summary they form is which annotator
has the lowest mean pairwise agreement (a mean of the reported pairwise values).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from labelaudit.report._format import fmt_value
from labelaudit.report._model import metric_label, metric_names
from labelaudit.report.document import (
    DocTable,
    Document,
    Figure,
    Headline,
    Provenance,
    Section,
    document_from_dict,
    short_path,
)

__all__ = ["agreement_document", "build_document", "consensus_document", "status_document"]

_PREFERRED = ("krippendorff_alpha", "fleiss_kappa", "cohen_kappa", "gwet_ac", "percent_agreement")


def _provenance(data: Mapping[str, Any], *, full: bool = False) -> Provenance:
    source = (data.get("input") or {}).get("source")
    files = (short_path(source, full=full),) if isinstance(source, str) else ()
    return Provenance(
        tool_version=str((data.get("tool") or {}).get("version", "")),
        files=files,
        input_sha256=(data.get("input") or {}).get("sha256"),
        config=dict(data.get("config") or {}),
    )


def _weakest_annotator(
    pairwise: list[Mapping[str, Any]], key: str
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


def agreement_document(
    data: Mapping[str, Any], *, gate: float | None = None, full_paths: bool = False
) -> Document:
    """The agreement report as a document: the headline coefficient with its CI against the
    gate, and who drives disagreement (lowest mean pairwise agreement)."""
    metrics = data.get("metrics") or {}
    key = next((k for k in _PREFERRED if (metrics.get(k) or {}).get("value") is not None), None)
    figures: list[Figure] = []
    sentence = "No coefficient is defined for this table."
    status = "info"
    if key is not None:
        m = metrics[key]
        ci = tuple(m["ci95"]) if m.get("ci95") and None not in m["ci95"] else None
        figure = Figure(metric_label(key, data), m["value"], ci, gate)
        figures.append(figure)
        sentence = figure.sentence()
        status = "info" if figure.passed is None else ("pass" if figure.passed else "fail")
        weakest = _weakest_annotator(list(data.get("pairwise") or []), "percent_agreement")
        if weakest is not None and weakest[1] < weakest[2]:
            sentence += (
                f"; annotator {weakest[0]} drives most disagreement (mean pairwise agreement "
                f"{fmt_value(weakest[1], 2)} vs {fmt_value(weakest[2], 2)} over all pairs)"
            )
    rows = tuple(
        (
            metric_label(k, data),
            (metrics[k] or {}).get("value"),
            *(((metrics[k] or {}).get("ci95") or [None, None])[:2]),
            (metrics[k] or {}).get("reason"),
        )
        for k in metric_names(metrics)
    )
    coefficients = DocTable(
        "Coefficients",
        ("coefficient", "value", "ci low", "ci high", "note"),
        rows,
        ("text", "number", "number", "number", "text"),
    )
    worst = DocTable(
        "Items with the most disagreement",
        ("item", "ratings", "agreement", "labels (label: count)"),
        tuple(
            (
                d["item"],
                d["n_ratings"],
                d["observed_agreement"],
                ", ".join(f"{k}: {v}" for k, v in (d.get("labels") or {}).items()),
            )
            for d in data.get("top_disagreements") or []
        ),
        ("text", "number", "number", "text"),
    )
    facts = tuple(
        (k, data.get(k)) for k in ("n_items", "n_annotators", "n_ratings", "level", "weights")
    )
    sections = [Section("Data", facts=facts), Section("Agreement", tables=(coefficients,))]
    if worst.rows:
        sections.append(Section("Disagreement", tables=(worst,)))
    return Document(
        "Agreement",
        Headline(sentence + ".", tuple(figures), status),
        tuple(sections),
        _provenance(data, full=full_paths),
    )


def consensus_document(data: Mapping[str, Any]) -> Document:
    """The consensus summary: method, items labelled, confidence, label distribution."""
    mean = data.get("mean_confidence")
    sentence = (
        f"{data['method']}: {data['n_items']:,} items from {data['n_labels']:,} labels by "
        f"{data['n_annotators']:,} annotators"
        + (f"; mean confidence {fmt_value(mean, 2)}" if mean is not None else "")
        + (
            f"; {data['n_abstained']:,} items left without a label"
            if data.get("n_abstained")
            else ""
        )
        + "."
    )
    reasons = data.get("reasons") or {}
    names = (
        "n_items",
        "n_annotators",
        "n_labels",
        "n_abstained",
        "n_iter",
        "converged",
        "log_likelihood",
        "mean_confidence",
        "min_confidence",
    )
    facts = tuple(
        (n, data.get(n) if data.get(n) is not None else f"— ({reasons.get(n, 'undefined')})")
        for n in names
    )
    distribution = DocTable(
        "Labels",
        ("label", "items"),
        tuple((k, v) for k, v in (data.get("label_distribution") or {}).items()),
        ("text", "number"),
    )
    sections = [Section("Summary", facts=facts)]
    if distribution.rows:
        sections.append(Section("Label distribution", tables=(distribution,)))
    if data.get("values"):
        sections.append(Section("Values", facts=tuple((data.get("values") or {}).items())))
    return Document(f"Consensus ({data['method']})", Headline(sentence), tuple(sections))


def status_document(data: Mapping[str, Any]) -> Document:
    """The project's batches and rejected rows: one home,
    :func:`labelaudit.project.documents.status_document`."""
    from labelaudit.project.documents import status_document as project_status_document

    return project_status_document(data)


def build_document(result: Any) -> Document:
    """The document of any result object (or its ``to_dict()``)."""
    data = result.to_dict() if hasattr(result, "to_dict") else result
    name = type(result).__name__
    if name == "AgreementReport" or (
        isinstance(data, Mapping) and "metrics" in data and "top_disagreements" in data
    ):
        return agreement_document(data)
    if name == "ConsensusResult":
        return consensus_document(data)
    if name == "StatusReport":
        return status_document(data)
    title = (
        "".join(f" {c}" if c.isupper() else c for c in name).strip() if name != "dict" else "Result"
    )
    return document_from_dict(title, data)
