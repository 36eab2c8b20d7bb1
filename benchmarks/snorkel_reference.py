"""Record Snorkel's LFAnalysis and LabelModel numbers on WRENCH YouTube as a test fixture.

Runs in a separate environment that has Snorkel (it needs torch; never a labelaudit
dependency), e.g.::

    python3.11 -m venv /work/wt/weak-snorkel-venv
    /work/wt/weak-snorkel-venv/bin/pip install torch snorkel   # CPU torch wheel
    /work/wt/weak-snorkel-venv/bin/python benchmarks/snorkel_reference.py \
        --wrench-dir ../shared/datasets/wrench_youtube \
        --out tests/data/weak/snorkel_wrench_youtube.json

Only numbers derived from the data go into the fixture (the WRENCH rows stay in
``../shared``). Test accuracy counts a row with no vote, or a tie, as half right (the
expected score of a random guess).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np

NAMES = [
    "keyword_my", "keyword_subscribe", "keyword_link", "keyword_please", "keyword_song",
    "regex_check_out", "short_comment", "has_person_nlp", "textblob_polarity",
    "textblob_subjectivity",
]  # fmt: skip


def load(folder: Path, split: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Label matrix, gold labels and row ids of one WRENCH split."""
    data = json.loads((folder / f"{split}.json").read_text())
    L = np.array([row["weak_labels"] for row in data.values()], dtype=np.int64)
    Y = np.array([row["label"] for row in data.values()], dtype=np.int64)
    return L, Y, list(data)


def half_credit(probs: np.ndarray, L: np.ndarray, Y: np.ndarray) -> float:
    """Accuracy with rows without a vote, or with tied probabilities, counted as 1/2."""
    tie = np.isclose(probs.max(axis=1), np.sort(probs, axis=1)[:, -2]) | ((L >= 0).sum(1) == 0)
    return float(np.mean(np.where(tie, 0.5, probs.argmax(axis=1) == Y)))


def summary_records(L: np.ndarray, Y: np.ndarray) -> list[dict[str, Any]]:
    """``LFAnalysis(L).lf_summary(Y)`` as plain records."""
    from snorkel.labeling import LFAnalysis

    frame = LFAnalysis(L).lf_summary(Y=Y)
    frame.index = NAMES
    return [
        {
            "lf": name,
            "polarity": [int(x) for x in row["Polarity"]],
            "coverage": float(row["Coverage"]),
            "overlaps": float(row["Overlaps"]),
            "conflicts": float(row["Conflicts"]),
            "correct": int(row["Correct"]),
            "incorrect": int(row["Incorrect"]),
            "empirical_accuracy": float(row["Emp. Acc."]),
        }
        for name, row in frame.iterrows()
    ]


def analysis(L: np.ndarray, Y: np.ndarray) -> dict[str, Any]:
    """Snorkel's per-LF summary and its three global shares."""
    from snorkel.labeling import LFAnalysis

    lfa = LFAnalysis(L)
    return {
        "label_coverage": float(lfa.label_coverage()),
        "label_overlap": float(lfa.label_overlap()),
        "label_conflict": float(lfa.label_conflict()),
        "lfs": summary_records(L, Y),
    }


def label_models(train: np.ndarray, test: np.ndarray, y_test: np.ndarray) -> dict[str, Any]:
    """LabelModel test accuracy for seeds 0-4 at 100 and 500 epochs, and weights (seed 0)."""
    from snorkel.labeling.model import LabelModel, MajorityLabelVoter

    runs: dict[str, Any] = {}
    for epochs in (100, 500):
        scores, weights = [], None
        for seed in range(5):
            model = LabelModel(cardinality=2, verbose=False)
            model.fit(train, n_epochs=epochs, lr=0.01, seed=seed, progress_bar=False)
            scores.append(half_credit(model.predict_proba(test), test, y_test))
            if seed == 0:
                weights = [float(w) for w in model.get_weights()]
        runs[f"epochs_{epochs}"] = {
            "seeds": list(range(5)),
            "test_accuracy": scores,
            "mean": float(np.mean(scores)),
            "weights_seed0": weights,
        }
    voter = MajorityLabelVoter(cardinality=2)
    hashed = voter.predict(test, tie_break_policy="random")
    uncovered = (test >= 0).sum(axis=1) == 0
    runs["majority"] = {
        "half_credit": half_credit(voter.predict_proba(test), test, y_test),
        "snorkel_random_ties": float(np.mean(np.where(uncovered, 0.5, hashed == y_test))),
    }
    return runs


def main() -> None:
    """Write the fixture."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wrench-dir", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    import snorkel
    import torch

    L_train, Y_train, _ = load(args.wrench_dir, "train")
    L_test, Y_test, _ = load(args.wrench_dir, "test")
    fixture = {
        "source": "WRENCH YouTube (../shared/datasets/wrench_youtube), LF order of readme.txt",
        "generated_by": "benchmarks/snorkel_reference.py",
        "date": time.strftime("%Y-%m-%d"),
        "snorkel": snorkel.__version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "lf_names": NAMES,
        "train": analysis(L_train, Y_train),
        "test": analysis(L_test, Y_test),
        "label_model": label_models(L_train, L_test, Y_test),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(fixture, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
