"""Pairwise judge verdicts as preference votes: both per order and combined per item.

Two :class:`~labelaudit.preferences.records.PreferenceTable` views of the same verdicts:

- **by order**: every verdict line is one vote with a known display order (``first`` was
  shown first). Position bias (first-slot rate, consistency across the two orders), length
  bias and accuracy against gold are computed here -- LLMBar's numbers are per order
  (average accuracy = accuracy over both orders' votes; ``correct_both``; positional
  agreement).
- **combined**: one verdict per judge and item, both orders merged conservatively as in
  FastChat's ``play_a_match_pair`` (Zheng et al. 2023, sec. 3.4): a response wins only if
  it wins in both orders, otherwise the verdict is a tie ("tie (inconsistent)"); with one
  order (``--orders ab``, or the other order failed) that order's verdict. Agreement with
  humans (each judge verdict paired with every human vote, MT-Bench style), with each
  human, with the human consensus, and self-preference use this view.

Human votes come from a long file (``item``, ``annotator``, ``label``) whose label is one of
the item's response ids, ``tie`` or ``both_bad``; their display order is unknown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from labelaudit.exceptions import InputError
from labelaudit.judge.data import Items, read_rows
from labelaudit.judge.definition import JudgeDefinition
from labelaudit.judge.verdicts import VerdictLines
from labelaudit.preferences.records import PreferenceTable

__all__ = [
    "CONSENSUS",
    "PairwiseInputs",
    "agreement_table",
    "build_tables",
    "combined_verdicts",
    "consensus_columns",
    "human_consensus",
    "read_gold_rows",
    "read_pairwise_inputs",
]

CONSENSUS = "human consensus"
_HUMAN_LABELS = ("tie", "both_bad")


@dataclass(frozen=True)
class PairwiseInputs:
    """Validated pairwise inputs, as per-vote columns (object arrays of str).

    ``ids[item] = (a, b)``: the item's two response ids, ``a`` shown first in order ``ab``.
    ``humans``: columns ``item``, ``annotator``, ``label``, ``line``; ``gold``: item ->
    label; ``texts``: (item, response id) -> text; ``ids_are_models``: the response ids
    are model names (Bradley-Terry-style per-model results and self-preference).
    """

    verdicts: VerdictLines
    ids: dict[str, tuple[str, str]]
    humans: dict[str, np.ndarray] | None
    humans_source: str | None
    gold: dict[str, str] | None
    gold_source: str | None
    texts: dict[tuple[str, str], str] | None
    ids_are_models: bool = False


def _ids(verdicts: VerdictLines) -> dict[str, tuple[str, str]]:
    """Each item's (a, b) from its verdict lines; InputError when lines disagree."""
    ids: dict[str, tuple[str, str]] = {}
    for item, order, first, second, line in zip(
        verdicts.item,
        verdicts.order,
        verdicts.first,
        verdicts.second,
        verdicts.lines,
        strict=True,
    ):
        pair = (str(first), str(second)) if order == "ab" else (str(second), str(first))
        known = ids.setdefault(item, pair)
        if known != pair:
            raise InputError(
                "the item's responses differ between verdict lines",
                source=verdicts.source,
                line=line,
                field="first/second",
                expected=f"the responses {known}",
                actual=pair,
            )
    return ids


def _rows_error(source: str, line: int, key: str, expected: str, actual: Any) -> InputError:
    return InputError(
        "invalid row", source=source, line=line, field=key, expected=expected, actual=actual
    )


def _read_humans(path: Path, ids: Mapping[str, tuple[str, str]]) -> dict[str, np.ndarray]:
    """Human votes on judged items; labels must be a response id, tie or both_bad."""
    columns: dict[str, list[Any]] = {"item": [], "annotator": [], "label": [], "line": []}
    seen: set[tuple[str, str]] = set()
    for line, record in read_rows(path):
        values = [record.get(key) for key in ("item", "annotator", "label")]
        for key, value in zip(("item", "annotator", "label"), values, strict=True):
            if value is None or str(value).strip() == "":
                raise _rows_error(str(path), line, key, "a value", value)
        item, annotator, label = (str(v).strip() for v in values)
        if item not in ids:
            continue
        if label not in (*ids[item], *_HUMAN_LABELS):
            expected = f"{ids[item][0]!r}, {ids[item][1]!r}, 'tie' or 'both_bad'"
            raise _rows_error(str(path), line, "label", expected, label)
        if (item, annotator) in seen:
            raise _rows_error(str(path), line, "annotator", "one vote per item", annotator)
        seen.add((item, annotator))
        for key, value in zip(columns, (item, annotator, label, line), strict=True):
            columns[key].append(value)
    if not columns["item"]:
        raise InputError(
            "no human vote on a judged item",
            source=str(path),
            field="item",
            expected="votes on the items of the verdict file",
            actual=0,
        )
    return {key: np.asarray(values, dtype=object) for key, values in columns.items()}


def read_gold_rows(path: Path, ids: Mapping[str, tuple[str, str]] | None = None) -> dict[str, str]:
    """Gold labels ``item -> gold_label`` (or ``label``) of a CSV/JSONL file; with ``ids``,
    pairwise labels are checked to be one of the item's response ids or ``tie``."""
    gold: dict[str, str] = {}
    for line, record in read_rows(path):
        item = str(record.get("item", "")).strip()
        label = record.get("gold_label", record.get("label"))
        if not item or label is None:
            raise _rows_error(str(path), line, "item/gold_label", "an item and its gold", record)
        label = str(label).strip()
        if ids is not None and item in ids and label not in (*ids[item], "tie"):
            expected = f"{ids[item][0]!r}, {ids[item][1]!r} or 'tie'"
            raise _rows_error(str(path), line, "gold_label", expected, label)
        gold[item] = label
    return gold


def _texts(items: Items, judge: JudgeDefinition) -> dict[tuple[str, str], str]:
    out = {}
    for record in items.records:
        ids = (
            tuple(str(record.get(k)) for k in judge.response_ids)
            if judge.response_ids
            else judge.responses
        )
        for response_id, field in zip(ids, judge.responses, strict=True):
            if isinstance(record.get(field), str):
                out[(record["item"], response_id)] = record[field]
    return out


def read_pairwise_inputs(
    verdicts: VerdictLines,
    *,
    humans: str | Path | None = None,
    gold: str | Path | None = None,
    items: Items | None = None,
    judge: JudgeDefinition | None = None,
    ids_are_models: bool = False,
) -> PairwiseInputs:
    """Validate the human votes, gold labels and response texts against the verdicts."""
    ids = _ids(verdicts)
    return PairwiseInputs(
        verdicts=verdicts,
        ids=ids,
        humans=None if humans is None else _read_humans(Path(humans), ids),
        humans_source=None if humans is None else str(humans),
        gold=None if gold is None else read_gold_rows(Path(gold), ids),
        gold_source=None if gold is None else str(gold),
        texts=None if items is None or judge is None else _texts(items, judge),
        ids_are_models=ids_are_models,
    )


def _slot_choice(label: np.ndarray, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Choice in slot terms of labels given as response ids / tie / both_bad / None."""
    return np.select(
        [label == first, label == second, label == "tie", label == "both_bad"],
        ["first", "second", "tie", "both_bad"],
        default="missing",
    ).astype(object)


def _pair(inputs: PairwiseInputs, item: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a = np.array([inputs.ids[i][0] for i in item], dtype=object)
    b = np.array([inputs.ids[i][1] for i in item], dtype=object)
    return a, b


def combined_verdicts(verdicts: VerdictLines) -> dict[str, np.ndarray]:
    """One verdict per (judge, item) from the first repetition's orders (module docstring).

    Returns columns ``judge``, ``item``, ``verdict`` (None when both orders failed),
    ``ab``, ``ba`` (the verdict of each order, None when absent or failed).
    """
    judge = np.asarray(verdicts.judge, dtype=object)
    item = np.asarray(verdicts.item, dtype=object)
    order = np.asarray(verdicts.order, dtype=object)
    verdict = np.asarray(verdicts.verdict, dtype=object)
    first_repeat = np.asarray(verdicts.repeat) == 0
    keys = np.char.add(np.char.add(judge.astype(str), "\x1f"), item.astype(str))
    unique, index, codes = np.unique(keys, return_index=True, return_inverse=True)
    per_order = {}
    for name in ("ab", "ba"):
        values = np.full(unique.size, None, dtype=object)
        rows = np.flatnonzero(first_repeat & (order == name))
        values[codes[rows]] = verdict[rows]
        per_order[name] = values
    ab, ba = per_order["ab"], per_order["ba"]
    merged = np.where(ab == None, ba, np.where(ba == None, ab, np.where(ab == ba, ab, "tie")))  # noqa: E711
    return {"judge": judge[index], "item": item[index], "verdict": merged, "ab": ab, "ba": ba}


Columns = dict[str, Any]


def _join(item: np.ndarray, response: np.ndarray) -> np.ndarray:
    return np.char.add(np.char.add(item.astype(str), "/"), response.astype(str)).astype(object)


def _side_columns(
    inputs: PairwiseInputs, item: np.ndarray, first: np.ndarray, second: np.ndarray
) -> Columns:
    """Response ids, models (= the ids), texts and gold of votes on ``item``."""
    out: Columns = {
        "prompt": item,
        "first": _join(item, first),
        "second": _join(item, second),
        "first_model": first if inputs.ids_are_models else None,
        "second_model": second if inputs.ids_are_models else None,
    }
    if inputs.texts is not None:
        texts = inputs.texts
        out["first_text"] = [texts.get((i, r)) for i, r in zip(item, first, strict=True)]
        out["second_text"] = [texts.get((i, r)) for i, r in zip(item, second, strict=True)]
    if inputs.gold is not None:
        gold = np.array([inputs.gold.get(i) for i in item], dtype=object)
        out["gold"] = np.where(gold == None, "", _slot_choice(gold, first, second))  # noqa: E711
    return out


def _judge_by_order(inputs: PairwiseInputs) -> Columns:
    v = inputs.verdicts
    rows = np.flatnonzero(np.asarray(v.repeat) == 0)
    item = np.asarray(v.item, dtype=object)[rows]
    first = np.asarray(v.first, dtype=object)[rows]
    second = np.asarray(v.second, dtype=object)[rows]
    verdict = np.asarray(v.verdict, dtype=object)[rows]
    return _side_columns(inputs, item, first, second) | {
        "choice": _slot_choice(verdict, first, second),
        "annotator": np.asarray(v.judge, dtype=object)[rows],
        "kind": "judge",
        "order_known": True,
        "lines": np.asarray(v.lines)[rows],
    }


def _judge_combined(inputs: PairwiseInputs, merged: dict[str, np.ndarray]) -> Columns:
    item = merged["item"]
    a, b = _pair(inputs, item)
    return _side_columns(inputs, item, a, b) | {
        "choice": _slot_choice(merged["verdict"], a, b),
        "annotator": merged["judge"],
        "kind": "judge",
        "order_known": False,
        "lines": np.zeros(item.size, dtype=np.int64),
    }


def _humans(inputs: PairwiseInputs) -> Columns | None:
    if inputs.humans is None:
        return None
    item = inputs.humans["item"]
    a, b = _pair(inputs, item)
    return _side_columns(inputs, item, a, b) | {
        "choice": _slot_choice(inputs.humans["label"], a, b),
        "annotator": inputs.humans["annotator"],
        "kind": "human",
        "order_known": False,
        "lines": inputs.humans["line"].astype(np.int64),
    }


def _concat(parts: list[Columns]) -> Columns:
    out: Columns = {}
    for key in parts[0]:
        values = []
        for part in parts:
            size = len(part["choice"])
            value = part.get(key)
            if isinstance(value, (str, bool)):
                value = np.full(size, value, dtype=object)
            values.append(np.asarray(value if value is not None else [None] * size, dtype=object))
        out[key] = np.concatenate(values)
    out["order_known"] = out["order_known"].astype(bool)
    out["lines"] = out["lines"].astype(np.int64)
    return out


def _table(parts: list[Columns], source: str, notes: list[str]) -> PreferenceTable:
    from labelaudit.preferences.columns import from_columns

    columns = _concat([p for p in parts if p is not None])
    unit = "line"
    return from_columns(**columns, source=source, notes=notes, unit=unit)


def build_tables(inputs: PairwiseInputs) -> tuple[PreferenceTable, PreferenceTable, Columns]:
    """The by-order and the combined vote tables (module docstring), and the combined
    judge columns (reused to add the human consensus)."""
    source = inputs.verdicts.source
    merged = combined_verdicts(inputs.verdicts)
    combined_columns = _judge_combined(inputs, merged)
    humans = _humans(inputs)
    parts_by_order = [_judge_by_order(inputs)] + ([humans] if humans else [])
    by_order = _table(parts_by_order, source, [])
    combined = _table(
        [combined_columns] + ([humans] if humans else []),
        source,
        ["both presentation orders merged per item (FastChat's rule)"],
    )
    return by_order, combined, combined_columns


def human_consensus(table: PreferenceTable) -> dict[str, np.ndarray]:
    """Majority of the human votes on each item, in item terms.

    Returns arrays over item codes: ``outcome`` (0 ``lo`` wins, 1 ``hi`` wins, 2 tie; -1
    when the top count is shared or no human voted), ``confidence`` (top share) and
    ``n_votes``. ``both_bad`` counts as a tie; missing votes are left out.
    """
    human = (table.kinds() == "human") & (table.outcome >= 0)
    n_items = table.n_items
    counts = np.bincount(
        table.item_codes[human] * 3 + table.outcome[human], minlength=3 * n_items
    ).reshape(n_items, 3)
    top, n = counts.max(axis=1), counts.sum(axis=1)
    unique = ((counts == top[:, None]).sum(axis=1) == 1) & (n > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        confidence = np.where(n > 0, top / np.maximum(n, 1), np.nan)
    return {
        "outcome": np.where(unique, counts.argmax(axis=1), -1),
        "confidence": confidence,
        "n_votes": n,
    }


def consensus_columns(table: PreferenceTable, consensus: dict[str, np.ndarray]) -> Columns:
    """The human consensus as votes of one human annotator (items with a consensus)."""
    lo = np.zeros(table.n_items, dtype=np.int64)
    hi = np.zeros(table.n_items, dtype=np.int64)
    lo[table.item_codes], hi[table.item_codes] = table.lo, table.hi
    keep = np.flatnonzero(consensus["outcome"] >= 0)
    outcome = consensus["outcome"][keep]
    responses = np.asarray(table.responses, dtype=object)
    models = np.asarray(table.models, dtype=object)
    first, second = lo[keep], hi[keep]

    def model(codes: np.ndarray) -> np.ndarray:
        model_codes = table.response_model[codes]
        out = np.full(codes.size, None, dtype=object)
        known = model_codes >= 0
        out[known] = models[model_codes[known]]
        return out

    return {
        "prompt": np.asarray(table.prompts, dtype=object)[table.item_prompt[keep]],
        "first": responses[first],
        "second": responses[second],
        "first_model": model(first),
        "second_model": model(second),
        "choice": np.array(["first", "second", "tie"], dtype=object)[outcome],
        "annotator": CONSENSUS,
        "kind": "human",
        "order_known": False,
        "lines": np.zeros(keep.size, dtype=np.int64),
    }


AGREEMENT_KEYS = (
    "prompt",
    "first",
    "second",
    "first_model",
    "second_model",
    "choice",
    "annotator",
    "kind",
    "order_known",
    "lines",
)


def agreement_table(parts: list[Columns], source: str) -> PreferenceTable:
    """A table of the given vote columns restricted to what agreement needs (no texts)."""
    return _table([{k: p[k] for k in AGREEMENT_KEYS} for p in parts], source, [])
