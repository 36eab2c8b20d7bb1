"""Speed and memory of the batch pipeline: `labelaudit ingest` and `labelaudit report`.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_pipeline.py              # 10,000,000 annotations
    .venv/bin/python benchmarks/bench_pipeline.py --rows 1000000 --keep /tmp/pipe

Absolute targets (no peer tool does this): ingest 10,000,000 annotations from Parquet,
with the per-batch results (agreement, majority consensus, annotator figures), in under
60 s and 4 GB peak memory; an identical re-ingest detected in under 5 s; the report on
that store in under 60 s; a report on a 100-batch history of 1,000,000 annotations
(100 batches of 10,000) in under 20 s. Each step runs the real command line
(``labelaudit ingest``, ``labelaudit report``) in its own process: the time is the wall
time of that process (Python start-up and imports included) and the memory is that
process's peak resident set (VmHWM), whole process. The "others" column is the share of
all CPUs that other processes used meanwhile: the machine has 2 cores, so a busy
neighbour inflates the times.

Data (fixed seed): items with 5 annotations each, annotators drawn from a pool of 50, 5
categories; each label is the item's latent category with probability 0.7, else uniform.

The 100-batch history is built in one process through the library (``ingest_batch``, one
transaction per batch; its total time is printed for information), then
``labelaudit report --all`` runs in a fresh process.
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
TARGET_REPORT_S, TARGET_HISTORY_REPORT_S = 60.0, 20.0

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

HISTORY = """
import json, sys, time
from pathlib import Path
from labelaudit.project import Project, ingest_batch
project = Project.load(Path(sys.argv[1]))
start = time.perf_counter()
for path in sorted(Path(sys.argv[2]).glob("week-*.parquet")):
    ingest_batch(project, path, batch=path.stem)
print(json.dumps({"ingest_s": time.perf_counter() - start}))
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


def history(folder: Path, n_rows: int) -> tuple[float, dict[str, float]]:
    """Ingest 100 weekly batches of ``n_rows / 100`` annotations, then time the report."""
    weeks = folder / "weeks"
    weeks.mkdir(exist_ok=True)
    for week in range(100):
        make_batch(weeks / f"week-{week:03d}.parquet", n_rows // 100, seed=1000 + week)
    project = folder / "history"
    shutil.rmtree(project, ignore_errors=True)
    run_cli("init", str(project), "--categories", ",".join(CATEGORIES))
    built = subprocess.run(
        [sys.executable, "-c", HISTORY, str(project), str(weeks)],
        capture_output=True,
        text=True,
        check=True,
    )
    ingest_s = json.loads(built.stdout.strip().splitlines()[-1])["ingest_s"]
    out = folder / "history-report.html"
    return ingest_s, run_cli("report", "--all", "--out", str(out), "--project", str(project))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="annotations in the batch")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    parser.add_argument(
        "--history-rows", type=int, default=1_000_000, help="annotations in the 100 batches"
    )
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
    report = run_cli("report", "--all", "--out", str(folder / "report.html"), *root)
    history_ingest_s, history_report = history(folder, options.history_rows)
    rows = [
        ("ingest (all per-batch results)", ingest, TARGET_INGEST_S),
        ("re-ingest, identical file", same_file, TARGET_REINGEST_S),
        ("re-ingest, same rows shuffled", same_rows, None),
        ("report on that store", report, TARGET_REPORT_S),
        ("report, 100-batch history", history_report, TARGET_HISTORY_REPORT_S),
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
    print(
        f"building the history: 100 ingests of {options.history_rows // 100:,} annotations "
        f"in one process took {history_ingest_s:.1f} s"
    )
    print(f"\n{same_file['output']}\n{same_rows['output']}")
    print("others = share of all CPUs used by other processes during the step")
    if options.keep:
        print(f"work folder: {folder}")
    else:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
