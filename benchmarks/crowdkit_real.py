"""crowd-kit 1.4.2 on the real datasets (bluebirds, ducks): accuracy against the expert truth.

Run inside the crowd-kit venv that ``bench_consensus.py`` creates::

    benchmarks/.venv-crowdkit/bin/python benchmarks/crowdkit_real.py

Prints, for Dawid-Skene, GLAD and MACE at the settings of ``tests/test_consensus.py``,
the accuracy with the datasets' own worker and label names (``as-is``) and with names
whose sorted order is their order of first appearance (``first-appearance``). crowd-kit's
MACE gives different answers for the two, because it assigns strategy counts computed
in sorted-name order to workers in first-appearance order (see
``crowdkit_case.first_appearance_ranks``); the other two methods do not depend on names.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATASETS = {
    "bluebirds": (ROOT / "src/labelaudit/datasets/data/bluebirds", "truth"),
    "ducks": (ROOT / "tests/data/consensus/ducks", "is_duck"),
}


def _models() -> dict[str, Any]:
    from crowdkit.aggregation import GLAD, MACE, DawidSkene

    return {
        "dawid-skene": DawidSkene(n_iter=100, tol=1e-5),
        "glad": GLAD(n_iter=100, tol=1e-5),
        "mace": MACE(n_restarts=10, n_iter=50, random_state=0),
    }


def _first_appearance(frame: Any) -> tuple[Any, Any]:
    """The frame renamed so that sorted order = first appearance, and the label decoder."""
    import pandas as pd

    renamed = frame.copy()
    worker_ranks, _ = pd.factorize(renamed["worker"])
    renamed["worker"] = [f"w{rank:06d}" for rank in worker_ranks]
    label_ranks, label_values = pd.factorize(renamed["label"])
    renamed["label"] = label_ranks
    return renamed, label_values


def main() -> int:
    import pandas as pd

    print("dataset    method       as-is   first-appearance")
    for name, (folder, truth_column) in DATASETS.items():
        answers = pd.read_csv(folder / "answers.csv")
        truth = pd.read_csv(folder / "truth.csv").set_index("task")[truth_column]
        renamed, label_values = _first_appearance(answers)
        for method in ("dawid-skene", "glad", "mace"):
            as_is = _models()[method].fit_predict(answers)
            codes = _models()[method].fit_predict(renamed)
            decoded = pd.Series(label_values[codes.to_numpy()], index=codes.index)
            scores = [
                float((labels.reindex(truth.index) == truth).mean()) for labels in (as_is, decoded)
            ]
            print(f"{name:<10} {method:<12} {scores[0]:.4f}  {scores[1]:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
