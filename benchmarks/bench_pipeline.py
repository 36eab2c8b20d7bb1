"""Speed and memory of the batch pipeline: `labelaudit ingest` of a large Parquet batch.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_pipeline.py              # 10,000,000 annotations
    .venv/bin/python benchmarks/bench_pipeline.py --rows 1000000 --keep /tmp/pipe

Absolute targets (no peer tool does this): ingest 10,000,000 annotations from Parquet,
with per-batch agreement, in under 60 s and 4 GB peak memory; an identical re-ingest
detected in under 5 s. Each step runs the real command line (``labelaudit ingest``) in its
own process: the time is the wall time of that process (Python start-up and imports
included) and the memory is that process's peak resident set (VmHWM), whole process. The
"others" column is the share of all CPUs that other processes used meanwhile: the machine
has 2 cores, so a busy neighbour inflates the times.

Data (fixed seed): items with 5 annotations each, annotators drawn from a pool of 50, 5
categories; each label is the item's latent category with probability 0.7, else uniform.

Per-batch majority consensus is not part of ingest yet (it is wired in with the quality
gates); the script times ``MajorityVote().fit`` on the same table separately, so the
figure can be added to the ingest time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from measure import children_cpu_s, cpu_busy_s

CATEGORIES = ("cat_a", "cat_b", "cat_c", "cat_d", "cat_e")
TARGET_INGEST_S, TARGET_MEMORY_MB, TARGET_REINGEST_S = 60.0, 4000.0, 5.0

# Runs the CLI in-process, then reports the process's peak RSS (VmHWM) on the last line.
CHILD = """
import json, sys, time
start = time.perf_counter()
sys.argv = ["labelaudit", *json.loads(sys.argv[1])]
from labelaudit.cli.app import main
code = 0
try:
    main()
except SystemExit as stop:
    code = stop.code or 0
peak = next(l for l in open("/proc/self/status") if l.startswith("VmHWM")).split()[1]
print(json.dumps({"code": code, "peak_mb": int(peak) * 1024 / 1e6,
                  "inner_s": time.perf_counter() - start}))
"""

CONSENSUS = """
import json, sys, time
from labelaudit.table import read_annotations
from labelaudit.consensus import MajorityVote
table = read_annotations(sys.argv[1], categories=sys.argv[2])
start = time.perf_counter()
MajorityVote().fit(table)
print(json.dumps({"fit_s": time.perf_counter() - start}))
"""


def make_batch(path: Path, n_rows: int, seed: int = 0, shuffle: bool = False) -> None:
    """Write ``n_rows`` annotations (n_rows / 5 items x 5 annotators) to Parquet."""
    rng = np.random.default_rng(seed)
    n_items = n_rows // 5
    items = np.repeat(np.arange(n_items), 5)
    annotators = (rng.integers(0, 10, n_items)[:, None] * 5 + np.arange(5)).ravel()
    truth = np.repeat(rng.integers(0, 5, n_items), 5)
    labels = np.where(rng.random(items.size) < 0.7, truth, rng.integers(0, 5, items.size))
    order = rng.permutation(items.size) if shuffle else np.arange(items.size)
    table = pa.table(
        {
            "item": pa.array(np.char.add("item", items[order].astype(str))),
            "annotator": pa.array(np.char.add("ann", annotators[order].astype(str))),
            "label": pa.array(np.asarray(CATEGORIES)[labels[order]]),
        }
    )
    pq.write_table(table, path)


def run_cli(*args: str) -> dict[str, float]:
    """Run one labelaudit command in a fresh process; wall time and its peak RSS."""
    start, busy, own = time.perf_counter(), cpu_busy_s(), children_cpu_s()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(list(args))],
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - start
    others = (cpu_busy_s() - busy) - (children_cpu_s() - own)
    other_share = max(0.0, others) / (wall * (os.cpu_count() or 1))
    if done.returncode != 0:
        sys.exit(f"benchmark command failed: {args}\n{done.stderr}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    if report["code"] != 0:
        sys.exit(f"labelaudit {' '.join(args)} exited {report['code']}\n{done.stdout}")
    output = done.stdout.strip().splitlines()[0]
    return {"wall_s": wall, "others": other_share, **report, "output": output}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="annotations in the batch")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    options = parser.parse_args(argv)
    folder = options.keep or Path(tempfile.mkdtemp(prefix="labelaudit-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    batch, shuffled = folder / "batch.parquet", folder / "batch-shuffled.parquet"
    print(f"writing {options.rows:,} annotations to {batch} ...", flush=True)
    make_batch(batch, options.rows)
    make_batch(shuffled, options.rows, shuffle=True)
    project = folder / "project"
    categories = ",".join(CATEGORIES)
    if not (project / "labelaudit.toml").exists():
        run_cli("init", str(project), "--categories", categories)
    root = ["--project", str(project)]
    name = f"bench-{time.time_ns()}"
    ingest = run_cli("ingest", str(batch), "--batch", name, *root)
    same_file = run_cli("ingest", str(batch), "--batch", name + "-again", *root)
    same_rows = run_cli("ingest", str(shuffled), "--batch", name + "-shuffled", *root)
    consensus = subprocess.run(
        [sys.executable, "-c", CONSENSUS, str(batch), categories],
        capture_output=True,
        text=True,
        check=True,
    )
    fit_s = json.loads(consensus.stdout)["fit_s"]
    rows = [
        ("ingest (agreement included)", ingest, TARGET_INGEST_S),
        ("re-ingest, identical file", same_file, TARGET_REINGEST_S),
        ("re-ingest, same rows shuffled", same_rows, None),
    ]
    print(f"\n{options.rows:,} annotations, {options.rows // 5:,} items, 50 annotators")
    print(f"{'step':32} {'wall s':>8} {'peak MB':>9} {'others':>7}  target")
    for label, result, target in rows:
        verdict = ""
        if target is not None:
            ok = result["wall_s"] < target
            verdict = f"< {target:g} s: {'PASS' if ok else 'FAIL'}"
        print(
            f"{label:32} {result['wall_s']:8.2f} {result['peak_mb']:9.0f} "
            f"{result['others']:7.0%}  {verdict}"
        )
    memory_ok = ingest["peak_mb"] < TARGET_MEMORY_MB
    print(f"ingest peak memory < {TARGET_MEMORY_MB:g} MB: {'PASS' if memory_ok else 'FAIL'}")
    print(f"majority consensus (not in ingest yet): MajorityVote().fit {fit_s:.2f} s")
    print(f"\n{same_file['output']}\n{same_rows['output']}")
    print("others = share of all CPUs used by other processes during the step")
    if options.keep:
        print(f"work folder: {folder}")
    else:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
