"""LF analysis: Snorkel's ``LFAnalysis`` numbers, plus agreement and label-model accuracy.

Definitions (``snorkel/labeling/analysis.py``, 0.10) on the label matrix L (n, m), votes
in 0..k-1, -1 = abstain; v_ij = [L_ij != -1]; c_i = 1 when row i holds two different votes:

- polarity_j: the labels LF j ever votes; coverage_j = (1/n) sum_i v_ij;
- overlaps_j = (1/n) sum_i v_ij [sum_j' v_ij' >= 2]; conflicts_j = (1/n) sum_i v_ij c_i;
- with gold Y: correct_j / incorrect_j = votes equal / unequal to gold (items with gold);
  empirical accuracy = correct / (correct + incorrect), with a 95% Wilson interval. Snorkel
  prints 0 for an LF with no vote on a gold item; here it is null with a reason;
- label coverage / overlap / conflict: share of rows with >= 1 vote, >= 2 votes, c_i = 1.

Beyond Snorkel: each LF's mean Cohen's kappa with every other LF (on the items both voted),
Krippendorff's alpha of all LFs and of all LFs but this one (does it raise or lower
agreement?), its accuracy estimated by the label model (no gold needed), and the items on
which the LFs conflict most (largest minority share of the votes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from labelaudit.consensus.label_model import (
    LabelModel,
    class_balance_of,
    fit_mu,
    lf_accuracies,
    pair_counts,
)
from labelaudit.exceptions import UsageError
from labelaudit.intervals import wilson_interval
from labelaudit.results import Displayable, clean_number
from labelaudit.table import AnnotationTable

__all__ = ["LFAnalysis", "lf_analysis", "lf_analysis_matrix"]

#: Items listed in ``top_conflicts``.
TOP_CONFLICTS = 20


@dataclass(frozen=True)
class LFAnalysis(Displayable):
    """Per-LF statistics; ``to_dict()`` is the JSON contract.

    Attributes
    ----------
    n_records, n_lfs : int
        Rows of the label matrix (records, including those no LF voted on) and LFs.
    categories : list of str
    label_coverage, label_overlap, label_conflict : float
        Shares of records with >= 1 vote, >= 2 votes, conflicting votes.
    lfs : list of dict
        One record per LF: ``lf``, ``polarity``, ``coverage``, ``overlaps``, ``conflicts``,
        ``n_votes``, ``correct``, ``incorrect``, ``empirical_accuracy``,
        ``empirical_accuracy_ci95``, ``agreement_with_others`` (share of its pairings
        with another LF's vote on the same item that agree), ``kappa_with_others``,
        ``alpha_without``,
        ``estimated_accuracy`` (null where undefined; see ``reasons``).
    alpha : float or None
        Krippendorff's alpha (nominal) of all LFs.
    n_gold : int
        Records with a gold label (0 without gold).
    top_conflicts : list of dict
        ``item``, ``n_votes``, ``votes`` (label -> count), ``minority_share``.
    label_model : dict or None
        ``class_balance`` and ``solver`` of the fitted label model (None with < 3 LFs).
    reasons : dict of str to str
        Why a field is null.
    """

    n_records: int
    n_lfs: int
    categories: list[str]
    label_coverage: float
    label_overlap: float
    label_conflict: float
    lfs: list[dict[str, Any]]
    alpha: float | None
    n_gold: int
    top_conflicts: list[dict[str, Any]]
    label_model: dict[str, Any] | None
    reasons: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of the fields above; NaN becomes null."""
        return {
            "n_records": self.n_records,
            "n_lfs": self.n_lfs,
            "categories": list(self.categories),
            "label_coverage": clean_number(self.label_coverage),
            "label_overlap": clean_number(self.label_overlap),
            "label_conflict": clean_number(self.label_conflict),
            "alpha": clean_number(self.alpha),
            "n_gold": self.n_gold,
            "lfs": [{k: clean_number(v) for k, v in lf.items()} for lf in self.lfs],
            "top_conflicts": self.top_conflicts,
            "label_model": self.label_model,
            "reasons": dict(self.reasons),
        }


def _conflicted(L: np.ndarray, v: np.ndarray, k: int) -> np.ndarray:
    """Rows holding two different votes, shape (n,), bool."""
    high = L.max(axis=1, initial=-1)
    low = np.where(v, L, k).min(axis=1, initial=k)
    return (v.sum(axis=1) >= 2) & (low < high)


def _pair_kappas(counts: np.ndarray, m: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean Cohen's kappa of each LF with each other LF it shares items with, and the share
    of its pairings with another LF's vote on the same item that agree; shapes (m,).

    Pair tables T_ab (k, k) are blocks of ``counts`` (:func:`pair_counts`, the label
    model's O times n); kappa_ab = (p_o - p_e) / (1 - p_e) (Cohen 1960); pairs with p_e = 1
    or no shared item are left out; NaN for an LF with no defined pair. An LF that only
    ever votes one label has kappa 0 with any other (p_o = p_e): the agreement share is
    the informative one.
    """
    T = counts.reshape(m, k, m, k)
    total = T.sum(axis=(1, 3))
    rows, cols = T.sum(axis=3), T.sum(axis=1)  # (a, k, b), (a, b, k)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_o = np.einsum("akbk->ab", T) / total
        p_e = np.einsum("akb,abk->ab", rows, cols) / total**2
        kappa = (p_o - p_e) / (1.0 - p_e)
    defined = (total > 0) & (p_e < 1.0) & ~np.eye(m, dtype=bool)
    kappa = np.where(defined, kappa, 0.0)
    others = total * (1 - np.eye(m))
    agree = np.einsum("akbk->ab", T) * (1 - np.eye(m))
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_kappa = kappa.sum(axis=1) / defined.sum(axis=1)
        agreement = agree.sum(axis=1) / others.sum(axis=1)
    return np.asarray(mean_kappa), np.asarray(agreement)


def _nominal_alpha(m_u: np.ndarray, squares: np.ndarray, marginals: np.ndarray) -> float:
    """Krippendorff's alpha (nominal) from per-unit sizes m_u, sums of squared category
    counts and the pairable units' category totals: 1 - (n - 1) sum_u (m_u^2 - sum_c
    n_uc^2) / (m_u - 1) / (n^2 - sum_c n_c^2) over units with m_u >= 2 (Krippendorff
    2011); NaN when nothing is pairable or the expected disagreement is 0."""
    pairable = m_u >= 2
    total = float(m_u[pairable].sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        observed = float(((m_u**2 - squares)[pairable] / (m_u[pairable] - 1.0)).sum())
    expected = total**2 - float((marginals**2).sum())
    if total == 0 or expected <= 0:
        return float("nan")
    return 1.0 - (total - 1.0) * observed / expected


def _alphas(L: np.ndarray, v: np.ndarray, N: np.ndarray) -> tuple[float, np.ndarray]:
    """Krippendorff's alpha (nominal) of all LFs, and of all LFs but each one, shape (m,).

    ``N`` (n, k) counts the votes per row and label; leaving LF j out subtracts its vote
    from m_u, from sum_c n_uc^2 (by 2 n_{u,l} - 1) and from the totals: O(n k) per LF.
    """
    k = N.shape[1]
    counts = N.astype(np.float64)
    m_u = counts.sum(axis=1)
    squares = (counts**2).sum(axis=1)
    pairable = (m_u >= 2).astype(np.float64)
    overall = _nominal_alpha(m_u, squares, np.einsum("u,uc->c", pairable, counts))
    without = np.empty(L.shape[1])
    for j in range(L.shape[1]):  # one vectorised pass per LF (m is small)
        rows = np.flatnonzero(v[:, j])
        labels = L[rows, j].astype(np.int64)
        m_j = m_u.copy()
        m_j[rows] -= 1.0
        squares_j = squares.copy()
        squares_j[rows] -= 2.0 * counts[rows, labels] - 1.0
        pairable_j = m_j >= 2
        totals = np.einsum("u,uc->c", pairable_j.astype(np.float64), counts)
        totals -= np.bincount(labels[pairable_j[rows]], minlength=k)
        without[j] = _nominal_alpha(m_j, squares_j, totals)
    return overall, without


def _top_conflicts(
    N: np.ndarray, c: np.ndarray, items: np.ndarray, categories: list[str], top: int
) -> list[dict[str, Any]]:
    """The conflicted rows (``c``) with the largest minority share (then the most votes);
    ``N`` (n, k) counts each row's votes per label."""
    rows = np.flatnonzero(c)
    if rows.size == 0:
        return []
    k = len(categories)
    counts = N[rows]
    n_votes = counts.sum(axis=1)
    minority = 1.0 - counts.max(axis=1) / n_votes
    order = np.lexsort((rows, -n_votes, -minority))[:top]
    return [
        {
            "item": str(items[rows[i]]),
            "n_votes": int(n_votes[i]),
            "votes": {categories[y]: int(counts[i, y]) for y in range(k) if counts[i, y]},
            "minority_share": float(minority[i]),
        }
        for i in order
    ]


def lf_analysis_matrix(
    L: Any,
    Y: Any = None,
    *,
    lf_names: Any = None,
    categories: Any = None,
    items: Any = None,
    class_balance: Any = None,
    top: int = TOP_CONFLICTS,
) -> LFAnalysis:
    """LF analysis of a label matrix (Snorkel's input).

    Parameters
    ----------
    L : array of int, shape (n, m)
        Votes 0..k-1, -1 = abstain.
    Y : array of int, shape (n,), optional
        Gold codes, -1 = no gold for that row.
    lf_names, categories, items : sequences, optional
        Names of the m LFs (default ``lf_0``...), the k categories (default ``0``..``k-1``;
        k = at least the largest vote or gold + 1, and 2) and the n rows (default ``0``..).
    class_balance : sequence or str, optional
        Prior of the label model that estimates each LF's accuracy.
    top : int
        Rows of ``top_conflicts``.

    Returns
    -------
    LFAnalysis
    """
    L = np.asarray(L)
    if L.ndim != 2 or L.dtype.kind not in "iu":
        raise UsageError(f"L must be a 2-D array of ints (-1 = abstain); got {L.dtype} {L.shape}")
    n, m = L.shape
    gold = None if Y is None else np.asarray(Y, dtype=np.int64)
    if gold is not None and gold.shape != (n,):
        raise UsageError(f"Y must have one gold code per row of L ({n}); got shape {gold.shape}")
    k = max(int(L.max(initial=-1)) + 1, 2, 0 if gold is None else int(gold.max(initial=-1)) + 1)
    names = [str(x) for x in (lf_names if lf_names is not None else [f"lf_{j}" for j in range(m)])]
    labels = [str(x) for x in (categories if categories is not None else range(k))]
    k = max(k, len(labels))
    rows = np.asarray(items if items is not None else np.arange(n)).astype(str)
    votes = L.astype(_vote_type(k))
    return _analyse(votes, gold, k, names, labels, rows, class_balance, top)


def lf_analysis(
    votes: AnnotationTable,
    *,
    gold: Any = None,
    n_records: int | None = None,
    class_balance: Any = None,
    top: int = TOP_CONFLICTS,
) -> LFAnalysis:
    """LF analysis of a vote table (each LF an annotator, an abstain an absent row).

    Parameters
    ----------
    votes : AnnotationTable
        From :func:`labelaudit.weak.apply_lfs` or any reader (e.g. ``lf apply --out``).
    gold : GoldLabels or dict of str to str, optional
        Gold labels of some items (:func:`labelaudit.quality.read_gold`, or item -> label).
    n_records : int, optional
        Records the LFs ran on, including those no LF voted on (the denominator of
        coverage); default ``votes.report["n_records"]`` when the applier set it, else the
        items of the table.
    class_balance, top
        As in :func:`lf_analysis_matrix`.

    Raises
    ------
    UsageError
        ``n_records`` smaller than the number of items voted on.
    """
    covered = votes.n_items
    n = int(n_records or votes.report.get("n_records") or covered)
    if n < covered:
        raise UsageError(f"n_records ({n}) is smaller than the {covered} items with a vote")
    L = np.full((n, votes.n_annotators), -1, dtype=_vote_type(votes.n_categories))
    L[votes.item_codes, votes.annotator_codes] = votes.label_codes
    Y = np.full(n, -1, dtype=np.int64)
    if gold is not None:
        lookup = _gold_codes(votes, gold)
        Y[:covered] = lookup
    items = np.concatenate([votes.items.astype(str), np.full(n - covered, "", dtype=object)])
    labels = [str(c) for c in votes.categories]
    result = _analyse(L, Y, len(labels), list(votes.annotators.astype(str)), labels, items,
                      class_balance, top)  # fmt: skip
    n_gold = int((Y >= 0).sum())
    return result if gold is None else _with_gold_count(result, n_gold)


def _vote_type(k: int) -> type[np.signedinteger[Any]]:
    """The smallest int type holding votes 0..k-1 and -1 (int8 for up to 127 labels)."""
    return np.int8 if k < 127 else np.int32


def _gold_codes(votes: AnnotationTable, gold: Any) -> np.ndarray:
    """Gold code of every item of ``votes``, -1 where it has none."""
    if hasattr(gold, "item_lookup"):
        return np.asarray(gold.item_lookup(votes.n_items))
    import pyarrow as pa

    from labelaudit.quality.gold import align_gold
    from labelaudit.table import Locator

    pairs = dict(gold)
    aligned = align_gold(
        votes,
        pa.array([str(k) for k in pairs], type=pa.string()),
        pa.array([str(v) for v in pairs.values()], type=pa.string()),
        locator=Locator("gold", lambda row: row + 1, unit="entry"),
    )
    return np.asarray(aligned.item_lookup(votes.n_items))


def _with_gold_count(result: LFAnalysis, n_gold: int) -> LFAnalysis:
    from dataclasses import replace

    return replace(result, n_gold=n_gold)


def _analyse(
    L: np.ndarray,
    Y: np.ndarray | None,
    k: int,
    names: list[str],
    labels: list[str],
    items: np.ndarray,
    class_balance: Any,
    top: int,
) -> LFAnalysis:
    n, m = L.shape
    v = L >= 0
    n_votes = v.sum(axis=1)
    c = _conflicted(L, v, k)
    share = 1.0 / max(n, 1)
    coverage = v.sum(axis=0) * share
    overlaps = (v & (n_votes >= 2)[:, None]).sum(axis=0) * share
    conflicts = (v & c[:, None]).sum(axis=0) * share
    per_label = np.stack([np.equal(L, y).sum(axis=0) for y in range(k)], axis=1)  # (m, k)
    reasons: dict[str, str] = {}
    gold_stats = _gold_stats(L, v, Y, reasons)
    N = np.stack([np.equal(L, y).sum(axis=1) for y in range(k)], axis=1)  # (n, k)
    counts = pair_counts(L, k)
    kappa, agreement = _pair_kappas(counts, m, k)
    alpha, without = _alphas(L, v, N)
    estimated, model = _estimated(counts, n, coverage, k, class_balance, reasons)
    lfs = []
    for j in range(m):  # one record per LF: m dicts
        record: dict[str, Any] = {
            "lf": names[j],
            "polarity": [labels[y] for y in np.flatnonzero(per_label[j])],
            "coverage": float(coverage[j]),
            "overlaps": float(overlaps[j]),
            "conflicts": float(conflicts[j]),
            "n_votes": int(per_label[j].sum()),
        }
        record.update({key: values[j] for key, values in gold_stats.items()})
        record["agreement_with_others"] = float(agreement[j])
        record["kappa_with_others"] = float(kappa[j])
        record["alpha_without"] = float(without[j])
        record["estimated_accuracy"] = None if estimated is None else float(estimated[j])
        lfs.append(record)
    return LFAnalysis(
        n_records=n, n_lfs=m, categories=labels,
        label_coverage=float((n_votes >= 1).sum() * share),
        label_overlap=float((n_votes >= 2).sum() * share),
        label_conflict=float(c.sum() * share),
        lfs=lfs, alpha=alpha, n_gold=0 if Y is None else int((Y >= 0).sum()),
        top_conflicts=_top_conflicts(N, c, items, labels, top),
        label_model=model, reasons=reasons,
    )  # fmt: skip


def _gold_stats(
    L: np.ndarray, v: np.ndarray, Y: np.ndarray | None, reasons: dict[str, str]
) -> dict[str, list[Any]]:
    """correct, incorrect, empirical accuracy and its Wilson interval per LF (gold rows)."""
    m = L.shape[1]
    if Y is None or not bool((Y >= 0).any()):
        reasons["empirical_accuracy"] = "no gold labels"
        none = [None] * m
        return {"correct": none, "incorrect": none, "empirical_accuracy": none,
                "empirical_accuracy_ci95": none}  # fmt: skip
    judged = v & (Y >= 0)[:, None]
    correct = (judged & (Y[:, None] == L)).sum(axis=0)
    incorrect = judged.sum(axis=0) - correct
    trials = correct + incorrect
    low, high = wilson_interval(correct, trials)
    with np.errstate(divide="ignore", invalid="ignore"):
        accuracy = np.where(trials > 0, correct / np.maximum(trials, 1), np.nan)
    if bool((trials == 0).any()):
        reasons["empirical_accuracy"] = (
            "null for an LF with no vote on a gold item (Snorkel prints 0)"
        )
    return {
        "correct": [int(x) for x in correct],
        "incorrect": [int(x) for x in incorrect],
        "empirical_accuracy": [None if np.isnan(a) else float(a) for a in accuracy],
        "empirical_accuracy_ci95": [
            None if t == 0 else [float(a), float(b)]
            for a, b, t in zip(low, high, trials, strict=True)
        ],
    }


def _estimated(
    counts: np.ndarray,
    n: int,
    coverage: np.ndarray,
    k: int,
    class_balance: Any,
    reasons: dict[str, str],
) -> tuple[np.ndarray | None, dict[str, Any] | None]:
    """Each LF's accuracy estimated by the label model (None with fewer than 3 LFs),
    fitted on the pair counts already computed (O = counts / n)."""
    if coverage.size < 3:
        reasons["estimated_accuracy"] = "the label model needs at least 3 LFs"
        return None, None
    p = np.full(k, 1.0 / k) if class_balance is None else class_balance_of(class_balance, k)
    mu, _ = fit_mu(counts / max(n, 1), p, n=n)
    return lf_accuracies(mu, p, coverage), {
        "method": LabelModel.cli_name,
        "solver": "lbfgs",
        "class_balance": [float(x) for x in p],
    }
