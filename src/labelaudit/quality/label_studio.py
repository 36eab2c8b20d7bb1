"""Label Studio import file for an adjudication project (writer only).

Each queued item becomes one task in Label Studio's JSON import format (a JSON array of
tasks; see the Label Studio docs "Import pre-annotated data"):

.. code-block:: json

    {"data": {"item": "i7", "text": "..."},
     "meta": {"reason": "tie", "consensus_label": null, "confidence": 0.5,
              "method": "majority"},
     "predictions": [
        {"model_version": "alice",
         "result": [{"id": "c0", "from_name": "label", "to_name": "text",
                     "type": "choices", "value": {"choices": ["pos"]}}]},
        ...]}

Every annotator's answer is one prediction whose ``model_version`` is the annotator's
name, so the adjudicator can switch between all candidates. ``from_name`` / ``to_name``
must match the project's labelling config (``<Choices name=... toName=...>``); every label
must be a ``<Choice value=...>`` of it: :func:`label_config` writes a matching config.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from labelaudit.exceptions import InputError, UsageError
from labelaudit.quality.adjudicate import AdjudicationQueue
from labelaudit.table.table import AnnotationTable

__all__ = [
    "export_label_studio",
    "item_fields",
    "label_config",
    "label_studio_path",
    "label_studio_tasks",
    "write_label_studio",
]


def item_fields(table: AnnotationTable, columns: Sequence[str]) -> pa.Table:
    """The first value of each column on each item's rows, one row per item (code order).

    Parameters
    ----------
    table : AnnotationTable
    columns : sequence of str
        Columns carried along in ``table.data`` (e.g. the item text).

    Returns
    -------
    pyarrow.Table
        ``len(columns)`` columns, ``n_items`` rows, types as in the table.

    Raises
    ------
    InputError
        A column the table does not carry.
    """
    names = table.data.column_names
    for column in columns:
        if column not in names or column in ("item", "annotator", "label"):
            raise InputError(
                "no such data column",
                source=table.source,
                field=column,
                expected="a column of the annotation file besides item, annotator and label",
                actual=", ".join(n for n in names if n not in ("item", "annotator", "label"))
                or "no other columns",
                hint="check --text-col",
            )
    first = np.full(table.n_items, table.n_ratings, dtype=np.int64)
    np.minimum.at(first, table.item_codes, np.arange(table.n_ratings))
    return table.data.select(list(columns)).take(pa.array(first))


def label_studio_tasks(
    queue: AdjudicationQueue,
    *,
    from_name: str = "label",
    to_name: str = "text",
    fields: pa.Table | None = None,
) -> list[dict[str, Any]]:
    """Label Studio tasks, one per queued item, each candidate label as a prediction.

    Parameters
    ----------
    queue : AdjudicationQueue
    from_name, to_name : str
        Names of the ``<Choices>`` control and of the object it labels in the project's
        labelling config.
    fields : pyarrow.Table, optional
        Per-item data columns in table item-code order (:func:`item_fields`); copied into
        each task's ``data`` beside ``item``.

    Returns
    -------
    list of dict
        JSON-ready tasks ``{"data", "meta", "predictions"}``.
    """
    for name, value in (("from_name", from_name), ("to_name", to_name)):
        if not isinstance(value, str) or not value.strip():
            raise UsageError(f"{name} must be a non-empty string; got {value!r}")
    rows = fields.take(pa.array(queue.item_codes)).to_pylist() if fields is not None else None
    tasks = []
    for index, entry in enumerate(queue.entries):  # serialisation: one task per queued item
        data: dict[str, Any] = {"item": entry["item"]}
        if rows is not None:
            data.update(rows[index])
        predictions = [
            {
                "model_version": candidate["annotator"],
                "result": [
                    {
                        "id": f"c{position}",
                        "from_name": from_name,
                        "to_name": to_name,
                        "type": "choices",
                        "value": {"choices": [candidate["label"]]},
                    }
                ],
            }
            for position, candidate in enumerate(entry["candidates"])
        ]
        meta = {
            "reason": entry["reason"],
            "consensus_label": entry["consensus_label"],
            "confidence": entry["confidence"],
            "method": queue.method,
        }
        tasks.append({"data": data, "meta": meta, "predictions": predictions})
    return tasks


def write_label_studio(tasks: list[dict[str, Any]], path: str | Path) -> Path:
    """Write the tasks as one JSON array (UTF-8, no NaN) and return the path."""
    target = Path(path)
    target.write_text(
        json.dumps(tasks, ensure_ascii=False, allow_nan=False, indent=1) + "\n", encoding="utf-8"
    )
    return target


def label_config(
    categories: Sequence[str],
    *,
    from_name: str = "label",
    to_name: str = "text",
    text_field: str = "text",
) -> str:
    """A Label Studio labelling config matching :func:`label_studio_tasks` output.

    Parameters
    ----------
    categories : sequence of str
        The table's categories (``table.categories``); each becomes a ``<Choice>``.
    from_name, to_name : str
        Control and object names (as passed to :func:`label_studio_tasks`).
    text_field : str
        The ``data`` key the ``<Text>`` object shows (``$text_field``).

    Returns
    -------
    str
        XML; every name and label is an escaped attribute value.
    """
    from xml.sax.saxutils import quoteattr  # here: it imports urllib, http and ssl

    choices = "\n".join(f"    <Choice value={quoteattr(str(c))}/>" for c in categories)
    return (
        "<View>\n"
        f"  <Text name={quoteattr(to_name)} value={quoteattr('$' + text_field)}/>\n"
        f'  <Choices name={quoteattr(from_name)} toName={quoteattr(to_name)} choice="single">\n'
        f"{choices}\n"
        "  </Choices>\n"
        "</View>\n"
    )


def label_studio_path(out: str | Path | None, ls_out: str | Path | None) -> Path:
    """Where the Label Studio file goes: ``ls_out``, else ``OUT`` with ``.label-studio.json``.

    Raises
    ------
    UsageError
        Neither path was given.
    """
    if ls_out is not None:
        return Path(ls_out)
    if out is None:
        raise UsageError("--label-studio needs --out or --ls-out to name the import file")
    return Path(out).with_suffix(".label-studio.json")


def export_label_studio(
    queue: AdjudicationQueue,
    table: AnnotationTable,
    path: str | Path,
    from_name: str = "label",
    to_name: str = "text",
    text_cols: Sequence[str] = (),
) -> Path:
    """Build the tasks of ``queue`` (with ``text_cols`` as task data) and write them."""
    fields = item_fields(table, text_cols) if text_cols else None
    tasks = label_studio_tasks(queue, from_name=from_name, to_name=to_name, fields=fields)
    return write_label_studio(tasks, path)
