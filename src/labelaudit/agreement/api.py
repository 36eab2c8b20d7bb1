"""The one entry point of the agreement analysis: :func:`agreement_report`.

It chooses the coefficients that apply to the table (level, number of annotators,
continuous or categorical ratings), attaches analytic or bootstrap uncertainty, runs the
diagnostics and returns an :class:`AgreementReport` whose ``to_dict()`` is the stable JSON
contract documented in the README.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from labelaudit import __version__
from labelaudit._typing import CI_METHODS
from labelaudit.agreement import alpha as alpha_mod
from labelaudit.agreement import diagnostics
from labelaudit.agreement._blas import one_blas_thread
from labelaudit.agreement.chance import chance_corrected, family_values, item_stats
from labelaudit.agreement.conger import conger_kappa, conger_values
from labelaudit.agreement.weights import weight_matrix
from labelaudit.exceptions import UsageError
from labelaudit.intervals import bootstrap_item_weights, check_n_boot
from labelaudit.methods import METRIC_ORDER
from labelaudit.results import Displayable, MetricResult
from labelaudit.table.content import content_sha256
from labelaudit.table.profiles import ItemProfiles
from labelaudit.table.table import CONTINUOUS_LIMIT, AnnotationTable

__all__ = [
    "MAX_CATEGORIES",
    "MAX_COUNT_CELLS",
    "METRIC_ORDER",
    "AgreementReport",
    "agreement_report",
    "coefficient_replicates",
    "content_sha256",
    "profile_metrics",
    "profile_report",
]

_CONTINUOUS = (
    "continuous ratings (more than 100 distinct values and no declared categories): the "
    "kappa family needs a category scale; declare it with --categories"
)
#: Most categories the coefficients accept: they hold (q, q) weight and distance matrices
#: and an (items, q) count matrix, and cost O(items x q^2) time. Measured: 1,000 categories
#: x 100,000 items took 81 s at 3.4 GB peak; a million categories would need 7.28 TiB.
MAX_CATEGORIES = 1_000
#: Most cells of the dense (items + annotators) x categories count matrices (about 32 bytes
#: per cell at peak: 2e8 cells ~ 6 GB).
MAX_COUNT_CELLS = 200_000_000


@dataclass(frozen=True)
class AgreementReport(Displayable):
    """Result of :func:`agreement_report`. ``to_dict()`` is the documented JSON contract."""

    n_items: int
    n_annotators: int
    n_ratings: int
    level: str
    weights: str
    categories: list[str]
    metrics: dict[str, Any]  # MetricResult, or nested dicts of them (structured tasks)
    icc: Any = None
    pairwise: list[dict[str, Any]] = field(default_factory=list)
    per_category: list[dict[str, Any]] = field(default_factory=list)
    confusions: list[dict[str, Any]] = field(default_factory=list)
    top_disagreements: list[dict[str, Any]] = field(default_factory=list)
    input: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    structured: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; see the README section "JSON output" for every key."""
        metrics = {name: _metric_dict(result) for name, result in self.metrics.items()}
        if self.icc is not None:
            metrics["icc"] = self.icc.to_dict()
        extra = {"structured": self.structured} if self.structured else {}
        return {
            "tool": {"name": "labelaudit", "version": __version__},
            "input": self.input,
            "config": self.config,
            "n_items": self.n_items,
            "n_annotators": self.n_annotators,
            "n_ratings": self.n_ratings,
            "level": self.level,
            "weights": self.weights,
            "categories": self.categories,
            "metrics": metrics,
            "pairwise": self.pairwise,
            "per_category": self.per_category,
            "confusions": self.confusions,
            "top_disagreements": self.top_disagreements,
            **extra,
        }


def _metric_dict(result: Any) -> Any:
    """``to_dict()`` of a MetricResult; nested dicts (structured metrics) recursively."""
    if isinstance(result, dict):
        return {key: _metric_dict(value) for key, value in result.items()}
    return result.to_dict()


def agreement_report(
    table: AnnotationTable,
    *,
    weights: str = "identity",
    weights_matrix: np.ndarray | None = None,
    ci: str = "analytic",
    n_boot: int = 1000,
    seed: int = 0,
    diagnose: bool = True,
    top: int = 20,
    rater_order: Sequence[str] | None = None,
) -> AgreementReport:
    """Inter-annotator agreement of a table, with uncertainty and diagnostics.

    Parameters
    ----------
    table : AnnotationTable
        Validated annotations (see :func:`labelaudit.read_annotations`).
    weights : str
        Weight scheme for the kappa family (``identity`` = unweighted; see
        :func:`labelaudit.agreement.weights.weight_matrix`). Krippendorff's alpha ignores
        it and uses the table's level instead.
    weights_matrix : ndarray (q, q), optional
        A user weight matrix (overrides ``weights``; reported as ``"custom"``). An
        asymmetric matrix needs exactly two annotators and is read in order: w[k, l] for
        rater 1 saying k and rater 2 saying l (rater 1 = ``rater_order[0]``, else the
        annotator first by name), by every coefficient, as irrCAC's table functions do.
        With three or more annotators it is refused (:class:`UsageError`).
    ci : {"none", "analytic", "bootstrap"}
        Analytic: Fleiss-Cohen-Everitt for Cohen's kappa, Gwet (2014) linearisation with
        t-based CI for the rest, bounded to each coefficient's range (docs/agreement.md).
        Bootstrap: ``n_boot`` replicates resampling items, SE = bootstrap SD, CI =
        percentile interval.
    n_boot, seed : int
        Bootstrap replicates (2 to :data:`~labelaudit.intervals.MAX_BOOT`)
        and random seed.
    diagnose : bool
        Compute pairwise, per-category, confusion and worst-item diagnostics.
    top : int
        Length of the confusion and worst-item lists.
    rater_order : sequence of str, optional
        Every annotator once, in order; the first is rater 1 (the rows of an asymmetric
        weight matrix). Default: by name.

    Raises
    ------
    UsageError
        Bad options, an asymmetric matrix with 3+ annotators, more than
        :data:`MAX_CATEGORIES` categories or :data:`MAX_COUNT_CELLS` count cells.

    Returns
    -------
    AgreementReport
    """
    if ci not in CI_METHODS:
        raise UsageError(f"ci must be one of {', '.join(CI_METHODS)}; got {ci!r}")
    check_n_boot(n_boot)
    if table.schema.is_structured:
        return _structured_report(
            table, ci=ci, n_boot=n_boot, seed=seed, diagnose=diagnose, top=top
        )
    _check_size(table)
    w, weights_name, ordered = _weights(table, weights, weights_matrix, rater_order)
    pair_agreement = _pair_agreement(table, w) if ordered else None
    diagnose = diagnose and table.n_categories <= CONTINUOUS_LIMIT
    shared = _share(table)
    # the bootstrap's (replicates, items) products are wide: they keep BLAS's threads
    cells = table.n_items * table.n_categories if ci != "bootstrap" else 0
    with one_blas_thread(cells), ThreadPoolExecutor(max_workers=1) as pool:  # GIL freed
        sha = pool.submit(content_sha256, shared)
        later = pool.submit(_item_diagnostics, shared, top, None) if diagnose else None
        metrics = _analytic_metrics(table, w, pair_agreement)
        if ci == "bootstrap":
            metrics = _bootstrap(table, w, metrics, n_boot, seed, pair_agreement)
        pairwise = _pairwise(table, w, None) if diagnose else []
        found: dict[str, Any] = later.result() if later is not None else {}
        digest = sha.result()
    return _assembled(
        table, metrics, (weights_name, ordered), {"ci": ci, "n_boot": n_boot, "seed": seed},
        (pairwise, found, digest), multiplicity=None,
    )  # fmt: skip


def profile_report(
    profiles: ItemProfiles,
    *,
    weights: str = "identity",
    weights_matrix: np.ndarray | None = None,
    ci: str = "analytic",
    n_boot: int = 1000,
    seed: int = 0,
    diagnose: bool = True,
    top: int = 20,
    rater_order: Sequence[str] | None = None,
) -> AgreementReport:
    """:func:`agreement_report` of ``profiles.expand()``, finished from the profiles
    themselves: the coefficients (:func:`profile_metrics`), pairwise, per-category and
    confusion diagnostics weighted by the multiplicities, worst items and confusion
    examples ranked among the named items (a ranking by (score, item order) never reaches
    past them). Memory O(named ratings), whatever the number of items.

    Equal to the expanded report to float rounding, except ``input.sha256`` (null: the
    content hash needs every row). What needs every item falls back to the expansion
    (memory O(ratings)): bootstrap CIs (they resample items), the ICC (interval/ratio
    levels), continuous ratings, an asymmetric weight matrix, ``top`` > ``profiles.keep``.
    """
    options: dict[str, Any] = {"weights": weights, "weights_matrix": weights_matrix, "ci": ci}
    options |= {"n_boot": n_boot, "seed": seed, "diagnose": diagnose, "top": top}
    table = profiles.table
    if ci not in CI_METHODS:
        raise UsageError(f"ci must be one of {', '.join(CI_METHODS)}; got {ci!r}")
    expand = ci == "bootstrap" or table.is_continuous or table.schema.is_quantitative
    if expand or top > profiles.keep or table.schema.is_structured:
        return agreement_report(profiles.expand(), rater_order=rater_order, **options)
    w, weights_name, ordered = _weights(table, weights, weights_matrix, rater_order)
    if ordered:
        return agreement_report(profiles.expand(), rater_order=rater_order, **options)
    _check_size(table)
    mult = profiles.multiplicity
    metrics = _analytic_metrics(table, w, None, mult)
    diagnose = diagnose and table.n_categories <= CONTINUOUS_LIMIT
    pairwise = _pairwise(table, w, mult) if diagnose else []
    found = _item_diagnostics(table, top, mult) if diagnose else {}
    return _assembled(
        table, metrics, (weights_name, None), {"ci": ci, "n_boot": n_boot, "seed": seed},
        (pairwise, found, None), multiplicity=mult,
    )  # fmt: skip


def _assembled(
    table: AnnotationTable,
    metrics: dict[str, MetricResult],
    weighting: tuple[str, list[str] | None],
    uncertainty: dict[str, Any],
    found: tuple[list[dict[str, Any]], dict[str, Any], str | None],
    *,
    multiplicity: np.ndarray | None,
) -> AgreementReport:
    """The report of a categorical table (of item profiles when ``multiplicity``, the
    items each row stands for, is given) from its metrics and diagnostics: ``found`` =
    (pairwise, the item diagnostics' keys, the content hash or None)."""
    weights_name, ordered = weighting
    pairwise, item_diagnostics, digest = found
    if uncertainty["ci"] == "none":
        metrics = {k: replace(m, se=None, ci95=None, ci_method="none") for k, m in metrics.items()}
    if multiplicity is None:
        n_items, n_ratings = table.n_items, table.n_ratings
    else:
        per_item = np.bincount(table.item_codes, minlength=table.n_items)
        n_items, n_ratings = int(multiplicity.sum()), int(multiplicity @ per_item)
    return AgreementReport(
        n_items=n_items,
        n_annotators=table.n_annotators,
        n_ratings=n_ratings,
        level=table.level,
        weights=weights_name,
        categories=[str(c) for c in table.categories],
        metrics=metrics,
        icc=_icc(table) if table.schema.is_quantitative else None,
        input={"source": table.source, "sha256": digest},
        config={
            "level": table.level,
            "weights": weights_name,
            **uncertainty,
            "categories": table.schema.categories is not None,
            **({"rater_order": ordered} if ordered else {}),
        },
        pairwise=pairwise,
        **item_diagnostics,
    )


def _share(table: AnnotationTable) -> AnnotationTable:
    """The table with the shared matrices built (count matrix, row order), so that the
    threads of :func:`agreement_report` only read them."""
    if not table.is_continuous:
        table.to_item_category_counts()
    _ = table.row_order
    return table


def _pairwise(
    table: AnnotationTable, w: np.ndarray, multiplicity: np.ndarray | None
) -> list[dict[str, Any]]:
    """Pairwise agreement (identity weights for continuous ratings)."""
    weights = np.eye(table.n_categories) if table.is_continuous else w
    return diagnostics.pairwise_agreement(table, weights, multiplicity=multiplicity)


def _item_diagnostics(
    table: AnnotationTable, top: int, multiplicity: np.ndarray | None
) -> dict[str, Any]:
    """Per-category, confusion and worst-item diagnostics (the report's keys), weighted
    by ``multiplicity`` (item profiles) when given."""
    return {
        "per_category": diagnostics.per_category_agreement(table, multiplicity),
        "confusions": diagnostics.confusions(table, top=top, multiplicity=multiplicity),
        "top_disagreements": diagnostics.top_disagreements(table, top=top),
    }


def _structured_report(
    table: AnnotationTable, *, ci: str, n_boot: int, seed: int, diagnose: bool, top: int
) -> AgreementReport:
    """Structured tasks: the metrics of :mod:`labelaudit.structured`, never the dense
    item x category matrix of the canonical JSON labels (the kappa family is skipped; its
    ``percent_agreement`` is computed sparsely as identical-annotation agreement)."""
    from labelaudit.structured.api import payload_vocabulary, structured_analysis

    metrics, found = structured_analysis(
        table, ci=ci, n_boot=n_boot, seed=seed, top=top, diagnose=diagnose
    )
    return AgreementReport(
        n_items=table.n_items,
        n_annotators=table.n_annotators,
        n_ratings=table.n_ratings,
        level=table.level,
        weights="identity",
        categories=payload_vocabulary(table),
        metrics=metrics,
        per_category=found.get("per_category", []),
        confusions=found.get("confusions", []),
        structured=found.get("structured", {}),
        input={"source": table.source, "sha256": content_sha256(table)},
        config={
            "task": table.task,
            "level": table.level,
            "weights": "identity",
            "ci": ci,
            "n_boot": n_boot,
            "seed": seed,
            "categories": table.schema.categories is not None,
        },
    )


def _icc(table: AnnotationTable) -> Any:
    from labelaudit.agreement.icc import icc  # scipy.stats: only at interval/ratio level

    return icc(table.to_units_by_raters())


def _check_size(table: AnnotationTable) -> None:
    """Refuse tables whose dense count and weight matrices would not fit (issue 23)."""
    if table.is_continuous:
        return  # closed forms, no (q, q) or (items, q) matrix
    q = table.n_categories
    cells = (table.n_items + table.n_annotators) * q
    if q <= MAX_CATEGORIES and cells <= MAX_COUNT_CELLS:
        return
    raise UsageError(
        f"{q:,} categories over {table.n_items:,} items: the coefficients need "
        f"{q:,} x {q:,} weight matrices and {cells:,} count cells, past the limits of "
        f"{MAX_CATEGORIES:,} categories and {MAX_COUNT_CELLS:,} cells. Fix: check that the "
        "label column holds categories (not ids or free text), or rate numbers at "
        "--level interval/ratio without --categories (closed forms, no limit)"
    )


def _weights(
    table: AnnotationTable,
    name: str,
    matrix: np.ndarray | None,
    rater_order: Sequence[str] | None,
) -> tuple[np.ndarray, str, list[str] | None]:
    """(W, its name, rater order when W is asymmetric). W is transposed when the given
    order puts the annotator second by name first, so rows are always annotator code 0."""
    order = _rater_order(table, rater_order)
    if table.is_continuous:
        return np.eye(0), name, None
    if matrix is None and name != "identity" and table.category_scale == "text":
        raise UsageError(
            f"--weights {name} needs category values, but the labels are text and no "
            "order was declared (text order is never value order). Fix: pass --categories "
            "in scale order (e.g. --categories low,medium,high), use numeric labels, or "
            "give a --weights-file"
        )
    if matrix is None:
        return weight_matrix(name, table.category_values), name, None
    q = table.n_categories
    if matrix.shape != (q, q):
        raise UsageError(f"weights matrix must be {q} x {q}; got {matrix.shape}")
    if np.allclose(matrix, matrix.T, rtol=0.0, atol=1e-12):
        return matrix, "custom", None
    if table.n_annotators > 2:
        raise UsageError(
            f"the weights matrix is asymmetric (w[k, l] != w[l, k]) and there are "
            f"{table.n_annotators} annotators: w[k, l] needs to know which rater said k, "
            "and with three or more raters their order is undefined. Fix: give a symmetric "
            "matrix, or compare two annotators at a time"
        )
    names = [str(a) for a in table.annotators]
    if order is not None and table.n_annotators == 2 and order[0] != names[0]:
        return np.ascontiguousarray(matrix.T), "custom", order
    return matrix, "custom", names


def _rater_order(table: AnnotationTable, order: Sequence[str] | None) -> list[str] | None:
    """The given order, checked to hold every annotator exactly once."""
    if order is None:
        return None
    names = [str(a) for a in table.annotators]
    given = [str(a) for a in order]
    if sorted(given) != sorted(names):
        shown = ", ".join(names[:10]) + (", ..." if len(names) > 10 else "")
        raise UsageError(
            f"--annotators must list every annotator of the file once; got {', '.join(given)}; "
            f"the file has {shown}"
        )
    return given


def _pair_codes(table: AnnotationTable) -> np.ndarray:
    """label_a * q + label_b per item rated by annotators 0 (a) and 1 (b), else -1."""
    q = table.n_categories
    pairs = np.full(table.n_items, -1)
    first = table.annotator_codes == 0
    label_a = np.full(table.n_items, -1)
    label_a[table.item_codes[first]] = table.label_codes[first]
    second = (table.annotator_codes == 1) & (label_a[table.item_codes] >= 0)
    pairs[table.item_codes[second]] = (
        label_a[table.item_codes[second]] * q + table.label_codes[second]
    )
    return pairs


def _pair_agreement(table: AnnotationTable, w: np.ndarray) -> np.ndarray:
    """w[label of rater 1, label of rater 2] per item (0 where the pair is incomplete)."""
    pairs = _pair_codes(table)
    return np.where(pairs >= 0, w.ravel()[np.maximum(pairs, 0)], 0.0)


def profile_metrics(
    profiles: ItemProfiles, *, weights: str = "identity"
) -> dict[str, MetricResult]:
    """Every coefficient of :func:`agreement_report` with its analytic SE and CI, finished
    from item profiles (:class:`~labelaudit.table.profiles.ItemProfiles`) without
    expanding them: the same formulas, each sum over items weighted by the profiles'
    multiplicities, O(named ratings) whatever the number of items. Equal to
    ``agreement_report(profiles.expand(), weights=weights).metrics`` to float rounding.

    Raises :class:`UsageError` for continuous ratings (closed forms over the values).
    """
    table = profiles.table
    if table.is_continuous:
        raise UsageError("continuous ratings have no item profiles; use agreement_report")
    _check_size(table)
    w, _, _ = _weights(table, weights, None, None)
    return _analytic_metrics(table, w, None, profiles.multiplicity)


def _analytic_metrics(
    table: AnnotationTable,
    w: np.ndarray,
    pair_agreement: np.ndarray | None = None,
    multiplicity: np.ndarray | None = None,
) -> dict[str, MetricResult]:
    metrics: dict[str, MetricResult] = {}
    single = table.n_annotators < 2
    if table.is_continuous:
        metrics.update({name: MetricResult.undefined(_CONTINUOUS) for name in METRIC_ORDER})
        metrics["krippendorff_alpha"] = _continuous_alpha(table)
    else:
        counts = table.to_item_category_counts()  # built once, shared with the diagnostics
        stats = item_stats(counts, w)  # per-item sufficient statistics, shared
        metrics.update(
            chance_corrected(
                counts, w, pair_agreement=pair_agreement, stats=stats, multiplicity=multiplicity
            )
        )
        metrics["krippendorff_alpha"] = alpha_mod.krippendorff_alpha(
            counts, table.category_values, level=table.level, multiplicity=multiplicity
        )
        metrics["conger_kappa"] = conger_kappa(
            counts,
            table.item_codes,
            table.annotator_codes,
            table.label_codes,
            table.n_annotators,
            w,
            pair_agreement=pair_agreement,
            stats=stats,
            multiplicity=multiplicity,
        )
        if table.n_annotators == 2:
            from labelaudit.agreement.cohen import cohen_kappa, pair_table, scott_pi

            pair = pair_table(
                table.item_codes,
                table.annotator_codes,
                table.label_codes,
                0,
                1,
                table.n_items,
                table.n_categories,
                multiplicity,
            )
            metrics["cohen_kappa"] = cohen_kappa(pair, w)
            metrics["scott_pi"] = scott_pi(pair, w)
    if single:
        reason = "a single annotator: nothing to compare"
        metrics = {name: MetricResult.undefined(reason) for name in metrics}
    if table.n_annotators != 2:
        metrics.pop("cohen_kappa", None)
        metrics.pop("scott_pi", None)
    return {name: metrics[name] for name in METRIC_ORDER if name in metrics}


#: Ratio alpha on continuous values costs O(V^2) in the V distinct values (~1e9 pairs/s).
RATIO_DISTINCT_LIMIT = 100_000


def _continuous_alpha(table: AnnotationTable) -> MetricResult:
    if table.level == "ratio" and table.n_categories > RATIO_DISTINCT_LIMIT:
        return MetricResult.undefined(
            f"ratio alpha on {table.n_categories:,} distinct values would take minutes "
            f"(O(V^2)); round or bin the values to at most {RATIO_DISTINCT_LIMIT:,}"
        )
    return alpha_mod.krippendorff_alpha_continuous(
        table.item_codes, table.values, table.n_items, level=table.level
    )


def _bootstrap_values(
    table: AnnotationTable,
    w: np.ndarray,
    item_weights: np.ndarray,
    pair_agreement: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Every coefficient for a chunk of replicates (B, n_items)."""
    if table.is_continuous:
        return {
            "krippendorff_alpha": np.atleast_1d(
                alpha_mod.alpha_continuous(
                    table.item_codes,
                    table.values,
                    table.n_items,
                    level=table.level,
                    item_weights=item_weights,
                )
            )
        }
    counts = table.to_item_category_counts()
    values = family_values(counts, w, item_weights, pair_agreement=pair_agreement)
    values["krippendorff_alpha"] = np.atleast_1d(
        alpha_mod.alpha_from_counts(
            counts, table.category_values, level=table.level, item_weights=item_weights
        )
    )
    values["conger_kappa"] = conger_values(
        counts,
        table.item_codes,
        table.annotator_codes,
        table.label_codes,
        table.n_annotators,
        w,
        item_weights,
        pair_agreement=pair_agreement,
    )
    if table.n_annotators == 2:
        from labelaudit.agreement.cohen import cohen_values

        values.update(cohen_values(_pair_codes(table), table.n_categories, w, item_weights))
    return values


def coefficient_replicates(
    table: AnnotationTable, item_weights: np.ndarray, *, weights: str = "identity"
) -> dict[str, np.ndarray]:
    """Every coefficient of ``table`` under each row of ``item_weights``.

    The bootstrap's own computation, public for comparisons of two sets of items (e.g.
    ``labelaudit compare``): a row of ones gives the point estimates, rows of
    :func:`labelaudit.intervals.bootstrap_item_weights` the replicates.

    Parameters
    ----------
    table : AnnotationTable
        Categorical (or continuous: alpha only) annotations.
    item_weights : ndarray, shape (B, n_items)
        Multiplicity of each item in each replicate.
    weights : str
        Weight scheme of the kappa family (as :func:`agreement_report`).

    Returns
    -------
    dict of str to ndarray, shape (B,)
        One array per coefficient (NaN where undefined).
    """
    w, _, _ = _weights(table, weights, None, None)
    return _bootstrap_values(table, w, np.atleast_2d(np.asarray(item_weights, dtype=np.float64)))


_ANALYTIC_TESTS = ("p_value", "se_h0", "z", "p", "p_value_vs_chance", "p_e_vs_chance")


def _bootstrap(
    table: AnnotationTable,
    w: np.ndarray,
    metrics: dict[str, MetricResult],
    n_boot: int,
    seed: int,
    pair_agreement: np.ndarray | None = None,
) -> dict[str, MetricResult]:
    """Replace analytic SEs/CIs by bootstrap ones (Hayes & Krippendorff 2007: resample items);
    the analytic tests (p-values, z) are dropped, the exact perfect-agreement bound kept."""
    if all(metric.value is None for metric in metrics.values()):
        return {k: replace(m, ci_method="bootstrap") for k, m in metrics.items()}
    chunks: dict[str, list[np.ndarray]] = {}
    for item_weights in bootstrap_item_weights(table.n_items, n_boot, seed):
        for name, values in _bootstrap_values(table, w, item_weights, pair_agreement).items():
            chunks.setdefault(name, []).append(values)
    out = {}
    for name, metric in metrics.items():
        if metric.value is None or name not in chunks:
            out[name] = replace(metric, se=None, ci95=None, ci_method="bootstrap")
            continue
        draws = np.concatenate(chunks[name])
        finite = draws[np.isfinite(draws)]
        if finite.size < 2:
            out[name] = replace(
                metric,
                se=None,
                ci95=None,
                ci_method="bootstrap",
                reason="bootstrap replicates were undefined",
            )
            continue
        low, high = np.percentile(finite, [2.5, 97.5])
        extra = {k: v for k, v in metric.extra.items() if k not in _ANALYTIC_TESTS}
        extra["n_boot_defined"] = int(finite.size)
        out[name] = replace(
            metric,
            se=float(finite.std(ddof=1)),
            ci95=(float(low), float(high)),
            ci_method="bootstrap",
            extra=extra,
        )
    return out
