"""Soft labels: per-item label distributions and how ambiguous each item is.

Training on the distribution of the annotators' labels, rather than on one hard label,
keeps what the annotators disagreed about (Peterson et al. 2019, "Human uncertainty makes
classification more robust", ICCV; Uma et al. 2021, "Learning from disagreement: a
survey", JAIR 72). :func:`soft_labels` gives two distributions per item:

- the **raw vote shares** (labels per category / labels of the item), and
- the **aggregator's posterior** ``probas_`` (Dawid-Skene, GLAD, MACE and one-coin: the EM
  posterior of the true class; majority, weighted and Wawa: their (weighted) vote shares),

with two ambiguity scores: the Shannon entropy in bits of each distribution (0 = every
label agrees; at most log2(q)) and the share of the top label among the votes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from labelaudit.exceptions import UsageError
from labelaudit.results import Displayable, clean_number

if TYPE_CHECKING:
    from labelaudit.consensus import Aggregator
    from labelaudit.report.document import Document
    from labelaudit.table import AnnotationTable

__all__ = [
    "POSTERIOR_PREFIX",
    "SHARE_PREFIX",
    "SoftLabels",
    "entropy_bits",
    "merge_summaries",
    "soft_labels",
    "soft_of",
    "soft_sentence",
]

#: Column name prefixes of the per-category columns in :meth:`SoftLabels.to_arrow`.
SHARE_PREFIX = "share_"
POSTERIOR_PREFIX = "p_"
#: An item whose top label holds at most this share of the votes counts as ambiguous.
AMBIGUOUS_TOP_SHARE = 0.5


def entropy_bits(distribution: np.ndarray) -> np.ndarray:
    """Shannon entropy in bits of each row, shape (n,) from (n, q); 0 log 0 = 0.

    Rows are used as given (they should sum to 1).
    """
    p = np.asarray(distribution, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log2(np.where(p > 0, p, 1.0)), 0.0)
    return np.abs(terms.sum(axis=1))  # abs: -0.0 -> 0.0


@dataclass(frozen=True, eq=False)
class SoftLabels(Displayable):
    """Per-item label distributions of one consensus fit.

    Attributes
    ----------
    method : str
        The consensus method (``dawid-skene``, ...).
    items : ndarray of str, shape (n_items,)
    categories : ndarray of str, shape (q,)
    label : ndarray of object, shape (n_items,)
        The consensus label (None for an abstained tie).
    confidence : ndarray of float64, shape (n_items,)
        The consensus confidence (the winning posterior or vote share).
    n_labels : ndarray of int64, shape (n_items,)
        Labels each item received.
    shares : ndarray of float64, shape (n_items, q)
        Raw vote shares (rows sum to 1).
    posterior : ndarray of float64, shape (n_items, q)
        The aggregator's ``probas_`` (rows sum to 1).
    """

    method: str
    items: np.ndarray
    categories: np.ndarray
    label: np.ndarray
    confidence: np.ndarray
    n_labels: np.ndarray
    shares: np.ndarray
    posterior: np.ndarray

    @property
    def top_share(self) -> np.ndarray:
        """Share of the most frequent label among each item's votes, shape (n_items,)."""
        return self.shares.max(axis=1)

    @property
    def vote_entropy(self) -> np.ndarray:
        """Entropy in bits of the raw vote shares, shape (n_items,)."""
        return entropy_bits(self.shares)

    @property
    def entropy(self) -> np.ndarray:
        """Entropy in bits of the aggregator's posterior, shape (n_items,)."""
        return entropy_bits(self.posterior)

    def to_arrow(self) -> pa.Table:
        """One row per item: the consensus columns, then the soft columns.

        ``item``, ``label``, ``confidence`` (as :func:`labelaudit.consensus.consensus_table`),
        ``n_labels``, ``top_share``, ``vote_entropy``, ``entropy`` (bits), then
        ``share_<category>`` for each category (raw vote shares) and ``p_<category>`` (the
        aggregator's posterior), categories in table order.
        """
        columns: dict[str, pa.Array] = {
            "item": pa.array(self.items.astype(object), type=pa.string()),
            "label": pa.array(self.label, type=pa.string()),
            "confidence": pa.array(self.confidence, type=pa.float64()),
            "n_labels": pa.array(self.n_labels, type=pa.int64()),
            "top_share": pa.array(self.top_share, type=pa.float64()),
            "vote_entropy": pa.array(self.vote_entropy, type=pa.float64()),
            "entropy": pa.array(self.entropy, type=pa.float64()),
        }
        for prefix, matrix in ((SHARE_PREFIX, self.shares), (POSTERIOR_PREFIX, self.posterior)):
            for k, name in enumerate(self.categories):
                columns[f"{prefix}{name}"] = pa.array(matrix[:, k], type=pa.float64())
        return pa.table(columns)

    def summary(self) -> dict[str, Any]:
        """Ambiguity over all items: means of the scores and the count of ambiguous items
        (top label holding at most half the votes)."""
        top = self.top_share
        n = int(self.items.size)
        return {
            "method": self.method,
            "n_items": n,
            "categories": [str(c) for c in self.categories],
            "mean_top_share": clean_number(float(top.mean())) if n else None,
            "mean_vote_entropy": clean_number(float(self.vote_entropy.mean())) if n else None,
            "mean_entropy": clean_number(float(self.entropy.mean())) if n else None,
            "max_entropy": clean_number(float(np.log2(max(self.categories.size, 1)))),
            "ambiguous_top_share": AMBIGUOUS_TOP_SHARE,
            "n_ambiguous": int((top <= AMBIGUOUS_TOP_SHARE).sum()),
        }

    def to_dict(self) -> dict[str, Any]:
        """``summary()`` plus ``items``: one record per item with the columns of
        :meth:`to_arrow` (NaN as null)."""
        records = self.to_arrow().to_pylist()
        return {**self.summary(), "items": clean_number(records)}

    def to_document(self) -> Document:
        """The ambiguity summary and the most ambiguous items as a document."""
        from labelaudit.models._documents import soft_document

        return soft_document(self)


def soft_labels(table: AnnotationTable, estimator: Aggregator) -> SoftLabels:
    """The soft labels of a fitted categorical aggregator.

    Parameters
    ----------
    table : AnnotationTable
        The table ``estimator`` was fitted on.
    estimator : Aggregator
        A fitted categorical aggregator (``probas_`` of shape (n_items, q)).

    Returns
    -------
    SoftLabels

    Raises
    ------
    UsageError
        A numeric method (mean, median, trimmed-mean): numeric consensus has no label
        distribution.
    """
    if estimator.numeric:
        msg = (
            f"--soft needs a categorical method; {estimator.cli_name} gives numbers, not a "
            "label distribution"
        )
        raise UsageError(msg)
    if not hasattr(estimator, "probas_"):
        raise UsageError("soft labels need a fitted aggregator: call fit(table) first")
    return soft_of(
        estimator.cli_name,
        table.items,
        table.categories,
        table.to_item_category_counts(),
        (estimator.labels_, estimator.confidence_, estimator.probas_),
    )


def soft_of(
    method: str,
    items: np.ndarray,
    categories: np.ndarray,
    counts: np.ndarray,
    fit: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> SoftLabels:
    """:class:`SoftLabels` of ``items`` (n,) from their vote counts (n, q) and the
    aggregator's ``fit`` = (label codes (n,), -1 = abstained; confidence (n,); posterior
    (n, q)). The items may be any slice of a table (the Spark engine's chunks)."""
    counts = np.asarray(counts, dtype=np.float64)
    n_labels = counts.sum(axis=1)
    shares = counts / np.where(n_labels > 0, n_labels, 1.0)[:, None]
    codes = np.asarray(fit[0])
    names = categories.astype(object)
    label = np.asarray(np.where(codes >= 0, names[np.clip(codes, 0, None)], None), dtype=object)
    return SoftLabels(
        method=method,
        items=items,
        categories=categories,
        label=label,
        confidence=np.asarray(fit[1], dtype=np.float64),
        n_labels=n_labels.astype(np.int64),
        shares=shares,
        posterior=np.asarray(fit[2], dtype=np.float64),
    )


def soft_sentence(summary: dict[str, Any]) -> str:
    """The headline of soft labels from their :meth:`SoftLabels.summary`."""
    entropy, most = (
        "n/a" if summary[key] is None else f"{summary[key]:.2f}"
        for key in ("mean_entropy", "max_entropy")
    )
    return (
        f"{summary['method']}: {summary['n_items']:,} items; {summary['n_ambiguous']:,} "
        f"ambiguous (top label holds at most half the votes); mean posterior entropy "
        f"{entropy} of at most {most} bits."
    )


def merge_summaries(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """The :meth:`SoftLabels.summary` of the items of several parts, from theirs: means
    weighted by the parts' items, ambiguous items added (to float rounding)."""
    n = sum(part["n_items"] for part in parts)
    merged = {**parts[0], "n_items": n, "n_ambiguous": sum(p["n_ambiguous"] for p in parts)}
    for key in ("mean_top_share", "mean_vote_entropy", "mean_entropy"):
        total = sum(part[key] * part["n_items"] for part in parts if part["n_items"])
        merged[key] = clean_number(total / n) if n else None
    return merged
