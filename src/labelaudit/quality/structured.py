"""Annotator quality for structured labels (spans, boxes, polygons, cuboids, keypoints,
multi-label, rankings, text).

:func:`structured_annotator_report` scores every annotator with the task's own pairwise
measures (:mod:`labelaudit.structured.annotators`): against the others (leave-one-out:
the pairs the annotator is in, pooled over partners and items), against the voting
consensus of everybody (:mod:`labelaudit.structured.consensus`; it includes the
annotator's own vote), and against gold when given; with the missed and extra regions,
boundary errors and label confusions summed over partners, and speed.

Flags are rules that need no pool of five, so they work for the common team of 3-4:

``below_others`` (every task)
    The annotator's primary measure (``span_f1_exact``, ``box_f1_50``, ``polygon_f1_50``,
    ``cuboid_f1_50``, ``keypoint_f1_50``,
    ``masi_agreement``, ``kendall_tau``, ``text_similarity``) with the others is at least
    ``margin`` (default 0.15) below what the others reach with each other, and the upper
    end of its 95% interval (items resampled, delta method) is below that too. Needs 3
    or more annotators; an annotator with fewer than ``min_regions`` regions (default 20;
    spans, boxes, labels, ranked ids or texts) is not checked.
``below_gold`` (with gold)
    The primary measure against gold is at least ``margin`` below the median of the other
    annotators' and the upper end of its interval is below that median.

A rule that cannot run (too few annotators, too few regions, no gold) is listed in
``rules_not_run`` with the reason, and every renderer prints that list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from labelaudit import __version__
from labelaudit.exceptions import UsageError
from labelaudit.results import clean_number
from labelaudit.table.table import AnnotationTable

__all__ = ["StructuredAnnotatorReport", "StructuredRules", "structured_annotator_report"]


@dataclass(frozen=True)
class StructuredRules:
    """Thresholds of the structured flags (see the module docstring)."""

    min_regions: int = 20
    margin: float = 0.15

    def __post_init__(self) -> None:
        if isinstance(self.min_regions, bool) or int(self.min_regions) < 1:
            raise UsageError(f"min_regions must be an integer >= 1; got {self.min_regions!r}")
        if not 0.0 <= float(self.margin) <= 1.0:
            raise UsageError(f"margin must be in [0, 1]; got {self.margin!r}")

    def to_dict(self) -> dict[str, Any]:
        """The thresholds, by name."""
        return {"min_regions": int(self.min_regions), "margin": float(self.margin)}


@dataclass(frozen=True)
class StructuredAnnotatorReport:
    """Result of :func:`structured_annotator_report`; ``to_dict()`` is the JSON contract.

    ``annotators`` holds one record per annotator, best first by ``primary``: the measures
    with the others (each with ``{name}_ci95``), ``others_{primary}``, ``vs_consensus``,
    ``vs_gold``, the error counts, ``n_regions``, ``median_seconds`` and ``flags``
    (``[{"rule", "reason"}]``).
    """

    task: str
    primary: str
    n_items: int
    n_ratings: int
    annotators: list[dict[str, Any]]
    rules_not_run: list[dict[str, str]]
    rules: StructuredRules
    notes: list[str] = field(default_factory=list)
    input: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def flags(self) -> list[dict[str, Any]]:
        """Every flag as ``{"annotator", "rule", "metric", "reason"}``."""
        return [
            {"annotator": row["annotator"], "metric": self.primary, **flag}
            for row in self.annotators
            for flag in row["flags"]
        ]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (keys documented in ``docs/structured.md``)."""
        flags = self.flags
        return {
            "tool": {"name": "labelaudit", "version": __version__},
            "input": self.input,
            "config": self.config,
            "task": self.task,
            "primary_metric": self.primary,
            "n_items": self.n_items,
            "n_annotators": len(self.annotators),
            "n_ratings": self.n_ratings,
            "annotators": self.annotators,
            "flags": flags,
            "n_flagged": len({f["annotator"] for f in flags}),
            "rules": self.rules.to_dict(),
            "rules_not_run": self.rules_not_run,
            "notes": list(self.notes),
        }


def structured_annotator_report(
    table: AnnotationTable,
    *,
    gold: pa.Array | None = None,
    rules: StructuredRules | None = None,
    duration_col: str | None = None,
    time_col: str | None = None,
) -> StructuredAnnotatorReport:
    """Per-annotator structured quality and flags (see the module docstring).

    Parameters
    ----------
    table : AnnotationTable
        A structured table.
    gold : pyarrow.Array, length n_items, optional
        Gold payload per item (null: no gold for the item), e.g. from
        :func:`read_structured_gold`.
    rules : StructuredRules, optional
    duration_col, time_col : str, optional
        Speed columns (default ``duration_s`` / ``created_at`` when present).

    Returns
    -------
    StructuredAnnotatorReport
    """
    from labelaudit.structured.annotators import PRIMARY, pair_scores
    from labelaudit.structured.consensus import structured_consensus
    from labelaudit.structured.shapes import SHAPES, shape_votes
    from labelaudit.structured.voting import box_votes, span_votes

    if not table.schema.is_structured or table.task not in PRIMARY:
        raise UsageError(f"structured annotator quality needs a structured task; got {table.task}")
    rules = rules or StructuredRules()
    scores = pair_scores(table)
    if table.task == "spans":
        consensus: Any = span_votes(table, **scores.shared)
    elif table.task == "boxes":
        consensus = box_votes(table, **scores.shared)
    elif table.task in SHAPES:  # polygons, cuboids, keypoints: the vote, then matched to it
        consensus = shape_votes(table, **scores.shared).consensus.payload
    else:
        consensus = structured_consensus(table).payload
    rows, not_run = _rows(table, scores, consensus, gold, rules, PRIMARY[table.task])
    _speed(table, rows, duration_col, time_col)
    primary = PRIMARY[table.task]
    rows.sort(key=lambda r: (r[primary] is None, -(r[primary] or 0.0), r["annotator"]))
    from labelaudit.agreement.api import content_sha256

    return StructuredAnnotatorReport(
        task=table.task,
        primary=primary,
        n_items=table.n_items,
        n_ratings=table.n_ratings,
        annotators=rows,
        rules_not_run=not_run,
        rules=rules,
        notes=[
            "with the others: pairs the annotator is in, pooled over partners and items; "
            "others: the other annotators with each other",
            "vs_consensus: against the majority vote of everybody, the annotator included "
            "(spans and boxes: scored through the regions the vote formed, not matched again)",
        ],
        input={"source": table.source, "sha256": content_sha256(table)},
        config={"rules": rules.to_dict(), "gold": gold is not None},
    )


def _rows(
    table: AnnotationTable,
    scores: Any,
    consensus: Any,
    gold: pa.Array | None,
    rules: StructuredRules,
    primary: str,
) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """``consensus``: the span / box vote's regions (VoteRegions), else the payload."""
    from labelaudit.structured.annotators import (
        against_consensus,
        against_reference,
        per_annotator,
        side_totals,
    )

    n = table.n_annotators
    measures = {name: per_annotator(table, scores, name) for name in scores.measures}
    if isinstance(consensus, pa.Array):
        vs_c = against_reference(table, consensus)
    else:
        vs_c = against_consensus(table, scores, consensus)
    to_consensus = {
        name: per_annotator(table, vs_c, name, one_sided=True) for name in vs_c.measures
    }
    to_gold = None
    if gold is not None:
        vs_g = against_reference(table, gold)
        to_gold = {name: per_annotator(table, vs_g, name, one_sided=True) for name in vs_g.measures}
    counts = {name: side_totals(table, scores, name) for name in scores.counts}
    regions = np.bincount(table.annotator_codes, scores.regions, minlength=n)
    flags, not_run = _flags(table, measures[primary], to_gold, regions, rules, primary)
    rows = []
    for k in range(n):
        row: dict[str, Any] = {
            "annotator": str(table.annotators[k]),
            "n_annotations": int(np.sum(table.annotator_codes == k)),
            "n_regions": int(regions[k]),
        }
        for name, got in measures.items():
            row[name] = clean_number(got.value[k])
            row[f"{name}_ci95"] = _interval(got.low[k], got.high[k])
        row[f"others_{primary}"] = clean_number(measures[primary].others[k])
        row["vs_consensus"] = {name: clean_number(v.value[k]) for name, v in to_consensus.items()}
        row["vs_gold"] = (
            {name: clean_number(v.value[k]) for name, v in to_gold.items()} if to_gold else None
        )
        row.update({name: round(float(c[k])) for name, c in counts.items()})
        row["flags"] = flags[k]
        rows.append(row)
    return rows, not_run


def _interval(low: float, high: float) -> list[float] | None:
    return [float(low), float(high)] if np.isfinite(low) and np.isfinite(high) else None


def _flags(
    table: AnnotationTable,
    loo: Any,
    to_gold: dict[str, Any] | None,
    regions: np.ndarray,
    rules: StructuredRules,
    primary: str,
) -> tuple[list[list[dict[str, str]]], list[dict[str, str]]]:
    """Flags per annotator code and the rules (or annotators) that could not be checked."""
    n = table.n_annotators
    flags: list[list[dict[str, str]]] = [[] for _ in range(n)]
    few = regions < rules.min_regions
    not_run = [
        {
            "rule": "below_others",
            "annotator": str(table.annotators[k]),
            "reason": f"{int(regions[k])} regions, fewer than min_regions "
            f"{rules.min_regions}: not checked",
        }
        for k in np.flatnonzero(few).tolist()
    ]
    if n < 3:
        not_run.append(
            {
                "rule": "below_others",
                "reason": f"needs 3 or more annotators (the others' agreement with each "
                f"other is the reference); {n} here",
            }
        )
    for k in range(n):
        value, others, high = loo.value[k], loo.others[k], loo.high[k]
        if few[k] or not np.isfinite(value) or not np.isfinite(others):
            continue
        gap = others - value
        if gap >= rules.margin and np.isfinite(high) and high < others:
            flags[k].append(
                {
                    "rule": "below_others",
                    "reason": f"{primary} {value:.2f} (95% CI {loo.low[k]:.2f}-{high:.2f}) "
                    f"with the others, who reach {others:.2f} with each other: {gap:.2f} "
                    f"below (margin {rules.margin:.2f})",
                }
            )
    if to_gold is None:
        not_run.append({"rule": "below_gold", "reason": "no gold given"})
        return flags, not_run
    gold = to_gold[primary]
    for k in range(n):
        rest = np.delete(gold.value, k)
        rest = rest[np.isfinite(rest)]
        value, high = gold.value[k], gold.high[k]
        if few[k] or not np.isfinite(value) or rest.size == 0:
            continue
        median = float(np.median(rest))
        if median - value >= rules.margin and np.isfinite(high) and high < median:
            flags[k].append(
                {
                    "rule": "below_gold",
                    "reason": f"{primary} against gold {value:.2f} (95% CI "
                    f"{gold.low[k]:.2f}-{high:.2f}), the others' median {median:.2f}",
                }
            )
    return flags, not_run


def _speed(
    table: AnnotationTable,
    rows: list[dict[str, Any]],
    duration_col: str | None,
    time_col: str | None,
) -> None:
    from labelaudit.quality import _timing
    from labelaudit.quality.annotators import speed

    duration = _timing.resolve_column(table, duration_col, _timing.DURATION_COL)
    times = _timing.resolve_column(table, time_col, _timing.TIME_COL)
    seconds = speed(
        table,
        durations=_timing.duration_seconds(table, duration) if duration else None,
        times=_timing.time_seconds(table, times) if times else None,
    )
    for k, row in enumerate(rows):
        row["median_seconds"] = clean_number(seconds[k])


def read_structured_gold(table: AnnotationTable, path: str, **options: Any) -> pa.Array:
    """Gold payloads aligned with ``table.items`` from a file of ``item, label`` rows.

    The file is read like an annotation file whose one annotator is its label column
    (so CSV cells hold JSON, JSONL/Parquet may hold native lists) and parsed as
    ``table.task``; items without gold are null.
    """
    from labelaudit.structured import payload_of
    from labelaudit.structured.api import as_task
    from labelaudit.table import read_annotations

    label_col = options.pop("label_col", "gold_label")
    gold = read_annotations(
        path, layout="wide", item_col=options.pop("item_col", "item"), annotator_cols=[label_col]
    )
    gold = as_task(gold, table.task, table.schema.categories)
    payload = payload_of(gold)
    names = pa.array(table.items.astype(str), type=pa.string())
    import pyarrow.compute as pc

    position = pc.index_in(names, value_set=pa.array(gold.items.astype(str), type=pa.string()))
    found = np.asarray(position.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    row_of_item = np.full(gold.n_items, -1, dtype=np.int64)
    row_of_item[gold.item_codes] = np.arange(gold.n_ratings)
    rows = np.where(
        found,
        row_of_item[np.nan_to_num(position.to_numpy(zero_copy_only=False), nan=0).astype(np.int64)],
        -1,
    )
    return payload.take(pa.array(np.maximum(rows, 0), mask=rows < 0))
