"""Durations and timestamps of the annotator report on Spark, read as the local report reads them.

Columns are resolved as locally (:func:`~labelaudit.quality.annotator_stats.
timing_names`: ``duration_s`` / ``created_at`` by default). Numeric columns and typed
timestamps are converted by Spark; text cells go through the local reader
(:func:`~labelaudit.quality.annotator_stats.column_seconds`) one Arrow batch at a time
(a pandas UDF), which also says how each batch was read (numbers, ISO 8601 with or
without a zone offset): batches all read one way give the whole column's values. A bad
cell, or batches read different ways, sends the column (one value per row, in source
order) to the driver, where the local reader raises its error, record for record; that
is the only time a column comes back.

Medians are exact: Spark's ``percentile`` aggregate at 0.5 is 0.5 a + 0.5 b of the two
middle values, which equals the local 0.5 (a + b) bit for bit (halving is exact).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd  # the pandas UDF's type hints are resolved in this module
import pyarrow as pa

from labelaudit.exceptions import InputError
from labelaudit.quality.annotator_stats import TIME_FORMS, column_seconds, timing_names
from labelaudit.table import NUMBER_PATTERN

__all__ = ["SparkTiming", "spark_timing"]

#: Unicode whitespace at either end (as the local reader trims).
_TRIM = r"(?U)^\s+|\s+$"
_RAW = {"duration_col": "_dur", "time_col": "_tim"}
_SECONDS = {"duration_col": "_ds", "time_col": "_ts"}


@dataclass(frozen=True)
class SparkTiming:
    """The timing columns of one Spark table: ``columns`` as the report names them,
    their raw copies ``carried`` along the ratings, and the deferred resolution error
    (raised after the table's own validation, as locally)."""

    columns: dict[str, str | None]
    source: str
    error: InputError | None = None

    @property
    def carried(self) -> list[str]:
        """Raw copies carried by the ratings (``_dur``, ``_tim``)."""
        return [_RAW[key] for key, name in self.columns.items() if name is not None]

    def carry(self, frame: Any) -> Any:
        """``frame`` with the raw copies of the timing columns."""
        from pyspark.sql import functions as F

        for key, name in self.columns.items():
            if name is not None:
                frame = frame.withColumn(_RAW[key], F.col(f"`{name}`"))
        return frame

    def check(self) -> None:
        """Raise the deferred column error, if any."""
        if self.error is not None:
            raise self.error

    def seconds(self, ratings: Any) -> Any:
        """``ratings`` with ``_ds`` (seconds per label) and ``_ts`` (epoch seconds) as
        doubles (null or NaN = missing); bad cells raise the local error."""
        for key, name in self.columns.items():
            if name is not None:
                kind = "duration" if key == "duration_col" else "time"
                ratings = _seconds(ratings, _RAW[key], _SECONDS[key], name, kind, self.source)
        return ratings

    def order(self) -> Any:
        """Each annotator's sequence: by time (missing last), then source position."""
        from pyspark.sql import functions as F

        if self.columns["time_col"] is None:
            return F.lit(0.0)
        t = F.col("_ts")
        return F.when(t.isNull() | F.isnan(t), F.lit(float("inf"))).otherwise(t)

    def medians(self, ratings: Any, r: int) -> np.ndarray:
        """Median seconds per label of each annotator (NaN where unknown): of the
        durations, else of the gaps between consecutive timestamps."""
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        out = np.full(r, np.nan)
        if self.columns["duration_col"] is not None:
            values = ratings.select("a", F.col("_ds").alias("v"))
        elif self.columns["time_col"] is not None:
            t = F.col("_ts")
            timed = ratings.filter(t.isNotNull() & ~F.isnan(t))
            gap = t - F.lag(t).over(Window.partitionBy("a").orderBy(t))
            values = timed.select("a", gap.alias("v"))
        else:
            return out
        finite = values.filter(F.col("v").isNotNull() & ~F.isnan("v"))
        found = finite.groupBy("a").agg(F.expr("percentile(v, 0.5)").alias("m")).collect()
        for row in found:  # r rows
            out[row["a"]] = row["m"]
        return out


def spark_timing(
    frame: Any, duration_col: str | None, time_col: str | None, source: str
) -> SparkTiming:
    """The timing columns of ``frame`` resolved as locally (the error kept for later)."""
    try:
        return SparkTiming(timing_names(frame.columns, source, duration_col, time_col), source)
    except InputError as error:
        return SparkTiming({"duration_col": None, "time_col": None}, source, error)


def _seconds(ratings: Any, raw: str, out: str, name: str, kind: str, source: str) -> Any:
    from pyspark.sql import functions as F
    from pyspark.sql.types import NumericType, TimestampType

    column_type = ratings.schema[raw].dataType
    if isinstance(column_type, NumericType):
        value = F.col(raw).cast("double")
    elif isinstance(column_type, TimestampType) and kind == "time":
        value = F.unix_micros(F.col(raw)) / F.lit(1e6)
    elif kind == "duration":
        text = F.regexp_replace(F.col(raw).cast("string"), _TRIM, "")
        cell = F.when(text == "", None).otherwise(text)
        bad = cell.isNotNull() & ~cell.rlike(NUMBER_PATTERN)
        if ratings.filter(bad).limit(1).count():
            _raise_local(ratings, raw, name, kind, source)
        value = cell.cast("double")
    else:
        return _text_times(ratings, raw, out, name, source)
    if kind == "duration" and ratings.filter(value < 0).limit(1).count():
        _raise_local(ratings, raw, name, kind, source)
    return ratings.withColumn(out, value)


def _text_times(ratings: Any, raw: str, out: str, name: str, source: str) -> Any:
    """Text timestamps read by the local reader, one Arrow batch at a time."""
    from pyspark.sql import functions as F
    from pyspark.sql.functions import pandas_udf

    @pandas_udf("s double, f int")  # type: ignore[call-overload]
    def read(cells: pd.Series) -> pd.DataFrame:
        column = pa.chunked_array([pa.array(cells, type=pa.string(), from_pandas=True)])
        try:
            values, form = column_seconds(column, name, "time", source)
            code = TIME_FORMS.index(form)
        except InputError:
            values, code = np.full(len(cells), np.nan), -1
        return pd.DataFrame({"s": values, "f": np.full(len(cells), code, dtype=np.int32)})

    parsed = ratings.withColumn("_parsed", read(F.col(raw).cast("string"))).localCheckpoint()
    forms = {row["f"] for row in parsed.select("_parsed.f").distinct().collect()}
    read_forms = forms - {TIME_FORMS.index("empty")}
    if -1 in forms or len(read_forms) > 1:
        values = _raise_local(ratings, raw, name, "time", source)  # the local reader's
        rows = pa.table({"_row": np.arange(values.size), out: values})
        found = ratings.sparkSession.createDataFrame(rows.to_pandas())
        return ratings.join(found, "_row")
    return parsed.withColumn(out, F.col("_parsed.s")).drop("_parsed")


def _raise_local(ratings: Any, raw: str, name: str, kind: str, source: str) -> np.ndarray:
    """Error path: the column in source order through the local reader, which raises
    the local error (or, for batches read different ways that the whole column
    accepts, returns its values)."""
    rows = ratings.select("_row", raw).orderBy("_row").toArrow()
    return column_seconds(rows.column(raw), name, kind, source)[0]
