"""A batch's annotations one row per item (``annotation_items``, store migration 13).

Ingest writes a batch's rows grouped by item (``labelaudit.project.ingest``), so each
item's rows can go in as one row: the item's code and name, and its rows' annotator and
label codes packed in one integer each, ``annotator * radix + label`` with ``radix`` the
batch's number of label codes. Against one row per annotation that is a quarter of the
values for DuckDB to compress and store (the batch id and item code once per item, one
packed code per annotation), in one statement with the item names; the
``annotation_codes`` view unnests them back into the same rows in the same order.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

__all__ = ["MAX_PACKED", "rows_per_item"]

#: The largest packed code (``annotator * radix + label``) the ``INTEGER[]`` column holds;
#: a batch whose codes do not fit is stored one row per annotation.
MAX_PACKED = 2**31 - 1


def rows_per_item(coded: dict[str, pa.DictionaryArray]) -> tuple[pa.Table, int] | None:
    """The rows as one row per item, or None when they cannot be stored so.

    Parameters
    ----------
    coded : dict of str to pyarrow.DictionaryArray
        ``item``, ``annotator`` and ``label``: each row's code and the field's names
        (code i is ``dictionary[i]``), all of one length n (the rows).

    Returns
    -------
    (table, radix) or None
        ``table`` has one row per item code 0 .. m - 1 (m: the item names): ``item``
        (int32), ``name`` (its name) and ``pairs`` (list of int32: the item's rows in
        the given order, each ``annotator * radix + label``); ``radix`` is the number of
        label names (at least 1). None when the rows are not grouped by item (item codes
        decrease somewhere: their order could not be kept) or the packed codes or the
        row count exceed :data:`MAX_PACKED` (or a code is missing: the row table's
        NOT NULL then refuses it).
    """
    if any(column.null_count for column in coded.values()):
        return None
    item = coded["item"].indices.to_numpy(zero_copy_only=False)
    radix = max(len(coded["label"].dictionary), 1)
    n_annotators = len(coded["annotator"].dictionary)
    if n_annotators * radix > MAX_PACKED or len(item) > MAX_PACKED:
        return None
    if len(item) > 1 and bool(np.any(item[1:] < item[:-1])):
        return None
    names = coded["item"].dictionary
    if not pa.types.is_string(names.type):
        names = names.cast(pa.string())
    pairs = coded["annotator"].indices.to_numpy(zero_copy_only=False).astype(np.int32)
    pairs *= np.int32(radix)
    pairs += coded["label"].indices.to_numpy(zero_copy_only=False)
    offsets = np.zeros(len(names) + 1, dtype=np.int32)
    np.cumsum(np.bincount(item, minlength=len(names)), out=offsets[1:])
    table = pa.table(
        {
            "item": pa.array(np.arange(len(names), dtype=np.int32)),
            "name": names,
            "pairs": pa.ListArray.from_arrays(pa.array(offsets), pa.array(pairs)),
        }
    )
    return table, radix
