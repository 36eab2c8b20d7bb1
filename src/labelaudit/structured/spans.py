"""Agreement on spans (NER, sequence labelling): pairwise span F1 and its disagreements.

For every pair of annotators of an item (rows r, s with annotator(r) < annotator(s)):

* **exact match**: a span of r matches a span of s with the same (start, end, label);
  one-to-one, so with duplicates TP = sum over distinct spans of min(count_r, count_s).
* **overlap match**: spans with the same label whose character ranges intersect
  (``min(end) - max(start) > 0``), matched one-to-one *greedily by largest overlap*:
  candidate edges are taken in the order (overlap length descending, union length
  ascending, then the two spans' (start, end) as an unordered pair, ascending) and an edge
  is kept when neither span is matched yet. The greedy matching is computed for all
  documents at once by the equivalent locally-dominant-edge iteration (an edge that is
  the best remaining edge of both its spans is kept; Preis 1999), which gives the same
  matching as the sequential greedy pass for a strict edge order.

With TP the matches of the pair, F1 = 2 TP / (|A| + |B|), which is symmetric in A and B
by construction (one matching, counted once). Per label, TP, |A| and |B| are restricted to
the label; micro F1 pools the labels. Each annotator pair's F1 is the ratio of its totals
over the items both annotated (Hripcsak & Rothschild 2005: pairwise F1 as agreement);
``span_f1`` is the mean over annotator pairs (pairs whose spans total 0 are left out).
Everything is content-based: the order of spans in an export, and the order of rows,
never changes a result. Offsets must be below 2**31.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

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

__all__ = ["SpanData", "SpanMatches", "span_data", "span_diagnostics", "span_f1", "span_matches"]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
_UNDEFINED = "no annotator pair marked any span on the items they share"
_SHIFT = np.int64(32)


@dataclass(frozen=True)
class SpanData:
    """Spans of a table (non-empty, in row order) with their codes.

    ``item``/``annotator`` are the codes of each span's row; ``labels`` the label names.
    """

    row: I64
    item: I64
    annotator: I64
    start: I64
    end: I64
    label: I64
    labels: npt.NDArray[np.object_]
    n_rows: int


def span_data(table: AnnotationTable) -> SpanData:
    """Explode the ``list<struct<start, end, label>>`` payload.

    Spans with a null offset and empty spans (end <= start) are dropped: they cover no
    character and can match nothing. Spans keep their row order (their order within a
    row never matters: everything downstream sorts by content).
    """
    parent, values = explode(payload_of(table))
    labels, label = code_strings(strings(values, "label"), table.schema.categories)
    start, end = numbers(values, "start"), numbers(values, "end")
    ok = np.isfinite(start) & np.isfinite(end)
    ok[ok] = end[ok] > start[ok]
    row = parent[ok]
    return SpanData(
        row=row,
        item=table.item_codes[row],
        annotator=table.annotator_codes[row],
        start=start[ok].astype(np.int64),
        end=end[ok].astype(np.int64),
        label=label[ok],
        labels=labels,
        n_rows=table.n_ratings,
    )


@dataclass(frozen=True)
class SpanMatches:
    """Row pairs and their matches.

    ``pair_r``/``pair_s`` (P,) are the rows of every annotator pair of an item. The overlap
    matches are ``a``/``b`` (span indices into :class:`SpanData`, annotator(a) <
    annotator(b)) with their row pair ``pair``; ``exact_a``/``exact_b``/``exact_pair`` the
    exact matches (identical spans, one-to-one).
    """

    pair_r: I64
    pair_s: I64
    a: I64
    b: I64
    pair: I64
    exact_a: I64
    exact_b: I64
    exact_pair: I64


def _orient(d: SpanData, i: I64, j: I64) -> tuple[I64, I64]:
    """(a, b) with annotator(a) < annotator(b)."""
    swap = d.annotator[i] > d.annotator[j]
    return np.where(swap, j, i), np.where(swap, i, j)


def _overlap_edges(d: SpanData) -> tuple[I64, I64]:
    """Candidate edges (a, b): same item and label, other row, intersecting ranges.

    Sorted by (item, label, start), the spans that intersect span i and start at or after
    it are the contiguous run of spans starting before end_i (a sweep with searchsorted),
    so the cost is the number of intersecting pairs, not the square of a group's size.
    """
    group = d.item * max(d.labels.size, 1) + d.label
    if int(group.max(initial=0)) < 2**31:
        packed = (group << _SHIFT) | d.start
        order = np.argsort(packed, kind="stable")
    else:  # pragma: no cover - more than 2**31 (item, label) groups
        order = np.lexsort((d.start, group))
    key = (group[order] << _SHIFT) | d.start[order]
    stop = np.searchsorted(key, (group[order] << _SHIFT) | d.end[order], side="left")
    count = np.maximum(stop - np.arange(order.size) - 1, 0)
    first = np.repeat(np.arange(order.size), count)
    i, j = order[first], order[first + 1 + run_offsets(count)]
    keep = d.row[i] != d.row[j]
    return _orient(d, i[keep], j[keep])


def _greedy(node_a: I64, node_b: I64, n_a: int, n_b: int) -> I64:
    """Greedy one-to-one matching of edges given in priority order (locally dominant edges).

    Returns the positions of the kept edges. Each round keeps every edge that is the first
    remaining edge of both its endpoints, then drops the edges touching a kept endpoint;
    for a strict order this is the matching of the sequential greedy pass.
    """
    alive = np.arange(node_a.size)
    kept = []
    while alive.size:
        a, b = node_a[alive], node_b[alive]
        position = np.arange(alive.size)
        best_a = np.full(n_a, alive.size)
        best_b = np.full(n_b, alive.size)
        np.minimum.at(best_a, a, position)
        np.minimum.at(best_b, b, position)
        take = (best_a[a] == position) & (best_b[b] == position)
        kept.append(alive[take])
        used_a = np.zeros(n_a, dtype=bool)
        used_b = np.zeros(n_b, dtype=bool)
        used_a[a[take]] = True
        used_b[b[take]] = True
        alive = alive[~(used_a[a] | used_b[b])]
    return np.concatenate(kept) if kept else np.zeros(0, dtype=np.int64)


def _node_ids(span: I64, partner: I64, n_partners: int) -> tuple[I64, int]:
    """Compact ids of the matching nodes (span, partner annotator)."""
    if span.size == 0:
        return span, 0
    raw = span * n_partners + partner
    if int(raw.max()) < 8 * raw.size + 1_000_000:
        present = np.bincount(raw) > 0
        return (np.cumsum(present) - 1)[raw], int(present.sum())
    _, ids = np.unique(raw, return_inverse=True)
    return ids.astype(np.int64), int(ids.max()) + 1


def _row_pair_index(pair_r: I64, pair_s: I64, r: I64, s: I64, n_rows: int) -> I64:
    """Index in (pair_r, pair_s) of every row pair (r, s)."""
    keys = pair_r * n_rows + pair_s
    order = np.argsort(keys)
    return order[np.searchsorted(keys[order], r * n_rows + s)]


def _priority(d: SpanData, a: I64, b: I64) -> I64:
    """Order of edges: overlap desc, union asc, then the unordered pair of (start, end)."""
    overlap = np.minimum(d.end[a], d.end[b]) - np.maximum(d.start[a], d.start[b])
    union = np.maximum(d.end[a], d.end[b]) - np.minimum(d.start[a], d.start[b])
    lo_first = (d.start[a] < d.start[b]) | ((d.start[a] == d.start[b]) & (d.end[a] <= d.end[b]))
    lo, hi = np.where(lo_first, a, b), np.where(lo_first, b, a)
    return np.lexsort(
        (
            a * max(d.row.size, 1) + b,
            (d.start[hi] << _SHIFT) | d.end[hi],
            (d.start[lo] << _SHIFT) | d.end[lo],
            ((-overlap) << _SHIFT) + union,
        )
    )


def _matchings(d: SpanData, a: I64, b: I64, n_ann: int) -> tuple[I64, I64]:
    """Positions of the greedy overlap matches and of the exact matches among the edges.

    An edge whose two spans have no other candidate is matched at once (the matching
    of an isolated edge needs no order); only the rest is sorted and matched greedily.
    """
    node_a, n_a = _node_ids(a, d.annotator[b], n_ann)
    node_b, n_b = _node_ids(b, d.annotator[a], n_ann)
    deg_a = np.bincount(node_a, minlength=n_a)
    deg_b = np.bincount(node_b, minlength=n_b)
    lone = (deg_a[node_a] == 1) & (deg_b[node_b] == 1)
    identical = (d.start[a] == d.start[b]) & (d.end[a] == d.end[b])
    rest = np.flatnonzero(~lone)
    rest = rest[_priority(d, a[rest], b[rest])]
    kept = rest[_greedy(node_a[rest], node_b[rest], n_a, n_b)]
    same = rest[identical[rest]]
    exact = same[_greedy(node_a[same], node_b[same], n_a, n_b)]
    overlap = np.sort(np.concatenate([np.flatnonzero(lone), kept]))
    return overlap, np.sort(np.concatenate([np.flatnonzero(lone & identical), exact]))


def span_matches(table: AnnotationTable, d: SpanData | None = None) -> SpanMatches:
    """Exact and greedy overlap matches of every annotator pair of every item, all at once."""
    d = span_data(table) if d is None else d
    pair_r, pair_s = row_pairs(table.item_codes, table.annotator_codes)
    a, b = _overlap_edges(d)
    kept, exact = _matchings(d, a, b, max(table.n_annotators, 1))
    pair = _row_pair_index(pair_r, pair_s, d.row[a], d.row[b], d.n_rows)
    return SpanMatches(
        pair_r, pair_s, a[kept], b[kept], pair[kept], a[exact], b[exact], pair[exact]
    )


def _label_counts(d: SpanData, m: SpanMatches) -> tuple[I64, I64, F64]:
    """(pair, label, spans of that label) entries of both rows of every pair (keys repeat)."""
    n_labels = max(d.labels.size, 1)
    keys, counts = np.unique(d.row * n_labels + d.label, return_counts=True)
    entry_row, entry_label = keys // n_labels, keys % n_labels
    size = np.bincount(entry_row, minlength=d.n_rows).astype(np.int64)
    start = np.cumsum(size) - size
    pairs, index = [], []
    for rows in (m.pair_r, m.pair_s):
        index.append(np.repeat(start[rows], size[rows]) + run_offsets(size[rows]))
        pairs.append(np.repeat(np.arange(rows.size), size[rows]))
    idx = np.concatenate(index)
    return np.concatenate(pairs), entry_label[idx], counts[idx].astype(np.float64)


def _f1_results(
    table: AnnotationTable,
    d: SpanData,
    m: SpanMatches,
    tp: tuple[I64, I64],
    options: dict[str, Any],
    label_counts: tuple[I64, I64, F64],
) -> dict[str, Any]:
    """``{"micro": MetricResult, "per_label": {label: MetricResult}}`` for one match kind."""
    n_ann = table.n_annotators
    group = table.annotator_codes[m.pair_r] * n_ann + table.annotator_codes[m.pair_s]
    item = table.item_codes[m.pair_r]
    tp_pair, tp_label = tp
    matched = Contributions(
        item[tp_pair], group[tp_pair], np.full(tp_pair.size, 2.0), np.zeros(tp_pair.size)
    )
    per_row = np.bincount(d.row, minlength=d.n_rows).astype(np.float64)
    spans = per_row[m.pair_r] + per_row[m.pair_s]
    micro = Contributions.concat([Contributions(item, group, np.zeros(group.size), spans), matched])
    out: dict[str, Any] = {"micro": mean_of_ratios(micro, **options), "per_label": {}}
    den_pair, den_label, den_count = label_counts
    both = Contributions.concat(
        [
            Contributions(item[den_pair], group[den_pair], np.zeros(den_pair.size), den_count),
            matched,
        ]
    )
    label = np.concatenate([den_label, tp_label])
    order = np.argsort(label, kind="stable")
    bounds = np.searchsorted(label[order], np.arange(d.labels.size + 1))
    for code, name in enumerate(d.labels.tolist()):
        part = order[bounds[code] : bounds[code + 1]]
        out["per_label"][str(name)] = mean_of_ratios(
            Contributions(both.item[part], both.group[part], both.num[part], both.den[part]),
            **options,
        )
    return out


def span_f1(
    table: AnnotationTable,
    *,
    ci: str = "analytic",
    n_boot: int = 1000,
    seed: int = 0,
    data: SpanData | None = None,
    matches: SpanMatches | None = None,
) -> dict[str, Any]:
    """Pairwise span F1, exact and overlap, micro and per label, averaged over annotator pairs.

    Parameters
    ----------
    table : AnnotationTable
        A ``spans`` table.
    ci, n_boot, seed
        Uncertainty: items are the resampling units (see
        :func:`labelaudit.structured._ratio.mean_of_ratios`).
    data, matches : optional
        Precomputed :func:`span_data` / :func:`span_matches` (to share work).

    Returns
    -------
    dict
        ``{"exact": {"micro": MetricResult, "per_label": {label: MetricResult}},
        "overlap": {...}}``. Each MetricResult's ``extra`` has ``n_groups`` (annotator
        pairs averaged) and ``n_items``. Cost: O(S log S) for S spans plus the intersecting
        span pairs.
    """
    d = span_data(table) if data is None else data
    m = span_matches(table, d) if matches is None else matches
    options: dict[str, Any] = {"ci": ci, "n_boot": n_boot, "seed": seed, "undefined": _UNDEFINED}
    counts = _label_counts(d, m)
    return {
        "exact": _f1_results(table, d, m, (m.exact_pair, d.label[m.exact_a]), options, counts),
        "overlap": _f1_results(table, d, m, (m.pair, d.label[m.a]), options, counts),
    }


def _text_of(table: AnnotationTable, rows: I64, start: I64, end: I64) -> list[str | None]:
    if "text" not in table.data.column_names:
        return [None] * rows.size
    texts = table.data.column("text").take(rows.tolist()).to_pylist()
    return [
        t[s:e] if isinstance(t, str) else None
        for t, s, e in zip(texts, start.tolist(), end.tolist(), strict=True)
    ]


def span_diagnostics(
    table: AnnotationTable,
    d: SpanData | None = None,
    m: SpanMatches | None = None,
    *,
    top: int = 10,
    examples: int = 3,
) -> dict[str, list[dict[str, Any]]]:
    """The most common label and boundary disagreements, with examples.

    Returns
    -------
    dict
        ``confusions``: spans with identical boundaries but different labels from two
        annotators, per label pair ``{"label_a", "label_b", "count", "share",
        "example_items"}`` (the categorical confusion shape; ``share`` of all such pairs).
        ``boundary_disagreements``: overlap matches (same label) whose boundaries differ,
        per label ``{"label", "count", "share" (of that label's overlap matches),
        "examples": [{"item", "a", "b", "span_a", "span_b", "text_a", "text_b"}]}``.
    """
    d = span_data(table) if d is None else d
    m = span_matches(table, d) if m is None else m
    return {
        "confusions": _label_confusions(table, d, top, examples),
        "boundary_disagreements": _boundary(table, d, m, top, examples),
    }


def _label_confusions(
    table: AnnotationTable, d: SpanData, top: int, examples: int
) -> list[dict[str, Any]]:
    order = np.lexsort((d.label, d.end, d.start, d.item))
    same = (d.item[order], d.start[order], d.end[order])
    new = np.ones(order.size, dtype=bool)
    if order.size:
        new[1:] = np.any([c[1:] != c[:-1] for c in same], axis=0)
    starts, sizes = group_runs(np.cumsum(new))
    first, second = pairs_within_groups(starts, sizes)
    i, j = order[first], order[second]
    keep = (d.row[i] != d.row[j]) & (d.label[i] != d.label[j])
    i, j = i[keep], j[keep]
    lo, hi = np.minimum(d.label[i], d.label[j]), np.maximum(d.label[i], d.label[j])
    n_labels = max(d.labels.size, 1)
    keys, inverse, counts = np.unique(lo * n_labels + hi, return_inverse=True, return_counts=True)
    total = float(counts.sum())
    out = []
    for rank in np.argsort(-counts, kind="stable")[:top].tolist():
        hits = np.unique(d.item[i[inverse == rank]])[:examples]
        out.append(
            {
                "label_a": str(d.labels[keys[rank] // n_labels]),
                "label_b": str(d.labels[keys[rank] % n_labels]),
                "count": int(counts[rank]),
                "share": float(counts[rank] / total),
                "example_items": [str(table.items[h]) for h in hits.tolist()],
            }
        )
    return out


def _boundary(
    table: AnnotationTable, d: SpanData, m: SpanMatches, top: int, examples: int
) -> list[dict[str, Any]]:
    a, b = m.a, m.b
    differ = (d.start[a] != d.start[b]) | (d.end[a] != d.end[b])
    n_labels = max(d.labels.size, 1)
    matched = np.bincount(d.label[a], minlength=n_labels)
    counts = np.bincount(d.label[a][differ], minlength=n_labels)
    out = []
    for code in np.argsort(-counts, kind="stable")[:top].tolist():
        if counts[code] == 0:
            break
        hit_a = a[differ & (d.label[a] == code)][:examples]
        hit_b = b[differ & (d.label[a] == code)][:examples]
        text_a = _text_of(table, d.row[hit_a], d.start[hit_a], d.end[hit_a])
        text_b = _text_of(table, d.row[hit_b], d.start[hit_b], d.end[hit_b])
        out.append(
            {
                "label": str(d.labels[code]),
                "count": int(counts[code]),
                "share": float(counts[code] / matched[code]),
                "examples": [
                    {
                        "item": str(table.items[d.item[x]]),
                        "a": str(table.annotators[d.annotator[x]]),
                        "b": str(table.annotators[d.annotator[y]]),
                        "span_a": [int(d.start[x]), int(d.end[x])],
                        "span_b": [int(d.start[y]), int(d.end[y])],
                        "text_a": ta,
                        "text_b": tb,
                    }
                    for x, y, ta, tb in zip(
                        hit_a.tolist(), hit_b.tolist(), text_a, text_b, strict=True
                    )
                ],
            }
        )
    return out
