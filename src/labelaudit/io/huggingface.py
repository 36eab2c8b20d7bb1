"""A Hugging Face ``datasets.Dataset`` already in memory (duck-typed: no ``datasets`` import).

The dataset's Arrow table is taken through ``with_format("arrow")[:]`` (which honours a
selection or shuffle), else ``to_arrow()``, else ``data.table``; ``features`` gives
ClassLabel names. Three layouts:

- Argilla exports (``to_datasets`` / ``to_hub``): ``<q>.responses`` and
  ``<q>.responses.users`` columns -> read as Argilla records.
- Nested annotators (``hatexplain``): a struct column of equal-length lists, one holding
  annotator ids (``annotator_id``, ``annotator``, ``worker``, ``rater``, ``rater_id``,
  ``user_id``) and one holding labels (``label``, or the field named by ``control``);
  exploded with Arrow list kernels, no Python loop over rows.
- Long (``measuring-hate-speech``, ``go_emotions`` raw): one row per (item, annotator); the
  item column is ``task_key`` (default: an ``item``/``id``-like column), the label column is
  ``control`` (default ``label``).
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from labelaudit.exceptions import InputError
from labelaudit.io._collect import Collector, Options
from labelaudit.io._report import ReadReport
from labelaudit.table import Locator
from labelaudit.table.readers import read_annotations
from labelaudit.table.table import AnnotationTable

__all__ = ["dataset_table", "read_dataset"]

_ANNOTATOR = ("annotator_id", "annotator", "worker", "worker_id", "rater", "rater_id", "user_id")
_ITEM = ("item", "item_id", "id", "comment_id", "post_id", "example_id", "text")
_SOURCE = "<Dataset>"


def dataset_table(dataset: Any) -> pa.Table:
    """The Arrow table behind a Dataset-like object."""
    if hasattr(dataset, "with_format"):
        table = dataset.with_format("arrow")[:]
        if isinstance(table, pa.Table):
            return table
    if hasattr(dataset, "to_arrow"):
        return dataset.to_arrow()
    data = dataset.data
    return data if isinstance(data, pa.Table) else data.table


def _class_names(feature: Any) -> list[str] | None:
    for candidate in (feature, getattr(feature, "feature", None)):
        names = getattr(candidate, "names", None)
        if isinstance(names, list) and names:
            return [str(n) for n in names]
    return None


def _named(labels: pa.Array, names: list[str] | None) -> pa.Array:
    if names is None or not pa.types.is_integer(labels.type):
        return labels
    return pa.array(names, pa.string()).take(labels)


def _first(names: list[str], candidates: tuple[str, ...], what: str, requested: str | None) -> str:
    if requested is not None:
        if requested not in names:
            raise InputError(
                f"no {what} column",
                source=_SOURCE,
                field=requested,
                expected="a column of the dataset",
                actual=", ".join(names),
            )
        return requested
    for name in candidates:
        if name in names:
            return name
    raise InputError(
        f"no {what} column",
        source=_SOURCE,
        expected=f"one of {', '.join(candidates)}",
        actual=", ".join(names),
        hint=f"pass {'task_key' if what == 'item' else 'control'}=COLUMN",
    )


def _nested(table: pa.Table, features: Any, options: Options, task_key: str | None) -> Any:
    """(long table, categories) of a struct-of-lists annotators column, or None."""
    for name in table.column_names:
        column = table.column(name)
        if not pa.types.is_struct(column.type):
            continue
        fields = [column.type.field(i).name for i in range(column.type.num_fields)]
        who = next((f for f in _ANNOTATOR if f in fields), None)
        what = options.control or "label"
        if who is None or what not in fields:
            continue
        merged = column.combine_chunks()
        ids, labels = merged.field(who), merged.field(what)
        parents = pc.list_parent_indices(ids)
        item_col = _first([c for c in table.column_names if c != name], _ITEM, "item", task_key)
        feature = (features or {}).get(name, {})
        names = _class_names(feature.get(what)) if isinstance(feature, dict) else None
        long = pa.table(
            {
                "item": table.column(item_col).combine_chunks().take(parents),
                "annotator": pc.list_flatten(ids),
                "label": _named(pc.list_flatten(labels), names),
            }
        )
        return long, names, f"{name}.{who}", f"{name}.{what}"
    return None


def read_dataset(
    dataset: Any, *, options: Options, task_key: str | None
) -> tuple[AnnotationTable, ReadReport]:
    """Read an in-memory Dataset (see the module docstring for the layouts)."""
    table = dataset_table(dataset)
    features = getattr(dataset, "features", None)
    names = table.column_names
    if any(n.endswith(".responses") for n in names):
        from labelaudit.io.argilla import read_record

        col = Collector(
            _SOURCE, "huggingface", item_field=task_key or "id", annotator_field="users"
        )
        for number, row in enumerate(table.to_pylist(), start=1):
            col.report.n_records += 1
            read_record(col, number, row, task_key, options)
        col.note("Argilla layout (<question>.responses columns)")
        return col.finish(options, Locator(_SOURCE, lambda row: row + 1, "row"))
    nested = _nested(table, features, options, task_key)
    if nested is not None:
        long, categories, who, what = nested
        item_col, annotator_col, label_col = "item", "annotator", "label"
    else:
        item_col = _first(names, _ITEM, "item", task_key)
        annotator_col = _first(names, _ANNOTATOR, "annotator", None)
        label_col = _first(names, ("label",), "label", options.control)
        categories = _class_names((features or {}).get(label_col))
        long = table.set_column(
            names.index(label_col),
            label_col,
            _named(table.column(label_col).combine_chunks(), categories),
        )
        who, what = annotator_col, label_col
    result = read_annotations(
        long,
        item_col=item_col,
        annotator_col=annotator_col,
        label_col=label_col,
        level=options.level or "nominal",
        categories=options.categories if options.categories is not None else categories,
        on_duplicate=options.on_duplicate,
    )
    report = ReadReport(
        source=_SOURCE,
        format="huggingface",
        unit="row",
        n_records=table.num_rows,
        n_annotations=long.num_rows,
        n_rows=result.n_ratings,
        control=what,
        task=result.task,
        schema=result.schema.to_dict(),
        notes=[f"annotators from {who!r}, labels from {what!r}"],
    )
    return result, report
