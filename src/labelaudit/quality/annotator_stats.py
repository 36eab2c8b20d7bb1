"""The annotator report's statistics step: every figure it needs, small, from one table.

:class:`AnnotatorStatistics` holds what :func:`labelaudit.quality.annotator_report`
turns into the report (its finish, :func:`~labelaudit.quality.annotator_report.
finish_annotator_report`): per-annotator sums (:class:`~labelaudit.quality.annotators.
AnnotatorSums`), annotator x category label counts, the longest runs, median seconds,
the annotator x gold x label confusion counts and what each fitted aggregator says
(:class:`FittedModel`). Sizes: O(r q q + number of gold items), never O(ratings).
:func:`table_statistics` is the local engine (one partition); the Spark engine builds the
same object from DataFrame aggregations (:mod:`labelaudit.spark.annotators`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from labelaudit.quality import _timing
from labelaudit.quality._methods import fit_method
from labelaudit.quality.annotators import AnnotatorSums, longest_label_runs, speed, table_sums
from labelaudit.quality.gold import GoldLabels, without_gold
from labelaudit.table.table import AnnotationTable

if TYPE_CHECKING:
    from labelaudit.consensus import Aggregator

__all__ = [
    "MODELS",
    "TIME_FORMS",
    "AnnotatorStatistics",
    "FittedModel",
    "column_seconds",
    "fitted_model",
    "table_statistics",
    "timing_names",
]

#: How a text timestamp column was read (:func:`column_seconds`).
TIME_FORMS = _timing.TIME_FORMS

#: Model-based columns and the method that gives each.
MODELS = {"ds_accuracy": "dawid-skene", "ds_kappa": "dawid-skene", "mace_spamming": "mace"}


@dataclass(frozen=True)
class FittedModel:
    """What the annotator report reads from one fitted aggregator, on any engine.

    ``summary``: ``summary().to_dict()``; ``gold_labels`` (g,): its labels of the gold
    items in ``GoldLabels.item_codes`` order (-1 = abstained), None without gold;
    ``priors`` (q,) and ``confusions`` (r, q, q) for Dawid-Skene; ``spamming`` (r,) for
    MACE.
    """

    summary: dict[str, Any]
    gold_labels: np.ndarray | None = None
    priors: np.ndarray | None = None
    confusions: np.ndarray | None = None
    spamming: np.ndarray | None = None


def fitted_model(model: Aggregator, gold: GoldLabels | None) -> FittedModel:
    """The :class:`FittedModel` of a locally fitted aggregator."""
    found: Any = model
    name = model.cli_name
    return FittedModel(
        summary=model.summary().to_dict(),
        gold_labels=np.asarray(found.labels_)[gold.item_codes] if gold is not None else None,
        priors=found.priors_ if name == "dawid-skene" else None,
        confusions=found.confusions_ if name == "dawid-skene" else None,
        spamming=found.spamming_ if name == "mace" else None,
    )


@dataclass(frozen=True)
class AnnotatorStatistics:
    """The statistics step of the annotator report (r annotators, q categories).

    Attributes
    ----------
    annotators, categories : ndarray of str, shapes (r,), (q,)
    n_items, n_ratings : int
    label_counts : ndarray of int64, shape (r, q)
        Every label of each annotator, by category.
    sums : AnnotatorSums
        Of the analysis rows (without the gold items with ``exclude_gold``), by annotator
        code of the whole table (zeros for an annotator without analysis rows).
    run_length, run_label : ndarray of int64, shape (r,)
        Longest run of identical labels in each annotator's order and its category (-1).
    median_seconds : ndarray of float64, shape (r,)
    columns : dict
        ``duration_col`` and ``time_col`` used (None when absent).
    gold : GoldLabels or None
    gold_cells : ndarray of int64, shape (r, q, q), or None
        ``[a, g, k]``: labels k of a on items of gold category g.
    fits : dict of str to FittedModel
        Every method on the whole table.
    model_fits : dict of str to FittedModel
        Dawid-Skene and MACE on the analysis rows (``fits`` without ``exclude_gold``).
    model_positions : ndarray of int64
        Code in the whole table of each annotator of ``model_fits``.
    source, sha256 : str, str or None
        Provenance (the hash needs every row in order: None on Spark).
    notes : list of str
        Notes for the report (none from the local engine).
    warnings : list of str
        The reader's warnings (``AnnotationTable.report``), for the caller to show.
    """

    annotators: np.ndarray
    categories: np.ndarray
    n_items: int
    n_ratings: int
    label_counts: np.ndarray
    sums: AnnotatorSums
    run_length: np.ndarray
    run_label: np.ndarray
    median_seconds: np.ndarray
    columns: dict[str, str | None]
    gold: GoldLabels | None
    gold_cells: np.ndarray | None
    fits: dict[str, FittedModel]
    model_fits: dict[str, FittedModel]
    model_positions: np.ndarray
    source: str
    sha256: str | None
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _positions(table: AnnotationTable, sub: AnnotationTable) -> np.ndarray:
    """Code in ``table`` of each annotator of ``sub`` (a row subset of ``table``)."""
    names = pa.array(np.asarray(table.annotators, dtype=object).astype(str), type=pa.string())
    wanted = pa.array(np.asarray(sub.annotators, dtype=object).astype(str), type=pa.string())
    return np.asarray(pc.index_in(wanted, value_set=names).to_numpy(zero_copy_only=False))


def _scattered(sums: AnnotatorSums, positions: np.ndarray, size: int) -> AnnotatorSums:
    """``sums`` of a row subset, by annotator code of the whole table (zeros elsewhere)."""
    counts = np.zeros((size, sums.label_counts.shape[1]), dtype=np.int64)
    credit, compared = np.zeros(size), np.zeros(size, dtype=np.int64)
    counts[positions], credit[positions] = sums.label_counts, sums.credit
    compared[positions] = sums.n_compared
    return AnnotatorSums(counts, credit, compared)


def _timing_arrays(
    table: AnnotationTable, duration_col: str | None, time_col: str | None
) -> tuple[np.ndarray | None, np.ndarray | None, dict[str, str | None]]:
    duration_name = _timing.resolve_column(table, duration_col, _timing.DURATION_COL)
    time_name = _timing.resolve_column(table, time_col, _timing.TIME_COL)
    durations = _timing.duration_seconds(table, duration_name) if duration_name else None
    times = _timing.time_seconds(table, time_name) if time_name else None
    return durations, times, {"duration_col": duration_name, "time_col": time_name}


def table_statistics(
    table: AnnotationTable,
    gold: GoldLabels | None,
    methods: Sequence[str],
    *,
    exclude_gold: bool,
    seed: int,
    timing: tuple[str | None, str | None],
    fitted: Mapping[str, Aggregator] | None = None,
) -> AnnotatorStatistics:
    """The statistics of one table held in memory (the local engine); ``fitted`` holds
    methods already fitted on ``table`` as :func:`fit_method` fits them (shared with
    another result), the others are fitted here."""
    from labelaudit.quality.gold_scores import gold_accuracy
    from labelaudit.table import content_sha256

    n = table.n_annotators
    given = fitted or {}
    models = {n: given[n] if n in given else fit_method(n, table, seed=seed) for n in methods}
    fits = {name: fitted_model(model, gold) for name, model in models.items()}
    analysis = without_gold(table, gold) if gold is not None and exclude_gold else table
    positions = _positions(table, analysis)
    if analysis is table:
        model_fits = {m: f for m, f in fits.items() if m in MODELS.values()}
    else:  # the model columns without the gold items: refitted on the rest
        model_fits = {
            m: fitted_model(fit_method(m, analysis, seed=seed), None)
            for m in methods
            if m in MODELS.values()
        }
    whole = table_sums(table)
    sums = whole if analysis is table else _scattered(table_sums(analysis), positions, n)
    durations, times, columns = _timing_arrays(table, *timing)
    length, label = longest_label_runs(table, times=times)  # p-values: the report's
    report = gold_accuracy(table, gold) if gold is not None else None
    return AnnotatorStatistics(
        annotators=table.annotators,
        categories=table.categories,
        n_items=table.n_items,
        n_ratings=table.n_ratings,
        label_counts=whole.label_counts,
        sums=sums,
        run_length=length,
        run_label=label,
        median_seconds=speed(table, durations=durations, times=times),
        columns=columns,
        gold=gold,
        gold_cells=report.confusion if report is not None else None,
        fits=fits,
        model_fits=model_fits,
        model_positions=positions,
        source=table.source,
        sha256=content_sha256(table),
    )


@dataclass(frozen=True)
class _Columns:
    """What the timing readers read of a table: its columns and its source."""

    data: pa.Table
    source: str


def timing_names(
    names: Sequence[str], source: str, duration_col: str | None, time_col: str | None
) -> dict[str, str | None]:
    """``{"duration_col", "time_col"}`` resolved among the column ``names`` as the local
    report resolves them (InputError for a requested column that is absent)."""
    stand_in = cast(AnnotationTable, _Columns(pa.table({n: pa.array([]) for n in names}), source))
    return {
        "duration_col": _timing.resolve_column(stand_in, duration_col, _timing.DURATION_COL),
        "time_col": _timing.resolve_column(stand_in, time_col, _timing.TIME_COL),
    }


def column_seconds(
    column: pa.ChunkedArray, name: str, kind: str, source: str
) -> tuple[np.ndarray, str]:
    """A ``duration`` or ``time`` column as float seconds (NaN = missing), read and
    checked as the local report reads it (the same InputError, rows counted from the
    column's first cell), and how it was read (``number`` for durations; timestamps:
    :data:`~labelaudit.quality._timing.TIME_FORMS`)."""
    stand_in = cast(AnnotationTable, _Columns(pa.table({name: column}), source))
    if kind == "duration":
        return _timing.duration_seconds(stand_in, name), "number"
    return _timing.time_seconds_form(stand_in, name)
