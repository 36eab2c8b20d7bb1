"""Labeling functions over a Spark DataFrame: the LFs run where the data lives.

:func:`spark_apply_lfs` runs :func:`labelaudit.weak.apply.label_matrix` (the local
applier itself) on each Arrow batch of each partition with ``mapInPandas``: a vectorised
LF gets the batch as a pandas DataFrame, a per-record LF each of its records. Each record
keeps its 0-based position in the source (partition order, as ``spark_rows`` numbers
rows), so record numbers, items without ``id_col`` and error lines are those of the local
applier on the same records in the same order. The votes stay a Spark DataFrame in the
canonical columns (``item``, ``annotator``, ``label``, ``annotator_kind`` = ``function``);
:meth:`SparkVotes.to_table` collects them to the table :func:`labelaudit.weak.apply_lfs`
returns. The functions' own modules are pickled by value, so executors need labelaudit
but not the LF file.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from labelaudit.exceptions import InputError, UsageError
from labelaudit.spark.engine import with_row_index
from labelaudit.table import AnnotationTable
from labelaudit.weak.apply import check_lfs, label_matrix, votes_table
from labelaudit.weak.lf import LabelingFunction

__all__ = ["SparkVotes", "spark_apply_lfs"]

#: Rows of the batch function: votes, per-partition error counts, failures.
_SCHEMA = "kind string, item string, annotator string, label string, row long, detail string"
_SOURCE = "<Spark DataFrame>"


@dataclass(frozen=True)
class SparkVotes:
    """LF votes computed on Spark.

    Attributes
    ----------
    frame : pyspark.sql.DataFrame
        One row per non-abstain vote: ``item``, ``annotator`` (LF name), ``label``,
        ``annotator_kind`` (``function``); cached (the LFs ran once).
    n_records : int
        Records of the source, including those no LF voted on.
    n_votes : int
        Rows of ``frame``.
    labeling_functions, labels : list of str
        LF names in order; the declared label set.
    lf_errors : dict of str to int
        Records counted as abstain because the LF raised (``on_error="abstain"``).
    rows : pyspark.sql.DataFrame
        The cached votes with each record's position (``row``), for :meth:`to_table`.
    """

    frame: Any
    n_records: int
    labeling_functions: list[str]
    labels: list[str]
    n_votes: int = 0
    lf_errors: dict[str, int] = field(default_factory=dict)
    rows: Any = field(default=None, repr=False)

    def to_table(self) -> AnnotationTable:
        """The votes at the driver as the canonical table :func:`labelaudit.weak.apply_lfs`
        returns on the same records (same items, codes, order and ``report``)."""
        data = self.rows.select("item", "annotator", "label", "row").toArrow()
        rows = data.column("row").to_numpy()
        records, position = np.unique(rows, return_inverse=True)
        lf = {name: j for j, name in enumerate(self.labeling_functions)}
        label = {name: c for c, name in enumerate(self.labels)}
        codes = np.full((records.size, len(lf)), -1, dtype=np.int16)
        columns = [data.column(n).to_numpy(zero_copy_only=False) for n in ("annotator", "label")]
        lf_codes = np.array([lf[str(x)] for x in columns[0]], dtype=np.int64)  # one per vote
        codes[position, lf_codes] = [label[str(x)] for x in columns[1]]
        ids = np.empty(records.size, dtype=object)
        ids[position] = data.column("item").to_numpy(zero_copy_only=False)
        table = votes_table(codes, ids, self.labeling_functions, self.labels, source=_SOURCE)
        table.report["n_records"] = self.n_records
        table.report["lf_errors"] = dict(self.lf_errors)
        return table


def spark_apply_lfs(
    lfs: Sequence[LabelingFunction],
    frame: Any,
    *,
    labels: Sequence[Any],
    id_col: str | None = None,
    on_error: str = "raise",
) -> SparkVotes:
    """Run every LF on every record of a Spark DataFrame, on the executors.

    Parameters and errors as :func:`labelaudit.weak.apply_lfs` (the same messages, record
    numbers and items; the source is named ``<Spark DataFrame>``). Runs two jobs (records
    per partition; the LFs, whose votes are cached), three with ``id_col`` (repeated ids).

    Returns
    -------
    SparkVotes
        ``frame``: the votes as a Spark DataFrame; ``to_table()``: collected.
    """
    from pyspark.sql import functions as F

    check_lfs(lfs, labels, on_error)
    names, label_names = [lf.name for lf in lfs], [str(x) for x in labels]
    if id_col is not None and id_col not in frame.columns:
        raise InputError(
            "missing id column", source=_SOURCE, line=1, field=id_col,
            expected=f"a column named {id_col!r}", actual=", ".join(map(str, frame.columns)),
        )  # fmt: skip
    indexed, n_records = with_row_index(frame)
    if id_col is not None:
        _check_ids(indexed, id_col)
    _by_value(lfs)
    run = _batches(list(lfs), list(labels), id_col, on_error, list(frame.columns))
    out = indexed.mapInPandas(run, _SCHEMA).cache()
    notes = out.filter(F.col("kind") != "vote").collect()
    _raise_first([n for n in notes if n["kind"] == "error"], names)
    errors, n_votes, blanks = dict.fromkeys(names, 0), 0, []
    for note in notes:  # one summary per partition
        detail = json.loads(note["detail"])
        for name, count in detail["errors"].items():
            errors[name] += count
        n_votes += detail["n_votes"]
        blanks += [] if detail["blank"] is None else [detail["blank"]]
    _check_votes(n_votes, min(blanks, default=None))
    votes = out.filter(F.col("kind") == "vote")
    canonical = votes.select(
        "item", "annotator", "label", F.lit("function").alias("annotator_kind")
    )
    return SparkVotes(
        frame=canonical, n_records=n_records, labeling_functions=names, labels=label_names,
        n_votes=n_votes, lf_errors=errors, rows=votes,
    )  # fmt: skip


def _batches(
    lfs: list[LabelingFunction],
    labels: list[Any],
    id_col: str | None,
    on_error: str,
    columns: list[str],
) -> Callable[[Iterator[Any]], Iterator[Any]]:
    """The function ``mapInPandas`` runs on each partition's batches (in row order)."""
    names = np.array([lf.name for lf in lfs], dtype=object)
    label_names = np.array([str(x) for x in labels], dtype=object)

    def run(batches: Iterator[Any]) -> Iterator[Any]:
        import pandas as pd

        errors = dict.fromkeys(names.tolist(), 0)
        n_votes, blank = 0, None
        for batch in batches:
            if batch.empty:
                continue
            rows = batch["_row"].to_numpy(dtype=np.int64)
            records = batch[columns].reset_index(drop=True)
            try:
                codes, counts, ids = _label_batch(lfs, records, labels, id_col, on_error, rows)
            except (InputError, UsageError) as error:
                yield _failure(error, int(rows[0]))
                return
            for name, count in counts.items():
                errors[name] += count
            r, c = np.nonzero(codes >= 0)
            items = rows[r].astype(str).astype(object) if ids is None else ids[r]
            n_votes += r.size
            empty = rows[r][items == ""]
            if blank is None and empty.size:
                blank = int(empty.min())
            yield pd.DataFrame(
                {"kind": "vote", "item": items, "annotator": names[c],
                 "label": label_names[codes[r, c]], "row": rows[r], "detail": None}
            )  # fmt: skip
        yield _note("summary", -1, {"errors": errors, "n_votes": n_votes, "blank": blank})

    return run


def _label_batch(
    lfs: list[LabelingFunction],
    records: Any,
    labels: list[Any],
    id_col: str | None,
    on_error: str,
    rows: np.ndarray,
) -> tuple[np.ndarray, dict[str, int], np.ndarray | None]:
    """The label matrix of one batch: one LF at a time, so a failure names its LF (the
    driver keeps the failure the local applier meets first: LFs in order)."""
    first = int(rows[0])
    parts, ids = [], None
    errors: dict[str, int] = {}
    for j, lf in enumerate(lfs):
        try:
            codes, counts, ids, _ = label_matrix(
                [lf], records, labels=labels, id_col=id_col, on_error=on_error,
                first_row=first, source=_SOURCE,
            )  # fmt: skip
        except (InputError, UsageError) as error:
            error.lf_index = j  # type: ignore[union-attr]
            raise
        parts.append(codes[:, 0])
        errors |= counts
    return np.stack(parts, axis=1), errors, ids


def _failure(error: Exception, first: int) -> Any:
    """One ``error`` row describing ``error`` (its class and fields) for the driver."""
    fields = {"class": type(error).__name__, "lf": getattr(error, "lf_index", -1)}
    if isinstance(error, InputError):
        keys = ("problem", "source", "line", "field", "expected", "hint", "unit")
        fields |= {k: getattr(error, k) for k in keys} | {"actual": _text(error.actual)}
    else:
        fields["message"] = str(error)
    row = error.line - 1 if isinstance(error, InputError) and error.line else first
    return _note("error", row, fields)


def _note(kind: str, row: int, detail: dict[str, Any]) -> Any:
    """One row of the batch function that is not a vote (every column of its schema)."""
    import pandas as pd

    return pd.DataFrame(
        [{"kind": kind, "item": None, "annotator": None, "label": None, "row": row,
          "detail": json.dumps(detail)}]
    )  # fmt: skip


def _text(value: Any) -> Any:
    """``value`` as JSON can carry it (text unless a plain number or None)."""
    return value if value is None or isinstance(value, (int, float, str)) else str(value)


def _raise_first(failures: list[Any], names: list[str]) -> None:
    """Raise the failure the local applier raises first: the first LF in order that
    fails; a length error before a raise before a label outside the set; then the row."""
    if not failures:
        return
    found = [(json.loads(f["detail"]), int(f["row"])) for f in failures]

    def key(item: tuple[dict[str, Any], int]) -> tuple[int, int, int]:
        fields, row = item
        name = names[fields["lf"]] if fields["lf"] >= 0 else ""
        stage = -1 if fields["class"] != "InputError" else 0
        if stage == 0 and not fields["problem"].startswith(f"labeling function {name!r} raised"):
            stage = 1
        return fields["lf"], stage, row

    fields, _ = min(found, key=key)
    if fields["class"] != "InputError":
        raise UsageError(fields["message"])
    problem = fields.pop("problem")
    keys = ("source", "line", "field", "expected", "actual", "hint", "unit")
    raise InputError(problem, **{k: fields[k] for k in keys})


def _check_ids(indexed: Any, id_col: str) -> None:
    """InputError, as the local applier, on an id given to two records (the first repeat
    in record order)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    key = F.trim(F.col(f"`{id_col}`").cast("string")).alias("_key")
    ranked = indexed.select(key, "_row").withColumn(
        "_n", F.row_number().over(Window.partitionBy("_key").orderBy("_row"))
    )
    repeat = ranked.filter(F.col("_n") > 1).orderBy("_row").select("_key", "_row").first()
    if repeat is not None:
        raise InputError(
            "record id repeated", source=_SOURCE, line=int(repeat["_row"]) + 1,
            unit="record", field=id_col, expected="one record per id", actual=repeat["_key"],
        )  # fmt: skip


def _check_votes(n_votes: int, blank: int | None) -> None:
    """The local applier's errors on the votes: none at all; a voted record with an
    empty id (``blank``: the first in record order)."""
    if n_votes == 0:
        raise InputError(
            "no labeling function voted on any record", source=_SOURCE,
            expected="at least one non-abstain vote", actual="every vote abstained",
        )  # fmt: skip
    if blank is not None:
        raise InputError(
            "empty record id", source=_SOURCE, line=blank + 1, unit="record",
            expected="one distinct, non-empty id per record", actual="",
        )  # fmt: skip


def _by_value(lfs: Sequence[LabelingFunction]) -> None:
    """Pickle the modules defining the LFs by value (executors need not import them)."""
    from pyspark import cloudpickle

    for lf in lfs:
        name = getattr(lf.function, "__module__", None) or ""
        module = sys.modules.get(name)
        if module is not None and name != "__main__" and not name.startswith("labelaudit."):
            cloudpickle.register_pickle_by_value(module)
