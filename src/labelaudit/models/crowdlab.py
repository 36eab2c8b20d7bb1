"""CROWDLAB: consensus and annotator quality from several annotators plus a model.

A thin adapter over ``cleanlab.multiannotator.get_label_quality_multiannotator`` (default
settings: ``consensus_method="best_quality"``, ``quality_method="crowdlab"``): the
annotation table becomes its items x annotators label matrix (NaN = not labelled) in the
class order of the probabilities, and its outputs come back named by item and annotator.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from labelaudit.models.label_errors import GivenLabels
    from labelaudit.models.probs import Probabilities
    from labelaudit.table import AnnotationTable

__all__ = ["crowdlab"]


def crowdlab(
    crowd: AnnotationTable, given: GivenLabels, probs: Probabilities, rows: np.ndarray
) -> dict[str, Any]:
    """CROWDLAB scores of ``crowd`` with the model probabilities ``probs``.

    Parameters
    ----------
    crowd : AnnotationTable
        The (human) annotations; its items are ``given.items``.
    given : GivenLabels
    probs : Probabilities
    rows : ndarray of int64, shape (n,)
        Row of ``probs`` for each given item (from :func:`~.label_errors.align`).

    Returns
    -------
    dict
        ``items``: ``{item, consensus, quality, agreement, n_annotations, rank}`` sorted by
        consensus quality, lowest (most doubtful) first; ``annotators``: ``{annotator,
        quality, agreement_with_consensus, worst_class, n}`` sorted by quality, lowest first.
    """
    import pandas as pd
    from cleanlab.multiannotator import get_label_quality_multiannotator

    class_of = _class_codes(crowd.categories, probs.classes)
    used = np.unique(crowd.label_codes)
    if bool((class_of[used] < 0).any()):
        from labelaudit.exceptions import InputError

        missing = crowd.categories[used[class_of[used] < 0][0]]
        raise InputError(
            "class missing from the probability columns", source=probs.source, line=1,
            field=str(missing), expected="a column for every class an annotator used",
            actual=f"columns {', '.join(probs.classes)}; {crowd.source} uses {missing!r}",
        )  # fmt: skip
    item_of = np.searchsorted(given.items, crowd.items)
    matrix = np.full((given.items.size, crowd.n_annotators), np.nan)
    matrix[item_of[crowd.item_codes], crowd.annotator_codes] = class_of[crowd.label_codes]
    frame = pd.DataFrame(matrix, columns=[str(a) for a in crowd.annotators])
    found = get_label_quality_multiannotator(frame, probs.matrix[rows], verbose=False)
    quality = found["label_quality"]
    order = np.lexsort((given.items, quality["consensus_quality_score"].to_numpy()))
    items = [
        {"item": str(given.items[i]),
         "consensus": str(probs.classes[int(quality["consensus_label"].iloc[i])]),
         "quality": float(quality["consensus_quality_score"].iloc[i]),
         "agreement": float(quality["annotator_agreement"].iloc[i]),
         "n_annotations": int(quality["num_annotations"].iloc[i]), "rank": r}
        for r, i in enumerate(order.tolist(), start=1)
    ]  # fmt: skip
    stats = found["annotator_stats"]
    annotators = [
        {"annotator": str(name), "quality": float(q), "agreement_with_consensus": float(a),
         "worst_class": str(probs.classes[int(w)]), "n": int(n)}
        for name, q, a, w, n in zip(
            stats.index, stats["annotator_quality"], stats["agreement_with_consensus"],
            stats["worst_class"], stats["num_examples_labeled"], strict=True,
        )
    ]  # fmt: skip
    return {"items": items, "annotators": annotators}


def _class_codes(categories: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Index in ``classes`` of each table category (-1 for one with no column)."""
    order = np.argsort(classes)
    position = np.searchsorted(classes[order], categories).clip(0, max(classes.size - 1, 0))
    hit = classes[order][position] == categories
    return np.where(hit, order[position], -1)
