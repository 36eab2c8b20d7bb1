"""Benchmark: `labelaudit slices` on 1M generated ratings against the peer paths.

Data: 50,000 items x 20 raters each = 1,000,000 ratings by 2,000 raters in 6 groups (one
shifted by +0.3), labels 1..5 (``labelaudit.fairness.synthetic.planted_ratings``).

Peers in the same run:
- offsets: a pandas groupby (item means by ``transform``, group means of the offsets);
- within-group alpha: ``krippendorff.alpha`` (interval) on each group's raters x items
  matrix; cross-group alpha has no peer;
- offset uncertainty: the same pigeonhole bootstrap written as a loop over replicates with
  pandas (rater and item weights joined per replicate), timed on a few replicates and
  extrapolated (printed as such);
- statsmodels MixedLM ``rating ~ group + (1 | item)`` (REML) on a subsample.

Run: .venv/bin/python benchmarks/bench_fairness.py [--mixed-rows 100000]
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import pandas as pd

from labelaudit import read_annotations
from labelaudit.fairness import slices_report
from labelaudit.fairness.synthetic import planted_ratings

N_BOOT = 200


def generate() -> pd.DataFrame:
    data = planted_ratings(
        n_items=50_000, n_raters=2_000, per_item=20, group_shares=[1] * 6,
        effects=[0, 0, 0, 0, 0, 0.3], seed=0,
    )  # fmt: skip
    return data.to_pandas()


def peer_point(frame: pd.DataFrame) -> tuple[float, pd.Series, dict[str, float]]:
    import krippendorff

    start = time.perf_counter()
    item_mean = frame.groupby("item").label.transform("mean")
    offsets = (frame.label - item_mean).groupby(frame.group).mean()
    alphas = {}
    for name, sub in frame.groupby("group"):
        matrix = sub.pivot(index="annotator", columns="item", values="label")
        alphas[str(name)] = float(
            krippendorff.alpha(matrix.to_numpy(dtype=float), level_of_measurement="interval")
        )
    return time.perf_counter() - start, offsets, alphas


def peer_bootstrap_seconds(frame: pd.DataFrame, replicates: int = 3) -> float:
    """Seconds for N_BOOT pigeonhole replicates done one at a time with pandas."""
    rng = np.random.default_rng(0)
    raters, items = frame.annotator.unique(), frame.item.unique()
    start = time.perf_counter()
    for _ in range(replicates):
        rw = pd.Series(
            np.bincount(rng.integers(0, raters.size, raters.size), minlength=raters.size), raters
        )
        iw = pd.Series(
            np.bincount(rng.integers(0, items.size, items.size), minlength=items.size), items
        )
        w_r = frame.annotator.map(rw)
        w = w_r * frame.item.map(iw)
        item_mean = (frame.label * w_r).groupby(frame.item).transform("sum") / w_r.groupby(
            frame.item
        ).transform("sum")
        e = (frame.label - item_mean) * w
        (e.groupby(frame.group).sum() / w.groupby(frame.group).sum()).to_numpy()
    return (time.perf_counter() - start) * N_BOOT / replicates


def mixed_seconds(frame: pd.DataFrame, rows: int) -> tuple[float, float]:
    import statsmodels.formula.api as smf

    sub = frame.sample(n=rows, random_state=0) if rows < len(frame) else frame
    start = time.perf_counter()
    fit = smf.mixedlm("label ~ C(group, Treatment('g0'))", sub, groups=sub["item"]).fit(reml=True)
    return time.perf_counter() - start, float(fit.params["C(group, Treatment('g0'))[T.g5]"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mixed-rows", type=int, default=100_000)
    args = parser.parse_args()
    frame = generate()
    table = read_annotations(frame, level="interval")
    print(f"machine: {platform.machine()} python {platform.python_version()}")
    print(
        f"data: {table.n_ratings:,} ratings, {table.n_items:,} items, {table.n_annotators:,} raters"
    )
    start = time.perf_counter()
    point = slices_report(table, ["group"], n_boot=0)
    ours_point = time.perf_counter() - start
    start = time.perf_counter()
    boot = slices_report(table, ["group"], n_boot=N_BOOT)
    ours_boot = time.perf_counter() - start
    peer_time, offsets, alphas = peer_point(frame)
    ours_offsets = {r["group"]: r["offset"] for r in point.to_dict()["offsets"]}
    ours_alphas = {
        r["group"]: r["alpha"] for r in point.to_dict()["agreement"] if r["kind"] == "within"
    }
    diff_o = max(abs(ours_offsets[g] - offsets[g]) for g in ours_offsets)
    diff_a = max(abs(ours_alphas[g] - alphas[g]) for g in ours_alphas)
    say = print
    say(f"labelaudit slices_report, point estimates: {ours_point:.2f} s")
    say("  (offsets, 6 within-group and 15 cross-group alphas)")
    say(f"peer pandas groupby offsets + krippendorff.alpha per group: {peer_time:.2f} s")
    say(f"  speed-up {peer_time / ours_point:.1f}x")
    say(f"  max |offset diff| {diff_o:.2e}, max |alpha diff| {diff_a:.2e}")
    peer_boot = peer_bootstrap_seconds(frame)
    say(f"labelaudit slices_report, {N_BOOT} bootstrap replicates: {ours_boot:.2f} s")
    say(f"peer pandas loop of {N_BOOT} pigeonhole replicates (x{N_BOOT}/3): {peer_boot:.1f} s")
    say(f"  speed-up {peer_boot / ours_boot:.1f}x")
    g5 = next(r for r in boot.to_dict()["offsets"] if r["group"] == "g5")
    say(f"  planted g5: offset {g5['offset']:+.3f}, SE {g5['se']:.3f}, p_holm {g5['p_holm']:.2g}")
    seconds, effect = mixed_seconds(frame, args.mixed_rows)
    rows = min(args.mixed_rows, len(frame))
    say(f"statsmodels MixedLM label ~ group + (1|item), {rows:,} rows: {seconds:.1f} s")
    say(f"  g5 vs g0 {effect:+.3f}")


if __name__ == "__main__":
    main()
