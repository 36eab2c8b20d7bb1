"""Run a short labelaudit process many times and count crashes at interpreter exit.

Reproduction loop for the flaky "terminate called without an active exception" abort
(SIGABRT, exit 134 after normal output) that CLI runs reading a CSV used to end with
about once in 25-100 runs. Not part of the test suite: it is slow (one interpreter start
per run) and the failure is probabilistic. Small files reproduce it best: the process
reaches interpreter shutdown while Arrow's read-ahead is still finishing.

The cause, from a core dump (gdb ``thread apply all bt``): the CSV reader was given a
Python file object; the buffers it read were ``arrow::py::PyBuffer`` objects wrapping
Python bytes. An Arrow I/O worker dropped the last reference to one (destroying a
finished ``Future<Buffer>``) while the main thread was in ``Py_FinalizeEx``; the
destructor took the GIL (``PyGILState_Ensure`` -> ``take_gil``), CPython ended the
thread with ``pthread_exit``, and the forced unwind through the ``noexcept`` destructor
called ``std::terminate``. The fix (``labelaudit.table.source.open_arrow``) gives Arrow
native files only, so no Arrow thread ever needs the GIL.

Usage (from the repository root)::

    .venv/bin/python benchmarks/exit_crash_loop.py                  # 200 runs of load_source
    .venv/bin/python benchmarks/exit_crash_loop.py --items 20000    # a larger file
    .venv/bin/python benchmarks/exit_crash_loop.py --mode cli -n 50 # the agreement command
    .venv/bin/python benchmarks/exit_crash_loop.py --gzip           # a .csv.gz input

Exit status: 0 when every run exited 0 with nothing on stderr, 1 otherwise.
"""

from __future__ import annotations

import argparse
import collections
import gzip
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

LOAD = (
    "import sys; from labelaudit.table import load_source; "
    "table, _ = load_source(sys.argv[1], None); print(table.num_rows)"
)


def write_csv(path: Path, items: int, annotators: int, seed: int = 0) -> None:
    """A long annotation CSV (item, annotator, label): ``items x annotators`` rows."""
    rng = np.random.default_rng(seed)
    labels = rng.choice(np.array(["pos", "neg", "neutral"]), size=(items, annotators))
    lines = ["item,annotator,label"]
    for i in range(items):
        lines.extend(f"item-{i:07d},rater-{a},{labels[i, a]}" for a in range(annotators))
    data = ("\n".join(lines) + "\n").encode()
    if path.suffix == ".gz":
        data = gzip.compress(data, compresslevel=1)
    path.write_bytes(data)


def command(mode: str, path: Path) -> list[str]:
    """The process to run on ``path``."""
    if mode == "load":
        return [sys.executable, "-c", LOAD, str(path)]
    return [sys.executable, "-m", "labelaudit", "agreement", str(path), "--format", "json"]


def main() -> int:
    """Run the loop and print one line per outcome; exit 1 on any crash."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=200)
    parser.add_argument("--mode", choices=("load", "cli"), default="load")
    parser.add_argument("--items", type=int, default=4)
    parser.add_argument("--annotators", type=int, default=3)
    parser.add_argument("--gzip", action="store_true", help="read a .csv.gz file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ("annotations.csv.gz" if args.gzip else "annotations.csv")
        write_csv(path, args.items, args.annotators)
        outcomes: collections.Counter[str] = collections.Counter()
        start = time.perf_counter()
        for run in range(1, args.runs + 1):
            done = subprocess.run(command(args.mode, path), capture_output=True, text=True)
            clean = done.returncode == 0 and not done.stderr.strip()
            key = "clean" if clean else f"exit {done.returncode}: {done.stderr.strip()[:80]}"
            outcomes[key] += 1
            if not clean:
                print(f"run {run}: {key}", flush=True)
            if run % 50 == 0:
                print(f"{run} runs, {run - outcomes['clean']} crashes", flush=True)
        elapsed = time.perf_counter() - start
    crashes = args.runs - outcomes["clean"]
    size = f"{args.items} items x {args.annotators} annotators{' (gzip)' if args.gzip else ''}"
    print(f"{args.runs} runs of {args.mode} on {size} in {elapsed:.0f} s: {crashes} crashes")
    for key, count in outcomes.most_common():
        print(f"  {count:4d}  {key}")
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
