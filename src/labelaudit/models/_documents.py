"""Documents (:mod:`labelaudit.report.document`) of the models package's results.

Builders only select and order numbers the results already hold.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from labelaudit.report.document import DocTable, Document, Headline, Section

if TYPE_CHECKING:
    from labelaudit.models.soft import SoftLabels

__all__ = ["soft_document"]

#: Rows of the "most ambiguous items" table.
TOP_AMBIGUOUS = 20


def soft_document(soft: SoftLabels) -> Document:
    """Ambiguity over all items, then the items with the highest posterior entropy."""
    summary = soft.summary()
    sentence = (
        f"{soft.method}: {summary['n_items']:,} items; {summary['n_ambiguous']:,} ambiguous "
        f"(top label holds at most half the votes); mean posterior entropy "
        f"{_fmt(summary['mean_entropy'])} of at most {_fmt(summary['max_entropy'])} bits."
    )
    facts = tuple(
        (key, summary[key])
        for key in ("n_items", "n_ambiguous", "mean_top_share", "mean_vote_entropy", "mean_entropy")
    )
    entropy = soft.entropy
    order = np.lexsort((soft.items, -entropy))[:TOP_AMBIGUOUS]
    rows = tuple(
        (str(soft.items[i]), soft.label[i], float(soft.top_share[i]), float(entropy[i]))
        for i in order
    )
    table = DocTable(
        "Most ambiguous items",
        ("item", "consensus", "top share", "entropy (bits)"),
        rows,
        ("text", "text", "number", "number"),
    )
    return Document(
        f"Soft labels ({soft.method})",
        Headline(sentence),
        (Section("Ambiguity", facts=facts), Section("Items", tables=(table,))),
    )


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"
