"""Agreement on multi-label annotations (a set of labels per item and annotator).

* Krippendorff's alpha with the MASI and the Jaccard distance between label sets
  (Passonneau 2006, *Measuring agreement on set-valued items (MASI) for semantic and
  pragmatic annotation*, LREC). MASI = 1 - J x M with J = |A & B| / |A | B| and
  M = 1 (identical), 2/3 (one a subset of the other), 1/3 (overlap, neither a subset),
  0 (disjoint) - exact thirds, as NLTK >= 3.9 (NLTK <= 3.8 used 0.67 / 0.33 and printed
  0.868 for the first published pair, where exact thirds give 0.8667). Two empty sets are
  identical (distance 0).
* Per-label agreement by binary relevance: for each label, "present / absent" per rating
  gives an item x 2 count matrix, and Fleiss' kappa and Krippendorff's alpha (nominal)
  are computed on it with their analytic (Gwet 2014) or bootstrap uncertainty.
* Exact-set agreement: the share of annotator pairs of an item with identical sets,
  averaged over items.

Label sets are bitsets (ceil(L / 64) uint64 words per set), so set distances between
any two distinct sets are a few vectorised popcounts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from labelaudit.agreement.alpha import alpha_from_counts, krippendorff_alpha
from labelaudit.agreement.chance import chance_corrected, family_values
from labelaudit.intervals import bootstrap_item_weights
from labelaudit.results import MetricResult
from labelaudit.structured._alpha import EXACT_LIMIT, N_PAIRS, alpha_distinct
from labelaudit.structured._explode import code_strings, explode, strings
from labelaudit.structured._payload import payload_of
from labelaudit.structured._ratio import identical_agreement, percentile_result
from labelaudit.table.table import AnnotationTable

__all__ = [
    "LabelSets",
    "SetDistance",
    "jaccard_distance",
    "label_sets",
    "masi_distance",
    "multilabel_metrics",
    "per_label_agreement",
]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
U64 = npt.NDArray[np.uint64]
_LUT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def _popcount(words: U64) -> I64:
    """Set bits per word (np.bitwise_count on numpy >= 2, a byte table otherwise)."""
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(words).astype(np.int64)
    as_bytes = words.view(np.uint8).reshape(*words.shape, 8)
    return _LUT[as_bytes].sum(axis=-1).astype(np.int64)


def _set_distance(inter: I64, size_a: I64, size_b: I64, kind: str) -> F64:
    """MASI or Jaccard distance from intersection and set sizes (vectorised)."""
    union = size_a + size_b - inter
    jaccard = np.divide(inter, union, out=np.ones(inter.shape), where=union > 0)
    if kind == "jaccard":
        return np.asarray(1.0 - jaccard, dtype=np.float64)
    monotonicity = np.select(
        [(inter == size_a) & (inter == size_b), inter == np.minimum(size_a, size_b), inter > 0],
        [1.0, 2.0 / 3.0, 1.0 / 3.0],
        default=0.0,
    )
    return np.asarray(1.0 - jaccard * monotonicity, dtype=np.float64)


def masi_distance(a: Iterable[Any], b: Iterable[Any]) -> float:
    """MASI distance between two label sets (Passonneau 2006; exact thirds).

    Examples
    --------
    >>> round(masi_distance({1, 2, 3, 4}, {3, 4, 5}), 4)
    0.8667
    """
    sa, sb = set(a), set(b)
    inter = np.array([len(sa & sb)])
    return float(_set_distance(inter, np.array([len(sa)]), np.array([len(sb)]), "masi")[0])


def jaccard_distance(a: Iterable[Any], b: Iterable[Any]) -> float:
    """Jaccard distance 1 - |A & B| / |A | B| (0 for two empty sets)."""
    sa, sb = set(a), set(b)
    inter = np.array([len(sa & sb)])
    return float(_set_distance(inter, np.array([len(sa)]), np.array([len(sb)]), "jaccard")[0])


@dataclass(frozen=True)
class SetDistance:
    """MASI or Jaccard distance between distinct label sets held as bitsets (V, W)."""

    bits: U64
    sizes: I64
    kind: str = "masi"

    def pairs(self, a: I64, b: I64) -> F64:
        """d(a[i], b[i]) for every i."""
        inter = _popcount(self.bits[a] & self.bits[b]).sum(axis=1)
        return _set_distance(inter, self.sizes[a], self.sizes[b], self.kind)

    def matrix(self, rows: I64, cols: I64) -> F64:
        """The block d(rows[i], cols[j]), shape (len(rows), len(cols))."""
        inter = _popcount(self.bits[rows][:, None, :] & self.bits[cols][None, :, :]).sum(axis=2)
        return _set_distance(inter, self.sizes[rows][:, None], self.sizes[cols][None, :], self.kind)


@dataclass(frozen=True)
class LabelSets:
    """The label sets of a multi-label table.

    Attributes
    ----------
    labels : ndarray of str, shape (L,)
        Label vocabulary (declared categories first, then the other labels sorted).
    element_row, element_label : ndarray of int64, shape (n_elements,)
        One entry per (row, label) present (duplicates removed).
    set_code : ndarray of int64, shape (n_ratings,)
        Code of each row's set among the distinct sets.
    bits : ndarray of uint64, shape (V, W)
        Bitset of each distinct set; ``sizes`` (V,) its cardinality.
    """

    labels: npt.NDArray[np.object_]
    element_row: I64
    element_label: I64
    set_code: I64
    bits: U64
    sizes: I64


def label_sets(table: AnnotationTable) -> LabelSets:
    """Flatten the ``list<string>`` payload into (row, label) codes and distinct bitsets."""
    parent, values = explode(payload_of(table))
    labels, codes = code_strings(strings(values), table.schema.categories)
    n_rows, width = table.n_ratings, max(1, (labels.size + 63) // 64)
    key = np.unique(parent * max(labels.size, 1) + codes)
    row, label = key // max(labels.size, 1), key % max(labels.size, 1)
    bits = np.zeros((n_rows, width), dtype=np.uint64)
    np.bitwise_or.at(
        bits, (row, label // 64), np.left_shift(np.uint64(1), (label % 64).astype(np.uint64))
    )
    if width == 1:
        distinct, set_code = np.unique(bits[:, 0], return_inverse=True)
        distinct_bits = distinct[:, None]
    else:
        view = np.ascontiguousarray(bits).view(np.dtype((np.void, 8 * width)))[:, 0]
        _, first, set_code = np.unique(view, return_index=True, return_inverse=True)
        distinct_bits = bits[first]
    sizes = _popcount(distinct_bits).sum(axis=1)
    return LabelSets(labels, row, label, set_code.astype(np.int64), distinct_bits, sizes)


def multilabel_metrics(
    table: AnnotationTable,
    *,
    ci: str = "analytic",
    n_boot: int = 1000,
    seed: int = 0,
    sets: LabelSets | None = None,
) -> dict[str, Any]:
    """MASI and Jaccard alpha, exact-set agreement and per-label kappa/alpha.

    Returns
    -------
    dict
        ``masi_alpha``, ``jaccard_alpha``, ``exact_set_agreement`` (MetricResult) and
        ``per_label_kappa``, ``per_label_alpha`` (dict label -> MetricResult; Fleiss'
        kappa and nominal alpha of "label present" by binary relevance).
    """
    sets = label_sets(table) if sets is None else sets
    out: dict[str, Any] = {}
    for kind in ("masi", "jaccard"):
        out[f"{kind}_alpha"] = alpha_distinct(
            table.item_codes,
            sets.set_code,
            sets.sizes.size,
            SetDistance(sets.bits, sets.sizes, kind),
            ci=ci,
            n_boot=n_boot,
            seed=seed,
            extra={"distance": kind, "exact_limit": EXACT_LIMIT, "sample_pairs": N_PAIRS},
        )
    out["exact_set_agreement"] = identical_agreement(
        table.item_codes, sets.set_code, ci=ci, n_boot=n_boot, seed=seed
    )
    per_label = per_label_agreement(table, sets, ci=ci, n_boot=n_boot, seed=seed)
    out["per_label_kappa"] = {name: kappa for name, (kappa, _, _) in per_label.items()}
    out["per_label_alpha"] = {name: alpha for name, (_, alpha, _) in per_label.items()}
    return out


def _presence_counts(table: AnnotationTable, sets: LabelSets) -> tuple[F64, I64]:
    """Ratings per item m (n_items,) and present counts per (label, item) flattened."""
    m = np.bincount(table.item_codes, minlength=table.n_items).astype(np.float64)
    key = sets.element_label * table.n_items + table.item_codes[sets.element_row]
    return m, np.bincount(key, minlength=sets.labels.size * table.n_items)


def per_label_agreement(
    table: AnnotationTable,
    sets: LabelSets | None = None,
    *,
    ci: str = "analytic",
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[str, tuple[MetricResult, MetricResult, dict[str, Any]]]:
    """Binary-relevance agreement of every label.

    For label l the item x 2 matrix [m_i - p_il, p_il] (p_il: ratings of item i that
    contain l) goes through :func:`labelaudit.agreement.chance.chance_corrected` (Fleiss'
    kappa) and :func:`labelaudit.agreement.alpha.krippendorff_alpha` (nominal). Cost
    O(L x n_items).

    Returns
    -------
    dict
        label -> (kappa, alpha, record) where record is the per-category row of the report
        (``category``, ``n`` ratings with the label, ``specific_agreement`` = sum p(p-1) /
        sum p(m-1), ``kappa_1vr``, ``alpha_1vr``).
    """
    sets = label_sets(table) if sets is None else sets
    m, present = _presence_counts(table, sets)
    out = {}
    for index, name in enumerate(sets.labels.tolist()):
        p = present[index * table.n_items : (index + 1) * table.n_items].astype(np.float64)
        counts = np.column_stack([m - p, p])
        kappa = chance_corrected(counts, np.eye(2))["fleiss_kappa"]
        alpha = krippendorff_alpha(counts, [0.0, 1.0], se=ci == "analytic")
        if ci == "bootstrap":
            kappa, alpha = _bootstrap_label(counts, kappa, alpha, n_boot, seed)
        elif ci == "none":
            kappa = replace(kappa, se=None, ci95=None, ci_method="none")
            alpha = replace(alpha, se=None, ci95=None, ci_method="none")
        pair_den = float((p * (m - 1.0)).sum())
        record = {
            "category": str(name),
            "n": int(p.sum()),
            "specific_agreement": float((p * (p - 1.0)).sum()) / pair_den if pair_den else None,
            "kappa_1vr": kappa.value,
            "alpha_1vr": alpha.value,
        }
        out[str(name)] = (kappa, alpha, record)
    return out


def _bootstrap_label(
    counts: F64, kappa: MetricResult, alpha: MetricResult, n_boot: int, seed: int
) -> tuple[MetricResult, MetricResult]:
    kappas, alphas = [], []
    for weights in bootstrap_item_weights(counts.shape[0], n_boot, seed):
        kappas.append(family_values(counts, np.eye(2), weights)["fleiss_kappa"])
        alphas.append(np.atleast_1d(alpha_from_counts(counts, [0.0, 1.0], item_weights=weights)))
    out = []
    for result, draws in ((kappa, kappas), (alpha, alphas)):
        if result.value is None:
            out.append(replace(result, se=None, ci95=None, ci_method="bootstrap"))
            continue
        extra = {k: v for k, v in result.extra.items() if k not in ("p_value", "se_h0", "z", "p")}
        out.append(percentile_result(result.value, extra, np.concatenate(draws)))
    return out[0], out[1]
