"""Agreement between annotators and between judges and humans, MT-Bench style.

Votes are compared in item terms (an item = a prompt and an unordered response pair;
classes: ``lo`` wins, ``hi`` wins, tie; ``both_bad`` is a tie and missing votes are left
out). Following Zheng et al. (2023) and FastChat's ``compute_agreement.py``:

- **with ties** (their setup S1): every vote of side A is paired with every vote of side B
  on the same item, and a pair agrees when both votes are equal (tie = tie); chance
  (random votes) is 1/3;
- **without ties** (S2): pairs in which either vote is a tie are dropped; chance is 1/2;
- within one group (e.g. human vs human) every unordered pair of votes by *different*
  annotators on the same item counts once.

A judge's verdict is paired with every human vote (no majority vote). The same vote pairs
give a 3 x 3 table (rows side A, columns side B; both orders within a group) whose Cohen's
kappa is reported (:func:`labelaudit.agreement.cohen.cohen_kappa`), and Krippendorff's
alpha (nominal) is computed over all votes of both sides on each item
(:func:`labelaudit.agreement.alpha.alpha_from_counts`). 95% intervals of every number
come from one bootstrap that resamples prompts (votes on one prompt are not independent),
with the same replicates (``bootstrap_item_weights`` over prompts) for every entry; the
replicates re-weight additive per-prompt statistics (:func:`kappa_rows`,
:func:`alpha_rows` restate the two coefficients for a batch of summed tables).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse

from labelaudit.agreement.alpha import alpha_from_counts
from labelaudit.agreement.cohen import cohen_kappa
from labelaudit.intervals import bootstrap_item_weights
from labelaudit.preferences._stats import percentile_ci
from labelaudit.preferences.position import pct
from labelaudit.preferences.records import PreferenceTable
from labelaudit.results import MetricResult, clean_number

__all__ = [
    "AgreementEntry",
    "agreement",
    "alpha_rows",
    "alpha_sums",
    "kappa_rows",
    "pair_tables",
]

_VALUES = np.array([0.0, 1.0, 2.0])


@dataclass(frozen=True)
class AgreementEntry:
    """Agreement of side ``a`` with side ``b`` (a group, a judge or one annotator)."""

    a: str
    b: str
    level: str
    n_items: int
    with_ties: dict[str, Any]
    without_ties: dict[str, Any]
    cohen_kappa: MetricResult
    krippendorff_alpha: MetricResult
    verdict: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (one entry of the contract's ``agreement`` list)."""
        return {
            "a": self.a,
            "b": self.b,
            "level": self.level,
            "n_items": self.n_items,
            "with_ties": clean_number(self.with_ties),
            "without_ties": clean_number(self.without_ties),
            "cohen_kappa": self.cohen_kappa.to_dict(),
            "krippendorff_alpha": self.krippendorff_alpha.to_dict(),
            "verdict": self.verdict,
        }


@dataclass(frozen=True)
class _Side:
    name: str
    members: np.ndarray  # bool over annotators


def _class_counts(codes: np.ndarray, outcome: np.ndarray, size: int) -> np.ndarray:
    """Votes per (local) item and class, shape (size, 3)."""
    keys = codes * 3 + outcome
    return np.bincount(keys, minlength=size * 3).reshape(-1, 3).astype(np.float64)


def _per_prompt(n_prompts: int, rows: np.ndarray, prompt: np.ndarray) -> np.ndarray:
    """Sum per-item rows (k, c) into their prompts, shape (n_prompts, c)."""
    matrix = sparse.csr_matrix(
        (np.ones(prompt.size), (prompt, np.arange(prompt.size))), shape=(n_prompts, prompt.size)
    )
    return np.asarray(matrix @ rows)


def pair_tables(
    table: PreferenceTable, valid: np.ndarray, a: _Side, b: _Side
) -> tuple[np.ndarray, np.ndarray, int]:
    """Per-prompt statistics of one comparison, its alpha counts and its number of items.

    Across sides, the vote-pair table of item i is ``C_a[i] C_b[i]'`` (every vote of a
    with every vote of b); within one side it is ``C[i] C[i]' - sum_r M_r[i] M_r[i]'``
    (ordered pairs of votes by different annotators r). Returns the per-prompt sums of the
    9 table cells and the 4 :func:`alpha_sums` columns, shape (n_prompts, 13); the (k, 3)
    vote counts of both sides on the k items either side voted on (for Krippendorff's
    alpha); and the number of items with at least one vote pair.
    """
    in_a = valid & a.members[table.annotator_codes]
    in_b = valid & b.members[table.annotator_codes]
    rows = np.flatnonzero(in_a | in_b)
    items, local = np.unique(table.item_codes[rows], return_inverse=True)
    prompt = table.item_prompt[items]
    outcome = table.outcome[rows]
    side_a = in_a[rows]
    counts_a = _class_counts(local[side_a], outcome[side_a], items.size)
    if a.name != b.name:
        counts_b = _class_counts(local[~side_a], outcome[~side_a], items.size)
        cells = (counts_a[:, :, None] * counts_b[:, None, :]).reshape(-1, 9)
        n_items = int(((counts_a.sum(axis=1) > 0) & (counts_b.sum(axis=1) > 0)).sum())
        counts = counts_a + counts_b
    else:
        cells = (counts_a[:, :, None] * counts_a[:, None, :]).reshape(-1, 9)
        key = local * table.n_annotators + table.annotator_codes[rows]
        unique, unit = np.unique(key, return_inverse=True)
        own = _class_counts(unit, outcome, unique.size)
        item_of = unique // table.n_annotators
        cells -= _per_prompt(items.size, (own[:, :, None] * own[:, None, :]).reshape(-1, 9),
                             item_of)  # fmt: skip
        own_square = np.bincount(item_of, weights=own.sum(axis=1) ** 2, minlength=items.size)
        n_items = int((counts_a.sum(axis=1) ** 2 - own_square > 0).sum())
        counts = counts_a
    stats = np.concatenate([cells, alpha_sums(counts)], axis=1)
    return _per_prompt(table.n_prompts, stats, prompt), counts, n_items


def _rates(tables: np.ndarray, within: bool) -> dict[str, np.ndarray]:
    """Agreement with and without ties and their pair counts, from (b, 9) summed tables."""
    scale = 0.5 if within else 1.0
    agree_t = tables[:, [0, 4, 8]].sum(axis=1) * scale
    pairs_t = tables.sum(axis=1) * scale
    agree_n = tables[:, [0, 4]].sum(axis=1) * scale
    pairs_n = tables[:, [0, 1, 3, 4]].sum(axis=1) * scale
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "with_ties": agree_t / pairs_t,
            "without_ties": agree_n / pairs_n,
            "n_with": pairs_t,
            "n_without": pairs_n,
        }


def kappa_rows(tables: np.ndarray) -> np.ndarray:
    """Unweighted Cohen's kappa of each flattened 3 x 3 table, shape (b, 9) -> (b,).

    The replicate form of :func:`labelaudit.agreement.cohen.cohen_kappa` (same
    ``(p_o - p_e) / (1 - p_e)``; NaN where undefined), vectorised over replicates.
    """
    t = tables.reshape(-1, 3, 3)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = t / t.sum(axis=(1, 2), keepdims=True)
        p_o = np.trace(p, axis1=1, axis2=2)
        p_e = np.einsum("bk,bk->b", p.sum(axis=2), p.sum(axis=1))
        return np.where(np.abs(1.0 - p_e) > 1e-12, (p_o - p_e) / (1.0 - p_e), np.nan)


def alpha_sums(counts: np.ndarray) -> np.ndarray:
    """Additive per-unit statistics of nominal alpha, shape (n_units, 4).

    Columns: ``Q_u / (m_u - 1)`` with ``Q_u = m_u^2 - sum_k n_uk^2`` (ordered pairs of
    different values) and the pairable counts ``n_uk`` (k = 0..2), 0 for units with fewer
    than two votes. Summed over units (or prompts), they give alpha by :func:`alpha_rows`.
    """
    m = counts.sum(axis=1)
    pairable = m >= 2
    inverse = np.divide(1.0, m - 1.0, out=np.zeros_like(m), where=pairable)
    q = (m**2 - (counts**2).sum(axis=1)) * inverse
    return np.column_stack([q, counts * pairable[:, None]])


def alpha_rows(sums: np.ndarray) -> np.ndarray:
    """Nominal Krippendorff's alpha from summed :func:`alpha_sums`, shape (b, 4) -> (b,).

    ``alpha = 1 - (n - 1) sum_u Q_u / (m_u - 1) / (n^2 - sum_c n_c^2)`` (Krippendorff
    2011), the replicate form of :func:`labelaudit.agreement.alpha.alpha_from_counts` for
    the nominal level; NaN where undefined.
    """
    marginals = sums[:, 1:]
    n = marginals.sum(axis=1)
    expected = n**2 - (marginals**2).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(expected > 0, 1.0 - (n - 1.0) * sums[:, 0] / expected, np.nan)


def _sides(
    table: PreferenceTable, valid: np.ndarray, min_shared: int, max_pairs: int
) -> list[tuple[_Side, _Side, str]]:
    """The (side a, side b, level) comparisons the data support."""
    voted = np.bincount(table.annotator_codes[valid], minlength=table.n_annotators) > 0
    human = voted & (table.annotator_kind == "human")
    humans = _Side("human", human)
    judges = [
        _Side(str(table.annotators[j]), np.arange(table.n_annotators) == j)
        for j in np.flatnonzero(voted & (table.annotator_kind == "judge"))
    ]
    out: list[tuple[_Side, _Side, str]] = []
    if human.any():
        out += [(judge, humans, "group") for judge in judges]
    if human.sum() >= 2:
        out.append((humans, humans, "group"))
    out += [(j1, j2, "group") for i, j1 in enumerate(judges) for j2 in judges[i + 1 :]]
    if human.sum() >= 3:
        out += _human_pairs(table, valid, human, min_shared, max_pairs)
    return out


def _human_pairs(
    table: PreferenceTable, valid: np.ndarray, human: np.ndarray, min_shared: int, max_pairs: int
) -> list[tuple[_Side, _Side, str]]:
    """Pairs of individual human annotators sharing at least ``min_shared`` items."""
    rows = valid & human[table.annotator_codes]
    incidence = sparse.csr_matrix(
        (np.ones(int(rows.sum())), (table.annotator_codes[rows], table.item_codes[rows])),
        shape=(table.n_annotators, table.n_items),
    )
    incidence.data[:] = 1.0
    incidence.sum_duplicates()
    incidence.data[:] = 1.0
    shared = sparse.triu(incidence @ incidence.T, k=1).tocoo()
    keep = shared.data >= min_shared
    order = np.argsort(-shared.data[keep], kind="stable")[:max_pairs]
    size = table.n_annotators
    return [
        (
            _Side(str(table.annotators[i]), np.arange(size) == i),
            _Side(str(table.annotators[j]), np.arange(size) == j),
            "pair",
        )
        for i, j in zip(shared.row[keep][order], shared.col[keep][order], strict=True)
    ]


def agreement(
    table: PreferenceTable,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    min_shared: int = 20,
    max_pairs: int = 50,
) -> list[AgreementEntry]:
    """MT-Bench agreement (with and without ties), Cohen's kappa and Krippendorff's alpha.

    Parameters
    ----------
    table : PreferenceTable
    n_boot : int, default 1000
        Bootstrap replicates (prompts resampled); 0 = no intervals.
    seed : int, default 0
    min_shared, max_pairs : int
        Individual human pairs are reported when they share at least ``min_shared``
        items (at most ``max_pairs`` pairs, most shared first), in addition to the groups.

    Returns
    -------
    list of AgreementEntry
        Each judge vs the humans, humans vs humans, judge vs judge, then human pairs.
    """
    valid = (table.outcome >= 0) & (table.first_codes != table.second_codes)
    comparisons = _sides(table, valid, min_shared, max_pairs)
    if not comparisons:
        return []
    parts = [pair_tables(table, valid, a, b) for a, b, _ in comparisons]
    stacked = np.concatenate([per_prompt for per_prompt, _, _ in parts], axis=1)
    boot = _bootstrap(table, stacked, comparisons, n_boot, seed)
    return [
        _entry(a, b, level, per_prompt.sum(axis=0)[:9], counts, n_items, boot[index])
        for index, ((a, b, level), (per_prompt, counts, n_items)) in enumerate(
            zip(comparisons, parts, strict=True)
        )
    ]


def _bootstrap(
    table: PreferenceTable,
    stacked: np.ndarray,
    comparisons: list[tuple[_Side, _Side, str]],
    n_boot: int,
    seed: int,
) -> list[dict[str, np.ndarray]]:
    """Replicates of every entry's numbers from one resampling of prompts.

    ``stacked`` holds 13 additive per-prompt statistics per entry (the 9 pair-table cells
    and the 4 alpha sums), so each replicate is one weighted sum over prompts.
    """
    names = ("with_ties", "without_ties", "kappa", "alpha")
    reps: list[dict[str, list[np.ndarray]]] = [{k: [] for k in names} for _ in comparisons]
    if n_boot > 0:
        columns = sparse.csc_matrix(stacked)
        for weights in bootstrap_item_weights(table.n_prompts, n_boot, seed):
            summed = np.asarray((columns.T @ weights.T).T)
            for index, (a, b, _) in enumerate(comparisons):
                block = summed[:, 13 * index : 13 * index + 13]
                rates = _rates(block[:, :9], a.name == b.name)
                reps[index]["with_ties"].append(rates["with_ties"])
                reps[index]["without_ties"].append(rates["without_ties"])
                reps[index]["kappa"].append(kappa_rows(block[:, :9]))
                reps[index]["alpha"].append(alpha_rows(block[:, 9:]))
    return [{k: np.concatenate(v) if v else np.zeros(0) for k, v in r.items()} for r in reps]


def _ci(replicates: np.ndarray) -> list[float] | None:
    if replicates.size == 0:
        return None
    low, high = percentile_ci(replicates[:, None])
    return None if np.isnan(low[0]) else [float(low[0]), float(high[0])]


def _entry(
    a: _Side,
    b: _Side,
    level: str,
    total: np.ndarray,
    counts: np.ndarray,
    n_items: int,
    boot: dict[str, np.ndarray],
) -> AgreementEntry:
    within = a.name == b.name
    rates = _rates(total[None, :], within)
    with_ties = {
        "agreement": rates["with_ties"][0],
        "n_pairs": round(float(rates["n_with"][0])),
        "chance": 1.0 / 3.0,
        "ci95": _ci(boot["with_ties"]),
    }
    without_ties = {
        "agreement": rates["without_ties"][0],
        "n_pairs": round(float(rates["n_without"][0])),
        "chance": 0.5,
        "ci95": _ci(boot["without_ties"]),
    }
    kappa = _with_ci(cohen_kappa(total.reshape(3, 3)), boot["kappa"])
    pairable = counts.sum(axis=1) >= 2
    alpha_value = float(alpha_from_counts(counts[pairable], _VALUES))
    alpha = (
        MetricResult.undefined("nothing pairable, or only one verdict used")
        if not np.isfinite(alpha_value)
        else _with_ci(MetricResult(alpha_value), boot["alpha"])
    )
    verdict = (
        f"{a.name} vs {b.name}: {pct(with_ties['agreement'])} agreement with ties "
        f"({with_ties['n_pairs']} vote pairs; chance 33.3%), "
        f"{pct(without_ties['agreement'])} without ties ({without_ties['n_pairs']}; chance 50%)"
    )
    return AgreementEntry(a.name, b.name, level, n_items, with_ties, without_ties, kappa,
                          alpha, verdict)  # fmt: skip


def _with_ci(result: MetricResult, replicates: np.ndarray) -> MetricResult:
    """The point estimate with the bootstrap SD and percentile interval (prompts resampled)."""
    if result.value is None:
        return result
    finite = replicates[np.isfinite(replicates)]
    extra = {k: v for k, v in result.extra.items() if k in ("p_o", "p_e")}
    if finite.size < 2:
        return MetricResult(result.value, reason="no bootstrap interval", extra=extra)
    return MetricResult(
        result.value,
        se=float(finite.std(ddof=1)),
        ci95=tuple(_ci(replicates) or (np.nan, np.nan)),  # type: ignore[arg-type]
        ci_method="bootstrap",
        extra=extra,
    )
