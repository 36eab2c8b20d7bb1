"""The adjudication queue: the items a person should decide, with every candidate label.

An item is queued when its consensus is tied (reason ``"tie"``) or its confidence is
below the threshold (reason ``"low_confidence"``). Entries are ordered ties first, then by
confidence (lowest first), then by item code. Each entry lists every annotator's label on
the item (candidates ordered by annotator code). Records are built column-wise with
pyarrow (no Python loop over items or rows); :func:`write_jsonl` writes one JSON object
per line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from labelaudit.exceptions import UsageError
from labelaudit.quality.items import ItemReport, item_report
from labelaudit.results import Displayable
from labelaudit.table.table import AnnotationTable

__all__ = [
    "LABEL_ERROR",
    "REASONS",
    "AdjudicationQueue",
    "adjudication_queue",
    "queue_of",
    "with_label_errors",
    "write_jsonl",
    "write_queue",
]

#: Why an item is queued, in priority order.
REASONS: tuple[str, ...] = ("tie", "low_confidence")
#: Reason of the items ``labelaudit label-errors`` flagged (counted in ``by_reason`` when present).
LABEL_ERROR = "label_error"


@dataclass(frozen=True)
class AdjudicationQueue(Displayable):
    """Items to adjudicate; ``to_dict()`` is the JSON contract (``docs/quality.md``).

    Attributes
    ----------
    method : str
        Aggregator whose consensus and confidence decided the queue.
    threshold : float
        Items with confidence strictly below it are queued.
    n_items : int
        Items in the table.
    entries : list of dict
        ``{"item", "reason", "consensus_label", "confidence", "candidates":
        [{"annotator", "label"}, ...]}`` per queued item, in queue order.
    item_codes : ndarray of int64
        Table code of each entry's item (to join other per-item data).
    reasons : ndarray of str
        Reason of each entry.
    """

    method: str
    threshold: float
    n_items: int
    entries: list[dict[str, Any]]
    item_codes: np.ndarray = field(repr=False)
    reasons: np.ndarray = field(repr=False)

    @property
    def by_reason(self) -> dict[str, int]:
        """Queued items per reason (every reason of :data:`REASONS` listed, zeros included;
        then any other reason present, e.g. ``lf_conflict``)."""
        names = list(REASONS) + sorted(set(self.reasons.tolist()) - set(REASONS))
        return {reason: int((self.reasons == reason).sum()) for reason in names}

    def summary(self) -> dict[str, Any]:
        """``{"method", "threshold", "n_items", "n_queued", "by_reason"}``."""
        return {
            "method": self.method,
            "threshold": self.threshold,
            "n_items": self.n_items,
            "n_queued": len(self.entries),
            "by_reason": self.by_reason,
        }

    def to_dict(self) -> dict[str, Any]:
        """The summary plus ``"items"``: the entries in queue order."""
        return {**self.summary(), "items": self.entries}

    def jsonl_lines(self) -> list[str]:
        """One JSON object per entry (UTF-8 text, no NaN), in queue order."""
        return [json.dumps(entry, ensure_ascii=False, allow_nan=False) for entry in self.entries]


def _candidates(table: AnnotationTable, codes: np.ndarray) -> pa.ListArray:
    """Every annotator's label on each queued item: list<struct<annotator, label>>."""
    position = np.full(table.n_items, -1, dtype=np.int64)
    position[codes] = np.arange(codes.size)
    rows = np.flatnonzero(position[table.item_codes] >= 0)
    slot = position[table.item_codes[rows]]
    order = np.lexsort((table.annotator_codes[rows], slot))
    rows, slot = rows[order], slot[order]
    offsets = np.zeros(codes.size + 1, dtype=np.int32)
    np.cumsum(np.bincount(slot, minlength=codes.size), out=offsets[1:])
    names = np.asarray(table.annotators, dtype=object)[table.annotator_codes[rows]]
    labels = np.asarray(table.categories, dtype=object)[table.label_codes[rows]]
    values = pa.StructArray.from_arrays(
        [pa.array(names, type=pa.string()), pa.array(labels, type=pa.string())],
        names=["annotator", "label"],
    )
    return pa.ListArray.from_arrays(pa.array(offsets), values)


def adjudication_queue(
    table: AnnotationTable,
    *,
    method: str = "dawid-skene",
    threshold: float = 0.7,
    seed: int = 0,
    items: ItemReport | None = None,
) -> AdjudicationQueue:
    """Queue the tied and low-confidence items with every candidate label.

    Parameters
    ----------
    table : AnnotationTable
    method : str
        Aggregator giving consensus and confidence (see :func:`item_report`).
    threshold : float
        In [0, 1]; items with confidence below it are queued (ties always are).
    seed : int
        Seed of the aggregator.
    items : ItemReport, optional
        A precomputed item table of ``table`` (then ``method`` and ``seed`` are ignored).

    Returns
    -------
    AdjudicationQueue
    """
    if isinstance(threshold, bool) or not 0.0 <= float(threshold) <= 1.0:
        raise UsageError(f"threshold must be a number in [0, 1]; got {threshold!r}")
    report = items if items is not None else item_report(table, method=method, seed=seed)
    low = report.confidence < threshold
    queued = np.flatnonzero(report.tied | low)
    order = np.lexsort((queued, report.confidence[queued], ~report.tied[queued]))
    codes = queued[order]
    reason = np.where(report.tied[codes], REASONS[0], REASONS[1]).astype(object)
    return queue_of(table, report, codes, reason, threshold=float(threshold))


def queue_of(
    table: AnnotationTable,
    report: ItemReport,
    codes: np.ndarray,
    reason: np.ndarray,
    *,
    threshold: float,
) -> AdjudicationQueue:
    """The queue of the items ``codes`` (table item codes, in queue order), each with its
    ``reason`` (str array, same length), consensus and confidence from ``report`` (the
    item table of ``table``) and every annotator's label: one home for the entry shape
    (other queue rules, e.g. :func:`labelaudit.weak.lf_conflict_queue`, build on it)."""
    records = pa.table(
        {
            "item": pa.array(np.asarray(report.items, dtype=object)[codes], type=pa.string()),
            "reason": pa.array(reason, type=pa.string()),
            "consensus_label": report.consensus_names().take(pa.array(codes)),
            "confidence": pa.array(report.confidence[codes], type=pa.float64()),
            "candidates": _candidates(table, codes),
        }
    )
    return AdjudicationQueue(
        method=report.method,
        threshold=threshold,
        n_items=report.n_items,
        entries=records.to_pylist(),
        item_codes=np.asarray(codes, dtype=np.int64),
        reasons=np.asarray(reason, dtype=object),
    )


def with_label_errors(
    queue: AdjudicationQueue, table: AnnotationTable | None, issues: list[dict[str, Any]]
) -> AdjudicationQueue:
    """The queue with the items ``label-errors`` flagged appended, reason ``label_error``.

    Parameters
    ----------
    queue : AdjudicationQueue
        Items already queued keep their entry (tie, low confidence).
    table : AnnotationTable, optional
        Gives each new entry its candidates (every annotator's label); ``None`` for a
        one-label-per-item file (no candidates).
    issues : list of dict
        :meth:`labelaudit.models.LabelErrors.to_dict` ``["issues"]`` (best first):
        ``{"item", "given", "suggested", "quality", "rank"}``. Each entry gets
        ``consensus_label`` = given, ``confidence`` = label quality, and ``suggested``.
    """
    queued = {entry["item"] for entry in queue.entries}
    new = [issue for issue in issues if str(issue["item"]) not in queued]
    items = np.asarray([str(issue["item"]) for issue in new], dtype=object)
    codes = np.full(items.size, -1, dtype=np.int64)
    candidates: list[Any] = [[] for _ in new]
    if table is not None and items.size:
        position = np.searchsorted(table.items, items).clip(0, max(table.n_items - 1, 0))
        found = table.items[position] == items
        codes = np.where(found, position, -1)
        lists = _candidates(table, codes[found]).to_pylist()
        for slot, value in zip(np.flatnonzero(found), lists, strict=True):
            candidates[slot] = value
    entries = [
        {"item": str(issue["item"]), "reason": LABEL_ERROR, "consensus_label": issue["given"],
         "confidence": issue["quality"], "candidates": candidates[k],
         "suggested": issue["suggested"]}
        for k, issue in enumerate(new)
    ]  # fmt: skip
    return AdjudicationQueue(
        method=queue.method,
        threshold=queue.threshold,
        n_items=queue.n_items,
        entries=[*queue.entries, *entries],
        item_codes=np.concatenate([queue.item_codes, codes]),
        reasons=np.concatenate([queue.reasons, np.full(len(entries), LABEL_ERROR, dtype=object)]),
    )


def write_jsonl(queue: AdjudicationQueue, path: str | Path) -> Path:
    """Write one JSON object per queued item (UTF-8, no NaN) and return the path."""
    target = Path(path)
    with target.open("w", encoding="utf-8") as handle:
        handle.writelines(line + "\n" for line in queue.jsonl_lines())
    return target


def write_queue(queue: AdjudicationQueue, path: str | Path, *, raw_csv: bool = False) -> Path:
    """Write the queue in the format its extension names; return the path.

    ``.csv`` / ``.tsv``: one row per item, list and object fields (the candidates) as JSON
    text, formula-like cells neutralised unless ``raw_csv`` (:mod:`labelaudit.csvio`).
    ``.parquet``: native nested columns. Anything else: JSONL (:func:`write_jsonl`).
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in (".csv", ".tsv", ".parquet"):
        return write_jsonl(queue, target)
    rows = (
        [
            {
                k: json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else v
                for k, v in entry.items()
            }
            for entry in queue.entries
        ]
        if suffix != ".parquet"
        else queue.entries
    )
    data = pa.Table.from_pylist(rows) if rows else pa.table({"item": pa.array([], pa.string())})
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        pq.write_table(data, target)
        return target
    from labelaudit.csvio import write_csv

    return write_csv(data, target, delimiter="\t" if suffix == ".tsv" else ",", raw=raw_csv)
