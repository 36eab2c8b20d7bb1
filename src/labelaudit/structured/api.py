"""Entry points of structured agreement: :func:`structured_metrics`, :func:`structured_diagnostics`.

Both route on ``table.task``; :func:`labelaudit.agreement.agreement_report` calls them for
every structured table and puts their entries into the report.
"""

from __future__ import annotations

from typing import Any

from labelaudit._typing import CI_METHODS
from labelaudit.exceptions import UsageError
from labelaudit.results import MetricResult
from labelaudit.structured._explode import code_strings, explode, strings
from labelaudit.structured._payload import identity_codes, payload_of
from labelaudit.structured._ratio import identical_agreement
from labelaudit.table.table import AnnotationTable

__all__ = [
    "as_task",
    "payload_vocabulary",
    "structured_analysis",
    "structured_diagnostics",
    "structured_metrics",
]

_LABELLED = ("spans", "boxes", "polygons", "cuboids", "keypoints")


def _check(table: AnnotationTable, ci: str, n_boot: int) -> None:
    if not table.schema.is_structured:
        raise UsageError(f"structured metrics need a structured task; got {table.task!r}")
    if ci not in CI_METHODS:
        raise UsageError(f"ci must be one of {', '.join(CI_METHODS)}; got {ci!r}")
    if n_boot < 2:
        raise UsageError(f"n_boot must be at least 2; got {n_boot}")


def structured_metrics(
    table: AnnotationTable, *, ci: str = "analytic", n_boot: int = 1000, seed: int = 0
) -> dict[str, MetricResult | dict[str, Any]]:
    """Agreement coefficients of a structured table, chosen by ``table.task``.

    Parameters
    ----------
    table : AnnotationTable
        A table with a structured task (payload column per the structured-label contract,
        or JSON labels for generic files).
    ci : {"analytic", "bootstrap", "none"}
        Uncertainty; items are the resampling units throughout.
    n_boot, seed : int
        Bootstrap replicates and seed (also seeds sampled expected disagreements).

    Returns
    -------
    dict
        Always ``percent_agreement`` (share of annotator pairs of an item whose whole
        annotations are identical, i.e. equal canonical JSON labels). Then, by task:

        * multilabel: ``masi_alpha``, ``jaccard_alpha``, ``exact_set_agreement``,
          ``per_label_kappa`` and ``per_label_alpha`` (dicts label -> MetricResult);
        * spans: ``span_f1`` = ``{"exact"|"overlap": {"micro": MetricResult,
          "per_label": {label: MetricResult}}}``, ``token_alpha``, ``token_kappa``;
        * boxes: ``box_f1`` = ``{"iou50", "iou50_95"}``, ``mean_iou``,
          ``box_label_agreement``; polygons and cuboids likewise (``polygon_f1``,
          ``cuboid_f1``, ...); keypoints: ``keypoint_f1`` = ``{"oks50", "oks50_95"}``,
          ``mean_oks``, ``keypoint_label_agreement``;
        * ranking: ``kendall_w``, ``kendall_tau``;
        * text: ``text_alpha``, ``mean_edit_distance``, ``normalized_exact_agreement``;
        * pairwise: nothing more (the preference audit covers it).
    """
    return structured_analysis(table, ci=ci, n_boot=n_boot, seed=seed, diagnose=False)[0]


def structured_diagnostics(table: AnnotationTable, *, top: int = 10) -> dict[str, Any]:
    """Disagreement diagnostics of a structured table, in the report's shapes.

    Returns
    -------
    dict
        Keys that fill the report: ``per_category`` (multilabel: one row per label, binary
        relevance), ``confusions`` (spans: label pairs on identical boundaries), and
        ``structured`` with task-specific lists: ``boundary_disagreements`` (spans),
        ``annotators`` (boxes: extra/missed boxes per annotator at IoU 0.5),
        ``pairwise_tau`` (ranking: mean Kendall tau-b per annotator pair).
    """
    return structured_analysis(table, ci="none", top=top, metrics=False)[1]


def structured_analysis(
    table: AnnotationTable,
    *,
    ci: str = "analytic",
    n_boot: int = 1000,
    seed: int = 0,
    top: int = 10,
    diagnose: bool = True,
    metrics: bool = True,
) -> tuple[dict[str, MetricResult | dict[str, Any]], dict[str, Any]]:
    """Metrics and diagnostics together, sharing the parsed payload and the matchings.

    Returns ``(metrics, diagnostics)`` as :func:`structured_metrics` and
    :func:`structured_diagnostics` (either is empty when not requested).
    """
    _check(table, ci, n_boot)
    options: dict[str, Any] = {"ci": ci, "n_boot": n_boot, "seed": seed}
    out: dict[str, MetricResult | dict[str, Any]] = {}
    if metrics:
        out["percent_agreement"] = identical_agreement(
            table.item_codes,
            identity_codes(table),
            extra={"basis": "identical annotations"},
            **options,
        )
    handler = _HANDLERS.get(table.task)
    if handler is None:
        return out, {}
    found, diagnostics = handler(table, options, top, diagnose, metrics)
    out.update(found)
    return out, diagnostics


_Result = tuple[dict[str, Any], dict[str, Any]]


def _multilabel(
    table: AnnotationTable, options: dict[str, Any], top: int, diagnose: bool, metrics: bool
) -> _Result:
    from labelaudit.structured.multilabel import label_sets, multilabel_metrics, per_label_agreement

    sets = label_sets(table)
    found = multilabel_metrics(table, sets=sets, **options) if metrics else {}
    if not diagnose:
        return found, {}
    rows = per_label_agreement(table, sets, ci="none")
    return found, {"per_category": [record for _, _, record in rows.values()]}


def _spans(
    table: AnnotationTable, options: dict[str, Any], top: int, diagnose: bool, metrics: bool
) -> _Result:
    from labelaudit.structured._tokens import token_agreement
    from labelaudit.structured.spans import span_data, span_diagnostics, span_f1, span_matches

    data = span_data(table)
    matches = span_matches(table, data)
    found: dict[str, Any] = {}
    if metrics:
        found["span_f1"] = span_f1(table, data=data, matches=matches, **options)
        found.update(token_agreement(table, data, **options))
    if not diagnose:
        return found, {}
    diag = span_diagnostics(table, data, matches, top=top)
    return found, {
        "confusions": diag["confusions"],
        "structured": {"boundary_disagreements": diag["boundary_disagreements"]},
    }


def _boxes(
    table: AnnotationTable, options: dict[str, Any], top: int, diagnose: bool, metrics: bool
) -> _Result:
    """Boxes, polygons, cuboids, keypoints: one matching, the type's own similarity."""
    from labelaudit.structured.boxes import box_annotator_counts, box_matches, box_metrics
    from labelaudit.structured.shapes import KINDS, region_data

    kind = KINDS[table.task]
    data = region_data(table)
    matches = box_matches(table, data)
    found = box_metrics(table, data=data, matches=matches, kind=kind, **options) if metrics else {}
    if not diagnose:
        return found, {}
    counts = box_annotator_counts(table, data, matches, kind)
    return found, {"structured": {"annotators": counts}}


def _ranking(
    table: AnnotationTable, options: dict[str, Any], top: int, diagnose: bool, metrics: bool
) -> _Result:
    from labelaudit.structured.rankings import pairwise_tau, ranking_metrics, rankings

    data = rankings(table)
    found = ranking_metrics(table, data=data, **options) if metrics else {}
    if not diagnose:
        return found, {}
    return found, {"structured": {"pairwise_tau": pairwise_tau(table, data)}}


def _text(
    table: AnnotationTable, options: dict[str, Any], top: int, diagnose: bool, metrics: bool
) -> _Result:
    from labelaudit.structured.text import text_metrics

    return (text_metrics(table, **options) if metrics else {}), {}


_HANDLERS = {
    "multilabel": _multilabel,
    "spans": _spans,
    "boxes": _boxes,
    "polygons": _boxes,
    "cuboids": _boxes,
    "keypoints": _boxes,
    "ranking": _ranking,
    "text": _text,
}


def as_task(table: AnnotationTable, task: str | None, categories: Any = None) -> AnnotationTable:
    """The table read as ``task``: a categorical table from a generic file becomes structured.

    Its labels then hold the structured label as JSON (or plain text for ``text``) and are
    parsed by :func:`labelaudit.structured._payload.payload_of` when needed; ``categories``
    (comma-separated or a sequence) become the vocabulary inside the payload. A table whose
    reader already set a task must match ``task``. ``None`` returns the table unchanged.

    Raises
    ------
    UsageError
        The table already holds another structured task.
    """
    from dataclasses import replace

    from labelaudit.table.schema import TaskSchema

    declared_already = categories is None or table.schema.categories is not None
    if task is None or (task == table.task and declared_already):
        return table
    if table.schema.is_structured and task != table.task:
        raise UsageError(
            f"{table.source} holds {table.task} annotations; --task {task} does not fit "
            f"(drop --task or pass --task {table.task})"
        )
    declared = categories if categories is not None else table.schema.categories
    return replace(table, schema=TaskSchema.create(table.level, declared, task))


def payload_vocabulary(table: AnnotationTable) -> list[str]:
    """Labels used inside the payload (declared first), for multilabel, spans and boxes."""
    declared = list(table.schema.categories or ())
    if table.task not in ("multilabel", *_LABELLED):
        return declared
    _, values = explode(payload_of(table))
    labels = strings(values, "label") if table.task in _LABELLED else strings(values)
    names, _ = code_strings(labels, declared or None)
    return [str(n) for n in names.tolist()] if names.size else declared
