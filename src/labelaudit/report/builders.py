"""Documents of the analyses: the verdict first, then the facts (:mod:`.document`).

:func:`build_document` picks the builder of a result (by its type or its ``to_dict()``
contract) and falls back to :func:`~labelaudit.report.document.document_from_dict`.
Builders only select, order and word numbers the result already holds. The builders
live in ``builders_agreement`` (categorical and structured agreement), ``builders_quality``
(annotators, adjudication queue), ``builders_audit`` (preference audit) and
``builders_judge`` (judge audit); this module holds consensus and status and the dispatch.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module
from typing import Any

from labelaudit.report._format import fmt_value
from labelaudit.report.builders_agreement import agreement_document
from labelaudit.report.builders_common import provenance
from labelaudit.report.document import DocTable, Document, Headline, Section, document_from_dict

__all__ = [
    "agreement_document",
    "build_document",
    "consensus_document",
    "provenance",
    "status_document",
]


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


#: Result type -> (builder module, builder function) of the other analyses.
_BUILDERS = {
    "AnnotatorReport": ("builders_quality", "annotators_document"),
    "AdjudicationQueue": ("builders_quality", "adjudication_document"),
    "PreferenceAudit": ("builders_audit", "preferences_document"),
    "JudgeAudit": ("builders_judge", "judge_document"),
    "LFAnalysis": ("builders_weak", "lf_analysis_document"),
}


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
    if name in _BUILDERS:
        module, function = _BUILDERS[name]
        return getattr(import_module(f"labelaudit.report.{module}"), function)(data)
    title = (
        "".join(f" {c}" if c.isupper() else c for c in name).strip() if name != "dict" else "Result"
    )
    return document_from_dict(title, data)
