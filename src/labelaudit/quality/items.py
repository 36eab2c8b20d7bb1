"""The item table: consensus label, confidence, vote entropy and disagreement per item.

:func:`item_report` fits one aggregator (majority-type methods with ``tie="abstain"``, so
that ties stay visible) and returns an :class:`ItemReport` of arrays, one entry per item:

- ``labels``: consensus category code, -1 for a tie (no label);
- ``confidence``: the maximum posterior (for majority vote: the winning vote share);
- ``entropy``: Shannon entropy of the item's vote shares, in bits (0 = unanimous);
- ``n_labels``, ``n_distinct``: labels and distinct labels on the item;
- ``tied``: the top two categories tie (majority types abstain; posterior methods tie
  when the two largest posteriors are equal to 1e-12, relative).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from labelaudit.quality._methods import check_methods, fit_method
from labelaudit.quality._stats import vote_entropy
from labelaudit.results import Displayable
from labelaudit.table.table import AnnotationTable

if TYPE_CHECKING:
    from labelaudit.consensus import Aggregator

__all__ = ["TIE_RTOL", "ItemReport", "consensus_ties", "item_details", "item_report"]

#: Two posteriors closer than this (relative to the larger) are a tie.
TIE_RTOL = 1e-12


@dataclass(frozen=True, eq=False)
class ItemReport(Displayable):
    """Per-item consensus and disagreement; arrays of shape (n_items,), in item code order.

    Attributes
    ----------
    method : str
        Aggregator that gave the consensus.
    items, categories : ndarray of str
    labels : ndarray of int64
        Consensus category code; -1 where ``tied``.
    confidence, entropy : ndarray of float64
    n_labels, n_distinct : ndarray of int64
    tied : ndarray of bool
    """

    method: str
    items: np.ndarray
    categories: np.ndarray
    labels: np.ndarray
    confidence: np.ndarray
    entropy: np.ndarray
    n_labels: np.ndarray
    n_distinct: np.ndarray
    tied: np.ndarray

    @property
    def n_items(self) -> int:
        """Number of items."""
        return int(self.items.shape[0])

    @property
    def disagree(self) -> np.ndarray:
        """Items whose annotators gave more than one distinct label, shape (n_items,)."""
        return np.asarray(self.n_distinct > 1)

    def consensus_names(self) -> pa.Array:
        """Consensus label names, null for a tie (pyarrow string array)."""
        tied = self.labels < 0
        dictionary = pa.array(np.asarray(self.categories, dtype=object), type=pa.string())
        indices = pa.array(np.where(tied, 0, self.labels).astype(np.int32), mask=tied)
        return pa.DictionaryArray.from_arrays(indices, dictionary).cast(pa.string())

    def to_arrow(self) -> pa.Table:
        """One row per item: the columns of the JSON records below, as a pyarrow Table."""
        return pa.table(
            {
                "item": pa.array(np.asarray(self.items, dtype=object), type=pa.string()),
                "consensus_label": self.consensus_names(),
                "confidence": pa.array(self.confidence, type=pa.float64()),
                "vote_entropy": pa.array(self.entropy, type=pa.float64()),
                "n_labels": pa.array(self.n_labels, type=pa.int64()),
                "n_distinct_labels": pa.array(self.n_distinct, type=pa.int64()),
                "disagree": pa.array(self.disagree, type=pa.bool_()),
                "tied": pa.array(self.tied, type=pa.bool_()),
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """``{"method", "categories", "n_items", "n_tied", "n_disagree", "items": [...]}``.

        Each item record: ``item``, ``consensus_label`` (null for a tie), ``confidence``,
        ``vote_entropy`` (bits), ``n_labels``, ``n_distinct_labels``, ``disagree``,
        ``tied``.
        """
        return {
            "method": self.method,
            "categories": [str(c) for c in self.categories],
            "n_items": self.n_items,
            "n_tied": int(self.tied.sum()),
            "n_disagree": int(self.disagree.sum()),
            "items": self.to_arrow().to_pylist(),
        }


def consensus_ties(model: Aggregator) -> tuple[np.ndarray, np.ndarray]:
    """Consensus labels with ties visible, of a fitted categorical aggregator.

    Parameters
    ----------
    model : Aggregator
        Fitted on a table of n items (any tie rule: ties are read from its posteriors).

    Returns
    -------
    labels : ndarray of int64, shape (n,)
        Consensus category code; -1 where ``tied``.
    tied : ndarray of bool, shape (n,)
        The two largest posteriors are equal to :data:`TIE_RTOL` (relative), or the
        model abstained. O(n q).
    """
    probas = np.asarray(model.probas_, dtype=np.float64)
    labels = np.asarray(model.labels_, dtype=np.int64).copy()
    if probas.shape[1] > 1:
        top_two = np.sort(probas, axis=1)[:, -2:]
        close = top_two[:, 1] - top_two[:, 0] <= TIE_RTOL * np.abs(top_two[:, 1])
    else:
        close = np.zeros(probas.shape[0], dtype=bool)
    tied = close | (labels < 0)
    labels[tied] = -1
    return labels, tied


def item_report(
    table: AnnotationTable,
    *,
    method: str = "dawid-skene",
    seed: int = 0,
    model: Aggregator | None = None,
) -> ItemReport:
    """Consensus, confidence, vote entropy and disagreement of every item.

    Parameters
    ----------
    table : AnnotationTable
    method : str
        Aggregator (``majority``, ``wawa``, ``dawid-skene``, ``one-coin``, ``glad``,
        ``mace``); majority types abstain on ties.
    seed : int
        Seed of the aggregator (MACE restarts).
    model : Aggregator, optional
        ``method`` already fitted on ``table`` without gold (e.g. shared with
        :func:`~labelaudit.quality.annotator_report`); any tie rule gives the same report,
        ties being read from the posteriors (:func:`consensus_ties`). Default: fitted here.

    Returns
    -------
    ItemReport
        O(n_ratings + n_items q) beyond the aggregator's own fit.
    """
    check_methods([method])
    if model is None:
        model = fit_method(method, table, seed=seed, tie="abstain")
    labels, tied = consensus_ties(model)
    counts = table.to_item_category_counts()
    return ItemReport(
        method=method,
        items=table.items,
        categories=table.categories,
        labels=labels,
        confidence=np.asarray(model.confidence_, dtype=np.float64),
        entropy=vote_entropy(counts),
        n_labels=counts.sum(axis=1),
        n_distinct=(counts > 0).sum(axis=1),
        tied=tied,
    )


def item_details(
    table: AnnotationTable, items: Sequence[Any], *, text_col: str | None = None
) -> dict[str, dict[str, Any]]:
    """Each listed item's text and every annotator's label, for disagreement tables.

    Parameters
    ----------
    table : AnnotationTable
    items : sequence
        Item ids (as in the reports: strings); ids the table does not hold are skipped.
    text_col : str, optional
        Column of ``table.data`` holding the item's text (its first value per item);
        default ``"text"`` when the table carries one, else no text.

    Returns
    -------
    dict
        ``{item: {"text": str or None, "labels": {annotator: label}}}`` in the order of
        ``items``; labels are category names (categorical tasks only; structured tasks
        give an empty mapping).
    """
    from labelaudit.quality.label_studio import item_fields

    index = {str(name): code for code, name in enumerate(table.items.tolist())}
    wanted = [index[str(i)] for i in dict.fromkeys(items) if str(i) in index]
    codes = np.asarray(wanted, dtype=np.int64)
    column = text_col or ("text" if "text" in table.data.column_names else None)
    texts: list[Any] = [None] * len(wanted)
    if column is not None and codes.size:
        texts = item_fields(table, [column]).column(0).take(pa.array(codes)).to_pylist()
    rows = np.flatnonzero(np.isin(table.item_codes, codes))
    order = rows[np.lexsort((table.annotator_codes[rows], table.item_codes[rows]))]
    categorical = table.task == "categorical"
    names = np.asarray(table.annotators, dtype=object)[table.annotator_codes[order]].tolist()
    labels = np.asarray(table.categories, dtype=object)[table.label_codes[order]].tolist()
    item_of = table.item_codes[order].tolist()
    per_item: dict[int, dict[str, str]] = {code: {} for code in wanted}
    for code, name, label in zip(item_of, names, labels, strict=True) if categorical else ():
        per_item[code][str(name)] = str(label)
    return {
        str(table.items[code]): {
            "text": None if value is None else str(value),
            "labels": per_item[code],
        }
        for code, value in zip(wanted, texts, strict=True)
    }
