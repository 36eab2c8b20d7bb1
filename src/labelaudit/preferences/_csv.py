"""The CSV (TSV, JSONL, JSON, Parquet) reader of preference votes: one row per vote."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from labelaudit.exceptions import InputError
from labelaudit.preferences.columns import from_columns
from labelaudit.preferences.records import PreferenceTable

__all__ = ["read_csv"]


def _column(
    table: pa.Table, requested: str | None, default: str, option: str, source: str
) -> str | None:
    """The column to use: the requested one (must exist) or the default if present."""
    if requested is None:
        return default if default in table.column_names else None
    if requested not in table.column_names:
        raise InputError(
            f"no {option.removeprefix('--').removesuffix('-col')} column",
            source=source,
            field=requested,
            expected=f"a column named {requested!r}",
            actual=", ".join(table.column_names) or "no columns",
            hint=f"pass {option} with one of the columns above",
        )
    return requested


def read_csv(
    path: Path,
    *,
    prompt_col: str | None = None,
    first_col: str | None = None,
    second_col: str | None = None,
    choice_col: str | None = None,
    annotator_col: str | None = None,
    kind_col: str | None = None,
    first_model_col: str | None = None,
    second_model_col: str | None = None,
    gold_col: str | None = None,
    responses_are_ids: bool = False,
    order_known: bool = True,
    kind: str = "human",
    format: str | None = None,
) -> PreferenceTable:
    """A table of votes (CSV, TSV, JSONL, JSON or Parquet): one row per vote.

    Columns (defaults in brackets): prompt [prompt], the responses in the first and second
    slot [first, second] (their texts; ids with ``responses_are_ids``), choice [choice]
    (``first``/``second``/``tie``/``both_bad``, empty = missing), and optionally annotator
    [annotator], kind [kind] (``human``/``judge``), models [first_model, second_model],
    gold [gold]. Other columns are kept as metadata. ``order_known=False`` says the first
    column was not necessarily shown first.
    """
    from labelaudit.table import load_source as _load

    table, locator = _load(path, format)
    name = str(path)
    chosen = {
        "prompt": _column(table, prompt_col, "prompt", "--prompt-col", name),
        "first": _column(table, first_col, "first", "--first-col", name),
        "second": _column(table, second_col, "second", "--second-col", name),
        "choice": _column(table, choice_col, "choice", "--choice-col", name),
        "annotator": _column(table, annotator_col, "annotator", "--annotator-col", name),
        "kind": _column(table, kind_col, "kind", "--kind-col", name),
        "first_model": _column(table, first_model_col, "first_model", "--first-model-col", name),
        "second_model": _column(
            table, second_model_col, "second_model", "--second-model-col", name
        ),
        "gold": _column(table, gold_col, "gold", "--gold-col", name),
    }
    for role in ("prompt", "first", "second", "choice"):
        if chosen[role] is None:
            raise InputError(
                f"no {role} column",
                source=str(path),
                field=f"--{role}-col",
                expected=f"a column named {role!r} or --{role}-col NAME",
                actual=", ".join(table.column_names) or "no columns",
            )
    return _csv_table(table, chosen, locator, responses_are_ids, order_known, kind, str(path))


def _csv_table(
    table: pa.Table,
    chosen: dict[str, str | None],
    locator: Any,
    responses_are_ids: bool,
    order_known: bool,
    kind: str,
    source: str,
) -> PreferenceTable:
    def get(role: str) -> pa.ChunkedArray | None:
        name = chosen[role]
        return None if name is None else table.column(name)

    used = {name for name in chosen.values() if name is not None}
    texts = (None, None) if responses_are_ids else (get("first"), get("second"))
    ids = (get("first"), get("second")) if responses_are_ids else (None, None)
    return from_columns(
        prompt=get("prompt"),
        first=ids[0],
        second=ids[1],
        first_text=texts[0],
        second_text=texts[1],
        choice=get("choice"),
        annotator=get("annotator") if chosen["annotator"] else "unknown",
        kind=get("kind") if chosen["kind"] else kind,
        order_known=order_known,
        first_model=get("first_model"),
        second_model=get("second_model"),
        prompt_text=None if responses_are_ids else get("prompt"),
        gold=get("gold"),
        meta={n: table.column(n) for n in table.column_names if n not in used},
        line_of=locator.line_of,
        unit=locator.unit,
        source=source,
        fields={role: name for role, name in chosen.items() if name is not None},
    )
