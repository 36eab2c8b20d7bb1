"""Agreement on rankings: Kendall's W (with the ties correction) and pairwise Kendall tau-b.

An item is one ranking task (e.g. the responses to one prompt); each annotator's payload
ranks some ids (rank 1 = best, ties share a rank). Annotations with no valid rank are left
out. Per item, the ids that *every* remaining annotator of the item ranked are kept (the
others are dropped and counted in ``n_ids_dropped``) and re-ranked among themselves with
average ranks for ties, so every annotator of an item ranks the same n objects.

* Kendall's W per item (Kendall & Babington Smith 1939; ties correction as in Siegel &
  Castellan 1988, eq. 9.16)::

      W = 12 S / (m^2 (n^3 - n) - m sum_j T_j),  S = sum_i (R_i - m (n + 1) / 2)^2,
      T_j = sum over tie groups of annotator j of (t^3 - t)

  with m annotators, n objects and R_i the rank sum of object i. ``kendall_w`` is the
  mean of W over the items with m >= 2, n >= 2 and a positive denominator (one item:
  W itself, with Friedman's chi2 = m (n - 1) W on n - 1 df and its p-value).
* Kendall's tau-b between two annotators of an item (Kendall 1945: concordant minus
  discordant pairs over sqrt((P - T_a)(P - T_b))), the same statistic as
  ``scipy.stats.kendalltau``; ``kendall_tau`` is the mean over items of the mean tau-b of
  the item's annotator pairs. Per-pair means are in :func:`pairwise_tau`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from labelaudit.results import MetricResult
from labelaudit.structured._explode import (
    code_strings,
    explode,
    group_runs,
    numbers,
    pairs_within_groups,
    row_pairs,
    run_offsets,
    strings,
)
from labelaudit.structured._payload import payload_of
from labelaudit.structured._ratio import Contributions, mean_of_ratios
from labelaudit.table.table import AnnotationTable

__all__ = ["Rankings", "kendall_w_per_item", "pairwise_tau", "ranking_metrics", "rankings"]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Rankings:
    """Common-id rankings, one element per (row, object), sorted by (row, object id).

    ``rank`` holds the average ranks among the kept objects; ``row_start``/``row_size``
    index each row's elements (size 0 for rows without a ranking).
    """

    row: I64
    obj: I64
    rank: F64
    row_start: I64
    row_size: I64
    n_dropped: int
    names: npt.NDArray[np.object_] | None = None


def _average_ranks(row: I64, value: F64) -> F64:
    """Average rank (1-based) of each value within its row; ties share the mean rank."""
    order = np.lexsort((value, row))
    _, sizes = group_runs(row[order])
    position = run_offsets(sizes).astype(np.float64) + 1.0
    tie_start, tie_size = _tie_runs(row[order], value[order])
    tie_mean = np.add.reduceat(position, tie_start) / tie_size if tie_start.size else position
    out = np.empty(value.size)
    out[order] = np.repeat(tie_mean, tie_size)
    return out


def _tie_runs(row: I64, value: F64) -> tuple[I64, I64]:
    """Runs of equal (row, value) in arrays sorted by (row, value)."""
    if row.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    new = np.ones(row.size, dtype=bool)
    new[1:] = (row[1:] != row[:-1]) | (value[1:] != value[:-1])
    starts = np.flatnonzero(new).astype(np.int64)
    return starts, np.diff(np.append(starts, row.size)).astype(np.int64)


def rankings(table: AnnotationTable) -> Rankings:
    """Explode the ranking payload, keep the ids every annotator of an item ranked, re-rank."""
    parent, values = explode(payload_of(table))
    names, ids = code_strings(strings(values, "id"))
    rank = numbers(values, "rank")
    ok = np.isfinite(rank)
    parent, ids, rank = parent[ok], ids[ok], rank[ok]
    n_ids = int(ids.max()) + 1 if ids.size else 1
    _, first = np.unique(parent * n_ids + ids, return_index=True)  # one rank per (row, id)
    parent, ids, rank = parent[first], ids[first], rank[first]
    m = np.bincount(table.item_codes[np.unique(parent)], minlength=table.n_items)
    item = table.item_codes[parent]
    key = item * n_ids + ids
    _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    common = counts[inverse] == m[item]
    n_dropped = int((~common).sum())
    parent, ids, rank = parent[common], ids[common], rank[common]
    order = np.lexsort((ids, parent))
    parent, ids, rank = parent[order], ids[order], rank[order]
    new_rank = _average_ranks(parent, rank) if parent.size else rank
    sizes = np.bincount(parent, minlength=table.n_ratings).astype(np.int64)
    return Rankings(parent, ids, new_rank, np.cumsum(sizes) - sizes, sizes, n_dropped, names)


def kendall_w_per_item(table: AnnotationTable, data: Rankings) -> tuple[I64, F64, I64, I64]:
    """Kendall's W of every item where it is defined.

    Returns ``(items, w, m, n)``: item codes, W, annotators and objects of each.
    """
    item = table.item_codes[data.row]
    ranked = data.row_size > 0
    m = np.bincount(table.item_codes[ranked], minlength=table.n_items).astype(np.float64)
    n = np.zeros(table.n_items)
    n[table.item_codes[ranked]] = data.row_size[ranked]  # every ranking of an item has n ids
    n_obj = int(data.obj.max()) + 1 if data.obj.size else 1
    _, inv = np.unique(item * n_obj + data.obj, return_inverse=True)
    rank_sum = np.bincount(inv, data.rank)
    obj_item = np.zeros(rank_sum.size, dtype=np.int64)
    obj_item[inv] = item
    mean = m[obj_item] * (n[obj_item] + 1.0) / 2.0
    s = np.bincount(obj_item, (rank_sum - mean) ** 2, minlength=table.n_items)
    tie_row, tie_rank = _by_row_rank(data)
    tie_start, tie_size = _tie_runs(tie_row, tie_rank)
    tie_item = table.item_codes[tie_row[tie_start]]
    t = np.bincount(tie_item, tie_size**3.0 - tie_size, minlength=table.n_items)
    denominator = m**2 * (n**3 - n) - m * t
    ok = (m >= 2) & (n >= 2) & (denominator > 0)
    items = np.flatnonzero(ok)
    return items, 12.0 * s[ok] / denominator[ok], m[ok].astype(np.int64), n[ok].astype(np.int64)


def _by_row_rank(data: Rankings) -> tuple[I64, F64]:
    order = np.lexsort((data.rank, data.row))
    return data.row[order], data.rank[order]


def _kendall_w(
    table: AnnotationTable, data: Rankings, ci: str, n_boot: int, seed: int
) -> MetricResult:
    items, w, m, n = kendall_w_per_item(table, data)
    info: dict[str, Any] = {"n_ids_dropped": data.n_dropped}
    if items.size == 1:
        from scipy import stats

        chi2 = float(m[0] * (n[0] - 1) * w[0])
        info |= {"chi2": chi2, "df": int(n[0] - 1), "p_value": float(stats.chi2.sf(chi2, n[0] - 1))}
    return mean_of_ratios(
        Contributions(items, np.zeros_like(items), w, np.ones_like(w)),
        ci=ci,
        n_boot=n_boot,
        seed=seed,
        undefined="no item has two annotators ranking two or more common ids (or all tied)",
        extra=info,
    )


def _pair_tau(table: AnnotationTable, data: Rankings) -> tuple[I64, I64, F64]:
    """(row_r, row_s, tau_b) for every annotator pair of an item with a defined tau-b."""
    first, second = pairs_within_groups(data.row_start, data.row_size)
    sign = np.sign(data.rank[first] - data.rank[second])
    n_pairs = data.row_size * (data.row_size - 1) // 2
    pair_start = np.cumsum(n_pairs) - n_pairs
    r, s = row_pairs(table.item_codes, table.annotator_codes)
    count = n_pairs[r]
    keep = (count > 0) & (n_pairs[s] > 0)
    r, s, count = r[keep], s[keep], count[keep]
    offset = run_offsets(count)
    which = np.repeat(np.arange(r.size), count)
    sr = sign[np.repeat(pair_start[r], count) + offset]
    ss = sign[np.repeat(pair_start[s], count) + offset]
    concordance = np.bincount(which, sr * ss, minlength=r.size)
    untied_r = np.bincount(which, sr != 0, minlength=r.size)
    untied_s = np.bincount(which, ss != 0, minlength=r.size)
    ok = (untied_r > 0) & (untied_s > 0)
    tau = concordance[ok] / np.sqrt(untied_r[ok] * untied_s[ok])
    return r[ok], s[ok], tau


def pairwise_tau(table: AnnotationTable, data: Rankings | None = None) -> list[dict[str, Any]]:
    """Mean Kendall tau-b of every annotator pair over the items both ranked.

    Returns a list of ``{"a", "b", "n_items", "kendall_tau"}`` sorted by annotator names.
    """
    data = rankings(table) if data is None else data
    r, s, tau = _pair_tau(table, data)
    a, b = table.annotator_codes[r], table.annotator_codes[s]
    keys, inv = np.unique(a * table.n_annotators + b, return_inverse=True)
    n = np.bincount(inv)
    mean = np.bincount(inv, tau) / n
    names = table.annotators
    return [
        {
            "a": str(names[k // table.n_annotators]),
            "b": str(names[k % table.n_annotators]),
            "n_items": int(c),
            "kendall_tau": float(v),
        }
        for k, c, v in zip(keys.tolist(), n.tolist(), mean.tolist(), strict=True)
    ]


def ranking_metrics(
    table: AnnotationTable,
    *,
    ci: str = "analytic",
    n_boot: int = 1000,
    seed: int = 0,
    data: Rankings | None = None,
) -> dict[str, MetricResult]:
    """``kendall_w`` and ``kendall_tau`` (means over items; see the module docstring)."""
    data = rankings(table) if data is None else data
    r, _, tau = _pair_tau(table, data)
    items, inv = np.unique(table.item_codes[r], return_inverse=True)
    per_item = np.bincount(inv, tau) / np.bincount(inv) if items.size else np.zeros(0)
    return {
        "kendall_w": _kendall_w(table, data, ci, n_boot, seed),
        "kendall_tau": mean_of_ratios(
            Contributions(items, np.zeros_like(items), per_item, np.ones_like(per_item)),
            ci=ci,
            n_boot=n_boot,
            seed=seed,
            undefined="no annotator pair ranked two or more common, untied ids",
            extra={"n_ids_dropped": data.n_dropped},
        ),
    }
