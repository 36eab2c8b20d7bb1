"""Consensus benchmark, peer side: one crowd-kit 1.4.2 aggregator, run inside ``.venv-crowdkit``.

crowd-kit needs scikit-learn < 1.8, so it has its own venv (``benchmarks/.venv-crowdkit``).
Usage::

    benchmarks/.venv-crowdkit/bin/python benchmarks/crowdkit_case.py METHOD \\
        --data FILE.npz --labels-out FILE.npy [--repeats 3]

METHOD is one of ``majority``, ``dawid-skene``, ``glad``, ``mace``. The data file is the
one ``bench_consensus.py`` writes (integer codes ``item``, ``annotator``, ``label`` and the
generator's ``truth``). The DataFrame with ``task`` / ``worker`` (strings) and ``label``
(int) columns is built before timing; the timed call is ``Aggregator(...).fit(frame)``.
Prints one JSON line: best and all wall times, peak RSS (absolute and increase over the
loaded-data baseline), the argmax labels (written to ``--labels-out`` as int8 codes in item
order) and their sha256, accuracy against the truth, and the versions used.

Also imported by ``bench_consensus.py`` (project venv) for :func:`data_sha256`, so the
module level imports only the standard library and ``measure``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from measure import measure

METHODS = ("majority", "dawid-skene", "glad", "mace")
ARRAYS = ("item", "annotator", "label", "truth")
SLOW = ("glad", "mace")  # one timed run is enough (20+ and ~5 minutes)
VERSIONED = ("crowd-kit", "pandas", "numpy", "scipy", "scikit-learn")


def data_sha256(arrays: dict[str, Any]) -> str:
    """sha256 over the name, dtype, shape and bytes of the benchmark arrays (fixed order)."""
    digest = hashlib.sha256()
    for name in ARRAYS:
        array = arrays[name]
        digest.update(f"{name}|{array.dtype.str}|{array.shape}|".encode("ascii"))
        digest.update(array.tobytes())
    return digest.hexdigest()


def labels_sha256(labels: Any) -> str:
    """sha256 of an int8 label-code array's bytes."""
    return hashlib.sha256(labels.astype("int8").tobytes()).hexdigest()


def versions() -> dict[str, str]:
    """Versions of the peer stack (the reuse key of a recorded peer time)."""
    return {name: metadata.version(name) for name in VERSIONED}


def _aggregator(method: str) -> Any:
    from crowdkit.aggregation import GLAD, MACE, DawidSkene, MajorityVote

    if method == "majority":
        return MajorityVote()
    if method == "dawid-skene":
        return DawidSkene(n_iter=100, tol=1e-5)
    if method == "glad":
        return GLAD(n_iter=100, tol=1e-5)
    return MACE(n_restarts=10, n_iter=50, random_state=0)


def _iterations(model: Any) -> int | None:
    history = getattr(model, "loss_history_", None)
    return None if history is None else len(history)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("method", choices=METHODS)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--labels-out", type=Path, required=True)
    parser.add_argument("--repeats", type=int, default=3, help="timed runs (GLAD, MACE: 1)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    import numpy as np
    import pandas as pd

    with np.load(args.data) as loaded:
        arrays = {name: loaded[name] for name in ARRAYS}
    n_items = len(arrays["truth"])
    task_names = np.char.add("t", np.arange(n_items).astype(str)).astype(object)
    worker_names = np.char.add("w", np.arange(arrays["annotator"].max() + 1).astype(str))
    frame = pd.DataFrame(
        {
            "task": task_names[arrays["item"]],
            "worker": worker_names.astype(object)[arrays["annotator"]],
            "label": arrays["label"].astype(np.int64),
        }
    )
    repeats = 1 if args.method in SLOW else args.repeats

    def run() -> Any:
        return _aggregator(args.method).fit(frame)

    cpu_start = time.process_time()
    measurement, model = measure(run, n_warm=0, n_timed=repeats)
    cpu_s = (time.process_time() - cpu_start) / repeats
    labels = model.labels_.reindex(pd.Index(task_names)).to_numpy()
    codes = np.asarray(labels, dtype=np.int8)
    np.save(args.labels_out, codes)
    payload = {
        "tool": "crowd-kit",
        "method": args.method,
        "data_sha256": data_sha256(arrays),
        "versions": versions(),
        "fit_s": min(measurement.times_s),
        "times_s": measurement.times_s,
        "n_runs": repeats,
        "cpu_s_per_run": cpu_s,
        "n_iter": _iterations(model),
        "baseline_mb": measurement.baseline_mb,
        "peak_mb": measurement.baseline_mb + measurement.peak_increase_mb,
        "peak_increase_mb": measurement.peak_increase_mb,
        "labels_sha256": labels_sha256(codes),
        "accuracy": float(np.mean(codes == arrays["truth"])),
    }
    print(json.dumps(payload))
    return 0


if __name__ == "__main__":
    sys.exit(main())
