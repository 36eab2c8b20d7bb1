"""Annotator consistency: self-agreement on repeated items and transitivity of preferences.

- **Self-agreement**: every pair of votes one annotator gave on the same item (a prompt
  and a response pair) agrees when the verdicts are equal in item terms (tie = tie).
  Pairs shown in the same order and pairs shown in swapped orders are reported apart.
- **Transitivity**: within one annotator's votes on one prompt, the net verdict on each
  response pair (wins minus losses: a win, a loss or a tie) forms a tournament. Among the
  triads whose three pairs were all judged, a triad is *decisive* when no pair is a tie and
  *circular* when its verdicts form a cycle (A > B, B > C, C > A). For a complete decisive
  tournament of n responses with d circular triads, Kendall and Babington Smith's (1940)
  coefficient of consistence is ``zeta = 1 - 24 d / (n^3 - n)`` (n odd) or
  ``1 - 24 d / (n^3 - 4 n)`` (n even): 1 = perfectly transitive.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np

from labelaudit.intervals import wilson_interval
from labelaudit.preferences.position import pct
from labelaudit.preferences.records import PreferenceTable
from labelaudit.results import clean_number

__all__ = [
    "Consistency",
    "consistency",
    "consistency_support",
    "self_agreement",
    "transitivity",
]

_MAX_RESPONSES = 60  # larger tournaments per prompt are left out (C(60, 3) = 34,220 triads)
_CELLS = 1 << 23  # triad cells evaluated at once


@dataclass(frozen=True)
class Consistency:
    """Self-agreement and transitivity per annotator."""

    repeats: list[dict[str, Any]]
    transitivity: list[dict[str, Any]]
    notes: list[str]

    def to_dict(self) -> dict[str, Any]:
        """``{"repeats": [...], "transitivity": [...], "notes": [...]}``."""
        return {
            "repeats": [clean_number(r) for r in self.repeats],
            "transitivity": [clean_number(r) for r in self.transitivity],
            "notes": list(self.notes),
        }


def _valid(table: PreferenceTable) -> np.ndarray:
    return (table.outcome >= 0) & (table.first_codes != table.second_codes)


def self_agreement(table: PreferenceTable) -> list[dict[str, Any]]:
    """Agreement of each annotator with itself on repeated items (same and swapped order).

    Per (annotator, item) the votes are counted by orientation o and verdict k (n_ok);
    same-order pairs are sum_o C(N_o, 2), of which sum_ok C(n_ok, 2) agree; swapped pairs
    are N_0 N_1, of which sum_k n_0k n_1k agree.

    Returns
    -------
    list of dict
        Per annotator with a repeat: ``n_items`` (repeated items), ``same_order`` and
        ``swapped`` each ``{"n_pairs", "agreement", "ci95"}``.
    """
    rows = np.flatnonzero(_valid(table))
    key = table.annotator_codes[rows] * table.n_items + table.item_codes[rows]
    units, unit = np.unique(key, return_inverse=True)
    cell = unit * 6 + table.swapped[rows] * 3 + table.outcome[rows]
    n = np.bincount(cell, minlength=units.size * 6).reshape(-1, 2, 3).astype(np.float64)
    totals = n.sum(axis=2)
    same_pairs = (totals * (totals - 1) / 2).sum(axis=1)
    same_agree = (n * (n - 1) / 2).sum(axis=(1, 2))
    swapped_pairs = totals[:, 0] * totals[:, 1]
    swapped_agree = (n[:, 0, :] * n[:, 1, :]).sum(axis=1)
    owner, size = units // table.n_items, table.n_annotators
    per = np.stack(
        [np.bincount(owner, v, minlength=size)
         for v in (same_pairs, same_agree, swapped_pairs, swapped_agree, totals.sum(1) > 1)]
    )  # fmt: skip
    return [
        {
            "annotator": str(table.annotators[a]), "kind": str(table.annotator_kind[a]),
            "n_items": int(per[4, a]), "same_order": _rate(per[1, a], per[0, a]),
            "swapped": _rate(per[3, a], per[2, a]),
        }
        for a in np.flatnonzero(per[4] > 0)
    ]  # fmt: skip


def _rate(agree: float, pairs: float) -> dict[str, Any]:
    if pairs <= 0:
        return {"n_pairs": 0, "agreement": None, "ci95": None}
    low, high = wilson_interval(round(agree), round(pairs))
    return {"n_pairs": int(pairs), "agreement": agree / pairs, "ci95": [float(low), float(high)]}


# ---------------------------------------------------------------------------- transitivity
def _tournaments(table: PreferenceTable) -> dict[str, np.ndarray]:
    """Net verdict per (annotator, item) and the tournament (annotator, prompt) it joins."""
    rows = np.flatnonzero(_valid(table))
    key = table.annotator_codes[rows] * table.n_items + table.item_codes[rows]
    sign = np.array([1.0, -1.0, 0.0])[table.outcome[rows]]  # +1: lo beats hi
    edges, inverse = np.unique(key, return_inverse=True)
    net = np.sign(np.bincount(inverse, weights=sign))
    item = edges % table.n_items
    lo = np.zeros(table.n_items, dtype=np.int64)
    hi = np.zeros(table.n_items, dtype=np.int64)
    lo[table.item_codes[rows]], hi[table.item_codes[rows]] = table.lo[rows], table.hi[rows]
    annotator = edges // table.n_items
    group_key = annotator * table.n_prompts + table.item_prompt[item]
    groups, group = np.unique(group_key, return_inverse=True)
    nodes = np.concatenate(
        [group * table.n_responses + lo[item], group * table.n_responses + hi[item]]
    )
    node_keys, node = np.unique(nodes, return_inverse=True)
    node_group = node_keys // table.n_responses
    first_node = np.searchsorted(node_group, np.arange(groups.size))
    local = node - first_node[np.concatenate([group, group])]
    size = np.bincount(node_group, minlength=groups.size)
    return {"net": net, "group": group, "i": local[: net.size], "j": local[net.size :],
            "size": size, "annotator": groups // table.n_prompts}  # fmt: skip


def _triads(batch: np.ndarray, k: int, edges: dict[str, np.ndarray], sel: np.ndarray) -> np.ndarray:
    """Per group of ``batch``: complete, decisive and circular triads; shape (len(batch), 3)."""
    position = np.full(int(batch.max()) + 1, -1)
    position[batch] = np.arange(batch.size)
    m = np.full((batch.size, k, k), np.nan)
    g = position[edges["group"][sel]]
    m[g, edges["i"][sel], edges["j"][sel]] = edges["net"][sel]
    m[g, edges["j"][sel], edges["i"][sel]] = -edges["net"][sel]
    t = np.array(list(combinations(range(k), 3)))
    ab, bc, ac = m[:, t[:, 0], t[:, 1]], m[:, t[:, 1], t[:, 2]], m[:, t[:, 0], t[:, 2]]
    complete = np.isfinite(ab) & np.isfinite(bc) & np.isfinite(ac)
    decisive = complete & (ab != 0) & (bc != 0) & (ac != 0)
    circular = decisive & (ab == bc) & (ac == -ab)
    return np.stack([complete.sum(1), decisive.sum(1), circular.sum(1)], axis=1)


def transitivity(table: PreferenceTable) -> tuple[list[dict[str, Any]], list[str]]:
    """Circular triads and Kendall's zeta per annotator, over prompts with >= 3 responses.

    Returns
    -------
    (entries, notes)
        Per annotator with at least one complete triad: ``n_tournaments`` (prompts with
        >= 3 responses), ``n_triads`` (complete), ``n_decisive``, ``n_circular``,
        ``circular_rate`` (of decisive) with a Wilson ``ci95``, ``n_complete`` (complete
        decisive tournaments) and their ``mean_zeta`` / ``min_zeta``.
    """
    edges = _tournaments(table)
    size, notes = edges["size"], []
    if (size > _MAX_RESPONSES).any():
        notes.append(f"{int((size > _MAX_RESPONSES).sum())} tournaments with more than "
                     f"{_MAX_RESPONSES} responses left out")  # fmt: skip
    counts = np.zeros((size.size, 3))
    for k in np.unique(size[(size >= 3) & (size <= _MAX_RESPONSES)]):
        groups = np.flatnonzero(size == k)
        step = max(1, _CELLS // (k**3))
        for start in range(0, groups.size, step):
            batch = groups[start : start + step]
            sel = np.isin(edges["group"], batch)
            counts[batch] = _triads(batch, int(k), edges, sel)
    return _transitivity_entries(table, edges, counts), notes


def _zeta(n: np.ndarray, d: np.ndarray) -> np.ndarray:
    denominator = np.where(n % 2 == 1, n**3 - n, n**3 - 4 * n).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n >= 3, 1.0 - 24.0 * d / np.where(n >= 3, denominator, 1.0), np.nan)


def _transitivity_entries(
    table: PreferenceTable, edges: dict[str, np.ndarray], counts: np.ndarray
) -> list[dict[str, Any]]:
    size, owner = edges["size"], edges["annotator"]
    n_pairs = np.bincount(edges["group"], minlength=size.size)
    decisive_pairs = np.bincount(edges["group"], edges["net"] != 0, minlength=size.size)
    complete = (size >= 3) & (n_pairs == size * (size - 1) // 2) & (decisive_pairs == n_pairs)
    complete &= size <= _MAX_RESPONSES
    zeta = _zeta(size, counts[:, 2])
    out = []
    for a in np.unique(owner[counts[:, 0] > 0]):
        mine = owner == a
        total = counts[mine].sum(axis=0)
        low, high = wilson_interval(total[2], total[1])
        zetas = zeta[mine & complete]
        out.append({
            "annotator": str(table.annotators[a]), "kind": str(table.annotator_kind[a]),
            "n_tournaments": int((mine & (size >= 3)).sum()), "n_triads": int(total[0]),
            "n_decisive": int(total[1]), "n_circular": int(total[2]),
            "circular_rate": total[2] / total[1] if total[1] else None,
            "ci95": [float(low), float(high)] if total[1] else None, "n_complete": int(zetas.size),
            "mean_zeta": float(zetas.mean()) if zetas.size else None,
            "min_zeta": float(zetas.min()) if zetas.size else None,
        })  # fmt: skip
    return out


def consistency_support(table: PreferenceTable) -> str | None:
    """None when some annotator repeated an item or judged >= 3 responses of one prompt."""
    valid = _valid(table)
    key = table.annotator_codes[valid] * table.n_items + table.item_codes[valid]
    if np.unique(key).size < key.size:
        return None
    group = table.annotator_codes[valid] * table.n_prompts + table.prompt_codes[valid]
    nodes = np.unique(
        np.concatenate([group * table.n_responses + table.lo[valid],
                        group * table.n_responses + table.hi[valid]])
    )  # fmt: skip
    if (np.unique(nodes // table.n_responses, return_counts=True)[1] >= 3).any():
        return None
    return "no annotator repeated an item or compared three responses of one prompt"


def consistency(table: PreferenceTable) -> Consistency:
    """Self-agreement on repeats and transitivity; see the module docstring."""
    entries, notes = transitivity(table)
    repeats = self_agreement(table)
    return Consistency(repeats, entries, notes)


def describe_consistency(result: Consistency) -> list[str]:
    """Plain-language lines for the report."""
    lines = []
    for r in result.repeats:
        same, swapped = r["same_order"], r["swapped"]
        lines.append(
            f"{r['annotator']}: agrees with itself on {pct(same['agreement'])} of "
            f"{same['n_pairs']} repeated votes in the same order and {pct(swapped['agreement'])} "
            f"of {swapped['n_pairs']} in swapped order"
        )
    lines += [
        f"{r['annotator']}: {r['n_circular']} circular of {r['n_decisive']} decisive triads"
        for r in result.transitivity
    ]
    return lines
