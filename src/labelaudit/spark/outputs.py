"""Consensus on Spark: per-item labels computed where the data lives, streamed to a file.

Majority vote and Dawid-Skene, the two consensus methods whose statistics are Spark
aggregations: the vote counts of every item (``groupBy(item)``, q sums) and, for
Dawid-Skene, the posteriors kept distributed by :func:`~labelaudit.spark.consensus.
dawid_skene_on`. The per-item rows are sorted in the local engine's item order and
materialised on the executors (``localCheckpoint``); the driver then fetches **one
partition at a time** as Arrow and finishes it with the local functions
(:func:`~labelaudit.consensus.majority.vote_winners`, with the tie draws of the items'
positions; :func:`~labelaudit.consensus.api.label_table`;
:func:`~labelaudit.models.soft.soft_of`), appends it to the output file
(:func:`~labelaudit.consensus.api.write_consensus_parts`) and keeps only the summary's
sums. Driver memory: one partition's rows, never the whole item list.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import pyarrow as pa

from labelaudit.consensus.api import (
    categorical_result,
    label_table,
    make_aggregator,
    output_format,
    summary_fields,
    write_consensus_parts,
)
from labelaudit.consensus.dawid_skene import DawidSkene
from labelaudit.consensus.majority import vote_winners
from labelaudit.exceptions import UsageError
from labelaudit.models.soft import merge_summaries, soft_of
from labelaudit.results import Displayable
from labelaudit.spark.consensus import coded_ratings, dawid_skene_on
from labelaudit.table import NUMBER_PATTERN, as_text

__all__ = [
    "CHUNK_ITEMS",
    "SPARK_METHODS",
    "SparkConsensus",
    "category_sums",
    "items_in_order",
    "spark_consensus",
]

#: Consensus methods that run distributed on Spark (the others are refused).
SPARK_METHODS = ("majority", "dawid-skene")
#: Items per partition of the sorted per-item results: what the driver holds at a time
#: (its id, q vote counts and q posteriors: about 24 + 16 q bytes each, ~10 MB at q = 5).
CHUNK_ITEMS = 100_000


@dataclass(frozen=True)
class SparkConsensus(Displayable):
    """Result of :func:`spark_consensus`: the summary (the local ``ConsensusResult``),
    the soft labels' summary (``--soft``) and the rows written (items)."""

    result: Any
    soft: dict[str, Any] | None
    n_rows: int

    def to_dict(self) -> dict[str, Any]:
        """The consensus summary, plus ``soft`` when soft labels were written."""
        summary = self.result.to_dict()
        if self.soft is not None:
            summary["soft"] = self.soft
        return summary


def spark_consensus(
    frame: Any,
    method: str = "dawid-skene",
    *,
    out: str | Path | None = None,
    soft: bool = False,
    raw_csv: bool = False,
    options: dict[str, Any] | None = None,
    chunk_items: int = CHUNK_ITEMS,
    **reading: Any,
) -> SparkConsensus:
    """Consensus of a long Spark DataFrame, equal to :func:`labelaudit.consensus.api.
    run_consensus` on the same rows (labels identical, posteriors to float rounding).

    ``method``: one of :data:`SPARK_METHODS`; ``options``: ``seed``, ``max_iter``,
    ``tol``, ``tie`` (and any other option, refused as the local engine refuses it);
    ``reading``: columns, level, categories, locator as :func:`spark_profiles`. ``out``
    (CSV, JSONL, Parquet) gets ``item, label, confidence`` per item in the local item
    order, or the soft-label columns with ``soft``; the driver holds ``chunk_items``
    items at a time. Raises UsageError for another method.
    """
    if method not in SPARK_METHODS:
        raise UsageError(
            f"--method {method}: not available with --engine spark (distributed there: "
            f"{', '.join(SPARK_METHODS)}; label-model reads its votes on Spark); use "
            "--engine local"
        )
    options = dict(options or {})
    estimator = make_aggregator(method, **options)
    if out is not None:
        output_format(out)  # a bad extension fails before the fit
    ratings, profiles = coded_ratings(frame, **reading)
    try:
        table = profiles.table
        counts = ratings.groupBy("item").agg(*category_sums(ratings, table.n_categories))
        iterations = None
        if method == "dawid-skene":
            fit = dawid_skene_on(ratings, profiles, cast(DawidSkene, estimator))
            counts = counts.join(_wide(fit.posteriors, table.n_categories), "item")
            iterations = (fit.n_iter, fit.converged, fit.log_likelihood[-1])
        ordered = _in_item_order(ratings, counts, profiles.n_items, chunk_items)
        chunks = _finished(ordered, estimator, table.categories)
        written = _Totals(table.categories, method)
        parts = (written.add(*chunk, soft) for chunk in chunks)
        if out is not None:
            write_consensus_parts(parts, out, raw_csv=raw_csv)
        else:
            for _ in parts:  # the summary's sums only
                pass
    finally:
        ratings.unpersist()
    sizes = (profiles.n_items, table.n_annotators, profiles.n_ratings, table.n_categories)
    common, reasons = summary_fields(estimator, sizes, iterations)
    result = categorical_result(
        common, table.categories, written.counts, written.abstained, written.confidence(), reasons
    )
    return SparkConsensus(result, merge_summaries(written.soft) if soft else None, written.rows)


def category_sums(ratings: Any, q: int) -> list[Any]:
    """Per item: ``c<k>`` the labels of category k, and ``raw`` one raw item id."""
    from pyspark.sql import functions as F

    sums = [F.sum((F.col("y") == k).cast("double")).alias(f"c{k}") for k in range(q)]
    return [*sums, F.first("raw").alias("raw")]


def _wide(posteriors: Any, q: int) -> Any:
    """(item, p0 .. p<q-1>) from the long posteriors (item, k, p)."""
    from pyspark.sql import functions as F

    cells = (F.when(F.col("k") == k, F.col("p")).otherwise(0.0) for k in range(q))
    return posteriors.groupBy("item").agg(*(F.sum(c).alias(f"p{k}") for k, c in enumerate(cells)))


def _in_item_order(
    ratings: Any, per_item: Any, n_items: int, chunk_items: int
) -> Iterator[tuple[int, pa.Table]]:
    """(position of the first item, its rows) per partition of ``per_item`` sorted in the
    local item order (:func:`items_in_order`), fetched one partition at a time."""
    from pyspark.sql import functions as F

    ordered, starts = items_in_order(ratings, per_item, n_items, chunk_items)
    part = F.spark_partition_id()
    for index, start in enumerate(starts):  # loops over partitions
        if start is not None:
            yield start, ordered.where(part == index).drop("item").toArrow()


def items_in_order(
    ratings: Any, per_item: Any, n_items: int, chunk_items: int = CHUNK_ITEMS
) -> tuple[Any, list[int | None]]:
    """``per_item`` (one row per item, column ``item``) sorted in the local item order
    (by value when every id is a number, ties by text; else by text): ranges of about
    ``chunk_items`` items, materialised once on the executors; and the position of each
    partition's first item (None for an empty partition)."""
    from pyspark.sql import functions as F

    text = ratings.agg(F.max((~F.col("item").rlike(NUMBER_PATTERN)).cast("int"))).collect()[0][0]
    order = [F.col("item")] if text else [F.col("item").cast("double"), F.col("item")]
    ranges = max(1, -(-n_items // chunk_items))
    ordered = (
        per_item.repartitionByRange(ranges, *order).sortWithinPartitions(*order).localCheckpoint()
    )
    part = F.spark_partition_id()
    sizes = dict(ordered.groupBy(part.alias("part")).count().collect())
    starts: list[int | None] = []
    start = 0
    for index in range(ordered.rdd.getNumPartitions()):  # loops over partitions
        starts.append(start if sizes.get(index) else None)
        start += sizes.get(index, 0)
    return ordered, starts


def _finished(
    chunks: Iterator[tuple[int, pa.Table]], estimator: Any, categories: np.ndarray
) -> Iterator[tuple[Any, np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]]:
    """Per chunk: the item names, vote counts (n, q) and the local finish (labels,
    confidence, posterior): majority vote with the chunk's tie draws, or the argmax of
    the Dawid-Skene posteriors."""
    q = categories.size
    for start, chunk in chunks:  # loops over partitions
        counts = np.column_stack([chunk.column(f"c{k}").to_numpy() for k in range(q)])
        if estimator.cli_name == "majority":
            posterior, labels = majority_from(counts, start, estimator)
        else:
            posterior = np.column_stack([chunk.column(f"p{k}").to_numpy() for k in range(q)])
            labels = np.argmax(posterior, axis=1).astype(np.int64)
        names = np.asarray(as_text(chunk.column("raw")).to_pylist(), dtype=object)
        yield names, counts, (labels, posterior.max(axis=1), posterior)


def majority_from(counts: np.ndarray, start: int, estimator: Any) -> tuple[np.ndarray, np.ndarray]:
    """Vote shares (n, q) and winners (n,) of items ``start .. start + n`` (local item
    order) with their own tie draws: item i draws the numbers i q ... i q + q - 1 of the
    seeded generator, wherever the ranges fall."""
    q = counts.shape[1]
    bits = np.random.PCG64(estimator.random_state)  # = default_rng's
    rng = np.random.Generator(bits.advance(start * q))  # item i draws from i q on
    return vote_winners(counts, estimator.tie, rng)


class _Totals:
    """What the summary needs from the streamed items: counts per category, abstained
    items, the sum and minimum of the labelled items' confidence, soft summaries."""

    def __init__(self, categories: np.ndarray, method: str) -> None:
        self.categories, self.method = categories, method
        self.counts = np.zeros(categories.size, dtype=np.int64)
        self.abstained = self.rows = self.decided = 0
        self.total, self.least = 0.0, np.inf
        self.soft: list[dict[str, Any]] = []

    def add(
        self, names: np.ndarray, counts: np.ndarray, fit: tuple[Any, Any, Any], soft: bool
    ) -> pa.Table:
        """Count one chunk in; its output rows (consensus or soft-label columns)."""
        labels, confidence, _ = fit
        decided = labels >= 0
        self.counts += np.bincount(labels[decided], minlength=self.counts.size)
        self.abstained += int((~decided).sum())
        self.rows += int(labels.size)
        self.decided += int(decided.sum())
        if decided.any():
            self.total += float(confidence[decided].sum())
            self.least = min(self.least, float(confidence[decided].min()))
        return self._rows(names, counts, fit, soft)

    def _rows(self, names: np.ndarray, counts: np.ndarray, fit: Any, soft: bool) -> pa.Table:
        if soft:
            distributions = soft_of(self.method, names, self.categories, counts, fit)
            self.soft.append(distributions.summary())
            return distributions.to_arrow()
        return label_table(pa.array(names, type=pa.string()), self.categories, fit[0], fit[1])

    def confidence(self) -> tuple[float, float] | None:
        """(mean, min) confidence of the labelled items; None if none."""
        return (self.total / self.decided, self.least) if self.decided else None
