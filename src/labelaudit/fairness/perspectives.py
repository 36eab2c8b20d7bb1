"""Perspectivist output: what each group of raters says about each item.

One row per (item, grouping, group) with the group's ratings of the item: their count,
their mean (numeric labels) and the group-conditional label distribution (soft label,
shares summing to 1), for teams that train on disagreement rather than on one label.
Groups whose figures are suppressed (too few raters) are not exported.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from labelaudit.exceptions import UsageError
from labelaudit.fairness.attributes import Grouping
from labelaudit.table import AnnotationTable

__all__ = ["PERSPECTIVE_FORMATS", "perspectives_table", "write_perspectives"]

PERSPECTIVE_FORMATS = (".jsonl", ".ndjson", ".parquet", ".pq")


def perspectives_table(
    table: AnnotationTable,
    groupings: list[Grouping],
    *,
    min_raters: int = 5,
    show_small_groups: bool = False,
) -> pa.Table:
    """Group-conditional label distribution per item, for annotator groupings.

    Parameters
    ----------
    table : AnnotationTable
    groupings : list of Grouping
        Item groupings (slices) are skipped: a slice has one value per item.
    min_raters, show_small_groups : int, bool
        Groups with fewer raters are left out unless ``show_small_groups`` (as in
        :func:`labelaudit.fairness.slices_report`, which lists them with their counts).

    Returns
    -------
    pyarrow.Table
        Columns ``item``, ``by``, ``group``, ``n_ratings``, ``mean``, ``soft_label``
        (struct with one share per category, in category order). Vectorised: one
        ``bincount`` over (item, group, label) per grouping.
    """
    q = table.n_categories
    parts = []
    for grouping in groupings:
        if grouping.kind != "annotator":
            continue
        g = grouping.codes[table.annotator_codes]
        n_groups = grouping.n_groups
        raters = grouping.units_per_group()
        shown = (raters >= min_raters) | (show_small_groups & (raters > 0))
        key = (table.item_codes * n_groups + g) * q + table.label_codes
        counts = np.bincount(key, minlength=table.n_items * n_groups * q).reshape(-1, q)
        n = counts.sum(axis=1)
        cells = np.flatnonzero((n > 0) & shown[np.arange(n.size) % n_groups])
        counts, n = counts[cells], n[cells]
        shares = counts / n[:, None]
        means = shares @ table.category_values
        soft = pa.StructArray.from_arrays(
            [pa.array(shares[:, k]) for k in range(q)], names=[str(c) for c in table.categories]
        )
        parts.append(
            pa.table(
                {
                    "item": pa.array(table.items[cells // n_groups].astype(str)),
                    "by": pa.array(np.full(cells.size, grouping.by, dtype=object), pa.string()),
                    "group": pa.array(
                        np.asarray(grouping.names, dtype=object)[cells % n_groups], pa.string()
                    ),
                    "n_ratings": pa.array(n.astype(np.int64)),
                    "mean": pa.array(means),
                    "soft_label": soft,
                }
            )
        )
    if not parts:
        raise UsageError("perspectives need at least one annotator attribute among --by")
    return pa.concat_tables(parts)


def write_perspectives(perspectives: pa.Table, path: str | Path) -> Path:
    """Write :func:`perspectives_table` as JSONL (one object per row, ``soft_label`` an
    object ``{category: share}``) or Parquet, by the file's extension."""
    target = Path(path)
    if target.suffix.lower() not in PERSPECTIVE_FORMATS:
        raise UsageError(
            f"cannot tell the perspectives format of {str(path)!r}; use one of "
            f"{', '.join(PERSPECTIVE_FORMATS)}"
        )
    from labelaudit.consensus.api import write_consensus

    return write_consensus(perspectives, target)  # the one table writer (JSONL / Parquet)
