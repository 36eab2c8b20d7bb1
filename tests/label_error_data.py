"""A generated classification set with planted label errors and cross-validated
probabilities (scikit-learn), for the label-error tests and docs/models.md.

``planted(seed)`` draws features with ``make_classification``, flips a share of the labels
to another class (the planted errors), and predicts class probabilities out of sample
with 5-fold ``cross_val_predict`` of a logistic regression trained on the noisy labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

CLASSES = ("cat", "dog", "fox")


@dataclass(frozen=True)
class Planted:
    items: np.ndarray  # str, (n,)
    truth: np.ndarray  # class codes, (n,)
    given: np.ndarray  # class codes with the planted errors, (n,)
    probs: np.ndarray  # (n, q) out-of-sample probabilities

    @property
    def errors(self) -> np.ndarray:
        """Planted errors, boolean (n,)."""
        return self.truth != self.given

    def write(self, folder: Path) -> tuple[Path, Path]:
        """labels.csv (item,label) and probs.csv (item + one column per class)."""
        labels, probs = folder / "labels.csv", folder / "probs.csv"
        names = np.asarray(CLASSES)
        pacsv.write_csv(pa.table({"item": self.items, "label": names[self.given]}), labels)
        columns = {"item": self.items, **{c: self.probs[:, k] for k, c in enumerate(CLASSES)}}
        pacsv.write_csv(pa.table(columns), probs)
        return labels, probs


def planted(n: int = 600, noise: float = 0.1, seed: int = 0) -> Planted:
    """``n`` items, 3 classes, a share ``noise`` of the labels flipped."""
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict

    x, truth = make_classification(
        n_samples=n, n_features=8, n_informative=5, n_redundant=1, n_classes=len(CLASSES),
        n_clusters_per_class=1, class_sep=1.5, flip_y=0.0, random_state=seed,
    )  # fmt: skip
    rng = np.random.default_rng(seed)
    flip = rng.random(n) < noise
    given = truth.copy()
    given[flip] = (truth[flip] + rng.integers(1, len(CLASSES), flip.sum())) % len(CLASSES)
    model = LogisticRegression(max_iter=1000)
    probs = cross_val_predict(model, x, given, cv=5, method="predict_proba")
    items = np.asarray([f"x{i:04d}" for i in range(n)])
    return Planted(items, truth.astype(np.int64), given.astype(np.int64), probs)


def crowd_rows(
    p: Planted, accuracy: tuple[float, ...] = (0.9, 0.85, 0.6), seed: int = 0
) -> pa.Table:
    """Annotators who each label every item: right with their ``accuracy``, else another
    class at random (an item,annotator,label table)."""
    rng = np.random.default_rng(seed)
    n, q = p.truth.size, len(CLASSES)
    names = np.asarray(CLASSES)
    columns: dict[str, list[np.ndarray]] = {"item": [], "annotator": [], "label": []}
    for a, acc in enumerate(accuracy):
        wrong = rng.random(n) >= acc
        label = np.where(wrong, (p.truth + rng.integers(1, q, n)) % q, p.truth)
        columns["item"].append(p.items)
        columns["annotator"].append(np.full(n, f"ann{a + 1}"))
        columns["label"].append(names[label])
    return pa.table({k: np.concatenate(v) for k, v in columns.items()})
