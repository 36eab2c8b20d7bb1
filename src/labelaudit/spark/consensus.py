"""Dawid-Skene on Spark: E and M steps as DataFrame operations, posteriors distributed.

Each EM iteration: the M-step's sufficient statistics (posterior mass of class k on the
items annotator a labelled y: r q q numbers, and the mass of each class) are Spark
aggregations over the ratings joined with the posteriors; the driver finishes them with
the local model's own functions (:meth:`DawidSkene.confusions_from`,
:meth:`DawidSkene.priors_from`); the E-step joins the ratings with the broadcast
log-confusion table (:func:`log_tables`), sums per (item, class) and normalises per item
(one shuffle by item). Posteriors stay a DataFrame ``(item, k, p)``; only r q q + q + 1
numbers come back per iteration. Same start (majority-vote shares), stopping rule and
tie rule as :class:`labelaudit.consensus.DawidSkene`: equal to it to float rounding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from labelaudit.consensus.dawid_skene import DawidSkene, log_tables, relative_change
from labelaudit.spark.engine import _fields, keyed_rows, spark_profiles, vocabulary_codes
from labelaudit.table import Locator
from labelaudit.table.profiles import ItemProfiles

__all__ = ["SparkDawidSkene", "coded_ratings", "dawid_skene_on", "spark_dawid_skene"]


@dataclass(frozen=True)
class SparkDawidSkene:
    """Result of :func:`spark_dawid_skene`.

    ``posteriors``: Spark DataFrame ``(item, k, p)`` (item = canonical id text, k = class
    code); ``labels``: DataFrame ``(item, label, confidence)`` (most probable class, the
    lowest code on a tie); ``categories`` (q,) and ``annotators`` (r,) name the codes;
    ``priors`` (q,), ``confusions`` (r, q, q), ``n_iter``, ``converged`` and
    ``log_likelihood`` (per iteration) as the local model's attributes.
    """

    posteriors: Any
    labels: Any
    categories: list[str]
    annotators: list[str]
    priors: np.ndarray
    confusions: np.ndarray
    n_iter: int
    converged: bool
    log_likelihood: list[float]


def spark_dawid_skene(
    frame: Any,
    *,
    item_col: str | None = None,
    annotator_col: str | None = None,
    label_col: str | None = None,
    categories: Sequence[Any] | str | None = None,
    locator: Locator | None = None,
    max_iter: int = 100,
    tol: float = 1e-5,
    smoothing: float = 0.0,
) -> SparkDawidSkene:
    """Dawid-Skene EM on a long Spark DataFrame (validated as :func:`spark_profiles`).

    Options as :class:`labelaudit.consensus.DawidSkene` (no gold clamping). Cost per
    iteration: two joins of the ratings (with the posteriors, with a broadcast table of
    r q q rows) and one shuffle by item; driver memory O(r q q).
    """
    model = DawidSkene(max_iter=max_iter, tol=tol, smoothing=smoothing)
    model._check_params()
    ratings, profiles = coded_ratings(
        frame,
        item_col=item_col,
        annotator_col=annotator_col,
        label_col=label_col,
        categories=categories,
        locator=locator,
    )
    try:
        return dawid_skene_on(ratings, profiles, model)
    finally:
        ratings.unpersist()


def coded_ratings(
    frame: Any,
    *,
    item_col: str | None = None,
    annotator_col: str | None = None,
    label_col: str | None = None,
    level: str = "nominal",
    categories: Sequence[Any] | str | None = None,
    locator: Locator | None = None,
    carry: Sequence[str] = (),
) -> tuple[Any, ItemProfiles]:
    """The ratings as a persisted DataFrame ``(item, a, y, raw)`` (item = canonical id
    text; a, y = the validated table's annotator and category codes; raw = the item as
    read) plus the ``carry`` columns of ``frame``, and the profiles (one named item
    each) that validated them, as :func:`spark_profiles`."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    profiles = spark_profiles(
        frame,
        item_col=item_col,
        annotator_col=annotator_col,
        label_col=label_col,
        level=level,
        categories=categories,
        locator=locator,
        keep=1,
    )
    table = profiles.table
    fields = _fields(
        frame,
        locator or Locator("", lambda row: row + 1),
        item_col=item_col,
        annotator_col=annotator_col,
        label_col=label_col,
    )
    keyed = keyed_rows(frame, fields, carry)
    ratings = (
        keyed.join(
            F.broadcast(vocabulary_codes(keyed, "annotator", table.annotators, "a")), "kannotator"
        )
        .join(F.broadcast(vocabulary_codes(keyed, "label", table.categories, "y")), "klabel")
        .select(F.col("kitem").alias("item"), "a", "y", F.col("ritem").alias("raw"), *carry)
    )
    return ratings.persist(StorageLevel.MEMORY_AND_DISK), profiles


def dawid_skene_on(ratings: Any, profiles: ItemProfiles, model: DawidSkene) -> SparkDawidSkene:
    """EM of ``model`` on :func:`coded_ratings`: M-step statistics and E-step as Spark jobs."""
    table = profiles.table
    r, q, n_items = table.n_annotators, table.n_categories, profiles.n_items
    posterior = _majority_shares(ratings)
    history: list[float] = []
    converged = False
    priors, confusions = np.zeros(q), np.zeros((r, q, q))
    for _ in range(model.max_iter):  # EM iterations; each runs as Spark jobs
        counts, mass = _m_statistics(ratings, posterior, r, q)
        priors = model.priors_from(mass, n_items)
        confusions = model.confusions_from(counts, r)
        posterior, log_likelihood = _e_step(ratings, priors, confusions)
        history.append(log_likelihood + model._log_prior(priors, confusions))
        if relative_change(history) < model.tol:
            converged = True
            break
    return SparkDawidSkene(
        posteriors=posterior,
        labels=_labels(posterior, table.categories),
        categories=[str(c) for c in table.categories],
        annotators=[str(a) for a in table.annotators],
        priors=priors,
        confusions=confusions,
        n_iter=len(history),
        converged=converged,
        log_likelihood=history,
    )


def _majority_shares(ratings: Any) -> Any:
    """(item, k, p): each item's vote shares (the EM start), zero shares left out."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    votes = ratings.groupBy("item", F.col("y").alias("k")).count()
    total = F.sum("count").over(Window.partitionBy("item"))
    return votes.select("item", "k", (F.col("count") / total).alias("p")).localCheckpoint()


def _m_statistics(ratings: Any, posterior: Any, r: int, q: int) -> tuple[np.ndarray, np.ndarray]:
    """counts[a q + y, k] (r q, q) and the posterior mass of each class (q,)."""
    from pyspark.sql import functions as F

    cells = (
        ratings.join(posterior, "item").groupBy("a", "y", "k").agg(F.sum("p").alias("mass"))
    ).toArrow()
    counts = np.zeros((r * q, q))
    rows = cells.column("a").to_numpy() * q + cells.column("y").to_numpy()
    counts[rows, cells.column("k").to_numpy()] = cells.column("mass").to_numpy()
    sums = posterior.groupBy("k").agg(F.sum("p").alias("mass")).toArrow()
    mass = np.zeros(q)
    mass[sums.column("k").to_numpy()] = sums.column("mass").to_numpy()
    return counts, mass


def _e_step(ratings: Any, priors: np.ndarray, confusions: np.ndarray) -> tuple[Any, float]:
    """New posteriors (item, k, p), checkpointed, and the log-likelihood sum."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    spark = ratings.sparkSession
    table, log_priors = log_tables(priors, confusions)
    q = log_priors.size
    cells = np.argwhere(np.ones(table.shape, dtype=bool))  # every (a q + y, k)
    rows = [
        (int(row // q), int(row % q), int(k), float(table[row, k])) for row, k in cells.tolist()
    ]  # loops over the r q q table cells (small), never over ratings
    logs = spark.createDataFrame(rows, "a int, y int, k int, v double")
    prior = F.array(*(F.lit(float(v)) for v in log_priors))
    joint = (
        ratings.join(F.broadcast(logs), ["a", "y"])
        .groupBy("item", "k")
        .agg(F.sum("v").alias("s"))
        .select("item", "k", (F.col("s") + F.element_at(prior, F.col("k") + 1)).alias("x"))
    )
    per_item = Window.partitionBy("item")
    top = F.max("x").over(per_item)
    shifted = joint.select("item", "k", "x", top.alias("top")).withColumn(
        "e", F.exp(F.col("x") - F.col("top"))
    )
    normalised = shifted.withColumn("total", F.sum("e").over(per_item)).localCheckpoint()
    likelihood = (
        normalised.filter(F.col("k") == 0)
        .agg(F.sum(F.log("total") + F.col("top")).alias("ll"))
        .collect()[0]["ll"]
    )
    posterior = normalised.select("item", "k", (F.col("e") / F.col("total")).alias("p"))
    return posterior, float(likelihood)


def _labels(posterior: Any, categories: np.ndarray) -> Any:
    """(item, label, confidence): the most probable class, the lowest code on a tie."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    best = Window.partitionBy("item").orderBy(F.col("p").desc(), F.col("k").asc())
    names = F.array(*(F.lit(str(c)) for c in categories))
    return (
        posterior.withColumn("rank", F.row_number().over(best))
        .filter(F.col("rank") == 1)
        .select(
            "item",
            F.element_at(names, F.col("k") + 1).alias("label"),
            F.col("p").alias("confidence"),
        )
    )
