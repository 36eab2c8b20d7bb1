"""The annotator report's aggregators on Spark: majority vote, Dawid-Skene and MACE.

Each fit comes back as a :class:`~labelaudit.quality.annotator_stats.FittedModel`: the
consensus summary (label counts, abstentions, mean and least confidence), the labels of
the gold items, Dawid-Skene's priors and confusions, MACE's spamming probabilities.
Per-item results never reach the driver:

- **Item partitions** (:func:`item_partitions`): the ratings ``(item, a, y)``
  repartitioned by item and persisted, so that every item's labels sit in one
  partition. A pass runs the local model's own code on each partition's items
  (``mapInPandas``) and returns sums that add across partitions.
- **MACE**: every restart's E-step in one pass per iteration (:meth:`MACE.e_step` on
  each partition: expected counts, 2 r + r q numbers, and the log-likelihood per
  restart), the M-step and the stopping rule at the driver (:meth:`MACE.restart_steps`,
  the local loop itself); a last pass gives the winner's label counts and gold labels.
- **Dawid-Skene**: :func:`~labelaudit.spark.consensus.dawid_skene_on` (E and M steps as
  DataFrame operations, posteriors distributed), then one aggregation of its labels.
- **Majority vote**: q vote counts per item (``groupBy(item)``), the items range
  partitioned in the local item order so that each partition knows its first item's
  position, and the local :func:`~labelaudit.consensus.majority.vote_winners` on each
  partition with that position's tie draws (:mod:`labelaudit.spark.outputs`' rule).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, cast

import numpy as np

from labelaudit.consensus.api import categorical_result, summary_fields
from labelaudit.consensus.dawid_skene import DawidSkene
from labelaudit.quality import make_method
from labelaudit.quality.annotator_stats import FittedModel

__all__ = ["SPARK_QUALITY_METHODS", "item_partitions", "spark_fits"]

#: Aggregators the annotator report fits on Spark.
SPARK_QUALITY_METHODS = ("majority", "dawid-skene", "mace")
#: Rows of every pass: a key (restart, gold item...), a number, a vector.
_SCHEMA = "key long, value double, values array<double>"
_SUMMARY, _GOLD = -1, -2


def item_partitions(ratings: Any) -> Any:
    """``(item, a, y)`` repartitioned by item (every item's labels in one partition),
    persisted: the input of every per-partition pass."""
    from pyspark import StorageLevel

    return (
        ratings.select("item", "a", "y").repartition("item").persist(StorageLevel.MEMORY_AND_DISK)
    )


def partition_codes(batches: Iterator[Any], r: int, q: int) -> tuple[Any, np.ndarray] | None:
    """The local ``Codes`` of one partition's items (sorted by item, annotator) and each
    item's key; None for an empty partition. Runs on the executors."""
    import pandas as pd

    from labelaudit.consensus import Codes

    frames = list(batches)
    if not frames or not sum(len(f) for f in frames):
        return None
    rows = pd.concat(frames, ignore_index=True)
    keys, item = np.unique(rows["item"].to_numpy(dtype=object).astype(str), return_inverse=True)
    annotator = rows["a"].to_numpy(dtype=np.int64)
    label = rows["y"].to_numpy(dtype=np.int64)
    order = np.lexsort((annotator, item))
    codes = Codes(item[order], annotator[order], label[order], keys.size, r, q)
    return codes, keys


def run_pass(parts: Any, job: Callable[[Iterator[Any]], Iterator[Any]]) -> list[Any]:
    """``job`` over every partition of ``parts`` (rows of :data:`_SCHEMA`), collected:
    a few rows per partition."""
    return list(parts.mapInPandas(job, _SCHEMA).collect())


def _frame(key: int, value: float, values: np.ndarray) -> Any:
    import pandas as pd

    return pd.DataFrame({"key": [key], "value": [value], "values": [np.asarray(values, float)]})


def _decided(
    labels: np.ndarray, confidence: np.ndarray, keys: np.ndarray, gold: dict[str, int], q: int
) -> Iterator[Any]:
    """One partition's summary row (label counts, abstained, confidence sum and minimum,
    decided) and one row per gold item (its position in the gold list, its label)."""
    decided = labels >= 0
    counts = np.bincount(labels[decided], minlength=q).astype(float)
    least = float(confidence[decided].min()) if decided.any() else np.inf
    sums = [float((~decided).sum()), float(confidence[decided].sum()), least, float(decided.sum())]
    yield _frame(_SUMMARY, 0.0, np.r_[counts, sums])
    for index, key in enumerate(keys.tolist()):  # loops over the partition's gold items only
        if key in gold:
            yield _frame(_GOLD, float(gold[key]), np.array([float(labels[index])]))


def _finished(
    rows: list[Any], name: str, seed: int, sizes: tuple[int, int, int, int], n_gold: int,
    iterations: tuple[int, bool, float] | None, categories: np.ndarray,
) -> FittedModel:  # fmt: skip
    """The summary and gold labels of one method from its passes' rows."""
    q = categories.size
    totals = np.zeros(q + 4)
    totals[q + 2] = np.inf
    gold_labels = np.full(n_gold, -1, dtype=np.int64)
    for row in rows:  # a few rows per partition
        values = np.asarray(row["values"], dtype=float)
        if row["key"] == _SUMMARY:
            least = min(totals[q + 2], values[q + 2])
            totals += values
            totals[q + 2] = least
        elif row["key"] == _GOLD:
            gold_labels[int(row["value"])] = int(values[0])
    decided = totals[q + 3]
    confidence = (totals[q + 1] / decided, float(totals[q + 2])) if decided else None
    common, reasons = summary_fields(make_method(name, seed=seed), sizes, iterations)
    counts = totals[:q].astype(np.int64)
    result = categorical_result(
        common, categories, counts, int(totals[q]), confidence, reasons
    )  # fmt: skip
    return FittedModel(summary=result.to_dict(), gold_labels=gold_labels if n_gold else None)


def spark_fits(
    ratings: Any,
    parts: Any,
    profiles: Any,
    methods: tuple[str, ...],
    *,
    seed: int,
    gold: dict[str, int],
) -> dict[str, FittedModel]:
    """Every method of ``methods`` (among :data:`SPARK_QUALITY_METHODS`) fitted on the
    ratings (:func:`~labelaudit.spark.consensus.coded_ratings`; ``parts``: their
    :func:`item_partitions`). ``gold`` maps the gold items' keys to their position in
    the gold list; their labels come back, nothing else per item."""
    table = profiles.table
    r, q = table.n_annotators, table.n_categories
    sizes = (profiles.n_items, r, profiles.n_ratings, q)
    fits = {}
    for name in methods:  # at most three methods
        if name == "mace":
            fits[name] = _mace(parts, make_method(name, seed=seed), sizes, gold, table.categories)
        elif name == "dawid-skene":
            fits[name] = _dawid_skene(ratings, profiles, seed, gold)
        else:
            fits[name] = _majority(ratings, profiles, seed, gold)
    return fits


def _mace(
    parts: Any, model: Any, sizes: tuple[int, int, int, int], gold: dict[str, int],
    categories: np.ndarray,
) -> FittedModel:  # fmt: skip
    """MACE with every restart's E-step in one pass per iteration; the local restart loop
    (:meth:`MACE.restart_steps`) at the driver."""
    from labelaudit.consensus.mace import MaceCounts, competence_shares

    r, q = sizes[1], sizes[3]
    runs = [model.restart_steps(state) for state in model.initial_states(r, q)]
    pending = {index: next(run) for index, run in enumerate(runs)}
    last: dict[int, tuple[Any, Any]] = {}
    ends: dict[int, tuple[list[float], bool]] = {}
    while pending:  # EM iterations: one Spark pass each, for every running restart
        rows = run_pass(parts, _mace_job(model, pending, r, q))
        sums = {index: (0.0, np.zeros(2 * r + r * q)) for index in pending}
        for row in rows:  # restarts x partitions
            ll, values = sums[row["key"]]
            sums[row["key"]] = (ll + row["value"], values + np.asarray(row["values"]))
        for index, (ll, v) in sums.items():  # loops over restarts
            counts = MaceCounts(spam=v[:r], knowing=v[r : 2 * r], strategy=v[2 * r :].reshape(r, q))
            last[index] = (pending[index], counts)
            try:
                pending[index] = runs[index].send((ll, counts))
            except StopIteration as stop:
                ends[index] = stop.value
                del pending[index]
    finals = [ends[index][0][-1] for index in range(len(runs))]
    best = int(np.argmax(finals))  # the first of the best, as the local loop
    state, counts = last[best]
    knowing, spam, _ = model.competence(counts, state)
    history, converged = ends[best]
    rows = run_pass(parts, _mace_labels_job(model, state, r, q, gold))
    found = _finished(
        rows, "mace", model.random_state, sizes, len(gold) if gold else 0,
        (len(history), converged, history[-1]), categories,
    )  # fmt: skip
    return FittedModel(
        found.summary, found.gold_labels, spamming=competence_shares(knowing, spam)[1]
    )


def _mace_job(model: Any, states: dict[int, Any], r: int, q: int) -> Callable[..., Any]:
    states = dict(states)

    def job(batches: Iterator[Any]) -> Iterator[Any]:
        found = partition_codes(batches, r, q)
        if found is None:
            return
        for index, state in states.items():  # loops over the running restarts
            _, ll, counts = model.e_step(found[0], state)
            yield _frame(index, ll, np.r_[counts.spam, counts.knowing, counts.strategy.ravel()])

    return job


def _mace_labels_job(
    model: Any, state: Any, r: int, q: int, gold: dict[str, int]
) -> Callable[..., Any]:
    def job(batches: Iterator[Any]) -> Iterator[Any]:
        found = partition_codes(batches, r, q)
        if found is None:
            return
        posterior, _, _ = model.e_step(found[0], state)
        labels = np.argmax(posterior, axis=1).astype(np.int64)
        yield from _decided(labels, posterior.max(axis=1), found[1], gold, q)

    return job


def _dawid_skene(ratings: Any, profiles: Any, seed: int, gold: dict[str, int]) -> FittedModel:
    """Dawid-Skene by :func:`~labelaudit.spark.consensus.dawid_skene_on`; its labels
    summed per category, the gold items' labels fetched."""
    from pyspark.sql import functions as F

    from labelaudit.spark.consensus import dawid_skene_on

    table = profiles.table
    q = table.n_categories
    model = cast(DawidSkene, make_method("dawid-skene", seed=seed))
    fit = dawid_skene_on(ratings, profiles, model)
    names = F.array(*(F.lit(str(c)) for c in table.categories))
    labels = fit.labels.withColumn("k", F.array_position(names, F.col("label")) - 1)
    per_label = labels.groupBy("k").agg(
        F.count(F.lit(1)).alias("n"), F.sum("confidence").alias("s"), F.min("confidence").alias("m")
    )
    rows: list[dict[str, Any]] = []
    for row in per_label.collect():  # at most q rows
        counts = np.bincount([row["k"]], minlength=q).astype(float) * row["n"]
        values = np.r_[counts, 0.0, row["s"], row["m"], float(row["n"])]
        rows.append({"key": _SUMMARY, "value": 0.0, "values": values})
    rows += _gold_rows(labels, gold)
    sizes = (profiles.n_items, table.n_annotators, profiles.n_ratings, q)
    iterations = (fit.n_iter, fit.converged, fit.log_likelihood[-1])
    found = _finished(
        rows, "dawid-skene", seed, sizes, len(gold), iterations, table.categories
    )  # fmt: skip
    return FittedModel(found.summary, found.gold_labels, fit.priors, fit.confusions)


def _gold_rows(labels: Any, gold: dict[str, int]) -> list[dict[str, Any]]:
    """(position in the gold list, label code) of the gold items, from ``(item, k)``."""
    if not gold:
        return []
    spark = labels.sparkSession
    keys = spark.createDataFrame(list(gold.items()), "item string, g long")
    found = labels.join(keys.hint("broadcast"), "item").select("g", "k").collect()
    return [{"key": _GOLD, "value": float(g), "values": [float(k)]} for g, k in found]


def _majority(ratings: Any, profiles: Any, seed: int, gold: dict[str, int]) -> FittedModel:
    """Majority vote with the local tie draws: q vote counts per item, the items in the
    local order (ranges), :func:`~labelaudit.spark.outputs.majority_from` per range."""
    from pyspark.sql import functions as F

    from labelaudit.spark.outputs import category_sums, items_in_order

    table = profiles.table
    q = table.n_categories
    per_item = ratings.groupBy("item").agg(*category_sums(ratings, q))
    ordered, starts = items_in_order(ratings, per_item, profiles.n_items)
    tagged = ordered.select("item", *(f"c{k}" for k in range(q)), F.spark_partition_id().alias("p"))
    estimator = make_method("majority", seed=seed)
    sizes = (profiles.n_items, table.n_annotators, profiles.n_ratings, q)
    rows = list(tagged.mapInPandas(_majority_job(estimator, starts, q, gold), _SCHEMA).collect())
    return _finished(rows, "majority", seed, sizes, len(gold), None, table.categories)


def _majority_job(
    estimator: Any, starts: list[int | None], q: int, gold: dict[str, int]
) -> Callable[..., Any]:
    from labelaudit.spark.outputs import majority_from

    def job(batches: Iterator[Any]) -> Iterator[Any]:
        offset = 0
        for batch in batches:  # in item order within the partition
            if not len(batch):
                continue
            start = starts[int(batch["p"].iloc[0])]
            assert start is not None
            counts = batch[[f"c{k}" for k in range(q)]].to_numpy(dtype=np.float64)
            posterior, labels = majority_from(counts, start + offset, estimator)
            keys = batch["item"].to_numpy(dtype=object).astype(str)
            yield from _decided(labels, posterior.max(axis=1), keys, gold, q)
            offset += len(batch)

    return job
