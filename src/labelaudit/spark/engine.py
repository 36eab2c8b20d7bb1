"""Item profiles with Spark DataFrame aggregations; the same validation and errors as local.

The statistics step (:func:`spark_profiles`) runs on the executors: canonical keys per
row, one ``groupBy(item)`` building each item's sorted (annotator, label) list, one window
over the distinct lists counting the items of each profile and ranking them in item order.
Only the profiles (at most ``keep`` named items each) and the label / annotator vocabulary
come back to the driver; they go through the local :func:`labelaudit.table.encode` (the
one validation and canonicalisation), and :meth:`ItemProfiles.expand` is the finish.

Bad input gives the local engine's error, line for line: on the error path the first bad
row is found in Spark (its position from partition counts and in-partition ids) and the
offending raw rows go through the same ``encode`` that raises locally.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from labelaudit.exceptions import InputError, UsageError
from labelaudit.table import (
    NUMBER_PATTERN,
    AnnotationTable,
    Locator,
    RawColumns,
    TaskSchema,
    encode,
    file_locator,
    format_of,
    raw_columns,
)
from labelaudit.table.profiles import KEEP_NAMES, ItemProfiles

__all__ = [
    "keyed_rows",
    "read_spark",
    "spark_profiles",
    "spark_rows",
    "spark_session",
    "spark_table",
    "vocabulary_codes",
]

#: Unicode whitespace at either end (what Arrow's ``utf8_trim_whitespace`` removes).
_TRIM = r"(?U)^\s+|\s+$"
_IN_PARTITION = (1 << 33) - 1  # monotonically_increasing_id = partition << 33 | position
_SPARK_FORMATS = ("csv", "tsv", "parquet")
_ROLES = ("item", "annotator", "label")


def _need_java() -> None:
    if os.environ.get("JAVA_HOME") or shutil.which("java"):
        return
    raise UsageError(
        "the Spark engine needs a Java runtime (java on PATH or JAVA_HOME); install one, "
        "e.g. apt-get install default-jre-headless, or use --engine local"
    )


def spark_session(master: str | None = None, *, memory: str = "1g") -> Any:
    """A SparkSession for the CLI: ``master`` (default ``$LABELAUDIT_SPARK_MASTER`` or
    ``local[2]``), UI off, quiet logs. Without ``master``, an active session (a notebook's,
    a test's) is returned as it is."""
    _need_java()
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise UsageError(
            "the Spark engine needs PySpark: pip install 'labelaudit[spark]'"
        ) from None
    active = SparkSession.getActiveSession()
    if active is not None and master is None:  # the caller's session, as configured
        return active
    master = master or os.environ.get("LABELAUDIT_SPARK_MASTER", "local[2]")
    if master.startswith("local"):  # Python workers (LFs, pandas UDFs) run this Python
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    quiet = _quiet_log_config()
    builder = (
        SparkSession.builder.config(
            "spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={quiet}"
        )
        .master(master)
        .appName("labelaudit")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", memory)
        .config("spark.sql.shuffle.partitions", os.environ.get("LABELAUDIT_SPARK_PARTITIONS", "8"))
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
    )
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


_LOG4J2 = """status = error
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n
"""


def _quiet_log_config() -> str:
    """A log4j2 configuration printing errors only (Spark's default prints warnings)."""
    import tempfile

    path = Path(tempfile.gettempdir()) / "labelaudit-spark-log4j2.properties"
    if not path.is_file() or path.read_text() != _LOG4J2:
        path.write_text(_LOG4J2)
    return str(path)


def read_spark(spark: Any, source: str | Path, format: str | None = None) -> tuple[Any, Locator]:
    """A Spark DataFrame of a CSV/TSV/Parquet file or a catalog table, and its Locator.

    A name that is not a file is read with ``spark.table`` (``db.table``, or
    ``delta.`/path``` where the session has Delta Lake). CSV columns are read as text,
    as the local reader does.
    """
    path = Path(source)
    kind = format or format_of(path)
    if path.is_file():
        if kind not in _SPARK_FORMATS:
            raise InputError(
                "unknown file format",
                source=str(source),
                field="--from",
                expected=f"one of {', '.join(_SPARK_FORMATS)} (the Spark engine)",
                actual=kind or path.suffix,
                hint="pass --from, or use --engine local",
            )
        reader = spark.read
        if kind == "parquet":
            frame = reader.parquet(str(path))
        else:
            frame = reader.csv(
                str(path),
                header=True,
                sep="\t" if kind == "tsv" else ",",
                multiLine=True,
                escape='"',
                inferSchema=False,
            )
        return frame, file_locator(path, kind)
    quoted = "`" in str(source)  # delta.`/path/to/table` is a table name, not a file
    if not quoted and (kind is not None or path.parent != Path(".")):
        raise InputError(
            "file not found", source=str(source), expected="a readable file", actual=str(path)
        )
    return _table(spark, str(source)), Locator(str(source), lambda row: row + 1, "row")


def _table(spark: Any, name: str) -> Any:
    from pyspark.errors import AnalysisException

    try:
        return spark.table(name)
    except AnalysisException:
        raise InputError(
            "no such table",
            source=name,
            expected="a file, or a table of the Spark session's catalog",
            actual=name,
        ) from None


def _key(frame: Any, name: str) -> Any:
    """Canonical text of a column as a Spark expression: trimmed, '' and NaN -> null."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import DoubleType, FloatType

    column = F.col(f"`{name}`")
    if isinstance(frame.schema[name].dataType, (DoubleType, FloatType)):
        column = F.when(F.isnan(column), None).otherwise(column)
    text = F.regexp_replace(column.cast("string"), _TRIM, "")
    return F.when(text == "", None).otherwise(text)


def _fields(
    frame: Any,
    locator: Locator,
    *,
    item_col: str | None,
    annotator_col: str | None,
    label_col: str | None,
) -> dict[str, str]:
    """The item/annotator/label columns, resolved (aliases, errors) as the local reader."""
    empty = pa.table({name: pa.array([], pa.string()) for name in frame.columns})
    raw, _ = raw_columns(
        empty, locator, item_col=item_col, annotator_col=annotator_col, label_col=label_col
    )
    return raw.fields


def spark_profiles(
    frame: Any,
    *,
    item_col: str | None = None,
    annotator_col: str | None = None,
    label_col: str | None = None,
    level: str = "nominal",
    categories: Sequence[Any] | str | None = None,
    locator: Locator | None = None,
    keep: int | None = KEEP_NAMES,
) -> ItemProfiles:
    """The item profiles of a long Spark DataFrame (one row per item, annotator, label).

    Columns and options as :func:`labelaudit.read_annotations` (long layout, categorical
    task, ``on_duplicate="error"``). ``locator`` names the source in errors (default
    ``<Spark DataFrame>``, rows counted from 1). Raises the local engine's
    :class:`InputError` for missing columns or values, duplicate (item, annotator) pairs
    and bad labels. Returns :class:`ItemProfiles` (``keep`` item names per profile;
    ``None``: every item named, for per-item outputs such as consensus labels).
    """
    from pyspark.sql import functions as F
    from pyspark.sql.types import NumericType

    locator = locator or Locator("<Spark DataFrame>", lambda row: row + 1, "row")
    schema = TaskSchema.create(level, categories, "categorical")
    fields = _fields(
        frame, locator, item_col=item_col, annotator_col=annotator_col, label_col=label_col
    )
    keyed = keyed_rows(frame, fields)
    missing = F.col("kitem").isNull() | F.col("kannotator").isNull() | F.col("klabel").isNull()
    numeric_type = isinstance(frame.schema[fields["item"]].dataType, NumericType)
    not_number = F.lit(False) if numeric_type else ~F.col("kitem").rlike(NUMBER_PATTERN)
    flags = keyed.agg(
        F.max(missing.cast("int")).alias("missing"), F.max(not_number.cast("int")).alias("text")
    ).collect()[0]
    if flags["missing"]:
        _raise_missing(frame, fields, schema, locator)
    rated = F.struct("kannotator", "klabel", "rannotator", "rlabel")
    per_item = keyed.groupBy("kitem").agg(
        F.sort_array(F.collect_list(rated)).alias("profile"), F.first("ritem").alias("ritem")
    )
    rows = _ranked(per_item, not flags["text"], keep)
    if rows.num_rows and pc.any(rows.column("repeats")).as_py():
        _raise_duplicate(frame, fields, schema, locator)
    return _encode_profiles(rows, fields, schema, locator, keep, frame)


def keyed_rows(frame: Any, fields: dict[str, str], carry: Sequence[str] = ()) -> Any:
    """The rows as ``r<role>`` (raw) and ``k<role>`` (canonical key) columns, plus the
    ``carry`` columns of ``frame`` as they are."""
    return frame.select(*_columns(frame, fields), *carry)


def vocabulary_codes(keyed: Any, role: str, names: np.ndarray, alias: str) -> Any:
    """A small DataFrame ``(k<role>, alias)``: each key's code, its canonical name's
    position in ``names`` (the validated table's annotators or categories)."""
    from labelaudit.table import as_text

    pairs = keyed.select(f"k{role}", f"r{role}").dropDuplicates([f"k{role}"]).toArrow()
    canonical = as_text(pairs.column(f"r{role}")).to_pylist()
    position = {str(name): code for code, name in enumerate(names.tolist())}
    rows = [
        (key, position[name])
        for key, name in zip(pairs.column(f"k{role}").to_pylist(), canonical, strict=True)
    ]  # loops over the distinct annotators or labels
    return keyed.sparkSession.createDataFrame(rows, f"k{role} string, {alias} int")


def _columns(frame: Any, fields: dict[str, str]) -> list[Any]:
    """``r<role>`` (raw value) and ``k<role>`` (canonical key) of item, annotator, label."""
    from pyspark.sql import functions as F

    raw = [F.col(f"`{fields[n]}`").alias(f"r{n}") for n in _ROLES]
    return raw + [_key(frame, fields[n]).alias(f"k{n}") for n in _ROLES]


def _ranked(per_item: Any, numeric: bool, keep: int | None) -> pa.Table:
    """One row per rating of the first ``keep`` items of each profile (in item order):
    the raw item, annotator and label, the item's rank in its profile, the profile's
    items and whether it repeats an annotator; exploded in Spark, fetched as Arrow."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    if keep is None:  # every item named: no window
        ranked = per_item.select(
            "ritem", "profile", F.lit(1).alias("rank"), F.lit(1).alias("items")
        )
    else:
        order = [F.col("kitem").cast("double"), F.col("kitem")] if numeric else [F.col("kitem")]
        ranked = per_item.select(
            "ritem",
            "profile",
            F.row_number().over(Window.partitionBy("profile").orderBy(*order)).alias("rank"),
            F.count(F.lit(1)).over(Window.partitionBy("profile")).alias("items"),
        ).filter(F.col("rank") <= keep)
    repeats = F.size(F.array_distinct(F.col("profile.kannotator"))) < F.size("profile")
    exploded = ranked.select(
        "ritem", "rank", "items", repeats.alias("repeats"), F.explode("profile").alias("r")
    )
    return exploded.select(
        "ritem", "rank", "items", "repeats", "r.rannotator", "r.rlabel", "r.klabel"
    ).toArrow()


def _encode_profiles(
    rows: pa.Table,
    fields: dict[str, str],
    schema: TaskSchema,
    locator: Locator,
    keep: int | None,
    frame: Any,
) -> ItemProfiles:
    """The fetched profiles through the local ``encode``; multiplicities per named item
    (the last named item of a profile carries its unnamed items)."""
    rank = rows.column("rank").to_numpy()
    items = rows.column("items").to_numpy()
    last = rank == np.minimum(items, keep or 1)
    multiplicity = np.where(last, items - rank + 1, 1).astype(np.int64)
    raw = RawColumns(
        item=rows.column("ritem"),
        annotator=rows.column("rannotator"),
        label=rows.column("rlabel"),
        rows=np.arange(rows.num_rows),
        fields=fields,
        label_fields=None,
        extra={"multiplicity": pa.chunked_array([pa.array(multiplicity, pa.int64())])},
    )
    try:
        table = encode(raw, schema, locator)
    except InputError:
        keys, values = rows.column("klabel").to_pylist(), rows.column("rlabel").to_pylist()
        _raise_label(frame, fields, schema, locator, dict(zip(keys, values, strict=True)))
        raise
    mult = np.zeros(table.n_items, dtype=np.int64)
    mult[table.item_codes] = table.data.column("multiplicity").to_numpy()
    return ItemProfiles(_drop_extra(table), mult, keep or KEEP_NAMES)


def _drop_extra(table: AnnotationTable) -> AnnotationTable:
    from dataclasses import replace

    return replace(table, data=table.data.select(["item", "annotator", "label"]))


def spark_rows(
    frame: Any,
    *,
    item_col: str | None = None,
    annotator_col: str | None = None,
    label_col: str | None = None,
    level: str = "nominal",
    categories: Sequence[Any] | str | None = None,
    locator: Locator | None = None,
    extra: Sequence[str] = (),
) -> AnnotationTable:
    """Every row, in source order, validated by the local ``encode``: for per-row outputs
    (consensus labels of every item, annotator streaks that follow the file's order),
    which need all rows at the driver anyway. Same errors as the local reader. The
    ``extra`` columns of ``frame`` are carried along (timings, a gold column)."""
    locator = locator or Locator("<Spark DataFrame>", lambda row: row + 1, "row")
    schema = TaskSchema.create(level, categories, "categorical")
    fields = _fields(
        frame, locator, item_col=item_col, annotator_col=annotator_col, label_col=label_col
    )
    extra = [name for name in extra if name not in fields.values()]
    rows = _ordered(frame, fields, extra)
    raw = RawColumns(
        item=rows.column("ritem"),
        annotator=rows.column("rannotator"),
        label=rows.column("rlabel"),
        rows=np.arange(rows.num_rows),
        fields=fields,
        label_fields=None,
        extra={name: rows.column(f"x{i}") for i, name in enumerate(extra)},
    )
    return encode(raw, schema, locator)


def _ordered(frame: Any, fields: dict[str, str], extra: Sequence[str] = ()) -> pa.Table:
    """The raw item, annotator and label columns (and ``extra`` ones, as ``x<i>``) in
    source order, as Arrow."""
    from pyspark.sql import functions as F

    carried = [F.col(f"`{name}`").alias(f"x{i}") for i, name in enumerate(extra)]
    ordered = with_row_index(frame.select(*_columns(frame, fields), *carried))[0].orderBy("_row")
    roles = [F.col(f"r{n}") for n in _ROLES]
    return ordered.select(*roles, *(f"x{i}" for i in range(len(extra)))).toArrow()


def spark_table(frame: Any, **options: Any) -> AnnotationTable:
    """The AnnotationTable equivalent to a Spark DataFrame (profiles, expanded): every
    local analysis runs on it; options as :func:`spark_profiles`."""
    return spark_profiles(frame, **options).expand()


# --------------------------------------------------------------------------- error path
def _indexed(frame: Any, fields: dict[str, str]) -> Any:
    """The rows with ``_row``: their 0-based position in the source (partition order)."""
    return with_row_index(frame.select(*_columns(frame, fields)))[0]


def with_row_index(frame: Any) -> tuple[Any, int]:
    """(``frame`` plus ``_row``, each row's 0-based position in the source, partition
    order, consecutive within a partition; the number of rows). One job counts the rows
    of each partition."""
    from pyspark.sql import functions as F

    tagged = frame.select(
        "*",
        F.spark_partition_id().alias("_part"),
        F.monotonically_increasing_id().alias("_id"),
    )
    sizes = dict(tagged.groupBy("_part").count().collect())
    starts, total = [], 0
    for part in range(max(sizes, default=-1) + 1):  # loops over partitions
        starts.append(total)
        total += sizes.get(part, 0)
    offset = F.element_at(F.array(*(F.lit(s) for s in starts or [0])), F.col("_part") + 1)
    row = offset + F.col("_id").bitwiseAND(F.lit(_IN_PARTITION))
    return tagged.withColumn("_row", row).drop("_part", "_id"), total


def _raise_rows(
    found: list[Any], fields: dict[str, str], schema: TaskSchema, locator: Locator
) -> None:
    """Raise what the local ``encode`` raises on these raw rows (in source order)."""
    raw = RawColumns(
        item=pa.chunked_array([pa.array([r["ritem"] for r in found])]),
        annotator=pa.chunked_array([pa.array([r["rannotator"] for r in found])]),
        label=pa.chunked_array([pa.array([r["rlabel"] for r in found])]),
        rows=np.array([r["_row"] for r in found], dtype=np.int64),
        fields=fields,
        label_fields=None,
        extra={},
    )
    encode(raw, schema, locator)


def _raise_missing(
    frame: Any, fields: dict[str, str], schema: TaskSchema, locator: Locator
) -> None:
    """The local error: the first row missing an item, else an annotator, else a label."""
    from pyspark.sql import functions as F

    indexed = _indexed(frame, fields)
    for name in _ROLES:
        found = indexed.filter(F.col(f"k{name}").isNull()).orderBy("_row").limit(1).collect()
        if found:
            _raise_rows(found, fields, schema, locator)


def _raise_duplicate(
    frame: Any, fields: dict[str, str], schema: TaskSchema, locator: Locator
) -> None:
    """The local error: the earliest second label of an (item, annotator) pair."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    indexed = _indexed(frame, fields)
    pair = Window.partitionBy("kitem", "kannotator").orderBy("_row")
    later = (
        indexed.withColumn("_previous", F.lag("_row").over(pair))
        .filter(F.col("_previous").isNotNull())
        .orderBy("_row")
        .limit(1)
        .collect()
    )
    if later:
        rows = [later[0]["_previous"], later[0]["_row"]]
        found = indexed.filter(F.col("_row").isin(rows)).orderBy("_row").collect()
        _raise_rows(found, fields, schema, locator)


def _raise_label(
    frame: Any,
    fields: dict[str, str],
    schema: TaskSchema,
    locator: Locator,
    labels: dict[str, Any],
) -> None:
    """The local error for a bad label: the first row holding one that fails alone."""
    from pyspark.sql import functions as F

    bad = [key for key, value in labels.items() if not _label_ok(value, fields, schema)]
    if not bad:
        return
    indexed = _indexed(frame, fields)
    found = indexed.filter(F.col("klabel").isin(bad)).orderBy("_row").limit(1).collect()
    _raise_rows(found, fields, schema, locator)


def _label_ok(value: Any, fields: dict[str, str], schema: TaskSchema) -> bool:
    one = pa.chunked_array([pa.array(["x"])])
    raw = RawColumns(
        item=one,
        annotator=one,
        label=pa.chunked_array([pa.array([value])]),
        rows=np.zeros(1, dtype=np.int64),
        fields=fields,
        label_fields=None,
        extra={},
    )
    try:
        encode(raw, schema, Locator("", lambda row: row + 1))
    except InputError:
        return False
    return True
