"""The annotator report on Spark: its statistics as DataFrame aggregations, the finish local.

:func:`spark_annotator_statistics` builds the same
:class:`~labelaudit.quality.annotator_stats.AnnotatorStatistics` as the local engine,
every part of it small; :func:`spark_annotator_report` finishes it with the local
:func:`~labelaudit.quality.annotator_report.finish_annotator_report` (one implementation
of every formula). On the executors:

- validation and codes (:func:`~labelaudit.spark.consensus.coded_ratings`), each row's
  source position (:func:`~labelaudit.spark.engine.with_row_index`);
- per-annotator sums (label counts per category, leave-one-out credits): the local
  :func:`~labelaudit.quality.annotators.annotator_sums` on each partition of the ratings
  repartitioned by item (:func:`~labelaudit.spark.annotator_fits.item_partitions`),
  r q + 2 r numbers per partition;
- longest runs: window functions over each annotator's rows ordered by time (missing
  last) then source position; r rows come back;
- medians of durations or of the gaps between timestamps: the exact ``percentile``
  aggregate per annotator (r numbers); a median that exactness makes worth checking is
  computed as the local one (the mean of the two middle values);
- gold: the gold file is read at the driver (one row per gold item), its items matched
  with the table's by a join, the annotator x gold x label counts by ``groupBy``
  (r q q numbers);
- the aggregators (:func:`~labelaudit.spark.annotator_fits.spark_fits`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from labelaudit.exceptions import UsageError
from labelaudit.quality import DEFAULT_METHODS, check_methods
from labelaudit.quality.annotator_report import AnnotatorReport, finish_annotator_report
from labelaudit.quality.annotator_stats import MODELS, AnnotatorStatistics, FittedModel
from labelaudit.quality.annotators import AnnotatorSums, annotator_sums
from labelaudit.quality.gold import GoldLabels
from labelaudit.quality.outliers import OutlierRules
from labelaudit.spark.annotator_fits import (
    SPARK_QUALITY_METHODS,
    item_partitions,
    partition_codes,
    run_pass,
    spark_fits,
)
from labelaudit.spark.consensus import coded_ratings
from labelaudit.spark.engine import _fields, with_row_index
from labelaudit.spark.timing import spark_timing
from labelaudit.table import Locator

__all__ = ["spark_annotator_report", "spark_annotator_statistics"]


def spark_annotator_report(
    frame: Any,
    *,
    gold: str | Path | None = None,
    gold_item_col: str = "item",
    gold_label_col: str = "gold_label",
    methods: Sequence[str] = DEFAULT_METHODS,
    duration_col: str | None = None,
    time_col: str | None = None,
    rules: OutlierRules | None = None,
    seed: int = 0,
    **reading: Any,
) -> AnnotatorReport:
    """The annotator report of a long Spark DataFrame, equal to
    :func:`labelaudit.quality.annotator_report` on the same rows (closed-form figures
    to float rounding, the EM-based ones to the EM's), ``input.sha256`` None.

    ``gold``: a gold file (CSV, TSV, JSONL, JSON, Parquet) read at the driver;
    ``methods`` among :data:`~labelaudit.spark.annotator_fits.SPARK_QUALITY_METHODS`;
    ``reading``: columns, level, categories, locator as :func:`spark_profiles`. Raises
    the local engine's errors (InputError, UsageError).
    """
    names = check_methods(list(methods))
    statistics = spark_annotator_statistics(
        frame,
        gold=gold,
        gold_item_col=gold_item_col,
        gold_label_col=gold_label_col,
        methods=names,
        duration_col=duration_col,
        time_col=time_col,
        seed=seed,
        **reading,
    )
    return finish_annotator_report(statistics, methods=names, rules=rules, seed=seed)


def spark_annotator_statistics(
    frame: Any,
    *,
    gold: str | Path | None = None,
    gold_item_col: str = "item",
    gold_label_col: str = "gold_label",
    methods: Sequence[str] = DEFAULT_METHODS,
    duration_col: str | None = None,
    time_col: str | None = None,
    seed: int = 0,
    **reading: Any,
) -> AnnotatorStatistics:
    """:class:`AnnotatorStatistics` of a Spark DataFrame (see the module docstring):
    what comes back to the driver is O(partitions x r q + r q q + gold items)."""
    names = check_methods(list(methods))
    outside = [name for name in names if name not in SPARK_QUALITY_METHODS]
    if outside:
        raise UsageError(
            f"--method {outside[0]}: not available for annotators with --engine spark "
            f"(distributed there: {', '.join(SPARK_QUALITY_METHODS)}); use --engine local"
        )
    locator = reading.get("locator") or Locator("<Spark DataFrame>", lambda row: row + 1, "row")
    roles = {k: reading.get(k) for k in ("item_col", "annotator_col", "label_col")}
    _fields(frame, locator, **roles)  # a missing column: the local error, on the file's columns
    timing = spark_timing(frame, duration_col, time_col, locator.source)
    indexed, _ = with_row_index(frame)
    ratings, profiles = coded_ratings(
        timing.carry(indexed), carry=["_row", *timing.carried], **{**reading, "locator": locator}
    )
    try:
        timing.check()
        timed = timing.seconds(ratings)
        parts = item_partitions(ratings)
        try:
            columns = (gold_item_col, gold_label_col)
            return _statistics(timed, parts, profiles, timing, names, seed, gold, columns)
        finally:
            parts.unpersist()
    finally:
        ratings.unpersist()


def _statistics(
    ratings: Any, parts: Any, profiles: Any, timing: Any, names: tuple[str, ...], seed: int,
    gold_file: str | Path | None, gold_columns: tuple[str, str],
) -> AnnotatorStatistics:  # fmt: skip
    table = profiles.table
    r, q = table.n_annotators, table.n_categories
    gold, keys = (
        (None, {}) if gold_file is None else spark_gold(ratings, profiles, gold_file, *gold_columns)
    )
    sums = _sums(parts, r, q)
    fits = spark_fits(ratings, parts, profiles, names, seed=seed, gold=keys)
    length, label = _runs(ratings, r, timing.order())
    model_fits: dict[str, FittedModel] = {
        name: fit for name, fit in fits.items() if name in MODELS.values()
    }
    return AnnotatorStatistics(
        annotators=table.annotators,
        categories=table.categories,
        n_items=profiles.n_items,
        n_ratings=profiles.n_ratings,
        label_counts=sums.label_counts,
        sums=sums,
        run_length=length,
        run_label=label,
        median_seconds=timing.medians(ratings, r),
        columns=timing.columns,
        gold=gold,
        gold_cells=_gold_cells(ratings, gold, keys, r, q) if gold is not None else None,
        fits=fits,
        model_fits=model_fits,
        model_positions=np.arange(r),
        source=table.source,
        sha256=None,
        warnings=list(table.report.get("warnings", [])),
    )


def _sums(parts: Any, r: int, q: int) -> AnnotatorSums:
    """The local :func:`annotator_sums` of every item partition, added."""

    def job(batches: Iterator[Any]) -> Iterator[Any]:
        import pandas as pd

        found = partition_codes(batches, r, q)
        if found is None:
            return
        codes = found[0]
        part = annotator_sums(
            codes.item, codes.annotator, codes.label,
            n_items=codes.n_items, n_annotators=r, n_categories=q,
        )  # fmt: skip
        values = np.r_[part.label_counts.ravel(), part.credit, part.n_compared].astype(float)
        yield pd.DataFrame({"key": [0], "value": [0.0], "values": [values]})

    total = np.zeros(r * q + 2 * r)
    for row in run_pass(parts, job):  # one row per partition
        total += np.asarray(row["values"], dtype=float)
    counts = total[: r * q].reshape(r, q).round().astype(np.int64)
    compared = total[r * q + r :].round().astype(np.int64)
    return AnnotatorSums(counts, total[r * q : r * q + r], compared)


def _runs(ratings: Any, r: int, order: Any) -> tuple[np.ndarray, np.ndarray]:
    """Longest run of identical labels per annotator (the earliest of the longest) and
    its category: window functions over each annotator's rows in ``order`` then source
    position (a lag marks run starts, a running sum numbers the runs)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    sequence = Window.partitionBy("a").orderBy(order, "_row")
    previous = F.lag("y").over(sequence)
    starts = ratings.select(
        "a", "y", "_row", order.alias("_t"),
        F.when(previous.isNull() | (previous != F.col("y")), 1).otherwise(0).alias("_start"),
    )  # fmt: skip
    so_far = Window.partitionBy("a").orderBy("_t", "_row").rowsBetween(Window.unboundedPreceding, 0)
    runs = starts.withColumn("run", F.sum("_start").over(so_far))
    lengths = runs.groupBy("a", "run").agg(F.count(F.lit(1)).alias("n"), F.min("y").alias("y"))
    best = lengths.groupBy("a").agg(
        F.max(F.struct("n", (-F.col("run")).alias("first"), "y")).alias("best")
    )
    length = np.zeros(r, dtype=np.int64)
    label = np.full(r, -1, dtype=np.int64)
    for row in best.select("a", "best.n", "best.y").collect():  # r rows
        length[row["a"]], label[row["a"]] = row["n"], row["y"]
    return length, label


def spark_gold(
    ratings: Any, profiles: Any, path: str | Path, item_col: str, label_col: str
) -> tuple[GoldLabels, dict[str, int]]:
    """The gold file aligned with the Spark table as the local engine aligns it, and the
    position of each gold item's key in ``GoldLabels.item_codes`` order. The file is
    read here (one row per gold item); which of its items the table has is a join."""

    from labelaudit.quality.gold import align_gold, gold_columns
    from labelaudit.table import as_text

    items, labels, locator = gold_columns(path, item_col=item_col, label_col=label_col)
    texts = sorted({t for t in as_text(items).to_pylist() if t})
    spark = ratings.sparkSession
    wanted = spark.createDataFrame([(t,) for t in texts], "item string")
    found = [
        row["item"] for row in ratings.select("item").distinct().join(wanted, "item").collect()
    ]
    names = _in_table_order(found or _first_items(ratings, 3), ratings)
    stand_in = replace(profiles.table, items=names)  # align_gold reads items, categories
    gold = align_gold(
        stand_in, items, labels, locator=locator, item_field=item_col, label_field=label_col
    )
    keys = {str(name): position for position, name in enumerate(gold.items.tolist())}
    return gold, keys


def _numeric_items(ratings: Any) -> bool:
    from pyspark.sql import functions as F

    from labelaudit.table import NUMBER_PATTERN

    return not ratings.agg(F.max((~F.col("item").rlike(NUMBER_PATTERN)).cast("int"))).collect()[0][
        0
    ]


def _in_table_order(names: list[str], ratings: Any) -> np.ndarray:
    """``names`` sorted as the table sorts its items (by value when every id is a number)."""
    names = sorted(names, key=lambda n: (float(n), n)) if _numeric_items(ratings) else sorted(names)
    return np.asarray(names, dtype=object)


def _first_items(ratings: Any, n: int) -> list[str]:
    """The table's first ``n`` items (error path: a gold file naming none of them)."""
    from pyspark.sql import functions as F

    order = (
        [F.col("item")]
        if not _numeric_items(ratings)
        else [F.col("item").cast("double"), F.col("item")]
    )
    return [
        row["item"] for row in ratings.select("item").distinct().orderBy(*order).limit(n).collect()
    ]


def _gold_cells(ratings: Any, gold: GoldLabels, keys: dict[str, int], r: int, q: int) -> np.ndarray:
    """``[a, g, k]``: labels k of annotator a on items of gold category g (``groupBy``)."""
    from pyspark.sql import functions as F

    spark = ratings.sparkSession
    truth = [(key, int(gold.label_codes[position])) for key, position in keys.items()]
    frame = spark.createDataFrame(truth, "item string, g int")
    counts = ratings.join(F.broadcast(frame), "item").groupBy("a", "g", "y").count()
    cells = np.zeros((r, q, q), dtype=np.int64)
    for row in counts.collect():  # at most r q q rows
        cells[row["a"], row["g"], row["y"]] = row["count"]
    return cells
