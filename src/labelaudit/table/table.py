"""The canonical annotation table: one row per (item, annotator) label, integer-coded once."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from labelaudit.table.schema import TaskSchema

__all__ = ["CONTINUOUS_LIMIT", "AnnotationTable"]

#: Interval/ratio ratings with no declared categories and more distinct values than this
#: are "continuous": the kappa family is undefined and alpha uses closed forms.
CONTINUOUS_LIMIT = 100


@dataclass(frozen=True, eq=False)
class AnnotationTable:
    """A validated long table of annotations with integer codes beside it.

    Build it with :func:`labelaudit.read_annotations` or
    :meth:`AnnotationTable.from_records`; everything inside labelaudit trusts it.

    Attributes
    ----------
    data : pyarrow.Table
        Columns ``item``, ``annotator``, ``label`` (strings, canonical form) plus the
        optional columns carried along (batch, timestamps, durations, metadata, and a
        structured ``payload`` column for later task types).
    schema : TaskSchema
        Level and declared categories.
    items, annotators : ndarray of str, shapes (n_items,), (n_annotators,)
        Code -> name. Codes are positions in these arrays (sorted, so codes do not depend
        on row order).
    categories : ndarray of str, shape (q,)
        Category names in order: the declared list, or the observed labels sorted.
    category_values : ndarray of float64, shape (q,)
        Numeric value of each category: the number itself for numeric labels, else
        1..q in declared order (used by weights and distances).
    item_codes, annotator_codes, label_codes : ndarray of int64, shape (n_ratings,)
        Integer codes of each row.
    source : str
        Where the rows came from (file name or ``"<DataFrame>"``).
    """

    data: pa.Table
    schema: TaskSchema
    items: np.ndarray
    annotators: np.ndarray
    categories: np.ndarray
    category_values: np.ndarray
    item_codes: np.ndarray
    annotator_codes: np.ndarray
    label_codes: np.ndarray
    source: str = "<input>"
    report: dict[str, Any] = field(default_factory=dict)

    # ------------------------------------------------------------------ sizes
    @property
    def n_ratings(self) -> int:
        """Number of rows (annotations)."""
        return int(self.label_codes.shape[0])

    @property
    def n_items(self) -> int:
        """Number of distinct items."""
        return int(self.items.shape[0])

    @property
    def n_annotators(self) -> int:
        """Number of distinct annotators."""
        return int(self.annotators.shape[0])

    @property
    def n_categories(self) -> int:
        """Number of categories (declared, or observed when none were declared)."""
        return int(self.categories.shape[0])

    @property
    def level(self) -> str:
        """Measurement level from the schema."""
        return self.schema.level

    @property
    def task(self) -> str:
        """Task type from the schema (``categorical`` unless a structured reader set it)."""
        return self.schema.task

    @property
    def payload(self) -> pa.ChunkedArray | None:
        """The structured-label column of non-categorical tasks, one entry per row, or None.

        Types by task: multilabel ``list<string>``; spans ``list<struct<start: int64,
        end: int64, label: string>>`` (character offsets, end exclusive); boxes
        ``list<struct<x, y, width, height: double, label: string>>`` (pixels, top-left
        origin); ranking ``list<struct<id: string, rank: double>>`` (1 = best, ties share
        the average rank); text ``string``; pairwise ``struct<first: string, second:
        string, choice: string>``.
        """
        if "payload" not in self.data.column_names:
            return None
        return self.data.column("payload")

    @property
    def values(self) -> np.ndarray:
        """Numeric value of each rating, shape (n_ratings,), float64."""
        return np.asarray(self.category_values[self.label_codes], dtype=np.float64)

    @property
    def is_continuous(self) -> bool:
        """True for interval/ratio ratings without a usable category list.

        That is: no declared categories *and* more than ``CONTINUOUS_LIMIT`` distinct
        values (the README's rule). The kappa family is then undefined (its chance terms
        need a category scale); alpha and the ICC still apply. Declared categories, or at
        most ``CONTINUOUS_LIMIT`` distinct values, make the observed values the scale.
        """
        return (
            self.schema.is_quantitative
            and self.schema.categories is None
            and self.n_categories > CONTINUOUS_LIMIT
        )

    # ------------------------------------------------------------- converters
    def to_item_category_counts(self) -> np.ndarray:
        """Item x category count matrix, shape (n_items, q), int64.

        Entry (i, k) is the number of annotators who gave item i category k (Fleiss 1971
        layout; statsmodels' ``aggregate_raters`` output without its NaN pitfall).
        """
        q = self.n_categories
        flat = np.bincount(self.item_codes * q + self.label_codes, minlength=self.n_items * q)
        return flat.reshape(self.n_items, q)

    def to_units_by_raters(self, *, codes: bool = False) -> np.ndarray:
        """Units x raters matrix, shape (n_items, n_annotators), float64 with NaN = missing.

        Holds category values (or, with ``codes=True``, category codes) - the layout of
        irrCAC, pingouin (wide) and, transposed, ``krippendorff.alpha``.
        """
        matrix = np.full((self.n_items, self.n_annotators), np.nan)
        source = self.label_codes if codes else self.values
        matrix[self.item_codes, self.annotator_codes] = source
        return matrix

    def to_pandas(self) -> Any:
        """The long table as a pandas DataFrame (needs pandas)."""
        return self.data.to_pandas()

    def subset_annotators(self, annotator_codes: np.ndarray) -> AnnotationTable:
        """Rows of the given annotators only; categories and their order are kept."""
        mask = np.isin(self.annotator_codes, annotator_codes)
        return self.filter_rows(mask)

    def filter_rows(self, mask: np.ndarray) -> AnnotationTable:
        """A table with the rows where ``mask`` is true, re-coded; categories are kept."""
        items, item_codes = np.unique(self.item_codes[mask], return_inverse=True)
        annotators, annotator_codes = np.unique(self.annotator_codes[mask], return_inverse=True)
        return AnnotationTable(
            data=self.data.filter(pa.array(mask)),
            schema=self.schema,
            items=self.items[items],
            annotators=self.annotators[annotators],
            categories=self.categories,
            category_values=self.category_values,
            item_codes=item_codes.astype(np.int64),
            annotator_codes=annotator_codes.astype(np.int64),
            label_codes=self.label_codes[mask],
            source=self.source,
            report=dict(self.report),
        )

    def __repr__(self) -> str:
        return (
            f"AnnotationTable(n_ratings={self.n_ratings}, n_items={self.n_items}, "
            f"n_annotators={self.n_annotators}, level={self.level!r}, "
            f"categories={list(self.categories[:10])}{'...' if self.n_categories > 10 else ''})"
        )
