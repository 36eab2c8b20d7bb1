"""Item profile keys (:meth:`labelaudit.table.profiles.ItemProfiles.profile_keys`).

Issue 15: at ingest of a large file the profiles were grouped by ``np.unique(rows,
axis=0)``, a sort of the padded rating rows as records; one ``lexsort`` of the columns
(and the table's cached (item, annotator) row order) gives the same numbering.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from labelaudit import AnnotationTable, read_annotations
from labelaudit.table.profiles import ItemProfiles


def _reference_keys(table: AnnotationTable) -> np.ndarray:
    """Profile keys as first defined: the padded sorted ratings, ``np.unique`` of rows."""
    code = table.annotator_codes * max(table.n_categories, 1) + table.label_codes
    order = np.lexsort((code, table.item_codes))
    items = table.item_codes[order]
    per_item = np.bincount(items, minlength=table.n_items)
    slot = np.arange(items.size) - (np.cumsum(per_item) - per_item)[items]
    rows = np.full((table.n_items, int(per_item.max(initial=0))), -1, dtype=np.int64)
    rows[items, slot] = code[order]
    return np.unique(rows, axis=0, return_inverse=True)[1].reshape(-1)


@pytest.mark.parametrize(("seed", "max_annotators"), [(s, 6) for s in range(8)] + [(8, 40)])
def test_profile_keys_equal_the_unique_rows_definition(seed: int, max_annotators: int) -> None:
    """Narrow rows (one integer each) and wide rows (40 annotators: sorted by columns)."""
    rng = np.random.default_rng(seed)
    n_items = int(rng.integers(1, 400))
    n_annotators = int(rng.integers(max_annotators // 2 + 1, max_annotators + 1))
    cells = rng.random((n_items, n_annotators)) < 0.7
    cells[:, 0] |= ~cells.any(axis=1)  # every item rated at least once
    item, annotator = np.nonzero(cells)
    shuffle = rng.permutation(item.size)
    frame = pa.table(
        {
            "item": [f"i{i}" for i in item[shuffle]],
            "annotator": [f"a{a}" for a in annotator[shuffle]],
            "label": rng.integers(0, 3, item.size).astype(str).tolist(),
        }
    )
    table = read_annotations(frame)
    keys = ItemProfiles.of_table(table).profile_keys()
    assert np.array_equal(keys, _reference_keys(table))
    assert keys.max() + 1 == np.unique(keys).size  # numbered 0..n_profiles-1
