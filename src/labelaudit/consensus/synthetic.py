"""Synthetic crowds with known truth and known annotators, for tests and benchmarks.

The design follows the aggregation notes (section 4): q classes with a Dirichlet(5) class
prior; annotators are 60% good (accuracy U(0.70, 0.95)), 20% mediocre (U(0.40, 0.65)),
10% uniform spammers and 10% biased; activity is Zipf(0.8) over annotators; every item gets
``labels_per_item`` distinct annotators.

- good / mediocre: row k of the confusion matrix has accuracy ``acc`` on the diagonal and
  the rest, 1 - acc, spread over the other classes by a Dirichlet(1) draw per row
  ("class-conditional errors").
- spammer: every row uniform; the label says nothing about the truth. These are the
  *planted spammers* (``is_spammer``).
- biased: with probability 0.6 the annotator answers a favourite class, otherwise behaves
  like a good annotator; informative, but over-uses one class (not a spammer).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from labelaudit.table import AnnotationTable, TaskSchema

__all__ = ["KINDS", "SyntheticCrowd", "generate"]

KINDS: tuple[str, ...] = ("good", "mediocre", "spammer", "biased")
_CHUNK = 50_000


@dataclass(frozen=True, eq=False)
class SyntheticCrowd:
    """A generated crowd-labelling data set and the parameters that produced it.

    Attributes
    ----------
    table : AnnotationTable
        Items ``i000..``, annotators ``a000..``, labels ``"0"`` .. ``"q-1"`` (category
        code = class index).
    truth : ndarray of int64, shape (n_items,)
        True class of each item (by item code).
    priors : ndarray, shape (q,)
        Class prior the truth was drawn from.
    confusions : ndarray, shape (n_annotators, q, q)
        True confusion matrices (row = true class, column = label).
    kinds : ndarray of str, shape (n_annotators,)
        One of :data:`KINDS` per annotator.
    activity : ndarray, shape (n_annotators,)
        Zipf weights used to pick annotators (sum to 1).
    """

    table: AnnotationTable
    truth: np.ndarray
    priors: np.ndarray
    confusions: np.ndarray
    kinds: np.ndarray

    activity: np.ndarray

    @property
    def is_spammer(self) -> np.ndarray:
        """Planted spammers (labels independent of the truth), shape (n_annotators,)."""
        return np.asarray(self.kinds == "spammer")

    @property
    def accuracy(self) -> np.ndarray:
        """Empirical accuracy of each annotator on the labels they gave, shape (n_annotators,)."""
        table = self.table
        correct = table.label_codes == self.truth[table.item_codes]
        hits = np.bincount(table.annotator_codes, weights=correct, minlength=table.n_annotators)
        return hits / np.bincount(table.annotator_codes, minlength=table.n_annotators)

    @property
    def expected_accuracy(self) -> np.ndarray:
        """sum_k priors[k] * confusions[a, k, k]: accuracy in expectation, (n_annotators,)."""
        return np.einsum("k,akk->a", self.priors, self.confusions)

    def gold(self, items: np.ndarray) -> dict[str, str]:
        """``{item name: true category}`` for the given item codes (for gold-label tests)."""
        names = self.table.items[items]
        labels = self.table.categories[self.truth[items]]
        return dict(zip(names.tolist(), labels.tolist(), strict=True))


def generate(
    n_items: int = 100_000,
    n_annotators: int = 200,
    labels_per_item: int = 5,
    n_classes: int = 4,
    *,
    seed: int = 0,
    shares: tuple[float, float, float, float] = (0.6, 0.2, 0.1, 0.1),
    zipf: float = 0.8,
    favourite: float = 0.6,
) -> SyntheticCrowd:
    """Generate a crowd with known truth, confusion matrices and planted spammers.

    Parameters
    ----------
    n_items, n_annotators, labels_per_item, n_classes : int
        Sizes; n_labels = n_items * labels_per_item (distinct annotators per item).
    seed : int
        Seed of ``numpy.random.default_rng``; the same seed gives the same crowd.
    shares : 4 floats
        Fractions of good, mediocre, spammer and biased annotators.
    zipf : float
        Activity exponent: the r-th most active annotator is picked with weight r**-zipf.
    favourite : float
        Probability that a biased annotator answers its favourite class.

    Returns
    -------
    SyntheticCrowd
    """
    if labels_per_item > n_annotators:
        raise ValueError("labels_per_item must not exceed n_annotators")
    rng = np.random.default_rng(seed)
    priors = rng.dirichlet(np.full(n_classes, 5.0))
    kinds = _kinds(n_annotators, shares, rng)
    confusions = _confusions(kinds, n_classes, favourite, rng)
    activity = np.arange(1, n_annotators + 1, dtype=np.float64) ** -zipf
    activity = rng.permutation(activity / activity.sum())
    truth = rng.choice(n_classes, size=n_items, p=priors).astype(np.int64)
    annotators, labels = _draw_labels(truth, confusions, activity, labels_per_item, rng)
    items = np.repeat(np.arange(n_items, dtype=np.int64), labels_per_item)
    table = _table(items, annotators, labels, n_items, n_annotators, n_classes, seed)
    return SyntheticCrowd(table, truth, priors, confusions, kinds, activity)


def _kinds(n_annotators: int, shares: tuple[float, ...], rng: np.random.Generator) -> np.ndarray:
    counts = np.floor(np.asarray(shares) * n_annotators).astype(int)
    counts[0] += n_annotators - counts.sum()
    kinds = np.repeat(np.array(KINDS), counts)
    return rng.permutation(kinds)


def _confusions(
    kinds: np.ndarray, q: int, favourite: float, rng: np.random.Generator
) -> np.ndarray:
    """True confusion matrices, shape (n_annotators, q, q) (loop over annotators: fine)."""
    n_annotators = kinds.size
    confusions = np.empty((n_annotators, q, q))
    for a, kind in enumerate(kinds):
        if kind == "spammer":
            confusions[a] = 1.0 / q
            continue
        low, high = (0.40, 0.65) if kind == "mediocre" else (0.70, 0.95)
        confusions[a] = _accuracy_rows(rng.uniform(low, high), q, rng)
        if kind == "biased":
            confusions[a] *= 1.0 - favourite
            confusions[a, :, rng.integers(q)] += favourite
    return confusions


def _accuracy_rows(accuracy: float, q: int, rng: np.random.Generator) -> np.ndarray:
    rows = np.zeros((q, q))
    if q == 1:
        return np.ones((1, 1))
    errors = rng.dirichlet(np.ones(q - 1), size=q) * (1.0 - accuracy)
    off = ~np.eye(q, dtype=bool)
    rows[off] = errors.ravel()
    rows[np.arange(q), np.arange(q)] = accuracy
    return rows


def _draw_labels(
    truth: np.ndarray,
    confusions: np.ndarray,
    activity: np.ndarray,
    per_item: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct annotators per item (Gumbel top-k on log activity) and their labels."""
    n_items, q = truth.size, confusions.shape[1]
    cumulative = np.cumsum(confusions, axis=2)
    log_activity = np.log(activity)
    annotators = np.empty((n_items, per_item), dtype=np.int64)
    labels = np.empty((n_items, per_item), dtype=np.int64)
    for start in range(0, n_items, _CHUNK):
        stop = min(start + _CHUNK, n_items)
        keys = log_activity + rng.gumbel(size=(stop - start, activity.size))
        chosen = np.argpartition(-keys, per_item - 1, axis=1)[:, :per_item]
        chosen.sort(axis=1)
        thresholds = cumulative[chosen, truth[start:stop, None]]  # (chunk, per_item, q)
        draws = rng.random((stop - start, per_item, 1))
        annotators[start:stop] = chosen
        labels[start:stop] = np.minimum((draws > thresholds).sum(axis=2), q - 1)
    return annotators.ravel(), labels.ravel()


def _names(prefix: str, n: int) -> np.ndarray:
    width = len(str(max(n - 1, 0)))
    return np.char.add(prefix, np.char.zfill(np.arange(n).astype(str), width)).astype(object)


def _table(
    items: np.ndarray,
    annotators: np.ndarray,
    labels: np.ndarray,
    n_items: int,
    n_annotators: int,
    q: int,
    seed: int,
) -> AnnotationTable:
    item_names, annotator_names = _names("i", n_items), _names("a", n_annotators)
    categories = np.arange(q).astype(str).astype(object)

    def column(codes: np.ndarray, names: np.ndarray) -> pa.Array:
        dictionary = pa.array(names, type=pa.string())
        return pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32)), dictionary).cast(
            pa.string()
        )

    data = pa.table(
        {
            "item": column(items, item_names),
            "annotator": column(annotators, annotator_names),
            "label": column(labels, categories),
        }
    )
    return AnnotationTable(
        data=data,
        schema=TaskSchema(),
        items=item_names,
        annotators=annotator_names,
        categories=categories,
        category_values=np.arange(q, dtype=np.float64),
        item_codes=items,
        annotator_codes=annotators,
        label_codes=labels,
        source=f"<synthetic seed={seed}>",
    )
