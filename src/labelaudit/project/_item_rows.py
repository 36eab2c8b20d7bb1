"""A batch's annotations one row per item (``annotation_items``, store migration 13).

Ingest writes a batch's rows grouped by item (``labelaudit.project.ingest``), so each
item's rows can go in as one row: the item's code and name, and its rows' annotator and
label codes packed in one integer each, ``annotator << label_bits | label`` with
``label_bits`` the bits of the batch's largest label code (a shift and a mask unpack it:
a fifth less time than a division when the view reads 4.5M rows). Against one row per
annotation that is a quarter of the values for DuckDB to compress and store (the batch
id and item code once per item, one packed code per annotation), in one statement with
the item names; the ``annotation_codes`` view unnests them back into the same rows in the
same order.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

__all__ = ["MAX_PACKED", "rows_per_item"]

#: The largest packed code (``annotator << label_bits | label``) the ``INTEGER[]`` column holds;
#: a batch whose codes do not fit is stored one row per annotation.
MAX_PACKED = 2**31 - 1


def rows_per_item(coded: dict[str, pa.DictionaryArray]) -> tuple[pa.Table, int] | None:
    """The rows as one row per item, or None when they cannot be stored so.

    Parameters
    ----------
    coded : dict of str to pyarrow.DictionaryArray
        ``item``, ``annotator`` and ``label``: each row's code and the field's names as
        strings (code i is ``dictionary[i]``), all of one length n (the rows).

    Returns
    -------
    (table, label_bits) or None
        ``table`` has one row per item code 0 .. m - 1 (m: the item names): ``item``
        (int32), ``name`` (its name) and ``pairs`` (list of int32: the item's rows in
        the given order, each ``annotator << label_bits | label``); ``label_bits`` is the
        bit length of the largest label code (0 for one label). None when the rows are
        not grouped by item (item codes decrease somewhere: their order could not be
        kept), the packed codes or the row count exceed :data:`MAX_PACKED`, or a code
        is missing (the row table's NOT NULL then refuses it).
    """
    if any(column.null_count for column in coded.values()):
        return None
    item = coded["item"].indices.to_numpy(zero_copy_only=False)
    label_bits = max(len(coded["label"].dictionary) - 1, 0).bit_length()
    n_annotators = len(coded["annotator"].dictionary)
    if n_annotators << label_bits > MAX_PACKED + 1 or len(item) > MAX_PACKED:
        return None  # the largest packed code, (n_annotators << label_bits) - 1, too large
    if len(item) > 1 and bool(np.any(item[1:] < item[:-1])):
        return None
    names = coded["item"].dictionary
    pairs = coded["annotator"].indices.to_numpy(zero_copy_only=False).astype(np.int32)
    pairs <<= np.int32(label_bits)
    pairs |= coded["label"].indices.to_numpy(zero_copy_only=False)
    offsets = np.zeros(len(names) + 1, dtype=np.int32)
    np.cumsum(np.bincount(item, minlength=len(names)), out=offsets[1:])
    table = pa.table(
        {
            "item": pa.array(np.arange(len(names), dtype=np.int32)),
            "name": names,
            "pairs": pa.ListArray.from_arrays(pa.array(offsets), pa.array(pairs)),
        }
    )
    return table, label_bits
