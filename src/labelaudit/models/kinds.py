"""Who made a label: a person (``human``), a model (``model``) or a labelling function.

The ``annotator_kind`` column (written by the platform readers, e.g. Label Studio
predictions read with ``--include-models``, and by :func:`labelaudit.models.with_predictions`)
says which rows are not a person's. Human agreement is computed on the human rows only; a
table without the column is all human.
"""

from __future__ import annotations

import numpy as np

from labelaudit.table import AnnotationTable
from labelaudit.table.schema import ANNOTATOR_KINDS

__all__ = ["HUMAN", "KIND_COLUMN", "annotator_kinds", "human_rows"]

KIND_COLUMN = "annotator_kind"
HUMAN = ANNOTATOR_KINDS[0]


def annotator_kinds(table: AnnotationTable) -> np.ndarray:
    """Kind of each annotator, shape (n_annotators,), str (``human`` when not recorded).

    An annotator's kind is the kind of its rows (the first row's kind when they differ).
    """
    kinds = np.full(table.n_annotators, HUMAN, dtype=object)
    if KIND_COLUMN not in table.data.column_names:
        return kinds
    column = table.annotator_kinds  # per row (AnnotationTable's one reading of the column)
    order = np.argsort(table.annotator_codes, kind="stable")
    codes = table.annotator_codes[order]
    first = order[np.r_[True, codes[1:] != codes[:-1]]] if codes.size else order
    kinds[table.annotator_codes[first]] = column[first]
    return kinds


def human_rows(table: AnnotationTable) -> AnnotationTable:
    """The rows of human annotators only (the table itself when every row is human)."""
    kinds = annotator_kinds(table)
    if bool((kinds == HUMAN).all()):
        return table
    return table.subset_annotators(np.flatnonzero(kinds == HUMAN))
