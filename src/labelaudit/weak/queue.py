"""The items the labeling functions conflict on, as an adjudication queue.

An item is conflicted when two LFs voted different labels on it (Snorkel's c_i, as in
:mod:`labelaudit.weak.analysis`). The queue lists them most conflicted first: largest
minority share of the votes (1 - the top label's share), then the most votes, then item
order (the order of the analysis's ``top_conflicts``). Each entry has the shape of
``labelaudit adjudicate`` (:func:`labelaudit.quality.queue_of`) with reason
``lf_conflict``: consensus and confidence from an aggregator, every LF's vote as a
candidate, so the same writer, Label Studio export and review tools take it.
"""

from __future__ import annotations

import numpy as np

from labelaudit.exceptions import UsageError
from labelaudit.quality import AdjudicationQueue, item_report, queue_of
from labelaudit.table import AnnotationTable

__all__ = ["LF_CONFLICT", "lf_conflict_queue"]

#: Reason of an entry queued because the LFs disagree on the item.
LF_CONFLICT = "lf_conflict"


def lf_conflict_queue(
    votes: AnnotationTable, *, top: int | None = None, method: str = "majority", seed: int = 0
) -> AdjudicationQueue:
    """The conflicted items of a vote table, most conflicted first.

    Parameters
    ----------
    votes : AnnotationTable
        LF votes (:func:`labelaudit.weak.apply_lfs`, or ``lf apply --out``).
    top : int, optional
        Keep the ``top`` most conflicted items (default: every conflicted item).
    method : str
        Aggregator giving each entry's ``consensus_label`` and ``confidence`` (see
        :func:`labelaudit.quality.item_report`; ``majority``: the top label's vote share,
        no label on a tie).
    seed : int
        Seed of the aggregator.

    Returns
    -------
    AdjudicationQueue
        Entries ``item``, ``reason`` = ``lf_conflict``, ``consensus_label``,
        ``confidence``, ``candidates`` (every LF's vote); ``threshold`` is 1.0 (any
        disagreement queues). O(n_ratings + n_items k) beyond the aggregator.
    """
    if top is not None and (isinstance(top, bool) or int(top) < 1):
        raise UsageError(f"top must be a positive number of items; got {top!r}")
    k = votes.n_categories
    counts = np.bincount(
        votes.item_codes * k + votes.label_codes, minlength=votes.n_items * k
    ).reshape(votes.n_items, k)
    codes = np.flatnonzero((counts > 0).sum(axis=1) >= 2)
    n_votes = counts[codes].sum(axis=1)
    minority = 1.0 - counts[codes].max(axis=1, initial=0) / np.maximum(n_votes, 1)
    codes = codes[np.lexsort((codes, -n_votes, -minority))][:top]
    report = item_report(votes, method=method, seed=seed)
    reason = np.full(codes.size, LF_CONFLICT, dtype=object)
    return queue_of(votes, report, codes, reason, threshold=1.0)
