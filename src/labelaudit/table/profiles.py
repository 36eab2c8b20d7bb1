"""Item profiles: the sufficient statistics of every table-level metric, which add up.

Agreement coefficients, their analytic SEs, the diagnostics, majority vote and Dawid-Skene
never use an item's *name*, only the set of (annotator, label) ratings it received: two
items with the same set contribute the same terms to every sum (item-level terms, pair
tables, rater x category marginals, EM's confusion counts and posteriors). So a table is
summarised exactly by its distinct **profiles** and how many items have each one
(``multiplicity``), plus, for the lists that name items (worst items, confusion examples),
the ``keep`` first item names of each profile in item order: a ranking by (score, item
order) with ties inside a profile never reaches past them.

:class:`ItemProfiles` is that statistic. It is what the Spark engine computes with
DataFrame aggregations (:mod:`labelaudit.spark`), and profiles of disjoint item sets add
with ``+`` (batches, partitions). :meth:`ItemProfiles.expand` is the finish step: an
:class:`AnnotationTable` holding every item once (profile copies after the named items)
on which the one local implementation of every formula runs unchanged, so every engine
gives the same numbers (to float rounding of the sums' order). The local engine is the
one-partition case: ``ItemProfiles.of_table(t).expand() is t``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from labelaudit.exceptions import UsageError
from labelaudit.table._encode import Locator, RawColumns, encode
from labelaudit.table.table import AnnotationTable

__all__ = ["KEEP_NAMES", "ItemProfiles"]

#: Item names kept per profile: the longest worst-item / example list they can serve
#: (``agreement_report``'s default ``top``; confusion examples list 5).
KEEP_NAMES = 20


@dataclass(frozen=True, eq=False)
class ItemProfiles:
    """Distinct item profiles with their multiplicities (exact sufficient statistics).

    Attributes
    ----------
    table : AnnotationTable
        The named items: up to ``keep`` items per profile (the first in item order), each
        with its ratings. Its vocabularies (annotators, categories, values) are the data's.
    multiplicity : ndarray of int64, shape (table.n_items,)
        Items each named item stands for: itself plus the unnamed items of its profile
        (carried by the profile's last named item). Sum = items of the data.
    keep : int
        Names kept per profile (``KEEP_NAMES`` by default).
    """

    table: AnnotationTable
    multiplicity: np.ndarray
    keep: int = KEEP_NAMES

    @classmethod
    def of_table(cls, table: AnnotationTable, *, keep: int = KEEP_NAMES) -> ItemProfiles:
        """One partition: every item named, multiplicity 1 (no work; see :meth:`compact`)."""
        return cls(table, np.ones(table.n_items, dtype=np.int64), keep)

    @property
    def n_items(self) -> int:
        """Items of the data (named and unnamed)."""
        return int(self.multiplicity.sum())

    @property
    def n_ratings(self) -> int:
        """Ratings of the data."""
        per_item = np.bincount(self.table.item_codes, minlength=self.table.n_items)
        return int(per_item @ self.multiplicity)

    def profile_keys(self) -> np.ndarray:
        """Profile index (n_items of ``table``,): equal iff two items have the same ratings.

        Each rating is one integer ``annotator * q + label``; an item's sorted integers,
        padded to the longest item, are a row whose distinct rows are the profiles.
        """
        t = self.table
        code = t.annotator_codes * max(t.n_categories, 1) + t.label_codes
        order = t.row_order  # (item, annotator) order: by code within an item, computed once
        items = t.item_codes[order]
        if not _sorted_within(items, code[order]):  # several ratings of one cell
            order = np.lexsort((code, t.item_codes))
            items = t.item_codes[order]
        per_item = np.bincount(items, minlength=t.n_items)
        slot = np.arange(items.size) - (np.cumsum(per_item) - per_item)[items]
        rows = np.full((t.n_items, int(per_item.max(initial=0))), -1, dtype=np.int64)
        rows[items, slot] = code[order]
        return _row_ranks(rows)

    def compact(self) -> ItemProfiles:
        """Drop all but the first ``keep`` named items of each profile (their multiplicity
        moves to the last one kept): O(n_ratings log n_ratings), vectorised."""
        keys = self.profile_keys()
        order = np.lexsort((np.arange(keys.size), keys))  # by profile, then item order
        sorted_keys = keys[order]
        rank = np.arange(keys.size) - np.searchsorted(sorted_keys, sorted_keys)
        kept = rank < self.keep
        # the last kept item of each profile carries the multiplicity of the dropped ones
        carrier = order[np.flatnonzero(kept & ((rank == self.keep - 1) | _last(sorted_keys)))]
        dropped = np.bincount(
            keys[order[~kept]],
            weights=self.multiplicity[order[~kept]],
            minlength=keys.max(initial=-1) + 1,
        ).astype(np.int64)
        mult = self.multiplicity.astype(np.int64).copy()
        mult[carrier] += dropped[keys[carrier]]
        mask = np.zeros(keys.size, dtype=bool)
        mask[order[kept]] = True
        return _subset_items(self, mask, mult[mask])

    def __add__(self, other: ItemProfiles) -> ItemProfiles:
        """Profiles of the union of two disjoint item sets (vocabularies re-encoded)."""
        if not isinstance(other, ItemProfiles):
            return NotImplemented
        a, b = self.table, other.table
        if a.schema != b.schema:
            raise UsageError("profiles of tables with different schemas do not add")
        shared = np.intersect1d(a.items.astype(str), b.items.astype(str))
        if shared.size:
            raise UsageError(
                f"item {shared[0]!r} is in both parts: profiles add over disjoint item sets"
            )
        data = pa.concat_tables([_canonical(self), _canonical(other)])
        raw = RawColumns(
            item=data.column("item"),
            annotator=data.column("annotator"),
            label=data.column("label"),
            rows=np.arange(data.num_rows),
            fields={"item": "item", "annotator": "annotator", "label": "label"},
            label_fields=None,
            extra={"multiplicity": data.column("multiplicity")},
        )
        merged = encode(raw, a.schema, Locator(a.source, lambda row: row + 1, "row"))
        mult = np.zeros(merged.n_items, dtype=np.int64)
        mult[merged.item_codes] = merged.data.column("multiplicity").to_numpy()
        table = _with_columns(merged, ("item", "annotator", "label"), a.source)
        return ItemProfiles(table, mult, min(self.keep, other.keep)).compact()

    def expand(self) -> AnnotationTable:
        """The finish step's table: every item of the data once (named items first, in
        their order, then the unnamed copies), ratings integer-coded as the named ones.

        With multiplicity 1 everywhere this is ``table`` itself. Copies are named
        ``"<name>#<k>"``; they rank after every named item, so no item list shows them.
        """
        t = self.table
        extra = self.multiplicity - 1
        if (extra < 0).any():
            raise UsageError("multiplicities must be at least 1")
        if not extra.any():
            return t
        source = np.repeat(np.arange(t.n_items), extra)  # source item of each copy
        order = np.argsort(t.item_codes, kind="stable")
        per_item = np.bincount(t.item_codes, minlength=t.n_items)
        starts = np.cumsum(per_item) - per_item
        lengths = per_item[source]
        copy = np.repeat(np.arange(source.size), lengths)
        offset = np.arange(copy.size) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        rows = order[starts[source][copy] + offset]
        within = np.arange(source.size) - np.searchsorted(source, source)
        names = np.char.add(
            np.char.add(t.items[source].astype(str), "#"), (within + 1).astype(str)
        ).astype(object)
        item_codes = np.concatenate([t.item_codes, t.n_items + copy])
        items = np.concatenate([t.items, names])
        return AnnotationTable(
            data=_data(items, t.annotators, t.categories, item_codes, t, rows),
            schema=t.schema,
            items=items,
            annotators=t.annotators,
            categories=t.categories,
            category_values=t.category_values,
            item_codes=item_codes,
            annotator_codes=np.concatenate([t.annotator_codes, t.annotator_codes[rows]]),
            label_codes=np.concatenate([t.label_codes, t.label_codes[rows]]),
            source=t.source,
            report=dict(t.report),
            category_scale=t.category_scale,
        )


def _data(
    items: np.ndarray,
    annotators: np.ndarray,
    categories: np.ndarray,
    item_codes: np.ndarray,
    t: AnnotationTable,
    rows: np.ndarray,
) -> pa.Table:
    """The canonical string columns of an expanded table (one take per column)."""
    annotator_codes = np.concatenate([t.annotator_codes, t.annotator_codes[rows]])
    label_codes = np.concatenate([t.label_codes, t.label_codes[rows]])
    return pa.table(
        {
            "item": pa.array(items, pa.string()).take(pa.array(item_codes)),
            "annotator": pa.array(annotators, pa.string()).take(pa.array(annotator_codes)),
            "label": pa.array(categories, pa.string()).take(pa.array(label_codes)),
        }
    )


def _canonical(profiles: ItemProfiles) -> pa.Table:
    """item, annotator, label (canonical strings) and each row's item multiplicity."""
    t = profiles.table
    return pa.table(
        {
            "item": pa.array(t.items, pa.string()).take(pa.array(t.item_codes)),
            "annotator": pa.array(t.annotators, pa.string()).take(pa.array(t.annotator_codes)),
            "label": pa.array(t.categories, pa.string()).take(pa.array(t.label_codes)),
            "multiplicity": pa.array(profiles.multiplicity[t.item_codes], pa.int64()),
        }
    )


def _with_columns(table: AnnotationTable, names: tuple[str, ...], source: str) -> AnnotationTable:
    """``table`` keeping only the ``names`` data columns, reporting ``source``."""
    from dataclasses import replace

    return replace(table, data=table.data.select(list(names)), source=source)


def _sorted_within(groups: np.ndarray, values: np.ndarray) -> bool:
    """True when ``values`` never decrease inside a run of equal ``groups``."""
    return bool(np.all((groups[1:] != groups[:-1]) | (values[1:] >= values[:-1])))


def _row_ranks(rows: np.ndarray) -> np.ndarray:
    """Index of each row among the distinct rows in lexicographic order (n_rows,): what
    ``np.unique(rows, axis=0, return_inverse=True)`` gives, by one ``lexsort`` of the
    columns (one sort of integers when a row fits in one) instead of a sort of the rows as
    structured records (10-30x faster)."""
    n, width = rows.shape
    if n == 0 or width == 0:
        return np.zeros(n, dtype=np.int64)
    base = int(rows.max()) + 2  # entries are -1 (padding) .. max: digits 0 .. base - 1
    new = np.ones(n, dtype=bool)
    if width * np.log2(base) < 62:  # each row is one integer in base `base`, same order
        key = np.zeros(n, dtype=np.int64)
        for column in rows.T:  # a loop over the (few) columns
            key = key * base + (column + 1)
        order = np.argsort(key, kind="stable")
        ordered_key = key[order]
        new[1:] = ordered_key[1:] != ordered_key[:-1]
    else:
        order = np.lexsort(rows.T[::-1])
        ordered = rows[order]
        new[1:] = (ordered[1:] != ordered[:-1]).any(axis=1)
    keys = np.empty(n, dtype=np.int64)
    keys[order] = np.cumsum(new) - 1
    return keys


def _last(sorted_keys: np.ndarray) -> np.ndarray:
    """True at the last position of each run of equal keys."""
    out = np.ones(sorted_keys.size, dtype=bool)
    out[:-1] = sorted_keys[1:] != sorted_keys[:-1]
    return out


def _subset_items(profiles: ItemProfiles, mask: np.ndarray, mult: np.ndarray) -> ItemProfiles:
    """The items under ``mask`` (item codes renumbered in order) with multiplicities."""
    t = profiles.table
    if mask.all():
        return ItemProfiles(t, mult, profiles.keep)
    rows = mask[t.item_codes]
    return ItemProfiles(t.filter_rows(rows), mult, profiles.keep)
