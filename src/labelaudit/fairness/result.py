"""The typed result of :func:`labelaudit.fairness.slices_report`; ``to_dict()`` is the JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from labelaudit.results import Displayable, clean_number

__all__ = ["SlicesReport"]


@dataclass(frozen=True)
class SlicesReport(Displayable):
    """Agreement and label shifts by annotator group and data slice.

    Every list holds JSON-ready records (see ``docs/fairness.md`` for each key). Records
    carry ``by`` (the attribute), ``group`` (its value exactly as in the data) and, for
    figures within one data slice, ``slice_by`` and ``slice`` (both None for all data).

    Attributes
    ----------
    groupings : list of dict
        One per ``by``: kind (annotator / item), origin, groups, unknown and reference.
    groups : list of dict
        Every group with its counts and whether its figures are suppressed (and why).
    offsets : list of dict
        Item-adjusted offset per group: offset, se, ci95 (two-way cluster bootstrap),
        se_unclustered, p, p_holm.
    contrasts : list of dict
        Offset difference of each group with the reference group, Holm-adjusted.
    agreement : list of dict
        Krippendorff's alpha within groups and slices, cross-replication alpha between
        groups.
    labels : list of dict
        Label distribution (shares) and mean label per group and slice.
    slices : list of dict
        Per data slice: items, raters, ratings; single-rater slices marked and excluded.
    reference_metrics : list of dict
        MetricFrame-style rows (overall, by_group, difference, ratio) against gold or
        leave-one-out consensus.
    gaps : list of dict
        Per annotator attribute: the largest minus the smallest shown group offset.
    mixed_model : list of dict
        With ``mixed_model=True``: statsmodels MixedLM fixed effects against the reference
        group (item random intercept).
    config, input : dict
        Options and input summary.
    notes : list of str
        What was left out and why (in words).
    """

    groupings: list[dict[str, Any]]
    groups: list[dict[str, Any]]
    offsets: list[dict[str, Any]]
    contrasts: list[dict[str, Any]]
    agreement: list[dict[str, Any]]
    labels: list[dict[str, Any]]
    slices: list[dict[str, Any]]
    reference_metrics: list[dict[str, Any]]
    gaps: list[dict[str, Any]]
    mixed_model: list[dict[str, Any]] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    input: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def max_group_gap(self) -> float | None:
        """The largest offset gap between two shown groups of one attribute (None: none)."""
        values = [g["gap"] for g in self.gaps if g.get("gap") is not None]
        return max(values) if values else None

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract: every list above plus ``max_group_gap``; NaN as null."""
        out: dict[str, Any] = {
            "groupings": self.groupings,
            "groups": self.groups,
            "offsets": self.offsets,
            "contrasts": self.contrasts,
            "agreement": self.agreement,
            "labels": self.labels,
            "slices": self.slices,
            "reference_metrics": self.reference_metrics,
            "gaps": self.gaps,
            "max_group_gap": self.max_group_gap,
            "mixed_model": self.mixed_model,
            "config": self.config,
            "input": self.input,
            "notes": self.notes,
        }
        cleaned: dict[str, Any] = clean_number(out)
        return cleaned

    def to_document(self) -> Any:
        """The report as a :class:`labelaudit.report.document.Document`."""
        from labelaudit.fairness.document import slices_document

        return slices_document(self.to_dict())

    def to_pandas(self) -> dict[str, Any]:
        """``{"offsets": DataFrame, "contrasts": ..., "agreement": ..., ...}``, one frame
        per list (nested records such as ``distribution`` stay dict cells)."""
        import pandas as pd

        data = self.to_dict()
        return {
            key: pd.DataFrame(value)
            for key, value in data.items()
            if isinstance(value, list) and key != "notes"
        }
