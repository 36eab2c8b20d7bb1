"""Before/after a guideline revision: agreement of the batches labelled under each version.

The two periods are independent samples of items, so the bootstrap resamples items within
each period (Hayes & Krippendorff 2007), ``n_boot`` times each with its own seed, and the
95% interval of the difference is the percentile interval of the ``n_boot`` differences
(after - before). Per-category agreement is the specific agreement of
:func:`labelaudit.agreement.diagnostics.per_category_agreement`, bootstrapped the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from labelaudit.exceptions import UsageError
from labelaudit.guidelines.stored import UNVERSIONED, batch_versions
from labelaudit.intervals import bootstrap_item_weights, check_n_boot, percentile_ci

if TYPE_CHECKING:
    from labelaudit.project import Project
    from labelaudit.table import AnnotationTable

__all__ = ["VersionComparison", "compare_periods", "compare_versions", "label_order_key"]

_NAMES = {
    "krippendorff_alpha": "Krippendorff's alpha",
    "fleiss_kappa": "Fleiss' kappa",
    "percent_agreement": "percent agreement",
    "gwet_ac1": "Gwet's AC1",
}


@dataclass(frozen=True)
class VersionComparison:
    """Agreement before and after a revision, differences with bootstrap 95% intervals."""

    before: str
    after: str
    headline: str
    coefficients: tuple[dict[str, Any], ...]
    categories: tuple[dict[str, Any], ...]
    annotators: tuple[dict[str, Any], ...]
    verdict: str
    sentence: str
    n_boot: int
    seed: int
    periods: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON form (stable keys)."""
        return {
            "before": self.before,
            "after": self.after,
            "headline_metric": self.headline,
            "verdict": self.verdict,
            "sentence": self.sentence,
            "periods": self.periods,
            "coefficients": list(self.coefficients),
            "categories": list(self.categories),
            "annotators": list(self.annotators),
            "n_boot": self.n_boot,
            "seed": self.seed,
            "method": (
                f"bootstrap: {self.n_boot} replicates resampling items within each period "
                f"(seeds {self.seed} and {self.seed + 1}); 95% percentile interval of the "
                "difference after - before"
            ),
        }


def _number(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _specific(table: AnnotationTable, weights: np.ndarray) -> np.ndarray:
    """Specific agreement of every category under each row of ``weights``: (B, q)."""
    counts = table.to_item_category_counts().astype(np.float64)
    m = counts.sum(axis=1)
    agreeing = weights @ (counts * (counts - 1.0))
    pairable = weights @ (counts * (m - 1.0)[:, None])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(pairable > 0, agreeing / np.where(pairable > 0, pairable, 1.0), np.nan)


def _draws(
    table: AnnotationTable, n_boot: int, seed: int, weights: str
) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """Point values and replicates of every coefficient and category ("cat:" + name)."""
    from labelaudit.agreement.api import coefficient_replicates

    ones = np.ones((1, table.n_items))
    point = {
        k: float(v[0]) for k, v in coefficient_replicates(table, ones, weights=weights).items()
    }
    chunks: dict[str, list[np.ndarray]] = {k: [] for k in point}
    names = [f"cat:{c}" for c in table.categories.tolist()] if not table.is_continuous else []
    if names:
        point.update(zip(names, _specific(table, ones)[0].tolist(), strict=True))
        chunks.update({name: [] for name in names})
    for item_weights in bootstrap_item_weights(table.n_items, n_boot, seed):
        for key, values in coefficient_replicates(table, item_weights, weights=weights).items():
            chunks[key].append(values)
        if names:
            per_category = _specific(table, item_weights)
            for column, name in enumerate(names):
                chunks[name].append(per_category[:, column])
    return point, {k: np.concatenate(v) for k, v in chunks.items() if v}


def _row(key: str, before: float, after: float, b: np.ndarray, a: np.ndarray) -> dict[str, Any]:
    low, high = percentile_ci((a - b)[:, None])
    ci = None if not np.isfinite(low[0]) else [float(low[0]), float(high[0])]
    difference = after - before
    return {
        key: None,
        "before": _number(before),
        "after": _number(after),
        "difference": _number(difference),
        "ci95": ci if np.isfinite(difference) else None,
    }


def compare_periods(
    before: AnnotationTable,
    after: AnnotationTable,
    *,
    names: tuple[str, str] = ("before", "after"),
    n_boot: int = 1000,
    seed: int = 0,
    weights: str = "identity",
    headline: str = "krippendorff_alpha",
) -> VersionComparison:
    """Compare the agreement of two periods' annotations (same categories, in the same order).

    Parameters
    ----------
    before, after : AnnotationTable
        The annotations of each period (items may differ).
    names : (str, str)
        What the periods are called (guideline versions).
    n_boot, seed : int
        Bootstrap replicates per period; ``before`` uses ``seed``, ``after`` ``seed + 1``.
    weights : str
        Kappa-family weights.
    headline : str
        The coefficient whose interval decides the verdict.

    Returns
    -------
    VersionComparison
        Verdict ``helped`` (interval of the headline difference above 0), ``hurt`` (below
        0), ``no clear change`` (holds 0) or ``undefined``.
    """
    check_n_boot(n_boot)
    if before.categories.tolist() != after.categories.tolist():
        raise UsageError("the two periods must share their categories, in the same order")
    point_b, reps_b = _draws(before, n_boot, seed, weights)
    point_a, reps_a = _draws(after, n_boot, seed + 1, weights)
    rows = {
        key: _row(key, point_b[key], point_a[key], reps_b[key], reps_a[key])
        for key in point_b
        if key in point_a
    }
    from labelaudit.agreement.api import METRIC_ORDER

    ordered = [k for k in METRIC_ORDER if k in rows and not k.startswith("cat:")]
    ordered += [k for k in rows if k not in ordered and not k.startswith("cat:")]
    if headline in ordered:
        ordered.remove(headline)
        ordered.insert(0, headline)
    coefficients = tuple({"metric": k, **_drop(rows[k], k)} for k in ordered)
    categories = tuple(
        {"category": k[4:], **_drop(rows[k], k)} for k in rows if k.startswith("cat:")
    )
    verdict, sentence = _verdict(coefficients[0] if coefficients else None, names)
    return VersionComparison(
        before=names[0],
        after=names[1],
        headline=coefficients[0]["metric"] if coefficients else headline,
        coefficients=coefficients,
        categories=categories,
        annotators=_annotators(before, after),
        verdict=verdict,
        sentence=sentence,
        n_boot=n_boot,
        seed=seed,
        periods={
            names[0]: _period(before),
            names[1]: _period(after),
        },
    )


def _drop(row: Mapping[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != key}


def _period(table: AnnotationTable) -> dict[str, Any]:
    return {
        "n_items": table.n_items,
        "n_annotations": table.n_ratings,
        "n_annotators": table.n_annotators,
        "batches": [],
    }


def _verdict(row: Mapping[str, Any] | None, names: tuple[str, str]) -> tuple[str, str]:
    """``helped`` / ``hurt`` / ``no clear change`` / ``undefined`` and the sentence."""
    if row is None or row["difference"] is None or row["ci95"] is None:
        return "undefined", (
            f"The change from {names[0]} to {names[1]} cannot be measured: the agreement of "
            "one period is undefined."
        )
    metric = _NAMES.get(row["metric"], row["metric"].replace("_", " "))
    low, high = row["ci95"]
    facts = (
        f"{metric} went from {row['before']:.3f} under {names[0]} to {row['after']:.3f} under "
        f"{names[1]} ({row['difference']:+.3f}, 95% CI {low:+.3f} to {high:+.3f})"
    )
    if low > 0:
        return "helped", f"The revision helped: {facts}."
    if high < 0:
        return "hurt", f"The revision hurt agreement: {facts}."
    return "no clear change", f"No clear change: {facts}; the interval holds 0."


def _annotators(before: AnnotationTable, after: AnnotationTable) -> tuple[dict[str, Any], ...]:
    """Each annotator's leave-one-out agreement with the others, in each period."""
    from labelaudit.quality.annotators import leave_one_out_agreement

    def by_name(table: AnnotationTable) -> dict[str, tuple[float, int]]:
        values, n = leave_one_out_agreement(table)
        return {
            str(a): (float(v), int(k))
            for a, v, k in zip(table.annotators.tolist(), values.tolist(), n.tolist(), strict=True)
        }

    b, a = by_name(before), by_name(after)
    out = []
    for name in sorted(set(b) | set(a)):
        vb, nb = b.get(name, (np.nan, 0))
        va, na = a.get(name, (np.nan, 0))
        out.append(
            {
                "annotator": name,
                "before": _number(vb),
                "after": _number(va),
                "difference": _number(va - vb),
                "n_before": nb,
                "n_after": na,
            }
        )
    return tuple(out)


def compare_versions(
    project: Project,
    before: str,
    after: str,
    *,
    n_boot: int = 1000,
    seed: int = 0,
) -> VersionComparison:
    """:func:`compare_periods` of the stored batches labelled under ``before`` and ``after``.

    Batches without a recorded version form the period ``unversioned``, compared only when
    named. Raises :class:`UsageError` for a version with no batch (listing those stored).
    """
    if before == after:
        raise UsageError(f"--before and --after are both {before!r}; name two versions")
    with project.open_store(read_only=True) as store:
        versions = batch_versions(store)
        periods: dict[str, list[str]] = {}
        for batch, version in versions.items():
            periods.setdefault(version, []).append(batch)
        for name in (before, after):
            if name not in periods:
                known = ", ".join(sorted(periods)) or "none"
                raise UsageError(
                    f"no batch labelled under guideline version {name!r}; stored: {known}"
                    + ("" if name != UNVERSIONED else f" ({UNVERSIONED} = no version)")
                )
        records = {b.name: b for b in store.batches()}
        rows = {
            name: pa.concat_tables(
                [
                    store.annotations(records[b].batch_id).select(["item", "annotator", "label"])
                    for b in periods[name]
                ]
            )
            for name in (before, after)
        }
        schema = records[periods[before][0]].task_schema
    tables = _tables(project, rows, schema)
    result = compare_periods(
        tables[before],
        tables[after],
        names=(before, after),
        n_boot=n_boot,
        seed=seed,
        weights=project.config.agreement.weights,
        headline=project.config.task.tracked_metric,
    )
    for name in (before, after):
        result.periods[name]["batches"] = periods[name]
    return result


def _tables(
    project: Project, rows: dict[str, pa.Table], task_schema: str
) -> dict[str, AnnotationTable]:
    """Both periods as tables over one category list (declared, else the union, sorted)."""
    import json

    from labelaudit.table import read_annotations

    schema = json.loads(task_schema)
    categories = list(project.config.task.categories or ())
    if not categories:
        import pyarrow.compute as pc

        labels = pa.concat_arrays([t.column("label").combine_chunks() for t in rows.values()])
        found = {str(v) for v in pc.unique(labels).to_pylist() if v is not None}
        categories = sorted(found, key=label_order_key)
    return {
        name: read_annotations(
            table,
            level=schema.get("level", "nominal"),
            categories=categories,
            on_duplicate="keep-last",
        )
        for name, table in rows.items()
    }


def label_order_key(label: str) -> tuple[int, float, str]:
    """Sort key of label texts: numbers in numeric order before text in text order."""
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label)
