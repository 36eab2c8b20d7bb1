"""``slices_report``: who labels shapes the label - figures by annotator group and data slice.

For every annotator attribute (``by``) and every data slice (an item attribute value, plus
all data): group counts, item-adjusted offsets with two-way cluster-bootstrap intervals
(:mod:`.offsets`), contrasts with a reference group (Holm across groups), agreement within
and between groups (:mod:`.group_agreement`), label distributions, and against gold or
leave-one-out consensus a MetricFrame-style table (:mod:`.metric_frame`).

Groups with fewer than ``min_raters`` raters are listed with their counts and their figures
suppressed (they identify people) unless ``show_small_groups``; a slice rated by one rater
is listed, marked, and left out of every between-rater statistic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from labelaudit.exceptions import UsageError
from labelaudit.fairness.attributes import AttributeFile, Grouping, resolve_groupings
from labelaudit.fairness.group_agreement import cross_group_alphas, within_alpha
from labelaudit.fairness.metric_frame import ReferenceLabels, reference_labels, reference_rows
from labelaudit.fairness.offsets import group_offsets, recode
from labelaudit.fairness.result import SlicesReport
from labelaudit.intervals import check_n_boot
from labelaudit.table import AnnotationTable

__all__ = ["SlicesReport", "reference_labels", "slices_report"]

MIN_RATERS = 5
_SUPPRESSED = "fewer than {n} raters: figures suppressed (--show-small-groups shows them)"
_ONE_RATER = "one rater: no pair of ratings, excluded from between-rater statistics"


@dataclass(frozen=True)
class _Options:
    min_raters: int
    show_small: bool
    n_boot: int
    seed: int
    fwer: float
    reference: Mapping[str, str]


@dataclass(frozen=True)
class _Scope:
    """All data (``slice_by`` None) or the ratings of one data slice."""

    slice_by: str | None
    slice: str | None
    mask: np.ndarray

    def tag(self) -> dict[str, Any]:
        return {"slice_by": self.slice_by, "slice": self.slice}


def slices_report(
    table: AnnotationTable,
    by: Sequence[str],
    *,
    annotators: AttributeFile | None = None,
    items: AttributeFile | None = None,
    min_raters: int = MIN_RATERS,
    show_small_groups: bool = False,
    reference: Mapping[str, str] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    fwer: float = 0.05,
    reference_labels: ReferenceLabels | None = None,
    mixed_model: bool = False,
) -> SlicesReport:
    """Agreement and label shifts by annotator group and data slice.

    Parameters
    ----------
    table : AnnotationTable
        Numeric labels for offsets (category values; string categories count 1..q).
    by : sequence of str
        Attribute names: columns of ``annotators`` / ``items`` files or of the ratings
        (constant per annotator: a group; constant per item: a slice).
    annotators, items : AttributeFile, optional
        ``--annotators-meta`` and ``--items-meta`` (:func:`.read_attribute_file`).
    min_raters : int
        Groups with fewer raters have their figures suppressed ...
    show_small_groups : bool
        ... unless this is set.
    reference : mapping of str to str, optional
        Reference group per attribute for the contrasts (default: the group with most
        raters, never the unknown group).
    n_boot, seed : int
        Bootstrap replicates (offsets: raters x items; between-group alpha: items).
    fwer : float
        Family-wise error level of the Holm-adjusted tests (``significant``).
    reference_labels : ReferenceLabels, optional
        Gold or consensus per rating (:func:`reference_labels`) for the MetricFrame rows.
    mixed_model : bool
        Also fit statsmodels MixedLM ``rating ~ group + (1 | item)`` per annotator
        attribute against the contrasts' reference (:mod:`.mixed`; needs statsmodels).

    Returns
    -------
    SlicesReport
    """
    if not by:
        raise UsageError("give at least one attribute with --by")
    check_n_boot(n_boot, minimum=0)
    if min_raters < 1 or not 0 < fwer < 1:
        raise UsageError(f"need min_raters >= 1 and 0 < fwer < 1; got {min_raters}, {fwer}")
    groupings = resolve_groupings(table, by, annotators=annotators, items=items)
    options = _Options(min_raters, show_small_groups, n_boot, seed, fwer, dict(reference or {}))
    for name, group in options.reference.items():
        found = next((g for g in groupings if g.by == name), None)
        if found is None or group not in found.names:
            known = ", ".join(found.names) if found is not None else "no such --by"
            raise UsageError(f"--reference {name}={group}: unknown group; known: {known}")
    rows: dict[str, list[dict[str, Any]]] = {
        k: [] for k in ("groups", "offsets", "contrasts", "agreement", "labels", "slices")
    }
    people = [g for g in groupings if g.kind == "annotator"]
    for scope in _scopes(table, groupings, rows):
        for grouping in people:
            _analyse(table, grouping, scope, options, rows)
    metrics = (
        reference_rows(
            table, people, reference_labels,
            min_raters=min_raters, show_small_groups=show_small_groups,
        )
        if reference_labels
        else []
    )  # fmt: skip
    mixed = _mixed_rows(table, people, rows) if mixed_model else []
    return SlicesReport(
        groupings=[_grouping_row(g, table, options) for g in groupings],
        groups=rows["groups"],
        offsets=rows["offsets"],
        contrasts=rows["contrasts"],
        agreement=rows["agreement"],
        labels=rows["labels"],
        slices=rows["slices"],
        reference_metrics=metrics,
        gaps=[_gap(g.by, rows["offsets"]) for g in people],
        mixed_model=mixed,
        config={
            "min_raters": min_raters,
            "show_small_groups": show_small_groups,
            "n_boot": n_boot,
            "seed": seed,
            "fwer": fwer,
            "level": table.level,
            "offset_ci": "two-way (raters x items) pigeonhole bootstrap, percentile",
            "reference_labels": reference_labels.kind if reference_labels else None,
        },
        input={
            "source": table.source,
            "n_ratings": table.n_ratings,
            "n_items": table.n_items,
            "n_annotators": table.n_annotators,
        },
        notes=_notes(groupings, rows),
    )


# ------------------------------------------------------------------------------ scopes
def _scopes(
    table: AnnotationTable, groupings: list[Grouping], rows: dict[str, list[dict[str, Any]]]
) -> list[_Scope]:
    """All data, then each slice of each item attribute (single-rater slices excluded)."""
    everything = _Scope(None, None, np.ones(table.n_ratings, dtype=bool))
    _agreement_all(table, everything, rows)
    scopes = [everything]
    for grouping in groupings:
        if grouping.kind != "item":
            continue
        slice_of = grouping.codes[table.item_codes]
        for code, name in enumerate(grouping.names):
            scope = _Scope(grouping.by, name, slice_of == code)
            n_raters = np.count_nonzero(np.bincount(table.annotator_codes[scope.mask]))
            excluded = bool(n_raters < 2)
            rows["slices"].append(
                {
                    "by": grouping.by,
                    "slice": name,
                    "missing_value": code == grouping.unknown,
                    "n_items": int((grouping.codes == code).sum()),
                    "n_raters": int(n_raters),
                    "n_ratings": int(scope.mask.sum()),
                    "excluded": excluded,
                    "reason": _ONE_RATER if excluded else None,
                }
            )
            rows["labels"].append(_labels(table, scope.mask, grouping.by, name, scope))
            _agreement_all(table, scope, rows, by=grouping.by, group=name, excluded=excluded)
            if not excluded:
                scopes.append(scope)
    return scopes


def _agreement_all(
    table: AnnotationTable,
    scope: _Scope,
    rows: dict[str, list[dict[str, Any]]],
    *,
    by: str | None = None,
    group: str | None = None,
    excluded: bool = False,
) -> None:
    """Alpha among all raters of the scope (the whole table, or one slice)."""
    metric = within_alpha(table, scope.mask) if not excluded else None
    rows["agreement"].append(
        {
            "by": by,
            "group": group,
            **scope.tag(),
            "kind": "all raters" if by is None else "slice",
            "other": None,
            **_raters_items(table, scope.mask),
            **_metric(metric, _ONE_RATER if excluded else None),
        }
    )


# ---------------------------------------------------------------------------- analysis
def _analyse(
    table: AnnotationTable,
    grouping: Grouping,
    scope: _Scope,
    options: _Options,
    rows: dict[str, list[dict[str, Any]]],
) -> None:
    """Groups, offsets, contrasts, agreement and labels of one attribute in one scope."""
    rater_group = grouping.codes[table.annotator_codes]
    present = recode(table.annotator_codes[scope.mask], table.n_annotators)[0]
    n_raters = np.bincount(grouping.codes[present], minlength=grouping.n_groups)
    shown = (n_raters >= options.min_raters) | (options.show_small & (n_raters > 0))
    for code, name in enumerate(grouping.names):
        if n_raters[code] == 0:
            continue
        mask = scope.mask & (rater_group == code)
        reason = None if shown[code] else _SUPPRESSED.format(n=options.min_raters)
        rows["groups"].append(
            {
                "by": grouping.by,
                "group": name,
                **scope.tag(),
                "missing_value": code == grouping.unknown,
                **_raters_items(table, mask),
                "suppressed": not shown[code],
                "reason": reason,
            }
        )
        if shown[code]:
            rows["labels"].append(_labels(table, mask, grouping.by, name, scope))
    _offsets(table, grouping, scope, options, shown, rows)
    _group_agreement(table, grouping, scope, options, shown, rows)


def _offsets(
    table: AnnotationTable,
    grouping: Grouping,
    scope: _Scope,
    options: _Options,
    shown: np.ndarray,
    rows: dict[str, list[dict[str, Any]]],
) -> None:
    idx = np.flatnonzero(scope.mask)
    _, items = recode(table.item_codes[idx], table.n_items)
    raters_used, raters = recode(table.annotator_codes[idx], table.n_annotators)
    codes = grouping.codes[raters_used]
    reference = _reference(grouping, shown, codes, options)
    result = group_offsets(
        table.values[idx],
        items.astype(np.int64),
        raters.astype(np.int64),
        codes,
        n_groups=grouping.n_groups,
        reference=reference if reference is not None else 0,
        n_boot=options.n_boot,
        seed=options.seed,
    )
    tested = shown & (result.n_ratings > 0)
    p_holm, diff_holm = result.holm(tested)
    for code, name in enumerate(grouping.names):
        if result.n_raters[code] == 0:
            continue
        show = bool(tested[code])
        rows["offsets"].append(
            {
                "by": grouping.by,
                "group": name,
                **scope.tag(),
                "n_raters": int(result.n_raters[code]),
                "n_ratings": int(result.n_ratings[code]),
                "n_items": int(result.n_items[code]),
                "offset": result.offset[code] if show else None,
                "se": result.se[code] if show else None,
                "ci95": [result.ci_low[code], result.ci_high[code]] if show else None,
                "se_unclustered": result.se_unclustered[code] if show else None,
                "p": result.p[code] if show else None,
                "p_holm": p_holm[code] if show else None,
                "significant": bool(p_holm[code] < options.fwer) if show else None,
                "suppressed": not shown[code],
                "n_boot": result.n_boot,
            }
        )
        if show and reference is not None and code != reference:
            rows["contrasts"].append(
                {
                    "by": grouping.by,
                    "group": name,
                    **scope.tag(),
                    "reference": grouping.names[reference],
                    "difference": result.diff[code],
                    "se": result.diff_se[code],
                    "ci95": [result.diff_low[code], result.diff_high[code]],
                    "p": result.diff_p[code],
                    "p_holm": diff_holm[code],
                    "significant": bool(diff_holm[code] < options.fwer),
                }
            )


def _reference(
    grouping: Grouping, shown: np.ndarray, codes: np.ndarray, options: _Options
) -> int | None:
    """The contrast reference: the named group, else the shown known group with most raters."""
    if grouping.by in options.reference:
        code = grouping.names.index(options.reference[grouping.by])
        return code if shown[code] else None
    counts = np.bincount(codes, minlength=grouping.n_groups).astype(np.float64)
    candidates = shown.copy()
    if grouping.unknown is not None:
        candidates[grouping.unknown] = False
    if not candidates.any():
        return None
    return int(np.argmax(np.where(candidates, counts, -1.0)))


def _group_agreement(
    table: AnnotationTable,
    grouping: Grouping,
    scope: _Scope,
    options: _Options,
    shown: np.ndarray,
    rows: dict[str, list[dict[str, Any]]],
) -> None:
    rater_group = grouping.codes[table.annotator_codes]
    codes = [c for c in range(grouping.n_groups) if shown[c]]
    masks = [scope.mask & (rater_group == c) for c in codes]
    for code, mask in zip(codes, masks, strict=True):
        counts = _raters_items(table, mask)
        one = counts["n_raters"] < 2
        rows["agreement"].append(
            {
                "by": grouping.by,
                "group": grouping.names[code],
                **scope.tag(),
                "kind": "within",
                "other": None,
                **counts,
                **_metric(None if one else within_alpha(table, mask), _ONE_RATER if one else None),
            }
        )
    cross = cross_group_alphas(table, masks, n_boot=options.n_boot, seed=options.seed)
    for (a, b), found in cross.items():
        rows["agreement"].append(
            {
                "by": grouping.by,
                "group": grouping.names[codes[a]],
                **scope.tag(),
                "kind": "between",
                "other": grouping.names[codes[b]],
                "n_raters": None,
                "n_items": found.n_items,
                "n_ratings": None,
                "n_pairs": found.n_pairs,
                "alpha": found.value,
                "se": None,
                "ci95": list(found.ci95) if found.ci95 else None,
                "ci_method": "item bootstrap" if found.ci95 else "none",
                "reason": found.reason,
            }
        )


# ----------------------------------------------------------------------------- helpers
def _raters_items(table: AnnotationTable, mask: np.ndarray) -> dict[str, int]:
    raters = np.bincount(table.annotator_codes[mask], minlength=table.n_annotators)
    items = np.bincount(table.item_codes[mask], minlength=table.n_items)
    return {
        "n_raters": int(np.count_nonzero(raters)),
        "n_items": int(np.count_nonzero(items)),
        "n_ratings": int(mask.sum()),
    }


def _metric(metric: Any, reason: str | None) -> dict[str, Any]:
    if metric is None:
        return {"alpha": None, "se": None, "ci95": None, "ci_method": "none", "reason": reason}
    return {
        "alpha": metric.value,
        "se": metric.se,
        "ci95": list(metric.ci95) if metric.ci95 is not None else None,
        "ci_method": metric.ci_method,
        "reason": metric.reason,
    }


def _labels(
    table: AnnotationTable, mask: np.ndarray, by: str, group: str, scope: _Scope
) -> dict[str, Any]:
    counts = np.bincount(table.label_codes[mask], minlength=table.n_categories)
    n = int(counts.sum())
    distribution = (
        {str(c): float(k) / n for c, k in zip(table.categories, counts, strict=True)}
        if n and table.n_categories <= 100
        else None
    )
    mean = float(table.values[mask].mean()) if n else None
    return {
        "by": by,
        "group": group,
        **scope.tag(),
        "n_ratings": n,
        "mean": mean,
        "distribution": distribution,
    }


def _grouping_row(grouping: Grouping, table: AnnotationTable, options: _Options) -> dict[str, Any]:
    units = grouping.units_per_group()
    return {
        "by": grouping.by,
        "kind": grouping.kind,
        "origin": grouping.origin,
        "groups": list(grouping.names),
        "n_groups": grouping.n_groups,
        "unknown": grouping.names[grouping.unknown] if grouping.unknown is not None else None,
        "n_unknown": int(units[grouping.unknown]) if grouping.unknown is not None else 0,
        "n_meta_only": grouping.n_meta_only,
        "reference": options.reference.get(grouping.by),
    }


def _gap(by: str, offsets: list[dict[str, Any]]) -> dict[str, Any]:
    """Largest minus smallest shown offset of one attribute over all data."""
    shown = [
        r
        for r in offsets
        if r["by"] == by
        and r["slice_by"] is None
        and r["offset"] is not None
        and np.isfinite(r["offset"])
    ]
    if len(shown) < 2:
        return {
            "by": by,
            "gap": None,
            "high": None,
            "low": None,
            "reason": "fewer than two groups with figures",
        }
    high = max(shown, key=lambda r: r["offset"])
    low = min(shown, key=lambda r: r["offset"])
    return {
        "by": by,
        "gap": high["offset"] - low["offset"],
        "high": high["group"],
        "low": low["group"],
        "reason": None,
    }


def _notes(groupings: list[Grouping], rows: dict[str, list[dict[str, Any]]]) -> list[str]:
    notes = []
    hidden = [r for r in rows["groups"] if r["suppressed"]]
    if hidden:
        notes.append(
            f"{len(hidden)} group(s) with too few raters are listed with counts only: "
            + ", ".join(f"{r['by']}={r['group']} ({r['n_raters']})" for r in hidden[:10])
        )
    for g in groupings:
        if g.unknown is not None:
            n = int(g.units_per_group()[g.unknown])
            notes.append(
                f"{g.by}: {n} {g.kind}(s) without a value form the group {g.names[g.unknown]!r}"
            )
        if g.n_meta_only:
            notes.append(f"{g.by}: {g.n_meta_only} {g.kind}(s) of {g.origin} have no rating")
    excluded = [r for r in rows["slices"] if r["excluded"]]
    if excluded:
        notes.append(
            f"{len(excluded)} slice(s) rated by one rater are excluded from between-rater "
            "statistics: " + ", ".join(f"{r['by']}={r['slice']}" for r in excluded[:10])
        )
    return notes


def _mixed_rows(
    table: AnnotationTable, people: list[Grouping], rows: dict[str, list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """MixedLM effects against each attribute's contrast reference; groups whose figures
    are suppressed are fitted (they are data) but not shown."""
    from labelaudit.fairness.mixed import mixed_model

    out = []
    for grouping in people:
        whole = [r for r in rows["contrasts"] if r["by"] == grouping.by and r["slice_by"] is None]
        if not whole:
            continue
        shown = {r["group"] for r in whole}
        effects = mixed_model(table, grouping, whole[0]["reference"])
        out += [e.to_dict() for e in effects if e.group in shown]
    return out
