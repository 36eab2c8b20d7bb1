"""Per-batch results computed at ingest and stored, so that reports read instead of recompute.

Each analysis maps a validated :class:`~labelaudit.table.AnnotationTable` to a
:class:`BatchResult`: a ``kind`` (``"agreement"``, ...), the analysis's whole ``to_dict()``
JSON and its headline values as typed rows (``batch_metrics``: metric, value, se, ci_low,
ci_high, reason; ``annotator_metrics``: annotator, metric, value, n, reason). A new kind
is one more function in :data:`ANALYSES`: new rows in the same tables, no schema change.
Stored kinds: ``agreement`` (here), ``consensus``, ``gold``, ``annotators`` and, with a
``[fairness]`` section, ``fairness`` (:mod:`labelaudit.project.results_quality`); for
batches with labeling-function votes, ``labeling_functions``
(:mod:`labelaudit.project.results_weak`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from labelaudit.project.config import ProjectConfig
from labelaudit.table.table import AnnotationTable

if TYPE_CHECKING:
    from labelaudit.project.store import Store

__all__ = [
    "ANALYSES",
    "Analysis",
    "BatchResult",
    "agreement_result",
    "compute_results",
    "recompute_agreement",
]

MetricRow = tuple[str, float | None, float | None, float | None, float | None, str | None]
AnnotatorRow = tuple[str, str, float | None, int | None, str | None]


@dataclass(frozen=True)
class BatchResult:
    """One stored result of one batch.

    Attributes
    ----------
    kind : str
        Result family, the key in ``batch_results``.
    schema_version : int
        Version of ``result``'s JSON shape (bumped when the analysis's contract changes).
    result : dict
        The analysis's ``to_dict()``, JSON-ready.
    metrics : list of (metric, value, se, ci_low, ci_high, reason)
        Headline values, typed; None = undefined (``reason`` says why).
    annotators : list of (annotator, metric, value, n, reason)
        Per-annotator figures.
    """

    kind: str
    schema_version: int
    result: dict[str, Any]
    metrics: list[MetricRow] = field(default_factory=list)
    annotators: list[AnnotatorRow] = field(default_factory=list)

    def result_json(self) -> str:
        """``result`` as strict JSON text (no NaN)."""
        return json.dumps(self.result, ensure_ascii=False, allow_nan=False)


def agreement_result(table: AnnotationTable, config: ProjectConfig) -> BatchResult:
    """Agreement of the batch (:func:`labelaudit.agreement_report`, options from
    ``[agreement]``); headline rows: every coefficient, and each ICC form as ``icc:FORM``
    (structured batches: their own measures, see :mod:`labelaudit.project.results_structured`)."""
    from labelaudit.agreement import agreement_report

    options = config.agreement
    report = agreement_report(
        table,
        weights=options.weights,
        ci=options.ci,
        n_boot=options.n_boot,
        seed=options.seed,
        top=options.top,
    ).to_dict()
    if table.schema.is_structured:
        from labelaudit.project.results_structured import structured_rows

        flat = structured_rows(report["metrics"])
        return BatchResult(kind="agreement", schema_version=1, result=report, metrics=flat)
    return BatchResult(
        kind="agreement", schema_version=1, result=report, metrics=_agreement_rows(report)
    )


def _agreement_rows(report: dict[str, Any]) -> list[MetricRow]:
    """Headline rows of an agreement report: every coefficient, each ICC form."""
    rows: list[MetricRow] = []
    for name, metric in report["metrics"].items():
        if name == "icc":
            rows.extend(_icc_rows(metric))
            continue
        if "value" not in metric:  # structured tasks: span_f1 {exact, overlap} -> micro
            rows.extend(_variant_rows(name, metric))
            continue
        low, high = metric["ci95"] or (None, None)
        rows.append((name, metric["value"], metric["se"], low, high, metric["reason"]))
    return rows


def recompute_agreement(store: Store) -> int:
    """Recompute the stored ``agreement`` metrics of every categorical batch (migration 3).

    The batch's stored rows and task schema are read back, the coefficients recomputed
    with the options recorded in the stored result's ``config`` (diagnostics are kept as
    stored: no convention of theirs changed), and the result's ``metrics`` and the
    ``batch_metrics`` rows replaced. A batch the current limits refuse keeps its figures.
    Returns the number of batches recomputed.
    """
    from labelaudit._typing import MAX_BOOT
    from labelaudit.agreement import agreement_report
    from labelaudit.exceptions import LabelAuditError
    from labelaudit.table import read_annotations

    stored = store.execute(
        "SELECT b.batch_id, b.task_schema, r.result FROM batches b JOIN batch_results r "
        "ON r.batch_id = b.batch_id AND r.kind = 'agreement' ORDER BY b.batch_id"
    ).fetchall()
    done = 0
    for batch_id, schema_json, result_json in stored:
        schema, result = json.loads(schema_json), json.loads(result_json)
        if schema.get("task", "categorical") != "categorical":
            continue  # structured metrics: no convention of theirs changed
        options = result.get("config", {})
        rows = store.annotations(batch_id).select(["item", "annotator", "label"])
        try:
            table = read_annotations(rows, level=schema["level"], categories=schema["categories"])
            report = agreement_report(
                table,
                weights=options.get("weights", "identity"),
                ci=options.get("ci", "analytic"),
                n_boot=min(int(options.get("n_boot", 1000)), MAX_BOOT),
                seed=int(options.get("seed", 0)),
                diagnose=False,
            ).to_dict()
        except LabelAuditError:
            continue
        result["metrics"] = report["metrics"]
        text = json.dumps(result, ensure_ascii=False, allow_nan=False)
        store.execute(
            "UPDATE batch_results SET result = ? WHERE batch_id = ? AND kind = 'agreement'",
            (text, batch_id),
        )
        store.execute(
            "DELETE FROM batch_metrics WHERE batch_id = ? AND kind = 'agreement'", (batch_id,)
        )
        store.connection.executemany(
            "INSERT INTO batch_metrics VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(batch_id, "agreement", *row) for row in _agreement_rows(report)],
        )
        done += 1
    return done


def _variant_rows(name: str, metric: dict[str, Any]) -> list[MetricRow]:
    """``NAME:VARIANT`` rows of a metric reported per variant, from each ``micro`` figure."""
    rows: list[MetricRow] = []
    for variant, values in metric.items():
        micro = values.get("micro") if isinstance(values, dict) else None
        if isinstance(micro, dict):
            low, high = micro.get("ci95") or (None, None)
            row = (micro.get("value"), micro.get("se"), low, high, micro.get("reason"))
            rows.append((f"{name}:{variant}", *row))
    return rows


def _icc_rows(icc: dict[str, Any]) -> list[MetricRow]:
    rows: list[MetricRow] = []
    for form, values in (icc.get("forms") or {}).items():
        low, high = values.get("ci95") or (None, None)
        reason = values.get("reason") or icc.get("reason")
        rows.append((f"icc:{form}", values.get("value"), None, low, high, reason))
    return rows


from labelaudit.project.results_quality import (  # noqa: E402  (they use BatchResult)
    annotators_result,
    consensus_result,
    fairness_result,
    gold_result,
)
from labelaudit.project.results_weak import labeling_functions_result  # noqa: E402

Analysis = Callable[[AnnotationTable, ProjectConfig], BatchResult | None]

#: The analyses run on every ingested batch, in order; one returning None stores nothing
#: (e.g. gold without a ``[gold]`` source).
ANALYSES: tuple[Analysis, ...] = (
    agreement_result,
    consensus_result,
    gold_result,
    annotators_result,
    fairness_result,
    labeling_functions_result,
)


def compute_results(
    table: AnnotationTable,
    config: ProjectConfig,
    analyses: Sequence[Analysis] = ANALYSES,
) -> list[BatchResult]:
    """Run ``analyses`` (default: every one of :data:`ANALYSES`) on one batch, in order
    (None results left out)."""
    return [result for analysis in analyses if (result := analysis(table, config)) is not None]
