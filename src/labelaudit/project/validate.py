"""Row-level validation that collects *every* invalid row of a batch, vectorised.

The table reader (:func:`labelaudit.table.read_annotations`) stops at the first bad row.
Ingest needs them all: to list the first 20 when the batch is refused, and to store every
rejected row with its reasons under ``--max-rejects``. :func:`validate_rows` applies the
reader's own rules to whole columns at once:

- ``item``, ``annotator``, ``label`` missing (null or empty after trimming);
- a label the table boundary refuses (outside the declared categories, not a number at
  interval or ratio level, ...), decided by :func:`labelaudit.table.encode` itself, so
  ingest and the readers cannot disagree on what a valid label is;
- a repeated (item, annotator) pair among the otherwise valid rows: the first is kept,
  each later one is rejected and names the line of the first.

Every problem becomes a record (file, line, field, problem, expected, actual); a row with
two problems gives two records. The rows left are exactly the ones the reader accepts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from labelaudit.exceptions import InputError, RejectedRowsError
from labelaudit.project._lines import record_lines
from labelaudit.table import Locator, RawColumns, as_text, encode
from labelaudit.table.schema import TaskSchema

__all__ = ["REJECT_COLUMNS", "Reject", "RejectedRowsError", "Validation", "validate_rows"]

#: Columns of :attr:`Validation.rejects` (and of the store's ``rejected_rows`` table).
REJECT_COLUMNS = (
    "entry",
    "source",
    "line",
    "unit",
    "field",
    "problem",
    "expected",
    "actual",
    "item",
    "annotator",
    "label",
)
LISTED = 20


@dataclass(frozen=True)
class Reject:
    """One problem of one input row, located as ``file:line:field``."""

    source: str
    line: int
    unit: str
    field: str
    problem: str
    expected: str
    actual: str | None

    @property
    def location(self) -> str:
        """``file:line`` (CSV, TSV, JSONL) or ``file:record N`` / ``file:row N``."""
        where = str(self.line) if self.unit == "line" else f"{self.unit} {self.line}"
        return f"{self.source}:{where}"

    def __str__(self) -> str:
        return f"{self.location}:{self.field}: expected {self.expected} / actual {self.actual!r}"

    def to_dict(self) -> dict[str, Any]:
        """``{"source", "line", "unit", "field", "problem", "expected", "actual"}``."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class Validation:
    """Outcome of :func:`validate_rows`.

    Attributes
    ----------
    valid : ndarray of bool, shape (n_entries,)
        Entries (rows, or cells of a wide file) that pass every check.
    rejects : pyarrow.Table
        One record per problem, columns :data:`REJECT_COLUMNS`, in input order.
    """

    valid: np.ndarray
    rejects: pa.Table

    @property
    def n_entries(self) -> int:
        """Number of entries checked."""
        return int(self.valid.size)

    @property
    def n_rejected(self) -> int:
        """Number of rejected entries (a row with two problems counts once)."""
        return int(self.valid.size - np.count_nonzero(self.valid))

    def first(self, n: int = LISTED) -> list[Reject]:
        """The first ``n`` problems, in input order."""
        head = self.rejects.slice(0, n).to_pylist()
        return [Reject(**{k: row[k] for k in Reject.__dataclass_fields__}) for row in head]


def validate_rows(
    raw: RawColumns,
    schema: TaskSchema,
    *,
    source: str,
    n_records: int,
    unit: str = "line",
    path: Path | None = None,
    kind: str | None = None,
) -> Validation:
    """Check every entry of a batch and collect all problems.

    Parameters
    ----------
    raw : RawColumns
        Canonical columns before validation (from the table readers).
    schema : TaskSchema
        The project's level and declared categories.
    source, unit : str
        File name and what line numbers count (``line``, ``record`` or ``row``).
    n_records : int
        Number of records (rows) in the input; ``raw.rows`` index them.
    path, kind : optional
        The file and its format (``csv``, ``tsv``, ``jsonl``, ...), to compute line numbers.

    Returns
    -------
    Validation
    """
    columns = {name: as_text(getattr(raw, name)) for name in ("item", "annotator", "label")}
    problems: list[dict[str, Any]] = []
    present = {}
    for name, column in columns.items():
        missing = _to_numpy(pc.or_kleene(pc.is_null(column), pc.equal(pc.utf8_length(column), 0)))
        present[name] = ~missing
        problems.append(
            _problem(missing, name, f"missing {name}", f"a non-empty {name}", actual="")
        )
    if schema.task == "categorical":
        problems.extend(_label_problems(columns["label"], present["label"], schema))
    valid = np.ones(len(columns["item"]), dtype=bool)
    for problem in problems:
        valid[problem["entries"]] = False
    duplicate, first = _duplicates(columns["item"], columns["annotator"], valid)
    valid[duplicate] = False
    if valid.all():
        empty = _reject_table([], raw, columns, np.zeros(0, np.int64), source, unit)
        return Validation(valid=valid, rejects=empty)
    lines = record_lines(path, kind, n_records)
    if duplicate.size:
        first_lines = lines[raw.rows[first]].astype(str).astype(object)
        problems.append(
            {
                "entries": duplicate,
                "field": f"{raw.fields['item']},{raw.fields['annotator']}",
                "problem": "duplicate (item, annotator) pair",
                "expected": "one label per item and annotator",
                "actual": f"a second label (first at {unit} " + first_lines + ")",
            }
        )
    table = _reject_table(problems, raw, columns, lines, source, unit)
    return Validation(valid=valid, rejects=table)


def _to_numpy(array: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(array, True).to_numpy(zero_copy_only=False), dtype=bool)


def _problem(
    mask: np.ndarray, field: str, problem: str, expected: str, actual: Any = None
) -> dict[str, Any]:
    """A problem on the entries where ``mask`` holds; ``actual`` None = the field's value."""
    return {
        "entries": np.flatnonzero(mask),
        "field": field,
        "problem": problem,
        "expected": expected,
        "actual": actual,
    }


def _label_problems(
    label: pa.ChunkedArray, present: np.ndarray, schema: TaskSchema
) -> list[dict[str, Any]]:
    """Labels the table boundary refuses, found by :func:`labelaudit.table.encode` itself.

    The distinct present labels are encoded as a one-column table; each refusal names
    one bad label, which is set aside before encoding the rest again, until the boundary
    accepts what is left: the same rules as the reader by construction (at most
    :data:`MAX_BAD_LABELS` distinct bad labels are told apart; the rest share one
    problem). A refusal not tied to a label (e.g. ordinal text labels without a declared
    order) is raised as is.
    """
    distinct = pc.unique(label.filter(pa.array(present))).to_numpy(zero_copy_only=False)
    distinct = distinct.astype(object)
    good = np.ones(distinct.size, dtype=bool)
    reasons: dict[str, list[int]] = {}
    for _ in range(MAX_BAD_LABELS):
        rest = np.flatnonzero(good)
        if rest.size == 0:
            break
        problem = _refusal(distinct[rest], schema)
        if problem is None:
            break
        position, expected = problem
        good[rest[position]] = False
        reasons.setdefault(expected, []).append(int(rest[position]))
    else:
        rest = np.flatnonzero(good)
        if rest.size and _refusal(distinct[rest], schema) is not None:
            reasons.setdefault("a label the table reader accepts", []).extend(rest.tolist())
    out = []
    for expected, positions in reasons.items():
        bad = pc.is_in(label, value_set=pa.array(distinct[positions], type=pa.string()))
        out.append(_problem(present & _to_numpy(bad), "label", "invalid label", expected))
    return out


#: Distinct refused labels told apart one by one (each costs one encode of the distinct set).
MAX_BAD_LABELS = 200


def _refusal(labels: np.ndarray, schema: TaskSchema) -> tuple[int, str] | None:
    """(position of the first label :func:`encode` refuses, what it expected), or None."""
    n = labels.size
    raw = RawColumns(
        item=pa.chunked_array([pa.array(np.arange(n).astype(str))]),
        annotator=pa.chunked_array([pa.array(np.full(n, "a", dtype=object), type=pa.string())]),
        label=pa.chunked_array([pa.array(labels, type=pa.string())]),
        rows=np.arange(n),
        fields={"item": "item", "annotator": "annotator", "label": "label"},
        label_fields=None,
        extra={},
    )
    locator = Locator("<labels>", lambda row: row + 1, "row")
    try:
        encode(raw, schema, locator)
    except InputError as error:
        if error.line is None or error.field != "label":
            raise
        return error.line - 1, str(error.expected)
    return None


def _duplicates(
    item: pa.ChunkedArray, annotator: pa.ChunkedArray, valid: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Later repeats of an (item, annotator) pair among valid entries, and their first entry."""
    entries = np.flatnonzero(valid)
    if entries.size < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    keep = pa.array(valid)
    item_codes = _codes(item.filter(keep))
    annotator_codes = _codes(annotator.filter(keep))
    key = item_codes * (int(annotator_codes.max()) + 1) + annotator_codes
    order = np.argsort(key, kind="stable")
    repeated = np.flatnonzero(key[order][1:] == key[order][:-1]) + 1
    if repeated.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    run_start = np.maximum.accumulate(
        np.where(np.r_[True, key[order][1:] != key[order][:-1]], np.arange(order.size), 0)
    )
    later = entries[order[repeated]]
    first = entries[order[run_start[repeated]]]
    sort = np.argsort(later)
    return later[sort], first[sort]


def _codes(column: pa.ChunkedArray) -> np.ndarray:
    encoded = pc.dictionary_encode(column).combine_chunks()
    return np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)


def _reject_table(
    problems: list[dict[str, Any]],
    raw: RawColumns,
    columns: dict[str, pa.ChunkedArray],
    lines: np.ndarray,
    source: str,
    unit: str,
) -> pa.Table:
    """One record per problem, sorted by entry then field (input order)."""
    parts = [p for p in problems if p["entries"].size]
    entries = np.concatenate([p["entries"] for p in parts]) if parts else np.zeros(0, np.int64)
    take = pa.array(entries, type=pa.int64())
    values = {name: column.take(take) for name, column in columns.items()}
    field = _flat_fields(parts, raw)
    actual = _actuals(parts, values)
    table = pa.table(
        {
            "entry": pa.array(entries, type=pa.int64()),
            "source": pa.array(np.full(entries.size, source, dtype=object), type=pa.string()),
            "line": pa.array(lines[raw.rows[entries]] if entries.size else [], type=pa.int64()),
            "unit": pa.array(np.full(entries.size, unit, dtype=object), type=pa.string()),
            "field": pa.array(field, type=pa.string()),
            "problem": pa.array(_flat(parts, "problem"), type=pa.string()),
            "expected": pa.array(_flat(parts, "expected"), type=pa.string()),
            "actual": actual,
            **values,
        }
    )
    order = np.lexsort((field.astype(str), entries))
    return table.take(pa.array(order, type=pa.int64()))


def _flat_fields(parts: list[dict[str, Any]], raw: RawColumns) -> np.ndarray:
    if not parts:
        return np.zeros(0, dtype=object)
    return np.concatenate([_repeat(p, "field", raw) for p in parts])


def _repeat(problem: dict[str, Any], key: str, raw: RawColumns) -> np.ndarray:
    """The user's column name per entry (wide files: the annotator column of each label)."""
    name = problem[key]
    if name == "label" and raw.label_fields is not None:
        return np.asarray(raw.label_fields[problem["entries"]], dtype=object)
    if name in raw.fields:
        name = raw.fields[name]
    return np.full(problem["entries"].size, name, dtype=object)


def _flat(parts: list[dict[str, Any]], key: str) -> np.ndarray:
    if not parts:
        return np.zeros(0, dtype=object)
    return np.concatenate([np.full(p["entries"].size, p[key], dtype=object) for p in parts])


def _actuals(parts: list[dict[str, Any]], values: dict[str, pa.ChunkedArray]) -> pa.Array:
    """What was found: a fixed text, per-entry texts, or the field's own value."""
    chunks: list[np.ndarray] = []
    offset = 0
    label = values["label"].to_numpy(zero_copy_only=False) if parts else None
    for part in parts:
        n = part["entries"].size
        actual = part["actual"]
        if actual is None:
            chunks.append(np.asarray(label[offset : offset + n], dtype=object))  # type: ignore[index]
        else:
            chunks.append(np.broadcast_to(np.asarray(actual, dtype=object), (n,)).copy())
        offset += n
    flat = np.concatenate(chunks) if chunks else np.zeros(0, dtype=object)
    return pa.array(flat, type=pa.string())
