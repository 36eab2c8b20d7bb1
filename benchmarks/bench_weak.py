"""Weak supervision at scale: 1M records x 20 vectorised LFs, applied, analysed, label model.

labelaudit (numpy/scipy) and, on the same label matrix in the same run, Snorkel 0.10
(``LFAnalysis.lf_summary`` and ``LabelModel.fit``) when a Python with Snorkel is given.
Snorkel needs torch, so it lives in its own environment and is never a labelaudit
dependency::

    python3.11 -m venv /work/wt/weak-snorkel-venv
    /work/wt/weak-snorkel-venv/bin/pip install torch snorkel     # a CPU torch wheel
    .venv/bin/python benchmarks/bench_weak.py \
        --snorkel-python /work/wt/weak-snorkel-venv/bin/python

Synthetic, conditionally independent LFs (as in the research notes, A.5): P(y=1) = 0.3,
coverage_j ~ U(0.05, 0.5), accuracy_j ~ U(0.55, 0.9), seed 0. Each LF is a vectorised
function of two columns of a pandas DataFrame (its vote and a coverage draw) returning an
int array with -1 = abstain. Times are wall-clock seconds of one run after the imports;
accuracy counts ties and rows without a vote as half right. Each phase prints its wall
time and this process's CPU time: on a shared machine the CPU time is the steadier number
(the wall time grows with the load average, printed too).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

#: Snorkel's side, run by ``--snorkel-python`` on the saved matrix (prints one JSON line).
PEER = r"""
import json, sys, time
import numpy as np
t0 = time.perf_counter()
import torch  # noqa: F401
from snorkel.labeling import LFAnalysis
from snorkel.labeling.model import LabelModel
import snorkel
imported = time.perf_counter() - t0
L, Y = np.load(sys.argv[1]), np.load(sys.argv[2])
balance = json.loads(sys.argv[3])
def timed(f):
    wall, cpu = time.perf_counter(), time.process_time()
    out = f()
    return out, time.perf_counter() - wall, time.process_time() - cpu
_, summary, summary_cpu = timed(lambda: LFAnalysis(L).lf_summary(Y=Y))
def fit():
    model = LabelModel(cardinality=2, verbose=False)
    model.fit(L, class_balance=balance, seed=0, progress_bar=False)
    return model
_, fit1, fit1_cpu = timed(fit)
model, fit2, fit2_cpu = timed(fit)
probs = model.predict_proba(L)
tie = np.isclose(probs[:, 0], probs[:, 1]) | ((L >= 0).sum(1) == 0)
accuracy = float(np.mean(np.where(tie, 0.5, probs.argmax(1) == Y)))
print(json.dumps({"snorkel": snorkel.__version__, "torch": torch.__version__,
                  "import_s": imported, "lf_summary_s": summary, "lf_summary_cpu_s": summary_cpu,
                  "fit_first_s": fit1, "fit_first_cpu_s": fit1_cpu, "fit_warm_s": fit2,
                  "fit_warm_cpu_s": fit2_cpu, "accuracy": accuracy,
                  "weights": [float(w) for w in model.get_weights()]}))
"""


def synthetic(n: int, m: int, seed: int = 0) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray]:
    """Records (DataFrame: vote_j int8, draw_j float32), truth y, coverages, accuracies."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(np.int8)
    coverage = rng.uniform(0.05, 0.5, m)
    accuracy = rng.uniform(0.55, 0.9, m)
    columns: dict[str, np.ndarray] = {}
    for j in range(m):
        right = rng.random(n, dtype=np.float32) < accuracy[j]
        columns[f"vote_{j}"] = np.where(right, y, 1 - y).astype(np.int8)
        columns[f"draw_{j}"] = rng.random(n, dtype=np.float32)
    return pd.DataFrame(columns), y, coverage, accuracy


def make_lfs(coverage: np.ndarray) -> list[Any]:
    """One vectorised LF per column pair: its vote where the draw is under its coverage."""
    from labelaudit.weak import labeling_function

    lfs = []
    for j, share in enumerate(coverage):

        def lf(batch: Any, j: int = j, share: float = float(share)) -> np.ndarray:
            vote = batch[f"vote_{j}"].to_numpy()
            return np.where(batch[f"draw_{j}"].to_numpy() < share, vote, -1)

        lfs.append(labeling_function(name=f"lf_{j:02d}", vectorized=True)(lf))
    return lfs


def half_credit(probs: np.ndarray, L: np.ndarray, y: np.ndarray) -> float:
    tie = np.isclose(probs[:, 0], probs[:, 1]) | ((L >= 0).sum(axis=1) == 0)
    return float(np.mean(np.where(tie, 0.5, probs.argmax(axis=1) == y)))


def timed(function: Any, *args: Any, **kwargs: Any) -> tuple[Any, float, float]:
    """(result, wall seconds, CPU seconds of this process) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - wall, time.process_time() - cpu


def run_labelaudit(
    frame: Any, y: np.ndarray, coverage: np.ndarray, accuracy: np.ndarray
) -> dict[str, Any]:
    """Apply, analyse (without and with gold on every record), fit the label model."""
    from labelaudit.weak import LabelModel, apply_lfs, lf_analysis

    lfs = make_lfs(coverage)
    table, apply_s, apply_cpu = timed(apply_lfs, lfs, frame, labels=["0", "1"])
    plain, analyse_s, analyse_cpu = timed(lf_analysis, table)
    names = np.array(["0", "1"], dtype=object)
    gold = dict(zip(np.arange(len(frame)).astype(str), names[y], strict=True))
    with_gold, gold_s, gold_cpu = timed(lf_analysis, table, gold=gold)
    records = np.asarray(table.items).astype(np.int64)  # items are record numbers
    L = np.full((len(frame), len(lfs)), -1, dtype=np.int8)
    L[records[table.item_codes], table.annotator_codes] = table.label_codes
    model, fit_s, fit_cpu = timed(LabelModel(class_balance=[0.7, 0.3]).fit, L)
    probs = model.predict_proba(L)
    counts = np.stack([np.equal(L, c).sum(axis=1) for c in (0, 1)], axis=1)
    majority = np.where(counts[:, 0] == counts[:, 1], 0.5, counts.argmax(axis=1) == y)
    emp = np.array([lf["empirical_accuracy"] for lf in with_gold.to_dict()["lfs"]])
    return {
        "n_votes": table.n_ratings,
        "apply_s": apply_s,
        "apply_cpu_s": apply_cpu,
        "analyse_s": analyse_s,
        "analyse_cpu_s": analyse_cpu,
        "analyse_gold_s": gold_s,
        "analyse_gold_cpu_s": gold_cpu,
        "apply_plus_analyse_s": apply_s + gold_s,
        "apply_plus_analyse_cpu_s": apply_cpu + gold_cpu,
        "label_model_fit_s": fit_s,
        "label_model_fit_cpu_s": fit_cpu,
        "label_model_iterations": model.n_iter_,
        "label_model_accuracy": half_credit(probs, L, y),
        "majority_accuracy": float(majority.mean()),
        "lf_accuracy_mae_label_model": float(np.mean(np.abs(model.skills_ - accuracy))),
        "lf_accuracy_max_err_empirical": float(np.max(np.abs(emp - accuracy))),
        "label_coverage": plain.label_coverage,
        "weights": model.skills_.tolist(),
        "_L": L,
    }


def run_snorkel(python: str, L: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """Snorkel on the same matrix, in its own interpreter."""
    with tempfile.TemporaryDirectory() as folder:
        matrix, gold = Path(folder) / "L.npy", Path(folder) / "Y.npy"
        np.save(matrix, L.astype(np.int64))
        np.save(gold, y.astype(np.int64))
        done = subprocess.run(
            [python, "-c", PEER, str(matrix), str(gold), json.dumps([0.7, 0.3])],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr else "failed"}
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    """Run, print the table and the ratios; ``--json`` keeps the numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--m", type=int, default=20)
    parser.add_argument("--snorkel-python", default=os.environ.get("SNORKEL_PYTHON"))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    frame, y, coverage, accuracy = synthetic(args.n, args.m)
    load_before = os.getloadavg()[0]
    ours = run_labelaudit(frame, y, coverage, accuracy)
    L = ours.pop("_L")
    peer = run_snorkel(args.snorkel_python, L, y) if args.snorkel_python else None
    summary_s = (peer["lf_summary_s"], peer["lf_summary_cpu_s"]) if peer else None
    fit_s = (peer["fit_warm_s"], peer["fit_warm_cpu_s"]) if peer else None
    rows = [
        (f"apply {args.m} vectorised LFs -> canonical table", "apply", None),
        ("LF analysis, no gold", "analyse", None),
        ("LF analysis, gold on every record", "analyse_gold", summary_s),
        ("apply + analyse with gold", "apply_plus_analyse", None),
        ("label model fit", "label_model_fit", fit_s),
    ]
    print(
        f"n={args.n:,} m={args.m} votes={ours['n_votes']:,} python "
        f"{platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs"
    )
    print(f"{'':40s} {'wall':>8s}   {'cpu':>8s}   snorkel wall, cpu (ratios)")
    for name, key, theirs in rows:
        mine, cpu = ours[f"{key}_s"], ours[f"{key}_cpu_s"]
        peer_text = "-"
        if theirs:
            peer_text = (
                f"{theirs[0]:7.2f} s, {theirs[1]:7.2f} s "
                f"({theirs[0] / mine:4.1f}x, {theirs[1] / cpu:4.1f}x)"
            )
        print(f"{name:40s} {mine:8.2f} s {cpu:8.2f} s   {peer_text}")
    print(
        f"label model accuracy {ours['label_model_accuracy']:.4f} (snorkel "
        f"{peer.get('accuracy') if peer else '-'}), majority {ours['majority_accuracy']:.4f}"
    )
    if peer and "weights" in peer:
        gap = np.max(np.abs(np.array(peer["weights"]) - np.array(ours["weights"])))
        print(
            f"max |LF accuracy ours - snorkel| = {gap:.4f}; snorkel first fit "
            f"{peer['fit_first_s']:.2f} s, import {peer['import_s']:.2f} s"
        )
    load = (load_before, os.getloadavg()[0])
    print(f"1-minute load average before / after: {load[0]:.1f} / {load[1]:.1f} on 2 CPUs")
    if args.json:
        record = {"labelaudit": ours, "snorkel": peer, "load_average": load}
        args.json.write_text(json.dumps(record, indent=1))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
