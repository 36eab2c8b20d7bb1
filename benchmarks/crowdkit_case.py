"""Consensus benchmark, peer side: one crowd-kit 1.4.2 aggregator, run inside ``.venv-crowdkit``.

crowd-kit needs scikit-learn < 1.8, so it has its own venv (``benchmarks/.venv-crowdkit``).
Usage::

    benchmarks/.venv-crowdkit/bin/python benchmarks/crowdkit_case.py METHOD \\
        --data FILE.npz --labels-out FILE.npy [--repeats 3]

METHOD is one of ``majority``, ``dawid-skene``, ``glad``, ``mace``. The data file is the
one ``bench_consensus.py`` writes (integer codes ``item``, ``annotator``, ``label`` and the
generator's ``truth``). The DataFrame with ``task`` / ``worker`` (strings) and ``label``
(int) columns is built before timing; the timed call is ``Aggregator(...).fit(frame)``.
For MACE, workers and labels are named by first appearance (:func:`first_appearance_ranks`
says why: crowd-kit 1.4.2's MACE mixes up workers otherwise).
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
SLOW = ("glad", "mace")  # one timed run is enough (93 and 9-17 minutes on the 2-core box)
VERSIONED = ("crowd-kit", "pandas", "numpy", "scipy", "scikit-learn")
#: How the DataFrame names workers and labels, per method (part of a recorded result's key).
#: ``codes``: worker ``w<code>``, label = category code. ``first-appearance``: worker and
#: label names whose sorted order is their order of first appearance (see
#: :func:`first_appearance_ranks`); crowd-kit 1.4.2's MACE needs it.
FRAME_LAYOUT = {
    "majority": "codes",
    "dawid-skene": "codes",
    "glad": "codes",
    "mace": "first-appearance",
}


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


def first_appearance_ranks(codes: Any) -> tuple[Any, Any]:
    """Rank of each code by first appearance, and the codes in that order.

    crowd-kit 1.4.2's MACE indexes its parameters by ``pd.factorize`` order (first
    appearance) but computes the strategy counts with ``groupby(["worker", "label"])``,
    which sorts by name; its M-step then assigns the sorted rows and columns to the
    factorize-ordered workers and labels. Unless the two orders agree, every worker gets
    another worker's strategy (with labels permuted). Naming workers and labels by their
    first-appearance rank makes the orders agree: same data, crowd-kit's intended model.
    """
    import numpy as np

    present, first_row = np.unique(codes, return_index=True)
    in_order = present[np.argsort(first_row)]
    ranks = np.full(int(codes.max()) + 1, -1, dtype=np.int64)
    ranks[in_order] = np.arange(len(in_order))
    return ranks, in_order


def build_frame(arrays: dict[str, Any], layout: str) -> tuple[Any, Any, Any]:
    """The task/worker/label DataFrame, the task names in item order, and the label decoder.

    The decoder maps crowd-kit's output label back to the category code.
    """
    import numpy as np
    import pandas as pd

    task_names = np.char.add("t", np.arange(len(arrays["truth"])).astype(str))
    labels = arrays["label"].astype(np.int64)
    decoder = np.arange(int(labels.max()) + 1)
    if layout == "first-appearance":
        worker_ranks, _ = first_appearance_ranks(arrays["annotator"])
        rank_text = np.char.zfill(worker_ranks[arrays["annotator"]].astype(str), 6)
        worker_names = np.char.add("w", rank_text)  # zero-padded: sorts as the ranks
        label_ranks, decoder = first_appearance_ranks(labels)
        labels = label_ranks[labels]
    else:
        worker_names = np.char.add("w", arrays["annotator"].astype(str))
    frame = pd.DataFrame(
        {
            "task": task_names.astype(object)[arrays["item"]],
            "worker": worker_names.astype(object),
            "label": labels,
        }
    )
    return frame, task_names.astype(object), decoder


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
    frame, task_names, decoder = build_frame(arrays, FRAME_LAYOUT[args.method])
    repeats = 1 if args.method in SLOW else args.repeats

    def run() -> Any:
        return _aggregator(args.method).fit(frame)

    cpu_start = time.process_time()
    measurement, model = measure(run, n_warm=0, n_timed=repeats)
    cpu_s = (time.process_time() - cpu_start) / repeats
    labels = model.labels_.reindex(pd.Index(task_names)).to_numpy()
    codes = np.asarray(decoder[labels.astype(np.int64)], dtype=np.int8)
    np.save(args.labels_out, codes)
    payload = {
        "tool": "crowd-kit",
        "method": args.method,
        "data_sha256": data_sha256(arrays),
        "frame": FRAME_LAYOUT[args.method],
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
