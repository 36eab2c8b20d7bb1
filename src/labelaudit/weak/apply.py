"""Apply labeling functions to records: the label matrix as a canonical annotation table.

Each LF is an annotator of kind ``function`` (the ``annotator_kind`` column); an abstain
is an absent row, so every agreement, consensus and report of labelaudit works on LF
votes unchanged. Records come as a pandas DataFrame, a pyarrow Table, a list of dicts or
a file (CSV, TSV, JSONL, JSON array, Parquet).

Vectorised LFs run once per batch; per-record LFs once per record. Outputs are mapped to
label codes with one hash lookup per LF (no Python loop over rows for vectorised LFs).
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from labelaudit.exceptions import InputError, UsageError
from labelaudit.table import AnnotationTable, natural_order, read_annotations
from labelaudit.weak.lf import ABSTAIN, LabelingFunction, Record

__all__ = [
    "ON_ERROR",
    "apply_lfs",
    "check_lfs",
    "label_matrix",
    "lf_run_summary",
    "load_lfs",
    "records_frame",
    "votes_table",
]

#: What an LF that raises does: stop with the record (``raise``) or count as abstain.
ON_ERROR = ("raise", "abstain")
#: Characters of a record's fields shown in an error message.
_FIELDS_CHARS = 300


def records_frame(data: Any) -> tuple[Any, str]:
    """``data`` as a pandas DataFrame and a name for messages.

    Parameters
    ----------
    data : DataFrame, pyarrow.Table, list of dict, or path
        Records; a path is read by :func:`labelaudit.table.load_source` (CSV, TSV, JSONL,
        JSON array, Parquet).
    """
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data.reset_index(drop=True), "<DataFrame>"
    if isinstance(data, pa.Table):
        return data.to_pandas(), "<Table>"
    if isinstance(data, (str, Path)):
        from labelaudit.table import load_source

        raw, locator = load_source(data, None)
        return raw.to_pandas(), locator.source
    if isinstance(data, Sequence) and all(isinstance(r, dict) for r in data):
        return pd.DataFrame.from_records(list(data)), "<records>"
    raise UsageError(
        "records must be a pandas DataFrame, a pyarrow Table, a list of dicts or a file path; "
        f"got {type(data).__name__}"
    )


@dataclass
class _Run:
    """One LF over the records: what it needs to report errors precisely."""

    lf: LabelingFunction
    frame: Any
    ids: np.ndarray | None
    source: str
    on_error: str
    errors: int = 0
    first_row: int = 0

    def fail(self, row: int, error: BaseException) -> InputError:
        """The error naming the LF, the exception and record ``row`` (number, id, fields)."""
        fields = repr(dict(self.frame.iloc[row].to_dict()))
        if len(fields) > _FIELDS_CHARS:
            fields = fields[:_FIELDS_CHARS] + "…"
        return InputError(
            f"labeling function {self.lf.name!r} raised {type(error).__name__}: {error}",
            source=self.source,
            line=self.first_row + row + 1,
            unit="record",
            field=f"item {self.item(row)}",
            actual=fields,
            hint="fix the function, or count such records as abstain (--on-error abstain)",
        )

    def item(self, row: int) -> str:
        """The item name of record ``row``."""
        return str(self.first_row + row) if self.ids is None else str(self.ids[row])

    def per_record(self) -> list[Any]:
        """The LF's output on each record in turn (None where it raised, if allowed)."""
        out: list[Any] = []
        for row, values in enumerate(self.frame.to_dict("records")):
            try:
                out.append(self.lf(Record(values)))
            except Exception as error:  # an LF is user code: any exception is its failure
                if self.on_error == "raise":
                    raise self.fail(row, error) from error
                self.errors += 1
                out.append(None)
        return out

    def batch(self, low: int, high: int) -> Any:
        """Outputs of rows ``low:high`` (the LF's own array-like when it succeeds); on
        failure bisect to the rows that raise (then a list)."""
        part = self.frame.iloc[low:high]
        try:
            return _as_list(self.lf(part), high - low, self.lf.name)
        except (InputError, UsageError):
            raise
        except Exception as error:
            if high - low == 1:
                if self.on_error == "raise":
                    raise self.fail(low, error) from error
                self.errors += 1
                return [None]
            middle = (low + high) // 2
            return _listed(self.batch(low, middle)) + _listed(self.batch(middle, high))


def _listed(values: Any) -> list[Any]:
    """Outputs as a list (NaN of a float array kept; only on the bisection path)."""
    return list(np.asarray(values, dtype=object)) if not isinstance(values, list) else values


def _as_list(values: Any, n: int, name: str) -> Any:
    """A vectorised LF's output as a sequence of n values (UsageError on a wrong length)."""
    size = len(values) if hasattr(values, "__len__") else -1
    if size != n:
        raise UsageError(
            f"labeling function {name!r} is vectorized and must return one label per row: "
            f"got {size if size >= 0 else type(values).__name__} for {n} rows"
        )
    return values


def _by_value(values: Any, labels: Sequence[Any]) -> np.ndarray:
    """Codes of ``values`` matched to ``labels`` as numbers when both are numeric, else as
    text (-1 where neither matches)."""
    import pandas as pd

    numbers = pd.to_numeric(pd.Series([str(label) for label in labels]), errors="coerce")
    codes = np.full(len(values), -1, dtype=np.int64)
    if not numbers.isna().any() and numbers.is_unique:
        as_numbers = pd.to_numeric(values, errors="coerce")
        codes = np.asarray(pd.Index(numbers).get_indexer(as_numbers), dtype=np.int64)
    rest = np.flatnonzero(codes < 0)
    text = pd.Index([str(label) for label in labels])
    codes[rest] = text.get_indexer(values.iloc[rest].astype(str))
    return codes


def _numeric_codes(values: np.ndarray, labels: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    """(codes, abstain) of a numeric output array: -1 and NaN abstain; a value matches the
    label whose text is that number (1 and 1.0 match "1"); -2 where nothing matches."""
    abstain = values == ABSTAIN
    if values.dtype.kind == "f":
        abstain |= np.isnan(values)
    codes = np.full(values.shape, -2, dtype=np.int64)
    numbers = _label_numbers(labels)
    if numbers is not None:
        order = np.argsort(numbers, kind="stable")
        keys = numbers[order]
        position = np.clip(np.searchsorted(keys, values), 0, keys.size - 1)
        found = keys[position] == values
        codes[found] = order[position[found]]
    codes[abstain] = -1
    return codes, abstain


def _label_numbers(labels: Sequence[Any]) -> np.ndarray | None:
    """The labels as float64 when each one reads as a distinct number, else None."""
    try:
        numbers = np.array([float(str(label)) for label in labels], dtype=np.float64)
    except ValueError:
        return None
    return numbers if np.unique(numbers).size == numbers.size else None


def _object_codes(values: Any, labels: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    """(codes, abstain) of any other output: None / NaN / -1 abstain; labels match by
    equality, then by number, then by text; -2 where nothing matches."""
    import pandas as pd

    series = pd.Series(np.asarray(values, dtype=object))
    abstain = np.array(series.isna(), dtype=bool)
    abstain |= np.array(series.eq(ABSTAIN).fillna(False), dtype=bool)
    codes = np.asarray(pd.Index(list(labels), dtype=object).get_indexer(series), dtype=np.int64)
    missing = (codes < 0) & ~abstain
    if missing.any():  # e.g. 1 or 1.0 for the label "1"
        rows = np.flatnonzero(missing)
        codes[rows] = _by_value(series.iloc[rows], labels)
    codes[(codes < 0) & ~abstain] = -2
    codes[abstain] = -1
    return codes, abstain


def _codes(values: Any, labels: Sequence[Any], run: _Run) -> np.ndarray:
    """Label codes (int16, -1 = abstain) of one LF's outputs; InputError on a label
    outside ``labels`` (naming the LF, the value and the record). A numeric array takes a
    vectorised path; other outputs one hash lookup."""
    array = values.to_numpy() if hasattr(values, "to_numpy") else values
    if isinstance(array, np.ndarray) and array.dtype.kind in "iuf":
        codes, _ = _numeric_codes(array, labels)
    else:
        codes, _ = _object_codes(array, labels)
    if bool((codes == -2).any()):
        row = int(np.flatnonzero(codes == -2)[0])
        raise InputError(
            f"labeling function {run.lf.name!r} returned a label outside the declared set",
            source=run.source,
            line=run.first_row + row + 1,
            unit="record",
            field=f"item {run.item(row)}",
            expected="one of " + ", ".join(repr(label) for label in labels) + " or None",
            actual=np.asarray(array, dtype=object)[row],
        )
    return codes.astype(np.int16)


def apply_lfs(
    lfs: Sequence[LabelingFunction],
    data: Any,
    *,
    labels: Sequence[Any],
    id_col: str | None = None,
    on_error: str = "raise",
) -> AnnotationTable:
    """Run every LF on every record; the votes as a canonical annotation table.

    Parameters
    ----------
    lfs : sequence of LabelingFunction
        Distinct names (each becomes an annotator of kind ``function``).
    data : DataFrame, pyarrow.Table, list of dict, or path
        The records (see :func:`records_frame`).
    labels : sequence
        The declared label set, in order (the table's categories, as text).
    id_col : str, optional
        Column naming each record (the item); default the record's 0-based position.
    on_error : {"raise", "abstain"}
        An LF that raises: stop with an InputError naming the LF, the record number, its
        item and fields; or count the record as abstained (counts in
        ``table.report["lf_errors"]``).

    Returns
    -------
    AnnotationTable
        One row per non-abstain vote: ``item``, ``annotator`` (LF name), ``label``,
        ``annotator_kind`` = ``function``. ``report`` holds ``n_records`` (records
        including those no LF voted on: coverage is relative to them),
        ``labeling_functions`` (names in order) and ``lf_errors`` (name -> records
        counted as abstain because the LF raised).

    Raises
    ------
    UsageError
        No LF, duplicate names, an empty label set, a bad ``on_error``, a vectorised LF
        returning the wrong number of labels.
    InputError
        An LF raised (``on_error="raise"``) or returned a label outside ``labels``; or
        ``id_col`` is missing or repeats an id.
    """
    codes, errors, ids, source = label_matrix(
        lfs, data, labels=labels, id_col=id_col, on_error=on_error
    )
    table = votes_table(codes, ids, [lf.name for lf in lfs], labels, source=source)
    table.report["lf_errors"] = errors
    return table


def label_matrix(
    lfs: Sequence[LabelingFunction],
    data: Any,
    *,
    labels: Sequence[Any],
    id_col: str | None = None,
    on_error: str = "raise",
    first_row: int = 0,
    source: str | None = None,
) -> tuple[np.ndarray, dict[str, int], np.ndarray | None, str]:
    """The dense label matrix (n_records, n_lfs) of codes (-1 = abstain), the errors
    counted per LF, the item ids (None: record numbers) and the data's name (see
    :func:`apply_lfs` for the parameters and errors). ``first_row``: number of the
    first record when ``data`` is a batch of a larger source (its record numbers and
    error lines count from there); ``source`` names that source in errors."""
    check_lfs(lfs, labels, on_error)
    frame, found = records_frame(data)
    source = source or found
    ids = _ids(frame, id_col, source)
    codes = np.full((len(frame), len(lfs)), -1, dtype=np.int16)
    errors: dict[str, int] = {}
    for j, lf in enumerate(lfs):
        run = _Run(lf, frame, ids, source, on_error, first_row=first_row)
        values = run.batch(0, len(frame)) if lf.vectorized else run.per_record()
        if len(frame) == 0:
            continue
        codes[:, j] = _codes(values, labels, run)
        errors[lf.name] = run.errors
    return codes, errors, ids, source


def check_lfs(lfs: Sequence[LabelingFunction], labels: Sequence[Any], on_error: str) -> None:
    """UsageError unless ``lfs`` are distinct labeling functions, ``labels`` a non-empty
    list of distinct labels and ``on_error`` one of :data:`ON_ERROR`."""
    if on_error not in ON_ERROR:
        raise UsageError(f"on_error must be 'raise' or 'abstain'; got {on_error!r}")
    if not lfs:
        raise UsageError("no labeling functions given")
    names = [lf.name for lf in lfs]
    for lf in lfs:
        if not isinstance(lf, LabelingFunction):
            raise UsageError(
                f"{lf!r} is not a labeling function (decorate it with @labeling_function)"
            )
    if len(set(names)) < len(names):
        twice = next(n for n in names if names.count(n) > 1)
        raise UsageError(f"two labeling functions are named {twice!r}: names must be distinct")
    if len(labels) == 0 or len({str(label) for label in labels}) < len(labels):
        raise UsageError("labels must be a non-empty list of distinct labels")


def _ids(frame: Any, id_col: str | None, source: str) -> np.ndarray | None:
    """Item name of each record: ``id_col`` as text, else None (the 0-based row number)."""
    if id_col is None:
        return None
    if id_col not in frame.columns:
        raise InputError(
            "missing id column", source=source, line=1, field=id_col,
            expected=f"a column named {id_col!r}", actual=", ".join(map(str, frame.columns)),
        )  # fmt: skip
    ids = frame[id_col].astype(str).str.strip().to_numpy(dtype=object)
    _, first, counts = np.unique(ids, return_index=True, return_counts=True)
    if bool((counts > 1).any()):
        row = int(np.setdiff1d(np.arange(ids.size), first).min())
        raise InputError(
            "record id repeated", source=source, line=row + 1, unit="record", field=id_col,
            expected="one record per id", actual=ids[row],
        )  # fmt: skip
    return ids


def votes_table(
    codes: np.ndarray,
    ids: np.ndarray | None,
    names: Sequence[str],
    labels: Sequence[Any],
    *,
    source: str = "<labeling functions>",
) -> AnnotationTable:
    """The canonical table of a label matrix (what :func:`read_annotations` would give for
    its votes, built from the codes without re-parsing them).

    Parameters
    ----------
    codes : ndarray of int, shape (n_records, n_lfs)
        Label codes in ``labels`` order, -1 = abstain.
    ids : ndarray of str, shape (n_records,), or None
        Item names (distinct, non-empty); None = the record numbers ``0``..``n - 1``.
    names : sequence of str, length n_lfs
        Annotator (LF) names, distinct.
    labels : sequence
        The label set (categories, as text).

    Raises
    ------
    InputError
        No vote at all, or ``ids`` with an empty or repeated name.
    """
    rows, cols = np.nonzero(codes >= 0)
    if rows.size == 0:
        raise InputError(
            "no labeling function voted on any record", source=source,
            expected="at least one non-abstain vote", actual="every vote abstained",
        )  # fmt: skip
    shape = _shape(names, labels)
    covered = np.zeros(codes.shape[0], dtype=bool)
    covered[rows] = True
    kept = np.flatnonzero(covered)
    if ids is None:  # record numbers: their natural order is their order
        items, rank = kept.astype(str).astype(object), np.arange(kept.size)
    else:
        items, rank = _item_order(np.asarray(ids, dtype=object)[kept], kept, source)
    item_codes = rank[(np.cumsum(covered) - 1)[rows]]
    annotator_codes = _positions(shape.annotators, names)[cols]
    label_codes = codes[rows, cols].astype(np.int64)
    data = pa.table(
        {
            "item": pa.array(items, pa.string()).take(pa.array(item_codes)),
            "annotator": pa.array(shape.annotators, pa.string()).take(pa.array(annotator_codes)),
            "label": pa.array(shape.categories, pa.string()).take(pa.array(label_codes)),
            "annotator_kind": pa.array(["function"]).take(pa.array(np.zeros(rows.size, np.int32))),
        }
    )
    report = {"duplicates_replaced": 0, "warnings": list(shape.report.get("warnings", []))}
    report |= {"n_records": int(codes.shape[0]), "labeling_functions": [str(n) for n in names]}
    return AnnotationTable(
        data=data, schema=shape.schema, items=items, annotators=shape.annotators,
        categories=shape.categories, category_values=shape.category_values,
        item_codes=item_codes, annotator_codes=annotator_codes, label_codes=label_codes,
        source=source, report=report, category_scale=shape.category_scale,
    )  # fmt: skip


def _shape(names: Sequence[str], labels: Sequence[Any]) -> AnnotationTable:
    """A small table with every LF and label once: the reader's LF order, categories,
    category values and scale for these names (one home for those rules)."""
    m, q = len(names), len(labels)
    return read_annotations(
        pa.table(
            {
                "item": np.arange(m * q).astype(str),
                "annotator": np.tile(np.asarray([str(n) for n in names], dtype=object), q),
                "label": np.repeat(np.asarray([str(x) for x in labels], dtype=object), m),
            }
        ),
        categories=[str(x) for x in labels],
    )


def _item_order(ids: np.ndarray, records: np.ndarray, source: str) -> tuple[np.ndarray, np.ndarray]:
    """(items in the reader's natural order, each covered record's rank) of given ids."""
    names = pa.array(ids, type=pa.string())
    order = natural_order(names)
    rank = np.empty(ids.size, dtype=np.int64)
    rank[order] = np.arange(ids.size)
    items = ids[order]
    blank = np.flatnonzero(np.char.str_len(items.astype(str)) == 0)
    repeated = np.flatnonzero(items[1:] == items[:-1])
    for bad, problem in ((blank, "empty record id"), (repeated, "record id repeated")):
        if len(bad):
            row = int(records[order[bad[0]]])
            raise InputError(
                problem, source=source, line=row + 1, unit="record",
                expected="one distinct, non-empty id per record", actual=str(items[bad[0]]),
            )  # fmt: skip
    return items, rank


def _positions(sorted_names: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """Position of each of ``names`` in ``sorted_names`` (every name is there once)."""
    lookup = {str(name): code for code, name in enumerate(sorted_names)}
    return np.array([lookup[name] for name in names], dtype=np.int64)


def load_lfs(path: str | Path) -> tuple[list[LabelingFunction], list[Any] | None]:
    """Every :class:`LabelingFunction` defined at the top level of a Python file, in
    definition order, and the file's ``LABELS`` list when it declares one (the file is
    executed as a module: only run files you trust).

    Raises
    ------
    UsageError
        The file does not exist, fails to import (the error is named) or defines no LF.
    """
    file = Path(path)
    if not file.is_file():
        raise UsageError(f"{file}: no such file (a Python file defining labeling functions)")
    spec = importlib.util.spec_from_file_location(f"labelaudit_lfs_{file.stem}", file)
    if spec is None or spec.loader is None:
        raise UsageError(f"{file}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # user code: report any failure as one line
        raise UsageError(f"{file}: importing it failed: {type(error).__name__}: {error}") from error
    found = [v for v in vars(module).values() if isinstance(v, LabelingFunction)]
    if not found:
        raise UsageError(f"{file}: defines no @labeling_function")
    labels = getattr(module, "LABELS", None)
    return found, None if labels is None else list(labels)


def lf_run_summary(table: AnnotationTable) -> dict[str, Any]:
    """What an :func:`apply_lfs` run produced, JSON-ready: ``n_records``, ``n_lfs``,
    ``n_votes``, ``n_items_voted`` and per LF (in definition order) ``lf``, ``n_votes``,
    ``coverage`` (share of records) and ``errors`` (records abstained because it raised)."""
    names = list(table.report.get("labeling_functions") or table.annotators.astype(str))
    n_records = int(table.report.get("n_records") or table.n_items)
    votes = np.bincount(table.annotator_codes, minlength=table.n_annotators)
    by_name = dict(zip(table.annotators.astype(str), votes.tolist(), strict=True))
    errors = table.report.get("lf_errors") or {}
    return {
        "n_records": n_records,
        "n_lfs": len(names),
        "n_votes": table.n_ratings,
        "n_items_voted": table.n_items,
        "labeling_functions": [
            {
                "lf": name,
                "n_votes": int(by_name.get(name, 0)),
                "coverage": by_name.get(name, 0) / max(n_records, 1),
                "errors": int(errors.get(name, 0)),
            }
            for name in names
        ],
    }
