"""The Spark engine: item profiles computed where the data lives, the finish run locally.

Needs the optional extra ``labelaudit[spark]`` (PySpark) and a Java runtime. Entry points:
:func:`~labelaudit.spark.engine.spark_profiles` (a Spark DataFrame -> the exact sufficient
statistics, :class:`~labelaudit.table.profiles.ItemProfiles`),
:func:`~labelaudit.spark.engine.spark_table` (-> the equivalent AnnotationTable every
local analysis takes), :func:`~labelaudit.spark.engine.spark_rows` (every row in source
order, for per-row outputs), :func:`~labelaudit.spark.consensus.spark_dawid_skene`
(EM with E and M steps as DataFrame operations, posteriors distributed),
:func:`~labelaudit.spark.outputs.spark_consensus` (majority vote or Dawid-Skene labels of
every item, streamed to a file one partition at a time),
:func:`~labelaudit.spark.weak.spark_apply_lfs` (labeling functions run on the executors),
:func:`~labelaudit.spark.annotators.spark_annotator_report` (the annotator report's
statistics as Spark aggregations, the local finish) and
:func:`~labelaudit.spark.engine.read_spark` (CSV, TSV, Parquet
files, catalog and Delta tables).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = [
    "read_spark",
    "spark_annotator_report",
    "spark_annotator_statistics",
    "spark_apply_lfs",
    "spark_consensus",
    "spark_dawid_skene",
    "spark_profiles",
    "spark_rows",
    "spark_session",
    "spark_table",
]


def __getattr__(name: str) -> Any:
    if name == "spark_apply_lfs":
        return import_module("labelaudit.spark.weak").spark_apply_lfs
    if name == "spark_consensus":
        return import_module("labelaudit.spark.outputs").spark_consensus
    if name in ("spark_annotator_report", "spark_annotator_statistics"):
        return getattr(import_module("labelaudit.spark.annotators"), name)
    if name == "spark_dawid_skene":
        return import_module("labelaudit.spark.consensus").spark_dawid_skene
    if name in __all__:
        return getattr(import_module("labelaudit.spark.engine"), name)
    raise AttributeError(f"module 'labelaudit.spark' has no attribute {name!r}")
