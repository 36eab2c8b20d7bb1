"""The canonical annotation table: one row per (item, annotator) label, integer-coded once."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from labelaudit.table.schema import TaskSchema

__all__ = [
    "CATEGORY_SCALES",
    "CONTINUOUS_LIMIT",
    "AnnotationTable",
    "code_counts",
    "code_type",
    "dense_cell_order",
    "narrow_codes",
]

#: Where ``category_values`` come from: the labels are numbers, their place in the declared
#: ``--categories`` list, or only their place in text order (which is never a value order).
CATEGORY_SCALES = ("numeric", "declared", "text")
#: Row orders over at most this many (item, annotator) cells use a dense scatter, not a sort.
_DENSE_CELLS = 1 << 24

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
    report : dict
        What reading did: ``duplicates_replaced`` and ``warnings`` (list of str).
    category_scale : {"numeric", "declared", "text"}
        Where ``category_values`` come from (see :data:`CATEGORY_SCALES`). Weights other
        than identity need ``numeric`` or ``declared``.
    item_names : pyarrow.Array of str, shape (n_items,), optional
        ``items`` as Arrow strings, when the builder has them (the readers do): the
        content hash and other Arrow consumers use it instead of converting ``items``.
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
    category_scale: str = "numeric"
    item_names: pa.Array | None = None

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
    def annotator_kinds(self) -> np.ndarray:
        """Who produced each row, shape (n_ratings,), object array of ``human``, ``model``
        or ``function`` (:data:`~labelaudit.table.schema.ANNOTATOR_KINDS`); from the
        ``annotator_kind`` column, ``human`` where it is absent or empty."""
        if "annotator_kind" not in self.data.column_names:
            return np.full(self.n_ratings, "human", dtype=object)
        column = pc.cast(self.data.column("annotator_kind"), pa.string())
        column = pc.fill_null(pc.if_else(pc.equal(column, ""), None, column), "human")
        return np.asarray(column.to_numpy(zero_copy_only=False), dtype=object)

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
    def to_item_category_counts(self, *, narrow: bool = False) -> np.ndarray:
        """Item x category count matrix, shape (n_items, q), int64, read-only.

        Entry (i, k) is the number of annotators who gave item i category k (Fleiss 1971
        layout; statsmodels' ``aggregate_raters`` output without its NaN pitfall). Built
        once per table (one bincount) and shared by every coefficient and diagnostic.
        ``narrow=True``: the same counts in the narrowest integer type holding them (int8
        up to 127 labels per item: an eighth of the bytes for the passes over columns of
        the tie rule and the distinct count rows), also built once.
        """
        return self._small_item_category_counts if narrow else self._item_category_counts

    @cached_property
    def _small_item_category_counts(self) -> np.ndarray:
        per_item = self.ratings_per_item()
        size = int(per_item.max(initial=0)) + 1  # no count exceeds the item's ratings
        counts = narrow_codes(self.to_item_category_counts(), size)
        counts.flags.writeable = False
        return counts

    @cached_property
    def _item_category_counts(self) -> np.ndarray:
        q = self.n_categories
        flat = np.bincount(self.item_codes * q + self.label_codes, minlength=self.n_items * q)
        counts = flat.reshape(self.n_items, q)
        counts.flags.writeable = False
        return counts

    def item_category_cells(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Nonzero cells of :meth:`to_item_category_counts` as (item, category, count),
        each shape (n_cells,), int64, sorted by item then category; read-only, built once
        per table (one row-major ``nonzero``, no sort) and shared by the diagnostics."""
        return self._item_category_cells

    @cached_property
    def _item_category_cells(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        counts = self.to_item_category_counts()
        items, labels = np.nonzero(counts)
        cells = (items.astype(np.int64), labels.astype(np.int64), counts[items, labels])
        for array in cells:
            array.flags.writeable = False
        return cells

    def ratings_per_item(self) -> np.ndarray:
        """Number of ratings of each item, shape (n_items,), int64, read-only (once)."""
        return self._ratings_per_item

    @cached_property
    def _ratings_per_item(self) -> np.ndarray:
        per_item = np.bincount(self.item_codes, minlength=self.n_items)
        per_item.flags.writeable = False
        return per_item

    @cached_property
    def content_sha256(self) -> str:
        """SHA-256 of the content (:func:`labelaudit.table.content_sha256`), once per table."""
        from labelaudit.table.content import _compute

        return _compute(self)

    @cached_property
    def row_order(self) -> np.ndarray:
        """Row positions sorted by (item code, annotator code), shape (n_ratings,), int64.

        Computed once per table (the readers find it while checking for duplicates). Each
        (item, annotator) cell holds one row, so when the grid is small one scatter gives
        the order without sorting (:func:`dense_cell_order`); otherwise a lexsort.
        """
        order = dense_cell_order(
            self.item_codes, self.annotator_codes, self.n_items, self.n_annotators
        )
        if order is not None:
            return order
        return np.lexsort((self.annotator_codes, self.item_codes)).astype(np.int64)

    @cached_property
    def in_cell_order(self) -> bool:
        """True when the rows already are in (item code, annotator code) order (then
        :attr:`row_order` is the identity); found once per table, from :attr:`row_order`
        when it is known (the readers keep it), else from one pass over the codes."""
        order = self.__dict__.get("row_order")
        if order is not None:  # a permutation: increasing only when it is the identity
            return bool(np.all(order[1:] > order[:-1]))
        key = self.item_codes * max(self.n_annotators, 1) + self.annotator_codes
        return bool(np.all(key[1:] >= key[:-1]))

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
        import pandas  # noqa: F401  (imported here: the CLI defers it, labelaudit.cli.startup)

        return self.data.to_pandas()

    def subset_annotators(self, annotator_codes: np.ndarray) -> AnnotationTable:
        """Rows of the given annotators only; categories and their order are kept."""
        mask = np.isin(self.annotator_codes, annotator_codes)
        return self.filter_rows(mask)

    def filter_rows(self, mask: np.ndarray) -> AnnotationTable:
        """A table with the rows where ``mask`` is true, re-coded; categories are kept."""
        return self._subset(mask, self.data.filter(pa.array(mask)))

    def take_rows(self, rows: np.ndarray) -> AnnotationTable:
        """:meth:`filter_rows` of the rows at positions ``rows`` (int, ascending, shape
        (m,)): one Arrow ``take`` and O(m log m), so a few rows of a large table cost what
        they hold, not what the table holds."""
        return self._subset(rows, self.data.take(pa.array(rows, type=pa.int64())))

    def take_items(self, items: np.ndarray) -> AnnotationTable:
        """:meth:`take_rows` of every row of ``items`` (distinct item codes, shape (k,)):
        their positions come from :attr:`row_order` and the items' sizes, so a few items
        of a large table cost their rows, not a pass over every row."""
        per_item = self.ratings_per_item()
        starts = np.cumsum(per_item) - per_item  # item i's rows in (item, annotator) order
        sizes = per_item[items]
        ranks = np.repeat(starts[items] - (np.cumsum(sizes) - sizes), sizes)
        ranks += np.arange(ranks.size)
        return self.take_rows(np.sort(self.row_order[ranks]))

    def _subset(self, rows: np.ndarray, data: pa.Table) -> AnnotationTable:
        """The table of ``data``, the rows selected by ``rows`` (a mask or positions)."""
        items, item_codes = np.unique(self.item_codes[rows], return_inverse=True)
        names = None if self.item_names is None else self.item_names.take(pa.array(items))
        annotators, annotator_codes = np.unique(self.annotator_codes[rows], return_inverse=True)
        return AnnotationTable(
            data=data,
            schema=self.schema,
            items=self.items[items],
            annotators=self.annotators[annotators],
            categories=self.categories,
            category_values=self.category_values,
            item_codes=item_codes.astype(np.int64),
            annotator_codes=annotator_codes.astype(np.int64),
            label_codes=self.label_codes[rows],
            source=self.source,
            report=dict(self.report),
            category_scale=self.category_scale,
            item_names=names,
        )

    def __repr__(self) -> str:
        return (
            f"AnnotationTable(n_ratings={self.n_ratings}, n_items={self.n_items}, "
            f"n_annotators={self.n_annotators}, level={self.level!r}, "
            f"categories={list(self.categories[:10])}{'...' if self.n_categories > 10 else ''})"
        )


def dense_cell_order(
    item_codes: np.ndarray, annotator_codes: np.ndarray, n_items: int, n_annotators: int
) -> np.ndarray | None:
    """Row positions sorted by (item, annotator) from one scatter into the item x
    annotator grid, shape (n_rows,), int64; None when the grid is large (more than
    ``2**24`` cells and 4 per row) or a cell holds two rows (duplicates: sort instead).

    O(n_items r) time and 4 bytes per cell, no sort.
    """
    n, cells = item_codes.size, n_items * n_annotators
    if cells > max(_DENSE_CELLS, 4 * n) or n >= 2**31:
        return None
    key = item_codes * n_annotators
    key += annotator_codes
    slots = np.full(cells, -1, dtype=np.int32)
    slots[key] = np.arange(n, dtype=np.int32)
    order = slots[slots >= 0]
    return order.astype(np.int64) if order.size == n else None


def narrow_codes(codes: np.ndarray, size: int) -> np.ndarray:
    """Codes 0 .. size - 1 in the narrowest signed integer type that holds them (a view
    when already that narrow).

    Parameters
    ----------
    codes : ndarray of int, shape (n,)
        Non-negative codes below ``size`` (e.g. ``annotator_codes`` and ``n_annotators``).
    size : int
        Number of distinct codes.

    Returns
    -------
    ndarray of int8, int16, int32 or the input dtype, shape (n,)
        A gather or comparison of int8 codes moves an eighth of the bytes of int64 ones.
    """
    kind = code_type(size)
    return codes if kind == np.int64 else codes.astype(kind, copy=False)


def code_type(size: int) -> np.dtype[Any]:
    """The narrowest signed integer type holding codes 0 .. size - 1 (int8 .. int64)."""
    for kind in (np.int8, np.int16, np.int32):
        if size <= np.iinfo(kind).max:
            return np.dtype(kind)
    return np.dtype(np.int64)


#: Rows per block of :func:`code_counts`: its intp copy of a block (2 MB) is reused, not
#: faulted in afresh as one of every row would be.
COUNT_BLOCK = 1 << 18


def code_counts(codes: np.ndarray, size: int) -> np.ndarray:
    """``np.bincount(codes, minlength=size)`` of narrow codes, block by block.

    Parameters
    ----------
    codes : ndarray of int, shape (n,)
        Non-negative codes below ``size``, any integer type (int8 codes of 4.5M rows:
        ``np.bincount`` alone would first copy them to a 36 MB intp array).
    size : int

    Returns
    -------
    ndarray of int64, shape (size,)
        Exact counts (integers: the same whatever the blocks). O(n + size * n / block);
        one call of every row when ``size`` exceeds a block.
    """
    if size > COUNT_BLOCK or codes.shape[0] <= COUNT_BLOCK:
        return np.bincount(codes, minlength=size)
    counts = np.zeros(size, dtype=np.int64)
    for start in range(0, codes.shape[0], COUNT_BLOCK):  # a loop over blocks, not rows
        counts += np.bincount(codes[start : start + COUNT_BLOCK], minlength=size)
    return counts
