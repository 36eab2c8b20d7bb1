"""Agreement on free text (transcriptions, slot values): normalised edit distance and alpha.

Normalisation (applied to every value before comparing; pass ``normalize=False`` to
compare raw strings): Unicode NFKC, lower case (``utf8_lower``), every run of whitespace
replaced by one space, leading and trailing whitespace removed. So ``"New  York "`` and
``"new york"`` are identical; punctuation is kept.

Distance: the Levenshtein distance (insertions, deletions, substitutions of Unicode code
points, cost 1 each) divided by the length of the longer string, in [0, 1]; 0 for two
empty strings (Levenshtein 1966; computed by RapidFuzz's bit-parallel implementation).

* ``text_alpha``: Krippendorff's alpha with that distance (see
  :mod:`labelaudit.structured._alpha`): exact expected disagreement up to 5,000 distinct
  normalised values, above that estimated from a seeded sample of 1,000,000 value pairs
  and marked ``"approximate": true``.
* ``mean_edit_distance``: mean over items of the mean normalised edit distance between
  the item's annotator pairs (0 = all identical).
* ``normalized_exact_agreement``: share of annotator pairs whose normalised texts are
  identical, averaged over items.

Rows whose text is null are left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from labelaudit.exceptions import UsageError
from labelaudit.results import MetricResult
from labelaudit.structured._alpha import EXACT_LIMIT, N_PAIRS, alpha_distinct
from labelaudit.structured._explode import code_strings, group_runs, pairs_within_groups
from labelaudit.structured._payload import payload_of
from labelaudit.structured._ratio import Contributions, identical_agreement, mean_of_ratios
from labelaudit.table.table import AnnotationTable

__all__ = ["EditDistance", "edit_distance", "normalize_text", "text_metrics"]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


def _rapidfuzz() -> Any:
    try:
        from rapidfuzz import process
        from rapidfuzz.distance import Levenshtein
    except ImportError:  # pragma: no cover - rapidfuzz is a dependency
        raise UsageError(
            "text agreement needs the rapidfuzz package: pip install 'rapidfuzz>=3.6'"
        ) from None
    return process, Levenshtein


def normalize_text(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """NFKC, lower case, whitespace runs -> one space, trimmed (vectorised, pyarrow)."""
    out = pc.utf8_normalize(values, "NFKC")
    out = pc.utf8_lower(out)
    out = pc.replace_substring_regex(out, r"\s+", " ")
    out = pc.utf8_trim_whitespace(out)
    return out.combine_chunks() if isinstance(out, pa.ChunkedArray) else out


def edit_distance(a: str, b: str) -> float:
    """Normalised Levenshtein distance: edits / max(len(a), len(b)); 0 for two empty strings."""
    _, levenshtein = _rapidfuzz()
    return float(levenshtein.normalized_distance(a, b))


@dataclass(frozen=True)
class EditDistance:
    """Normalised Levenshtein distance between distinct strings (value codes)."""

    values: list[str]

    def pairs(self, a: I64, b: I64) -> F64:
        """d(a[i], b[i]) for every i (RapidFuzz ``cpdist``, all cores)."""
        process, levenshtein = _rapidfuzz()
        if a.size == 0:
            return np.zeros(0)
        left = [self.values[i] for i in a.tolist()]
        right = [self.values[i] for i in b.tolist()]
        out = process.cpdist(
            left, right, scorer=levenshtein.normalized_distance, workers=-1, dtype=np.float64
        )
        return np.asarray(out, dtype=np.float64)

    def matrix(self, rows: I64, cols: I64) -> F64:
        """The block d(rows[i], cols[j]) (RapidFuzz ``cdist``, all cores)."""
        process, levenshtein = _rapidfuzz()
        out = process.cdist(
            [self.values[i] for i in rows.tolist()],
            [self.values[j] for j in cols.tolist()],
            scorer=levenshtein.normalized_distance,
            workers=-1,
            dtype=np.float64,
        )
        return np.asarray(out, dtype=np.float64)


def text_metrics(
    table: AnnotationTable,
    *,
    ci: str = "analytic",
    n_boot: int = 1000,
    seed: int = 0,
    normalize: bool = True,
    exact_limit: int = EXACT_LIMIT,
    n_pairs: int = N_PAIRS,
) -> dict[str, MetricResult]:
    """Edit-distance alpha, mean normalised edit distance and exact agreement of free text.

    Parameters
    ----------
    table : AnnotationTable
        A ``text`` table (payload ``string``).
    ci, n_boot, seed
        Uncertainty (items resampled); ``seed`` also seeds the approximate pair sample.
    normalize : bool
        Apply the documented normalisation first.
    exact_limit, n_pairs : int
        Exact alpha up to ``exact_limit`` distinct values, else ``n_pairs`` sampled pairs.

    Returns
    -------
    dict
        ``text_alpha``, ``mean_edit_distance``, ``normalized_exact_agreement``.
    """
    payload = payload_of(table)
    keep = pc.is_valid(payload).to_numpy(zero_copy_only=False)
    texts = payload.filter(pa.array(keep))
    if normalize:
        texts = normalize_text(texts)
    names, codes = code_strings(texts)
    items = table.item_codes[keep]
    distance = EditDistance([str(v) for v in names.tolist()])
    info = {"normalized": normalize, "exact_limit": exact_limit, "sample_pairs": n_pairs}
    return {
        "text_alpha": alpha_distinct(
            items,
            codes,
            names.size,
            distance,
            ci=ci,
            n_boot=n_boot,
            seed=seed,
            exact_limit=exact_limit,
            n_pairs=n_pairs,
            extra=info | {"distance": "normalized_levenshtein"},
        ),
        "mean_edit_distance": _mean_distance(items, codes, distance, ci, n_boot, seed),
        "normalized_exact_agreement": identical_agreement(
            items, codes, ci=ci, n_boot=n_boot, seed=seed, extra={"normalized": normalize}
        ),
    }


def _mean_distance(
    items: I64, codes: I64, distance: EditDistance, ci: str, n_boot: int, seed: int
) -> MetricResult:
    """Mean over items of the mean distance of the item's rating pairs."""
    order = np.argsort(items, kind="stable")
    starts, sizes = group_runs(items[order])
    first, second = pairs_within_groups(starts, sizes)
    d = distance.pairs(codes[order[first]], codes[order[second]])
    uniq, inverse = np.unique(items[order[first]], return_inverse=True)
    mean_d = np.bincount(inverse, d) / np.bincount(inverse)
    per_item = Contributions(uniq, np.zeros_like(uniq), mean_d, np.ones_like(mean_d))
    return mean_of_ratios(
        per_item,
        ci=ci,
        n_boot=n_boot,
        seed=seed,
        undefined="nothing pairable: no item has two or more texts",
    )
