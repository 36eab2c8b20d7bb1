"""Benchmark: `plan pilot` by simulation, 6 annotator counts x 20 item counts x 1,000 replicates.

Target (issue 17): under 30 s. The peer in the same run is the plain approach: one
``alpha_from_counts`` call per replicate data set drawn directly from the model, timed on a
sample of cells and replicates and extrapolated to the full grid (printed as such).

Run: .venv/bin/python benchmarks/bench_plans.py
"""

from __future__ import annotations

import platform
import time

import numpy as np

from labelaudit.agreement.alpha import alpha_from_counts
from labelaudit.plans import plan_pilot
from labelaudit.plans.pilot import _ratings, default_item_grid

ANNOTATORS = range(2, 8)
REPLICATES = 1000


def naive_seconds(grid: np.ndarray, per_cell: int = 20) -> float:
    """Seconds a per-replicate loop would take for the whole grid (extrapolated)."""
    rng = np.random.default_rng(0)
    pi = np.full(3, 1 / 3)
    start = time.perf_counter()
    for k in ANNOTATORS:
        for n in grid:
            for _ in range(per_cell):
                ratings = _ratings(rng, int(n), k, pi, 0.7, 0.0)
                counts = np.stack([(ratings == c).sum(axis=1) for c in range(3)], axis=1)
                alpha_from_counts(counts, np.arange(3))
    return (time.perf_counter() - start) * REPLICATES / per_cell


def main() -> None:
    grid = default_item_grid()
    start = time.perf_counter()
    plan = plan_pilot(
        "alpha", 0.7, 0.05, annotators=ANNOTATORS, categories=3, replicates=REPLICATES, seed=0
    )
    ours = time.perf_counter() - start
    peer = naive_seconds(grid)
    print(f"machine: {platform.machine()} python {platform.python_version()}")
    print(
        f"grid: {len(list(ANNOTATORS))} annotator counts x {grid.size} item counts "
        f"({grid.min()}..{grid.max()}) x {REPLICATES} replicates"
    )
    print(f"labelaudit plan_pilot (pooled item weights): {ours:.1f} s")
    print(f"per-replicate loop of alpha_from_counts (extrapolated x50): {peer:.1f} s")
    print(
        f"speed-up: {peer / ours:.1f}x; items needed: "
        + ", ".join(f"k={r['annotators']}: {r['items']}" for r in plan.needed)
    )


if __name__ == "__main__":
    main()
